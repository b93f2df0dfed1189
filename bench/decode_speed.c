/* Latency of decoding one face (z -> 64x64 image) in eval mode on one
 * thread: what the explorer pays per frame when a slider moves.
 *
 *     build/bench/decode_speed [--iters 200] [--warmup 20]
 *
 * Prints "decode_ms: X" (median) and the 90th percentile. */
#include "zspace/vae.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static long arg(int argc, char **argv, const char *name, long def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) return strtol(argv[i + 1], NULL, 10);
    return def;
}

int main(int argc, char **argv)
{
    zs_blas_init();
    int iters = (int)arg(argc, argv, "--iters", 200), warmup = (int)arg(argc, argv, "--warmup", 20);
    if (iters < 1 || warmup < 0) {
        fprintf(stderr, "decode_speed: bad arguments\n");
        return 2;
    }
    zs_vae_config cfg = zs_vae_config_default();
    zs_vae *m = zs_vae_create(&cfg);
    zs_vae_init(m, 1);
    zs_vae_infer *inf = zs_vae_infer_create(&cfg, 1);
    zs_vae_infer_load(inf, m->params);
    float z[ZS_VAE_MAX_BLOCKS * 1024], *img = malloc(sizeof(float) * 3 * cfg.image * cfg.image);
    double *dt = malloc(sizeof(double) * iters), sum = 0;
    for (int i = 0; i < warmup + iters; i++) {
        for (int k = 0; k < cfg.z; k++) z[k] = zs_normal(3, (uint64_t)i * cfg.z + k);
        double t0 = zs_now();
        zs_vae_decode(inf, z, 1, img);
        double d = zs_now() - t0;
        if (i >= warmup) dt[i - warmup] = d;
        sum += img[i % (3 * cfg.image * cfg.image)];
    }
    qsort(dt, iters, sizeof(double), cmp_double);
    printf("blas_core: %s\n", zs_blas_core());
    printf("decode_ms_min: %.3f\n", dt[0] * 1e3);
    printf("iters: %d\ndecode_ms: %.3f\ndecode_ms_p90: %.3f\nchecksum: %.3f\n", iters, dt[iters / 2] * 1e3,
           dt[iters * 9 / 10] * 1e3, sum);
    free(dt);
    free(img);
    zs_vae_infer_destroy(inf);
    zs_vae_destroy(m);
    return 0;
}
