/* The explorer's views over the latent space beside the sliders (issue 9,
 * items 3-6; src/app/views.c), driven headless like tests/test_gui.c: the
 * real `zspace gui --script` under Xvfb (or SDL's offscreen driver), its
 * printed state and screenshots checked against libzspace.
 *
 *   (a) Sharpen: at strength 0 the reconstruction is decode(mu) as before;
 *       moved to ~1.6 the face region changes, and every texel drawn (nearest
 *       filtering, whole multiples of the model's size) equals
 *       zs_sharpen_chw of the 8-bit face shown at 0 within 1 level, and of the
 *       float decode within a few; back at 0 the pixels are those of before;
 *   (b) Sample, box mode: every cell is decode(zs_latent_sample_box(...)) for
 *       the b and seed shown, moving b changes the grid, each cell's
 *       indicator is green exactly when zs_gauss_mahalanobis under the
 *       Gaussian of the encoded gallery puts it inside the cloud (d^2 within
 *       zs_chi2_quantile99), the app's distances are the library's and its
 *       count agrees; the fitted mode has samples inside;
 *   (c) Walk, around a photo (a PNG of gallery face 0): the grid draws, each
 *       cell is the exported PNG's tile, the export equals what `zspace walk`
 *       writes for the same photo, directions, range and N, choosing another
 *       x direction or N changes the grid;
 *   (d) Mean face: "Bald=yes" then the button: the count is the library's
 *       (zs_latents_group_mean), both panels show decode(mean), and a query
 *       no face matches gives a message and leaves the face alone;
 *   (e) the session keeps sharpen, the sample mode and b, the walk's
 *       directions, range and N; a session file without them still loads.
 *
 * usage: test_gui_views ZSPACE_EXE SOURCE_DIR
 */
#include "gui_harness.h"
#include "testutil.h"
#include "zspace/analysis.h"
#include "zspace/latent.h"
#include "zspace/trainer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct { zs_vae_infer *inf; zs_cache *cache; zs_attr_vectors attrs; int S, Z; zs_vae *m; } lib;

/* `zspace gui ARGS --script` of the text, headless. */
static int run_gui(const char *tag, const char *script, const char *args, char **out, char **err)
{
    char path[512], cmd[3072];
    snprintf(path, sizeof path, "%s/%s.txt", g_tmp, tag);
    write_text(path, script);
    snprintf(cmd, sizeof cmd, "timeout -s KILL 120 %s %s gui --script %s %s", g_runner, g_exe, path, args);
    return run_cmd(tag, cmd, out, err);
}

/* The S x S face drawn in r, read at the centre of each texel's block of pixels. */
static void read_face(const zs_image *im, rect r, int S, uint8_t *out)
{
    for (int i = 0; i < S; i++)
        for (int j = 0; j < S; j++) {
            int x = r.x + (2 * j + 1) * r.w / (2 * S), y = r.y + (2 * i + 1) * r.h / (2 * S);
            memcpy(out + ((size_t)i * S + j) * 3, im->rgb + ((size_t)y * im->w + x) * 3, 3);
        }
}

static int face_maxdiff(const zs_image *im, rect r, const uint8_t *ref, int S)
{
    uint8_t *got = zs_xmalloc((size_t)S * S * 3);
    read_face(im, r, S, got);
    int m = max_diff(got, ref, (size_t)S * S * 3);
    free(got);
    return m;
}

static void decode_u8(lib *L, const float *z, uint8_t *out, float *chw)
{
    zs_vae_decode(L->inf, z, 1, chw);
    zs_face_from_chw(chw, L->S, out);
}

static void encode_face(lib *L, int face, float *mu)
{
    float *x = zs_xmalloc(sizeof(float) * 3 * L->S * L->S);
    zs_face_to_chw(zs_cache_pixels(L->cache, face), L->S, x, 0);
    zs_vae_encode(L->inf, x, 1, mu, NULL);
    free(x);
}


/* ---- (a) Sharpen ---------------------------------------------------------------------------------- */
static const char *SHARPEN_SCRIPT =
    "sync\n"
    "key N\n"
    "wait 2\n"
    "echo s0\n"
    "print walk\n"
    "print rect image/edit\n"
    "screenshot %1$s/sh0.png\n"
    "drag slider/sharpen slider/sharpen@0.4,0.5 6\n"
    "sync\n"
    "echo s1\n"
    "print walk\n"
    "screenshot %1$s/sh1.png\n"
    "drag slider/sharpen slider/sharpen@0.0,0.5 6\n"
    "sync\n"
    "echo s2\n"
    "print walk\n"
    "screenshot %1$s/sh2.png\n";

static void test_sharpen(lib *L)
{
    char script[4096], *out, *err;
    snprintf(script, sizeof script, SHARPEN_SCRIPT, g_tmp);
    int rc = run_gui("sharpen", script, "", &out, &err);
    CHECKF(rc == 0, "exit %d: %s", rc, err);
    char *s0 = section(out, "s0"), *s1 = section(out, "s1"), *s2 = section(out, "s2");
    rect re;
    zs_image a0, a1, a2;
    int ok = get_rect(s0, "image/edit", &re) & load_png("sh0.png", &a0) & load_png("sh1.png", &a1) &
             load_png("sh2.png", &a2);
    double amount = field(s1, "sharpen=");
    CHECKF(ok && re.w >= L->S && re.w % L->S == 0, "rect / screenshots missing: %s%s", out, err);
    CHECKF(field(s0, "sharpen=") == 0 && amount > 1 && amount < 2.5 && field(s2, "sharpen=") == 0,
           "sharpen values: %s %s %s", s0, s1, s2);
    if (ok && re.w >= L->S) {
        int S = L->S;
        size_t np = (size_t)S * S * 3;
        uint8_t *shown0 = zs_xmalloc(np), *want = zs_xmalloc(np), *want_f = zs_xmalloc(np), *dec = zs_xmalloc(np);
        float *mu = zs_xmalloc(sizeof(float) * L->Z), *chw = zs_xmalloc(sizeof(float) * np),
              *sh = zs_xmalloc(sizeof(float) * np);
        /* strength 0: the reconstruction as before */
        encode_face(L, 0, mu);
        decode_u8(L, mu, dec, chw);
        int m0 = face_maxdiff(&a0, re, dec, S);
        CHECKF(m0 <= 2, "sharpen 0: reconstruction vs decode(mu): max %d", m0);
        double d = region_diff(&a0, &a1, (rect){re.x, re.y, re.w, re.h});
        CHECKF(d > 1, "sharpen %.2f changed the face by only %.2f levels", amount, d);
        /* the shader vs zs_sharpen_chw: on the 8-bit face it draws, and on the float decode */
        zs_sharpen_chw(chw, S, (float)amount, sh);
        zs_face_from_chw(sh, S, want_f);
        read_face(&a0, re, S, shown0);
        zs_face_to_chw(shown0, S, chw, 0);
        zs_sharpen_chw(chw, S, (float)amount, sh);
        zs_face_from_chw(sh, S, want);
        int m8 = face_maxdiff(&a1, re, want, S), mf = face_maxdiff(&a1, re, want_f, S);
        fprintf(stderr, "sharpen %.3f: shader vs zs_sharpen_chw of the 8-bit face max %d, of the float decode max %d\n",
                amount, m8, mf);
        CHECKF(m8 <= 1, "shader vs zs_sharpen_chw on the texels: max %d", m8);
        CHECKF(mf <= 4, "shader vs zs_sharpen_chw on the float decode: max %d", mf);
        /* every pixel of a texel's block is that texel's (nearest, integer scale) */
        int k = re.w / S, worst = 0;
        for (int y = 0; y < re.h; y++)
            for (int x = 0; x < re.w; x++) {
                const uint8_t *p = a1.rgb + ((size_t)(re.y + y) * a1.w + re.x + x) * 3;
                const uint8_t *q = want + ((size_t)(y / k) * S + x / k) * 3;
                for (int c = 0; c < 3; c++)
                    if (abs(p[c] - q[c]) > worst) worst = abs(p[c] - q[c]);
            }
        CHECKF(worst <= 1, "every pixel of the %dx scaled face vs zs_sharpen_chw: max %d", k, worst);
        CHECKF(region_diff(&a0, &a2, (rect){0, 0, a0.w, a0.h - 40}) == 0, "back at 0: the picture is not the same");
        free(shown0), free(want), free(want_f), free(dec), free(mu), free(chw), free(sh);
    }
    free(a0.rgb), free(a1.rgb), free(a2.rgb);
    free(s0), free(s1), free(s2), free(out), free(err);
}

/* ---- (b) Sample: box mode and the data cloud -------------------------------------------------------- */
static const char *BOX_SCRIPT =
    "sync\n"
    "key N\n"
    "click tab/Sample\n"
    "sync\n"
    "click toggle/Box_[-b,_b]\n"
    "sync\n"
    "echo box1\n"
    "print sample\n"
    "print rect sample/0\nprint rect sample/1\nprint rect sample/2\nprint rect sample/3\n"
    "print rect sample/4\nprint rect sample/5\nprint rect sample/6\nprint rect sample/7\n"
    "print rect sample/8\nprint rect sample/9\nprint rect sample/10\nprint rect sample/11\n"
    "print rect sample/12\nprint rect sample/13\nprint rect sample/14\nprint rect sample/15\n"
    "print rect cloud/0\nprint rect cloud/1\nprint rect cloud/2\nprint rect cloud/3\n"
    "print rect cloud/4\nprint rect cloud/5\nprint rect cloud/6\nprint rect cloud/7\n"
    "print rect cloud/8\nprint rect cloud/9\nprint rect cloud/10\nprint rect cloud/11\n"
    "print rect cloud/12\nprint rect cloud/13\nprint rect cloud/14\nprint rect cloud/15\n"
    "screenshot %1$s/box1.png\n"
    "drag slider/box_b slider/box_b@0.1,0.5 5\n"
    "sync\n"
    "echo box2\n"
    "print sample\n"
    "screenshot %1$s/box2.png\n"
    "click toggle/Fitted_to_the_gallery\n"
    "sync\n"
    "echo fit\n"
    "print sample\n"
    "screenshot %1$s/fit.png\n";

static int parse_cloud(const char *sec, double *d, int *in)
{
    int n = 0;
    for (const char *p = strstr(sec, "sample_cloud "); p; p = strstr(p + 1, "sample_cloud ")) {
        int i, v;
        double x;
        if (sscanf(p, "sample_cloud %d %lf %d", &i, &x, &v) == 3 && i >= 0 && i < 16) d[i] = x, in[i] = v, n++;
    }
    return n;
}

/* Is the frame's top edge at r green (inside) or red (outside)? 1, 0, or -1 when neither. */
static int indicator(const zs_image *im, rect r)
{
    const uint8_t *p = im->rgb + ((size_t)(r.y + r.h / 2) * im->w + r.x + r.w / 2) * 3;
    if (p[1] > 150 && p[0] < 120) return 1;
    if (p[0] > 180 && p[1] < 110) return 0;
    return -1;
}

static void test_box(lib *L, const zs_gauss *g)
{
    char script[8192], *out, *err;
    snprintf(script, sizeof script, BOX_SCRIPT, g_tmp);
    int rc = run_gui("box", script, "", &out, &err);
    CHECKF(rc == 0, "exit %d: %s", rc, err);
    char *b1 = section(out, "box1"), *b2 = section(out, "box2"), *fit = section(out, "fit");
    rect cells[16], dots[16];
    int ok = 1;
    for (int i = 0; i < 16; i++) {
        char name[32];
        snprintf(name, sizeof name, "sample/%d", i);
        ok &= get_rect(b1, name, &cells[i]);
        snprintf(name, sizeof name, "cloud/%d", i);
        ok &= get_rect(b1, name, &dots[i]);
    }
    zs_image i1, i2, i3;
    ok &= load_png("box1.png", &i1) & load_png("box2.png", &i2) & load_png("fit.png", &i3);
    CHECKF(ok, "rects or screenshots missing: %s%s", out, err);
    double bb = field(b1, "b="), bb2 = field(b2, "b=");
    uint64_t seed = (uint64_t)field(b1, "sample seed=");
    CHECKF(field(b1, "box=") == 1 && field(b1, "have_maha=") == 1 && bb > 0, "box mode: %s", b1);
    if (ok) {
        int S = L->S, Z = L->Z;
        size_t np = (size_t)S * S * 3;
        float *z = zs_xmalloc(sizeof(float) * 16 * Z), *chw = zs_xmalloc(sizeof(float) * np);
        uint8_t *want = zs_xmalloc(np);
        zs_latent_sample_box(Z, 16, (float)bb, seed, z);
        int worst = 0, inside = 0, agree = 0, colour = 0;
        double d[16], dmax = 0, q = zs_chi2_quantile99(Z);
        int in[16];
        CHECKF(parse_cloud(b1, d, in) == 16, "16 distances: %s", b1);
        for (int i = 0; i < 16; i++) {
            decode_u8(L, z + (size_t)i * Z, want, chw);
            int m = face_maxdiff(&i1, cells[i], want, S);
            if (m > worst) worst = m;
            double lib_d = zs_gauss_mahalanobis(g, z + (size_t)i * Z);
            int lib_in = lib_d * lib_d <= q;
            if (fabs(lib_d - d[i]) / (lib_d + 1e-9) > dmax) dmax = fabs(lib_d - d[i]) / (lib_d + 1e-9);
            agree += lib_in == in[i];
            colour += indicator(&i1, dots[i]) == lib_in;
            inside += lib_in;
        }
        fprintf(stderr, "box b=%.3f: %d/16 inside by the library; distances within %.2g (relative)\n", bb, inside, dmax);
        CHECKF(worst <= 2, "box grid vs decode(zs_latent_sample_box): max %d", worst);
        CHECKF(dmax < 1e-3, "the app's Mahalanobis distances vs the library's: %g relative", dmax);
        CHECKF(agree == 16 && colour == 16, "inside flags agree %d/16, indicator colours %d/16", agree, colour);
        CHECKF((int)field(b1, "inside=") == inside, "the count: app %g, library %d", field(b1, "inside="), inside);
        rect all = {cells[0].x, cells[0].y, cells[15].x + cells[15].w - cells[0].x, cells[15].y + cells[15].h - cells[0].y};
        CHECKF(bb2 < bb && region_diff(&i1, &i2, all) > 3, "b %.2f -> %.2f: grid changed by %.2f", bb, bb2,
               region_diff(&i1, &i2, all));
        CHECKF(field(fit, "box=") == 0 && field(fit, "fitted=") == 1 && field(fit, "inside=") >= 8,
               "fitted mode: the samples should mostly be inside: %s", fit);
        int green = 0;
        double fd[16];
        int fin[16];
        parse_cloud(fit, fd, fin);
        for (int i = 0; i < 16; i++) green += indicator(&i3, dots[i]) == 1 && fin[i];
        CHECKF(green == (int)field(fit, "inside="), "green indicators %d vs the count %g", green, field(fit, "inside="));
        free(z), free(chw), free(want);
    }
    free(i1.rgb), free(i2.rgb), free(i3.rgb);
    free(b1), free(b2), free(fit), free(out), free(err);
}

/* ---- (b2) the Interpolate strip's export is sharpened as shown ------------------------------------ */
static const char *STRIP_SCRIPT =
    "sync\n"
    "click tab/Interpolate\n"
    "sync\n"
    "click button/Set_A\n"
    "click thumb/1\n"
    "sync\n"
    "click button/Set_B\n"
    "sync\n"
    "click textbox/strip\n"
    "key ctrl+U\n"
    "text %1$s/strip_plain.png\n"
    "key Return\n"
    "click button/Export_strip\n"
    "sync\n"
    "drag slider/sharpen slider/sharpen@0.4,0.5 6\n"
    "sync\n"
    "echo s\n"
    "print walk\n"
    "click textbox/strip\n"
    "key ctrl+U\n"
    "text %1$s/strip_sharp.png\n"
    "key Return\n"
    "click button/Export_strip\n"
    "sync\n"
    "wait 5\n";

static void test_strip_export(lib *L)
{
    char script[4096], *out, *err;
    snprintf(script, sizeof script, STRIP_SCRIPT, g_tmp);
    int rc = run_gui("strip", script, "", &out, &err);
    CHECKF(rc == 0, "exit %d: %s", rc, err);
    zs_image plain, sharp;
    int ok = load_png("strip_plain.png", &plain) & load_png("strip_sharp.png", &sharp);
    CHECKF(ok, "the strip exports are missing: %s%s", out, err);
    double s = 0;
    {
        const char *p = strstr(out, "sharpen=");
        if (p) s = atof(p + 8);
    }
    if (ok && plain.w == sharp.w && plain.h == sharp.h && plain.h == L->S) {
        /* each face of the sharpened export is zs_sharpen_chw of the plain one's */
        int S = L->S, n = plain.w / S, worst = 0;
        float *x = zs_xmalloc(sizeof(float) * 3 * S * S), *y = zs_xmalloc(sizeof(float) * 3 * S * S);
        uint8_t *cell = zs_xmalloc((size_t)S * S * 3), *want = zs_xmalloc((size_t)S * S * 3);
        for (int i = 0; i < n; i++) {
            for (int r = 0; r < S; r++)
                memcpy(cell + (size_t)r * S * 3, plain.rgb + ((size_t)r * plain.w + (size_t)i * S) * 3, (size_t)S * 3);
            zs_face_to_chw(cell, S, x, 0);
            zs_sharpen_chw(x, S, (float)s, y);
            zs_face_from_chw(y, S, want);
            for (int r = 0; r < S; r++)
                memcpy(cell + (size_t)r * S * 3, sharp.rgb + ((size_t)r * sharp.w + (size_t)i * S) * 3, (size_t)S * 3);
            int m = max_diff(cell, want, (size_t)S * S * 3);
            if (m > worst) worst = m;
        }
        int changed = max_diff(plain.rgb, sharp.rgb, (size_t)plain.w * plain.h * 3);
        CHECKF(s > 0.5 && changed > 8 && worst == 0,
               "sharpened strip export (strength %.2f): differs from the plain one by %d, from its mask by %d", s,
               changed, worst);
        free(x), free(y), free(cell), free(want);
    } else CHECKF(0, "strip exports %dx%d and %dx%d", plain.w, plain.h, sharp.w, sharp.h);
    free(plain.rgb), free(sharp.rgb), free(out), free(err);
}

/* ---- (c) Walk ----------------------------------------------------------------------------------------- */
static const char *WALK_SCRIPT =
    "sync\n"
    "key N\n"
    "click tab/Walk\n"
    "sync\n"
    "echo w1\n"
    "print walk\n"
    "print rect image/walk\n"
    "print rect walk/0\nprint rect walk/8\nprint rect walk/24\nprint rect walk/48\n"
    "screenshot %1$s/walk1.png\n"
    "click textbox/walk\n"
    "key ctrl+Backspace\n"
    "type %1$s/walk_gui.png\n"
    "key Return\n"
    "click button/Export_grid\n"
    "sync\n"
    "echo export\n"
    "print walk\n"
    "click choice/x_Eyeglasses\n"
    "sync\n"
    "echo w2\n"
    "print walk\n"
    "screenshot %1$s/walk2.png\n"
    "drag slider/walk_n slider/walk_n@0.0,0.5 5\n"
    "sync\n"
    "echo w3\n"
    "print walk\n"
    "print rect walk/0\n"
    "print rect walk/9\n"
    "screenshot %1$s/walk3.png\n";

static void test_walk(lib *L)
{
    /* the photo: gallery face 0 as a PNG (the explorer and the CLI crop it alike) */
    char photo[512], script[8192], cmd[4096], *out, *err, *cout, *cerr;
    snprintf(photo, sizeof photo, "%s/face0.png", g_tmp);
    zs_image face = {L->S, L->S, (uint8_t *)zs_cache_pixels(L->cache, 0)};
    CHECK(zs_image_write_png(photo, &face) == ZS_OK);
    snprintf(script, sizeof script, WALK_SCRIPT, g_tmp);
    char args[700];
    snprintf(args, sizeof args, "--photo %s", photo);
    double t0 = zs_now();
    int rc = run_gui("walk", script, args, &out, &err);
    fprintf(stderr, "walk run: %.1f s\n", zs_now() - t0);
    CHECKF(rc == 0, "exit %d: %s", rc, err);
    char *w1 = section(out, "w1"), *ex = section(out, "export"), *w2 = section(out, "w2"), *w3 = section(out, "w3");
    CHECKF(strstr(w1, "walk x=Smiling y=Male range=2.0000 n=7 shown_n=7 have=1 fresh=1"), "first grid: %s", w1);
    CHECKF(strstr(ex, "message ok Saved") || strstr(ex, "walk_gui.png"), "export: %s", ex);
    CHECKF(strstr(w2, "walk x=Eyeglasses") && strstr(w2, "fresh=1"), "x = Eyeglasses: %s", w2);
    CHECKF(strstr(w3, " n=3 shown_n=3 ") && strstr(w3, "fresh=1"), "N = 3: %s", w3);
    /* the CLI's grid for the same photo and settings */
    snprintf(cmd, sizeof cmd,
             "%s walk --model %s/data/default.safetensors --attrs %s/data/attrs.safetensors --x Smiling --y Male "
             "--range 2 --n 7 %s --out %s/walk_cli.png",
             g_exe, g_src, g_src, photo, g_tmp);
    int crc = run_cmd("walk_cli", cmd, &cout, &cerr);
    CHECKF(crc == 0, "zspace walk: %d %s", crc, cerr);
    zs_image gui, cli, s1, s2, s3;
    int ok = load_png("walk_gui.png", &gui) & load_png("walk_cli.png", &cli) & load_png("walk1.png", &s1) &
             load_png("walk2.png", &s2) & load_png("walk3.png", &s3);
    rect all, c0, c8, c24, c48, d0, d9;
    ok &= get_rect(w1, "image/walk", &all) & get_rect(w1, "walk/0", &c0) & get_rect(w1, "walk/8", &c8) &
          get_rect(w1, "walk/24", &c24) & get_rect(w1, "walk/48", &c48) & get_rect(w3, "walk/0", &d0);
    ok &= !get_rect(w3, "walk/9", &d9);   /* 3 x 3: no tenth cell */
    CHECKF(ok, "files or rects missing: %s%s", out, err);
    if (ok) {
        int S = L->S;
        CHECKF(gui.w == 7 * S && gui.h == 7 * S && cli.w == gui.w && cli.h == gui.h, "sizes: gui %dx%d, cli %dx%d",
               gui.w, gui.h, cli.w, cli.h);
        if (gui.w == cli.w && gui.h == cli.h) {
            int m = max_diff(gui.rgb, cli.rgb, (size_t)gui.w * gui.h * 3);
            fprintf(stderr, "walk export vs zspace walk: max difference %d (%s)\n", m, m ? "near" : "byte-equal pixels");
            CHECKF(m <= 2, "the Walk export vs zspace walk's PNG: max %d", m);
        }
        /* the cells drawn are the exported tiles */
        uint8_t *tile = zs_xmalloc((size_t)S * S * 3);
        const rect *cells[4] = {&c0, &c8, &c24, &c48};
        const int idx[4] = {0, 8, 24, 48};
        int worst = 0;
        for (int k = 0; k < 4; k++) {
            int r = idx[k] / 7, q = idx[k] % 7;
            for (int y = 0; y < S; y++)
                memcpy(tile + (size_t)y * S * 3, gui.rgb + ((size_t)(r * S + y) * gui.w + (size_t)q * S) * 3, (size_t)S * 3);
            int m = face_maxdiff(&s1, *cells[k], tile, S);
            if (m > worst) worst = m;
        }
        CHECKF(worst == 0, "cells on screen vs the exported tiles: max %d", worst);
        free(tile);
        double dx = region_diff(&s1, &s2, all);
        CHECKF(dx > 2, "x = Eyeglasses changed the grid by only %.2f", dx);
        CHECKF(d0.w > c0.w, "N = 3: cells should be larger (%d vs %d)", d0.w, c0.w);
    }
    free(gui.rgb), free(cli.rgb), free(s1.rgb), free(s2.rgb), free(s3.rgb);
    free(w1), free(ex), free(w2), free(w3), free(out), free(err), free(cout), free(cerr);
}

/* ---- (d) Mean face -------------------------------------------------------------------------------------- */
static const char *MEAN_SCRIPT =
    "sync\n"
    "key N\n"
    "click textbox/search\n"
    "type Bald=yes\n"
    "key Return\n"
    "wait 2\n"
    "click button/Mean_face\n"
    "sync\n"
    "echo m1\n"
    "print walk\n"
    "print state\n"
    "print rect image/original\n"
    "print rect image/edit\n"
    "screenshot %1$s/mean1.png\n"
    "click textbox/search\n"
    "key ctrl+Backspace\n"
    "type %2$s\n"
    "key Return\n"
    "wait 2\n"
    "click button/Mean_face\n"
    "sync\n"
    "echo m2\n"
    "print walk\n"
    "print state\n";

static void test_mean(lib *L, const zs_latents *lat)
{
    const char *none = "Bald Bangs Blond_Hair Goatee";
    zs_query q, qn;
    char msg[256], script[4096], *out, *err;
    CHECK(zs_query_parse("Bald=yes", &q, msg, sizeof msg) == 0 && zs_query_parse(none, &qn, msg, sizeof msg) == 0);
    float *mean = zs_xmalloc(sizeof(float) * L->Z), *other = zs_xmalloc(sizeof(float) * L->Z);
    int n = zs_latents_group_mean(lat, &q, ZS_SPLIT_ALL, mean), n0 = zs_latents_group_mean(lat, &qn, ZS_SPLIT_ALL, other);
    CHECKF(n > 0 && n0 == 0, "the fixture: %d bald faces, %d matching '%s'", n, n0, none);
    snprintf(script, sizeof script, MEAN_SCRIPT, g_tmp, none);
    int rc = run_gui("mean", script, "", &out, &err);
    CHECKF(rc == 0, "exit %d: %s", rc, err);
    char *m1 = section(out, "m1"), *m2 = section(out, "m2");
    char want_msg[128];
    snprintf(want_msg, sizeof want_msg, "mean latent of %d faces (Bald=yes)", n);
    CHECKF((int)field(m1, "mean_n=") == n && strstr(m1, want_msg), "mean of %d faces: %s", n, m1);
    CHECKF(strstr(m2, "message error Mean face: no gallery face matches") && (int)field(m2, "mean_n=") == n,
           "no match: %s", m2);
    rect ro, re;
    zs_image im;
    if (get_rect(m1, "image/original", &ro) && get_rect(m1, "image/edit", &re) && load_png("mean1.png", &im)) {
        size_t np = (size_t)L->S * L->S * 3;
        uint8_t *want = zs_xmalloc(np);
        float *chw = zs_xmalloc(sizeof(float) * np);
        decode_u8(L, mean, want, chw);
        int mo = face_maxdiff(&im, ro, want, L->S), me = face_maxdiff(&im, re, want, L->S);
        CHECKF(mo <= 2 && me <= 2, "decode(mean of the bald faces) vs the panels: max %d and %d", mo, me);
        free(want), free(chw), free(im.rgb);
    } else CHECKF(0, "rects or screenshot missing: %s%s", out, err);
    free(mean), free(other), free(m1), free(m2), free(out), free(err);
}

/* ---- (e) the session ---------------------------------------------------------------------------------------- */
static const char *SESSION_SET =
    "sync\n"
    "drag slider/sharpen slider/sharpen@0.25,0.5 5\n"
    "click tab/Sample\n"
    "sync\n"
    "click toggle/Box_[-b,_b]\n"
    "sync\n"
    "click tab/Walk\n"
    "sync\n"
    "click choice/x_Eyeglasses\n"
    "wheel scroll/walk_y -40\n"
    "wait 2\n"
    "click choice/y_PC_2\n"
    "sync\n"
    "echo set\n"
    "print walk\n"
    "print sample\n";
static const char *SESSION_GET = "sync\necho get\nprint walk\nprint sample\nprint state\n";

static void test_session(void)
{
    char sess[512], args[700], *out, *err, *out2, *err2;
    snprintf(sess, sizeof sess, "%s/views.session", g_tmp);
    unlink(sess);
    snprintf(args, sizeof args, "--session %s", sess);
    int rc = run_gui("sess1", SESSION_SET, args, &out, &err);
    CHECKF(rc == 0, "exit %d: %s", rc, err);
    int rc2 = run_gui("sess2", SESSION_GET, args, &out2, &err2);
    CHECKF(rc2 == 0, "exit %d: %s", rc2, err2);
    char *set = section(out, "set"), *get = section(out2, "get");
    double sh = field(set, "sharpen=");
    CHECKF(sh > 0.5 && strstr(set, "walk x=Eyeglasses y=PC_2 ") && field(set, "box=") == 1, "set: %s", set);
    CHECKF(fabs(field(get, "sharpen=") - sh) < 1e-4 && strstr(get, "walk x=Eyeglasses y=PC_2 range=2.0000 n=7") &&
               field(get, "box=") == 1 && fabs(field(get, "b=") - 1.5) < 1e-4 && field(get, "tab=") == 5,
           "restored: %s (set: %s)", get, set);
    free(out), free(err), free(out2), free(err2), free(set), free(get);
    /* a session of the version before these views: loads, nothing of them set */
    write_text(sess, "zspace-session 1\nwindow 1280 800\ntab 3\nface gallery 2\nstrength Smiling 0.5\n");
    rc = run_gui("sess3", SESSION_GET, args, &out, &err);
    get = section(out, "get");
    CHECKF(rc == 0 && !strstr(err, "ignored") && field(get, "sharpen=") == 0 && field(get, "box=") == 0 &&
               strstr(get, "face=2 ") && field(get, "tab=") == 3,
           "old session: rc %d %s %s", rc, get, err);
    free(out), free(err), free(get);
}

int main(int argc, char **argv)
{
    if (gh_init(argc, argv, "test_gui_views") != 0) return 2;
    lib L = {0};
    char path[1024];
    snprintf(path, sizeof path, "%s/data/default.safetensors", g_src);
    if (zs_ckpt_load_model(path, &L.m, NULL) != ZS_OK) {
        fprintf(stderr, "%s\n", zs_last_error());
        return 1;
    }
    L.S = L.m->cfg.image, L.Z = L.m->cfg.z;
    L.inf = zs_vae_infer_create(&L.m->cfg, 1);
    zs_vae_infer_load(L.inf, L.m->params);
    snprintf(path, sizeof path, "%s/data/gallery.zsf", g_src);
    CHECK(zs_cache_open(&L.cache, path) == ZS_OK);
    snprintf(path, sizeof path, "%s/data/attrs.safetensors", g_src);
    CHECKF(zs_attr_vectors_load(path, &L.attrs) == ZS_OK, "%s", zs_last_error());
    if (zs_test_failures) return 1;
    /* the gallery's latents and their Gaussian, as the explorer's worker fits them */
    zs_latents lat;
    zs_gauss g;
    CHECK(zs_latents_encode(L.m, L.cache, 0, NULL, NULL, &lat) == ZS_OK);
    CHECK(zs_gauss_fit(lat.mu, lat.n, lat.z, &g) == ZS_OK);

    test_sharpen(&L);
    test_box(&L, &g);
    test_strip_export(&L);
    test_walk(&L);
    test_mean(&L, &lat);
    test_session();

    zs_gauss_free(&g);
    zs_latents_free(&lat);
    zs_attr_vectors_free(&L.attrs);
    zs_cache_close(L.cache);
    zs_vae_infer_destroy(L.inf);
    zs_vae_destroy(L.m);
    if (!zs_test_failures && !getenv("ZS_TEST_KEEP")) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_tmp);
    } else fprintf(stderr, "screenshots and logs kept in %s\n", g_tmp);
    TEST_END();
}
