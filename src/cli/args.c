/* Argument and progress helpers for the subcommands (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *match(int argc, char **argv, int *i, const char *flag, int *bad)
{
    size_t n = strlen(flag);
    const char *a = argv[*i];
    if (strncmp(a, flag, n) != 0) return NULL;
    if (a[n] == '=') return a + n + 1;
    if (a[n] != 0) return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "zspace: %s needs a value\n", flag);
        *bad = 1;
        return NULL;
    }
    return argv[++*i];
}

int zs_arg_str(int argc, char **argv, int *i, const char *flag, const char **out, int *bad)
{
    int was_bad = *bad;
    const char *v = match(argc, argv, i, flag, bad);
    if (!v) return *bad != was_bad;
    *out = v;
    return 1;
}

int zs_arg_int(int argc, char **argv, int *i, const char *flag, long *out, int *bad)
{
    int was_bad = *bad;
    const char *v = match(argc, argv, i, flag, bad);
    if (!v) return *bad != was_bad;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || *end || end == v) {
        fprintf(stderr, "zspace: %s: '%s' is not an integer\n", flag, v);
        *bad = 1;
        return 1;
    }
    *out = x;
    return 1;
}

int zs_arg_float(int argc, char **argv, int *i, const char *flag, double *out, int *bad)
{
    int was_bad = *bad;
    const char *v = match(argc, argv, i, flag, bad);
    if (!v) return *bad != was_bad;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || *end || end == v || !isfinite(x)) {
        fprintf(stderr, "zspace: %s: '%s' is not a number\n", flag, v);
        *bad = 1;
        return 1;
    }
    *out = x;
    return 1;
}

int zs_arg_flag(char **argv, int i, const char *flag) { return strcmp(argv[i], flag) == 0; }

static void fmt_time(char *buf, size_t n, double s)
{
    if (!isfinite(s) || s < 0) s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
}

void zs_progress_start(zs_progress *p, const char *label, size_t total)
{
    p->label = label;
    p->total = total;
    p->t0 = p->last = zs_now();
    p->tty = isatty(STDERR_FILENO);
}

static void draw(zs_progress *p, size_t done, const char *extra, int final)
{
    double el = zs_now() - p->t0;
    double rate = el > 0 ? (double)done / el : 0;
    char eta[32], elapsed[32];
    fmt_time(eta, sizeof eta, rate > 0 ? (double)(p->total - done) / rate : 0);
    fmt_time(elapsed, sizeof elapsed, el);
    int width = 30, fill = p->total ? (int)((double)width * (double)done / (double)p->total) : width;
    char bar[64];
    for (int k = 0; k < width; k++) bar[k] = k < fill ? '#' : '.';
    bar[width] = 0;
    fprintf(stderr, "%s%s [%s] %zu/%zu %.0f/s %s %s%s%s%s", p->tty ? "\r" : "", p->label, bar, done, p->total, rate,
            final ? "in" : "ETA", final ? elapsed : eta, extra ? " " : "", extra ? extra : "",
            p->tty ? "\033[K" : "");
    if (final || !p->tty) fputc('\n', stderr);
    fflush(stderr);
}

void zs_progress_update(zs_progress *p, size_t done, const char *extra)
{
    double now = zs_now();
    if (now - p->last < (p->tty ? 0.1 : 10.0)) return;
    p->last = now;
    draw(p, done, extra, 0);
}

void zs_progress_end(zs_progress *p, size_t done, const char *extra) { draw(p, done, extra, 1); }

int zs_arg_split(const char *cmd, const char *name, zs_data_split *out)
{
    for (int s = 0; s <= ZS_SPLIT_ALL; s++)
        if (strcmp(name, zs_split_name((zs_data_split)s)) == 0) {
            *out = (zs_data_split)s;
            return 1;
        }
    fprintf(stderr, "zspace %s: --split must be train, val, test or all, not '%s'\n", cmd, name);
    return 0;
}

volatile sig_atomic_t zs_cli_interrupted;
static void on_interrupt(int sig)
{
    (void)sig;
    zs_cli_interrupted = 1;
}

void zs_cli_catch_interrupt(void)
{
    signal(SIGINT, on_interrupt);
    signal(SIGTERM, on_interrupt);
}
