/* The attribute classifier that serves as the perceptual loss's feature
 * network (see zspace/features.h). Training splits each batch across a
 * zs_team: every member runs its slice forward and backward into its own
 * gradient block; the blocks are summed and Adam steps once. */
#include "zspace/features.h"
#include "zspace/st.h"
#include "zspace/vae.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- config and model ------------------------------------------------------ */
zs_feat_config zs_feat_config_for_image(int image)
{
    zs_feat_config c = {.image = 64, .nblocks = 4, .widths = {32, 64, 128, 256}};
    if (image == 128) c = (zs_feat_config){.image = 128, .nblocks = 5, .widths = {32, 32, 64, 128, 256}};
    return c;
}

zs_status zs_feat_config_check(const zs_feat_config *c)
{
    if (c->image != 64 && c->image != 128) return zs_errorf(ZS_ERR_ARG, "feature network: image size %d is not 64 or 128", c->image);
    if (c->nblocks < 1 || c->nblocks > ZS_FEAT_MAX_BLOCKS || (c->image >> c->nblocks) != 4)
        return zs_errorf(ZS_ERR_ARG, "feature network: %d blocks do not take %d pixels to 4x4", c->nblocks, c->image);
    for (int i = 0; i < c->nblocks; i++)
        if (c->widths[i] < 1 || c->widths[i] > 1024)
            return zs_errorf(ZS_ERR_ARG, "feature network: width %d of block %d is outside 1..1024", c->widths[i], i + 1);
    return ZS_OK;
}

static int side(const zs_feat_config *c, int b) { return c->image >> (b + 1); }
static int flat_size(const zs_feat_config *c) { return c->widths[c->nblocks - 1] * 16; }

size_t zs_feat_block_size(const zs_feat *f, int b)
{
    int s = side(&f->cfg, b);
    return (size_t)f->cfg.widths[b] * s * s;
}

static zs_conv_shape block_shape(const zs_feat_config *c, int b, int n)
{
    int s = c->image >> b;
    return (zs_conv_shape){n, b ? c->widths[b - 1] : 3, s, s, c->widths[b], 4, 4, 2, 1};
}

zs_feat *zs_feat_create(const zs_feat_config *cfg)
{
    ZS_ASSERT(zs_feat_config_check(cfg) == ZS_OK);
    zs_feat *f = zs_xcalloc(1, sizeof *f);
    f->cfg = *cfg;
    zs_param_table *pt = &f->table;
    zs_table_init(pt);
    char name[ZS_TENSOR_NAME];
    for (int b = 0; b < cfg->nblocks; b++) {
        int ic = b ? cfg->widths[b - 1] : 3, oc = cfg->widths[b];
        snprintf(name, sizeof name, "conv%d.weight", b);
        f->conv_w[b] = zs_table_add(pt, name, 1, ic * 16, 0, 4, oc, ic, 4, 4);
        snprintf(name, sizeof name, "conv%d.bias", b);
        f->conv_b[b] = zs_table_add(pt, name, 1, ic * 16, 0, 1, oc);
    }
    int flat = flat_size(cfg);
    f->fc_w = zs_table_add(pt, "fc.weight", 1, flat, 0, 2, ZS_NATTR, flat);
    f->fc_b = zs_table_add(pt, "fc.bias", 1, flat, 0, 1, ZS_NATTR);
    f->params = zs_alloc_aligned(sizeof(float) * pt->total);
    zs_table_init_params(pt, f->params, 0);
    return f;
}

void zs_feat_destroy(zs_feat *f)
{
    if (!f) return;
    zs_free_aligned(f->params);
    zs_table_free(&f->table);
    free(f);
}

void zs_feat_init(zs_feat *f, uint64_t seed) { zs_table_init_params(&f->table, f->params, seed); }

static float *par(const zs_feat *f, int ix) { return f->params + f->table.t[ix].offset; }

/* ---- forward and backward -------------------------------------------------- */
struct zs_feat_ctx {
    const zs_feat *f;
    int max_batch, n, blocks;                 /* of the last forward */
    float *pre[ZS_FEAT_MAX_BLOCKS], *act[ZS_FEAT_MAX_BLOCKS];
    float *dsrc[ZS_FEAT_MAX_BLOCKS];          /* zs_feat_loss's gradients at the activations */
    float *g0, *g1;                           /* backward ping-pong, the largest block */
    float *scratch;
};

zs_feat_ctx *zs_feat_ctx_create(const zs_feat *f, int max_batch)
{
    zs_feat_ctx *c = zs_xcalloc(1, sizeof *c);
    c->f = f;
    c->max_batch = max_batch > 0 ? max_batch : 1;
    size_t big = 0, scratch = 0;
    for (int b = 0; b < f->cfg.nblocks; b++) {
        size_t sz = zs_feat_block_size(f, b) * c->max_batch;
        c->pre[b] = zs_alloc_aligned(sizeof(float) * sz);
        c->act[b] = zs_alloc_aligned(sizeof(float) * sz);
        c->dsrc[b] = zs_alloc_aligned(sizeof(float) * sz);
        if (sz > big) big = sz;
        zs_conv_shape cs = block_shape(&f->cfg, b, c->max_batch);
        if (zs_conv_scratch_size(&cs) > scratch) scratch = zs_conv_scratch_size(&cs);
    }
    c->g0 = zs_alloc_aligned(sizeof(float) * big);
    c->g1 = zs_alloc_aligned(sizeof(float) * big);
    c->scratch = zs_alloc_aligned(sizeof(float) * scratch);
    return c;
}

void zs_feat_ctx_destroy(zs_feat_ctx *c)
{
    if (!c) return;
    for (int b = 0; b < c->f->cfg.nblocks; b++) {
        zs_free_aligned(c->pre[b]);
        zs_free_aligned(c->act[b]);
        zs_free_aligned(c->dsrc[b]);
    }
    zs_free_aligned(c->g0);
    zs_free_aligned(c->g1);
    zs_free_aligned(c->scratch);
    free(c);
}

const float *zs_feat_act(const zs_feat_ctx *c, int block) { return c->act[block]; }

void zs_feat_forward(zs_feat_ctx *c, const float *x, int n, int blocks, float *logits)
{
    const zs_feat *f = c->f;
    int nb = f->cfg.nblocks;
    ZS_ASSERT(n >= 0 && n <= c->max_batch);
    int all = blocks <= 0 || blocks >= nb;
    c->n = n;
    c->blocks = all ? nb : blocks;
    const float *in = x;
    for (int b = 0; b < c->blocks; b++) {
        zs_conv_shape cs = block_shape(&f->cfg, b, n);
        if (n) zs_conv2d_forward(&cs, in, par(f, f->conv_w[b]), par(f, f->conv_b[b]), c->pre[b], c->scratch);
        zs_leaky_relu_forward(zs_feat_block_size(f, b) * n, c->pre[b], ZS_LEAKY_SLOPE, c->act[b]);
        in = c->act[b];
    }
    if (all && logits && n) zs_dense_forward(n, flat_size(&f->cfg), ZS_NATTR, in, par(f, f->fc_w), par(f, f->fc_b), logits);
}

void zs_feat_backward(zs_feat_ctx *c, const float *x, int n, const float *dlogits, const float *const *dact, float *dx,
                      float *grad)
{
    const zs_feat *f = c->f;
    ZS_ASSERT(n == c->n);
    if (!n) return;
    int top = -1;   /* the deepest block a gradient reaches */
    if (dlogits) {
        ZS_ASSERT(c->blocks == f->cfg.nblocks);
        top = f->cfg.nblocks - 1;
    }
    for (int b = c->blocks - 1; b > top && dact; b--)
        if (dact[b]) top = b;
    if (top < 0) {
        if (dx) memset(dx, 0, sizeof(float) * (size_t)n * 3 * f->cfg.image * f->cfg.image);
        return;
    }
#define G(ix) (grad ? grad + f->table.t[(ix)].offset : NULL)
    float *g = c->g0, *other = c->g1;
    size_t sz = zs_feat_block_size(f, top) * n;
    if (dlogits)
        zs_dense_backward(n, flat_size(&f->cfg), ZS_NATTR, c->act[top], par(f, f->fc_w), dlogits, g, G(f->fc_w),
                          G(f->fc_b));
    else
        memset(g, 0, sizeof(float) * sz);
    for (int b = top; b >= 0; b--) {
        sz = zs_feat_block_size(f, b) * n;
        if (dact && dact[b])
            for (size_t k = 0; k < sz; k++) g[k] += dact[b][k];
        zs_leaky_relu_backward(sz, c->pre[b], ZS_LEAKY_SLOPE, g, g);
        zs_conv_shape cs = block_shape(&f->cfg, b, n);
        float *dxb = b ? other : dx;
        if (b || dx || grad)
            zs_conv2d_backward(&cs, b ? c->act[b - 1] : x, par(f, f->conv_w[b]), g, dxb, G(f->conv_w[b]),
                               G(f->conv_b[b]), c->scratch);
        float *t = g;
        g = other;
        other = t;
    }
#undef G
}

double zs_feat_loss(zs_feat_ctx *cx, zs_feat_ctx *cr, const float *x, const float *r, int n, unsigned layers,
                    float scale, float *dr)
{
    const zs_feat *f = cr->f;
    int nb = f->cfg.nblocks, top = 0;
    for (int b = 0; b < nb; b++)
        if (layers & (1u << b)) top = b + 1;
    ZS_ASSERT(top > 0 && cx->f == f);
    zs_feat_forward(cx, x, n, top, NULL);
    zs_feat_forward(cr, r, n, top, NULL);
    double sum = 0;
    const float *dact[ZS_FEAT_MAX_BLOCKS] = {0};
    double pix = 3.0 * f->cfg.image * f->cfg.image;
    for (int b = 0; b < top; b++) {
        if (!(layers & (1u << b))) continue;
        size_t per = zs_feat_block_size(f, b), sz = per * n;
        double k = pix / (double)per;
        const float *a = cr->act[b], *t = cx->act[b];
        float *d = cr->dsrc[b], g = (float)(2.0 * k) * scale;
        double s = 0;
        for (size_t i = 0; i < sz; i++) {
            float e = a[i] - t[i];
            s += (double)e * e;
            d[i] = g * e;
        }
        sum += k * s;
        dact[b] = d;
    }
    if (dr) zs_feat_backward(cr, r, n, NULL, dact, dr, NULL);
    return sum;
}

zs_status zs_feat_parse_layers(const zs_feat *f, const char *s, unsigned *layers)
{
    unsigned set = 0;
    const char *p = s;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || (*end && *end != ','))
            return zs_errorf(ZS_ERR_ARG, "feature layers '%s': expected numbers like 1,2,3", s);
        if (v < 1 || v > f->cfg.nblocks)
            return zs_errorf(ZS_ERR_ARG, "feature layer %ld: the feature network has blocks 1..%d", v, f->cfg.nblocks);
        set |= 1u << (v - 1);
        p = *end ? end + 1 : end;
    }
    if (!set) return zs_errorf(ZS_ERR_ARG, "feature layers '%s': none given", s);
    *layers = set;
    return ZS_OK;
}

double zs_feat_bce(int n, const float *logits, const int8_t *labels, float scale, float *dlogits)
{
    double sum = 0;
    for (size_t i = 0; i < (size_t)n * ZS_NATTR; i++) {
        float l = logits[i], y = labels[i] > 0 ? 1.0f : 0.0f;
        /* softplus(l) - y l, stable for any l */
        sum += (double)(fmaxf(l, 0.0f) - l * y + log1pf(expf(-fabsf(l))));
        if (dlogits) dlogits[i] = scale / ZS_NATTR * (1.0f / (1.0f + expf(-l)) - y);
    }
    return sum / ZS_NATTR;
}

/* ---- training ---------------------------------------------------------------- */
typedef struct feat_trainer {
    zs_feat *f;
    int nt, batch;
    zs_feat_ctx **ctx;
    float **grad, **dlog, **logits;
    const float *x;
    const int8_t *labels;
    double *loss;
} feat_trainer;

static void train_member(void *arg, int tid, int nt)
{
    feat_trainer *t = arg;
    size_t lo, hi;
    zs_split((size_t)t->batch, tid, nt, &lo, &hi);
    int n = (int)(hi - lo);
    size_t img = (size_t)3 * t->f->cfg.image * t->f->cfg.image;
    memset(t->grad[tid], 0, sizeof(float) * t->f->table.ntrain);
    t->loss[tid] = 0;
    if (!n) return;
    zs_feat_forward(t->ctx[tid], t->x + lo * img, n, 0, t->logits[tid]);
    t->loss[tid] = zs_feat_bce(n, t->logits[tid], t->labels + lo * ZS_NATTR, 1.0f / (float)t->batch, t->dlog[tid]);
    zs_feat_backward(t->ctx[tid], t->x + lo * img, n, t->dlog[tid], NULL, NULL, t->grad[tid]);
}

zs_status zs_feat_train(zs_feat *f, const zs_feat_train_desc *d, double *final_loss)
{
    int B = d->batch > 0 ? d->batch : 64, nt = d->threads > 0 ? d->threads : zs_cpu_count();
    if (nt > B) nt = B;
    if (zs_cache_size(d->cache) != f->cfg.image)
        return zs_errorf(ZS_ERR_ARG, "%s has %d-pixel faces, the feature network takes %d", zs_cache_path(d->cache),
                         zs_cache_size(d->cache), f->cfg.image);
    zs_loader *ld;
    zs_status st = zs_loader_create(&ld, &(zs_loader_desc){.cache = d->cache, .batch = B, .seed = d->seed, .flip = 1});
    if (st != ZS_OK) return st;
    size_t img = (size_t)3 * f->cfg.image * f->cfg.image, np = f->table.ntrain;
    feat_trainer t = {.f = f, .nt = nt, .batch = B};
    int slice = (B + nt - 1) / nt;
    t.ctx = zs_xcalloc((size_t)nt, sizeof *t.ctx);
    t.grad = zs_xcalloc((size_t)nt, sizeof *t.grad);
    t.dlog = zs_xcalloc((size_t)nt, sizeof *t.dlog);
    t.logits = zs_xcalloc((size_t)nt, sizeof *t.logits);
    t.loss = zs_xcalloc((size_t)nt, sizeof *t.loss);
    for (int k = 0; k < nt; k++) {
        t.ctx[k] = zs_feat_ctx_create(f, slice);
        t.grad[k] = zs_alloc_aligned(sizeof(float) * np);
        t.dlog[k] = zs_alloc_aligned(sizeof(float) * (size_t)slice * ZS_NATTR);
        t.logits[k] = zs_alloc_aligned(sizeof(float) * (size_t)slice * ZS_NATTR);
    }
    float *x = zs_alloc_aligned(sizeof(float) * img * B), *am = zs_xcalloc(np, sizeof(float));
    float *av = zs_xcalloc(np, sizeof(float));
    int8_t *labels = zs_xcalloc((size_t)B * ZS_NATTR, 1);
    int *idx = zs_xcalloc((size_t)B, sizeof(int));
    zs_team *team = zs_team_create(nt);
    zs_adam_desc ad = {.lr = d->lr > 0 ? d->lr : 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f};
    int every = d->report_every > 0 ? d->report_every : 50, bad = 0;
    double acc = 0, t0 = zs_now(), last = 0;
    long adam_t = 0, seen = 0;
    for (long s = 0; s < d->steps && st == ZS_OK; s++) {
        if (d->stop_flag && *d->stop_flag) break;
        int n = zs_loader_next_ex(ld, x, idx, NULL, NULL, NULL);
        if (n < 0) {
            st = zs_errorf(ZS_ERR_IO, "%s", zs_last_error());
            break;
        }
        /* a flip swaps no CelebA attribute's meaning (none is left/right) */
        for (int i = 0; i < n; i++) memcpy(labels + (size_t)i * ZS_NATTR, zs_cache_attrs(d->cache, idx[i]), ZS_NATTR);
        t.batch = n;
        t.x = x;
        t.labels = labels;
        zs_team_run(team, train_member, &t);
        double loss = 0;
        for (int k = 0; k < nt; k++) loss += t.loss[k];
        loss /= n;
        for (int k = 1; k < nt; k++)
            for (size_t j = 0; j < np; j++) t.grad[0][j] += t.grad[k][j];
        double g2 = 0;
        for (size_t j = 0; j < np; j++) g2 += (double)t.grad[0][j] * t.grad[0][j];
        if (!isfinite(loss) || !isfinite(g2)) {
            if (++bad >= 10) st = zs_errorf(ZS_ERR_NUMERIC, "feature training: loss not finite for 10 steps at step %ld", s + 1);
            continue;
        }
        bad = 0;
        zs_adam_update(&ad, ++adam_t, 0, np, f->params, t.grad[0], am, av);
        acc += loss;
        seen++;
        if ((s + 1) % every == 0 || s + 1 == d->steps) {
            last = acc / seen;
            double now = zs_now();
            if (d->report) d->report(d->user, s + 1, d->steps, last, (double)seen * B / (now - t0));
            acc = 0;
            seen = 0;
            t0 = now;
        }
    }
    if (final_loss) *final_loss = seen ? acc / seen : last;
    zs_team_destroy(team);
    for (int k = 0; k < nt; k++) {
        zs_feat_ctx_destroy(t.ctx[k]);
        zs_free_aligned(t.grad[k]);
        zs_free_aligned(t.dlog[k]);
        zs_free_aligned(t.logits[k]);
    }
    free(t.ctx);
    free(t.grad);
    free(t.dlog);
    free(t.logits);
    free(t.loss);
    zs_free_aligned(x);
    free(am);
    free(av);
    free(labels);
    free(idx);
    zs_loader_destroy(ld);
    return st;
}

/* ---- evaluation ------------------------------------------------------------- */
typedef struct feat_eval {
    const zs_feat *f;
    const zs_cache *cache;
    const int *idx;
    int n;
    long (*right)[ZS_NATTR];
} feat_eval;

static void eval_member(void *arg, int tid, int nt)
{
    feat_eval *e = arg;
    enum { CHUNK = 32 };
    int S = e->f->cfg.image;
    size_t img = (size_t)3 * S * S;
    zs_feat_ctx *c = zs_feat_ctx_create(e->f, CHUNK);
    float *x = zs_alloc_aligned(sizeof(float) * img * CHUNK), logits[CHUNK * ZS_NATTR];
    size_t lo, hi;
    zs_split((size_t)e->n, tid, nt, &lo, &hi);
    memset(e->right[tid], 0, sizeof e->right[tid]);
    for (size_t i0 = lo; i0 < hi; i0 += CHUNK) {
        int n = hi - i0 < CHUNK ? (int)(hi - i0) : CHUNK;
        for (int i = 0; i < n; i++) zs_face_to_chw(zs_cache_pixels(e->cache, e->idx[i0 + i]), S, x + i * img, 0);
        zs_feat_forward(c, x, n, 0, logits);
        for (int i = 0; i < n; i++) {
            const int8_t *a = zs_cache_attrs(e->cache, e->idx[i0 + i]);
            for (int k = 0; k < ZS_NATTR; k++) e->right[tid][k] += (logits[i * ZS_NATTR + k] > 0) == (a[k] > 0);
        }
    }
    zs_free_aligned(x);
    zs_feat_ctx_destroy(c);
}

zs_status zs_feat_evaluate(const zs_feat *f, const zs_cache *cache, zs_data_split split, int threads, double *acc,
                           double *base)
{
    if (zs_cache_size(cache) != f->cfg.image)
        return zs_errorf(ZS_ERR_ARG, "%s has %d-pixel faces, the feature network takes %d", zs_cache_path(cache),
                         zs_cache_size(cache), f->cfg.image);
    int *idx = NULL, n = zs_cache_split_indices(cache, split, &idx);
    if (n <= 0) {
        free(idx);
        return zs_errorf(ZS_ERR_ARG, "%s: no faces in that split", zs_cache_path(cache));
    }
    int nt = threads > 0 ? threads : zs_cpu_count();
    long (*right)[ZS_NATTR] = zs_xcalloc((size_t)nt, sizeof *right);
    feat_eval e = {f, cache, idx, n, right};
    zs_team *team = zs_team_create(nt);
    zs_team_run(team, eval_member, &e);
    zs_team_destroy(team);
    for (int k = 0; k < ZS_NATTR; k++) {
        long r = 0, pos = 0;
        for (int m = 0; m < nt; m++) r += right[m][k];
        acc[k] = (double)r / n;
        for (int i = 0; i < n; i++) pos += zs_cache_attrs(cache, idx[i])[k] > 0;
        if (base) base[k] = (double)(pos > n - pos ? pos : n - pos) / n;
    }
    free(right);
    free(idx);
    return ZS_OK;
}

/* ---- what reconstructions change ------------------------------------------------ */
typedef struct flip_job {
    const zs_feat *f;
    const zs_vae *m;
    const zs_cache *cache;
    const int *idx;
    int n;
    long (*flips)[ZS_NATTR], (*pos)[ZS_NATTR], (*lost)[ZS_NATTR];
    uint64_t any_mask;
    long *any;
} flip_job;

static void flip_member(void *arg, int tid, int nt)
{
    flip_job *j = arg;
    enum { CHUNK = 32 };
    int S = j->f->cfg.image;
    size_t img = (size_t)3 * S * S;
    zs_vae_infer *inf = zs_vae_infer_create(&j->m->cfg, CHUNK);
    zs_vae_infer_load(inf, j->m->params);
    zs_feat_ctx *c = zs_feat_ctx_create(j->f, CHUNK);
    float *x = zs_alloc_aligned(sizeof(float) * img * CHUNK), *y = zs_alloc_aligned(sizeof(float) * img * CHUNK);
    float *mu = zs_xmalloc(sizeof(float) * (size_t)j->m->cfg.z * CHUNK);
    float lx[CHUNK * ZS_NATTR], ly[CHUNK * ZS_NATTR];
    memset(j->flips[tid], 0, sizeof j->flips[tid]);
    memset(j->pos[tid], 0, sizeof j->pos[tid]);
    memset(j->lost[tid], 0, sizeof j->lost[tid]);
    int nb = (j->n + CHUNK - 1) / CHUNK;
    for (int b = tid; b < nb; b += nt) {
        int lo = b * CHUNK, n = j->n - lo < CHUNK ? j->n - lo : CHUNK;
        for (int i = 0; i < n; i++) zs_face_to_chw(zs_cache_pixels(j->cache, j->idx[lo + i]), S, x + i * img, 0);
        zs_vae_encode(inf, x, n, mu, NULL);
        zs_vae_decode(inf, mu, n, y);
        zs_feat_forward(c, x, n, 0, lx);
        zs_feat_forward(c, y, n, 0, ly);
        for (int i = 0; i < n; i++) {
            int hit = 0;
            for (int a = 0; a < ZS_NATTR; a++) {
                float u = lx[i * ZS_NATTR + a], v = ly[i * ZS_NATTR + a];
                int changed = (u > 0) != (v > 0);
                j->flips[tid][a] += changed;
                j->pos[tid][a] += u > 0;
                j->lost[tid][a] += u > 0 && !(v > 0);
                hit |= changed && (j->any_mask >> a & 1);
            }
            j->any[tid] += hit;
        }
    }
    zs_free_aligned(x);
    zs_free_aligned(y);
    free(mu);
    zs_feat_ctx_destroy(c);
    zs_vae_infer_destroy(inf);
}

zs_status zs_feat_recon_flips(const zs_feat *f, const zs_vae *m, const zs_cache *cache, zs_data_split split,
                              int threads, double *flips, double *lost, uint64_t any_mask, double *any, int *count)
{
    if (zs_cache_size(cache) != f->cfg.image || m->cfg.image != f->cfg.image)
        return zs_errorf(ZS_ERR_ARG, "%s: faces of %d pixels, model %d, feature network %d", zs_cache_path(cache),
                         zs_cache_size(cache), m->cfg.image, f->cfg.image);
    int *idx = NULL, n = zs_cache_split_indices(cache, split, &idx);
    if (n <= 0) {
        free(idx);
        return zs_errorf(ZS_ERR_ARG, "%s: no faces in that split", zs_cache_path(cache));
    }
    int nt = threads > 0 ? threads : zs_cpu_count();
    long (*fl)[ZS_NATTR] = zs_xcalloc((size_t)nt, sizeof *fl), (*po)[ZS_NATTR] = zs_xcalloc((size_t)nt, sizeof *po);
    long (*lo)[ZS_NATTR] = zs_xcalloc((size_t)nt, sizeof *lo), *an = zs_xcalloc((size_t)nt, sizeof *an);
    flip_job j = {f, m, cache, idx, n, fl, po, lo, any_mask, an};
    zs_team *team = zs_team_create(nt);
    zs_team_run(team, flip_member, &j);
    zs_team_destroy(team);
    for (int k = 0; k < ZS_NATTR; k++) {
        long t = 0, p = 0, l = 0;
        for (int q = 0; q < nt; q++) {
            t += fl[q][k];
            p += po[q][k];
            l += lo[q][k];
        }
        flips[k] = (double)t / n;
        if (lost) lost[k] = p ? (double)l / p : -1;
    }
    if (any) {
        long t = 0;
        for (int q = 0; q < nt; q++) t += an[q];
        *any = (double)t / n;
    }
    if (count) *count = n;
    free(fl);
    free(po);
    free(lo);
    free(an);
    free(idx);
    return ZS_OK;
}

/* ---- files -------------------------------------------------------------------- */
static void config_format(const zs_feat_config *c, char *buf, size_t n)
{
    int k = snprintf(buf, n, "image=%d widths=", c->image);
    for (int i = 0; i < c->nblocks && k > 0 && (size_t)k < n; i++)
        k += snprintf(buf + k, n - (size_t)k, "%s%d", i ? "," : "", c->widths[i]);
}

static zs_status config_parse(const char *path, const char *s, zs_feat_config *c)
{
    zs_feat_config r = {0};
    char ws[128];
    if (!s || sscanf(s, "image=%d widths=%127s", &r.image, ws) != 2)
        return zs_errorf(ZS_ERR_FORMAT, "%s: feature network config '%.80s' is not 'image=N widths=A,B,...'", path,
                         s ? s : "(missing)");
    for (char *p = ws; *p;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || (*end && *end != ',') || r.nblocks >= ZS_FEAT_MAX_BLOCKS)
            return zs_errorf(ZS_ERR_FORMAT, "%s: feature network config '%.80s': bad widths", path, s);
        r.widths[r.nblocks++] = (int)v;
        p = *end ? end + 1 : end;
    }
    if (zs_feat_config_check(&r) != ZS_OK) return zs_errorf(ZS_ERR_FORMAT, "%s: %s", path, zs_last_error());
    *c = r;
    return ZS_OK;
}

zs_status zs_feat_save(const char *path, const zs_feat *f, long steps)
{
    zs_st_writer w;
    zs_st_writer_init(&w);
    for (int i = 0; i < f->table.n; i++) {
        const zs_tensor_info *ti = &f->table.t[i];
        int64_t shape[4];
        for (int k = 0; k < ti->ndim; k++) shape[k] = ti->shape[k];
        zs_st_add(&w, ti->name, ZS_DT_F32, ti->ndim, shape, f->params + ti->offset);
    }
    char buf[160];
    zs_st_add_meta(&w, "format", "zspace-features");
    zs_st_add_meta(&w, "version", "1");
    config_format(&f->cfg, buf, sizeof buf);
    zs_st_add_meta(&w, "feat_config", buf);
    snprintf(buf, sizeof buf, "%ld", steps);
    zs_st_add_meta(&w, "steps", buf);
    zs_status st = zs_st_write(&w, path);
    zs_st_writer_free(&w);
    return st;
}

zs_status zs_feat_load(const char *path, zs_feat **out)
{
    zs_st_file sf;
    zs_status st = zs_st_open(&sf, path);
    if (st != ZS_OK) return st;
    const char *fmt = zs_st_meta(&sf, "format"), *ver = zs_st_meta(&sf, "version");
    zs_feat_config cfg;
    if (!fmt || strcmp(fmt, "zspace-features") != 0)
        st = zs_errorf(ZS_ERR_FORMAT, "%s: not a zspace feature network (format is '%s'); make one with zspace train-features",
                       path, fmt ? fmt : "missing");
    else if (!ver || strcmp(ver, "1") != 0)
        st = zs_errorf(ZS_ERR_VERSION, "%s: version %s, this zspace reads version 1", path, ver ? ver : "missing");
    else
        st = config_parse(path, zs_st_meta(&sf, "feat_config"), &cfg);
    zs_feat *f = NULL;
    if (st == ZS_OK) {
        f = zs_feat_create(&cfg);
        for (int i = 0; i < f->table.n && st == ZS_OK; i++) {
            const zs_tensor_info *ti = &f->table.t[i];
            const zs_st_tensor *t = zs_st_find(&sf, ti->name);
            int ok = t && t->dtype == ZS_DT_F32 && t->ndim == ti->ndim && t->numel == ti->numel;
            for (int k = 0; ok && k < ti->ndim; k++) ok = t->shape[k] == ti->shape[k];
            if (!ok) st = zs_errorf(ZS_ERR_FORMAT, "%s: tensor '%s' is missing or not f32 of the config's shape", path, ti->name);
            else st = zs_st_read_f32(&sf, ti->name, f->params + ti->offset, ti->numel);
        }
    }
    zs_st_close(&sf);
    if (st != ZS_OK) {
        zs_feat_destroy(f);
        return st;
    }
    *out = f;
    return ZS_OK;
}
