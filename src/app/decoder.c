/* The face worker: see decoder.h. Buffers cross the lock in three slots:
 * requests (UI -> worker), results (worker -> UI), photo loads and saves
 * (both ways); big images change hands by pointer, never copied under the
 * lock. The worker's own buffers, the kept photo and the infer context are
 * touched by the worker only. */
#include "decoder.h"

#include <pthread.h>
#include <stdarg.h>
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
    zs_decode_req req;               /* req.face / .base point at req_face / req_base (or are NULL) */
    uint8_t *req_face;
    float *req_base, *req_delta;
    struct channel {
        int has_req, has_result, n, res_n;
        uint64_t stamp, res_stamp;
        double res_ms;
        int cap, res_cap, ui_cap;    /* latents z, res_rgb, ui_rgb have room for */
        float *z;                    /* cap x Z */
        uint8_t *res_rgb, *ui_rgb;   /* res_cap, ui_cap x npix */
        /* worker only: the batch being decoded, BATCH_CHUNK latents a turn */
        int w_on, w_n, w_done, w_cap;
        uint64_t w_stamp;
        double w_ms;
        float *w_z;                  /* w_cap x Z */
        uint8_t *w_rgb;              /* w_cap x npix */
    } ch[ZS_DEC_CHANNELS];
    zs_decode_result result;         /* result.rgb / .mu point at res_rgb / res_mu */
    uint8_t *res_rgb;
    float *res_mu, *res_z;
    zs_image res_detail;             /* handed over by pointer */
    zs_decoder_stats stats;
    int delay_ms;                    /* test hook: sleep after each decode */
    int has_load, load_max;          /* photo to read (load_path "": crop the one held again) */
    uint64_t load_gen;
    char load_path[4096];
    int load_has_crop;               /* load_crop given, else zs_photo_crop's guess */
    zs_crop load_crop;
    int has_photo_result;
    zs_photo_result photo_res;       /* .photo / .face owned here until polled */
    int has_save;
    char save_path[4096];
    zs_image save_im;
    int has_save_result;
    zs_save_result save_res;
    int has_fit, fit_restart, fit_npc, has_fit_result;   /* the gallery's latents */
    const zs_cache *fit_cache;
    double fit_t0;
    zs_gallery_fit fit_res;

    /* handed to the UI by poll (UI only) */
    uint8_t *ui_rgb;
    float *ui_mu, *ui_z;
    zs_image ui_detail;
    zs_image ui_photo;
    uint8_t *ui_face;

    /* worker only */
    uint64_t cur_key;
    int have_mu;
    float *x, *mu, *z, *img, *base, *delta;
    float *fit_mu;                   /* (n, z) the gallery's latents so far */
    int fit_next, fit_n;             /* the next face to encode, of fit_n */
    uint8_t *face, *out;
    /* the photo: its generation (0: none), pixels, crop, mu and plain decode */
    uint64_t photo_gen;
    zs_image photo;
    zs_crop photo_crop;
    char photo_path[4096];
    float *photo_mu, *photo_d0;
};

/* A message, cut to fit (paths can be long). */
static void msgf(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void msgf(char *out, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, n, fmt, ap);
    va_end(ap);
}

static void sleep_ms(int ms)
{
    if (ms > 0) nanosleep(&(struct timespec){ms / 1000, (long)(ms % 1000) * 1000000L}, NULL);
}

/* d->x holds the photo's crop `crop`: encode it, keep its latent and plain
 * decode for requests keyed by the result's gen, and put the crop's pixels
 * in the result. */
static void encode_photo(zs_decoder *d, zs_crop crop, zs_photo_result *r)
{
    r->ok = 1;
    zs_vae_encode(d->inf, d->x, 1, d->photo_mu, NULL);
    zs_vae_decode(d->inf, d->photo_mu, 1, d->photo_d0);
    d->photo_gen = r->gen;
    d->photo_crop = r->crop = crop;
    r->face = zs_xmalloc(d->npix);
    zs_face_from_chw(d->x, d->S, r->face);
}

/* The held photo cropped again (path "" in zs_decoder_load_photo): no file
 * read, no copy of the photo in the result. */
static void do_recrop(zs_decoder *d, zs_crop crop, zs_photo_result *r)
{
    snprintf(r->path, sizeof r->path, "%s", d->photo_path);
    r->recrop = 1;
    if (d->photo_gen == 0) {
        msgf(r->msg, sizeof r->msg, "no photo to crop");
        return;
    }
    crop = zs_crop_clamp(crop, d->photo.w, d->photo.h);
    if (zs_photo_face_at(&d->photo, crop, d->S, d->x) != ZS_OK) {
        msgf(r->msg, sizeof r->msg, "%s: %s", d->photo_path, zs_last_error());
        return;
    }
    encode_photo(d, crop, r);
    r->photo = (zs_image){d->photo.w, d->photo.h, NULL};
}

/* A new photo read, cropped (crop, clamped, or zs_photo_crop's guess) and
 * encoded; it replaces the one held only when all of that worked. */
static void read_photo(zs_decoder *d, const char *path, int max_side, const zs_crop *crop, zs_photo_result *r)
{
    snprintf(r->path, sizeof r->path, "%s", path);
    zs_image im;
    if (zs_image_load(&im, path) != ZS_OK) {
        snprintf(r->msg, sizeof r->msg, "%s", zs_last_error());
        return;
    }
    if (max_side > 0 && (im.w > max_side || im.h > max_side)) {
        msgf(r->msg, sizeof r->msg, "%s: %dx%d is too large to show (at most %d pixels a side)", path, im.w, im.h,
             max_side);
        zs_image_free(&im);
        return;
    }
    zs_crop c = crop ? zs_crop_clamp(*crop, im.w, im.h) : zs_photo_crop(im.w, im.h, zs_crop_celeba());
    if (zs_photo_face_at(&im, c, d->S, d->x) != ZS_OK) {
        msgf(r->msg, sizeof r->msg, "%s: %s", path, zs_last_error());
        zs_image_free(&im);
        return;
    }
    encode_photo(d, c, r);
    zs_image_free(&d->photo);   /* only now: a photo that cannot be read leaves the old one */
    d->photo = im;
    snprintf(d->photo_path, sizeof d->photo_path, "%s", path);
    r->photo = (zs_image){im.w, im.h, zs_xmalloc((size_t)im.w * im.h * 3)};
    memcpy(r->photo.rgb, im.rgb, (size_t)im.w * im.h * 3);
}

/* Read (or crop again), encode, publish: the worker's half of zs_decoder_load_photo. */
static void do_load(zs_decoder *d, const char *path, uint64_t gen, int max_side, const zs_crop *crop)
{
    double t0 = zs_now();
    zs_photo_result r = {.gen = gen};
    if (path[0]) read_photo(d, path, max_side, crop, &r);
    else do_recrop(d, crop ? *crop : d->photo_crop, &r);
    r.ms = (zs_now() - t0) * 1e3;
    pthread_mutex_lock(&d->lock);
    if (d->has_photo_result) free(d->photo_res.photo.rgb), free(d->photo_res.face);   /* never polled */
    d->photo_res = r;
    d->has_photo_result = 1;
    pthread_mutex_unlock(&d->lock);
}

static void do_save(zs_decoder *d, const char *path, zs_image *im)
{
    zs_save_result r = {0};
    snprintf(r.path, sizeof r.path, "%s", path);
    r.ok = zs_image_write_png(path, im) == ZS_OK;
    if (!r.ok) snprintf(r.msg, sizeof r.msg, "%s", zs_last_error());
    zs_image_free(im);
    pthread_mutex_lock(&d->lock);
    d->save_res = r;
    d->has_save_result = 1;
    pthread_mutex_unlock(&d->lock);
}

static void do_request(zs_decoder *d, const zs_decode_req *req, int have_face, int delay_ms)
{
    double t0 = zs_now(), t1 = t0;
    uint64_t key = req->face_key;
    zs_image det = {0};
    int none = 0;
    if (req->base) {
        memcpy(d->mu, d->base, sizeof(float) * d->Z);
    } else if (have_face) {
        if (!d->have_mu || key != d->cur_key) {
            zs_face_to_chw(d->face, d->S, d->x, 0);
            zs_vae_encode(d->inf, d->x, 1, d->mu, NULL);
            t1 = zs_now();
        }
    } else if (d->photo_gen == 0) {
        none = 1;   /* no photo yet: nothing to show */
        key = ZS_NO_FACE_KEY;
    } else {
        key = ZS_PHOTO_KEY(d->photo_gen);   /* the photo the worker has, which the result says */
        if (!d->have_mu || key != d->cur_key) memcpy(d->mu, d->photo_mu, sizeof(float) * d->Z);
    }
    if (!none) {
        d->cur_key = key;
        d->have_mu = 1;
        memcpy(d->z, d->mu, sizeof(float) * d->Z);
        if (req->delta) zs_latent_add(d->Z, d->z, d->delta, 1.0f, d->z);
        if (d->attrs)
            for (int k = 0; k < ZS_NATTR; k++)
                if (req->strength[k] != 0.0f)
                    zs_latent_add(d->Z, d->z, d->attrs->vec + (size_t)k * d->Z, req->strength[k], d->z);
        zs_vae_decode(d->inf, d->z, 1, d->img);
        zs_face_from_chw(d->img, d->S, d->out);
        if (!have_face && !req->base && req->detail &&
            zs_detail_edit(&d->photo, d->photo_crop, d->photo_d0, d->img, d->S, &det) != ZS_OK)
            det = (zs_image){0};
    } else memset(d->out, 0, d->npix);
    double t2 = zs_now();
    sleep_ms(delay_ms);

    pthread_mutex_lock(&d->lock);
    memcpy(d->res_rgb, d->out, d->npix);
    memcpy(d->res_mu, d->mu, sizeof(float) * d->Z);
    memcpy(d->res_z, d->z, sizeof(float) * d->Z);
    free(d->res_detail.rgb);   /* an unpolled one is stale */
    d->res_detail = det;
    d->result = (zs_decode_result){.stamp = req->stamp, .face_key = key, .encode_ms = (t1 - t0) * 1e3,
                                   .decode_ms = (t2 - t1) * 1e3};
    d->has_result = 1;
    d->stats.served++;
    pthread_mutex_unlock(&d->lock);
}

/* The next BATCH_CHUNK latents of channel c's batch; at its end the result.
 * A long batch (the Walk grid, 81 faces) so lets the face requests and the
 * other channels in between its chunks: a slider still gets its face. */
#define BATCH_CHUNK 16
static void do_batch_chunk(zs_decoder *d, int c, int delay_ms)
{
    struct channel *ch = &d->ch[c];
    double t0 = zs_now();
    int end = ch->w_done + BATCH_CHUNK < ch->w_n ? ch->w_done + BATCH_CHUNK : ch->w_n;
    for (int i = ch->w_done; i < end; i++) {
        zs_vae_decode(d->inf, ch->w_z + (size_t)i * d->Z, 1, d->img);
        zs_face_from_chw(d->img, d->S, ch->w_rgb + (size_t)i * d->npix);
    }
    ch->w_done = end;
    ch->w_ms += (zs_now() - t0) * 1e3;
    if (end < ch->w_n) return;
    sleep_ms(delay_ms);
    pthread_mutex_lock(&d->lock);
    if (ch->res_cap < ch->w_n) {
        ch->res_cap = ch->w_n;
        ch->res_rgb = zs_xrealloc(ch->res_rgb, (size_t)ch->res_cap * d->npix);
    }
    memcpy(ch->res_rgb, ch->w_rgb, (size_t)ch->w_n * d->npix);
    ch->res_n = ch->w_n, ch->res_stamp = ch->w_stamp, ch->res_ms = ch->w_ms;
    ch->has_result = 1;
    ch->w_on = 0;
    d->stats.served++;
    pthread_mutex_unlock(&d->lock);
}

/* FIT_CHUNK more faces of the gallery; at the end, the fits and the
 * result. Returns 1 when the job is done. */
#define FIT_CHUNK 8
static int do_fit_chunk(zs_decoder *d, const zs_cache *c, int restart, int npc)
{
    if (restart) {
        free(d->fit_mu);
        d->fit_n = zs_cache_count(c);
        d->fit_mu = zs_xmalloc(sizeof(float) * (size_t)(d->fit_n > 0 ? d->fit_n : 1) * d->Z);
        d->fit_next = 0;
    }
    int S = d->S;
    for (int i = 0; i < FIT_CHUNK && d->fit_next < d->fit_n && zs_cache_size(c) == S; i++, d->fit_next++) {
        zs_face_to_chw(zs_cache_pixels(c, d->fit_next), S, d->x, 0);
        zs_vae_encode(d->inf, d->x, 1, d->fit_mu + (size_t)d->fit_next * d->Z, NULL);
    }
    if (d->fit_next < d->fit_n && zs_cache_size(c) == S) return 0;
    zs_gallery_fit r = {.n = d->fit_n, .z = d->Z, .mu = d->fit_mu};
    d->fit_mu = NULL;
    if (zs_cache_size(c) != S)
        snprintf(r.msg, sizeof r.msg, "%s has %dx%d faces, the model takes %dx%d", zs_cache_path(c), zs_cache_size(c),
                 zs_cache_size(c), S, S);
    else if (zs_gauss_fit(r.mu, r.n, r.z, &r.gauss) != ZS_OK) snprintf(r.msg, sizeof r.msg, "%s", zs_last_error());
    else if (zs_pca_fit(r.mu, r.n, r.z, npc, &r.pca) != ZS_OK) {
        snprintf(r.msg, sizeof r.msg, "%s", zs_last_error());
        zs_gauss_free(&r.gauss);
    } else r.ok = 1;
    pthread_mutex_lock(&d->lock);
    if (!d->fit_restart) {   /* else a newer job started meanwhile: this result is stale */
        r.ms = (zs_now() - d->fit_t0) * 1e3;
        zs_gallery_fit_free(&d->fit_res);
        d->fit_res = r;
        d->has_fit_result = 1;
        d->has_fit = 0;
        r.mu = NULL;
    }
    pthread_mutex_unlock(&d->lock);
    if (r.mu) zs_gallery_fit_free(&r);
    return 1;
}

void zs_gallery_fit_free(zs_gallery_fit *f)
{
    free(f->mu);
    if (f->ok) zs_gauss_free(&f->gauss), zs_pca_free(&f->pca);
    memset(f, 0, sizeof *f);
}

static int pending_batch(const zs_decoder *d)
{
    for (int c = 0; c < ZS_DEC_CHANNELS; c++)
        if (d->ch[c].has_req || d->ch[c].w_on) return c;
    return -1;
}

static void *worker(void *arg)
{
    zs_decoder *d = arg;
    char path[4096];
    pthread_setname_np(pthread_self(), "zs-decoder");   /* for --bench and top -H */
    for (;;) {
        pthread_mutex_lock(&d->lock);
        while (!d->quit && !d->has_req && !d->has_load && !d->has_save && !d->has_fit && pending_batch(d) < 0)
            pthread_cond_wait(&d->cv, &d->lock);
        if (d->quit) {
            pthread_mutex_unlock(&d->lock);
            return NULL;
        }
        d->working = 1;
        int wake = 1;
        if (d->has_load) {   /* a photo first: requests after it may be for it */
            uint64_t gen = d->load_gen;
            int max = d->load_max, has_crop = d->load_has_crop;
            zs_crop crop = d->load_crop;
            memcpy(path, d->load_path, sizeof path);
            d->has_load = 0;
            pthread_mutex_unlock(&d->lock);
            do_load(d, path, gen, max, has_crop ? &crop : NULL);
        } else if (d->has_save) {
            zs_image im = d->save_im;
            memcpy(path, d->save_path, sizeof path);
            d->save_im = (zs_image){0};
            d->has_save = 0;
            pthread_mutex_unlock(&d->lock);
            do_save(d, path, &im);
        } else if (d->has_req) {
            zs_decode_req req = d->req;
            int have_face = req.face != NULL;
            if (req.base) memcpy(d->base, d->req_base, sizeof(float) * d->Z);
            else if (have_face) memcpy(d->face, d->req_face, d->npix);
            if (req.delta) memcpy(d->delta, d->req_delta, sizeof(float) * d->Z);
            d->has_req = 0;
            int delay_ms = d->delay_ms;
            pthread_mutex_unlock(&d->lock);
            do_request(d, &req, have_face, delay_ms);
        } else if (d->has_fit && pending_batch(d) < 0) {   /* long (all the gallery): a chunk after the quick jobs */
            const zs_cache *c = d->fit_cache;
            int restart = d->fit_restart, npc = d->fit_npc;
            d->fit_restart = 0;
            pthread_mutex_unlock(&d->lock);
            wake = do_fit_chunk(d, c, restart, npc);   /* 0: more to come, no result to wake the UI for */
        } else {
            int c = pending_batch(d), delay_ms = d->delay_ms;
            struct channel *ch = &d->ch[c];
            if (ch->has_req && !ch->w_on) {   /* a new batch; one half done is finished first (a drag
                                                 still shows grids on its way), the newest after it */
                if (ch->w_cap < ch->n) {
                    ch->w_cap = ch->n;
                    ch->w_z = zs_xrealloc(ch->w_z, sizeof(float) * (size_t)ch->w_cap * d->Z);
                    ch->w_rgb = zs_xrealloc(ch->w_rgb, (size_t)ch->w_cap * d->npix);
                }
                memcpy(ch->w_z, ch->z, sizeof(float) * (size_t)ch->n * d->Z);
                ch->w_n = ch->n, ch->w_stamp = ch->stamp, ch->w_done = 0, ch->w_ms = 0, ch->w_on = 1;
                ch->has_req = 0;
            }
            pthread_mutex_unlock(&d->lock);
            do_batch_chunk(d, c, delay_ms);
        }
        pthread_mutex_lock(&d->lock);
        d->working = 0;
        pthread_mutex_unlock(&d->lock);
        if (wake && d->wake) d->wake(d->user);
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
    d->res_z = zs_xmalloc(sizeof(float) * d->Z);
    d->ui_z = zs_xmalloc(sizeof(float) * d->Z);
    d->req_base = zs_xmalloc(sizeof(float) * d->Z);
    d->req_delta = zs_xmalloc(sizeof(float) * d->Z);
    d->delta = zs_xmalloc(sizeof(float) * d->Z);
    d->base = zs_xmalloc(sizeof(float) * d->Z);
    d->mu = zs_xmalloc(sizeof(float) * d->Z);
    d->z = zs_xmalloc(sizeof(float) * d->Z);
    d->photo_mu = zs_xmalloc(sizeof(float) * d->Z);
    d->x = zs_xmalloc(sizeof(float) * d->npix);
    d->img = zs_xmalloc(sizeof(float) * d->npix);
    d->photo_d0 = zs_xmalloc(sizeof(float) * d->npix);
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
    pthread_join(d->thread, NULL);   /* waits for at most the job in flight */
    pthread_mutex_destroy(&d->lock);
    pthread_cond_destroy(&d->cv);
    zs_vae_infer_destroy(d->inf);
    free(d->req_face), free(d->face), free(d->out), free(d->res_rgb), free(d->ui_rgb);
    free(d->res_mu), free(d->ui_mu), free(d->mu), free(d->z), free(d->x), free(d->img);
    free(d->photo_mu), free(d->photo_d0);
    free(d->res_z), free(d->ui_z), free(d->req_base), free(d->base);
    free(d->req_delta), free(d->delta), free(d->fit_mu);
    for (int c = 0; c < ZS_DEC_CHANNELS; c++)
        free(d->ch[c].z), free(d->ch[c].res_rgb), free(d->ch[c].ui_rgb), free(d->ch[c].w_z), free(d->ch[c].w_rgb);
    free(d->res_detail.rgb), free(d->ui_detail.rgb), free(d->ui_photo.rgb), free(d->ui_face);
    if (d->has_photo_result) free(d->photo_res.photo.rgb), free(d->photo_res.face);
    free(d->save_im.rgb);
    zs_gallery_fit_free(&d->fit_res);
    zs_image_free(&d->photo);
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
    if (req->base) {
        memcpy(d->req_base, req->base, sizeof(float) * d->Z);
        d->req.base = d->req_base;
        d->req.face = NULL;
    } else if (req->face) {
        memcpy(d->req_face, req->face, d->npix);
        d->req.face = d->req_face;
    }
    if (req->delta) {
        memcpy(d->req_delta, req->delta, sizeof(float) * d->Z);
        d->req.delta = d->req_delta;
    }
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
        memcpy(d->ui_z, d->res_z, sizeof(float) * d->Z);
        out->z = d->ui_z;
        free(d->ui_detail.rgb);
        d->ui_detail = d->res_detail;
        d->res_detail = (zs_image){0};
        out->rgb = d->ui_rgb;
        out->mu = d->ui_mu;
        out->detail = d->ui_detail;
        d->has_result = 0;
    }
    pthread_mutex_unlock(&d->lock);
    return got;
}

void zs_decoder_load_photo(zs_decoder *d, const char *path, uint64_t gen, int max_side, const zs_crop *crop)
{
    pthread_mutex_lock(&d->lock);
    snprintf(d->load_path, sizeof d->load_path, "%s", path ? path : "");
    d->load_gen = gen;
    d->load_max = max_side;
    d->load_has_crop = crop != NULL;
    if (crop) d->load_crop = *crop;
    d->has_load = 1;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->lock);
}

int zs_decoder_poll_photo(zs_decoder *d, zs_photo_result *out)
{
    pthread_mutex_lock(&d->lock);
    int got = d->has_photo_result;
    if (got) {
        free(d->ui_photo.rgb), free(d->ui_face);
        *out = d->photo_res;
        d->ui_photo = out->photo;
        d->ui_face = out->face;
        d->has_photo_result = 0;
    }
    pthread_mutex_unlock(&d->lock);
    return got;
}

void zs_decoder_save(zs_decoder *d, const char *path, const zs_image *im)
{
    size_t n = (size_t)im->w * im->h * 3;
    zs_image copy = {im->w, im->h, zs_xmalloc(n)};   /* outside the lock */
    memcpy(copy.rgb, im->rgb, n);
    pthread_mutex_lock(&d->lock);
    free(d->save_im.rgb);
    d->save_im = copy;
    snprintf(d->save_path, sizeof d->save_path, "%s", path);
    d->has_save = 1;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->lock);
}

int zs_decoder_poll_save(zs_decoder *d, zs_save_result *out)
{
    pthread_mutex_lock(&d->lock);
    int got = d->has_save_result;
    if (got) *out = d->save_res, d->has_save_result = 0;
    pthread_mutex_unlock(&d->lock);
    return got;
}

void zs_decoder_post_batch(zs_decoder *d, int channel, uint64_t stamp, int n, const float *z)
{
    ZS_ASSERT(channel >= 0 && channel < ZS_DEC_CHANNELS && n > 0 && n <= ZS_DEC_BATCH_MAX);
    pthread_mutex_lock(&d->lock);
    struct channel *ch = &d->ch[channel];
    if (ch->has_req) d->stats.dropped++;
    if (ch->cap < n) {
        ch->cap = n;
        ch->z = zs_xrealloc(ch->z, sizeof(float) * (size_t)n * d->Z);
    }
    memcpy(ch->z, z, sizeof(float) * (size_t)n * d->Z);
    ch->n = n, ch->stamp = stamp, ch->has_req = 1;
    d->stats.posted++;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->lock);
}

int zs_decoder_poll_batch(zs_decoder *d, int channel, zs_batch_result *out)
{
    pthread_mutex_lock(&d->lock);
    struct channel *ch = &d->ch[channel];
    int got = ch->has_result;
    if (got) {
        if (ch->ui_cap < ch->res_n) {
            ch->ui_cap = ch->res_n;
            ch->ui_rgb = zs_xrealloc(ch->ui_rgb, (size_t)ch->ui_cap * d->npix);
        }
        memcpy(ch->ui_rgb, ch->res_rgb, (size_t)ch->res_n * d->npix);
        *out = (zs_batch_result){.stamp = ch->res_stamp, .n = ch->res_n, .rgb = ch->ui_rgb, .ms = ch->res_ms};
        ch->has_result = 0;
    }
    pthread_mutex_unlock(&d->lock);
    return got;
}

void zs_decoder_fit(zs_decoder *d, const zs_cache *c, int npc)
{
    pthread_mutex_lock(&d->lock);
    d->fit_cache = c;
    d->fit_npc = npc > 0 ? npc : 1;
    d->has_fit = d->fit_restart = 1;
    d->fit_t0 = zs_now();
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->lock);
}

int zs_decoder_poll_fit(zs_decoder *d, zs_gallery_fit *out)
{
    pthread_mutex_lock(&d->lock);
    int got = d->has_fit_result;
    if (got) {
        *out = d->fit_res;
        memset(&d->fit_res, 0, sizeof d->fit_res);
        d->has_fit_result = 0;
    }
    pthread_mutex_unlock(&d->lock);
    return got;
}

zs_decoder_stats zs_decoder_get_stats(zs_decoder *d)
{
    pthread_mutex_lock(&d->lock);
    zs_decoder_stats s = d->stats;
    s.busy = d->has_req || d->working || d->has_load || d->has_save || d->has_photo_result || d->has_save_result ||
             pending_batch(d) >= 0 || d->has_fit || d->has_fit_result;
    for (int c = 0; c < ZS_DEC_CHANNELS; c++) s.busy |= d->ch[c].has_result;
    pthread_mutex_unlock(&d->lock);
    return s;
}
