/* zspace eval / recon: how well a model reconstructs faces. */
#include "cli.h"
#include "zspace/latent.h"
#include "zspace/trainer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int zs_cmd_eval(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *split_name = "val";
    long threads = 0;
    int bad = 0;
    for (int i = 1; i < argc && !bad; i++) {
        if (zs_arg_flag(argv, i, "--help") || zs_arg_flag(argv, i, "-h")) {
            printf("usage: zspace eval --model M --data FACES.zsf [--split val|test|train] [--threads N]\n\n"
                   "Encodes every face of the split (z = mu, eval mode), decodes it and prints\n"
                   "mse: mean per-pixel squared error on [0,1], and kl: mean KL divergence per face.\n");
            return 0;
        }
        if (zs_arg_str(argc, argv, &i, "--model", &model, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--data", &data, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--split", &split_name, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--threads", &threads, &bad)) continue;
        fprintf(stderr, "zspace eval: unknown option '%s'\n", argv[i]);
        bad = 1;
    }
    zs_data_split split = ZS_SPLIT_VAL;
    if (!bad) {
        int found = 0;
        for (int s = 0; s <= ZS_SPLIT_ALL; s++)
            if (strcmp(split_name, zs_split_name((zs_data_split)s)) == 0) {
                split = (zs_data_split)s;
                found = 1;
            }
        if (!found) {
            fprintf(stderr, "zspace eval: --split must be train, val, test or all\n");
            bad = 1;
        }
    }
    if (bad || !model || !data) {
        if (!bad) fprintf(stderr, "zspace eval: --model and --data are required\n");
        return 2;
    }
    zs_vae *m;
    if (zs_ckpt_load_model(model, &m, NULL) != ZS_OK) {
        fprintf(stderr, "zspace eval: %s\n", zs_last_error());
        return 1;
    }
    zs_cache *c;
    if (zs_cache_open(&c, data) != ZS_OK) {
        fprintf(stderr, "zspace eval: %s\n", zs_last_error());
        zs_vae_destroy(m);
        return 1;
    }
    double mse, kl;
    int n, rc = 0;
    double t0 = zs_now();
    if (zs_vae_evaluate(m, c, split, (int)threads, &mse, &kl, &n) != ZS_OK) {
        fprintf(stderr, "zspace eval: %s\n", zs_last_error());
        rc = 1;
    } else {
        printf("faces: %d (%s)\nmse: %.6f\nkl: %.4f\nseconds: %.2f\n", n, zs_split_name(split), mse, kl, zs_now() - t0);
    }
    zs_cache_close(c);
    zs_vae_destroy(m);
    return rc;
}

int zs_cmd_recon(int argc, char **argv)
{
    const char *model = NULL, *out_dir = NULL;
    int bad = 0, nimg = 0;
    const char **imgs = zs_xcalloc((size_t)argc, sizeof *imgs);
    for (int i = 1; i < argc && !bad; i++) {
        if (zs_arg_flag(argv, i, "--help") || zs_arg_flag(argv, i, "-h")) {
            printf("usage: zspace recon --model M IMAGE... --out-dir D\n\n"
                   "For each photo (JPEG or PNG) writes D/<name>_recon.png: the model-size input crop\n"
                   "(the CelebA face crop for 178x218 aligned images, else the centred square) beside\n"
                   "its reconstruction.\n");
            free(imgs);
            return 0;
        }
        if (zs_arg_str(argc, argv, &i, "--model", &model, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--out-dir", &out_dir, &bad)) continue;
        if (argv[i][0] == '-') {
            fprintf(stderr, "zspace recon: unknown option '%s'\n", argv[i]);
            bad = 1;
            continue;
        }
        imgs[nimg++] = argv[i];
    }
    if (bad || !model || !out_dir || nimg == 0) {
        if (!bad) fprintf(stderr, "zspace recon: --model, --out-dir and at least one image are required\n");
        free(imgs);
        return 2;
    }
    zs_vae *m;
    if (zs_ckpt_load_model(model, &m, NULL) != ZS_OK) {
        fprintf(stderr, "zspace recon: %s\n", zs_last_error());
        free(imgs);
        return 1;
    }
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "zspace recon: cannot create %s: %s\n", out_dir, strerror(errno));
        zs_vae_destroy(m);
        free(imgs);
        return 1;
    }
    int S = m->cfg.image, failed = 0;
    zs_vae_infer *inf = zs_vae_infer_create(&m->cfg, 1);
    zs_vae_infer_load(inf, m->params);
    float *x = zs_xmalloc(sizeof(float) * 3 * S * S), *y = zs_xmalloc(sizeof(float) * 3 * S * S);
    float *mu = zs_xmalloc(sizeof(float) * (size_t)m->cfg.z);
    uint8_t *a = zs_xmalloc((size_t)S * S * 3), *b = zs_xmalloc((size_t)S * S * 3);
    zs_image pair = {2 * S, S, zs_xmalloc((size_t)2 * S * S * 3)};
    for (int k = 0; k < nimg; k++) {
        if (zs_photo_load_face(imgs[k], zs_crop_celeba(), S, x) != ZS_OK) {
            fprintf(stderr, "zspace recon: %s (skipped)\n", zs_last_error());
            failed++;
            continue;
        }
        zs_vae_encode(inf, x, 1, mu, NULL);
        zs_vae_decode(inf, mu, 1, y);
        zs_face_from_chw(x, S, a);
        zs_face_from_chw(y, S, b);
        for (int r = 0; r < S; r++) {
            memcpy(pair.rgb + (size_t)r * 2 * S * 3, a + (size_t)r * S * 3, (size_t)S * 3);
            memcpy(pair.rgb + ((size_t)r * 2 * S + S) * 3, b + (size_t)r * S * 3, (size_t)S * 3);
        }
        const char *base = strrchr(imgs[k], '/');
        base = base ? base + 1 : imgs[k];
        char path[4096];
        int blen = (int)strcspn(base, ".");
        snprintf(path, sizeof path, "%s/%.*s_recon.png", out_dir, blen, base);
        if (zs_image_write_png(path, &pair) != ZS_OK) {
            fprintf(stderr, "zspace recon: %s\n", zs_last_error());
            failed++;
            continue;
        }
        printf("%s\n", path);
    }
    free(pair.rgb);
    free(a);
    free(b);
    free(x);
    free(y);
    free(mu);
    free(imgs);
    zs_vae_infer_destroy(inf);
    zs_vae_destroy(m);
    return failed ? 1 : 0;
}

int zs_cmd_export(int argc, char **argv)
{
    const char *model = NULL, *out = NULL;
    int bad = 0, f16 = 0;
    for (int i = 1; i < argc && !bad; i++) {
        if (zs_arg_flag(argv, i, "--help") || zs_arg_flag(argv, i, "-h")) {
            printf("usage: zspace export --model M --out F [--f16]\n\n"
                   "Writes the model's weights without the optimizer state (a third of the size), as\n"
                   "float32 or, with --f16, float16 (batch-norm statistics stay float32). The result\n"
                   "loads everywhere a model does, but cannot be resumed.\n");
            return 0;
        }
        if (zs_arg_flag(argv, i, "--f16")) {
            f16 = 1;
            continue;
        }
        if (zs_arg_str(argc, argv, &i, "--model", &model, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--out", &out, &bad)) continue;
        fprintf(stderr, "zspace export: unknown option '%s'\n", argv[i]);
        bad = 1;
    }
    if (bad || !model || !out) {
        if (!bad) fprintf(stderr, "zspace export: --model and --out are required\n");
        return 2;
    }
    zs_vae *m;
    zs_ckpt_info info;
    if (zs_ckpt_load_model(model, &m, &info) != ZS_OK) {
        fprintf(stderr, "zspace export: %s\n", zs_last_error());
        return 1;
    }
    int rc = 0;
    if (zs_ckpt_save(out, m, NULL, &info, f16) != ZS_OK) {
        fprintf(stderr, "zspace export: %s\n", zs_last_error());
        rc = 1;
    }
    zs_vae_destroy(m);
    return rc;
}
