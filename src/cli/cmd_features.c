/* zspace train-features: the attribute classifier whose activations the
 * perceptual loss compares (zspace/features.h), trained on a face cache's
 * train split and judged on its validation split. */
#include "cli.h"
#include "zspace/features.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static void usage(FILE *out)
{
    fprintf(out,
            "usage: zspace train-features --data FACES.zsf --out FEAT.safetensors [--epochs E | --steps N]\n"
            "                             [--batch 64] [--threads N] [--lr 1e-3] [--seed S]\n\n"
            "Trains a small CNN (4 conv blocks of 32-64-128-256 channels, no batch norm) to predict the 40\n"
            "CelebA attributes of the cache's train faces, then prints its accuracy per attribute on the\n"
            "validation faces beside the majority-class baseline. Its block activations are the features\n"
            "of `zspace train --loss perceptual|both --features FEAT.safetensors`. Ctrl-C saves what is\n"
            "trained so far. Default: 5 epochs.\n");
}

static void report(void *user, long step, long steps, double loss, double img_per_s)
{
    zs_progress *p = user;
    char buf[96];
    snprintf(buf, sizeof buf, "loss %.4f, %.0f img/s", loss, img_per_s);
    zs_progress_update(p, (size_t)step, buf);
    (void)steps;
}

int zs_cmd_train_features(int argc, char **argv)
{
    const char *data = NULL, *out = NULL;
    long epochs = 0, steps = 0, batch = 64, threads = 0, seed = 1;
    double lr = 1e-3;
    int bad = 0;
    for (int i = 1; i < argc && !bad; i++) {
        if (zs_arg_flag(argv, i, "--help") || zs_arg_flag(argv, i, "-h")) {
            usage(stdout);
            return 0;
        }
        if (zs_arg_str(argc, argv, &i, "--data", &data, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--out", &out, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--epochs", &epochs, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--steps", &steps, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--batch", &batch, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--threads", &threads, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--seed", &seed, &bad)) continue;
        if (zs_arg_float(argc, argv, &i, "--lr", &lr, &bad)) continue;
        fprintf(stderr, "zspace train-features: unknown option '%s'\n", argv[i]);
        bad = 1;
    }
    if (!bad && (!data || !out)) {
        fprintf(stderr, "zspace train-features: --data and --out are required\n");
        bad = 1;
    }
    if (!bad && ((epochs && steps) || epochs < 0 || steps < 0 || batch < 1 || batch > 4096 || !(lr > 0))) {
        fprintf(stderr, "zspace train-features: give --epochs or --steps (not both); numbers must be positive\n");
        bad = 1;
    }
    if (bad) {
        usage(stderr);
        return 2;
    }
    zs_cache *cache;
    if (zs_cache_open(&cache, data) != ZS_OK) {
        fprintf(stderr, "zspace train-features: %s\n", zs_last_error());
        return 1;
    }
    int *idx = NULL, ntrain = zs_cache_split_indices(cache, ZS_SPLIT_TRAIN, &idx);
    free(idx);
    if (ntrain < batch) {
        fprintf(stderr, "zspace train-features: %s has %d train faces, fewer than a batch of %ld\n", data, ntrain, batch);
        zs_cache_close(cache);
        return 1;
    }
    zs_feat_config cfg = zs_feat_config_for_image(zs_cache_size(cache));
    zs_feat *f = zs_feat_create(&cfg);
    zs_feat_init(f, (uint64_t)seed);
    long total = steps ? steps : (epochs ? epochs : 5) * (ntrain / batch);
    fprintf(stderr, "training %s on the %d train faces of %s: %ld steps of %ld\n", out, ntrain, data, total, batch);
    zs_cli_catch_interrupt();
    zs_progress p;
    zs_progress_start(&p, "train-features", (size_t)total);
    double loss = 0;
    zs_status st = zs_feat_train(f, &(zs_feat_train_desc){.cache = cache, .batch = (int)batch, .threads = (int)threads,
                                                          .lr = (float)lr, .steps = total, .seed = (uint64_t)seed,
                                                          .stop_flag = (const volatile int *)&zs_cli_interrupted,
                                                          .report = report, .user = &p, .report_every = 20},
                                 &loss);
    zs_progress_end(&p, (size_t)total, NULL);
    int rc = 0;
    if (st != ZS_OK) {
        fprintf(stderr, "zspace train-features: %s (nothing saved)\n", zs_last_error());
        rc = 1;
    } else if (zs_feat_save(out, f, total) != ZS_OK) {
        fprintf(stderr, "zspace train-features: %s\n", zs_last_error());
        rc = 1;
    } else {
        printf("saved %s (train loss %.4f)%s\n", out, loss, zs_cli_interrupted ? ", interrupted" : "");
        double acc[ZS_NATTR], base[ZS_NATTR];
        if (zs_feat_evaluate(f, cache, ZS_SPLIT_VAL, (int)threads, acc, base) == ZS_OK) {
            double ma = 0, mb = 0;
            printf("%-20s %8s %8s\n", "attribute", "val_acc", "baseline");
            for (int k = 0; k < ZS_NATTR; k++) {
                printf("%-20s %8.3f %8.3f\n", zs_attr_names[k], acc[k], base[k]);
                ma += acc[k] / ZS_NATTR;
                mb += base[k] / ZS_NATTR;
            }
            printf("%-20s %8.3f %8.3f\n", "mean", ma, mb);
        } else {
            fprintf(stderr, "zspace train-features: no validation accuracy: %s\n", zs_last_error());
        }
    }
    zs_feat_destroy(f);
    zs_cache_close(cache);
    return rc;
}
