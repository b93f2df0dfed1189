/* Batch norm with an optional fused LeakyReLU (see zspace/nn.h).
 *
 * Only the conv output x (pre-norm) is kept for backward: xhat and the
 * activation's sign are recomputed, which costs less than storing them. */
#include "zspace/nn.h"

#include <math.h>
#include <string.h>

void zs_bn_partial_stats(const zs_bn_shape *s, const float *x, double *part)
{
    memset(part, 0, sizeof(double) * 2 * (size_t)s->c);
    for (int n = 0; n < s->n; n++)
        for (int c = 0; c < s->c; c++) {
            const float *p = x + ((size_t)n * s->c + c) * s->hw;
            float sum = 0.0f, sq = 0.0f;
            for (int i = 0; i < s->hw; i++) {
                sum += p[i];
                sq += p[i] * p[i];
            }
            part[c] += sum;
            part[s->c + c] += sq;
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

void zs_bn_forward_apply(const zs_bn_shape *s, const float *x, const float *mean, const float *invstd,
                         const float *gamma, const float *beta, int leaky, float *y)
{
    for (int n = 0; n < s->n; n++)
        for (int c = 0; c < s->c; c++) {
            size_t off = ((size_t)n * s->c + c) * s->hw;
            const float *p = x + off;
            float *q = y + off;
            float scale = gamma[c] * invstd[c], shift = beta[c] - mean[c] * scale;
            if (leaky)
                for (int i = 0; i < s->hw; i++) {
                    float v = p[i] * scale + shift;
                    q[i] = v > 0.0f ? v : ZS_LEAKY_SLOPE * v;
                }
            else
                for (int i = 0; i < s->hw; i++) q[i] = p[i] * scale + shift;
        }
}

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
            /* the activation's side is decided by the forward's very
             * expression, so forward and backward agree at the kink */
            float scale = gamma[c] * is, shift = beta[c] - m * scale;
            float sum = 0.0f, sumx = 0.0f;
            for (int i = 0; i < s->hw; i++) {
                float xh = (p[i] - m) * is;
                float v = g[i];
                if (leaky && !(p[i] * scale + shift > 0.0f)) v *= ZS_LEAKY_SLOPE;
                d[i] = v;
                sum += v;
                sumx += v * xh;
            }
            part[c] += sum;
            part[s->c + c] += sumx;
        }
}

void zs_bn_backward_apply(const zs_bn_shape *s, const float *x, const float *mean, const float *invstd,
                          const float *gamma, const float *dz, const double *sums, double count, float *dx)
{
    for (int c = 0; c < s->c; c++) {
        float k = (float)(gamma[c] * invstd[c] / count);
        float sd = (float)sums[c], sdx = (float)sums[s->c + c], cnt = (float)count;
        for (int n = 0; n < s->n; n++) {
            size_t off = ((size_t)n * s->c + c) * s->hw;
            const float *p = x + off, *d = dz + off;
            float *o = dx + off;
            float m = mean[c], is = invstd[c];
            for (int i = 0; i < s->hw; i++) {
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
