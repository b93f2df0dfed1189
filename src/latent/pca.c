/* Principal directions of a cloud of latents: the covariance (two passes,
 * in double) and its eigenvectors by cyclic Jacobi rotations, which is
 * short, needs no LAPACK and is exact enough for z of a few hundred (the
 * explorer calls it once, on its worker, for ~500 latents of z = 128). */
#include "zspace/latent.h"
#include "eigen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* eigen.h */
void zs_jacobi_eigen(int n, double *a, double *w, double *v)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) v[(size_t)i * n + j] = i == j;
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0, diag = 0;
        for (int p = 0; p < n; p++) {
            diag += a[(size_t)p * n + p] * a[(size_t)p * n + p];
            for (int q = p + 1; q < n; q++) off += a[(size_t)p * n + q] * a[(size_t)p * n + q];
        }
        if (off <= 1e-30 * diag || off == 0) break;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) {
                double apq = a[(size_t)p * n + q];
                if (fabs(apq) < 1e-300) continue;
                /* the rotation that zeroes a[p][q] (Numerical Recipes' stable form) */
                double theta = (a[(size_t)q * n + q] - a[(size_t)p * n + p]) / (2 * apq);
                double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < n; k++) {   /* columns p and q */
                    double akp = a[(size_t)k * n + p], akq = a[(size_t)k * n + q];
                    a[(size_t)k * n + p] = c * akp - s * akq;
                    a[(size_t)k * n + q] = s * akp + c * akq;
                }
                for (int k = 0; k < n; k++) {   /* rows p and q */
                    double apk = a[(size_t)p * n + k], aqk = a[(size_t)q * n + k];
                    a[(size_t)p * n + k] = c * apk - s * aqk;
                    a[(size_t)q * n + k] = s * apk + c * aqk;
                }
                for (int k = 0; k < n; k++) {
                    double vkp = v[(size_t)k * n + p], vkq = v[(size_t)k * n + q];
                    v[(size_t)k * n + p] = c * vkp - s * vkq;
                    v[(size_t)k * n + q] = s * vkp + c * vkq;
                }
            }
    }
    for (int i = 0; i < n; i++) w[i] = a[(size_t)i * n + i];
}

zs_status zs_pca_fit(const float *x, int n, int z, int k, zs_pca *p)
{
    ZS_ASSERT(p && z > 0 && k > 0 && (n <= 0 || x));
    memset(p, 0, sizeof *p);
    if (n < 2) return zs_errorf(ZS_ERR_ARG, "principal directions need at least 2 latents (got %d)", n);
    for (size_t i = 0; i < (size_t)n * z; i++)
        if (!isfinite(x[i])) return zs_errorf(ZS_ERR_NUMERIC, "principal directions: latent %zu is not finite", i / z);
    if (k > z) k = z;

    double *mean = zs_xcalloc((size_t)z, sizeof(double)), *c = zs_xmalloc(sizeof(double) * (size_t)z);
    for (int t = 0; t < n; t++)
        for (int j = 0; j < z; j++) mean[j] += x[(size_t)t * z + j];
    for (int j = 0; j < z; j++) mean[j] /= n;
    double *cov = zs_xcalloc((size_t)z * z, sizeof(double));   /* (z, z) */
    for (int t = 0; t < n; t++) {
        for (int j = 0; j < z; j++) c[j] = x[(size_t)t * z + j] - mean[j];
        for (int r = 0; r < z; r++)
            for (int q = 0; q <= r; q++) cov[(size_t)r * z + q] += c[r] * c[q];
    }
    double trace = 0;
    for (int r = 0; r < z; r++) {
        for (int q = 0; q <= r; q++) cov[(size_t)r * z + q] = cov[(size_t)q * z + r] = cov[(size_t)r * z + q] / (n - 1);
        trace += cov[(size_t)r * z + r];
    }

    double *w = zs_xmalloc(sizeof(double) * (size_t)z), *v = zs_xmalloc(sizeof(double) * (size_t)z * z);
    zs_jacobi_eigen(z, cov, w, v);
    int *order = zs_xmalloc(sizeof(int) * (size_t)z);
    for (int i = 0; i < z; i++) order[i] = i;
    for (int i = 1; i < z; i++)   /* largest variance first */
        for (int j = i; j > 0 && w[order[j - 1]] < w[order[j]]; j--) {
            int t = order[j];
            order[j] = order[j - 1], order[j - 1] = t;
        }

    p->z = z, p->k = k, p->total_var = trace;
    p->mean = zs_xmalloc(sizeof(float) * (size_t)z);
    p->dir = zs_xmalloc(sizeof(float) * (size_t)k * z);
    p->var = zs_xmalloc(sizeof(float) * (size_t)k);
    for (int j = 0; j < z; j++) p->mean[j] = (float)mean[j];
    for (int i = 0; i < k; i++) {
        int e = order[i];
        int big = 0;   /* the sign: the largest component positive, so a fit is reproducible */
        for (int j = 1; j < z; j++)
            if (fabs(v[(size_t)j * z + e]) > fabs(v[(size_t)big * z + e])) big = j;
        double sign = v[(size_t)big * z + e] < 0 ? -1 : 1;
        for (int j = 0; j < z; j++) p->dir[(size_t)i * z + j] = (float)(sign * v[(size_t)j * z + e]);
        p->var[i] = (float)(w[e] > 0 ? w[e] : 0);
    }
    free(mean), free(c), free(cov), free(w), free(v), free(order);
    return ZS_OK;
}

void zs_pca_free(zs_pca *p)
{
    free(p->mean), free(p->dir), free(p->var);
    memset(p, 0, sizeof *p);
}
