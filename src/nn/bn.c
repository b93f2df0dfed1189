/* Batch norm with an optional fused LeakyReLU (see zspace/nn.h).
 *
 * Only the conv output x (pre-norm) is kept for backward: xhat and the
 * activation's sign are recomputed, which costs less than storing them. */
#include "zspace/nn.h"

#include "simd.h"

#include <math.h>
#include <string.h>

ZS_SIMD_CLONES
void zs_bn_partial_stats(const zs_bn_shape *s, const float *x, double *part)
{
    memset(part, 0, sizeof(double) * 2 * (size_t)s->c);
    for (int n = 0; n < s->n; n++)
        for (int c = 0; c < s->c; c++) {
            const float *p = x + ((size_t)n * s->c + c) * s->hw;
            zs_v8 sum = zs_v8_zero(), sq = sum;
            int i = 0;
            for (; i + 8 <= s->hw; i += 8) {
                zs_v8 v = zs_v8_load(p + i);
                sum += v;
                sq += v * v;
            }
            for (; i < s->hw; i++) {
                sum[0] += p[i];
                sq[0] += p[i] * p[i];
            }
            part[c] += zs_v8_sum(sum);
            part[s->c + c] += zs_v8_sum(sq);
        }
}

void zs_bn_combine(int c, const double *parts, int nparts, size_t stride, double count, float *mean, float *invstd,
                   float *running_mean, float *running_var)
{
    for (int k = 0; k < c; k++) {
        double sum = 0, sq = 0;
        for (int p = 0; p < nparts; p++) {
            sum += parts[(size_t)p * stride + k];
            sq += parts[(size_t)p * stride + c + k];
        }
        double m = sum / count, var = sq / count - m * m;
        if (var < 0) var = 0;
        mean[k] = (float)m;
        invstd[k] = (float)(1.0 / sqrt(var + ZS_BN_EPS));
        if (running_mean) {
            double unbiased = count > 1 ? var * count / (count - 1) : var;
            running_mean[k] = (float)((1.0 - ZS_BN_MOMENTUM) * running_mean[k] + ZS_BN_MOMENTUM * m);
            running_var[k] = (float)((1.0 - ZS_BN_MOMENTUM) * running_var[k] + ZS_BN_MOMENTUM * unbiased);
        }
    }
}

ZS_SIMD_CLONES
void zs_bn_forward_apply(const zs_bn_shape *s, const float *x, const float *mean, const float *invstd,
                         const float *gamma, const float *beta, int leaky, float *y)
{
    for (int n = 0; n < s->n; n++)
        for (int c = 0; c < s->c; c++) {
            size_t off = ((size_t)n * s->c + c) * s->hw;
            const float *p = x + off;
            float *q = y + off;
            float scale = gamma[c] * invstd[c], shift = beta[c] - mean[c] * scale;
            int i = 0;
            for (; i + 8 <= s->hw; i += 8) {
                zs_v8 v = zs_v8_load(p + i) * scale + shift;
                zs_v8_store(q + i, leaky ? zs_v8_leaky(v, ZS_LEAKY_SLOPE) : v);
            }
            for (; i < s->hw; i++) {
                float v = p[i] * scale + shift;
                q[i] = leaky && !(v > 0.0f) ? ZS_LEAKY_SLOPE * v : v;
            }
        }
}

/* The activation's side is decided by the forward's very expression
 * (x * scale + shift > 0), so forward and backward agree at the kink. */
ZS_SIMD_CLONES
void zs_bn_backward_partial(const zs_bn_shape *s, const float *x, const float *mean, const float *invstd,
                            const float *gamma, const float *beta, int leaky, const float *dy, float *dz, double *part)
{
    memset(part, 0, sizeof(double) * 2 * (size_t)s->c);
    for (int n = 0; n < s->n; n++)
        for (int c = 0; c < s->c; c++) {
            size_t off = ((size_t)n * s->c + c) * s->hw;
            const float *p = x + off, *g = dy + off;
            float *d = dz + off;
            float m = mean[c], is = invstd[c];
            float scale = gamma[c] * is, shift = beta[c] - m * scale;
            zs_v8 sum = zs_v8_zero(), sumx = sum;
            int i = 0;
            for (; i + 8 <= s->hw; i += 8) {
                zs_v8 xv = zs_v8_load(p + i), v = zs_v8_load(g + i);
                if (leaky) v = zs_v8_select(xv * scale + shift > zs_v8_zero(), v, v * ZS_LEAKY_SLOPE);
                zs_v8_store(d + i, v);
                sum += v;
                sumx += v * ((xv - m) * is);
            }
            for (; i < s->hw; i++) {
                float xh = (p[i] - m) * is;
                float v = g[i];
                if (leaky && !(p[i] * scale + shift > 0.0f)) v *= ZS_LEAKY_SLOPE;
                d[i] = v;
                sum[0] += v;
                sumx[0] += v * xh;
            }
            part[c] += zs_v8_sum(sum);
            part[s->c + c] += zs_v8_sum(sumx);
        }
}

ZS_SIMD_CLONES
void zs_bn_backward_apply(const zs_bn_shape *s, const float *x, const float *mean, const float *invstd,
                          const float *gamma, const float *dz, const double *sums, double count, float *dx)
{
    for (int c = 0; c < s->c; c++) {
        float k = (float)(gamma[c] * invstd[c] / count);
        float sd = (float)sums[c], sdx = (float)sums[s->c + c], cnt = (float)count;
        float m = mean[c], is = invstd[c];
        for (int n = 0; n < s->n; n++) {
            size_t off = ((size_t)n * s->c + c) * s->hw;
            const float *p = x + off, *d = dz + off;
            float *o = dx + off;
            int i = 0;
            for (; i + 8 <= s->hw; i += 8) {
                zs_v8 xh = (zs_v8_load(p + i) - m) * is;
                zs_v8_store(o + i, k * ((cnt * zs_v8_load(d + i) - sd) - xh * sdx));
            }
            for (; i < s->hw; i++) {
                float xh = (p[i] - m) * is;
                o[i] = k * (cnt * d[i] - sd - xh * sdx);
            }
        }
    }
}

void zs_bn_forward_eval(const zs_bn_shape *s, const float *x, const float *gamma, const float *beta,
                        const float *running_mean, const float *running_var, int leaky, float *y)
{
    float mean[1024], invstd[1024];
    ZS_ASSERT(s->c <= 1024);
    for (int c = 0; c < s->c; c++) {
        mean[c] = running_mean[c];
        invstd[c] = 1.0f / sqrtf(running_var[c] + ZS_BN_EPS);
    }
    zs_bn_forward_apply(s, x, mean, invstd, gamma, beta, leaky, y);
}
