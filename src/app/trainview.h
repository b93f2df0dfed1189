/*
 * trainview.h - the Train tab's machinery: a zs_trainer on a copy of the
 * explorer's model, and one worker thread that watches it.
 *
 * The trainer runs its own thread (and its zs_team of `threads` members).
 * The worker thread owns an inference context: a few times a second it
 * copies the newest snapshot (zs_trainer_snapshot: weights, metrics, KL
 * per dimension) and the loss history, reconstructs 8 fixed faces with
 * those weights and hands everything to the UI (zs_tv_poll), so the UI
 * thread never runs the model nor waits on training. The worker also does
 * what would block: stopping the trainer (a join: up to one step), saving a
 * checkpoint (pause, wait until paused, zs_trainer_save, resume) and
 * recomputing the attribute vectors (zs_latents_encode +
 * zs_attr_vectors_compute). Pause, resume, lr and beta are the trainer's
 * own non-blocking calls, made from the UI thread.
 *
 *     zs_tv *tv = zs_tv_create(&(zs_tv_desc){.model = m, .cache = c, .split = ZS_SPLIT_ALL, .threads = 1});
 *     zs_tv_start(tv, err, sizeof err);       // creates the trainer on the first call
 *     zs_tv_view v;  if (zs_tv_poll(tv, &v)) show(v.recon, v.metrics);
 *     zs_tv_destroy(tv);                      // stops training, joins both threads
 */
#ifndef ZS_APP_TRAINVIEW_H
#define ZS_APP_TRAINVIEW_H

#include "zspace/latent.h"
#include "zspace/trainer.h"

#define ZS_TV_FACES 8
#define ZS_TV_HISTORY 2048

typedef struct zs_tv_desc {
    const zs_vae *model;         /* copied: training changes the copy only */
    const zs_cache *cache;       /* training faces; must outlive the zs_tv */
    zs_data_split split;         /* ZS_SPLIT_TRAIN, or ZS_SPLIT_ALL for a gallery */
    int threads;                 /* the trainer's team */
    int nice;                    /* its threads' nice level (0: as the UI's) */
    int dynamic;                 /* members take chunks of the batch as they get CPU (zs_train_desc) */
    int batch;                   /* 0: 64 */
    void (*wake)(void *);        /* called on the worker after each result */
    void *user;
} zs_tv_desc;

/* What the UI shows; arrays owned by the zs_tv, valid until the next poll. */
typedef struct zs_tv_view {
    int have_trainer;
    int state;                   /* ZS_TRAINER_*; IDLE before the first Start */
    int stopping, saving, recomputing;   /* jobs in flight */
    zs_train_metrics metrics;
    long steps_per_epoch;
    int batch, nfaces;           /* training faces (in the split) */
    int team, dynamic;           /* the trainer's threads and how they share a batch (0 before Start) */
    const uint8_t *orig;         /* ZS_TV_FACES x S x S x 3: the fixed faces */
    const uint8_t *recon;        /* their reconstructions with the weights of recon_step */
    long recon_step;             /* -1: none yet */
    uint64_t recon_version;      /* increases with every new reconstruction */
    const double *kl_dim;        /* z values */
    int z;
    const zs_train_point *hist;  /* nhist points, oldest first */
    int nhist;
    /* the last job's outcome (a message for the status line), once */
    int have_msg, msg_err;
    char msg[700];
    long saved_step;             /* the step the last successful save wrote (-1 none) */
} zs_tv_view;

typedef struct zs_tv zs_tv;
zs_tv *zs_tv_create(const zs_tv_desc *d);
void zs_tv_destroy(zs_tv *tv);
/* Start (or, after Stop, start again; paused: resume). 0, or -1 and why in err. */
int zs_tv_start(zs_tv *tv, char *err, size_t nerr);
void zs_tv_pause(zs_tv *tv);
void zs_tv_resume(zs_tv *tv);
void zs_tv_stop(zs_tv *tv);                              /* on the worker */
void zs_tv_save(zs_tv *tv, const char *path);            /* on the worker */
void zs_tv_set_lr(zs_tv *tv, float lr);
void zs_tv_set_beta(zs_tv *tv, float beta);
/* Whether the grid is on screen: while it is not, it is reconstructed every 5 s instead of a few
 * times a second (each grid is 8 encodes and decodes and a copy of the weights). */
void zs_tv_set_shown(zs_tv *tv, int shown);
/* Copy the newest snapshot's weights (model table.total floats); returns
 * its step, or -1 when there is no trainer. One memcpy under the trainer's
 * snapshot lock. */
long zs_tv_copy_weights(zs_tv *tv, float *params);
int zs_tv_poll(zs_tv *tv, zs_tv_view *out);
/* Recompute attribute vectors on the worker: encode every face of c with
 * the weights `params` (copied; config as the model given at create) and
 * fit the vectors (train split, or all faces when c has none). */
void zs_tv_recompute(zs_tv *tv, const float *params, const zs_cache *c);
/* The recomputed vectors, once (the caller then owns them); 1 when ready. */
int zs_tv_poll_attrs(zs_tv *tv, int *ok, zs_attr_vectors *out, char *msg, size_t nmsg, double *ms);

#endif
