/* Linear discriminant analysis (zspace/analysis.h): class means and
 * scatters in double, Sw shrunk towards a multiple of the identity, then
 * Sb v = l Sw v through Cholesky whitening and the Jacobi eigen-solver
 * (eigen.h): L^-1 Sb L^-T = C C^T has rank k - 1, so its eigenvectors come
 * from the k x k matrix C^T C's. For z = 128 and ~500 rows a fit takes a
 * few ms (the scatter and the Cholesky factor). */
#include "zspace/analysis.h"
#include "eigen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* a = L L^T in place (lower triangle; the upper is left as is). 0 when a
 * is not positive definite. */
static int cholesky(int z, double *a)
{
    for (int j = 0; j < z; j++) {
        double d = a[(size_t)j * z + j];
        for (int k = 0; k < j; k++) d -= a[(size_t)j * z + k] * a[(size_t)j * z + k];
        if (!(d > 0)) return 0;
        d = sqrt(d);
        a[(size_t)j * z + j] = d;
        for (int i = j + 1; i < z; i++) {
            double s = a[(size_t)i * z + j];
            for (int k = 0; k < j; k++) s -= a[(size_t)i * z + k] * a[(size_t)j * z + k];
            a[(size_t)i * z + j] = s / d;
        }
    }
    return 1;
}

zs_status zs_lda_fit(const float *x, int n, int z, const int *label, int k, double shrinkage, zs_lda *out)
{
    ZS_ASSERT(out && z > 0 && (n <= 0 || (x && label)));
    memset(out, 0, sizeof *out);
    if (k < 2) return zs_errorf(ZS_ERR_ARG, "discriminant analysis needs at least 2 classes (got %d)", k);
    if (shrinkage > 1) return zs_errorf(ZS_ERR_ARG, "shrinkage %g outside [0, 1]", shrinkage);
    int *count = zs_xcalloc((size_t)k, sizeof(int));
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (label[i] < 0) continue;
        if (label[i] >= k) {
            free(count);
            return zs_errorf(ZS_ERR_ARG, "row %d has class %d, not in 0..%d", i, label[i], k - 1);
        }
        for (int j = 0; j < z; j++)
            if (!isfinite(x[(size_t)i * z + j])) {
                free(count);
                return zs_errorf(ZS_ERR_NUMERIC, "discriminant analysis: row %d is not finite", i);
            }
        count[label[i]]++, m++;
    }
    for (int c = 0; c < k; c++)
        if (count[c] == 0) {
            free(count);
            return zs_errorf(ZS_ERR_ARG, "discriminant analysis: class %d of %d has no rows", c, k);
        }
    if (m <= k) {
        free(count);
        return zs_errorf(ZS_ERR_ARG, "discriminant analysis: %d labelled rows for %d classes (need more rows than classes)",
                         m, k);
    }

    double *cm = zs_xcalloc((size_t)k * z, sizeof(double)), *mean = zs_xcalloc((size_t)z, sizeof(double));
    for (int i = 0; i < n; i++)
        if (label[i] >= 0)
            for (int j = 0; j < z; j++) cm[(size_t)label[i] * z + j] += x[(size_t)i * z + j];
    for (int c = 0; c < k; c++)
        for (int j = 0; j < z; j++) {
            mean[j] += cm[(size_t)c * z + j];
            cm[(size_t)c * z + j] /= count[c];
        }
    for (int j = 0; j < z; j++) mean[j] /= m;

    /* Sw (pooled, / (m - k)) and the Ledoit-Wolf sums: sum_i |d_i|^4 */
    double *sw = zs_xcalloc((size_t)z * z, sizeof(double)), *d = zs_xmalloc(sizeof(double) * (size_t)z);
    double q4 = 0;
    for (int i = 0; i < n; i++) {
        if (label[i] < 0) continue;
        double q = 0;
        for (int j = 0; j < z; j++) {
            d[j] = x[(size_t)i * z + j] - cm[(size_t)label[i] * z + j];
            q += d[j] * d[j];
        }
        q4 += q * q;
        for (int a = 0; a < z; a++)
            for (int b = 0; b <= a; b++) sw[(size_t)a * z + b] += d[a] * d[b];
    }
    double tr = 0, fro = 0;   /* of S = scatter / m */
    for (int a = 0; a < z; a++)
        for (int b = 0; b <= a; b++) {
            double v = sw[(size_t)a * z + b] / m;
            fro += (a == b ? 1 : 2) * v * v;
            if (a == b) tr += v;
        }
    zs_status st = ZS_OK;
    if (!(tr > 0)) {
        st = zs_errorf(ZS_ERR_NUMERIC, "discriminant analysis: no spread within the classes");
        goto done;
    }
    if (shrinkage < 0) {   /* Ledoit-Wolf: b2 / d2 towards (tr / z) I */
        double mu = tr / z, d2 = fro - 2 * mu * tr + mu * mu * z;   /* |S - mu I|_F^2 */
        double b2 = (q4 / m - fro) / m;
        shrinkage = d2 > 0 ? fmin(1, fmax(0, b2 / d2)) : 1;
    }
    double scale = 1.0 / (m - k), iso = shrinkage * tr * m * scale / z;
    for (int a = 0; a < z; a++)
        for (int b = 0; b <= a; b++)
            sw[(size_t)a * z + b] = (1 - shrinkage) * sw[(size_t)a * z + b] * scale + (a == b ? iso : 0);
    if (!cholesky(z, sw)) {
        st = zs_errorf(ZS_ERR_NUMERIC,
                       "discriminant analysis: the within-class scatter is singular (%d rows, %d classes, z = %d%s)",
                       m, k, z, shrinkage == 0 ? "; use shrinkage" : "");
        goto done;
    }
    /* M = L^-1 Sb L^-T with Sb = sum_c n_c / m (m_c - mean)(m_c - mean)^T = B B^T,
     * B's columns sqrt(n_c / m) (m_c - mean): M = (L^-1 B)(L^-1 B)^T */
    double *bw = zs_xmalloc(sizeof(double) * (size_t)k * z);   /* (k, z): row c = L^-1 B_c */
    for (int c = 0; c < k; c++) {
        double w = sqrt((double)count[c] / m), *r = bw + (size_t)c * z;
        for (int j = 0; j < z; j++) {   /* forward substitution */
            double s = w * (cm[(size_t)c * z + j] - mean[j]);
            for (int t = 0; t < j; t++) s -= sw[(size_t)j * z + t] * r[t];
            r[j] = s / sw[(size_t)j * z + j];
        }
    }
    /* M = C C^T (z x z, C = bw^T) has rank <= k - 1 and the eigenvectors C u of the
     * k x k G = C^T C's: the eigen-solver runs on G */
    double *G = zs_xcalloc((size_t)k * k, sizeof(double)), *ev = zs_xmalloc(sizeof(double) * (size_t)k);
    double *U = zs_xmalloc(sizeof(double) * (size_t)k * k);
    for (int c = 0; c < k; c++)
        for (int e = 0; e < k; e++)
            for (int j = 0; j < z; j++) G[(size_t)c * k + e] += bw[(size_t)c * z + j] * bw[(size_t)e * z + j];
    zs_jacobi_eigen(k, G, ev, U);
    int *order = zs_xmalloc(sizeof(int) * (size_t)k);
    for (int i = 0; i < k; i++) order[i] = i;
    for (int i = 1; i < k; i++)
        for (int j = i; j > 0 && ev[order[j - 1]] < ev[order[j]]; j--) {
            int t = order[j];
            order[j] = order[j - 1], order[j - 1] = t;
        }
    int nd = k - 1 < z ? k - 1 : z;
    out->z = z, out->k = k, out->ndir = nd, out->n = m, out->shrinkage = shrinkage;
    out->dir = zs_xmalloc(sizeof(float) * (size_t)nd * z);
    out->ratio = zs_xmalloc(sizeof(double) * (size_t)nd);
    out->mean = zs_xmalloc(sizeof(float) * (size_t)z);
    out->class_mean = zs_xmalloc(sizeof(float) * (size_t)k * z);
    out->count = count;
    count = NULL;
    for (int j = 0; j < z; j++) out->mean[j] = (float)mean[j];
    for (size_t i = 0; i < (size_t)k * z; i++) out->class_mean[i] = (float)cm[i];
    double *wv = zs_xmalloc(sizeof(double) * (size_t)z);
    for (int i = 0; i < nd; i++) {   /* w = C u (an eigenvector of M), v = L^-T w, then unit length */
        int e = order[i];
        for (int j = 0; j < z; j++) {
            double s = 0;
            for (int c = 0; c < k; c++) s += bw[(size_t)c * z + j] * U[(size_t)c * k + e];
            wv[j] = s;
        }
        for (int j = z - 1; j >= 0; j--) {
            double s = wv[j];
            for (int t = j + 1; t < z; t++) s -= sw[(size_t)t * z + j] * d[t];
            d[j] = s / sw[(size_t)j * z + j];
        }
        double nn = 0;
        int big = 0;
        for (int j = 0; j < z; j++) {
            nn += d[j] * d[j];
            if (fabs(d[j]) > fabs(d[big])) big = j;
        }
        if (!(nn > 0)) {   /* the class means coincide along every remaining direction */
            memset(out->dir + (size_t)i * z, 0, sizeof(float) * z);
            out->ratio[i] = 0;
            continue;
        }
        double sc = (d[big] < 0 ? -1 : 1) / sqrt(nn);
        for (int j = 0; j < z; j++) out->dir[(size_t)i * z + j] = (float)(d[j] * sc);
        out->ratio[i] = ev[e] > 0 ? ev[e] : 0;
    }
    free(wv);
    free(bw), free(G), free(ev), free(U), free(order);
done:
    free(count), free(cm), free(mean), free(sw), free(d);
    return st;
}

void zs_lda_free(zs_lda *l)
{
    free(l->dir), free(l->ratio), free(l->mean), free(l->class_mean), free(l->count);
    memset(l, 0, sizeof *l);
}

void zs_latent_project(const float *x, int n, int z, const float *mean, const float *dir, int ndir, float *out)
{
    for (int i = 0; i < n; i++)
        for (int k = 0; k < ndir; k++) {
            double s = 0;
            for (int j = 0; j < z; j++) s += ((double)x[(size_t)i * z + j] - (mean ? mean[j] : 0)) * dir[(size_t)k * z + j];
            out[(size_t)i * ndir + k] = (float)s;
        }
}
