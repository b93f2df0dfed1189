/* zspace eval / recon: how well a model reconstructs faces. */
#include "cli.h"
#include "zspace/features.h"
#include "zspace/latent.h"
#include "zspace/trainer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* rows: the first `count` faces of the split, then each model's reconstructions */
static zs_status write_grid(const char *path, zs_vae **m, int nm, const zs_cache *c, zs_data_split split, int count)
{
    int *idx = NULL, n = zs_cache_split_indices(c, split, &idx), S = zs_cache_size(c), k = 2;
    if (count > n) count = n;
    zs_image im = {count * S * k, (nm + 1) * S * k, zs_xcalloc((size_t)count * S * k * (nm + 1) * S * k, 3)};
    size_t img = (size_t)3 * S * S;
    float *x = zs_xmalloc(sizeof(float) * img), *y = zs_xmalloc(sizeof(float) * img);
    uint8_t *hwc = zs_xmalloc(img);
    for (int r = 0; r <= nm; r++) {
        zs_vae_infer *inf = r ? zs_vae_infer_create(&m[r - 1]->cfg, 1) : NULL;
        if (inf) zs_vae_infer_load(inf, m[r - 1]->params);
        float *mu = r ? zs_xmalloc(sizeof(float) * (size_t)m[r - 1]->cfg.z) : NULL;
        for (int i = 0; i < count; i++) {
            const uint8_t *px = zs_cache_pixels(c, idx[i]);
            if (r) {
                zs_face_to_chw(px, S, x, 0);
                zs_vae_encode(inf, x, 1, mu, NULL);
                zs_vae_decode(inf, mu, 1, y);
                zs_face_from_chw(y, S, hwc);
                px = hwc;
            }
            for (int yy = 0; yy < S * k; yy++)
                for (int xx = 0; xx < S * k; xx++)
                    memcpy(im.rgb + (((size_t)(r * S * k + yy)) * im.w + (size_t)(i * S * k + xx)) * 3,
                           px + ((size_t)(yy / k) * S + xx / k) * 3, 3);
        }
        free(mu);
        zs_vae_infer_destroy(inf);
    }
    zs_status st = zs_image_write_png(path, &im);
    free(im.rgb);
    free(x);
    free(y);
    free(hwc);
    free(idx);
    return st;
}

int zs_cmd_eval(int argc, char **argv)
{
    enum { MAXM = 4 };
    const char *models[MAXM], *data = NULL, *split_name = "val", *feat_path = NULL, *grid = NULL;
    int nm = 0;
    long threads = 0, count = 8;
    int bad = 0;
    for (int i = 1; i < argc && !bad; i++) {
        if (zs_arg_flag(argv, i, "--help") || zs_arg_flag(argv, i, "-h")) {
            printf("usage: zspace eval --model M [--model M2 ...] --data FACES.zsf [--split val|test|train|all]\n"
                   "                   [--features FEAT.safetensors] [--grid OUT.png [--count 8]] [--threads N]\n\n"
                   "Encodes every face of the split (z = mu, eval mode), decodes it and prints\n"
                   "mse: mean per-pixel squared error on [0,1], and kl: mean KL divergence per face.\n"
                   "--features: also how often the feature network (zspace train-features) predicts an\n"
                   "attribute differently for a face and its reconstruction: does the blur change the\n"
                   "person? --grid: the first COUNT faces of the split above each model's reconstructions.\n"
                   "Up to 4 models, compared on the same faces.\n");
            return 0;
        }
        const char *mp = NULL;
        if (zs_arg_str(argc, argv, &i, "--model", &mp, &bad)) {
            if (nm == MAXM) {
                fprintf(stderr, "zspace eval: at most %d models\n", MAXM);
                bad = 1;
            } else {
                models[nm++] = mp;
            }
            continue;
        }
        if (zs_arg_str(argc, argv, &i, "--data", &data, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--split", &split_name, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--features", &feat_path, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--grid", &grid, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--count", &count, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--threads", &threads, &bad)) continue;
        fprintf(stderr, "zspace eval: unknown option '%s'\n", argv[i]);
        bad = 1;
    }
    zs_data_split split = ZS_SPLIT_VAL;
    if (!bad && !zs_arg_split("eval", split_name, &split)) bad = 1;
    if (!bad && (count < 1 || count > 64)) {
        fprintf(stderr, "zspace eval: --count must be 1..64\n");
        bad = 1;
    }
    if (bad || !nm || !data) {
        if (!bad) fprintf(stderr, "zspace eval: --model and --data are required\n");
        return 2;
    }
    zs_vae *m[MAXM] = {0};
    zs_feat *feat = NULL;
    zs_cache *c = NULL;
    int rc = 0;
    for (int k = 0; k < nm && !rc; k++)
        if (zs_ckpt_load_model(models[k], &m[k], NULL) != ZS_OK) rc = 1;
    if (!rc && feat_path && zs_feat_load(feat_path, &feat) != ZS_OK) rc = 1;
    if (!rc && zs_cache_open(&c, data) != ZS_OK) rc = 1;
    if (rc) fprintf(stderr, "zspace eval: %s\n", zs_last_error());
    static const int watch[] = {20, 15, 8, 9, 11, 17, 31, 39, 35};   /* Male, Eyeglasses, hair colours, Smiling, Young, Hat */
    for (int k = 0; k < nm && !rc; k++) {
        double mse, kl, t0 = zs_now();
        int n;
        if (nm > 1) printf("model: %s\n", models[k]);
        if (zs_vae_evaluate(m[k], c, split, (int)threads, &mse, &kl, &n) != ZS_OK) {
            fprintf(stderr, "zspace eval: %s: %s\n", models[k], zs_last_error());
            rc = 1;
            break;
        }
        printf("faces: %d (%s)\nmse: %.6f\nkl: %.4f\nseconds: %.2f\n", n, zs_split_name(split), mse, kl, zs_now() - t0);
        if (feat) {
            double fl[ZS_NATTR], lost[ZS_NATTR], mean = 0, male_or_glasses;
            if (zs_feat_recon_flips(feat, m[k], c, split, (int)threads, fl, lost, (1ull << 20) | (1ull << 15),
                                    &male_or_glasses, &n) != ZS_OK) {
                fprintf(stderr, "zspace eval: %s\n", zs_last_error());
                rc = 1;
                break;
            }
            for (int a = 0; a < ZS_NATTR; a++) mean += fl[a] / ZS_NATTR;
            printf("prediction changed by the reconstruction:");
            for (size_t w = 0; w < sizeof watch / sizeof watch[0]; w++)
                printf(" %s %.3f", zs_attr_names[watch[w]], fl[watch[w]]);
            printf(" mean-of-40 %.3f\n", mean);
            printf("Male or Eyeglasses changed: %.3f\n", male_or_glasses);
            printf("lost by the reconstruction (of the faces seen to have it):");
            for (size_t w = 0; w < sizeof watch / sizeof watch[0]; w++)
                printf(" %s %.3f", zs_attr_names[watch[w]], lost[watch[w]]);
            printf("\n");
        }
    }
    if (!rc && grid) {
        if (write_grid(grid, m, nm, c, split, (int)count) != ZS_OK) {
            fprintf(stderr, "zspace eval: %s\n", zs_last_error());
            rc = 1;
        } else {
            printf("wrote %s\n", grid);
        }
    }
    zs_cache_close(c);
    zs_feat_destroy(feat);
    for (int k = 0; k < nm; k++) zs_vae_destroy(m[k]);
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
