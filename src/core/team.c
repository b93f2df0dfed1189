/* Thread team: SPMD workers with a reusable barrier (see zspace/core.h).
 *
 * Workers sleep on a condition variable between runs, so an idle team costs
 * nothing. The barrier spins briefly before sleeping: training hits ~30
 * barriers per step and most waits are microseconds long. */
#include "zspace/core.h"

#include <pthread.h>
#include <stdlib.h>

struct zs_team {
    int n;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t cv_start, cv_done;
    zs_team_fn fn;
    void *arg;
    uint64_t generation;   /* bumped per run */
    int running;           /* workers still in the current run */
    int quit;
    /* barrier */
    pthread_mutex_t bmu;
    pthread_cond_t bcv;
    int bcount;
    unsigned bphase;       /* accessed atomically */
};

typedef struct { zs_team *t; int tid; } worker_arg;

static void *worker_main(void *p)
{
    worker_arg *wa = p;
    zs_team *t = wa->t;
    int tid = wa->tid;
    free(wa);
    uint64_t seen = 0;
    for (;;) {
        pthread_mutex_lock(&t->mu);
        while (!t->quit && t->generation == seen) pthread_cond_wait(&t->cv_start, &t->mu);
        if (t->quit) {
            pthread_mutex_unlock(&t->mu);
            return NULL;
        }
        seen = t->generation;
        zs_team_fn fn = t->fn;
        void *arg = t->arg;
        pthread_mutex_unlock(&t->mu);
        fn(arg, tid, t->n);
        pthread_mutex_lock(&t->mu);
        if (--t->running == 0) pthread_cond_signal(&t->cv_done);
        pthread_mutex_unlock(&t->mu);
    }
}

zs_team *zs_team_create(int n)
{
    if (n < 1) n = 1;
    zs_team *t = zs_xcalloc(1, sizeof *t);
    t->n = n;
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv_start, NULL);
    pthread_cond_init(&t->cv_done, NULL);
    pthread_mutex_init(&t->bmu, NULL);
    pthread_cond_init(&t->bcv, NULL);
    t->threads = zs_xcalloc((size_t)n, sizeof *t->threads);
    for (int i = 1; i < n; i++) {
        worker_arg *wa = zs_xmalloc(sizeof *wa);
        wa->t = t;
        wa->tid = i;
        if (pthread_create(&t->threads[i], NULL, worker_main, wa) != 0) {
            fprintf(stderr, "zspace: cannot start a worker thread\n");
            exit(3);
        }
    }
    return t;
}

void zs_team_destroy(zs_team *t)
{
    if (!t) return;
    pthread_mutex_lock(&t->mu);
    t->quit = 1;
    pthread_cond_broadcast(&t->cv_start);
    pthread_mutex_unlock(&t->mu);
    for (int i = 1; i < t->n; i++) pthread_join(t->threads[i], NULL);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv_start);
    pthread_cond_destroy(&t->cv_done);
    pthread_mutex_destroy(&t->bmu);
    pthread_cond_destroy(&t->bcv);
    free(t->threads);
    free(t);
}

int zs_team_size(const zs_team *t) { return t->n; }

void zs_team_run(zs_team *t, zs_team_fn fn, void *arg)
{
    if (t->n == 1) {
        fn(arg, 0, 1);
        return;
    }
    pthread_mutex_lock(&t->mu);
    t->fn = fn;
    t->arg = arg;
    t->running = t->n - 1;
    t->generation++;
    pthread_cond_broadcast(&t->cv_start);
    pthread_mutex_unlock(&t->mu);
    fn(arg, 0, t->n);
    pthread_mutex_lock(&t->mu);
    while (t->running > 0) pthread_cond_wait(&t->cv_done, &t->mu);
    pthread_mutex_unlock(&t->mu);
}

unsigned zs_team_arrive(zs_team *t)
{
    if (t->n == 1) return 0;
    pthread_mutex_lock(&t->bmu);
    unsigned phase = t->bphase;
    if (++t->bcount == t->n) {
        t->bcount = 0;
        __atomic_store_n(&t->bphase, phase + 1, __ATOMIC_RELEASE);
        pthread_cond_broadcast(&t->bcv);
    }
    pthread_mutex_unlock(&t->bmu);
    return phase;
}

int zs_team_passed(zs_team *t, unsigned ticket)
{
    return t->n == 1 || __atomic_load_n(&t->bphase, __ATOMIC_ACQUIRE) != ticket;
}

void zs_team_wait(zs_team *t, unsigned ticket)
{
    if (t->n == 1) return;
    /* Short spin: the other member is usually microseconds away. */
    for (int i = 0; i < 4000; i++) {
        if (__atomic_load_n(&t->bphase, __ATOMIC_ACQUIRE) != ticket) return;
        __builtin_ia32_pause();
    }
    pthread_mutex_lock(&t->bmu);
    while (t->bphase == ticket) pthread_cond_wait(&t->bcv, &t->bmu);
    pthread_mutex_unlock(&t->bmu);
}

void zs_team_barrier(zs_team *t) { zs_team_wait(t, zs_team_arrive(t)); }

