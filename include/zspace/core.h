/*
 * zspace/core.h - the bottom of libzspace: logging, errors, hashing and
 * counter-based random numbers, CRC32, a thread team with a barrier,
 * timing, and small file helpers. Every other module uses these.
 *
 *     zs_log(ZS_LOG_INFO, "loaded %d faces", n);
 *     if (zs_read_file(path, &buf, &len, 1 << 30) != ZS_OK)
 *         return zs_last_error();             // message names file and problem
 *     float u = zs_uniform01(zs_hash64(seed), i);  // same value on every thread
 *
 * Three kinds of failure (STYLE.md 6): programmer error -> ZS_ASSERT (abort
 * with file:line); user error -> a zs_status with zs_errorf() describing it,
 * the caller keeps running; out of memory -> zs_xmalloc() prints and exits.
 */
#ifndef ZSPACE_CORE_H
#define ZSPACE_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status ------------------------------------------------------------ */
typedef enum zs_status {
    ZS_OK = 0,
    ZS_ERR_IO,        /* cannot open / read / write a file or directory   */
    ZS_ERR_FORMAT,    /* file content is malformed                        */
    ZS_ERR_VERSION,   /* file is of another version or architecture       */
    ZS_ERR_LIMIT,     /* a size in the input exceeds a safety limit       */
    ZS_ERR_ARG,       /* bad argument from the user (flag, value)         */
    ZS_ERR_NUMERIC,   /* NaN / Inf where a number was expected            */
    ZS_ERR_NOMEM,
} zs_status;

/* Record a user-facing error message for the current thread; returns `st` so
 * callers can write `return zs_errorf(ZS_ERR_IO, "%s: ...", path);`. */
zs_status zs_errorf(zs_status st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The message of the last zs_errorf on this thread ("" if none). */
const char *zs_last_error(void);
const char *zs_status_name(zs_status st);

/* ---- logging ----------------------------------------------------------- */
typedef enum zs_log_level { ZS_LOG_DEBUG, ZS_LOG_INFO, ZS_LOG_WARN, ZS_LOG_ERROR } zs_log_level;
typedef void (*zs_log_fn)(zs_log_level level, const char *msg, void *user);
void zs_log(zs_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Replace the sink (default: stderr, "zspace: warning: ..."). NULL restores it. */
void zs_log_set_callback(zs_log_fn fn, void *user);
void zs_log_set_level(zs_log_level min_level);

/* ---- programmer errors and allocation ---------------------------------- */
#define ZS_ASSERT(cond)                                                       \
    do {                                                                      \
        if (!(cond)) zs_assert_fail(#cond, __FILE__, __LINE__);               \
    } while (0)
_Noreturn void zs_assert_fail(const char *expr, const char *file, int line);
void *zs_xmalloc(size_t n);            /* exits with a message on failure   */
void *zs_xcalloc(size_t n, size_t size);
void *zs_xrealloc(void *p, size_t n);
char *zs_xstrdup(const char *s);
/* 64-byte aligned, zeroed, touched once (first-touch faults are expensive
 * on the VMs we run on; allocate once and reuse). Free with zs_free_aligned. */
void *zs_alloc_aligned(size_t n);
void zs_free_aligned(void *p);

/* ---- hashing and counter-based random numbers --------------------------- */
/* splitmix64 finaliser: a bijective 64-bit mixer. */
static inline uint64_t zs_hash64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}
/* i-th 64-bit value of stream `key` (stateless: any thread, any order). */
static inline uint64_t zs_rand64(uint64_t key, uint64_t i) { return zs_hash64(key ^ zs_hash64(i)); }
/* Uniform in [0, 1) with 24 random bits (exact in float32). */
static inline float zs_uniform01(uint64_t key, uint64_t i)
{
    return (float)(zs_rand64(key, i) >> 40) * (1.0f / 16777216.0f);
}
/* Standard normal from stream `key`, index i (Box-Muller on two draws). */
float zs_normal(uint64_t key, uint64_t i);
uint64_t zs_fnv1a64(const char *s);

/* Sequential generator for shuffles and the like (xoshiro256**). */
typedef struct zs_rng { uint64_t s[4]; } zs_rng;
void zs_rng_seed(zs_rng *r, uint64_t seed);
uint64_t zs_rng_next(zs_rng *r);
uint64_t zs_rng_below(zs_rng *r, uint64_t n);   /* unbiased in [0, n) */

/* ---- checksums ---------------------------------------------------------- */
uint32_t zs_crc32(uint32_t crc, const void *data, size_t n);   /* start with 0 */

/* ---- time --------------------------------------------------------------- */
double zs_now(void);   /* monotonic seconds */

/* ---- thread team -------------------------------------------------------- */
/* A fixed team of `n` threads running the same function (SPMD); thread 0 is
 * the caller. zs_team_barrier() is a reusable barrier for all members. */
typedef struct zs_team zs_team;
typedef void (*zs_team_fn)(void *arg, int tid, int nthreads);
zs_team *zs_team_create(int n);
void zs_team_destroy(zs_team *t);
int zs_team_size(const zs_team *t);
/* Run fn on all members; returns when all have finished. */
void zs_team_run(zs_team *t, zs_team_fn fn, void *arg);
void zs_team_barrier(zs_team *t);
/* The barrier in two halves, for work that can be done while the others
 * catch up: zs_team_arrive() counts this member in and returns a ticket;
 * zs_team_passed() says whether every member has arrived since;
 * zs_team_wait() blocks until then. zs_team_barrier() = wait(arrive()). */
unsigned zs_team_arrive(zs_team *t);
int zs_team_passed(zs_team *t, unsigned ticket);
void zs_team_wait(zs_team *t, unsigned ticket);
/* [lo, hi) of `n` items for member `tid` of `nt`. */
static inline void zs_split(size_t n, int tid, int nt, size_t *lo, size_t *hi)
{
    *lo = n * (size_t)tid / (size_t)nt;
    *hi = n * (size_t)(tid + 1) / (size_t)nt;
}
/* Number of online CPUs (>= 1). */
int zs_cpu_count(void);
/* Lower the calling thread's scheduling priority to nice level `nice`
 * (0..19; Linux keeps nice per thread). Other threads keep theirs: a
 * background job then yields its core whenever an interactive thread
 * wants it. Best effort: returns 0, or -1 where it is not possible. */
int zs_thread_set_nice(int nice);
/* ---- BLAS ----------------------------------------------------------------
 * OpenBLAS, loaded on first use (src/core/blas.c says why it is not linked):
 * zspace picks its kernel from the CPU's features unless OPENBLAS_CORETYPE
 * is set. BLAS runs single-threaded in zspace: our own teams split the work,
 * so the trainer and the UI's decoder can call sgemm at the same time.
 * Row-major only. */
typedef enum zs_trans { ZS_N = 0, ZS_T = 1 } zs_trans;
void zs_blas_init(void);          /* optional: every call below does it once */
const char *zs_blas_core(void);   /* OpenBLAS's kernel name, e.g. "SkylakeX" */
/* C (M, N) = alpha op(A) (M, K) op(B) (K, N) + beta C */
void zs_sgemm(zs_trans ta, zs_trans tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
              int ldb, float beta, float *c, int ldc);
/* y = alpha op(A) x + beta y, A (M, N) */
void zs_sgemv(zs_trans ta, int m, int n, float alpha, const float *a, int lda, const float *x, int incx, float beta,
              float *y, int incy);

/* ---- files --------------------------------------------------------------- */
/* Read a whole file (refused if larger than max_bytes). Caller frees. */
zs_status zs_read_file(const char *path, uint8_t **data, size_t *len, size_t max_bytes);
/* Write atomically: temp file in the same directory, fsync, rename, fsync dir.
 * On any failure the previous file at `path` is untouched. */
typedef struct zs_atomic_file { FILE *f; char *path; char *tmp; int failed; } zs_atomic_file;
zs_status zs_atomic_open(zs_atomic_file *af, const char *path);
zs_status zs_atomic_write(zs_atomic_file *af, const void *data, size_t n);
zs_status zs_atomic_commit(zs_atomic_file *af);   /* fsync + rename */
void zs_atomic_abort(zs_atomic_file *af);         /* remove the temp file */

#ifdef __cplusplus
}
#endif
#endif
