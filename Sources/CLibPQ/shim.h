#ifndef JIEBANG_CLIBPQ_SHIM_H
#define JIEBANG_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#include <poll.h>
#include <fcntl.h>
#include <unistd.h>
#include <spawn.h>

#ifdef __linux__
/* The epoll readiness backend of the event loop (Linux only). */
#include <sys/epoll.h>
#include <sys/eventfd.h>

/* pipe2(fds, O_CLOEXEC), which Swift's Glibc module does not expose: a pipe that no program
   spawned by another thread at the same moment inherits. */
extern int pipe2(int pipefd[2], int flags);
static inline int jiebang_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

/* posix_spawn_file_actions_addclosefrom_np (glibc 2.34), which Swift's Glibc module does not
   expose: the spawned program (pg_ctl, then the server it leaves running) inherits no descriptor
   of this process above `from`. */
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);
static inline int jiebang_spawn_close_from(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}
#else
/* Elsewhere (macOS, the BSDs): pipe, then close-on-exec on both ends. Not atomic with a fork on
   another thread, which is why Linux uses pipe2. */
static inline int jiebang_pipe_cloexec(int fds[2]) {
    if (pipe(fds) != 0) return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

/* Descriptors above `from` are closed in the child one by one (macOS has no closefrom action;
   POSIX_SPAWN_CLOEXEC_DEFAULT would also close 0 to 2). */
static inline int jiebang_spawn_close_from(posix_spawn_file_actions_t *actions, int from) {
    long limit = sysconf(_SC_OPEN_MAX);
    if (limit < 0 || limit > 4096) limit = 4096;
    for (int descriptor = from; descriptor < limit; descriptor++) {
        if (fcntl(descriptor, F_GETFD) != -1) posix_spawn_file_actions_addclose(actions, descriptor);
    }
    return 0;
}
#endif

/* How many decrypted bytes the connection's TLS layer holds that libpq has not read yet: a TLS
   record larger than the room libpq gave one read leaves its rest there, and the socket is not
   readable for it. SSL_pending is looked up in the process (libpq loaded libssl), so nothing
   links against OpenSSL here; 0 without TLS. */
#include <dlfcn.h>
static inline int jiebang_tls_pending(PGconn *conn) {
    void *ssl = PQsslStruct(conn, "OpenSSL");
    if (ssl == NULL) return 0;
    static int (*pending)(const void *) = NULL;
    if (pending == NULL) pending = (int (*)(const void *))dlsym(RTLD_DEFAULT, "SSL_pending");
    return pending == NULL ? 0 : pending(ssl);
}

/* Makes a descriptor non-blocking. */
static inline int jiebang_set_nonblocking(int descriptor) {
    int flags = fcntl(descriptor, F_GETFL);
    return flags < 0 ? -1 : fcntl(descriptor, F_SETFL, flags | O_NONBLOCK);
}
#endif
