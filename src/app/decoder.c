/* The face worker: see decoder.h. Two buffers cross the lock: the request
 * slot (UI -> worker) and the result slot (worker -> UI); the worker's own
 * working buffers and the infer context are touched by the worker only. */
#include "decoder.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct zs_decoder {
    const zs_attr_vectors *attrs;
    zs_vae_infer *inf;               /* worker only */
    int S, Z;
    size_t npix;                     /* S*S*3 */
    void (*wake)(void *);
    void *user;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cv;

    /* under lock */
    int quit, has_req, working, has_result;
    zs_decode_req req;               /* req.face points at req_face */
    uint8_t *req_face;
    zs_decode_result result;         /* result.rgb / .mu point at res_rgb / res_mu */
    uint8_t *res_rgb;
    float *res_mu;
    zs_decoder_stats stats;
    int delay_ms;                    /* test hook: sleep after each decode */

    /* handed to the UI by poll (UI only) */
    uint8_t *ui_rgb;
    float *ui_mu;

    /* worker only */
    uint64_t cur_key;
    int have_mu;
    float *x, *mu, *z, *img;
    uint8_t *face, *out;
};

static void *worker(void *arg)
{
    zs_decoder *d = arg;
    for (;;) {
        pthread_mutex_lock(&d->lock);
        while (!d->quit && !d->has_req) pthread_cond_wait(&d->cv, &d->lock);
        if (d->quit) {
            pthread_mutex_unlock(&d->lock);
            return NULL;
        }
        zs_decode_req req = d->req;
        memcpy(d->face, d->req_face, d->npix);
        d->has_req = 0;
        d->working = 1;
        int delay_ms = d->delay_ms;
        pthread_mutex_unlock(&d->lock);

        double t0 = zs_now(), t1 = t0;
        if (!d->have_mu || req.face_key != d->cur_key) {
            zs_face_to_chw(d->face, d->S, d->x, 0);
            zs_vae_encode(d->inf, d->x, 1, d->mu, NULL);
            d->cur_key = req.face_key;
            d->have_mu = 1;
            t1 = zs_now();
        }
        memcpy(d->z, d->mu, sizeof(float) * d->Z);
        if (d->attrs)
            for (int k = 0; k < ZS_NATTR; k++)
                if (req.strength[k] != 0.0f)
                    zs_latent_add(d->Z, d->z, d->attrs->vec + (size_t)k * d->Z, req.strength[k], d->z);
        zs_vae_decode(d->inf, d->z, 1, d->img);
        zs_face_from_chw(d->img, d->S, d->out);
        double t2 = zs_now();
        if (delay_ms > 0) nanosleep(&(struct timespec){delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L}, NULL);

        pthread_mutex_lock(&d->lock);
        memcpy(d->res_rgb, d->out, d->npix);
        memcpy(d->res_mu, d->mu, sizeof(float) * d->Z);
        d->result = (zs_decode_result){.stamp = req.stamp, .face_key = req.face_key,
                                       .encode_ms = (t1 - t0) * 1e3, .decode_ms = (t2 - t1) * 1e3};
        d->has_result = 1;
        d->working = 0;
        d->stats.served++;
        pthread_mutex_unlock(&d->lock);
        if (d->wake) d->wake(d->user);
    }
}

zs_decoder *zs_decoder_create(const zs_vae *model, const zs_attr_vectors *attrs, void (*wake)(void *), void *user)
{
    zs_decoder *d = zs_xcalloc(1, sizeof *d);
    d->attrs = attrs;
    d->S = model->cfg.image;
    d->Z = model->cfg.z;
    ZS_ASSERT(!attrs || attrs->z == d->Z);
    d->npix = (size_t)d->S * d->S * 3;
    d->wake = wake;
    d->user = user;
    d->inf = zs_vae_infer_create(&model->cfg, 1);
    zs_vae_infer_load(d->inf, model->params);
    d->req_face = zs_xmalloc(d->npix);
    d->face = zs_xmalloc(d->npix);
    d->out = zs_xmalloc(d->npix);
    d->res_rgb = zs_xmalloc(d->npix);
    d->ui_rgb = zs_xmalloc(d->npix);
    d->res_mu = zs_xmalloc(sizeof(float) * d->Z);
    d->ui_mu = zs_xmalloc(sizeof(float) * d->Z);
    d->mu = zs_xmalloc(sizeof(float) * d->Z);
    d->z = zs_xmalloc(sizeof(float) * d->Z);
    d->x = zs_xmalloc(sizeof(float) * d->npix);
    d->img = zs_xmalloc(sizeof(float) * d->npix);
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->cv, NULL);
    if (pthread_create(&d->thread, NULL, worker, d) != 0) {
        zs_log(ZS_LOG_ERROR, "cannot start the decoder thread");
        exit(1);
    }
    return d;
}

void zs_decoder_destroy(zs_decoder *d)
{
    if (!d) return;
    pthread_mutex_lock(&d->lock);
    d->quit = 1;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->lock);
    pthread_join(d->thread, NULL);   /* waits for at most the decode in flight */
    pthread_mutex_destroy(&d->lock);
    pthread_cond_destroy(&d->cv);
    zs_vae_infer_destroy(d->inf);
    free(d->req_face), free(d->face), free(d->out), free(d->res_rgb), free(d->ui_rgb);
    free(d->res_mu), free(d->ui_mu), free(d->mu), free(d->z), free(d->x), free(d->img);
    free(d);
}

void zs_decoder_set_delay(zs_decoder *d, int ms)
{
    pthread_mutex_lock(&d->lock);
    d->delay_ms = ms;
    pthread_mutex_unlock(&d->lock);
}

void zs_decoder_post(zs_decoder *d, const zs_decode_req *req)
{
    pthread_mutex_lock(&d->lock);
    if (d->has_req) d->stats.dropped++;
    d->req = *req;
    memcpy(d->req_face, req->face, d->npix);
    d->req.face = d->req_face;
    d->has_req = 1;
    d->stats.posted++;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->lock);
}

int zs_decoder_poll(zs_decoder *d, zs_decode_result *out)
{
    pthread_mutex_lock(&d->lock);
    int got = d->has_result;
    if (got) {
        *out = d->result;
        memcpy(d->ui_rgb, d->res_rgb, d->npix);
        memcpy(d->ui_mu, d->res_mu, sizeof(float) * d->Z);
        out->rgb = d->ui_rgb;
        out->mu = d->ui_mu;
        d->has_result = 0;
    }
    pthread_mutex_unlock(&d->lock);
    return got;
}

zs_decoder_stats zs_decoder_get_stats(zs_decoder *d)
{
    pthread_mutex_lock(&d->lock);
    zs_decoder_stats s = d->stats;
    s.busy = d->has_req || d->working;
    pthread_mutex_unlock(&d->lock);
    return s;
}
