/* Errors, logging and allocation helpers (see zspace/core.h). */
#include "zspace/core.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

static _Thread_local char g_last_error[1024];
static zs_log_fn g_log_fn;
static void *g_log_user;
static zs_log_level g_log_min = ZS_LOG_INFO;
static pthread_mutex_t g_log_mutex = PTHREAD_MUTEX_INITIALIZER;

zs_status zs_errorf(zs_status st, const char *fmt, ...)
{
    /* through a copy: a caller may pass zs_last_error() itself as an
     * argument ("%s: ...: %s", path, zs_last_error()) */
    char buf[sizeof g_last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    memcpy(g_last_error, buf, sizeof buf);
    return st;
}

const char *zs_last_error(void) { return g_last_error; }

const char *zs_status_name(zs_status st)
{
    switch (st) {
    case ZS_OK: return "ok";
    case ZS_ERR_IO: return "i/o error";
    case ZS_ERR_FORMAT: return "malformed file";
    case ZS_ERR_VERSION: return "unsupported version";
    case ZS_ERR_LIMIT: return "size limit exceeded";
    case ZS_ERR_ARG: return "bad argument";
    case ZS_ERR_NUMERIC: return "numeric error";
    case ZS_ERR_NOMEM: return "out of memory";
    }
    return "unknown error";
}

void zs_log_set_callback(zs_log_fn fn, void *user)
{
    pthread_mutex_lock(&g_log_mutex);
    g_log_fn = fn;
    g_log_user = user;
    pthread_mutex_unlock(&g_log_mutex);
}

void zs_log_set_level(zs_log_level min_level) { g_log_min = min_level; }

void zs_log(zs_log_level level, const char *fmt, ...)
{
    if (level < g_log_min) return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&g_log_mutex);
    if (g_log_fn) {
        g_log_fn(level, msg, g_log_user);
    } else {
        static const char *prefix[] = {"debug: ", "", "warning: ", "error: "};
        fprintf(stderr, "zspace: %s%s\n", prefix[level], msg);
    }
    pthread_mutex_unlock(&g_log_mutex);
}

void zs_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "zspace: internal error: %s:%d: assertion failed: %s\n", file, line, expr);
    abort();
}

static void oom(size_t n)
{
    fprintf(stderr, "zspace: out of memory (allocating %zu bytes)\n", n);
    exit(3);
}

void *zs_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

void *zs_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) oom(n * size);
    return p;
}

void *zs_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n);
    return q;
}

char *zs_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(zs_xmalloc(n), s, n);
}

void *zs_alloc_aligned(size_t n)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, n ? n : 64) != 0) oom(n);
    memset(p, 0, n);   /* touch every page now, not in the hot loop */
    return p;
}

void zs_free_aligned(void *p) { free(p); }
