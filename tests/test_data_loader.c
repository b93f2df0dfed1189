/* The batch loader against an independent implementation of its contract
 * (zspace/data.h): batches depend only on (seed, epoch, batch); epoch e is a
 * Fisher-Yates shuffle by zs_rng seeded with zs_rand64(seed, e); flips from
 * the top bit of zs_rand64(zs_rand64(seed ^ 0x666c6970, e), position).
 * Also: every image once per epoch, seek, drop_last, flips, and seek/next/
 * destroy interleavings for ThreadSanitizer. */
#include "testutil.h"
#include "test_data_fixture.h"
#include "zspace/data.h"

#include <stdlib.h>
#include <string.h>

#define ROWS 60
#define S 16

/* The contract, written out again. */
static void ref_order(const int *split, int n, uint64_t seed, int epoch, int *order)
{
    memcpy(order, split, sizeof(int) * (size_t)n);
    zs_rng r;
    zs_rng_seed(&r, zs_rand64(seed, (uint64_t)epoch));
    for (int i = n - 1; i > 0; i--) {
        int k = (int)zs_rng_below(&r, (uint64_t)i + 1);
        int t = order[i];
        order[i] = order[k];
        order[k] = t;
    }
}
static int ref_flip(uint64_t seed, int epoch, int pos)
{
    return (int)(zs_rand64(zs_rand64(seed ^ 0x666c6970ull, (uint64_t)epoch), (uint64_t)pos) >> 63);
}

static zs_cache *make_cache(void)
{
    char *dir = fx_path(zs_test_tmpdir(), "celeba");
    int ids[ROWS];
    for (int i = 0; i < ROWS; i++) ids[i] = i + 1;
    fx_celeba c = {.rows = ROWS, .images = ids, .n_images = ROWS, .img_size_w = 40, .img_size_h = 48};
    if (fx_make_celeba(dir, &c) != 0) abort();
    zs_index ix;
    if (zs_index_open(&ix, dir) != ZS_OK) abort();
    char *out = fx_path(zs_test_tmpdir(), "faces.zsf");
    if (zs_cache_build(&ix, out, &(zs_prepare_desc){.size = S}, NULL) != ZS_OK) abort();
    zs_index_free(&ix);
    zs_cache *cache;
    if (zs_cache_open(&cache, out) != ZS_OK) abort();
    free(out);
    free(dir);
    return cache;
}

/* Follow a loader for `nb` batches and compare with the contract. */
static int follow(zs_loader *l, const zs_cache *c, const int *split, int n, uint64_t seed, int batch, int flip_on,
                  int drop, int start_epoch, int start_batch, int nb)
{
    int bpe = drop ? n / batch : (n + batch - 1) / batch;
    int *order = malloc(sizeof(int) * (size_t)n);
    int *idx = malloc(sizeof(int) * (size_t)batch);
    uint8_t *fl = malloc((size_t)batch);
    size_t img = 3 * S * S;
    float *x = malloc(sizeof(float) * img * (size_t)batch), *want = malloc(sizeof(float) * img);
    int ok = 1, cur_epoch = -1;
    long long g = (long long)start_epoch * bpe + start_batch;
    for (int t = 0; t < nb && ok; t++, g++) {
        int e = (int)(g / bpe), b = (int)(g % bpe);
        if (e != cur_epoch) ref_order(split, n, seed, e, order), cur_epoch = e;
        int ge = -1, gb = -1;
        int got = zs_loader_next_ex(l, x, idx, fl, &ge, &gb);
        int want_n = n - b * batch < batch ? n - b * batch : batch;
        if (got != want_n || ge != e || gb != b) {
            fprintf(stderr, "batch %d: got %d images epoch %d batch %d, want %d, %d, %d\n", t, got, ge, gb, want_n, e,
                    b);
            ok = 0;
            break;
        }
        for (int k = 0; k < got && ok; k++) {
            int p = b * batch + k;
            int f = flip_on ? ref_flip(seed, e, p) : 0;
            if (idx[k] != order[p] || fl[k] != f) {
                fprintf(stderr, "epoch %d pos %d: index %d flip %d, want %d %d\n", e, p, idx[k], fl[k], order[p], f);
                ok = 0;
            }
            zs_face_to_chw(zs_cache_pixels(c, order[p]), S, want, f);
            if (memcmp(x + (size_t)k * img, want, sizeof(float) * img) != 0) ok = 0;
        }
    }
    free(order), free(idx), free(fl), free(x), free(want);
    return ok;
}

static void test_contract(const zs_cache *c)
{
    int *train;
    int n = zs_cache_split_indices(c, ZS_SPLIT_TRAIN, &train);
    CHECK(n == 48);   /* ids % 10 not in {0, 5} */
    zs_loader *l;
    CHECK(zs_loader_create(&l, &(zs_loader_desc){.cache = c, .batch = 7, .seed = 42, .flip = 1}) == ZS_OK);
    CHECK(zs_loader_split_count(l) == n);
    CHECK(zs_loader_batches_per_epoch(l) == n / 7);
    CHECKF(follow(l, c, train, n, 42, 7, 1, 1, 0, 0, 4 * (n / 7)), "train, batch 7, drop_last: four epochs");
    zs_loader_destroy(l);
    /* keep the short last batch */
    CHECK(zs_loader_create(&l, &(zs_loader_desc){.cache = c, .batch = 7, .seed = 42, .flip = 1, .drop_last = -1}) ==
          ZS_OK);
    CHECK(zs_loader_batches_per_epoch(l) == (n + 6) / 7);
    CHECKF(follow(l, c, train, n, 42, 7, 1, 0, 0, 0, 3 * ((n + 6) / 7)), "keep last");
    zs_loader_destroy(l);
    /* no flips; another split; a batch equal to the split */
    CHECK(zs_loader_create(&l, &(zs_loader_desc){.cache = c, .batch = 5, .seed = 7}) == ZS_OK);
    CHECKF(follow(l, c, train, n, 7, 5, 0, 1, 0, 0, 20), "flip off");
    zs_loader_destroy(l);
    int *val;
    int nv = zs_cache_split_indices(c, ZS_SPLIT_VAL, &val);
    CHECK(zs_loader_create(&l, &(zs_loader_desc){.cache = c, .split = ZS_SPLIT_VAL, .batch = nv, .seed = 3,
                                                 .flip = 1}) == ZS_OK);
    CHECKF(follow(l, c, val, nv, 3, nv, 1, 1, 0, 0, 5), "val, one batch per epoch");
    zs_loader_destroy(l);
    int *all;
    int na = zs_cache_split_indices(c, ZS_SPLIT_ALL, &all);
    CHECK(na == ROWS);
    CHECK(zs_loader_create(&l, &(zs_loader_desc){.cache = c, .split = ZS_SPLIT_ALL, .batch = 16, .seed = 9}) == ZS_OK);
    CHECKF(follow(l, c, all, na, 9, 16, 0, 1, 0, 0, 10), "all");
    zs_loader_destroy(l);
    /* a split smaller than one batch */
    CHECK(zs_loader_create(&l, &(zs_loader_desc){.cache = c, .split = ZS_SPLIT_VAL, .batch = nv + 1}) == ZS_ERR_ARG);
    CHECKF(strstr(zs_last_error(), "fewer than one batch"), "%s", zs_last_error());
    CHECK(l == NULL);
    CHECK(zs_loader_create(&l, &(zs_loader_desc){.cache = c, .split = ZS_SPLIT_VAL, .batch = nv + 1,
                                                 .drop_last = -1}) == ZS_OK);
    CHECK(zs_loader_batches_per_epoch(l) == 1);
    float *x = malloc(sizeof(float) * 3 * S * S * (size_t)(nv + 1));
    CHECK(zs_loader_next(l, x, NULL, NULL) == nv);
    free(x);
    zs_loader_destroy(l);
    free(all);
    free(val);
    free(train);
}

static void test_properties(const zs_cache *c)
{
    int *train;
    int n = zs_cache_split_indices(c, ZS_SPLIT_TRAIN, &train);
    int batch = 6, bpe = n / batch;
    int *seen = calloc((size_t)zs_cache_count(c), sizeof(int));
    int *a = malloc(sizeof(int) * (size_t)n * 3), *b = malloc(sizeof(int) * (size_t)n * 3);
    uint8_t *fa = malloc((size_t)n * 3), *fb = malloc((size_t)n * 3);
    zs_loader *la, *lb, *lc;
    zs_loader_desc d = {.cache = c, .batch = batch, .seed = 1234, .flip = 1};
    CHECK(zs_loader_create(&la, &d) == ZS_OK && zs_loader_create(&lb, &d) == ZS_OK);
    d.seed = 1235;
    CHECK(zs_loader_create(&lc, &d) == ZS_OK);
    int other_seed_differs = 0, flips = 0;
    for (int t = 0; t < 3 * bpe; t++) {
        int e, bi;
        zs_loader_next_ex(la, NULL, a + t * batch, fa + t * batch, &e, &bi);
        zs_loader_next_ex(lb, NULL, b + t * batch, fb + t * batch, NULL, NULL);
        int cidx[6];
        zs_loader_next_ex(lc, NULL, cidx, NULL, NULL, NULL);
        if (memcmp(cidx, a + t * batch, sizeof cidx) != 0) other_seed_differs = 1;
        CHECK(e == t / bpe && bi == t % bpe);
    }
    CHECKF(memcmp(a, b, sizeof(int) * (size_t)(3 * bpe * batch)) == 0 &&
               memcmp(fa, fb, (size_t)(3 * bpe * batch)) == 0,
           "same seed, same batches");
    CHECK(other_seed_differs);
    /* every image exactly once per epoch (n is a multiple of the batch here) */
    CHECK(n % batch == 0);
    for (int e = 0; e < 3; e++) {
        memset(seen, 0, sizeof(int) * (size_t)zs_cache_count(c));
        int once = 1;
        for (int p = 0; p < n; p++) seen[a[e * n + p]]++;
        for (int i = 0; i < n; i++)
            if (seen[train[i]] != 1) once = 0;
        CHECKF(once, "epoch %d: every training image exactly once", e);
    }
    CHECK(memcmp(a, a + n, sizeof(int) * (size_t)n) != 0 && memcmp(a + n, a + 2 * n, sizeof(int) * (size_t)n) != 0);
    for (int i = 0; i < 3 * n; i++) flips += fa[i];
    CHECKF(flips > n && flips < 2 * n, "%d flips in %d images", flips, 3 * n);
    /* seek reproduces: back to epoch 1 batch 2, forward to epoch 2 batch 5,
     * and past the end of an epoch (carries) */
    int idx[6];
    uint8_t fl[6];
    int e, bi;
    zs_loader_seek(la, 1, 2);
    zs_loader_next_ex(la, NULL, idx, fl, &e, &bi);
    CHECK(e == 1 && bi == 2 && memcmp(idx, a + (bpe + 2) * batch, sizeof idx) == 0 &&
          memcmp(fl, fa + (bpe + 2) * batch, 6) == 0);
    zs_loader_next_ex(la, NULL, idx, NULL, &e, &bi);
    CHECK(e == 1 && bi == 3 && memcmp(idx, a + (bpe + 3) * batch, sizeof idx) == 0);
    zs_loader_seek(la, 2, 5);
    zs_loader_next_ex(la, NULL, idx, NULL, &e, &bi);
    CHECK(e == 2 && bi == 5 && memcmp(idx, a + (2 * bpe + 5) * batch, sizeof idx) == 0);
    zs_loader_seek(la, 0, bpe + 1);
    zs_loader_next_ex(la, NULL, idx, NULL, &e, &bi);
    CHECK(e == 1 && bi == 1 && memcmp(idx, a + (bpe + 1) * batch, sizeof idx) == 0);
    zs_loader_seek(la, 0, 0);
    zs_loader_next_ex(la, NULL, idx, NULL, &e, &bi);
    CHECK(e == 0 && bi == 0 && memcmp(idx, a, sizeof idx) == 0);
    /* a fresh loader seeked straight to epoch 2 gives epoch 2 */
    zs_loader_seek(lb, 2, 0);
    int ok = 1;
    for (int t = 0; t < bpe; t++) {
        zs_loader_next_ex(lb, NULL, idx, NULL, &e, &bi);
        if (e != 2 || bi != t || memcmp(idx, a + (2 * bpe + t) * batch, sizeof idx) != 0) ok = 0;
    }
    CHECK(ok);
    /* the flip: a flipped image is the mirror of the unflipped one (over the
     * first batches, until both kinds were seen) */
    float x[6 * 3 * S * S], plain[3 * S * S];
    zs_loader_seek(la, 0, 0);
    int mirror_ok = 1, seen_flip = 0, seen_plain = 0;
    for (int t = 0; t < bpe && !(seen_flip && seen_plain); t++) {
        zs_loader_next_ex(la, x, idx, fl, NULL, NULL);
        for (int k = 0; k < 6; k++) {
            zs_face_to_chw(zs_cache_pixels(c, idx[k]), S, plain, 0);
            const float *got = x + (size_t)k * 3 * S * S;
            for (int ch = 0; ch < 3; ch++)
                for (int y = 0; y < S; y++)
                    for (int xx = 0; xx < S; xx++) {
                        int sx = fl[k] ? S - 1 - xx : xx;
                        if (got[(ch * S + y) * S + xx] != plain[(ch * S + y) * S + sx]) mirror_ok = 0;
                        if (got[(ch * S + y) * S + xx] != zs_cache_pixels(c, idx[k])[(y * S + sx) * 3 + ch] / 255.0f)
                            mirror_ok = 0;
                    }
            if (fl[k]) seen_flip = 1;
            else seen_plain = 1;
        }
    }
    CHECK(seen_flip && seen_plain);
    CHECK(mirror_ok);
    zs_loader_destroy(la);
    zs_loader_destroy(lb);
    zs_loader_destroy(lc);
    free(seen), free(a), free(b), free(fa), free(fb), free(train);
}

/* Interleavings for ThreadSanitizer: seeks while the worker is busy, destroy
 * right after create and right after a seek. */
static void test_races(const zs_cache *c)
{
    float *x = malloc(sizeof(float) * 3 * S * S * 4);
    for (int r = 0; r < 200; r++) {
        zs_loader *l;
        if (zs_loader_create(&l, &(zs_loader_desc){.cache = c, .batch = 4, .seed = (uint64_t)r, .flip = 1}) != ZS_OK)
            break;
        int bpe = zs_loader_batches_per_epoch(l);
        for (int k = 0; k < r % 7; k++) {
            if (k % 3 == 1) zs_loader_seek(l, k, (k * 5) % (2 * bpe));
            int e, b;
            zs_loader_next(l, x, &e, &b);
        }
        if (r % 2) zs_loader_seek(l, 3, 1);
        zs_loader_destroy(l);
    }
    free(x);
    CHECK(1);
}

int main(void)
{
    zs_cache *c = make_cache();
    test_contract(c);
    test_properties(c);
    test_races(c);
    zs_cache_close(c);
    if (zs_test_failures == 0) fx_cleanup();
    TEST_END();
}
