/* The Analysis tab's worker: see analyzer.h. The job and the result cross
 * the lock by pointer; the computation runs unlocked on the worker, at a
 * lower priority than the UI and the decoder (nice +10 for this thread). */
#include "analyzer.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- the computation ----------------------------------------------------------- */
static double thread_cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void heat_color(double r, uint8_t *p)
{
    static const double zero[3] = {30, 31, 34}, pos[3] = {235, 80, 60}, neg[3] = {70, 140, 240};
    double t = fabs(r) / 0.6 > 1 ? 1 : fabs(r) / 0.6;   /* full colour from |r| = 0.6 (as the view says) */
    const double *c = r >= 0 ? pos : neg;
    for (int i = 0; i < 3; i++) p[i] = (uint8_t)lround(zero[i] + (c[i] - zero[i]) * t);
}

/* Nearest class centre in the plane: the fraction of the test rows (label
 * >= 0 and fold[i] == test, or every labelled row when test < 0) put in
 * their own class, with the centres from the other rows (all labelled rows
 * when test < 0). */
static double centre_accuracy(const float *xy, const int *label, const int *fold, int n, int k, int test)
{
    double cx[ZS_AN_MAX_CLASSES] = {0}, cy[ZS_AN_MAX_CLASSES] = {0};
    int cn[ZS_AN_MAX_CLASSES] = {0};
    for (int i = 0; i < n; i++)
        if (label[i] >= 0 && (test < 0 || fold[i] != test)) cx[label[i]] += xy[2 * i], cy[label[i]] += xy[2 * i + 1], cn[label[i]]++;
    for (int c = 0; c < k; c++) {
        if (!cn[c]) return NAN;
        cx[c] /= cn[c], cy[c] /= cn[c];
    }
    int right = 0, all = 0;
    for (int i = 0; i < n; i++) {
        if (label[i] < 0 || (test >= 0 && fold[i] != test)) continue;
        int best = 0;
        double bd = INFINITY;
        for (int c = 0; c < k; c++) {
            double dx = xy[2 * i] - cx[c], dy = xy[2 * i + 1] - cy[c], d = dx * dx + dy * dy;
            if (d < bd) bd = d, best = c;
        }
        right += best == label[i], all++;
    }
    return all ? (double)right / all : NAN;
}

/* The LDA plane of rows labelled lab: dir (2, z) and mean; 0 with a message. */
static int lda_plane(const float *mu, int n, int z, const int *lab, int k, float *mean, float *dir, double info[2],
                     double *shrink, int *second_pc, char *msg, size_t nmsg)
{
    zs_lda l;
    if (zs_lda_fit(mu, n, z, lab, k, -1, &l) != ZS_OK) {
        snprintf(msg, nmsg, "%s", zs_last_error());
        return 0;
    }
    memcpy(mean, l.mean, sizeof(float) * z);
    memcpy(dir, l.dir, sizeof(float) * z);
    info[0] = l.ratio[0];
    *shrink = l.shrinkage;
    if (l.ndir >= 2) {
        memcpy(dir + z, l.dir + z, sizeof(float) * z);
        info[1] = l.ratio[1];
        *second_pc = 0;
    } else {   /* y: the principal direction of the labelled rows once x's direction is taken out */
        int m = 0;
        for (int i = 0; i < n; i++) m += lab[i] >= 0;
        float *res = zs_xmalloc(sizeof(float) * (size_t)m * z);
        m = 0;
        for (int i = 0; i < n; i++) {
            if (lab[i] < 0) continue;
            const float *x = mu + (size_t)i * z;
            double s = 0;
            for (int j = 0; j < z; j++) s += (double)(x[j] - l.mean[j]) * l.dir[j];
            for (int j = 0; j < z; j++) res[(size_t)m * z + j] = (float)(x[j] - l.mean[j] - s * l.dir[j]);
            m++;
        }
        zs_pca p;
        if (zs_pca_fit(res, m, z, 1, &p) == ZS_OK) {
            memcpy(dir + z, p.dir, sizeof(float) * z);
            info[1] = p.total_var > 0 ? p.var[0] / p.total_var : 0;
            zs_pca_free(&p);
        } else memset(dir + z, 0, sizeof(float) * z);
        free(res);
        *second_pc = 1;
    }
    zs_lda_free(&l);
    return 1;
}

static void plane_alloc(zs_an_plane *p, int n, int z)
{
    p->xy = zs_xcalloc((size_t)n * 2, sizeof(float));
    p->mean = zs_xcalloc((size_t)z, sizeof(float));
    p->dir = zs_xcalloc((size_t)2 * z, sizeof(float));
    p->acc = p->acc_held = NAN;
}

/* mu (n, cfg z) of the first n faces under the job's weights: zs_latents_encode
 * on this (niced) thread alone; NULL when the faces are fewer than n */
static float *encode_faces(const zs_an_job *job)
{
    zs_vae *m = zs_vae_create(&job->cfg);
    memcpy(m->params, job->params, sizeof(float) * job->nparams);
    zs_latents L;
    float *mu = NULL;
    if (zs_latents_encode(m, job->faces, 1, NULL, NULL, &L) == ZS_OK) {
        if (L.n >= job->n) mu = L.mu, L.mu = NULL;
        zs_latents_free(&L);
    }
    zs_vae_destroy(m);
    return mu;
}

void zs_an_compute(const zs_an_job *job, zs_an_result *r)
{
    double t0 = zs_now(), c0 = thread_cpu();
    int n = job->n, z = job->z, k = job->label ? job->k : 0;
    memset(r, 0, sizeof *r);
    r->gen = job->gen, r->weights_step = job->weights_step, r->n = n, r->z = z, r->k = k;
    r->live = job->params != NULL;
    if (k > ZS_AN_MAX_CLASSES) k = r->k = ZS_AN_MAX_CLASSES;
    float *own = job->params && job->faces ? encode_faces(job) : NULL;
    const float *mu_all = own ? own : job->mu;
    if (!mu_all) {
        snprintf(r->msg, sizeof r->msg, "the faces could not be encoded with the training weights");
        return;
    }
    zs_status sst = zs_latent_stats_compute(mu_all, n, z, ZS_AN_BINS, job->seed, &r->st);
    if (sst != ZS_OK) {
        snprintf(r->msg, sizeof r->msg, "%s", zs_last_error());
        free(own);
        return;
    }
    r->ok = 1;
    r->npairs = zs_latent_top_pairs(&r->st, ZS_AN_PAIRS, r->pairs, r->r);
    r->heat = zs_xmalloc((size_t)z * z * 3);
    for (size_t i = 0; i < (size_t)z * z; i++) heat_color(r->st.corr[i], r->heat + 3 * i);
    r->hist = zs_xcalloc((size_t)z * ZS_AN_BINS, sizeof(float));
    r->hist_lo = zs_xmalloc(sizeof(float) * z);
    r->hist_hi = zs_xmalloc(sizeof(float) * z);
    for (int j = 0; j < z; j++) {   /* each component over its own range */
        double lo = r->st.min[j], hi = r->st.max[j];
        if (!(hi > lo)) lo -= 0.5, hi += 0.5;
        r->hist_lo[j] = (float)lo, r->hist_hi[j] = (float)hi;
        for (int i = 0; i < n; i++) {
            int b = (int)floor((mu_all[(size_t)i * z + j] - lo) / (hi - lo) * ZS_AN_BINS);
            r->hist[(size_t)j * ZS_AN_BINS + (b < 0 ? 0 : b >= ZS_AN_BINS ? ZS_AN_BINS - 1 : b)] += 1;
        }
    }
    r->label = zs_xmalloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    for (int i = 0; i < n; i++) r->label[i] = job->label && job->label[i] < k ? job->label[i] : -1;
    for (int i = 0; i < n; i++)
        if (r->label[i] >= 0) r->count[r->label[i]]++;

    /* PCA */
    zs_an_plane *pp = &r->pca;
    plane_alloc(pp, n, z);
    zs_pca p;
    if (zs_pca_fit(mu_all, n, z, 2, &p) == ZS_OK) {
        pp->ok = 1;
        memcpy(pp->mean, p.mean, sizeof(float) * z);
        memcpy(pp->dir, p.dir, sizeof(float) * (size_t)p.k * z);
        for (int i = 0; i < p.k; i++) pp->axis_info[i] = p.total_var > 0 ? p.var[i] / p.total_var : 0;
        zs_latent_project(mu_all, n, z, pp->mean, pp->dir, 2, pp->xy);
        if (k >= 2) pp->acc = centre_accuracy(pp->xy, r->label, NULL, n, k, -1);
        zs_pca_free(&p);
    } else snprintf(pp->msg, sizeof pp->msg, "%s", zs_last_error());

    /* LDA */
    zs_an_plane *lp = &r->lda;
    plane_alloc(lp, n, z);
    if (k < 2) snprintf(lp->msg, sizeof lp->msg, "choose at least one attribute to separate by");
    else if (lda_plane(mu_all, n, z, r->label, k, lp->mean, lp->dir, lp->axis_info, &lp->shrinkage,
                       &lp->second_is_pc, lp->msg, sizeof lp->msg)) {
        lp->ok = 1;
        zs_latent_project(mu_all, n, z, lp->mean, lp->dir, 2, lp->xy);
        lp->acc = centre_accuracy(lp->xy, r->label, NULL, n, k, -1);
        /* held out: two halves, each class's rows alternately in one and the other; fit on one,
         * test on the other, and the other way round */
        int *half = zs_xmalloc(sizeof(int) * (size_t)n), *fold = zs_xmalloc(sizeof(int) * (size_t)n);
        int next[ZS_AN_MAX_CLASSES] = {0};
        for (int i = 0; i < n; i++) fold[i] = r->label[i] >= 0 ? next[r->label[i]]++ % 2 : -1;
        float *m2 = zs_xmalloc(sizeof(float) * z), *d2 = zs_xmalloc(sizeof(float) * 2 * z);
        float *xy2 = zs_xmalloc(sizeof(float) * (size_t)n * 2);
        double info[2], sh, acc = 0;
        int folds = 0, spc;
        char msg[400];
        for (int f = 0; f < 2; f++) {
            for (int i = 0; i < n; i++) half[i] = fold[i] >= 0 && fold[i] != f ? r->label[i] : -1;
            if (!lda_plane(mu_all, n, z, half, k, m2, d2, info, &sh, &spc, msg, sizeof msg)) continue;
            zs_latent_project(mu_all, n, z, m2, d2, 2, xy2);
            double a = centre_accuracy(xy2, r->label, fold, n, k, f);
            if (isfinite(a)) acc += a, folds++;
        }
        lp->acc_held = folds == 2 ? acc / 2 : NAN;
        free(half), free(fold), free(m2), free(d2), free(xy2);
    }
    r->ms = (zs_now() - t0) * 1e3;
    r->cpu_ms = (thread_cpu() - c0) * 1e3;
    free(own);
}

static void plane_free(zs_an_plane *p) { free(p->xy), free(p->mean), free(p->dir); }

void zs_an_result_free(zs_an_result *r)
{
    if (r->ok) zs_latent_stats_free(&r->st);
    free(r->heat), free(r->hist), free(r->hist_lo), free(r->hist_hi), free(r->label);
    plane_free(&r->pca), plane_free(&r->lda);
    memset(r, 0, sizeof *r);
}

/* ---- the thread ------------------------------------------------------------------- */
struct zs_analyzer {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cv;
    void (*wake)(void *);
    void *user;
    /* under lock */
    int quit, has_job, working, has_result;
    zs_an_job job;                   /* .mu / .label owned here */
    zs_an_result result;
};

static void job_free(zs_an_job *j)
{
    free((void *)j->mu), free((void *)j->label), free((void *)j->params);
    memset(j, 0, sizeof *j);
}

static void *an_worker(void *arg)
{
    zs_analyzer *w = arg;
    pthread_setname_np(pthread_self(), "zs-analysis");
    /* below the UI and the decoder: a slider's face comes first */
    zs_blas_init();
    zs_thread_set_nice(10);   /* best effort */
    for (;;) {
        pthread_mutex_lock(&w->lock);
        while (!w->quit && !w->has_job) pthread_cond_wait(&w->cv, &w->lock);
        if (w->quit) {
            pthread_mutex_unlock(&w->lock);
            return NULL;
        }
        zs_an_job job = w->job;
        memset(&w->job, 0, sizeof w->job);
        w->has_job = 0;
        w->working = 1;
        pthread_mutex_unlock(&w->lock);
        zs_an_result r;
        zs_an_compute(&job, &r);
        job_free(&job);
        pthread_mutex_lock(&w->lock);
        if (w->has_result) zs_an_result_free(&w->result);   /* never polled: stale */
        w->result = r;
        w->has_result = 1;
        w->working = 0;
        pthread_mutex_unlock(&w->lock);
        if (w->wake) w->wake(w->user);
    }
}

zs_analyzer *zs_analyzer_create(void (*wake)(void *), void *user)
{
    zs_analyzer *w = zs_xcalloc(1, sizeof *w);
    w->wake = wake, w->user = user;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thread, NULL, an_worker, w) != 0) {
        zs_log(ZS_LOG_ERROR, "cannot start the analysis thread");
        exit(1);
    }
    return w;
}

void zs_analyzer_destroy(zs_analyzer *w)
{
    if (!w) return;
    pthread_mutex_lock(&w->lock);
    w->quit = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->cv);
    if (w->has_job) job_free(&w->job);
    if (w->has_result) zs_an_result_free(&w->result);
    free(w);
}

void zs_analyzer_post(zs_analyzer *w, const zs_an_job *job)
{
    zs_an_job j = *job;   /* copies made outside the lock */
    if (job->mu) {
        float *mu = zs_xmalloc(sizeof(float) * (size_t)(job->n > 0 ? job->n : 1) * job->z);
        memcpy(mu, job->mu, sizeof(float) * (size_t)job->n * job->z);
        j.mu = mu;
    }
    if (job->params) {
        float *pc = zs_xmalloc(sizeof(float) * job->nparams);
        memcpy(pc, job->params, sizeof(float) * job->nparams);
        j.params = pc;
    }
    if (job->label) {
        int *lab = zs_xmalloc(sizeof(int) * (size_t)(job->n > 0 ? job->n : 1));
        memcpy(lab, job->label, sizeof(int) * (size_t)job->n);
        j.label = lab;
    }
    pthread_mutex_lock(&w->lock);
    if (w->has_job) job_free(&w->job);   /* the newest wins */
    w->job = j;
    w->has_job = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->lock);
}

int zs_analyzer_poll(zs_analyzer *w, zs_an_result *out)
{
    pthread_mutex_lock(&w->lock);
    int got = w->has_result;
    if (got) {
        *out = w->result;
        memset(&w->result, 0, sizeof w->result);
        w->has_result = 0;
    }
    pthread_mutex_unlock(&w->lock);
    return got;
}

int zs_analyzer_busy(zs_analyzer *w)
{
    pthread_mutex_lock(&w->lock);
    int b = w->has_job || w->working || w->has_result;
    pthread_mutex_unlock(&w->lock);
    return b;
}
