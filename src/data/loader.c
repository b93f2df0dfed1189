/* The batch loader (see zspace/data.h): one worker thread prepares batches
 * into two slots while the trainer consumes them (double buffering).
 *
 * Batches are numbered globally, g = epoch * batches_per_epoch + batch, and
 * what batch g holds is a pure function of (seed, g): the worker and the
 * consumer only agree on which g comes next. The consumer takes g from a
 * ready slot (copying it out, so the slot is free again at once); the worker
 * fills the lowest g not yet filled, at most two ahead of the consumer. A
 * seek bumps a generation number: slots of an older generation are dropped,
 * including one the worker is filling at that moment.
 *
 * Epoch e's order: the split's cache indices in ascending order, shuffled
 * by Fisher-Yates from the top (for i = n-1 down to 1, swap i with
 * zs_rng_below(i+1)) with a zs_rng seeded with zs_rand64(seed, e). */
#include "data_impl.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define NSLOT 2

typedef struct slot {
    float *x;            /* (batch, 3, S, S) */
    int *idx;            /* (batch) cache indices */
    uint8_t *flip;       /* (batch) */
    int n;               /* images in the batch */
    long long g;         /* global batch number */
    uint64_t gen;        /* generation it was filled for */
    int state;           /* FREE, FILLING, READY, TAKEN */
} slot;
enum { FREE, FILLING, READY, TAKEN };

struct zs_loader {
    zs_loader_desc d;
    const zs_cache *c;
    int *split;          /* (n) ascending cache indices of the split */
    int n, bpe, S;
    size_t img_floats;
    /* worker-only: the order of one epoch, one face's bytes */
    int *order;
    long long order_epoch;
    uint8_t *face;
    /* shared, under mu */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv_ready, cv_free;
    slot s[NSLOT];
    long long next_fill, next_take;
    uint64_t gen;
    int stop;
    int failed;          /* the cache could not be read: every later batch fails */
    int told_deleted;    /* worker-only: the deleted-cache warning was given */
    char err[1024];      /* why */
};

static void epoch_order(zs_loader *l, long long e)
{
    if (l->order_epoch == e) return;
    memcpy(l->order, l->split, sizeof(int) * (size_t)l->n);
    zs_rng r;
    zs_rng_seed(&r, zs_rand64(l->d.seed, (uint64_t)e));
    for (int i = l->n - 1; i > 0; i--) {
        int k = (int)zs_rng_below(&r, (uint64_t)i + 1);
        int t = l->order[i];
        l->order[i] = l->order[k];
        l->order[k] = t;
    }
    l->order_epoch = e;
}

/* Batch g into slot s (worker thread, without the lock). The faces are
 * read with pread, not from the mapping: a cache truncated or overwritten
 * while training is an error with a message, not SIGBUS. */
static zs_status fill(zs_loader *l, slot *s, long long g)
{
    long long e = g / l->bpe;
    int b = (int)(g % l->bpe);
    epoch_order(l, e);
    int p0 = b * l->d.batch;
    int n = l->n - p0 < l->d.batch ? l->n - p0 : l->d.batch;
    uint64_t fkey = zs_rand64(l->d.seed ^ 0x666c6970ull, (uint64_t)e);
    zs_status st = zs_cache_check_file(l->c);
    if (st != ZS_OK) return st;
    if (!l->told_deleted && zs_cache_file_deleted(l->c)) {
        l->told_deleted = 1;
        zs_log(ZS_LOG_WARN, "%s was deleted or replaced while in use: training goes on with the faces it opened "
               "(resuming later needs this cache)", zs_cache_path(l->c));
    }
    for (int k = 0; k < n; k++) {
        int p = p0 + k;
        int i = l->order[p];
        int f = l->d.flip && (zs_rand64(fkey, (uint64_t)p) >> 63);
        s->idx[k] = i;
        s->flip[k] = (uint8_t)f;
        if ((st = zs_cache_read_face(l->c, i, l->face)) != ZS_OK) return st;
        zs_face_to_chw(l->face, l->S, s->x + (size_t)k * l->img_floats, f);
    }
    s->n = n;
    return ZS_OK;
}

static void *worker(void *arg)
{
    zs_loader *l = arg;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        slot *s = NULL;
        while (!l->stop) {
            if (!l->failed && l->next_fill < l->next_take + NSLOT)
                for (int i = 0; i < NSLOT && !s; i++)
                    if (l->s[i].state == FREE) s = &l->s[i];
            if (s) break;
            pthread_cond_wait(&l->cv_free, &l->mu);
        }
        if (l->stop) break;
        long long g = l->next_fill++;
        s->g = g;
        s->gen = l->gen;
        s->state = FILLING;
        pthread_mutex_unlock(&l->mu);
        zs_status st = fill(l, s, g);
        pthread_mutex_lock(&l->mu);
        if (st != ZS_OK) {
            snprintf(l->err, sizeof l->err, "%s", zs_last_error());
            l->failed = 1;
            s->state = FREE;
            pthread_cond_broadcast(&l->cv_ready);
        } else if (s->gen == l->gen) {
            s->state = READY;
            pthread_cond_broadcast(&l->cv_ready);
        } else {
            s->state = FREE;   /* a seek overtook it */
        }
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

zs_status zs_loader_create(zs_loader **out, const zs_loader_desc *d)
{
    ZS_ASSERT(out && d && d->cache && d->batch > 0);
    ZS_ASSERT(d->split >= ZS_SPLIT_TRAIN && d->split <= ZS_SPLIT_ALL);
    *out = NULL;
    zs_loader *l = zs_xcalloc(1, sizeof *l);
    l->d = *d;
    if (l->d.drop_last == 0) l->d.drop_last = 1;
    l->c = d->cache;
    l->n = zs_cache_split_indices(l->c, d->split, &l->split);
    l->S = zs_cache_size(l->c);
    l->img_floats = (size_t)3 * l->S * l->S;
    l->bpe = l->d.drop_last > 0 ? l->n / d->batch : (l->n + d->batch - 1) / d->batch;
    if (l->bpe == 0) {
        zs_status st = zs_errorf(ZS_ERR_ARG, "%s: the %s split has %d faces, fewer than one batch of %d",
                                 zs_cache_path(l->c), zs_split_name(d->split), l->n, d->batch);
        free(l->split);
        free(l);
        return st;
    }
    l->order = zs_xmalloc(sizeof(int) * (size_t)l->n);
    l->order_epoch = -1;
    l->face = zs_xmalloc((size_t)l->img_floats);
    for (int i = 0; i < NSLOT; i++) {
        l->s[i].x = zs_alloc_aligned(sizeof(float) * l->img_floats * (size_t)d->batch);
        l->s[i].idx = zs_xmalloc(sizeof(int) * (size_t)d->batch);
        l->s[i].flip = zs_xmalloc((size_t)d->batch);
    }
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv_ready, NULL);
    pthread_cond_init(&l->cv_free, NULL);
    if (pthread_create(&l->th, NULL, worker, l) != 0) {
        fprintf(stderr, "zspace: cannot start the loader thread\n");
        exit(3);
    }
    *out = l;
    return ZS_OK;
}

void zs_loader_destroy(zs_loader *l)
{
    if (!l) return;
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_broadcast(&l->cv_free);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->th, NULL);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv_ready);
    pthread_cond_destroy(&l->cv_free);
    for (int i = 0; i < NSLOT; i++) {
        zs_free_aligned(l->s[i].x);
        free(l->s[i].idx);
        free(l->s[i].flip);
    }
    free(l->order);
    free(l->face);
    free(l->split);
    free(l);
}

int zs_loader_next_ex(zs_loader *l, float *x, int *indices, uint8_t *flipped, int *epoch, int *batch_in_epoch)
{
    ZS_ASSERT(l);
    pthread_mutex_lock(&l->mu);
    long long g = l->next_take;
    slot *s = NULL;
    for (;;) {
        for (int i = 0; i < NSLOT && !s; i++)
            if (l->s[i].state == READY && l->s[i].g == g && l->s[i].gen == l->gen) s = &l->s[i];
        if (s) break;
        if (l->failed) {
            zs_errorf(ZS_ERR_IO, "%s", l->err);   /* on the caller's thread */
            pthread_mutex_unlock(&l->mu);
            return -1;
        }
        pthread_cond_wait(&l->cv_ready, &l->mu);
    }
    s->state = TAKEN;
    l->next_take = g + 1;
    pthread_mutex_unlock(&l->mu);

    int n = s->n;
    if (x) memcpy(x, s->x, sizeof(float) * l->img_floats * (size_t)n);
    if (indices) memcpy(indices, s->idx, sizeof(int) * (size_t)n);
    if (flipped) memcpy(flipped, s->flip, (size_t)n);
    if (epoch) *epoch = (int)(g / l->bpe);
    if (batch_in_epoch) *batch_in_epoch = (int)(g % l->bpe);

    pthread_mutex_lock(&l->mu);
    s->state = FREE;
    pthread_cond_signal(&l->cv_free);
    pthread_mutex_unlock(&l->mu);
    return n;
}

int zs_loader_next(zs_loader *l, float *x, int *epoch, int *batch_in_epoch)
{
    return zs_loader_next_ex(l, x, NULL, NULL, epoch, batch_in_epoch);
}

void zs_loader_seek(zs_loader *l, int epoch, int batch_in_epoch)
{
    ZS_ASSERT(l && epoch >= 0 && batch_in_epoch >= 0);
    long long g = (long long)epoch * l->bpe + batch_in_epoch;
    pthread_mutex_lock(&l->mu);
    l->gen++;
    l->next_take = l->next_fill = g;
    for (int i = 0; i < NSLOT; i++)
        if (l->s[i].state == READY) l->s[i].state = FREE;
    pthread_cond_signal(&l->cv_free);
    pthread_mutex_unlock(&l->mu);
}

int zs_loader_batches_per_epoch(const zs_loader *l) { return l->bpe; }
int zs_loader_split_count(const zs_loader *l) { return l->n; }
