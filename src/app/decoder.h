/*
 * decoder.h - the explorer's face worker: one thread with its own
 * zs_vae_infer that turns the newest request into a picture.
 *
 * A request is a face (its pixels and a key naming it), the 40 slider
 * strengths and a stamp. The worker encodes the face (only when the key
 * changed since the last request it served), forms z = mu + sum_k s_k v_k
 * with zs_latent_add, decodes it and posts the result. There is one
 * request slot: posting overwrites a request the worker has not taken yet
 * (the newest wins, the stale one is dropped unseen). The mutex is held
 * only to copy a request or a result, never while the model runs, so
 * neither zs_decoder_post nor zs_decoder_poll waits for a decode.
 *
 *     zs_decoder *d = zs_decoder_create(model, attrs, wake, user);   // attrs may be NULL
 *     zs_decoder_post(d, &(zs_decode_req){.stamp = ++n, .face_key = i, .face = hwc, .strength = s});
 *     zs_decode_result res;
 *     if (zs_decoder_poll(d, &res)) upload(res.rgb);                  // newest finished result
 *     zs_decoder_destroy(d);                                          // joins the thread
 */
#ifndef ZS_APP_DECODER_H
#define ZS_APP_DECODER_H

#include "zspace/latent.h"

typedef struct zs_decode_req {
    uint64_t stamp;                  /* increasing; results carry it back */
    uint64_t face_key;               /* same key = same face: its mu is reused */
    const uint8_t *face;             /* S x S x 3 HWC RGB, copied by post */
    float strength[ZS_NATTR];        /* ignored without attribute vectors */
} zs_decode_req;

typedef struct zs_decode_result {
    uint64_t stamp, face_key;
    uint8_t *rgb;                    /* S x S x 3, owned by the decoder: valid until the next poll */
    const float *mu;                 /* z floats, the face's encoding, same lifetime */
    double encode_ms;                /* 0 when mu was reused */
    double decode_ms;
} zs_decode_result;

typedef struct zs_decoder_stats {
    long posted, served, dropped;    /* dropped: overwritten before the worker took them */
    int busy;                        /* a request is pending or being worked on */
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
/* Test hook: the worker sleeps `ms` after each decode (a slow model). */
void zs_decoder_set_delay(zs_decoder *d, int ms);

#endif
