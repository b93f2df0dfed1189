/* Internal helpers shared by the files of src/data (not part of the public API). */
#ifndef ZS_DATA_IMPL_H
#define ZS_DATA_IMPL_H

#include "zspace/data.h"

#include <string.h>

/* Area (box) resize of a square crop from an RGB buffer.
 * src: (rows, cols, 3) with row stride `stride` bytes; it holds the source
 * image's rows [row0, row0 + rows) and all its columns [0, cols).
 * The crop is [x0, x0 + side) x [y0, y0 + side) in source pixel coordinates;
 * samples outside [0, cols) x [0, img_h) take the nearest edge pixel, and
 * the caller guarantees every row the crop touches (after clamping to
 * [0, img_h)) is in the buffer. out: (size, size, 3). */
void zs_area_resize(const uint8_t *src, int cols, int rows, size_t stride, int row0, int img_h, double x0,
                    double y0, double side, int size, uint8_t *out);

/* Rows [*r0, *r1) of an image of height h that the crop's vertical extent
 * [y0, y0 + side) touches, clamped into the image (never empty). */
void zs_crop_rows(double y0, double side, int h, int *r0, int *r1);

/* zs_face_load and zs_face_load_mem that also report the source image's
 * size (either pointer may be NULL). */
zs_status zs_face_decode(const char *path, zs_crop crop, int size, uint8_t *out, int *src_w, int *src_h);
zs_status zs_face_decode_mem(const char *name, const uint8_t *data, size_t len, zs_crop crop, int size, uint8_t *out,
                             int *src_w, int *src_h);

/* 64-bit hash of bytes (four interleaved splitmix lanes, then folded). */
uint64_t zs_hash_bytes(const void *data, size_t n, uint64_t seed);

/* Cache layout: every offset follows from (count, size). */
typedef struct zs_cache_layout {
    uint64_t face_bytes, pixels, ids, attrs, part, file_bytes;
} zs_cache_layout;
zs_cache_layout zs_cache_layout_of(uint64_t count, int size);

typedef struct zs_cache_header {
    uint32_t version, count, size, flags;
    zs_crop crop;
    uint32_t meta_crc;
    uint64_t hash;
    uint32_t split_count[3];
    uint32_t src_w, src_h;
} zs_cache_header;
/* Serialise (header CRC included) into buf[ZS_CACHE_HEADER_BYTES]. */
void zs_cache_header_encode(const zs_cache_header *h, uint8_t *buf);
/* The content hash from its parts: the layout fields and crop, then
 * face_hash[i] = zs_hash_bytes(pixels of face i, face_bytes, 0) chained in
 * face order, then the metadata bytes (ids, attributes, partition). */
uint64_t zs_cache_content_hash(const zs_cache_header *h, const uint64_t *face_hash, const void *meta,
                               size_t meta_bytes);

/* The trainer's reads of an open cache (the loader): through the file
 * descriptor kept from zs_cache_open, not the mapping, so that a cache
 * truncated while in use is an error with a message instead of SIGBUS.
 * zs_cache_read_face copies face i's pixels (size*size*3 bytes);
 * zs_cache_check_file fails when the file's size or modification time is
 * no longer what it was at open (truncated, or overwritten in place). A
 * cache deleted or renamed over (zspace prepare's atomic replace) keeps its
 * faces and passes: the descriptor holds the original file. */
zs_status zs_cache_read_face(const zs_cache *c, int i, uint8_t *out);
zs_status zs_cache_check_file(const zs_cache *c);
/* 1 when the file has been deleted (or renamed over) since it was opened. */
int zs_cache_file_deleted(const zs_cache *c);

static inline void zs_put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void zs_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint32_t zs_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t zs_get_u64(const uint8_t *p) { return zs_get_u32(p) | (uint64_t)zs_get_u32(p + 4) << 32; }
static inline void zs_put_f32(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    zs_put_u32(p, u);
}
static inline float zs_get_f32(const uint8_t *p)
{
    uint32_t u = zs_get_u32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

#endif
