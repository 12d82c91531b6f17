/*
 * The deadline rush's load generator: submits every bid of a list over HTTP/1.1 keep-alive connections
 * at once, from one thread with epoll, so that it costs the machine about as little as pgbench costs
 * the reference (the Python one it replaces took a fifth of jiebang's CPU on top).
 *
 * Usage: rush HOST PORT CONNECTIONS < pairs   (each line: "<bid id> <token>")
 * Prints one line: submissions, seconds, rate, its own CPU seconds, p50/p90/p99/max in ms, and the count
 * of each status; up to three answers other than 200 go to stderr as "SAMPLE <status> <body>".
 *
 * Built by `run` with `cc -O2`; it reads answers with Content-Length only (every answer of the server
 * has one) and fails loudly on anything else.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct pair { char bid[64]; char token[192]; };

struct connection {
    int fd;
    char out[1024];
    size_t out_length, out_sent;
    char in[65536];
    size_t in_length;
    int busy;
    double started;
};

static void fail(const char *what) {
    fprintf(stderr, "rush: %s: %s\n", what, strerror(errno));
    exit(1);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_seconds(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 + (double)usage.ru_stime.tv_sec
        + (double)usage.ru_stime.tv_usec / 1e6;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: rush HOST PORT CONNECTIONS < pairs\n");
        return 2;
    }
    const char *host = argv[1];
    int port = atoi(argv[2]), count = atoi(argv[3]);
    if (port <= 0 || count <= 0) {
        fprintf(stderr, "rush: PORT and CONNECTIONS must be positive\n");
        return 2;
    }

    size_t capacity = 1024, total = 0;
    struct pair *pairs = malloc(capacity * sizeof *pairs);
    char line[512];
    while (fgets(line, sizeof line, stdin)) {
        if (total == capacity) pairs = realloc(pairs, (capacity *= 2) * sizeof *pairs);
        if (sscanf(line, "%63s %191s", pairs[total].bid, pairs[total].token) == 2) total++;
    }
    double *latencies = malloc((total + 1) * sizeof *latencies);
    int statuses[600] = {0}, samples = 0;

    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &address.sin_addr) != 1) {
        fprintf(stderr, "rush: %s is not an IPv4 address\n", host);
        return 2;
    }
    int epoll = epoll_create1(0);
    if (epoll < 0) fail("epoll_create1");
    struct connection *connections = calloc((size_t)count, sizeof *connections);
    for (int i = 0; i < count; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) fail("socket");
        if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) fail("connect");
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        connections[i].fd = fd;
        struct epoll_event event = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) != 0) fail("epoll_ctl");
    }

    size_t next = 0, done = 0;
    double cpu = cpu_seconds(), started = now();
    /* Sends the next submission on connection c, if any is left. */
#define SEND_NEXT(c)                                                                                                \
    do {                                                                                                            \
        if (next < total) {                                                                                         \
            struct pair *p = &pairs[next++];                                                                        \
            (c)->out_length = (size_t)snprintf((c)->out, sizeof (c)->out,                                           \
                "POST /v1/bids/%s/submit HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: Bearer %s\r\n"                   \
                "Content-Length: 0\r\n\r\n", p->bid, host, port, p->token);                                        \
            (c)->out_sent = 0;                                                                                      \
            (c)->busy = 1;                                                                                          \
            (c)->started = now();                                                                                   \
            while ((c)->out_sent < (c)->out_length) {                                                               \
                ssize_t n = send((c)->fd, (c)->out + (c)->out_sent, (c)->out_length - (c)->out_sent, MSG_NOSIGNAL); \
                if (n < 0 && errno == EAGAIN) continue;                                                             \
                if (n < 0) fail("send");                                                                            \
                (c)->out_sent += (size_t)n;                                                                         \
            }                                                                                                       \
        }                                                                                                           \
    } while (0)

    for (int i = 0; i < count; i++) SEND_NEXT(&connections[i]);
    struct epoll_event events[256];
    while (done < total) {
        int ready = epoll_wait(epoll, events, 256, 30000);
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) fail("epoll_wait");
        if (ready == 0) {
            fprintf(stderr, "rush: no answer for 30 s (%zu of %zu answered)\n", done, total);
            return 1;
        }
        for (int e = 0; e < ready; e++) {
            struct connection *c = &connections[events[e].data.u32];
            for (;;) {
                ssize_t n = recv(c->fd, c->in + c->in_length, sizeof c->in - c->in_length, 0);
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
                if (n < 0) fail("recv");
                if (n == 0) {
                    fprintf(stderr, "rush: the server closed a connection (%zu of %zu answered)\n", done, total);
                    return 1;
                }
                c->in_length += (size_t)n;
                for (;;) {
                    char *end = memmem(c->in, c->in_length, "\r\n\r\n", 4);
                    if (!end) break;
                    size_t head = (size_t)(end - c->in) + 4;
                    long length = -1;
                    for (char *field = memchr(c->in, '\n', head); field && field < c->in + head;
                         field = memchr(field + 1, '\n', (size_t)(c->in + head - field - 1))) {
                        if (strncasecmp(field + 1, "content-length:", 15) == 0) length = strtol(field + 16, NULL, 10);
                    }
                    if (length < 0) {
                        fprintf(stderr, "rush: an answer without Content-Length: %.*s\n", (int)head, c->in);
                        return 1;
                    }
                    if (c->in_length < head + (size_t)length) break;
                    if (!c->busy) {
                        fprintf(stderr, "rush: an answer to no request\n");
                        return 1;
                    }
                    int status = atoi(c->in + 9);
                    if (status < 0 || status >= 600) status = 0;
                    statuses[status]++;
                    if (status != 200 && samples < 3) {
                        fprintf(stderr, "SAMPLE %d %.*s\n", status, (int)(length < 300 ? length : 300), c->in + head);
                        samples++;
                    }
                    latencies[done++] = now() - c->started;
                    c->busy = 0;
                    size_t used = head + (size_t)length;
                    memmove(c->in, c->in + used, c->in_length - used);
                    c->in_length -= used;
                    SEND_NEXT(c);
                }
                if (c->in_length == sizeof c->in) {
                    fprintf(stderr, "rush: an answer longer than %zu bytes\n", sizeof c->in);
                    return 1;
                }
            }
        }
    }
    double seconds = now() - started;
    cpu = cpu_seconds() - cpu;
    qsort(latencies, total, sizeof *latencies, compare);
#define QUANTILE(q) (total ? latencies[(size_t)((q) * (double)total) < total ? (size_t)((q) * (double)total) : total - 1] * 1000 : 0)
    printf("RESULT submissions=%zu seconds=%.3f rate=%.1f client_cpu_s=%.2f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f",
        total, seconds, (double)total / seconds, cpu, QUANTILE(0.5), QUANTILE(0.9), QUANTILE(0.99),
        total ? latencies[total - 1] * 1000 : 0);
    for (int s = 0; s < 600; s++) {
        if (statuses[s]) printf(" status_%d=%d", s, statuses[s]);
    }
    printf("\n");
    return 0;
}
