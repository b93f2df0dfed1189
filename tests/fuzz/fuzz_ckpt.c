/* libFuzzer target: checkpoints and model files (tests/fuzz/README.md).
 *
 * The bytes are a .safetensors file a user might pass to --model, --init or
 * --resume. Four entry points read them:
 *   1. the safetensors parser alone, zs_st_open_mem: an accepted file's
 *      tensors lie inside the payload and match their shapes, and every
 *      float tensor converts (zs_st_read_f32);
 *   2. zs_ckpt_read_info (metadata, config, the file backing the config);
 *   3. zs_ckpt_load_model (a new model of the file's config: weights-only
 *      f32/f16 files and full checkpoints);
 *   4. zs_ckpt_load_into a fixed model of the seeds' config with a training
 *      context (resume: Adam moments and step too); on failure nothing of
 *      the model or the moments may have changed.
 * Every refusal must leave a message naming the file. Half of the inputs
 * (odd length) get their payload_crc32 rewritten to match the payload, so
 * that mutations also reach the tensor checks behind the checksum. */
#include "fuzz_util.h"
#include "zspace/st.h"
#include "zspace/trainer.h"

#include <math.h>

#define NAME "fuzz.safetensors"
#define FIXED_CFG "z=4 image=64 widths=2,2,2,2"   /* tests/fuzz/corpus/ckpt/tiny_*.safetensors */

static void fix_crc(uint8_t *b, size_t n)
{
    if (n < 8) return;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | b[i];
    if (hlen > n - 8) return;
    static const char key[] = "\"payload_crc32\":\"";
    uint8_t *h = b + 8, *at = memmem(h, (size_t)hlen, key, sizeof key - 1);
    if (!at || (size_t)(at - h) + sizeof key - 1 + 8 > hlen) return;
    char hex[9];
    snprintf(hex, sizeof hex, "%08x", zs_crc32(0, b + 8 + hlen, n - 8 - (size_t)hlen));
    memcpy(at + sizeof key - 1, hex, 8);
}

static int all_finite(const float *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(p[i])) return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static zs_vae *fixed;
    static zs_vae_train *ctx;
    static float *p0, *m0, *v0;
    static size_t np, nt;
    if (!fixed) {
        zs_log_set_level(ZS_LOG_ERROR);
        zs_vae_config c;
        FUZZ_REQUIRE(zs_vae_config_parse(FIXED_CFG, &c) == ZS_OK);
        fixed = zs_vae_create(&c);
        zs_vae_init(fixed, 1);
        ctx = zs_vae_train_create(fixed, &(zs_train_desc){.max_batch = 1, .threads = 1});
        np = fixed->table.total;
        nt = fixed->table.ntrain;
        p0 = malloc(sizeof(float) * np);
        m0 = malloc(sizeof(float) * nt);
        v0 = malloc(sizeof(float) * nt);
        memcpy(p0, fixed->params, sizeof(float) * np);
        memcpy(m0, zs_vae_train_adam_m(ctx), sizeof(float) * nt);
        memcpy(v0, zs_vae_train_adam_v(ctx), sizeof(float) * nt);
    }
    uint8_t *buf = malloc(size + 1);
    FUZZ_REQUIRE(buf);
    memcpy(buf, data, size);
    if (size % 2) fix_crc(buf, size);

    /* 1. the parser */
    zs_st_file f;
    if (zs_st_open_mem(&f, NAME, buf, size) == ZS_OK) {
        FUZZ_REQUIRE(f.payload_len <= size);
        for (int i = 0; i < f.n && i < 1024; i++) {   /* lookups are linear: not all of 100,000 */
            const zs_st_tensor *t = &f.t[i];
            FUZZ_REQUIRE(t->name && zs_st_find(&f, t->name) == t);
            FUZZ_REQUIRE(t->offset <= f.payload_len && t->nbytes <= f.payload_len - t->offset);
            FUZZ_REQUIRE(t->numel * zs_dtype_size(t->dtype) == t->nbytes);
            if (t->numel <= (1u << 16)) {
                float *x = malloc(sizeof(float) * (t->numel + 1));
                zs_status st = zs_st_read_f32(&f, t->name, x, t->numel);
                int is_float = t->dtype == ZS_DT_F32 || t->dtype == ZS_DT_F16 || t->dtype == ZS_DT_BF16 ||
                               t->dtype == ZS_DT_F64;
                FUZZ_REQUIRE((st == ZS_OK) == is_float);
                free(x);
            }
        }
        for (int i = 0; i < f.nmeta; i++) FUZZ_REQUIRE(zs_st_meta(&f, f.meta_key[i]) != NULL);
        zs_st_close(&f);
    } else {
        fuzz_require_named(NAME);
    }

    /* 2. metadata */
    const char *path = fuzz_as_file(buf, size);
    zs_ckpt_info info;
    zs_status si = zs_ckpt_read_info(path, &info);
    if (si == ZS_OK) {
        FUZZ_REQUIRE(zs_vae_config_check(&info.cfg) == ZS_OK);
        FUZZ_REQUIRE(info.version >= 1 && info.version <= ZS_CKPT_VERSION && info.step >= 0);
    } else {
        fuzz_require_named(path);
    }

    /* 3. a new model */
    zs_vae *m = NULL;
    zs_ckpt_info mi;
    zs_status sm = zs_ckpt_load_model(path, &m, &mi);
    if (sm == ZS_OK) {
        FUZZ_REQUIRE(si == ZS_OK && zs_vae_config_equal(&m->cfg, &info.cfg) && zs_vae_config_equal(&mi.cfg, &info.cfg));
        FUZZ_REQUIRE(all_finite(m->params, m->table.total));
        zs_vae_destroy(m);
    } else {
        fuzz_require_named(path);
    }

    /* 4. resume into the fixed model: all or nothing */
    zs_status sl = zs_ckpt_load_into(path, fixed, ctx, NULL);
    if (sl == ZS_OK) {
        FUZZ_REQUIRE(sm == ZS_OK);
        FUZZ_REQUIRE(all_finite(fixed->params, np));
        memcpy(fixed->params, p0, sizeof(float) * np);   /* the next input starts from the same state */
        memcpy(zs_vae_train_adam_m(ctx), m0, sizeof(float) * nt);
        memcpy(zs_vae_train_adam_v(ctx), v0, sizeof(float) * nt);
        zs_vae_train_set_steps(ctx, 0);
    } else {
        fuzz_require_named(path);
        FUZZ_REQUIRE(memcmp(fixed->params, p0, sizeof(float) * np) == 0);
        FUZZ_REQUIRE(memcmp(zs_vae_train_adam_m(ctx), m0, sizeof(float) * nt) == 0);
        FUZZ_REQUIRE(memcmp(zs_vae_train_adam_v(ctx), v0, sizeof(float) * nt) == 0);
    }
    free(buf);
    return 0;
}
