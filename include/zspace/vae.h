/*
 * zspace/vae.h - the face VAE (dfc64 and its relatives): architecture as a
 * config, parameters in one named-tensor table, a multi-threaded training
 * step, and a single-threaded eval-mode inference path with batch norm
 * folded into the convolutions.
 *
 *     zs_vae_config cfg = zs_vae_config_default();          // dfc64, Z = 128
 *     zs_vae *m = zs_vae_create(&cfg);
 *     zs_vae_init(m, 1);
 *     zs_vae_train *t = zs_vae_train_create(m, &(zs_train_desc){.max_batch = 64, .threads = 2});
 *     zs_step_stats st;
 *     zs_vae_train_step(t, x, 64, NULL, &st);               // x: (64, 3, 64, 64) in [0, 1]
 *     zs_vae_infer *inf = zs_vae_infer_create(&cfg, 1);
 *     zs_vae_infer_load(inf, m->params);                    // eval mode, BN folded
 *     zs_vae_decode(inf, z, 1, img);
 *
 * Threads: a training context owns a zs_team; the batch is split into
 * contiguous image slices, one per member (or, with .dynamic, into chunks
 * that members take as they get CPU), and members meet at a barrier only
 * where batch norm needs statistics of the whole batch. BLAS is
 * single-threaded, so an inference context used by another thread (the
 * explorer's decoder) runs alongside training on its own core.
 */
#ifndef ZSPACE_VAE_H
#define ZSPACE_VAE_H

#include "zspace/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ZS_VAE_MAX_BLOCKS 6

typedef struct zs_vae_config {
    int z;          /* latent dimensions (dfc64: 128) */
    int image;      /* input side: 64 or 128 */
    int nblocks;    /* encoder stride-2 blocks: image / 2^nblocks == 4 */
    int widths[ZS_VAE_MAX_BLOCKS];   /* encoder channels per block (dfc64: 32 64 128 256) */
} zs_vae_config;

zs_vae_config zs_vae_config_default(void);   /* dfc64 */
/* dfc128: image 128, widths 32 32 64 128 256 (same bottleneck), Z as given. */
zs_vae_config zs_vae_config_for_image(int image, int z);
zs_status zs_vae_config_check(const zs_vae_config *c);
/* "z=128 image=64 widths=32,64,128,256" and back; parsing validates. */
void zs_vae_config_format(const zs_vae_config *c, char *buf, size_t n);
zs_status zs_vae_config_parse(const char *s, zs_vae_config *c);
int zs_vae_config_equal(const zs_vae_config *a, const zs_vae_config *b);

typedef struct zs_vae_block_ix { int conv_w, conv_b, bn_g, bn_b, bn_rm, bn_rv; } zs_vae_block_ix;

typedef struct zs_vae {
    zs_vae_config cfg;
    zs_param_table table;
    float *params;   /* table.total floats: parameters then BN running stats */
    /* table indices, for quick access */
    zs_vae_block_ix enc[ZS_VAE_MAX_BLOCKS], dec[ZS_VAE_MAX_BLOCKS];   /* dec[nblocks-1]: output conv */
    int fc_mu_w, fc_mu_b, fc_lv_w, fc_lv_b, dfc_w, dfc_b;
} zs_vae;

zs_vae *zs_vae_create(const zs_vae_config *cfg);
void zs_vae_destroy(zs_vae *m);
void zs_vae_init(zs_vae *m, uint64_t seed);
static inline float *zs_vae_t(const zs_vae *m, float *params, int idx) { return params + m->table.t[idx].offset; }
size_t zs_vae_param_count(const zs_vae *m);   /* trainable scalars */

/* ---- training -------------------------------------------------------------- */
struct zs_feat;   /* zspace/features.h */
typedef struct zs_train_desc {
    int max_batch;        /* default 64 */
    int threads;          /* default: all CPUs */
    float lr;             /* default 5e-4 */
    float beta;           /* KL weight; default 1 (set beta_zero to use 0) */
    int beta_zero;
    zs_loss_kind loss;    /* default SSE */
    uint64_t seed;        /* noise stream for reparameterisation */
    /* Feature-consistent ("perceptual") loss, zspace/features.h: rec +=
     * feat_weight * (feature loss of the reconstruction against the input
     * under the frozen network `features`, blocks in the bit set
     * feat_layers). NULL: pixel loss only. no_pixel_loss: features only. */
    const struct zs_feat *features;
    unsigned feat_layers;
    float feat_weight;    /* default 1 */
    int no_pixel_loss;
    /* Members take chunks of the batch as they get CPU time instead of one
     * fixed slice each, and a backward chunk's weight gradient is queued
     * for whichever member reaches the next barrier first, so a member that
     * another program (the explorer's UI) preempts does not hold the others
     * at every barrier. The weight gradients are then summed in an order
     * that varies from run to run: results agree to rounding, not bit for
     * bit. Default off (CLI). */
    int dynamic;
} zs_train_desc;

typedef struct zs_step_stats {
    double loss;          /* mean over batch of rec + beta kl */
    double rec, kl;       /* means over the batch (rec: pixel + weighted feature loss) */
    double feat;          /* mean over the batch of the feature loss, unweighted (0 without one) */
    double grad_norm;     /* L2 norm of the whole gradient */
    int batch;
    int skipped;          /* 1 when the loss or gradient was not finite: no update made */
} zs_step_stats;

typedef struct zs_vae_train zs_vae_train;
zs_vae_train *zs_vae_train_create(zs_vae *m, const zs_train_desc *d);
void zs_vae_train_destroy(zs_vae_train *t);
void zs_vae_train_set_lr(zs_vae_train *t, float lr);
void zs_vae_train_set_beta(zs_vae_train *t, float beta);
/* Every thread the context trains with (the caller's included) to nice
 * level `nice` (zs_thread_set_nice): call it from the thread that steps. */
void zs_vae_train_set_nice(zs_vae_train *t, int nice);
float zs_vae_train_lr(const zs_vae_train *t);
int zs_vae_train_threads(const zs_vae_train *t);   /* the team's members (at most the batch) */
int zs_vae_train_dynamic(const zs_vae_train *t);   /* 1: members take chunks (zs_train_desc.dynamic) */
/* Forward and backward; gradients (summed over threads) in zs_vae_train_grads.
 * eps (batch, Z) or NULL to draw noise from (seed, step). */
void zs_vae_train_forward_backward(zs_vae_train *t, const float *x, int batch, const float *eps, zs_step_stats *out);
/* Forward, backward and (when finite) one Adam step. ZS_ERR_NUMERIC when
 * the loss or gradient was NaN/Inf: then the weights are untouched. */
zs_status zs_vae_train_step(zs_vae_train *t, const float *x, int batch, const float *eps, zs_step_stats *out);
/* Adam on the current gradients (after forward_backward). */
void zs_vae_train_adam(zs_vae_train *t);
long zs_vae_train_steps(const zs_vae_train *t);      /* Adam steps taken */
void zs_vae_train_set_steps(zs_vae_train *t, long steps);
float *zs_vae_train_grads(zs_vae_train *t);          /* table.ntrain floats */
float *zs_vae_train_adam_m(zs_vae_train *t);
float *zs_vae_train_adam_v(zs_vae_train *t);
/* Outputs of the last forward, whole batch: mu, logvar, z (batch, Z);
 * recon (batch, 3, S, S). KL per latent dimension summed over the batch. */
const float *zs_vae_train_mu(const zs_vae_train *t);
const float *zs_vae_train_logvar(const zs_vae_train *t);
const float *zs_vae_train_z(const zs_vae_train *t);
const float *zs_vae_train_recon(const zs_vae_train *t);
const double *zs_vae_train_kl_dim(const zs_vae_train *t);

/* ---- inference (eval mode: running statistics, folded into the convs) ---- */
typedef struct zs_vae_infer zs_vae_infer;
zs_vae_infer *zs_vae_infer_create(const zs_vae_config *cfg, int max_batch);
void zs_vae_infer_destroy(zs_vae_infer *inf);
/* (Re)load weights from a parameter block in the model's table layout. */
void zs_vae_infer_load(zs_vae_infer *inf, const float *params);
/* x (n, 3, S, S) -> mu, logvar (n, Z); logvar may be NULL. Any n. */
void zs_vae_encode(zs_vae_infer *inf, const float *x, int n, float *mu, float *logvar);
/* z (n, Z) -> images (n, 3, S, S) in [0, 1]. Any n. */
void zs_vae_decode(zs_vae_infer *inf, const float *z, int n, float *out);
const zs_vae_config *zs_vae_infer_config(const zs_vae_infer *inf);

#ifdef __cplusplus
}
#endif
#endif
