/* OpenBLAS, loaded at run time with the best kernel the CPU can run.
 *
 * Why not link it: OpenBLAS (0.3.21, Debian 12) picks its kernels in a
 * library constructor that runs before main, by CPU model number. On CPUs
 * newer than the library (seen here: an Intel Xeon, family 6 model 207,
 * with AVX-512) it falls back to "Prescott", its SSE3 kernels, and dfc64
 * trains 3.6x slower (86 vs 313 img/s at batch 64 on 2 threads). The only
 * way to choose is OPENBLAS_CORETYPE in the environment before that
 * constructor runs, so we set it (unless the user did) from the CPU's own
 * feature flags and then dlopen the library. The process environment is
 * restored afterwards, so child processes see what the user set. */
#include "zspace/core.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef ZS_OPENBLAS_PATH
#define ZS_OPENBLAS_PATH "libopenblas.so.0"
#endif

/* The CBLAS enum values are fixed by the standard (cblas.h): row-major 101,
 * no-transpose 111, transpose 112. */
enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112 };

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *,
                         int);
typedef void (*sgemv_fn)(int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
typedef void (*set_threads_fn)(int);
typedef char *(*corename_fn)(void);

static struct {
    pthread_once_t once;
    sgemm_fn sgemm;
    sgemv_fn sgemv;
    char core[32];
    char chosen[32];   /* what we asked for, "" if the user's or the library's choice */
} g_blas = {.once = PTHREAD_ONCE_INIT};

/* OpenBLAS core name for this CPU, or NULL to let OpenBLAS decide. */
static const char *pick_core(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
    return NULL;
}

static void *load(const char *name)
{
    void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!h) zs_log(ZS_LOG_DEBUG, "blas: %s: %s", name, dlerror());
    return h;
}

static void blas_load(void)
{
    const char *want = getenv("OPENBLAS_CORETYPE") ? NULL : pick_core();
    if (want) {
        setenv("OPENBLAS_CORETYPE", want, 1);
        snprintf(g_blas.chosen, sizeof g_blas.chosen, "%s", want);
    }
    void *h = load(ZS_OPENBLAS_PATH);
    if (!h) h = load("libopenblas.so.0");
    if (want) unsetenv("OPENBLAS_CORETYPE");
    if (!h) {
        fprintf(stderr, "zspace: cannot load OpenBLAS (%s or libopenblas.so.0): install libopenblas0\n",
                ZS_OPENBLAS_PATH);
        exit(1);
    }
    g_blas.sgemm = (sgemm_fn)(uintptr_t)dlsym(h, "cblas_sgemm");
    g_blas.sgemv = (sgemv_fn)(uintptr_t)dlsym(h, "cblas_sgemv");
    set_threads_fn set_threads = (set_threads_fn)(uintptr_t)dlsym(h, "openblas_set_num_threads");
    corename_fn corename = (corename_fn)(uintptr_t)dlsym(h, "openblas_get_corename");
    if (!g_blas.sgemm || !g_blas.sgemv) {
        fprintf(stderr, "zspace: %s has no cblas_sgemm/cblas_sgemv: not an OpenBLAS library\n", ZS_OPENBLAS_PATH);
        exit(1);
    }
    /* OpenBLAS's thread count is process-wide; ours is per team. */
    if (set_threads) set_threads(1);
    snprintf(g_blas.core, sizeof g_blas.core, "%s", corename ? corename() : "unknown");
    zs_log(ZS_LOG_DEBUG, "blas: OpenBLAS core %s%s", g_blas.core, g_blas.chosen[0] ? " (chosen by zspace)" : "");
}

void zs_blas_init(void) { pthread_once(&g_blas.once, blas_load); }

const char *zs_blas_core(void)
{
    zs_blas_init();
    return g_blas.core;
}

void zs_sgemm(zs_trans ta, zs_trans tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
              int ldb, float beta, float *c, int ldc)
{
    zs_blas_init();   /* pthread_once: one atomic load once loaded */
    g_blas.sgemm(CBLAS_ROW_MAJOR, ta == ZS_T ? CBLAS_TRANS : CBLAS_NO_TRANS, tb == ZS_T ? CBLAS_TRANS : CBLAS_NO_TRANS,
                 m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void zs_sgemv(zs_trans ta, int m, int n, float alpha, const float *a, int lda, const float *x, int incx, float beta,
              float *y, int incy)
{
    zs_blas_init();
    g_blas.sgemv(CBLAS_ROW_MAJOR, ta == ZS_T ? CBLAS_TRANS : CBLAS_NO_TRANS, m, n, alpha, a, lda, x, incx, beta, y,
                 incy);
}
