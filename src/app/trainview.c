/* The Train tab's trainer and its watcher thread: see trainview.h.
 *
 * Locking: tv->lock guards the job slots, the published view and tv->tr
 * (set once, by zs_tv_start on the UI thread). It is held only to copy,
 * never while the model runs, a checkpoint is written or the trainer is
 * joined. Rules that keep zs_trainer's own contract (zs_trainer_save only
 * while not running; start/stop from one thread at a time):
 *   - Stop runs on the worker; while it is pending, Start is refused;
 *   - Save runs on the worker: it pauses the trainer, waits until it is
 *     paused, saves and resumes unless the user asked for a pause
 *     (tv->user_paused, which Pause/Resume only record while a save runs). */
#include "trainview.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct zs_tv {
    zs_tv_desc d;
    zs_vae *model;                   /* the copy that is trained */
    int S, Z, nfaces, nsplit;
    size_t npix;
    uint8_t *orig;                   /* the fixed faces, HWC */
    float *x;                        /* the same as CHW floats (worker) */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cv;

    /* under lock */
    zs_trainer *tr;
    int quit, user_paused;
    int hidden;                      /* the grid is not on screen: refresh it rarely */
    int job_stop, job_save, job_recompute, stopping, saving, recomputing;
    char save_path[4096];
    float *rc_params;                /* weights for the recompute job */
    const zs_cache *rc_cache;
    int has_attrs_result, attrs_ok;
    zs_attr_vectors attrs_res;
    char attrs_msg[600];
    double attrs_ms;
    int have_msg, msg_err;
    char msg[700];
    long saved_step;
    /* published view */
    zs_train_metrics pub_metrics;
    uint8_t *pub_recon;
    long pub_recon_step;
    uint64_t pub_recon_version;
    double *pub_kl;
    zs_train_point *pub_hist;
    int pub_nhist, has_pub;

    /* UI's copies (zs_tv_poll) */
    uint8_t *ui_recon;
    double *ui_kl;
    zs_train_point *ui_hist;

    /* worker only */
    zs_vae_infer *inf;
    float *snap, *mu, *y;
    uint8_t *recon;
    double *kl;
    zs_train_point *hist;
};

static void sleep_ms(int ms) { nanosleep(&(struct timespec){ms / 1000, (long)(ms % 1000) * 1000000L}, NULL); }

static void set_msg(zs_tv *tv, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_msg(zs_tv *tv, int err, const char *fmt, ...)
{
    char buf[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&tv->lock);
    memcpy(tv->msg, buf, sizeof buf);
    tv->msg_err = err;
    tv->have_msg = 1;
    pthread_mutex_unlock(&tv->lock);
}

/* Reconstruct the fixed faces with `params`. */
static void reconstruct(zs_tv *tv, const float *params)
{
    zs_vae_infer_load(tv->inf, params);
    zs_vae_encode(tv->inf, tv->x, tv->nfaces, tv->mu, NULL);
    zs_vae_decode(tv->inf, tv->mu, tv->nfaces, tv->y);
    for (int i = 0; i < tv->nfaces; i++) zs_face_from_chw(tv->y + (size_t)i * 3 * tv->S * tv->S, tv->S, tv->recon + i * tv->npix);
}

static void publish(zs_tv *tv, const zs_train_metrics *mt, long recon_step, int nhist, int new_recon)
{
    pthread_mutex_lock(&tv->lock);
    if (mt) tv->pub_metrics = *mt;
    if (new_recon) {
        memcpy(tv->pub_recon, tv->recon, ZS_TV_FACES * tv->npix);
        tv->pub_recon_step = recon_step;
        tv->pub_recon_version++;
    }
    memcpy(tv->pub_kl, tv->kl, sizeof(double) * (size_t)tv->Z);
    if (nhist >= 0) {
        memcpy(tv->pub_hist, tv->hist, sizeof(zs_train_point) * (size_t)nhist);
        tv->pub_nhist = nhist;
    }
    tv->has_pub = 1;
    pthread_mutex_unlock(&tv->lock);
    if (tv->d.wake) tv->d.wake(tv->d.user);
}

static void do_save(zs_tv *tv, zs_trainer *tr, const char *path)
{
    if (!tr) {
        set_msg(tv, 1, "Save checkpoint: nothing trained yet (press Start first)");
        return;
    }
    zs_trainer_pause(tr);
    double t0 = zs_now();
    while (zs_trainer_state(tr) == ZS_TRAINER_RUNNING && zs_now() - t0 < 300) sleep_ms(5);   /* the step in flight */
    if (zs_trainer_state(tr) == ZS_TRAINER_RUNNING) {
        set_msg(tv, 1, "Save checkpoint: the trainer did not pause; nothing written");
    } else {
        zs_ckpt_info info;
        zs_trainer_ckpt_info(tr, &info);
        zs_status st = zs_trainer_save(tr, path);
        if (st == ZS_OK) {
            pthread_mutex_lock(&tv->lock);
            tv->saved_step = info.step;
            pthread_mutex_unlock(&tv->lock);
            set_msg(tv, 0, "Saved checkpoint %s (step %ld)", path, info.step);
        } else set_msg(tv, 1, "Save checkpoint failed (nothing overwritten): %s", zs_last_error());
    }
    pthread_mutex_lock(&tv->lock);
    int resume = !tv->user_paused;
    tv->saving = 0;
    pthread_mutex_unlock(&tv->lock);
    if (resume) zs_trainer_resume(tr);
}

static void do_recompute(zs_tv *tv, const float *params, const zs_cache *c)
{
    double t0 = zs_now();
    zs_vae *m = zs_vae_create(&tv->model->cfg);
    memcpy(m->params, params, sizeof(float) * m->table.total);
    zs_latents L;
    zs_attr_vectors A = {0};
    int ok = 0;
    char msg[600] = "";
    if (zs_latents_encode(m, c, 1, NULL, NULL, &L) != ZS_OK) snprintf(msg, sizeof msg, "%s", zs_last_error());
    else {
        int *idx = NULL, ntrain = zs_latents_split(&L, ZS_SPLIT_TRAIN, &idx);
        free(idx);
        /* a gallery has no train split: fit on all its faces, AUC on every 10th */
        zs_attr_desc ad = ntrain > 0 ? (zs_attr_desc){0}
                                     : (zs_attr_desc){.fit = ZS_SPLIT_ALL, .held_out = ZS_SPLIT_TEST};
        if (zs_attr_vectors_compute(&L, &ad, &A) != ZS_OK) snprintf(msg, sizeof msg, "%s", zs_last_error());
        else ok = 1;
        zs_latents_free(&L);
    }
    zs_vae_destroy(m);
    pthread_mutex_lock(&tv->lock);
    if (tv->has_attrs_result && tv->attrs_ok) zs_attr_vectors_free(&tv->attrs_res);   /* never polled */
    tv->attrs_ok = ok;
    tv->attrs_res = A;
    snprintf(tv->attrs_msg, sizeof tv->attrs_msg, "%s", msg);
    tv->attrs_ms = (zs_now() - t0) * 1e3;
    tv->has_attrs_result = 1;
    tv->recomputing = 0;
    pthread_mutex_unlock(&tv->lock);
}

static void *worker(void *arg)
{
    zs_tv *tv = arg;
    char path[4096];
    pthread_setname_np(pthread_self(), "zs-watcher");   /* for --bench and top -H */
    uint64_t seen = UINT64_MAX;
    long recon_step = -2;
    double last_recon = 0;
    /* the fixed faces with the weights training starts from (a copy made by
     * create: the trainer may already be changing the model) */
    reconstruct(tv, tv->snap);
    publish(tv, NULL, 0, -1, 1);
    recon_step = 0;
    for (;;) {
        pthread_mutex_lock(&tv->lock);
        if (!tv->quit && !tv->job_stop && !tv->job_save && !tv->job_recompute) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 100 * 1000000L;   /* look at the trainer ten times a second */
            if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
            pthread_cond_timedwait(&tv->cv, &tv->lock, &ts);
        }
        if (tv->quit) {
            pthread_mutex_unlock(&tv->lock);
            return NULL;
        }
        zs_trainer *tr = tv->tr;
        int stop = tv->job_stop, save = tv->job_save, rc = tv->job_recompute;
        double every = tv->hidden ? 5.0 : 0.2;
        const zs_cache *rc_cache = tv->rc_cache;
        tv->job_stop = tv->job_save = tv->job_recompute = 0;
        if (save) memcpy(path, tv->save_path, sizeof path);
        pthread_mutex_unlock(&tv->lock);

        if (stop && tr) {
            zs_trainer_stop(tr);   /* joins: up to one step */
            pthread_mutex_lock(&tv->lock);
            tv->stopping = 0;
            pthread_mutex_unlock(&tv->lock);
            zs_train_metrics mt;
            zs_trainer_snapshot(tr, NULL, &mt, NULL);
            set_msg(tv, 0, "Training stopped at step %ld", mt.step);
        } else if (stop) {
            pthread_mutex_lock(&tv->lock);
            tv->stopping = 0;
            pthread_mutex_unlock(&tv->lock);
        }
        if (save) do_save(tv, tr, path);
        if (rc) do_recompute(tv, tv->rc_params, rc_cache);
        if (stop || save || rc) seen = UINT64_MAX;   /* publish the state now */

        if (!tr) continue;
        uint64_t v = zs_trainer_snapshot_version(tr);
        double now = zs_now();
        if (v == seen) continue;
        zs_train_metrics mt;
        zs_trainer_snapshot(tr, NULL, &mt, NULL);
        int new_recon = 0;
        if (mt.step != recon_step && now - last_recon >= every) {   /* a few grids a second at most */
            zs_trainer_snapshot(tr, tv->snap, &mt, tv->kl);
            reconstruct(tv, tv->snap);
            recon_step = mt.step;
            last_recon = now;
            new_recon = 1;
        } else zs_trainer_snapshot(tr, NULL, &mt, tv->kl);
        int nh = zs_trainer_history(tr, tv->hist, ZS_TV_HISTORY);
        publish(tv, &mt, recon_step, nh, new_recon);
        if (mt.step == recon_step) seen = v;   /* else come back for the grid */
    }
}

zs_tv *zs_tv_create(const zs_tv_desc *desc)
{
    zs_tv *tv = zs_xcalloc(1, sizeof *tv);
    tv->d = *desc;
    if (tv->d.batch <= 0) tv->d.batch = 64;
    if (tv->d.threads <= 0) tv->d.threads = 1;
    const zs_vae_config *cfg = &desc->model->cfg;
    tv->model = zs_vae_create(cfg);
    memcpy(tv->model->params, desc->model->params, sizeof(float) * tv->model->table.total);
    tv->S = cfg->image, tv->Z = cfg->z;
    tv->npix = (size_t)tv->S * tv->S * 3;
    /* 8 fixed faces: of the validation split when there is one (as zspace train's grids) */
    int *idx = NULL, n = zs_cache_split_indices(desc->cache, ZS_SPLIT_VAL, &idx);
    if (n <= 0 || desc->split == ZS_SPLIT_ALL) {
        free(idx);
        n = zs_cache_split_indices(desc->cache, ZS_SPLIT_ALL, &idx);
    }
    tv->nfaces = n < ZS_TV_FACES ? n : ZS_TV_FACES;
    tv->orig = zs_xcalloc(ZS_TV_FACES, tv->npix);
    tv->x = zs_xcalloc((size_t)ZS_TV_FACES * 3 * tv->S * tv->S, sizeof(float));
    for (int i = 0; i < tv->nfaces; i++) {
        const uint8_t *px = zs_cache_pixels(desc->cache, idx[(size_t)i * (size_t)(n / tv->nfaces)]);
        memcpy(tv->orig + i * tv->npix, px, tv->npix);
        zs_face_to_chw(px, tv->S, tv->x + (size_t)i * 3 * tv->S * tv->S, 0);
    }
    free(idx);
    int *all = NULL;
    tv->saved_step = -1;
    tv->pub_recon_step = -1;
    tv->nsplit = zs_cache_split_indices(desc->cache, desc->split, &all);
    free(all);
    tv->pub_metrics.state = ZS_TRAINER_IDLE;
    tv->inf = zs_vae_infer_create(cfg, ZS_TV_FACES);
    size_t total = tv->model->table.total;
    tv->snap = zs_xmalloc(sizeof(float) * total);
    memcpy(tv->snap, tv->model->params, sizeof(float) * total);
    tv->rc_params = zs_xmalloc(sizeof(float) * total);
    tv->mu = zs_xmalloc(sizeof(float) * ZS_TV_FACES * tv->Z);
    tv->y = zs_xmalloc(sizeof(float) * ZS_TV_FACES * 3 * tv->S * tv->S);
    tv->recon = zs_xcalloc(ZS_TV_FACES, tv->npix);
    tv->pub_recon = zs_xcalloc(ZS_TV_FACES, tv->npix);
    tv->ui_recon = zs_xcalloc(ZS_TV_FACES, tv->npix);
    tv->kl = zs_xcalloc((size_t)tv->Z, sizeof(double));
    tv->pub_kl = zs_xcalloc((size_t)tv->Z, sizeof(double));
    tv->ui_kl = zs_xcalloc((size_t)tv->Z, sizeof(double));
    tv->hist = zs_xcalloc(ZS_TV_HISTORY, sizeof(zs_train_point));
    tv->pub_hist = zs_xcalloc(ZS_TV_HISTORY, sizeof(zs_train_point));
    tv->ui_hist = zs_xcalloc(ZS_TV_HISTORY, sizeof(zs_train_point));
    pthread_mutex_init(&tv->lock, NULL);
    pthread_cond_init(&tv->cv, NULL);
    if (pthread_create(&tv->thread, NULL, worker, tv) != 0) {
        zs_log(ZS_LOG_ERROR, "cannot start the training watcher thread");
        exit(1);
    }
    return tv;
}

void zs_tv_destroy(zs_tv *tv)
{
    if (!tv) return;
    pthread_mutex_lock(&tv->lock);
    tv->quit = 1;
    pthread_cond_signal(&tv->cv);
    pthread_mutex_unlock(&tv->lock);
    pthread_join(tv->thread, NULL);   /* at most the job in flight */
    if (tv->tr) zs_trainer_destroy(tv->tr);   /* stops it: at most one step */
    pthread_mutex_destroy(&tv->lock);
    pthread_cond_destroy(&tv->cv);
    if (tv->has_attrs_result && tv->attrs_ok) zs_attr_vectors_free(&tv->attrs_res);
    zs_vae_infer_destroy(tv->inf);
    zs_vae_destroy(tv->model);
    free(tv->orig), free(tv->x), free(tv->snap), free(tv->rc_params), free(tv->mu), free(tv->y);
    free(tv->recon), free(tv->pub_recon), free(tv->ui_recon);
    free(tv->kl), free(tv->pub_kl), free(tv->ui_kl);
    free(tv->hist), free(tv->pub_hist), free(tv->ui_hist);
    free(tv);
}

int zs_tv_start(zs_tv *tv, char *err, size_t nerr)
{
    pthread_mutex_lock(&tv->lock);
    int busy = tv->stopping || tv->saving;
    zs_trainer *tr = tv->tr;
    pthread_mutex_unlock(&tv->lock);
    if (busy) {
        snprintf(err, nerr, "Start: wait until the %s has finished", tv->stopping ? "stop" : "save");
        return -1;
    }
    if (!tr) {
        zs_trainer_desc td = {.cache = tv->d.cache, .split = tv->d.split, .model = tv->model, .batch = tv->d.batch,
                              .threads = tv->d.threads, .nice = tv->d.nice, .dynamic = tv->d.dynamic, .seed = 1, .publish_every = 1,
                              /* the explorer's weights are trained but Adam's moments start at 0:
                                 ramp the rate up, or the first steps undo much of the training */
                              .lr_warmup = 200};
        if (zs_trainer_create(&tr, &td) != ZS_OK) {
            snprintf(err, nerr, "Start: %s", zs_last_error());
            return -1;
        }
        pthread_mutex_lock(&tv->lock);
        tv->tr = tr;
        pthread_mutex_unlock(&tv->lock);
    }
    int st = zs_trainer_state(tr);
    if (st == ZS_TRAINER_FAILED || st == ZS_TRAINER_DONE) zs_trainer_stop(tr);   /* its thread has ended: join it */
    pthread_mutex_lock(&tv->lock);
    tv->user_paused = 0;
    pthread_mutex_unlock(&tv->lock);
    zs_trainer_resume(tr);
    if (zs_trainer_start(tr) != ZS_OK) {
        snprintf(err, nerr, "Start: %s", zs_last_error());
        return -1;
    }
    pthread_mutex_lock(&tv->lock);
    pthread_cond_signal(&tv->cv);
    pthread_mutex_unlock(&tv->lock);
    return 0;
}

void zs_tv_pause(zs_tv *tv)
{
    pthread_mutex_lock(&tv->lock);
    tv->user_paused = 1;
    int saving = tv->saving;
    zs_trainer *tr = tv->tr;
    pthread_mutex_unlock(&tv->lock);
    if (tr && !saving) zs_trainer_pause(tr);   /* a save pauses anyway and then keeps it paused */
}

void zs_tv_resume(zs_tv *tv)
{
    pthread_mutex_lock(&tv->lock);
    tv->user_paused = 0;
    int saving = tv->saving;
    zs_trainer *tr = tv->tr;
    pthread_mutex_unlock(&tv->lock);
    if (tr && !saving) zs_trainer_resume(tr);   /* a save resumes when it is done */
}

void zs_tv_stop(zs_tv *tv)
{
    pthread_mutex_lock(&tv->lock);
    if (tv->tr && !tv->stopping) {
        tv->job_stop = tv->stopping = 1;
        pthread_cond_signal(&tv->cv);
    }
    pthread_mutex_unlock(&tv->lock);
}

void zs_tv_save(zs_tv *tv, const char *path)
{
    pthread_mutex_lock(&tv->lock);
    snprintf(tv->save_path, sizeof tv->save_path, "%s", path);
    tv->job_save = tv->saving = 1;
    pthread_cond_signal(&tv->cv);
    pthread_mutex_unlock(&tv->lock);
}

void zs_tv_set_lr(zs_tv *tv, float lr)
{
    pthread_mutex_lock(&tv->lock);
    zs_trainer *tr = tv->tr;
    pthread_mutex_unlock(&tv->lock);
    if (tr) zs_trainer_set_lr(tr, lr);
}

void zs_tv_set_shown(zs_tv *tv, int shown)
{
    pthread_mutex_lock(&tv->lock);
    if (tv->hidden == !shown) {
        pthread_mutex_unlock(&tv->lock);
        return;
    }
    tv->hidden = !shown;
    pthread_cond_signal(&tv->cv);   /* shown again: a fresh grid now */
    pthread_mutex_unlock(&tv->lock);
}

void zs_tv_set_beta(zs_tv *tv, float beta)
{
    pthread_mutex_lock(&tv->lock);
    zs_trainer *tr = tv->tr;
    pthread_mutex_unlock(&tv->lock);
    if (tr) zs_trainer_set_beta(tr, beta);
}

long zs_tv_copy_weights(zs_tv *tv, float *params)
{
    pthread_mutex_lock(&tv->lock);
    zs_trainer *tr = tv->tr;
    pthread_mutex_unlock(&tv->lock);
    if (!tr) return -1;
    zs_train_metrics mt;
    zs_trainer_snapshot(tr, params, &mt, NULL);
    return mt.step;
}

int zs_tv_poll(zs_tv *tv, zs_tv_view *out)
{
    pthread_mutex_lock(&tv->lock);
    int got = tv->has_pub || tv->have_msg;
    zs_tv_view v = {0};
    v.have_trainer = tv->tr != NULL;
    if (tv->tr) {   /* fixed when the trainer was made */
        const zs_vae_train *ctx = zs_trainer_train_ctx(tv->tr);
        v.team = zs_vae_train_threads(ctx), v.dynamic = zs_vae_train_dynamic(ctx);
    }
    v.stopping = tv->stopping, v.saving = tv->saving, v.recomputing = tv->recomputing;
    v.metrics = tv->pub_metrics;
    v.batch = tv->d.batch;
    v.nfaces = tv->nsplit;
    v.z = tv->Z;
    v.orig = tv->orig;
    v.saved_step = tv->saved_step;
    if (tv->has_pub) {
        memcpy(tv->ui_recon, tv->pub_recon, ZS_TV_FACES * tv->npix);
        memcpy(tv->ui_kl, tv->pub_kl, sizeof(double) * (size_t)tv->Z);
        memcpy(tv->ui_hist, tv->pub_hist, sizeof(zs_train_point) * (size_t)tv->pub_nhist);
        tv->has_pub = 0;
    }
    v.recon = tv->ui_recon;
    v.recon_step = tv->pub_recon_step;
    v.recon_version = tv->pub_recon_version;
    v.kl_dim = tv->ui_kl;
    v.hist = tv->ui_hist;
    v.nhist = tv->pub_nhist;
    if (tv->have_msg) {
        v.have_msg = 1, v.msg_err = tv->msg_err;
        memcpy(v.msg, tv->msg, sizeof v.msg);
        tv->have_msg = 0;
    }
    zs_trainer *tr = tv->tr;
    pthread_mutex_unlock(&tv->lock);
    v.state = tr ? zs_trainer_state(tr) : ZS_TRAINER_IDLE;   /* an atomic: the freshest */
    v.steps_per_epoch = tr ? zs_trainer_steps_per_epoch(tr) : 0;
    *out = v;
    return got;
}

void zs_tv_recompute(zs_tv *tv, const float *params, const zs_cache *c)
{
    pthread_mutex_lock(&tv->lock);
    if (!tv->recomputing) {
        memcpy(tv->rc_params, params, sizeof(float) * tv->model->table.total);
        tv->rc_cache = c;
        tv->job_recompute = tv->recomputing = 1;
        pthread_cond_signal(&tv->cv);
    }
    pthread_mutex_unlock(&tv->lock);
}

int zs_tv_poll_attrs(zs_tv *tv, int *ok, zs_attr_vectors *out, char *msg, size_t nmsg, double *ms)
{
    pthread_mutex_lock(&tv->lock);
    int got = tv->has_attrs_result;
    if (got) {
        *ok = tv->attrs_ok;
        *out = tv->attrs_res;
        tv->attrs_res = (zs_attr_vectors){0};
        snprintf(msg, nmsg, "%s", tv->attrs_msg);
        *ms = tv->attrs_ms;
        tv->has_attrs_result = 0;
    }
    pthread_mutex_unlock(&tv->lock);
    return got;
}
