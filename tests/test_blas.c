/* BLAS loading (src/core/blas.c): the kernel follows the CPU's features
 * unless the user chose one, the environment is left as the user had it,
 * and sgemm/sgemv compute what row-major BLAS should for every transpose.
 *
 *   test_blas                 OPENBLAS_CORETYPE unset: expect our choice
 *   test_blas --user Haswell  run with OPENBLAS_CORETYPE=Haswell: kept */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

static const char *expected_core(void)
{
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
    return NULL;   /* OpenBLAS's own choice */
}

static float at(const float *a, int ld, int t, int i, int j) { return t ? a[j * ld + i] : a[i * ld + j]; }

int main(int argc, char **argv)
{
    zs_test_capture_logs();
    const char *user = argc == 3 && strcmp(argv[1], "--user") == 0 ? argv[2] : NULL;
    const char *core = zs_blas_core();
    printf("OpenBLAS core: %s\n", core);
    if (user) {
        CHECKF(strcasecmp(core, user) == 0, "user asked for %s, got %s", user, core);
        CHECK(getenv("OPENBLAS_CORETYPE") && strcmp(getenv("OPENBLAS_CORETYPE"), user) == 0);
    } else {
        const char *want = expected_core();
        if (want) CHECKF(strcasecmp(core, want) == 0, "CPU supports %s kernels, OpenBLAS runs %s", want, core);
        CHECKF(getenv("OPENBLAS_CORETYPE") == NULL, "environment not restored: %s", getenv("OPENBLAS_CORETYPE"));
    }

    /* C (M, N) = alpha op(A) op(B) + beta C against a plain loop. */
    enum { M = 5, N = 7, K = 6 };
    float a[M * K], b[K * N], c0[M * N], c[M * N], x[K], y0[M], y[M];
    for (int i = 0; i < M * K; i++) a[i] = (float)((i * 7) % 11) - 5.0f;
    for (int i = 0; i < K * N; i++) b[i] = (float)((i * 5) % 13) - 6.0f;
    for (int i = 0; i < M * N; i++) c0[i] = (float)(i % 3);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            int lda = ta ? M : K, ldb = tb ? K : N;
            memcpy(c, c0, sizeof c);
            zs_sgemm(ta ? ZS_T : ZS_N, tb ? ZS_T : ZS_N, M, N, K, 2.0f, a, lda, b, ldb, 0.5f, c, N);
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) {
                    float s = 0.5f * c0[i * N + j];
                    for (int k = 0; k < K; k++) s += 2.0f * at(a, lda, ta, i, k) * at(b, ldb, tb, k, j);
                    CHECKF(c[i * N + j] == s, "sgemm ta %d tb %d (%d,%d): %g != %g", ta, tb, i, j, c[i * N + j], s);
                }
        }
    for (int i = 0; i < K; i++) x[i] = (float)i - 2.0f;
    for (int i = 0; i < M; i++) y0[i] = (float)i;
    memcpy(y, y0, sizeof y);
    zs_sgemv(ZS_N, M, K, 1.0f, a, K, x, 1, 1.0f, y, 1);
    for (int i = 0; i < M; i++) {
        float s = y0[i];
        for (int k = 0; k < K; k++) s += a[i * K + k] * x[k];
        CHECKF(y[i] == s, "sgemv row %d: %g != %g", i, y[i], s);
    }
    TEST_END();
}
