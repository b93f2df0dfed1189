/* 1,000 randomly mutated checkpoints and 1,000 mutated face caches: bit
 * flips, truncations, byte insertions and deletions, overwritten runs, and
 * changed size fields (the safetensors header length, numbers inside its
 * JSON; the cache header's count, size and offsets, half of them with the
 * header CRC recomputed so that the field checks themselves are reached).
 * Every one must be refused with a message naming the file, or load with
 * the outcome we can account for:
 *   - checkpoint: the payload (weights, Adam moments) is under the
 *     payload_crc32, the JSON header is not; a file that still loads must
 *     have a byte-identical payload and give exactly the original weights
 *     (its mutation landed in a metadata value we do not check, a name we
 *     do not read, or the header's padding);
 *   - face cache: header and metadata are under CRCs, pixels only under the
 *     content hash that zs_cache_open does not recompute (pixels are paged
 *     in lazily); a cache that still opens must differ from the original in
 *     pixel bytes only, and zs_cache_verify must then refuse it.
 * A failed resume (zs_ckpt_load_into with a training context) must leave
 * the model and the moments untouched. tests/sanitize.sh runs this under
 * ASan + UBSan too. */
#include "data/data_impl.h"   /* zs_cache_layout_of */
#include "test_data_fixture.h"
#include "testutil.h"
#include "zspace/st.h"
#include "zspace/trainer.h"

#include <stdlib.h>
#include <string.h>

#define N_MUT 1000

enum { M_FLIP, M_TRUNC, M_INSERT, M_DELETE, M_RUN, M_SIZE, M_KINDS };
static const char *kind_name[M_KINDS] = {"bit flips", "truncations", "insertions", "deletions", "overwritten runs",
                                         "size fields"};

typedef struct mutant {
    uint8_t *b;
    size_t n;
    int kind;
} mutant;

static uint64_t rnd(uint64_t *s) { return zs_rand64(0x6d757461, (*s)++); }

/* A random mutation of (src, n) of kind k; size-field changes are
 * format-specific (size_field). */
static mutant mutate(const uint8_t *src, size_t n, int k, uint64_t *s,
                     void (*size_field)(uint8_t *b, size_t n, uint64_t *s))
{
    mutant m = {malloc(n + 64), n, k};
    memcpy(m.b, src, n);
    switch (k) {
    case M_FLIP: {
        int flips = 1 + (int)(rnd(s) % 8);
        for (int i = 0; i < flips; i++) {
            size_t at = rnd(s) % n;
            m.b[at] ^= (uint8_t)(1u << (rnd(s) % 8));
        }
        break;
    }
    case M_TRUNC: m.n = rnd(s) % n; break;
    case M_INSERT: {
        size_t at = rnd(s) % (n + 1), k2 = 1 + rnd(s) % 64;
        memmove(m.b + at + k2, m.b + at, n - at);
        for (size_t i = 0; i < k2; i++) m.b[at + i] = (uint8_t)rnd(s);
        m.n = n + k2;
        break;
    }
    case M_DELETE: {
        size_t at = rnd(s) % n, k2 = 1 + rnd(s) % 64;
        if (k2 > n - at) k2 = n - at;
        memmove(m.b + at, m.b + at + k2, n - at - k2);
        m.n = n - k2;
        break;
    }
    case M_RUN: {
        size_t at = rnd(s) % n, k2 = 1 + rnd(s) % 256;
        uint8_t v = (uint8_t)rnd(s);
        for (size_t i = at; i < at + k2 && i < n; i++) m.b[i] = rnd(s) % 2 ? v : (uint8_t)rnd(s);
        break;
    }
    default: size_field(m.b, n, s); break;
    }
    return m;
}

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t odd_number(uint64_t *s)
{
    static const uint64_t pick[] = {0, 1, 7, 8, 4095, 4096, 4097, 0x7fffffff, 0x80000000u, 0xffffffffu,
                                    0x100000000ull, 0x7fffffffffffffffull, 0xffffffffffffffffull};
    uint64_t r = rnd(s);
    return r % 3 ? pick[r % (sizeof pick / sizeof pick[0])] : rnd(s) >> (rnd(s) % 64);
}

/* ---- checkpoints ----------------------------------------------------------- */
static void ckpt_size_field(uint8_t *b, size_t n, uint64_t *s)
{
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | b[i];
    if (rnd(s) % 4 == 0 || hlen > n - 8) {   /* the 8-byte header length */
        uint64_t v = rnd(s) % 2 ? odd_number(s) : hlen + (rnd(s) % 17) - 8;
        put_le(b, v, 8);
        return;
    }
    /* a number inside the JSON (a shape, a data offset, a metadata value):
     * its digits replaced by others, the same count, so nothing moves */
    for (int tries = 0; tries < 100; tries++) {
        size_t at = 8 + rnd(s) % hlen;
        if (b[at] < '0' || b[at] > '9') continue;
        while (at > 8 && b[at - 1] >= '0' && b[at - 1] <= '9') at--;
        char digits[32];
        snprintf(digits, sizeof digits, "%llu", (unsigned long long)odd_number(s));
        for (size_t i = 0; at + i < 8 + hlen && b[at + i] >= '0' && b[at + i] <= '9'; i++)
            b[at + i] = (uint8_t)(digits[i] ? (uint8_t)digits[i] : (uint8_t)('0' + rnd(s) % 10));
        return;
    }
}

static void test_checkpoints(const char *dir)
{
    zs_vae_config cfg;
    CHECK(zs_vae_config_parse("z=16 image=64 widths=8,16,16,16", &cfg) == ZS_OK);
    zs_vae *m = zs_vae_create(&cfg);
    zs_vae_init(m, 11);
    zs_vae_train *t = zs_vae_train_create(m, &(zs_train_desc){.max_batch = 2, .threads = 1, .seed = 3});
    float *x = malloc(sizeof(float) * 2 * 3 * 64 * 64);
    for (int i = 0; i < 2 * 3 * 64 * 64; i++) x[i] = 0.5f + 0.4f * sinf(0.013f * (float)i);
    zs_step_stats st;
    for (int k = 0; k < 2; k++) zs_vae_train_step(t, x, 2, NULL, &st);   /* non-zero moments */
    free(x);
    zs_ckpt_info info = {.cfg = cfg, .step = 2, .batch_in_epoch = 2, .seed = 3, .lr = 5e-4f, .beta = 1, .batch = 2};
    char *orig = fx_path(dir, "orig.safetensors"), *bad = fx_path(dir, "mutant.safetensors");
    CHECKF(zs_ckpt_save(orig, m, t, &info, 0) == ZS_OK, "%s", zs_last_error());
    uint8_t *src;
    size_t n;
    CHECK(zs_read_file(orig, &src, &n, 1 << 26) == ZS_OK);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | src[i];
    size_t payload = 8 + (size_t)hlen;

    /* the model a resume loads into, and its state to compare against */
    zs_vae *into = zs_vae_create(&cfg);
    zs_vae_init(into, 12);
    zs_vae_train *tt = zs_vae_train_create(into, &(zs_train_desc){.max_batch = 1, .threads = 1});
    size_t np = into->table.total, nt = into->table.ntrain;
    float *p0 = malloc(sizeof(float) * np), *m0 = malloc(sizeof(float) * nt);
    memcpy(p0, into->params, sizeof(float) * np);
    memcpy(m0, zs_vae_train_adam_m(tt), sizeof(float) * nt);

    int refused[M_KINDS] = {0}, loaded[M_KINDS] = {0}, tried[M_KINDS] = {0}, unnamed = 0, changed = 0;
    uint64_t s = 1;
    for (int i = 0; i < N_MUT; i++) {
        int k = i % M_KINDS;
        mutant mu = mutate(src, n, k, &s, ckpt_size_field);
        tried[k]++;
        CHECK(fx_write(bad, mu.b, mu.n) == 0);
        zs_vae *lm = NULL;
        zs_status r = i % 2 ? zs_ckpt_load_model(bad, &lm, NULL) : zs_ckpt_load_into(bad, into, tt, NULL);
        if (r != ZS_OK) {
            refused[k]++;
            if (!strstr(zs_last_error(), bad)) {
                unnamed++;
                fprintf(stderr, "mutant %d (%s): message does not name the file: %s\n", i, kind_name[k], zs_last_error());
            }
            if (i % 2 == 0 && (memcmp(p0, into->params, sizeof(float) * np) != 0 ||
                               memcmp(m0, zs_vae_train_adam_m(tt), sizeof(float) * nt) != 0)) {
                changed++;
                memcpy(into->params, p0, sizeof(float) * np);
                memcpy(zs_vae_train_adam_m(tt), m0, sizeof(float) * nt);
            }
        } else {
            loaded[k]++;
            /* accounted for: the payload is the original's, and so are the weights */
            const float *got = i % 2 ? lm->params : into->params;
            int same_payload = mu.n == n && memcmp(mu.b + payload, src + payload, n - payload) == 0 &&
                               memcmp(mu.b, src, 8) == 0;
            CHECKF(same_payload, "mutant %d (%s) changed the payload or header length and still loaded", i, kind_name[k]);
            CHECKF(memcmp(got, m->params, sizeof(float) * np) == 0, "mutant %d (%s) loaded other weights", i,
                   kind_name[k]);
            if (i % 2 == 0) {
                memcpy(into->params, p0, sizeof(float) * np);
                memcpy(zs_vae_train_adam_m(tt), m0, sizeof(float) * nt);
            }
        }
        zs_vae_destroy(lm);
        free(mu.b);
    }
    int total_refused = 0;
    for (int k = 0; k < M_KINDS; k++) {
        fprintf(stderr, "checkpoints, %-16s: %3d tried, %3d refused, %3d loaded (header metadata only)\n",
                kind_name[k], tried[k], refused[k], loaded[k]);
        total_refused += refused[k];
    }
    CHECKF(unnamed == 0, "%d refusals did not name the file", unnamed);
    CHECKF(changed == 0, "%d failed resumes changed the model", changed);
    CHECK(refused[M_TRUNC] == tried[M_TRUNC] && refused[M_INSERT] == tried[M_INSERT] &&
          refused[M_DELETE] == tried[M_DELETE]);
    CHECKF(total_refused >= N_MUT * 8 / 10, "only %d of %d mutated checkpoints refused", total_refused, N_MUT);
    free(p0);
    free(m0);
    free(src);
    zs_vae_train_destroy(tt);
    zs_vae_destroy(into);
    zs_vae_train_destroy(t);
    zs_vae_destroy(m);
    free(orig);
    free(bad);
}

/* ---- face caches ------------------------------------------------------------ */
static void cache_size_field(uint8_t *b, size_t n, uint64_t *s)
{
    static const int field[] = {12, 16, 20, 24, 28, 32, 56, 64, 72, 80, 88, 104, 108, 112};
    int f = field[rnd(s) % (sizeof field / sizeof field[0])];
    int wide = f >= 56 && f < 96;
    uint64_t old = 0;
    for (int i = (wide ? 8 : 4) - 1; i >= 0; i--) old = old << 8 | b[f + i];
    uint64_t v = rnd(s) % 2 ? odd_number(s) : old + (rnd(s) % 9) - 4;
    if (v == old) v++;
    put_le(b + f, v, wide ? 8 : 4);
    if (rnd(s) % 2) put_le(b + 4092, zs_crc32(0, b, 4092), 4);   /* a consistent header */
}

static void test_caches(const char *dir)
{
    int ids[8];
    for (int i = 0; i < 8; i++) ids[i] = i + 1;
    char *root = fx_path(dir, "celeba");
    CHECK(fx_make_celeba(root, &(fx_celeba){.rows = 8, .images = ids, .n_images = 8}) == 0);
    zs_index ix;
    CHECKF(zs_index_open(&ix, root) == ZS_OK, "%s", zs_last_error());
    char *orig = fx_path(dir, "orig.zsf"), *bad = fx_path(dir, "mutant.zsf");
    CHECKF(zs_cache_build(&ix, orig, &(zs_prepare_desc){.size = 64, .threads = 2}, NULL) == ZS_OK, "%s",
           zs_last_error());
    zs_index_free(&ix);
    uint8_t *src;
    size_t n;
    CHECK(zs_read_file(orig, &src, &n, 1 << 26) == ZS_OK);
    zs_cache_layout L = zs_cache_layout_of(8, 64);
    CHECK(n == L.file_bytes);

    int refused[M_KINDS] = {0}, opened[M_KINDS] = {0}, tried[M_KINDS] = {0}, unnamed = 0, verified_bad = 0;
    uint64_t s = 2;
    for (int i = 0; i < N_MUT; i++) {
        int k = i % M_KINDS;
        mutant mu = mutate(src, n, k, &s, cache_size_field);
        tried[k]++;
        CHECK(fx_write(bad, mu.b, mu.n) == 0);
        zs_cache *c;
        if (zs_cache_open(&c, bad) != ZS_OK) {
            refused[k]++;
            if (!strstr(zs_last_error(), bad)) {
                unnamed++;
                fprintf(stderr, "mutant %d (%s): message does not name the file: %s\n", i, kind_name[k], zs_last_error());
            }
        } else {
            opened[k]++;
            int pixels_only = mu.n == n && memcmp(mu.b, src, (size_t)L.pixels) == 0 &&
                              memcmp(mu.b + L.ids, src + L.ids, n - (size_t)L.ids) == 0;
            CHECKF(pixels_only, "mutant %d (%s) changed the header or metadata and still opened", i, kind_name[k]);
            int same = memcmp(mu.b, src, n) == 0;
            zs_status v = zs_cache_verify(c);
            if (!same) {
                CHECKF(v != ZS_OK && strstr(zs_last_error(), "content hash mismatch"),
                       "mutant %d (%s): changed pixels pass zs_cache_verify", i, kind_name[k]);
                verified_bad += v != ZS_OK;
            }
            zs_cache_close(c);
        }
        free(mu.b);
    }
    int total_refused = 0;
    for (int k = 0; k < M_KINDS; k++) {
        fprintf(stderr, "face caches, %-16s: %3d tried, %3d refused, %3d opened (pixels only; verify refuses them)\n",
                kind_name[k], tried[k], refused[k], opened[k]);
        total_refused += refused[k];
    }
    fprintf(stderr, "face caches: %d with changed pixels refused by zs_cache_verify\n", verified_bad);
    CHECKF(unnamed == 0, "%d refusals did not name the file", unnamed);
    CHECK(refused[M_TRUNC] == tried[M_TRUNC] && refused[M_INSERT] == tried[M_INSERT] &&
          refused[M_DELETE] == tried[M_DELETE] && refused[M_SIZE] == tried[M_SIZE]);
    CHECKF(total_refused >= N_MUT / 2, "only %d of %d mutated caches refused", total_refused, N_MUT);
    free(src);
    free(orig);
    free(bad);
    free(root);
}

int main(void)
{
    zs_blas_init();
    zs_log_set_level(ZS_LOG_ERROR);
    const char *dir = zs_test_tmpdir();
    test_checkpoints(dir);
    test_caches(dir);
    if (zs_test_failures == 0) fx_cleanup();
    TEST_END();
}
