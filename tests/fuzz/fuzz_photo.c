/* libFuzzer target: photos (tests/fuzz/README.md).
 *
 * The bytes are a file a user might open in the explorer. Three code paths
 * read them:
 *   1. the user-photo path, zs_photo_load_face (zs_image_load, zs_photo_crop,
 *      zs_image_crop_resize to the model size, zs_face_to_chw). It is run on
 *      the real function through a memfd, once the in-memory decode
 *      (zs_image_load_mem_ex) has shown the image fits the fuzzing pixel
 *      limit, and its output must equal the same steps done in memory;
 *   2. the fast face path, zs_face_load_mem (DCT-scaled JPEG decode of only
 *      the rows the crop needs, as the cache build does), with the CelebA
 *      crop and with the photo crop;
 *   3. zs_image_crop_resize with an odd crop derived from the bytes (over
 *      the image's edges, any size from 1 to 67).
 * Checks besides the sanitizers': a failure leaves a message naming the
 * file and an empty image; a decoded image has sane dimensions; when the
 * general decode succeeds the fast path succeeds too, reports the same
 * source size, and is bit-identical when it had to decode at full scale. */
#include "data/data_impl.h"   /* zs_face_decode_mem: the fast path with the source size */
#include "zspace/latent.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NAME "fuzz-photo"
/* Smaller than ZS_IMAGE_MAX_PIXELS so that a 30-byte header claiming
 * 8192 x 8192 costs milliseconds, not seconds. */
#define FUZZ_MAX_PIXELS ((size_t)1 << 21)

#define REQUIRE(c)                                                                      \
    do {                                                                                \
        if (!(c)) {                                                                     \
            fprintf(stderr, "fuzz_photo: check failed: %s (line %d); last error: %s\n", \
                    #c, __LINE__, zs_last_error());                                     \
            abort();                                                                    \
        }                                                                               \
    } while (0)

static int memfd = -1;
static char memfd_path[64];

/* Put the input where a path can reach it. */
static void to_memfd(const uint8_t *data, size_t size)
{
    if (memfd < 0) {
        memfd = memfd_create("fuzz_photo", MFD_CLOEXEC);
        REQUIRE(memfd >= 0);
        snprintf(memfd_path, sizeof memfd_path, "/proc/self/fd/%d", memfd);
    }
    REQUIRE(ftruncate(memfd, 0) == 0);
    size_t off = 0;
    while (off < size) {
        ssize_t k = pwrite(memfd, data + off, size - off, (off_t)off);
        REQUIRE(k > 0);
        off += (size_t)k;
    }
}

/* DCT scale denominator zs_face_load picks for this crop (see face_jpeg). */
static int dct_denom(double side_px, int size)
{
    int d = 8;
    while (d > 1 && side_px / d < size) d /= 2;
    return d;
}

static void fast_path(const uint8_t *data, size_t size, const zs_image *img, zs_status general, zs_crop crop,
                      int S)
{
    uint8_t *fast = malloc((size_t)S * S * 3), *ref = malloc((size_t)S * S * 3);
    REQUIRE(fast && ref);
    int w = -1, h = -1;
    zs_status st = zs_face_decode_mem(NAME, data, size, crop, S, fast, &w, &h);
    if (st != ZS_OK) {
        REQUIRE(w == 0 && h == 0);
        REQUIRE(strncmp(zs_last_error(), NAME, strlen(NAME)) == 0);
    }
    if (general == ZS_OK) {
        /* whatever decodes whole also decodes through the fast path */
        REQUIRE(st == ZS_OK);
        REQUIRE(w == img->w && h == img->h);   /* EXIF-rotated: both oriented */
        REQUIRE(zs_image_crop_resize(img, crop, S, ref) == ZS_OK);
        if (dct_denom((double)crop.side * img->w, S) == 1) REQUIRE(memcmp(fast, ref, (size_t)S * S * 3) == 0);
    }
    free(fast);
    free(ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int sizes[4] = {64, 128, 17, 1};
    int S = sizes[size % 4];
    zs_crop celeba = zs_crop_celeba();

    /* 1. the general decode and the user-photo path */
    zs_image img;
    zs_status st = zs_image_load_mem_ex(&img, NAME, data, size, FUZZ_MAX_PIXELS);
    if (st != ZS_OK) {
        REQUIRE(img.w == 0 && img.h == 0 && img.rgb == NULL);
        REQUIRE(strncmp(zs_last_error(), NAME, strlen(NAME)) == 0);
        if (st == ZS_ERR_LIMIT) return 0;   /* too big to fuzz quickly: nothing else would finish */
    } else {
        REQUIRE(img.w > 0 && img.h > 0 && img.rgb && (size_t)img.w * img.h <= FUZZ_MAX_PIXELS);
        zs_crop pc = zs_photo_crop(img.w, img.h, celeba);
        uint8_t *hwc = malloc((size_t)S * S * 3);
        float *chw = malloc(sizeof(float) * 3 * S * S), *chw2 = malloc(sizeof(float) * 3 * S * S);
        REQUIRE(hwc && chw && chw2);
        REQUIRE(zs_image_crop_resize(&img, pc, S, hwc) == ZS_OK);
        zs_face_to_chw(hwc, S, chw, 0);
        for (int i = 0; i < 3 * S * S; i++) REQUIRE(chw[i] >= 0 && chw[i] <= 1);
        to_memfd(data, size);
        REQUIRE(zs_photo_load_face(memfd_path, celeba, S, chw2) == ZS_OK);
        REQUIRE(memcmp(chw, chw2, sizeof(float) * 3 * S * S) == 0);
        free(hwc);
        free(chw);
        free(chw2);

        /* 3. an odd crop: centre in [-0.5, 1.5], side in (0, 2], from the bytes */
        uint32_t hsh = 2166136261u;
        for (size_t i = 0; i < size && i < 256; i++) hsh = (hsh ^ data[i]) * 16777619u;
        zs_crop odd = {(float)(hsh & 0xFF) / 127.5f - 0.5f, (float)((hsh >> 8) & 0xFF) / 127.5f - 0.5f,
                       (float)(((hsh >> 16) & 0xFF) + 1) / 128.0f};
        int os = 1 + (int)((hsh >> 24) % 67);
        uint8_t *o = malloc((size_t)os * os * 3);
        REQUIRE(o);
        REQUIRE(zs_image_crop_resize(&img, odd, os, o) == ZS_OK);
        free(o);
    }

    /* 2. the fast face path, as the cache build and the CelebA gallery use it */
    fast_path(data, size, &img, st, celeba, S);
    if (st == ZS_OK) {
        zs_crop pc = zs_photo_crop(img.w, img.h, celeba);
        fast_path(data, size, &img, st, pc, S);
    }
    zs_image_free(&img);
    return 0;
}
