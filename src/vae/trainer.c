/* The background trainer (see zspace/trainer.h).
 *
 * One thread runs steps: take the loader's next batch, one training step,
 * update the moving averages, and every `publish_every` steps copy the
 * weights into the back snapshot buffer and swap it to the front under
 * `snap_lock`. Readers copy the front buffer under the same lock, which is
 * only ever held for a copy, never across a step.
 *
 * Non-finite steps: the engine leaves the weights untouched when the loss or
 * the gradient is NaN/Inf; the trainer then restores the last published
 * good state (weights and Adam moments), halves the learning rate and says
 * so. Three in a row stop training with state FAILED; the caller's last
 * checkpoint is untouched.
 *
 * A cache that can no longer be read (truncated or overwritten while
 * training; the loader reads it with pread and checks its size and mtime
 * every batch) also stops training with state FAILED and a message; the
 * model keeps the weights of the last completed step. */
#include "zspace/trainer.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HISTORY 8192

struct zs_trainer {
    zs_trainer_desc d;
    zs_vae *m;
    zs_vae_train *t;
    zs_loader *loader;
    float *x;
    int z;

    /* live settings (written by any thread, read by the trainer) */
    _Atomic float lr_req, beta_req;
    atomic_int inject_nan;

    /* training-thread state */
    long step;
    int epoch, batch_in_epoch;     /* position of the NEXT batch */
    double ema_loss, ema_rec, ema_kl, *ema_kl_dim, *mu_mean, *mu_sq;
    int ema_init;
    double rate_t0;
    long rate_step0;
    double img_per_s;
    double step_done;           /* zs_now() at the end of the latest step */
    int nan_run, nan_events;
    float lr_cur;
    char message[256];
    /* last good state for NaN recovery */
    float *good_params, *good_m, *good_v;
    long good_step;

    /* published snapshot */
    pthread_mutex_t snap_lock;
    float *front, *back;
    double *front_kl, *back_kl;
    zs_train_metrics front_metrics;
    atomic_uint_fast64_t version;
    zs_train_point *hist;
    int hist_n, hist_head;

    /* thread control */
    pthread_t thread;
    int thread_live;
    pthread_mutex_t ctl_lock;
    pthread_cond_t ctl_cond;
    int want_pause, want_stop;
    atomic_int state;
};

static float effective_beta(const zs_trainer *tr, float beta)
{
    if (tr->d.kl_warmup > 0 && tr->step < tr->d.kl_warmup) return beta * (float)tr->step / (float)tr->d.kl_warmup;
    return beta;
}

zs_status zs_trainer_create(zs_trainer **out, const zs_trainer_desc *desc)
{
    *out = NULL;
    zs_trainer_desc d = *desc;
    ZS_ASSERT(d.cache && d.model && (int)d.split >= ZS_SPLIT_TRAIN && d.split <= ZS_SPLIT_ALL);
    if (d.batch <= 0) d.batch = 64;
    if (d.threads <= 0) d.threads = zs_cpu_count();
    if (d.lr <= 0) d.lr = 5e-4f;
    if (d.beta <= 0 && !d.beta_zero) d.beta = 1.0f;
    if (d.publish_every <= 0) d.publish_every = 10;
    const zs_vae_config *cfg = &d.model->cfg;
    if (zs_cache_size(d.cache) != cfg->image)
        return zs_errorf(ZS_ERR_ARG, "%s: faces are %dx%d but the model takes %dx%d", zs_cache_path(d.cache),
                         zs_cache_size(d.cache), zs_cache_size(d.cache), cfg->image, cfg->image);
    zs_loader *l;
    zs_status st = zs_loader_create(&l, &(zs_loader_desc){.cache = d.cache, .split = d.split, .batch = d.batch,
                                                           .seed = d.seed, .flip = d.flip >= 0, .drop_last = 1});
    if (st != ZS_OK) return st;
    if (zs_loader_batches_per_epoch(l) < 1) {
        zs_loader_destroy(l);
        return zs_errorf(ZS_ERR_ARG, "%s: %d training faces (%s split), fewer than one batch of %d",
                         zs_cache_path(d.cache), zs_loader_split_count(l), zs_split_name(d.split), d.batch);
    }
    zs_trainer *tr = zs_xcalloc(1, sizeof *tr);
    tr->d = d;
    tr->m = d.model;
    tr->loader = l;
    tr->z = cfg->z;
    tr->t = zs_vae_train_create(tr->m, &(zs_train_desc){.max_batch = d.batch, .threads = d.threads, .lr = d.lr,
                                                         .beta = d.beta, .beta_zero = d.beta_zero, .loss = d.loss,
                                                         .seed = d.seed, .features = d.features,
                                                         .feat_layers = d.feat_layers, .feat_weight = d.feat_weight,
                                                         .no_pixel_loss = d.no_pixel_loss, .dynamic = d.dynamic});
    zs_vae_train_set_steps(tr->t, d.start_step);
    tr->step = d.start_step;
    tr->epoch = d.start_epoch;
    tr->batch_in_epoch = d.start_batch;
    zs_loader_seek(l, tr->epoch, tr->batch_in_epoch);
    tr->x = zs_alloc_aligned(sizeof(float) * (size_t)d.batch * 3 * cfg->image * cfg->image);
    tr->ema_kl_dim = zs_xcalloc((size_t)tr->z, sizeof(double));
    tr->mu_mean = zs_xcalloc((size_t)tr->z, sizeof(double));
    tr->mu_sq = zs_xcalloc((size_t)tr->z, sizeof(double));
    size_t n = tr->m->table.total, nt = tr->m->table.ntrain;
    tr->front = zs_xmalloc(sizeof(float) * n);
    tr->back = zs_xmalloc(sizeof(float) * n);
    tr->front_kl = zs_xcalloc((size_t)tr->z, sizeof(double));
    tr->back_kl = zs_xcalloc((size_t)tr->z, sizeof(double));
    tr->good_params = zs_xmalloc(sizeof(float) * n);
    tr->good_m = zs_xmalloc(sizeof(float) * nt);
    tr->good_v = zs_xmalloc(sizeof(float) * nt);
    memcpy(tr->front, tr->m->params, sizeof(float) * n);
    memcpy(tr->good_params, tr->m->params, sizeof(float) * n);
    memcpy(tr->good_m, zs_vae_train_adam_m(tr->t), sizeof(float) * nt);
    memcpy(tr->good_v, zs_vae_train_adam_v(tr->t), sizeof(float) * nt);
    tr->good_step = tr->step;
    tr->hist = zs_xcalloc(HISTORY, sizeof *tr->hist);
    atomic_store(&tr->lr_req, d.lr);
    atomic_store(&tr->beta_req, d.beta_zero ? 0.0f : d.beta);
    tr->lr_cur = d.lr;
    pthread_mutex_init(&tr->snap_lock, NULL);
    pthread_mutex_init(&tr->ctl_lock, NULL);
    pthread_cond_init(&tr->ctl_cond, NULL);
    atomic_store(&tr->state, ZS_TRAINER_IDLE);
    tr->front_metrics.step = tr->step;
    tr->front_metrics.epoch = tr->epoch;
    tr->front_metrics.lr = d.lr;
    tr->front_metrics.state = ZS_TRAINER_IDLE;
    *out = tr;
    return ZS_OK;
}

void zs_trainer_destroy(zs_trainer *tr)
{
    if (!tr) return;
    zs_trainer_stop(tr);
    zs_vae_train_destroy(tr->t);
    zs_loader_destroy(tr->loader);
    zs_free_aligned(tr->x);
    free(tr->ema_kl_dim);
    free(tr->mu_mean);
    free(tr->mu_sq);
    free(tr->front);
    free(tr->back);
    free(tr->front_kl);
    free(tr->back_kl);
    free(tr->good_params);
    free(tr->good_m);
    free(tr->good_v);
    free(tr->hist);
    pthread_mutex_destroy(&tr->snap_lock);
    pthread_mutex_destroy(&tr->ctl_lock);
    pthread_cond_destroy(&tr->ctl_cond);
    free(tr);
}

static void fill_metrics(zs_trainer *tr, zs_train_metrics *mt, const zs_step_stats *last)
{
    memset(mt, 0, sizeof *mt);
    mt->step = tr->step;
    mt->step_done = tr->step_done;
    mt->epoch = tr->epoch;
    mt->batch_in_epoch = tr->batch_in_epoch;
    mt->img_per_s = tr->img_per_s;
    mt->loss = tr->ema_loss;
    mt->rec = tr->ema_rec;
    mt->kl = tr->ema_kl;
    if (last) {
        mt->last_loss = last->loss;
        mt->last_rec = last->rec;
        mt->last_kl = last->kl;
    }
    int au = 0;
    for (int k = 0; k < tr->z; k++)
        if (tr->mu_sq[k] - tr->mu_mean[k] * tr->mu_mean[k] > 0.01) au++;
    mt->active_units = au;
    mt->lr = tr->lr_cur;
    mt->beta = effective_beta(tr, atomic_load(&tr->beta_req));
    mt->nan_events = tr->nan_events;
    mt->state = atomic_load(&tr->state);
    snprintf(mt->message, sizeof mt->message, "%s", tr->message);
}

static void publish(zs_trainer *tr, const zs_step_stats *last)
{
    size_t n = tr->m->table.total, nt = tr->m->table.ntrain;
    memcpy(tr->back, tr->m->params, sizeof(float) * n);
    memcpy(tr->back_kl, tr->ema_kl_dim, sizeof(double) * (size_t)tr->z);
    zs_train_metrics mt;
    fill_metrics(tr, &mt, last);
    pthread_mutex_lock(&tr->snap_lock);
    float *f = tr->front;
    tr->front = tr->back;
    tr->back = f;
    double *k = tr->front_kl;
    tr->front_kl = tr->back_kl;
    tr->back_kl = k;
    tr->front_metrics = mt;
    zs_train_point *p = &tr->hist[(tr->hist_head + tr->hist_n) % HISTORY];
    if (tr->hist_n < HISTORY)
        tr->hist_n++;
    else
        tr->hist_head = (tr->hist_head + 1) % HISTORY;
    *p = (zs_train_point){tr->step, (float)mt.loss, (float)mt.rec, (float)mt.kl};
    atomic_fetch_add(&tr->version, 1);
    pthread_mutex_unlock(&tr->snap_lock);
    /* a published state is a good state: NaN recovery returns here */
    memcpy(tr->good_params, tr->m->params, sizeof(float) * n);
    memcpy(tr->good_m, zs_vae_train_adam_m(tr->t), sizeof(float) * nt);
    memcpy(tr->good_v, zs_vae_train_adam_v(tr->t), sizeof(float) * nt);
    tr->good_step = tr->step;
}

/* Publish only the state/message (no new weights). */
static void publish_state(zs_trainer *tr)
{
    pthread_mutex_lock(&tr->snap_lock);
    tr->front_metrics.state = atomic_load(&tr->state);
    snprintf(tr->front_metrics.message, sizeof tr->front_metrics.message, "%s", tr->message);
    tr->front_metrics.lr = tr->lr_cur;
    tr->front_metrics.nan_events = tr->nan_events;
    atomic_fetch_add(&tr->version, 1);
    pthread_mutex_unlock(&tr->snap_lock);
}

static void ema(double *acc, double v, double a, int init) { *acc = init ? v : (1 - a) * *acc + a * v; }

/* One step; ZS_ERR_NUMERIC after recovery, or when giving up (state FAILED). */
static zs_status one_step(zs_trainer *tr)
{
    int epoch, bie;
    int n = zs_loader_next(tr->loader, tr->x, &epoch, &bie);
    if (n <= 0) {
        /* the cache cannot be read any more (truncated, overwritten, I/O
         * error): stop; the model keeps the weights of the last step */
        snprintf(tr->message, sizeof tr->message, "step %ld: training stopped, the faces cannot be read: %s; the "
                 "weights of step %ld are kept", tr->step + 1, zs_last_error(), tr->step);
        zs_log(ZS_LOG_ERROR, "%s", tr->message);
        atomic_store(&tr->state, ZS_TRAINER_FAILED);
        publish_state(tr);
        return zs_errorf(ZS_ERR_IO, "%s", tr->message);
    }
    if (atomic_load(&tr->inject_nan) > 0) {
        atomic_fetch_sub(&tr->inject_nan, 1);
        tr->x[0] = NAN;
    }
    float lr = atomic_load(&tr->lr_req);
    if (lr != tr->lr_cur && lr > 0) tr->lr_cur = lr;
    long since = tr->step - tr->d.start_step;
    float ramp = tr->d.lr_warmup > 0 && since < tr->d.lr_warmup ? (float)(since + 1) / (float)tr->d.lr_warmup : 1.0f;
    zs_vae_train_set_lr(tr->t, tr->lr_cur * ramp);
    zs_vae_train_set_beta(tr->t, effective_beta(tr, atomic_load(&tr->beta_req)));
    zs_step_stats st;
    zs_status s = zs_vae_train_step(tr->t, tr->x, n, NULL, &st);
    /* the data position advances either way: a bad batch is not retried */
    tr->epoch = epoch;
    tr->batch_in_epoch = bie + 1;
    if (tr->batch_in_epoch >= zs_loader_batches_per_epoch(tr->loader)) {
        tr->epoch++;
        tr->batch_in_epoch = 0;
    }
    if (s == ZS_ERR_NUMERIC) {
        size_t np = tr->m->table.total, nt = tr->m->table.ntrain;
        memcpy(tr->m->params, tr->good_params, sizeof(float) * np);
        memcpy(zs_vae_train_adam_m(tr->t), tr->good_m, sizeof(float) * nt);
        memcpy(zs_vae_train_adam_v(tr->t), tr->good_v, sizeof(float) * nt);
        zs_vae_train_set_steps(tr->t, tr->good_step);
        tr->step = tr->good_step;
        tr->nan_run++;
        tr->nan_events++;
        if (tr->nan_run >= 3) {
            snprintf(tr->message, sizeof tr->message,
                     "step %ld: loss not finite 3 times in a row; training stopped (weights of step %ld kept)",
                     tr->step + 1, tr->good_step);
            zs_log(ZS_LOG_ERROR, "%s", tr->message);
            atomic_store(&tr->state, ZS_TRAINER_FAILED);
            publish_state(tr);
            return zs_errorf(ZS_ERR_NUMERIC, "%s", tr->message);
        }
        tr->lr_cur *= 0.5f;
        atomic_store(&tr->lr_req, tr->lr_cur);
        snprintf(tr->message, sizeof tr->message,
                 "step %ld: loss %g, not finite; restored the weights of step %ld and halved the learning rate to %g",
                 tr->step + 1, st.loss, tr->good_step, tr->lr_cur);
        zs_log(ZS_LOG_WARN, "%s", tr->message);
        publish_state(tr);
        return ZS_ERR_NUMERIC;
    }
    tr->nan_run = 0;
    tr->step++;
    /* moving averages */
    int init = !tr->ema_init;
    ema(&tr->ema_loss, st.loss, 0.05, init);
    ema(&tr->ema_rec, st.rec, 0.05, init);
    ema(&tr->ema_kl, st.kl, 0.05, init);
    const double *kd = zs_vae_train_kl_dim(tr->t);
    const float *mu = zs_vae_train_mu(tr->t);
    for (int k = 0; k < tr->z; k++) {
        double s1 = 0, s2 = 0;
        for (int i = 0; i < n; i++) {
            double v = mu[(size_t)i * tr->z + k];
            s1 += v;
            s2 += v * v;
        }
        ema(&tr->ema_kl_dim[k], kd[k] / n, 0.05, init);
        ema(&tr->mu_mean[k], s1 / n, 0.02, init);
        ema(&tr->mu_sq[k], s2 / n, 0.02, init);
    }
    tr->ema_init = 1;
    double now = zs_now();
    tr->step_done = now;
    if (tr->rate_t0 == 0) {
        tr->rate_t0 = now;
        tr->rate_step0 = tr->step;
    } else if (now - tr->rate_t0 >= 2.0) {
        tr->img_per_s = (double)(tr->step - tr->rate_step0) * tr->d.batch / (now - tr->rate_t0);
        tr->rate_t0 = now;
        tr->rate_step0 = tr->step;
    }
    if (tr->step % tr->d.publish_every == 0) publish(tr, &st);
    return ZS_OK;
}

static void *thread_main(void *arg)
{
    zs_trainer *tr = arg;
    zs_blas_init();
    if (tr->d.nice > 0) zs_vae_train_set_nice(tr->t, tr->d.nice);
    tr->rate_t0 = 0;
    for (;;) {
        pthread_mutex_lock(&tr->ctl_lock);
        while (tr->want_pause && !tr->want_stop) {
            if (atomic_load(&tr->state) != ZS_TRAINER_PAUSED) {
                atomic_store(&tr->state, ZS_TRAINER_PAUSED);
                publish_state(tr);
            }
            pthread_cond_wait(&tr->ctl_cond, &tr->ctl_lock);
            tr->rate_t0 = 0;
        }
        int stop = tr->want_stop;
        pthread_mutex_unlock(&tr->ctl_lock);
        if (stop) break;
        if (atomic_load(&tr->state) != ZS_TRAINER_RUNNING) {
            atomic_store(&tr->state, ZS_TRAINER_RUNNING);
            publish_state(tr);
        }
        if (tr->d.max_steps > 0 && tr->step >= tr->d.max_steps) {
            atomic_store(&tr->state, ZS_TRAINER_DONE);
            break;
        }
        zs_status s = one_step(tr);
        if (atomic_load(&tr->state) == ZS_TRAINER_FAILED) break;
        (void)s;
    }
    int st = atomic_load(&tr->state);
    if (st == ZS_TRAINER_RUNNING || st == ZS_TRAINER_PAUSED) atomic_store(&tr->state, ZS_TRAINER_IDLE);
    if (tr->step % tr->d.publish_every != 0 || st == ZS_TRAINER_DONE) publish(tr, NULL);
    publish_state(tr);
    return NULL;
}

zs_status zs_trainer_start(zs_trainer *tr)
{
    if (tr->thread_live) return ZS_OK;
    tr->want_stop = tr->want_pause = 0;
    atomic_store(&tr->state, ZS_TRAINER_RUNNING);
    if (pthread_create(&tr->thread, NULL, thread_main, tr) != 0) {
        atomic_store(&tr->state, ZS_TRAINER_IDLE);
        return zs_errorf(ZS_ERR_NOMEM, "cannot start the training thread");
    }
    tr->thread_live = 1;
    return ZS_OK;
}

void zs_trainer_pause(zs_trainer *tr)
{
    pthread_mutex_lock(&tr->ctl_lock);
    tr->want_pause = 1;
    pthread_mutex_unlock(&tr->ctl_lock);
}

void zs_trainer_resume(zs_trainer *tr)
{
    pthread_mutex_lock(&tr->ctl_lock);
    tr->want_pause = 0;
    pthread_cond_broadcast(&tr->ctl_cond);
    pthread_mutex_unlock(&tr->ctl_lock);
}

void zs_trainer_stop(zs_trainer *tr)
{
    if (!tr->thread_live) return;
    pthread_mutex_lock(&tr->ctl_lock);
    tr->want_stop = 1;
    pthread_cond_broadcast(&tr->ctl_cond);
    pthread_mutex_unlock(&tr->ctl_lock);
    pthread_join(tr->thread, NULL);
    tr->thread_live = 0;
}

zs_status zs_trainer_run_steps(zs_trainer *tr, long n)
{
    ZS_ASSERT(!tr->thread_live);
    zs_status s = ZS_OK;
    for (long i = 0; i < n; i++) {
        if (tr->d.max_steps > 0 && tr->step >= tr->d.max_steps) break;
        if (tr->d.stop_flag && *tr->d.stop_flag) break;
        s = one_step(tr);
        if (atomic_load(&tr->state) == ZS_TRAINER_FAILED) break;
    }
    if (tr->step % tr->d.publish_every != 0) publish(tr, NULL);
    return s;
}

void zs_trainer_set_lr(zs_trainer *tr, float lr)
{
    if (lr > 0) atomic_store(&tr->lr_req, lr);
}
void zs_trainer_set_beta(zs_trainer *tr, float beta)
{
    if (beta >= 0) atomic_store(&tr->beta_req, beta);
}
int zs_trainer_state(zs_trainer *tr) { return atomic_load(&tr->state); }

uint64_t zs_trainer_snapshot_version(zs_trainer *tr) { return atomic_load(&tr->version); }

uint64_t zs_trainer_snapshot(zs_trainer *tr, float *params, zs_train_metrics *metrics, double *kl_dim)
{
    pthread_mutex_lock(&tr->snap_lock);
    if (params) memcpy(params, tr->front, sizeof(float) * tr->m->table.total);
    if (metrics) *metrics = tr->front_metrics;
    if (kl_dim) memcpy(kl_dim, tr->front_kl, sizeof(double) * (size_t)tr->z);
    uint64_t v = atomic_load(&tr->version);
    pthread_mutex_unlock(&tr->snap_lock);
    return v;
}

int zs_trainer_history(zs_trainer *tr, zs_train_point *out, int max)
{
    pthread_mutex_lock(&tr->snap_lock);
    int n = tr->hist_n < max ? tr->hist_n : max;
    for (int i = 0; i < n; i++) out[i] = tr->hist[(tr->hist_head + tr->hist_n - n + i) % HISTORY];
    pthread_mutex_unlock(&tr->snap_lock);
    return n;
}

zs_vae_train *zs_trainer_train_ctx(zs_trainer *tr) { return tr->t; }

void zs_trainer_ckpt_info(zs_trainer *tr, zs_ckpt_info *info)
{
    memset(info, 0, sizeof *info);
    info->cfg = tr->m->cfg;
    info->step = tr->step;
    info->epoch = tr->epoch;
    info->batch_in_epoch = tr->batch_in_epoch;
    info->seed = tr->d.seed;
    info->data_hash = zs_cache_hash(tr->d.cache);
    info->lr = tr->lr_cur;
    info->beta = atomic_load(&tr->beta_req);
    info->batch = tr->d.batch;
    info->loss = tr->d.loss;
    info->has_opt = 1;
    info->version = ZS_CKPT_VERSION;
    if (tr->d.features) {
        snprintf(info->recon, sizeof info->recon, "%s", tr->d.no_pixel_loss ? "perceptual" : "both");
        snprintf(info->feat_path, sizeof info->feat_path, "%s", tr->d.feat_path ? tr->d.feat_path : "");
        snprintf(info->feat_layers, sizeof info->feat_layers, "%s", tr->d.feat_layers_text ? tr->d.feat_layers_text : "");
        info->feat_weight = tr->d.feat_weight > 0 ? tr->d.feat_weight : 1.0f;
    }
}

void zs_trainer_inject_nan(zs_trainer *tr, int n) { atomic_store(&tr->inject_nan, n); }

zs_status zs_trainer_load(zs_trainer *tr, const char *path, zs_ckpt_info *info_out)
{
    ZS_ASSERT(!tr->thread_live);
    zs_ckpt_info info;
    zs_status st = zs_ckpt_load_into(path, tr->m, tr->t, &info);
    if (st != ZS_OK) return st;
    tr->step = info.step;
    tr->epoch = info.epoch;
    tr->batch_in_epoch = info.batch_in_epoch;
    zs_loader_seek(tr->loader, tr->epoch, tr->batch_in_epoch);
    if (info.lr > 0) {
        tr->lr_cur = info.lr;
        atomic_store(&tr->lr_req, info.lr);
    }
    size_t n = tr->m->table.total, nt = tr->m->table.ntrain;
    memcpy(tr->good_params, tr->m->params, sizeof(float) * n);
    memcpy(tr->good_m, zs_vae_train_adam_m(tr->t), sizeof(float) * nt);
    memcpy(tr->good_v, zs_vae_train_adam_v(tr->t), sizeof(float) * nt);
    tr->good_step = tr->step;
    publish(tr, NULL);
    if (info_out) *info_out = info;
    return ZS_OK;
}

zs_status zs_trainer_save(zs_trainer *tr, const char *path)
{
    ZS_ASSERT(!tr->thread_live || atomic_load(&tr->state) != ZS_TRAINER_RUNNING);
    zs_ckpt_info info;
    zs_trainer_ckpt_info(tr, &info);
    return zs_ckpt_save(path, tr->m, tr->t, &info, 0);
}

long zs_trainer_steps_per_epoch(zs_trainer *tr) { return zs_loader_batches_per_epoch(tr->loader); }
