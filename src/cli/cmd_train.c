/* zspace train: train a VAE on a face cache, resumable, with a metrics CSV,
 * reconstruction grids of fixed validation faces and checkpoints.
 *
 * The CLI runs the trainer's steps on this thread (the explorer runs the
 * same trainer on a background thread): steps are deterministic given
 * (seed, step), so a resumed run repeats an uninterrupted one. */
#include "cli.h"
#include "zspace/features.h"
#include "zspace/trainer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


static void usage(FILE *out)
{
    fprintf(out,
            "usage: zspace train --data FACES.zsf --out MODEL.safetensors [--epochs E | --steps N]\n"
            "                    [--batch 64] [--threads 2] [--z 128] [--beta 1] [--lr 5e-4] [--seed S]\n"
            "                    [--kl-warmup STEPS] [--loss sse|bce|pixel|perceptual|both] [--grid-every K] [--ckpt-every K]\n"
            "                    [--features FEAT.safetensors [--feature-layers 1,2,3] [--alpha A] [--beta B]]\n"
            "                    [--log-every K] [--resume | --init WEIGHTS.safetensors]\n\n"
            "Trains the dfc64 VAE (or its 128-pixel variant, by the cache's face size) on the train split.\n"
            "Writes MODEL.safetensors (weights, Adam state, training position), MODEL.metrics.csv, and\n"
            "every K steps a grid of 8 fixed validation faces above their reconstructions into\n"
            "MODEL_recon/reconstructed_<step>.png. Ctrl-C saves a checkpoint and exits; --resume\n"
            "continues from MODEL.safetensors exactly where it stopped.\n\n"
            "  --epochs E / --steps N   train until this many epochs / steps in total (default 10 epochs)\n"
            "  --beta B                 KL weight (default 1); --kl-warmup ramps it from 0 over STEPS\n"
            "  --loss L                 sse (= pixel, the default) or bce: pixel reconstruction loss;\n"
            "                           perceptual: the feature-consistent loss of DFC-VAE through the frozen\n"
            "                           network --features (made by zspace train-features) on the blocks\n"
            "                           --feature-layers (default 1,2,3); both: pixel SSE + that. With\n"
            "                           perceptual or both, as in DFC-VAE: loss = alpha KL + beta Lrec, so\n"
            "                           --alpha is the KL weight (default 1) and --beta the feature loss's\n"
            "                           (default 1); --resume continues the checkpoint's loss unless --loss\n"
            "                           is given\n"
            "  --lr R                   Adam learning rate (default 5e-4; with --resume it replaces the\n"
            "                           checkpoint's rate, e.g. to lower it for the last epochs)\n"
            "  --init WEIGHTS           start from these weights (e.g. the shipped model, or one exported\n"
            "                           with zspace export) with a fresh optimizer, at step 0\n"
            "  --grid-every K           reconstruction grid interval in steps (default 500; 0 = never)\n"
            "  --ckpt-every K           checkpoint interval in steps (default 1000)\n"
            "  --log-every K            metrics CSV interval in steps (default 20)\n");
}

/* path without a trailing ".safetensors" + suffix */
static char *derived(const char *out, const char *suffix)
{
    size_t n = strlen(out);
    const char *ext = ".safetensors";
    if (n > strlen(ext) && strcmp(out + n - strlen(ext), ext) == 0) n -= strlen(ext);
    char *p = zs_xmalloc(n + strlen(suffix) + 1);
    memcpy(p, out, n);
    strcpy(p + n, suffix);
    return p;
}

/* 8 fixed faces (validation split when there is one) above their recons. */
typedef struct grid {
    int n, S;
    float *x, *mu, *y;
    zs_vae_infer *inf;
} grid;

static void grid_init(grid *g, const zs_cache *c, const zs_vae_config *cfg)
{
    int *idx = NULL, n = zs_cache_split_indices(c, ZS_SPLIT_VAL, &idx);
    if (n <= 0) {
        free(idx);
        n = zs_cache_split_indices(c, ZS_SPLIT_ALL, &idx);
    }
    g->n = n < 8 ? n : 8;
    g->S = cfg->image;
    size_t img = (size_t)3 * g->S * g->S;
    g->x = zs_xmalloc(sizeof(float) * img * 8);
    g->y = zs_xmalloc(sizeof(float) * img * 8);
    g->mu = zs_xmalloc(sizeof(float) * (size_t)cfg->z * 8);
    for (int i = 0; i < g->n; i++) zs_face_to_chw(zs_cache_pixels(c, idx[i * (n / g->n)]), g->S, g->x + i * img, 0);
    free(idx);
    g->inf = zs_vae_infer_create(cfg, 8);
}

static void grid_free(grid *g)
{
    free(g->x);
    free(g->y);
    free(g->mu);
    zs_vae_infer_destroy(g->inf);
}

static zs_status grid_write(grid *g, const float *params, const char *path)
{
    zs_vae_infer_load(g->inf, params);
    zs_vae_encode(g->inf, g->x, g->n, g->mu, NULL);
    zs_vae_decode(g->inf, g->mu, g->n, g->y);
    int S = g->S, sc = S < 128 ? 2 : 1, W = g->n * S * sc, H = 2 * S * sc;
    zs_image im = {W, H, zs_xmalloc((size_t)W * H * 3)};
    uint8_t *face = zs_xmalloc((size_t)S * S * 3);
    for (int row = 0; row < 2; row++)
        for (int i = 0; i < g->n; i++) {
            zs_face_from_chw((row ? g->y : g->x) + (size_t)i * 3 * S * S, S, face);
            for (int yy = 0; yy < S * sc; yy++)
                for (int xx = 0; xx < S * sc; xx++)
                    memcpy(im.rgb + (((size_t)(row * S * sc + yy) * W) + (size_t)i * S * sc + xx) * 3,
                           face + ((size_t)(yy / sc) * S + xx / sc) * 3, 3);
        }
    zs_status st = zs_image_write_png(path, &im);
    free(face);
    free(im.rgb);
    return st;
}

static const char *fmt_eta(char *buf, size_t n, double s)
{
    if (!(s >= 0) || s > 1e7) return "?";
    int h = (int)(s / 3600), m = (int)(s / 60) % 60, sec = (int)s % 60;
    if (h)
        snprintf(buf, n, "%dh%02dm", h, m);
    else
        snprintf(buf, n, "%dm%02ds", m, sec);
    return buf;
}

int zs_cmd_train(int argc, char **argv)
{
    const char *data = NULL, *out = NULL, *loss_name = "sse", *init = NULL, *feat_path = NULL, *feat_layers = "1,2,3";
    double alpha = -1;
    int beta_given = 0, loss_given = 0;
    long epochs = 0, steps = 0, batch = 64, threads = 0, z = 128, seed = 1, warm = 0;
    long grid_every = 500, ckpt_every = 1000, log_every = 20;
    double beta = 1.0, lr = 5e-4;
    int lr_given = 0;   /* --lr on a resume replaces the checkpoint's rate */
    int resume = 0, bad = 0;
    for (int i = 1; i < argc && !bad; i++) {
        if (zs_arg_flag(argv, i, "--help") || zs_arg_flag(argv, i, "-h")) {
            usage(stdout);
            return 0;
        }
        if (zs_arg_flag(argv, i, "--resume")) {
            resume = 1;
            continue;
        }
        if (zs_arg_str(argc, argv, &i, "--data", &data, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--out", &out, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--loss", &loss_name, &bad)) {
            loss_given = 1;
            continue;
        }
        if (zs_arg_str(argc, argv, &i, "--init", &init, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--features", &feat_path, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--feature-layers", &feat_layers, &bad)) continue;
        if (zs_arg_float(argc, argv, &i, "--alpha", &alpha, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--epochs", &epochs, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--steps", &steps, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--batch", &batch, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--threads", &threads, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--z", &z, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--seed", &seed, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--kl-warmup", &warm, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--grid-every", &grid_every, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--ckpt-every", &ckpt_every, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--log-every", &log_every, &bad)) continue;
        if (zs_arg_float(argc, argv, &i, "--beta", &beta, &bad)) {
            beta_given = 1;
            continue;
        }
        if (zs_arg_float(argc, argv, &i, "--lr", &lr, &bad)) {
            lr_given = 1;
            continue;
        }
        fprintf(stderr, "zspace train: unknown option '%s'\n", argv[i]);
        bad = 1;
    }
    if (!bad && (!data || !out)) {
        fprintf(stderr, "zspace train: --data and --out are required\n");
        bad = 1;
    }
    if (!bad && (epochs && steps)) {
        fprintf(stderr, "zspace train: give --epochs or --steps, not both\n");
        bad = 1;
    }
    if (!bad && (batch < 1 || batch > 4096 || z < 1 || z > 4096 || beta < 0 || !(lr > 0) || epochs < 0 || steps < 0 ||
                 log_every < 1 || ckpt_every < 1 || grid_every < 0)) {
        fprintf(stderr, "zspace train: a numeric option is out of range\n");
        bad = 1;
    }
    zs_loss_kind loss = ZS_LOSS_SSE;
    int perceptual = 0, no_pixel = 0;   /* --loss perceptual | both */
    double feat_weight = 1;
    if (!bad) {
        if (strcmp(loss_name, "bce") == 0)
            loss = ZS_LOSS_BCE;
        else if (strcmp(loss_name, "perceptual") == 0)
            perceptual = no_pixel = 1;
        else if (strcmp(loss_name, "both") == 0)
            perceptual = 1;
        else if (strcmp(loss_name, "sse") != 0 && strcmp(loss_name, "pixel") != 0) {
            fprintf(stderr, "zspace train: --loss must be sse (pixel), bce, perceptual or both, not '%s'\n", loss_name);
            bad = 1;
        }
    }
    if (!bad && perceptual != (feat_path != NULL)) {
        fprintf(stderr, perceptual ? "zspace train: --loss %s needs --features FEAT.safetensors (zspace train-features)\n"
                                   : "zspace train: --features is used by --loss perceptual or both\n",
                loss_name);
        bad = 1;
    }
    if (!bad && !perceptual && alpha >= 0) {
        fprintf(stderr, "zspace train: --alpha (DFC-VAE's KL weight) goes with --loss perceptual or both; use --beta\n");
        bad = 1;
    }
    if (!bad && perceptual) {   /* DFC-VAE's names: alpha KL, beta reconstruction */
        feat_weight = beta_given ? beta : 1.0;
        beta = alpha >= 0 ? alpha : 1.0;
        if (!(feat_weight > 0)) {
            fprintf(stderr, "zspace train: --beta (the feature loss weight) must be > 0\n");
            bad = 1;
        }
    }
    if (bad) {
        usage(stderr);
        return 2;
    }

    zs_cache *cache;
    if (zs_cache_open(&cache, data) != ZS_OK) {
        fprintf(stderr, "zspace train: %s\n", zs_last_error());
        return 1;
    }
    zs_ckpt_info info = {0};
    zs_vae_config cfg = zs_vae_config_for_image(zs_cache_size(cache), (int)z);
    int have_ckpt = resume && access(out, F_OK) == 0;
    zs_ckpt_info init_info = {0};
    if (init && have_ckpt) {
        fprintf(stderr, "zspace train: --resume found %s, so --init %s is not used\n", out, init);
        init = NULL;
    }
    if (init) {
        if (zs_ckpt_read_info(init, &init_info) != ZS_OK) {
            fprintf(stderr, "zspace train: --init: %s\n", zs_last_error());
            zs_cache_close(cache);
            return 1;
        }
        if (init_info.cfg.image != cfg.image) {
            fprintf(stderr, "zspace train: --init: %s is a %d-pixel model, %s has %d-pixel faces\n", init,
                    init_info.cfg.image, data, cfg.image);
            zs_cache_close(cache);
            return 1;
        }
        cfg = init_info.cfg;
    }
    if (resume && !have_ckpt) fprintf(stderr, "zspace train: --resume: %s does not exist yet, starting anew\n", out);
    if (have_ckpt) {
        if (zs_ckpt_read_info(out, &info) != ZS_OK) {
            fprintf(stderr, "zspace train: cannot resume: %s\n", zs_last_error());
            zs_cache_close(cache);
            return 1;
        }
        cfg = info.cfg;
        if (info.data_hash != zs_cache_hash(cache)) {
            fprintf(stderr,
                    "zspace train: cannot resume: %s was trained on other data (cache hash %016llx, %s has %016llx)\n",
                    out, (unsigned long long)info.data_hash, data, (unsigned long long)zs_cache_hash(cache));
            zs_cache_close(cache);
            return 1;
        }
        seed = (long)info.seed;
        if (info.batch) batch = info.batch;
        beta = info.beta;
        loss = info.loss;
        if (info.recon[0] && !loss_given) {   /* continue the checkpoint's feature-consistent loss */
            perceptual = 1;
            no_pixel = strcmp(info.recon, "perceptual") == 0;
            feat_path = info.feat_path;
            feat_layers = info.feat_layers[0] ? info.feat_layers : feat_layers;
            feat_weight = info.feat_weight;
            fprintf(stderr, "resuming with the checkpoint's loss: %s through %s (blocks %s, weight %g)\n", info.recon,
                    feat_path, feat_layers, feat_weight);
        } else if (info.recon[0] != 0 || perceptual) {
            fprintf(stderr, "zspace train: %s was trained with the %s loss; continuing with --loss %s\n", out,
                    info.recon[0] ? info.recon : "pixel", loss_name);
        }
    } else if (zs_vae_config_check(&cfg) != ZS_OK) {
        fprintf(stderr, "zspace train: %s\n", zs_last_error());
        zs_cache_close(cache);
        return 2;
    }
    zs_vae *m = zs_vae_create(&cfg);
    zs_vae_init(m, (uint64_t)seed);
    if (init) {
        if (zs_ckpt_load_into(init, m, NULL, &init_info) != ZS_OK) {
            fprintf(stderr, "zspace train: --init: %s\n", zs_last_error());
            zs_vae_destroy(m);
            zs_cache_close(cache);
            return 1;
        }
        fprintf(stderr, "starting from the weights of %s (trained %ld steps)\n", init, init_info.step);
    }
    zs_feat *feat = NULL;
    unsigned layers = 0;
    if (feat_path) {
        zs_status fs = zs_feat_load(feat_path, &feat);
        if (fs == ZS_OK && feat->cfg.image != cfg.image)
            fs = zs_errorf(ZS_ERR_ARG, "%s takes %d-pixel faces, the model %d", feat_path, feat->cfg.image, cfg.image);
        if (fs == ZS_OK) fs = zs_feat_parse_layers(feat, feat_layers, &layers);
        if (fs != ZS_OK) {
            fprintf(stderr, "zspace train: --features: %s\n", zs_last_error());
            zs_feat_destroy(feat);
            zs_vae_destroy(m);
            zs_cache_close(cache);
            return 1;
        }
        fprintf(stderr, "%s loss through %s, blocks %s, weight %g; KL weight %g\n", no_pixel ? "feature" : "pixel + feature",
                feat_path, feat_layers, feat_weight, beta);
    }
    zs_trainer *tr;
    zs_trainer_desc td = {.cache = cache, .model = m, .batch = (int)batch, .threads = (int)threads, .lr = (float)lr,
                          .beta = (float)beta, .beta_zero = beta == 0, .kl_warmup = warm, .loss = loss,
                          .features = feat, .feat_layers = layers, .feat_weight = (float)feat_weight,
                          .no_pixel_loss = no_pixel, .feat_path = feat_path, .feat_layers_text = feat_layers,
                          .seed = (uint64_t)seed, .publish_every = (int)log_every,
                          .stop_flag = (const volatile int *)&zs_cli_interrupted};
    if (zs_trainer_create(&tr, &td) != ZS_OK) {
        fprintf(stderr, "zspace train: %s\n", zs_last_error());
        zs_feat_destroy(feat);
        zs_vae_destroy(m);
        zs_cache_close(cache);
        return 1;
    }
    if (have_ckpt) {
        if (zs_trainer_load(tr, out, &info) != ZS_OK) {
            fprintf(stderr, "zspace train: cannot resume: %s\n", zs_last_error());
            zs_trainer_destroy(tr);
            zs_feat_destroy(feat);
            zs_vae_destroy(m);
            zs_cache_close(cache);
            return 1;
        }
        fprintf(stderr, "resuming %s at step %ld (epoch %d, batch %d)\n", out, info.step, info.epoch,
                info.batch_in_epoch);
        if (lr_given && (float)lr != info.lr) {
            zs_trainer_set_lr(tr, (float)lr);
            fprintf(stderr, "learning rate %g (the checkpoint's was %g)\n", lr, info.lr);
        }
    }
    long per_epoch = zs_trainer_steps_per_epoch(tr);
    long target = steps ? steps : (epochs ? epochs : 10) * per_epoch;

    char *csv_path = derived(out, ".metrics.csv"), *grid_dir = derived(out, "_recon");
    int csv_new = access(csv_path, F_OK) != 0 || !have_ckpt;
    FILE *csv = fopen(csv_path, csv_new ? "w" : "a");
    if (!csv) fprintf(stderr, "zspace train: cannot write %s: %s (continuing without it)\n", csv_path, strerror(errno));
    if (csv && csv_new) fprintf(csv, "step,epoch,seconds,img_per_s,loss,rec,kl,active_units,lr,beta\n");
    if (grid_every > 0 && mkdir(grid_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "zspace train: cannot create %s: %s (no grids)\n", grid_dir, strerror(errno));
        grid_every = 0;
    }
    grid g;
    grid_init(&g, cache, &cfg);
    float *snap = zs_xmalloc(sizeof(float) * m->table.total);

    fprintf(stderr, "training %s on %d faces of %s: %ld steps of %ld (%ld per epoch), %zu parameters\n", out,
            zs_cache_count(cache), data, target, batch, per_epoch, zs_vae_param_count(m));
    zs_cli_catch_interrupt();
    int tty = isatty(2), rc = 0;
    double t0 = zs_now(), last_draw = 0;
    long step0 = info.step;
    zs_train_metrics mt;
    zs_trainer_snapshot(tr, NULL, &mt, NULL);
    while (mt.step < target && !zs_cli_interrupted) {
        /* run to the next step that logs, draws a grid or checkpoints, so
         * each lands on a multiple of its own interval */
        long chunk = log_every - mt.step % log_every;
        if (grid_every > 0 && grid_every - mt.step % grid_every < chunk) chunk = grid_every - mt.step % grid_every;
        if (ckpt_every - mt.step % ckpt_every < chunk) chunk = ckpt_every - mt.step % ckpt_every;
        if (mt.step + chunk > target) chunk = target - mt.step;
        zs_trainer_run_steps(tr, chunk);
        zs_trainer_snapshot(tr, snap, &mt, NULL);
        if (zs_cli_interrupted) break;
        if (mt.state == ZS_TRAINER_FAILED) {
            fprintf(stderr, "\nzspace train: %s\n", mt.message);
            rc = 1;
            break;
        }
        double el = zs_now() - t0, rate = (double)(mt.step - step0) * batch / (el > 0 ? el : 1);
        if (csv && mt.step % log_every == 0) {
            fprintf(csv, "%ld,%d,%.1f,%.1f,%.4f,%.4f,%.4f,%d,%.6g,%.4g\n", mt.step, mt.epoch, el, mt.img_per_s, mt.loss,
                    mt.rec, mt.kl, mt.active_units, mt.lr, mt.beta);
            fflush(csv);
        }
        if (grid_every > 0 && mt.step % grid_every == 0) {
            char path[4096];
            snprintf(path, sizeof path, "%s/reconstructed_%06ld.png", grid_dir, mt.step);
            if (grid_write(&g, snap, path) != ZS_OK) fprintf(stderr, "\nzspace train: %s\n", zs_last_error());
        }
        if (mt.step % ckpt_every == 0 && zs_trainer_save(tr, out) != ZS_OK)
            fprintf(stderr, "\nzspace train: checkpoint not saved (the previous one is intact): %s\n", zs_last_error());
        double now = zs_now();
        if (now - last_draw >= (tty ? 0.5 : 30.0) || mt.step >= target) {
            char eta[32];
            fprintf(stderr, "%sepoch %d step %ld/%ld loss %.2f rec %.2f kl %.2f au %d lr %.3g %.0f img/s ETA %s%s",
                    tty ? "\r" : "", mt.epoch + 1, mt.step, target, mt.loss, mt.rec, mt.kl, mt.active_units, mt.lr, rate,
                    fmt_eta(eta, sizeof eta, rate > 0 ? (double)(target - mt.step) * batch / rate : -1),
                    tty ? "\033[K" : "\n");
            last_draw = now;
        }
    }
    if (tty) fputc('\n', stderr);
    if (zs_trainer_save(tr, out) != ZS_OK) {
        fprintf(stderr, "zspace train: final checkpoint not saved (the previous one is intact): %s\n", zs_last_error());
        rc = 1;
    } else if (zs_cli_interrupted) {
        fprintf(stderr, "interrupted at step %ld: saved %s; continue with --resume\n", mt.step, out);
    }
    if (!zs_cli_interrupted && rc == 0) {
        if (grid_every > 0) {
            char path[4096];
            snprintf(path, sizeof path, "%s/reconstructed_%06ld.png", grid_dir, mt.step);
            grid_write(&g, m->params, path);
        }
        double mse, kl;
        int n;
        zs_data_split sp = ZS_SPLIT_VAL;
        int *tmp = NULL;
        if (zs_cache_split_indices(cache, ZS_SPLIT_VAL, &tmp) <= 0) sp = ZS_SPLIT_TRAIN;
        free(tmp);
        if (zs_vae_evaluate(m, cache, sp, (int)threads, &mse, &kl, &n) == ZS_OK)
            printf("step %ld: %s mse %.5f kl %.2f (%d faces), %.0f s\n", mt.step, zs_split_name(sp), mse, kl, n,
                   zs_now() - t0);
    }
    if (csv) fclose(csv);
    grid_free(&g);
    free(snap);
    free(csv_path);
    free(grid_dir);
    zs_trainer_destroy(tr);
    zs_feat_destroy(feat);
    zs_vae_destroy(m);
    zs_cache_close(cache);
    return rc;
}
