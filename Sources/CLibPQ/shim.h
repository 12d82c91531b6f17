#ifndef JIEBANG_CLIBPQ_SHIM_H
#define JIEBANG_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#include <poll.h>
#endif
