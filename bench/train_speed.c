/* Training throughput of the dfc64 engine: images per second of full
 * training steps (forward, SSE + KL loss, backward, Adam) on random inputs.
 *
 *     build/bench/train_speed [--threads 2] [--batch 64] [--steps 30] [--warmup 5] [--dynamic 1]
 *
 * Prints "img_per_s: X" (median over steps of batch / step time) and the
 * mean. --dynamic 1 trains as the explorer does (zs_train_desc.dynamic:
 * chunks, weight gradients deferred to barrier waits) instead of the CLI's
 * fixed slices; bench/compare_torch.py runs it beside PyTorch. */
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
    int threads = (int)arg(argc, argv, "--threads", 2), batch = (int)arg(argc, argv, "--batch", 64);
    int dynamic = (int)arg(argc, argv, "--dynamic", 0);
    int steps = (int)arg(argc, argv, "--steps", 30), warmup = (int)arg(argc, argv, "--warmup", 5);
    if (threads < 1 || batch < 1 || steps < 1 || warmup < 0) {
        fprintf(stderr, "train_speed: bad arguments\n");
        return 2;
    }
    zs_vae_config cfg = zs_vae_config_default();
    zs_vae *m = zs_vae_create(&cfg);
    zs_vae_init(m, 1);
    zs_vae_train *t = zs_vae_train_create(m, &(zs_train_desc){.max_batch = batch, .threads = threads, .seed = 1,
                                                             .dynamic = dynamic});
    size_t nx = (size_t)batch * 3 * cfg.image * cfg.image;
    float *x = zs_alloc_aligned(sizeof(float) * nx);
    for (size_t i = 0; i < nx; i++) x[i] = zs_uniform01(7, i);
    zs_step_stats st;
    for (int i = 0; i < warmup; i++) zs_vae_train_step(t, x, batch, NULL, &st);
    double *dt = malloc(sizeof(double) * steps), total = 0;
    for (int i = 0; i < steps; i++) {
        double t0 = zs_now();
        zs_vae_train_step(t, x, batch, NULL, &st);
        dt[i] = zs_now() - t0;
        total += dt[i];
    }
    qsort(dt, steps, sizeof(double), cmp_double);
    double med = steps % 2 ? dt[steps / 2] : 0.5 * (dt[steps / 2 - 1] + dt[steps / 2]);
    printf("blas_core: %s\nthreads: %d\nbatch: %d\nsteps: %d\nloss: %.3f\n", zs_blas_core(), threads, batch, steps,
           st.loss);
    printf("step_ms_median: %.2f\nimg_per_s_mean: %.1f\nimg_per_s: %.1f\n", med * 1e3, batch * steps / total,
           batch / med);
    free(dt);
    zs_free_aligned(x);
    zs_vae_train_destroy(t);
    zs_vae_destroy(m);
    return 0;
}
