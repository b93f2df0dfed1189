/*
 * zspace/nn.h - the neural-network engine: float32 NCHW layers with forward
 * and backward passes, each with a plain reference loop beside the fast path
 * (im2col + OpenBLAS sgemm a few images at a time, or a direct vector loop)
 * that tests hold together, plus the VAE loss, reparameterisation, Adam, and
 * a table of named tensors carving one contiguous buffer per family
 * (parameters, gradients, Adam moments). The engine's own loops use explicit
 * 8-float vectors (src/nn/simd.h) with AVX2/AVX-512 clones chosen at load
 * time; they give the same bits on every x86-64.
 *
 *     zs_conv_shape s = {.n = 4, .c = 3, .h = 64, .w = 64, .oc = 32, .kh = 4, .kw = 4, .stride = 2, .pad = 1};
 *     float *scratch = zs_alloc_aligned(zs_conv_scratch_size(&s) * sizeof(float));
 *     zs_conv2d_forward(&s, x, w, NULL, y, scratch);       // y: (4, 32, 32, 32)
 *     zs_conv2d_backward(&s, x, w, dy, dx, dw, NULL, scratch);
 *
 * Conventions: every function works on a batch slice and never allocates;
 * callers own all buffers (allocated once, reused every step). Gradients of
 * weights and biases ACCUMULATE (+=); gradients of inputs are overwritten.
 * BLAS calls are single-threaded (zs_blas_init): parallelism comes from the
 * caller splitting the batch across a zs_team.
 */
#ifndef ZSPACE_NN_H
#define ZSPACE_NN_H

#include "zspace/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- conv2d ---------------------------------------------------------------
 * x (N, C, H, W), w (OC, C, KH, KW), b (OC) or NULL, y (N, OC, OH, OW),
 * OH = (H + 2 pad - KH) / stride + 1. */
typedef struct zs_conv_shape { int n, c, h, w, oc, kh, kw, stride, pad; } zs_conv_shape;
int zs_conv_oh(const zs_conv_shape *s);
int zs_conv_ow(const zs_conv_shape *s);
/* Floats of scratch the fast path needs for a slice of s->n images (enough
 * for any smaller n too). The fast path works a few images at a time, so
 * this stays near the L2 size whatever the batch. */
size_t zs_conv_scratch_size(const zs_conv_shape *s);

void zs_conv2d_forward_ref(const zs_conv_shape *s, const float *x, const float *w, const float *b, float *y);
void zs_conv2d_backward_ref(const zs_conv_shape *s, const float *x, const float *w, const float *dy,
                            float *dx, float *dw, float *db);
/* Fast path (im2col + sgemm). Nothing is kept between forward and backward:
 * backward takes the forward's input x again. dx may be NULL (first layer);
 * dw and db may be NULL (a frozen layer: input gradients only). */
void zs_conv2d_forward(const zs_conv_shape *s, const float *x, const float *w, const float *b, float *y,
                       float *scratch);
void zs_conv2d_backward(const zs_conv_shape *s, const float *x, const float *w, const float *dy, float *dx,
                        float *dw, float *db, float *scratch);

/* ---- nearest upsample x2 ---------------------------------------------------
 * x (N, C, H, W) -> y (N, C, 2H, 2W). */
void zs_upsample2x_forward(int n, int c, int h, int w, const float *x, float *y);
void zs_upsample2x_backward(int n, int c, int h, int w, const float *dy, float *dx);

/* ---- upconv: nearest upsample x2 then conv 3x3 pad 1, fused ----------------
 * Each output phase (2i+a, 2j+b) sees a 2x2 neighbourhood of the small
 * input with summed 3x3 taps, so the conv runs as four 2x2 convs on the
 * H x W input: 2.25x fewer FLOPs than upsampling first.
 * x (N, C, H, W), w (OC, C, 3, 3), b (OC) or NULL, y (N, OC, 2H, 2W). */
typedef struct zs_upconv_shape { int n, c, h, w, oc; } zs_upconv_shape;
size_t zs_upconv_weff_size(const zs_upconv_shape *s);      /* 4 phases x OC x 4C */
size_t zs_upconv_scratch_size(const zs_upconv_shape *s);   /* floats, as zs_conv_scratch_size */
/* Phase weights from a 3x3 kernel (call once per weight update). */
void zs_upconv_phase_weights(const zs_upconv_shape *s, const float *w, float *weff);
void zs_upconv_forward_ref(const zs_upconv_shape *s, const float *x, const float *w, const float *b, float *y);
void zs_upconv_backward_ref(const zs_upconv_shape *s, const float *x, const float *w, const float *dy,
                            float *dx, float *dw, float *db);
/* Fast path: a direct loop when OC is small (<= 4, the RGB output layer),
 * else im2col + sgemm per phase. Backward takes x again and accumulates
 * the phase-weight gradient, folded, into dw (OC, C, 3, 3); dx or dw may be
 * NULL (the other is then computed alone). */
void zs_upconv_forward(const zs_upconv_shape *s, const float *x, const float *weff, const float *b, float *y,
                       float *scratch);
void zs_upconv_backward(const zs_upconv_shape *s, const float *x, const float *weff, const float *dy, float *dx,
                        float *dw, float *db, float *scratch);
/* Inference with fixed weights: pack the phase weights once (after each
 * weight change), then forward without OpenBLAS repacking them per call. */
size_t zs_upconv_packed_size(const zs_upconv_shape *s);   /* floats */
void zs_upconv_pack_weights(const zs_upconv_shape *s, const float *weff, float *packed);
void zs_upconv_forward_packed(const zs_upconv_shape *s, const float *x, const float *packed, const float *b, float *y,
                              float *scratch);

/* ---- dense ---------------------------------------------------------------
 * x (N, IN), w (OUT, IN) (PyTorch Linear layout), b (OUT), y (N, OUT). */
void zs_dense_forward_ref(int n, int in, int out, const float *x, const float *w, const float *b, float *y);
void zs_dense_backward_ref(int n, int in, int out, const float *x, const float *w, const float *dy, float *dx,
                           float *dw, float *db);
/* Fast path (sgemm/sgemv); in backward dx, dw and db may each be NULL. */
void zs_dense_forward(int n, int in, int out, const float *x, const float *w, const float *b, float *y);
void zs_dense_backward(int n, int in, int out, const float *x, const float *w, const float *dy, float *dx,
                       float *dw, float *db);

/* ---- batch norm (+ optional LeakyReLU), NCHW, per channel ------------------
 * Training uses batch statistics over all N*H*W values of a channel. The
 * batch may be split across threads: each computes partial sums of its
 * slice, the caller combines them (zs_bn_combine), then each normalises
 * its slice. Running stats follow PyTorch: momentum 0.1, unbiased variance. */
typedef struct zs_bn_shape { int n, c, hw; } zs_bn_shape;
#define ZS_BN_EPS 1e-5f
#define ZS_BN_MOMENTUM 0.1f
#define ZS_LEAKY_SLOPE 0.2f
/* part: 2*C doubles (sum, sum of squares) of this slice. */
void zs_bn_partial_stats(const zs_bn_shape *s, const float *x, double *part);
/* Combine `nparts` partials (partial p at parts + p * stride, stride >= 2*C)
 * over `count` values per channel into mean and inverse std (biased
 * variance, as normalisation uses), and update running stats (unbiased)
 * when running_mean != NULL. */
void zs_bn_combine(int c, const double *parts, int nparts, size_t stride, double count, float *mean, float *invstd,
                   float *running_mean, float *running_var);
/* y = act(gamma * (x - mean) * invstd + beta); act = LeakyReLU(slope) if
 * slope >= 0 is given as `leaky` != 0, identity otherwise. y may alias x? no. */
void zs_bn_forward_apply(const zs_bn_shape *s, const float *x, const float *mean, const float *invstd,
                         const float *gamma, const float *beta, int leaky, float *y);
/* Backward, pass 1 over the slice: dz = dy * act'(pre) into dz (may alias dy),
 * part: 2*C doubles (sum dz, sum dz*xhat). */
void zs_bn_backward_partial(const zs_bn_shape *s, const float *x, const float *mean, const float *invstd,
                            const float *gamma, const float *beta, int leaky, const float *dy, float *dz,
                            double *part);
/* Pass 2 after combining partials (sums over all `count` values):
 * dx = gamma*invstd/count * (count*dz - sum_dz - xhat*sum_dzxhat). dx may alias dz. */
void zs_bn_backward_apply(const zs_bn_shape *s, const float *x, const float *mean, const float *invstd,
                          const float *gamma, const float *dz, const double *sums, double count, float *dx);
/* Eval mode: running statistics. */
void zs_bn_forward_eval(const zs_bn_shape *s, const float *x, const float *gamma, const float *beta,
                        const float *running_mean, const float *running_var, int leaky, float *y);

/* ---- activations ------------------------------------------------------- */
void zs_leaky_relu_forward(size_t n, const float *x, float slope, float *y);
void zs_leaky_relu_backward(size_t n, const float *x, float slope, const float *dy, float *dx);
void zs_sigmoid_forward(size_t n, const float *x, float *y);
void zs_sigmoid_backward(size_t n, const float *y, const float *dy, float *dx);

/* ---- VAE loss -------------------------------------------------------------
 * Per image: rec = sum over pixels of (recon - x)^2 (SSE) or binary cross
 * entropy (BCE); kl = -0.5 sum(1 + logvar - mu^2 - exp(logvar)). Loss =
 * (1/batch_total) sum over images (rec + beta kl). Functions work on a slice
 * and return the slice's SUMS of rec and kl; gradients are already scaled
 * by 1/batch_total. The decoder ends in a sigmoid; gradients are returned
 * with respect to its input (logits) to stay exact for BCE. */
typedef enum zs_loss_kind { ZS_LOSS_SSE = 0, ZS_LOSS_BCE = 1 } zs_loss_kind;
double zs_recon_loss(zs_loss_kind kind, int n, int pix, const float *logits, const float *recon, const float *x,
                     float scale, float *dlogits, double *per_image);
/* kl_dim (Z) accumulates the per-dimension KL sum over the slice (may be NULL). */
double zs_kl_loss(int n, int z, const float *mu, const float *logvar, float beta, float scale, float *dmu,
                  float *dlogvar, double *kl_dim);

/* ---- reparameterisation ----------------------------------------------------
 * z = mu + exp(0.5 logvar) * eps. eps is drawn from the counter RNG at
 * (key, image index * Z + j): the same noise whatever the thread split. */
void zs_reparam_noise(uint64_t key, int first_image, int n, int z, float *eps);
void zs_reparam_forward(int n, int z, const float *mu, const float *logvar, const float *eps, float *zout);
/* dmu += dz; dlogvar += dz * eps * 0.5 * exp(0.5 logvar). */
void zs_reparam_backward(int n, int z, const float *logvar, const float *eps, const float *dz, float *dmu,
                         float *dlogvar);

/* ---- Adam ------------------------------------------------------------------
 * PyTorch semantics: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps). t starts at 1.
 * Works on any [lo, hi) range so threads can split the buffer. */
typedef struct zs_adam_desc { float lr, beta1, beta2, eps; } zs_adam_desc;   /* zero: 1e-3, .9, .999, 1e-8 */
void zs_adam_update(const zs_adam_desc *d, long t, size_t lo, size_t hi, float *p, const float *g, float *m,
                    float *v);

/* ---- named tensor table ----------------------------------------------------
 * One table describes a model's tensors; parameters (trainable) come first,
 * then buffers (BN running statistics). One block of floats holds them all;
 * gradients and Adam moments are blocks of `ntrain` floats with the same
 * offsets. A snapshot or checkpoint is one memcpy. */
#define ZS_TENSOR_NAME 48
typedef struct zs_tensor_info {
    char name[ZS_TENSOR_NAME];
    int ndim;
    int shape[4];
    size_t offset, numel;
    int trainable;
    int fan_in;        /* for initialisation; 0 for BN tensors */
    float init_const;  /* BN: gamma 1, beta 0, running_var 1 */
} zs_tensor_info;

typedef struct zs_param_table {
    int n, cap;
    zs_tensor_info *t;
    size_t total;      /* floats, all tensors */
    size_t ntrain;     /* floats, trainable prefix */
} zs_param_table;

void zs_table_init(zs_param_table *pt);
void zs_table_free(zs_param_table *pt);
/* Add a tensor; trainable ones must all be added before buffers. */
int zs_table_add(zs_param_table *pt, const char *name, int trainable, int fan_in, float init_const, int ndim, ...);
const zs_tensor_info *zs_table_find(const zs_param_table *pt, const char *name);
/* Deterministic initialisation (PyTorch's default bound 1/sqrt(fan_in),
 * uniform from the counter RNG keyed by seed and tensor name). */
void zs_table_init_params(const zs_param_table *pt, float *params, uint64_t seed);

/* 1 when the inference kernels take their AVX-512 register tiles (8 x 16),
 * 0 for the narrower ones of AVX2 and older CPUs (or ZS_SIMD_NARROW=1):
 * what src/nn/conv.c itself decided, for --version and the tests. */
int zs_nn_wide_tiles(void);

#ifdef __cplusplus
}
#endif
#endif
