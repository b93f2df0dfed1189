/* The face cache: build -> open round trip (pixels, ids, attributes,
 * partition, hash, verify), the byte layout of data.h, independence from
 * the thread count, limit/split selection, bad images skipped, and every
 * corruption refused with a message. */
#include "testutil.h"
#include "test_data_fixture.h"
#include "data/data_impl.h"
#include "zspace/data.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ROWS 40
static int g_images[ROWS];
static int g_nimages;
static const int g_bad[] = {7, 21, 22};   /* made unreadable below */
static char *g_dir;

static int is_bad(int id)
{
    for (size_t i = 0; i < sizeof g_bad / sizeof g_bad[0]; i++)
        if (g_bad[i] == id) return 1;
    return 0;
}

/* Rows 1..40, images for all but 4 and 30, plus 45 (no row); 7 is random
 * bytes, 21 truncated, 22 empty; 12 is a PNG named .jpg (sniffed: fine). */
static void make_fixture(void)
{
    g_dir = fx_path(zs_test_tmpdir(), "celeba");
    for (int id = 1; id <= ROWS; id++)
        if (id != 4 && id != 30) g_images[g_nimages++] = id;
    g_images[g_nimages++] = 45;
    fx_celeba c = {.rows = ROWS, .images = g_images, .n_images = g_nimages};
    if (fx_make_celeba(g_dir, &c) != 0) abort();
    char *p = fx_path(g_dir, "img_align_celeba/000007.jpg");
    uint8_t junk[3000];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)zs_rand64(5, i);
    junk[0] = 0xFF, junk[1] = 0xD8, junk[2] = 0xFF;   /* looks like a JPEG at first */
    fx_write(p, junk, sizeof junk);
    free(p);
    uint8_t *pic = fx_picture(178, 218, 21);
    size_t len;
    uint8_t *jpg = fx_jpeg(pic, 178, 218, 3, 85, 0, &len);
    p = fx_path(g_dir, "img_align_celeba/000021.jpg");
    fx_write(p, jpg, len * 2 / 3);
    free(p);
    free(jpg);
    free(pic);
    p = fx_path(g_dir, "img_align_celeba/000022.jpg");
    fx_write(p, "", 0);
    free(p);
    pic = fx_picture(178, 218, 12);
    uint8_t *png = fx_png(pic, 178, 218, "rgb8", &len);
    p = fx_path(g_dir, "img_align_celeba/000012.jpg");
    fx_write(p, png, len);
    free(p);
    free(png);
    free(pic);
}

/* The ids a full build must hold, in order. */
static int expected_ids(int *ids)
{
    int n = 0;
    for (int id = 1; id <= ROWS; id++)
        if (id != 4 && id != 30 && !is_bad(id)) ids[n++] = id;
    return n;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    uint8_t *d;
    if (zs_read_file(path, &d, len, (size_t)1 << 30) != ZS_OK) return NULL;
    return d;
}

typedef struct { int calls, last_done, last_total, monotonic, on_caller; pthread_t caller; } prog_state;
static void on_progress(void *user, int done, int total)
{
    prog_state *p = user;
    if (done < p->last_done) p->monotonic = 0;
    if (!pthread_equal(pthread_self(), p->caller)) p->on_caller = 0;
    p->calls++;
    p->last_done = done;
    p->last_total = total;
}

static void test_round_trip(const zs_index *ix)
{
    char *out = fx_path(zs_test_tmpdir(), "faces.zsf");
    zs_prepare_report rep;
    prog_state ps = {0, 0, 0, 1, 1, pthread_self()};
    zs_prepare_desc d = {.size = 32, .threads = 2, .progress = on_progress, .user = &ps};
    CHECKF(zs_cache_build(ix, out, &d, &rep) == ZS_OK, "%s", zs_last_error());
    int ids[ROWS];
    int n = expected_ids(ids);
    CHECKF(rep.total == ix->n && rep.written == n && rep.bad == 3, "total %d written %d bad %d", rep.total,
           rep.written, rep.bad);
    CHECK(rep.nmsg == 3);
    if (rep.nmsg == 3) {   /* in id order, each naming its file */
        CHECKF(strstr(rep.msg[0], "000007.jpg"), "%s", rep.msg[0]);
        CHECKF(strstr(rep.msg[1], "000021.jpg") && strstr(rep.msg[1], "truncated"), "%s", rep.msg[1]);
        CHECKF(strstr(rep.msg[2], "000022.jpg") && strstr(rep.msg[2], "empty"), "%s", rep.msg[2]);
    }
    CHECK(ps.calls >= 1 && ps.monotonic && ps.on_caller && ps.last_done == rep.total && ps.last_total == rep.total);
    CHECK(rep.seconds >= rep.decode_seconds && rep.decode_seconds > 0);
    struct stat sb;
    CHECK(stat(out, &sb) == 0 && (uint64_t)sb.st_size == rep.bytes);
    CHECK(rep.bytes == zs_cache_layout_of((uint64_t)n, 32).file_bytes);

    zs_cache *c;
    CHECKF(zs_cache_open(&c, out) == ZS_OK, "%s", zs_last_error());
    if (!c) return;
    CHECK(zs_cache_count(c) == n && zs_cache_size(c) == 32);
    CHECK(strcmp(zs_cache_path(c), out) == 0);
    zs_crop cr = zs_cache_crop(c), want = zs_crop_celeba();
    CHECK(cr.cx == want.cx && cr.cy == want.cy && cr.side == want.side);
    CHECK(zs_cache_hash(c) == rep.hash);
    CHECKF(zs_cache_verify(c) == ZS_OK, "%s", zs_last_error());
    int split[3] = {0, 0, 0}, ok_ids = 1, ok_attr = 1, ok_pix = 1;
    uint8_t face[32 * 32 * 3];
    for (int i = 0; i < n && i < zs_cache_count(c); i++) {
        char name[32];
        snprintf(name, sizeof name, "%06d.jpg", ids[i]);
        if (strcmp(zs_cache_id(c, i), name) != 0) ok_ids = 0;
        if (zs_cache_find(c, name) != i) ok_ids = 0;
        if (zs_cache_partition(c, i) != fx_partition_of(ids[i])) ok_ids = 0;
        split[fx_partition_of(ids[i])]++;
        for (int a = 0; a < ZS_NATTR; a++)
            if (zs_cache_attrs(c, i)[a] != fx_attr_value(ids[i], a)) ok_attr = 0;
        char *path = fx_path(ix->img_dir, name);
        if (zs_face_load(path, zs_crop_celeba(), 32, face) != ZS_OK || memcmp(face, zs_cache_pixels(c, i), sizeof face))
            ok_pix = 0;
        free(path);
    }
    CHECK(ok_ids);
    CHECK(ok_attr);
    CHECKF(ok_pix, "cached pixels must equal zs_face_load of the file");
    CHECK(zs_cache_find(c, "000004.jpg") == -1 && zs_cache_find(c, "000007.jpg") == -1);
    CHECK(zs_cache_find(c, "") == -1 && zs_cache_find(c, "zzz") == -1 && zs_cache_find(c, "000000.jpg") == -1);
    for (int s = 0; s <= ZS_SPLIT_ALL; s++) {
        int *idx;
        int k = zs_cache_split_indices(c, (zs_data_split)s, &idx);
        int want_k = s == ZS_SPLIT_ALL ? n : split[s], asc = 1;
        for (int i = 0; i < k; i++) {
            if (i > 0 && idx[i] <= idx[i - 1]) asc = 0;
            if (s != ZS_SPLIT_ALL && zs_cache_partition(c, idx[i]) != s) asc = 0;
        }
        CHECKF(k == want_k && asc, "split %d: %d indices, want %d", s, k, want_k);
        free(idx);
    }

    /* The byte layout of zspace/data.h. */
    size_t len;
    uint8_t *f = slurp(out, &len);
    CHECK(f && len == rep.bytes);
    if (f) {
        zs_cache_layout L = zs_cache_layout_of((uint64_t)n, 32);
        CHECK(memcmp(f, "ZSFACES\x1a", 8) == 0);
        CHECK(zs_get_u32(f + 8) == 1 && zs_get_u32(f + 12) == 4096 && zs_get_u32(f + 16) == (uint32_t)n);
        CHECK(zs_get_u32(f + 20) == 32 && zs_get_u32(f + 24) == 3 && zs_get_u32(f + 28) == 40);
        CHECK(zs_get_u32(f + 32) == 32 && zs_get_u32(f + 36) == 0);
        CHECK(zs_get_f32(f + 40) == want.cx && zs_get_f32(f + 44) == want.cy && zs_get_f32(f + 48) == want.side);
        CHECK(zs_get_u32(f + 52) == zs_crc32(0, f + L.ids, (size_t)(len - L.ids)));
        CHECK(zs_get_u64(f + 56) == 4096 && zs_get_u64(f + 64) == 4096 + (uint64_t)n * 32 * 32 * 3);
        CHECK(zs_get_u64(f + 72) == zs_get_u64(f + 64) + 32ull * (uint64_t)n);
        CHECK(zs_get_u64(f + 80) == zs_get_u64(f + 72) + 40ull * (uint64_t)n);
        CHECK(zs_get_u64(f + 88) == len && zs_get_u64(f + 80) + (uint64_t)n == len);
        CHECK(zs_get_u64(f + 96) == rep.hash);
        CHECK(zs_get_u32(f + 104) == (uint32_t)split[0] && zs_get_u32(f + 108) == (uint32_t)split[1] &&
              zs_get_u32(f + 112) == (uint32_t)split[2]);
        CHECK(zs_get_u32(f + 116) == 178 && zs_get_u32(f + 120) == 218);
        CHECK(strcmp((const char *)f + 128, "5_o_Clock_Shadow") == 0);
        CHECK(strcmp((const char *)f + 128 + 31 * 32, "Smiling") == 0);
        int zero = 1;
        for (int i = 1408; i < 4092; i++) zero &= f[i] == 0;
        CHECK(zero);
        CHECK(zs_get_u32(f + 4092) == zs_crc32(0, f, 4092));
        CHECK(memcmp(f + 4096 + 5 * 32 * 32 * 3, zs_cache_pixels(c, 5), 32 * 32 * 3) == 0);
        CHECK(strcmp((const char *)f + L.ids + 32 * 2, zs_cache_id(c, 2)) == 0);
        CHECK((int8_t)f[L.attrs + 40 * 3 + 31] == zs_cache_attrs(c, 3)[31]);
        CHECK(f[L.part + 4] == zs_cache_partition(c, 4));
    }
    zs_cache_close(c);

    /* The same file whatever the thread count. */
    char *out1 = fx_path(zs_test_tmpdir(), "faces1.zsf");
    zs_prepare_report rep1;
    CHECK(zs_cache_build(ix, out1, &(zs_prepare_desc){.size = 32, .threads = 1}, &rep1) == ZS_OK);
    size_t len1;
    uint8_t *f1 = slurp(out1, &len1);
    CHECKF(f && f1 && len1 == len && memcmp(f, f1, len) == 0, "threads 1 and 2 must write identical caches");
    CHECK(rep1.hash == rep.hash);
    free(f1);
    /* rebuilding over an existing cache replaces it; nothing left behind */
    CHECK(zs_cache_build(ix, out1, &(zs_prepare_desc){.size = 32, .threads = 3, .limit = 3}, &rep1) == ZS_OK);
    CHECK(zs_cache_open(&c, out1) == ZS_OK && zs_cache_count(c) == 3);
    zs_cache_close(c);
    unlink(out1);
    free(out1);
    free(f);
    free(out);
}

static void test_selection(const zs_index *ix)
{
    char *out = fx_path(zs_test_tmpdir(), "sel.zsf");
    zs_prepare_report rep;
    zs_cache *c;
    /* the first 5 faces by id: 1 2 3 5 6 (7 is bad: attempted, skipped) */
    CHECK(zs_cache_build(ix, out, &(zs_prepare_desc){.size = 16, .limit = 6}, &rep) == ZS_OK);
    CHECK(rep.total == 6 && rep.written == 5 && rep.bad == 1);
    CHECK(zs_cache_open(&c, out) == ZS_OK);
    if (c) {
        CHECK(zs_cache_count(c) == 5 && zs_cache_size(c) == 16);
        CHECK(strcmp(zs_cache_id(c, 0), "000001.jpg") == 0 && strcmp(zs_cache_id(c, 4), "000006.jpg") == 0);
        zs_cache_close(c);
    }
    /* validation split only (ids 10, 20, 40), then val+test with a limit */
    CHECK(zs_cache_build(ix, out, &(zs_prepare_desc){.size = 16, .split_mask = 1u << ZS_SPLIT_VAL}, &rep) == ZS_OK);
    CHECK(rep.written == 3 && zs_cache_open(&c, out) == ZS_OK);
    if (c) {
        CHECK(zs_cache_count(c) == 3 && strcmp(zs_cache_id(c, 2), "000040.jpg") == 0 && zs_cache_partition(c, 1) == 1);
        zs_cache_close(c);
    }
    unsigned vt = 1u << ZS_SPLIT_VAL | 1u << ZS_SPLIT_TEST;
    CHECK(zs_cache_build(ix, out, &(zs_prepare_desc){.size = 16, .split_mask = vt, .limit = 4}, &rep) == ZS_OK);
    CHECK(rep.written == 4 && zs_cache_open(&c, out) == ZS_OK);
    if (c) {   /* 5 10 15 20 */
        CHECK(zs_cache_count(c) == 4 && strcmp(zs_cache_id(c, 3), "000020.jpg") == 0);
        zs_cache_close(c);
    }
    /* size 128, and a crop of our own recorded in the header */
    zs_crop crop = {0.5f, 0.45f, 0.6f};
    CHECK(zs_cache_build(ix, out, &(zs_prepare_desc){.size = 128, .limit = 2, .crop = crop}, &rep) == ZS_OK);
    CHECK(zs_cache_open(&c, out) == ZS_OK);
    if (c) {
        zs_crop got = zs_cache_crop(c);
        CHECK(got.cx == crop.cx && got.cy == crop.cy && got.side == crop.side && zs_cache_size(c) == 128);
        CHECK(zs_cache_verify(c) == ZS_OK);
        zs_cache_close(c);
    }
    unlink(out);
    free(out);
}

/* Write `f` with one change and expect zs_cache_open to refuse it. */
static void expect_refused(const char *path, const uint8_t *f, size_t len, zs_status want, const char *needle,
                           const char *what)
{
    CHECK(fx_write(path, f, len) == 0);
    zs_cache *c = (zs_cache *)1;
    zs_status st = zs_cache_open(&c, path);
    CHECKF(st == want, "%s: status %d, want %d (%s)", what, st, want, zs_last_error());
    CHECKF(c == NULL, "%s: *out must be NULL on failure", what);
    CHECKF(strstr(zs_last_error(), path) && strstr(zs_last_error(), needle), "%s: message '%s' lacks '%s'", what,
           zs_last_error(), needle);
    if (st == ZS_OK) zs_cache_close(c);
}

static void set_u32_fix_crc(uint8_t *f, int off, uint32_t v)
{
    zs_put_u32(f + off, v);
    zs_put_u32(f + 4092, zs_crc32(0, f, 4092));
}

static void test_corruption(const zs_index *ix)
{
    char *good = fx_path(zs_test_tmpdir(), "good.zsf"), *bad = fx_path(zs_test_tmpdir(), "bad.zsf");
    zs_prepare_report rep;
    CHECK(zs_cache_build(ix, good, &(zs_prepare_desc){.size = 16, .limit = 12}, &rep) == ZS_OK);
    size_t len;
    uint8_t *f = slurp(good, &len), *g = malloc(len + 1);
    if (!f) return;
    zs_cache_layout L = zs_cache_layout_of((uint64_t)rep.written, 16);

    expect_refused(bad, f, len - 1, ZS_ERR_FORMAT, "truncated", "one byte short");
    expect_refused(bad, f, (size_t)L.ids, ZS_ERR_FORMAT, "truncated", "metadata missing");
    expect_refused(bad, f, 100, ZS_ERR_FORMAT, "shorter than the 4096-byte", "100 bytes");
    expect_refused(bad, f, 0, ZS_ERR_FORMAT, "shorter than", "empty");
    memcpy(g, f, len);
    g[len] = 0;
    expect_refused(bad, g, len + 1, ZS_ERR_FORMAT, "trailing data", "one byte more");
    memcpy(g, f, len);
    g[3] = 'X';
    expect_refused(bad, g, len, ZS_ERR_FORMAT, "bad magic", "magic");
    memcpy(g, f, len);
    g[2000] ^= 1;   /* padding: only the CRC notices */
    expect_refused(bad, g, len, ZS_ERR_FORMAT, "header checksum", "padding byte");
    memcpy(g, f, len);
    g[17] ^= 1;     /* count, CRC not updated */
    expect_refused(bad, g, len, ZS_ERR_FORMAT, "header checksum", "count without CRC");
    memcpy(g, f, len);
    set_u32_fix_crc(g, 8, 2);
    expect_refused(bad, g, len, ZS_ERR_VERSION, "version 2", "version");
    memcpy(g, f, len);
    set_u32_fix_crc(g, 16, (uint32_t)rep.written + 1);
    expect_refused(bad, g, len, ZS_ERR_FORMAT, "ids offset", "count + 1");
    memcpy(g, f, len);
    set_u32_fix_crc(g, 16, 0);
    expect_refused(bad, g, len, ZS_ERR_FORMAT, "0 faces", "count 0");
    memcpy(g, f, len);
    set_u32_fix_crc(g, 20, 32);
    expect_refused(bad, g, len, ZS_ERR_FORMAT, "ids offset", "size 32");
    memcpy(g, f, len);
    set_u32_fix_crc(g, 20, 100000);
    expect_refused(bad, g, len, ZS_ERR_FORMAT, "faces of 100000 pixels", "huge size");
    memcpy(g, f, len);
    set_u32_fix_crc(g, 24, 4);
    expect_refused(bad, g, len, ZS_ERR_FORMAT, "channels", "channels");
    memcpy(g, f, len);
    zs_put_u64(g + 88, len + 4096);
    set_u32_fix_crc(g, 36, 0);
    expect_refused(bad, g, len, ZS_ERR_FORMAT, "file bytes", "file bytes field");
    memcpy(g, f, len);
    zs_put_u64(g + 72, L.attrs + 1);
    set_u32_fix_crc(g, 36, 0);
    expect_refused(bad, g, len, ZS_ERR_FORMAT, "attributes offset", "attributes offset");
    memcpy(g, f, len);
    g[L.ids + 3] ^= 1;
    expect_refused(bad, g, len, ZS_ERR_FORMAT, "metadata checksum", "an id byte");
    memcpy(g, f, len);
    g[L.part] = 7;
    expect_refused(bad, g, len, ZS_ERR_FORMAT, "metadata checksum", "a partition byte");
    /* metadata consistent with its CRC but out of range */
    memcpy(g, f, len);
    g[L.attrs + 5] = 0;
    set_u32_fix_crc(g, 52, zs_crc32(0, g + L.ids, (size_t)(len - L.ids)));
    expect_refused(bad, g, len, ZS_ERR_FORMAT, "attribute value 0", "attribute value");
    memcpy(g, f, len);
    memcpy(g + L.ids, f + L.ids + 32, 32);   /* id 0 := id 1: not sorted */
    set_u32_fix_crc(g, 52, zs_crc32(0, g + L.ids, (size_t)(len - L.ids)));
    expect_refused(bad, g, len, ZS_ERR_FORMAT, "not sorted", "duplicate id");
    memcpy(g, f, len);
    set_u32_fix_crc(g, 104, zs_get_u32(f + 104) + 1);
    expect_refused(bad, g, len, ZS_ERR_FORMAT, "train faces", "split count");

    /* a pixel changed: open does not read pixels, verify does */
    memcpy(g, f, len);
    g[4096 + 16 * 16 * 3 * 5 + 100] ^= 0x40;
    CHECK(fx_write(bad, g, len) == 0);
    zs_cache *c;
    CHECK(zs_cache_open(&c, bad) == ZS_OK);
    if (c) {
        CHECK(zs_cache_hash(c) == rep.hash);
        CHECK(zs_cache_verify(c) == ZS_ERR_FORMAT);
        CHECKF(strstr(zs_last_error(), "content hash mismatch"), "%s", zs_last_error());
        zs_cache_close(c);
    }
    /* not a file, not there */
    CHECK(zs_cache_open(&c, zs_test_tmpdir()) == ZS_ERR_IO);
    CHECK(zs_cache_open(&c, "/nonexistent/faces.zsf") == ZS_ERR_IO);
    CHECKF(strstr(zs_last_error(), "/nonexistent/faces.zsf"), "%s", zs_last_error());
    unlink(bad);
    free(g);
    free(f);
    free(good);
    free(bad);
}

static void test_build_errors(const zs_index *ix)
{
    zs_prepare_report rep;
    /* output directory missing: an I/O error naming it */
    CHECK(zs_cache_build(ix, "/nonexistent/dir/faces.zsf", NULL, &rep) == ZS_ERR_IO);
    CHECKF(strstr(zs_last_error(), "/nonexistent/dir/faces.zsf"), "%s", zs_last_error());
    /* nothing selected */
    char *out = fx_path(zs_test_tmpdir(), "none.zsf");
    CHECK(zs_cache_build(ix, out, &(zs_prepare_desc){.size = 2000}, &rep) == ZS_ERR_ARG);
    CHECK(zs_cache_build(ix, out, &(zs_prepare_desc){.limit = -1}, &rep) == ZS_ERR_ARG);
    zs_index empty = *ix;
    empty.n = 0;
    CHECK(zs_cache_build(&empty, out, NULL, &rep) == ZS_ERR_ARG);
    CHECKF(strstr(zs_last_error(), "no faces"), "%s", zs_last_error());
    CHECK(access(out, F_OK) != 0);
    /* a previous cache survives a failed build */
    CHECK(zs_cache_build(ix, out, &(zs_prepare_desc){.size = 16, .limit = 2}, &rep) == ZS_OK);
    uint64_t before = rep.hash;
    zs_index one = *ix;   /* a view of the index holding only the bad image 000007.jpg */
    int k = -1;
    for (int i = 0; i < ix->n; i++)
        if (strcmp(ix->id[i], "000007.jpg") == 0) k = i;
    CHECK(k >= 0);
    one.n = 1;
    one.id = ix->id + k;
    one.attr = ix->attr + (size_t)k * ZS_NATTR;
    one.part = ix->part + k;
    CHECK(zs_cache_build(&one, out, &(zs_prepare_desc){.size = 16}, &rep) == ZS_ERR_FORMAT);
    CHECKF(strstr(zs_last_error(), "could be decoded") && strstr(zs_last_error(), "000007.jpg"), "%s",
           zs_last_error());
    CHECK(rep.total == 1 && rep.bad == 1 && rep.written == 0);
    zs_cache *c;
    CHECK(zs_cache_open(&c, out) == ZS_OK);
    if (c) {
        CHECK(zs_cache_hash(c) == before && zs_cache_count(c) == 2);
        zs_cache_close(c);
    }
    /* no temporary files left in the directory */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c tmp", zs_test_tmpdir());
    char *o;
    fx_run(cmd, &o);
    CHECKF(atoi(o) == 0, "temporary files left: %s", o);
    free(o);
    unlink(out);
    free(out);
}

static void test_hash_bytes(void)
{
    uint8_t buf[100];
    for (int i = 0; i < 100; i++) buf[i] = (uint8_t)i;
    uint64_t h = zs_hash_bytes(buf, 100, 0);
    CHECK(h == zs_hash_bytes(buf, 100, 0));
    CHECK(h != zs_hash_bytes(buf, 100, 1));
    CHECK(h != zs_hash_bytes(buf, 99, 0));
    int distinct = 1;
    for (int i = 0; i < 100; i++) {   /* every byte matters */
        buf[i] ^= 1;
        if (zs_hash_bytes(buf, 100, 0) == h) distinct = 0;
        buf[i] ^= 1;
    }
    CHECK(distinct);
    CHECK(zs_hash_bytes(buf, 0, 0) != zs_hash_bytes(buf, 0, 1));
}

int main(void)
{
    make_fixture();
    zs_index ix;
    if (zs_index_open(&ix, g_dir) != ZS_OK) {
        fprintf(stderr, "fixture: %s\n", zs_last_error());
        return 1;
    }
    CHECK(ix.n == ROWS - 2 && ix.images_without_row == 1);
    test_hash_bytes();
    test_round_trip(&ix);
    test_selection(&ix);
    test_corruption(&ix);
    test_build_errors(&ix);
    zs_index_free(&ix);
    free(g_dir);
    if (zs_test_failures == 0) fx_cleanup();
    TEST_END();
}
