/* conv2d, nearest upsample and the fused upsample+conv3x3 ("upconv"):
 * plain reference loops and fast paths (see zspace/nn.h).
 *
 * The fast paths are im2col + sgemm on a few images at a time, so that the
 * im2col matrix stays in L2 while OpenBLAS packs it, and small spatial
 * layers (4x4 output) still give OpenBLAS matrices >= CHUNK_COLS wide.
 * Backward rebuilds im2col from the layer input instead of keeping it. The
 * im2col rows are plain copies out of zero-padded planes (split by column
 * phase when the stride is 2), so no loop tests a border. */
#include "zspace/nn.h"

#include "simd.h"

#include <stdlib.h>
#include <string.h>

int zs_conv_oh(const zs_conv_shape *s) { return (s->h + 2 * s->pad - s->kh) / s->stride + 1; }
int zs_conv_ow(const zs_conv_shape *s) { return (s->w + 2 * s->pad - s->kw) / s->stride + 1; }

int zs_nn_wide_tiles(void) { return zs_simd_wide(); }

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

/* ---- fast path: helpers ---------------------------------------------------- */
#define CHUNK_COLS 256

static int chunk_images(int n, size_t p)
{
    size_t g = (CHUNK_COLS + p - 1) / p;
    return g < (size_t)n ? (int)g : n;
}

/* Sum of p[0..n) in 8 lanes added in a fixed order. */
ZS_SIMD_CLONES
static float sum_lanes(const float *p, size_t n)
{
    zs_v8 l = zs_v8_zero();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) l += zs_v8_load(p + i);
    for (; i < n; i++) l[0] += p[i];
    return zs_v8_sum(l);
}

/* Block copies and adds between strided layouts: n blocks of rows x cols
 * (block strides sb, db; row strides sr, dr). Rows are short (4..32). */
ZS_SIMD_CLONES
static void copy_blocks(int n, int rows, int cols, const float *src, size_t sb, size_t sr, float *dst, size_t db,
                        size_t dr)
{
    for (int i = 0; i < n; i++)
        for (int r = 0; r < rows; r++) {
            const float *s = src + i * sb + r * sr;
            float *d = dst + i * db + r * dr;
            int j = 0;
            for (; j + 8 <= cols; j += 8) zs_v8_store(d + j, zs_v8_load(s + j));
            for (; j + 4 <= cols; j += 4) zs_v4_store(d + j, zs_v4_load(s + j));
            for (; j < cols; j++) d[j] = s[j];
        }
}

ZS_SIMD_CLONES
static void add_blocks(int n, int rows, int cols, const float *src, size_t sb, size_t sr, float *dst, size_t db,
                       size_t dr)
{
    for (int i = 0; i < n; i++)
        for (int r = 0; r < rows; r++) {
            const float *s = src + i * sb + r * sr;
            float *d = dst + i * db + r * dr;
            int j = 0;
            for (; j + 8 <= cols; j += 8) zs_v8_store(d + j, zs_v8_load(d + j) + zs_v8_load(s + j));
            for (; j + 4 <= cols; j += 4) zs_v4_store(d + j, zs_v4_load(d + j) + zs_v4_load(s + j));
            for (; j < cols; j++) d[j] += s[j];
        }
}

/* Copy `planes` H x W planes into planes with a one-pixel zero border. */
static void pad_planes(int planes, int h, int w, const float *x, float *xp)
{
    size_t pl = (size_t)(h + 2) * (w + 2);
    memset(xp, 0, sizeof(float) * pl * planes);
    copy_blocks(planes, h, w, x, (size_t)h * w, (size_t)w, xp + w + 3, pl, (size_t)w + 2);
}

/* Column phases of a row: out_r[m] = in[m*stride + r], r < stride, m < M;
 * phase r at out + r * pstride. And the inverse (in = interleave of out). */
ZS_SIMD_CLONES
static void split_columns(int stride, int m, const float *in, float *out, size_t pstride)
{
    if (stride == 1) {
        memcpy(out, in, sizeof(float) * (size_t)m);
        return;
    }
    int j = 0;
    if (stride == 2)
        for (; j + 8 <= m; j += 8) {
            zs_v8 u = zs_v8_load(in + 2 * j), v = zs_v8_load(in + 2 * j + 8);
            zs_v8_store(out + j, zs_v8_even(u, v));
            zs_v8_store(out + pstride + j, zs_v8_odd(u, v));
        }
    for (; j < m; j++)
        for (int r = 0; r < stride; r++) out[r * pstride + j] = in[j * stride + r];
}

ZS_SIMD_CLONES
static void merge_columns(int stride, int m, const float *in, size_t pstride, float *out)
{
    if (stride == 1) {
        memcpy(out, in, sizeof(float) * (size_t)m);
        return;
    }
    int j = 0;
    if (stride == 2)
        for (; j + 8 <= m; j += 8) {
            zs_v8 e = zs_v8_load(in + j), o = zs_v8_load(in + pstride + j);
            zs_v8_store(out + 2 * j, zs_v8_zip_lo(e, o));
            zs_v8_store(out + 2 * j + 8, zs_v8_zip_hi(e, o));
        }
    for (; j < m; j++)
        for (int r = 0; r < stride; r++) out[j * stride + r] = in[r * pstride + j];
}

/* ---- conv2d fast path --------------------------------------------------------
 * Per chunk of g images (g*P >= CHUNK_COLS, P = OH*OW, K = C*KH*KW):
 *   xs    (g, C, S, R, M): x zero-padded to R = H + 2 pad rows, columns split
 *         by phase: xs(n, c, r, row, m) = xpad(n, c, row, m*S + r), S = stride,
 *         M = OW + (KW-1)/S, so tap (kh, kw) of output (oh, ow) is
 *         xs(n, c, kw % S, oh*S + kh, ow + kw / S): im2col rows are copies.
 *   cols  (K, g*P), column n*P + p; row (c, kh, kw)
 *   tmp   (OC, g*P): GEMM output (g > 1) or dy gathered
 *   dcols (K, g*P), dxs (as xs): backward only
 *   row   S*M + 8 floats: one padded input row
 * With g = 1 the GEMM output (OC, P) is the image's NCHW output itself. */
typedef struct conv_plan {
    int g, oh, ow, k, rows, m;
    size_t p, xs;   /* floats per image: output plane, split planes */
} conv_plan;

static conv_plan conv_plan_of(const zs_conv_shape *s)
{
    conv_plan q;
    q.oh = zs_conv_oh(s);
    q.ow = zs_conv_ow(s);
    q.p = (size_t)q.oh * q.ow;
    q.g = chunk_images(s->n, q.p);
    q.k = s->c * s->kh * s->kw;
    q.rows = s->h + 2 * s->pad;
    q.m = q.ow + (s->kw - 1) / s->stride;
    q.xs = (size_t)s->c * s->stride * q.rows * q.m;
    return q;
}

size_t zs_conv_scratch_size(const zs_conv_shape *s)
{
    conv_plan q = conv_plan_of(s);
    size_t gp = (size_t)q.g * q.p;
    return 2 * (size_t)q.k * gp + (size_t)s->oc * gp + 2 * q.g * q.xs + (size_t)s->stride * q.m + 8;
}

/* xs of n images (see above). */
static void conv_split(const zs_conv_shape *s, const conv_plan *q, int n, const float *x, float *xs, float *row)
{
    int st = s->stride, wp = st * q->m, cw = s->w < wp - s->pad ? s->w : wp - s->pad;
    size_t phase = (size_t)q->rows * q->m;
    memset(row, 0, sizeof(float) * (size_t)wp);
    for (int i = 0; i < n * s->c; i++) {
        const float *xp = x + (size_t)i * s->h * s->w;
        float *o = xs + (size_t)i * st * phase;
        for (int r = 0; r < q->rows; r++) {
            int ih = r - s->pad;
            if (ih < 0 || ih >= s->h) {
                for (int ph = 0; ph < st; ph++) memset(o + ph * phase + (size_t)r * q->m, 0, sizeof(float) * q->m);
                continue;
            }
            if (cw > 0) memcpy(row + s->pad, xp + (size_t)ih * s->w, sizeof(float) * (size_t)cw);
            split_columns(st, q->m, row, o + (size_t)r * q->m, phase);
        }
    }
}

/* dx of n images = the inverse of conv_split applied to dxs (padding dropped). */
static void conv_merge(const zs_conv_shape *s, const conv_plan *q, int n, const float *dxs, float *dx, float *row)
{
    int st = s->stride, wp = st * q->m, cw = s->w < wp - s->pad ? s->w : wp - s->pad;
    size_t phase = (size_t)q->rows * q->m;
    for (int i = 0; i < n * s->c; i++) {
        const float *in = dxs + (size_t)i * st * phase;
        float *xp = dx + (size_t)i * s->h * s->w;
        for (int ih = 0; ih < s->h; ih++) {
            float *xr = xp + (size_t)ih * s->w;
            merge_columns(st, q->m, in + (size_t)(ih + s->pad) * q->m, phase, row);
            if (cw > 0) memcpy(xr, row + s->pad, sizeof(float) * (size_t)cw);
            if (cw < s->w) memset(xr + (cw > 0 ? cw : 0), 0, sizeof(float) * (size_t)(s->w - (cw > 0 ? cw : 0)));
        }
    }
}

static void conv_im2col(const zs_conv_shape *s, const conv_plan *q, int n, const float *xs, float *cols)
{
    size_t np = (size_t)n * q->p, phase = (size_t)q->rows * q->m, img = (size_t)s->c * s->stride * phase;
    for (int c = 0; c < s->c; c++)
        for (int kh = 0; kh < s->kh; kh++)
            for (int kw = 0; kw < s->kw; kw++) {
                const float *src =
                    xs + ((size_t)c * s->stride + kw % s->stride) * phase + (size_t)kh * q->m + kw / s->stride;
                copy_blocks(n, q->oh, q->ow, src, img, (size_t)s->stride * q->m,
                            cols + ((size_t)(c * s->kh + kh) * s->kw + kw) * np, q->p, (size_t)q->ow);
            }
}

/* dxs (zeroed by the caller) += col2im(dcols). */
static void conv_col2im(const zs_conv_shape *s, const conv_plan *q, int n, const float *cols, float *dxs)
{
    size_t np = (size_t)n * q->p, phase = (size_t)q->rows * q->m, img = (size_t)s->c * s->stride * phase;
    for (int c = 0; c < s->c; c++)
        for (int kh = 0; kh < s->kh; kh++)
            for (int kw = 0; kw < s->kw; kw++) {
                float *dst =
                    dxs + ((size_t)c * s->stride + kw % s->stride) * phase + (size_t)kh * q->m + kw / s->stride;
                add_blocks(n, q->oh, q->ow, cols + ((size_t)(c * s->kh + kh) * s->kw + kw) * np, q->p, (size_t)q->ow,
                           dst, img, (size_t)s->stride * q->m);
            }
}

/* (OC, N*P) -> (N, OC, P), adding a bias on the way out; and back. */
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

static void gather_nchw(int n, int oc, size_t p, const float *dy, float *tmp)
{
    size_t np = (size_t)n * p;
    for (int i = 0; i < n; i++)
        for (int o = 0; o < oc; o++)
            memcpy(tmp + (size_t)o * np + (size_t)i * p, dy + ((size_t)i * oc + o) * p, sizeof(float) * p);
}

static void bias_grad(int n, int oc, size_t p, const float *dy, float *db)
{
    for (int i = 0; i < n; i++)
        for (int o = 0; o < oc; o++) db[o] += sum_lanes(dy + ((size_t)i * oc + o) * p, p);
}

void zs_conv2d_forward(const zs_conv_shape *s, const float *x, const float *w, const float *b, float *y,
                       float *scratch)
{
    conv_plan q = conv_plan_of(s);
    size_t gp = (size_t)q.g * q.p, xi = (size_t)s->c * s->h * s->w, yi = (size_t)s->oc * q.p;
    float *cols = scratch, *tmp = cols + 2 * (size_t)q.k * gp, *xs = tmp + (size_t)s->oc * gp;
    float *row = xs + 2 * q.g * q.xs;
    for (int i0 = 0; i0 < s->n; i0 += q.g) {
        int n = s->n - i0 < q.g ? s->n - i0 : q.g, np = (int)(n * q.p);
        float *yc = y + i0 * yi;
        conv_split(s, &q, n, x + i0 * xi, xs, row);
        conv_im2col(s, &q, n, xs, cols);
        zs_sgemm(ZS_N, ZS_N, s->oc, np, q.k, 1.0f, w, q.k, cols, np, 0.0f,
                    n == 1 ? yc : tmp, np);
        if (n > 1) scatter_nchw(n, s->oc, q.p, tmp, b, yc);
        else if (b)
            for (int o = 0; o < s->oc; o++)
                for (size_t k = 0; k < q.p; k++) yc[o * q.p + k] += b[o];
    }
}

void zs_conv2d_backward(const zs_conv_shape *s, const float *x, const float *w, const float *dy, float *dx, float *dw,
                        float *db, float *scratch)
{
    conv_plan q = conv_plan_of(s);
    size_t gp = (size_t)q.g * q.p, xi = (size_t)s->c * s->h * s->w, yi = (size_t)s->oc * q.p;
    float *cols = scratch, *dcols = cols + (size_t)q.k * gp, *tmp = dcols + (size_t)q.k * gp;
    float *xs = tmp + (size_t)s->oc * gp, *dxs = xs + q.g * q.xs, *row = dxs + q.g * q.xs;
    if (db) bias_grad(s->n, s->oc, q.p, dy, db);
    for (int i0 = 0; i0 < s->n; i0 += q.g) {
        int n = s->n - i0 < q.g ? s->n - i0 : q.g, np = (int)(n * q.p);
        const float *dyc = dy + i0 * yi;
        if (dw) {   /* the columns of x are for dW only */
            conv_split(s, &q, n, x + i0 * xi, xs, row);
            conv_im2col(s, &q, n, xs, cols);
        }
        if (n > 1) {
            gather_nchw(n, s->oc, q.p, dyc, tmp);
            dyc = tmp;
        }
        /* dW (OC, K) += dy (OC, NP) x cols^T (NP, K); none for a frozen layer */
        if (dw) zs_sgemm(ZS_N, ZS_T, s->oc, q.k, np, 1.0f, dyc, np, cols, np, 1.0f, dw, q.k);
        if (!dx) continue;
        /* dcols (K, NP) = W^T (K, OC) x dy (OC, NP) */
        zs_sgemm(ZS_T, ZS_N, q.k, np, s->oc, 1.0f, w, q.k, dyc, np, 0.0f, dcols, np);
        memset(dxs, 0, sizeof(float) * n * q.xs);
        conv_col2im(s, &q, n, dcols, dxs);
        conv_merge(s, &q, n, dxs, dx + i0 * xi, row);
    }
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
 * offsets are a-1 and a, numbered t = o + 1 - a in {0, 1}: t(0, kh) = 0 1 1,
 * t(1, kh) = 0 0 1. Tabulated: the tap ty*2 + tx of phase a*2 + b that
 * kernel element kh*3 + kw adds into. */
static const unsigned char phase_tap_of[4][9] = {
    {0, 1, 1, 2, 3, 3, 2, 3, 3}, {0, 0, 1, 2, 2, 3, 2, 2, 3}, {0, 1, 1, 0, 1, 1, 2, 3, 3}, {0, 0, 1, 0, 0, 1, 2, 2, 3}};

size_t zs_upconv_weff_size(const zs_upconv_shape *s) { return (size_t)4 * s->oc * 4 * s->c; }

void zs_upconv_phase_weights(const zs_upconv_shape *s, const float *w, float *weff)
{
    size_t k4 = (size_t)4 * s->c;
    for (int ph = 0; ph < 4; ph++)
        for (int oc = 0; oc < s->oc; oc++)
            for (int c = 0; c < s->c; c++) {
                const float *k = w + ((size_t)oc * s->c + c) * 9;
                float t[4] = {0};   /* taps (ty, tx) */
                for (int e = 0; e < 9; e++) t[phase_tap_of[ph][e]] += k[e];
                memcpy(weff + ((size_t)ph * s->oc + oc) * k4 + 4 * c, t, sizeof t);
            }
}

static void upconv_fold_grad(const zs_upconv_shape *s, const float *dweff, float *dw)
{
    size_t k4 = (size_t)4 * s->c;
    for (int oc = 0; oc < s->oc; oc++)
        for (int c = 0; c < s->c; c++) {
            float *d = dw + ((size_t)oc * s->c + c) * 9;
            for (int ph = 0; ph < 4; ph++) {
                const float *t = dweff + ((size_t)ph * s->oc + oc) * k4 + 4 * c;
                for (int e = 0; e < 9; e++) d[e] += t[phase_tap_of[ph][e]];
            }
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

/* Fast paths. Small OC (the 3-channel output layer) runs a direct loop,
 * since a GEMM with 3 rows wastes most of its work; otherwise im2col + sgemm
 * per phase on chunks of g images (as conv2d above):
 *   cols  (4C, g*HW) of one phase, row (c, ty, tx), column i*HW + p
 *   t4    (4, OC, g*HW): the four phases' outputs, or dy split by phase
 *   xp    (g, C, H+2, W+2): x with a zero border
 *   dcols (4C, g*HW), dxp (as xp): backward only
 *   dweff (4, OC, 4C), last: backward only */
#define UPCONV_DIRECT_MAX_OC 4

static int upconv_direct(const zs_upconv_shape *s) { return s->oc <= UPCONV_DIRECT_MAX_OC; }
static int upconv_chunk(const zs_upconv_shape *s) { return chunk_images(s->n, (size_t)s->h * s->w); }

/* Direct path: planes with a one-pixel zero border, W+2 wide, so every tap
 * is a flat shift and an output plane is a flat run of H*(W+2) values whose
 * last two columns are junk (never read back). SLACK covers reads past the
 * end by the largest shift. */
#define SLACK 24
static size_t pad_plane(const zs_upconv_shape *s) { return (size_t)(s->h + 2) * (s->w + 2); }

static size_t upconv_direct_scratch(const zs_upconv_shape *s)
{
    size_t pl = pad_plane(s), run = (size_t)s->h * (s->w + 2);
    /* + 64 OC: the packed path's runs are rounded up to 16 */
    return (size_t)s->c * pl + (size_t)4 * s->oc * pl + SLACK + 4 * run + 64 * (size_t)s->oc + zs_upconv_weff_size(s);
}

size_t zs_upconv_scratch_size(const zs_upconv_shape *s)
{
    if (upconv_direct(s)) return upconv_direct_scratch(s);
    size_t g = (size_t)upconv_chunk(s), ghw = g * s->h * s->w;
    return 2 * (size_t)4 * s->c * ghw + (size_t)4 * s->oc * ghw + 2 * g * s->c * pad_plane(s) +
           zs_upconv_weff_size(s);
}


/* acc (run) += w0 x0 + w1 x1 + w2 x2 + w3 x3, elementwise over flat runs. */
ZS_SIMD_CLONES
static void axpy4(size_t run, const float *w, const float *x0, const float *x1, const float *x2, const float *x3,
                  float *acc)
{
    float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
    size_t q = 0;
    for (; q + 8 <= run; q += 8)
        zs_v8_store(acc + q, zs_v8_load(acc + q) + w0 * zs_v8_load(x0 + q) + w1 * zs_v8_load(x1 + q) +
                                 w2 * zs_v8_load(x2 + q) + w3 * zs_v8_load(x3 + q));
    for (; q < run; q++) acc[q] = acc[q] + w0 * x0[q] + w1 * x1[q] + w2 * x2[q] + w3 * x3[q];
}

/* g[t] += sum over the run of d * x_t, t = 0..3. */
ZS_SIMD_CLONES
static void dot4(size_t run, const float *d, const float *x0, const float *x1, const float *x2, const float *x3,
                 float *g)
{
    zs_v8 a0 = zs_v8_zero(), a1 = a0, a2 = a0, a3 = a0;
    size_t q = 0;
    for (; q + 8 <= run; q += 8) {
        zs_v8 v = zs_v8_load(d + q);
        a0 += v * zs_v8_load(x0 + q);
        a1 += v * zs_v8_load(x1 + q);
        a2 += v * zs_v8_load(x2 + q);
        a3 += v * zs_v8_load(x3 + q);
    }
    for (; q < run; q++) {
        a0[0] += d[q] * x0[q];
        a1[0] += d[q] * x1[q];
        a2[0] += d[q] * x2[q];
        a3[0] += d[q] * x3[q];
    }
    g[0] += zs_v8_sum(a0);
    g[1] += zs_v8_sum(a1);
    g[2] += zs_v8_sum(a2);
    g[3] += zs_v8_sum(a3);
}

/* Rows 2i + a of an output plane (2H, 2W) from the phase runs p0 (bp = 0)
 * and p1 (bp = 1), W+2 wide: out (2i + a, 2j + bp) = p_bp (i, j) + bias. */
ZS_SIMD_CLONES
static void interleave_rows(int h, int w, size_t in_stride, int a, const float *p0, const float *p1, float bias,
                            float *out)
{
    for (int i = 0; i < h; i++) {
        const float *s0 = p0 + (size_t)i * in_stride, *s1 = p1 + (size_t)i * in_stride;
        float *r = out + (size_t)(2 * i + a) * 2 * w;
        int j = 0;
        for (; j + 8 <= w; j += 8) {
            zs_v8 e = zs_v8_load(s0 + j) + bias, o = zs_v8_load(s1 + j) + bias;
            zs_v8_store(r + 2 * j, zs_v8_zip_lo(e, o));
            zs_v8_store(r + 2 * j + 8, zs_v8_zip_hi(e, o));
        }
        for (; j < w; j++) {
            r[2 * j] = s0[j] + bias;
            r[2 * j + 1] = s1[j] + bias;
        }
    }
}

/* The inverse: p_bp (i, j) = in (2i + a, 2j + bp). */
ZS_SIMD_CLONES
static void deinterleave_rows(int h, int w, size_t out_stride, int a, const float *in, float *p0, float *p1)
{
    for (int i = 0; i < h; i++) {
        const float *r = in + (size_t)(2 * i + a) * 2 * w;
        float *d0 = p0 + (size_t)i * out_stride, *d1 = p1 + (size_t)i * out_stride;
        int j = 0;
        for (; j + 8 <= w; j += 8) {
            zs_v8 u = zs_v8_load(r + 2 * j), v = zs_v8_load(r + 2 * j + 8);
            zs_v8_store(d0 + j, zs_v8_even(u, v));
            zs_v8_store(d1 + j, zs_v8_odd(u, v));
        }
        for (; j < w; j++) {
            d0[j] = r[2 * j];
            d1[j] = r[2 * j + 1];
        }
    }
}

static void upconv_forward_direct(const zs_upconv_shape *s, const float *x, const float *weff, const float *b,
                                  float *y, float *scratch)
{
    int C = s->c, H = s->h, W = s->w, wp = W + 2;
    size_t pl = pad_plane(s), run = (size_t)H * wp, k4 = (size_t)4 * C;
    float *xp = scratch, *acc = xp + (size_t)C * pl + SLACK;
    memset(xp + (size_t)C * pl, 0, sizeof(float) * SLACK);
    for (int n = 0; n < s->n; n++) {
        pad_planes(C, H, W, x + (size_t)n * C * H * W, xp);
        for (int o = 0; o < s->oc; o++) {
            for (int ph = 0; ph < 4; ph++) {
                int a = ph >> 1, bp = ph & 1;
                float *ac = acc + ph * run;
                const float *wo = weff + ((size_t)ph * s->oc + o) * k4;
                memset(ac, 0, sizeof(float) * run);
                /* output (i, j) of phase (a, bp), tap (ty, tx) reads padded (i + ty + a, j + tx + bp) */
                for (int c = 0; c < C; c++) {
                    const float *x0 = xp + c * pl + (size_t)a * wp + bp;
                    axpy4(run, wo + 4 * c, x0, x0 + 1, x0 + wp, x0 + wp + 1, ac);
                }
            }
            float bias = b ? b[o] : 0.0f, *yo = y + ((size_t)n * s->oc + o) * 4 * H * W;
            interleave_rows(H, W, (size_t)wp, 0, acc, acc + run, bias, yo);
            interleave_rows(H, W, (size_t)wp, 1, acc + 2 * run, acc + 3 * run, bias, yo);
        }
    }
}

static void upconv_backward_direct(const zs_upconv_shape *s, const float *x, const float *weff, const float *dy,
                                   float *dx, float *dweff, float *db, float *scratch)
{
    int C = s->c, H = s->h, W = s->w, wp = W + 2;
    size_t pl = pad_plane(s), run = (size_t)H * wp, k4 = (size_t)4 * C;
    float *xp = scratch, *dyp = xp + (size_t)C * pl, *dxq = dyp + (size_t)4 * s->oc * pl + SLACK;
    memset(dyp + (size_t)4 * s->oc * pl, 0, sizeof(float) * SLACK);
    for (int n = 0; n < s->n; n++) {
        const float *dyn = dy + (size_t)n * s->oc * 4 * H * W;
        pad_planes(C, H, W, x + (size_t)n * C * H * W, xp);
        /* dy split by phase into bordered planes dyp (o, phase) */
        memset(dyp, 0, sizeof(float) * 4 * s->oc * pl);
        for (int o = 0; o < s->oc; o++) {
            const float *dyo = dyn + (size_t)o * 4 * H * W;
            float *d = dyp + (size_t)o * 4 * pl + wp + 1;
            if (db) db[o] += sum_lanes(dyo, (size_t)4 * H * W);
            deinterleave_rows(H, W, (size_t)wp, 0, dyo, d, d + pl);
            deinterleave_rows(H, W, (size_t)wp, 1, dyo, d + 2 * pl, d + 3 * pl);
        }
        /* dweff[ph][o][c, tap] += sum over outputs of dy * the input the tap
         * read (the dy run's junk columns read border zeros) */
        for (int ph = 0; ph < 4; ph++) {
            int a = ph >> 1, bp = ph & 1;
            for (int o = 0; o < s->oc; o++) {
                const float *d = dyp + ((size_t)o * 4 + ph) * pl + wp + 1;
                float *g = dweff + ((size_t)ph * s->oc + o) * k4;
                for (int c = 0; c < C; c++) {
                    const float *x0 = xp + c * pl + (size_t)a * wp + bp;
                    dot4(run, d, x0, x0 + 1, x0 + wp, x0 + wp + 1, g + 4 * c);
                }
            }
        }
        if (!dx) continue;
        /* dx (i, j) += w * dy of phase (a, bp) at (i - ty - a + 1, j - tx - bp + 1) */
        float *dxn = dx + (size_t)n * C * H * W;
        for (int c = 0; c < C; c++) {
            memset(dxq, 0, sizeof(float) * run);
            for (int o = 0; o < s->oc; o++)
                for (int ph = 0; ph < 4; ph++) {
                    int a = ph >> 1, bp = ph & 1;
                    const float *d3 = dyp + ((size_t)o * 4 + ph) * pl + (size_t)(1 - a) * wp + (1 - bp);
                    axpy4(run, weff + ((size_t)ph * s->oc + o) * k4 + 4 * c, d3 + wp + 1, d3 + wp, d3 + 1, d3, dxq);
                }
            for (int i = 0; i < H; i++) memcpy(dxn + ((size_t)c * H + i) * W, dxq + (size_t)i * wp, sizeof(float) * W);
        }
    }
}

/* GEMM path, per chunk of g images: x padded once into bordered planes
 * xp (g, C, H+2, W+2); the cols of phase (a, bp), row (c, ty, tx), are the
 * H x W window of xp(n, c) at (ty + a, tx + bp). col2im adds the windows
 * back into dxp and the borders are dropped. */
static void upconv_im2col(const zs_upconv_shape *s, int n, const float *xp, int a, int bp, float *cols)
{
    size_t hw = (size_t)s->h * s->w, np = (size_t)n * hw, pl = pad_plane(s);
    int wp = s->w + 2;
    for (int c = 0; c < s->c; c++)
        for (int t = 0; t < 4; t++)
            copy_blocks(n, s->h, s->w, xp + c * pl + (size_t)((t >> 1) + a) * wp + (t & 1) + bp, s->c * pl, (size_t)wp,
                        cols + ((size_t)c * 4 + t) * np, hw, (size_t)s->w);
}

static void upconv_col2im(const zs_upconv_shape *s, int n, const float *cols, int a, int bp, float *dxp)
{
    size_t hw = (size_t)s->h * s->w, np = (size_t)n * hw, pl = pad_plane(s);
    int wp = s->w + 2;
    for (int c = 0; c < s->c; c++)
        for (int t = 0; t < 4; t++)
            add_blocks(n, s->h, s->w, cols + ((size_t)c * 4 + t) * np, hw, (size_t)s->w,
                       dxp + c * pl + (size_t)((t >> 1) + a) * wp + (t & 1) + bp, s->c * pl, (size_t)wp);
}

/* c (m, n; ldc) = w (m, k) x b (k, n; ldb) with w packed in panels of 4 rows,
 * (m/4, k, 4): an 4 x 16 tile keeps its 8 vector accumulators in registers
 * over the whole k loop, each weight broadcast once per tile row. */
/* Inference only (nothing compares its bits across machines, and no branch
 * depends on its rounding), so a * b + c may fuse into FMA here: 1.x faster. */
#ifndef __clang__
#pragma GCC push_options
#pragma GCC optimize("fp-contract=fast")
#endif
/* one k step of a 4 x 16 tile held as 8 vectors of 8: rows u[0..3] of the
 * packed panel times the 16 columns b0 | b1 */
ZS_V8_INLINE void fma_4x16(zs_v8 a[8], const float *u, zs_v8 b0, zs_v8 b1)
{
#ifdef __clang__
#pragma clang fp contract(fast)
#endif
    a[0] += u[0] * b0;
    a[1] += u[0] * b1;
    a[2] += u[1] * b0;
    a[3] += u[1] * b1;
    a[4] += u[2] * b0;
    a[5] += u[2] * b1;
    a[6] += u[3] * b0;
    a[7] += u[3] * b1;
}

ZS_SIMD_CLONES
static void gemm_panels(int m, int k, int n, const float *wp, const float *b, size_t ldb, float *c, size_t ldc)
{
#ifdef __clang__
#pragma clang fp contract(fast)
#endif
    int p = 0;
    /* 8 x 16 tiles from two panels: 8 accumulators of 16 floats (one
     * AVX-512 register each), one load of b and 8 broadcasts per 8 fused
     * multiply-adds. Without AVX-512 they spill (zs_simd_wide): 4 x 16. */
    for (const int wide = zs_simd_wide(); wide && p * 4 + 8 <= m && n % 16 == 0; p += 2) {
        const float *w0 = wp + (size_t)p * k * 4, *w1 = w0 + (size_t)k * 4;
        for (int j = 0; j < n; j += 16) {
            zs_v16 a[8];
            for (int r = 0; r < 8; r++) a[r] = zs_v16_zero();
            for (int q = 0; q < k; q++) {
                zs_v16 bq = zs_v16_load(b + (size_t)q * ldb + j);
                const float *u = w0 + 4 * q, *v = w1 + 4 * q;
                a[0] += u[0] * bq;
                a[1] += u[1] * bq;
                a[2] += u[2] * bq;
                a[3] += u[3] * bq;
                a[4] += v[0] * bq;
                a[5] += v[1] * bq;
                a[6] += v[2] * bq;
                a[7] += v[3] * bq;
            }
            for (int r = 0; r < 8; r++) zs_v16_store(c + (size_t)(4 * p + r) * ldc + j, a[r]);
        }
    }
    for (; p * 4 < m; p++) {
        const float *w = wp + (size_t)p * k * 4;
        int rows = m - 4 * p < 4 ? m - 4 * p : 4, j = 0;
        for (; j + 16 <= n; j += 16) {
            zs_v8 a[8];
            for (int r = 0; r < 8; r++) a[r] = zs_v8_zero();
            for (int q = 0; q < k; q++) {
                const float *br = b + (size_t)q * ldb + j, *wq = w + 4 * q;
                fma_4x16(a, wq, zs_v8_load(br), zs_v8_load(br + 8));
            }
            for (int r = 0; r < rows; r++) {
                zs_v8_store(c + (size_t)(4 * p + r) * ldc + j, a[2 * r]);
                zs_v8_store(c + (size_t)(4 * p + r) * ldc + j + 8, a[2 * r + 1]);
            }
        }
        for (; j < n; j++)
            for (int r = 0; r < rows; r++) {
                float sum = 0.0f;
                for (int q = 0; q < k; q++) sum += w[4 * q + r] * b[(size_t)q * ldb + j];
                c[(size_t)(4 * p + r) * ldc + j] = sum;
            }
    }
}
#ifndef __clang__
#pragma GCC pop_options
#endif

/* full unrolling, so the tile's accumulators live in registers */
#if defined(__clang__)
#define ZS_UNROLL _Pragma("clang loop unroll(full)")
#else
#define ZS_UNROLL _Pragma("GCC unroll 16")
#endif

/* The packed GEMM without im2col, for W = 8 or W a multiple of 16: phase
 * (a, bp)'s column (i, j) of row (c, tap ty tx) is padded input (c, i + ty +
 * a, j + tx + bp), so a run of 16 columns is one 16-float row piece of xq =
 * xp + a (W+2) + bp (W % 16 == 0) or two 8-float ones (W = 8), read in place.
 * c (m, H*W; ldc) = w (m, 4C) x those columns; w packed as for gemm_panels. */
static int window_gemm_ok(const zs_upconv_shape *s) { return s->w == 8 || s->w % 16 == 0; }

#ifndef __clang__
#pragma GCC push_options
#pragma GCC optimize("fp-contract=fast")
#endif
ZS_V8_INLINE zs_v16 window_load(const float *p, int two, size_t wp)
{
    return two ? zs_v16_load2(p, p + wp) : zs_v16_load(p);
}

ZS_V8_INLINE void gemm_window_t(const int two, int m, int C, int H, int W, const float *wpk, const float *xq, size_t pl,
                                float *c, size_t ldc)
{
#ifdef __clang__
#pragma clang fp contract(fast)
#endif
    size_t wp = (size_t)W + 2, k = (size_t)4 * C;
    size_t toff[4] = {0, 1, wp, wp + 1};
    int blocks = H * W / 16;
    const int wide = zs_simd_wide();
    for (int jb = 0; jb < blocks; jb++) {
        int i = two ? 2 * jb : jb * 16 / W, j0 = two ? 0 : jb * 16 % W;
        const float *xb = xq + (size_t)i * wp + j0;
        int p = 0;
        for (; wide && 4 * p + 8 <= m; p += 2) {   /* 8 x 16 tiles, as in gemm_panels */
            const float *w0 = wpk + (size_t)p * k * 4, *w1 = w0 + k * 4;
            zs_v16 a[8];
            for (int r = 0; r < 8; r++) a[r] = zs_v16_zero();
            for (int ch = 0; ch < C; ch++) {
                const float *xc = xb + (size_t)ch * pl;
                ZS_UNROLL
                for (int t = 0; t < 4; t++) {
                    zs_v16 bq = window_load(xc + toff[t], two, wp);
                    const float *u = w0 + 4 * (4 * (size_t)ch + t), *v = w1 + 4 * (4 * (size_t)ch + t);
                    a[0] += u[0] * bq;
                    a[1] += u[1] * bq;
                    a[2] += u[2] * bq;
                    a[3] += u[3] * bq;
                    a[4] += v[0] * bq;
                    a[5] += v[1] * bq;
                    a[6] += v[2] * bq;
                    a[7] += v[3] * bq;
                }
            }
            for (int r = 0; r < 8; r++) zs_v16_store(c + (size_t)(4 * p + r) * ldc + 16 * jb, a[r]);
        }
        /* panels of 4 (or, last, fewer real) rows as 4 x 16 tiles of 8-float
         * vectors: GCC lowers a 16-float vector on AVX2 through the stack */
        for (; 4 * p < m; p++) {
            const float *w0 = wpk + (size_t)p * k * 4;
            int rows = m - 4 * p < 4 ? m - 4 * p : 4;
            zs_v8 a[8];
            for (int r = 0; r < 8; r++) a[r] = zs_v8_zero();
            for (int ch = 0; ch < C; ch++) {
                const float *xc = xb + (size_t)ch * pl;
                ZS_UNROLL
                for (int t = 0; t < 4; t++) {
                    const float *xt = xc + toff[t];
                    fma_4x16(a, w0 + 4 * (4 * (size_t)ch + t), zs_v8_load(xt), zs_v8_load(two ? xt + wp : xt + 8));
                }
            }
            for (int r = 0; r < rows; r++) {
                zs_v8_store(c + (size_t)(4 * p + r) * ldc + 16 * jb, a[2 * r]);
                zs_v8_store(c + (size_t)(4 * p + r) * ldc + 16 * jb + 8, a[2 * r + 1]);
            }
        }
    }
}

ZS_SIMD_CLONES
static void gemm_window(int m, int C, int H, int W, const float *wpk, const float *xq, size_t pl, float *c, size_t ldc)
{
    if (W == 8) gemm_window_t(1, m, C, H, W, wpk, xq, pl, c, ldc);
    else gemm_window_t(0, m, C, H, W, wpk, xq, pl, c, ldc);
}
#ifndef __clang__
#pragma GCC pop_options
#endif

/* GEMM path of the forward; the phase GEMMs run through OpenBLAS on weff, or
 * (packed != NULL) through gemm_panels on weights packed once. */
static void upconv_forward_gemm(const zs_upconv_shape *s, const float *x, const float *weff, const float *packed,
                                const float *b, float *y, float *scratch)
{
    int k4 = 4 * s->c, g = upconv_chunk(s), W = s->w;
    size_t hw = (size_t)s->h * W, xi = (size_t)s->c * hw, yi = (size_t)s->oc * 4 * hw;
    float *cols = scratch, *t4 = cols + 2 * (size_t)k4 * g * hw, *xp = t4 + (size_t)4 * s->oc * g * hw;
    for (int i0 = 0; i0 < s->n; i0 += g) {
        zs_upconv_shape cs = *s;
        cs.n = s->n - i0 < g ? s->n - i0 : g;
        size_t np = (size_t)cs.n * hw;
        pad_planes(cs.n * s->c, s->h, W, x + i0 * xi, xp);
        for (int ph = 0; ph < 4; ph++) {
            float *out = t4 + ph * s->oc * np;
            if (packed && window_gemm_ok(s)) {
                size_t pl = pad_plane(s);
                for (int n = 0; n < cs.n; n++)
                    gemm_window(s->oc, s->c, s->h, W, packed + (size_t)ph * ((s->oc + 3) / 4) * 4 * k4,
                                xp + (size_t)n * s->c * pl + (size_t)(ph >> 1) * (W + 2) + (ph & 1), pl, out + n * hw,
                                np);
                continue;
            }
            upconv_im2col(s, cs.n, xp, ph >> 1, ph & 1, cols);
            if (packed)
                gemm_panels(s->oc, k4, (int)np, packed + (size_t)ph * ((s->oc + 3) / 4) * 4 * k4, cols, np, out, np);
            else
                zs_sgemm(ZS_N, ZS_N, s->oc, (int)np, k4, 1.0f,
                            weff + (size_t)ph * s->oc * k4, k4, cols, (int)np, 0.0f, out, (int)np);
        }
        /* interleave the phases: y (o, 2i + a, 2j + bp) = t4 (a, bp, o, i, j) */
        for (int n = 0; n < cs.n; n++)
            for (int o = 0; o < s->oc; o++) {
                float bias = b ? b[o] : 0.0f, *yo = y + (i0 + n) * yi + (size_t)o * 4 * hw;
                const float *p = t4 + (size_t)o * np + n * hw;
                interleave_rows(s->h, W, (size_t)W, 0, p, p + s->oc * np, bias, yo);
                interleave_rows(s->h, W, (size_t)W, 1, p + 2 * s->oc * np, p + 3 * s->oc * np, bias, yo);
            }
    }
}

void zs_upconv_forward(const zs_upconv_shape *s, const float *x, const float *weff, const float *b, float *y,
                       float *scratch)
{
    if (upconv_direct(s)) upconv_forward_direct(s, x, weff, b, y, scratch);
    else upconv_forward_gemm(s, x, weff, NULL, b, y, scratch);
}

size_t zs_upconv_packed_size(const zs_upconv_shape *s)
{
    if (upconv_direct(s)) return zs_upconv_weff_size(s);
    return (size_t)4 * ((s->oc + 3) / 4) * 4 * 4 * s->c;
}

void zs_upconv_pack_weights(const zs_upconv_shape *s, const float *weff, float *packed)
{
    if (upconv_direct(s)) {   /* (C, 4 phases, OC, 4 taps): direct_tile reads a channel's 16 OC in a row */
        size_t k4 = (size_t)4 * s->c;
        for (int c = 0; c < s->c; c++)
            for (int ph = 0; ph < 4; ph++)
                for (int o = 0; o < s->oc; o++)
                    memcpy(packed + (((size_t)c * 4 + ph) * s->oc + o) * 4, weff + ((size_t)ph * s->oc + o) * k4 + 4 * c,
                           4 * sizeof(float));
        return;
    }
    int k4 = 4 * s->c, panels = (s->oc + 3) / 4;
    for (int ph = 0; ph < 4; ph++)
        for (int p = 0; p < panels; p++)
            for (int k = 0; k < k4; k++)
                for (int r = 0; r < 4; r++) {
                    int o = 4 * p + r;
                    packed[(((size_t)ph * panels + p) * k4 + k) * 4 + r] =
                        o < s->oc ? weff[((size_t)ph * s->oc + o) * k4 + k] : 0.0f;
                }
}

/* The inference direct path (OC <= 4, the decoder's last layer): 16 outputs
 * of every phase and output channel at a time in registers; the 9 shifted
 * input vectors of a channel are loaded once and feed all 16 phase taps that
 * read them (the training path's axpy4 streams the accumulators through
 * memory once per channel and phase instead). Inference only, so a * b + c
 * fuses into FMA here as in gemm_panels. Reads up to 16 + 2 (W + 2) + 1
 * floats past a plane's run: SLACK and the next plane cover it. */
#ifndef __clang__
#pragma GCC push_options
#pragma GCC optimize("fp-contract=fast")
#endif
ZS_V8_INLINE void direct_tile(const int OC, int C, size_t pl, int wp, const float *xq, const float *w, float *out,
                              size_t runp)
{
#ifdef __clang__
#pragma clang fp contract(fast)
#endif
    zs_v16 acc[4][4];
    ZS_UNROLL
    for (int ph = 0; ph < 4; ph++)
        ZS_UNROLL
        for (int o = 0; o < OC; o++) acc[ph][o] = zs_v16_zero();
    for (int c = 0; c < C; c++) {
        const float *x0 = xq + (size_t)c * pl;
        zs_v16 v[3][3];
        ZS_UNROLL
        for (int dy = 0; dy < 3; dy++)
            ZS_UNROLL
            for (int dx = 0; dx < 3; dx++) v[dy][dx] = zs_v16_load(x0 + (size_t)dy * wp + dx);
        ZS_UNROLL
        for (int ph = 0; ph < 4; ph++) {
            int a = ph >> 1, bp = ph & 1;
            ZS_UNROLL
            for (int o = 0; o < OC; o++) {
                const float *t = w + (((size_t)c * 4 + ph) * OC + o) * 4;
                acc[ph][o] += t[0] * v[a][bp];
                acc[ph][o] += t[1] * v[a][bp + 1];
                acc[ph][o] += t[2] * v[a + 1][bp];
                acc[ph][o] += t[3] * v[a + 1][bp + 1];
            }
        }
    }
    ZS_UNROLL
    for (int o = 0; o < OC; o++)
        ZS_UNROLL
        for (int ph = 0; ph < 4; ph++) zs_v16_store(out + (size_t)(o * 4 + ph) * runp, acc[ph][o]);
}

/* direct_tile 8 outputs wide, for CPUs without AVX-512 (zs_simd_wide): 16
 * zs_v16 accumulators and 9 inputs are 42 AVX2 registers of 16, which GCC
 * spills through the stack on every multiply-add. Here 4 x OC zs_v8
 * accumulators stay in registers and each shifted input is loaded for the
 * taps that read it. Each output lane gets the same multiply-adds in the
 * same order as in direct_tile. */
ZS_V8_INLINE void direct_tile8(const int OC, int C, size_t pl, int wp, const float *xq, const float *w, float *out,
                               size_t runp)
{
#ifdef __clang__
#pragma clang fp contract(fast)
#endif
    zs_v8 acc[4][4];
    ZS_UNROLL
    for (int ph = 0; ph < 4; ph++)
        ZS_UNROLL
        for (int o = 0; o < OC; o++) acc[ph][o] = zs_v8_zero();
    for (int c = 0; c < C; c++) {
        const float *x0 = xq + (size_t)c * pl;
        ZS_UNROLL
        for (int ph = 0; ph < 4; ph++) {
            int a = ph >> 1, bp = ph & 1;
            zs_v8 v00 = zs_v8_load(x0 + (size_t)a * wp + bp), v01 = zs_v8_load(x0 + (size_t)a * wp + bp + 1);
            zs_v8 v10 = zs_v8_load(x0 + (size_t)(a + 1) * wp + bp), v11 = zs_v8_load(x0 + (size_t)(a + 1) * wp + bp + 1);
            ZS_UNROLL
            for (int o = 0; o < OC; o++) {
                const float *t = w + (((size_t)c * 4 + ph) * OC + o) * 4;
                acc[ph][o] += t[0] * v00;
                acc[ph][o] += t[1] * v01;
                acc[ph][o] += t[2] * v10;
                acc[ph][o] += t[3] * v11;
            }
        }
    }
    ZS_UNROLL
    for (int o = 0; o < OC; o++)
        ZS_UNROLL
        for (int ph = 0; ph < 4; ph++) zs_v8_store(out + (size_t)(o * 4 + ph) * runp, acc[ph][o]);
}

ZS_SIMD_CLONES
static void direct_runs(int oc, int C, size_t pl, int wp, size_t runp, const float *xp, const float *w, float *out)
{
    if (!zs_simd_wide()) {
        for (size_t q = 0; q < runp; q += 8) switch (oc) {
            case 1: direct_tile8(1, C, pl, wp, xp + q, w, out + q, runp); break;
            case 2: direct_tile8(2, C, pl, wp, xp + q, w, out + q, runp); break;
            case 3: direct_tile8(3, C, pl, wp, xp + q, w, out + q, runp); break;
            default: direct_tile8(4, C, pl, wp, xp + q, w, out + q, runp); break;
            }
        return;
    }
    for (size_t q = 0; q < runp; q += 16) switch (oc) {
        case 1: direct_tile(1, C, pl, wp, xp + q, w, out + q, runp); break;
        case 2: direct_tile(2, C, pl, wp, xp + q, w, out + q, runp); break;
        case 3: direct_tile(3, C, pl, wp, xp + q, w, out + q, runp); break;
        default: direct_tile(4, C, pl, wp, xp + q, w, out + q, runp); break;
        }
}
#ifndef __clang__
#pragma GCC pop_options
#endif

static void upconv_forward_direct_packed(const zs_upconv_shape *s, const float *x, const float *packed, const float *b,
                                         float *y, float *scratch)
{
    int C = s->c, H = s->h, W = s->w, wp = W + 2;
    size_t pl = pad_plane(s), run = (size_t)H * wp, runp = (run + 15) / 16 * 16;
    float *xp = scratch, *acc = xp + (size_t)C * pl + SLACK;
    memset(xp + (size_t)C * pl, 0, sizeof(float) * SLACK);
    for (int n = 0; n < s->n; n++) {
        pad_planes(C, H, W, x + (size_t)n * C * H * W, xp);
        direct_runs(s->oc, C, pl, wp, runp, xp, packed, acc);
        for (int o = 0; o < s->oc; o++) {
            float bias = b ? b[o] : 0.0f, *yo = y + ((size_t)n * s->oc + o) * 4 * H * W;
            const float *p = acc + (size_t)o * 4 * runp;
            interleave_rows(H, W, (size_t)wp, 0, p, p + runp, bias, yo);
            interleave_rows(H, W, (size_t)wp, 1, p + 2 * runp, p + 3 * runp, bias, yo);
        }
    }
}

void zs_upconv_forward_packed(const zs_upconv_shape *s, const float *x, const float *packed, const float *b, float *y,
                              float *scratch)
{
    if (upconv_direct(s)) upconv_forward_direct_packed(s, x, packed, b, y, scratch);
    else upconv_forward_gemm(s, x, NULL, packed, b, y, scratch);
}

void zs_upconv_backward(const zs_upconv_shape *s, const float *x, const float *weff, const float *dy, float *dx,
                        float *dw, float *db, float *scratch)
{
    size_t wsz = zs_upconv_weff_size(s);
    float *dweff = scratch + zs_upconv_scratch_size(s) - wsz;
    memset(dweff, 0, sizeof(float) * wsz);
    if (upconv_direct(s)) {
        upconv_backward_direct(s, x, weff, dy, dx, dweff, db, scratch);
        if (dw) upconv_fold_grad(s, dweff, dw);
        return;
    }
    int k4 = 4 * s->c, g = upconv_chunk(s), W = s->w;
    size_t hw = (size_t)s->h * W, xi = (size_t)s->c * hw, yi = (size_t)s->oc * 4 * hw;
    float *cols = scratch, *dcols = cols + (size_t)k4 * g * hw, *t4 = dcols + (size_t)k4 * g * hw;
    float *xp = t4 + (size_t)4 * s->oc * g * hw, *dxp = xp + (size_t)g * s->c * pad_plane(s);
    if (db) bias_grad(s->n, s->oc, 4 * hw, dy, db);
    for (int i0 = 0; i0 < s->n; i0 += g) {
        zs_upconv_shape cs = *s;
        cs.n = s->n - i0 < g ? s->n - i0 : g;
        size_t np = (size_t)cs.n * hw;
        /* split dy by phase: t4 (a, bp, o, i, j) = dy (o, 2i + a, 2j + bp) */
        for (int n = 0; n < cs.n; n++)
            for (int o = 0; o < s->oc; o++) {
                const float *yo = dy + (i0 + n) * yi + (size_t)o * 4 * hw;
                float *p = t4 + (size_t)o * np + n * hw;
                deinterleave_rows(s->h, W, (size_t)W, 0, yo, p, p + s->oc * np);
                deinterleave_rows(s->h, W, (size_t)W, 1, yo, p + 2 * s->oc * np, p + 3 * s->oc * np);
            }
        if (dw) pad_planes(cs.n * s->c, s->h, W, x + i0 * xi, xp);   /* x is for dW only */
        if (dx) memset(dxp, 0, sizeof(float) * cs.n * s->c * pad_plane(s));
        for (int ph = 0; ph < 4; ph++) {
            const float *dyt = t4 + ph * s->oc * np, *wph = weff + (size_t)ph * s->oc * k4;
            if (dw) {
                upconv_im2col(s, cs.n, xp, ph >> 1, ph & 1, cols);
                zs_sgemm(ZS_N, ZS_T, s->oc, k4, (int)np, 1.0f, dyt, (int)np, cols, (int)np,
                            1.0f, dweff + (size_t)ph * s->oc * k4, k4);
            }
            if (!dx) continue;
            zs_sgemm(ZS_T, ZS_N, k4, (int)np, s->oc, 1.0f, wph, k4, dyt, (int)np,
                        0.0f, dcols, (int)np);
            upconv_col2im(s, cs.n, dcols, ph >> 1, ph & 1, dxp);
        }
        if (dx)   /* drop the border */
            copy_blocks(cs.n * s->c, s->h, W, dxp + W + 3, pad_plane(s), (size_t)W + 2, dx + i0 * xi, hw, (size_t)W);
    }
    if (dw) upconv_fold_grad(s, dweff, dw);
}
