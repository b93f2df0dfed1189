/* The explorer driven headless: the real `zspace gui` under Xvfb (or SDL's
 * offscreen driver) replays synthetic SDL events from a script, prints its
 * state and writes screenshots; this program checks the pixels against
 * what libzspace computes for the same faces.
 *
 *   (a) at start-up the original panel shows gallery face 0's pixels and
 *       the reconstruction panel shows zs_vae_decode(mu of face 0), both
 *       read back at texel centres in nearest mode; N switches filtering;
 *   (b) dragging the Smiling slider to about +2 changes the picture by a
 *       clear margin and it equals decode(mu + s * v_Smiling) for the
 *       strength the app reports; R restores the reconstruction exactly;
 *   (c) clicking thumbnail 1 shows face 1 and its reconstruction; the
 *       arrow keys step through the gallery; the wheel scrolls it;
 *   (d) typing "hair" in the filter box leaves exactly the attributes
 *       whose name contains "hair", and the typed 'r' is text, not the
 *       reset shortcut; Escape leaves the box, Ctrl-Q quits;
 *   (e) with a slow decoder (1 s per picture) the window keeps drawing
 *       frames, stale requests are dropped and the newest one is shown;
 *   (f) missing or mismatched files are named in the status line and on
 *       stderr while the window still opens; without a display the program
 *       says so, prints the usage and exits 1;
 *   (g) the Photo tab, on a CelebA JPEG (skipped without ZS_CELEBA_DIR):
 *       --photo shows the crop equal to zs_photo_face's output and its
 *       reconstruction; Smiling +1.5 changes the edit, which equals
 *       decode(mu + 1.5 v); keep-detail shows zs_detail_edit(photo, crop,
 *       plain decode, edited decode) at the photo's resolution and Save
 *       writes exactly that PNG to the typed path (Ctrl-S the 64x64 edit
 *       without keep-detail); a file that is not an image, a missing one
 *       and an unwritable save path give messages naming the file and the
 *       previous photo stays; a path typed into the box + Enter loads, and
 *       so does a file dropped on the window (SDL_DROPFILE); a face in a
 *       larger picture is framed by hand: the wheel over the crop zooms
 *       about its centre, a drag pans it (the picture follows the mouse),
 *       the crop shown is the photo cropped there and the reconstruction
 *       decode(encode(crop)); in keep-detail mode the square follows a drag
 *       on the photo; the session restores the crop, Reset crop the guess;
 *   (h) the Interpolate tab: A = face 0, B = face 1; the strip's ends are
 *       their reconstructions, every cell is decode(slerp / lerp) of
 *       libzspace, the lerp and slerp middles differ; moving t changes the
 *       large face (at t = 0 it is A's); Export writes the strip; Play
 *       keeps drawing frames with t moving (frame times printed);
 *   (i) the Sample tab: every cell is decode(zs_latent_sample(...)) for the
 *       seed, radius and mode shown (isotropic, and fitted with the Gaussian
 *       of zs_latents_encode + zs_gauss_fit of the gallery); Resample gives
 *       another grid, coming back to a seed gives the same pixels; radius 0
 *       gives 16 faces equal to decode(0) / decode(mean); clicking a sample
 *       makes it the current face and the Smiling slider edits its latent;
 *   (j) the Train tab, on the gallery (batch 16): Start trains (`print train`
 *       shows the step passing 5 and the grid showing that step's weights),
 *       the reconstruction grid changes while the originals above it do not;
 *       after Pause the step stays put for 1.5 s; Save checkpoint writes a
 *       file that zs_ckpt_load_model reads with the step printed; "Use these
 *       weights" makes the Attributes tab's reconstruction equal decode(mu)
 *       with that checkpoint's model; the loss history grows; Stop ends in
 *       state idle and Ctrl-Q exits 0 (all under `timeout`: no hang);
 *   (k) the session: a run with --session FILE and --size 1100x700 picks
 *       face 3, moves Smiling, sets slot A and quits; the next run with the
 *       same file (no --size) starts on face 3 with the same Smiling value
 *       to 1e-6, slot A set, the Interpolate tab and a 1100x700 window; a garbage file is ignored with a message
 *       (exit 0, face 0, no sliders moved) and replaced on quit; a session
 *       in a directory that does not exist yet is created on quit;
 *   (l) each attribute slider's histogram holds the encoded gallery's
 *       projections on the vector (origin halfway between the labelled
 *       means) and its marker face 0's, moving by exactly the strength,
 *       drawn at that place; "orthogonal to Male,Young" makes the edit
 *       decode(mu + s * zs_attr_edit_vector(...)), a misspelt name is named;
 *       the app's principal directions are zs_pca_fit's and PC1 moves the
 *       latent by s standard deviations along it; (h) also checks that A and
 *       B start as faces 0 and 1;
 *   (m) "Smiling=no Eyeglasses=yes" shows exactly the faces so labelled,
 *       clicks and Right step through them; a misspelt name is named and a
 *       partial one ("GLASSES") works;
 *   (n) --ui-scale 2: the same window in logical pixels, twice the drawable
 *       pixels, every rectangle doubled, clicks and drags land on the same
 *       widgets, and the face drawn at 2x is still decode(...);
 *   (o) the Analysis tab: its statistics are zs_latent_stats of the gallery
 *       encoded by libzspace (centre, strongest pair), the component strip,
 *       norms and heatmap drew (not flat; the heatmap's diagonal red); the
 *       projection map drew and differs between PCA and LDA, LDA separates
 *       the hair colours better than PCA; hovering a point names that face
 *       and clicking it makes it the current face; after training and "Use
 *       these weights" the tab recomputes with the new weights' latents.
 *
 * usage: test_gui ZSPACE_EXE SOURCE_DIR
 */
#include "gui_harness.h"
#include "testutil.h"
#include "zspace/analysis.h"
#include "zspace/latent.h"
#include "zspace/trainer.h"

#define ZS_STRIP_N 8   /* faces in the Interpolate strip */

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Run `zspace gui ARGS` headless; stdout and stderr into files named after tag. */
static int run_gui(const char *tag, const char *args, char **out, char **err)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "timeout -s KILL 120 %s %s gui %s", g_runner, g_exe, args);
    return run_cmd(tag, cmd, out, err);
}

/* Write `script` to g_tmp/NAME.txt and run `zspace gui EXTRA --script` it (run_gui's tag: tag). */
static int run_script(const char *tag, const char *name, const char *script, const char *extra, char **out, char **err)
{
    char path[600], args[1024];
    snprintf(path, sizeof path, "%s/%s.txt", g_tmp, name);
    write_text(path, script);
    snprintf(args, sizeof args, "%s%s--script %s", extra, extra[0] ? " " : "", path);
    return run_gui(tag, args, out, err);
}

static double strength(const char *sec, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "strength %s ", name);
    const char *p = strstr(sec, key);
    return p ? atof(p + strlen(key)) : NAN;
}

/* Largest and mean difference between the S x S face `ref` and the picture
 * in r, sampled at the centre of each texel's block of pixels. */
static void face_diff(const zs_image *im, rect r, const uint8_t *ref, int S, int *maxd, double *meand)
{
    long sum = 0;
    *maxd = 0;
    for (int i = 0; i < S; i++)
        for (int j = 0; j < S; j++) {
            int x = r.x + (2 * j + 1) * r.w / (2 * S), y = r.y + (2 * i + 1) * r.h / (2 * S);
            for (int c = 0; c < 3; c++) {
                int d = abs((int)im->rgb[((size_t)y * im->w + x) * 3 + c] - (int)ref[((size_t)i * S + j) * 3 + c]);
                sum += d;
                if (d > *maxd) *maxd = d;
            }
        }
    *meand = (double)sum / (S * S * 3);
}

/* Mean absolute difference of two screenshots over r (every pixel). */
static double region_std(const zs_image *a, rect r)
{
    double s = 0, s2 = 0, n = (double)r.w * r.h * 3;
    for (int y = r.y; y < r.y + r.h; y++)
        for (int x = r.x; x < r.x + r.w; x++)
            for (int c = 0; c < 3; c++) {
                double v = a->rgb[((size_t)y * a->w + x) * 3 + c];
                s += v, s2 += v * v;
            }
    return sqrt(s2 / n - (s / n) * (s / n));
}

/* What the app should show for face i edited by s along attribute k. */
typedef struct { zs_vae_infer *inf; zs_cache *cache; zs_attr_vectors attrs; int S, Z; zs_vae *m; } lib;

static void expected(lib *L, int face, int k, float s, uint8_t *out)
{
    float *x = zs_xmalloc(sizeof(float) * 3 * L->S * L->S), *mu = zs_xmalloc(sizeof(float) * L->Z);
    zs_face_to_chw(zs_cache_pixels(L->cache, face), L->S, x, 0);
    zs_vae_encode(L->inf, x, 1, mu, NULL);
    if (k >= 0) zs_latent_add(L->Z, mu, L->attrs.vec + (size_t)k * L->Z, s, mu);
    zs_vae_decode(L->inf, mu, 1, x);
    zs_face_from_chw(x, L->S, out);
    free(x), free(mu);
}


static const char *MAIN_SCRIPT =
    "echo start\n"
    "sync\n"
    "screenshot %1$s/linear.png\n"
    "key N\n"
    "wait 2\n"
    "echo a\n"
    "print state\n"
    "print rect image/original\n"
    "print rect image/edit\n"
    "screenshot %1$s/a.png\n"
    "wait 1\n"
    "wheel scroll/attributes -5\n"
    "wait 1\n"
    "drag slider/Smiling slider/Smiling@0.8333,0.5 12\n"
    "sync\n"
    "echo b\n"
    "print state\n"
    "screenshot %1$s/b_smile.png\n"
    "key R\n"
    "sync\n"
    "echo b_reset\n"
    "print state\n"
    "screenshot %1$s/b_reset.png\n"
    "click thumb/1\n"
    "sync\n"
    "echo c\n"
    "print state\n"
    "screenshot %1$s/c.png\n"
    "key Right\n"
    "sync\n"
    "echo c_right\n"
    "print state\n"
    "key Left\n"
    "sync\n"
    "echo c_left\n"
    "print state\n"
    "wheel scroll/gallery -3\n"
    "wait 2\n"
    "echo c_wheel\n"
    "print rect thumb/0\n"
    "drag slider/Smiling slider/Smiling@0.8333,0.5 6\n"
    "sync\n"
    "click textbox/filter\n"
    "type hair\n"
    "wait 2\n"
    "echo d\n"
    "print sliders\n"
    "print state\n"
    "screenshot %1$s/d.png\n"
    "key Escape\n"
    "wait 1\n"
    "key R\n"
    "sync\n"
    "echo d_after\n"
    "print state\n"
    "key ctrl+Q\n"
    "wait 5\n"
    "echo after_quit\n";

static void test_main(lib *L)
{
    char script[4096], path[512], args[1024];
    snprintf(script, sizeof script, MAIN_SCRIPT, g_tmp);
    snprintf(path, sizeof path, "%s/main.txt", g_tmp);
    write_text(path, script);
    snprintf(args, sizeof args, "--script %s", path);
    char *out, *err;
    int rc = run_gui("main", args, &out, &err);
    CHECKF(rc == 0, "exit code %d; stderr: %s", rc, err);
    CHECKF(strstr(out, "echo d_after") != NULL, "the script did not run to the end:\n%s%s", out, err);
    CHECKF(strstr(out, "echo after_quit") == NULL, "Ctrl-Q did not quit");

    char *sa = section(out, "a"), *sb = section(out, "b"), *sr = section(out, "b_reset"), *sc = section(out, "c");
    rect ro = {0}, re = {0};
    CHECK(get_rect(sa, "image/original", &ro) && get_rect(sa, "image/edit", &re));
    CHECKF(ro.w >= 128 && re.w == ro.w && re.h == ro.h, "faces shown large: %dx%d", re.w, re.h);
    CHECK(state_int(sa, "nearest=") == 1);
    CHECK(state_int(sa, "face=") == 0);
    CHECK(state_int(sa, "attrs=") == 1);

    int S = L->S, maxd;
    double meand;
    uint8_t *want = zs_xmalloc((size_t)S * S * 3);
    zs_image lin, a, b, br, c, d;
    load_png("linear.png", &lin), load_png("a.png", &a), load_png("b_smile.png", &b);
    load_png("b_reset.png", &br), load_png("c.png", &c), load_png("d.png", &d);
    if (!a.rgb || !b.rgb || !br.rgb || !c.rgb || !lin.rgb || !d.rgb || re.w == 0) {
        CHECKF(0, "screenshots missing:\n%s%s", out, err);
        return;
    }
    CHECK(a.w >= re.x + re.w && a.h >= re.y + re.h);

    /* (a) */
    face_diff(&a, ro, zs_cache_pixels(L->cache, 0), S, &maxd, &meand);
    CHECKF(maxd <= 1, "original panel vs gallery face 0: max %d mean %.2f", maxd, meand);
    expected(L, 0, -1, 0, want);
    face_diff(&a, re, want, S, &maxd, &meand);
    CHECKF(maxd <= 2, "reconstruction panel vs zs_vae_decode(mu_0): max %d mean %.2f", maxd, meand);
    CHECKF(region_std(&a, re) > 10, "reconstruction looks blank (std %.1f)", region_std(&a, re));
    CHECKF(region_diff(&lin, &a, re) > 0.5, "N did not change the filtering (diff %.2f)", region_diff(&lin, &a, re));

    /* (b) */
    double s = strength(sb, "Smiling");
    CHECKF(fabs(s - 2.0) < 0.1, "Smiling after the drag: %g", s);
    double db = region_diff(&a, &b, re);
    CHECKF(db > 3.0, "+2 Smiling changed the face by only %.2f levels", db);
    int k = zs_attr_find("Smiling");
    expected(L, 0, k, (float)s, want);
    face_diff(&b, re, want, S, &maxd, &meand);
    CHECKF(maxd <= 2, "edit panel vs decode(mu + %.3f v_Smiling): max %d mean %.2f", s, maxd, meand);
    CHECKF(region_diff(&a, &b, ro) == 0, "the original changed with a slider");
    CHECKF(isnan(strength(sr, "Smiling")), "R left Smiling at %g", strength(sr, "Smiling"));
    CHECKF(region_diff(&a, &br, re) == 0, "R did not restore the reconstruction exactly (%.3f)",
           region_diff(&a, &br, re));

    /* (c) */
    CHECK(state_int(sc, "face=") == 1);
    face_diff(&c, ro, zs_cache_pixels(L->cache, 1), S, &maxd, &meand);
    CHECKF(maxd <= 1, "original panel vs gallery face 1: max %d", maxd);
    CHECKF(region_diff(&a, &c, ro) > 5, "clicking thumbnail 1 did not change the original");
    expected(L, 1, -1, 0, want);
    face_diff(&c, re, want, S, &maxd, &meand);
    CHECKF(maxd <= 2, "reconstruction of face 1: max %d", maxd);
    char *sright = section(out, "c_right"), *sleft = section(out, "c_left"), *swheel = section(out, "c_wheel");
    CHECK(state_int(sright, "face=") == 2);
    CHECK(state_int(sleft, "face=") == 1);
    CHECKF(strstr(swheel, "rect thumb/0 none") != NULL, "the wheel did not scroll the gallery: %s", swheel);

    /* (d) */
    char *sd = section(out, "d"), *sa2 = section(out, "d_after");
    int n = 0, listed = 0, ok = 1;
    for (int j = 0; j < ZS_NATTR; j++) {
        char lower[64], line[96];
        int m = 0;
        for (const char *p = zs_attr_names[j]; *p && m < 63; p++)
            lower[m++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        lower[m] = 0;
        snprintf(line, sizeof line, "slider %s ", zs_attr_names[j]);
        int want_it = strstr(lower, "hair") != NULL, shown = strstr(sd, line) != NULL;
        n += want_it, listed += shown;
        if (want_it != shown) {
            ok = 0;
            fprintf(stderr, "filter 'hair': %s %s\n", zs_attr_names[j], shown ? "shown" : "missing");
        }
    }
    CHECKF(ok && n == 7 && listed == 7, "filter 'hair' showed %d sliders:\n%s", listed, sd);
    CHECKF(strstr(sd, "filter=hair") != NULL, "filter text: %s", sd);
    CHECKF(fabs(strength(sd, "Smiling") - 2.0) < 0.1, "typing 'r' in the filter reset the sliders");
    CHECK(state_int(sd, "nearest=") == 1);
    CHECKF(isnan(strength(sa2, "Smiling")), "after Escape, R should reset again");
    free(sa), free(sb), free(sr), free(sc), free(sd), free(sa2), free(sright), free(sleft), free(swheel);
    free(lin.rgb), free(a.rgb), free(b.rgb), free(br.rgb), free(c.rgb), free(d.rgb);
    free(want), free(out), free(err);
}

/* (e) a slow decoder must not slow the window down */
static void test_slow_decoder(lib *L)
{
    char script[2048], path[512], args[1024];
    snprintf(script, sizeof script,
             "sync\nkey N\nwheel scroll/attributes -5\nwait 2\ntiming_reset\n"
             "drag slider/Smiling slider/Smiling@0.75,0.5 30\nwait 10\n"
             "echo drag\nprint timing\nsync\necho done\nprint state\nprint rect image/edit\n"
             "screenshot %s/slow.png\nwait 1\n",
             g_tmp);
    snprintf(path, sizeof path, "%s/slow.txt", g_tmp);
    write_text(path, script);
    snprintf(args, sizeof args, "--script %s --decode-delay 1000", path);
    char *out, *err;
    int rc = run_gui("slow", args, &out, &err);
    CHECKF(rc == 0, "exit code %d: %s", rc, err);
    char *sd = section(out, "drag"), *sdone = section(out, "done");
    int busy = 0, dropped = 0;
    double busy_max = 1e9;
    const char *p = strstr(sd, "timing busy_frames ");
    if (p) sscanf(p, "timing busy_frames %d frame_ms mean %*f p50 %*f p95 %*f max %lf", &busy, &busy_max);
    p = strstr(sd, " dropped ");
    if (p) dropped = atoi(p + 9);
    fprintf(stderr, "slow decoder: %d frames drawn while a decode was in flight, slowest %.1f ms, %d requests "
                    "dropped\n", busy, busy_max, dropped);
    CHECKF(busy >= 30 && busy_max < 500, "the window waited for the decoder: %s", sd);
    CHECKF(dropped >= 1, "no stale request was dropped: %s", sd);
    /* the newest request won: the picture is the final slider value's */
    double s = strength(sdone, "Smiling");
    rect re;
    zs_image im;
    int got = get_rect(sdone, "image/edit", &re) && load_png("slow.png", &im) && !isnan(s);
    CHECKF(got, "no final picture: %s", sdone);
    if (got) {
        uint8_t *want = zs_xmalloc((size_t)L->S * L->S * 3);
        int maxd;
        double meand;
        expected(L, 0, zs_attr_find("Smiling"), (float)s, want);
        face_diff(&im, re, want, L->S, &maxd, &meand);
        CHECKF(maxd <= 2, "after the slow drag the picture is not decode(mu + %.3f v): max %d", s, maxd);
        free(want), free(im.rgb);
    }
    free(sd), free(sdone), free(out), free(err);
}

/* (f) bad input */
static void test_bad_input(void)
{
    char args[2048], path[512], script[512];
    char *out, *err;
    snprintf(path, sizeof path, "%s/bad.txt", g_tmp);
    snprintf(script, sizeof script, "wait 3\nprint state\nscreenshot %s/bad.png\nwait 1\n", g_tmp);
    write_text(path, script);

    /* no model, no attrs: the gallery still shows, the status line names both files */
    snprintf(args, sizeof args, "--script %s --model %s/nope.safetensors --attrs %s/nope-attrs.safetensors", path,
             g_tmp, g_tmp);
    int rc = run_gui("nomodel", args, &out, &err);
    CHECKF(rc == 0, "without a model the window should still open (rc %d): %s", rc, err);
    CHECKF(strstr(out, "error model:") && strstr(out, "nope.safetensors"), "status: %s", out);
    CHECKF(strstr(err, "nope.safetensors") != NULL, "stderr: %s", err);
    CHECK(strstr(out, "face=0") != NULL);
    free(out), free(err);

    /* attrs missing: sliders disabled (a drag changes nothing), the file named */
    snprintf(script, sizeof script,
             "sync\nwheel scroll/attributes -20\nwait 1\ndrag slider/Smiling slider/Smiling@0.9,0.5 5\nsync\n"
             "print state\nscreenshot %s/noattrs.png\nwait 1\n",
             g_tmp);
    write_text(path, script);
    snprintf(args, sizeof args, "--script %s --attrs %s/missing-attrs.safetensors", path, g_tmp);
    rc = run_gui("noattrs", args, &out, &err);
    CHECKF(rc == 0, "rc %d: %s", rc, err);
    CHECKF(strstr(out, "attrs=0") && strstr(out, "missing-attrs.safetensors"), "status: %s", out);
    CHECKF(strstr(out, "strength Smiling") == NULL, "a disabled slider moved: %s", out);
    free(out), free(err);

    /* attrs of another model: refused with the reason */
    uint8_t *data;
    size_t len;
    char src[1024], dst[512];
    snprintf(src, sizeof src, "%s/data/attrs.safetensors", g_src);
    if (zs_read_file(src, &data, &len, 1 << 28) == ZS_OK) {
        uint8_t *p = memmem(data, len, "\"model_hash\":\"", 14);
        if (p) {
            p += 14;
            p[0] = p[0] == '0' ? '1' : '0';   /* same length, another hash */
            snprintf(dst, sizeof dst, "%s/other-attrs.safetensors", g_tmp);
            FILE *f = fopen(dst, "wb");
            fwrite(data, 1, len, f);
            fclose(f);
            snprintf(args, sizeof args, "--script %s --attrs %s", path, dst);
            rc = run_gui("otherattrs", args, &out, &err);
            CHECKF(rc == 0 && strstr(out, "attrs=0") && strstr(out, "made with another model"), "rc %d: %s%s", rc,
                   out, err);
            free(out), free(err);
        } else CHECKF(0, "no model_hash in %s", src);
        free(data);
    }

    /* no display at all */
    char cmd[1024], o[512];
    snprintf(o, sizeof o, "%s/nodisplay.err", g_tmp);
    snprintf(cmd, sizeof cmd,
             "env -u DISPLAY -u WAYLAND_DISPLAY SDL_VIDEODRIVER=x11 timeout -s KILL 60 %s >/dev/null 2>%s", g_exe, o);
    int st = system(cmd);
    char *e = slurp(o);
    CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 1, "without a display: status %d", st);
    CHECKF(strstr(e, "no display") && strstr(e, "commands:"), "without a display: %s", e);
    free(e);
}

/* Photo-tab expectations for one photo: its model input, plain and edited decodes. */
typedef struct { zs_image im; zs_crop crop; float *chw, *d0, *d1; uint8_t *face, *edit; } photo_want;

static void photo_expect(lib *L, const zs_image *im, int k, float s, photo_want *w)
{
    size_t n = (size_t)3 * L->S * L->S;
    float *mu = zs_xmalloc(sizeof(float) * L->Z);
    w->crop = zs_photo_crop(im->w, im->h, zs_crop_celeba());
    w->chw = zs_xmalloc(sizeof(float) * n), w->d0 = zs_xmalloc(sizeof(float) * n), w->d1 = zs_xmalloc(sizeof(float) * n);
    w->face = zs_xmalloc(n), w->edit = zs_xmalloc(n);
    CHECK(zs_photo_face(im, zs_crop_celeba(), L->S, w->chw) == ZS_OK);
    zs_face_from_chw(w->chw, L->S, w->face);
    zs_vae_encode(L->inf, w->chw, 1, mu, NULL);
    zs_vae_decode(L->inf, mu, 1, w->d0);
    if (k >= 0) zs_latent_add(L->Z, mu, L->attrs.vec + (size_t)k * L->Z, s, mu);
    zs_vae_decode(L->inf, mu, 1, w->d1);
    zs_face_from_chw(w->d1, L->S, w->edit);
    free(mu);
}

static void photo_want_free(photo_want *w) { free(w->chw), free(w->d0), free(w->d1), free(w->face), free(w->edit); }

/* Largest difference between two images of the same size (-1: sizes differ). */
static int image_maxdiff(const zs_image *a, const zs_image *b)
{
    if (!a->rgb || !b->rgb || a->w != b->w || a->h != b->h) return -1;
    int m = 0;
    for (size_t i = 0; i < (size_t)a->w * a->h * 3; i++) {
        int d = abs((int)a->rgb[i] - (int)b->rgb[i]);
        if (d > m) m = d;
    }
    return m;
}

/* Like face_diff for a W x H image shown in r (nearest filtering, r at least W x H). */
static int shown_maxdiff(const zs_image *shot, rect r, const zs_image *ref)
{
    int m = 0;
    for (int i = 0; i < ref->h; i++)
        for (int j = 0; j < ref->w; j++) {
            int x = r.x + (2 * j + 1) * r.w / (2 * ref->w), y = r.y + (2 * i + 1) * r.h / (2 * ref->h);
            for (int c = 0; c < 3; c++) {
                int d = abs((int)shot->rgb[((size_t)y * shot->w + x) * 3 + c] -
                            (int)ref->rgb[((size_t)i * ref->w + j) * 3 + c]);
                if (d > m) m = d;
            }
        }
    return m;
}

/* shown_maxdiff for the pixels of ref more than 3 pixels from the edges of
 * the square sq (x0, y0, side in ref's pixels: the crop drawn on the photo);
 * *edge: the largest difference on the square's top edge. */
static int shown_maxdiff_off_square(const zs_image *shot, rect r, const zs_image *ref, const double *sq, int *edge)
{
    int m = 0;
    *edge = 0;
    for (int i = 0; i < ref->h; i++)
        for (int j = 0; j < ref->w; j++) {
            double u = j + 0.5, v = i + 0.5, x1 = sq[0] + sq[2], y1 = sq[1] + sq[2];
            int in_x = u > sq[0] - 3 && u < x1 + 3, in_y = v > sq[1] - 3 && v < y1 + 3;
            int near = (in_y && (fabs(u - sq[0]) < 3 || fabs(u - x1) < 3)) ||
                       (in_x && (fabs(v - sq[1]) < 3 || fabs(v - y1) < 3));
            int x = r.x + (2 * j + 1) * r.w / (2 * ref->w), y = r.y + (2 * i + 1) * r.h / (2 * ref->h);
            for (int c = 0; c < 3; c++) {
                int d = abs((int)shot->rgb[((size_t)y * shot->w + x) * 3 + c] -
                            (int)ref->rgb[((size_t)i * ref->w + j) * 3 + c]);
                if (!near && d > m) m = d;
                if (near && fabs(v - sq[1]) < 0.5 && u > sq[0] + 3 && u < x1 - 3 && d > *edge) *edge = d;
            }
        }
    return m;
}

static const char *PHOTO_SCRIPT =
    "sync\n"
    "key N\n"
    "wait 2\n"
    "echo load\n"
    "print photo\n"
    "print rect image/crop\n"
    "print rect image/edit\n"
    "screenshot %1$s/p_load.png\n"
    "wheel scroll/attributes -7\n"   /* below the photo box and the two rows of tabs */
    "wait 1\n"
    "drag slider/Smiling slider/Smiling@0.75,0.5 8\n"
    "sync\n"
    "echo smile\n"
    "print state\n"
    "screenshot %1$s/p_smile.png\n"
    "click toggle/Keep_detail\n"
    "sync\n"
    "echo detail\n"
    "print photo\n"
    "print rect image/photo\n"
    "print rect image/detail\n"
    "screenshot %1$s/p_detail.png\n"
    "click textbox/save\n"
    "key ctrl+U\n"
    "type %1$s/p_saved.png\n"
    "key Return\n"
    "click button/Save_PNG\n"
    "sync\n"
    "echo saved\n"
    "print photo\n"
    "click textbox/photo\n"
    "key ctrl+U\n"
    "text %1$s/broken.jpg\n"
    "key Return\n"
    "sync\n"
    "echo broken\n"
    "print photo\n"
    "screenshot %1$s/p_broken.png\n"
    "click textbox/photo\n"
    "key ctrl+U\n"
    "text %1$s/missing.png\n"
    "click button/Load\n"
    "sync\n"
    "echo missing\n"
    "print photo\n"
    "click textbox/save\n"
    "key ctrl+U\n"
    "text %1$s/no-such-dir/x.png\n"
    "key ctrl+S\n"
    "sync\n"
    "echo badsave\n"
    "print photo\n"
    "click toggle/Keep_detail\n"
    "sync\n"
    "click textbox/save\n"
    "key ctrl+U\n"
    "text %1$s/p_edit.png\n"
    "key Escape\n"
    "key ctrl+S\n"
    "sync\n"
    "echo saved64\n"
    "print photo\n"
    "screenshot %1$s/p_end.png\n"
    "wait 1\n";

/* A path typed into the box, then a file dropped on the window. */
static const char *PHOTO_TYPE_SCRIPT =
    "sync\n"
    "key N\n"
    "click tab/Photo\n"
    "wait 1\n"
    "echo empty\n"
    "print photo\n"
    "screenshot %1$s/t_empty.png\n"
    "click textbox/photo\n"
    "type %2$s\n"
    "key Return\n"
    "sync\n"
    "echo typed\n"
    "print photo\n"
    "print rect image/crop\n"
    "screenshot %1$s/t_typed.png\n"
    "drop %1$s/face5.png\n"
    "sync\n"
    "echo dropped\n"
    "print photo\n"
    "print rect image/crop\n"
    "print rect image/edit\n"
    "screenshot %1$s/t_dropped.png\n"
    "click thumb/2\n"
    "sync\n"
    "echo gallery\n"
    "print state\n"
    "print photo\n"
    "wait 1\n";

/* The CelebA JPEG the photo tests use (its path in jpg), or 0 and "SKIPPED" without the slice. */
static int photo_face(const char *part, char *jpg, size_t n, zs_image *im)
{
    const char *dir = getenv("ZS_CELEBA_DIR") ? getenv("ZS_CELEBA_DIR") : ZS_CELEBA_DIR;   /* env overrides */
    snprintf(jpg, n, "%s/img_align_celeba/162792.jpg", dir);
    if (zs_image_load(im, jpg) == ZS_OK) return 1;
    fprintf(stderr, "%s: SKIPPED (no %s)\n", part, jpg);
    return 0;
}

static void test_photo(lib *L)
{
    char jpg[1024];
    zs_image im;
    if (!photo_face("photo tab", jpg, sizeof jpg, &im)) return;
    char script[8192], path[600], args[2048], *out, *err;
    snprintf(path, sizeof path, "%s/broken.jpg", g_tmp);
    write_text(path, "this is not a JPEG, whatever its name says\n");
    snprintf(script, sizeof script, PHOTO_SCRIPT, g_tmp);
    snprintf(path, sizeof path, "%s/photo.txt", g_tmp);
    write_text(path, script);
    snprintf(args, sizeof args, "--script %s --photo %s", path, jpg);
    int rc = run_gui("photo", args, &out, &err);
    CHECKF(rc == 0, "exit code %d; stderr: %s", rc, err);
    char *sl = section(out, "load"), *ss = section(out, "smile"), *sd = section(out, "detail");
    char *sv = section(out, "saved"), *sb = section(out, "broken"), *sm = section(out, "missing");
    char *sbs = section(out, "badsave"), *s64 = section(out, "saved64");
    CHECKF(strstr(sl, "mode=1") && strstr(sl, "size=178x218") && strstr(sl, "162792.jpg"), "--photo: %s", sl);
    rect rc_crop = {0}, rc_edit = {0}, rc_photo = {0}, rc_det = {0};
    CHECK(get_rect(sl, "image/crop", &rc_crop) && get_rect(sl, "image/edit", &rc_edit));
    CHECK(get_rect(sd, "image/photo", &rc_photo) && get_rect(sd, "image/detail", &rc_det));
    double s = strength(ss, "Smiling");
    CHECKF(fabs(s - 1.5) < 0.1, "Smiling after the drag: %g", s);
    zs_image pl, psm, pd, pb, saved, saved64;
    int got = load_png("p_load.png", &pl) & load_png("p_smile.png", &psm) & load_png("p_detail.png", &pd) &
              load_png("p_broken.png", &pb);
    CHECKF(got && rc_crop.w >= L->S && rc_det.w >= 178, "screenshots or rectangles missing:\n%s%s", out, err);
    if (got && rc_crop.w >= L->S && rc_det.w >= 178 && !isnan(s)) {
        int maxd;
        double meand;
        photo_want w0, w;
        photo_expect(L, &im, -1, 0, &w0);
        photo_expect(L, &im, zs_attr_find("Smiling"), (float)s, &w);
        face_diff(&pl, rc_crop, w0.face, L->S, &maxd, &meand);
        CHECKF(maxd <= 1, "the crop shown vs zs_photo_face: max %d mean %.2f", maxd, meand);
        face_diff(&pl, rc_edit, w0.edit, L->S, &maxd, &meand);
        CHECKF(maxd <= 2, "the photo's reconstruction vs decode(encode(crop)): max %d mean %.2f", maxd, meand);
        double dsm = region_diff(&pl, &psm, rc_edit);
        CHECKF(dsm > 2.0, "Smiling +1.5 changed the photo's edit by only %.2f levels", dsm);
        face_diff(&psm, rc_edit, w.edit, L->S, &maxd, &meand);
        CHECKF(maxd <= 2, "the photo's edit vs decode(mu + %.3f v_Smiling): max %d mean %.2f", s, maxd, meand);
        CHECKF(region_diff(&pl, &psm, rc_crop) == 0, "the crop changed with a slider");

        zs_image det;
        CHECK(zs_detail_edit(&im, w.crop, w.d0, w.d1, L->S, &det) == ZS_OK);
        CHECKF(strstr(sd, "keep_detail=1 have_detail=1 detail=178x218"), "keep detail: %s", sd);
        double sq[3];
        zs_crop_rect(w.crop, im.w, im.h, &sq[0], &sq[1], &sq[2]);
        int edge, dd = shown_maxdiff(&pd, rc_det, &det), dp = shown_maxdiff_off_square(&pd, rc_photo, &im, sq, &edge);
        CHECKF(dd >= 0 && dd <= 2, "keep-detail image shown vs zs_detail_edit: max %d", dd);
        CHECKF(dp <= 1, "the photo shown in keep-detail mode vs the file (off the crop's square): max %d", dp);
        CHECKF(edge > 40, "the crop's square is not drawn on the photo (top edge differs by %d)", edge);
        CHECKF(image_maxdiff(&det, &im) > 10, "the detail edit did not change the photo");
        CHECKF(strstr(sv, "message ok Saved ") && strstr(sv, "p_saved.png"), "save: %s", sv);
        if (load_png("p_saved.png", &saved)) {
            int ds = image_maxdiff(&saved, &det);
            CHECKF(ds >= 0 && ds <= 2, "saved PNG (%dx%d) vs zs_detail_edit: max %d", saved.w, saved.h, ds);
            free(saved.rgb);
        } else CHECKF(0, "Save wrote no PNG: %s", sv);

        CHECKF(strstr(sb, "message error") && strstr(sb, "broken.jpg") && strstr(sb, "gen=1 ") &&
                   strstr(sb, "path=") && strstr(sb, "162792.jpg"),
               "a broken file: %s", sb);
        CHECKF(region_diff(&pd, &pb, rc_det) == 0 && region_diff(&pd, &pb, rc_photo) == 0,
               "a broken file changed the picture");
        CHECKF(strstr(sm, "message error") && strstr(sm, "missing.png") && strstr(sm, "162792.jpg"),
               "a missing file: %s", sm);
        CHECKF(strstr(sbs, "message error Save failed") && strstr(sbs, "no-such-dir"), "unwritable save: %s", sbs);
        CHECKF(strstr(s64, "message ok Saved ") && strstr(s64, "p_edit.png"), "Ctrl-S: %s", s64);
        if (load_png("p_edit.png", &saved64)) {
            zs_image want64 = {L->S, L->S, w.edit};
            int ds = image_maxdiff(&saved64, &want64);
            CHECKF(ds >= 0 && ds <= 2, "Ctrl-S PNG (%dx%d) vs the 64x64 edit: max %d", saved64.w, saved64.h, ds);
            free(saved64.rgb);
        } else CHECKF(0, "Ctrl-S wrote no PNG: %s", s64);
        zs_image_free(&det);
        photo_want_free(&w0), photo_want_free(&w);
    }
    free(pl.rgb), free(psm.rgb), free(pd.rgb), free(pb.rgb);
    free(sl), free(ss), free(sd), free(sv), free(sb), free(sm), free(sbs), free(s64), free(out), free(err);

    /* typed path + Enter, then a dropped PNG (gallery face 5, a square: the whole image is the crop) */
    zs_image f5 = {L->S, L->S, (uint8_t *)zs_cache_pixels(L->cache, 5)};
    snprintf(path, sizeof path, "%s/face5.png", g_tmp);
    CHECK(zs_image_write_png(path, &f5) == ZS_OK);
    snprintf(script, sizeof script, PHOTO_TYPE_SCRIPT, g_tmp, jpg);
    snprintf(path, sizeof path, "%s/photo_type.txt", g_tmp);
    write_text(path, script);
    snprintf(args, sizeof args, "--script %s", path);
    rc = run_gui("photo_type", args, &out, &err);
    CHECKF(rc == 0, "exit code %d; stderr: %s", rc, err);
    char *se = section(out, "empty"), *st = section(out, "typed"), *sdr = section(out, "dropped");
    char *sg = section(out, "gallery");
    CHECKF(strstr(se, "tab=1 mode=0 gen=0"), "Photo tab before a photo: %s", se);
    CHECKF(strstr(st, "mode=1 gen=1 size=178x218") && strstr(st, "162792.jpg"), "typed path: %s", st);
    CHECKF(strstr(sdr, "mode=1 gen=2 size=64x64") && strstr(sdr, "face5.png"), "dropped file: %s", sdr);
    CHECKF(strstr(sg, "face=2") && strstr(sg, "tab=0 mode=0"), "a gallery click after a photo: %s", sg);
    zs_image tt, td;
    rect r1 = {0}, r2 = {0}, r2e = {0};
    got = load_png("t_typed.png", &tt) & load_png("t_dropped.png", &td);
    if (got && get_rect(st, "image/crop", &r1) && get_rect(sdr, "image/crop", &r2) &&
        get_rect(sdr, "image/edit", &r2e)) {
        int maxd;
        double meand;
        photo_want w;
        photo_expect(L, &im, -1, 0, &w);
        face_diff(&tt, r1, w.face, L->S, &maxd, &meand);
        CHECKF(maxd <= 1, "typed path: crop vs zs_photo_face: max %d", maxd);
        photo_want_free(&w);
        face_diff(&td, r2, f5.rgb, L->S, &maxd, &meand);
        CHECKF(maxd <= 1, "dropped PNG: crop vs the file: max %d", maxd);
        uint8_t *want = zs_xmalloc((size_t)L->S * L->S * 3);
        expected(L, 5, -1, 0, want);
        face_diff(&td, r2e, want, L->S, &maxd, &meand);
        CHECKF(maxd <= 2, "dropped PNG: reconstruction vs gallery face 5's: max %d", maxd);
        free(want);
    } else CHECKF(0, "typed/dropped screenshots missing:\n%s%s", out, err);
    free(tt.rgb), free(td.rgb);
    free(se), free(st), free(sdr), free(sg), free(out), free(err);
    zs_image_free(&im);
}

/* A photo framed by hand: a CelebA face pasted into a larger picture, whose
 * centred-square guess shows mostly background; the wheel zooms, a drag
 * pans, keep-detail draws the square on the photo, the session keeps the
 * crop, Reset crop goes back to the guess. */
static const char *CROP_SCRIPT =
    "sync\n"
    "key N\n"
    "drop %1$s/framed.png\n"
    "sync\n"
    "echo guess\n"
    "print photo\n"
    "print rect image/crop\n"
    "print rect image/edit\n"
    "screenshot %1$s/c_guess.png\n"
    "wheel drag/crop 4\n"
    "sync\n"
    "echo zoom\n"
    "print photo\n"
    "drag drag/crop@0.5,0.5 drag/crop@0.3,0.5 8\n"
    "sync\n"
    "echo moved\n"
    "print photo\n"
    "screenshot %1$s/c_moved.png\n"
    "click toggle/Keep_detail\n"
    "sync\n"
    "drag drag/photo@0.5,0.5 drag/photo@0.5,0.6 4\n"
    "sync\n"
    "echo detail\n"
    "print photo\n"
    "click toggle/Keep_detail\n"
    "sync\n"
    "wait 1\n";

static const char *CROP_SCRIPT2 =
    "sync\n"
    "echo restored\n"
    "print photo\n"
    "click button/Reset_crop\n"
    "sync\n"
    "echo reset\n"
    "print photo\n"
    "wait 1\n";

/* photo_crop x0= y0= side= user= of `print photo`; 0 if absent */
static int get_crop(const char *s, double *x0, double *y0, double *side, int *user)
{
    const char *p = s ? strstr(s, "photo_crop ") : NULL;
    return p && sscanf(p, "photo_crop x0=%lf y0=%lf side=%lf user=%d", x0, y0, side, user) == 4;
}

static void test_photo_crop(lib *L)
{
    char jpg[1024];
    zs_image face;
    if (!photo_face("photo crop", jpg, sizeof jpg, &face)) return;
    /* 300 x 400, grey, the 178 x 218 face at (61, 91): the guess is the square (0, 50, 300) */
    zs_image big = {300, 400, zs_xmalloc((size_t)300 * 400 * 3)};
    memset(big.rgb, 120, (size_t)300 * 400 * 3);
    for (int y = 0; y < face.h; y++) memcpy(big.rgb + ((size_t)(y + 91) * 300 + 61) * 3, face.rgb + (size_t)y * face.w * 3, (size_t)face.w * 3);
    char script[4096], path[600], sess[700], *out, *err;
    snprintf(path, sizeof path, "%s/framed.png", g_tmp);
    CHECK(zs_image_write_png(path, &big) == ZS_OK);
    snprintf(sess, sizeof sess, "--session %s/session_crop", g_tmp);
    remove(sess + strlen("--session "));
    snprintf(script, sizeof script, CROP_SCRIPT, g_tmp);
    int rc = run_script("crop", "crop", script, sess, &out, &err);
    CHECKF(rc == 0, "exit code %d; stderr: %s", rc, err);
    char *sg = section(out, "guess"), *sz = section(out, "zoom"), *sm = section(out, "moved"), *sd = section(out, "detail");
    double gx, gy, gs, zx, zy, zsd, mx, my, ms, dx, dy, ds;
    int gu, zu, mu, du;
    CHECKF(get_crop(sg, &gx, &gy, &gs, &gu) && gu == 0 && fabs(gx) < 0.01 && fabs(gy - 50) < 0.01 &&
               fabs(gs - 300) < 0.01,
           "the guess for a 300x400 photo is the centred square: %s", sg);
    CHECKF(get_crop(sz, &zx, &zy, &zsd, &zu) && zu == 1 && fabs(zsd - 300 * pow(0.9, 4)) < 0.05 &&
               fabs(zx + zsd / 2 - 150) < 0.05 && fabs(zy + zsd / 2 - 200) < 0.05,
           "wheel 4 notches: the square 0.9^4 as large about the same centre: %s", sz);
    /* the picture follows the mouse: dragged left by 0.2 of the view, the square moves right by 0.2 of its side */
    CHECKF(get_crop(sm, &mx, &my, &ms, &mu) && mu == 1 && fabs(ms - zsd) < 0.01 && fabs(my - zy) < 0.01 &&
               fabs(mx - zx - 0.2 * zsd) < 0.02 * zsd,
           "drag: %s (from %s)", sm, sz);
    CHECKF(get_crop(sd, &dx, &dy, &ds, &du) && fabs(dx - mx) < 0.01 && dy > my + 0.05 * 300,
           "keep detail: the square follows a drag on the photo: %s", sd);
    rect rcrop = {0}, redit = {0};
    zs_image cg, cm;
    int got = get_rect(sg, "image/crop", &rcrop) && get_rect(sg, "image/edit", &redit) && load_png("c_guess.png", &cg) &&
              load_png("c_moved.png", &cm);
    CHECKF(got, "crop screenshots or rectangles missing:\n%s%s", out, err);
    if (got) {
        /* what is shown is the photo cropped where `print photo` says, and its reconstruction */
        zs_crop c = zs_crop_from_rect(big.w, big.h, mx, my, ms);
        size_t n = (size_t)3 * L->S * L->S;
        uint8_t *want = zs_xmalloc(n), *dec = zs_xmalloc(n);
        float *x = zs_xmalloc(sizeof(float) * n), *m = zs_xmalloc(sizeof(float) * L->Z);
        CHECK(zs_image_crop_resize(&big, c, L->S, want) == ZS_OK);
        int maxd;
        double meand;
        face_diff(&cm, rcrop, want, L->S, &maxd, &meand);
        CHECKF(maxd <= 2, "the crop shown vs the photo cropped at (%.2f, %.2f, %.2f): max %d mean %.2f", mx, my, ms,
               maxd, meand);
        zs_face_to_chw(want, L->S, x, 0);
        zs_vae_encode(L->inf, x, 1, m, NULL);
        zs_vae_decode(L->inf, m, 1, x);
        zs_face_from_chw(x, L->S, dec);
        face_diff(&cm, redit, dec, L->S, &maxd, &meand);
        CHECKF(maxd <= 3, "the reconstruction of the framed crop vs decode(encode(crop)): max %d mean %.2f", maxd, meand);
        CHECKF(region_diff(&cg, &cm, rcrop) > 10 && region_diff(&cg, &cm, redit) > 3,
               "framing did not change what the model sees (%.2f) or its reconstruction (%.2f)",
               region_diff(&cg, &cm, rcrop), region_diff(&cg, &cm, redit));
        free(want), free(dec), free(x), free(m);
        free(cg.rgb), free(cm.rgb);
    }
    free(sg), free(sz), free(sm), free(sd), free(out), free(err);

    /* the next run restores the photo with its crop; Reset crop goes back to the guess */
    rc = run_script("crop2", "crop2", CROP_SCRIPT2, sess, &out, &err);
    CHECKF(rc == 0, "exit code %d; stderr: %s", rc, err);
    char *sr = section(out, "restored"), *sx = section(out, "reset");
    double rx, ry, rs;
    int ru;
    CHECKF(get_crop(sr, &rx, &ry, &rs, &ru) && ru == 1 && fabs(rx - dx) < 0.01 && fabs(ry - dy) < 0.01 &&
               fabs(rs - ds) < 0.01 && strstr(sr, "framed.png"),
           "the session's photo and crop (%.2f, %.2f, %.2f): %s", dx, dy, ds, sr);
    CHECKF(get_crop(sx, &rx, &ry, &rs, &ru) && ru == 0 && fabs(rx) < 0.01 && fabs(ry - 50) < 0.01 &&
               fabs(rs - 300) < 0.01,
           "Reset crop: %s", sx);
    free(sr), free(sx), free(out), free(err);
    free(big.rgb);
    zs_image_free(&face);
}

static const char *INTERP_SCRIPT =
    "sync\n"
    "key N\n"
    "click tab/Interpolate\n"
    "sync\n"
    "echo empty\n"
    "print interp\n"
    "screenshot %1$s/i_default.png\n"
    "click button/Set_A\n"
    "click thumb/1\n"
    "sync\n"
    "click button/Set_B\n"
    "sync\n"
    "echo slerp\n"
    "print interp\n"
    "print rect image/t\n"
    "print rect strip/0\nprint rect strip/1\nprint rect strip/2\nprint rect strip/3\n"
    "print rect strip/4\nprint rect strip/5\nprint rect strip/6\nprint rect strip/7\n"
    "screenshot %1$s/i_slerp.png\n"
    "click toggle/Slerp_(off:_lerp)\n"
    "sync\n"
    "echo lerp\n"
    "print interp\n"
    "screenshot %1$s/i_lerp.png\n"
    "drag slider/t slider/t@0.0,0.5 5\n"
    "sync\n"
    "echo t0\n"
    "print interp\n"
    "screenshot %1$s/i_t0.png\n"
    "click textbox/strip\n"
    "key ctrl+U\n"
    "text %1$s/strip.png\n"
    "key Return\n"
    "click button/Export_strip\n"
    "sync\n"
    "echo export\n"
    "print interp\n"
    "click button/Play\n"
    "wait 2\n"
    "timing_reset\n"
    "wait 60\n"
    "echo play1\n"
    "print interp\n"
    "wait 30\n"
    "echo play2\n"
    "print interp\n"
    "wait 30\n"
    "echo play\n"
    "print timing\n"
    "print interp\n"
    "click button/Pause\n"
    "sync\n"
    "echo paused\n"
    "print interp\n"
    "wait 1\n";

static void interp_expect(lib *L, int lerp, float t, uint8_t *out)
{
    float *x = zs_xmalloc(sizeof(float) * 3 * L->S * L->S), *za = zs_xmalloc(sizeof(float) * L->Z);
    float *zb = zs_xmalloc(sizeof(float) * L->Z), *z = zs_xmalloc(sizeof(float) * L->Z);
    zs_face_to_chw(zs_cache_pixels(L->cache, 0), L->S, x, 0);
    zs_vae_encode(L->inf, x, 1, za, NULL);
    zs_face_to_chw(zs_cache_pixels(L->cache, 1), L->S, x, 0);
    zs_vae_encode(L->inf, x, 1, zb, NULL);
    if (lerp) zs_lerp(L->Z, za, zb, t, z);
    else zs_slerp(L->Z, za, zb, t, z);
    zs_vae_decode(L->inf, z, 1, x);
    zs_face_from_chw(x, L->S, out);
    free(x), free(za), free(zb), free(z);
}

static void test_interp(lib *L)
{
    char script[8192], *out, *err;
    snprintf(script, sizeof script, INTERP_SCRIPT, g_tmp);
    int rc = run_script("interp", "interp", script, "", &out, &err);
    CHECKF(rc == 0, "exit code %d; stderr: %s", rc, err);
    char *se = section(out, "empty"), *ss = section(out, "slerp"), *sl = section(out, "lerp");
    char *s0 = section(out, "t0"), *sx = section(out, "export"), *sp = section(out, "play");
    char *sq = section(out, "paused");
    CHECKF(strstr(se, "A=1 B=1") && strstr(se, "slot A face 1 (") && strstr(se, "slot B face 2 ("),
           "A and B should start as the current face and the next: %s", se);
    CHECKF(strstr(ss, "slerp=1 A=1 B=1") && strstr(ss, "slot A face 1 (") && strstr(ss, "slot B face 2 ("),
           "after Set A / Set B: %s", ss);
    CHECKF(strstr(sl, "slerp=0"), "lerp toggle: %s", sl);
    CHECKF(strstr(s0, "t=0.0000"), "t slider to 0: %s", s0);
    rect cell[ZS_STRIP_N], rt;
    int ok = get_rect(ss, "image/t", &rt);
    for (int i = 0; i < ZS_STRIP_N; i++) {
        char name[32];
        snprintf(name, sizeof name, "strip/%d", i);
        ok &= get_rect(ss, name, &cell[i]);
    }
    zs_image is, il, i0, idef, strip;
    ok &= load_png("i_slerp.png", &is) & load_png("i_lerp.png", &il) & load_png("i_t0.png", &i0);
    ok &= load_png("i_default.png", &idef);
    CHECKF(ok && cell[0].w >= L->S, "rectangles or screenshots missing:\n%s%s", out, err);
    if (ok && cell[0].w >= L->S) {
        int S = L->S, maxd, worst_s = 0, worst_l = 0;
        double meand;
        uint8_t *want = zs_xmalloc((size_t)S * S * 3);
        expected(L, 0, -1, 0, want);
        face_diff(&idef, cell[0], want, S, &maxd, &meand);
        CHECKF(maxd <= 2, "the default strip's start vs face 0's reconstruction: max %d", maxd);
        face_diff(&is, cell[0], want, S, &maxd, &meand);
        CHECKF(maxd <= 2, "strip start vs A's reconstruction: max %d", maxd);
        face_diff(&i0, rt, want, S, &maxd, &meand);
        CHECKF(maxd <= 2, "the face at t = 0 vs A's reconstruction: max %d", maxd);
        expected(L, 1, -1, 0, want);
        face_diff(&is, cell[ZS_STRIP_N - 1], want, S, &maxd, &meand);
        CHECKF(maxd <= 2, "strip end vs B's reconstruction: max %d", maxd);
        face_diff(&idef, cell[ZS_STRIP_N - 1], want, S, &maxd, &meand);
        CHECKF(maxd <= 2, "the default strip's end vs face 1's reconstruction: max %d", maxd);
        for (int i = 0; i < ZS_STRIP_N; i++) {
            float t = (float)i / (ZS_STRIP_N - 1);
            interp_expect(L, 0, t, want);
            face_diff(&is, cell[i], want, S, &maxd, &meand);
            if (maxd > worst_s) worst_s = maxd;
            interp_expect(L, 1, t, want);
            face_diff(&il, cell[i], want, S, &maxd, &meand);
            if (maxd > worst_l) worst_l = maxd;
        }
        CHECKF(worst_s <= 2 && worst_l <= 2, "strip cells vs decode(slerp) max %d, vs decode(lerp) max %d", worst_s,
               worst_l);
        double dmid = region_diff(&is, &il, cell[3]) + region_diff(&is, &il, cell[4]);
        CHECKF(dmid > 1.0, "lerp and slerp middles differ by only %.2f levels", dmid);
        CHECKF(region_diff(&is, &il, cell[0]) == 0 && region_diff(&is, &il, cell[7]) == 0,
               "lerp and slerp ends should be the same faces");
        double dt = region_diff(&il, &i0, rt);
        CHECKF(dt > 2.0, "moving t from 0.5 to 0 changed the large face by only %.2f", dt);
        CHECKF(strstr(sx, "message ok Saved ") && strstr(sx, "strip.png"), "export: %s", sx);
        if (load_png("strip.png", &strip)) {
            CHECKF(strip.w == ZS_STRIP_N * S && strip.h == S, "strip PNG is %dx%d", strip.w, strip.h);
            int worst = 0;
            for (int i = 0; i < ZS_STRIP_N && strip.w == ZS_STRIP_N * S; i++) {
                interp_expect(L, 1, (float)i / (ZS_STRIP_N - 1), want);
                for (int y = 0; y < S; y++)
                    for (int x = 0; x < S * 3; x++) {
                        int d = abs((int)strip.rgb[((size_t)y * strip.w + (size_t)i * S) * 3 + x] -
                                    (int)want[(size_t)y * S * 3 + x]);
                        if (d > worst) worst = d;
                    }
            }
            CHECKF(worst <= 2, "exported strip vs decode(lerp): max %d", worst);
            free(strip.rgb);
        } else CHECKF(0, "Export wrote no PNG: %s", sx);
        free(want);
    }
    int frames = 0;
    double p50 = 0, p95 = 0, mx = 0, tplay = -1, tpause = -1;
    const char *p = strstr(sp, "timing frames ");
    if (p) sscanf(p, "timing frames %d frame_ms mean %*f p50 %lf p95 %lf max %lf", &frames, &p50, &p95, &mx);
    p = strstr(sp, "interp t=");
    if (p) tplay = atof(p + 9);
    p = strstr(sq, "interp t=");
    if (p) tpause = atof(p + 9);
    /* t sweeps 0 -> 1 -> 0 every 4 s, so where it is after N frames depends on
     * the frame rate: compare three moments instead of one position */
    char *s1 = section(out, "play1"), *s2 = section(out, "play2");
    double t1 = -1, t2 = -1;
    if ((p = strstr(s1, "interp t="))) t1 = atof(p + 9);
    if ((p = strstr(s2, "interp t="))) t2 = atof(p + 9);
    double tlo = fmin(t1, fmin(t2, tplay)), thi = fmax(t1, fmax(t2, tplay));
    free(s1), free(s2);
    fprintf(stderr, "interpolate, playing: %d frames, frame ms p50 %.2f p95 %.2f max %.2f\n", frames, p50, p95, mx);
    CHECKF(frames >= 100 && strstr(sp, "playing=1"), "Play: %s", sp);
    CHECKF(tlo >= 0 && thi - tlo > 0.01 && strstr(sq, "playing=0"), "Play did not move t (t = %.3f, %.3f, %.3f): %s",
           t1, t2, tplay, sq);
    CHECKF(fabs(tpause - tplay) < 0.2, "t after Pause %.3f", tpause);
    free(is.rgb), free(il.rgb), free(i0.rgb), free(idef.rgb);
    free(se), free(ss), free(sl), free(s0), free(sx), free(sp), free(sq), free(out), free(err);
}

static const char *SAMPLE_SCRIPT =
    "sync\n"
    "key N\n"
    "click tab/Sample\n"
    "sync\n"
    "echo iso1\n"
    "print sample\n"
    "print rect sample/0\nprint rect sample/1\nprint rect sample/2\nprint rect sample/3\n"
    "print rect sample/4\nprint rect sample/5\nprint rect sample/6\nprint rect sample/7\n"
    "print rect sample/8\nprint rect sample/9\nprint rect sample/10\nprint rect sample/11\n"
    "print rect sample/12\nprint rect sample/13\nprint rect sample/14\nprint rect sample/15\n"
    "screenshot %1$s/s_iso1.png\n"
    "click button/Resample\n"
    "sync\n"
    "echo iso2\n"
    "print sample\n"
    "screenshot %1$s/s_iso2.png\n"
    "click toggle/Fitted_to_the_gallery\n"
    "sync\n"
    "echo fit2\n"
    "print sample\n"
    "screenshot %1$s/s_fit2.png\n"
    "click toggle/Fitted_to_the_gallery\n"
    "sync\n"
    "echo iso2b\n"
    "print sample\n"
    "screenshot %1$s/s_iso2b.png\n"
    "drag slider/radius slider/radius@0.0,0.5 5\n"
    "sync\n"
    "echo r0iso\n"
    "print sample\n"
    "screenshot %1$s/s_r0iso.png\n"
    "click toggle/Fitted_to_the_gallery\n"
    "sync\n"
    "echo r0fit\n"
    "print sample\n"
    "screenshot %1$s/s_r0fit.png\n"
    "drag slider/radius slider/radius@0.5,0.5 5\n"
    "sync\n"
    "echo fit15\n"
    "print sample\n"
    "click sample/5\n"
    "sync\n"
    "echo pick\n"
    "print sample\n"
    "print state\n"
    "print photo\n"
    "print rect image/original\n"
    "print rect image/edit\n"
    "screenshot %1$s/s_pick.png\n"
    "wheel scroll/attributes -5\n"
    "wait 1\n"
    "drag slider/Smiling slider/Smiling@0.75,0.5 8\n"
    "sync\n"
    "echo pick_smile\n"
    "print state\n"
    "screenshot %1$s/s_pick_smile.png\n"
    "wait 1\n";

#define NSAMPLES 16

/* decode of sample i (of 16) for seed, radius and mode; g NULL: isotropic */
static void sample_expect(lib *L, const zs_gauss *g, uint64_t seed, float radius, int i, int k, float s,
                          uint8_t *out)
{
    float *z = zs_xmalloc(sizeof(float) * NSAMPLES * L->Z), *x = zs_xmalloc(sizeof(float) * 3 * L->S * L->S);
    zs_latent_sample(g, L->Z, NSAMPLES, radius, seed, z);
    float *zi = z + (size_t)i * L->Z;
    if (k >= 0) zs_latent_add(L->Z, zi, L->attrs.vec + (size_t)k * L->Z, s, zi);
    zs_vae_decode(L->inf, zi, 1, x);
    zs_face_from_chw(x, L->S, out);
    free(z), free(x);
}

static int sample_params(const char *sec, uint64_t *seed, float *radius, int *fitted)
{
    const char *p = strstr(sec, "sample seed=");
    unsigned long long sd;
    double r;
    if (!p || sscanf(p, "sample seed=%llu radius=%lf fitted=%d", &sd, &r, fitted) != 3) return 0;
    *seed = sd, *radius = (float)r;
    return 1;
}

/* Largest difference of the 16 cells from what the library samples. */
static int grid_worst(lib *L, const zs_image *shot, const rect *cells, const zs_gauss *g, uint64_t seed, float radius)
{
    uint8_t *want = zs_xmalloc((size_t)L->S * L->S * 3);
    int worst = 0, maxd;
    double meand;
    for (int i = 0; i < NSAMPLES; i++) {
        sample_expect(L, g, seed, radius, i, -1, 0, want);
        face_diff(shot, cells[i], want, L->S, &maxd, &meand);
        if (maxd > worst) worst = maxd;
    }
    free(want);
    return worst;
}

static void test_sample(lib *L)
{
    char script[8192], *out, *err;
    snprintf(script, sizeof script, SAMPLE_SCRIPT, g_tmp);
    int rc = run_script("sample", "sample", script, "", &out, &err);
    CHECKF(rc == 0, "exit code %d; stderr: %s", rc, err);
    static const char *const tags[] = {"iso1", "iso2", "fit2", "iso2b", "r0iso", "r0fit", "fit15", "pick", "pick_smile"};
    char *sec[9];
    for (int i = 0; i < 9; i++) sec[i] = section(out, tags[i]);
    rect cells[NSAMPLES], ro = {0}, re = {0}, all;
    int ok = 1;
    for (int i = 0; i < NSAMPLES; i++) {
        char name[32];
        snprintf(name, sizeof name, "sample/%d", i);
        ok &= get_rect(sec[0], name, &cells[i]);
    }
    ok &= get_rect(sec[7], "image/original", &ro) & get_rect(sec[7], "image/edit", &re);
    zs_image iso1, iso2, fit2, iso2b, r0iso, r0fit, pick, pick_smile;
    ok &= load_png("s_iso1.png", &iso1) & load_png("s_iso2.png", &iso2) & load_png("s_fit2.png", &fit2) &
          load_png("s_iso2b.png", &iso2b) & load_png("s_r0iso.png", &r0iso) & load_png("s_r0fit.png", &r0fit) &
          load_png("s_pick.png", &pick) & load_png("s_pick_smile.png", &pick_smile);
    uint64_t seed[7];
    float radius[7];
    int fitted[7];
    for (int i = 0; i < 7; i++) ok &= sample_params(sec[i], &seed[i], &radius[i], &fitted[i]);
    CHECKF(ok && cells[0].w >= L->S, "rectangles, screenshots or state missing:\n%s%s", out, err);
    if (ok && cells[0].w >= L->S) {
        all = (rect){cells[0].x, cells[0].y, cells[15].x + cells[15].w - cells[0].x, cells[15].y + cells[15].h - cells[0].y};
        CHECKF(seed[0] == 1 && fitted[0] == 0 && fabsf(radius[0] - 1) < 1e-6f, "start: %s", sec[0]);
        CHECKF(seed[1] == 2 && seed[2] == 2 && fitted[2] == 1 && seed[3] == 2 && fitted[3] == 0, "Resample / mode: %s%s",
               sec[1], sec[2]);
        CHECKF(radius[4] == 0 && radius[5] == 0 && fitted[5] == 1, "radius 0: %s%s", sec[4], sec[5]);
        /* the Gaussian the app should have fitted */
        zs_latents lat;
        zs_gauss g;
        CHECK(zs_latents_encode(L->m, L->cache, 0, NULL, NULL, &lat) == ZS_OK);
        CHECK(zs_gauss_fit(lat.mu, lat.n, lat.z, &g) == ZS_OK);
        int w;
        w = grid_worst(L, &iso1, cells, NULL, 1, radius[0]);
        CHECKF(w <= 2, "isotropic seed 1 grid vs zs_latent_sample + decode: max %d", w);
        w = grid_worst(L, &iso2, cells, NULL, 2, radius[1]);
        CHECKF(w <= 2, "isotropic seed 2 grid: max %d", w);
        double dr = region_diff(&iso1, &iso2, all);
        CHECKF(dr > 5, "Resample changed the grid by only %.2f levels", dr);
        w = grid_worst(L, &fit2, cells, &g, 2, radius[2]);
        CHECKF(w <= 2, "fitted seed 2 grid vs zs_gauss_fit + zs_latent_sample: max %d", w);
        CHECKF(region_diff(&iso2, &fit2, all) > 5, "fitted and isotropic grids look alike");
        CHECKF(region_diff(&iso2, &iso2b, all) == 0, "the same seed gave another grid (%.3f)",
               region_diff(&iso2, &iso2b, all));
        /* radius 0: 16 copies of decode(0), or decode(mean) */
        w = grid_worst(L, &r0iso, cells, NULL, 2, 0);
        CHECKF(w <= 2, "radius 0 isotropic vs decode(0): max %d", w);
        w = grid_worst(L, &r0fit, cells, &g, 2, 0);
        CHECKF(w <= 2, "radius 0 fitted vs decode(mean): max %d", w);
        double d01 = 0;
        for (int i = 1; i < NSAMPLES; i++) {
            double d = 0;
            for (int y = 0; y < cells[0].h; y++)
                for (int x = 0; x < cells[0].w * 3; x++)
                    d += abs((int)r0fit.rgb[((size_t)(cells[0].y + y) * r0fit.w + cells[0].x) * 3 + x] -
                             (int)r0fit.rgb[((size_t)(cells[i].y + y) * r0fit.w + cells[i].x) * 3 + x]);
            if (d > d01) d01 = d;
        }
        CHECKF(d01 == 0, "radius 0: the 16 faces are not identical (%.0f)", d01);
        /* the pick: sample 5 of the fitted grid at radius 1.5 */
        CHECKF(strstr(sec[7], "src=2") && strstr(sec[7], "photo tab=0 "), "clicking a sample: %s", sec[7]);
        CHECKF(fitted[6] == 1 && fabsf(radius[6] - 1.5f) < 0.1f, "before the pick: %s", sec[6]);
        uint8_t *want = zs_xmalloc((size_t)L->S * L->S * 3);
        int maxd;
        double meand;
        sample_expect(L, &g, seed[6], radius[6], 5, -1, 0, want);
        face_diff(&pick, ro, want, L->S, &maxd, &meand);
        CHECKF(maxd <= 2, "the picked sample shown as the current face: max %d", maxd);
        face_diff(&pick, re, want, L->S, &maxd, &meand);
        CHECKF(maxd <= 2, "the picked sample's decode in the edit panel: max %d", maxd);
        double s = strength(sec[8], "Smiling");
        CHECKF(fabs(s - 1.5) < 0.1, "Smiling on the sample: %g", s);
        sample_expect(L, &g, seed[6], radius[6], 5, zs_attr_find("Smiling"), (float)s, want);
        face_diff(&pick_smile, re, want, L->S, &maxd, &meand);
        CHECKF(maxd <= 2, "the sample edited: vs decode(z_5 + %.2f v_Smiling): max %d", s, maxd);
        CHECKF(region_diff(&pick, &pick_smile, re) > 2, "Smiling did not change the sample");
        CHECKF(region_diff(&pick, &pick_smile, ro) == 0, "the sample itself changed with a slider");
        free(want);
        zs_gauss_free(&g);
        zs_latents_free(&lat);
    }
    free(iso1.rgb), free(iso2.rgb), free(fit2.rgb), free(iso2b.rgb), free(r0iso.rgb), free(r0fit.rgb);
    free(pick.rgb), free(pick_smile.rgb);
    for (int i = 0; i < 9; i++) free(sec[i]);
    free(out), free(err);
}

static const char *TRAIN_SCRIPT =
    "sync\n"
    "key N\n"
    "click tab/Train\n"
    "wait_train 0\n"   /* the first grid: the fixed faces with the starting weights */
    "sync\n"
    "echo t0\n"
    "print train\n"
    "print rect image/train_recon\n"
    "print rect image/train_orig\n"
    "screenshot %1$s/t0.png\n"
    "click button/Start\n"
    "wait_train 5\n"
    "echo t_run\n"
    "print train\n"
    "screenshot %1$s/t1.png\n"
    "click button/Pause\n"
    "wait_state paused\n"
    "echo t_paused1\n"
    "print train\n"
    "sleep 1500\n"
    "echo t_paused2\n"
    "print train\n"
    "click textbox/ckpt\n"
    "key ctrl+U\n"
    "type %1$s/ck.safetensors\n"
    "key Return\n"
    "click button/Save_checkpoint\n"
    "sync\n"
    "echo t_saved\n"
    "print train\n"
    "click button/Use_these_weights\n"
    "sync\n"
    "echo t_use\n"
    "print train\n"
    "click tab/Attributes\n"
    "sync\n"
    "wait 2\n"
    "print rect image/edit\n"
    "screenshot %1$s/t_use.png\n"
    "click tab/Train\n"
    "wait 2\n"
    "click button/Stop\n"
    "wait_state idle\n"
    "echo t_stopped\n"
    "print train\n"
    "key ctrl+Q\n"
    "wait 5\n"
    "echo after_quit\n";

static long train_field(const char *sec, const char *key)
{
    const char *p = strstr(sec, "train have=");
    if (!p) return -999;
    p = strstr(p, key);
    return p ? atol(p + strlen(key)) : -999;
}

static void test_train(lib *L)
{
    char script[8192], path[600], *out, *err;
    snprintf(script, sizeof script, TRAIN_SCRIPT, g_tmp);
    int rc = run_script("train", "train", script, "--train-batch 16", &out, &err);
    CHECKF(rc == 0, "exit code %d; stderr: %s", rc, err);
    CHECKF(strstr(out, "echo t_stopped") && !strstr(out, "echo after_quit"), "the script did not run to its end:\n%s%s",
           out, err);
    char *s0 = section(out, "t0"), *sr = section(out, "t_run"), *p1 = section(out, "t_paused1");
    char *p2 = section(out, "t_paused2"), *sv = section(out, "t_saved"), *su = section(out, "t_use");
    char *ss = section(out, "t_stopped");
    CHECKF(train_field(s0, "have=") == 0 && train_field(s0, "recon_step=") == 0 && strstr(s0, "faces=500"),
           "before Start: %s", s0);
    long run = train_field(sr, "step="), a1 = train_field(p1, "step="), a2 = train_field(p2, "step=");
    CHECKF(run >= 5 && strstr(sr, "state=running"), "training did not run: %s", sr);
    /* the default: the trainer's members take chunks of a batch (app -> trainview -> trainer) */
    CHECKF(train_field(sr, "team=") >= 1 && train_field(sr, "dynamic=") == 1, "the trainer's team: %s", sr);
    CHECKF(strstr(p1, "state=paused") && strstr(p2, "state=paused"), "Pause: %s%s", p1, p2);
    CHECKF(a1 >= run && a2 == a1, "the step moved while paused: %ld -> %ld", a1, a2);
    CHECKF(train_field(p2, "hist=") >= 3, "loss history: %s", p2);
    long saved = train_field(sv, "saved_step=");
    CHECKF(saved == a1 && strstr(sv, "message ok Saved checkpoint"), "Save checkpoint: %s", sv);
    CHECKF(train_field(su, "weights_step=") == a1 && train_field(su, "attrs_stale=") == 1, "Use these weights: %s", su);
    CHECKF(strstr(ss, "state=idle") && train_field(ss, "step=") == a1, "Stop: %s", ss);

    rect rr = {0}, ro = {0}, re = {0};
    zs_image i0, i1, iu;
    int ok = get_rect(s0, "image/train_recon", &rr) & get_rect(s0, "image/train_orig", &ro) &
             get_rect(out, "image/edit", &re);
    ok &= load_png("t0.png", &i0) & load_png("t1.png", &i1) & load_png("t_use.png", &iu);
    CHECKF(ok && rr.w > 0, "rectangles or screenshots missing:\n%s%s", out, err);
    if (ok && rr.w > 0) {
        double dr = region_diff(&i0, &i1, rr), dor = region_diff(&i0, &i1, ro);
        fprintf(stderr, "train: grid changed by %.2f levels after %ld steps (originals %.2f)\n", dr, run, dor);
        CHECKF(dr > 0.3, "the reconstruction grid did not change after training (%.3f)", dr);
        CHECKF(dor == 0, "the original faces changed (%.3f)", dor);
        /* the checkpoint: the step printed, and the weights the explorer now uses */
        snprintf(path, sizeof path, "%s/ck.safetensors", g_tmp);
        zs_vae *m = NULL;
        zs_ckpt_info info;
        CHECKF(zs_ckpt_load_model(path, &m, &info) == ZS_OK, "%s", zs_last_error());
        if (m) {
            CHECKF(info.step == saved, "checkpoint step %ld, printed %ld", info.step, saved);
            zs_vae_infer *inf = zs_vae_infer_create(&m->cfg, 1);
            zs_vae_infer_load(inf, m->params);
            lib T = *L;
            T.inf = inf;
            uint8_t *want = zs_xmalloc((size_t)L->S * L->S * 3), *old = zs_xmalloc((size_t)L->S * L->S * 3);
            int maxd, maxo;
            double meand, meano;
            expected(&T, 0, -1, 0, want);
            expected(L, 0, -1, 0, old);
            face_diff(&iu, re, want, L->S, &maxd, &meand);
            face_diff(&iu, re, old, L->S, &maxo, &meano);
            CHECKF(maxd <= 2, "after Use these weights: reconstruction vs the checkpoint's decode: max %d mean %.2f", maxd,
                   meand);
            CHECKF(meano > 0.2, "the reconstruction looks like the old weights' (mean diff %.2f)", meano);
            free(want), free(old);
            zs_vae_infer_destroy(inf);
            zs_vae_destroy(m);
        }
    }
    free(i0.rgb), free(i1.rgb), free(iu.rgb);
    free(s0), free(sr), free(p1), free(p2), free(sv), free(su), free(ss), free(out), free(err);
}

/* ---- (l) the sliders' histograms and markers, "orthogonal to", principal directions ---- */
static const char *AXES_SCRIPT =
    "sync\n"
    "key N\n"
    "wait 1\n"
    "echo ax0\n"
    "print axis Smiling\n"
    "print pca\n"
    "wheel scroll/attributes -5\n"
    "wait 1\n"
    "drag slider/Smiling slider/Smiling@0.8333,0.5 12\n"
    "sync\n"
    "echo ax1\n"
    "print state\n"
    "print axis Smiling\n"
    "print rect marker/Smiling\n"
    "print rect slider/Smiling\n"
    "print rect image/edit\n"
    "screenshot %1$s/ax1.png\n"
    "click textbox/ortho\n"
    "type Male,Young\n"
    "key Return\n"
    "sync\n"
    "echo ortho\n"
    "print state\n"
    "screenshot %1$s/ortho.png\n"
    "click textbox/ortho\n"
    "key ctrl+U\n"
    "type male yung\n"
    "key Return\n"
    "sync\n"
    "echo ortho_bad\n"
    "print state\n"
    "key R\n"
    "click tab/Principal_directions\n"
    "sync\n"
    "drag slider/PC1 slider/PC1@0.9,0.5 8\n"
    "sync\n"
    "echo pc\n"
    "print state\n"
    "print axis PC1\n"
    "screenshot %1$s/pc.png\n"
    "wait 3\n"
    "echo still\n"
    "print state\n"
    "print rect status\n"
    "redraw\n"
    "screenshot %1$s/pc_full.png\n"
    "wait 1\n";

/* "axis NAME value=V marker=M origin=O have=1 hist c0 c1 ..." */
static int parse_axis(const char *sec, const char *name, double *value, double *marker, int hist[48])
{
    char key[64];
    snprintf(key, sizeof key, "axis %s value=", name);
    const char *p = strstr(sec, key);
    if (!p || sscanf(p + strlen(key), "%lf marker=%lf", value, marker) != 2) return 0;
    p = strstr(p, " hist");
    if (!p) return 0;
    p += 5;
    for (int b = 0; b < 48; b++) {
        char *e;
        hist[b] = (int)strtol(p, &e, 10);
        if (e == p) return 0;
        p = e;
    }
    return 1;
}

static double dotd(int z, const float *a, const float *b)
{
    double s = 0;
    for (int i = 0; i < z; i++) s += (double)a[i] * b[i];
    return s;
}

/* decode(mu + s * dir) of gallery face `face` */
static void expected_dir(lib *L, const float *mu, const float *dir, float s, uint8_t *out)
{
    float *z = zs_xmalloc(sizeof(float) * L->Z), *x = zs_xmalloc(sizeof(float) * 3 * L->S * L->S);
    zs_latent_add(L->Z, mu, dir, s, z);
    zs_vae_decode(L->inf, z, 1, x);
    zs_face_from_chw(x, L->S, out);
    free(z), free(x);
}

static void test_axes(lib *L)
{
    char script[4096], *out, *err;
    snprintf(script, sizeof script, AXES_SCRIPT, g_tmp);
    int rc = run_script("axes", "axes", script, "", &out, &err);
    CHECKF(rc == 0, "exit code %d; stderr: %s", rc, err);
    char *s0 = section(out, "ax0"), *s1 = section(out, "ax1"), *so = section(out, "ortho");
    char *sb = section(out, "ortho_bad"), *sp = section(out, "pc"), *st = section(out, "still");
    int Z = L->Z, S = L->S, k = zs_attr_find("Smiling");
    zs_latents lat;
    CHECK(zs_latents_encode(L->m, L->cache, 0, NULL, NULL, &lat) == ZS_OK);
    const float *mu0 = lat.mu, *v = L->attrs.vec + (size_t)k * Z;

    /* the Smiling axis: t = z . v / |v|^2 - origin, origin halfway between the labelled means */
    double vv = dotd(Z, v, v), sum[2] = {0, 0};
    int cnt[2] = {0, 0}, want_hist[48] = {0};
    for (int i = 0; i < lat.n; i++) {
        int pos = lat.attr[(size_t)i * ZS_NATTR + k] > 0;
        sum[pos] += dotd(Z, lat.mu + (size_t)i * Z, v) / vv, cnt[pos]++;
    }
    double origin = 0.5 * (sum[0] / cnt[0] + sum[1] / cnt[1]);
    for (int i = 0; i < lat.n; i++) {
        double t = dotd(Z, lat.mu + (size_t)i * Z, v) / vv - origin;
        int b = (int)floor((t + 3) / 6 * 48);
        if (b >= 0 && b < 48) want_hist[b]++;
    }
    double val, mark0, mark1;
    int hist[48], hist1[48];
    int ok = parse_axis(s0, "Smiling", &val, &mark0, hist) & parse_axis(s1, "Smiling", &val, &mark1, hist1);
    CHECKF(ok, "no axis printed:\n%s%s", out, err);
    if (ok) {
        int moved = 0, total = 0;
        for (int b = 0; b < 48; b++) moved += abs(hist[b] - want_hist[b]), total += hist[b];
        CHECKF(moved <= 4 && total > lat.n * 0.9, "Smiling histogram vs the encoded gallery: %d faces in other bins "
                                                  "(%d shown)", moved / 2, total);
        CHECKF(memcmp(hist, hist1, sizeof hist) == 0, "the histogram changed with the slider");
        double t0 = dotd(Z, mu0, v) / vv - origin;
        CHECKF(fabs(mark0 - t0) < 2e-3, "marker of face 0: %.4f, want %.4f", mark0, t0);
        CHECKF(fabs(mark1 - (t0 + val)) < 2e-3, "marker after Smiling %+.3f: %.4f, want %.4f", val, mark1, t0 + val);
        /* drawn where it says, in the marker's colour */
        rect rm, rs;
        zs_image im;
        if (get_rect(s1, "marker/Smiling", &rm) && get_rect(s1, "slider/Smiling", &rs) && load_png("ax1.png", &im)) {
            double x = rs.x + (mark1 + 3) / 6 * (rs.w - 1);
            CHECKF(fabs(rm.x + rm.w / 2.0 - x) <= 2, "marker drawn at x %d, want %.1f", rm.x + rm.w / 2, x);
            const uint8_t *px = im.rgb + ((size_t)(rm.y + rm.h / 2) * im.w + rm.x) * 3;
            CHECKF(px[0] > 200 && px[1] > 150 && px[2] < 140, "marker pixel (%d %d %d)", px[0], px[1], px[2]);
            free(im.rgb);
        } else CHECKF(0, "marker not on screen: %s", s1);
    }

    /* orthogonal to Male, Young: decode(mu + s * (v minus its projection on theirs)) */
    rect re;
    zs_image a1, ao, ap;
    uint8_t *want = zs_xmalloc((size_t)S * S * 3);
    float *dir = zs_xmalloc(sizeof(float) * Z);
    int maxd;
    double meand;
    ok = get_rect(s1, "image/edit", &re) & load_png("ax1.png", &a1) & load_png("ortho.png", &ao) & load_png("pc.png", &ap);
    CHECKF(ok && strstr(so, "keep=2") && strstr(so, "keep Male") && strstr(so, "keep Young"), "ortho: %s", so);
    if (ok) {
        int keep[2] = {zs_attr_find("Male"), zs_attr_find("Young")};
        zs_attr_edit_vector(&L->attrs, k, keep, 2, dir);
        expected_dir(L, mu0, dir, (float)val, want);
        face_diff(&ao, re, want, S, &maxd, &meand);
        CHECKF(maxd <= 2, "edit orthogonal to Male, Young vs decode(mu + s v_perp): max %d mean %.2f", maxd, meand);
        double d = region_diff(&a1, &ao, re);
        CHECKF(d > 0.3, "orthogonalizing changed the edit by only %.2f levels", d);
    }
    CHECKF(strstr(sb, "keep=1") && strstr(sb, "ortho_msg no attribute 'yung' (did you mean Young?)"),
           "a misspelt name: %s", sb);

    /* principal direction 1: the app's matches zs_pca_fit, the slider moves sd_1 * e_1 */
    zs_pca pca;
    CHECK(zs_pca_fit(lat.mu, lat.n, Z, 10, &pca) == ZS_OK);
    const char *p = strstr(s0, "pca have=1 k=10 total=");
    double total = p ? atof(p + 22) : 0, var0 = 0;
    if (p && (p = strstr(p, " var "))) var0 = atof(p + 5);
    CHECKF(fabs(total - pca.total_var) < 1e-3 * pca.total_var && fabs(var0 - pca.var[0]) < 1e-3 * pca.var[0],
           "the app's PCA (total %.4f, var0 %.4f) vs zs_pca_fit (%.4f, %.4f)", total, var0, pca.total_var,
           (double)pca.var[0]);
    double pv, pm;
    ok = ok && parse_axis(sp, "PC1", &pv, &pm, hist);
    CHECKF(ok && pv > 1.5 && isnan(strength(sp, "Smiling")), "PC1 slider: %s", sp);
    if (ok) {
        float sd = sqrtf(pca.var[0]);
        for (int j = 0; j < Z; j++) dir[j] = sd * pca.dir[j];
        expected_dir(L, mu0, dir, (float)pv, want);
        face_diff(&ap, re, want, S, &maxd, &meand);
        CHECKF(maxd <= 2, "PC1 %+.2f sd vs decode(mu + s sd_1 e_1): max %d mean %.2f", pv, maxd, meand);
        double t = (dotd(Z, mu0, pca.dir) - dotd(Z, pca.mean, pca.dir)) / sd + pv;
        CHECKF(fabs(pm - t) < 2e-3, "PC1 marker %.4f, want %.4f", pm, t);
        int total_h = 0;
        for (int b = 0; b < 48; b++) total_h += hist[b];
        CHECKF(total_h > lat.n * 0.9, "PC1 histogram holds %d of %d faces", total_h, lat.n);
    }
    zs_pca_free(&pca);

    /* only what changed is drawn, and that gives the pixels of a full redraw (but the canary, bottom right) */
    zs_image full;
    rect rst;
    if (ap.rgb && load_png("pc_full.png", &full) && get_rect(st, "status", &rst) && full.w == ap.w) {
        double d = region_diff(&ap, &full, (rect){0, 0, ap.w, rst.y});   /* above the status line (its figures move) */
        CHECKF(d == 0, "the frame drawn in parts differs from a full redraw (%.4f)", d);
        free(full.rgb);
    } else CHECKF(0, "no full redraw screenshot: %s", st);
    int drawn = state_int(st, "drawn="), lost = state_int(st, "lost=");
    CHECKF(drawn >= 0 && drawn < 1280 * 800 / 10, "a frame with nothing moving drew %d pixels", drawn);
    fprintf(stderr, "damage: a still frame drew %d pixels; %d full redraws for a lost back buffer\n", drawn, lost);
    free(want), free(dir), free(a1.rgb), free(ao.rgb), free(ap.rgb);
    zs_latents_free(&lat);
    free(s0), free(s1), free(so), free(sb), free(sp), free(st), free(out), free(err);
}

/* ---- (m) the gallery's search ---------------------------------------------------------- */
static void test_search(lib *L)
{
    char script[2048], *out, *err;
    snprintf(script, sizeof script,
             "sync\nclick textbox/search\ntype Smiling=no Eyeglasses=yes\nwait 2\necho s1\nprint gallery\n"
             "click thumb/0\nsync\necho click\nprint state\nkey Right\nsync\necho right\nprint state\n"
             "screenshot %s/search.png\nclick textbox/search\nkey ctrl+U\ntype smilng=no GLASSES\nwait 2\n"
             "echo s2\nprint gallery\nwait 1\n", g_tmp);
    int rc = run_script("search", "search", script, "", &out, &err);
    CHECKF(rc == 0, "exit code %d; stderr: %s", rc, err);
    char *s1 = section(out, "s1"), *sc = section(out, "click"), *sr = section(out, "right"), *s2 = section(out, "s2");
    int ks = zs_attr_find("Smiling"), ke = zs_attr_find("Eyeglasses"), n = zs_cache_count(L->cache);
    char want1[8192] = "gallery_faces", want2[8192] = "gallery_faces";
    int first = -1, second = -1, n1 = 0;
    for (int i = 0; i < n; i++) {
        const int8_t *lab = zs_cache_attrs(L->cache, i);
        if (lab[ks] < 0 && lab[ke] > 0) {
            snprintf(want1 + strlen(want1), sizeof want1 - strlen(want1), " %d", i);
            if (first < 0) first = i;
            else if (second < 0) second = i;
            n1++;
        }
        if (lab[ke] > 0) snprintf(want2 + strlen(want2), sizeof want2 - strlen(want2), " %d", i);
    }
    strcat(want1, "\n"), strcat(want2, "\n");
    CHECKF(n1 >= 2 && strstr(s1, want1), "Smiling=no Eyeglasses=yes showed:\n%s\nwant:\n%s", s1, want1);
    CHECKF(state_int(sc, "face=") == first && state_int(sr, "face=") == second,
           "clicking the first result / Right: faces %d, %d, want %d, %d", state_int(sc, "face="),
           state_int(sr, "face="), first, second);
    CHECKF(strstr(s2, want2) && strstr(s2, "search_msg no attribute 'smilng' (did you mean Smiling?)"),
           "a misspelt name and a partial one:\n%s", s2);
    free(s1), free(sc), free(sr), free(s2), free(out), free(err);
}

/* ---- (l2) the training options reach the trainer: two members with fixed slices ---------- */
static void test_train_static(void)
{
    /* one more member than the default (a thread per core), so the option is what is seen */
    int team = zs_cpu_count() + 1 <= 16 ? zs_cpu_count() + 1 : 2;
    char script[1024], extra[128], *out, *err;
    snprintf(script, sizeof script,
             "sync\nclick tab/Train\nclick button/Start\nwait_train 1\necho s\nprint train\nclick button/Stop\n"
             "wait_state idle\nkey ctrl+Q\n");
    snprintf(extra, sizeof extra, "--train-batch 16 --train-threads %d --train-static", team);
    int rc = run_script("train_static", "train_static", script, extra, &out, &err);
    CHECKF(rc == 0, "exit code %d; stderr: %s", rc, err);
    char *ss = section(out, "s");
    CHECKF(train_field(ss, "team=") == team && train_field(ss, "dynamic=") == 0 && train_field(ss, "step=") >= 1,
           "%s did not reach the trainer: %s", extra, ss);
    free(ss), free(out), free(err);
}

/* ---- (m2) presenting: on llvmpipe under X11 only the rectangles drawn are copied to the window
 * (src/app/present.c); what the window shows must still be the whole frame ---------------------- */
static void test_present(void)
{
    if (!strstr(g_runner, "xvfb")) {
        fprintf(stderr, "present: no X server (%s): not tested\n", g_runner);
        return;
    }
    char script[2048], *out, *err;
    snprintf(script, sizeof script,
             "sync\nwheel scroll/attributes -5\nwait 1\ndrag slider/Smiling slider/Smiling@0.8333,0.5 12\nsync\n"
             "wait 2\ndrag slider/Smiling slider/Smiling@0.3,0.5 6\nsync\necho p\nprint state\nprint rect status\n"
             "screenshot %1$s/present_back.png\nwindowshot %1$s/present_window.png\nwait 1\n", g_tmp);
    int rc = run_script("present", "present", script, "", &out, &err);
    CHECKF(rc == 0, "exit code %d; stderr: %s", rc, err);
    char *sp = section(out, "p");
    int copies = state_int(sp, "copies="), swaps = state_int(sp, "swaps=");
    CHECKF(strstr(sp, "present=copy") && copies > 10, "llvmpipe under Xvfb: frames copied in parts %d, swapped %d: %s",
           copies, swaps, sp);
    zs_image back, shown;
    rect rst;
    if (load_png("present_back.png", &back) && load_png("present_window.png", &shown) && get_rect(sp, "status", &rst)) {
        CHECKF(back.w == shown.w && back.h == shown.h, "window %dx%d, frame %dx%d", shown.w, shown.h, back.w, back.h);
        if (back.w == shown.w && back.h == shown.h) {
            double d = region_diff(&back, &shown, (rect){0, 0, back.w, rst.y});   /* above the status line (its figures move) */
            CHECKF(d == 0, "the window does not show the frame drawn (mean difference %.4f)", d);
        }
        free(back.rgb), free(shown.rgb);
    } else CHECKF(0, "no screenshots of the frame and the window: %s", err);
    fprintf(stderr, "present: %d frames copied in parts, %d swapped\n", copies, swaps);
    free(sp), free(out), free(err);
}

/* ---- (n) HiDPI: twice the drawable pixels for the same layout ------------------------------ */
static void test_hidpi(lib *L)
{
    char script[2048], path[600], args[1024], *out[2], *err[2];
    snprintf(path, sizeof path, "%s/hidpi.txt", g_tmp);
    for (int i = 0; i < 2; i++) {   /* scale 1, then 2 */
        snprintf(script, sizeof script,
                 "sync\nkey N\nwait 1\necho start\nprint state\nprint rect image/edit\nprint rect thumb/1\n"
                 "click thumb/1\nsync\nwheel scroll/attributes -10\nwait 1\n"
                 "drag slider/Smiling slider/Smiling@0.8333,0.5 12\nsync\necho moved\nprint state\n"
                 "print rect image/edit\nscreenshot %s/hidpi%d.png\nwait 1\n", g_tmp, i + 1);
        write_text(path, script);
        snprintf(args, sizeof args, "--size 960x600 --ui-scale %d --script %s", i + 1, path);
        char tag[16];
        snprintf(tag, sizeof tag, "hidpi%d", i + 1);
        /* a screen that holds the 1920 x 1200 window (SDL_VIDEODRIVER=offscreen needs none) */
        char saved[256];
        snprintf(saved, sizeof saved, "%s", g_runner);
        if (strstr(g_runner, "xvfb-run")) snprintf(g_runner, sizeof g_runner, "xvfb-run -a -s '-screen 0 2048x1280x24'");
        int rc = run_gui(tag, args, &out[i], &err[i]);
        snprintf(g_runner, sizeof g_runner, "%s", saved);
        CHECKF(rc == 0, "scale %d: exit code %d; stderr: %s", i + 1, rc, err[i]);
    }
    char *a1 = section(out[0], "start"), *a2 = section(out[1], "start");
    char *m1 = section(out[0], "moved"), *m2 = section(out[1], "moved");
    CHECKF(strstr(a1, "win=960x600") && strstr(a1, "drawable=960x600 scale=1.00"), "scale 1: %s", a1);
    CHECKF(strstr(a2, "win=960x600") && strstr(a2, "drawable=1920x1200 scale=2.00"), "scale 2: %s", a2);
    rect r1, r2, t1, t2;
    int ok = get_rect(a1, "image/edit", &r1) & get_rect(a2, "image/edit", &r2) & get_rect(a1, "thumb/1", &t1) &
             get_rect(a2, "thumb/1", &t2);
    CHECKF(ok && r2.x == 2 * r1.x && r2.y == 2 * r1.y && r2.w == 2 * r1.w && t2.w == 2 * t1.w && t2.x == 2 * t1.x,
           "the layout at scale 2 is not the scale-1 one doubled: %s%s", a1, a2);
    /* the mouse goes through the scale: the same clicks and drags do the same */
    double s1 = strength(m1, "Smiling"), s2 = strength(m2, "Smiling");
    CHECKF(state_int(m2, "face=") == 1 && fabs(s2 - s1) < 0.05 && fabs(s2 - 2) < 0.1,
           "scale 2: click and drag: face %d, Smiling %.3f (scale 1: %.3f)", state_int(m2, "face="), s2, s1);
    zs_image im;
    rect re;
    if (load_png("hidpi2.png", &im) && get_rect(m2, "image/edit", &re)) {
        CHECKF(im.w == 1920 && im.h == 1200, "screenshot at scale 2 is %dx%d", im.w, im.h);
        uint8_t *want = zs_xmalloc((size_t)L->S * L->S * 3);
        int maxd;
        double meand;
        expected(L, 1, zs_attr_find("Smiling"), (float)s2, want);
        face_diff(&im, re, want, L->S, &maxd, &meand);
        CHECKF(maxd <= 2, "the edit at scale 2 vs decode(mu_1 + s v): max %d", maxd);
        free(want), free(im.rgb);
    } else CHECKF(0, "no screenshot at scale 2: %s", m2);
    for (int i = 0; i < 2; i++) free(out[i]), free(err[i]);
    free(a1), free(a2), free(m1), free(m2);
}

static void test_session(lib *L)
{
    char path[600], sess[600], args[1400], *out, *err;
    snprintf(sess, sizeof sess, "%s/session", g_tmp);
    snprintf(path, sizeof path, "%s/sess1.txt", g_tmp);
    write_text(path, "sync\nclick thumb/3\nsync\nwheel scroll/attributes -5\nwait 1\n"
                     "drag slider/Smiling slider/Smiling@0.7,0.5 6\nsync\nclick tab/Interpolate\nsync\n"
                     "click button/Set_A\nsync\necho one\nprint state\nquit\n");
    snprintf(args, sizeof args, "--size 1100x700 --session %s --script %s", sess, path);
    int rc = run_gui("sess1", args, &out, &err);
    CHECKF(rc == 0, "session run 1: exit %d: %s", rc, err);
    char *s1 = section(out, "one");
    double v1 = strength(s1, "Smiling");
    CHECKF(state_int(s1, "face=") == 3 && v1 > 0.5, "session run 1: %s", s1);
    free(out), free(err);

    snprintf(path, sizeof path, "%s/sess2.txt", g_tmp);
    write_text(path, "sync\necho two\nprint state\nprint interp\nquit\n");
    snprintf(args, sizeof args, "--session %s --script %s", sess, path);
    rc = run_gui("sess2", args, &out, &err);
    CHECKF(rc == 0, "session run 2: exit %d: %s", rc, err);
    char *s2 = section(out, "two");
    double v2 = strength(s2, "Smiling");
    CHECKF(state_int(s2, "face=") == 3, "the face was not restored: %s", s2);
    CHECKF(fabs(v2 - v1) < 1e-6, "Smiling restored as %.6f, was %.6f", v2, v1);
    CHECKF(strstr(s2, "win=1100x700") != NULL, "window size not restored: %s", s2);
    CHECKF(strstr(s2, "slot A face 4 (") && strstr(s2, "edited"), "slot A (face 4, edited) not restored: %s", s2);
    CHECKF(strstr(s1, "tab=2 ") && strstr(s1, "slots=11") && strstr(s2, "tab=2 ") && strstr(s2, "slots=11"),
           "the tab or the slots were not restored: %s%s", s1, s2);
    free(s1), free(s2), free(out), free(err);

    /* the rest of what the user set: "orthogonal to", the gallery search, the
     * slider filter, a principal-direction slider, and a sample as the face */
    snprintf(sess, sizeof sess, "%s/session_b", g_tmp);
    snprintf(path, sizeof path, "%s/sess5.txt", g_tmp);
    write_text(path, "sync\nclick textbox/ortho\ntype Male Young\nkey Return\nsync\n"
                     "click textbox/search\ntype Eyeglasses=yes\nwait 2\nsync\n"
                     "click textbox/filter\ntype hair\nkey Escape\nsync\n"
                     "click tab/Principal_directions\nsync\ndrag slider/PC1 slider/PC1@0.9,0.5 8\nsync\n"
                     "click tab/Sample\nsync\nclick sample/5\nsync\n"
                     "echo five\nprint state\nprint sample\nprint gallery\nquit\n");
    snprintf(args, sizeof args, "--session %s --script %s", sess, path);
    rc = run_gui("sess5", args, &out, &err);
    CHECKF(rc == 0, "session run 5: exit %d: %s", rc, err);
    char *s5 = section(out, "five");
    free(out), free(err);
    snprintf(path, sizeof path, "%s/sess6.txt", g_tmp);
    {
        char text[600];
        snprintf(text, sizeof text,
                 "sync\nwait 2\nsync\necho six\nprint state\nprint sample\nprint gallery\n"
                 "print rect image/original\nscreenshot %s/sess6.png\nquit\n", g_tmp);
        write_text(path, text);
    }
    snprintf(args, sizeof args, "--session %s --script %s", sess, path);
    rc = run_gui("sess6", args, &out, &err);
    CHECKF(rc == 0, "session run 6: exit %d: %s", rc, err);
    char *s6 = section(out, "six");
    double pc5 = strength(s5, "PC1"), pc6 = strength(s6, "PC1");
    CHECKF(strstr(s5, "keep Male\nkeep Young\n") && strstr(s6, "keep Male\nkeep Young\n"),
           "\"orthogonal to Male Young\" not restored: %s%s", s5, s6);
    CHECKF(strstr(s5, "filter=hair ") && strstr(s6, "filter=hair "), "the slider filter not restored: %s%s", s5, s6);
    CHECKF(pc5 > 0.1 && fabs(pc6 - pc5) < 1e-6, "PC1 restored as %.6f, was %.6f", pc6, pc5);
    const char *g5 = strstr(s5, "gallery shown="), *g6 = strstr(s6, "gallery shown=");
    CHECKF(g5 && g6 && strstr(s5, "search=Eyeglasses=yes") && strstr(s6, "search=Eyeglasses=yes") &&
               state_int(g5, "shown=") == state_int(g6, "shown=") && state_int(g6, "shown=") > 0 &&
               state_int(g6, "shown=") < state_int(g6, "of="),
           "the gallery search not restored: %s%s", s5, s6);
    CHECKF(state_int(s5, "src=") == 2 && state_int(s6, "src=") == 2, "the sample was not restored as the face: %s%s",
           s5, s6);
    char *saved = slurp(sess);
    {
        /* the restored "Sample" picture is decode(z) of the latent the session saved, not the
         * gallery face it also names */
        zs_image im;
        rect ro;
        const char *line = strstr(saved, "\nsample_face ");
        float *z = zs_xmalloc(sizeof(float) * L->Z), *chw = zs_xmalloc(sizeof(float) * 3 * L->S * L->S);
        int nz = 0;
        if (line) {
            char *p = (char *)line + 13, *e;
            strtol(p, &e, 10), p = e;   /* the pick and the seed */
            strtoull(p, &e, 10), p = e;
            for (; nz < L->Z; nz++, p = e) {
                z[nz] = strtof(p, &e);
                if (e == p) break;
            }
        }
        if (nz == L->Z && load_png("sess6.png", &im) && get_rect(s6, "image/original", &ro)) {
            uint8_t *want = zs_xmalloc((size_t)L->S * L->S * 3);
            zs_vae_decode(L->inf, z, 1, chw);
            zs_face_from_chw(chw, L->S, want);
            int maxd;
            double meand;
            face_diff(&im, ro, want, L->S, &maxd, &meand);
            CHECKF(maxd <= 2, "the restored sample's picture vs decode(its latent): max %d, mean %.2f", maxd, meand);
            free(want), free(im.rgb);
        } else CHECKF(0, "no screenshot or latent of the restored session (%d of %d values): %s", nz, L->Z, s6);
        free(z), free(chw);
    }
    CHECKF(strstr(saved, "\nsample_face 5 ") && strstr(saved, "\npc 1 ") && strstr(saved, "\northo Male Young\n") &&
               strstr(saved, "\nsearch Eyeglasses=yes\n") && strstr(saved, "\nfilter hair\n"),
           "the session file lacks the new keys: %s", saved);
    free(saved), free(s5), free(s6), free(out), free(err);

    /* garbage: ignored with a message, the app starts as new */
    FILE *f = fopen(sess, "wb");
    if (!f) abort();
    for (int i = 0; i < 3000; i++) fputc((i * 7919 + 13) % 256, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/sess3.txt", g_tmp);
    write_text(path, "sync\necho three\nprint state\nquit\n");
    snprintf(args, sizeof args, "--session %s --script %s", sess, path);
    rc = run_gui("sess3", args, &out, &err);
    CHECKF(rc == 0, "garbage session: exit %d: %s", rc, err);
    char *s3 = section(out, "three");
    CHECKF(state_int(s3, "face=") == 0 && isnan(strength(s3, "Smiling")), "garbage session: %s", s3);
    CHECKF(strstr(err, "ignored") && strstr(s3, "message error Session "), "no message about the garbage session: %s%s",
           err, s3);
    char *again = slurp(sess);
    CHECKF(strncmp(again, "zspace-session 1\n", 17) == 0, "the garbage was not replaced on quit");
    free(again), free(s3), free(out), free(err);

    /* a session in a directory that does not exist yet */
    snprintf(sess, sizeof sess, "%s/new/dir/session", g_tmp);
    snprintf(args, sizeof args, "--session %s --script %s", sess, path);
    rc = run_gui("sess4", args, &out, &err);
    CHECKF(rc == 0 && access(sess, R_OK) == 0, "no session written in a new directory (exit %d): %s", rc, err);
    free(out), free(err);
}

static int wanted(const char *part)
{
    const char *only = getenv("ZS_GUI_ONLY");
    if (!only || !only[0]) return 1;
    size_t n = strlen(part);
    for (const char *p = only; (p = strstr(p, part)) != NULL; p += n)
        if ((p == only || p[-1] == ',') && (p[n] == 0 || p[n] == ',')) return 1;
    return 0;
}

/* ---- (o) the Analysis tab ---------------------------------------------------------------- */
static const char *ANALYSIS_SCRIPT =
    "sync\n"
    "click tab/Analysis\n"
    "sync\n"
    "echo stats\n"
    "print analysis\n"
    "print rect plot/components\n"
    "print rect plot/norms\n"
    "print rect image/heatmap\n"
    "screenshot %1$s/an_stats.png\n"
    "click tab/Projection\n"
    "sync\n"
    "echo pca\n"
    "print analysis\n"
    "print rect plot/map\n"
    "screenshot %1$s/an_pca.png\n"
    "click tab/LDA\n"
    "sync\n"
    "echo lda\n"
    "print analysis\n"
    "screenshot %1$s/an_lda.png\n"
    "move point/pick\n"
    "wait 2\n"
    "echo hover\n"
    "print analysis\n"
    "click point/pick\n"
    "sync\n"
    "echo picked\n"
    "print analysis\n"
    "print state\n"
    "click tab/Train\n"
    "click button/Start\n"
    "wait_train 3\n"
    "click tab/Analysis\n"
    "wait 3\n"
    "sync\n"
    "echo live\n"
    "print analysis\n"
    "click tab/Train\n"
    "click button/Pause\n"
    "wait_state paused\n"
    "click button/Use_these_weights\n"
    "sync\n"
    "click tab/Analysis\n"
    "sync\n"
    "echo retrained\n"
    "print analysis\n"
    "print train\n"
    "click tab/Train\n"
    "click button/Stop\n"
    "wait_state idle\n"
    "key ctrl+Q\n";

static void test_analysis(lib *L)
{
    char script[4096], *out, *err;
    snprintf(script, sizeof script, ANALYSIS_SCRIPT, g_tmp);
    double t0 = zs_now();
    int rc = run_script("analysis", "analysis", script, "--train-batch 16", &out, &err);
    fprintf(stderr, "analysis: %.1f s\n", zs_now() - t0);
    CHECKF(rc == 0, "exit code %d; stderr: %s", rc, err);
    char *st = section(out, "stats"), *sp = section(out, "pca"), *sl = section(out, "lda"), *sh = section(out, "hover");
    char *sk = section(out, "picked"), *sr = section(out, "retrained");
    int n = zs_cache_count(L->cache);
    CHECKF(strstr(st, "have=1 ok=1") && state_int(st, " n=") == n && state_int(st, " z=") == L->Z &&
               state_int(st, " k=") == 5,
           "the statistics are not there: %s", st);

    /* the same statistics from libzspace */
    float *mu = zs_xmalloc(sizeof(float) * (size_t)n * L->Z), *x = zs_xmalloc(sizeof(float) * 3 * L->S * L->S);
    for (int i = 0; i < n; i++) {
        zs_face_to_chw(zs_cache_pixels(L->cache, i), L->S, x, 0);
        zs_vae_encode(L->inf, x, 1, mu + (size_t)i * L->Z, NULL);
    }
    zs_latent_stats ls;
    CHECK(zs_latent_stats_compute(mu, n, L->Z, 40, 7, &ls) == ZS_OK);
    int pair[2];
    double pr;
    zs_latent_top_pairs(&ls, 1, pair, &pr);
    char want[64];
    snprintf(want, sizeof want, "analysis_pairs %d-%d:%.3f", pair[0], pair[1], pr);
    CHECKF(fabs(field(st, "centre=") - ls.centre_norm) < 1e-3 && strstr(st, want),
           "centre %.4f (libzspace %.4f), want the pair '%s' in: %s", field(st, "centre="), ls.centre_norm, want, st);
    zs_latent_stats_free(&ls);
    free(mu), free(x);

    zs_image shot, pca, lda;
    rect rc_comp, rc_norm, rc_heat, rc_map;
    if (load_png("an_stats.png", &shot) && get_rect(st, "plot/components", &rc_comp) &&
        get_rect(st, "plot/norms", &rc_norm) && get_rect(st, "image/heatmap", &rc_heat)) {
        double s1 = region_std(&shot, rc_comp), s2 = region_std(&shot, rc_norm), s3 = region_std(&shot, rc_heat);
        CHECKF(s1 > 10 && s2 > 10 && s3 > 3, "a statistics plot looks empty: std %.1f %.1f %.1f", s1, s2, s3);
        int c = L->Z / 2, cx = rc_heat.x + (2 * c + 1) * rc_heat.w / (2 * L->Z),
            cy = rc_heat.y + (2 * c + 1) * rc_heat.h / (2 * L->Z);
        const uint8_t *px = shot.rgb + ((size_t)cy * shot.w + cx) * 3;
        CHECKF(px[0] > 200 && px[1] < 120 && px[2] < 120, "the heatmap's diagonal (r = 1) is %d %d %d, not red", px[0],
               px[1], px[2]);
        free(shot.rgb);
    } else CHECKF(0, "no statistics screenshot or rectangles: %s", st);
    if (load_png("an_pca.png", &pca) && load_png("an_lda.png", &lda) && get_rect(sp, "plot/map", &rc_map)) {
        double sd = region_std(&pca, rc_map), d = region_diff(&pca, &lda, rc_map);
        CHECKF(sd > 5 && d > 1, "the map: std %.1f, PCA vs LDA differ by %.2f", sd, d);
        free(pca.rgb), free(lda.rgb);
    } else CHECKF(0, "no map screenshots: %s", sp);
    double apca = field(sl, "analysis_sep pca="), alda = field(sl, "lda="), held = field(sl, "held=");
    CHECKF(alda > apca + 0.1 && held > apca && strstr(sl, "lda_ok=1") && strstr(sl, "Black_Hair=") &&
               strstr(sl, "Bald="),
           "LDA should separate the hair colours better than PCA: %s", sl);
    int pick = state_int(sl, "pick=");
    CHECKF(pick >= 0 && state_int(sh, "hover=") == pick, "hovering face %d: %s", pick, sh);
    CHECKF(state_int(sk, "face=") == pick && pick != 0, "clicking face %d's point: %s", pick, sk);
    /* while training runs, the tab follows the weights being trained */
    char *sv = section(out, "live");
    CHECKF(strstr(sv, " live=1") && field(sv, " step=") >= 0 && strstr(sv, "have=1 ok=1") &&
               fabs(field(sv, "centre=") - field(st, "centre=")) > 1e-6,
           "with training running the tab should show the training weights' latents: %s", sv);
    free(sv);
    long step = (long)field(sr, " step=");
    CHECKF(step >= 3 && field(sr, "gen=") > field(sk, "gen=") && strstr(sr, "have=1 ok=1") &&
               fabs(field(sr, "centre=") - field(st, "centre=")) > 1e-6,
           "after Use these weights the tab should recompute with them: %s", sr);
    free(st), free(sp), free(sl), free(sh), free(sk), free(sr), free(out), free(err);
}

int main(int argc, char **argv)
{
    if (gh_init(argc, argv, "test_gui") != 0) return 2;

    lib L = {0};
    char path[1024];
    zs_vae *m = NULL;
    snprintf(path, sizeof path, "%s/data/default.safetensors", g_src);
    if (zs_ckpt_load_model(path, &m, NULL) != ZS_OK) {
        fprintf(stderr, "%s\n", zs_last_error());
        return 1;
    }
    L.S = m->cfg.image, L.Z = m->cfg.z, L.m = m;
    L.inf = zs_vae_infer_create(&m->cfg, 1);
    zs_vae_infer_load(L.inf, m->params);
    snprintf(path, sizeof path, "%s/data/gallery.zsf", g_src);
    CHECK(zs_cache_open(&L.cache, path) == ZS_OK);
    snprintf(path, sizeof path, "%s/data/attrs.safetensors", g_src);
    CHECKF(zs_attr_vectors_load(path, &L.attrs) == ZS_OK, "%s", zs_last_error());
    if (zs_test_failures) return 1;

    /* ZS_GUI_ONLY=session,axes runs only those parts (while working on one) */
#define PART(name, call) \
    if (wanted(#name)) call
    PART(main, test_main(&L));
    PART(slow_decoder, test_slow_decoder(&L));
    PART(bad_input, test_bad_input());
    PART(photo, test_photo(&L));
    PART(photo_crop, test_photo_crop(&L));
    PART(interp, test_interp(&L));
    PART(sample, test_sample(&L));
    PART(train, test_train(&L));
    PART(train_static, test_train_static());
    PART(session, test_session(&L));
    PART(axes, test_axes(&L));
    PART(search, test_search(&L));
    PART(present, test_present());
    PART(hidpi, test_hidpi(&L));
    PART(analysis, test_analysis(&L));
#undef PART

    zs_attr_vectors_free(&L.attrs);
    zs_cache_close(L.cache);
    zs_vae_infer_destroy(L.inf);
    zs_vae_destroy(m);
    if (!zs_test_failures && !getenv("ZS_TEST_KEEP")) {   /* keep the screenshots of a failure */
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_tmp);
    } else fprintf(stderr, "screenshots and logs kept in %s\n", g_tmp);
    TEST_END();
}
