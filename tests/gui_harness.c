/* See gui_harness.h. */
#include "gui_harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "testutil.h"
#include "zspace/core.h"

const char *g_exe, *g_src, *g_tmp;
char g_runner[256];

int gh_init(int argc, char **argv, const char *name)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s ZSPACE_EXE SOURCE_DIR\n", name);
        return 2;
    }
    g_exe = argv[1], g_src = argv[2], g_tmp = zs_test_tmpdir();
    if (system("command -v xvfb-run >/dev/null 2>&1") == 0)
        snprintf(g_runner, sizeof g_runner, "xvfb-run -a -s '-screen 0 1280x800x24'");
    else snprintf(g_runner, sizeof g_runner, "env SDL_VIDEODRIVER=offscreen");
    fprintf(stderr, "running the explorer with: %s (files in %s)\n", g_runner, g_tmp);
    return 0;
}

char *slurp(const char *path)
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

void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) abort();
    fputs(text, f);
    fclose(f);
}

int run_cmd(const char *tag, const char *cmdline, char **out, char **err)
{
    char cmd[4096], o[512], e[512];
    snprintf(o, sizeof o, "%s/%s.out", g_tmp, tag);
    snprintf(e, sizeof e, "%s/%s.err", g_tmp, tag);
    snprintf(cmd, sizeof cmd, "%s >%s 2>%s", cmdline, o, e);
    int st = system(cmd);
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    *out = slurp(o);
    *err = slurp(e);
    if (getenv("ZS_TEST_VERBOSE")) fprintf(stderr, "$ %s\n-> %d\n%s%s", cmd, rc, *out, *err);
    return rc;
}

char *section(const char *out, const char *tag)
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

int state_int(const char *sec, const char *key)
{
    const char *p = strstr(sec, key);
    return p ? atoi(p + strlen(key)) : -999;
}

double field(const char *sec, const char *key)
{
    const char *p = strstr(sec, key);
    return p ? atof(p + strlen(key)) : NAN;
}

int get_rect(const char *out, const char *name, rect *r)
{
    char key[64];
    snprintf(key, sizeof key, "rect %s ", name);
    const char *p = strstr(out, key);
    return p && sscanf(p + strlen(key), "%d %d %d %d", &r->x, &r->y, &r->w, &r->h) == 4;
}

int load_png(const char *name, zs_image *im)
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

int max_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
    int m = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)a[i] - (int)b[i]);
        if (d > m) m = d;
    }
    return m;
}

double region_diff(const zs_image *a, const zs_image *b, rect r)
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
