/* Fixtures for the data tests, made at run time: JPEG and PNG files written
 * with libjpeg and libpng directly (not through the code under test), and
 * small CelebA-shaped directories in a temporary directory. */
#ifndef ZS_TEST_DATA_FIXTURE_H
#define ZS_TEST_DATA_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "zspace/data.h"

/* A deterministic RGB test picture (w*h*3, malloc'd): smooth gradients,
 * a few hard edges and some texture, different for each `seed`. */
uint8_t *fx_picture(int w, int h, int seed);

/* JPEG in memory (malloc'd). components: 1 gray, 3 RGB (YCbCr 4:2:0 in the
 * file, or 4:4:4 when quality >= 90), 4 CMYK (Adobe-inverted, as Photoshop
 * writes it; the picture's RGB is converted with K = 0). progressive != 0
 * writes a progressive file. */
uint8_t *fx_jpeg(const uint8_t *rgb, int w, int h, int components, int quality, int progressive, size_t *len);
/* JPEG with an EXIF APP1 orientation tag (1..8). */
uint8_t *fx_jpeg_exif(const uint8_t *rgb, int w, int h, int orientation, size_t *len);

/* PNG in memory through libpng's classic API (malloc'd).
 * kind: "rgb8", "gray8", "gray16", "rgba8", "palette8", "rgb16". For rgba8
 * the alpha is a left-to-right ramp from 0 to 255; for palette8 the picture
 * is quantised to 3-3-2 bits; 16-bit samples are v * 257 (no gAMA chunk). */
uint8_t *fx_png(const uint8_t *rgb, int w, int h, const char *kind, size_t *len);

int fx_write(const char *path, const void *data, size_t len);   /* 0 on success */
char *fx_path(const char *dir, const char *name);               /* malloc'd "dir/name" */
int fx_mkdirs(const char *path);                                 /* mkdir -p */

/* A CelebA-shaped directory under `root`. Attribute rows for ids
 * 1..rows ("%06d.jpg"), partition rows for the same ids with partition
 * (id % 10 == 0 ? 1 : id % 10 == 5 ? 2 : 0), images for the ids listed in
 * `images` (n_images of them; an id > rows makes an image without a row).
 * Attribute value of image id, attribute a: (id * 7 + a * 3) % 5 < 2 ? 1 : -1. */
typedef struct fx_celeba {
    int rows;
    const int *images;
    int n_images;
    int csv;                 /* Kaggle .csv annotations instead of .txt */
    int nested;              /* images in img_align_celeba/img_align_celeba */
    int img_size_w, img_size_h;   /* 0 -> 178 x 218 */
    /* optional, in place of the defaults above: the picture of image id
     * (w*h*3 RGB to fill), its attribute values (+1/-1) and its partition */
    void (*picture)(int id, int w, int h, uint8_t *rgb);
    int (*attr)(int id, int a);
    int (*partition)(int id);
    int quality;                  /* JPEG quality; 0 -> 85 */
} fx_celeba;
/* A CelebA-shaped directory of `n` images with ids 1..n made by the
 * callbacks above (any may be NULL), built into a 64-pixel face cache at
 * cache_path; the cache is opened into *out. 0 on success. */
int fx_make_celeba_cache(const char *root, const fx_celeba *c, const char *cache_path, zs_cache **out);
int fx_attr_value(int id, int a);
int fx_partition_of(int id);
int fx_make_celeba(const char *root, const fx_celeba *c);   /* 0 on success */

/* Remove zs_test_tmpdir() and everything in it (tests call it when they
 * pass, so a failing run leaves its files to look at). */
void fx_cleanup(void);

/* Run a command line; returns its exit status (-1 on failure to run) and
 * its stdout+stderr (malloc'd) in *output if output != NULL. */
int fx_run(const char *cmd, char **output);

#endif
