/* Latent toolkit: the photo crop's geometry, splits, lerp / slerp (endpoints,
 * norms, identical, antipodal and zero inputs), AUC (separated, random, a
 * hand example with ties, brute force), attribute vectors on synthetic
 * latents with a known answer (the plain vector of a confounded attribute
 * carries its confounder, the balanced one does not), orthogonalization,
 * the fitted Gaussian and sampling from it, principal directions (a cloud
 * with known axes), and keep-detail edits. No model and no files of
 * other modules: latents are built by hand. */
#include "testutil.h"
#include "zspace/latent.h"

#include <stdlib.h>
#include <string.h>

static double dotf(int z, const float *a, const float *b)
{
    double s = 0;
    for (int i = 0; i < z; i++) s += (double)a[i] * b[i];
    return s;
}
static double normf(int z, const float *a) { return sqrt(dotf(z, a, a)); }
static float nrand(uint64_t key, uint64_t i) { return zs_normal(key, i); }

/* ---- photos ------------------------------------------------------------------- */
static void test_photo(void)
{
    double x0, y0, side;
    zs_crop_rect(zs_crop_celeba(), 178, 218, &x0, &y0, &side);
    CHECKF(fabs(x0 - 15) < 1e-3 && fabs(y0 - 40) < 1e-3 && fabs(side - 148) < 1e-3, "%g %g %g", x0, y0, side);
    zs_crop_rect((zs_crop){0.25f, 0.75f, 0.5f}, 200, 100, &x0, &y0, &side);   /* side relative to the width */
    CHECKF(side == 100 && x0 == 0 && y0 == 25, "%g %g %g", x0, y0, side);

    /* zs_photo_face == crop_resize with zs_photo_crop, and zs_photo_load_face agrees */
    int sizes[2][2] = {{178, 218}, {120, 90}};
    for (int t = 0; t < 2; t++) {
        zs_image im = {sizes[t][0], sizes[t][1], NULL};
        im.rgb = malloc((size_t)im.w * im.h * 3);
        for (int i = 0; i < im.w * im.h * 3; i++) im.rgb[i] = (uint8_t)(zs_rand64(7 + t, i) >> 56);
        enum { S = 32 };
        float a[3 * S * S], b[3 * S * S];
        uint8_t hwc[S * S * 3];
        CHECK(zs_photo_face(&im, zs_crop_celeba(), S, a) == ZS_OK);
        CHECK(zs_image_crop_resize(&im, zs_photo_crop(im.w, im.h, zs_crop_celeba()), S, hwc) == ZS_OK);
        zs_face_to_chw(hwc, S, b, 0);
        CHECK(memcmp(a, b, sizeof a) == 0);
        char path[256];
        snprintf(path, sizeof path, "%s/photo%d.png", zs_test_tmpdir(), t);
        CHECK(zs_image_write_png(path, &im) == ZS_OK);
        memset(b, 0, sizeof b);
        CHECK(zs_photo_load_face(path, zs_crop_celeba(), S, b) == ZS_OK);
        CHECK(memcmp(a, b, sizeof a) == 0);
        remove(path);
        zs_image_free(&im);
    }
}

/* ---- splits --------------------------------------------------------------------- */
static void test_split(void)
{
    int8_t part[6] = {0, 1, 2, 0, 1, 0};
    zs_latents l = {.n = 6, .z = 1, .part = part};
    int *idx;
    int n = zs_latents_split(&l, ZS_SPLIT_TRAIN, &idx);
    CHECK(n == 3 && idx[0] == 0 && idx[1] == 3 && idx[2] == 5);
    free(idx);
    n = zs_latents_split(&l, ZS_SPLIT_VAL, &idx);
    CHECK(n == 2 && idx[0] == 1 && idx[1] == 4);
    free(idx);
    n = zs_latents_split(&l, ZS_SPLIT_TEST, &idx);
    CHECK(n == 1 && idx[0] == 2);
    free(idx);
    n = zs_latents_split(&l, ZS_SPLIT_ALL, &idx);
    CHECK(n == 6);
    for (int i = 0; i < n; i++) CHECK(idx[i] == i);
    free(idx);
}

/* ---- lerp / slerp ------------------------------------------------------------------ */
static void test_interp(void)
{
    enum { Z = 16 };
    float a[Z], b[Z], o[Z], o2[Z];
    for (int i = 0; i < Z; i++) a[i] = nrand(1, i), b[i] = nrand(2, i);

    zs_lerp(Z, a, b, 0, o);
    CHECK(memcmp(o, a, sizeof a) == 0);
    zs_lerp(Z, a, b, 1, o);
    CHECK(memcmp(o, b, sizeof b) == 0);
    zs_lerp(Z, a, b, 0.5f, o);
    for (int i = 0; i < Z; i++) CHECK(fabsf(o[i] - 0.5f * (a[i] + b[i])) < 1e-6f);
    zs_lerp(Z, a, b, 0.25f, o);
    for (int i = 0; i < Z; i++) CHECK(fabsf(o[i] - (0.75f * a[i] + 0.25f * b[i])) < 1e-6f);

    /* add, in place */
    memcpy(o, a, sizeof a);
    zs_latent_add(Z, o, b, -0.5f, o);
    for (int i = 0; i < Z; i++) CHECK(fabsf(o[i] - (a[i] - 0.5f * b[i])) < 1e-6f);

    /* slerp endpoints (exactly: an interpolation strip's ends decode to the
     * faces themselves), and continuity next to them */
    double na = normf(Z, a), nb = normf(Z, b);
    zs_slerp(Z, a, b, 0, o);
    CHECK(memcmp(o, a, sizeof a) == 0);
    zs_slerp(Z, a, b, 1, o);
    CHECK(memcmp(o, b, sizeof b) == 0);
    zs_slerp(Z, a, b, 1e-6f, o);
    for (int i = 0; i < Z; i++) CHECKF(fabsf(o[i] - a[i]) < 1e-4f, "%d %g %g", i, o[i], a[i]);
    zs_slerp(Z, a, b, 1 - 1e-6f, o);
    for (int i = 0; i < Z; i++) CHECKF(fabsf(o[i] - b[i]) < 1e-4f, "%d %g %g", i, o[i], b[i]);

    /* unequal norms: the norm is the linear interpolation of the norms, the
     * direction moves at constant angular speed in the plane of a and b */
    double om = acos(dotf(Z, a, b) / (na * nb));
    for (int k = 1; k < 8; k++) {
        float t = k / 8.0f;
        zs_slerp(Z, a, b, t, o);
        double n = normf(Z, o);
        CHECKF(fabs(n - ((1 - t) * na + t * nb)) < 1e-5 * n, "t %g norm %g", t, n);
        double ang_a = acos(fmin(1, dotf(Z, o, a) / (n * na))), ang_b = acos(fmin(1, dotf(Z, o, b) / (n * nb)));
        CHECKF(fabs(ang_a - t * om) < 1e-4 && fabs(ang_b - (1 - t) * om) < 1e-4, "t %g: %g %g of %g", t, ang_a,
               ang_b, om);
    }
    /* equal norms: norm kept; orthogonal unit pair gives the textbook values */
    float bs[Z];
    for (int i = 0; i < Z; i++) bs[i] = (float)(b[i] * na / nb);
    zs_slerp(Z, a, bs, 0.5f, o);
    CHECKF(fabs(normf(Z, o) - na) < 1e-5 * na, "%g vs %g", normf(Z, o), na);
    zs_slerp(Z, a, bs, 0.3f, o);
    CHECKF(fabs(normf(Z, o) - na) < 1e-5 * na, "%g vs %g", normf(Z, o), na);
    float e0[Z] = {3}, e1[Z] = {0, 3};
    zs_slerp(Z, e0, e1, 1.0f / 3, o);
    CHECKF(fabsf(o[0] - 3 * cosf((float)M_PI / 6)) < 1e-5f && fabsf(o[1] - 1.5f) < 1e-5f, "%g %g", o[0], o[1]);
    float e1b[Z] = {0, 5};   /* norms 3 -> 5: at t = 0.5 norm 4 at 45 degrees */
    zs_slerp(Z, e0, e1b, 0.5f, o);
    CHECKF(fabsf(o[0] - 4 / sqrtf(2)) < 1e-5f && fabsf(o[1] - 4 / sqrtf(2)) < 1e-5f, "%g %g", o[0], o[1]);

    /* identical inputs, and nearly identical */
    zs_slerp(Z, a, a, 0.37f, o);
    for (int i = 0; i < Z; i++) CHECK(isfinite(o[i]) && fabsf(o[i] - a[i]) < 1e-6f);
    memcpy(o2, a, sizeof a);
    o2[0] += 1e-6f;
    zs_slerp(Z, a, o2, 0.5f, o);
    for (int i = 0; i < Z; i++) CHECK(isfinite(o[i]) && fabsf(o[i] - 0.5f * (a[i] + o2[i])) < 1e-5f);

    /* antipodal: finite, norm kept, through a direction perpendicular to a */
    float neg[Z];
    for (int i = 0; i < Z; i++) neg[i] = -a[i];
    zs_slerp(Z, a, neg, 0.5f, o);
    int finite = 1;
    for (int i = 0; i < Z; i++) finite &= isfinite(o[i]);
    CHECK(finite);
    CHECKF(fabs(normf(Z, o) - na) < 1e-5 * na, "%g vs %g", normf(Z, o), na);
    CHECKF(fabs(dotf(Z, o, a)) < 1e-5 * na * na, "cos %g", dotf(Z, o, a) / (na * na));
    zs_slerp(Z, a, neg, 0.5f, o2);
    CHECK(memcmp(o, o2, sizeof o) == 0);   /* deterministic */
    zs_slerp(Z, a, neg, 0.25f, o);         /* 45 degrees from a */
    CHECKF(fabs(dotf(Z, o, a) / (normf(Z, o) * na) - cos(M_PI / 4)) < 1e-5, "%g", dotf(Z, o, a) / (normf(Z, o) * na));
    for (int i = 0; i < Z; i++) neg[i] = -2 * a[i];   /* antipodal, norm 1 -> 2 times |a| */
    zs_slerp(Z, a, neg, 0.5f, o);
    CHECKF(fabs(normf(Z, o) - 1.5 * na) < 1e-5 * na, "%g vs %g", normf(Z, o), 1.5 * na);
    CHECK(fabs(dotf(Z, o, a)) < 1e-5 * na * na);

    /* a zero vector: lerp */
    float zero[Z] = {0};
    zs_slerp(Z, zero, b, 0.25f, o);
    for (int i = 0; i < Z; i++) CHECK(isfinite(o[i]) && fabsf(o[i] - 0.25f * b[i]) < 1e-6f);
    zs_slerp(Z, a, zero, 0.25f, o);
    for (int i = 0; i < Z; i++) CHECK(isfinite(o[i]) && fabsf(o[i] - 0.75f * a[i]) < 1e-6f);
    zs_slerp(Z, zero, zero, 0.5f, o);
    for (int i = 0; i < Z; i++) CHECK(o[i] == 0);
}

/* ---- AUC ---------------------------------------------------------------------------- */
static double auc_brute(const float *s, const int8_t *l, int n)
{
    double w = 0, pairs = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            if (l[i] > 0 && l[j] < 0) w += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0, pairs++;
    return w / pairs;
}

static void test_auc(void)
{
    float s[5] = {0.1f, 0.4f, 0.4f, 0.8f, 0.4f};
    int8_t l[5] = {-1, 1, -1, 1, 1};
    /* pos {0.4, 0.8, 0.4} vs neg {0.1, 0.4}: 1 + .5 + 1 + 1 + 1 + .5 = 5 of 6 */
    CHECKF(fabs(zs_auc(s, l, 5) - 5.0 / 6) < 1e-12, "%g", zs_auc(s, l, 5));
    int8_t one[5] = {1, 1, 1, 1, 1};
    CHECK(isnan(zs_auc(s, one, 5)));
    CHECK(isnan(zs_auc(s, l, 1)));

    enum { N = 4000 };
    float *sc = malloc(sizeof(float) * N);
    int8_t *lb = malloc(N);
    for (int i = 0; i < N; i++) lb[i] = i % 3 ? 1 : -1, sc[i] = lb[i] > 0 ? 1 + nrand(3, i) * 0.1f : nrand(3, i) * 0.1f;
    CHECK(zs_auc(sc, lb, N) == 1.0);
    for (int i = 0; i < N; i++) sc[i] = -sc[i];
    CHECK(zs_auc(sc, lb, N) == 0.0);
    for (int i = 0; i < N; i++) sc[i] = nrand(4, i);
    double r = zs_auc(sc, lb, N);
    CHECKF(fabs(r - 0.5) < 0.03, "random %g", r);
    /* many ties: against the O(n^2) definition */
    for (int i = 0; i < 600; i++) sc[i] = floorf(nrand(5, i) * 2) + (lb[i] > 0 ? 0.5f * (i % 2) : 0);
    CHECKF(fabs(zs_auc(sc, lb, 600) - auc_brute(sc, lb, 600)) < 1e-12, "%g vs %g", zs_auc(sc, lb, 600),
           auc_brute(sc, lb, 600));
    free(sc);
    free(lb);
}

/* ---- attribute vectors ------------------------------------------------------------------ */
/* z = 8, mu = 0.5 * noise + 2 e0 if Smiling + 3 e1 if Male; P(Smiling) is 0.8
 * for women and 0.2 for men; Mouth_Slightly_Open agrees with Smiling 85% of
 * the time (but moves nothing); every other label is a fair coin. Parts:
 * 70% train, 20% val, 10% test. */
enum { AZ = 8, AN = 6000 };
static void make_latents(zs_latents *l)
{
    int smile = zs_attr_find("Smiling"), male = zs_attr_find("Male"), mouth = zs_attr_find("Mouth_Slightly_Open");
    l->n = AN, l->z = AZ;
    l->mu = calloc((size_t)AN * AZ, sizeof(float));
    l->logvar = calloc((size_t)AN * AZ, sizeof(float));
    l->attr = malloc((size_t)AN * ZS_NATTR);
    l->part = malloc(AN);
    l->model_hash = 0x1234567890abcdefull;
    l->data_hash = 42;
    for (int i = 0; i < AN; i++) {
        int8_t *at = l->attr + (size_t)i * ZS_NATTR;
        for (int a = 0; a < ZS_NATTR; a++) at[a] = zs_uniform01(100 + a, i) < 0.5f ? 1 : -1;
        at[male] = zs_uniform01(200, i) < 0.5f ? 1 : -1;
        at[smile] = zs_uniform01(201, i) < (at[male] > 0 ? 0.2f : 0.8f) ? 1 : -1;
        at[mouth] = zs_uniform01(202, i) < 0.85f ? at[smile] : (int8_t)-at[smile];
        float *mu = l->mu + (size_t)i * AZ;
        for (int j = 0; j < AZ; j++) mu[j] = 0.5f * nrand(300, (uint64_t)i * AZ + j);
        if (at[smile] > 0) mu[0] += 2;
        if (at[male] > 0) mu[1] += 3;
        l->part[i] = i % 10 < 7 ? 0 : i % 10 < 9 ? 1 : 2;
    }
}

static void free_latents(zs_latents *l)
{
    free(l->mu), free(l->logvar), free(l->attr), free(l->part);
}

/* AUC and mean projections of vector v on split s, by hand. */
static void held_out_by_hand(const zs_latents *l, int a, const float *v, int s, double *auc, double *pp, double *pn)
{
    float *sc = malloc(sizeof(float) * l->n);
    int8_t *lb = malloc(l->n);
    int m = 0, cp = 0, cn = 0;
    double vv = dotf(l->z, v, v);
    *pp = *pn = 0;
    for (int i = 0; i < l->n; i++) {
        if (l->part[i] != s) continue;
        sc[m] = (float)dotf(l->z, l->mu + (size_t)i * l->z, v);
        lb[m] = l->attr[(size_t)i * ZS_NATTR + a];
        if (lb[m] > 0) *pp += sc[m] / vv, cp++;
        else *pn += sc[m] / vv, cn++;
        m++;
    }
    *auc = auc_brute(sc, lb, m);
    *pp /= cp, *pn /= cn;
    free(sc);
    free(lb);
}

static void test_attr(void)
{
    int smile = zs_attr_find("Smiling"), male = zs_attr_find("Male"), mouth = zs_attr_find("Mouth_Slightly_Open");
    int glasses = zs_attr_find("Eyeglasses");
    zs_latents l;
    make_latents(&l);
    int ntrain = 0, ntrain_pos = 0;
    for (int i = 0; i < AN; i++)
        if (l.part[i] == 0) ntrain++, ntrain_pos += l.attr[(size_t)i * ZS_NATTR + smile] > 0;

    zs_attr_vectors P, B;
    CHECK(zs_attr_vectors_compute(&l, &(zs_attr_desc){0}, &P) == ZS_OK);
    CHECK(zs_attr_vectors_compute(&l, &(zs_attr_desc){.balanced = 1, .confounders = 3}, &B) == ZS_OK);
    CHECK(P.z == AZ && B.z == AZ && !P.balanced && B.balanced);
    CHECK(P.model_hash == l.model_hash && B.model_hash == l.model_hash);
    const float *ps = P.vec + smile * AZ, *bs = B.vec + smile * AZ;
    /* plain: Smiling carries "not Male", 3 * (0.2 - 0.8) = -1.8 along e1 */
    CHECKF(fabsf(ps[0] - 2) < 0.15f, "plain e0 %g", ps[0]);
    CHECKF(ps[1] < -1.4f, "plain e1 %g", ps[1]);
    /* balanced: about 2 e0 and nothing else */
    CHECKF(fabsf(bs[0] - 2) < 0.15f, "balanced e0 %g", bs[0]);
    CHECKF(fabsf(bs[1]) < 0.15f, "balanced e1 %g", bs[1]);
    for (int j = 2; j < AZ; j++) CHECKF(fabsf(bs[j]) < 0.15f, "balanced e%d %g", j, bs[j]);
    /* and the other way: Male's plain vector carries -1.2 e0, the balanced one not */
    CHECKF(P.vec[male * AZ] < -0.9f && fabsf(P.vec[male * AZ + 1] - 3) < 0.15f, "%g %g", P.vec[male * AZ],
           P.vec[male * AZ + 1]);
    CHECKF(fabsf(B.vec[male * AZ]) < 0.15f && fabsf(B.vec[male * AZ + 1] - 3) < 0.15f, "%g %g", B.vec[male * AZ],
           B.vec[male * AZ + 1]);

    /* default confounder: Male (none for Male itself, which is then the
     * plain vector), and the Male confounding of Smiling is gone */
    {
        zs_attr_vectors D;
        CHECK(zs_attr_vectors_compute(&l, &(zs_attr_desc){.balanced = 1}, &D) == ZS_OK);
        CHECK(D.nconf[smile] == 1 && D.conf[smile][0] == male);
        CHECK(D.nconf[male] == 0 && memcmp(D.vec + male * AZ, P.vec + male * AZ, sizeof(float) * AZ) == 0);
        CHECKF(fabsf(D.vec[smile * AZ + 1]) < 0.15f && fabsf(D.vec[smile * AZ] - 2) < 0.15f, "%g %g",
               D.vec[smile * AZ], D.vec[smile * AZ + 1]);
        zs_attr_vectors_free(&D);
        /* an explicit list, the target skipped in it */
        CHECK(zs_attr_vectors_compute(&l, &(zs_attr_desc){.balanced = 1, .conf_list = {male, smile}, .nconf_list = 2},
                                      &D) == ZS_OK);
        CHECK(D.nconf[smile] == 1 && D.conf[smile][0] == male && D.nconf[male] == 1 && D.conf[male][0] == smile);
        zs_attr_vectors_free(&D);
        CHECK(zs_attr_vectors_compute(&l, &(zs_attr_desc){.balanced = 1, .conf_list = {40}, .nconf_list = 1}, &D) ==
              ZS_ERR_ARG);
    }
    /* confounders = 3: Male first, then the most correlated label */
    CHECK(B.nconf[smile] == 3 && B.conf[smile][0] == male && B.conf[smile][1] == mouth);
    CHECK(B.nconf[male] == 3 && B.conf[male][0] == smile);   /* |phi| 0.6 beats Mouth's ~0.4 */
    CHECK(P.nconf[smile] == 0);
    /* every cell is big enough here: all train faces count */
    CHECK(P.npos[smile] == ntrain_pos && P.nneg[smile] == ntrain - ntrain_pos);
    CHECK(B.npos[smile] == ntrain_pos && B.nneg[smile] == ntrain - ntrain_pos);

    /* the plain vector is exactly the difference of means (float sums can
     * be off in the 6th digit, so a direct double computation) */
    {
        double sp[AZ] = {0}, sn[AZ] = {0};
        int np = 0, nn = 0;
        for (int i = 0; i < AN; i++) {
            if (l.part[i] != 0) continue;
            int pos = l.attr[(size_t)i * ZS_NATTR + glasses] > 0;
            for (int j = 0; j < AZ; j++) (pos ? sp : sn)[j] += l.mu[(size_t)i * AZ + j];
            pos ? np++ : nn++;
        }
        for (int j = 0; j < AZ; j++) CHECK(fabs(P.vec[glasses * AZ + j] - (sp[j] / np - sn[j] / nn)) < 1e-5);
    }

    /* AUC and projections on the val split, by hand */
    double auc, pp, pn;
    held_out_by_hand(&l, smile, bs, 1, &auc, &pp, &pn);
    CHECKF(fabs(B.auc[smile] - auc) < 1e-6, "%g vs %g", B.auc[smile], auc);
    CHECKF(B.auc[smile] > 0.95f, "%g", B.auc[smile]);
    CHECKF(fabs(B.mean_proj_pos[smile] - pp) < 1e-5 && fabs(B.mean_proj_neg[smile] - pn) < 1e-5, "%g %g vs %g %g",
           B.mean_proj_pos[smile], B.mean_proj_neg[smile], pp, pn);
    CHECKF(fabs(B.mean_proj_pos[smile] - B.mean_proj_neg[smile] - 1) < 0.1, "%g %g", B.mean_proj_pos[smile],
           B.mean_proj_neg[smile]);
    CHECKF(fabsf(B.auc[glasses] - 0.5f) < 0.06f, "random attribute AUC %g", B.auc[glasses]);
    /* the plain Smiling vector also ranks by Male: a worse classifier */
    CHECKF(P.auc[smile] < B.auc[smile], "%g %g", P.auc[smile], B.auc[smile]);
    zs_attr_vectors T;   /* held_out = test */
    CHECK(zs_attr_vectors_compute(&l, &(zs_attr_desc){.balanced = 1, .confounders = 3, .held_out = ZS_SPLIT_TEST}, &T) ==
          ZS_OK);
    held_out_by_hand(&l, smile, T.vec + smile * AZ, 2, &auc, &pp, &pn);
    CHECKF(fabs(T.auc[smile] - auc) < 1e-6, "%g vs %g", T.auc[smile], auc);
    CHECK(memcmp(T.vec, B.vec, sizeof(float) * ZS_NATTR * AZ) == 0);
    zs_attr_vectors_free(&T);

    /* cosines: symmetric, unit diagonal, the value itself; plain Smiling and
     * Male point apart, balanced ones are nearly orthogonal */
    float cosP[ZS_NATTR * ZS_NATTR], cosB[ZS_NATTR * ZS_NATTR];
    zs_attr_cosines(&P, cosP);
    zs_attr_cosines(&B, cosB);
    for (int i = 0; i < ZS_NATTR; i++) {
        CHECK(fabsf(cosP[i * ZS_NATTR + i] - 1) < 1e-6f);
        for (int j = 0; j < ZS_NATTR; j++) CHECK(cosP[i * ZS_NATTR + j] == cosP[j * ZS_NATTR + i]);
    }
    double c = dotf(AZ, ps, P.vec + male * AZ) / (normf(AZ, ps) * normf(AZ, P.vec + male * AZ));
    CHECK(fabs(cosP[smile * ZS_NATTR + male] - c) < 1e-6);
    CHECKF(cosP[smile * ZS_NATTR + male] < -0.5f && fabsf(cosB[smile * ZS_NATTR + male]) < 0.1f, "%g %g",
           cosP[smile * ZS_NATTR + male], cosB[smile * ZS_NATTR + male]);

    /* balanced, one confounder (Male), by hand: the mean over the two cells of
     * (mean pos - mean neg), equal weight however big the cells */
    zs_attr_vectors B1;
    CHECK(zs_attr_vectors_compute(&l, &(zs_attr_desc){.balanced = 1, .confounders = 1, .min_cell = 1}, &B1) ==
          ZS_OK);
    CHECK(B1.nconf[smile] == 1 && B1.conf[smile][0] == male);
    {
        double s[2][2][AZ] = {{{0}}};
        int n[2][2] = {{0}};
        for (int i = 0; i < AN; i++) {
            if (l.part[i] != 0) continue;
            int cell = l.attr[(size_t)i * ZS_NATTR + male] > 0, neg = l.attr[(size_t)i * ZS_NATTR + smile] < 0;
            n[cell][neg]++;
            for (int j = 0; j < AZ; j++) s[cell][neg][j] += l.mu[(size_t)i * AZ + j];
        }
        for (int j = 0; j < AZ; j++) {
            double want = 0.5 * (s[0][0][j] / n[0][0] - s[0][1][j] / n[0][1] + s[1][0][j] / n[1][0] -
                                 s[1][1][j] / n[1][1]);
            CHECKF(fabs(B1.vec[smile * AZ + j] - want) < 1e-5, "%d: %g vs %g", j, B1.vec[smile * AZ + j], want);
        }
    }
    zs_attr_vectors_free(&B1);

    /* cells too small are skipped (fewer faces behind the vector) ... */
    zs_attr_vectors S;
    CHECK(zs_attr_vectors_compute(&l, &(zs_attr_desc){.balanced = 1, .confounders = 3, .min_cell = 120}, &S) ==
          ZS_OK);
    CHECKF(S.npos[smile] < ntrain_pos && S.npos[smile] > 0 && S.nconf[smile] == 3, "%d of %d", S.npos[smile],
           ntrain_pos);
    zs_attr_vectors_free(&S);
    /* ... and when none is left, the plain vector, with a warning */
    zs_test_clear_logs();
    CHECK(zs_attr_vectors_compute(&l, &(zs_attr_desc){.balanced = 1, .min_cell = 100000}, &S) == ZS_OK);
    CHECK(zs_test_logs_contain("Smiling") && zs_test_logs_contain("plain"));
    CHECK(memcmp(S.vec, P.vec, sizeof(float) * ZS_NATTR * AZ) == 0);
    CHECK(S.nconf[smile] == 0 && S.npos[smile] == P.npos[smile]);
    zs_attr_vectors_free(&S);
    CHECK(S.vec == NULL);

    /* errors: no train faces; bad desc */
    memset(l.part, 1, AN);
    CHECK(zs_attr_vectors_compute(&l, NULL, &S) == ZS_ERR_ARG && S.vec == NULL);
    CHECK(zs_attr_vectors_compute(&l, &(zs_attr_desc){.fit = ZS_SPLIT_VAL, .confounders = 9, .balanced = 1}, &S) ==
          ZS_ERR_ARG);
    /* fit on val, held out val: AUC defined; held out test (empty): NaN */
    CHECK(zs_attr_vectors_compute(&l, &(zs_attr_desc){.fit = ZS_SPLIT_VAL}, &S) == ZS_OK);
    CHECK(S.auc[smile] > 0.9f);
    zs_attr_vectors_free(&S);
    CHECK(zs_attr_vectors_compute(&l, &(zs_attr_desc){.fit = ZS_SPLIT_VAL, .held_out = ZS_SPLIT_TEST}, &S) == ZS_OK);
    /* ... which falls back to every 10th fit face, left out of the fit */
    CHECK(S.held_out_from_fit == 1 && S.auc[smile] > 0.9f && !isnan(S.mean_proj_pos[smile]));
    {
        int nval = 0;
        for (int i = 0; i < AN; i++) nval += l.part[i] == 1;
        CHECKF(S.npos[smile] + S.nneg[smile] == nval - nval / 10, "%d + %d of %d", S.npos[smile], S.nneg[smile], nval);
    }
    zs_attr_vectors_free(&S);

    /* edit directions: no keep = the vector itself; keep Male (and the
     * target, skipped) = orthogonal to Male's vector, still along Smiling */
    {
        float ev[AZ];
        zs_attr_edit_vector(&P, smile, NULL, 0, ev);
        CHECK(memcmp(ev, P.vec + smile * AZ, sizeof ev) == 0);
        int keep[2] = {male, smile};
        zs_attr_edit_vector(&P, smile, keep, 2, ev);
        double along_male = dotf(AZ, ev, P.vec + male * AZ) / normf(AZ, P.vec + male * AZ);
        CHECKF(fabs(along_male) < 1e-5 && dotf(AZ, ev, P.vec + smile * AZ) > 0, "%g", along_male);
    }
    zs_attr_vectors_free(&P);
    zs_attr_vectors_free(&B);
    free_latents(&l);
}

/* ---- orthogonalization --------------------------------------------------------------- */
static void test_ortho(void)
{
    enum { Z = 10, K = 5 };
    float v[Z], o[K * Z], out[Z], res[Z];
    for (int i = 0; i < Z; i++) v[i] = nrand(10, i);
    for (int i = 0; i < 3 * Z; i++) o[i] = nrand(11, i);
    for (int i = 0; i < Z; i++) o[3 * Z + i] = o[i] - 2 * o[Z + i];   /* dependent */
    for (int i = 0; i < Z; i++) o[4 * Z + i] = 0;                      /* zero */
    float f = zs_orthogonalize(Z, v, o, K, out);
    for (int k = 0; k < K - 1; k++)
        CHECKF(fabs(dotf(Z, out, o + k * Z)) < 1e-6 * normf(Z, out) * normf(Z, o + k * Z), "other %d: %g", k,
               dotf(Z, out, o + k * Z));
    CHECK(fabs(f - normf(Z, out) / normf(Z, v)) < 1e-6 && f > 0.1f && f < 1);
    /* v - out lies in the span: its own residual is zero */
    for (int i = 0; i < Z; i++) res[i] = v[i] - out[i];
    float fr = zs_orthogonalize(Z, res, o, K, res);
    CHECKF(fr < 1e-5f, "%g", fr);
    /* in place */
    float w[Z];
    memcpy(w, v, sizeof v);
    CHECK(zs_orthogonalize(Z, w, o, K, w) == f && memcmp(w, out, sizeof w) == 0);
    /* no others; zero v; v in the span */
    CHECK(zs_orthogonalize(Z, v, o, 0, w) == 1.0f && memcmp(w, v, sizeof v) == 0);
    float zero[Z] = {0};
    CHECK(zs_orthogonalize(Z, zero, o, K, w) == 0.0f);
    CHECK(zs_orthogonalize(Z, o + 3 * Z, o, 2, w) < 1e-6f);
    /* a nearly dependent other is skipped, not normalised into a random
     * direction that would take a piece of v with it */
    float u2[2 * Z];
    for (int i = 0; i < Z; i++) u2[i] = o[i], u2[Z + i] = i % 3 ? o[i] : nextafterf(o[i], 2 * o[i]);   /* ~1e-7 off */
    f = zs_orthogonalize(Z, v, u2, 2, w);
    double uu = dotf(Z, o, o), vu = dotf(Z, v, o);
    for (int i = 0; i < Z; i++) res[i] = (float)(v[i] - vu / uu * o[i]);
    CHECKF(fabs(f - normf(Z, res) / normf(Z, v)) < 1e-6, "%g vs %g", f, normf(Z, res) / normf(Z, v));
    for (int i = 0; i < Z; i++) CHECK(fabsf(w[i] - res[i]) < 1e-5f);
}

/* ---- Gaussian and sampling --------------------------------------------------------------- */
static void test_gauss(void)
{
    enum { Z = 4, N = 40000 };
    /* x = m + A eps: cov = A A^T */
    const double A[Z][Z] = {{1.0, 0, 0, 0}, {0.5, 0.8, 0, 0}, {-0.3, 0.2, 0.6, 0}, {0.1, -0.4, 0.3, 0.2}};
    const float m[Z] = {1, -2, 0.5f, 3};
    double C[Z][Z];
    for (int i = 0; i < Z; i++)
        for (int j = 0; j < Z; j++) {
            C[i][j] = 0;
            for (int k = 0; k < Z; k++) C[i][j] += A[i][k] * A[j][k];
        }
    float *x = malloc(sizeof(float) * N * Z);
    for (int t = 0; t < N; t++)
        for (int i = 0; i < Z; i++) {
            double s = m[i];
            for (int k = 0; k < Z; k++) s += A[i][k] * nrand(20, (uint64_t)t * Z + k);
            x[t * Z + i] = (float)s;
        }
    zs_gauss g;
    CHECK(zs_gauss_fit(x, N, Z, &g) == ZS_OK && g.z == Z);
    for (int i = 0; i < Z; i++) CHECKF(fabs(g.mean[i] - m[i]) < 4 * sqrt(C[i][i] / N), "mean %d %g", i, g.mean[i]);
    for (int i = 0; i < Z; i++)
        for (int j = 0; j < Z; j++) {
            double se = sqrt((C[i][i] * C[j][j] + C[i][j] * C[i][j]) / N);
            CHECKF(fabs(g.cov[i * Z + j] - C[i][j]) < 5 * se, "cov %d %d: %g vs %g", i, j, g.cov[i * Z + j], C[i][j]);
        }
    /* exactly the sample covariance with 1 / (n - 1) (two-pass, in double) */
    {
        double mu[Z] = {0}, maxd = 0;
        for (int t = 0; t < N; t++)
            for (int i = 0; i < Z; i++) mu[i] += x[t * Z + i] / (double)N;
        for (int i = 0; i < Z; i++)
            for (int j = 0; j < Z; j++) {
                double s = 0;
                for (int t = 0; t < N; t++) s += (x[t * Z + i] - mu[i]) * (x[t * Z + j] - mu[j]);
                maxd = fmax(maxd, fabs(g.cov[i * Z + j] - s / (N - 1)));
            }
        CHECKF(maxd < 1e-8, "%g", maxd);
    }
    /* L lower triangular, L L^T == cov */
    double maxd = 0, maxc = 0;
    for (int i = 0; i < Z; i++)
        for (int j = 0; j < Z; j++) {
            if (j > i) CHECK(g.chol[i * Z + j] == 0);
            double s = 0;
            for (int k = 0; k < Z; k++) s += g.chol[i * Z + k] * g.chol[j * Z + k];
            maxd = fmax(maxd, fabs(s - g.cov[i * Z + j]));
            maxc = fmax(maxc, fabs(g.cov[i * Z + j]));
        }
    CHECKF(maxd <= 1e-9 * maxc, "%g", maxd);

    /* a tiny hand example: 1 / (n - 1) */
    float two[4] = {0, 0, 2, 4};
    zs_gauss h;
    CHECK(zs_gauss_fit(two, 2, 2, &h) == ZS_OK);
    CHECK(h.mean[0] == 1 && h.mean[1] == 2);
    CHECKF(fabs(h.cov[0] - 2) < 1e-6 && fabs(h.cov[1] - 4) < 1e-6 && fabs(h.cov[3] - 8) < 1e-6, "%g %g %g", h.cov[0],
           h.cov[1], h.cov[3]);   /* rank one: the ridge makes it factorable */
    int finite = 1;
    for (int i = 0; i < 4; i++) finite &= isfinite(h.chol[i]);
    CHECK(finite && h.chol[3] > 0);
    zs_gauss_free(&h);
    CHECK(h.mean == NULL && h.chol == NULL);
    CHECK(zs_gauss_fit(two, 1, 2, &h) == ZS_ERR_ARG);
    /* a constant dimension (one the model does not use): variance exactly 0,
     * factorable only with the ridge, which stays tiny */
    {
        float y[3 * 50];
        for (int t = 0; t < 50; t++) y[t * 3] = nrand(21, t), y[t * 3 + 1] = 0.25f, y[t * 3 + 2] = nrand(22, t);
        zs_status st = zs_gauss_fit(y, 50, 3, &h);
        CHECKF(st == ZS_OK, "%s", zs_last_error());
        if (st != ZS_OK) return;
        double tr = h.cov[0] + h.cov[4] + h.cov[8];
        CHECKF(h.cov[4] > 0 && h.cov[4] < 1e-8 * tr, "%g", h.cov[4]);
        CHECK(h.cov[1] == 0 && h.cov[5] == 0 && h.chol[4] > 0 && isfinite(h.chol[7]) && isfinite(h.chol[8]));
        zs_gauss_free(&h);
    }
    two[1] = NAN;
    CHECK(zs_gauss_fit(two, 2, 2, &h) == ZS_ERR_NUMERIC);

    /* sampling from the fit: the draws' mean and covariance match it */
    enum { M = 40000 };
    float *s = malloc(sizeof(float) * M * Z);
    zs_latent_sample(&g, Z, M, 1.0f, 5, s);
    zs_gauss gs;
    CHECK(zs_gauss_fit(s, M, Z, &gs) == ZS_OK);
    for (int i = 0; i < Z; i++) {
        CHECKF(fabs(gs.mean[i] - g.mean[i]) < 4 * sqrt(g.cov[i * Z + i] / M), "%d %g %g", i, gs.mean[i], g.mean[i]);
        for (int j = 0; j < Z; j++) {
            double se = sqrt((g.cov[i * Z + i] * g.cov[j * Z + j] + g.cov[i * Z + j] * g.cov[i * Z + j]) / M);
            CHECKF(fabs(gs.cov[i * Z + j] - g.cov[i * Z + j]) < 5 * se, "%d %d: %g %g", i, j, gs.cov[i * Z + j],
                   g.cov[i * Z + j]);
        }
    }
    zs_gauss_free(&gs);
    /* radius scales the spread around the mean */
    zs_latent_sample(&g, Z, M, 0.5f, 5, s);
    CHECK(zs_gauss_fit(s, M, Z, &gs) == ZS_OK);
    for (int i = 0; i < Z; i++)
        CHECKF(fabs(gs.cov[i * Z + i] / g.cov[i * Z + i] - 0.25) < 0.02, "%g", gs.cov[i * Z + i] / g.cov[i * Z + i]);
    zs_gauss_free(&gs);
    /* exactly mean + radius L eps with eps = zs_normal(hash(seed), i z + j) */
    {
        uint64_t key = zs_hash64(5);
        for (int t = 0; t < 3; t++)
            for (int i = 0; i < Z; i++) {
                double v = 0;
                for (int k = 0; k <= i; k++) v += g.chol[i * Z + k] * zs_normal(key, (uint64_t)t * Z + k);
                CHECK(fabs(s[t * Z + i] - (g.mean[i] + 0.5 * v)) < 1e-5);
            }
    }

    /* isotropic: radius R gives mean norm about R sqrt(z); exactly R * zs_normal */
    enum { ZI = 64, MI = 4000 };
    float *si = malloc(sizeof(float) * MI * ZI), *si2 = malloc(sizeof(float) * MI * ZI);
    zs_latent_sample(NULL, ZI, MI, 2.0f, 9, si);
    double mn = 0;
    for (int t = 0; t < MI; t++) mn += normf(ZI, si + t * ZI) / MI;
    CHECKF(fabs(mn - 2 * sqrt(ZI)) < 0.02 * 2 * sqrt(ZI), "%g vs %g", mn, 2 * sqrt(ZI));
    CHECK(si[5 * ZI + 7] == 2.0f * zs_normal(zs_hash64(9), 5 * ZI + 7));
    zs_latent_sample(NULL, ZI, MI, 2.0f, 9, si2);
    CHECK(memcmp(si, si2, sizeof(float) * MI * ZI) == 0);
    zs_latent_sample(NULL, ZI, MI, 2.0f, 10, si2);
    CHECK(memcmp(si, si2, sizeof(float) * MI * ZI) != 0);
    free(si);
    free(si2);

    free(s);
    free(x);
    zs_gauss_free(&g);
}

/* ---- keep-detail edits ----------------------------------------------------------------- */
static void test_detail(void)
{
    enum { W = 100, H = 120, S = 32 };
    zs_image ph = {W, H, malloc(W * H * 3)};
    for (int i = 0; i < W * H * 3; i++) ph.rgb[i] = (uint8_t)(20 + (zs_rand64(30, i) >> 58) * 2);   /* 20..146 */
    zs_crop crop = {0.5f, 0.45f, 0.6f};   /* side 60, x0 20, y0 24 */
    double x0, y0, side;
    zs_crop_rect(crop, W, H, &x0, &y0, &side);
    CHECK(fabs(x0 - 20) < 1e-4 && fabs(y0 - 24) < 1e-4 && fabs(side - 60) < 1e-4);
    float *d0 = malloc(sizeof(float) * 3 * S * S), *d1 = malloc(sizeof(float) * 3 * S * S);
    for (int i = 0; i < 3 * S * S; i++) d0[i] = (float)(zs_rand64(31, i) >> 56) / 256.0f;
    memcpy(d1, d0, sizeof(float) * 3 * S * S);

    zs_image out;
    CHECK(zs_detail_edit(&ph, crop, d0, d1, S, &out) == ZS_OK);
    CHECK(out.w == W && out.h == H && out.rgb && out.rgb != ph.rgb);
    CHECK(memcmp(out.rgb, ph.rgb, W * H * 3) == 0);
    zs_image_free(&out);

    /* a change confined to crop pixels [0, 6) x [0, 6) (top-left corner) */
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 6; y++)
            for (int x = 0; x < 6; x++) d1[(c * S + y) * S + x] = d0[(c * S + y) * S + x] + 0.25f;
    CHECK(zs_detail_edit(&ph, crop, d0, d1, S, &out) == ZS_OK);
    /* crop coordinate u < 6 <=> photo x + 0.5 < x0 + 6.5 * side / S */
    double lim_x = x0 + 6.5 * side / S - 0.5, lim_y = y0 + 6.5 * side / S - 0.5;
    int changed = 0, bad = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) {
                if (out.rgb[(y * W + x) * 3 + c] == ph.rgb[(y * W + x) * 3 + c]) continue;
                changed++;
                int in_crop = x + 0.5 >= x0 && x + 0.5 < x0 + side && y + 0.5 >= y0 && y + 0.5 < y0 + side;
                if (!in_crop || x >= lim_x || y >= lim_y) bad++;
            }
    CHECKF(changed > 3 * 100 && bad == 0, "changed %d, %d outside the corner", changed, bad);
    /* inside the corner the mask is 1: the whole delta, 0.25 * 255 -> +64 */
    for (int y = 26; y < 32; y++)
        for (int x = 22; x < 28; x++)
            for (int c = 0; c < 3; c++)
                CHECKF(out.rgb[(y * W + x) * 3 + c] == ph.rgb[(y * W + x) * 3 + c] + 64, "(%d, %d): %d vs %d", x, y,
                       out.rgb[(y * W + x) * 3 + c], ph.rgb[(y * W + x) * 3 + c]);
    /* the corner pixel of the square itself, and its outside neighbours */
    CHECK(out.rgb[(24 * W + 20) * 3] == ph.rgb[(24 * W + 20) * 3] + 64);
    CHECK(out.rgb[(24 * W + 19) * 3] == ph.rgb[(24 * W + 19) * 3]);
    CHECK(out.rgb[(23 * W + 20) * 3] == ph.rgb[(23 * W + 20) * 3]);
    zs_image_free(&out);

    /* a weak change next to a strong one is damped by the mask, a strong one not */
    memcpy(d1, d0, sizeof(float) * 3 * S * S);
    for (int y = 0; y < 8; y++)
        for (int x = 0; x < 8; x++) d1[y * S + x] += 0.4f;            /* red, top left: strong */
    for (int y = 24; y < 32; y++)
        for (int x = 24; x < 32; x++) d1[y * S + x] += 16 / 255.0f;   /* red, bottom right: weak */
    CHECK(zs_detail_edit(&ph, crop, d0, d1, S, &out) == ZS_OK);
    int strong = out.rgb[(28 * W + 24) * 3] - ph.rgb[(28 * W + 24) * 3];
    int weak = out.rgb[(80 * W + 76) * 3] - ph.rgb[(80 * W + 76) * 3];
    CHECKF(strong == 102 && weak > 0 && weak < 8, "strong %d weak %d", strong, weak);
    zs_image_free(&out);

    /* where a decode pixel lands: ramps along x (red) and y (blue) with a
     * constant green that saturates the mask; on a black photo the change is
     * 255 * ramp(u) with u = (x + 0.5 - x0) / side * S - 0.5 (clamped) */
    {
        zs_image black = {W, H, calloc(W * H * 3, 1)};
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) {
                d1[(0 * S + y) * S + x] = d0[(0 * S + y) * S + x] + 0.03f * x;
                d1[(1 * S + y) * S + x] = d0[(1 * S + y) * S + x] + 1.9f;
                d1[(2 * S + y) * S + x] = d0[(2 * S + y) * S + x] + 0.03f * y;
            }
        CHECK(zs_detail_edit(&black, crop, d0, d1, S, &out) == ZS_OK);
        double worst = 0;
        for (int y = 24; y < 84; y++)
            for (int x = 20; x < 80; x++) {
                double u = fmin(fmax((x + 0.5 - x0) / side * S - 0.5, 0), S - 1);
                double v = fmin(fmax((y + 0.5 - y0) / side * S - 0.5, 0), S - 1);
                worst = fmax(worst, fabs(out.rgb[(y * W + x) * 3] - 255 * 0.03 * u));
                worst = fmax(worst, fabs(out.rgb[(y * W + x) * 3 + 2] - 255 * 0.03 * v));
            }
        CHECKF(worst < 0.75, "off by %g levels", worst);
        zs_image_free(&out);
        zs_image_free(&black);
    }

    /* the mask is smooth: an isolated changed decode pixel gets a fraction of
     * the weight a changed region of the same strength gets */
    memcpy(d1, d0, sizeof(float) * 3 * S * S);
    for (int c = 0; c < 3; c++) {
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 8; x++) d1[(c * S + y) * S + x] += 0.25f;
        d1[(c * S + 20) * S + 20] += 0.25f;
    }
    CHECK(zs_detail_edit(&ph, crop, d0, d1, S, &out) == ZS_OK);
    {
        int region = out.rgb[(30 * W + 26) * 3] - ph.rgb[(30 * W + 26) * 3];
        int lone = out.rgb[(62 * W + 58) * 3] - ph.rgb[(62 * W + 58) * 3];   /* u = 20.03, v = 20.03 */
        CHECKF(region == 64 && lone > 3 && lone < 32, "region %d, isolated pixel %d", region, lone);
    }
    zs_image_free(&out);

    /* a square reaching outside the photo: everything else stays, no stray writes */
    zs_crop corner = {0.1f, 0.1f, 0.5f};   /* side 50, x0 -15, y0 -13 */
    for (int i = 0; i < 3 * S * S; i++) d1[i] = d0[i] + 0.25f;
    CHECK(zs_detail_edit(&ph, corner, d0, d1, S, &out) == ZS_OK);
    zs_crop_rect(corner, W, H, &x0, &y0, &side);
    bad = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int in = x + 0.5 < x0 + side && y + 0.5 < y0 + side;
            int d = out.rgb[(y * W + x) * 3 + 1] - ph.rgb[(y * W + x) * 3 + 1];
            if (d != (in ? 64 : 0)) bad++;
        }
    CHECKF(bad == 0, "%d pixels wrong", bad);
    zs_image_free(&out);

    /* clamping to 0..255: +0.96 * 255 saturates every pixel of the square, -0.96 zeroes it */
    for (int sign = -1; sign <= 1; sign += 2) {
        for (int i = 0; i < 3 * S * S; i++) d1[i] = d0[i] + sign * 0.96f;
        CHECK(zs_detail_edit(&ph, crop, d0, d1, S, &out) == ZS_OK);
        bad = 0;
        for (int y = 24; y < 84; y++)
            for (int x = 20; x < 80; x++)
                for (int c = 0; c < 3; c++) bad += out.rgb[(y * W + x) * 3 + c] != (sign > 0 ? 255 : 0);
        CHECKF(bad == 0, "sign %d: %d not clamped", sign, bad);
        zs_image_free(&out);
    }

    /* errors */
    d1[7] = NAN;
    CHECK(zs_detail_edit(&ph, crop, d0, d1, S, &out) == ZS_ERR_NUMERIC && out.rgb == NULL);
    CHECK(zs_detail_edit(&ph, (zs_crop){0.5f, 0.5f, 0}, d0, d0, S, &out) == ZS_ERR_ARG && out.rgb == NULL);

    free(d0);
    free(d1);
    zs_image_free(&ph);
}

/* ---- principal directions ------------------------------------------------------ */
static void test_pca(void)
{
    /* x = m + sum_i sqrt(lam_i) g_i u_i with a random orthonormal basis u:
     * the directions must come back as +-u_0, u_1, u_2 with variances lam */
    enum { Z = 12, N = 20000, K = 4 };
    const double lam[Z] = {16, 9, 4, 1, 0.25, 0.1, 0.05, 0.04, 0.03, 0.02, 0.01, 0.005};
    float u[Z][Z], m[Z];
    for (int i = 0; i < Z; i++) {   /* Gram-Schmidt of random vectors */
        for (int j = 0; j < Z; j++) u[i][j] = nrand(31, (uint64_t)i * Z + j);
        for (int p = 0; p < i; p++) {
            double d = dotf(Z, u[i], u[p]);
            for (int j = 0; j < Z; j++) u[i][j] -= (float)d * u[p][j];
        }
        double n = normf(Z, u[i]);
        for (int j = 0; j < Z; j++) u[i][j] /= (float)n;
        m[i] = (float)i - 5;
    }
    float *x = malloc(sizeof(float) * N * Z);
    for (int t = 0; t < N; t++)
        for (int j = 0; j < Z; j++) {
            double s = m[j];
            for (int i = 0; i < Z; i++) s += sqrt(lam[i]) * nrand(32, (uint64_t)t * Z + i) * u[i][j];
            x[(size_t)t * Z + j] = (float)s;
        }
    zs_pca p;
    CHECK(zs_pca_fit(x, N, Z, K, &p) == ZS_OK);
    CHECK(p.k == K && p.z == Z);
    double total = 0;
    for (int i = 0; i < Z; i++) total += lam[i];
    CHECKF(fabs(p.total_var - total) < 0.03 * total, "total variance %g, want %g", p.total_var, total);
    for (int i = 0; i < K; i++) {
        double c = fabs(dotf(Z, p.dir + i * Z, u[i]));
        CHECKF(c > 0.995, "direction %d: |cos| to the true axis %.4f", i, c);
        CHECKF(fabs(p.var[i] - lam[i]) < 0.05 * lam[i], "variance %d: %g, want %g", i, (double)p.var[i], lam[i]);
        CHECKF(i == 0 || p.var[i] <= p.var[i - 1], "not sorted at %d", i);
        for (int j = 0; j <= i; j++) {
            double d = dotf(Z, p.dir + i * Z, p.dir + j * Z);
            CHECKF(fabs(d - (i == j)) < 1e-5, "dir %d . dir %d = %g", i, j, d);
        }
        int big = 0;   /* the sign convention */
        for (int j = 1; j < Z; j++)
            if (fabsf(p.dir[i * Z + j]) > fabsf(p.dir[i * Z + big])) big = j;
        CHECK(p.dir[i * Z + big] > 0);
    }
    for (int j = 0; j < Z; j++) CHECKF(fabsf(p.mean[j] - m[j]) < 0.1f, "mean[%d] %g", j, (double)p.mean[j]);
    double top = (p.var[0] + p.var[1]) / p.total_var;
    CHECKF(fabs(top - 25 / total) < 0.02, "the top two explain %.3f, want %.3f", top, 25 / total);
    zs_pca_free(&p);

    /* an exact case: points on a line along (3, 4) / 5, and k > z */
    float line[3 * 2] = {0, 0, 3, 4, -6, -8};
    CHECK(zs_pca_fit(line, 3, 2, 5, &p) == ZS_OK);
    CHECKF(p.k == 2 && fabsf(p.dir[0] - 0.6f) < 1e-6f && fabsf(p.dir[1] - 0.8f) < 1e-6f && fabsf(p.var[1]) < 1e-6f,
           "line: k %d dir (%g, %g) var %g %g", p.k, (double)p.dir[0], (double)p.dir[1], (double)p.var[0],
           (double)p.var[1]);
    CHECKF(fabsf(p.var[0] - 175.0f / 3) < 1e-3f, "line variance %g, want 58.33", (double)p.var[0]);   /* t = 0, 5, -10 */
    zs_pca_free(&p);
    CHECK(zs_pca_fit(line, 1, 2, 1, &p) != ZS_OK);   /* one point has no directions */
    x[7] = NAN;
    CHECK(zs_pca_fit(x, N, Z, K, &p) != ZS_OK);
    free(x);
}

int main(void)
{
    zs_test_capture_logs();
    test_photo();
    test_split();
    test_interp();
    test_auc();
    test_attr();
    test_ortho();
    test_gauss();
    test_pca();
    test_detail();
    TEST_END();
}
