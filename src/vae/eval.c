/* Evaluation of a model on a split of a face cache (eval mode, z = mu). */
#include "zspace/trainer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EVAL_BATCH 32

typedef struct {
    const zs_vae *m;
    const zs_cache *c;
    const int *idx;
    int n;
    double sse[64], kl[64];
} eval_job;

static void eval_member(void *arg, int tid, int nt)
{
    eval_job *j = arg;
    const zs_vae_config *cfg = &j->m->cfg;
    int S = cfg->image, Z = cfg->z;
    size_t img = (size_t)3 * S * S;
    zs_vae_infer *inf = zs_vae_infer_create(cfg, EVAL_BATCH);
    zs_vae_infer_load(inf, j->m->params);
    float *x = zs_xmalloc(sizeof(float) * img * EVAL_BATCH), *y = zs_xmalloc(sizeof(float) * img * EVAL_BATCH);
    float *mu = zs_xmalloc(sizeof(float) * (size_t)Z * EVAL_BATCH), *lv = zs_xmalloc(sizeof(float) * (size_t)Z * EVAL_BATCH);
    double sse = 0, kl = 0;
    int nbatches = (j->n + EVAL_BATCH - 1) / EVAL_BATCH;
    for (int b = tid; b < nbatches; b += nt) {
        int lo = b * EVAL_BATCH, cnt = j->n - lo < EVAL_BATCH ? j->n - lo : EVAL_BATCH;
        for (int i = 0; i < cnt; i++) zs_face_to_chw(zs_cache_pixels(j->c, j->idx[lo + i]), S, x + i * img, 0);
        zs_vae_encode(inf, x, cnt, mu, lv);
        zs_vae_decode(inf, mu, cnt, y);
        for (size_t k = 0; k < (size_t)cnt * img; k++) {
            double d = (double)y[k] - x[k];
            sse += d * d;
        }
        for (size_t k = 0; k < (size_t)cnt * Z; k++)
            kl += -0.5 * (1.0 + lv[k] - (double)mu[k] * mu[k] - exp((double)lv[k]));
    }
    j->sse[tid] = sse;
    j->kl[tid] = kl;
    free(x);
    free(y);
    free(mu);
    free(lv);
    zs_vae_infer_destroy(inf);
}

zs_status zs_vae_evaluate(const zs_vae *m, const zs_cache *c, zs_data_split split, int threads, double *mse,
                          double *kl, int *count)
{
    if (zs_cache_size(c) != m->cfg.image)
        return zs_errorf(ZS_ERR_ARG, "%s: faces are %dx%d but the model takes %dx%d", zs_cache_path(c),
                         zs_cache_size(c), zs_cache_size(c), m->cfg.image, m->cfg.image);
    eval_job j = {.m = m, .c = c};
    int *idx = NULL;
    j.n = zs_cache_split_indices(c, split, &idx);
    j.idx = idx;
    if (j.n <= 0) {
        free(idx);
        return zs_errorf(ZS_ERR_ARG, "%s: no faces in the %s split", zs_cache_path(c), zs_split_name(split));
    }
    if (threads <= 0) threads = zs_cpu_count();
    if (threads > 64) threads = 64;
    zs_team *team = zs_team_create(threads);
    zs_team_run(team, eval_member, &j);
    zs_team_destroy(team);
    double sse = 0, k = 0;
    for (int i = 0; i < threads; i++) {
        sse += j.sse[i];
        k += j.kl[i];
    }
    free(idx);
    if (mse) *mse = sse / ((double)j.n * 3 * m->cfg.image * m->cfg.image);
    if (kl) *kl = k / j.n;
    if (count) *count = j.n;
    return ZS_OK;
}
