/*
 * decoder.h - the explorer's face worker: one thread with its own
 * zs_vae_infer that turns the newest request into a picture.
 *
 * A request is a face (its pixels and a key naming it), the 40 slider
 * strengths and a stamp. The worker encodes the face (only when the key
 * changed since the last request it served), forms z = mu + sum_k s_k v_k
 * with zs_latent_add (plus .delta when given), decodes it and posts the
 * result. There is one request slot: posting overwrites a request the
 * worker has not taken yet (the newest wins, the stale one is dropped
 * unseen). The mutex is held
 * only to copy a request or a result, never while the model runs, so
 * neither zs_decoder_post nor zs_decoder_poll waits for a decode.
 *
 *     zs_decoder *d = zs_decoder_create(model, attrs, wake, user);   // attrs may be NULL
 *     zs_decoder_post(d, &(zs_decode_req){.stamp = ++n, .face_key = i, .face = hwc, .strength = s});
 *     zs_decode_result res;
 *     if (zs_decoder_poll(d, &res)) upload(res.rgb);                  // newest finished result
 *     zs_decoder_destroy(d);                                          // joins the thread
 *
 * Photos (the Photo tab) are read on the worker too, so the UI thread
 * never waits for the disk or a JPEG decode: zs_decoder_load_photo names
 * a file; the worker reads it, crops it as the CLI does (zs_photo_crop
 * with the CelebA crop, zs_photo_face), encodes it and keeps it, and
 * zs_decoder_poll_photo hands back the photo and its model-sized face
 * (or why it could not be read: the previous photo then stays). A request
 * with face == NULL edits the kept photo (face_key ZS_PHOTO_KEY(gen));
 * with .detail it also carries the keep-detail image at the photo's own
 * resolution (zs_detail_edit of the plain and the edited decode).
 * zs_decoder_save writes a PNG (zs_image_write_png, atomic) on the worker.
 * Each of the three slots (request, photo, save) keeps only the newest.
 *
 * A request may also start from a latent instead of a face (.base, z
 * floats, e.g. a sample; face_key names it). Batches of latents (the
 * Interpolate tab's strip and its face at t, the Sample tab's grid) are
 * decoded through zs_decoder_post_batch on one of ZS_DEC_CHANNELS
 * channels, each its own newest-wins slot, served after the face request.
 */
#ifndef ZS_APP_DECODER_H
#define ZS_APP_DECODER_H

#include "zspace/latent.h"

typedef struct zs_decode_req {
    uint64_t stamp;                  /* increasing; results carry it back */
    uint64_t face_key;               /* same key = same face: its mu is reused */
    const uint8_t *face;             /* S x S x 3 HWC RGB, copied by post; NULL: the loaded photo */
    float strength[ZS_NATTR];        /* ignored without attribute vectors */
    int detail;                      /* photo only: also compute the keep-detail image */
    const float *base;               /* z floats, copied by post: edit this latent (face ignored) */
    const float *delta;              /* z floats, copied by post: added to the latent too (the explorer's
                                        summed slider edit); NULL: none */
} zs_decode_req;

/* face_key of the photo loaded with generation gen (gallery keys are small). */
#define ZS_PHOTO_KEY(gen) ((1ull << 63) | (uint64_t)(gen))
/* face_key of a result that has no picture (a photo request before any photo). */
#define ZS_NO_FACE_KEY UINT64_MAX

typedef struct zs_decode_result {
    uint64_t stamp, face_key;
    uint8_t *rgb;                    /* S x S x 3, owned by the decoder: valid until the next poll */
    const float *mu;                 /* z floats, the face's encoding (or the base), same lifetime */
    const float *z;                  /* z floats, the edited latent that was decoded, same lifetime */
    double encode_ms;                /* 0 when mu was reused */
    double decode_ms;
    zs_image detail;                 /* keep-detail image (rgb NULL when not asked), same lifetime */
} zs_decode_result;

typedef struct zs_photo_result {
    uint64_t gen;                    /* as given to zs_decoder_load_photo */
    int ok;
    char path[4096];
    char msg[600];                   /* why not, naming the file */
    zs_image photo;                  /* ok: the whole photo; owned by the decoder until the next poll_photo;
                                        a recrop: only its size (rgb NULL) */
    uint8_t *face;                   /* ok: the model's input, S x S x 3, same lifetime */
    zs_crop crop;                    /* the crop used: as given (clamped, zs_crop_clamp) or zs_photo_crop's */
    int recrop;                      /* the held photo cropped again (path NULL) */
    double ms;                       /* read + crop + encode */
} zs_photo_result;

typedef struct zs_save_result { int ok; char path[4096]; char msg[600]; } zs_save_result;

typedef struct zs_decoder_stats {
    long posted, served, dropped;    /* dropped: overwritten before the worker took them */
    int busy;                        /* a request, photo or save is pending, being worked on, or
                                        its photo/save result not yet polled */
} zs_decoder_stats;

typedef struct zs_decoder zs_decoder;
/* wake(user) is called on the worker thread after each result (e.g. to
 * push an SDL event that wakes the UI); may be NULL. The model and attrs
 * must outlive the decoder. */
zs_decoder *zs_decoder_create(const zs_vae *model, const zs_attr_vectors *attrs, void (*wake)(void *), void *user);
void zs_decoder_destroy(zs_decoder *d);
void zs_decoder_post(zs_decoder *d, const zs_decode_req *req);
/* 1 and the newest result not yet polled, or 0. */
int zs_decoder_poll(zs_decoder *d, zs_decode_result *out);
zs_decoder_stats zs_decoder_get_stats(zs_decoder *d);
/* Read, crop and encode a photo on the worker; a newer call replaces one
 * not yet started. Photos wider or taller than max_side (> 0) are refused.
 * crop: the face's square (zs_crop_clamp'ed), or NULL for zs_photo_crop's
 * guess. path NULL: crop the photo the worker holds again (crop NULL: the
 * same crop), without reading the file; a new gen as for a new photo. */
void zs_decoder_load_photo(zs_decoder *d, const char *path, uint64_t gen, int max_side, const zs_crop *crop);
int zs_decoder_poll_photo(zs_decoder *d, zs_photo_result *out);
/* Write im (copied) as a PNG at path on the worker. */
void zs_decoder_save(zs_decoder *d, const char *path, const zs_image *im);
int zs_decoder_poll_save(zs_decoder *d, zs_save_result *out);
/* Batches: n latents (n <= ZS_DEC_BATCH_MAX) decoded one by one, 16 a turn:
 * the face request and the other channels are served between the turns of
 * a long batch. A batch begun is finished; posts meanwhile replace each
 * other, and the newest is decoded next. */
#define ZS_DEC_CHANNELS 6
#define ZS_DEC_BATCH_MAX 81
typedef struct zs_batch_result {
    uint64_t stamp;
    int n;
    const uint8_t *rgb;              /* n x S x S x 3, owned by the decoder until the next poll of the channel */
    double ms;
} zs_batch_result;
void zs_decoder_post_batch(zs_decoder *d, int channel, uint64_t stamp, int n, const float *z);
int zs_decoder_poll_batch(zs_decoder *d, int channel, zs_batch_result *out);
/* The gallery's latents and what is fitted to them: every face of c is
 * encoded on the worker, a few faces at a time between the other jobs (a
 * slider still gets its face in the next frame), then the Gaussian of the
 * Sample tab (zs_gauss_fit) and the npc principal directions (zs_pca_fit)
 * are fitted. poll_fit hands the result over: the caller owns it then
 * (zs_gallery_fit_free). c must outlive the job. */
typedef struct zs_gallery_fit {
    int ok;
    char msg[600];                   /* !ok: why */
    int n, z;
    float *mu;                       /* (n, z) */
    zs_gauss gauss;
    zs_pca pca;
    double ms;                       /* from the request to the result */
} zs_gallery_fit;
void zs_decoder_fit(zs_decoder *d, const zs_cache *c, int npc);
int zs_decoder_poll_fit(zs_decoder *d, zs_gallery_fit *out);
void zs_gallery_fit_free(zs_gallery_fit *f);
/* Test hook: the worker sleeps `ms` after each decode (a slow model). */
void zs_decoder_set_delay(zs_decoder *d, int ms);

#endif
