/* Statistics of the latent cloud (zspace/analysis.h). Sums in double; the
 * pictures are drawn straight into RGB buffers (no text: the CSVs carry
 * the numbers). */
#include "zspace/analysis.h"
#include "zspace/data.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* indices 0..n) by decreasing key, ties by index (insertion sort: n <= 4096) */
static void order_desc(const double *key, int n, int *idx)
{
    for (int i = 0; i < n; i++) {
        int j = i;
        while (j > 0 && key[idx[j - 1]] < key[i]) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
}

static int bin_of(double x, double lo, double hi, int bins)
{
    int b = (int)floor((x - lo) / (hi - lo) * bins);
    return b < 0 ? 0 : b >= bins ? bins - 1 : b;
}

static void mean_std(const double *v, int n, double *m, double *s)
{
    double a = 0, q = 0;
    for (int i = 0; i < n; i++) a += v[i];
    a /= n;
    for (int i = 0; i < n; i++) q += (v[i] - a) * (v[i] - a);
    *m = a;
    *s = sqrt(q / n);
}

zs_status zs_latent_stats_compute(const float *mu, int n, int z, int bins, uint64_t seed, zs_latent_stats *out)
{
    if (n < 2 || z < 1) return zs_errorf(ZS_ERR_ARG, "latent statistics need at least 2 faces (have %d)", n);
    if (bins < 2 || bins > 1000) return zs_errorf(ZS_ERR_ARG, "histogram bins %d outside 2..1000", bins);
    zs_latent_stats s = {.n = n, .z = z, .bins = bins};
    s.mean = zs_xcalloc((size_t)z, sizeof(double));
    s.std = zs_xcalloc((size_t)z, sizeof(double));
    s.min = zs_xcalloc((size_t)z, sizeof(double));
    s.max = zs_xcalloc((size_t)z, sizeof(double));
    s.corr = zs_xcalloc((size_t)z * z, sizeof(double));
    s.order = zs_xcalloc((size_t)z, sizeof(int));
    s.hist = zs_xcalloc((size_t)z * bins, sizeof(int));
    s.norm_hist = zs_xcalloc((size_t)bins, sizeof(int));
    s.prior_norm_hist = zs_xcalloc((size_t)bins, sizeof(int));
    double *c = zs_xcalloc((size_t)n * z, sizeof(double));   /* centred */
    for (int j = 0; j < z; j++) {
        s.min[j] = s.max[j] = mu[j];
        for (int i = 0; i < n; i++) {
            double v = mu[(size_t)i * z + j];
            s.mean[j] += v;
            if (v < s.min[j]) s.min[j] = v;
            if (v > s.max[j]) s.max[j] = v;
        }
        s.mean[j] /= n;
    }
    for (size_t i = 0; i < (size_t)n; i++)
        for (int j = 0; j < z; j++) c[i * z + j] = mu[i * z + j] - s.mean[j];
    /* covariance: C^T C / n, upper triangle then mirrored */
    for (size_t i = 0; i < (size_t)n; i++) {
        const double *ci = c + i * z;
        for (int a = 0; a < z; a++) {
            double *row = s.corr + (size_t)a * z, va = ci[a];
            for (int b = a; b < z; b++) row[b] += va * ci[b];
        }
    }
    for (int a = 0; a < z; a++)
        for (int b = a; b < z; b++) s.corr[(size_t)b * z + a] = s.corr[(size_t)a * z + b] /= n;
    double var_total = 0;
    for (int j = 0; j < z; j++) {
        s.std[j] = sqrt(s.corr[(size_t)j * z + j]);
        var_total += s.corr[(size_t)j * z + j];
    }
    for (int a = 0; a < z; a++)
        for (int b = 0; b < z; b++) {
            double d = s.std[a] * s.std[b];
            s.corr[(size_t)a * z + b] = a == b ? (d > 0 ? 1 : 0) : (d > 0 ? s.corr[(size_t)a * z + b] / d : 0);
        }
    order_desc(s.std, z, s.order);
    int top = z / 10 > 0 ? z / 10 : 1;
    double vt = 0;
    for (int k = 0; k < top; k++) vt += s.std[s.order[k]] * s.std[s.order[k]];
    s.var_share_top = var_total > 0 ? vt / var_total : 0;
    double cn = 0;
    for (int j = 0; j < z; j++) cn += s.mean[j] * s.mean[j];
    s.centre_norm = sqrt(cn);
    s.centre_sigmas = var_total > 0 ? s.centre_norm / sqrt(var_total / z) : 0;

    /* component histograms over one symmetric range covering all values */
    double r = 0;
    for (int j = 0; j < z; j++) r = fmax(r, fmax(fabs(s.min[j]), fabs(s.max[j])));
    s.hist_lo = -(r > 0 ? r : 1);
    s.hist_hi = -s.hist_lo;
    for (size_t i = 0; i < (size_t)n; i++)
        for (int j = 0; j < z; j++) s.hist[(size_t)j * bins + bin_of(mu[i * z + j], s.hist_lo, s.hist_hi, bins)]++;
    /* norms of the faces and of as many prior samples */
    double *nf = zs_xcalloc((size_t)n, sizeof(double)), *np = zs_xcalloc((size_t)n, sizeof(double));
    for (int i = 0; i < n; i++) {
        double a = 0, b = 0;
        for (int j = 0; j < z; j++) {
            double v = mu[(size_t)i * z + j], e = zs_normal(seed, (uint64_t)i * z + j);
            a += v * v;
            b += e * e;
        }
        nf[i] = sqrt(a);
        np[i] = sqrt(b);
    }
    mean_std(nf, n, &s.norm_mean, &s.norm_std);
    mean_std(np, n, &s.prior_norm_mean, &s.prior_norm_std);
    double hi = 0;
    for (int i = 0; i < n; i++) hi = fmax(hi, fmax(nf[i], np[i]));
    s.norm_lo = 0;
    s.norm_hi = hi > 0 ? hi * 1.02 : 1;
    for (int i = 0; i < n; i++) {
        s.norm_hist[bin_of(nf[i], s.norm_lo, s.norm_hi, bins)]++;
        s.prior_norm_hist[bin_of(np[i], s.norm_lo, s.norm_hi, bins)]++;
    }
    free(nf);
    free(np);
    free(c);
    *out = s;
    return ZS_OK;
}

void zs_latent_stats_free(zs_latent_stats *s)
{
    free(s->mean);
    free(s->std);
    free(s->min);
    free(s->max);
    free(s->corr);
    free(s->order);
    free(s->hist);
    free(s->norm_hist);
    free(s->prior_norm_hist);
    memset(s, 0, sizeof *s);
}

int zs_latent_top_pairs(const zs_latent_stats *s, int k, int *pairs, double *r)
{
    int got = 0;
    for (int a = 0; a < s->z; a++)
        for (int b = a + 1; b < s->z; b++) {
            double v = s->corr[(size_t)a * s->z + b];
            int pos = got;   /* insertion into the sorted top-k by |r| */
            while (pos > 0 && fabs(r[pos - 1]) < fabs(v)) pos--;
            if (pos >= k) continue;
            int last = got < k ? got : k - 1;
            for (int q = last; q > pos; q--) {
                r[q] = r[q - 1];
                pairs[2 * q] = pairs[2 * q - 2];
                pairs[2 * q + 1] = pairs[2 * q - 1];
            }
            r[pos] = v;
            pairs[2 * pos] = a;
            pairs[2 * pos + 1] = b;
            if (got < k) got++;
        }
    return got;
}

/* ---- pictures ------------------------------------------------------------- */
typedef struct canvas { int w, h; uint8_t *rgb; } canvas;

static canvas canvas_new(int w, int h, uint8_t grey)
{
    canvas c = {w, h, zs_xmalloc((size_t)w * h * 3)};
    memset(c.rgb, grey, (size_t)w * h * 3);
    return c;
}

static void fill(canvas *c, int x0, int y0, int x1, int y1, const uint8_t col[3])
{
    for (int y = y0 < 0 ? 0 : y0; y < y1 && y < c->h; y++)
        for (int x = x0 < 0 ? 0 : x0; x < x1 && x < c->w; x++) memcpy(c->rgb + ((size_t)y * c->w + x) * 3, col, 3);
}

static zs_status canvas_save(canvas *c, const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    zs_image im = {c->w, c->h, c->rgb};
    zs_status st = zs_image_write_png(path, &im);
    free(c->rgb);
    c->rgb = NULL;
    return st;
}

/* bars of h[0..bins) scaled to hmax into the box (x, y, w, h) */
static void bars(canvas *c, int x, int y, int w, int h, const int *hist, int bins, int hmax, const uint8_t col[3])
{
    for (int b = 0; b < bins; b++) {
        int bh = hmax > 0 ? (int)lround((double)hist[b] / hmax * h) : 0;
        fill(c, x + b * w / bins, y + h - bh, x + (b + 1) * w / bins, y + h, col);
    }
}

static zs_status draw_histograms(const zs_latent_stats *s, const char *dir)
{
    enum { CW = 96, CH = 48, PAD = 4 };
    int cols = 16, rows = (s->z + cols - 1) / cols;
    canvas c = canvas_new(cols * (CW + PAD) + PAD, rows * (CH + PAD) + PAD, 255);
    static const uint8_t bg[3] = {236, 236, 236}, bar[3] = {40, 90, 170}, zero[3] = {200, 60, 60};
    for (int k = 0; k < s->z; k++) {
        int j = s->order[k], x = PAD + (k % cols) * (CW + PAD), y = PAD + (k / cols) * (CH + PAD);
        const int *h = s->hist + (size_t)j * s->bins;
        int hmax = 0;
        for (int b = 0; b < s->bins; b++) hmax = h[b] > hmax ? h[b] : hmax;
        fill(&c, x, y, x + CW, y + CH, bg);
        bars(&c, x, y, CW, CH, h, s->bins, hmax, bar);
        int x0 = x + (int)lround((0 - s->hist_lo) / (s->hist_hi - s->hist_lo) * CW);   /* where 0 is */
        fill(&c, x0, y, x0 + 1, y + CH, zero);
    }
    return canvas_save(&c, dir, "histograms.png");
}

static zs_status draw_correlation(const zs_latent_stats *s, const char *dir)
{
    int px = s->z <= 64 ? 8 : s->z <= 256 ? 4 : 1, side = s->z * px;
    canvas c = canvas_new(side, side, 255);
    for (int a = 0; a < s->z; a++)
        for (int b = 0; b < s->z; b++) {
            double r = s->corr[(size_t)a * s->z + b];
            uint8_t k = (uint8_t)lround(255 * (1 - fmin(1, fabs(r))));
            uint8_t col[3] = {r >= 0 ? 255 : k, k, r >= 0 ? k : 255};
            fill(&c, b * px, a * px, (b + 1) * px, (a + 1) * px, col);
        }
    return canvas_save(&c, dir, "correlation.png");
}

static zs_status draw_norms(const zs_latent_stats *s, const char *dir)
{
    enum { W = 640, H = 240 };
    canvas c = canvas_new(W, H, 255);
    static const uint8_t grey[3] = {170, 170, 170}, orange[3] = {230, 120, 20}, black[3] = {0, 0, 0};
    int hmax = 0;
    for (int b = 0; b < s->bins; b++) {
        hmax = s->norm_hist[b] > hmax ? s->norm_hist[b] : hmax;
        hmax = s->prior_norm_hist[b] > hmax ? s->prior_norm_hist[b] : hmax;
    }
    bars(&c, 0, 0, W, H, s->prior_norm_hist, s->bins, hmax, grey);
    /* the faces' bars, narrower, on top */
    for (int b = 0; b < s->bins; b++) {
        int bh = hmax > 0 ? (int)lround((double)s->norm_hist[b] / hmax * H) : 0, x0 = b * W / s->bins,
            x1 = (b + 1) * W / s->bins;
        fill(&c, x0 + (x1 - x0) / 4, H - bh, x1 - (x1 - x0) / 4, H, orange);
    }
    int xs = (int)lround(sqrt((double)s->z) / (s->norm_hi - s->norm_lo) * W);
    fill(&c, xs, 0, xs + 2, H, black);
    return canvas_save(&c, dir, "norms.png");
}

static FILE *open_in(const char *dir, const char *name, zs_status *st)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) *st = zs_errorf(ZS_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    return f;
}

void zs_latent_stats_summary(const zs_latent_stats *s, FILE *f)
{
    fprintf(f,
            "faces %d, latent size %d\n"
            "centre of the cloud: |mean| = %.4f (%.2f times the mean per-component spread)\n"
            "norms of the faces' mu: mean %.4f, std %.4f; sqrt(Z) = %.4f; prior N(0, I) samples: mean %.4f, std %.4f\n"
            "top 10%% of components by spread hold %.1f%% of the variance; most spread: %d (std %.4f), least: %d "
            "(std %.4f)\n",
            s->n, s->z, s->centre_norm, s->centre_sigmas, s->norm_mean, s->norm_std, sqrt((double)s->z),
            s->prior_norm_mean, s->prior_norm_std, 100 * s->var_share_top, s->order[0], s->std[s->order[0]],
            s->order[s->z - 1], s->std[s->order[s->z - 1]]);
}

zs_status zs_latent_stats_write(const zs_latent_stats *s, const char *dir)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) return zs_errorf(ZS_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    zs_status st = ZS_OK;
    int *rank = zs_xcalloc((size_t)s->z, sizeof(int));
    for (int k = 0; k < s->z; k++) rank[s->order[k]] = k + 1;
    FILE *f = open_in(dir, "components.csv", &st);
    if (f) {
        fprintf(f, "component,mean,std,min,max,rank_by_std\n");
        for (int j = 0; j < s->z; j++)
            fprintf(f, "%d,%.6g,%.6g,%.6g,%.6g,%d\n", j, s->mean[j], s->std[j], s->min[j], s->max[j], rank[j]);
        if (fclose(f) != 0) st = zs_errorf(ZS_ERR_IO, "writing %s/components.csv failed", dir);
    }
    free(rank);
    if (st == ZS_OK && (f = open_in(dir, "correlation.csv", &st))) {
        for (int a = 0; a < s->z; a++)
            for (int b = 0; b < s->z; b++) fprintf(f, "%.4f%c", s->corr[(size_t)a * s->z + b], b + 1 < s->z ? ',' : '\n');
        if (fclose(f) != 0) st = zs_errorf(ZS_ERR_IO, "writing %s/correlation.csv failed", dir);
    }
    int pairs[40];
    double r[20];
    int np = zs_latent_top_pairs(s, 20, pairs, r);
    if (st == ZS_OK && (f = open_in(dir, "pairs.csv", &st))) {
        fprintf(f, "a,b,r\n");
        for (int k = 0; k < np; k++) fprintf(f, "%d,%d,%.4f\n", pairs[2 * k], pairs[2 * k + 1], r[k]);
        if (fclose(f) != 0) st = zs_errorf(ZS_ERR_IO, "writing %s/pairs.csv failed", dir);
    }
    if (st == ZS_OK && (f = open_in(dir, "summary.txt", &st))) {
        zs_latent_stats_summary(s, f);
        if (fclose(f) != 0) st = zs_errorf(ZS_ERR_IO, "writing %s/summary.txt failed", dir);
    }
    if (st == ZS_OK) st = draw_histograms(s, dir);
    if (st == ZS_OK) st = draw_correlation(s, dir);
    if (st == ZS_OK) st = draw_norms(s, dir);
    return st;
}

/* ---- sampling modes and the data cloud ------------------------------------------ */
void zs_latent_sample_box(int z, int count, float b, uint64_t seed, float *out)
{
    for (size_t i = 0; i < (size_t)count * z; i++) out[i] = b * (2.0f * zs_uniform01(seed, i) - 1.0f);
}

double zs_gauss_mahalanobis(const zs_gauss *g, const float *x)
{
    int z = g->z;
    double *y = zs_xmalloc(sizeof(double) * (size_t)z), d2 = 0;
    for (int i = 0; i < z; i++) {   /* forward substitution L y = x - mean */
        double v = (double)x[i] - g->mean[i];
        const double *row = g->chol + (size_t)i * z;
        for (int k = 0; k < i; k++) v -= row[k] * y[k];
        y[i] = row[i] > 0 ? v / row[i] : 0;
        d2 += y[i] * y[i];
    }
    free(y);
    return sqrt(d2);
}

double zs_chi2_quantile99(int z)
{
    double k = z, c = 2.0 / (9.0 * k), t = 1 - c + 2.326348 * sqrt(c);
    return k * t * t * t;
}

/* ---- the 2-D walk ------------------------------------------------------------------ */
void zs_walk_grid(const float *c, const float *vx, const float *vy, int z, int n, double range, float *out)
{
    for (int r = 0; r < n; r++)
        for (int q = 0; q < n; q++) {
            float a = (float)(-range + 2 * range * q / (n - 1)), b = (float)(-range + 2 * range * r / (n - 1));
            float *o = out + ((size_t)r * n + q) * z;
            for (int j = 0; j < z; j++) o[j] = c[j] + a * vx[j] + b * vy[j];
        }
}

/* ---- sharpening -------------------------------------------------------------------- */
void zs_sharpen_chw(const float *x, int S, float amount, float *out)
{
    static const float k[3] = {0.25f, 0.5f, 0.25f};
    for (int c = 0; c < 3; c++) {
        const float *p = x + (size_t)c * S * S;
        float *o = out + (size_t)c * S * S;
        for (int y = 0; y < S; y++)
            for (int xx = 0; xx < S; xx++) {
                float blur = 0;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++) {
                        int yy = y + dy < 0 ? 0 : y + dy >= S ? S - 1 : y + dy;
                        int xc = xx + dx < 0 ? 0 : xx + dx >= S ? S - 1 : xx + dx;
                        blur += k[dy + 1] * k[dx + 1] * p[(size_t)yy * S + xc];
                    }
                float v = p[(size_t)y * S + xx], r = v + amount * (v - blur);
                o[(size_t)y * S + xx] = r < 0 ? 0 : r > 1 ? 1 : r;
            }
    }
}

/* ---- group means --------------------------------------------------------------------- */
int zs_latents_group_mean(const zs_latents *l, const zs_query *q, zs_data_split split, float *mean)
{
    int *idx = NULL, n = zs_latents_split(l, split, &idx), count = 0;
    double *acc = zs_xcalloc((size_t)l->z, sizeof(double));
    for (int i = 0; i < n; i++) {
        if (!zs_query_match(q, l->attr + (size_t)idx[i] * ZS_NATTR)) continue;
        const float *m = l->mu + (size_t)idx[i] * l->z;
        for (int j = 0; j < l->z; j++) acc[j] += m[j];
        count++;
    }
    if (count)
        for (int j = 0; j < l->z; j++) mean[j] = (float)(acc[j] / count);
    free(acc);
    free(idx);
    return count;
}
