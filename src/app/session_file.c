/* The session file's parser (see session_file.h; the format is described
 * in session.c). */
#include "session_file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_Z 4096

void zs_session_free(zs_session *s)
{
    for (int i = 0; i < 2; i++) free(s->slot_z[i]);
    free(s->sample_z);
    memset(s, 0, sizeof *s);
}

/* A latent of up to MAX_Z floats, |z| <= 1e4 each (finite as a float too:
 * 1e80 is a finite double, an Inf float): its length, or -1. */
static int parse_latent(const char *p, float **out)
{
    free(*out);
    *out = zs_xmalloc(sizeof(float) * MAX_Z);
    int n = 0;
    for (;;) {
        char *e;
        double v = strtod(p, &e);
        if (e == p) break;
        if (!isfinite(v) || fabs(v) > 1e4 || n >= MAX_Z) return -1;
        (*out)[n++] = (float)v;
        p = e;
    }
    return n > 0 ? n : -1;
}

/* The rest of the line after the key, trimmed of the newline. */
static char *rest(char *p)
{
    while (*p == ' ') p++;
    p[strcspn(p, "\r\n")] = 0;
    return p;
}

int zs_session_direction(const char *name)
{
    int k = zs_attr_find(name);
    if (k >= 0) return k;
    if (strncmp(name, "PC", 2) == 0 && atoi(name + 2) >= 1 && atoi(name + 2) <= ZS_NPC) return ZS_NATTR + atoi(name + 2) - 1;
    return -1;
}

int zs_session_parse(const char *path, zs_session *s, char *err, size_t nerr)
{
    memset(s, 0, sizeof *s);
    s->face = -1;
    s->tab = -1;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, nerr, "%s", strerror(errno));
        return errno == ENOENT ? 1 : -1;
    }
    char line[PATH_MAX + 64];
    int ln = 0, ok = 1;
    const char *why = "";
    while (ok && fgets(line, sizeof line, f)) {
        ln++;
        if (strlen(line) == sizeof line - 1 && line[sizeof line - 2] != '\n') {
            why = "line too long", ok = 0;
            break;
        }
        char key[32] = "";
        int used = 0;
        if (sscanf(line, "%31s%n", key, &used) != 1) {   /* blank; but line 1 is the header */
            if (ln == 1) why = "not a zspace session file (version 1)", ok = 0;
            continue;
        }
        char *p = line + used;
        if (ln == 1) {
            if (strcmp(key, "zspace-session") != 0 || atoi(p) != 1) why = "not a zspace session file (version 1)", ok = 0;
            continue;
        }
        if (key[0] == '#') continue;
        if (strcmp(key, "window") == 0) {
            if (sscanf(p, "%d %d", &s->w, &s->h) != 2 || s->w < 320 || s->h < 240 || s->w > 16384 || s->h > 16384)
                why = "bad window size", ok = 0;
        } else if (strcmp(key, "model") == 0) snprintf(s->model, sizeof s->model, "%s", rest(p));
        else if (strcmp(key, "gallery") == 0) snprintf(s->gallery, sizeof s->gallery, "%s", rest(p));
        else if (strcmp(key, "attrs") == 0) snprintf(s->attrs, sizeof s->attrs, "%s", rest(p));
        else if (strcmp(key, "tab") == 0) {
            s->tab = atoi(p);
            if (s->tab < 0 || s->tab >= ZS_NTABS) why = "bad tab", ok = 0;
        } else if (strcmp(key, "face") == 0) {
            char kind[16] = "";
            int u = 0;
            sscanf(p, "%15s%n", kind, &u);
            if (strcmp(kind, "gallery") == 0) {
                char *e;
                long v = strtol(p + u, &e, 10);
                if (e == p + u || v < 0 || v > 100000000) why = "bad face index", ok = 0;
                else s->face = (int)v;
            } else if (strcmp(kind, "photo") == 0) snprintf(s->photo, sizeof s->photo, "%s", rest(p + u));
            else why = "bad face", ok = 0;
        } else if (strcmp(key, "photo_crop") == 0) {
            double cx, cy, side;
            if (sscanf(p, "%lf %lf %lf", &cx, &cy, &side) != 3 || !(fabs(cx) <= 4) || !(fabs(cy) <= 4) ||
                !(side > 0 && side <= 64))
                why = "bad photo crop", ok = 0;
            else s->photo_crop = (zs_crop){(float)cx, (float)cy, (float)side}, s->have_photo_crop = 1;
        } else if (strcmp(key, "strength") == 0) {
            char name[64] = "";
            double v;
            int k = -1;
            if (sscanf(p, "%63s %lf", name, &v) == 2) k = zs_attr_find(name);
            if (k < 0 || !isfinite(v) || fabs(v) > 100) why = "bad strength", ok = 0;
            else s->strength[k] = (float)v;
        } else if (strcmp(key, "slot") == 0 || strcmp(key, "slot_label") == 0 || strcmp(key, "slot_name") == 0) {
            while (*p == ' ') p++;
            int i = *p == 'A' ? 0 : *p == 'B' ? 1 : -1;
            if (i < 0 || p[1] != ' ') {
                why = "bad slot", ok = 0;
                continue;
            }
            p += 2;
            if (strcmp(key, "slot_label") == 0) snprintf(s->slot_label[i], sizeof s->slot_label[i], "%s", rest(p));
            else if (strcmp(key, "slot_name") == 0) snprintf(s->slot_name[i], sizeof s->slot_name[i], "%s", rest(p));
            else if ((s->slot_n[i] = parse_latent(p, &s->slot_z[i])) < 0) why = "bad slot latent", ok = 0;
        } else if (strcmp(key, "pc") == 0) {
            int k = 0, u = 0;
            double v;
            if (sscanf(p, "%d %lf%n", &k, &v, &u) != 2 || k < 1 || k > ZS_NPC || !isfinite(v) || fabs(v) > 100)
                why = "bad principal-direction strength", ok = 0;
            else s->pc_strength[k - 1] = (float)v;
        } else if (strcmp(key, "sample_face") == 0) {
            int pick = -1, u = 0;
            unsigned long long seed = 0;
            if (sscanf(p, "%d %llu%n", &pick, &seed, &u) != 2 || pick < 0 || pick > 1000 ||
                (s->sample_n = parse_latent(p + u, &s->sample_z)) < 0)
                why = "bad sample latent", ok = 0;
            s->sample_pick = pick;
            s->sample_seed = seed;
        } else if (strcmp(key, "ortho") == 0) snprintf(s->ortho, sizeof s->ortho, "%s", rest(p));
        else if (strcmp(key, "search") == 0) snprintf(s->search, sizeof s->search, "%s", rest(p));
        else if (strcmp(key, "filter") == 0) snprintf(s->filter, sizeof s->filter, "%s", rest(p));
        else if (strcmp(key, "sharpen") == 0) {
            double v;
            if (sscanf(p, "%lf", &v) != 1 || !(v >= 0 && v <= 10)) why = "bad sharpen", ok = 0;
            else s->sharpen = (float)v, s->have_sharpen = 1;
        } else if (strcmp(key, "sample") == 0) {   /* sample isotropic|fitted|box B */
            char mode[16] = "";
            double b;
            if (sscanf(p, "%15s %lf", mode, &b) != 2 || !(b >= 0.1 && b <= 4)) why = "bad sample", ok = 0;
            else {
                s->sample_mode = strcmp(mode, "isotropic") == 0 ? 0 : strcmp(mode, "fitted") == 0 ? 1
                               : strcmp(mode, "box") == 0 ? 2 : -1;
                if (s->sample_mode < 0) why = "bad sample mode", ok = 0;
                s->sample_b = (float)b, s->have_sample_mode = 1;
            }
        } else if (strcmp(key, "walk") == 0) {   /* walk X Y RANGE N: directions Smiling, PC3 */
            char x[64] = "", y[64] = "";
            double r;
            int n;
            if (sscanf(p, "%63s %63s %lf %d", x, y, &r, &n) != 4 || (s->walk_x = zs_session_direction(x)) < 0 ||
                (s->walk_y = zs_session_direction(y)) < 0 || !(r >= 0.5 && r <= 4) || n < 3 || n > ZS_WALK_MAX)
                why = "bad walk", ok = 0;
            else s->walk_range = (float)r, s->walk_n = n, s->have_walk = 1;
        }
        /* unknown keys: a newer version's; skipped */
    }
    fclose(f);
    if (!ok || ln == 0) {
        snprintf(err, nerr, "line %d: %s", ln, ln == 0 ? "empty file" : why);
        zs_session_free(s);
        return -1;
    }
    return 0;
}
