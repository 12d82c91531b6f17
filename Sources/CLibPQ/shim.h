#ifndef JIEBANG_CLIBPQ_SHIM_H
#define JIEBANG_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#include <poll.h>
/* The event loop that drives non-blocking libpq connections (Linux). */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <fcntl.h>
#include <unistd.h>

/* pipe2(fds, O_CLOEXEC), which Swift's Glibc module does not expose: a pipe that no program
   spawned by another thread at the same moment inherits. */
extern int pipe2(int pipefd[2], int flags);
static inline int jiebang_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

/* posix_spawn_file_actions_addclosefrom_np (glibc 2.34), which Swift's Glibc module does not
   expose: the spawned program (pg_ctl, then the server it leaves running) inherits no descriptor
   of this process above `from`. */
#include <spawn.h>
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);
static inline int jiebang_spawn_close_from(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}
#endif
