/* The latent toolkit's arithmetic (see zspace/latent.h): splits, attribute
 * vectors (plain and confounder-balanced) with their held-out AUC, cosines,
 * orthogonalization, edits, lerp / slerp, and the Gaussian fitted to the
 * encoded faces with sampling from it. Dot products and sums are in double:
 * a latent file holds up to ~200k faces and the vectors are small
 * differences of large means. */
#include "zspace/latent.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ZS_PI 3.14159265358979323846

static double dot_f(int z, const float *a, const float *b)
{
    double s = 0;
    for (int i = 0; i < z; i++) s += (double)a[i] * b[i];
    return s;
}

static double dot_d(int z, const double *a, const double *b)
{
    double s = 0;
    for (int i = 0; i < z; i++) s += a[i] * b[i];
    return s;
}

/* ---- splits ------------------------------------------------------------------ */
int zs_latents_split(const zs_latents *l, zs_data_split s, int **out)
{
    ZS_ASSERT(l && out && s >= ZS_SPLIT_TRAIN && s <= ZS_SPLIT_ALL && l->n >= 0);
    ZS_ASSERT(l->n == 0 || s == ZS_SPLIT_ALL || l->part);
    int *idx = zs_xmalloc(sizeof(int) * (size_t)(l->n > 0 ? l->n : 1));
    int n = 0;
    for (int i = 0; i < l->n; i++)
        if (s == ZS_SPLIT_ALL || l->part[i] == (int8_t)s) idx[n++] = i;
    *out = idx;
    return n;
}

/* ---- AUC ----------------------------------------------------------------------- */
typedef struct scored { float s; int8_t pos; } scored;

static int cmp_scored(const void *pa, const void *pb)
{
    float a = ((const scored *)pa)->s, b = ((const scored *)pb)->s;
    return (a > b) - (a < b);
}

/* Mann-Whitney: sort by score; within each run of equal scores every positive
 * beats the negatives below the run and ties half of those in it. Labels
 * other than +1 / -1 (0) are ignored; a NaN score makes the AUC NaN. */
double zs_auc(const float *score, const int8_t *label, int n)
{
    ZS_ASSERT(n >= 0 && (n == 0 || (score && label)));
    scored *v = zs_xmalloc(sizeof(scored) * (size_t)(n > 0 ? n : 1));
    int m = 0;
    double npos = 0, nneg = 0;
    for (int i = 0; i < n; i++) {
        if (label[i] == 0) continue;
        if (isnan(score[i])) {
            free(v);
            return NAN;
        }
        v[m].s = score[i];
        v[m].pos = label[i] > 0;
        npos += v[m].pos, nneg += !v[m].pos;
        m++;
    }
    if (npos == 0 || nneg == 0) {
        free(v);
        return NAN;
    }
    qsort(v, (size_t)m, sizeof(scored), cmp_scored);
    double wins = 0, neg_below = 0;
    for (int i = 0; i < m;) {
        int j = i;
        double p = 0, q = 0;
        for (; j < m && v[j].s == v[i].s; j++) p += v[j].pos, q += !v[j].pos;
        wins += p * (neg_below + 0.5 * q);
        neg_below += q;
        i = j;
    }
    free(v);
    return wins / (npos * nneg);
}

/* ---- attribute vectors ---------------------------------------------------------- */
/* Sums of mu over the positives and negatives of attribute a among idx. */
static void class_sums(const zs_latents *l, const int *idx, int n, int a, double *sp, double *sn, int *np, int *nn)
{
    int z = l->z;
    memset(sp, 0, sizeof(double) * (size_t)z);
    memset(sn, 0, sizeof(double) * (size_t)z);
    *np = *nn = 0;
    for (int t = 0; t < n; t++) {
        int i = idx[t];
        const float *mu = l->mu + (size_t)i * z;
        int pos = l->attr[(size_t)i * ZS_NATTR + a] > 0;
        double *s = pos ? sp : sn;
        if (pos) ++*np;
        else ++*nn;
        for (int j = 0; j < z; j++) s[j] += mu[j];
    }
}

/* vec = mean(positives) - mean(negatives); zero (with a warning) when a
 * class is empty. */
static void plain_vector(const zs_latents *l, const int *idx, int n, int a, zs_data_split fit, double *work,
                         float *vec, int *npos, int *nneg)
{
    int z = l->z;
    double *sp = work, *sn = work + z;
    class_sums(l, idx, n, a, sp, sn, npos, nneg);
    if (*npos == 0 || *nneg == 0) {
        zs_log(ZS_LOG_WARN, "attribute %s: no %s faces in the %s split; its vector is zero", zs_attr_names[a],
               *npos == 0 ? "positive" : "negative", zs_split_name(fit));
        memset(vec, 0, sizeof(float) * (size_t)z);
        return;
    }
    for (int j = 0; j < z; j++) vec[j] = (float)(sp[j] / *npos - sn[j] / *nneg);
}

/* phi correlation of every pair of attribute labels over idx. */
static void label_phi(const zs_latents *l, const int *idx, int n, double *phi)
{
    double *c1 = zs_xcalloc(ZS_NATTR, sizeof(double));
    double *c11 = zs_xcalloc(ZS_NATTR * ZS_NATTR, sizeof(double));
    int on[ZS_NATTR];
    for (int t = 0; t < n; t++) {
        const int8_t *at = l->attr + (size_t)idx[t] * ZS_NATTR;
        int k = 0;
        for (int a = 0; a < ZS_NATTR; a++)
            if (at[a] > 0) on[k++] = a;
        for (int p = 0; p < k; p++) {
            c1[on[p]] += 1;
            for (int q = 0; q < k; q++) c11[on[p] * ZS_NATTR + on[q]] += 1;
        }
    }
    double N = n;
    for (int a = 0; a < ZS_NATTR; a++)
        for (int b = 0; b < ZS_NATTR; b++) {
            double den = c1[a] * (N - c1[a]) * c1[b] * (N - c1[b]);
            phi[a * ZS_NATTR + b] = den > 0 ? (N * c11[a * ZS_NATTR + b] - c1[a] * c1[b]) / sqrt(den) : 0;
        }
    free(c1);
    free(c11);
}

/* The confounders of attribute a: Male (unless a is Male), then the others
 * by decreasing |phi| with a (lower index first on ties; uncorrelated or
 * constant labels never), up to k in all. */
static int pick_confounders(int a, int male, int k, const double *phi, int *conf)
{
    int nc = 0, used[ZS_NATTR] = {0};
    used[a] = 1;
    if (a != male) conf[nc++] = male, used[male] = 1;
    while (nc < k) {
        int best = -1;
        double bv = 0;
        for (int b = 0; b < ZS_NATTR; b++)
            if (!used[b] && fabs(phi[a * ZS_NATTR + b]) > bv) bv = fabs(phi[a * ZS_NATTR + b]), best = b;
        if (best < 0) break;
        conf[nc++] = best, used[best] = 1;
    }
    return nc;
}

/* Cells = the 2^nc combinations of the confounders' labels; each cell that
 * holds at least min_cell positives and min_cell negatives contributes its
 * (mean positive - mean negative) with equal weight. Returns the number of
 * cells kept (0: vec untouched). */
static int balanced_vector(const zs_latents *l, const int *idx, int n, int a, const int *conf, int nc,
                           int min_cell, float *vec, int *npos, int *nneg)
{
    int z = l->z, ncell = 1 << nc;
    double *sum = zs_xcalloc((size_t)ncell * 2 * z, sizeof(double));   /* (cell, pos/neg, z) */
    int *cnt = zs_xcalloc((size_t)ncell * 2, sizeof(int));               /* (cell, pos/neg) */
    for (int t = 0; t < n; t++) {
        int i = idx[t];
        const int8_t *at = l->attr + (size_t)i * ZS_NATTR;
        int cell = 0;
        for (int c = 0; c < nc; c++) cell |= (at[conf[c]] > 0) << c;
        int slot = cell * 2 + (at[a] > 0 ? 0 : 1);
        cnt[slot]++;
        double *s = sum + (size_t)slot * z;
        const float *mu = l->mu + (size_t)i * z;
        for (int j = 0; j < z; j++) s[j] += mu[j];
    }
    double *acc = zs_xcalloc((size_t)z, sizeof(double));
    int kept = 0;
    *npos = *nneg = 0;
    for (int cell = 0; cell < ncell; cell++) {
        int cp = cnt[cell * 2], cn = cnt[cell * 2 + 1];
        if (cp < min_cell || cn < min_cell) continue;
        const double *sp = sum + (size_t)(cell * 2) * z, *sn = sp + z;
        for (int j = 0; j < z; j++) acc[j] += sp[j] / cp - sn[j] / cn;
        *npos += cp, *nneg += cn;
        kept++;
    }
    if (kept)
        for (int j = 0; j < z; j++) vec[j] = (float)(acc[j] / kept);
    free(acc);
    free(cnt);
    free(sum);
    return kept;
}

zs_status zs_attr_vectors_compute(const zs_latents *l, const zs_attr_desc *d, zs_attr_vectors *out)
{
    ZS_ASSERT(l && out);
    zs_attr_desc dd = d ? *d : (zs_attr_desc){0};
    if (dd.min_cell == 0) dd.min_cell = 5;
    if (dd.held_out == ZS_SPLIT_TRAIN) dd.held_out = ZS_SPLIT_VAL;
    memset(out, 0, sizeof *out);
    if (dd.confounders < 0 || dd.confounders > 8)
        return zs_errorf(ZS_ERR_ARG, "attribute vectors: confounders must be 0..8 (got %d)", dd.confounders);
    if (dd.nconf_list < 0 || dd.nconf_list > 8)
        return zs_errorf(ZS_ERR_ARG, "attribute vectors: at most 8 confounders (got %d)", dd.nconf_list);
    for (int i = 0; i < dd.nconf_list; i++)
        if (dd.conf_list[i] < 0 || dd.conf_list[i] >= ZS_NATTR)
            return zs_errorf(ZS_ERR_ARG, "attribute vectors: confounder index %d is not 0..39", dd.conf_list[i]);
    if (dd.min_cell < 1) return zs_errorf(ZS_ERR_ARG, "attribute vectors: min_cell must be >= 1 (got %d)", dd.min_cell);
    if ((int)dd.fit < ZS_SPLIT_TRAIN || dd.fit > ZS_SPLIT_ALL || (int)dd.held_out < ZS_SPLIT_TRAIN ||
        dd.held_out > ZS_SPLIT_ALL)
        return zs_errorf(ZS_ERR_ARG, "attribute vectors: bad split");
    if (l->n <= 0 || l->z <= 0)
        return zs_errorf(ZS_ERR_ARG, "attribute vectors: no latents (n %d, z %d)", l->n, l->z);
    ZS_ASSERT(l->mu && l->attr && l->part);

    int *fit, *ho;
    int nf = zs_latents_split(l, dd.fit, &fit);
    if (nf == 0) {
        free(fit);
        return zs_errorf(ZS_ERR_ARG, "attribute vectors: no faces in the %s split of %d latents",
                         zs_split_name(dd.fit), l->n);
    }
    int nh = zs_latents_split(l, dd.held_out, &ho);
    if (nh == 0) {
        /* no held-out split (e.g. a cache of train faces only): hold out
         * every 10th fit face, fit on the rest */
        if (nf < 20) {
            free(fit);
            free(ho);
            return zs_errorf(ZS_ERR_ARG, "attribute vectors: %d faces, no %s split: too few to hold any out", nf,
                             zs_split_name(dd.held_out));
        }
        free(ho);
        ho = zs_xmalloc(sizeof(int) * (size_t)(nf / 10 + 1));
        int k = 0;
        nh = 0;
        for (int t = 0; t < nf; t++) {
            if (t % 10 == 9) ho[nh++] = fit[t];
            else fit[k++] = fit[t];
        }
        nf = k;
        out->held_out_from_fit = 1;
        zs_log(ZS_LOG_INFO, "attribute vectors: no faces in the %s split; AUC on every 10th %s face (%d) instead",
               zs_split_name(dd.held_out), zs_split_name(dd.fit), nh);
    }

    int z = l->z, male = zs_attr_find("Male");
    ZS_ASSERT(male >= 0);
    out->z = z;
    out->vec = zs_xcalloc((size_t)ZS_NATTR * z, sizeof(float));
    out->balanced = dd.balanced != 0;
    out->model_hash = l->model_hash;

    double *phi = NULL;
    if (dd.balanced && dd.nconf_list == 0 && dd.confounders > 0) {
        phi = zs_xmalloc(sizeof(double) * ZS_NATTR * ZS_NATTR);
        label_phi(l, fit, nf, phi);
    }
    double *work = zs_xmalloc(sizeof(double) * 2 * (size_t)z);
    float *score = zs_xmalloc(sizeof(float) * (size_t)(nh > 0 ? nh : 1));
    int8_t *lab = zs_xmalloc((size_t)(nh > 0 ? nh : 1));

    for (int a = 0; a < ZS_NATTR; a++) {
        float *v = out->vec + (size_t)a * z;
        if (dd.balanced) {
            int nc = 0;
            if (dd.nconf_list > 0) {
                for (int i = 0; i < dd.nconf_list; i++)
                    if (dd.conf_list[i] != a) out->conf[a][nc++] = dd.conf_list[i];
            } else if (dd.confounders > 0) {
                nc = pick_confounders(a, male, dd.confounders, phi, out->conf[a]);
            } else {
                if (a != male) out->conf[a][nc++] = male;
            }
            if (balanced_vector(l, fit, nf, a, out->conf[a], nc, dd.min_cell, v, &out->npos[a], &out->nneg[a])) {
                out->nconf[a] = nc;
            } else {
                zs_log(ZS_LOG_WARN,
                       "attribute %s: no cell of its %d confounders holds %d positive and %d negative faces; "
                       "using the plain difference of means",
                       zs_attr_names[a], nc, dd.min_cell, dd.min_cell);
                memset(out->conf[a], 0, sizeof out->conf[a]);
                plain_vector(l, fit, nf, a, dd.fit, work, v, &out->npos[a], &out->nneg[a]);
            }
        } else {
            plain_vector(l, fit, nf, a, dd.fit, work, v, &out->npos[a], &out->nneg[a]);
        }

        /* held out: scores mu . v, and the mean projections in units of v */
        double vv = dot_f(z, v, v), pp = 0, pn = 0;
        int cp = 0, cn = 0;
        for (int t = 0; t < nh; t++) {
            int i = ho[t];
            double p = dot_f(z, l->mu + (size_t)i * z, v);
            score[t] = (float)p;
            lab[t] = l->attr[(size_t)i * ZS_NATTR + a] > 0 ? 1 : -1;
            if (lab[t] > 0) pp += p, cp++;
            else pn += p, cn++;
        }
        out->auc[a] = (float)zs_auc(score, lab, nh);
        out->mean_proj_pos[a] = vv > 0 && cp ? (float)(pp / cp / vv) : NAN;
        out->mean_proj_neg[a] = vv > 0 && cn ? (float)(pn / cn / vv) : NAN;
    }
    free(lab);
    free(score);
    free(work);
    free(phi);
    free(ho);
    free(fit);
    return ZS_OK;
}

void zs_attr_vectors_free(zs_attr_vectors *a)
{
    if (!a) return;
    free(a->vec);
    memset(a, 0, sizeof *a);
}

void zs_attr_cosines(const zs_attr_vectors *a, float *cos)
{
    ZS_ASSERT(a && a->vec && a->z > 0 && cos);
    int z = a->z;
    double nrm[ZS_NATTR];
    for (int i = 0; i < ZS_NATTR; i++) nrm[i] = sqrt(dot_f(z, a->vec + (size_t)i * z, a->vec + (size_t)i * z));
    for (int i = 0; i < ZS_NATTR; i++)
        for (int j = i; j < ZS_NATTR; j++) {
            double c = 0;
            if (nrm[i] > 0 && nrm[j] > 0)
                c = i == j ? 1.0 : dot_f(z, a->vec + (size_t)i * z, a->vec + (size_t)j * z) / (nrm[i] * nrm[j]);
            cos[i * ZS_NATTR + j] = cos[j * ZS_NATTR + i] = (float)c;
        }
}

/* ---- orthogonalization ------------------------------------------------------------ */
/* w minus its projection on the orthonormal q (modified Gram-Schmidt: each
 * coefficient taken from what is left, in double; with near-dependent
 * others skipped, the loss of orthogonality stays ~1e-10). */
static void remove_span(int z, double *w, const double *q, int nq)
{
    for (int j = 0; j < nq; j++) {
        const double *qj = q + (size_t)j * z;
        double c = dot_d(z, w, qj);
        for (int i = 0; i < z; i++) w[i] -= c * qj[i];
    }
}

float zs_orthogonalize(int z, const float *v, const float *others, int k, float *out)
{
    ZS_ASSERT(z > 0 && v && out && k >= 0 && (k == 0 || others));
    double *q = zs_xmalloc(sizeof(double) * (size_t)z * (size_t)(k + 1));   /* (k + 1, z): basis, then v */
    int nq = 0;
    for (int t = 0; t < k; t++) {
        double *r = q + (size_t)nq * z;
        for (int i = 0; i < z; i++) r[i] = others[(size_t)t * z + i];
        double n0 = sqrt(dot_d(z, r, r));
        if (!(n0 > 0) || !isfinite(n0)) continue;
        remove_span(z, r, q, nq);
        double nr = sqrt(dot_d(z, r, r));
        if (nr < 1e-6 * n0) continue;   /* (nearly) in the span of the previous ones */
        for (int i = 0; i < z; i++) r[i] /= nr;
        nq++;
    }
    double *w = q + (size_t)k * z;
    for (int i = 0; i < z; i++) w[i] = v[i];
    double nv = sqrt(dot_d(z, w, w));
    remove_span(z, w, q, nq);
    double nw = sqrt(dot_d(z, w, w));
    for (int i = 0; i < z; i++) out[i] = (float)w[i];
    free(q);
    return nv > 0 ? (float)(nw / nv) : 0.0f;
}

/* ---- edits and interpolation -------------------------------------------------------- */
void zs_latent_add(int z, const float *mu, const float *v, float s, float *out)
{
    ZS_ASSERT(z > 0 && mu && v && out);
    for (int i = 0; i < z; i++) out[i] = mu[i] + s * v[i];
}

void zs_lerp(int z, const float *a, const float *b, float t, float *out)
{
    ZS_ASSERT(z > 0 && a && b && out);
    for (int i = 0; i < z; i++) out[i] = (1.0f - t) * a[i] + t * b[i];
}

void zs_slerp(int z, const float *a, const float *b, float t, float *out)
{
    ZS_ASSERT(z > 0 && a && b && out);
    if (t == 0.0f || t == 1.0f) {   /* the endpoints exactly */
        memmove(out, t == 0.0f ? a : b, sizeof(float) * (size_t)z);
        return;
    }
    double na = sqrt(dot_f(z, a, a)), nb = sqrt(dot_f(z, b, b));
    if (!(na > 0) || !(nb > 0) || !isfinite(na) || !isfinite(nb)) {
        zs_lerp(z, a, b, t, out);
        return;
    }
    /* The angle as 2 atan2(|ua - ub|, |ua + ub|): accurate near 0 and pi,
     * where acos of the dot product is not. */
    double dm = 0, dp = 0;
    for (int i = 0; i < z; i++) {
        double ua = a[i] / na, ub = b[i] / nb;
        dm += (ua - ub) * (ua - ub), dp += (ua + ub) * (ua + ub);
    }
    double om = 2.0 * atan2(sqrt(dm), sqrt(dp));
    if (om < 1e-4) {   /* same direction: the great circle is a point */
        zs_lerp(z, a, b, t, out);
        return;
    }
    double nt = (1.0 - t) * na + (double)t * nb;
    if (ZS_PI - om < 1e-4) {
        /* Antipodal: every great circle through a and -a is one; take the one
         * through p = e_j made perpendicular to a, j = a's smallest |component|
         * (so e_j is far from parallel to a). */
        int jm = 0;
        for (int i = 1; i < z; i++)
            if (fabsf(a[i]) < fabsf(a[jm])) jm = i;
        double *p = zs_xmalloc(sizeof(double) * (size_t)z);
        double aj = a[jm] / na, pn = 0;
        for (int i = 0; i < z; i++) {
            p[i] = (i == jm ? 1.0 : 0.0) - aj * (a[i] / na);
            pn += p[i] * p[i];
        }
        pn = sqrt(pn);   /* >= sqrt(1 - 1/z) > 0 for z >= 2; z == 1 has no perpendicular */
        double th = ZS_PI * t, ca = cos(th), sp = pn > 0 ? sin(th) / pn : 0;
        for (int i = 0; i < z; i++) out[i] = (float)(nt * (ca * (a[i] / na) + sp * p[i]));
        free(p);
        return;
    }
    double so = sin(om), wa = sin((1.0 - t) * om) / so / na, wb = sin(t * om) / so / nb;
    for (int i = 0; i < z; i++) out[i] = (float)(nt * (wa * a[i] + wb * b[i]));
}

/* ---- the Gaussian of the encoded faces ------------------------------------------------ */
/* Lower Cholesky factor of the (z, z) symmetric a into l; 0 if a is not
 * numerically positive definite. */
static int cholesky(int z, const double *a, double *l)
{
    memset(l, 0, sizeof(double) * (size_t)z * z);
    for (int i = 0; i < z; i++)
        for (int j = 0; j <= i; j++) {
            double s = a[(size_t)i * z + j];
            for (int k = 0; k < j; k++) s -= l[(size_t)i * z + k] * l[(size_t)j * z + k];
            if (i == j) {
                if (!(s > 0) || !isfinite(s)) return 0;
                l[(size_t)i * z + i] = sqrt(s);
            } else {
                l[(size_t)i * z + j] = s / l[(size_t)j * z + j];
            }
        }
    return 1;
}

zs_status zs_gauss_fit(const float *x, int n, int z, zs_gauss *g)
{
    ZS_ASSERT(g && z > 0 && (n <= 0 || x));
    memset(g, 0, sizeof *g);
    if (n < 2) return zs_errorf(ZS_ERR_ARG, "fitting a Gaussian needs at least 2 latents (got %d)", n);
    for (size_t i = 0; i < (size_t)n * z; i++)
        if (!isfinite(x[i])) return zs_errorf(ZS_ERR_NUMERIC, "fitting a Gaussian: latent %zu is not finite", i / z);

    double *mean = zs_xcalloc((size_t)z, sizeof(double));
    for (int t = 0; t < n; t++)
        for (int j = 0; j < z; j++) mean[j] += x[(size_t)t * z + j];
    for (int j = 0; j < z; j++) mean[j] /= n;

    /* two-pass covariance, lower triangle accumulated then mirrored */
    double *cov = zs_xcalloc((size_t)z * z, sizeof(double));
    double *c = zs_xmalloc(sizeof(double) * (size_t)z);
    for (int t = 0; t < n; t++) {
        for (int j = 0; j < z; j++) c[j] = x[(size_t)t * z + j] - mean[j];
        for (int r = 0; r < z; r++) {
            double cr = c[r], *row = cov + (size_t)r * z;
            for (int k = 0; k <= r; k++) row[k] += cr * c[k];
        }
    }
    free(c);
    double trace = 0;
    for (int r = 0; r < z; r++) {
        for (int k = 0; k <= r; k++) cov[(size_t)r * z + k] = cov[(size_t)k * z + r] = cov[(size_t)r * z + k] / (n - 1);
        trace += cov[(size_t)r * z + r];
    }

    /* Cholesky with a ridge: tiny (1e-9 of the mean variance) so it changes
     * nothing measurable, doubled until the factorization succeeds (latent
     * dimensions the model does not use are nearly constant). The ridge
     * stays in g->cov, so g->cov == L L^T as documented. */
    double *chol = zs_xmalloc(sizeof(double) * (size_t)z * z);
    double *ridged = zs_xmalloc(sizeof(double) * (size_t)z * z);
    double ridge = 1e-9 * trace / z + 1e-12;
    int ok = 0;
    for (int tries = 0; tries < 200 && !ok; tries++, ridge *= 2) {
        memcpy(ridged, cov, sizeof(double) * (size_t)z * z);
        for (int r = 0; r < z; r++) ridged[(size_t)r * z + r] += ridge;
        ok = cholesky(z, ridged, chol);
    }
    free(cov);
    if (!ok) {
        free(ridged);
        free(chol);
        free(mean);
        return zs_errorf(ZS_ERR_NUMERIC, "fitting a Gaussian: the covariance of %d latents has no Cholesky factor", n);
    }
    g->z = z;
    g->mean = zs_xmalloc(sizeof(float) * (size_t)z);
    for (int j = 0; j < z; j++) g->mean[j] = (float)mean[j];
    free(mean);
    g->cov = ridged;
    g->chol = chol;
    return ZS_OK;
}

void zs_gauss_free(zs_gauss *g)
{
    if (!g) return;
    free(g->mean);
    free(g->cov);
    free(g->chol);
    memset(g, 0, sizeof *g);
}

void zs_latent_sample(const zs_gauss *g, int z, int count, float radius, uint64_t seed, float *out)
{
    ZS_ASSERT(z > 0 && count >= 0 && (count == 0 || out));
    ZS_ASSERT(!g || (g->z == z && g->mean && g->chol));
    uint64_t key = zs_hash64(seed);
    double *eps = zs_xmalloc(sizeof(double) * (size_t)z);
    for (int i = 0; i < count; i++) {
        float *o = out + (size_t)i * z;
        for (int j = 0; j < z; j++) eps[j] = zs_normal(key, (uint64_t)i * (uint64_t)z + (uint64_t)j);
        if (!g) {
            for (int j = 0; j < z; j++) o[j] = (float)(radius * eps[j]);
            continue;
        }
        for (int r = 0; r < z; r++) {
            const double *lr = g->chol + (size_t)r * z;
            double s = 0;
            for (int k = 0; k <= r; k++) s += lr[k] * eps[k];
            o[r] = (float)(g->mean[r] + radius * s);
        }
    }
    free(eps);
}

void zs_attr_edit_vector(const zs_attr_vectors *a, int k, const int *keep, int nkeep, float *out)
{
    ZS_ASSERT(a && a->vec && k >= 0 && k < ZS_NATTR && out);
    int z = a->z, n = 0;
    memcpy(out, a->vec + (size_t)k * z, sizeof(float) * (size_t)z);
    if (nkeep <= 0) return;
    float *others = zs_xmalloc(sizeof(float) * (size_t)z * (size_t)nkeep);
    for (int j = 0; j < nkeep; j++)
        if (keep[j] != k) memcpy(others + (size_t)n++ * z, a->vec + (size_t)keep[j] * z, sizeof(float) * (size_t)z);
    zs_orthogonalize(z, out, others, n, out);
    free(others);
}
