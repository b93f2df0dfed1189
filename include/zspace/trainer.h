/*
 * zspace/trainer.h - checkpoints and the background trainer.
 *
 * Checkpoint (safetensors, see zspace/st.h): every model tensor under its
 * PyTorch name (enc.conv0.weight, ..., BN running statistics included), the
 * Adam moments as opt.m.<name> and opt.v.<name> (absent in a weights-only
 * file), and in __metadata__:
 *
 *   format "zspace-vae"   version "1"   config "z=128 image=64 widths=32,64,128,256"
 *   step, epoch, batch_in_epoch (where the data order continues), seed (data
 *   order and reparameterisation noise: both are counter-based, so (seed,
 *   step) is the whole RNG state), data_hash (zs_cache_hash of the training
 *   cache, hex), lr, beta, batch, loss ("sse"/"bce"), payload_crc32.
 *
 * Loading checks all of it before touching the caller's model: a truncated
 * or bit-flipped file (CRC), a newer version, another architecture, a
 * missing or mis-shaped tensor are refused with a message naming the file.
 * Saving writes a temporary file, fsyncs it and renames it over the old one,
 * so a crash or a full disk keeps the previous checkpoint.
 *
 * Trainer: a thread that trains a model on a face cache with start, pause,
 * resume and stop, and publishes a snapshot of the weights and metrics every
 * `publish_every` steps. Readers copy the newest snapshot under a mutex that
 * is never held during a training step, so they never wait on training.
 */
#ifndef ZSPACE_TRAINER_H
#define ZSPACE_TRAINER_H

#include "zspace/data.h"
#include "zspace/vae.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ZS_CKPT_VERSION 1

typedef struct zs_ckpt_info {
    zs_vae_config cfg;
    long step;
    int epoch, batch_in_epoch;
    uint64_t seed, data_hash;
    float lr, beta;
    int batch;
    zs_loss_kind loss;
    int has_opt;        /* Adam moments present */
    int version;
    /* the reconstruction loss: "" or "pixel", or "perceptual" / "both" with
     * the feature network's path (as given to zspace train), its blocks
     * ("1,2,3") and its weight */
    char recon[16], feat_path[1024], feat_layers[64];
    float feat_weight;
} zs_ckpt_info;

/* Write model (and, when t != NULL, Adam moments) atomically. f16 != 0
 * stores weights as float16 (weights-only files for shipping). */
zs_status zs_ckpt_save(const char *path, const zs_vae *m, zs_vae_train *t, const zs_ckpt_info *info, int f16);
/* Read and validate only the metadata (the whole file is checked, CRC too). */
zs_status zs_ckpt_read_info(const char *path, zs_ckpt_info *info);
/* Load a model: *out is a new model with the file's config. */
zs_status zs_ckpt_load_model(const char *path, zs_vae **out, zs_ckpt_info *info);
/* Load into an existing model of the same config and, when t != NULL, the
 * Adam moments and step count. Nothing is changed unless all is valid. */
zs_status zs_ckpt_load_into(const char *path, zs_vae *m, zs_vae_train *t, zs_ckpt_info *info);

/* ---- trainer ----------------------------------------------------------------- */
typedef struct zs_trainer_desc {
    const zs_cache *cache;      /* training faces (the split below) */
    zs_data_split split;        /* 0 = the train split; ZS_SPLIT_ALL: every face (a gallery with no train split) */
    zs_vae *model;              /* trained in place; the caller keeps ownership */
    int batch;                  /* default 64 */
    int threads;                /* default: all CPUs */
    float lr;                   /* default 5e-4 */
    float beta;                 /* default 1 (beta_zero for 0) */
    int beta_zero;
    long kl_warmup;             /* steps over which beta ramps from 0 (0: none) */
    long lr_warmup;             /* steps over which lr ramps up, counted from start_step (0: none); for
                                   fine-tuning trained weights with fresh Adam moments */
    zs_loss_kind loss;
    /* feature-consistent loss (zs_train_desc): frozen network, blocks, weight, features only */
    const struct zs_feat *features;
    unsigned feat_layers;
    float feat_weight;
    int no_pixel_loss;
    const char *feat_path, *feat_layers_text;   /* recorded in checkpoints (may be NULL) */
    uint64_t seed;
    int flip;                   /* random horizontal flips (default on: 0 -> on, negative -> off) */
    long max_steps;             /* stop after this many steps in total (0: no limit) */
    int publish_every;          /* default 10 */
    /* resume point (from a checkpoint): step count and data position */
    long start_step;
    int start_epoch, start_batch;
    /* optional: zs_trainer_run_steps returns early once *stop_flag != 0
     * (a signal handler's flag) */
    const volatile int *stop_flag;
    /* > 0: the training threads run at this nice level (zs_thread_set_nice),
     * so that an interactive thread sharing the cores is never kept waiting */
    int nice;
    /* members take chunks of each batch as they get CPU (zs_train_desc.dynamic):
     * for training next to an interactive program; not bit-reproducible */
    int dynamic;
} zs_trainer_desc;

typedef struct zs_train_metrics {
    long step;
    double step_done;           /* zs_now() when `step` finished (0: no step yet) */
    int epoch, batch_in_epoch;
    double img_per_s;           /* over the last ~5 s */
    double loss, rec, kl;       /* exponential moving averages (about 20 steps) */
    double last_loss, last_rec, last_kl;   /* the latest step */
    int active_units;           /* latent dims whose mu varies over the data (var > 0.01) */
    float lr, beta;             /* effective values (beta after warm-up) */
    int nan_events;             /* non-finite steps recovered from */
    int state;                  /* ZS_TRAINER_* */
    char message[256];          /* last notable event ("" when none) */
} zs_train_metrics;

enum { ZS_TRAINER_IDLE, ZS_TRAINER_RUNNING, ZS_TRAINER_PAUSED, ZS_TRAINER_DONE, ZS_TRAINER_FAILED };

typedef struct zs_train_point { long step; float loss, rec, kl; } zs_train_point;

typedef struct zs_trainer zs_trainer;
zs_status zs_trainer_create(zs_trainer **out, const zs_trainer_desc *d);
/* Stops the thread (finishing the current step) and frees. The model keeps
 * the latest weights. */
void zs_trainer_destroy(zs_trainer *tr);
zs_status zs_trainer_start(zs_trainer *tr);
void zs_trainer_pause(zs_trainer *tr);
void zs_trainer_resume(zs_trainer *tr);
/* Ask the thread to stop after the current step and wait for it. */
void zs_trainer_stop(zs_trainer *tr);
/* Run steps on the calling thread instead (tests, benchmarks): returns the
 * status of the last step. */
zs_status zs_trainer_run_steps(zs_trainer *tr, long n);
void zs_trainer_set_lr(zs_trainer *tr, float lr);
void zs_trainer_set_beta(zs_trainer *tr, float beta);
int zs_trainer_state(zs_trainer *tr);

/* Newest published snapshot: version (0 before the first), increasing. */
uint64_t zs_trainer_snapshot_version(zs_trainer *tr);
/* Copy the newest snapshot: params (model table.total floats) and/or
 * metrics and/or KL per latent dimension (z doubles, mean over the batch,
 * moving average). Any pointer may be NULL. Returns its version. */
uint64_t zs_trainer_snapshot(zs_trainer *tr, float *params, zs_train_metrics *metrics, double *kl_dim);
/* Loss history, one point per published snapshot (the newest `max`). */
int zs_trainer_history(zs_trainer *tr, zs_train_point *out, int max);
/* The training context (for checkpoints, only while not running). */
zs_vae_train *zs_trainer_train_ctx(zs_trainer *tr);
/* Fill a checkpoint description of the current state (not while running). */
void zs_trainer_ckpt_info(zs_trainer *tr, zs_ckpt_info *info);

/* Load a checkpoint (weights, Adam moments, step and data position) into
 * the trainer's model; not while running. Nothing changes on failure. */
zs_status zs_trainer_load(zs_trainer *tr, const char *path, zs_ckpt_info *info);
/* Save the current state (not while running). */
zs_status zs_trainer_save(zs_trainer *tr, const char *path);
long zs_trainer_steps_per_epoch(zs_trainer *tr);

/* ---- evaluation ------------------------------------------------------------------ */
/* Eval mode over one split of a cache, z = mu: mean per-pixel squared error
 * on [0,1] and mean KL per face. threads 0 -> all CPUs. */
zs_status zs_vae_evaluate(const zs_vae *m, const zs_cache *c, zs_data_split split, int threads, double *mse,
                          double *kl, int *count);

/* Test hook: the next `n` steps see NaN inputs. */
void zs_trainer_inject_nan(zs_trainer *tr, int n);

#ifdef __cplusplus
}
#endif
#endif
