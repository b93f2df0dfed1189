/* Every layer: (1) the reference backward against central finite
 * differences of a scalar L = sum(y * r) for a fixed random r, computed in
 * double from float outputs; (2) every fast path against its reference
 * loop, forward and backward.
 *
 * Bounds (stated, float32): finite differences with step h = 1e-2 on inputs
 * of order 1 agree with the analytic gradient to a normalised error
 *     max_i |analytic_i - numeric_i| / max_i |numeric_i|  <= 2e-3
 * over 40 randomly chosen coordinates per tensor. Fast vs reference paths
 * agree to a relative error <= 1e-5 (summation order only). */
#include "testutil.h"
#include "zspace/nn.h"

#include <stdlib.h>
#include <string.h>

#define FD_TOL 2e-3
#define FAST_TOL 1e-5

static float *rnd(size_t n, uint64_t seed, float lo, float hi)
{
    float *p = zs_xmalloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++) p[i] = lo + (hi - lo) * zs_uniform01(zs_hash64(seed), i);
    return p;
}
static float *zeros(size_t n) { return zs_xcalloc(n, sizeof(float)); }
static double dot(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* A layer under test: forward computes y from the current inputs. When
 * `kinked` is set, y has a kink at 0 (LeakyReLU): a coordinate whose
 * perturbation moves any output across 0 is retried with a smaller step,
 * and skipped if even the smallest step crosses, since a central difference
 * across a kink measures neither side's slope. */
typedef struct fd_case {
    void (*forward)(struct fd_case *c);
    float *y, *r;      /* output and its weighting */
    size_t ny;
    void *ctx;
    int kinked;
} fd_case;

static double fd_loss(fd_case *c)
{
    c->forward(c);
    return dot(c->y, c->r, c->ny);
}

static int same_signs(const fd_case *c, const unsigned char *sign)
{
    for (size_t j = 0; j < c->ny; j++)
        if ((c->y[j] > 0) != sign[j]) return 0;
    return 1;
}

/* Check analytic gradient `g` of variable `v` (n values) numerically. */
static double fd_check(fd_case *c, float *v, const float *g, size_t n, const char *what)
{
    static const float steps[] = {1e-2f, 2.5e-3f, 1e-3f};
    double maxerr = 0, maxnum = 1e-6;
    unsigned char *sign = zs_xmalloc(c->ny);
    int checked = 0;
    for (int k = 0; k < 40; k++) {
        size_t i = (size_t)(zs_rand64(zs_hash64(99 + k), n) % n);
        float old = v[i];
        fd_loss(c);
        for (size_t j = 0; j < c->ny; j++) sign[j] = c->y[j] > 0;
        for (int si = 0; si < (c->kinked ? 3 : 1); si++) {
            const float h = steps[si];
            v[i] = old + h;
            double lp = fd_loss(c);
            int ok = !c->kinked || same_signs(c, sign);
            v[i] = old - h;
            double lm = fd_loss(c);
            ok = ok && (!c->kinked || same_signs(c, sign));
            v[i] = old;
            if (!ok) continue;
            double num = (lp - lm) / (2.0 * h);
            double err = fabs(num - g[i]);
            if (err > maxerr) maxerr = err;
            if (fabs(num) > maxnum) maxnum = fabs(num);
            checked++;
            break;
        }
    }
    free(sign);
    fd_loss(c);   /* restore y */
    double rel = maxerr / maxnum;
    CHECKF(checked >= 10, "%s: only %d of 40 coordinates away from a kink", what, checked);
    CHECKF(rel <= FD_TOL, "%s: finite-difference error %.3g > %.3g", what, rel, FD_TOL);
    return rel;
}

/* ---- conv2d ---------------------------------------------------------------- */
typedef struct { zs_conv_shape s; float *x, *w, *b; } conv_ctx;
static void conv_fwd(fd_case *c)
{
    conv_ctx *k = c->ctx;
    zs_conv2d_forward_ref(&k->s, k->x, k->w, k->b, c->y);
}

static void test_conv(zs_conv_shape s, int with_bias)
{
    char what[128];
    snprintf(what, sizeof what, "conv n%d c%d %dx%d oc%d k%dx%d s%d p%d", s.n, s.c, s.h, s.w, s.oc, s.kh, s.kw, s.stride,
             s.pad);
    size_t nx = (size_t)s.n * s.c * s.h * s.w, nw = (size_t)s.oc * s.c * s.kh * s.kw;
    size_t ny = (size_t)s.n * s.oc * zs_conv_oh(&s) * zs_conv_ow(&s);
    conv_ctx k = {s, rnd(nx, 1, -1, 1), rnd(nw, 2, -0.5f, 0.5f), with_bias ? rnd((size_t)s.oc, 3, -1, 1) : NULL};
    fd_case c = {conv_fwd, zeros(ny), rnd(ny, 4, -1, 1), ny, &k, 0};
    float *dx = zeros(nx), *dw = zeros(nw), *db = zeros((size_t)s.oc);
    fd_loss(&c);
    zs_conv2d_backward_ref(&s, k.x, k.w, c.r, dx, dw, with_bias ? db : NULL);
    char w2[160];
    snprintf(w2, sizeof w2, "%s dx", what);
    fd_check(&c, k.x, dx, nx, w2);
    snprintf(w2, sizeof w2, "%s dw", what);
    fd_check(&c, k.w, dw, nw, w2);
    if (with_bias) {
        snprintf(w2, sizeof w2, "%s db", what);
        fd_check(&c, k.b, db, (size_t)s.oc, w2);
    }
    /* fast path vs reference */
    float *y2 = zeros(ny), *scratch = zeros(zs_conv_scratch_size(&s));
    zs_conv2d_forward(&s, k.x, k.w, k.b, y2, scratch);
    double e = zs_test_rel_err(y2, c.y, ny, 1e-3);
    CHECKF(e <= FAST_TOL, "%s: fast forward differs from reference by %.3g", what, e);
    float *dx2 = zeros(nx), *dw2 = zeros(nw), *db2 = zeros((size_t)s.oc);
    /* gradients accumulate: start both from the same non-zero values */
    for (size_t i = 0; i < nw; i++) dw2[i] = dw[i] * 0.0f + 0.25f;
    float *dw_ref = zeros(nw);
    for (size_t i = 0; i < nw; i++) dw_ref[i] = 0.25f + dw[i];
    zs_conv2d_backward(&s, k.x, k.w, c.r, dx2, dw2, with_bias ? db2 : NULL, scratch);
    CHECKF(zs_test_rel_err(dx2, dx, nx, 1e-3) <= FAST_TOL, "%s: fast dx differs", what);
    CHECKF(zs_test_rel_err(dw2, dw_ref, nw, 1e-3) <= FAST_TOL, "%s: fast dw differs (or does not accumulate)", what);
    if (with_bias) CHECKF(zs_test_rel_err(db2, db, (size_t)s.oc, 1e-3) <= FAST_TOL, "%s: fast db differs", what);
    /* dx alone and dW alone (the explorer's training defers dW): each as computed together */
    float *dx3 = zeros(nx), *dw3 = zeros(nw);
    for (size_t i = 0; i < nw; i++) dw3[i] = 0.25f;
    zs_conv2d_backward(&s, k.x, k.w, c.r, dx3, NULL, NULL, scratch);
    zs_conv2d_backward(&s, k.x, k.w, c.r, NULL, dw3, NULL, scratch);
    CHECKF(memcmp(dx3, dx2, sizeof(float) * nx) == 0, "%s: dx alone differs from dx with dW", what);
    CHECKF(memcmp(dw3, dw2, sizeof(float) * nw) == 0, "%s: dW alone differs from dW with dx", what);
    free(dx3), free(dw3);
    free(k.x); free(k.w); free(k.b); free(c.y); free(c.r); free(dx); free(dw); free(db);
    free(y2); free(scratch); free(dx2); free(dw2); free(db2); free(dw_ref);
}

/* ---- upsample and upconv ------------------------------------------------------ */
typedef struct { zs_upconv_shape s; float *x, *w, *b; } up_ctx;
static void upsample_fwd(fd_case *c)
{
    up_ctx *k = c->ctx;
    zs_upsample2x_forward(k->s.n, k->s.c, k->s.h, k->s.w, k->x, c->y);
}
static void upconv_fwd(fd_case *c)
{
    up_ctx *k = c->ctx;
    zs_upconv_forward_ref(&k->s, k->x, k->w, k->b, c->y);
}

static void test_upsample(void)
{
    zs_upconv_shape s = {2, 3, 4, 5, 0};
    size_t nx = (size_t)s.n * s.c * s.h * s.w, ny = 4 * nx;
    up_ctx k = {s, rnd(nx, 5, -1, 1), NULL, NULL};
    fd_case c = {upsample_fwd, zeros(ny), rnd(ny, 6, -1, 1), ny, &k, 0};
    float *dx = zeros(nx);
    fd_loss(&c);
    CHECK(c.y[0] == k.x[0] && c.y[1] == k.x[0] && c.y[2 * s.w] == k.x[0] && c.y[2] == k.x[1]);
    zs_upsample2x_backward(s.n, s.c, s.h, s.w, c.r, dx);
    fd_check(&c, k.x, dx, nx, "upsample dx");
    free(k.x); free(c.y); free(c.r); free(dx);
}

static void test_upconv(zs_upconv_shape s, int with_bias)
{
    char what[96];
    snprintf(what, sizeof what, "upconv n%d c%d %dx%d oc%d", s.n, s.c, s.h, s.w, s.oc);
    size_t nx = (size_t)s.n * s.c * s.h * s.w, nw = (size_t)s.oc * s.c * 9, ny = (size_t)s.n * s.oc * 4 * s.h * s.w;
    up_ctx k = {s, rnd(nx, 7, -1, 1), rnd(nw, 8, -0.5f, 0.5f), with_bias ? rnd((size_t)s.oc, 9, -1, 1) : NULL};
    fd_case c = {upconv_fwd, zeros(ny), rnd(ny, 10, -1, 1), ny, &k, 0};
    float *dx = zeros(nx), *dw = zeros(nw), *db = zeros((size_t)s.oc);
    fd_loss(&c);
    zs_upconv_backward_ref(&s, k.x, k.w, c.r, dx, dw, with_bias ? db : NULL);
    char w2[128];
    snprintf(w2, sizeof w2, "%s dx", what);
    fd_check(&c, k.x, dx, nx, w2);
    snprintf(w2, sizeof w2, "%s dw", what);
    fd_check(&c, k.w, dw, nw, w2);
    if (with_bias) {
        snprintf(w2, sizeof w2, "%s db", what);
        fd_check(&c, k.b, db, (size_t)s.oc, w2);
    }
    /* the phase decomposition equals upsample-then-conv */
    float *weff = zeros(zs_upconv_weff_size(&s)), *scratch = zeros(zs_upconv_scratch_size(&s)), *y2 = zeros(ny);
    zs_upconv_phase_weights(&s, k.w, weff);
    zs_upconv_forward(&s, k.x, weff, k.b, y2, scratch);
    double e = zs_test_rel_err(y2, c.y, ny, 1e-3);
    CHECKF(e <= FAST_TOL, "%s: fast forward differs from reference by %.3g", what, e);
    float *packed = zeros(zs_upconv_packed_size(&s)), *y3 = zeros(ny);
    zs_upconv_pack_weights(&s, weff, packed);
    zs_upconv_forward_packed(&s, k.x, packed, k.b, y3, scratch);
    e = zs_test_rel_err(y3, c.y, ny, 1e-3);
    CHECKF(e <= FAST_TOL, "%s: packed-weight forward differs from reference by %.3g", what, e);
    free(packed);
    free(y3);
    float *dx2 = zeros(nx), *dw2 = zeros(nw), *db2 = zeros((size_t)s.oc);
    zs_upconv_backward(&s, k.x, weff, c.r, dx2, dw2, with_bias ? db2 : NULL, scratch);
    CHECKF(zs_test_rel_err(dx2, dx, nx, 1e-3) <= FAST_TOL, "%s: fast dx differs", what);
    CHECKF(zs_test_rel_err(dw2, dw, nw, 1e-3) <= FAST_TOL, "%s: fast dw differs", what);
    if (with_bias) CHECKF(zs_test_rel_err(db2, db, (size_t)s.oc, 1e-3) <= FAST_TOL, "%s: fast db differs", what);
    /* dx alone and dW alone (the explorer's training defers dW): each as computed together */
    float *dx3 = zeros(nx), *dw3 = zeros(nw);
    zs_upconv_backward(&s, k.x, weff, c.r, dx3, NULL, NULL, scratch);
    zs_upconv_backward(&s, k.x, weff, c.r, NULL, dw3, NULL, scratch);
    CHECKF(memcmp(dx3, dx2, sizeof(float) * nx) == 0, "%s: dx alone differs from dx with dW", what);
    CHECKF(memcmp(dw3, dw2, sizeof(float) * nw) == 0, "%s: dW alone differs from dW with dx", what);
    free(dx3), free(dw3);
    free(k.x); free(k.w); free(k.b); free(c.y); free(c.r); free(dx); free(dw); free(db);
    free(weff); free(scratch); free(y2); free(dx2); free(dw2); free(db2);
}

/* ---- dense ------------------------------------------------------------------ */
typedef struct { int n, in, out; float *x, *w, *b; } dense_ctx;
static void dense_fwd(fd_case *c)
{
    dense_ctx *k = c->ctx;
    zs_dense_forward_ref(k->n, k->in, k->out, k->x, k->w, k->b, c->y);
}

static void test_dense(int n, int in, int out)
{
    size_t nx = (size_t)n * in, nw = (size_t)out * in, ny = (size_t)n * out;
    dense_ctx k = {n, in, out, rnd(nx, 11, -1, 1), rnd(nw, 12, -0.5f, 0.5f), rnd((size_t)out, 13, -1, 1)};
    fd_case c = {dense_fwd, zeros(ny), rnd(ny, 14, -1, 1), ny, &k, 0};
    float *dx = zeros(nx), *dw = zeros(nw), *db = zeros((size_t)out);
    fd_loss(&c);
    zs_dense_backward_ref(n, in, out, k.x, k.w, c.r, dx, dw, db);
    fd_check(&c, k.x, dx, nx, "dense dx");
    fd_check(&c, k.w, dw, nw, "dense dw");
    fd_check(&c, k.b, db, (size_t)out, "dense db");
    float *y2 = zeros(ny), *dx2 = zeros(nx), *dw2 = zeros(nw), *db2 = zeros((size_t)out);
    zs_dense_forward(n, in, out, k.x, k.w, k.b, y2);
    CHECKF(zs_test_rel_err(y2, c.y, ny, 1e-3) <= FAST_TOL, "dense fast forward differs");
    zs_dense_backward(n, in, out, k.x, k.w, c.r, dx2, dw2, db2);
    CHECKF(zs_test_rel_err(dx2, dx, nx, 1e-3) <= FAST_TOL, "dense fast dx differs");
    CHECKF(zs_test_rel_err(dw2, dw, nw, 1e-3) <= FAST_TOL, "dense fast dw differs");
    CHECKF(zs_test_rel_err(db2, db, (size_t)out, 1e-3) <= FAST_TOL, "dense fast db differs");
    free(k.x); free(k.w); free(k.b); free(c.y); free(c.r); free(dx); free(dw); free(db);
    free(y2); free(dx2); free(dw2); free(db2);
}

/* ---- batch norm + LeakyReLU (training mode) ------------------------------------ */
typedef struct { zs_bn_shape s; float *x, *g, *b; float mean[64], invstd[64]; int parts, leaky; } bn_ctx;
static void bn_fwd(fd_case *c)
{
    bn_ctx *k = c->ctx;
    /* statistics computed from `parts` slices of the batch, as threads do */
    double part[8 * 128];
    int per = k->s.n / k->parts;
    size_t img = (size_t)k->s.c * k->s.hw;
    for (int p = 0; p < k->parts; p++) {
        zs_bn_shape ps = {per, k->s.c, k->s.hw};
        zs_bn_partial_stats(&ps, k->x + p * per * img, part + p * 2 * k->s.c);
    }
    zs_bn_combine(k->s.c, part, k->parts, 2 * (size_t)k->s.c, (double)k->s.n * k->s.hw, k->mean, k->invstd, NULL, NULL);
    zs_bn_forward_apply(&k->s, k->x, k->mean, k->invstd, k->g, k->b, k->leaky, c->y);
}

static void test_bn(int parts, int leaky)
{
    zs_bn_shape s = {4, 3, 10};
    size_t nx = (size_t)s.n * s.c * s.hw;
    bn_ctx k = {.s = s, .x = rnd(nx, 15, -1, 2), .g = rnd(3, 16, 0.5f, 1.5f), .b = rnd(3, 17, -0.5f, 0.5f),
                .parts = parts, .leaky = leaky};
    fd_case c = {bn_fwd, zeros(nx), rnd(nx, 18, -1, 1), nx, &k, leaky};
    fd_loss(&c);
    /* normalised output has zero mean / unit variance per channel (no act) */
    if (!leaky) {
        bn_ctx k2 = k;
        float g1[3] = {1, 1, 1}, b0[3] = {0, 0, 0};
        float *y = zeros(nx);
        zs_bn_forward_apply(&s, k2.x, k.mean, k.invstd, g1, b0, 0, y);
        double m = 0, v = 0;
        for (int n = 0; n < s.n; n++)
            for (int i = 0; i < s.hw; i++) {
                double q = y[((size_t)n * 3 + 1) * s.hw + i];
                m += q;
                v += q * q;
            }
        m /= s.n * s.hw;
        v = v / (s.n * s.hw) - m * m;
        CHECK(fabs(m) < 1e-5 && fabs(v - 1) < 1e-3);
        free(y);
    }
    /* backward in slices, as the model runs it */
    float *dz = zeros(nx), *dx = zeros(nx);
    double part[8][128], sums[128] = {0};
    int per = s.n / parts;
    size_t img = (size_t)s.c * s.hw;
    for (int p = 0; p < parts; p++) {
        zs_bn_shape ps = {per, s.c, s.hw};
        zs_bn_backward_partial(&ps, k.x + p * per * img, k.mean, k.invstd, k.g, k.b, leaky, c.r + p * per * img,
                               dz + p * per * img, part[p]);
        for (int j = 0; j < 2 * s.c; j++) sums[j] += part[p][j];
    }
    for (int p = 0; p < parts; p++) {
        zs_bn_shape ps = {per, s.c, s.hw};
        zs_bn_backward_apply(&ps, k.x + p * per * img, k.mean, k.invstd, k.g, dz + p * per * img, sums,
                             (double)s.n * s.hw, dx + p * per * img);
    }
    float dgamma[3], dbeta[3];
    for (int j = 0; j < 3; j++) {
        dbeta[j] = (float)sums[j];
        dgamma[j] = (float)sums[3 + j];
    }
    char what[64];
    snprintf(what, sizeof what, "batchnorm%s (%d slices) dx", leaky ? "+leaky" : "", parts);
    fd_check(&c, k.x, dx, nx, what);
    snprintf(what, sizeof what, "batchnorm%s dgamma", leaky ? "+leaky" : "");
    fd_check(&c, k.g, dgamma, 3, what);
    snprintf(what, sizeof what, "batchnorm%s dbeta", leaky ? "+leaky" : "");
    fd_check(&c, k.b, dbeta, 3, what);
    free(k.x); free(k.g); free(k.b); free(c.y); free(c.r); free(dz); free(dx);
}

static void test_bn_running(void)
{
    /* running stats: momentum 0.1, unbiased variance, as PyTorch */
    zs_bn_shape s = {2, 1, 2};
    float x[4] = {1, 2, 3, 6};
    double part[2];
    zs_bn_partial_stats(&s, x, part);
    float mean, invstd, rm = 0, rv = 1;
    zs_bn_combine(1, part, 1, 2, 4, &mean, &invstd, &rm, &rv);
    CHECK(fabsf(mean - 3.0f) < 1e-6f);
    CHECK(fabsf(invstd - 1.0f / sqrtf(3.5f + ZS_BN_EPS)) < 1e-6f);   /* biased var 14/4 */
    CHECK(fabsf(rm - 0.3f) < 1e-6f);
    CHECK(fabsf(rv - (0.9f + 0.1f * 14.0f / 3.0f)) < 1e-6f);
    /* eval mode uses the running stats */
    float g = 2, b = 1, y[4];
    zs_bn_forward_eval(&s, x, &g, &b, &rm, &rv, 0, y);
    CHECK(fabsf(y[0] - (2.0f * (1.0f - rm) / sqrtf(rv + ZS_BN_EPS) + 1.0f)) < 1e-5f);
}

/* ---- elementwise, loss, reparam ------------------------------------------------- */
typedef struct { float *x; size_t n; int which; } ew_ctx;
static void ew_fwd(fd_case *c)
{
    ew_ctx *k = c->ctx;
    if (k->which == 0) zs_leaky_relu_forward(k->n, k->x, 0.2f, c->y);
    else zs_sigmoid_forward(k->n, k->x, c->y);
}

static void test_elementwise(void)
{
    /* the vector sigmoid (its own exp) against libm, tails included */
    {
        enum { N = 1003 };
        float *x = rnd(N, 44, -30, 30), y[N];
        x[0] = 0.0f;
        x[1] = -100.0f;
        x[2] = 100.0f;
        zs_sigmoid_forward(N, x, y);
        double worst = 0;
        for (int i = 0; i < N; i++) {
            double want = 1.0 / (1.0 + exp(-(double)x[i]));
            if (want > 1e-30) worst = fmax(worst, fabs(y[i] - want) / want);
        }
        CHECKF(worst <= 3e-7, "sigmoid: relative error %.3g > 3e-7", worst);
        CHECK(y[0] == 0.5f && y[1] >= 0.0f && y[1] < 1e-37f && y[2] == 1.0f);
        free(x);
    }
    size_t n = 203;   /* 25 vectors of 8 and a tail */
    for (int which = 0; which < 2; which++) {
        ew_ctx k = {rnd(n, 19, -3, 3), n, which};
        /* keep leaky inputs away from the kink at 0 */
        if (which == 0)
            for (size_t i = 0; i < n; i++)
                if (fabsf(k.x[i]) < 0.05f) k.x[i] = 0.5f;
        fd_case c = {ew_fwd, zeros(n), rnd(n, 20, -1, 1), n, &k, 0};
        fd_loss(&c);
        float *dx = zeros(n);
        if (which == 0) zs_leaky_relu_backward(n, k.x, 0.2f, c.r, dx);
        else zs_sigmoid_backward(n, c.y, c.r, dx);
        fd_check(&c, k.x, dx, n, which ? "sigmoid" : "leaky relu");
        free(k.x); free(c.y); free(c.r); free(dx);
    }
}

typedef struct { int n, pix, kind; float *logits, *recon, *x; } rl_ctx;
static void rl_fwd(fd_case *c)
{
    rl_ctx *k = c->ctx;
    zs_sigmoid_forward((size_t)k->n * k->pix, k->logits, k->recon);
    c->y[0] = (float)zs_recon_loss(k->kind, k->n, k->pix, k->logits, k->recon, k->x, 1.0f, NULL, NULL);
}

static void test_recon_loss(zs_loss_kind kind)
{
    int n = 3, pix = 50;
    size_t np = (size_t)n * pix;
    rl_ctx k = {n, pix, kind, rnd(np, 21, -3, 3), zeros(np), rnd(np, 22, 0, 1)};
    float one = 1.0f, y;
    fd_case c = {rl_fwd, &y, &one, 1, &k, 0};
    fd_loss(&c);
    float *d = zeros(np);
    double per[3];
    double tot = zs_recon_loss(kind, n, pix, k.logits, k.recon, k.x, 1.0f, d, per);
    CHECK(fabs(per[0] + per[1] + per[2] - tot) < 1e-9 * fabs(tot) + 1e-9);
    fd_check(&c, k.logits, d, np, kind == ZS_LOSS_SSE ? "SSE loss" : "BCE loss");
    /* BCE at x = sigmoid(l) is the entropy; SSE at x = recon is zero */
    if (kind == ZS_LOSS_SSE) {
        CHECK(zs_recon_loss(kind, n, pix, k.logits, k.recon, k.recon, 1.0f, NULL, NULL) == 0.0);
    } else {
        float l = 0.3f, r = 1.0f / (1.0f + expf(-l)), t = r;
        double want = -(t * log(r) + (1 - t) * log(1 - r));
        CHECK(fabs(zs_recon_loss(kind, 1, 1, &l, &r, &t, 1.0f, NULL, NULL) - want) < 1e-6);
    }
    free(k.logits); free(k.recon); free(k.x); free(d);
}

typedef struct { int n, z; float *mu, *lv, *eps, *zo; } kl_ctx;
static void kl_fwd(fd_case *c)
{
    kl_ctx *k = c->ctx;
    c->y[0] = (float)zs_kl_loss(k->n, k->z, k->mu, k->lv, 1.0f, 1.0f, NULL, NULL, NULL);
}
static void rp_fwd(fd_case *c)
{
    kl_ctx *k = c->ctx;
    zs_reparam_forward(k->n, k->z, k->mu, k->lv, k->eps, c->y);
}

static void test_kl_reparam(void)
{
    int n = 2, z = 16;
    size_t nz = (size_t)n * z;
    kl_ctx k = {n, z, rnd(nz, 23, -2, 2), rnd(nz, 24, -2, 1), zeros(nz), NULL};
    zs_reparam_noise(zs_hash64(5), 0, n, z, k.eps);
    float one = 1.0f, y;
    fd_case c = {kl_fwd, &y, &one, 1, &k, 0};
    fd_loss(&c);
    float *dmu = zeros(nz), *dlv = zeros(nz);
    double kl_dim[16] = {0};
    double tot = zs_kl_loss(n, z, k.mu, k.lv, 2.0f, 1.0f, dmu, dlv, kl_dim);
    double s = 0;
    for (int j = 0; j < z; j++) s += kl_dim[j];
    CHECK(fabs(s - tot) < 1e-4 * fabs(tot));
    /* beta scales the gradient (returned loss is the plain KL) */
    for (size_t i = 0; i < nz; i++) {
        dmu[i] *= 0.5f;
        dlv[i] *= 0.5f;
    }
    fd_check(&c, k.mu, dmu, nz, "KL dmu");
    fd_check(&c, k.lv, dlv, nz, "KL dlogvar");
    float zero_mu = 0, zero_lv = 0;
    CHECK(zs_kl_loss(1, 1, &zero_mu, &zero_lv, 1, 1, NULL, NULL, NULL) == 0.0);

    fd_case r = {rp_fwd, zeros(nz), rnd(nz, 25, -1, 1), nz, &k, 0};
    fd_loss(&r);
    float *gmu = zeros(nz), *glv = zeros(nz);
    zs_reparam_backward(n, z, k.lv, k.eps, r.r, gmu, glv);
    fd_check(&r, k.mu, gmu, nz, "reparam dmu");
    fd_check(&r, k.lv, glv, nz, "reparam dlogvar");
    /* the noise does not depend on how the batch is split */
    float e2[16];
    zs_reparam_noise(zs_hash64(5), 1, 1, z, e2);
    CHECK(memcmp(e2, k.eps + z, sizeof e2) == 0);
    free(k.mu); free(k.lv); free(k.eps); free(dmu); free(dlv); free(r.y); free(r.r); free(gmu); free(glv);
}

static void test_adam(void)
{
    /* two steps by hand, PyTorch formula */
    float p[2] = {1.0f, -2.0f}, g[2] = {0.5f, -0.1f}, m[2] = {0}, v[2] = {0};
    zs_adam_desc d = {.lr = 0.1f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f};
    double pp[2] = {1.0, -2.0}, mm[2] = {0}, vv[2] = {0};
    for (int t = 1; t <= 2; t++) {
        zs_adam_update(&d, t, 0, 2, p, g, m, v);
        for (int i = 0; i < 2; i++) {
            mm[i] = 0.9 * mm[i] + 0.1 * g[i];
            vv[i] = 0.999 * vv[i] + 0.001 * (double)g[i] * g[i];
            double mh = mm[i] / (1 - pow(0.9, t)), vh = vv[i] / (1 - pow(0.999, t));
            pp[i] -= 0.1 * mh / (sqrt(vh) + 1e-8);
        }
    }
    CHECK(fabs(p[0] - pp[0]) < 1e-6 && fabs(p[1] - pp[1]) < 1e-6);
    /* the first step moves each parameter by lr against its gradient's sign */
    CHECK(fabs(pp[0] - (1.0 - 0.2)) < 1e-6);
    /* the vector loop (8 at a time from an unaligned start) matches the plain formula */
    enum { N = 37, LO = 3 };
    float *p2 = rnd(N, 40, -1, 1), *g2 = rnd(N, 41, -1, 1), *m2 = rnd(N, 42, -0.1f, 0.1f), *v2 = rnd(N, 43, 0, 0.01f);
    float q[N], qm[N], qv[N];
    memcpy(q, p2, sizeof q);
    memcpy(qm, m2, sizeof qm);
    memcpy(qv, v2, sizeof qv);
    zs_adam_update(&d, 3, LO, N, p2, g2, m2, v2);
    float step = (float)(0.1 / (1 - pow(0.9f, 3))), isb = (float)(1.0 / sqrt(1 - pow(0.999f, 3)));
    for (int i = LO; i < N; i++) {
        qm[i] = 0.9f * qm[i] + (1.0f - 0.9f) * g2[i];
        qv[i] = 0.999f * qv[i] + (1.0f - 0.999f) * g2[i] * g2[i];
        q[i] -= step * qm[i] / (sqrtf(qv[i]) * isb + 1e-8f);
    }
    CHECK(zs_test_rel_err(p2, q, N, 1e-3) <= 1e-6 && zs_test_rel_err(m2, qm, N, 1e-3) <= 1e-6 &&
          zs_test_rel_err(v2, qv, N, 1e-6) <= 1e-6);
    free(p2); free(g2); free(m2); free(v2);
}

static void test_table(void)
{
    zs_param_table pt;
    zs_table_init(&pt);
    zs_table_add(&pt, "a.weight", 1, 10, 0, 2, 3, 10);
    zs_table_add(&pt, "bn.weight", 1, 0, 1.0f, 1, 3);
    zs_table_add(&pt, "bn.running_var", 0, 0, 1.0f, 1, 3);
    CHECK(pt.n == 3 && pt.t[1].offset % 16 == 0 && pt.ntrain == pt.t[2].offset);
    float *p = zeros(pt.total), *q = zeros(pt.total);
    zs_table_init_params(&pt, p, 7);
    zs_table_init_params(&pt, q, 7);
    CHECK(memcmp(p, q, sizeof(float) * pt.total) == 0);
    float bound = 1.0f / sqrtf(10.0f), mx = 0;
    for (int i = 0; i < 30; i++) mx = fmaxf(mx, fabsf(p[i]));
    CHECK(mx <= bound && mx > 0.8f * bound);
    CHECK(p[pt.t[1].offset] == 1.0f && p[pt.t[2].offset + 2] == 1.0f);
    zs_table_init_params(&pt, q, 8);
    CHECK(memcmp(p, q, sizeof(float) * 30) != 0);
    CHECK(zs_table_find(&pt, "bn.weight") == &pt.t[1] && !zs_table_find(&pt, "nope"));
    free(p); free(q);
    zs_table_free(&pt);
}

int main(void)
{
    zs_blas_init();
    /* tests/nn.cmake runs this twice, the second time with the tiles of an AVX2-only CPU:
     * conv.c's own choice, the one the checks below exercise */
    const char *narrow = getenv("ZS_SIMD_NARROW");
    if (narrow && strcmp(narrow, "1") == 0) CHECK(!zs_nn_wide_tiles());
    printf("tiles: %s\n", zs_nn_wide_tiles() ? "wide (AVX-512)" : "narrow (AVX2 and older)");
    /* encoder-like, decoder-like and odd shapes */
    test_conv((zs_conv_shape){2, 3, 8, 8, 4, 4, 4, 2, 1}, 0);
    test_conv((zs_conv_shape){3, 2, 7, 5, 3, 3, 3, 1, 1}, 1);
    test_conv((zs_conv_shape){1, 4, 6, 6, 2, 1, 1, 1, 0}, 1);
    test_conv((zs_conv_shape){2, 2, 9, 7, 3, 3, 2, 3, 0}, 1);
    test_conv((zs_conv_shape){2, 2, 5, 5, 2, 5, 5, 1, 2}, 0);
    /* the fast path's chunking: chunks of 2 images then a lone one (P = 160) */
    test_conv((zs_conv_shape){3, 2, 32, 20, 3, 4, 4, 2, 1}, 1);
    test_upsample();
    test_upconv((zs_upconv_shape){2, 3, 4, 4, 5}, 0);
    test_upconv((zs_upconv_shape){3, 2, 3, 5, 3}, 1);
    test_upconv((zs_upconv_shape){1, 4, 2, 2, 2}, 1);
    /* im2col + sgemm path (OC > 4) with chunks of 3 then 2 images (HW = 96) */
    test_upconv((zs_upconv_shape){5, 2, 8, 12, 6}, 1);
    /* ... with a GEMM width (2 x 15) that leaves a tail after 16-wide tiles */
    test_upconv((zs_upconv_shape){2, 3, 3, 5, 7}, 0);
    /* packed inference GEMM's 8 x 16 tiles (two 4-row panels, width 2 x 16)
     * followed by a lone 4-row panel with 3 rows used (OC = 11) */
    test_upconv((zs_upconv_shape){2, 3, 4, 4, 11}, 1);
    /* ... and 8 x 16 tiles that are skipped because the width (15) is not a multiple of 16 */
    test_upconv((zs_upconv_shape){1, 2, 3, 5, 16}, 0);
    /* direct path (OC <= 4) like the output layer, smaller: flat runs of 7 x 11 = 9 vectors and a tail */
    test_upconv((zs_upconv_shape){2, 8, 7, 9, 3}, 1);
    /* packed windowed GEMM (no im2col): W = 8 (two 8-float row pieces per vector), two images, OC = 11
     * (8 x 16 tiles then a 4-row panel with 3 rows); W = 16 and W = 32 (one or two vectors per row) */
    test_upconv((zs_upconv_shape){2, 3, 2, 8, 11}, 1);
    test_upconv((zs_upconv_shape){1, 2, 3, 16, 8}, 0);
    test_upconv((zs_upconv_shape){1, 2, 2, 32, 5}, 1);
    /* direct path with OC = 1, 2 and 4 (each a separate register tile) */
    test_upconv((zs_upconv_shape){1, 3, 5, 6, 1}, 1);
    test_upconv((zs_upconv_shape){1, 2, 4, 7, 2}, 0);
    test_upconv((zs_upconv_shape){1, 2, 3, 4, 4}, 1);
    test_dense(3, 17, 5);
    test_dense(1, 64, 32);
    test_bn(1, 0);
    test_bn(2, 0);
    test_bn(4, 1);
    test_bn_running();
    test_elementwise();
    test_recon_loss(ZS_LOSS_SSE);
    test_recon_loss(ZS_LOSS_BCE);
    test_kl_reparam();
    test_adam();
    test_table();
    TEST_END();
}
