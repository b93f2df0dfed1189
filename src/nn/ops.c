/* Activations, VAE loss, reparameterisation and Adam (see zspace/nn.h). */
#include "zspace/nn.h"

#include <math.h>
#include <string.h>

void zs_leaky_relu_forward(size_t n, const float *x, float slope, float *y)
{
    for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : slope * x[i];
}

void zs_leaky_relu_backward(size_t n, const float *x, float slope, const float *dy, float *dx)
{
    for (size_t i = 0; i < n; i++) dx[i] = x[i] > 0.0f ? dy[i] : slope * dy[i];
}

void zs_sigmoid_forward(size_t n, const float *x, float *y)
{
    for (size_t i = 0; i < n; i++) y[i] = 1.0f / (1.0f + expf(-x[i]));
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

void zs_adam_update(const zs_adam_desc *d, long t, size_t lo, size_t hi, float *p, const float *g, float *m, float *v)
{
    float lr = d->lr > 0 ? d->lr : 1e-3f, b1 = d->beta1 > 0 ? d->beta1 : 0.9f, b2 = d->beta2 > 0 ? d->beta2 : 0.999f;
    float eps = d->eps > 0 ? d->eps : 1e-8f;
    double bc1 = 1.0 - pow(b1, (double)t), bc2 = 1.0 - pow(b2, (double)t);
    float step = (float)(lr / bc1), inv_sqrt_bc2 = (float)(1.0 / sqrt(bc2));
    for (size_t i = lo; i < hi; i++) {
        float gi = g[i];
        float mi = b1 * m[i] + (1.0f - b1) * gi;
        float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] -= step * mi / (sqrtf(vi) * inv_sqrt_bc2 + eps);
    }
}
