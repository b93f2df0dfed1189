/* Activations, VAE loss, reparameterisation and Adam (see zspace/nn.h). */
#include "zspace/nn.h"

#include "simd.h"

#include <math.h>
#include <string.h>

ZS_SIMD_CLONES
void zs_leaky_relu_forward(size_t n, const float *x, float slope, float *y)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) zs_v8_store(y + i, zs_v8_leaky(zs_v8_load(x + i), slope));
    for (; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : slope * x[i];
}

void zs_leaky_relu_backward(size_t n, const float *x, float slope, const float *dy, float *dx)
{
    for (size_t i = 0; i < n; i++) dx[i] = x[i] > 0.0f ? dy[i] : slope * dy[i];
}

/* exp(x) for 8 lanes (Cephes expf: x = k ln2 + r, |r| <= ln2 / 2, degree-7
 * polynomial, 2^k by the exponent bits), within 2 ulp of expf. Inputs are
 * clamped to [-87.3, 88.7], so exp(-inf) gives 1.2e-38, not 0. */
ZS_V8_INLINE zs_v8 v8_exp(zs_v8 x)
{
    const zs_v8 hi = zs_v8_set1(88.7f), lo = zs_v8_set1(-87.3f);
    x = zs_v8_select(x > hi, hi, x);   /* NaN is neither above nor below: it stays NaN */
    x = zs_v8_select(x < lo, lo, x);
    /* k = round(x / ln2) by the 1.5 * 2^23 trick (round to nearest even) */
    zs_v8 k = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    zs_v8 r = (x - k * 0.693359375f) + k * 2.12194440e-4f;
    zs_v8 p = zs_v8_set1(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = (p * (r * r) + r) + 1.0f;
    /* 2^k: k in [-126, 128]; 2^128 is built as 2 * 2^127 */
    zs_v8i ki = __builtin_convertvector(k, zs_v8i);
    zs_v8i big = ki > 127;
    zs_v8i e = ((ki - (big & 1)) + 127) << 23;
    zs_v8 two_k = (zs_v8)e;
    p = p * two_k;
    return zs_v8_select(big, p + p, p);
}

/* 1 / (1 + exp(-x)), eight at a time; the tail goes through the same lanes,
 * so every element gets the same bits whatever its position. */
ZS_SIMD_CLONES
void zs_sigmoid_forward(size_t n, const float *x, float *y)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) zs_v8_store(y + i, 1.0f / (1.0f + v8_exp(-zs_v8_load(x + i))));
    if (i < n) {
        float t[8] = {0};
        memcpy(t, x + i, sizeof(float) * (n - i));
        zs_v8 v = 1.0f / (1.0f + v8_exp(-zs_v8_load(t)));
        zs_v8_store(t, v);
        memcpy(y + i, t, sizeof(float) * (n - i));
    }
}

void zs_sigmoid_backward(size_t n, const float *y, const float *dy, float *dx)
{
    for (size_t i = 0; i < n; i++) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
}

double zs_recon_loss(zs_loss_kind kind, int n, int pix, const float *logits, const float *recon, const float *x,
                     float scale, float *dlogits, double *per_image)
{
    double total = 0;
    for (int i = 0; i < n; i++) {
        const float *l = logits + (size_t)i * pix, *r = recon + (size_t)i * pix, *t = x + (size_t)i * pix;
        float *d = dlogits ? dlogits + (size_t)i * pix : NULL;
        double img = 0;
        if (kind == ZS_LOSS_SSE) {
            float acc = 0.0f;
            for (int k = 0; k < pix; k++) {
                float e = r[k] - t[k];
                acc += e * e;
                if (d) d[k] = 2.0f * e * r[k] * (1.0f - r[k]) * scale;
            }
            img = acc;
        } else {
            for (int k = 0; k < pix; k++) {
                /* -(t log r + (1-t) log(1-r)) = softplus(l) - t l, stable form */
                float lv = l[k];
                float sp = lv > 0.0f ? lv + log1pf(expf(-lv)) : log1pf(expf(lv));
                img += (double)(sp - t[k] * lv);
                if (d) d[k] = (r[k] - t[k]) * scale;
            }
        }
        if (per_image) per_image[i] = img;
        total += img;
    }
    return total;
}

double zs_kl_loss(int n, int z, const float *mu, const float *logvar, float beta, float scale, float *dmu,
                  float *dlogvar, double *kl_dim)
{
    double total = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < z; j++) {
            size_t k = (size_t)i * z + j;
            float ev = expf(logvar[k]);
            float kl = -0.5f * (1.0f + logvar[k] - mu[k] * mu[k] - ev);
            total += kl;
            if (kl_dim) kl_dim[j] += kl;
            if (dmu) dmu[k] = beta * scale * mu[k];
            if (dlogvar) dlogvar[k] = beta * scale * 0.5f * (ev - 1.0f);
        }
    return total;
}

void zs_reparam_noise(uint64_t key, int first_image, int n, int z, float *eps)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < z; j++)
            eps[(size_t)i * z + j] = zs_normal(key, (uint64_t)(first_image + i) * (uint64_t)z + (uint64_t)j);
}

void zs_reparam_forward(int n, int z, const float *mu, const float *logvar, const float *eps, float *zout)
{
    for (size_t k = 0; k < (size_t)n * z; k++) zout[k] = mu[k] + expf(0.5f * logvar[k]) * eps[k];
}

void zs_reparam_backward(int n, int z, const float *logvar, const float *eps, const float *dz, float *dmu,
                         float *dlogvar)
{
    for (size_t k = 0; k < (size_t)n * z; k++) {
        dmu[k] += dz[k];
        dlogvar[k] += dz[k] * eps[k] * 0.5f * expf(0.5f * logvar[k]);
    }
}

ZS_SIMD_CLONES
void zs_adam_update(const zs_adam_desc *d, long t, size_t lo, size_t hi, float *p, const float *g, float *m, float *v)
{
    float lr = d->lr > 0 ? d->lr : 1e-3f, b1 = d->beta1 > 0 ? d->beta1 : 0.9f, b2 = d->beta2 > 0 ? d->beta2 : 0.999f;
    float eps = d->eps > 0 ? d->eps : 1e-8f;
    double bc1 = 1.0 - pow(b1, (double)t), bc2 = 1.0 - pow(b2, (double)t);
    float step = (float)(lr / bc1), inv_sqrt_bc2 = (float)(1.0 / sqrt(bc2));
    size_t i = lo;
    for (; i + 8 <= hi; i += 8) {   /* the scalar loop's expressions, eight lanes at a time */
        zs_v8 gi = zs_v8_load(g + i);
        zs_v8 mi = b1 * zs_v8_load(m + i) + (1.0f - b1) * gi;
        zs_v8 vi = b2 * zs_v8_load(v + i) + (1.0f - b2) * gi * gi;
        zs_v8_store(m + i, mi);
        zs_v8_store(v + i, vi);
        zs_v8_store(p + i, zs_v8_load(p + i) - step * mi / (zs_v8_sqrt(vi) * inv_sqrt_bc2 + eps));
    }
    for (; i < hi; i++) {
        float gi = g[i];
        float mi = b1 * m[i] + (1.0f - b1) * gi;
        float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] -= step * mi / (sqrtf(vi) * inv_sqrt_bc2 + eps);
    }
}
