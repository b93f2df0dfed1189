/* The feature network (zspace/features.h): gradients against finite
 * differences (parameters, input, the feature loss), training that learns
 * attributes visible in synthetic faces, and its file round trip. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test_data_fixture.h"
#include "testutil.h"
#include "zspace/features.h"
#include "zspace/st.h"
#include "zspace/vae.h"

static float frand(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((*s >> 40) & 0xffffff) / 16777216.0f;
}

static zs_feat *tiny(void)
{
    zs_feat_config c = {.image = 64, .nblocks = 4, .widths = {3, 4, 4, 5}};
    zs_feat *f = zs_feat_create(&c);
    zs_feat_init(f, 11);
    return f;
}

enum { N = 2 };
#define IMG (3 * 64 * 64)

static double bce_loss(zs_feat *f, zs_feat_ctx *c, const float *x, const int8_t *lab)
{
    float logits[N * ZS_NATTR];
    zs_feat_forward(c, x, N, 0, logits);
    return zs_feat_bce(N, logits, lab, 1.0f, NULL);
    (void)f;
}

/* relative error of sampled analytic gradients against central differences */
static double rel_err(const double *a, const double *b, int n)
{
    double d = 0, s = 0;
    for (int i = 0; i < n; i++) {
        d += (a[i] - b[i]) * (a[i] - b[i]);
        s += a[i] * a[i] + b[i] * b[i];
    }
    return sqrt(d / (s > 1e-30 ? s : 1e-30));
}

#define NS 48
#define FD_TOL 2e-2   /* float network, eps 1e-2 on parameters, LeakyReLU kinks */

static void test_param_and_input_gradients(void)
{
    zs_feat *f = tiny();
    zs_feat_ctx *c = zs_feat_ctx_create(f, N);
    uint64_t s = 3;
    float *x = malloc(sizeof(float) * N * IMG), *dx = malloc(sizeof(float) * N * IMG);
    float *grad = calloc(f->table.ntrain, sizeof(float)), logits[N * ZS_NATTR], dlog[N * ZS_NATTR];
    int8_t lab[N * ZS_NATTR];
    for (int i = 0; i < N * IMG; i++) x[i] = frand(&s);
    for (int i = 0; i < N * ZS_NATTR; i++) lab[i] = frand(&s) < 0.4f ? 1 : -1;
    zs_feat_forward(c, x, N, 0, logits);
    zs_feat_bce(N, logits, lab, 1.0f, dlog);
    zs_feat_backward(c, x, N, dlog, NULL, dx, grad);

    /* a central difference over a LeakyReLU kink is not the derivative: a
     * sample counts only where steps e and e/2 agree (kept = how many) */
    double an[NS], fd[NS];
    int kept = 0;
    for (int k = 0; k < NS; k++) {   /* parameters: every tensor gets some samples */
        const zs_tensor_info *t = &f->table.t[k % f->table.n];
        size_t j = t->offset + (size_t)(frand(&s) * t->numel) % t->numel;
        float keep = f->params[j];
        double d[2];
        for (int h = 0; h < 2; h++) {
            float e = h ? 2e-3f : 4e-3f;
            f->params[j] = keep + e;
            double lp = bce_loss(f, c, x, lab);
            f->params[j] = keep - e;
            double lm = bce_loss(f, c, x, lab);
            f->params[j] = keep;
            d[h] = (lp - lm) / (2 * (double)e);
        }
        if (getenv("ZS_FD_VERBOSE")) fprintf(stderr, "%s[%zu] %.6g %.6g %.6g\n", t->name, j - t->offset, grad[j], d[0], d[1]);
        if (fabs(d[0] - d[1]) > 0.02 * fmax(fabs(d[0]), fabs(d[1])) + 2e-5) continue;
        fd[kept] = d[1];
        an[kept++] = grad[j];
    }
    CHECKF(kept >= NS * 3 / 4, "only %d of %d parameter samples away from kinks", kept, NS);
    double e1 = rel_err(an, fd, kept);
    CHECKF(e1 < FD_TOL, "parameter gradients differ from finite differences by %.3g", e1);
    for (int k = 0; k < NS; k++) {
        size_t j = (size_t)(frand(&s) * N * IMG) % (N * IMG);
        float keep = x[j], e = 2e-2f;
        x[j] = keep + e;
        double lp = bce_loss(f, c, x, lab);
        x[j] = keep - e;
        double lm = bce_loss(f, c, x, lab);
        x[j] = keep;
        fd[k] = (lp - lm) / (2 * e);
        an[k] = dx[j];
    }
    double e2 = rel_err(an, fd, NS);
    CHECKF(e2 < FD_TOL, "input gradients differ from finite differences by %.3g", e2);
    fprintf(stderr, "feature net: parameter gradient rel err %.2g, input %.2g (bound %g)\n", e1, e2, FD_TOL);
    free(x);
    free(dx);
    free(grad);
    zs_feat_ctx_destroy(c);
    zs_feat_destroy(f);
}

static void test_feature_loss_gradient(void)
{
    zs_feat *f = tiny();
    zs_feat_ctx *cx = zs_feat_ctx_create(f, N), *cr = zs_feat_ctx_create(f, N);
    uint64_t s = 7;
    float *x = malloc(sizeof(float) * N * IMG), *r = malloc(sizeof(float) * N * IMG);
    float *dr = malloc(sizeof(float) * N * IMG);
    for (int i = 0; i < N * IMG; i++) {
        x[i] = frand(&s);
        r[i] = x[i] + 0.3f * (frand(&s) - 0.5f);
    }
    unsigned layers = (1u << 0) | (1u << 2);   /* blocks 1 and 3 */
    double l0 = zs_feat_loss(cx, cr, x, r, N, layers, 1.0f, dr);
    CHECKF(l0 > 0, "feature loss of different images %g", l0);
    CHECK(zs_feat_loss(cx, cr, x, x, N, layers, 1.0f, NULL) == 0.0);
    double an[NS], fd[NS];
    for (int k = 0; k < NS; k++) {
        size_t j = (size_t)(frand(&s) * N * IMG) % (N * IMG);
        float keep = r[j], e = 2e-2f;
        r[j] = keep + e;
        double lp = zs_feat_loss(cx, cr, x, r, N, layers, 1.0f, NULL);
        r[j] = keep - e;
        double lm = zs_feat_loss(cx, cr, x, r, N, layers, 1.0f, NULL);
        r[j] = keep;
        fd[k] = (lp - lm) / (2 * e);
        an[k] = dr[j];
    }
    double e = rel_err(an, fd, NS);
    CHECKF(e < FD_TOL, "feature-loss gradient differs from finite differences by %.3g", e);
    /* the scale multiplies the gradient only */
    float *dr2 = malloc(sizeof(float) * N * IMG);
    double l1 = zs_feat_loss(cx, cr, x, r, N, layers, 0.25f, dr2);
    double worst = 0;
    for (int i = 0; i < N * IMG; i++) worst = fmax(worst, fabs(dr2[i] - 0.25 * dr[i]));
    CHECKF(l1 == l0 && worst < 1e-6, "scale: loss %g vs %g, gradient off by %g", l1, l0, worst);
    /* per-layer normalisation: one block's loss is 3 S^2 / N_l times its squared error */
    zs_feat_loss(cx, cr, x, r, N, 1u << 1, 1.0f, NULL);
    double se = 0;
    const float *a = zs_feat_act(cr, 1), *t = zs_feat_act(cx, 1);
    size_t per = zs_feat_block_size(f, 1);
    for (size_t i = 0; i < per * N; i++) se += ((double)a[i] - t[i]) * ((double)a[i] - t[i]);
    double want = se * IMG / per, got = zs_feat_loss(cx, cr, x, r, N, 1u << 1, 1.0f, NULL);
    CHECKF(fabs(got - want) <= 1e-9 * want, "block 2 alone: %g, expected %g", got, want);
    fprintf(stderr, "feature loss: gradient rel err %.2g\n", e);
    unsigned set;
    CHECK(zs_feat_parse_layers(f, "1,3", &set) == ZS_OK && set == 5u);
    CHECK(zs_feat_parse_layers(f, "5", &set) != ZS_OK && strstr(zs_last_error(), "1..4"));
    CHECK(zs_feat_parse_layers(f, "1,x", &set) != ZS_OK);
    free(x);
    free(r);
    free(dr);
    free(dr2);
    zs_feat_ctx_destroy(cx);
    zs_feat_ctx_destroy(cr);
    zs_feat_destroy(f);
}

/* The VAE's training step with the feature loss alone: the model's
 * gradients against central differences of the step's loss, which now runs
 * through the frozen feature network. With the pixel loss too, the
 * gradient is the sum of the two losses' gradients (the pixel loss's own
 * are checked against PyTorch in test_golden). */
static void grads_of(zs_vae *m, const zs_train_desc *td, const float *x, int b, const float *eps, float *g,
                     zs_step_stats *st)
{
    zs_vae_train *t = zs_vae_train_create(m, td);
    zs_vae_train_forward_backward(t, x, b, eps, st);
    memcpy(g, zs_vae_train_grads(t), sizeof(float) * m->table.ntrain);
    zs_vae_train_destroy(t);
}

static void test_vae_with_feature_loss(void)
{
    const int no_pixel = 1;
    zs_vae_config cfg;
    if (zs_vae_config_parse("z=4 image=64 widths=4,4,4,4", &cfg) != ZS_OK) abort();
    zs_vae *m = zs_vae_create(&cfg);
    zs_vae_init(m, 5);
    zs_feat *f = tiny();
    enum { B = 3 };
    uint64_t s = 9;
    float *x = malloc(sizeof(float) * B * IMG), eps[B * 4];
    for (int i = 0; i < B * IMG; i++) x[i] = frand(&s);
    for (int i = 0; i < B * 4; i++) eps[i] = frand(&s) - 0.5f;
    zs_train_desc td = {.max_batch = B, .threads = 2, .lr = 1e-3f, .beta = 1, .seed = 1, .features = f,
                        .feat_layers = 3u, .feat_weight = 0.5f, .no_pixel_loss = no_pixel};
    zs_vae_train *t = zs_vae_train_create(m, &td);
    zs_step_stats st;
    zs_vae_train_forward_backward(t, x, B, eps, &st);
    CHECKF(st.feat > 0 && isfinite(st.loss), "feature loss %g, loss %g", st.feat, st.loss);
    /* rec is the weighted feature loss alone without the pixel loss */
    if (no_pixel) CHECKF(fabs(st.rec - 0.5 * st.feat) < 1e-6 * st.rec, "rec %g, feat %g", st.rec, st.feat);
    size_t np = m->table.ntrain;
    float *g = malloc(sizeof(float) * np);
    memcpy(g, zs_vae_train_grads(t), sizeof(float) * np);
    double an[NS], fd[NS];
    int kept = 0;
    for (int k = 0; k < NS; k++) {
        const zs_tensor_info *ti;
        do ti = &m->table.t[(size_t)(frand(&s) * m->table.n) % m->table.n];
        while (!ti->trainable);
        size_t j = ti->offset + (size_t)(frand(&s) * ti->numel) % ti->numel;
        float keep = m->params[j];
        double d[2];
        for (int h = 0; h < 2; h++) {
            float e = h ? 2e-3f : 4e-3f;
            zs_step_stats sp, sm;
            m->params[j] = keep + e;
            zs_vae_train_forward_backward(t, x, B, eps, &sp);
            m->params[j] = keep - e;
            zs_vae_train_forward_backward(t, x, B, eps, &sm);
            m->params[j] = keep;
            d[h] = (sp.loss - sm.loss) / (2 * (double)e);
        }
        if (getenv("ZS_FD_VERBOSE")) fprintf(stderr, "%s %.6g %.6g %.6g\n", ti->name, g[j], d[0], d[1]);
        if (fabs(d[0] - d[1]) > 0.02 * fmax(fabs(d[0]), fabs(d[1])) + 1e-3) continue;
        fd[kept] = d[1];
        an[kept++] = g[j];
    }
    double e = rel_err(an, fd, kept);
    fprintf(stderr, "VAE step with the feature loss: gradient rel err %.2g over %d samples\n", e, kept);
    CHECKF(kept >= NS / 2 && e < FD_TOL, "%d samples kept, rel err %.3g", kept, e);

    /* pixel + feature = pixel alone + feature alone, gradients and losses
     * (without the KL term, which each would count) */
    float *gp = malloc(sizeof(float) * np), *gb = malloc(sizeof(float) * np);
    zs_train_desc feat = td, pix = td, both = td;
    feat.beta = pix.beta = both.beta = 0;
    feat.beta_zero = pix.beta_zero = both.beta_zero = 1;
    pix.features = NULL;
    pix.no_pixel_loss = 0;
    both.no_pixel_loss = 0;
    zs_step_stats sp, sb;
    grads_of(m, &feat, x, B, eps, g, &st);
    grads_of(m, &pix, x, B, eps, gp, &sp);
    grads_of(m, &both, x, B, eps, gb, &sb);
    double worst = 0, big = 0;
    for (size_t i = 0; i < np; i++) {
        worst = fmax(worst, fabs(gb[i] - (gp[i] + g[i])));
        big = fmax(big, fabs(gb[i]));
    }
    CHECKF(worst <= 1e-4 * big, "both losses' gradient differs from the sum by %g (largest %g)", worst, big);
    CHECKF(fabs(sb.rec - (sp.rec + 0.5 * st.feat)) <= 1e-6 * sb.rec && sp.feat == 0 && sb.feat == st.feat,
           "rec: both %g, pixel %g, feature %g", sb.rec, sp.rec, st.feat);
    free(gp);
    free(gb);
    free(g);
    free(x);
    zs_vae_train_destroy(t);
    zs_feat_destroy(f);
    zs_vae_destroy(m);
}

/* Faces whose attribute 0 is brightness and attribute 20 (Male) a red or
 * blue tint (with stripes across or along); the rest follow the id. Partition: every 5th face is val. */
enum { NFACES = 200 };
static int bright(int i) { return (i * 37) % 11 < 5; }
static int horiz(int i) { return (i * 53) % 7 < 3; }

/* faces with a learnable attribute 0 (bright) and 20 (stripes run across) */
static void feat_picture(int i, int w, int h, uint8_t *rgb)
{
    double base = bright(i) ? 170 : 80;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) {
                double v = base + 40 * sin(0.4 * (horiz(i) ? y : x) + i) + 10 * sin(0.05 * (x + y) * (c + 1)) +
                           (c == 0 ? 1 : c == 2 ? -1 : 0) * (horiz(i) ? 30 : -30);
                rgb[((size_t)y * w + x) * 3 + c] = (uint8_t)fmin(255, fmax(0, v));
            }
}
static int feat_attr(int i, int a) { return a == 0 ? bright(i) : a == 20 ? horiz(i) : (i + a) % 3 == 0; }
static int feat_partition(int i) { return i % 5 == 0 ? 1 : 0; }

static zs_cache *make_cache(void)
{
    char dir[600], p[700];
    snprintf(dir, sizeof dir, "%s/celeba", zs_test_tmpdir());
    snprintf(p, sizeof p, "%s/feat.zsf", zs_test_tmpdir());
    int ids[NFACES];
    for (int i = 0; i < NFACES; i++) ids[i] = i + 1;
    zs_cache *c;
    if (fx_make_celeba_cache(dir,
                             &(fx_celeba){.rows = NFACES, .images = ids, .n_images = NFACES, .picture = feat_picture,
                                          .attr = feat_attr, .partition = feat_partition, .quality = 90},
                             p, &c) != 0)
        abort();
    return c;
}

static void test_training_and_files(void)
{
    zs_cache *cache = make_cache();
    zs_feat_config cfg = {.image = 64, .nblocks = 4, .widths = {8, 16, 16, 16}};
    zs_feat *f = zs_feat_create(&cfg);
    zs_feat_init(f, 2);
    double acc0[ZS_NATTR], acc[ZS_NATTR], base[ZS_NATTR], loss;
    CHECK(zs_feat_evaluate(f, cache, ZS_SPLIT_VAL, 2, acc0, base) == ZS_OK);
    zs_status st = zs_feat_train(f, &(zs_feat_train_desc){.cache = cache, .batch = 16, .threads = 2, .lr = 2e-3f,
                                                          .steps = 150, .seed = 4}, &loss);
    CHECKF(st == ZS_OK, "%s", zs_last_error());
    CHECK(zs_feat_evaluate(f, cache, ZS_SPLIT_VAL, 2, acc, base) == ZS_OK);
    fprintf(stderr, "feature training: val accuracy attr 0 %.2f (base %.2f, untrained %.2f), Male %.2f (base %.2f), loss %.3f\n",
            acc[0], base[0], acc0[0], acc[20], base[20], loss);
    CHECKF(acc[0] >= 0.9 && acc[20] >= 0.9, "learnt attributes: %.2f %.2f", acc[0], acc[20]);
    CHECKF(base[0] < 0.7 && base[20] < 0.7, "the synthetic attributes are not balanced: %.2f %.2f", base[0], base[20]);
    CHECK(loss < 0.69);

    /* an untrained VAE decodes near-constant grey: what the trained network
     * sees in its reconstructions stops following the faces */
    zs_vae_config vc;
    if (zs_vae_config_parse("z=4 image=64 widths=4,4,4,4", &vc) != ZS_OK) abort();
    zs_vae *vm = zs_vae_create(&vc);
    zs_vae_init(vm, 1);
    double flips[ZS_NATTR], lost[ZS_NATTR];
    int judged = 0;
    double any01 = -1, any0 = -1;
    CHECKF(zs_feat_recon_flips(f, vm, cache, ZS_SPLIT_VAL, 2, flips, lost, 1ull | 1ull << 20, &any01, &judged) == ZS_OK,
           "%s", zs_last_error());
    CHECKF(judged == NFACES / 5 && flips[0] > 0.3 && flips[20] > 0.3 && flips[0] <= 1 && lost[0] >= 0 && lost[0] <= 1,
           "flips %d faces: %g %g, lost %g", judged, flips[0], flips[20], lost[0]);
    CHECK(zs_feat_recon_flips(f, vm, cache, ZS_SPLIT_VAL, 2, flips, NULL, 1ull, &any0, NULL) == ZS_OK);
    /* the union: at least each part, at most their sum */
    CHECKF(any0 == flips[0] && any01 >= fmax(flips[0], flips[20]) && any01 <= flips[0] + flips[20] + 1e-12,
           "any: %g (attr 0 alone %g), parts %g %g", any01, any0, flips[0], flips[20]);
    zs_vae_destroy(vm);

    /* file round trip: same logits; bad files refused with the path */
    char path[700], bad[700];
    snprintf(path, sizeof path, "%s/feat.safetensors", zs_test_tmpdir());
    CHECK(zs_feat_save(path, f, 150) == ZS_OK);
    zs_feat *g = NULL;
    CHECKF(zs_feat_load(path, &g) == ZS_OK, "%s", zs_last_error());
    if (g) {
        CHECK(g->cfg.nblocks == 4 && g->cfg.widths[1] == 16);
        CHECK(memcmp(g->params, f->params, sizeof(float) * f->table.total) == 0);
        zs_feat_destroy(g);
    }
    FILE *in = fopen(path, "rb");
    fseek(in, 0, SEEK_END);
    long n = ftell(in);
    fseek(in, 0, SEEK_SET);
    char *buf = malloc((size_t)n);
    CHECK(fread(buf, 1, (size_t)n, in) == (size_t)n);
    fclose(in);
    snprintf(bad, sizeof bad, "%s/short.safetensors", zs_test_tmpdir());
    FILE *out = fopen(bad, "wb");
    fwrite(buf, 1, (size_t)n / 2, out);
    fclose(out);
    g = NULL;
    CHECK(zs_feat_load(bad, &g) != ZS_OK && g == NULL && strstr(zs_last_error(), "short.safetensors"));
    free(buf);
    snprintf(bad, sizeof bad, "%s/other.safetensors", zs_test_tmpdir());
    zs_st_writer w;
    zs_st_writer_init(&w);
    float one = 1;
    zs_st_add(&w, "x", ZS_DT_F32, 1, (int64_t[]){1}, &one);
    zs_st_add_meta(&w, "format", "zspace-latents");
    CHECK(zs_st_write(&w, bad) == ZS_OK);
    zs_st_writer_free(&w);
    CHECK(zs_feat_load(bad, &g) != ZS_OK && strstr(zs_last_error(), "not a zspace feature network"));
    zs_feat_destroy(f);
    zs_cache_close(cache);
}

/* test_features --dump DIR: a small random feature network (DIR/feat.safetensors,
 * zs_feat_save) and, in DIR/feat_io.safetensors, inputs x and r (2 faces), the
 * logits of x, the feature loss of r against x over blocks 1 and 3 and its
 * gradient dr, as zspace computes them: tests/torch_feature_loss.py recomputes
 * them with PyTorch (float64) and compares. */
static int dump(const char *dir)
{
    zs_feat_config c = {.image = 64, .nblocks = 4, .widths = {6, 8, 8, 12}};
    zs_feat *f = zs_feat_create(&c);
    zs_feat_init(f, 23);
    char p[600];
    snprintf(p, sizeof p, "%s/feat.safetensors", dir);
    if (zs_feat_save(p, f, 0) != ZS_OK) {
        fprintf(stderr, "%s\n", zs_last_error());
        return 1;
    }
    enum { NB = 2 };
    uint64_t s = 77;
    float *x = malloc(sizeof(float) * NB * IMG), *r = malloc(sizeof(float) * NB * IMG);
    float *dr = malloc(sizeof(float) * NB * IMG), logits[NB * ZS_NATTR];
    for (int i = 0; i < NB * IMG; i++) {
        x[i] = frand(&s);
        r[i] = fminf(1, fmaxf(0, x[i] + 0.3f * (frand(&s) - 0.5f)));
    }
    zs_feat_ctx *cx = zs_feat_ctx_create(f, NB), *cr = zs_feat_ctx_create(f, NB);
    zs_feat_forward(cx, x, NB, 0, logits);
    unsigned layers = 1u | 4u;   /* blocks 1 and 3 */
    float loss = (float)zs_feat_loss(cx, cr, x, r, NB, layers, 1.0f, dr);
    zs_st_writer w;
    zs_st_writer_init(&w);
    zs_st_add(&w, "x", ZS_DT_F32, 4, (int64_t[]){NB, 3, 64, 64}, x);
    zs_st_add(&w, "r", ZS_DT_F32, 4, (int64_t[]){NB, 3, 64, 64}, r);
    zs_st_add(&w, "logits", ZS_DT_F32, 2, (int64_t[]){NB, ZS_NATTR}, logits);
    zs_st_add(&w, "loss", ZS_DT_F32, 1, (int64_t[]){1}, &loss);
    zs_st_add(&w, "dr", ZS_DT_F32, 4, (int64_t[]){NB, 3, 64, 64}, dr);
    zs_st_add_meta(&w, "layers", "1,3");
    snprintf(p, sizeof p, "%s/feat_io.safetensors", dir);
    zs_status st = zs_st_write(&w, p);
    zs_st_writer_free(&w);
    if (st != ZS_OK) fprintf(stderr, "%s\n", zs_last_error());
    zs_feat_ctx_destroy(cx);
    zs_feat_ctx_destroy(cr);
    zs_feat_destroy(f);
    free(x), free(r), free(dr);
    return st == ZS_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    zs_blas_init();
    if (argc == 3 && strcmp(argv[1], "--dump") == 0) return dump(argv[2]);
    test_param_and_input_gradients();
    test_feature_loss_gradient();
    test_vae_with_feature_loss();
    test_training_and_files();
    TEST_END();
}
