/* The whole dfc64 model against the PyTorch reference (tests/golden/
 * dfc64_b4.safetensors, made by tests/golden/make_golden.py in float64):
 * the forward pass, the loss, every parameter's gradient, batch-norm
 * running statistics, the BCE option, five Adam steps and the eval-mode
 * (folded batch norm) inference path, with 1 and 2 training threads, and
 * with 2 and 3 taking chunks dynamically (zs_train_desc.dynamic).
 *
 * Bounds: float32 PyTorch lands within 1e-6 (activations), 5e-6 (gradients)
 * of the float64 reference; single-step quantities are held to ~20x that.
 * The 5-step trajectory is held looser, for a measured reason: at step 2
 * one LeakyReLU input of enc.bn0 (image 3, channel 29) lies 1e-7 from the
 * kink, inside float32 rounding, and lands on the other side than in the
 * reference; its gradient moves by 0.8x its size (enc.conv0 grad 1% off),
 * and Adam, which divides by sqrt(v), turns such differences and any sign
 * flip of a near-zero gradient into steps of +-lr. So after 5 steps:
 * losses within 5e-5, parameters "90% within 2e-5 and all within 1.2 lr"
 * (after one step: 99.9% within 1e-6),
 * running statistics within 5e-3 and eval outputs within 3e-2 (eval-mode
 * BN with 5 steps of running statistics amplifies them). The eval path
 * itself is held tight on eval0 (no optimizer step in between). */
#include "testutil.h"
#include "zspace/nn.h"
#include "zspace/st.h"
#include "zspace/vae.h"

#include <stdlib.h>
#include <string.h>

#define B 4
#define Z 128
#define S 64
#define NX (B * 3 * S * S)

static zs_st_file g;

static float *get(const char *name, size_t n)
{
    float *p = zs_xmalloc(sizeof(float) * (n ? n : 1));
    zs_status st = zs_st_read_f32(&g, name, p, n);
    CHECKF(st == ZS_OK, "golden tensor %s: %s", name, zs_last_error());
    return p;
}
static double scalar(const char *name)
{
    const zs_st_tensor *t = zs_st_find(&g, name);
    if (!t || t->dtype != ZS_DT_F64 || t->numel != 1) {
        CHECKF(0, "golden scalar %s missing", name);
        return NAN;
    }
    double v;
    memcpy(&v, zs_st_data(&g, t), 8);
    return v;
}

static void near(const char *what, const float *got, const float *want, size_t n, double tol)
{
    double e = zs_test_rel_err(got, want, n, 1e-12);
    CHECKF(e <= tol, "%s: relative error %.3g > %.3g", what, e, tol);
}
static void near_scalar(const char *what, double got, double want, double tol)
{
    double e = fabs(got - want) / fmax(fabs(want), 1e-12);
    CHECKF(e <= tol, "%s: %.10g vs reference %.10g (rel %.3g > %.3g)", what, got, want, e, tol);
}

/* Compare a parameter-shaped block `v` (model layout) with golden
 * `<prefix>.<name>` (full) or `<prefix>_idx/_val.<name>` (sampled). */
static void check_tensor(const zs_vae *m, const float *block, const char *prefix, const char *name, double tol,
                         int threads)
{
    const zs_tensor_info *ti = zs_table_find(&m->table, name);
    CHECKF(ti != NULL, "no tensor %s in the model", name);
    if (!ti) return;
    const float *v = block + ti->offset;
    char key[128], what[160];
    snprintf(key, sizeof key, "%s.%s", prefix, name);
    snprintf(what, sizeof what, "%s (%d threads)", key, threads);
    const zs_st_tensor *t = zs_st_find(&g, key);
    if (t) {
        CHECKF(t->numel == ti->numel, "%s: %zu elements, model has %zu", key, t->numel, ti->numel);
        float *want = get(key, ti->numel);
        near(what, v, want, ti->numel, tol);
        free(want);
        return;
    }
    char ki[128], kv[128];
    snprintf(ki, sizeof ki, "%s_idx.%s", prefix, name);
    snprintf(kv, sizeof kv, "%s_val.%s", prefix, name);
    const zs_st_tensor *ti_idx = zs_st_find(&g, ki);
    CHECKF(ti_idx != NULL && ti_idx->dtype == ZS_DT_I64, "golden has no %s", ki);
    if (!ti_idx) return;
    size_t n = ti_idx->numel;
    const int64_t *idx = zs_st_data(&g, ti_idx);
    float *want = get(kv, n), *have = zs_xmalloc(sizeof(float) * n);
    for (size_t j = 0; j < n; j++) {
        int64_t k;
        memcpy(&k, idx + j, 8);   /* payload may be unaligned */
        CHECK(k >= 0 && (size_t)k < ti->numel);
        have[j] = v[k];
    }
    near(what, have, want, n, tol);
    free(want);
    free(have);
}

/* Parameters after Adam steps against golden `<prefix>.<name>` (full) or
 * `<prefix>_val.<name>` at the `after_idx.<name>` indices: all entries within
 * 6e-4 (1.2 lr) and at least `frac` of them within `close_tol`. */
static void check_after(const zs_vae *m, const char *prefix, const char *name, double frac, double close_tol,
                        int threads)
{
    const zs_tensor_info *ti = zs_table_find(&m->table, name);
    const float *v = m->params + ti->offset;
    char key[128];
    snprintf(key, sizeof key, "%s.%s", prefix, name);
    const zs_st_tensor *t = zs_st_find(&g, key);
    size_t n;
    float *want, *have;
    if (t) {
        n = ti->numel;
        want = get(key, n);
        have = zs_xmalloc(sizeof(float) * n);
        memcpy(have, v, sizeof(float) * n);
    } else {
        char ki[128], kv[128];
        snprintf(ki, sizeof ki, "after_idx.%s", name);
        snprintf(kv, sizeof kv, "%s_val.%s", prefix, name);
        const zs_st_tensor *tix = zs_st_find(&g, ki);
        CHECKF(tix != NULL, "golden has no %s", ki);
        if (!tix) return;
        n = tix->numel;
        want = get(kv, n);
        have = zs_xmalloc(sizeof(float) * n);
        for (size_t j = 0; j < n; j++) {
            int64_t k;
            memcpy(&k, (const int64_t *)zs_st_data(&g, tix) + j, 8);
            have[j] = v[k];
        }
    }
    size_t close = 0;
    double worst = 0;
    for (size_t j = 0; j < n; j++) {
        double d = fabs((double)have[j] - want[j]);
        if (!(d <= 6e-4)) worst = fmax(worst, isnan(d) ? INFINITY : d);
        if (d <= close_tol) close++;
    }
    CHECKF(worst == 0, "%s (%d threads): an entry is %.3g from the reference", key, threads, worst);
    CHECKF(close >= frac * n, "%s (%d threads): only %zu of %zu entries within %.3g", key, threads, close, n,
           close_tol);
    free(want);
    free(have);
}

static void run(int threads, int dynamic)
{
    zs_vae_config cfg = zs_vae_config_default();
    float *x = get("x", NX), *eps = get("eps", 5 * B * Z);

    /* ---- step 0: forward, loss, gradients, running statistics ---- */
    zs_vae *m = zs_vae_create(&cfg);
    zs_vae_init(m, 1);
    zs_vae_train *t = zs_vae_train_create(m, &(zs_train_desc){.max_batch = B, .threads = threads, .lr = 5e-4f, .dynamic = dynamic});
    zs_step_stats st;
    zs_vae_train_forward_backward(t, x, B, eps, &st);
    char what[64];
    static const char *outs[] = {"mu", "logvar", "z", "recon"};
    const float *got[] = {zs_vae_train_mu(t), zs_vae_train_logvar(t), zs_vae_train_z(t), zs_vae_train_recon(t)};
    for (int k = 0; k < 4; k++) {
        size_t n = k == 3 ? NX : B * Z;
        float *want = get(outs[k], n);
        snprintf(what, sizeof what, "%s (%d threads)", outs[k], threads);
        near(what, got[k], want, n, 2e-5);
        free(want);
    }
    near_scalar("loss", st.loss, scalar("loss"), 1e-6);
    near_scalar("rec", st.rec, scalar("rec"), 1e-6);
    near_scalar("kl", st.kl, scalar("kl"), 1e-5);

    const float *grads = zs_vae_train_grads(t);
    int ntrain = 0;
    for (int i = 0; i < m->table.n; i++) {
        const zs_tensor_info *ti = &m->table.t[i];
        if (ti->trainable) {
            ntrain++;
            check_tensor(m, grads, "grad", ti->name, 1e-4, threads);
            double s2 = 0;
            for (size_t k = 0; k < ti->numel; k++) s2 += (double)grads[ti->offset + k] * grads[ti->offset + k];
            char key[128];
            snprintf(key, sizeof key, "grad_norm.%s", ti->name);
            near_scalar(key, sqrt(s2), scalar(key), 1e-4);
        } else {
            check_tensor(m, m->params, "step0", ti->name, 1e-5, threads);
        }
    }
    CHECKF(ntrain == 29, "dfc64 has %d trainable tensors, PyTorch 29", ntrain);
    /* sum(p.numel() for p in dfc64().parameters()) in tools/torch_model.py */
    CHECKF(zs_vae_param_count(m) == 2656227, "dfc64 has %zu parameters, PyTorch 2656227", zs_vae_param_count(m));
    zs_vae_train_destroy(t);

    /* ---- eval mode right after step 0: folded batch norm, z = mu ---- */
    {
        zs_vae_infer *inf = zs_vae_infer_create(&cfg, B);
        zs_vae_infer_load(inf, m->params);
        float mu0[B * Z], lv0[B * Z];
        float *rec0 = zs_xmalloc(sizeof(float) * NX);
        zs_vae_encode(inf, x, B, mu0, lv0);
        zs_vae_decode(inf, mu0, B, rec0);
        float *w = get("eval0.mu", B * Z);
        near("eval0.mu", mu0, w, B * Z, 2e-5);
        free(w);
        w = get("eval0.logvar", B * Z);
        near("eval0.logvar", lv0, w, B * Z, 2e-5);
        free(w);
        w = get("eval0.recon", NX);
        near("eval0.recon", rec0, w, NX, 2e-5);
        free(w);
        free(rec0);
        zs_vae_infer_destroy(inf);
    }

    /* ---- BCE option ---- */
    zs_vae_init(m, 1);
    t = zs_vae_train_create(m, &(zs_train_desc){.max_batch = B, .threads = threads, .loss = ZS_LOSS_BCE, .dynamic = dynamic});
    zs_vae_train_forward_backward(t, x, B, eps, &st);
    near_scalar("loss_bce", st.loss, scalar("loss_bce"), 1e-6);
    check_tensor(m, zs_vae_train_grads(t), "grad_bce", "dec.conv3.weight", 1e-4, threads);
    check_tensor(m, zs_vae_train_grads(t), "grad_bce", "dec.conv3.bias", 1e-4, threads);
    zs_vae_train_destroy(t);

    /* ---- 5 Adam steps ---- */
    zs_vae_init(m, 1);
    t = zs_vae_train_create(m, &(zs_train_desc){.max_batch = B, .threads = threads, .lr = 5e-4f, .dynamic = dynamic});
    float *losses = zs_xmalloc(5 * sizeof(float));
    {
        const zs_st_tensor *lt = zs_st_find(&g, "losses");
        CHECK(lt && lt->numel == 5);
        double want[5];
        memcpy(want, zs_st_data(&g, lt), sizeof want);
        for (int k = 0; k < 5; k++) {
            zs_status s = zs_vae_train_step(t, x, B, eps + (size_t)k * B * Z, &st);
            CHECK(s == ZS_OK && !st.skipped);
            snprintf(what, sizeof what, "losses[%d] (%d threads)", k, threads);
            near_scalar(what, st.loss, want[k], k < 2 ? 2e-6 : 5e-5);
            if (k == 0)   /* one Adam step: tight (rare near-zero gradients may flip sign) */
                for (int i = 0; i < m->table.n; i++)
                    if (m->table.t[i].trainable) check_after(m, "after1", m->table.t[i].name, 0.999, 1e-6, threads);
        }
    }
    CHECK(zs_vae_train_steps(t) == 5);
    for (int i = 0; i < m->table.n; i++) {
        const zs_tensor_info *ti = &m->table.t[i];
        if (ti->trainable)
            check_after(m, "after", ti->name, 0.9, 2e-5, threads);
        else
            check_tensor(m, m->params, "after", ti->name, 5e-3, threads);
    }
    zs_vae_train_destroy(t);
    free(losses);

    /* ---- eval mode, folded batch norm, z = mu ---- */
    zs_vae_infer *inf = zs_vae_infer_create(&cfg, B);
    zs_vae_infer_load(inf, m->params);
    float mu[B * Z], lv[B * Z];
    float *rec = zs_xmalloc(sizeof(float) * NX);
    zs_vae_encode(inf, x, B, mu, lv);
    zs_vae_decode(inf, mu, B, rec);
    float *w = get("eval.mu", B * Z);
    near("eval.mu", mu, w, B * Z, 3e-2);
    free(w);
    w = get("eval.logvar", B * Z);
    near("eval.logvar", lv, w, B * Z, 3e-2);
    free(w);
    w = get("eval.recon", NX);
    near("eval.recon", rec, w, NX, 2e-4);
    free(w);
    /* one image at a time gives the same as the batch (no batch coupling in eval) */
    float one[3 * S * S];
    zs_vae_decode(inf, mu + 2 * Z, 1, one);
    near("eval decode n=1 vs batch", one, rec + 2 * 3 * S * S, 3 * S * S, 1e-6);
    free(rec);
    zs_vae_infer_destroy(inf);
    zs_vae_destroy(m);
    free(x);
    free(eps);
}

int main(void)
{
    zs_blas_init();
    /* tests/nn.cmake runs this again as test_golden_narrow: then the eval-mode checks below run the
     * tiles of an AVX2-only CPU, or the run says why not */
    const char *narrow = getenv("ZS_SIMD_NARROW");
    if (narrow && strcmp(narrow, "1") == 0) CHECKF(!zs_nn_wide_tiles(), "ZS_SIMD_NARROW=1 kept the wide tiles");
    const char *path = ZS_TEST_DIR "/golden/dfc64_b4.safetensors";
    zs_status s = zs_st_open(&g, path);
    CHECKF(s == ZS_OK, "%s", zs_last_error());
    if (s != ZS_OK) TEST_END();
    CHECK(strcmp(zs_st_meta(&g, "model") ? zs_st_meta(&g, "model") : "", "dfc64") == 0);
    run(1, 0);
    run(2, 0);
    /* chunks taken as members get CPU: the same values to rounding */
    run(2, 1);
    run(3, 1);
    zs_st_close(&g);
    TEST_END();
}
