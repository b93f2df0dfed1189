/*
 * zspace/data.h - CelebA in, training batches out: photo I/O (JPEG through
 * libjpeg-turbo, PNG through libpng), the face crop, the CelebA index
 * (attributes, partition, the images that exist), the memory-mapped face
 * cache (.zsf) and the shuffling batch loader that feeds the trainer.
 *
 *     zs_index ix;                                   // parse + join, once
 *     if (zs_index_open(&ix, "../shared/celeba") != ZS_OK) die(zs_last_error());
 *     zs_cache_build(&ix, "faces.zsf", &(zs_prepare_desc){.size = 64}, &report);
 *     zs_cache *c;  zs_cache_open(&c, "faces.zsf");  // mmap: instant, no RAM
 *     zs_loader *l; zs_loader_create(&l, &(zs_loader_desc){.cache = c, .batch = 64, .seed = 1, .flip = 1});
 *     int n = zs_loader_next(l, x, &epoch, &b);     // x: (64, 3, 64, 64) in [0, 1]
 *
 * The face crop. A zs_crop is a square in relative image coordinates: the
 * image spans [0, w] x [0, h] with pixel (i, j) covering [i, i+1) x [j, j+1);
 * the square's centre is (cx * w, cy * h) and its side is side * w pixels
 * (side is relative to the WIDTH for both axes, so the square stays square).
 * Parts of the square outside the image repeat the nearest edge pixel. The
 * square is reduced to size x size by an area (box) filter: each output
 * pixel is the mean of the source area it covers, partial pixels weighted by
 * their covered fraction. CelebA's aligned images are 178x218 with the eyes
 * at fixed positions; zs_crop_celeba() is the square of side 148 at x = 15,
 * y = 40 (centre (89, 114)): horizontally the image centre, within a pixel of
 * the eyes' midpoint; vertically from the hairline to just below the chin.
 * It is the crop most CelebA VAE/GAN code uses, so results stay comparable.
 * The cache header records the crop, and the explorer crops a user's photo
 * with zs_cache_crop() the same way.
 *
 * Failures: bad files give a zs_status and a message naming the file (and the
 * line for text files) via zs_last_error(); programmer errors assert.
 */
#ifndef ZSPACE_DATA_H
#define ZSPACE_DATA_H

#include "zspace/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- images --------------------------------------------------------------- */
/* Photos larger than this are refused after reading their header and before
 * any pixel memory is allocated (8192 x 8192). */
#define ZS_IMAGE_MAX_PIXELS ((size_t)1 << 26)
#define ZS_IMAGE_MAX_FILE_BYTES ((size_t)256 << 20)

typedef struct zs_image { int w, h; uint8_t *rgb; } zs_image;   /* HWC RGB, w*h*3 bytes, malloc'd */

/* JPEG (RGB, grayscale, CMYK/YCCK; EXIF orientation applied) or PNG (any
 * bit depth, palette, gray; alpha composited over white), sniffed by content. */
zs_status zs_image_load(zs_image *img, const char *path);
/* Same from memory; `name` is used in messages. */
zs_status zs_image_load_mem(zs_image *img, const char *name, const uint8_t *data, size_t len);
/* Full-argument variant: a smaller pixel limit (fuzzing, thumbnails). */
zs_status zs_image_load_mem_ex(zs_image *img, const char *name, const uint8_t *data, size_t len,
                               size_t max_pixels);
void zs_image_free(zs_image *img);
/* Both writers replace `path` atomically (temp file, fsync, rename). */
zs_status zs_image_write_png(const char *path, const zs_image *img);
zs_status zs_image_write_jpeg(const char *path, const zs_image *img, int quality);   /* 1..100 */

typedef struct zs_crop { float cx, cy, side; } zs_crop;   /* see the header comment */
zs_crop zs_crop_celeba(void);                              /* {89/178, 114/218, 148/178} */

/* crop + area-resize to size x size, HWC RGB uint8 out (size*size*3 bytes). */
zs_status zs_image_crop_resize(const zs_image *src, zs_crop crop, int size, uint8_t *out);
/* The same crop from a file, fast: the JPEG is decoded with libjpeg-turbo's
 * DCT scaling at the smallest 1/1, 1/2, 1/4 or 1/8 scale that leaves at least
 * `size` pixels across the crop, only the rows the crop needs are decoded, and
 * the area filter runs on that. At scale 1/1 the result is bit-identical to
 * zs_image_load + zs_image_crop_resize; at 1/2 .. 1/8 it is not: the reduced
 * IDCT (roughly a 2x2 .. 8x8 block average) comes before the area filter and
 * moves the partly covered pixels at each output pixel's border. Measured
 * on 27,500 aligned CelebA images, size 64 (decoded at 1/2): mean 1.6
 * levels, 2.6% of values off by more than 8, 0.4% by more than 16, max 94 at
 * sharp edges; size 32 (1/4): mean 3.0, 8.3% over 8. tests/test_data_celeba.c
 * holds size 64 to a mean < 2.5 with < 5% over 8. PNG and EXIF-rotated,
 * CMYK or YCCK JPEGs take the general path (exact). Thread-safe. */
zs_status zs_face_load(const char *path, zs_crop crop, int size, uint8_t *out);
zs_status zs_face_load_mem(const char *name, const uint8_t *data, size_t len, zs_crop crop, int size,
                           uint8_t *out);

/* float conversion: HWC uint8 -> CHW float in [0,1] (value/255, exactly as
 * PyTorch's ToTensor) and back (rounding, clamped, NaN -> 0). flip != 0
 * mirrors horizontally. */
void zs_face_to_chw(const uint8_t *hwc, int size, float *chw, int flip);
void zs_face_from_chw(const float *chw, int size, uint8_t *hwc);

/* ---- CelebA annotations ------------------------------------------------------ */
#define ZS_NATTR 40
#define ZS_ID_BYTES 32          /* image ids are at most 31 characters */
extern const char *const zs_attr_names[ZS_NATTR];   /* official order */
int zs_attr_find(const char *name);                  /* index or -1 */

/* NOTE: core.h already has a function named zs_split (work ranges), so the
 * split enum's type is zs_data_split; the values are as specified. */
typedef enum zs_data_split { ZS_SPLIT_TRAIN = 0, ZS_SPLIT_VAL = 1, ZS_SPLIT_TEST = 2, ZS_SPLIT_ALL = 3 } zs_data_split;
const char *zs_split_name(zs_data_split s);          /* "train", "val", "test", "all" */

/* One annotation file in memory. Attributes come from list_attr_celeba.txt
 * (count line, 40 names, rows "000001.jpg -1  1 ...", CRLF or LF, any
 * spacing) or Kaggle's list_attr_celeba.csv (header "image_id,5_o_Clock_Shadow,
 * ...", rows "000001.jpg,-1,1,..."); columns may come in any order and are
 * stored in the official one. Partitions come from list_eval_partition.txt
 * ("000001.jpg 0") or .csv (header "image_id,partition"). The format is
 * detected from the content. Rows keep the file's order. */
typedef struct zs_annot {
    int n;
    char (*id)[ZS_ID_BYTES];
    int8_t *attr;            /* (n, ZS_NATTR) -1/+1; NULL for a partition file */
    int8_t *part;            /* (n) 0/1/2;        NULL for an attribute file */
} zs_annot;
zs_status zs_attr_parse(zs_annot *a, const char *name, const char *text, size_t len);
zs_status zs_partition_parse(zs_annot *a, const char *name, const char *text, size_t len);
void zs_annot_free(zs_annot *a);

/* A CelebA directory joined: the faces that have an attribute row, a
 * partition row and an image file, sorted by id. Accepted layouts (first
 * found wins): annotations in DIR, DIR/Anno or DIR/Eval as .txt (preferred)
 * or .csv; images in DIR/img_align_celeba/img_align_celeba (Kaggle zip),
 * DIR/img_align_celeba or DIR/Img/img_align_celeba. */
typedef struct zs_index {
    char *dir, *img_dir, *attr_path, *part_path;
    int n;
    char (*id)[ZS_ID_BYTES];
    int8_t *attr;                /* (n, ZS_NATTR) */
    int8_t *part;                /* (n) */
    int attr_rows, part_rows;    /* rows in the annotation files */
    int images;                  /* image files found (.jpg .jpeg .png) */
    int rows_without_image;      /* attribute rows whose image is absent */
    int images_without_row;      /* image files with no attribute row */
    int rows_without_partition;  /* attribute rows with an image but no partition row */
    int split_count[3];          /* joined faces per split */
} zs_index;
zs_status zs_index_open(zs_index *ix, const char *dir);
void zs_index_free(zs_index *ix);

/* ---- face cache (.zsf) --------------------------------------------------------
 * One file, little-endian, version 1:
 *
 *   [0, 4096)             header (below)
 *   [4096, P)             pixels: count faces x size x size x 3 uint8, HWC RGB,
 *                         faces contiguous (face i at 4096 + i*size*size*3)
 *   [P, P + 32*count)     ids: NUL-padded ASCII, 32 bytes each ("000001.jpg")
 *   then 40*count         attributes: int8 -1/+1, official order, face-major
 *   then count            partition: uint8 0 train, 1 val, 2 test
 *   end of file (exactly; the size is checked)
 *
 *   header  0  char[8]  magic "ZSFACES\x1a"
 *           8  u32      version (1)
 *          12  u32      header bytes (4096)
 *          16  u32      count
 *          20  u32      size (face side in pixels, 64 or 128)
 *          24  u32      channels (3)
 *          28  u32      nattr (40)
 *          32  u32      id bytes (32)
 *          36  u32      flags (0)
 *          40  f32 x3   crop cx, cy, side (zs_crop, relative)
 *          52  u32      crc32 of ids + attributes + partition
 *          56  u64      pixels offset (4096)
 *          64  u64      ids offset
 *          72  u64      attributes offset
 *          80  u64      partition offset
 *          88  u64      file bytes
 *          96  u64      content hash (zs_cache_hash)
 *         104  u32 x3   faces per split (train, val, test)
 *         116  u32      source width, 120 u32 source height (of the first
 *                       image; informational: 178 x 218 for CelebA)
 *         128  char[40][32] attribute names, NUL-padded
 *        1408  zero padding
 *        4092  u32      crc32 of header bytes [0, 4092)
 *
 * Every offset is a function of (count, size) and must match; the file size
 * must equal "file bytes". zs_cache_open checks all of that from the header
 * alone, then maps the file: opening costs one read of 4 KB, the metadata
 * CRC (73 bytes per face) and no pixel I/O; pages load when first read.
 *
 * The content hash covers the layout fields, the crop, every face's pixels
 * and all metadata; it identifies the training data in checkpoints.
 * zs_cache_verify recomputes it (reads every pixel). */
#define ZS_CACHE_VERSION 1
#define ZS_CACHE_HEADER_BYTES 4096

typedef struct zs_cache zs_cache;   /* opaque, memory-mapped, read-only: thread-safe */
zs_status zs_cache_open(zs_cache **out, const char *path);
void zs_cache_close(zs_cache *c);
int zs_cache_count(const zs_cache *c);
int zs_cache_size(const zs_cache *c);        /* 64 or 128 */
zs_crop zs_cache_crop(const zs_cache *c);
const char *zs_cache_path(const zs_cache *c);
const uint8_t *zs_cache_pixels(const zs_cache *c, int i);  /* size*size*3 HWC */
const int8_t *zs_cache_attrs(const zs_cache *c, int i);    /* 40 values, -1/+1 */
int zs_cache_partition(const zs_cache *c, int i);
const char *zs_cache_id(const zs_cache *c, int i);         /* "000001.jpg" */
int zs_cache_find(const zs_cache *c, const char *id);      /* index or -1 (binary search) */
uint64_t zs_cache_hash(const zs_cache *c);
int zs_cache_split_indices(const zs_cache *c, zs_data_split s, int **out);   /* malloc'd list, ascending */
zs_status zs_cache_verify(const zs_cache *c);              /* recompute the content hash */

/* Build a cache from a joined index: every face decoded once (zs_face_load),
 * on `threads` threads, into a temporary file renamed over `out_path` at the
 * end. Images that fail to decode are skipped and counted; the build fails
 * only for I/O errors on the output or when no face decodes. */
typedef struct zs_prepare_desc {
    int size;                  /* 0 -> 64 */
    int threads;               /* 0 -> zs_cpu_count() */
    int limit;                 /* 0 -> all; else the first `limit` faces by id */
    unsigned split_mask;       /* 0 -> all; else bits (1u << ZS_SPLIT_TRAIN) | ... */
    zs_crop crop;              /* side 0 -> zs_crop_celeba() */
    /* Called on the calling thread every few dozen faces (done of total). */
    void (*progress)(void *user, int done, int total);
    void *user;
} zs_prepare_desc;

#define ZS_PREPARE_MAX_MSGS 16
typedef struct zs_prepare_report {
    int total;                 /* faces attempted */
    int written;               /* faces in the cache */
    int bad;                   /* images skipped */
    int nmsg;                  /* messages kept (the first ZS_PREPARE_MAX_MSGS bad images) */
    char msg[ZS_PREPARE_MAX_MSGS][320];
    double decode_seconds;     /* decoding and writing pixels */
    double seconds;            /* the whole build, fsync and rename included */
    uint64_t hash;
    uint64_t bytes;
} zs_prepare_report;
zs_status zs_cache_build(const zs_index *ix, const char *out_path, const zs_prepare_desc *d,
                         zs_prepare_report *rep);

/* ---- loader -------------------------------------------------------------------
 * Shuffled batches of one split, prepared on a worker thread one batch ahead
 * of the trainer (double buffering). What a batch holds depends only on
 * (seed, epoch, batch): epoch e's order is a Fisher-Yates shuffle of the
 * split (ascending cache indices) by zs_rng seeded with zs_rand64(seed, e);
 * image at position p of epoch e is flipped when flip is on and the top bit
 * of zs_rand64(zs_rand64(seed ^ 0x666c6970, e), p) is set. */
typedef struct zs_loader_desc {
    const zs_cache *cache;
    zs_data_split split;       /* 0 = train */
    int batch;                 /* > 0 */
    uint64_t seed;
    int flip;                  /* random horizontal flips */
    int drop_last;             /* default 1: 0 -> 1, negative -> keep the short last batch */
} zs_loader_desc;
typedef struct zs_loader zs_loader;
zs_status zs_loader_create(zs_loader **out, const zs_loader_desc *d);
void zs_loader_destroy(zs_loader *l);
/* Fills x (batch,3,S,S) float NCHW in [0,1]; returns the number of images (== batch with drop_last), sets *epoch and *batch_in_epoch (either may be NULL).
 * Returns -1 with a message naming the cache when its file can no longer be
 * read as it was opened (truncated, overwritten in place, an I/O error);
 * every later call fails too. */
int zs_loader_next(zs_loader *l, float *x, int *epoch, int *batch_in_epoch);
/* Same, and also the cache index and flip of each image (either may be NULL). */
int zs_loader_next_ex(zs_loader *l, float *x, int *indices, uint8_t *flipped, int *epoch, int *batch_in_epoch);
/* Resume: the next zs_loader_next returns batch `batch_in_epoch` of `epoch`
 * (a batch number past the epoch's end carries into the next epochs). */
void zs_loader_seek(zs_loader *l, int epoch, int batch_in_epoch);
int zs_loader_batches_per_epoch(const zs_loader *l);
int zs_loader_split_count(const zs_loader *l);          /* images in the split */

#ifdef __cplusplus
}
#endif
#endif
