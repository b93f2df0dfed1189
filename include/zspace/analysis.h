/*
 * zspace/analysis.h - what the cloud of encoded faces looks like: per
 * component statistics and histograms, the correlation matrix and its
 * strongest pairs, how far the cloud's centre sits from the origin, and the
 * norms of the faces' latents against sqrt(Z) and against samples of the
 * prior N(0, I) (`zspace stats`).
 *
 *     zs_latent_stats s;
 *     zs_latent_stats_compute(L.mu, L.n, L.z, 40, seed, &s);
 *     zs_latent_stats_write(&s, "stats/");    // CSVs and PNGs
 *     zs_latent_stats_free(&s);
 */
#ifndef ZSPACE_ANALYSIS_H
#define ZSPACE_ANALYSIS_H

#include <stdio.h>

#include "zspace/core.h"
#include "zspace/latent.h"
#include "zspace/query.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct zs_latent_stats {
    int n, z;
    double *mean, *std, *min, *max;      /* (z) over the faces; std with 1/n */
    double *corr;                        /* (z, z) Pearson correlation; 0 where a std is 0 */
    int *order;                          /* components by decreasing std: the dominant first */
    double var_share_top;                /* fraction of the total variance in the top 10% of components */
    double centre_norm;                  /* || mean || */
    double centre_sigmas;                /* || mean || / sqrt(mean variance): the offset in units of the spread */
    double norm_mean, norm_std;          /* of || mu_i || */
    double prior_norm_mean, prior_norm_std;   /* of || e ||, e ~ N(0, I), as many samples as faces */
    /* histograms: per component over [hist_lo, hist_hi] (one range for all),
     * norms of faces and of prior samples over [norm_lo, norm_hi] */
    int bins;
    double hist_lo, hist_hi, norm_lo, norm_hi;
    int *hist;                           /* (z, bins) */
    int *norm_hist, *prior_norm_hist;    /* (bins) */
} zs_latent_stats;

/* mu (n, z) with n >= 2; bins in 2..1000; seed draws the prior samples. */
zs_status zs_latent_stats_compute(const float *mu, int n, int z, int bins, uint64_t seed, zs_latent_stats *out);
void zs_latent_stats_free(zs_latent_stats *s);
/* The k most correlated pairs (|r| largest, i < j): pairs (k, 2), r (k).
 * Returns how many (<= k). */
int zs_latent_top_pairs(const zs_latent_stats *s, int k, int *pairs, double *r);
/* Into dir (created if missing): components.csv (index, mean, std, min, max,
 * rank by std), correlation.csv (z x z), pairs.csv (the 20 strongest),
 * summary.txt, and the pictures histograms.png (one small histogram per
 * component, dominant first, row-major), correlation.png (heatmap, red
 * positive, blue negative) and norms.png (faces' norms in orange over the
 * prior's in grey, with sqrt(Z) as a black line). */
zs_status zs_latent_stats_write(const zs_latent_stats *s, const char *dir);
/* The four lines of summary.txt, to any stream. */
void zs_latent_stats_summary(const zs_latent_stats *s, FILE *f);

/* ---- linear discriminant analysis (src/latent/lda.c) ------------------------
 * The directions that best separate labelled groups of latents (e.g. the
 * hair colours): the generalised eigenvectors of the between-class scatter
 * Sb against the within-class scatter Sw, Sb v = l Sw v, largest l first.
 * Sw is shrunk towards a multiple of the identity, (1 - a) Sw + a tr(Sw)/z I,
 * since z is ~100 and groups can be small; a < 0 picks a by the Ledoit-Wolf
 * formula. Solved by Cholesky whitening (Sw = L L^T, M = L^-1 Sb L^-T) and
 * the symmetric eigen-solver of the principal directions.
 *
 *     int label[n];                      // 0..k-1, or -1: left out
 *     zs_lda l;
 *     if (zs_lda_fit(mu, n, z, label, k, -1, &l) != ZS_OK) puts(zs_last_error());
 *     zs_latent_project(mu, n, z, l.mean, l.dir, l.ndir, xy);   // (n, ndir)
 *     zs_lda_free(&l);
 */
typedef struct zs_lda {
    int z, k, ndir;         /* ndir = min(k - 1, z) directions */
    float *dir;             /* (ndir, z) unit length, largest ratio first, largest component positive */
    double *ratio;          /* (ndir) between- over within-class variance along each (the eigenvalue) */
    float *mean;            /* (z) mean of the labelled rows */
    float *class_mean;      /* (k, z) */
    int *count;             /* (k) rows of each class */
    int n;                  /* labelled rows used */
    double shrinkage;       /* the a that was used */
} zs_lda;
/* x (n, z); label (n) in 0..k-1 or -1 (row left out). Errors (with a message
 * naming the problem, never NaN directions): k < 2, a class without rows,
 * no more labelled rows than classes, non-finite input, no within-class
 * spread, or a singular Sw without shrinkage (e.g. fewer rows than z). */
zs_status zs_lda_fit(const float *x, int n, int z, const int *label, int k, double shrinkage, zs_lda *out);
void zs_lda_free(zs_lda *l);
/* out (n, ndir): (x_i - mean) . dir_j (mean NULL: 0). */
void zs_latent_project(const float *x, int n, int z, const float *mean, const float *dir, int ndir, float *out);

/* ---- group means ------------------------------------------------------------ */
/* mean (z) of the latents of the split's faces whose labels match q (all of
 * the split's faces for an empty query). Returns how many; 0 leaves mean
 * untouched. */
int zs_latents_group_mean(const zs_latents *l, const zs_query *q, zs_data_split split, float *mean);

/* ---- the 2-D walk ------------------------------------------------------------ */
/* The n x n latents (n * n, z) of `zspace walk` and the explorer's Walk
 * tab, row-major: cell (r, q) is centre + a vx + b vy with a = -range +
 * 2 range q / (n - 1) (columns) and b likewise of r (rows); n >= 2. */
void zs_walk_grid(const float *centre, const float *vx, const float *vy, int z, int n, double range, float *out);

/* ---- sharpening ------------------------------------------------------------ */
/* Unsharp mask of a decoded face (CHW, 3 x S x S, values in [0, 1]):
 * out = clamp(x + amount (x - blur(x)), 0, 1), blur the 3x3 binomial
 * [1 2 1]^T [1 2 1] / 16 with edges clamped; the explorer's fragment shader
 * (shaders/quad.frag) computes the same. out may not alias x. */
void zs_sharpen_chw(const float *x, int size, float amount, float *out);

/* ---- sampling modes and the data cloud ------------------------------------ */
/* count samples (count, z) uniform in the box [-b, b]^z (noise: zs_uniform01
 * keyed by seed at i * z + j). */
void zs_latent_sample_box(int z, int count, float b, uint64_t seed, float *out);
/* Mahalanobis distance of x from the fitted Gaussian: |L^-1 (x - mean)|. */
double zs_gauss_mahalanobis(const zs_gauss *g, const float *x);
/* A point is "inside the data cloud" when its squared Mahalanobis distance
 * is at most the 99% quantile of chi-square with z degrees of freedom, the
 * distribution it has for the Gaussian's own samples (Wilson-Hilferty). */
double zs_chi2_quantile99(int z);

#ifdef __cplusplus
}
#endif
#endif
