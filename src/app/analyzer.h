/*
 * analyzer.h - the Analysis tab's worker: one low-priority thread that
 * computes what the tab shows from the gallery's encoded faces, so the UI
 * thread only draws. Like the decoder it has one newest-wins slot: a job
 * posted before the worker took the previous one replaces it.
 *
 *     zs_analyzer *w = zs_analyzer_create(wake, user);
 *     zs_analyzer_post(w, &(zs_an_job){.gen = ++g, .n = n, .z = z, .mu = mu, .label = lab, .k = 4});
 *     zs_an_result r;
 *     if (zs_analyzer_poll(w, &r)) { show(&r); ... zs_an_result_free(&r); }
 *     zs_analyzer_destroy(w);   // joins (at most the job in flight)
 *
 * What a job computes (zs_an_compute, also callable directly): the
 * component statistics, correlations and norms of zs_latent_stats; the
 * strongest pairs; the correlation heatmap as z x z RGB pixels; a
 * histogram of every component over its own range; the faces projected on
 * the first two principal directions; and, given class labels, on the
 * first two discriminant directions (zs_lda_fit; with two classes the
 * second axis is the principal direction of what the first leaves), with
 * how well each plane separates the classes (nearest class centre in the
 * plane, on the faces themselves and for LDA also held out: fitted on
 * half the faces, tested on the other half).
 */
#ifndef ZS_APP_ANALYZER_H
#define ZS_APP_ANALYZER_H

#include "zspace/analysis.h"
#include "zspace/vae.h"

#define ZS_AN_PAIRS 12
#define ZS_AN_BINS 40
#define ZS_AN_MAX_CLASSES 8

typedef struct zs_an_job {
    uint64_t gen;                /* increasing; the result carries it back */
    int n, z;
    const float *mu;             /* (n, z), copied by post */
    const int *label;            /* (n) class 0..k-1 or -1, copied; NULL: no discriminants */
    int k;
    uint64_t seed;               /* the prior's samples */
    long weights_step;           /* whose latents (carried back for the view) */
    /* optional, instead of mu: encode faces 0..n-1 of `faces` (which must
     * outlive the analyzer) with these weights (nparams floats, copied by
     * post) first, on the worker: the latents of weights being trained,
     * while they are */
    const float *params;
    size_t nparams;
    zs_vae_config cfg;
    const zs_cache *faces;
} zs_an_job;

typedef struct zs_an_plane {     /* a 2-D projection of the faces */
    int ok;
    char msg[400];               /* !ok: why */
    float *xy;                   /* (n, 2) */
    float *mean, *dir;           /* (z), (2, z): xy = (mu - mean) . dir */
    double acc;                  /* nearest class centre in the plane, on the faces (NaN: no classes) */
    double acc_held;             /* the same, fitted and tested on disjoint halves (NaN: not computed) */
    double axis_info[2];         /* PCA: fraction of the variance; LDA: between / within ratio */
    double shrinkage;            /* LDA */
    int second_is_pc;            /* LDA with 2 classes: y is a principal direction */
} zs_an_plane;

typedef struct zs_an_result {
    uint64_t gen;
    long weights_step;
    int live;                    /* the job encoded the faces with weights being trained */
    int ok;
    char msg[600];               /* !ok: why */
    int n, z, k;
    zs_latent_stats st;
    int npairs, pairs[2 * ZS_AN_PAIRS];
    double r[ZS_AN_PAIRS];
    uint8_t *heat;               /* (z, z, 3): red positive, blue negative, full colour at |r| >= 0.6 */
    float *hist;                 /* (z, ZS_AN_BINS) counts over [hist_lo[j], hist_hi[j]] */
    float *hist_lo, *hist_hi;    /* (z) */
    int *label;                  /* (n) as posted (or all -1) */
    int count[ZS_AN_MAX_CLASSES];
    zs_an_plane pca, lda;
    double ms, cpu_ms;           /* wall time, and CPU time of the worker */
} zs_an_result;

void zs_an_compute(const zs_an_job *job, zs_an_result *out);
void zs_an_result_free(zs_an_result *r);

typedef struct zs_analyzer zs_analyzer;
zs_analyzer *zs_analyzer_create(void (*wake)(void *), void *user);
void zs_analyzer_destroy(zs_analyzer *w);
void zs_analyzer_post(zs_analyzer *w, const zs_an_job *job);
/* 1 and the newest result (the caller owns it then), or 0. */
int zs_analyzer_poll(zs_analyzer *w, zs_an_result *out);
/* A job is waiting or being computed. */
int zs_analyzer_busy(zs_analyzer *w);

#endif
