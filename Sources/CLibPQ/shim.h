#ifndef JIEBANG_CLIBPQ_SHIM_H
#define JIEBANG_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#include <poll.h>
/* The event loop that drives non-blocking libpq connections (Linux). */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#endif
