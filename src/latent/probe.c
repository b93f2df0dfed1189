/* Linear attribute probes and the judging of edits (see zspace/latent.h). */
#include "zspace/latent.h"

#include "zspace/features.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PROBE_ITERS 300
#define PROBE_LR 0.05f
#define PROBE_L2 1e-4f
#define JUDGE_BATCH 32

void zs_probes_free(zs_probes *p)
{
    free(p->w);
    free(p->mean);
    free(p->scale);
    memset(p, 0, sizeof *p);
}

static void standardise(const zs_probes *p, const float *mu, int n, float *x)
{
    int z = p->z;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < z; j++) x[(size_t)i * z + j] = (mu[(size_t)i * z + j] - p->mean[j]) * p->scale[j];
}

static void logits(const zs_probes *p, const float *x, int n, float *out)
{
    zs_sgemm(ZS_N, ZS_T, n, ZS_NATTR, p->z, 1.0f, x, p->z, p->w, p->z, 0.0f, out, ZS_NATTR);
    for (int i = 0; i < n; i++)
        for (int a = 0; a < ZS_NATTR; a++) out[(size_t)i * ZS_NATTR + a] += p->b[a];
}

zs_status zs_probes_fit(const zs_latents *l, zs_data_split fit, zs_data_split held_out, zs_probes *p)
{
    memset(p, 0, sizeof *p);
    int *idx, n = zs_latents_split(l, fit, &idx), z = l->z;
    if (n < 10) {
        free(idx);
        return zs_errorf(ZS_ERR_ARG, "%d faces in the %s split: too few to fit attribute probes", n, zs_split_name(fit));
    }
    p->z = z;
    p->w = zs_xcalloc((size_t)ZS_NATTR * z, sizeof(float));
    p->mean = zs_xcalloc((size_t)z, sizeof(float));
    p->scale = zs_xcalloc((size_t)z, sizeof(float));
    for (int j = 0; j < z; j++) {
        double s = 0, s2 = 0;
        for (int i = 0; i < n; i++) {
            double v = l->mu[(size_t)idx[i] * z + j];
            s += v;
            s2 += v * v;
        }
        double m = s / n, var = s2 / n - m * m;
        p->mean[j] = (float)m;
        p->scale[j] = var > 1e-12 ? (float)(1.0 / sqrt(var)) : 1.0f;
    }
    float *x = zs_xmalloc(sizeof(float) * (size_t)n * z), *y = zs_xmalloc(sizeof(float) * (size_t)n * ZS_NATTR);
    float *g = zs_xmalloc(sizeof(float) * (size_t)n * ZS_NATTR), *dw = zs_xmalloc(sizeof(float) * (size_t)ZS_NATTR * z);
    for (int i = 0; i < n; i++) {
        standardise(p, l->mu + (size_t)idx[i] * z, 1, x + (size_t)i * z);
        for (int a = 0; a < ZS_NATTR; a++) y[(size_t)i * ZS_NATTR + a] = l->attr[(size_t)idx[i] * ZS_NATTR + a] > 0;
    }
    for (int a = 0; a < ZS_NATTR; a++) {
        double s = 0;
        for (int i = 0; i < n; i++) s += y[(size_t)i * ZS_NATTR + a];
        p->base_rate[a] = (float)(s / n);
        /* start at the base rate's log-odds */
        double r = fmin(fmax(s / n, 1e-4), 1 - 1e-4);
        p->b[a] = (float)log(r / (1 - r));
    }
    /* full-batch Adam on the mean log-loss + L2 */
    size_t nw = (size_t)ZS_NATTR * z;
    float *mw = zs_xcalloc(nw + ZS_NATTR, sizeof(float)), *vw = zs_xcalloc(nw + ZS_NATTR, sizeof(float));
    for (int it = 1; it <= PROBE_ITERS; it++) {
        logits(p, x, n, g);
        for (size_t k = 0; k < (size_t)n * ZS_NATTR; k++) g[k] = (1.0f / (1.0f + expf(-g[k])) - y[k]) / (float)n;
        zs_sgemm(ZS_T, ZS_N, ZS_NATTR, z, n, 1.0f, g, ZS_NATTR, x, z, 0.0f, dw, z);
        float db[ZS_NATTR] = {0};
        for (int i = 0; i < n; i++)
            for (int a = 0; a < ZS_NATTR; a++) db[a] += g[(size_t)i * ZS_NATTR + a];
        double c1 = 1 - pow(0.9, it), c2 = 1 - pow(0.999, it);
        for (size_t k = 0; k < nw + ZS_NATTR; k++) {
            float *w = k < nw ? &p->w[k] : &p->b[k - nw];
            float gk = k < nw ? dw[k] + PROBE_L2 * *w : db[k - nw];
            mw[k] = 0.9f * mw[k] + 0.1f * gk;
            vw[k] = 0.999f * vw[k] + 0.001f * gk * gk;
            *w -= PROBE_LR * (float)(mw[k] / c1) / ((float)sqrt(vw[k] / c2) + 1e-8f);
        }
    }
    free(mw);
    free(vw);
    free(x);
    free(y);
    free(g);
    free(dw);
    free(idx);
    /* held-out accuracy */
    int nh = zs_latents_split(l, held_out, &idx);
    int8_t *pred = zs_xmalloc((size_t)(nh > 0 ? nh : 1) * ZS_NATTR);
    float *mu = zs_xmalloc(sizeof(float) * (size_t)(nh > 0 ? nh : 1) * z);
    for (int i = 0; i < nh; i++) memcpy(mu + (size_t)i * z, l->mu + (size_t)idx[i] * z, sizeof(float) * z);
    if (nh > 0) zs_probes_predict(p, mu, nh, pred);
    for (int a = 0; a < ZS_NATTR; a++) {
        int right = 0;
        for (int i = 0; i < nh; i++) right += pred[(size_t)i * ZS_NATTR + a] == l->attr[(size_t)idx[i] * ZS_NATTR + a];
        p->acc[a] = nh > 0 ? (float)right / nh : NAN;
    }
    free(pred);
    free(mu);
    free(idx);
    return ZS_OK;
}

void zs_probes_predict(const zs_probes *p, const float *mu, int n, int8_t *out)
{
    int z = p->z;
    float *x = zs_xmalloc(sizeof(float) * (size_t)n * z), *lg = zs_xmalloc(sizeof(float) * (size_t)n * ZS_NATTR);
    standardise(p, mu, n, x);
    logits(p, x, n, lg);
    for (size_t k = 0; k < (size_t)n * ZS_NATTR; k++) out[k] = lg[k] > 0 ? 1 : -1;
    free(x);
    free(lg);
}

/* ---- judging ------------------------------------------------------------------------- */
typedef struct {
    const zs_vae *m;
    const zs_cache *c;
    const zs_probes *p;
    const zs_feat *f;        /* judge pictures with this network instead of p (may be NULL) */
    const float *v;
    float s;
    int attr, want;          /* want: +1 judged to have it after the edit, -1 not */
    const int *idx;
    int n, next;
    int succ[64], before[64], flip[64][ZS_NATTR];
} judge_job;

/* +1/-1 judgements of n decoded pictures y: the feature network's logits,
 * or the probes on the pictures' encodings (mu: scratch, lg: the logits). */
static void judge_pictures(const judge_job *j, zs_vae_infer *inf, zs_feat_ctx *fc, const float *y, int n, float *mu,
                           float *lg, int8_t *out)
{
    if (!fc) {
        zs_vae_encode(inf, y, n, mu, NULL);
        zs_probes_predict(j->p, mu, n, out);
        return;
    }
    zs_feat_forward(fc, y, n, 0, lg);
    for (size_t k = 0; k < (size_t)n * ZS_NATTR; k++) out[k] = lg[k] > 0 ? 1 : -1;
}

static void judge_member(void *arg, int tid, int nt)
{
    judge_job *j = arg;
    const zs_vae_config *cfg = &j->m->cfg;
    int S = cfg->image, Z = cfg->z, B = JUDGE_BATCH;
    size_t img = (size_t)3 * S * S;
    zs_vae_infer *inf = zs_vae_infer_create(cfg, B);
    zs_vae_infer_load(inf, j->m->params);
    float *x = zs_xmalloc(sizeof(float) * img * B), *y = zs_xmalloc(sizeof(float) * img * B);
    float *mu = zs_xmalloc(sizeof(float) * (size_t)Z * B), *z1 = zs_xmalloc(sizeof(float) * (size_t)Z * B);
    float *m0 = zs_xmalloc(sizeof(float) * (size_t)Z * B), *m1 = zs_xmalloc(sizeof(float) * (size_t)Z * B);
    int8_t *p0 = zs_xmalloc((size_t)B * ZS_NATTR), *p1 = zs_xmalloc((size_t)B * ZS_NATTR);
    zs_feat_ctx *fc = j->f ? zs_feat_ctx_create(j->f, B) : NULL;
    float *lg = j->f ? zs_xmalloc(sizeof(float) * (size_t)B * ZS_NATTR) : NULL;
    int nb = (j->n + B - 1) / B;
    (void)nt;
    for (;;) {
        int b = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED);
        if (b >= nb) break;
        int lo = b * B, cnt = j->n - lo < B ? j->n - lo : B;
        for (int i = 0; i < cnt; i++) zs_face_to_chw(zs_cache_pixels(j->c, j->idx[lo + i]), S, x + i * img, 0);
        zs_vae_encode(inf, x, cnt, mu, NULL);
        for (int i = 0; i < cnt; i++) zs_latent_add(Z, mu + (size_t)i * Z, j->v, j->s, z1 + (size_t)i * Z);
        zs_vae_decode(inf, mu, cnt, y);
        judge_pictures(j, inf, fc, y, cnt, m0, lg, p0);
        zs_vae_decode(inf, z1, cnt, y);
        judge_pictures(j, inf, fc, y, cnt, m1, lg, p1);
        for (int i = 0; i < cnt; i++) {
            j->succ[tid] += p1[i * ZS_NATTR + j->attr] == j->want;
            j->before[tid] += p0[i * ZS_NATTR + j->attr] == j->want;
            for (int a = 0; a < ZS_NATTR; a++) j->flip[tid][a] += p1[i * ZS_NATTR + a] != p0[i * ZS_NATTR + a];
        }
    }
    free(x);
    free(y);
    free(mu);
    free(z1);
    free(m0);
    free(m1);
    free(p0);
    free(p1);
    free(lg);
    zs_feat_ctx_destroy(fc);
    zs_vae_infer_destroy(inf);
}

zs_status zs_edit_judge(const zs_vae *m, const zs_cache *c, zs_data_split split, const zs_attr_vectors *a,
                        const zs_probes *p, const zs_feat *f, int attr, float strength, const int *keep, int nkeep,
                        int max_faces, int threads, zs_edit_report *r)
{
    memset(r, 0, sizeof *r);
    if (attr < 0 || attr >= ZS_NATTR) return zs_errorf(ZS_ERR_ARG, "attribute index %d is not 0..39", attr);
    if (f && f->cfg.image != m->cfg.image)
        return zs_errorf(ZS_ERR_ARG, "the judging network takes %dx%d faces, the model %dx%d", f->cfg.image,
                         f->cfg.image, m->cfg.image, m->cfg.image);
    if (a->z != m->cfg.z || (!f && p->z != m->cfg.z)) return zs_errorf(ZS_ERR_ARG, "vectors, probes and model differ in Z");
    if (zs_cache_size(c) != m->cfg.image)
        return zs_errorf(ZS_ERR_ARG, "%s: faces are %dx%d but the model takes %dx%d", zs_cache_path(c),
                         zs_cache_size(c), zs_cache_size(c), m->cfg.image, m->cfg.image);
    if (split == ZS_SPLIT_TRAIN) split = ZS_SPLIT_VAL;
    int want = strength >= 0 ? 1 : -1, *all, n = zs_cache_split_indices(c, split, &all), k = 0;
    int *idx = zs_xmalloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    for (int i = 0; i < n && (max_faces <= 0 || k < max_faces); i++)
        if (zs_cache_attrs(c, all[i])[attr] == -want) idx[k++] = all[i];
    free(all);
    if (k == 0) {
        free(idx);
        return zs_errorf(ZS_ERR_ARG, "%s: no %s faces %s %s to edit", zs_cache_path(c), zs_split_name(split),
                         want > 0 ? "without" : "with", zs_attr_names[attr]);
    }
    int Z = m->cfg.z;
    float *v = zs_xmalloc(sizeof(float) * Z);
    zs_attr_edit_vector(a, attr, keep, nkeep, v);
    if (threads <= 0) threads = zs_cpu_count();
    if (threads > 64) threads = 64;
    judge_job *j = zs_xcalloc(1, sizeof *j);
    *j = (judge_job){.m = m, .c = c, .p = p, .f = f, .v = v, .s = strength, .attr = attr, .want = want, .idx = idx, .n = k};
    zs_team *team = zs_team_create(threads);
    zs_team_run(team, judge_member, j);
    zs_team_destroy(team);
    int succ = 0, before = 0, flip[ZS_NATTR] = {0};
    for (int t = 0; t < threads; t++) {
        succ += j->succ[t];
        before += j->before[t];
        for (int q = 0; q < ZS_NATTR; q++) flip[q] += j->flip[t][q];
    }
    r->attr = attr;
    r->strength = strength;
    r->n = k;
    r->success = (float)succ / k;
    r->before = (float)before / k;
    for (int q = 0; q < ZS_NATTR; q++) r->flip[q] = (float)flip[q] / k;
    free(j);
    free(v);
    free(idx);
    return ZS_OK;
}
