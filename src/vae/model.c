/* The VAE: config, parameter table, training step and inference
 * (see zspace/vae.h).
 *
 * Graph (dfc64 numbers; general for nblocks / widths / Z):
 *   encoder  x (3,64,64) -> nblocks x [conv 4x4 s2 p1 -> BN -> LeakyReLU 0.2]
 *            -> flatten (256*4*4) -> fc_mu, fc_logvar (Z)
 *   sample   z = mu + exp(logvar / 2) * eps
 *   decoder  fc (Z -> 256*4*4) -> (nblocks-1) x [upconv 3x3 -> BN -> LeakyReLU]
 *            -> upconv 3x3 (-> 3 channels, bias) -> sigmoid
 * where upconv is nearest upsample x2 fused with the conv (zspace/nn.h).
 *
 * Threading: every activation buffer holds the whole batch; team member
 * `tid` works on images [lo, hi) of each (or on the chunks it takes, see
 * next_span), so the whole batch's mu, recon... are available afterwards.
 * Members meet only at batch-norm barriers and for the gradient reduction. Per-member scratch: one conv workspace (im2col
 * of a few images; backward recomputes it from the layer input) and a
 * gradient block (member 0 uses the context's own). */
#include "zspace/vae.h"
#include "zspace/features.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- config ------------------------------------------------------------- */
zs_vae_config zs_vae_config_default(void)
{
    zs_vae_config c = {.z = 128, .image = 64, .nblocks = 4, .widths = {32, 64, 128, 256}};
    return c;
}

zs_vae_config zs_vae_config_for_image(int image, int z)
{
    zs_vae_config c = zs_vae_config_default();
    c.z = z;
    if (image == 128) {
        c.image = 128;
        c.nblocks = 5;   /* one more block at the top, same 256x4x4 bottleneck */
        static const int w128[5] = {32, 32, 64, 128, 256};
        for (int i = 0; i < 5; i++) c.widths[i] = w128[i];
    }
    return c;
}

zs_status zs_vae_config_check(const zs_vae_config *c)
{
    if (c->z < 1 || c->z > 4096) return zs_errorf(ZS_ERR_ARG, "latent size z=%d is outside 1..4096", c->z);
    if (c->image != 64 && c->image != 128) return zs_errorf(ZS_ERR_ARG, "image size %d is not 64 or 128", c->image);
    if (c->nblocks < 2 || c->nblocks > ZS_VAE_MAX_BLOCKS || (c->image >> c->nblocks) != 4)
        return zs_errorf(ZS_ERR_ARG, "%d blocks do not take a %d-pixel image down to 4x4", c->nblocks, c->image);
    for (int i = 0; i < c->nblocks; i++)
        if (c->widths[i] < 1 || c->widths[i] > 1024)
            return zs_errorf(ZS_ERR_ARG, "channel width %d of block %d is outside 1..1024", c->widths[i], i);
    return ZS_OK;
}

void zs_vae_config_format(const zs_vae_config *c, char *buf, size_t n)
{
    int k = snprintf(buf, n, "z=%d image=%d widths=", c->z, c->image);
    for (int i = 0; i < c->nblocks && k > 0 && (size_t)k < n; i++)
        k += snprintf(buf + k, n - (size_t)k, "%s%d", i ? "," : "", c->widths[i]);
}

zs_status zs_vae_config_parse(const char *s, zs_vae_config *c)
{
    zs_vae_config r = {0};
    char ws[128];
    if (sscanf(s, "z=%d image=%d widths=%127s", &r.z, &r.image, ws) != 3)
        return zs_errorf(ZS_ERR_FORMAT, "model config '%.80s' is not 'z=N image=N widths=A,B,...'", s);
    char *p = ws;
    while (*p) {
        if (r.nblocks >= ZS_VAE_MAX_BLOCKS) return zs_errorf(ZS_ERR_FORMAT, "model config '%.80s': too many blocks", s);
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || (*end && *end != ',')) return zs_errorf(ZS_ERR_FORMAT, "model config '%.80s': bad widths", s);
        r.widths[r.nblocks++] = (int)v;
        p = *end ? end + 1 : end;
    }
    zs_status st = zs_vae_config_check(&r);
    if (st != ZS_OK) return st;
    *c = r;
    return ZS_OK;
}

int zs_vae_config_equal(const zs_vae_config *a, const zs_vae_config *b)
{
    if (a->z != b->z || a->image != b->image || a->nblocks != b->nblocks) return 0;
    for (int i = 0; i < a->nblocks; i++)
        if (a->widths[i] != b->widths[i]) return 0;
    return 1;
}

/* ---- model -------------------------------------------------------------- */
static int add(zs_param_table *pt, int trainable, int fan_in, float c0, const char *fmt, int i, int nd, int d0,
               int d1, int d2, int d3)
{
    char name[ZS_TENSOR_NAME];
    snprintf(name, sizeof name, fmt, i);
    switch (nd) {
    case 1: return zs_table_add(pt, name, trainable, fan_in, c0, 1, d0);
    case 2: return zs_table_add(pt, name, trainable, fan_in, c0, 2, d0, d1);
    default: return zs_table_add(pt, name, trainable, fan_in, c0, 4, d0, d1, d2, d3);
    }
}

/* Table order: all trainable tensors (encoder, decoder), then BN buffers.
 * Names match tools/torch_model.py's state_dict. */
static void build_table(zs_vae *m)
{
    const zs_vae_config *c = &m->cfg;
    zs_param_table *pt = &m->table;
    int nb = c->nblocks, top = c->widths[nb - 1], flat = top * 16;
    zs_table_init(pt);
    for (int i = 0; i < nb; i++) {
        int ic = i ? c->widths[i - 1] : 3, oc = c->widths[i];
        m->enc[i].conv_w = add(pt, 1, ic * 16, 0, "enc.conv%d.weight", i, 4, oc, ic, 4, 4);
        m->enc[i].conv_b = -1;
        m->enc[i].bn_g = add(pt, 1, 0, 1.0f, "enc.bn%d.weight", i, 1, oc, 0, 0, 0);
        m->enc[i].bn_b = add(pt, 1, 0, 0.0f, "enc.bn%d.bias", i, 1, oc, 0, 0, 0);
    }
    m->fc_mu_w = zs_table_add(pt, "enc.fc_mu.weight", 1, flat, 0, 2, c->z, flat);
    m->fc_mu_b = zs_table_add(pt, "enc.fc_mu.bias", 1, flat, 0, 1, c->z);
    m->fc_lv_w = zs_table_add(pt, "enc.fc_logvar.weight", 1, flat, 0, 2, c->z, flat);
    m->fc_lv_b = zs_table_add(pt, "enc.fc_logvar.bias", 1, flat, 0, 1, c->z);
    m->dfc_w = zs_table_add(pt, "dec.fc.weight", 1, c->z, 0, 2, flat, c->z);
    m->dfc_b = zs_table_add(pt, "dec.fc.bias", 1, c->z, 0, 1, flat);
    /* decoder block i maps widths[nb-1-i] -> widths[nb-2-i]; the last -> 3 */
    for (int i = 0; i < nb; i++) {
        int ic = c->widths[nb - 1 - i], oc = i == nb - 1 ? 3 : c->widths[nb - 2 - i];
        m->dec[i].conv_w = add(pt, 1, ic * 9, 0, "dec.conv%d.weight", i, 4, oc, ic, 3, 3);
        m->dec[i].conv_b = -1;
        if (i == nb - 1) {
            m->dec[i].conv_b = add(pt, 1, ic * 9, 0, "dec.conv%d.bias", i, 1, oc, 0, 0, 0);
            m->dec[i].bn_g = m->dec[i].bn_b = m->dec[i].bn_rm = m->dec[i].bn_rv = -1;
        } else {
            m->dec[i].bn_g = add(pt, 1, 0, 1.0f, "dec.bn%d.weight", i, 1, oc, 0, 0, 0);
            m->dec[i].bn_b = add(pt, 1, 0, 0.0f, "dec.bn%d.bias", i, 1, oc, 0, 0, 0);
        }
    }
    for (int i = 0; i < nb; i++) {
        m->enc[i].bn_rm = add(pt, 0, 0, 0.0f, "enc.bn%d.running_mean", i, 1, c->widths[i], 0, 0, 0);
        m->enc[i].bn_rv = add(pt, 0, 0, 1.0f, "enc.bn%d.running_var", i, 1, c->widths[i], 0, 0, 0);
    }
    for (int i = 0; i < nb - 1; i++) {
        int oc = c->widths[nb - 2 - i];
        m->dec[i].bn_rm = add(pt, 0, 0, 0.0f, "dec.bn%d.running_mean", i, 1, oc, 0, 0, 0);
        m->dec[i].bn_rv = add(pt, 0, 0, 1.0f, "dec.bn%d.running_var", i, 1, oc, 0, 0, 0);
    }
}

zs_vae *zs_vae_create(const zs_vae_config *cfg)
{
    ZS_ASSERT(zs_vae_config_check(cfg) == ZS_OK);
    zs_vae *m = zs_xcalloc(1, sizeof *m);
    m->cfg = *cfg;
    build_table(m);
    m->params = zs_alloc_aligned(sizeof(float) * m->table.total);
    zs_table_init_params(&m->table, m->params, 0);
    return m;
}

void zs_vae_destroy(zs_vae *m)
{
    if (!m) return;
    zs_free_aligned(m->params);
    zs_table_free(&m->table);
    free(m);
}

void zs_vae_init(zs_vae *m, uint64_t seed) { zs_table_init_params(&m->table, m->params, seed); }

size_t zs_vae_param_count(const zs_vae *m)
{
    size_t n = 0;
    for (int i = 0; i < m->table.n; i++)
        if (m->table.t[i].trainable) n += m->table.t[i].numel;
    return n;
}

/* ---- shapes shared by training and inference ------------------------------ */
typedef struct layer_dims {
    zs_conv_shape enc[ZS_VAE_MAX_BLOCKS];      /* .n set per use */
    zs_upconv_shape dec[ZS_VAE_MAX_BLOCKS];
    size_t enc_out[ZS_VAE_MAX_BLOCKS], dec_out[ZS_VAE_MAX_BLOCKS];   /* floats per image */
    int flat;
    size_t img;                                /* 3*S*S */
} layer_dims;

static void dims_init(const zs_vae_config *c, layer_dims *d)
{
    int nb = c->nblocks, s = c->image;
    for (int i = 0; i < nb; i++) {
        int ic = i ? c->widths[i - 1] : 3;
        d->enc[i] = (zs_conv_shape){1, ic, s, s, c->widths[i], 4, 4, 2, 1};
        s /= 2;
        d->enc_out[i] = (size_t)c->widths[i] * s * s;
    }
    d->flat = c->widths[nb - 1] * 16;
    s = 4;
    for (int i = 0; i < nb; i++) {
        int ic = c->widths[nb - 1 - i], oc = i == nb - 1 ? 3 : c->widths[nb - 2 - i];
        d->dec[i] = (zs_upconv_shape){1, ic, s, s, oc};
        s *= 2;
        d->dec_out[i] = (size_t)oc * s * s;
    }
    d->img = (size_t)3 * c->image * c->image;
}

/* ---- training context ----------------------------------------------------- */
#define BN_SLOT (2 * 1024)
#define MAX_PHASES (4 * ZS_VAE_MAX_BLOCKS)

/* Images [lo, lo + n) of the batch, part `part` of this step (see "the training step, in phases"). */
typedef struct span { int part, n; size_t lo; } span;
/* A backward chunk's weight gradient left for later: a conv's (enc) or upconv's ("deferred" below). */
typedef struct deferred { int enc, layer; span sp; } deferred;

/* Loss sums of one part of the batch (a member's slice, or a chunk). */
typedef struct part_acc {
    double rec, kl, feat;
    double *kl_dim;
} part_acc;

typedef struct member_ws {
    float *scratch;
    float *grad;                                 /* member 0: the context's */
    float mean_e[ZS_VAE_MAX_BLOCKS][1024], invstd_e[ZS_VAE_MAX_BLOCKS][1024];
    float mean_d[ZS_VAE_MAX_BLOCKS][1024], invstd_d[ZS_VAE_MAX_BLOCKS][1024];
    double gnorm2;
    double bsum[BN_SLOT];                        /* batch norm backward: the whole batch's sums */
    zs_feat_ctx *fx, *fr;                        /* feature loss: inputs' and reconstructions' activations */
    float *dr;                                   /* its gradient at the reconstructions */
} member_ws;

struct zs_vae_train {
    zs_vae *m;
    zs_train_desc d;
    layer_dims dims;
    int nt, slice;                               /* members, max images per member */
    int chunk, nslots;                           /* dynamic: images per chunk; parts allocated */
    int nparts;                                  /* this step: nt (static) or its chunk count */
    part_acc *acc;                               /* [nslots] */
    struct { int v; char pad[60]; } next[MAX_PHASES];   /* dynamic: next chunk of each phase */
    /* dynamic: weight gradients of backward chunks, left for whoever waits (see "deferred") */
    deferred *defer;                             /* [ndefer_max] */
    int ndefer_max, ndefer, ntaken;              /* under defer_mu */
    pthread_mutex_t defer_mu;
    zs_team *team;
    member_ws *ws;
    float *grad, *adam_m, *adam_v;
    float *weff[ZS_VAE_MAX_BLOCKS];              /* phase weights of decoder convs */
    /* whole-batch activations and their gradients */
    float *enc_pre[ZS_VAE_MAX_BLOCKS], *enc_act[ZS_VAE_MAX_BLOCKS];
    float *dec_pre[ZS_VAE_MAX_BLOCKS], *dec_act[ZS_VAE_MAX_BLOCKS];   /* dec_pre[nb-1]: logits */
    float *d_enc[ZS_VAE_MAX_BLOCKS], *d_dec[ZS_VAE_MAX_BLOCKS];
    float *mu, *logvar, *eps, *z, *h, *dmu, *dlogvar, *dz, *dh, *dflat, *dflat2;
    double *bn_fwd, *bn_bwd;                     /* [layer][part][2*1024] partials */
    double *kl_dim;
    long step;
    /* per-call arguments */
    const float *x;
    const float *eps_in;
    int batch;
    float beta;
    int do_adam;
    int skipped;
};

static double *bn_part(const zs_vae_train *t, double *base, int layer, int part)
{
    return base + ((size_t)layer * t->nslots + part) * BN_SLOT;
}

zs_vae_train *zs_vae_train_create(zs_vae *m, const zs_train_desc *desc)
{
    zs_vae_train *t = zs_xcalloc(1, sizeof *t);
    t->m = m;
    t->d = *desc;
    if (t->d.max_batch <= 0) t->d.max_batch = 64;
    if (t->d.threads <= 0) t->d.threads = zs_cpu_count();
    if (t->d.lr <= 0) t->d.lr = 5e-4f;
    if (t->d.beta <= 0 && !t->d.beta_zero) t->d.beta = 1.0f;
    const zs_vae_config *c = &m->cfg;
    int nb = c->nblocks, B = t->d.max_batch;
    for (int i = 0; i < nb; i++) ZS_ASSERT(c->widths[i] <= 1024);
    t->nt = t->d.threads > B ? B : t->d.threads;
    t->slice = (B + t->nt - 1) / t->nt;
    /* dynamic: two chunks per member, so a member that loses its core for
     * a while leaves half its share to the others (four per member gave
     * about the same img/s in the explorer's bench with 5-9% more CPU) */
    t->chunk = (B + 2 * t->nt - 1) / (2 * t->nt);
    if (t->chunk > t->slice) t->chunk = t->slice;
    t->nslots = t->d.dynamic ? (B + t->chunk - 1) / t->chunk : t->nt;
    if (t->nslots < t->nt) t->nslots = t->nt;
    dims_init(c, &t->dims);
    layer_dims *d = &t->dims;
    size_t ntrain = m->table.ntrain;
    t->grad = zs_alloc_aligned(sizeof(float) * ntrain);
    t->adam_m = zs_alloc_aligned(sizeof(float) * ntrain);
    t->adam_v = zs_alloc_aligned(sizeof(float) * ntrain);
    size_t scratch = 0;
    for (int i = 0; i < nb; i++) {
        zs_conv_shape cs = d->enc[i];
        cs.n = t->slice;
        if (zs_conv_scratch_size(&cs) > scratch) scratch = zs_conv_scratch_size(&cs);
        zs_upconv_shape us = d->dec[i];
        us.n = t->slice;
        if (zs_upconv_scratch_size(&us) > scratch) scratch = zs_upconv_scratch_size(&us);
        t->weff[i] = zs_alloc_aligned(sizeof(float) * zs_upconv_weff_size(&us));
        t->enc_pre[i] = zs_alloc_aligned(sizeof(float) * d->enc_out[i] * B);
        t->enc_act[i] = zs_alloc_aligned(sizeof(float) * d->enc_out[i] * B);
        t->d_enc[i] = zs_alloc_aligned(sizeof(float) * d->enc_out[i] * B);
        t->dec_pre[i] = zs_alloc_aligned(sizeof(float) * d->dec_out[i] * B);
        t->dec_act[i] = zs_alloc_aligned(sizeof(float) * d->dec_out[i] * B);
        t->d_dec[i] = zs_alloc_aligned(sizeof(float) * d->dec_out[i] * B);
    }
    t->ws = zs_xcalloc((size_t)t->nt, sizeof *t->ws);
    for (int k = 0; k < t->nt; k++) {
        member_ws *w = &t->ws[k];
        w->scratch = zs_alloc_aligned(sizeof(float) * scratch);
        w->grad = k == 0 ? t->grad : zs_alloc_aligned(sizeof(float) * ntrain);
        if (desc->features) {
            ZS_ASSERT(desc->features->cfg.image == c->image && desc->feat_layers);
            w->fx = zs_feat_ctx_create(desc->features, t->slice);
            w->fr = zs_feat_ctx_create(desc->features, t->slice);
            w->dr = zs_alloc_aligned(sizeof(float) * d->img * t->slice);
        }
    }
    if (t->d.features && !(t->d.feat_weight > 0)) t->d.feat_weight = 1.0f;
    size_t zb = (size_t)c->z * B, fb = (size_t)d->flat * B;
    t->mu = zs_alloc_aligned(sizeof(float) * zb);
    t->logvar = zs_alloc_aligned(sizeof(float) * zb);
    t->eps = zs_alloc_aligned(sizeof(float) * zb);
    t->z = zs_alloc_aligned(sizeof(float) * zb);
    t->dmu = zs_alloc_aligned(sizeof(float) * zb);
    t->dlogvar = zs_alloc_aligned(sizeof(float) * zb);
    t->dz = zs_alloc_aligned(sizeof(float) * zb);
    t->h = zs_alloc_aligned(sizeof(float) * fb);
    t->dh = zs_alloc_aligned(sizeof(float) * fb);
    t->dflat = zs_alloc_aligned(sizeof(float) * fb);
    t->dflat2 = zs_alloc_aligned(sizeof(float) * fb);
    t->bn_fwd = zs_alloc_aligned(sizeof(double) * (size_t)2 * ZS_VAE_MAX_BLOCKS * t->nslots * BN_SLOT);
    t->bn_bwd = zs_alloc_aligned(sizeof(double) * (size_t)2 * ZS_VAE_MAX_BLOCKS * t->nslots * BN_SLOT);
    t->acc = zs_xcalloc((size_t)t->nslots, sizeof *t->acc);
    t->ndefer_max = t->nslots * 2 * ZS_VAE_MAX_BLOCKS;
    t->defer = zs_xcalloc((size_t)t->ndefer_max, sizeof(deferred));
    pthread_mutex_init(&t->defer_mu, NULL);
    for (int k = 0; k < t->nslots; k++) t->acc[k].kl_dim = zs_xcalloc((size_t)c->z, sizeof(double));
    t->kl_dim = zs_xcalloc((size_t)c->z, sizeof(double));
    t->team = zs_team_create(t->nt);
    return t;
}

void zs_vae_train_destroy(zs_vae_train *t)
{
    if (!t) return;
    zs_team_destroy(t->team);
    free(t->defer);
    pthread_mutex_destroy(&t->defer_mu);
    int nb = t->m->cfg.nblocks;
    for (int k = 0; k < t->nt; k++) {
        member_ws *w = &t->ws[k];
        zs_free_aligned(w->scratch);
        if (k) zs_free_aligned(w->grad);
        zs_feat_ctx_destroy(w->fx);
        zs_feat_ctx_destroy(w->fr);
        zs_free_aligned(w->dr);
    }
    free(t->ws);
    for (int k = 0; k < t->nslots; k++) free(t->acc[k].kl_dim);
    free(t->acc);
    for (int i = 0; i < nb; i++) {
        zs_free_aligned(t->weff[i]);
        zs_free_aligned(t->enc_pre[i]);
        zs_free_aligned(t->enc_act[i]);
        zs_free_aligned(t->d_enc[i]);
        zs_free_aligned(t->dec_pre[i]);
        zs_free_aligned(t->dec_act[i]);
        zs_free_aligned(t->d_dec[i]);
    }
    float *bufs[] = {t->grad, t->adam_m, t->adam_v, t->mu, t->logvar, t->eps, t->z, t->dmu,
                     t->dlogvar, t->dz, t->h, t->dh, t->dflat, t->dflat2};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) zs_free_aligned(bufs[i]);
    zs_free_aligned(t->bn_fwd);
    zs_free_aligned(t->bn_bwd);
    free(t->kl_dim);
    free(t);
}

void zs_vae_train_set_lr(zs_vae_train *t, float lr) { t->d.lr = lr; }
void zs_vae_train_set_beta(zs_vae_train *t, float beta) { t->d.beta = beta; }

static void nice_member(void *arg, int tid, int nt)
{
    (void)tid, (void)nt;
    zs_thread_set_nice(*(const int *)arg);
}

void zs_vae_train_set_nice(zs_vae_train *t, int nice) { zs_team_run(t->team, nice_member, &nice); }
float zs_vae_train_lr(const zs_vae_train *t) { return t->d.lr; }
int zs_vae_train_threads(const zs_vae_train *t) { return t->nt; }
int zs_vae_train_dynamic(const zs_vae_train *t) { return t->d.dynamic; }
long zs_vae_train_steps(const zs_vae_train *t) { return t->step; }
void zs_vae_train_set_steps(zs_vae_train *t, long steps) { t->step = steps; }
float *zs_vae_train_grads(zs_vae_train *t) { return t->grad; }
float *zs_vae_train_adam_m(zs_vae_train *t) { return t->adam_m; }
float *zs_vae_train_adam_v(zs_vae_train *t) { return t->adam_v; }
const float *zs_vae_train_mu(const zs_vae_train *t) { return t->mu; }
const float *zs_vae_train_logvar(const zs_vae_train *t) { return t->logvar; }
const float *zs_vae_train_z(const zs_vae_train *t) { return t->z; }
const float *zs_vae_train_recon(const zs_vae_train *t) { return t->dec_act[t->m->cfg.nblocks - 1]; }
const double *zs_vae_train_kl_dim(const zs_vae_train *t) { return t->kl_dim; }

/* ---- the training step, in phases ------------------------------------------
 * A phase is the work between two batch-norm barriers. Each member works on
 * spans of the batch: statically its own contiguous slice (part = member),
 * or dynamically (zs_train_desc.dynamic) chunks taken from a shared counter
 * until none are left (part = chunk), so a member that loses its core to
 * another program does not hold the others at the next barrier. Batch-norm
 * partials and loss sums are kept per part and summed in part order (span,
 * above). */

static int next_span(zs_vae_train *t, int tid, int phase, int it, span *sp)
{
    if (!t->d.dynamic) {
        if (it) return 0;
        size_t lo, hi;
        zs_split((size_t)t->batch, tid, t->nt, &lo, &hi);
        *sp = (span){tid, (int)(hi - lo), lo};
        return 1;
    }
    int k = __atomic_fetch_add(&t->next[phase].v, 1, __ATOMIC_RELAXED);
    if (k >= t->nparts) return 0;
    size_t lo = (size_t)k * t->chunk;
    int n = t->batch - (int)lo < t->chunk ? t->batch - (int)lo : t->chunk;
    *sp = (span){k, n, lo};
    return 1;
}

#define FOR_SPANS(phase) for (int it_ = 0; next_span(t, tid, (phase), it_, &sp); it_++)

/* One batch-norm layer of the step: encoder block i (id i) or decoder block
 * i (id ZS_VAE_MAX_BLOCKS + i), with its whole-batch buffers and this
 * member's copy of the batch's mean and inverse std. */
typedef struct bn_layer {
    int id, c, hw;
    size_t per_img;                  /* floats per image */
    const zs_vae_block_ix *ix;
    float *pre, *act, *grad;         /* grad: d(act), turned into d(pre) in place */
    float *mean, *invstd;
} bn_layer;

static bn_layer enc_bn(zs_vae_train *t, member_ws *w, int i)
{
    const layer_dims *d = &t->dims;
    return (bn_layer){i,           d->enc[i].oc, (int)(d->enc_out[i] / d->enc[i].oc), d->enc_out[i], &t->m->enc[i],
                      t->enc_pre[i], t->enc_act[i], t->d_enc[i], w->mean_e[i], w->invstd_e[i]};
}

static bn_layer dec_bn(zs_vae_train *t, member_ws *w, int i)
{
    const layer_dims *d = &t->dims;
    return (bn_layer){ZS_VAE_MAX_BLOCKS + i, d->dec[i].oc, (int)(d->dec_out[i] / d->dec[i].oc), d->dec_out[i],
                      &t->m->dec[i], t->dec_pre[i], t->dec_act[i], t->d_dec[i], w->mean_d[i], w->invstd_d[i]};
}

static zs_bn_shape bn_shape(const bn_layer *L, const span *sp) { return (zs_bn_shape){sp->n, L->c, L->hw}; }

static void bn_stats(zs_vae_train *t, const bn_layer *L, const span *sp)
{
    zs_bn_shape s = bn_shape(L, sp);
    zs_bn_partial_stats(&s, L->pre + sp->lo * L->per_img, bn_part(t, t->bn_fwd, L->id, sp->part));
}

/* After the barrier: the whole batch's mean and inverse std (each member
 * computes its own copy; member 0 updates the running stats). */
static void bn_fwd_sync(zs_vae_train *t, int tid, const bn_layer *L)
{
    float *P = t->m->params;
    zs_team_barrier(t->team);
    zs_bn_combine(L->c, bn_part(t, t->bn_fwd, L->id, 0), t->nparts, BN_SLOT, (double)t->batch * L->hw, L->mean,
                  L->invstd, tid == 0 ? zs_vae_t(t->m, P, L->ix->bn_rm) : NULL,
                  tid == 0 ? zs_vae_t(t->m, P, L->ix->bn_rv) : NULL);
}

/* normalise the span, LeakyReLU, into act; returns the span's activations */
static const float *bn_fwd_apply(zs_vae_train *t, const bn_layer *L, const span *sp)
{
    float *P = t->m->params, *act = L->act + sp->lo * L->per_img;
    zs_bn_shape s = bn_shape(L, sp);
    zs_bn_forward_apply(&s, L->pre + sp->lo * L->per_img, L->mean, L->invstd, zs_vae_t(t->m, P, L->ix->bn_g),
                        zs_vae_t(t->m, P, L->ix->bn_b), 1, act);
    return act;
}

static void bn_bwd_partial(zs_vae_train *t, const bn_layer *L, const span *sp)
{
    float *P = t->m->params, *dy = L->grad + sp->lo * L->per_img;
    zs_bn_shape s = bn_shape(L, sp);
    zs_bn_backward_partial(&s, L->pre + sp->lo * L->per_img, L->mean, L->invstd, zs_vae_t(t->m, P, L->ix->bn_g),
                           zs_vae_t(t->m, P, L->ix->bn_b), 1, dy, dy, bn_part(t, t->bn_bwd, L->id, sp->part));
}

/* ---- deferred weight gradients (dynamic only) --------------------------------
 * A backward chunk's weight gradient is needed only at the end of the step,
 * when the members' gradients are summed; its input gradient is what the
 * next phase waits for. So with chunks a backward phase computes dx only
 * and queues the chunk's dW, and a member that reaches a barrier before the
 * others (one of them lost its core for a while) works through the queue
 * instead of sleeping; what is left is shared out before the reduction.
 * dW goes into the grad buffer of the member that computes it. */

/* Encoder conv i's backward for a span, from the gradient bn_bwd_apply left
 * in its block: dx into block i-1's gradient (want_dx; the first layer has
 * none), dW into `grad` (a member's gradient buffer; NULL: not now). */
static void enc_conv_back(zs_vae_train *t, member_ws *w, int i, const span *sp, int want_dx, float *grad)
{
    zs_vae *m = t->m;
    const layer_dims *d = &t->dims;
    bn_layer L = enc_bn(t, w, i), Ln = i ? enc_bn(t, w, i - 1) : L;
    float *dx = want_dx && i ? Ln.grad + sp->lo * Ln.per_img : NULL;
    float *dw = grad ? grad + m->table.t[m->enc[i].conv_w].offset : NULL;
    if (!sp->n || (!dx && !dw)) return;
    zs_conv_shape cs = d->enc[i];
    cs.n = sp->n;
    const float *x = i ? Ln.act + sp->lo * Ln.per_img : t->x + sp->lo * d->img;
    zs_conv2d_backward(&cs, x, zs_vae_t(m, m->params, m->enc[i].conv_w), L.grad + sp->lo * L.per_img, dx, dw, NULL,
                       w->scratch);
}

/* Decoder upconv i's backward for a span (i < nblocks - 1), the same way:
 * dx into block i-1's gradient or, for block 0, into dh. */
static void dec_conv_back(zs_vae_train *t, member_ws *w, int i, const span *sp, int want_dx, float *grad)
{
    zs_vae *m = t->m;
    const layer_dims *d = &t->dims;
    bn_layer L = dec_bn(t, w, i), Ln = i ? dec_bn(t, w, i - 1) : L;
    float *dx = !want_dx ? NULL : i ? Ln.grad + sp->lo * Ln.per_img : t->dh + sp->lo * d->flat;
    float *dw = grad ? grad + m->table.t[m->dec[i].conv_w].offset : NULL;
    float *db = grad && m->dec[i].conv_b >= 0 ? grad + m->table.t[m->dec[i].conv_b].offset : NULL;
    if (!sp->n || (!dx && !dw)) return;
    zs_upconv_shape us = d->dec[i];
    us.n = sp->n;
    const float *x = i ? Ln.act + sp->lo * Ln.per_img : t->h + sp->lo * d->flat;
    zs_upconv_backward(&us, x, t->weff[i], L.grad + sp->lo * L.per_img, dx, dw, db, w->scratch);
}

static void defer_push(zs_vae_train *t, int enc, int layer, const span *sp)
{
    if (!sp->n) return;
    pthread_mutex_lock(&t->defer_mu);
    ZS_ASSERT(t->ndefer < t->ndefer_max);
    t->defer[t->ndefer++] = (deferred){enc, layer, *sp};
    pthread_mutex_unlock(&t->defer_mu);
}

/* Take one queued dW and compute it into this member's gradients; 0 when the queue is empty. */
static int defer_run_one(zs_vae_train *t, member_ws *w)
{
    pthread_mutex_lock(&t->defer_mu);
    int have = t->ntaken < t->ndefer;
    deferred k = have ? t->defer[t->ntaken++] : (deferred){0};
    pthread_mutex_unlock(&t->defer_mu);
    if (!have) return 0;
    if (k.enc) enc_conv_back(t, w, k.layer, &k.sp, 0, w->grad);
    else dec_conv_back(t, w, k.layer, &k.sp, 0, w->grad);
    return 1;
}

/* The barrier after a backward phase: with chunks, queued dW until the others are there. */
static void bwd_barrier(zs_vae_train *t, member_ws *w)
{
    if (!t->d.dynamic) {
        zs_team_barrier(t->team);
        return;
    }
    unsigned ticket = zs_team_arrive(t->team);
    while (!zs_team_passed(t->team, ticket) && defer_run_one(t, w)) {}
    zs_team_wait(t->team, ticket);
}

/* After the barrier: the whole batch's backward sums into w->bsum, and
 * (member 0) the gradients of gamma and beta. */
static void bn_bwd_sync(zs_vae_train *t, int tid, const bn_layer *L, member_ws *w, float *grad)
{
    bwd_barrier(t, w);
    for (int j = 0; j < 2 * L->c; j++) {
        w->bsum[j] = 0;
        for (int k = 0; k < t->nparts; k++) w->bsum[j] += bn_part(t, t->bn_bwd, L->id, k)[j];
    }
    if (tid == 0) {
        float *gg = grad + t->m->table.t[L->ix->bn_g].offset, *gb = grad + t->m->table.t[L->ix->bn_b].offset;
        for (int j = 0; j < L->c; j++) {
            gb[j] += (float)w->bsum[j];
            gg[j] += (float)w->bsum[L->c + j];
        }
    }
}

/* the span's d(pre) from its d(act); returns it */
static float *bn_bwd_apply(zs_vae_train *t, const member_ws *w, const bn_layer *L, const span *sp)
{
    float *dy = L->grad + sp->lo * L->per_img;
    zs_bn_shape s = bn_shape(L, sp);
    zs_bn_backward_apply(&s, L->pre + sp->lo * L->per_img, L->mean, L->invstd,
                         zs_vae_t(t->m, t->m->params, L->ix->bn_g), dy, w->bsum, (double)t->batch * L->hw, dy);
    return dy;
}

static void train_member(void *arg, int tid, int nt)
{
    zs_vae_train *t = arg;
    zs_vae *m = t->m;
    const zs_vae_config *c = &m->cfg;
    layer_dims *d = &t->dims;
    member_ws *w = &t->ws[tid];
    float *P = m->params, *G = w->grad;
    int nb = c->nblocks, Z = c->z, ph = 0;
    float scale = 1.0f / (float)t->batch;
    span sp;
#define GRAD(ix) (G + m->table.t[(ix)].offset)
#define PAR(ix) zs_vae_t(m, P, (ix))

    memset(G, 0, sizeof(float) * m->table.ntrain);
    w->gnorm2 = 0;

    /* ---- forward: encoder; phase i ends with block i's statistics ---- */
    for (int i = 0; i < nb; i++, ph++) {
        bn_layer L = enc_bn(t, w, i), Lp = i ? enc_bn(t, w, i - 1) : L;
        FOR_SPANS(ph) {
            const float *in = i ? bn_fwd_apply(t, &Lp, &sp) : t->x + sp.lo * d->img;
            zs_conv_shape cs = d->enc[i];
            cs.n = sp.n;
            if (sp.n) zs_conv2d_forward(&cs, in, PAR(m->enc[i].conv_w), NULL, L.pre + sp.lo * L.per_img, w->scratch);
            bn_stats(t, &L, &sp);
        }
        bn_fwd_sync(t, tid, &L);
    }

    /* ---- the heads, sampling, and the decoder; phase nb + i ends with
     * decoder block i's statistics, the last with the loss and the output
     * layer's backward ---- */
    for (int i = 0; i < nb; i++, ph++) {
        bn_layer Lp = i ? dec_bn(t, w, i - 1) : enc_bn(t, w, nb - 1), Lo = dec_bn(t, w, i < nb - 1 ? i : nb - 2);
        FOR_SPANS(ph) {
            size_t lo = sp.lo;
            int n = sp.n;
            const float *in = bn_fwd_apply(t, &Lp, &sp);
            if (i == 0) {
                float *mu = t->mu + lo * Z, *lv = t->logvar + lo * Z, *eps = t->eps + lo * Z, *z = t->z + lo * Z;
                zs_dense_forward(n, d->flat, Z, in, PAR(m->fc_mu_w), PAR(m->fc_mu_b), mu);
                zs_dense_forward(n, d->flat, Z, in, PAR(m->fc_lv_w), PAR(m->fc_lv_b), lv);
                if (t->eps_in) memcpy(eps, t->eps_in + lo * Z, sizeof(float) * (size_t)n * Z);
                else
                    zs_reparam_noise(zs_hash64(t->d.seed ^ 0x6570735F6E6F6973ull) ^ zs_hash64((uint64_t)t->step), (int)lo,
                                     n, Z, eps);
                zs_reparam_forward(n, Z, mu, lv, eps, z);
                float *h = t->h + lo * d->flat;
                zs_dense_forward(n, Z, d->flat, z, PAR(m->dfc_w), PAR(m->dfc_b), h);
                in = h;
            }
            zs_upconv_shape us = d->dec[i];
            us.n = n;
            float *pre = t->dec_pre[i] + lo * d->dec_out[i], *act = t->dec_act[i] + lo * d->dec_out[i];
            const float *bias = m->dec[i].conv_b >= 0 ? PAR(m->dec[i].conv_b) : NULL;
            if (n) zs_upconv_forward(&us, in, t->weff[i], bias, pre, w->scratch);
            if (i < nb - 1) {
                bn_stats(t, &Lo, &sp);
                continue;
            }
            /* output layer: sigmoid, losses, and its backward */
            zs_sigmoid_forward((size_t)n * d->img, pre, act);
            part_acc *acc = &t->acc[sp.part];
            float *dlogits = t->d_dec[nb - 1] + lo * d->img;
            if (t->d.no_pixel_loss) memset(dlogits, 0, sizeof(float) * (size_t)n * d->img);
            else
                acc->rec = zs_recon_loss(t->d.loss, n, (int)d->img, pre, act, t->x + lo * d->img, scale, dlogits, NULL);
            if (t->d.features && n) {
                /* through the frozen feature network to the reconstruction,
                 * then through the sigmoid: dlogit = dr * y (1 - y) */
                acc->feat = zs_feat_loss(w->fx, w->fr, t->x + lo * d->img, act, n, t->d.feat_layers,
                                         t->d.feat_weight * scale, w->dr);
                acc->rec += t->d.feat_weight * acc->feat;
                for (size_t k = 0; k < (size_t)n * d->img; k++) dlogits[k] += w->dr[k] * act[k] * (1.0f - act[k]);
            }
            acc->kl = zs_kl_loss(n, Z, t->mu + lo * Z, t->logvar + lo * Z, t->beta, scale, t->dmu + lo * Z,
                                 t->dlogvar + lo * Z, acc->kl_dim);
            if (n)
                zs_upconv_backward(&us, in, t->weff[i], dlogits, Lo.grad + lo * Lo.per_img, GRAD(m->dec[i].conv_w),
                                   m->dec[i].conv_b >= 0 ? GRAD(m->dec[i].conv_b) : NULL, w->scratch);
            bn_bwd_partial(t, &Lo, &sp);
        }
        if (i < nb - 1) bn_fwd_sync(t, tid, &Lo);
        else bn_bwd_sync(t, tid, &Lo, w, G);
    }

    /* ---- backward: decoder blocks nb-2 .. 0, then the heads ---- */
    for (int i = nb - 2; i >= 0; i--, ph++) {
        bn_layer L = dec_bn(t, w, i), Ln = i ? dec_bn(t, w, i - 1) : enc_bn(t, w, nb - 1);
        FOR_SPANS(ph) {
            size_t lo = sp.lo;
            int n = sp.n;
            bn_bwd_apply(t, w, &L, &sp);
            dec_conv_back(t, w, i, &sp, 1, t->d.dynamic ? NULL : G);   /* with chunks: dW deferred */
            if (t->d.dynamic) defer_push(t, 0, i, &sp);
            float *dx = i ? Ln.grad + lo * Ln.per_img : t->dh + lo * d->flat;
            if (i == 0) {
                float *z = t->z + lo * Z, *dz = t->dz + lo * Z, *dmu = t->dmu + lo * Z, *dlv = t->dlogvar + lo * Z;
                if (n) zs_dense_backward(n, Z, d->flat, z, PAR(m->dfc_w), dx, dz, GRAD(m->dfc_w), GRAD(m->dfc_b));
                zs_reparam_backward(n, Z, t->logvar + lo * Z, t->eps + lo * Z, dz, dmu, dlv);
                const float *flat_in = Ln.act + lo * Ln.per_img;
                float *df = Ln.grad + lo * Ln.per_img, *df2 = t->dflat2 + lo * d->flat;
                if (n) {
                    zs_dense_backward(n, d->flat, Z, flat_in, PAR(m->fc_mu_w), dmu, df, GRAD(m->fc_mu_w), GRAD(m->fc_mu_b));
                    zs_dense_backward(n, d->flat, Z, flat_in, PAR(m->fc_lv_w), dlv, df2, GRAD(m->fc_lv_w), GRAD(m->fc_lv_b));
                    for (size_t k = 0; k < (size_t)n * d->flat; k++) df[k] += df2[k];
                }
            }
            bn_bwd_partial(t, &Ln, &sp);
        }
        bn_bwd_sync(t, tid, &Ln, w, G);
    }

    /* ---- backward: encoder ---- */
    for (int i = nb - 1; i >= 0; i--, ph++) {
        bn_layer L = enc_bn(t, w, i), Ln = i ? enc_bn(t, w, i - 1) : L;
        FOR_SPANS(ph) {
            bn_bwd_apply(t, w, &L, &sp);
            enc_conv_back(t, w, i, &sp, 1, t->d.dynamic ? NULL : G);   /* with chunks: dW deferred */
            if (t->d.dynamic) defer_push(t, 1, i, &sp);
            if (i) bn_bwd_partial(t, &Ln, &sp);
        }
        if (i) bn_bwd_sync(t, tid, &Ln, w, G);
    }
    ZS_ASSERT(ph <= MAX_PHASES);

    /* ---- reduce gradients: member k sums chunk k of every member's block ---- */
    while (t->d.dynamic && defer_run_one(t, w)) {}
    zs_team_barrier(t->team);
    size_t glo, ghi;
    zs_split(m->table.ntrain, tid, nt, &glo, &ghi);
    double g2 = 0;
    for (size_t k = glo; k < ghi; k++) {
        float s = t->grad[k];
        for (int o = 1; o < nt; o++) s += t->ws[o].grad[k];
        t->grad[k] = s;
        g2 += (double)s * s;
    }
    w->gnorm2 = g2;
    if (!t->do_adam) return;
    zs_team_barrier(t->team);
    /* every member sees the same totals, so all agree on skipping */
    double loss = 0, gn = 0;
    for (int k = 0; k < t->nparts; k++) loss += t->acc[k].rec + t->beta * t->acc[k].kl;
    for (int o = 0; o < nt; o++) gn += t->ws[o].gnorm2;
    if (!isfinite(loss) || !isfinite(gn)) {
        if (tid == 0) t->skipped = 1;
        return;
    }
    zs_adam_desc ad = {.lr = t->d.lr, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f};
    zs_adam_update(&ad, t->step + 1, glo, ghi, P, t->grad, t->adam_m, t->adam_v);
#undef GRAD
#undef PAR
}

static void run_step(zs_vae_train *t, const float *x, int batch, const float *eps, int do_adam, zs_step_stats *out)
{
    ZS_ASSERT(batch >= 1 && batch <= t->d.max_batch);
    zs_vae *m = t->m;
    t->x = x;
    t->batch = batch;
    t->eps_in = eps;
    t->beta = t->d.beta;
    t->do_adam = do_adam;
    t->skipped = 0;
    t->nparts = t->d.dynamic ? (batch + t->chunk - 1) / t->chunk : t->nt;
    for (int k = 0; k < t->nparts; k++) {
        part_acc *a = &t->acc[k];
        a->rec = a->kl = a->feat = 0;
        memset(a->kl_dim, 0, sizeof(double) * (size_t)m->cfg.z);
    }
    for (int i = 0; i < MAX_PHASES; i++) t->next[i].v = 0;
    t->ndefer = t->ntaken = 0;
    for (int i = 0; i < m->cfg.nblocks; i++) {
        zs_upconv_shape us = t->dims.dec[i];
        zs_upconv_phase_weights(&us, zs_vae_t(m, m->params, m->dec[i].conv_w), t->weff[i]);
    }
    /* A batch smaller than the team leaves members without images; they still
     * meet every barrier with empty slices. */
    zs_team_run(t->team, train_member, t);
    double rec = 0, kl = 0, g2 = 0, feat = 0;
    memset(t->kl_dim, 0, sizeof(double) * (size_t)m->cfg.z);
    for (int k = 0; k < t->nparts; k++) {
        rec += t->acc[k].rec;
        feat += t->acc[k].feat;
        kl += t->acc[k].kl;
        for (int j = 0; j < m->cfg.z; j++) t->kl_dim[j] += t->acc[k].kl_dim[j];
    }
    for (int k = 0; k < t->nt; k++) g2 += t->ws[k].gnorm2;
    zs_step_stats st = {.rec = rec / batch, .kl = kl / batch, .feat = feat / batch, .batch = batch, .grad_norm = sqrt(g2)};
    st.loss = st.rec + t->beta * st.kl;
    if (do_adam) {
        if (!isfinite(st.loss) || !isfinite(st.grad_norm)) t->skipped = 1;
        st.skipped = t->skipped;
        if (!t->skipped) t->step++;
    }
    if (out) *out = st;
}

void zs_vae_train_forward_backward(zs_vae_train *t, const float *x, int batch, const float *eps, zs_step_stats *out)
{
    run_step(t, x, batch, eps, 0, out);
}

zs_status zs_vae_train_step(zs_vae_train *t, const float *x, int batch, const float *eps, zs_step_stats *out)
{
    zs_step_stats st;
    run_step(t, x, batch, eps, 1, &st);
    if (out) *out = st;
    if (st.skipped)
        return zs_errorf(ZS_ERR_NUMERIC, "training step %ld: loss %g, gradient norm %g: not finite, weights not updated",
                         t->step + 1, st.loss, st.grad_norm);
    return ZS_OK;
}

static void adam_member(void *arg, int tid, int nt)
{
    zs_vae_train *t = arg;
    size_t lo, hi;
    zs_split(t->m->table.ntrain, tid, nt, &lo, &hi);
    zs_adam_desc ad = {.lr = t->d.lr, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f};
    zs_adam_update(&ad, t->step + 1, lo, hi, t->m->params, t->grad, t->adam_m, t->adam_v);
}

void zs_vae_train_adam(zs_vae_train *t)
{
    zs_team_run(t->team, adam_member, t);
    t->step++;
}

/* ---- inference ------------------------------------------------------------ */
struct zs_vae_infer {
    zs_vae *m;                    /* table and folded weights live here */
    layer_dims dims;
    int max_batch;
    float *enc_w[ZS_VAE_MAX_BLOCKS], *enc_b[ZS_VAE_MAX_BLOCKS];
    float *dec_wpack[ZS_VAE_MAX_BLOCKS], *dec_b[ZS_VAE_MAX_BLOCKS];   /* zs_upconv_pack_weights */
    float *act_a, *act_b, *scratch, *folded, *weff;
};

zs_vae_infer *zs_vae_infer_create(const zs_vae_config *cfg, int max_batch)
{
    zs_vae_infer *inf = zs_xcalloc(1, sizeof *inf);
    inf->m = zs_vae_create(cfg);
    inf->max_batch = max_batch > 0 ? max_batch : 1;
    dims_init(cfg, &inf->dims);
    layer_dims *d = &inf->dims;
    int nb = cfg->nblocks, B = inf->max_batch;
    size_t act = d->img, scratch = 0, wmax = 0, weff = 0;
    for (int i = 0; i < nb; i++) {
        zs_conv_shape cs = d->enc[i];
        cs.n = B;
        zs_upconv_shape us = d->dec[i];
        us.n = B;
        if (d->enc_out[i] > act) act = d->enc_out[i];
        if (d->dec_out[i] > act) act = d->dec_out[i];
        if (zs_conv_scratch_size(&cs) > scratch) scratch = zs_conv_scratch_size(&cs);
        if (zs_upconv_scratch_size(&us) > scratch) scratch = zs_upconv_scratch_size(&us);
        size_t ws = (size_t)cs.oc * cs.c * 16;
        if (ws > wmax) wmax = ws;
        inf->enc_w[i] = zs_alloc_aligned(sizeof(float) * ws);
        inf->enc_b[i] = zs_alloc_aligned(sizeof(float) * (size_t)cs.oc);
        inf->dec_wpack[i] = zs_alloc_aligned(sizeof(float) * zs_upconv_packed_size(&us));
        if (zs_upconv_weff_size(&us) > weff) weff = zs_upconv_weff_size(&us);
        inf->dec_b[i] = zs_alloc_aligned(sizeof(float) * (size_t)us.oc);
        if ((size_t)us.oc * us.c * 9 > wmax) wmax = (size_t)us.oc * us.c * 9;
    }
    inf->act_a = zs_alloc_aligned(sizeof(float) * act * B);
    inf->act_b = zs_alloc_aligned(sizeof(float) * act * B);
    inf->scratch = zs_alloc_aligned(sizeof(float) * scratch);
    inf->folded = zs_alloc_aligned(sizeof(float) * wmax);
    inf->weff = zs_alloc_aligned(sizeof(float) * weff);
    return inf;
}

void zs_vae_infer_destroy(zs_vae_infer *inf)
{
    if (!inf) return;
    for (int i = 0; i < inf->m->cfg.nblocks; i++) {
        zs_free_aligned(inf->enc_w[i]);
        zs_free_aligned(inf->enc_b[i]);
        zs_free_aligned(inf->dec_wpack[i]);
        zs_free_aligned(inf->dec_b[i]);
    }
    zs_free_aligned(inf->act_a);
    zs_free_aligned(inf->act_b);
    zs_free_aligned(inf->scratch);
    zs_free_aligned(inf->folded);
    zs_free_aligned(inf->weff);
    zs_vae_destroy(inf->m);
    free(inf);
}

const zs_vae_config *zs_vae_infer_config(const zs_vae_infer *inf) { return &inf->m->cfg; }

/* Fold eval-mode batch norm into the preceding conv: w' = w * g / sqrt(rv + eps),
 * b' = beta - rm * g / sqrt(rv + eps). */
static void fold_bn(const zs_vae *m, const zs_vae_block_ix *ix, int oc, size_t per_oc, const float *w, float *wout,
                    float *bout)
{
    const float *g = zs_vae_t(m, m->params, ix->bn_g), *b = zs_vae_t(m, m->params, ix->bn_b);
    const float *rm = zs_vae_t(m, m->params, ix->bn_rm), *rv = zs_vae_t(m, m->params, ix->bn_rv);
    for (int o = 0; o < oc; o++) {
        float k = g[o] / sqrtf(rv[o] + ZS_BN_EPS);
        for (size_t j = 0; j < per_oc; j++) wout[(size_t)o * per_oc + j] = w[(size_t)o * per_oc + j] * k;
        bout[o] = b[o] - rm[o] * k;
    }
}

void zs_vae_infer_load(zs_vae_infer *inf, const float *params)
{
    zs_vae *m = inf->m;
    memcpy(m->params, params, sizeof(float) * m->table.total);
    layer_dims *d = &inf->dims;
    for (int i = 0; i < m->cfg.nblocks; i++) {
        zs_conv_shape cs = d->enc[i];
        fold_bn(m, &m->enc[i], cs.oc, (size_t)cs.c * 16, zs_vae_t(m, m->params, m->enc[i].conv_w), inf->enc_w[i],
                inf->enc_b[i]);
        zs_upconv_shape us = d->dec[i];
        const float *w = zs_vae_t(m, m->params, m->dec[i].conv_w);
        if (m->dec[i].bn_g >= 0) {
            fold_bn(m, &m->dec[i], us.oc, (size_t)us.c * 9, w, inf->folded, inf->dec_b[i]);
            w = inf->folded;
        } else {
            memcpy(inf->dec_b[i], zs_vae_t(m, m->params, m->dec[i].conv_b), sizeof(float) * (size_t)us.oc);
        }
        zs_upconv_phase_weights(&us, w, inf->weff);
        zs_upconv_pack_weights(&us, inf->weff, inf->dec_wpack[i]);
    }
}

void zs_vae_encode(zs_vae_infer *inf, const float *x, int n, float *mu, float *logvar)
{
    zs_vae *m = inf->m;
    layer_dims *d = &inf->dims;
    int Z = m->cfg.z;
    for (int s0 = 0; s0 < n; s0 += inf->max_batch) {
        int b = n - s0 < inf->max_batch ? n - s0 : inf->max_batch;
        const float *in = x + (size_t)s0 * d->img;
        float *bufs[2] = {inf->act_a, inf->act_b};
        for (int i = 0; i < m->cfg.nblocks; i++) {
            zs_conv_shape cs = d->enc[i];
            cs.n = b;
            float *out = bufs[i & 1];
            zs_conv2d_forward(&cs, in, inf->enc_w[i], inf->enc_b[i], out, inf->scratch);
            zs_leaky_relu_forward(d->enc_out[i] * b, out, ZS_LEAKY_SLOPE, out);
            in = out;
        }
        zs_dense_forward(b, d->flat, Z, in, zs_vae_t(m, m->params, m->fc_mu_w), zs_vae_t(m, m->params, m->fc_mu_b),
                         mu + (size_t)s0 * Z);
        if (logvar)
            zs_dense_forward(b, d->flat, Z, in, zs_vae_t(m, m->params, m->fc_lv_w), zs_vae_t(m, m->params, m->fc_lv_b),
                             logvar + (size_t)s0 * Z);
    }
}

void zs_vae_decode(zs_vae_infer *inf, const float *z, int n, float *out)
{
    zs_vae *m = inf->m;
    layer_dims *d = &inf->dims;
    int Z = m->cfg.z, nb = m->cfg.nblocks;
    /* One image at a time: the explorer's case, and a batch then gives each
     * image exactly the bits it gets alone. */
    for (int k = 0; k < n; k++) {
        float *bufs[2] = {inf->act_a, inf->act_b};
        zs_dense_forward(1, Z, d->flat, z + (size_t)k * Z, zs_vae_t(m, m->params, m->dfc_w),
                         zs_vae_t(m, m->params, m->dfc_b), bufs[1]);
        const float *in = bufs[1];
        for (int i = 0; i < nb; i++) {
            zs_upconv_shape us = d->dec[i];
            us.n = 1;
            float *o = i == nb - 1 ? out + (size_t)k * d->img : bufs[i & 1];
            zs_upconv_forward_packed(&us, in, inf->dec_wpack[i], inf->dec_b[i], o, inf->scratch);
            if (i < nb - 1) zs_leaky_relu_forward(d->dec_out[i], o, ZS_LEAKY_SLOPE, o);
            else zs_sigmoid_forward(d->img, o, o);
            in = o;
        }
    }
}
