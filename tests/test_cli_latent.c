/* The latent toolkit from the command line, end to end: encode, attrs,
 * edit (with --detail and --keep), sweep, interp and sample on the shipped
 * default model and 1500 faces of the CelebA slice (skipped when absent), and
 * the messages for bad input (unknown attribute, bad strength, attribute
 * vectors of another model, unreadable photos).
 *
 *     test_cli_latent /path/to/zspace /path/to/default.safetensors */
#include "testutil.h"
#include "test_data_fixture.h"
#include "zspace/latent.h"
#include "zspace/trainer.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *g_exe, *g_tmp;

static int run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int run(char **out, const char *fmt, ...)
{
    char args[8192], cmd[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s", g_tmp, g_exe, args);
    int rc = fx_run(cmd, out);
    if (getenv("ZS_TEST_VERBOSE")) fprintf(stderr, "$ %s\n[exit %d]\n%s", cmd, rc, *out);
    return rc;
}

static int has(const char *out, const char *needle)
{
    if (strstr(out, needle)) return 1;
    fprintf(stderr, "--- output lacks '%s':\n%s---\n", needle, out);
    return 0;
}

static int load_png(const char *name, zs_image *im)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", g_tmp, name);
    if (zs_image_load(im, path) != ZS_OK) {
        fprintf(stderr, "%s\n", zs_last_error());
        return 0;
    }
    return 1;
}

static double mean_abs_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += abs((int)a[i] - (int)b[i]);
    return s / (double)n;
}

static int file_equal(const char *a, const char *b)
{
    char pa[4096], pb[4096];
    snprintf(pa, sizeof pa, "%s/%s", g_tmp, a);
    snprintf(pb, sizeof pb, "%s/%s", g_tmp, b);
    uint8_t *da, *db;
    size_t la, lb;
    if (zs_read_file(pa, &da, &la, 1 << 26) != ZS_OK) return 0;
    if (zs_read_file(pb, &db, &lb, 1 << 26) != ZS_OK) {
        free(da);
        return 0;
    }
    int eq = la == lb && memcmp(da, db, la) == 0;
    free(da);
    free(db);
    return eq;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_cli_latent ZSPACE MODEL\n");
        return 2;
    }
    g_exe = argv[1];
    const char *model = argv[2];
    g_tmp = zs_test_tmpdir();
    char celeba[1024], img[2048];
    snprintf(celeba, sizeof celeba, "%s", ZS_CELEBA_DIR);
    snprintf(img, sizeof img, "%s/img_align_celeba", celeba);
    struct stat sb;
    if (stat(img, &sb) != 0) {
        printf("skipped: %s not present\n", img);
        return 77;
    }
    char *o;
    /* faces: the first 1500 of the slice by id (all train: the AUC falls back to every 10th face) */
    CHECK(run(&o, "prepare --celeba '%s' --out faces.zsf --limit 1500", celeba) == 0);
    free(o);

    /* encode: every face, and mu equal to the library's encode of face 0 */
    CHECK(run(&o, "encode --model '%s' --data faces.zsf --out lat.safetensors", model) == 0 &&
          has(o, "encoded 1500 faces"));
    free(o);
    zs_latents L;
    char path[4096];
    snprintf(path, sizeof path, "%s/lat.safetensors", g_tmp);
    CHECK(zs_latents_load(path, &L) == ZS_OK && L.n == 1500 && L.z == 128);
    zs_vae *m;
    CHECK(zs_ckpt_load_model(model, &m, NULL) == ZS_OK);
    CHECK(L.model_hash == zs_model_hash(m));
    {
        zs_cache *c;
        snprintf(path, sizeof path, "%s/faces.zsf", g_tmp);
        CHECK(zs_cache_open(&c, path) == ZS_OK);
        float x[3 * 64 * 64], mu[128];
        zs_face_to_chw(zs_cache_pixels(c, 7), 64, x, 0);
        zs_vae_infer *inf = zs_vae_infer_create(&m->cfg, 1);
        zs_vae_infer_load(inf, m->params);
        zs_vae_encode(inf, x, 1, mu, NULL);
        float e = 0;
        for (int j = 0; j < 128; j++) e = fmaxf(e, fabsf(mu[j] - L.mu[7 * 128 + j]));
        CHECKF(e < 1e-5f, "encode's mu of face 7 differs from zs_vae_encode by %g", e);
        CHECK(L.attr[7 * ZS_NATTR + 31] == zs_cache_attrs(c, 7)[31] && L.part[7] == zs_cache_partition(c, 7));
        zs_vae_infer_destroy(inf);
        zs_cache_close(c);
    }

    /* attrs from the latents; the table and the file */
    CHECK(run(&o, "attrs --model '%s' --latents lat.safetensors --out attrs.safetensors --cosines cos.csv", model) ==
              0 &&
          has(o, "Smiling") && has(o, "Eyeglasses") && has(o, "wrote attrs.safetensors") &&
          has(o, "auc: on every 10th train face"));
    free(o);
    zs_attr_vectors A;
    snprintf(path, sizeof path, "%s/attrs.safetensors", g_tmp);
    CHECK(zs_attr_vectors_load(path, &A) == ZS_OK);
    int smiling = zs_attr_find("Smiling"), male = zs_attr_find("Male");
    /* Even the small default model separates these well on held-out faces */
    CHECKF(A.auc[smiling] > 0.7f, "Smiling AUC %.3f", A.auc[smiling]);
    CHECKF(A.auc[male] > 0.7f, "Male AUC %.3f", A.auc[male]);
    CHECK(A.npos[smiling] + A.nneg[smiling] == 1350 && A.model_hash == L.model_hash);
    zs_attr_vectors_free(&A);
    uint8_t *csv;
    size_t csv_len;
    snprintf(path, sizeof path, "%s/cos.csv", g_tmp);
    CHECK(zs_read_file(path, &csv, &csv_len, 1 << 20) == ZS_OK);
    if (csv) {
        int lines = 0;
        for (size_t i = 0; i < csv_len; i++) lines += csv[i] == '\n';
        CHECKF(lines == 41, "cosine table has %d lines", lines);
        CHECK(strstr((char *)csv, "Smiling,") != NULL);
        free(csv);
    }
    CHECK(run(&o, "attrs --model '%s' --latents lat.safetensors --out attrs_bal.safetensors --balanced", model) == 0 &&
          has(o, "balanced over"));
    free(o);

    /* a model with other weights (float16 export) must not take these files */
    CHECK(run(&o, "export --model '%s' --out other.safetensors --f16", model) == 0);
    free(o);
    CHECK(run(&o, "attrs --model other.safetensors --latents lat.safetensors --out x.safetensors") == 1 &&
          has(o, "encoded by another model"));
    free(o);

    /* edit: two faces and a broken file; output per readable photo */
    char a_jpg[4096], b_jpg[4096];
    {
        zs_cache *c;
        snprintf(path, sizeof path, "%s/faces.zsf", g_tmp);
        CHECK(zs_cache_open(&c, path) == ZS_OK);
        snprintf(a_jpg, sizeof a_jpg, "%s/%s", img, zs_cache_id(c, 0));
        snprintf(b_jpg, sizeof b_jpg, "%s/%s", img, zs_cache_id(c, 1));
        zs_cache_close(c);
    }
    snprintf(path, sizeof path, "%s/broken.jpg", g_tmp);
    static const char not_jpeg[] = "\xff\xd8\xff\xe0 not really a jpeg";
    CHECK(fx_write(path, not_jpeg, sizeof not_jpeg - 1) == 0);
    CHECK(run(&o, "edit --model '%s' --attrs attrs.safetensors --add Smiling=1.0 '%s' '%s' broken.jpg --out-dir ed "
                  "--detail",
              model, a_jpg, b_jpg) == 1 &&
          has(o, "broken.jpg") && has(o, "skipped"));
    free(o);
    CHECK(run(&o, "edit --model '%s' --attrs attrs.safetensors --add Smiling=0 '%s' --out-dir ed0 --detail", model,
              a_jpg) == 0);
    free(o);
    zs_image e1, e0, d1, d0, photo;
    const char *abase = strrchr(a_jpg, '/') + 1;
    char n1[256], n0[256], nd1[256], nd0[256];
    snprintf(n1, sizeof n1, "ed/%.6s_edit.png", abase);
    snprintf(n0, sizeof n0, "ed0/%.6s_edit.png", abase);
    snprintf(nd1, sizeof nd1, "ed/%.6s_detail.png", abase);
    snprintf(nd0, sizeof nd0, "ed0/%.6s_detail.png", abase);
    if (load_png(n1, &e1) && load_png(n0, &e0) && load_png(nd1, &d1) && load_png(nd0, &d0) &&
        zs_image_load(&photo, a_jpg) == ZS_OK) {
        CHECK(e1.w == 64 && e1.h == 64);
        double de = mean_abs_diff(e1.rgb, e0.rgb, (size_t)64 * 64 * 3);
        CHECKF(de > 2.0, "adding Smiling changed the decode by only %.2f levels", de);
        CHECK(d1.w == photo.w && d1.h == photo.h);
        /* strength 0: the detail edit is the photo itself */
        CHECK(memcmp(d0.rgb, photo.rgb, (size_t)photo.w * photo.h * 3) == 0);
        /* strength 1: the photo changes, and not at all in its top rows (outside the face crop) */
        CHECK(mean_abs_diff(d1.rgb, photo.rgb, (size_t)photo.w * photo.h * 3) > 0.2);
        CHECK(memcmp(d1.rgb, photo.rgb, (size_t)photo.w * 30 * 3) == 0);
        zs_image_free(&e1);
        zs_image_free(&e0);
        zs_image_free(&d1);
        zs_image_free(&d0);
        zs_image_free(&photo);
    }
    /* --keep: Smiling orthogonal to Male must still change the face */
    CHECK(run(&o, "edit --model '%s' --attrs attrs.safetensors --add Smiling=1 --keep Male,Eyeglasses '%s' --out-dir "
                  "edk --scale 2",
              model, a_jpg) == 0);
    free(o);
    snprintf(n1, sizeof n1, "edk/%.6s_edit.png", abase);
    if (load_png(n1, &e1)) {
        CHECK(e1.w == 128 && e1.h == 128);
        zs_image_free(&e1);
    }

    /* --crop: the guess's own square gives the same bytes as no --crop; another square another
     * face, used by --detail too (rows above it untouched, rows in it changed) */
    CHECK(run(&o, "edit --model '%s' --attrs attrs.safetensors --add Smiling=1.0 '%s' --out-dir edc --crop 15,40,148",
              model, a_jpg) == 0);
    free(o);
    CHECK(run(&o, "edit --model '%s' --attrs attrs.safetensors --add Smiling=1.0 '%s' --out-dir edc2 --detail "
                  "--crop 40,70,100",
              model, a_jpg) == 0);
    free(o);
    {
        zs_image ec, ed, e2, dd2;
        char nc[256], n2[256], ndc[256];
        snprintf(nc, sizeof nc, "edc/%.6s_edit.png", abase);
        snprintf(n2, sizeof n2, "edc2/%.6s_edit.png", abase);
        snprintf(ndc, sizeof ndc, "edc2/%.6s_detail.png", abase);
        snprintf(n1, sizeof n1, "ed/%.6s_edit.png", abase);
        int got = load_png(nc, &ec) && load_png(n1, &ed) && load_png(n2, &e2) && load_png(ndc, &dd2) &&
                  zs_image_load(&photo, a_jpg) == ZS_OK;
        CHECKF(got, "--crop: missing outputs");
        if (got) {
            CHECKF(memcmp(ec.rgb, ed.rgb, (size_t)64 * 64 * 3) == 0, "--crop of the guessed square changed the edit");
            double dc = mean_abs_diff(e2.rgb, ed.rgb, (size_t)64 * 64 * 3);
            CHECKF(dc > 5.0, "another --crop changed the edit by only %.2f levels", dc);
            size_t row = (size_t)photo.w * 3;
            CHECK(memcmp(dd2.rgb, photo.rgb, row * 70) == 0);
            CHECK(mean_abs_diff(dd2.rgb + row * 70, photo.rgb + row * 70, row * 100) > 0.5);
            zs_image_free(&ec), zs_image_free(&ed), zs_image_free(&e2), zs_image_free(&dd2), zs_image_free(&photo);
        }
    }
    CHECK(run(&o, "edit --model '%s' --attrs attrs.safetensors --add Smiling=1 '%s' --out-dir ed --crop 1,2", model,
              a_jpg) == 2 &&
          has(o, "--crop '1,2': want LEFT,TOP,SIDE"));
    free(o);
    CHECK(run(&o, "edit --model '%s' --attrs attrs.safetensors --add Smiling=1 '%s' --out-dir ed --crop 500,0,50",
              model, a_jpg) == 1 &&
          has(o, "lies outside the 178x218 photo"));
    free(o);

    /* bad input: nearest name, bad strength, vectors of another model */
    CHECK(run(&o, "edit --model '%s' --attrs attrs.safetensors --add smilng=1 '%s' --out-dir ed", model, a_jpg) == 2 &&
          has(o, "unknown attribute 'smilng' (did you mean Smiling?)"));
    free(o);
    CHECK(run(&o, "edit --model '%s' --attrs attrs.safetensors --add Smiling=lots '%s' --out-dir ed", model, a_jpg) ==
              2 &&
          has(o, "strength 'lots' of Smiling is not a number"));
    free(o);
    CHECK(run(&o, "edit --model other.safetensors --attrs attrs.safetensors --add Smiling=1 '%s' --out-dir ed",
              a_jpg) == 1 &&
          has(o, "was made with another model"));
    free(o);
    CHECK(run(&o, "edit --model '%s' --attrs lat.safetensors --add Smiling=1 '%s' --out-dir ed", model, a_jpg) == 1 &&
          has(o, "not a zspace attribute-vector file"));
    free(o);

    /* sweep: rows of photos, crop + steps columns */
    CHECK(run(&o, "sweep --model '%s' --attrs attrs.safetensors --attr Smiling --from 0 --to 2 --steps 6 '%s' '%s' "
                  "--out sweep.png",
              model, a_jpg, b_jpg) == 0);
    free(o);
    zs_image g;
    if (load_png("sweep.png", &g)) {
        CHECK(g.w == 7 * 64 && g.h == 2 * 64);
        zs_image_free(&g);
    }

    /* interp: strip of 5; t = 0 and t = 1 are the two reconstructions; lerp midpoint differs from slerp's */
    CHECK(run(&o, "interp --model '%s' '%s' '%s' --steps 5 --out strip.png", model, a_jpg, b_jpg) == 0 &&
          has(o, "slerp") && has(o, "t 1.000"));
    free(o);
    CHECK(run(&o, "interp --model '%s' '%s' '%s' --steps 5 --lerp --out strip_lerp.png", model, a_jpg, b_jpg) == 0);
    free(o);
    CHECK(run(&o, "recon --model '%s' '%s' --out-dir rec", model, a_jpg) == 0);
    free(o);
    zs_image s, sl, rec;
    snprintf(n1, sizeof n1, "rec/%.6s_recon.png", abase);
    if (load_png("strip.png", &s) && load_png("strip_lerp.png", &sl) && load_png(n1, &rec)) {
        CHECK(s.w == 5 * 64 && s.h == 64);
        /* tile 0 == the reconstruction (right half of recon's pair) */
        int same = 1;
        for (int y = 0; y < 64; y++)
            if (memcmp(s.rgb + (size_t)y * s.w * 3, rec.rgb + ((size_t)y * rec.w + 64) * 3, 64 * 3) != 0) same = 0;
        CHECK(same);
        /* ends equal, middle different */
        double ends = 0, mid = 0;
        for (int y = 0; y < 64; y++) {
            ends += mean_abs_diff(s.rgb + ((size_t)y * s.w + 4 * 64) * 3, sl.rgb + ((size_t)y * sl.w + 4 * 64) * 3, 192);
            mid += mean_abs_diff(s.rgb + ((size_t)y * s.w + 2 * 64) * 3, sl.rgb + ((size_t)y * sl.w + 2 * 64) * 3, 192);
        }
        CHECKF(ends == 0 && mid > 0, "lerp vs slerp: ends differ by %g, middles by %g", ends, mid);
        zs_image_free(&s);
        zs_image_free(&sl);
        zs_image_free(&rec);
    }
    CHECK(run(&o, "interp --model '%s' '%s' --out x.png", model, a_jpg) == 2);
    free(o);
    /* --crop-a / --crop-b: A's guessed square changes nothing; another square for B changes B's end only */
    CHECK(run(&o, "interp --model '%s' '%s' '%s' --steps 5 --crop-a 15,40,148 --crop-b 40,70,100 --out strip_c.png",
              model, a_jpg, b_jpg) == 0);
    free(o);
    if (load_png("strip.png", &s) && load_png("strip_c.png", &sl)) {
        double da = 0, db = 0;
        for (int y = 0; y < 64; y++) {
            da += mean_abs_diff(s.rgb + (size_t)y * s.w * 3, sl.rgb + (size_t)y * sl.w * 3, 192);
            db += mean_abs_diff(s.rgb + ((size_t)y * s.w + 4 * 64) * 3, sl.rgb + ((size_t)y * sl.w + 4 * 64) * 3, 192);
        }
        CHECKF(da == 0 && db / 64 > 5, "interp --crop-a/b: A's end moved by %g, B's by %g", da / 64, db / 64);
        zs_image_free(&s);
        zs_image_free(&sl);
    } else CHECKF(0, "interp --crop: no strip");
    CHECK(run(&o, "walk --model '%s' --attrs attrs.safetensors --x Smiling --y Male '%s' --crop 1,2,x --out w.png",
              model, a_jpg) == 2 &&
          has(o, "--crop '1,2,x': want LEFT,TOP,SIDE"));
    free(o);

    /* sample: grid, norms, determinism by seed, fitted mode */
    CHECK(run(&o, "sample --model '%s' --count 6 --radius 1 --seed 3 --out s1.png", model) == 0 &&
          has(o, "sqrt(Z) = 11.314") && has(o, "sample 5: |z|"));
    free(o);
    CHECK(run(&o, "sample --model '%s' --count 6 --radius 1 --seed 3 --out s2.png", model) == 0);
    free(o);
    CHECK(run(&o, "sample --model '%s' --count 6 --radius 1 --seed 4 --out s3.png", model) == 0);
    free(o);
    CHECK(file_equal("s1.png", "s2.png") && !file_equal("s1.png", "s3.png"));
    if (load_png("s1.png", &g)) {
        CHECK(g.w == 3 * 64 && g.h == 2 * 64);
        zs_image_free(&g);
    }
    CHECK(run(&o, "sample --model '%s' --count 4 --radius 0.5 --fitted --latents lat.safetensors --out sf.png",
              model) == 0 &&
          has(o, "fitted Gaussian of"));
    free(o);
    CHECK(run(&o, "sample --model '%s' --fitted --out x.png", model) == 2 && has(o, "--fitted needs"));
    free(o);
    CHECK(run(&o, "sample --model '%s' --radius nan --out x.png", model) == 2);
    free(o);

    /* train on these faces: grids and checkpoints land on multiples of their
     * own intervals even when those are not multiples of --log-every */
    CHECK(run(&o, "train --data faces.zsf --out t.safetensors --steps 6 --batch 8 --threads 2 --log-every 4 "
                  "--grid-every 3 --ckpt-every 5") == 0);
    free(o);
    {
        struct stat st3, st6, st4;
        char p3[4096], p6[4096], p4[4096];
        snprintf(p3, sizeof p3, "%s/t_recon/reconstructed_000003.png", g_tmp);
        snprintf(p6, sizeof p6, "%s/t_recon/reconstructed_000006.png", g_tmp);
        snprintf(p4, sizeof p4, "%s/t_recon/reconstructed_000004.png", g_tmp);
        CHECK(stat(p3, &st3) == 0 && stat(p6, &st6) == 0 && stat(p4, &st4) != 0);
    }
    /* --lr on a resume replaces the checkpoint's rate (lowering it for the last epochs) */
    CHECK(run(&o, "train --data faces.zsf --out t.safetensors --steps 8 --lr 1e-4 --resume --grid-every 0") == 0 &&
          has(o, "learning rate 0.0001 (the checkpoint's was 0.0005)"));
    free(o);
    {
        zs_ckpt_info ti;
        snprintf(path, sizeof path, "%s/t.safetensors", g_tmp);
        CHECK(zs_ckpt_read_info(path, &ti) == ZS_OK && ti.step == 8 && fabsf(ti.lr - 1e-4f) < 1e-9f);
    }

    /* walk: a 3 x 3 grid along two directions; its centre cell is the plain decode (sample
     * 0 of a 1-step sweep from 0 to 0 is the same latent) */
    CHECK(run(&o, "walk --model '%s' --attrs attrs.safetensors --x Smiling --y Male --n 3 --range 1 '%s' --out walk.png",
              model, a_jpg) == 0 && has(o, "columns: Smiling from -1.00 to +1.00; rows: Male"));
    free(o);
    CHECK(run(&o, "sweep --model '%s' --attrs attrs.safetensors --attr Smiling --from 0 --to 0 --steps 2 '%s' "
                  "--out sw0.png", model, a_jpg) == 0);
    free(o);
    {
        zs_image w = {0}, sw = {0};
        CHECK(load_png("walk.png", &w) && load_png("sw0.png", &sw) && w.w == 3 * 64 && w.h == 3 * 64);
        if (w.rgb && sw.rgb) {
            int same = 1;
            for (int y = 0; y < 64 && same; y++)
                same = memcmp(w.rgb + ((size_t)(64 + y) * w.w + 64) * 3, sw.rgb + ((size_t)y * sw.w + 64) * 3, 64 * 3) == 0;
            CHECK(same);
        }
        free(w.rgb);
        free(sw.rgb);
    }
    CHECK(run(&o, "walk --model '%s' --attrs attrs.safetensors --x Smilng --y Male --out walk.png", model) == 2 &&
          has(o, "Smiling"));
    free(o);
    CHECK(run(&o, "walk --model '%s' --attrs attrs.safetensors --x Smiling --y Male --latents lat.safetensors '%s' "
                  "--out walk.png", model, a_jpg) == 2);
    free(o);

    /* mean: the group's mean face beside everyone's */
    CHECK(run(&o, "mean --model '%s' --latents lat.safetensors --where 'Male Eyeglasses=no' --out mean.png", model) == 0 &&
          has(o, "left: the mean latent of ") && has(o, "(Male Eyeglasses=no); right: of all 1500 faces"));
    free(o);
    {
        zs_image g = {0};
        CHECK(load_png("mean.png", &g) && g.w == 128 && g.h == 64);
        free(g.rgb);
    }
    CHECK(run(&o, "mean --model '%s' --latents lat.safetensors --where 'Smilng' --out mean.png", model) == 2 &&
          has(o, "did you mean Smiling"));
    free(o);
    CHECK(run(&o, "mean --model '%s' --latents lat.safetensors --where 'Bald Wearing_Hat Eyeglasses Goatee Mustache "
                  "Blond_Hair Wearing_Lipstick' --out mean.png", model) == 1 && has(o, "no face of the all split"));
    free(o);

    /* box sampling, and where samples fall against the cloud of these faces */
    CHECK(run(&o, "sample --model '%s' --box 1.5 --count 4 --latents lat.safetensors --out box.png", model) == 0 &&
          has(o, "Mahalanobis") && has(o, "samples inside the data cloud") && has(o, "chi-square 128 99%"));
    free(o);
    CHECK(run(&o, "sample --model '%s' --box 1 --fitted --latents lat.safetensors --out box.png", model) == 2 &&
          has(o, "choose one"));
    free(o);
    CHECK(run(&o, "sample --model '%s' --box -2 --out box.png", model) == 2);
    free(o);
    /* --sharpen: the same samples, sharper (more change between neighbouring pixels) */
    CHECK(run(&o, "sample --model '%s' --count 4 --seed 2 --out plain.png", model) == 0);
    free(o);
    CHECK(run(&o, "sample --model '%s' --count 4 --seed 2 --sharpen 1.5 --out sharp.png", model) == 0);
    free(o);
    {
        zs_image a = {0}, b = {0};
        CHECK(load_png("plain.png", &a) && load_png("sharp.png", &b) && a.w == b.w && a.h == b.h);
        if (a.rgb && b.rgb) {
            double ga = 0, gb = 0;
            for (int y = 0; y < a.h; y++)
                for (int x = 1; x < a.w; x++) {
                    size_t p = ((size_t)y * a.w + x) * 3;
                    ga += abs(a.rgb[p] - a.rgb[p - 3]);
                    gb += abs(b.rgb[p] - b.rgb[p - 3]);
                }
            CHECKF(gb > 1.05 * ga, "sharpened gradient %g, plain %g", gb, ga);
        }
        free(a.rgb);
        free(b.rgb);
    }
    CHECK(run(&o, "sample --model '%s' --sharpen lots --out x.png", model) == 2);
    free(o);

    /* the explorer's options work without the word gui (parsed before any window opens) */
    CHECK(run(&o, "--no-such-option") == 2 && has(o, "zspace gui: unknown option '--no-such-option'") &&
          !has(o, "unknown command"));
    free(o);

    /* stats of the latent cloud: summary printed, CSVs and pictures written */
    CHECK(run(&o, "stats --model '%s' --latents lat.safetensors --out st", model) == 0 &&
          has(o, "centre of the cloud") && has(o, "sqrt(Z) = 11.3137") && has(o, "strongest correlations"));
    free(o);
    {
        struct stat s1, s2;
        char p1[4096], p2[4096];
        snprintf(p1, sizeof p1, "%s/st/correlation.png", g_tmp);
        snprintf(p2, sizeof p2, "%s/st/components.csv", g_tmp);
        CHECK(stat(p1, &s1) == 0 && stat(p2, &s2) == 0 && s2.st_size > 128 * 10);
    }
    CHECK(run(&o, "stats --model '%s' --latents lat.safetensors --out st --split sideways", model) == 2);
    free(o);
    CHECK(run(&o, "stats --model other.safetensors --latents lat.safetensors --out st") == 1 &&
          has(o, "another model"));
    free(o);

    /* --init: start from a model's weights (an exported, weights-only file) */
    CHECK(run(&o, "train --data faces.zsf --out ti.safetensors --init other.safetensors --steps 2 --batch 8 "
                  "--grid-every 0") == 0 && has(o, "starting from the weights of other.safetensors"));
    free(o);
    CHECK(run(&o, "train --data faces.zsf --out ti2.safetensors --init lat.safetensors --steps 2") == 1 &&
          has(o, "lat.safetensors"));
    free(o);

    /* the perceptual loss: a feature network, then training through it */
    CHECK(run(&o, "train-features --data faces.zsf --out feat.safetensors --steps 12 --batch 16 --threads 2") == 0 &&
          has(o, "saved feat.safetensors") && has(o, "no validation accuracy"));
    free(o);
    CHECK(run(&o, "train --data faces.zsf --out tp.safetensors --steps 3 --batch 8 --grid-every 0 --loss both "
                  "--features feat.safetensors --feature-layers 1,2 --beta 0.5 --alpha 1") == 0 &&
          has(o, "pixel + feature loss through feat.safetensors, blocks 1,2, weight 0.5; KL weight 1"));
    free(o);
    /* the checkpoint records the loss; --resume continues it */
    {
        zs_ckpt_info pi;
        snprintf(path, sizeof path, "%s/tp.safetensors", g_tmp);
        CHECK(zs_ckpt_read_info(path, &pi) == ZS_OK && strcmp(pi.recon, "both") == 0 &&
              strcmp(pi.feat_path, "feat.safetensors") == 0 && strcmp(pi.feat_layers, "1,2") == 0 &&
              pi.feat_weight == 0.5f);
    }
    CHECK(run(&o, "train --data faces.zsf --out tp.safetensors --steps 4 --batch 8 --grid-every 0 --resume") == 0 &&
          has(o, "resuming with the checkpoint's loss: both through feat.safetensors (blocks 1,2, weight 0.5)") &&
          has(o, "pixel + feature loss"));
    free(o);

    /* eval: two models side by side, what the feature network sees change, a grid */
    CHECK(run(&o, "eval --model '%s' --model tp.safetensors --data faces.zsf --split all --features feat.safetensors "
                  "--grid cmp.png --count 3", model) == 0 &&
          has(o, "model: tp.safetensors") && has(o, "prediction changed by the reconstruction: Male") &&
          has(o, "lost by the reconstruction"));
    free(o);
    {
        zs_image g = {0};
        CHECK(load_png("cmp.png", &g) && g.w == 3 * 64 * 2 && g.h == 3 * 64 * 2);
        free(g.rgb);
    }
    CHECK(run(&o, "train --data faces.zsf --out tp.safetensors --steps 3 --loss perceptual") == 2 &&
          has(o, "needs --features"));
    free(o);
    CHECK(run(&o, "train --data faces.zsf --out tp.safetensors --steps 3 --alpha 2") == 2 && has(o, "--alpha"));
    free(o);
    CHECK(run(&o, "train --data faces.zsf --out tp2.safetensors --steps 3 --loss perceptual --features feat.safetensors "
                  "--feature-layers 1,9") == 1 && has(o, "blocks 1..4"));
    free(o);
    CHECK(run(&o, "train --data faces.zsf --out tp2.safetensors --steps 3 --loss perceptual --features "
                  "lat.safetensors") == 1 && has(o, "not a zspace feature network"));
    free(o);

    /* judge: probes from the train latents, edits of the shipped val gallery;
     * adding Smiling must make more faces look smiling than before */
    char gallery[4096];
    snprintf(gallery, sizeof gallery, "%s", model);
    char *slash = strrchr(gallery, '/');
    snprintf(slash ? slash + 1 : gallery, sizeof gallery - (size_t)(slash ? slash + 1 - gallery : 0), "gallery.zsf");
    CHECK(run(&o, "judge --model '%s' --attrs attrs.safetensors --latents lat.safetensors --data '%s' --add Smiling=1 "
                  "--max-faces 120",
              model, gallery) == 0 &&
          has(o, "success: ") && has(o, "Male"));
    {
        const char *sp = o ? strstr(o, "judged to show it: ") : NULL;
        double after = 0, before = 1;
        CHECK(sp && sscanf(sp, "judged to show it: %lf%% after the edit, %lf%%", &after, &before) == 2);
        CHECKF(after > before + 20, "Smiling judged on %.1f%% after the edit, %.1f%% before", after, before);
    }
    free(o);
    /* judged by an attribute network on the pictures instead of the probes */
    CHECK(run(&o, "judge --model '%s' --attrs attrs.safetensors --data '%s' --add Smiling=1 --max-faces 40 "
                  "--features feat.safetensors",
              model, gallery) == 0 &&
          has(o, "judged by the attribute network feat.safetensors") && has(o, "on 40 held-out faces") &&
          !has(o, "probe accuracy"));
    {
        const char *sp = o ? strstr(o, "judged to show it: ") : NULL;
        double after = -1, before = -1;
        CHECK(sp && sscanf(sp, "judged to show it: %lf%% after the edit, %lf%%", &after, &before) == 2 && after >= 0 &&
              after <= 100 && before >= 0 && before <= 100);
    }
    free(o);
    CHECK(run(&o, "judge --model '%s' --attrs attrs.safetensors --data '%s' --add Smiling=1 --features lat.safetensors",
              model, gallery) == 1 &&
          has(o, "not a zspace feature network"));
    free(o);
    CHECK(run(&o, "judge --model '%s' --attrs attrs.safetensors --data faces.zsf --latents lat.safetensors --add "
                  "Smiling=1",
              model) == 1 &&
          has(o, "no val faces without Smiling"));
    free(o);

    zs_latents_free(&L);
    zs_vae_destroy(m);
    if (zs_test_failures == 0) fx_cleanup();
    TEST_END();
}
