/* conv2d, nearest upsample and the fused upsample+conv3x3 ("upconv"):
 * plain reference loops and im2col + sgemm fast paths (see zspace/nn.h).
 *
 * The fast paths lay the whole batch slice out as one GEMM, so that small
 * spatial layers (4x4 output) still give OpenBLAS wide matrices:
 *   cols (K, N*P), K = C*KH*KW, P = OH*OW, column b*P + p for image b.
 *   tmp  (OC, N*P) = W (OC, K) x cols, then scattered to NCHW. */
#include "zspace/nn.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

int zs_conv_oh(const zs_conv_shape *s) { return (s->h + 2 * s->pad - s->kh) / s->stride + 1; }
int zs_conv_ow(const zs_conv_shape *s) { return (s->w + 2 * s->pad - s->kw) / s->stride + 1; }

size_t zs_conv_cols_size(const zs_conv_shape *s)
{
    return (size_t)s->c * s->kh * s->kw * (size_t)s->n * zs_conv_oh(s) * zs_conv_ow(s);
}

size_t zs_conv_tmp_size(const zs_conv_shape *s)
{
    size_t np = (size_t)s->n * zs_conv_oh(s) * zs_conv_ow(s);
    return (size_t)s->oc * np + zs_conv_cols_size(s);
}

/* ---- reference ----------------------------------------------------------- */
void zs_conv2d_forward_ref(const zs_conv_shape *s, const float *x, const float *w, const float *b, float *y)
{
    int oh_ = zs_conv_oh(s), ow_ = zs_conv_ow(s);
    for (int n = 0; n < s->n; n++)
        for (int oc = 0; oc < s->oc; oc++)
            for (int oh = 0; oh < oh_; oh++)
                for (int ow = 0; ow < ow_; ow++) {
                    float sum = b ? b[oc] : 0.0f;
                    for (int c = 0; c < s->c; c++)
                        for (int kh = 0; kh < s->kh; kh++)
                            for (int kw = 0; kw < s->kw; kw++) {
                                int ih = oh * s->stride - s->pad + kh, iw = ow * s->stride - s->pad + kw;
                                if (ih < 0 || ih >= s->h || iw < 0 || iw >= s->w) continue;
                                sum += x[(((size_t)n * s->c + c) * s->h + ih) * s->w + iw] *
                                       w[(((size_t)oc * s->c + c) * s->kh + kh) * s->kw + kw];
                            }
                    y[(((size_t)n * s->oc + oc) * oh_ + oh) * ow_ + ow] = sum;
                }
}

void zs_conv2d_backward_ref(const zs_conv_shape *s, const float *x, const float *w, const float *dy, float *dx,
                            float *dw, float *db)
{
    int oh_ = zs_conv_oh(s), ow_ = zs_conv_ow(s);
    if (dx) memset(dx, 0, sizeof(float) * (size_t)s->n * s->c * s->h * s->w);
    for (int n = 0; n < s->n; n++)
        for (int oc = 0; oc < s->oc; oc++)
            for (int oh = 0; oh < oh_; oh++)
                for (int ow = 0; ow < ow_; ow++) {
                    float g = dy[(((size_t)n * s->oc + oc) * oh_ + oh) * ow_ + ow];
                    if (db) db[oc] += g;
                    for (int c = 0; c < s->c; c++)
                        for (int kh = 0; kh < s->kh; kh++)
                            for (int kw = 0; kw < s->kw; kw++) {
                                int ih = oh * s->stride - s->pad + kh, iw = ow * s->stride - s->pad + kw;
                                if (ih < 0 || ih >= s->h || iw < 0 || iw >= s->w) continue;
                                size_t xi = (((size_t)n * s->c + c) * s->h + ih) * s->w + iw;
                                size_t wi = (((size_t)oc * s->c + c) * s->kh + kh) * s->kw + kw;
                                dw[wi] += g * x[xi];
                                if (dx) dx[xi] += g * w[wi];
                            }
                }
}

/* ---- fast path ----------------------------------------------------------- */
static void im2col(const zs_conv_shape *s, const float *x, float *cols)
{
    int oh_ = zs_conv_oh(s), ow_ = zs_conv_ow(s);
    size_t p = (size_t)oh_ * ow_, np = (size_t)s->n * p;
    for (int c = 0; c < s->c; c++)
        for (int kh = 0; kh < s->kh; kh++)
            for (int kw = 0; kw < s->kw; kw++) {
                float *row = cols + ((size_t)(c * s->kh + kh) * s->kw + kw) * np;
                for (int n = 0; n < s->n; n++) {
                    const float *xp = x + ((size_t)n * s->c + c) * s->h * s->w;
                    float *r = row + (size_t)n * p;
                    for (int oh = 0; oh < oh_; oh++) {
                        int ih = oh * s->stride - s->pad + kh;
                        float *ro = r + (size_t)oh * ow_;
                        if (ih < 0 || ih >= s->h) {
                            memset(ro, 0, sizeof(float) * (size_t)ow_);
                            continue;
                        }
                        const float *xr = xp + (size_t)ih * s->w;
                        for (int ow = 0; ow < ow_; ow++) {
                            int iw = ow * s->stride - s->pad + kw;
                            ro[ow] = (iw >= 0 && iw < s->w) ? xr[iw] : 0.0f;
                        }
                    }
                }
            }
}

static void col2im(const zs_conv_shape *s, const float *cols, float *dx)
{
    int oh_ = zs_conv_oh(s), ow_ = zs_conv_ow(s);
    size_t p = (size_t)oh_ * ow_, np = (size_t)s->n * p;
    memset(dx, 0, sizeof(float) * (size_t)s->n * s->c * s->h * s->w);
    for (int c = 0; c < s->c; c++)
        for (int kh = 0; kh < s->kh; kh++)
            for (int kw = 0; kw < s->kw; kw++) {
                const float *row = cols + ((size_t)(c * s->kh + kh) * s->kw + kw) * np;
                for (int n = 0; n < s->n; n++) {
                    float *xp = dx + ((size_t)n * s->c + c) * s->h * s->w;
                    const float *r = row + (size_t)n * p;
                    for (int oh = 0; oh < oh_; oh++) {
                        int ih = oh * s->stride - s->pad + kh;
                        if (ih < 0 || ih >= s->h) continue;
                        float *xr = xp + (size_t)ih * s->w;
                        const float *ro = r + (size_t)oh * ow_;
                        for (int ow = 0; ow < ow_; ow++) {
                            int iw = ow * s->stride - s->pad + kw;
                            if (iw >= 0 && iw < s->w) xr[iw] += ro[ow];
                        }
                    }
                }
            }
}

/* (OC, N*P) <-> (N, OC, P), adding a bias on the way out. */
static void scatter_nchw(int n, int oc, size_t p, const float *tmp, const float *b, float *y)
{
    size_t np = (size_t)n * p;
    for (int i = 0; i < n; i++)
        for (int o = 0; o < oc; o++) {
            const float *src = tmp + (size_t)o * np + (size_t)i * p;
            float *dst = y + ((size_t)i * oc + o) * p;
            float bias = b ? b[o] : 0.0f;
            for (size_t k = 0; k < p; k++) dst[k] = src[k] + bias;
        }
}

static void gather_nchw(int n, int oc, size_t p, const float *dy, float *tmp, float *db)
{
    size_t np = (size_t)n * p;
    for (int i = 0; i < n; i++)
        for (int o = 0; o < oc; o++) {
            const float *src = dy + ((size_t)i * oc + o) * p;
            float *dst = tmp + (size_t)o * np + (size_t)i * p;
            float sum = 0.0f;
            for (size_t k = 0; k < p; k++) {
                dst[k] = src[k];
                sum += src[k];
            }
            if (db) db[o] += sum;
        }
}

void zs_conv2d_forward(const zs_conv_shape *s, const float *x, const float *w, const float *b, float *y, float *cols,
                       float *tmp)
{
    int k = s->c * s->kh * s->kw;
    size_t p = (size_t)zs_conv_oh(s) * zs_conv_ow(s), np = (size_t)s->n * p;
    im2col(s, x, cols);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s->oc, (int)np, k, 1.0f, w, k, cols, (int)np, 0.0f, tmp,
                (int)np);
    scatter_nchw(s->n, s->oc, p, tmp, b, y);
}

void zs_conv2d_backward(const zs_conv_shape *s, const float *w, const float *dy, float *dx, float *dw, float *db,
                        const float *cols, float *tmp)
{
    int k = s->c * s->kh * s->kw;
    size_t p = (size_t)zs_conv_oh(s) * zs_conv_ow(s), np = (size_t)s->n * p;
    float *dyt = tmp, *dcols = tmp + (size_t)s->oc * np;
    gather_nchw(s->n, s->oc, p, dy, dyt, db);
    /* dW (OC, K) += dy (OC, NP) x cols^T (NP, K) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s->oc, k, (int)np, 1.0f, dyt, (int)np, cols, (int)np, 1.0f,
                dw, k);
    if (!dx) return;
    /* dcols (K, NP) = W^T (K, OC) x dy (OC, NP) */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, (int)np, s->oc, 1.0f, w, k, dyt, (int)np, 0.0f, dcols,
                (int)np);
    col2im(s, dcols, dx);
}

/* ---- nearest upsample ---------------------------------------------------- */
void zs_upsample2x_forward(int n, int c, int h, int w, const float *x, float *y)
{
    for (size_t pl = 0; pl < (size_t)n * c; pl++) {
        const float *xp = x + pl * h * w;
        float *yp = y + pl * 4 * h * w;
        for (int i = 0; i < 2 * h; i++)
            for (int j = 0; j < 2 * w; j++) yp[(size_t)i * 2 * w + j] = xp[(size_t)(i / 2) * w + j / 2];
    }
}

void zs_upsample2x_backward(int n, int c, int h, int w, const float *dy, float *dx)
{
    for (size_t pl = 0; pl < (size_t)n * c; pl++) {
        float *xp = dx + pl * h * w;
        const float *yp = dy + pl * 4 * h * w;
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) {
                const float *q = yp + (size_t)2 * i * 2 * w + 2 * j;
                xp[(size_t)i * w + j] = q[0] + q[1] + q[2 * w] + q[2 * w + 1];
            }
    }
}

/* ---- upconv ---------------------------------------------------------------
 * Output row 2i+a, kernel row kh reads input row i + o(a, kh) with
 * o = floor((a + kh - 1) / 2) in {-1, 0, 1}; within phase a the two distinct
 * offsets are a-1 and a, numbered t = o + 1 - a in {0, 1}. */
static inline int phase_tap(int a, int kh) { return ((a + kh + 1) >> 1) - 1 + 1 - a; }

size_t zs_upconv_cols_size(const zs_upconv_shape *s) { return (size_t)4 * 4 * s->c * s->n * s->h * s->w; }
size_t zs_upconv_tmp_size(const zs_upconv_shape *s)
{
    size_t np = (size_t)s->n * s->h * s->w;
    return (size_t)s->oc * np + (size_t)4 * s->c * np;
}
size_t zs_upconv_weff_size(const zs_upconv_shape *s) { return (size_t)4 * s->oc * 4 * s->c; }

void zs_upconv_phase_weights(const zs_upconv_shape *s, const float *w, float *weff)
{
    size_t k4 = (size_t)4 * s->c;
    memset(weff, 0, sizeof(float) * zs_upconv_weff_size(s));
    for (int a = 0; a < 2; a++)
        for (int bp = 0; bp < 2; bp++) {
            float *wp = weff + (size_t)(a * 2 + bp) * s->oc * k4;
            for (int oc = 0; oc < s->oc; oc++)
                for (int c = 0; c < s->c; c++)
                    for (int kh = 0; kh < 3; kh++)
                        for (int kw = 0; kw < 3; kw++)
                            wp[(size_t)oc * k4 + (size_t)(c * 2 + phase_tap(a, kh)) * 2 + phase_tap(bp, kw)] +=
                                w[(((size_t)oc * s->c + c) * 3 + kh) * 3 + kw];
        }
}

static void upconv_fold_grad(const zs_upconv_shape *s, const float *dweff, float *dw)
{
    size_t k4 = (size_t)4 * s->c;
    for (int a = 0; a < 2; a++)
        for (int bp = 0; bp < 2; bp++) {
            const float *g = dweff + (size_t)(a * 2 + bp) * s->oc * k4;
            for (int oc = 0; oc < s->oc; oc++)
                for (int c = 0; c < s->c; c++)
                    for (int kh = 0; kh < 3; kh++)
                        for (int kw = 0; kw < 3; kw++)
                            dw[(((size_t)oc * s->c + c) * 3 + kh) * 3 + kw] +=
                                g[(size_t)oc * k4 + (size_t)(c * 2 + phase_tap(a, kh)) * 2 + phase_tap(bp, kw)];
        }
}

void zs_upconv_forward_ref(const zs_upconv_shape *s, const float *x, const float *w, const float *b, float *y)
{
    float *up = zs_xmalloc(sizeof(float) * (size_t)s->n * s->c * 4 * s->h * s->w);
    zs_upsample2x_forward(s->n, s->c, s->h, s->w, x, up);
    zs_conv_shape cs = {s->n, s->c, 2 * s->h, 2 * s->w, s->oc, 3, 3, 1, 1};
    zs_conv2d_forward_ref(&cs, up, w, b, y);
    free(up);
}

void zs_upconv_backward_ref(const zs_upconv_shape *s, const float *x, const float *w, const float *dy, float *dx,
                            float *dw, float *db)
{
    size_t upn = (size_t)s->n * s->c * 4 * s->h * s->w;
    float *up = zs_xmalloc(sizeof(float) * upn), *dup = zs_xmalloc(sizeof(float) * upn);
    zs_upsample2x_forward(s->n, s->c, s->h, s->w, x, up);
    zs_conv_shape cs = {s->n, s->c, 2 * s->h, 2 * s->w, s->oc, 3, 3, 1, 1};
    zs_conv2d_backward_ref(&cs, up, w, dy, dup, dw, db);
    if (dx) zs_upsample2x_backward(s->n, s->c, s->h, s->w, dup, dx);
    free(up);
    free(dup);
}

/* cols of phase (a, bp): row (c, ty, tx) holds x[i + ty - 1 + a][j + tx - 1 + bp]. */
static void upconv_im2col(const zs_upconv_shape *s, const float *x, int a, int bp, float *cols)
{
    size_t hw = (size_t)s->h * s->w, np = (size_t)s->n * hw;
    for (int c = 0; c < s->c; c++)
        for (int ty = 0; ty < 2; ty++)
            for (int tx = 0; tx < 2; tx++) {
                float *row = cols + ((size_t)(c * 2 + ty) * 2 + tx) * np;
                int dy = ty - 1 + a, dxo = tx - 1 + bp;
                for (int n = 0; n < s->n; n++) {
                    const float *xp = x + ((size_t)n * s->c + c) * hw;
                    float *r = row + (size_t)n * hw;
                    for (int i = 0; i < s->h; i++) {
                        int si = i + dy;
                        float *ro = r + (size_t)i * s->w;
                        if (si < 0 || si >= s->h) {
                            memset(ro, 0, sizeof(float) * (size_t)s->w);
                            continue;
                        }
                        const float *xr = xp + (size_t)si * s->w;
                        int j0 = dxo < 0 ? 1 : 0, j1 = dxo > 0 ? s->w - 1 : s->w;
                        if (j0) ro[0] = 0.0f;
                        if (j1 < s->w) ro[s->w - 1] = 0.0f;
                        memcpy(ro + j0, xr + j0 + dxo, sizeof(float) * (size_t)(j1 - j0));
                    }
                }
            }
}

static void upconv_col2im_add(const zs_upconv_shape *s, const float *cols, int a, int bp, float *dx)
{
    size_t hw = (size_t)s->h * s->w, np = (size_t)s->n * hw;
    for (int c = 0; c < s->c; c++)
        for (int ty = 0; ty < 2; ty++)
            for (int tx = 0; tx < 2; tx++) {
                const float *row = cols + ((size_t)(c * 2 + ty) * 2 + tx) * np;
                int dy = ty - 1 + a, dxo = tx - 1 + bp;
                for (int n = 0; n < s->n; n++) {
                    float *xp = dx + ((size_t)n * s->c + c) * hw;
                    const float *r = row + (size_t)n * hw;
                    for (int i = 0; i < s->h; i++) {
                        int si = i + dy;
                        if (si < 0 || si >= s->h) continue;
                        float *xr = xp + (size_t)si * s->w;
                        const float *ro = r + (size_t)i * s->w;
                        int j0 = dxo < 0 ? 1 : 0, j1 = dxo > 0 ? s->w - 1 : s->w;
                        for (int j = j0; j < j1; j++) xr[j + dxo] += ro[j];
                    }
                }
            }
}

void zs_upconv_forward(const zs_upconv_shape *s, const float *x, const float *weff, const float *b, float *y,
                       float *cols, float *tmp)
{
    int k4 = 4 * s->c;
    size_t hw = (size_t)s->h * s->w, np = (size_t)s->n * hw;
    int ow = 2 * s->w;
    for (int a = 0; a < 2; a++)
        for (int bp = 0; bp < 2; bp++) {
            int ph = a * 2 + bp;
            float *pc = cols + (size_t)ph * k4 * np;
            upconv_im2col(s, x, a, bp, pc);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s->oc, (int)np, k4, 1.0f,
                        weff + (size_t)ph * s->oc * k4, k4, pc, (int)np, 0.0f, tmp, (int)np);
            for (int n = 0; n < s->n; n++)
                for (int o = 0; o < s->oc; o++) {
                    const float *src = tmp + (size_t)o * np + (size_t)n * hw;
                    float *dst = y + ((size_t)n * s->oc + o) * 4 * hw;
                    float bias = b ? b[o] : 0.0f;
                    for (int i = 0; i < s->h; i++) {
                        float *drow = dst + (size_t)(2 * i + a) * ow + bp;
                        const float *srow = src + (size_t)i * s->w;
                        for (int j = 0; j < s->w; j++) drow[2 * j] = srow[j] + bias;
                    }
                }
        }
}

void zs_upconv_backward(const zs_upconv_shape *s, const float *weff, const float *dy, float *dx, float *dw, float *db,
                        const float *cols, float *tmp, float *dweff)
{
    int k4 = 4 * s->c;
    size_t hw = (size_t)s->h * s->w, np = (size_t)s->n * hw;
    int ow = 2 * s->w;
    float *dyt = tmp, *dcols = tmp + (size_t)s->oc * np;
    if (dx) memset(dx, 0, sizeof(float) * (size_t)s->n * s->c * hw);
    for (int a = 0; a < 2; a++)
        for (int bp = 0; bp < 2; bp++) {
            int ph = a * 2 + bp;
            for (int n = 0; n < s->n; n++)
                for (int o = 0; o < s->oc; o++) {
                    const float *src = dy + ((size_t)n * s->oc + o) * 4 * hw;
                    float *dst = dyt + (size_t)o * np + (size_t)n * hw;
                    float sum = 0.0f;
                    for (int i = 0; i < s->h; i++) {
                        const float *srow = src + (size_t)(2 * i + a) * ow + bp;
                        float *drow = dst + (size_t)i * s->w;
                        for (int j = 0; j < s->w; j++) {
                            drow[j] = srow[2 * j];
                            sum += srow[2 * j];
                        }
                    }
                    if (db) db[o] += sum;
                }
            const float *pc = cols + (size_t)ph * k4 * np;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s->oc, k4, (int)np, 1.0f, dyt, (int)np, pc, (int)np,
                        0.0f, dweff + (size_t)ph * s->oc * k4, k4);
            if (dx) {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k4, (int)np, s->oc, 1.0f,
                            weff + (size_t)ph * s->oc * k4, k4, dyt, (int)np, 0.0f, dcols, (int)np);
                upconv_col2im_add(s, dcols, a, bp, dx);
            }
        }
    upconv_fold_grad(s, dweff, dw);
}
