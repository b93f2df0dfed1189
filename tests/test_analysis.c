/* Latent-cloud statistics (zspace/analysis.h) on synthetic latents whose
 * means, spreads and correlations are known. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"
#include "zspace/analysis.h"
#include "zspace/data.h"

enum { N = 20000, Z = 6 };

/* LDA on Gaussian clusters whose separating directions are known, beside
 * a nuisance direction of large within-class variance that PCA picks. */
static double cosine(int z, const float *a, const float *b)
{
    double ab = 0, aa = 0, bb = 0;
    for (int j = 0; j < z; j++) ab += (double)a[j] * b[j], aa += (double)a[j] * a[j], bb += (double)b[j] * b[j];
    return ab / sqrt(aa * bb);
}

static void test_lda(void)
{
    enum { LZ = 20, PER = 1500, LN = 3 * PER };
    float *x = malloc(sizeof(float) * LN * LZ), u[LZ] = {0}, w[LZ] = {0}, e0[LZ] = {0};
    int *lab = malloc(sizeof(int) * LN);
    /* u and w orthonormal, both orthogonal to e0 (the nuisance, sd 8) */
    for (int j = 1; j < LZ; j++) u[j] = (j % 3 == 1 ? 1.0f : j % 3 == 2 ? -0.5f : 0.25f);
    double nu = 0;
    for (int j = 0; j < LZ; j++) nu += u[j] * u[j];
    for (int j = 0; j < LZ; j++) u[j] /= (float)sqrt(nu);
    w[2] = 1, w[5] = -1;
    double uw = u[2] - u[5];
    for (int j = 0; j < LZ; j++) w[j] -= (float)(uw * u[j] / 1.0);
    double nw = 0;
    for (int j = 0; j < LZ; j++) nw += w[j] * w[j];
    for (int j = 0; j < LZ; j++) w[j] /= (float)sqrt(nw);
    e0[0] = 1;
    for (int i = 0; i < LN; i++) {
        int c = i / PER;
        lab[i] = c;
        for (int j = 0; j < LZ; j++) {
            double v = zs_normal(21, (uint64_t)i * LZ + j) * (j == 0 ? 8 : 1);
            if (c == 1) v += 2.5 * u[j];
            if (c == 2) v += 2.5 * w[j];
            x[(size_t)i * LZ + j] = (float)(v + 0.3 * j);   /* an offset: the mean is not 0 */
        }
    }
    /* two classes: one direction, u */
    zs_lda l;
    CHECKF(zs_lda_fit(x, 2 * PER, LZ, lab, 2, -1, &l) == ZS_OK, "%s", zs_last_error());
    CHECK(l.ndir == 1 && l.n == 2 * PER && l.count[0] == PER && l.count[1] == PER);
    double cu = l.ndir == 1 ? fabs(cosine(LZ, l.dir, u)) : 0;
    CHECKF(cu > 0.99, "two clusters: LDA direction . u = %.4f", cu);
    if (getenv("ZS_TEST_VERBOSE")) fprintf(stderr, "LDA . u = %.5f\n", cu);
    CHECKF(l.shrinkage >= 0 && l.shrinkage <= 1 && l.ratio[0] > 0.5, "shrinkage %g ratio %g", l.shrinkage, l.ratio[0]);
    zs_pca p;
    CHECK(zs_pca_fit(x, 2 * PER, LZ, 2, &p) == ZS_OK);
    double pu = fabs(cosine(LZ, p.dir, u)), pe = fabs(cosine(LZ, p.dir, e0));
    if (getenv("ZS_TEST_VERBOSE")) fprintf(stderr, "PCA1 . e0 = %.5f, . u = %.5f\n", pe, pu);
    CHECKF(pe > 0.99 && pu < 0.2, "PCA's first direction should be the nuisance: . e0 %.3f, . u %.3f", pe, pu);
    /* projection: (x - mean) . dir, the class means apart by ~2.5 */
    float *xy = malloc(sizeof(float) * 2 * PER);
    zs_latent_project(x, 2 * PER, LZ, l.mean, l.dir, 1, xy);
    double m0 = 0, m1 = 0;
    for (int i = 0; i < PER; i++) m0 += xy[i] / PER, m1 += xy[PER + i] / PER;
    CHECKF(fabs(fabs(m1 - m0) - 2.5) < 0.15 && fabs(m0 + m1) < 0.15, "projected class means %g %g", m0, m1);
    float one[2] = {3, 4}, dir2[4] = {1, 0, 0, 1}, mean2[2] = {1, 1}, got[2];
    zs_latent_project(one, 1, 2, mean2, dir2, 2, got);
    CHECK(got[0] == 2 && got[1] == 3);
    zs_latent_project(one, 1, 2, NULL, dir2, 2, got);
    CHECK(got[0] == 3 && got[1] == 4);
    free(xy);
    zs_lda_free(&l);
    zs_pca_free(&p);

    /* three classes: two directions spanning {u, w}; rows labelled -1 are left out */
    int *lab3 = malloc(sizeof(int) * LN);
    memcpy(lab3, lab, sizeof(int) * LN);
    for (int i = 0; i < LN; i += 7) lab3[i] = -1;
    CHECKF(zs_lda_fit(x, LN, LZ, lab3, 3, 0.05, &l) == ZS_OK, "%s", zs_last_error());
    CHECK(l.ndir == 2 && l.n < LN && l.shrinkage == 0.05);
    for (int d = 0; d < l.ndir; d++) {
        double a = cosine(LZ, l.dir + d * LZ, u), b = cosine(LZ, l.dir + d * LZ, w);
        CHECKF(sqrt(a * a + b * b) > 0.99, "direction %d lies outside span(u, w): %.4f", d, sqrt(a * a + b * b));
    }
    CHECK(l.ratio[0] >= l.ratio[1] && l.ratio[1] > 0);
    zs_lda_free(&l);

    /* degenerate input: errors with messages, never NaN */
    CHECK(zs_lda_fit(x, LN, LZ, lab, 1, -1, &l) != ZS_OK && strstr(zs_last_error(), "2 classes"));
    CHECK(l.dir == NULL);
    CHECK(zs_lda_fit(x, PER, LZ, lab, 2, -1, &l) != ZS_OK && strstr(zs_last_error(), "class 1 of 2 has no rows"));
    for (int i = 0; i < LN; i++) lab3[i] = -1;
    CHECK(zs_lda_fit(x, LN, LZ, lab3, 2, -1, &l) != ZS_OK && strstr(zs_last_error(), "no rows"));
    /* n < z: singular without shrinkage, fine with it */
    int few[8] = {0, 0, 0, 0, 1, 1, 1, 1};
    float *xs = malloc(sizeof(float) * 8 * LZ);
    for (int i = 0; i < 8; i++) memcpy(xs + i * LZ, x + (size_t)(i < 4 ? i : PER + i) * LZ, sizeof(float) * LZ);
    CHECKF(zs_lda_fit(xs, 8, LZ, few, 2, 0, &l) != ZS_OK && strstr(zs_last_error(), "singular"), "%s", zs_last_error());
    CHECKF(zs_lda_fit(xs, 8, LZ, few, 2, -1, &l) == ZS_OK, "%s", zs_last_error());
    int finite = l.ndir == 1;
    for (int j = 0; j < LZ && finite; j++) finite = isfinite(l.dir[j]);
    CHECKF(finite && l.shrinkage > 0, "n < z with shrinkage %g: finite %d", l.shrinkage, finite);
    zs_lda_free(&l);
    CHECK(zs_lda_fit(xs, 2, LZ, few + 3, 2, -1, &l) != ZS_OK && strstr(zs_last_error(), "more rows than classes"));
    for (int i = 0; i < 8 * LZ; i++) xs[i] = (float)(i % LZ);   /* all rows the same */
    CHECK(zs_lda_fit(xs, 8, LZ, few, 2, -1, &l) != ZS_OK && strstr(zs_last_error(), "no spread"));
    xs[3] = NAN;
    CHECK(zs_lda_fit(xs, 8, LZ, few, 2, -1, &l) != ZS_OK && strstr(zs_last_error(), "not finite"));
    free(xs), free(lab3), free(lab), free(x);
}

int main(void)
{
    test_lda();
    /* x0 ~ N(2, 1); x1 = 1 + 0.8 (x0 - 2) + 0.6 e (r = 0.8); x2 ~ N(0, 0.25);
     * x3 = -x2 + 0.05 e' (r ~ -0.995); x4 = 0.5 (no spread); x5 ~ N(0, 9) */
    float *mu = malloc(sizeof(float) * N * Z);
    for (int i = 0; i < N; i++) {
        double a = zs_normal(1, i), b = zs_normal(2, i), c = zs_normal(3, i), d = zs_normal(4, i), e = zs_normal(5, i);
        float *m = mu + (size_t)i * Z;
        m[0] = (float)(2 + a);
        m[1] = (float)(1 + 0.8 * a + 0.6 * b);
        m[2] = (float)(0.5 * c);
        m[3] = (float)(-0.5 * c + 0.05 * d);
        m[4] = 0.5f;
        m[5] = (float)(3 * e);
    }
    zs_latent_stats s;
    CHECK(zs_latent_stats_compute(mu, N, Z, 30, 9, &s) == ZS_OK);
    const double want_mean[Z] = {2, 1, 0, 0, 0.5, 0}, want_std[Z] = {1, 1, 0.5, sqrt(0.25 + 0.0025), 0, 3};
    for (int j = 0; j < Z; j++) {
        CHECKF(fabs(s.mean[j] - want_mean[j]) < 0.05, "mean %d: %g", j, s.mean[j]);
        CHECKF(fabs(s.std[j] - want_std[j]) < 0.02 * want_std[j] + 1e-6, "std %d: %g", j, s.std[j]);
    }
    double r01 = s.corr[0 * Z + 1], r23 = s.corr[2 * Z + 3];
    CHECKF(fabs(r01 - 0.8) < 0.02 && r23 < -0.99, "correlations %g %g", r01, r23);
    CHECKF(s.corr[4 * Z + 0] == 0 && s.corr[4 * Z + 4] == 0 && s.corr[0] == 1, "a constant component has r = 0");
    CHECK(fabs(s.corr[1 * Z + 0] - r01) == 0);
    CHECKF(s.order[0] == 5 && s.order[Z - 1] == 4, "order %d ... %d", s.order[0], s.order[Z - 1]);
    CHECKF(fabs(s.centre_norm - sqrt(5.25)) < 0.05, "centre %g", s.centre_norm);
    /* E||e|| for e ~ N(0, I_6) = sqrt(2) Gamma(3.5) / Gamma(3) = 2.3499 */
    CHECKF(fabs(s.prior_norm_mean - 2.3499) < 0.03, "prior norm %g", s.prior_norm_mean);
    double want_norm = 0;
    for (int i = 0; i < N; i++) {
        double q = 0;
        for (int j = 0; j < Z; j++) q += (double)mu[(size_t)i * Z + j] * mu[(size_t)i * Z + j];
        want_norm += sqrt(q) / N;
    }
    CHECKF(fabs(s.norm_mean - want_norm) < 1e-9, "norm mean %g, %g", s.norm_mean, want_norm);
    long tot = 0, ntot = 0, ptot = 0;
    for (int b = 0; b < s.bins; b++) {
        tot += s.hist[2 * s.bins + b];
        ntot += s.norm_hist[b];
        ptot += s.prior_norm_hist[b];
    }
    CHECK(tot == N && ntot == N && ptot == N);
    /* x2's histogram peaks in the bin of 0 */
    int zero_bin = (int)floor((0 - s.hist_lo) / (s.hist_hi - s.hist_lo) * s.bins), peak = 0;
    for (int b = 0; b < s.bins; b++)
        if (s.hist[2 * s.bins + b] > s.hist[2 * s.bins + peak]) peak = b;
    CHECKF(abs(peak - zero_bin) <= 1, "x2 peaks in bin %d, 0 is in bin %d", peak, zero_bin);
    int pairs[6];
    double r[3];
    CHECK(zs_latent_top_pairs(&s, 3, pairs, r) == 3);
    CHECKF(pairs[0] == 2 && pairs[1] == 3 && pairs[2] == 0 && pairs[3] == 1 && fabs(r[0]) >= fabs(r[1]) &&
               fabs(r[1]) >= fabs(r[2]),
           "top pairs %d-%d %d-%d", pairs[0], pairs[1], pairs[2], pairs[3]);

    char dir[600], path[700];
    snprintf(dir, sizeof dir, "%s/stats", zs_test_tmpdir());
    CHECKF(zs_latent_stats_write(&s, dir) == ZS_OK, "%s", zs_last_error());
    const char *files[] = {"components.csv", "correlation.csv", "pairs.csv", "summary.txt", "histograms.png",
                           "correlation.png", "norms.png"};
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", dir, files[k]);
        CHECKF(stat(path, &sb) == 0 && sb.st_size > 0, "%s", path);
    }
    snprintf(path, sizeof path, "%s/correlation.png", dir);
    zs_image im = {0};
    CHECK(zs_image_load(&im, path) == ZS_OK && im.w == Z * 8 && im.h == Z * 8);
    if (im.rgb) {
        /* cell (2, 3) is strongly negative: blue */
        const uint8_t *p = im.rgb + ((size_t)(2 * 8 + 4) * im.w + 3 * 8 + 4) * 3;
        CHECKF(p[2] == 255 && p[0] < 10 && p[1] < 10, "negative cell colour %d %d %d", p[0], p[1], p[2]);
        free(im.rgb);
    }
    snprintf(path, sizeof path, "%s/pairs.csv", dir);
    FILE *f = fopen(path, "r");
    char line[128] = "";
    CHECK(f && fgets(line, sizeof line, f) && fgets(line, sizeof line, f) && strncmp(line, "2,3,-0.99", 9) == 0);
    if (f) fclose(f);
    snprintf(path, sizeof path, "%s/no/such/dir", zs_test_tmpdir());
    CHECK(zs_latent_stats_write(&s, path) != ZS_OK && strstr(zs_last_error(), "no/such/dir"));
    zs_latent_stats_free(&s);
    CHECK(zs_latent_stats_compute(mu, 1, Z, 30, 9, &s) != ZS_OK);

    /* box sampling: inside [-b, b], mean 0, variance b^2 / 3, reproducible */
    enum { NB = 4000 };
    float *bx = malloc(sizeof(float) * NB * Z), *bx2 = malloc(sizeof(float) * NB * Z);
    zs_latent_sample_box(Z, NB, 1.5f, 3, bx);
    zs_latent_sample_box(Z, NB, 1.5f, 3, bx2);
    double m = 0, v = 0, lo = 0, hi = 0;
    for (int i = 0; i < NB * Z; i++) {
        m += bx[i] / (NB * Z);
        v += (double)bx[i] * bx[i] / (NB * Z);
        lo = fmin(lo, bx[i]);
        hi = fmax(hi, bx[i]);
    }
    CHECKF(fabs(m) < 0.03 && fabs(v - 0.75) < 0.03 && lo >= -1.5 && hi <= 1.5 && hi > 1.45 && lo < -1.45,
           "box: mean %g var %g range %g..%g", m, v, lo, hi);
    CHECK(memcmp(bx, bx2, sizeof(float) * NB * Z) == 0);
    free(bx);
    free(bx2);

    /* Mahalanobis distance under the fitted Gaussian of the synthetic cloud:
     * x0 one spread away from its mean along x0 alone is at distance 1 / sqrt(1 - r^2)
     * (x1 is correlated with it and stays at its mean) */
    for (int i = 0; i < N; i++) mu[(size_t)i * Z + 4] = (float)(0.5 + 0.1 * zs_normal(6, i));   /* give x4 a spread */
    zs_gauss g;
    CHECK(zs_gauss_fit(mu, N, Z, &g) == ZS_OK);
    float p[Z];
    memcpy(p, g.mean, sizeof p);
    CHECKF(zs_gauss_mahalanobis(&g, p) < 1e-6, "the mean is at distance %g", zs_gauss_mahalanobis(&g, p));
    p[5] += 3.0f;   /* one spread along the independent x5 */
    double d5 = zs_gauss_mahalanobis(&g, p);
    CHECKF(fabs(d5 - 1) < 0.03, "one spread along x5: %g", d5);
    memcpy(p, g.mean, sizeof p);
    p[0] += 1.0f;
    double d0 = zs_gauss_mahalanobis(&g, p), want0 = 1 / sqrt(1 - 0.64);
    CHECKF(fabs(d0 - want0) < 0.05, "x0 moved alone: %g, expected %g", d0, want0);
    zs_gauss_free(&g);
    /* the chi-square 99% quantiles: 6.63 (1), 23.21 (10), 168.13 (128) */
    CHECKF(fabs(zs_chi2_quantile99(10) - 23.21) < 0.1 && fabs(zs_chi2_quantile99(128) - 168.13) < 0.2 &&
               fabs(zs_chi2_quantile99(1) - 6.63) < 0.3,
           "quantiles %g %g %g", zs_chi2_quantile99(1), zs_chi2_quantile99(10), zs_chi2_quantile99(128));
    free(mu);

    /* group means: faces 0..9, attribute 4 (Bald) on the even ones, face i's latent (i, -i) */
    {
        enum { GN = 10, GZ = 2 };
        float gmu[GN * GZ];
        int8_t gattr[GN * ZS_NATTR], gpart[GN];
        for (int i = 0; i < GN; i++) {
            gmu[i * GZ] = (float)i;
            gmu[i * GZ + 1] = (float)-i;
            for (int a = 0; a < ZS_NATTR; a++) gattr[i * ZS_NATTR + a] = (a == 4 && i % 2 == 0) || (a == 20 && i < 3) ? 1 : -1;
            gpart[i] = i == 9 ? 1 : 0;
        }
        zs_latents gl = {.n = GN, .z = GZ, .mu = gmu, .attr = gattr, .part = gpart};
        zs_query q, all = {0};
        char msg[128];
        float gm[GZ] = {99, 99};
        CHECK(zs_query_parse("bald", &q, msg, sizeof msg) == 0);
        CHECK(zs_latents_group_mean(&gl, &q, ZS_SPLIT_ALL, gm) == 5 && gm[0] == 4.0f && gm[1] == -4.0f);
        CHECK(zs_query_parse("Bald=yes Male", &q, msg, sizeof msg) == 0);
        CHECK(zs_latents_group_mean(&gl, &q, ZS_SPLIT_ALL, gm) == 2 && gm[0] == 1.0f);   /* faces 0 and 2 */
        CHECK(zs_query_parse("!Bald", &q, msg, sizeof msg) == 0);
        CHECK(zs_latents_group_mean(&gl, &q, ZS_SPLIT_TRAIN, gm) == 4 && gm[0] == 4.0f);   /* 1 3 5 7 (9 is val) */
        CHECK(zs_latents_group_mean(&gl, &all, ZS_SPLIT_VAL, gm) == 1 && gm[0] == 9.0f);
        CHECK(zs_query_parse("Bald Male=no Young=no", &q, msg, sizeof msg) == 0);
        gm[0] = 99;
        CHECK(zs_latents_group_mean(&gl, &q, ZS_SPLIT_ALL, gm) == 3 && gm[0] == 6.0f);   /* 4 6 8 */
    }

    /* sharpening: a flat face stays flat, an edge gets steeper, strength 0 is the identity */
    enum { S = 8 };
    float face[3 * S * S], out[3 * S * S];
    for (int i = 0; i < 3 * S * S; i++) face[i] = 0.5f;
    zs_sharpen_chw(face, S, 2.0f, out);
    double dev = 0;
    for (int i = 0; i < 3 * S * S; i++) dev = fmax(dev, fabs(out[i] - 0.5f));
    CHECKF(dev < 1e-6, "flat face changed by %g", dev);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) face[(c * S + y) * S + x] = x < S / 2 ? 0.3f : 0.7f;
    zs_sharpen_chw(face, S, 1.0f, out);
    /* next to the edge: 0.3 + (0.3 - (0.25 0.3 + 0.5 0.3 + 0.25 0.7)) = 0.2; far from it: unchanged */
    CHECKF(fabsf(out[S / 2 - 1] - 0.2f) < 1e-6 && fabsf(out[S / 2] - 0.8f) < 1e-6 && fabsf(out[0] - 0.3f) < 1e-6,
           "edge %g %g, far %g", out[S / 2 - 1], out[S / 2], out[0]);
    zs_sharpen_chw(face, S, 0.0f, out);
    CHECK(memcmp(out, face, sizeof face) == 0);
    zs_sharpen_chw(face, S, 10.0f, out);
    CHECK(out[S / 2 - 1] == 0.0f && out[S / 2] == 1.0f);   /* clamped */
    TEST_END();
}
