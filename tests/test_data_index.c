/* The CelebA join on small directories built in a temporary directory:
 * official .txt layout, Kaggle's .csv + nested image folder, the Anno/ Eval/
 * Img/ layout; rows without image, images without row, rows without a
 * partition; and the errors for missing or malformed pieces. */
#include "testutil.h"
#include "test_data_fixture.h"
#include "zspace/data.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *dir_for(const char *name) { return fx_path(zs_test_tmpdir(), name); }

/* Checks an index built from rows 1..30 and images {1..20 minus 3} + {35, 40}. */
static void check_join(const zs_index *ix, const char *what)
{
    CHECKF(ix->attr_rows == 30 && ix->part_rows == 30, "%s: rows %d %d", what, ix->attr_rows, ix->part_rows);
    CHECKF(ix->images == 21, "%s: %d images", what, ix->images);
    CHECKF(ix->n == 19, "%s: %d joined", what, ix->n);
    CHECKF(ix->rows_without_image == 11, "%s: %d rows without image", what, ix->rows_without_image);
    CHECKF(ix->images_without_row == 2, "%s: %d images without row", what, ix->images_without_row);
    CHECK(ix->rows_without_partition == 0);
    int want_split[3] = {0, 0, 0}, k = 0, ok = 1;
    for (int id = 1; id <= 20; id++) {
        if (id == 3) continue;
        want_split[fx_partition_of(id)]++;
        char name[32];
        snprintf(name, sizeof name, "%06d.jpg", id);
        if (k >= ix->n || strcmp(ix->id[k], name) != 0 || ix->part[k] != fx_partition_of(id)) ok = 0;
        for (int a = 0; a < ZS_NATTR && k < ix->n; a++)
            if (ix->attr[(size_t)k * ZS_NATTR + a] != fx_attr_value(id, a)) ok = 0;
        k++;
    }
    CHECKF(ok, "%s: ids, attributes or partitions wrong", what);
    for (int s = 0; s < 3; s++)
        CHECKF(ix->split_count[s] == want_split[s], "%s: split %d has %d, want %d", what, s, ix->split_count[s],
               want_split[s]);
}

static const int g_images[] = {1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 35, 40};
#define NIMAGES (int)(sizeof g_images / sizeof g_images[0])

static void test_layouts(void)
{
    /* official: .txt, img_align_celeba/ */
    char *d = dir_for("official");
    fx_celeba c = {.rows = 30, .images = g_images, .n_images = NIMAGES, .img_size_w = 20, .img_size_h = 24};
    CHECK(fx_make_celeba(d, &c) == 0);
    /* things that are not images are not counted */
    char *junk = fx_path(d, "img_align_celeba/readme.txt"), *hidden = fx_path(d, "img_align_celeba/.000050.jpg"),
         *sub = fx_path(d, "img_align_celeba/thumbs");
    CHECK(fx_write(junk, "x", 1) == 0 && fx_write(hidden, "x", 1) == 0 && fx_mkdirs(sub) == 0);
    zs_index ix;
    CHECKF(zs_index_open(&ix, d) == ZS_OK, "%s", zs_last_error());
    check_join(&ix, "official");
    CHECK(strstr(ix.attr_path, "list_attr_celeba.txt") && strstr(ix.part_path, "list_eval_partition.txt"));
    CHECK(strcmp(ix.dir, d) == 0);
    zs_index_free(&ix);
    /* a .csv next to the .txt is ignored (.txt wins) even when broken */
    char *csv = fx_path(d, "list_attr_celeba.csv");
    CHECK(fx_write(csv, "garbage", 7) == 0);
    CHECKF(zs_index_open(&ix, d) == ZS_OK, "%s", zs_last_error());
    zs_index_free(&ix);
    /* trailing slash on the directory */
    char *slash = malloc(strlen(d) + 2);
    sprintf(slash, "%s/", d);
    CHECK(zs_index_open(&ix, slash) == ZS_OK);
    if (ix.img_dir) CHECK(strstr(ix.img_dir, "//") == NULL);
    zs_index_free(&ix);
    free(slash);
    free(csv);
    free(junk);
    free(hidden);
    free(sub);
    free(d);

    /* Kaggle: .csv and img_align_celeba/img_align_celeba/ */
    d = dir_for("kaggle");
    c.csv = 1;
    c.nested = 1;
    CHECK(fx_make_celeba(d, &c) == 0);
    CHECKF(zs_index_open(&ix, d) == ZS_OK, "%s", zs_last_error());
    check_join(&ix, "kaggle");
    CHECK(strstr(ix.attr_path, "list_attr_celeba.csv") && strstr(ix.part_path, "list_eval_partition.csv"));
    CHECK(strstr(ix.img_dir, "img_align_celeba/img_align_celeba") != NULL);
    zs_index_free(&ix);
    free(d);

    /* Anno/, Eval/ and Img/img_align_celeba/ (the Google Drive layout) */
    d = dir_for("drive");
    c.csv = 0;
    c.nested = 0;
    CHECK(fx_make_celeba(d, &c) == 0);
    char *from_a = fx_path(d, "list_attr_celeba.txt"), *from_p = fx_path(d, "list_eval_partition.txt"),
         *from_i = fx_path(d, "img_align_celeba");
    char *anno = fx_path(d, "Anno"), *eval = fx_path(d, "Eval"), *img = fx_path(d, "Img");
    char *to_a = fx_path(anno, "list_attr_celeba.txt"), *to_p = fx_path(eval, "list_eval_partition.txt"),
         *to_i = fx_path(img, "img_align_celeba");
    CHECK(fx_mkdirs(anno) == 0 && fx_mkdirs(eval) == 0 && fx_mkdirs(img) == 0);
    CHECK(rename(from_a, to_a) == 0 && rename(from_p, to_p) == 0 && rename(from_i, to_i) == 0);
    CHECKF(zs_index_open(&ix, d) == ZS_OK, "%s", zs_last_error());
    check_join(&ix, "drive");
    zs_index_free(&ix);
    free(from_a), free(from_p), free(from_i), free(anno), free(eval), free(img), free(to_a), free(to_p), free(to_i);
    free(d);
}

static void test_partial_partition(void)
{
    char *d = dir_for("partial");
    fx_celeba c = {.rows = 30, .images = g_images, .n_images = NIMAGES, .img_size_w = 16, .img_size_h = 16};
    CHECK(fx_make_celeba(d, &c) == 0);
    /* partition rows only for ids 1..9, unsorted, LF */
    char *pp = fx_path(d, "list_eval_partition.txt");
    const char *part = "000009.jpg 0\n000002.jpg 1\n000001.jpg 2\n000004.jpg 0\n000005.jpg 0\n000006.jpg 0\n"
                       "000007.jpg 0\n000008.jpg 0\n";
    CHECK(fx_write(pp, part, strlen(part)) == 0);
    zs_index ix;
    CHECKF(zs_index_open(&ix, d) == ZS_OK, "%s", zs_last_error());
    CHECK(ix.n == 8 && ix.rows_without_partition == 11 && ix.part_rows == 8);
    CHECK(ix.split_count[0] == 6 && ix.split_count[1] == 1 && ix.split_count[2] == 1);
    CHECK(ix.n == 8 && strcmp(ix.id[0], "000001.jpg") == 0 && ix.part[0] == 2 && ix.part[1] == 1);
    zs_index_free(&ix);
    free(pp);
    free(d);
}

static void test_errors(void)
{
    zs_index ix;
    /* the directory itself */
    CHECK(zs_index_open(&ix, "/nonexistent/celeba") == ZS_ERR_IO);
    CHECKF(strstr(zs_last_error(), "/nonexistent/celeba"), "%s", zs_last_error());
    CHECK(ix.id == NULL && ix.dir == NULL);
    char *d = dir_for("errors");
    CHECK(fx_mkdirs(d) == 0);
    char *file = fx_path(d, "plain_file");
    CHECK(fx_write(file, "x", 1) == 0);
    CHECK(zs_index_open(&ix, file) == ZS_ERR_IO);
    CHECKF(strstr(zs_last_error(), "not a directory"), "%s", zs_last_error());
    /* an empty directory: the attribute file is named */
    CHECK(zs_index_open(&ix, d) == ZS_ERR_IO);
    CHECKF(strstr(zs_last_error(), "list_attr_celeba.txt"), "%s", zs_last_error());
    /* annotations but no image directory */
    fx_celeba c = {.rows = 5, .images = g_images, .n_images = 3, .img_size_w = 16, .img_size_h = 16};
    CHECK(fx_make_celeba(d, &c) == 0);
    char *imgs = fx_path(d, "img_align_celeba"), *moved = fx_path(d, "elsewhere");
    CHECK(rename(imgs, moved) == 0);
    CHECK(zs_index_open(&ix, d) == ZS_ERR_IO);
    CHECKF(strstr(zs_last_error(), "img_align_celeba"), "%s", zs_last_error());
    /* an empty image directory */
    CHECK(fx_mkdirs(imgs) == 0);
    CHECK(zs_index_open(&ix, d) == ZS_ERR_IO);
    CHECKF(strstr(zs_last_error(), "no .jpg"), "%s", zs_last_error());
    rmdir(imgs);
    CHECK(rename(moved, imgs) == 0);
    CHECKF(zs_index_open(&ix, d) == ZS_OK, "%s", zs_last_error());
    zs_index_free(&ix);
    /* no partition file */
    char *pp = fx_path(d, "list_eval_partition.txt"), *pp2 = fx_path(d, "saved_partition");
    CHECK(rename(pp, pp2) == 0);
    CHECK(zs_index_open(&ix, d) == ZS_ERR_IO);
    CHECKF(strstr(zs_last_error(), "list_eval_partition.txt"), "%s", zs_last_error());
    CHECK(rename(pp2, pp) == 0);
    /* a malformed attribute file: its path and the line */
    char *ap = fx_path(d, "list_attr_celeba.txt");
    uint8_t *text;
    size_t len;
    CHECK(zs_read_file(ap, &text, &len, 1 << 20) == ZS_OK);
    char *row = strstr((char *)text, "000004.jpg");
    row[12] = '7';   /* "000004.jpg  1" or " -1": the value of the first attribute */
    CHECK(fx_write(ap, text, len) == 0);
    CHECK(zs_index_open(&ix, d) == ZS_ERR_FORMAT);
    CHECKF(strstr(zs_last_error(), ap) && strstr(zs_last_error(), "line 6"), "%s", zs_last_error());
    free(text);
    /* no image with a row */
    fx_celeba c2 = {.rows = 2, .images = g_images + 5, .n_images = 2, .img_size_w = 16, .img_size_h = 16};
    char *d2 = dir_for("disjoint");
    CHECK(fx_make_celeba(d2, &c2) == 0);
    CHECK(zs_index_open(&ix, d2) == ZS_ERR_FORMAT);
    CHECKF(strstr(zs_last_error(), "none of its 2 images"), "%s", zs_last_error());
    free(d2);
    free(ap), free(pp), free(pp2), free(imgs), free(moved), free(file), free(d);
}

int main(void)
{
    test_layouts();
    test_partial_partition();
    test_errors();
    if (zs_test_failures == 0) fx_cleanup();
    TEST_END();
}
