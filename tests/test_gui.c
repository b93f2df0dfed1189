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
 *       says so, prints the usage and exits 1.
 *
 * usage: test_gui ZSPACE_EXE SOURCE_DIR
 */
#include "testutil.h"
#include "zspace/latent.h"
#include "zspace/trainer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *g_exe, *g_src, *g_tmp;
static char g_runner[256];

typedef struct { int x, y, w, h; } rect;

static char *slurp(const char *path)
{
    uint8_t *d;
    size_t n;
    if (zs_read_file(path, &d, &n, 1 << 26) != ZS_OK) return zs_xstrdup("");
    char *s = zs_xmalloc(n + 1);
    memcpy(s, d, n);
    s[n] = 0;
    free(d);
    return s;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) abort();
    fputs(text, f);
    fclose(f);
}

/* Run `zspace gui ARGS` headless; stdout and stderr into files named after tag. */
static int run_gui(const char *tag, const char *args, char **out, char **err)
{
    char cmd[4096], o[512], e[512];
    snprintf(o, sizeof o, "%s/%s.out", g_tmp, tag);
    snprintf(e, sizeof e, "%s/%s.err", g_tmp, tag);
    snprintf(cmd, sizeof cmd, "timeout -s KILL 120 %s %s gui %s >%s 2>%s", g_runner, g_exe, args, o, e);
    int st = system(cmd);
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    *out = slurp(o);
    *err = slurp(e);
    if (getenv("ZS_TEST_VERBOSE")) fprintf(stderr, "$ %s\n-> %d\n%s%s", cmd, rc, *out, *err);
    return rc;
}

/* The part of the output after "echo TAG" up to the next echo. */
static char *section(const char *out, const char *tag)
{
    char key[128];
    snprintf(key, sizeof key, "echo %s\n", tag);
    const char *p = strstr(out, key);
    if (!p) return zs_xstrdup("");
    p += strlen(key);
    const char *q = strstr(p, "echo ");
    size_t n = q ? (size_t)(q - p) : strlen(p);
    char *s = zs_xmalloc(n + 1);
    memcpy(s, p, n);
    s[n] = 0;
    return s;
}

static int state_int(const char *sec, const char *key)
{
    const char *p = strstr(sec, key);
    return p ? atoi(p + strlen(key)) : -999;
}

static double strength(const char *sec, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "strength %s ", name);
    const char *p = strstr(sec, key);
    return p ? atof(p + strlen(key)) : NAN;
}

static int get_rect(const char *out, const char *name, rect *r)
{
    char key[64];
    snprintf(key, sizeof key, "rect %s ", name);
    const char *p = strstr(out, key);
    return p && sscanf(p + strlen(key), "%d %d %d %d", &r->x, &r->y, &r->w, &r->h) == 4;
}

static int load_png(const char *name, zs_image *im)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_tmp, name);
    if (zs_image_load(im, path) != ZS_OK) {
        fprintf(stderr, "%s\n", zs_last_error());
        im->w = im->h = 0;
        im->rgb = NULL;
        return 0;
    }
    return 1;
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
static double region_diff(const zs_image *a, const zs_image *b, rect r)
{
    if (!a->rgb || !b->rgb) return -1;
    long sum = 0;
    for (int y = r.y; y < r.y + r.h; y++)
        for (int x = r.x; x < r.x + r.w; x++)
            for (int c = 0; c < 3; c++) {
                size_t k = ((size_t)y * a->w + x) * 3 + c;
                sum += abs((int)a->rgb[k] - (int)b->rgb[k]);
            }
    return (double)sum / ((double)r.w * r.h * 3);
}

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
typedef struct { zs_vae_infer *inf; zs_cache *cache; zs_attr_vectors attrs; int S, Z; } lib;

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

static int have_xvfb_run(void) { return system("command -v xvfb-run >/dev/null 2>&1") == 0; }

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

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_gui ZSPACE_EXE SOURCE_DIR\n");
        return 2;
    }
    g_exe = argv[1], g_src = argv[2], g_tmp = zs_test_tmpdir();
    if (have_xvfb_run()) snprintf(g_runner, sizeof g_runner, "xvfb-run -a -s '-screen 0 1280x800x24'");
    else snprintf(g_runner, sizeof g_runner, "env SDL_VIDEODRIVER=offscreen");
    fprintf(stderr, "running the explorer with: %s (files in %s)\n", g_runner, g_tmp);

    lib L = {0};
    char path[1024];
    zs_vae *m = NULL;
    snprintf(path, sizeof path, "%s/data/default.safetensors", g_src);
    if (zs_ckpt_load_model(path, &m, NULL) != ZS_OK) {
        fprintf(stderr, "%s\n", zs_last_error());
        return 1;
    }
    L.S = m->cfg.image, L.Z = m->cfg.z;
    L.inf = zs_vae_infer_create(&m->cfg, 1);
    zs_vae_infer_load(L.inf, m->params);
    snprintf(path, sizeof path, "%s/data/gallery.zsf", g_src);
    CHECK(zs_cache_open(&L.cache, path) == ZS_OK);
    snprintf(path, sizeof path, "%s/data/attrs.safetensors", g_src);
    CHECKF(zs_attr_vectors_load(path, &L.attrs) == ZS_OK, "%s", zs_last_error());
    if (zs_test_failures) return 1;

    test_main(&L);
    test_slow_decoder(&L);
    test_bad_input();

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
