/*
 * zspace/st.h - safetensors files: the one container for checkpoints,
 * latents, attribute vectors and golden test data.
 *
 * Layout (https://github.com/huggingface/safetensors): 8-byte little-endian
 * header length N, N bytes of JSON {name: {dtype, shape, data_offsets}, ...,
 * "__metadata__": {str: str}}, then the payload. Python's safetensors and
 * PyTorch read what we write. We add "payload_crc32" to the metadata and
 * refuse a file whose payload does not match it.
 *
 *     zs_st_writer w; zs_st_writer_init(&w);
 *     zs_st_add(&w, "mu", ZS_DT_F32, 2, (int64_t[]){n, z}, mu);
 *     zs_st_add_meta(&w, "model", "dfc64");
 *     if (zs_st_write(&w, path) != ZS_OK) puts(zs_last_error());
 *     zs_st_writer_free(&w);
 *
 *     zs_st_file f;
 *     if (zs_st_open(&f, path) == ZS_OK) { zs_st_read_f32(&f, "mu", buf, n * z); zs_st_close(&f); }
 */
#ifndef ZSPACE_ST_H
#define ZSPACE_ST_H

#include "zspace/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum zs_dtype { ZS_DT_F32, ZS_DT_F16, ZS_DT_BF16, ZS_DT_U8, ZS_DT_I32, ZS_DT_I64, ZS_DT_F64 } zs_dtype;
size_t zs_dtype_size(zs_dtype dt);
const char *zs_dtype_name(zs_dtype dt);

#define ZS_ST_MAX_DIMS 8

typedef struct zs_st_tensor {
    char *name;
    zs_dtype dtype;
    int ndim;
    int64_t shape[ZS_ST_MAX_DIMS];
    size_t numel;
    size_t offset, nbytes;   /* within the payload */
} zs_st_tensor;

typedef struct zs_st_file {
    char *path;
    uint8_t *data;           /* whole file */
    size_t len;
    const uint8_t *payload;
    size_t payload_len;
    int n;
    zs_st_tensor *t;
    int nmeta;
    char **meta_key, **meta_val;
} zs_st_file;

/* Reads and validates the whole file: header length against file size,
 * every tensor's offsets inside the payload and matching its shape, and the
 * payload CRC32 when the metadata carries one. max_bytes bounds the file. */
zs_status zs_st_open(zs_st_file *f, const char *path);
zs_status zs_st_open_mem(zs_st_file *f, const char *name, const uint8_t *data, size_t len);
void zs_st_close(zs_st_file *f);
const zs_st_tensor *zs_st_find(const zs_st_file *f, const char *name);
const char *zs_st_meta(const zs_st_file *f, const char *key);   /* NULL if absent */
/* Copy a tensor into float32 (F32, F16, BF16, F64 converted). Fails with a
 * message when absent or when count differs from its element count. */
zs_status zs_st_read_f32(const zs_st_file *f, const char *name, float *dst, size_t count);
const void *zs_st_data(const zs_st_file *f, const zs_st_tensor *t);

typedef struct zs_st_entry {
    char *name;
    zs_dtype dtype;
    int ndim;
    int64_t shape[ZS_ST_MAX_DIMS];
    const void *data;        /* borrowed until zs_st_write returns */
    void *owned;             /* when the writer converted (e.g. to f16) */
} zs_st_entry;

typedef struct zs_st_writer {
    int n, cap;
    zs_st_entry *e;
    int nmeta, metacap;
    char **meta_key, **meta_val;
} zs_st_writer;

void zs_st_writer_init(zs_st_writer *w);
void zs_st_writer_free(zs_st_writer *w);
void zs_st_add(zs_st_writer *w, const char *name, zs_dtype dt, int ndim, const int64_t *shape, const void *data);
/* Add float32 data stored as float16 (round to nearest even). */
void zs_st_add_f32_as_f16(zs_st_writer *w, const char *name, int ndim, const int64_t *shape, const float *data);
void zs_st_add_meta(zs_st_writer *w, const char *key, const char *value);
/* Atomic write (temp file, fsync, rename): a crash keeps the old file. */
zs_status zs_st_write(zs_st_writer *w, const char *path);

uint16_t zs_f32_to_f16(float f);
float zs_f16_to_f32(uint16_t h);

#ifdef __cplusplus
}
#endif
#endif
