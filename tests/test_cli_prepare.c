/* `zspace prepare` end to end: exit codes, the join report, the final line
 * and the cache it writes; on fixture directories (official and Kaggle
 * layouts, bad images, malformed annotations) and on the CelebA slice.
 *
 *     test_cli_prepare /path/to/zspace */
#include "testutil.h"
#include "test_data_fixture.h"
#include "zspace/data.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *g_exe;

/* Run `zspace prepare ARGS`; returns the exit code, output in *out. */
static int prepare(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static int prepare(char **out, const char *fmt, ...)
{
    char args[4096], cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "'%s' prepare %s", g_exe, args);
    int rc = fx_run(cmd, out);
    if (getenv("ZS_TEST_VERBOSE")) fprintf(stderr, "$ %s\n[exit %d]\n%s", cmd, rc, *out);
    return rc;
}

static int has(const char *out, const char *needle)
{
    if (strstr(out, needle)) return 1;
    fprintf(stderr, "--- output lacks '%s':\n%s---\n", needle, out);
    return 0;
}

static int cache_count(const char *path)
{
    zs_cache *c;
    if (zs_cache_open(&c, path) != ZS_OK) return -1;
    int n = zs_cache_count(c);
    if (zs_cache_verify(c) != ZS_OK) n = -2;
    zs_cache_close(c);
    return n;
}

static void test_usage(void)
{
    char *o;
    CHECK(prepare(&o, "--help") == 0 && has(o, "usage: zspace prepare"));
    free(o);
    CHECK(prepare(&o, "--out x.zsf") == 2 && has(o, "--celeba DIR is required"));
    free(o);
    CHECK(prepare(&o, "--celeba /tmp") == 2 && has(o, "--out FILE is required"));
    free(o);
    CHECK(prepare(&o, "--celeba /tmp --out x.zsf --size 50") == 2 && has(o, "--size: 50 is not 64 or 128"));
    free(o);
    CHECK(prepare(&o, "--celeba /tmp --out x.zsf --split dev") == 2 && has(o, "'dev' is not train, val, test or all"));
    free(o);
    CHECK(prepare(&o, "--celeba /tmp --out x.zsf --limit ten") == 2 && has(o, "not an integer"));
    free(o);
    CHECK(prepare(&o, "--celeba /tmp --out x.zsf --frobnicate") == 2 && has(o, "unknown option '--frobnicate'"));
    free(o);
    CHECK(prepare(&o, "--celeba") == 2 && has(o, "--celeba needs a value"));
    free(o);
}

static void test_fixtures(void)
{
    const char *tmp = zs_test_tmpdir();
    char *o, *out = fx_path(tmp, "out.zsf");
    /* official layout, one bad image, two images without a row */
    int imgs[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 31, 32};
    char *d = fx_path(tmp, "official");
    fx_celeba c = {.rows = 20, .images = imgs, .n_images = 14, .img_size_w = 60, .img_size_h = 72};
    CHECK(fx_make_celeba(d, &c) == 0);
    char *bad = fx_path(d, "img_align_celeba/000006.jpg");
    CHECK(fx_write(bad, "\xFF\xD8\xFF\xE0 not really", 15) == 0);
    int rc = prepare(&o, "--celeba %s --out %s --threads 2", d, out);
    CHECKF(rc == 0, "exit %d", rc);
    CHECK(has(o, "20 rows") && has(o, "14 files") && has(o, "joined       12 faces: train 10, val 1, test 1"));
    CHECK(has(o, "rows without image       8") && has(o, "images without row       2"));
    CHECK(has(o, "skipped ") && has(o, "000006.jpg"));
    CHECK(has(o, "wrote 11 faces, 1 bad images") && has(o, "faces/s") && has(o, " bytes -> "));
    CHECK(cache_count(out) == 11);
    free(o);
    /* --split and --limit */
    CHECK(prepare(&o, "--celeba %s --out %s --split train --limit 3 --size 128", d, out) == 0);
    CHECK(has(o, "preparing 3 faces (train split) at 128x128") && has(o, "wrote 3 faces"));
    CHECK(cache_count(out) == 3);
    free(o);
    /* Kaggle layout */
    char *k = fx_path(tmp, "kaggle");
    c.csv = c.nested = 1;
    CHECK(fx_make_celeba(k, &c) == 0);
    CHECK(prepare(&o, "--celeba=%s --out=%s", k, out) == 0);
    CHECK(has(o, "list_attr_celeba.csv: 20 rows") && has(o, "img_align_celeba/img_align_celeba: 14 files"));
    CHECK(has(o, "wrote 12 faces, 0 bad images"));
    CHECK(cache_count(out) == 12);
    free(o);
    /* errors: no directory, malformed attributes, unwritable output */
    CHECK(prepare(&o, "--celeba %s/missing --out %s", tmp, out) == 1);
    CHECK(has(o, "zspace prepare: ") && has(o, "/missing: cannot open directory"));
    free(o);
    char *ap = fx_path(d, "list_attr_celeba.txt");
    uint8_t *text;
    size_t len;
    CHECK(zs_read_file(ap, &text, &len, 1 << 20) == ZS_OK);
    char *row = strstr((char *)text, "000009.jpg");
    row[13] = 'x';   /* "000009.jpg  x" or " -x": the first value of line 11 */
    CHECK(fx_write(ap, text, len) == 0);
    free(text);
    CHECK(prepare(&o, "--celeba %s --out %s", d, out) == 1);
    CHECK(has(o, ap) && has(o, "line 11"));
    free(o);
    CHECK(cache_count(out) == 12);   /* the previous cache is untouched */
    CHECK(prepare(&o, "--celeba %s --out /nonexistent/dir/out.zsf", k) == 1);
    CHECK(has(o, "/nonexistent/dir/out.zsf"));
    free(o);
    unlink(out);
    free(ap), free(bad), free(k), free(d), free(out);
}

static void test_slice(void)
{
    struct stat sb;
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/list_attr_celeba.txt", ZS_CELEBA_DIR);
    if (stat(probe, &sb) != 0) {
        fprintf(stderr, "slice part skipped: no CelebA slice at %s\n", ZS_CELEBA_DIR);
        return;
    }
    char *o, *out = fx_path(zs_test_tmpdir(), "slice.zsf");
    int rc = prepare(&o, "--celeba %s --out %s --limit 200", ZS_CELEBA_DIR, out);
    CHECKF(rc == 0, "exit %d", rc);
    CHECK(has(o, "list_attr_celeba.txt: 202599 rows") && has(o, "list_eval_partition.txt: 202599 rows"));
    CHECK(has(o, "img_align_celeba: 27500 files"));
    CHECK(has(o, "joined       27500 faces: train 25000, val 2500, test 0"));
    CHECK(has(o, "rows without image       175099") && has(o, "images without row       0"));
    CHECK(has(o, "preparing 200 faces (all splits) at 64x64"));
    CHECK(has(o, "wrote 200 faces, 0 bad images") && has(o, "2476296 bytes"));   /* 4096 + 200 * (12288 + 73) */
    free(o);
    CHECK(cache_count(out) == 200);
    struct stat st;
    CHECK(stat(out, &st) == 0 && st.st_size == 4096 + 200 * (12288 + 73));
    rc = prepare(&o, "--celeba %s --out %s --limit 50 --split val --threads 1", ZS_CELEBA_DIR, out);
    CHECK(rc == 0 && has(o, "wrote 50 faces"));
    free(o);
    zs_cache *c;
    CHECK(zs_cache_open(&c, out) == ZS_OK);
    if (c) {
        int all_val = 1;
        for (int i = 0; i < zs_cache_count(c); i++) all_val &= zs_cache_partition(c, i) == ZS_SPLIT_VAL;
        CHECK(all_val && zs_cache_count(c) == 50);
        zs_cache_close(c);
    }
    CHECK(prepare(&o, "--celeba %s --out %s --split test", ZS_CELEBA_DIR, out) == 1);
    CHECK(has(o, "no faces in the selected splits"));
    free(o);
    unlink(out);
    free(out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_cli_prepare /path/to/zspace\n");
        return 2;
    }
    g_exe = argv[1];
    test_usage();
    test_fixtures();
    test_slice();
    if (zs_test_failures == 0) fx_cleanup();
    TEST_END();
}
