/* zspace encode | attrs | edit | interp | sample | sweep | judge | stats: the
 * latent toolkit from the command line. Each command is a thin layer over
 * zspace/latent.h (and zspace/analysis.h). */
#include "cli.h"
#include "zspace/analysis.h"
#include "zspace/features.h"
#include "zspace/latent.h"
#include "zspace/trainer.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* ---- shared helpers -------------------------------------------------------------- */
typedef struct {
    zs_vae *m;
    zs_vae_infer *inf;
    int S, Z;
    size_t img;   /* floats per image */
} model_ctx;

static int model_open(const char *cmd, const char *path, model_ctx *mc)
{
    memset(mc, 0, sizeof *mc);
    if (zs_ckpt_load_model(path, &mc->m, NULL) != ZS_OK) {
        fprintf(stderr, "zspace %s: %s\n", cmd, zs_last_error());
        return 0;
    }
    mc->S = mc->m->cfg.image;
    mc->Z = mc->m->cfg.z;
    mc->img = (size_t)3 * mc->S * mc->S;
    mc->inf = zs_vae_infer_create(&mc->m->cfg, 1);
    zs_vae_infer_load(mc->inf, mc->m->params);
    return 1;
}

static void model_close(model_ctx *mc)
{
    if (mc->inf) zs_vae_infer_destroy(mc->inf);
    if (mc->m) zs_vae_destroy(mc->m);
}

static int attrs_open(const char *cmd, const char *path, const model_ctx *mc, zs_attr_vectors *a)
{
    if (zs_attr_vectors_load(path, a) != ZS_OK) {
        fprintf(stderr, "zspace %s: %s\n", cmd, zs_last_error());
        return 0;
    }
    if (a->z != mc->Z || a->model_hash != zs_model_hash(mc->m)) {
        fprintf(stderr,
                "zspace %s: %s was made with another model (model hash %016llx, this model's is %016llx):\n"
                "  recompute it with: zspace attrs --model <this model> --data FACES.zsf --out %s\n",
                cmd, path, (unsigned long long)a->model_hash, (unsigned long long)zs_model_hash(mc->m), path);
        zs_attr_vectors_free(a);
        return 0;
    }
    return 1;
}

/* Attribute index by name, or -1 with a message suggesting the nearest. */
static int attr_lookup(const char *cmd, const char *name, size_t len)
{
    char buf[64];
    if (len >= sizeof buf) len = sizeof buf - 1;
    memcpy(buf, name, len);
    buf[len] = 0;
    for (int k = 0; k < ZS_NATTR; k++)
        if (strcasecmp(buf, zs_attr_names[k]) == 0) return k;
    fprintf(stderr, "zspace %s: unknown attribute '%s' (did you mean %s?)\n", cmd, buf,
            zs_attr_names[zs_attr_nearest(buf)]);
    return -1;
}

/* "Male,Eyeglasses" -> indices; returns count or -1. */
static int attr_list(const char *cmd, const char *s, int *out)
{
    int n = 0;
    while (*s) {
        size_t len = strcspn(s, ",");
        if (len) {
            int k = attr_lookup(cmd, s, len);
            if (k < 0) return -1;
            if (n < ZS_NATTR) out[n++] = k;
        }
        s += len;
        if (*s == ',') s++;
    }
    return n;
}

/* --crop X,Y,SIDE: the face's square in the photo's pixels (left, top, side). */
static int crop_arg(const char *cmd, const char *opt, const char *s, double r[3])
{
    char end;
    if (sscanf(s, "%lf,%lf,%lf%c", &r[0], &r[1], &r[2], &end) != 3 || !isfinite(r[0]) || !isfinite(r[1]) ||
        !(r[2] >= 1 && r[2] < 1e6) || fabs(r[0]) > 1e6 || fabs(r[1]) > 1e6) {
        fprintf(stderr, "zspace %s: %s '%s': want LEFT,TOP,SIDE in pixels, e.g. 120,180,300 (SIDE >= 1)\n", cmd, opt,
                s);
        return 0;
    }
    return 1;
}

/* The option `opt` (--crop, --crop-a, ...) at argv[*i]: 1 when it was that one
 * (then *have = 1 and rect filled, or *bad set). */
static int crop_opt(const char *cmd, const char *opt, int argc, char **argv, int *i, double rect[3], int *have,
                    int *bad)
{
    const char *v;
    if (!zs_arg_str(argc, argv, i, opt, &v, bad)) return 0;
    if (!*bad && !crop_arg(cmd, opt, v, rect)) *bad = 1;
    *have = 1;
    return 1;
}

/* The crop of `photo` (path for messages): `rect` (--crop) if given, else zs_photo_crop's
 * guess. 0 with a message when the square misses the photo. */
static int photo_crop_for(const char *cmd, const char *path, const zs_image *photo, const double *rect, zs_crop *out)
{
    if (!rect) {
        *out = zs_photo_crop(photo->w, photo->h, zs_crop_celeba());
        return 1;
    }
    if (rect[0] >= photo->w || rect[1] >= photo->h || rect[0] + rect[2] <= 0 || rect[1] + rect[2] <= 0) {
        fprintf(stderr, "zspace %s: %s: --crop %g,%g,%g lies outside the %dx%d photo (skipped)\n", cmd, path, rect[0],
                rect[1], rect[2], photo->w, photo->h);
        return 0;
    }
    *out = zs_crop_from_rect(photo->w, photo->h, rect[0], rect[1], rect[2]);
    return 1;
}

/* Encode a photo to mu, cropped at rect (--crop; NULL: zs_photo_crop's guess);
 * x gets the model's input. With photo non-NULL the image is handed to the
 * caller (to free) and its crop put in *crop. 0 with a message on failure. */
static int photo_encode(const char *cmd, model_ctx *mc, const char *path, const double *rect, float *x, float *mu,
                        zs_image *photo, zs_crop *crop)
{
    zs_image im;
    zs_crop c;
    if (zs_image_load(&im, path) != ZS_OK) {
        fprintf(stderr, "zspace %s: %s (skipped)\n", cmd, zs_last_error());
        return 0;
    }
    if (!photo_crop_for(cmd, path, &im, rect, &c)) {
        zs_image_free(&im);
        return 0;
    }
    if (zs_photo_face_at(&im, c, mc->S, x) != ZS_OK) {
        fprintf(stderr, "zspace %s: %s: %s (skipped)\n", cmd, path, zs_last_error());
        zs_image_free(&im);
        return 0;
    }
    zs_vae_encode(mc->inf, x, 1, mu, NULL);
    if (photo) *photo = im, *crop = c;
    else zs_image_free(&im);
    return 1;
}

/* --sharpen S of edit, sweep, interp and sample: an unsharp mask of
 * strength S on every decoded face they write (zs_sharpen_chw). */
static float g_sharpen;

static int sharpen_arg(int argc, char **argv, int *i, int *bad)
{
    double v;
    if (!zs_arg_float(argc, argv, i, "--sharpen", &v, bad)) return 0;
    if (!(v >= 0 && v <= 10)) {
        fprintf(stderr, "zspace: --sharpen must be a number in 0..10\n");
        *bad = 1;
    }
    g_sharpen = (float)v;
    return 1;
}

/* A grid of rows x cols tiles of S x S, each `scale` times enlarged. */
typedef struct { zs_image im; int S, scale, cols; } grid;

static void grid_init(grid *g, int rows, int cols, int S, int scale)
{
    g->S = S;
    g->scale = scale;
    g->cols = cols;
    g->im.w = cols * S * scale;
    g->im.h = rows * S * scale;
    g->im.rgb = zs_xcalloc((size_t)g->im.w * g->im.h, 3);
}

static void grid_put(grid *g, int r, int c, const float *chw)
{
    int S = g->S, k = g->scale;
    uint8_t *hwc = zs_xmalloc((size_t)S * S * 3);
    float *sharp = NULL;
    if (g_sharpen > 0) {
        sharp = zs_xmalloc(sizeof(float) * 3 * S * S);
        zs_sharpen_chw(chw, S, g_sharpen, sharp);
        chw = sharp;
    }
    zs_face_from_chw(chw, S, hwc);
    free(sharp);
    for (int y = 0; y < S * k; y++)
        for (int x = 0; x < S * k; x++)
            memcpy(g->im.rgb + (((size_t)(r * S * k + y)) * g->im.w + (size_t)(c * S * k + x)) * 3,
                   hwc + ((size_t)(y / k) * S + x / k) * 3, 3);
    free(hwc);
}

static int grid_write(const char *cmd, grid *g, const char *path)
{
    int ok = zs_image_write_png(path, &g->im) == ZS_OK;
    if (!ok) fprintf(stderr, "zspace %s: %s\n", cmd, zs_last_error());
    else printf("wrote %s (%dx%d)\n", path, g->im.w, g->im.h);
    free(g->im.rgb);
    return ok;
}

static int make_dir(const char *cmd, const char *dir)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "zspace %s: cannot create %s: %s\n", cmd, dir, strerror(errno));
        return 0;
    }
    return 1;
}

static void out_name(char *buf, size_t n, const char *dir, const char *img, const char *suffix)
{
    const char *base = strrchr(img, '/');
    base = base ? base + 1 : img;
    int blen = (int)strcspn(base, ".");
    snprintf(buf, n, "%s/%.*s%s", dir, blen, base, suffix);
}

static void progress_cb(void *user, int done, int total)
{
    (void)total;
    zs_progress_update(user, (size_t)done, NULL);
}

static int scale_ok(const char *cmd, long scale)
{
    if (scale < 1 || scale > 16) {
        fprintf(stderr, "zspace %s: --scale must be 1..16\n", cmd);
        return 0;
    }
    return 1;
}

/* Latents of a cache: from --latents (checked against model and data) or
 * encoded now. */
static int latents_get(const char *cmd, const model_ctx *mc, const char *data, const char *lat_path, int threads,
                       zs_latents *L)
{
    if (lat_path) {
        if (zs_latents_load(lat_path, L) != ZS_OK) {
            fprintf(stderr, "zspace %s: %s\n", cmd, zs_last_error());
            return 0;
        }
        if (L->model_hash != zs_model_hash(mc->m) || L->z != mc->Z) {
            fprintf(stderr, "zspace %s: %s was encoded by another model (run zspace encode again)\n", cmd, lat_path);
            zs_latents_free(L);
            return 0;
        }
        return 1;
    }
    if (!data) {
        fprintf(stderr, "zspace %s: --data FACES.zsf or --latents L is required\n", cmd);
        return 0;
    }
    zs_cache *c;
    if (zs_cache_open(&c, data) != ZS_OK) {
        fprintf(stderr, "zspace %s: %s\n", cmd, zs_last_error());
        return 0;
    }
    zs_progress p;
    zs_progress_start(&p, "encode", (size_t)zs_cache_count(c));
    zs_status st = zs_latents_encode(mc->m, c, threads, progress_cb, &p, L);
    zs_progress_end(&p, (size_t)zs_cache_count(c), NULL);
    zs_cache_close(c);
    if (st != ZS_OK) {
        fprintf(stderr, "zspace %s: %s\n", cmd, zs_last_error());
        return 0;
    }
    return 1;
}

/* ---- encode ---------------------------------------------------------------------- */
int zs_cmd_encode(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *out = NULL;
    long threads = 0;
    int bad = 0;
    for (int i = 1; i < argc && !bad; i++) {
        if (zs_arg_flag(argv, i, "--help") || zs_arg_flag(argv, i, "-h")) {
            printf("usage: zspace encode --model M --data FACES.zsf --out LATENTS.safetensors [--threads N]\n\n"
                   "Encodes every face of the cache (eval mode) on all cores and writes mu and logvar\n"
                   "(N x Z float32) with the faces' attributes and partition, and the hashes of the\n"
                   "model and the faces, so later commands can check they belong together.\n");
            return 0;
        }
        if (zs_arg_str(argc, argv, &i, "--model", &model, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--data", &data, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--out", &out, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--threads", &threads, &bad)) continue;
        fprintf(stderr, "zspace encode: unknown option '%s'\n", argv[i]);
        bad = 1;
    }
    if (bad || !model || !data || !out) {
        if (!bad) fprintf(stderr, "zspace encode: --model, --data and --out are required\n");
        return 2;
    }
    model_ctx mc;
    if (!model_open("encode", model, &mc)) return 1;
    zs_latents L;
    double t0 = zs_now();
    int rc = 1;
    if (latents_get("encode", &mc, data, NULL, (int)threads, &L)) {
        double dt = zs_now() - t0;
        if (zs_latents_save(out, &L) != ZS_OK) {
            fprintf(stderr, "zspace encode: %s\n", zs_last_error());
        } else {
            printf("encoded %d faces in %.2f s (%.0f faces/s) -> %s\n", L.n, dt, L.n / dt, out);
            rc = 0;
        }
        zs_latents_free(&L);
    }
    model_close(&mc);
    return rc;
}

/* ---- attrs ----------------------------------------------------------------------- */
int zs_cmd_attrs(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *lat = NULL, *out = NULL, *cos_csv = NULL, *over = NULL;
    long threads = 0, confounders = 0;
    int bad = 0, balanced = 0;
    for (int i = 1; i < argc && !bad; i++) {
        if (zs_arg_flag(argv, i, "--help") || zs_arg_flag(argv, i, "-h")) {
            printf("usage: zspace attrs --model M (--data FACES.zsf | --latents L) --out ATTRS.safetensors\n"
                   "                    [--balanced [--balance-over NAME,... | --confounders K]]\n"
                   "                    [--cosines FILE.csv] [--threads N]\n\n"
                   "For each of the 40 CelebA attributes: the vector mean(mu | attribute) - mean(mu | not)\n"
                   "over the train split. --balanced weights the cells of each attribute's confounders\n"
                   "equally, so that e.g. Smiling does not carry Female: by default over Male;\n"
                   "--balance-over names them; --confounders K takes Male and the K-1 attributes whose\n"
                   "labels correlate most with the target. Prints per vector the faces behind it and\n"
                   "its ROC AUC as a classifier of held-out (val) faces, with the most similar other\n"
                   "vectors; --cosines writes the 40 x 40 cosine table as CSV.\n");
            return 0;
        }
        if (zs_arg_flag(argv, i, "--balanced")) {
            balanced = 1;
            continue;
        }
        if (zs_arg_str(argc, argv, &i, "--model", &model, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--data", &data, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--latents", &lat, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--out", &out, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--cosines", &cos_csv, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--balance-over", &over, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--threads", &threads, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--confounders", &confounders, &bad)) continue;
        fprintf(stderr, "zspace attrs: unknown option '%s'\n", argv[i]);
        bad = 1;
    }
    if (!bad && (confounders < 0 || confounders > 8)) {
        fprintf(stderr, "zspace attrs: --confounders must be 0..8\n");
        bad = 1;
    }
    zs_attr_desc desc = {.balanced = balanced, .confounders = (int)confounders};
    if (!bad && over) {
        int list[ZS_NATTR], n = attr_list("attrs", over, list);
        if (n < 0) bad = 1;
        else if (n > 8) {
            fprintf(stderr, "zspace attrs: --balance-over takes at most 8 attributes\n");
            bad = 1;
        } else {
            memcpy(desc.conf_list, list, sizeof(int) * (size_t)n);
            desc.nconf_list = n;
            desc.balanced = 1;
        }
    }
    if (bad || !model || !out || (!data && !lat)) {
        if (!bad) fprintf(stderr, "zspace attrs: --model, --out and --data or --latents are required\n");
        return 2;
    }
    model_ctx mc;
    if (!model_open("attrs", model, &mc)) return 1;
    zs_latents L;
    if (!latents_get("attrs", &mc, data, lat, (int)threads, &L)) {
        model_close(&mc);
        return 1;
    }
    zs_attr_vectors A;
    int rc = 1;
    if (zs_attr_vectors_compute(&L, &desc, &A) != ZS_OK) {
        fprintf(stderr, "zspace attrs: %s\n", zs_last_error());
        goto done_lat;
    }
    float *cos = zs_xmalloc(sizeof(float) * ZS_NATTR * ZS_NATTR);
    zs_attr_cosines(&A, cos);
    printf("%-20s %6s %6s %6s %7s  %s\n", "attribute", "pos", "neg", "auc", "|v|", "most similar vectors (cosine)");
    for (int k = 0; k < ZS_NATTR; k++) {
        double nv = 0;
        for (int j = 0; j < A.z; j++) nv += (double)A.vec[k * A.z + j] * A.vec[k * A.z + j];
        int top[3] = {-1, -1, -1};
        for (int t = 0; t < 3; t++)
            for (int j = 0; j < ZS_NATTR; j++) {
                if (j == k || j == top[0] || j == top[1]) continue;
                if (top[t] < 0 || fabsf(cos[k * ZS_NATTR + j]) > fabsf(cos[k * ZS_NATTR + top[t]])) top[t] = j;
            }
        printf("%-20s %6d %6d %6.3f %7.3f ", zs_attr_names[k], A.npos[k], A.nneg[k], A.auc[k], sqrt(nv));
        for (int t = 0; t < 3; t++) printf(" %s %+.2f", zs_attr_names[top[t]], cos[k * ZS_NATTR + top[t]]);
        if (A.balanced && A.nconf[k]) {
            printf("  [balanced over");
            for (int j = 0; j < A.nconf[k]; j++) printf(" %s", zs_attr_names[A.conf[k][j]]);
            printf("]");
        }
        printf("\n");
    }
    if (cos_csv) {
        FILE *f = fopen(cos_csv, "w");
        if (!f) {
            fprintf(stderr, "zspace attrs: cannot write %s: %s\n", cos_csv, strerror(errno));
        } else {
            fprintf(f, "attribute");
            for (int j = 0; j < ZS_NATTR; j++) fprintf(f, ",%s", zs_attr_names[j]);
            fprintf(f, "\n");
            for (int k = 0; k < ZS_NATTR; k++) {
                fprintf(f, "%s", zs_attr_names[k]);
                for (int j = 0; j < ZS_NATTR; j++) fprintf(f, ",%.4f", cos[k * ZS_NATTR + j]);
                fprintf(f, "\n");
            }
            if (fclose(f) != 0) fprintf(stderr, "zspace attrs: writing %s failed\n", cos_csv);
        }
    }
    free(cos);
    printf("auc: on %s\n", A.held_out_from_fit ? "every 10th train face (the faces have no val split; those were "
                                                  "left out of the vectors)"
                                                : "the val split");
    if (zs_attr_vectors_save(out, &A) != ZS_OK) fprintf(stderr, "zspace attrs: %s\n", zs_last_error());
    else {
        printf("wrote %s (%s vectors of %d faces)\n", out, A.balanced ? "balanced" : "mean-difference", L.n);
        rc = 0;
    }
    zs_attr_vectors_free(&A);
done_lat:
    zs_latents_free(&L);
    model_close(&mc);
    return rc;
}

/* ---- edit / sweep ------------------------------------------------------------------ */
/* "Smiling=1.0" -> attribute and strength. */
static int parse_add(const char *cmd, const char *s, int *attr, float *strength)
{
    const char *eq = strchr(s, '=');
    if (!eq) {
        fprintf(stderr, "zspace %s: --add wants NAME=STRENGTH (e.g. Smiling=1.0), not '%s'\n", cmd, s);
        return 0;
    }
    if ((*attr = attr_lookup(cmd, s, (size_t)(eq - s))) < 0) return 0;
    char *end;
    errno = 0;
    double v = strtod(eq + 1, &end);
    if (end == eq + 1 || *end || errno || !isfinite(v)) {
        fprintf(stderr, "zspace %s: strength '%s' of %s is not a number\n", cmd, eq + 1, zs_attr_names[*attr]);
        return 0;
    }
    *strength = (float)v;
    return 1;
}

int zs_cmd_edit(int argc, char **argv)
{
    const char *model = NULL, *attrs = NULL, *out_dir = NULL, *keep_s = NULL;
    int bad = 0, nimg = 0, nadd = 0, detail = 0, have_crop = 0;
    double crop_rect[3];
    long scale = 1;
    const char **imgs = zs_xcalloc((size_t)argc, sizeof *imgs);
    int add_attr[64];
    float add_s[64];
    for (int i = 1; i < argc && !bad; i++) {
        if (zs_arg_flag(argv, i, "--help") || zs_arg_flag(argv, i, "-h")) {
            printf("usage: zspace edit --model M --attrs A --add NAME=S [--add NAME=S ...] IMAGE... --out-dir D\n"
                   "                   [--keep NAME,NAME...] [--detail] [--crop LEFT,TOP,SIDE] [--scale K]\n"
                   "                   [--sharpen S]\n\n"
                   "Encodes each photo (cropped as the face cache crops faces: an aligned CelebA image\n"
                   "exactly, any other photo its centred square, or with --crop the square of SIDE\n"
                   "pixels whose top left is at LEFT,TOP: frame the face from hairline to chin, as the\n"
                   "explorer's Photo tab shows), adds S times each named\n"
                   "attribute vector (1.0 = one full vector; negative removes), decodes, and writes\n"
                   "D/<name>_edit.png (the model's resolution, K times enlarged). --keep orthogonalizes\n"
                   "the edit vectors against the named attributes' vectors, so e.g. adding Smiling keeps\n"
                   "Male. --detail also writes D/<name>_detail.png at the photo's own resolution: the\n"
                   "photo plus the difference the edit makes to the decode, only where it makes one.\n"
                   "--sharpen S (here and in sweep, interp, sample): an unsharp mask of strength S (0..10)\n"
                   "on every decoded face written, the one the explorer's Sharpen slider applies.\n");
            free(imgs);
            return 0;
        }
        if (zs_arg_flag(argv, i, "--detail")) {
            detail = 1;
            continue;
        }
        const char *add;
        if (zs_arg_str(argc, argv, &i, "--add", &add, &bad)) {
            if (bad) break;
            if (nadd >= 64) {
                fprintf(stderr, "zspace edit: at most 64 --add\n");
                bad = 1;
            } else if (parse_add("edit", add, &add_attr[nadd], &add_s[nadd])) {
                nadd++;
            } else {
                bad = 1;
            }
            continue;
        }
        if (zs_arg_str(argc, argv, &i, "--model", &model, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--attrs", &attrs, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--out-dir", &out_dir, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--keep", &keep_s, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--scale", &scale, &bad)) continue;
        if (sharpen_arg(argc, argv, &i, &bad)) continue;
        if (crop_opt("edit", "--crop", argc, argv, &i, crop_rect, &have_crop, &bad)) continue;
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "zspace edit: unknown option '%s'\n", argv[i]);
            bad = 1;
            continue;
        }
        imgs[nimg++] = argv[i];
    }
    int keep[ZS_NATTR], nkeep = 0;
    if (!bad && keep_s && (nkeep = attr_list("edit", keep_s, keep)) < 0) bad = 1;
    if (!bad && !scale_ok("edit", scale)) bad = 1;
    if (bad || !model || !attrs || !out_dir || nimg == 0 || nadd == 0) {
        if (!bad) fprintf(stderr, "zspace edit: --model, --attrs, --out-dir, --add and at least one image are required\n");
        free(imgs);
        return 2;
    }
    model_ctx mc;
    zs_attr_vectors A;
    if (!model_open("edit", model, &mc)) {
        free(imgs);
        return 1;
    }
    if (!attrs_open("edit", attrs, &mc, &A) || !make_dir("edit", out_dir)) {
        model_close(&mc);
        free(imgs);
        return 1;
    }
    int Z = mc.Z, S = mc.S, failed = 0;
    float *x = zs_xmalloc(sizeof(float) * mc.img), *d0 = zs_xmalloc(sizeof(float) * mc.img);
    float *d1 = zs_xmalloc(sizeof(float) * mc.img), *mu = zs_xmalloc(sizeof(float) * Z);
    float *z = zs_xmalloc(sizeof(float) * Z), *v = zs_xmalloc(sizeof(float) * Z);
    /* the edit is the same for every photo: sum of s * direction, once */
    float *delta = zs_xcalloc((size_t)Z, sizeof(float));
    for (int a = 0; a < nadd; a++) {
        zs_attr_edit_vector(&A, add_attr[a], keep, nkeep, v);
        zs_latent_add(Z, delta, v, add_s[a], delta);
    }
    for (int k = 0; k < nimg; k++) {
        /* the photo is read once: its crop (given or guessed) feeds the encoder and --detail */
        zs_image photo;
        zs_crop crop;
        if (!photo_encode("edit", &mc, imgs[k], have_crop ? crop_rect : NULL, x, mu, &photo, &crop)) {
            failed++;
            continue;
        }
        zs_latent_add(Z, mu, delta, 1.0f, z);
        zs_vae_decode(mc.inf, z, 1, d1);
        char path[4096];
        grid g;
        grid_init(&g, 1, 1, S, (int)scale);
        grid_put(&g, 0, 0, d1);
        out_name(path, sizeof path, out_dir, imgs[k], "_edit.png");
        if (!grid_write("edit", &g, path)) failed++;
        if (detail) {
            zs_image res;
            zs_vae_decode(mc.inf, mu, 1, d0);
            if (zs_detail_edit(&photo, crop, d0, d1, S, &res) != ZS_OK) {
                fprintf(stderr, "zspace edit: %s: %s\n", imgs[k], zs_last_error());
                failed++;
            } else {
                out_name(path, sizeof path, out_dir, imgs[k], "_detail.png");
                if (zs_image_write_png(path, &res) != ZS_OK) {
                    fprintf(stderr, "zspace edit: %s\n", zs_last_error());
                    failed++;
                } else {
                    printf("wrote %s (%dx%d)\n", path, res.w, res.h);
                }
                zs_image_free(&res);
            }
        }
        zs_image_free(&photo);
    }
    free(x);
    free(d0);
    free(d1);
    free(mu);
    free(z);
    free(v);
    free(delta);
    free(imgs);
    zs_attr_vectors_free(&A);
    model_close(&mc);
    return failed ? 1 : 0;
}

int zs_cmd_sweep(int argc, char **argv)
{
    const char *model = NULL, *attrs = NULL, *out = NULL, *attr_s = NULL, *keep_s = NULL;
    double from = 0, to = 2;
    long steps = 6, scale = 1;
    int bad = 0, nimg = 0, have_crop = 0;
    double crop_rect[3];
    const char **imgs = zs_xcalloc((size_t)argc, sizeof *imgs);
    for (int i = 1; i < argc && !bad; i++) {
        if (zs_arg_flag(argv, i, "--help") || zs_arg_flag(argv, i, "-h")) {
            printf("usage: zspace sweep --model M --attrs A --attr NAME [--from 0] [--to 2] [--steps 6]\n"
                   "                    [--keep NAME,...] [--crop LEFT,TOP,SIDE] [--scale K] [--sharpen S]\n"
                   "                    IMAGE... --out grid.png\n\n"
                   "One row per photo: its crop, then its decode with the attribute vector added at\n"
                   "strengths from..to in `steps` even steps (like the facenet wiki's add_smile.png).\n"
                   "--crop frames the face in every photo as in `zspace edit`.\n");
            free(imgs);
            return 0;
        }
        if (zs_arg_str(argc, argv, &i, "--model", &model, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--attrs", &attrs, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--attr", &attr_s, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--out", &out, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--keep", &keep_s, &bad)) continue;
        if (zs_arg_float(argc, argv, &i, "--from", &from, &bad)) continue;
        if (zs_arg_float(argc, argv, &i, "--to", &to, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--steps", &steps, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--scale", &scale, &bad)) continue;
        if (sharpen_arg(argc, argv, &i, &bad)) continue;
        if (crop_opt("sweep", "--crop", argc, argv, &i, crop_rect, &have_crop, &bad)) continue;
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "zspace sweep: unknown option '%s'\n", argv[i]);
            bad = 1;
            continue;
        }
        imgs[nimg++] = argv[i];
    }
    int k = -1, keep[ZS_NATTR], nkeep = 0;
    if (!bad && attr_s && (k = attr_lookup("sweep", attr_s, strlen(attr_s))) < 0) bad = 1;
    if (!bad && keep_s && (nkeep = attr_list("sweep", keep_s, keep)) < 0) bad = 1;
    if (!bad && (steps < 2 || steps > 64)) {
        fprintf(stderr, "zspace sweep: --steps must be 2..64\n");
        bad = 1;
    }
    if (!bad && !scale_ok("sweep", scale)) bad = 1;
    if (bad || !model || !attrs || !out || !attr_s || nimg == 0) {
        if (!bad) fprintf(stderr, "zspace sweep: --model, --attrs, --attr, --out and at least one image are required\n");
        free(imgs);
        return 2;
    }
    model_ctx mc;
    zs_attr_vectors A;
    if (!model_open("sweep", model, &mc)) {
        free(imgs);
        return 1;
    }
    if (!attrs_open("sweep", attrs, &mc, &A)) {
        model_close(&mc);
        free(imgs);
        return 1;
    }
    int Z = mc.Z, failed = 0, row = 0;
    float *x = zs_xmalloc(sizeof(float) * mc.img), *y = zs_xmalloc(sizeof(float) * mc.img);
    float *mu = zs_xmalloc(sizeof(float) * Z), *z = zs_xmalloc(sizeof(float) * Z), *v = zs_xmalloc(sizeof(float) * Z);
    zs_attr_edit_vector(&A, k, keep, nkeep, v);
    grid g;
    grid_init(&g, nimg, (int)steps + 1, mc.S, (int)scale);
    for (int r = 0; r < nimg; r++) {
        if (!photo_encode("sweep", &mc, imgs[r], have_crop ? crop_rect : NULL, x, mu, NULL, NULL)) {
            failed++;
            continue;
        }
        grid_put(&g, row, 0, x);
        for (int s = 0; s < steps; s++) {
            float t = (float)(from + (to - from) * s / (steps - 1));
            zs_latent_add(Z, mu, v, t, z);
            zs_vae_decode(mc.inf, z, 1, y);
            grid_put(&g, row, s + 1, y);
        }
        row++;
    }
    if (row == 0) {
        fprintf(stderr, "zspace sweep: no image could be read\n");
        free(g.im.rgb);
        failed = 1;
    } else {
        g.im.h = row * mc.S * (int)scale;   /* rows of unreadable photos dropped */
        printf("columns: crop");
        for (int s = 0; s < steps; s++) printf(", %s%+.2f", zs_attr_names[k], from + (to - from) * s / (steps - 1));
        printf("\n");
        if (!grid_write("sweep", &g, out)) failed++;
    }
    free(x);
    free(y);
    free(mu);
    free(z);
    free(v);
    free(imgs);
    zs_attr_vectors_free(&A);
    model_close(&mc);
    return failed ? 1 : 0;
}

/* ---- mean: the decoded mean latent of a group of faces -------------------------------- */
int zs_cmd_mean(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *lat = NULL, *out = NULL, *where = "", *split = "all";
    long scale = 1, threads = 0;
    int bad = 0;
    for (int i = 1; i < argc && !bad; i++) {
        if (zs_arg_flag(argv, i, "--help") || zs_arg_flag(argv, i, "-h")) {
            printf("usage: zspace mean --model M (--data FACES.zsf | --latents L) --where \"Bald=yes Male\"\n"
                   "                   [--split all|train|val|test] [--scale K] [--sharpen S] --out face.png\n\n"
                   "Decodes the mean latent of every face whose labels match --where (terms NAME,\n"
                   "NAME=yes|no, !NAME; names case-insensitive, any unique part: 'glasses'), beside the\n"
                   "mean of all the split's faces, and says how many faces each averages.\n");
            return 0;
        }
        if (zs_arg_str(argc, argv, &i, "--model", &model, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--data", &data, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--latents", &lat, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--out", &out, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--where", &where, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--split", &split, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--scale", &scale, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--threads", &threads, &bad)) continue;
        if (sharpen_arg(argc, argv, &i, &bad)) continue;
        fprintf(stderr, "zspace mean: unknown option '%s'\n", argv[i]);
        bad = 1;
    }
    zs_query q;
    char msg[512];
    if (!bad && zs_query_parse(where, &q, msg, sizeof msg) != 0) {
        fprintf(stderr, "zspace mean: --where: %s\n", msg);
        bad = 1;
    }
    zs_data_split sp = ZS_SPLIT_ALL;
    if (!bad && !zs_arg_split("mean", split, &sp)) bad = 1;
    if (!bad && !scale_ok("mean", scale)) bad = 1;
    if (bad || !model || !out) {
        if (!bad) fprintf(stderr, "zspace mean: --model and --out are required\n");
        return 2;
    }
    model_ctx mc;
    if (!model_open("mean", model, &mc)) return 1;
    zs_latents L;
    if (!latents_get("mean", &mc, data, lat, (int)threads, &L)) {
        model_close(&mc);
        return 1;
    }
    int Z = mc.Z, rc = 1;
    float *mg = zs_xmalloc(sizeof(float) * Z), *ma = zs_xmalloc(sizeof(float) * Z), *y = zs_xmalloc(sizeof(float) * mc.img);
    zs_query all = {0};
    int ng = zs_latents_group_mean(&L, &q, sp, mg), na = zs_latents_group_mean(&L, &all, sp, ma);
    if (ng == 0) {
        fprintf(stderr, "zspace mean: no face of the %s split matches '%s'\n", split, where);
    } else {
        double d = 0;
        for (int j = 0; j < Z; j++) d += ((double)mg[j] - ma[j]) * ((double)mg[j] - ma[j]);
        grid g;
        grid_init(&g, 1, 2, mc.S, (int)scale);
        zs_vae_decode(mc.inf, mg, 1, y);
        grid_put(&g, 0, 0, y);
        zs_vae_decode(mc.inf, ma, 1, y);
        grid_put(&g, 0, 1, y);
        printf("left: the mean latent of %d faces (%s); right: of all %d faces of the split; %.3f apart\n", ng,
               q.n ? where : "no condition", na, sqrt(d));
        rc = grid_write("mean", &g, out) ? 0 : 1;
    }
    free(mg);
    free(ma);
    free(y);
    zs_latents_free(&L);
    model_close(&mc);
    return rc;
}

/* ---- walk: a 2-D grid along two attribute directions ------------------------------- */
int zs_cmd_walk(int argc, char **argv)
{
    const char *model = NULL, *attrs = NULL, *out = NULL, *xs = NULL, *ys = NULL, *img = NULL, *lat = NULL;
    double range = 2;
    long n = 7, scale = 1;
    int bad = 0, have_crop = 0;
    double crop_rect[3];
    for (int i = 1; i < argc && !bad; i++) {
        if (zs_arg_flag(argv, i, "--help") || zs_arg_flag(argv, i, "-h")) {
            printf("usage: zspace walk --model M --attrs A --x NAME --y NAME [--range 2] [--n 7]\n"
                   "                   [IMAGE [--crop LEFT,TOP,SIDE] | --latents L] [--scale K] [--sharpen S]\n"
                   "                   --out grid.png\n\n"
                   "An N x N grid of decodes around a centre, z = centre + a vx + b vy with a (columns,\n"
                   "left to right) and b (rows, top to bottom) from -range to +range, vx and vy the two\n"
                   "attribute vectors: the classic picture of a VAE's latent manifold. The centre is the\n"
                   "photo's latent, or the mean latent of L's faces, or the origin.\n");
            return 0;
        }
        if (zs_arg_str(argc, argv, &i, "--model", &model, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--attrs", &attrs, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--x", &xs, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--y", &ys, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--out", &out, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--latents", &lat, &bad)) continue;
        if (zs_arg_float(argc, argv, &i, "--range", &range, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--n", &n, &bad)) continue;
        if (crop_opt("walk", "--crop", argc, argv, &i, crop_rect, &have_crop, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--scale", &scale, &bad)) continue;
        if (sharpen_arg(argc, argv, &i, &bad)) continue;
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "zspace walk: unknown option '%s'\n", argv[i]);
            bad = 1;
        } else if (img) {
            fprintf(stderr, "zspace walk: one photo at most (got '%s' and '%s')\n", img, argv[i]);
            bad = 1;
        } else {
            img = argv[i];
        }
    }
    int ax = -1, ay = -1;
    if (!bad && xs && (ax = attr_lookup("walk", xs, strlen(xs))) < 0) bad = 1;
    if (!bad && ys && (ay = attr_lookup("walk", ys, strlen(ys))) < 0) bad = 1;
    if (!bad && (n < 2 || n > 32 || !(range > 0 && range <= 20))) {
        fprintf(stderr, "zspace walk: --n must be 2..32 and --range a number in (0, 20]\n");
        bad = 1;
    }
    if (!bad && img && lat) {
        fprintf(stderr, "zspace walk: the centre is a photo or the mean of --latents, not both\n");
        bad = 1;
    }
    if (!bad && !scale_ok("walk", scale)) bad = 1;
    if (bad || !model || !attrs || !out || !xs || !ys) {
        if (!bad) fprintf(stderr, "zspace walk: --model, --attrs, --x, --y and --out are required\n");
        return 2;
    }
    model_ctx mc;
    zs_attr_vectors A;
    if (!model_open("walk", model, &mc)) return 1;
    if (!attrs_open("walk", attrs, &mc, &A)) {
        model_close(&mc);
        return 1;
    }
    int Z = mc.Z, rc = 1;
    float *x = zs_xmalloc(sizeof(float) * mc.img), *y = zs_xmalloc(sizeof(float) * mc.img);
    float *c = zs_xcalloc((size_t)Z, sizeof(float)), *z = zs_xmalloc(sizeof(float) * Z);
    int ok = 1;
    if (img) {
        ok = photo_encode("walk", &mc, img, have_crop ? crop_rect : NULL, x, c, NULL, NULL);
    } else if (lat) {
        zs_latents L;
        ok = latents_get("walk", &mc, NULL, lat, 0, &L);
        if (ok) {
            for (size_t i = 0; i < (size_t)L.n; i++)
                for (int j = 0; j < Z; j++) c[j] += L.mu[i * Z + j] / (float)L.n;
            zs_latents_free(&L);
        }
    }
    if (ok) {
        grid g;
        grid_init(&g, (int)n, (int)n, mc.S, (int)scale);
        float *zz = zs_xmalloc(sizeof(float) * (size_t)n * n * Z);
        zs_walk_grid(c, A.vec + (size_t)ax * Z, A.vec + (size_t)ay * Z, Z, (int)n, range, zz);
        for (int r = 0; r < n; r++)
            for (int q = 0; q < n; q++) {
                zs_vae_decode(mc.inf, zz + ((size_t)r * n + q) * Z, 1, y);
                grid_put(&g, r, q, y);
            }
        free(zz);
        printf("columns: %s from %+.2f to %+.2f; rows: %s from %+.2f to %+.2f; centre: %s\n", zs_attr_names[ax], -range,
               range, zs_attr_names[ay], -range, range, img ? img : lat ? "the faces' mean latent" : "the origin");
        rc = grid_write("walk", &g, out) ? 0 : 1;
    }
    free(x);
    free(y);
    free(c);
    free(z);
    zs_attr_vectors_free(&A);
    model_close(&mc);
    return rc;
}

/* ---- interp ------------------------------------------------------------------------ */
int zs_cmd_interp(int argc, char **argv)
{
    const char *model = NULL, *out = NULL, *ab[2] = {NULL, NULL};
    long steps = 8, scale = 1;
    int bad = 0, nimg = 0, lerp = 0, have_crop[2] = {0, 0};
    double crop_rect[2][3];
    for (int i = 1; i < argc && !bad; i++) {
        if (zs_arg_flag(argv, i, "--help") || zs_arg_flag(argv, i, "-h")) {
            printf("usage: zspace interp --model M A.jpg B.jpg [--steps 8] [--lerp | --slerp] [--scale K]\n"
                   "                     [--crop-a LEFT,TOP,SIDE] [--crop-b LEFT,TOP,SIDE] [--sharpen S]\n"
                   "                     --out strip.png\n\n"
                   "Encodes both photos and decodes `steps` points from A to B (ends included) into one\n"
                   "strip. --slerp (default) follows the great circle, its norm going linearly from |A|\n"
                   "to |B|, as samples of the prior sit on a shell; --lerp takes the straight line.\n"
                   "Prints t and the latent norm of each point.\n");
            return 0;
        }
        if (zs_arg_flag(argv, i, "--lerp")) {
            lerp = 1;
            continue;
        }
        if (zs_arg_flag(argv, i, "--slerp")) {
            lerp = 0;
            continue;
        }
        if (zs_arg_str(argc, argv, &i, "--model", &model, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--out", &out, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--steps", &steps, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--scale", &scale, &bad)) continue;
        if (sharpen_arg(argc, argv, &i, &bad)) continue;
        if (crop_opt("interp", "--crop-a", argc, argv, &i, crop_rect[0], &have_crop[0], &bad)) continue;
        if (crop_opt("interp", "--crop-b", argc, argv, &i, crop_rect[1], &have_crop[1], &bad)) continue;
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "zspace interp: unknown option '%s'\n", argv[i]);
            bad = 1;
            continue;
        }
        if (nimg >= 2) {
            fprintf(stderr, "zspace interp: exactly two images, A and B\n");
            bad = 1;
            continue;
        }
        ab[nimg++] = argv[i];
    }
    if (!bad && (steps < 2 || steps > 256)) {
        fprintf(stderr, "zspace interp: --steps must be 2..256\n");
        bad = 1;
    }
    if (!bad && !scale_ok("interp", scale)) bad = 1;
    if (bad || !model || !out || nimg != 2) {
        if (!bad) fprintf(stderr, "zspace interp: --model, --out and two images are required\n");
        return 2;
    }
    model_ctx mc;
    if (!model_open("interp", model, &mc)) return 1;
    int Z = mc.Z, rc = 1;
    float *x = zs_xmalloc(sizeof(float) * mc.img), *y = zs_xmalloc(sizeof(float) * mc.img);
    float *za = zs_xmalloc(sizeof(float) * Z), *zb = zs_xmalloc(sizeof(float) * Z), *z = zs_xmalloc(sizeof(float) * Z);
    if (photo_encode("interp", &mc, ab[0], have_crop[0] ? crop_rect[0] : NULL, x, za, NULL, NULL) &&
        photo_encode("interp", &mc, ab[1], have_crop[1] ? crop_rect[1] : NULL, x, zb, NULL, NULL)) {
        grid g;
        grid_init(&g, 1, (int)steps, mc.S, (int)scale);
        printf("%s from %s to %s\n", lerp ? "lerp" : "slerp", ab[0], ab[1]);
        for (int s = 0; s < steps; s++) {
            float t = (float)s / (float)(steps - 1);
            if (lerp) zs_lerp(Z, za, zb, t, z);
            else zs_slerp(Z, za, zb, t, z);
            double n2 = 0;
            for (int j = 0; j < Z; j++) n2 += (double)z[j] * z[j];
            printf("t %.3f  |z| %.3f\n", t, sqrt(n2));
            zs_vae_decode(mc.inf, z, 1, y);
            grid_put(&g, 0, s, y);
        }
        rc = grid_write("interp", &g, out) ? 0 : 1;
    }
    free(x);
    free(y);
    free(za);
    free(zb);
    free(z);
    model_close(&mc);
    return rc;
}

/* ---- sample ------------------------------------------------------------------------- */
int zs_cmd_sample(int argc, char **argv)
{
    const char *model = NULL, *out = NULL, *data = NULL, *lat = NULL;
    long count = 16, seed = 1, scale = 1, threads = 0;
    double radius = 1.0, box = -1;
    int bad = 0, fitted = 0;
    for (int i = 1; i < argc && !bad; i++) {
        if (zs_arg_flag(argv, i, "--help") || zs_arg_flag(argv, i, "-h")) {
            printf("usage: zspace sample --model M [--count 16] [--radius R | --box B] [--seed S] [--scale K] [--sharpen S]\n"
                   "                     --out grid.png [--fitted] [--data FACES.zsf | --latents L]\n\n"
                   "Decodes `count` samples into a grid: z = R * N(0, I), or with --fitted from the\n"
                   "Gaussian fitted to the encoded faces (their mean and covariance: the cloud of real\n"
                   "faces sits off the origin and is correlated), R scaling its spread, or with --box\n"
                   "uniformly from the box [-B, B]^Z. Prints each sample's norm against sqrt(Z), the norm\n"
                   "typical of N(0, I), and, when faces are given (--data or --latents), its Mahalanobis\n"
                   "distance under the fitted Gaussian and whether it lies inside the data cloud (squared\n"
                   "distance within the 99%% quantile of chi-square with Z degrees of freedom).\n");
            return 0;
        }
        if (zs_arg_flag(argv, i, "--fitted")) {
            fitted = 1;
            continue;
        }
        if (zs_arg_str(argc, argv, &i, "--model", &model, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--out", &out, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--data", &data, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--latents", &lat, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--count", &count, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--seed", &seed, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--scale", &scale, &bad)) continue;
        if (sharpen_arg(argc, argv, &i, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--threads", &threads, &bad)) continue;
        if (zs_arg_float(argc, argv, &i, "--radius", &radius, &bad)) continue;
        if (zs_arg_float(argc, argv, &i, "--box", &box, &bad)) {
            if (!(box > 0 && box <= 100)) {
                fprintf(stderr, "zspace sample: --box must be a number in (0, 100]\n");
                bad = 1;
            }
            continue;
        }
        fprintf(stderr, "zspace sample: unknown option '%s'\n", argv[i]);
        bad = 1;
    }
    if (!bad && (count < 1 || count > 1024)) {
        fprintf(stderr, "zspace sample: --count must be 1..1024\n");
        bad = 1;
    }
    if (!bad && !(radius >= 0 && radius <= 100)) {
        fprintf(stderr, "zspace sample: --radius must be a number in 0..100\n");
        bad = 1;
    }
    if (!bad && fitted && box > 0) {
        fprintf(stderr, "zspace sample: --fitted and --box are two sampling modes: choose one\n");
        bad = 1;
    }
    if (!bad && fitted && !data && !lat) {
        fprintf(stderr, "zspace sample: --fitted needs --data FACES.zsf or --latents L\n");
        bad = 1;
    }
    if (!bad && !scale_ok("sample", scale)) bad = 1;
    if (bad || !model || !out) {
        if (!bad) fprintf(stderr, "zspace sample: --model and --out are required\n");
        return 2;
    }
    model_ctx mc;
    if (!model_open("sample", model, &mc)) return 1;
    int Z = mc.Z, rc = 1;
    zs_gauss gs, *g = NULL;
    if (fitted || data || lat) {
        zs_latents L;
        if (!latents_get("sample", &mc, data, lat, (int)threads, &L)) {
            model_close(&mc);
            return 1;
        }
        int *idx, n = zs_latents_split(&L, ZS_SPLIT_TRAIN, &idx);
        if (n < 2) {   /* a cache without a train split: fit all faces */
            free(idx);
            n = zs_latents_split(&L, ZS_SPLIT_ALL, &idx);
        }
        float *x = zs_xmalloc(sizeof(float) * (size_t)n * Z);
        for (int i = 0; i < n; i++) memcpy(x + (size_t)i * Z, L.mu + (size_t)idx[i] * Z, sizeof(float) * Z);
        zs_status st = zs_gauss_fit(x, n, Z, &gs);
        free(x);
        free(idx);
        zs_latents_free(&L);
        if (st != ZS_OK) {
            fprintf(stderr, "zspace sample: %s\n", zs_last_error());
            model_close(&mc);
            return 1;
        }
        double mn = 0;
        for (int j = 0; j < Z; j++) mn += (double)gs.mean[j] * gs.mean[j];
        printf("fitted Gaussian of %d faces: |mean| %.3f\n", n, sqrt(mn));
        g = &gs;
    }
    float *zs = zs_xmalloc(sizeof(float) * (size_t)count * Z), *y = zs_xmalloc(sizeof(float) * mc.img);
    if (box > 0) zs_latent_sample_box(Z, (int)count, (float)box, (uint64_t)seed, zs);
    else zs_latent_sample(fitted ? g : NULL, Z, (int)count, (float)radius, (uint64_t)seed, zs);
    double q99 = zs_chi2_quantile99(Z);
    int inside = 0;
    int cols = (int)ceil(sqrt((double)count)), rows = (int)((count + cols - 1) / cols);
    grid gr;
    grid_init(&gr, rows, cols, mc.S, (int)scale);
    printf("sqrt(Z) = %.3f (typical norm of N(0, I))\n", sqrt((double)Z));
    for (int i = 0; i < count; i++) {
        double n2 = 0;
        for (int j = 0; j < Z; j++) n2 += (double)zs[(size_t)i * Z + j] * zs[(size_t)i * Z + j];
        printf("sample %d: |z| %.3f (%.3f sqrt(Z))", i, sqrt(n2), sqrt(n2 / Z));
        if (g) {
            double d = zs_gauss_mahalanobis(g, zs + (size_t)i * Z);
            inside += d * d <= q99;
            printf(", Mahalanobis %.2f, %s the data cloud", d, d * d <= q99 ? "inside" : "outside");
        }
        printf("\n");
        zs_vae_decode(mc.inf, zs + (size_t)i * Z, 1, y);
        grid_put(&gr, i / cols, i % cols, y);
    }
    if (g)
        printf("%d of %ld samples inside the data cloud (squared Mahalanobis distance <= %.1f, chi-square %d 99%%)\n",
               inside, count, q99, Z);
    rc = grid_write("sample", &gr, out) ? 0 : 1;
    free(zs);
    free(y);
    if (g) zs_gauss_free(g);
    model_close(&mc);
    return rc;
}

/* ---- judge ------------------------------------------------------------------------------ */
int zs_cmd_judge(int argc, char **argv)
{
    const char *model = NULL, *attrs = NULL, *data = NULL, *lat = NULL, *add = NULL, *keep_s = NULL, *feat = NULL;
    long max_faces = 0, threads = 0;
    int bad = 0;
    for (int i = 1; i < argc && !bad; i++) {
        if (zs_arg_flag(argv, i, "--help") || zs_arg_flag(argv, i, "-h")) {
            printf("usage: zspace judge --model M --attrs A --data FACES.zsf [--latents L] --add NAME=S\n"
                   "                    [--keep NAME,...] [--features FEAT] [--max-faces N] [--threads N]\n\n"
                   "How well an edit works, judged by its images: fits one linear probe per attribute\n"
                   "(logistic regression on mu of the train split), then takes the held-out (val) faces\n"
                   "labelled without NAME (with it, for S < 0), decodes them plain and edited, encodes\n"
                   "both pictures again and lets the probes judge them. Prints the probes' held-out\n"
                   "accuracy, the share of edited faces judged to show NAME (and of the plain\n"
                   "reconstructions), and for every attribute the share whose judgement changed.\n"
                   "--features FEAT judges the pictures themselves with that attribute network (made by\n"
                   "zspace train-features; best one that took no part in training the model) instead of\n"
                   "the probes.\n");
            return 0;
        }
        if (zs_arg_str(argc, argv, &i, "--model", &model, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--attrs", &attrs, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--data", &data, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--latents", &lat, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--add", &add, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--keep", &keep_s, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--features", &feat, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--max-faces", &max_faces, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--threads", &threads, &bad)) continue;
        fprintf(stderr, "zspace judge: unknown option '%s'\n", argv[i]);
        bad = 1;
    }
    int attr = -1, keep[ZS_NATTR], nkeep = 0;
    float strength = 0;
    if (!bad && add && !parse_add("judge", add, &attr, &strength)) bad = 1;
    if (!bad && keep_s && (nkeep = attr_list("judge", keep_s, keep)) < 0) bad = 1;
    if (bad || !model || !attrs || !data || !add) {
        if (!bad) fprintf(stderr, "zspace judge: --model, --attrs, --data and --add are required\n");
        return 2;
    }
    model_ctx mc;
    if (!model_open("judge", model, &mc)) return 1;
    zs_attr_vectors A;
    if (!attrs_open("judge", attrs, &mc, &A)) {
        model_close(&mc);
        return 1;
    }
    int rc = 1;
    zs_latents L = {0};
    zs_probes P = {0};
    zs_cache *c = NULL;
    zs_feat *f = NULL;
    if (feat) {
        if (zs_feat_load(feat, &f) != ZS_OK) {
            fprintf(stderr, "zspace judge: %s\n", zs_last_error());
            goto out_a;
        }
    } else {
        if (!latents_get("judge", &mc, data, lat, (int)threads, &L)) goto out_a;
        if (zs_probes_fit(&L, ZS_SPLIT_TRAIN, ZS_SPLIT_VAL, &P) != ZS_OK) {
            fprintf(stderr, "zspace judge: %s\n", zs_last_error());
            goto out_l;
        }
    }
    if (zs_cache_open(&c, data) != ZS_OK) {
        fprintf(stderr, "zspace judge: %s\n", zs_last_error());
        goto out_p;
    }
    zs_edit_report r;
    if (zs_edit_judge(mc.m, c, ZS_SPLIT_VAL, &A, f ? NULL : &P, f, attr, strength, keep, nkeep, (int)max_faces, (int)threads, &r) !=
        ZS_OK) {
        fprintf(stderr, "zspace judge: %s\n", zs_last_error());
        goto out_c;
    }
    printf("edit: %s %+.2f%s on %d held-out faces labelled %s it\n", zs_attr_names[attr], strength,
           nkeep ? " (orthogonalised)" : "", r.n, strength >= 0 ? "without" : "with");
    if (f)
        printf("judged by the attribute network %s\n", feat);
    else
        printf("probe accuracy on held-out latents: %s %.3f\n", zs_attr_names[attr], P.acc[attr]);
    printf("judged %s: %.1f%% after the edit, %.1f%% of plain reconstructions\n",
           strength >= 0 ? "to show it" : "not to show it", 100 * r.success, 100 * r.before);
    static const char *watch[] = {"Male", "Eyeglasses", "Black_Hair", "Blond_Hair", "Brown_Hair", "Gray_Hair",
                                  "Wearing_Hat"};
    float worst = 0;
    printf("judgement changed (watched attributes):\n");
    for (size_t w = 0; w < sizeof watch / sizeof watch[0]; w++) {
        int q = zs_attr_find(watch[w]);
        if (q == attr) continue;
        if (f)
            printf("  %-12s %5.1f%%\n", watch[w], 100 * r.flip[q]);
        else
            printf("  %-12s %5.1f%%  (probe accuracy %.3f)\n", watch[w], 100 * r.flip[q], P.acc[q]);
        if (r.flip[q] > worst) worst = r.flip[q];
    }
    printf("other attributes changed on more than 5%%:");
    int any = 0;
    for (int q = 0; q < ZS_NATTR; q++) {
        int watched = 0;
        for (size_t w = 0; w < sizeof watch / sizeof watch[0]; w++) watched |= strcmp(watch[w], zs_attr_names[q]) == 0;
        if (q == attr || watched || r.flip[q] <= 0.05f) continue;
        printf(" %s %.1f%%", zs_attr_names[q], 100 * r.flip[q]);
        any = 1;
    }
    printf("%s\nsuccess: %.4f\nworst_watched_change: %.4f\n", any ? "" : " none", r.success, worst);
    rc = 0;
out_c:
    zs_cache_close(c);
out_p:
    zs_probes_free(&P);
out_l:
    zs_latents_free(&L);
    zs_feat_destroy(f);
out_a:
    zs_attr_vectors_free(&A);
    model_close(&mc);
    return rc;
}

/* ---- stats ------------------------------------------------------------------------ */
int zs_cmd_stats(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *lat = NULL, *out = NULL, *split = "all";
    long threads = 0, bins = 40, seed = 1;
    int bad = 0;
    for (int i = 1; i < argc && !bad; i++) {
        if (zs_arg_flag(argv, i, "--help") || zs_arg_flag(argv, i, "-h")) {
            printf("usage: zspace stats --model M (--data FACES.zsf | --latents L) --out DIR\n"
                   "                    [--split all|train|val|test] [--bins 40] [--seed S] [--threads N]\n\n"
                   "What the cloud of encoded faces (their mu) looks like: per-component mean, spread and\n"
                   "histogram (dominant components first), the correlation matrix and its strongest pairs, how\n"
                   "far the cloud's centre sits from the origin, and the latents' norms against sqrt(Z) and\n"
                   "against as many samples of the prior N(0, I). Writes into DIR: components.csv,\n"
                   "correlation.csv, pairs.csv, summary.txt (also printed), histograms.png, correlation.png\n"
                   "(red positive, blue negative) and norms.png (faces orange, prior grey, sqrt(Z) black).\n");
            return 0;
        }
        if (zs_arg_str(argc, argv, &i, "--model", &model, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--data", &data, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--latents", &lat, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--out", &out, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--split", &split, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--bins", &bins, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--seed", &seed, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--threads", &threads, &bad)) continue;
        fprintf(stderr, "zspace stats: unknown option '%s'\n", argv[i]);
        bad = 1;
    }
    zs_data_split sp = ZS_SPLIT_ALL;
    if (!bad && !zs_arg_split("stats", split, &sp)) bad = 1;
    if (!bad && (!model || !out)) {
        fprintf(stderr, "zspace stats: --model and --out are required (see --help)\n");
        bad = 1;
    }
    if (!bad && (bins < 2 || bins > 1000)) {
        fprintf(stderr, "zspace stats: --bins must be 2..1000\n");
        bad = 1;
    }
    if (bad) return 2;
    model_ctx mc;
    if (!model_open("stats", model, &mc)) return 1;
    zs_latents L;
    if (!latents_get("stats", &mc, data, lat, (int)threads, &L)) {
        model_close(&mc);
        return 1;
    }
    int *idx = NULL, n = zs_latents_split(&L, sp, &idx);
    float *mu = zs_xmalloc(sizeof(float) * ((size_t)n * L.z + 1));
    for (int i = 0; i < n; i++) memcpy(mu + (size_t)i * L.z, L.mu + (size_t)idx[i] * L.z, sizeof(float) * (size_t)L.z);
    zs_latent_stats st;
    int rc = 0;
    if (zs_latent_stats_compute(mu, n, L.z, (int)bins, (uint64_t)seed, &st) != ZS_OK) {
        fprintf(stderr, "zspace stats: %s\n", zs_last_error());
        rc = 1;
    } else {
        if (zs_latent_stats_write(&st, out) != ZS_OK) {
            fprintf(stderr, "zspace stats: %s\n", zs_last_error());
            rc = 1;
        } else {
            zs_latent_stats_summary(&st, stdout);
            int pairs[10];
            double r[5];
            int k = zs_latent_top_pairs(&st, 5, pairs, r);
            printf("strongest correlations:");
            for (int q = 0; q < k; q++) printf(" %d-%d %.3f%s", pairs[2 * q], pairs[2 * q + 1], r[q], q + 1 < k ? "," : "");
            printf("\nwrote %s/{components,correlation,pairs}.csv, summary.txt, histograms.png, correlation.png, norms.png\n",
                   out);
        }
        zs_latent_stats_free(&st);
    }
    free(mu);
    free(idx);
    zs_latents_free(&L);
    model_close(&mc);
    return rc;
}
