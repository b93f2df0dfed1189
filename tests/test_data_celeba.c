/* The real CelebA slice (../shared/celeba: 27,500 aligned 178x218 JPEGs
 * with the official annotation files for all 202,599 rows). Skipped (77)
 * when it is absent. Checks the join report, prepares the first 300 faces
 * through the library, and holds the fast face path to the general one on
 * real photos. */
#include "testutil.h"
#include "test_data_fixture.h"
#include "zspace/data.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void)
{
    struct stat sb;
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/list_attr_celeba.txt", ZS_CELEBA_DIR);
    if (stat(probe, &sb) != 0) {
        fprintf(stderr, "skipped: no CelebA slice at %s\n", ZS_CELEBA_DIR);
        return 77;
    }
    zs_index ix;
    double t0 = zs_now();
    if (zs_index_open(&ix, ZS_CELEBA_DIR) != ZS_OK) {
        fprintf(stderr, "%s\n", zs_last_error());
        return 1;
    }
    fprintf(stderr, "indexed in %.2f s\n", zs_now() - t0);
    CHECKF(ix.n == 27500, "%d joined faces", ix.n);
    CHECKF(ix.attr_rows == 202599 && ix.part_rows == 202599, "%d attribute rows, %d partition rows", ix.attr_rows,
           ix.part_rows);
    CHECKF(ix.images == 27500, "%d images", ix.images);
    CHECKF(ix.rows_without_image == 175099, "%d rows without image", ix.rows_without_image);
    CHECKF(ix.images_without_row == 0 && ix.rows_without_partition == 0, "%d images without row, %d rows without "
           "partition", ix.images_without_row, ix.rows_without_partition);
    CHECKF(ix.split_count[0] == 25000 && ix.split_count[1] == 2500 && ix.split_count[2] == 0, "splits %d %d %d",
           ix.split_count[0], ix.split_count[1], ix.split_count[2]);
    int sorted = 1;
    for (int i = 1; i < ix.n; i++) sorted &= strcmp(ix.id[i - 1], ix.id[i]) < 0;
    CHECK(sorted);
    /* 000001.jpg: attractive, not male, smiling, young; train */
    CHECK(strcmp(ix.id[0], "000001.jpg") == 0);
    CHECK(ix.attr[zs_attr_find("Attractive")] == 1 && ix.attr[zs_attr_find("Male")] == -1);
    CHECK(ix.attr[zs_attr_find("Smiling")] == 1 && ix.attr[zs_attr_find("Young")] == 1 && ix.part[0] == 0);

    /* prepare 300 faces */
    char out[256];
    snprintf(out, sizeof out, "%s/celeba300.zsf", zs_test_tmpdir());
    zs_prepare_report rep;
    CHECKF(zs_cache_build(&ix, out, &(zs_prepare_desc){.size = 64, .limit = 300}, &rep) == ZS_OK, "%s",
           zs_last_error());
    CHECK(rep.total == 300 && rep.written == 300 && rep.bad == 0);
    fprintf(stderr, "300 faces in %.3f s (%.0f faces/s)\n", rep.seconds, 300 / rep.seconds);
    zs_cache *c;
    CHECKF(zs_cache_open(&c, out) == ZS_OK, "%s", zs_last_error());
    if (c) {
        CHECK(zs_cache_count(c) == 300 && zs_cache_size(c) == 64);
        CHECKF(zs_cache_verify(c) == ZS_OK, "%s", zs_last_error());
        int same = 1;
        for (int i = 0; i < 300; i++)
            same &= strcmp(zs_cache_id(c, i), ix.id[i]) == 0 && zs_cache_partition(c, i) == ix.part[i] &&
                    memcmp(zs_cache_attrs(c, i), ix.attr + i * ZS_NATTR, ZS_NATTR) == 0;
        CHECK(same);
        /* the fast path against full decode + crop, on real faces */
        double sum = 0;
        int worst = 0;
        long n = 0, over8 = 0;
        for (int i = 0; i < 300; i += 3) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", ix.img_dir, ix.id[i]);
            zs_image img;
            uint8_t ref[64 * 64 * 3];
            CHECK(zs_image_load(&img, path) == ZS_OK && img.w == 178 && img.h == 218);
            CHECK(zs_image_crop_resize(&img, zs_crop_celeba(), 64, ref) == ZS_OK);
            zs_image_free(&img);
            const uint8_t *p = zs_cache_pixels(c, i);
            for (int k = 0; k < 64 * 64 * 3; k++) {
                int d = abs(p[k] - ref[k]);
                sum += d;
                over8 += d > 8;
                if (d > worst) worst = d;
                n++;
            }
        }
        fprintf(stderr, "cache (DCT 1/2) vs full decode: mean %.2f, %.2f%% over 8 levels, max %d\n", sum / n,
                100.0 * over8 / n, worst);
        /* measured: mean 1.6, 2.6% over 8 levels, max 49 (at hard edges) */
        CHECKF(sum / n < 2.5, "mean difference %.2f", sum / n);
        CHECKF(over8 < n / 20, "%.2f%% of samples differ by more than 8", 100.0 * over8 / n);
        /* the source size is in the header */
        FILE *f = fopen(out, "rb");
        uint8_t h[128];
        CHECK(f && fread(h, 1, sizeof h, f) == sizeof h);
        if (f) fclose(f);
        CHECK(h[116] == 178 && h[117] == 0 && h[120] == 218 && h[121] == 0);
        zs_loader *l;
        CHECK(zs_loader_create(&l, &(zs_loader_desc){.cache = c, .batch = 64, .seed = 1, .flip = 1}) == ZS_OK);
        float *x = malloc(sizeof(float) * 64 * 3 * 64 * 64);
        int e, b;
        CHECK(zs_loader_next(l, x, &e, &b) == 64 && e == 0 && b == 0);
        CHECK(zs_loader_batches_per_epoch(l) == zs_loader_split_count(l) / 64);
        free(x);
        zs_loader_destroy(l);
        zs_cache_close(c);
    }
    unlink(out);
    zs_index_free(&ix);
    if (zs_test_failures == 0) fx_cleanup();
    TEST_END();
}
