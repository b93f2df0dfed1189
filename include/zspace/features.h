/*
 * zspace/features.h - a small CNN that zspace trains itself to classify the
 * 40 CelebA attributes (`zspace train-features`), used frozen as the feature
 * network of the feature-consistent ("perceptual") reconstruction loss: no
 * pretrained network can be downloaded, so the features come from CelebA.
 *
 * Graph (64-pixel faces):
 *   x (3,64,64) -> 4 x [conv 4x4 s2 p1 (+ bias) -> LeakyReLU 0.2]
 *               (32x32x32, 64x16x16, 128x8x8, 256x4x4) -> flatten -> dense -> 40 logits
 * No batch norm: the network the loss differentiates through is exactly the
 * one that was trained, in every mode.
 *
 *     zs_feat *f = zs_feat_create(&cfg); zs_feat_init(f, seed);
 *     zs_feat_ctx *c = zs_feat_ctx_create(f, 16);
 *     zs_feat_forward(c, x, n, logits);               // activations kept in c
 *     zs_feat_backward(c, x, n, dlogits, dact, dx, grad);
 *
 * Feature loss of reconstructions r against inputs x, over a set of blocks L:
 *   sum over l in L of (3 S^2 / N_l) * || phi_l(r) - phi_l(x) ||^2     per image
 * where N_l = C_l H_l W_l: every block weighs as much as the pixel SSE of an
 * image would, whatever its size, so weights stay comparable across layers.
 */
#ifndef ZSPACE_FEATURES_H
#define ZSPACE_FEATURES_H

#include "zspace/data.h"
#include "zspace/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ZS_FEAT_MAX_BLOCKS 6

typedef struct zs_feat_config {
    int image;                          /* 64 or 128 */
    int nblocks;                        /* image >> nblocks == 4 */
    int widths[ZS_FEAT_MAX_BLOCKS];
} zs_feat_config;

zs_feat_config zs_feat_config_for_image(int image);   /* 32,64,128,256 (128: 32,32,64,128,256) */
zs_status zs_feat_config_check(const zs_feat_config *c);

typedef struct zs_feat {
    zs_feat_config cfg;
    zs_param_table table;
    float *params;
    int conv_w[ZS_FEAT_MAX_BLOCKS], conv_b[ZS_FEAT_MAX_BLOCKS], fc_w, fc_b;
} zs_feat;

zs_feat *zs_feat_create(const zs_feat_config *cfg);
void zs_feat_destroy(zs_feat *f);
void zs_feat_init(zs_feat *f, uint64_t seed);
size_t zs_feat_block_size(const zs_feat *f, int block);   /* floats per image of block's output */

/* A single-threaded work context for up to max_batch images: activations of
 * the last forward and scratch. One per thread. */
typedef struct zs_feat_ctx zs_feat_ctx;
zs_feat_ctx *zs_feat_ctx_create(const zs_feat *f, int max_batch);
void zs_feat_ctx_destroy(zs_feat_ctx *c);
/* Forward n <= max_batch images through the first `blocks` blocks (all of
 * them and the classifier when blocks <= 0 or > nblocks; logits (n, 40) may
 * then be NULL). */
void zs_feat_forward(zs_feat_ctx *c, const float *x, int n, int blocks, float *logits);
const float *zs_feat_act(const zs_feat_ctx *c, int block);   /* (n, C, H, W) of the last forward */
/* Backward of the last forward (same x and n): dlogits (n, 40) or NULL and,
 * for each block b, dact[b] (n, C, H, W) or NULL (dact itself may be NULL)
 * added there. dx (n, 3, S, S) is overwritten (may be NULL); grad
 * (table.ntrain floats, may be NULL) accumulates. dlogits and dact are not
 * modified. */
void zs_feat_backward(zs_feat_ctx *c, const float *x, int n, const float *dlogits, const float *const *dact, float *dx,
                      float *grad);

/* Feature loss (see the top) of r against x, n images, blocks in the bit set
 * `layers` (bit b = block b). Returns the slice's SUM over images; dr (n, 3,
 * S, S) is overwritten with scale * d(loss)/dr (scale: e.g. weight / batch).
 * Uses two contexts' activations: cx for x, cr for r (both with f). */
double zs_feat_loss(zs_feat_ctx *cx, zs_feat_ctx *cr, const float *x, const float *r, int n, unsigned layers,
                    float scale, float *dr);
/* "1,2" -> bit set over blocks 1 and 2 (numbered from 1, as the CLI takes
 * them); checks them against nblocks. */
zs_status zs_feat_parse_layers(const zs_feat *f, const char *s, unsigned *layers);

/* Mean binary cross-entropy of logits against -1/+1 labels, summed over the
 * n images and 40 attributes; dlogits = scale * gradient (may be NULL). */
double zs_feat_bce(int n, const float *logits, const int8_t *labels, float scale, float *dlogits);

/* ---- training and evaluation -------------------------------------------- */
typedef struct zs_feat_train_desc {
    const zs_cache *cache;
    int batch;               /* default 64 */
    int threads;             /* default: all CPUs */
    float lr;                /* default 1e-3 */
    long steps;              /* > 0 */
    uint64_t seed;
    const volatile int *stop_flag;   /* optional: return early once set */
    /* optional: called every `report_every` steps (default 50) */
    void (*report)(void *user, long step, long steps, double loss, double img_per_s);
    void *user;
    int report_every;
} zs_feat_train_desc;
/* Train f in place on the cache's train split (random flips) with Adam and
 * BCE. Returns the last reported mean loss through *final_loss (may be NULL);
 * stops with ZS_ERR_NUMERIC if the loss stays non-finite. */
zs_status zs_feat_train(zs_feat *f, const zs_feat_train_desc *d, double *final_loss);
/* Accuracy per attribute on a split (acc[40]) and of always answering the
 * split's majority label (base[40], may be NULL). */
zs_status zs_feat_evaluate(const zs_feat *f, const zs_cache *cache, zs_data_split split, int threads, double *acc,
                           double *base);

/* How a model's reconstructions change what the feature network sees: for
 * each attribute, the fraction of the split's faces whose prediction
 * (logit > 0) differs between the face and its reconstruction (eval mode,
 * z = mu), flips[40]; and among the faces predicted to have it, the fraction
 * whose reconstruction is predicted not to (lost[40], may be NULL; -1 when
 * no face has it); *any: the fraction of faces where at least one attribute
 * of the bit set any_mask (bit a = attribute a) changes (may be NULL).
 * *count: faces judged. */
struct zs_vae;
zs_status zs_feat_recon_flips(const zs_feat *f, const struct zs_vae *m, const zs_cache *cache, zs_data_split split,
                              int threads, double *flips, double *lost, uint64_t any_mask, double *any, int *count);

/* Files: safetensors with the config in "feat_config" ("image=64 widths=32,64,128,256"). */
zs_status zs_feat_save(const char *path, const zs_feat *f, long steps);
zs_status zs_feat_load(const char *path, zs_feat **out);

#ifdef __cplusplus
}
#endif
#endif
