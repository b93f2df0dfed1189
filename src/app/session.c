/* The explorer's session: what was on screen when it quit, restored when it
 * starts. A small text file, one "key value" a line, written atomically
 * (zs_atomic_*: a crash leaves the previous session):
 *
 *   zspace-session 1
 *   window 1280 800
 *   model /path/default.safetensors      (also gallery, attrs)
 *   tab 0
 *   face gallery 12                      (or: face photo /path/me.jpg)
 *   photo_crop 0.5 0.42 0.6              (the photo's crop as framed by the user: zs_crop)
 *   sample_face 3 7 <z floats>           (a sample was current: its number, seed, latent)
 *   strength Smiling 1.5                 (the sliders that are not 0)
 *   pc 2 -0.5                            (principal-direction sliders that are not 0)
 *   filter hair                          (slider filter; also: ortho Male, search Bald=yes)
 *   slot A <z floats>                    (then slot_label A ..., slot_name A ...)
 *   sharpen 0.8                          (the status line's slider; absent: 0)
 *   sample box 1.5                       (isotropic|fitted|box, and the box's b)
 *   walk Smiling Male 2 7                (the Walk tab: x, y (or PC3), range, N)
 *
 * Where: --session FILE, else $XDG_CONFIG_HOME/zspace/session, else
 * ~/.config/zspace/session. Test and bench runs (--script, --frames,
 * --bench) use a session only when --session names one. A file that is
 * missing is a first start; one that cannot be parsed is ignored as a
 * whole, with a message naming the line: the explorer starts as new. */
#include "app_impl.h"
#include "session_file.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void zs_session_path(zs_app *a)
{
    const zs_app_desc *d = &a->desc;
    a->session_path[0] = 0;
    if (d->session) {
        snprintf(a->session_path, sizeof a->session_path, "%s", d->session);
        return;
    }
    if (d->script || d->frames || d->bench) return;   /* tests do not touch the user's session */
    const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    int n;
    if (x && x[0] == '/') n = snprintf(a->session_path, sizeof a->session_path, "%s/zspace/session", x);
    else if (home && home[0]) n = snprintf(a->session_path, sizeof a->session_path, "%s/.config/zspace/session", home);
    else return;
    if (n >= (int)sizeof a->session_path) a->session_path[0] = 0;
}

void zs_session_load(zs_app *a)
{
    if (!a->session_path[0]) return;
    char err[256];
    int r = zs_session_parse(a->session_path, &a->session, err, sizeof err);
    if (r == 1) {
        fprintf(stderr, "zspace: no session in %s yet (one is written on quit)\n", a->session_path);
        return;
    }
    if (r < 0) {
        fprintf(stderr, "zspace: session %s ignored: %s\n", a->session_path, err);
        zs_strf(a->session_problem, sizeof a->session_problem, "Session %s ignored (%s): starting afresh",
                 a->session_path, err);
        return;
    }
    a->have_session = 1;
    zs_session *s = &a->session;
    if (s->w && a->desc.width <= 0) a->desc.width = s->w, a->desc.height = s->h;   /* --size wins */
    /* files: only when not given and still there */
    if (!a->desc.model && s->model[0] && access(s->model, R_OK) == 0) a->desc.model = s->model;
    if (!a->desc.gallery && s->gallery[0] && access(s->gallery, R_OK) == 0) a->desc.gallery = s->gallery;
    if (!a->desc.attrs && s->attrs[0] && access(s->attrs, R_OK) == 0) a->desc.attrs = s->attrs;
}

/* After the data is loaded: the face, sliders, slots and tab. */
void zs_session_apply(zs_app *a)
{
    if (!a->have_session) return;
    zs_session *s = &a->session;
    if (a->have_attrs) memcpy(a->strength, s->strength, sizeof a->strength);
    memcpy(a->pc_strength, s->pc_strength, sizeof a->pc_strength);   /* applied once the directions are fitted */
    snprintf(a->filter, sizeof a->filter, "%s", s->filter);
    if (s->ortho[0] && a->have_attrs) {
        snprintf(a->ortho_box, sizeof a->ortho_box, "%s", s->ortho);
        zs_sliders_set_ortho(a);
    }
    if (s->search[0] && a->gallery) {
        snprintf(a->search, sizeof a->search, "%s", s->search);
        zs_gallery_search(a);
    }
    if (s->face >= 0 && s->face < a->nthumbs) zs_app_select(a, s->face);
    int Z0 = a->model ? a->model->cfg.z : 0;
    if (s->sample_z && s->sample_n == Z0 && a->dec && a->sample_base && !a->desc.photo) {
        memcpy(a->sample_base, s->sample_z, sizeof(float) * (size_t)Z0);
        a->sample_pick = s->sample_pick;
        a->sample_pick_seed = s->sample_seed;
        a->sample_key++;
        a->src = ZS_SRC_SAMPLE;
        zs_views_post_base(a);   /* its plain decode becomes the "Sample" picture */
    }
    if (s->photo[0] && !a->desc.photo && a->dec) {
        snprintf(a->photo_box, sizeof a->photo_box, "%s", s->photo);
        zs_app_load_photo_crop(a, s->photo, s->have_photo_crop ? &s->photo_crop : NULL);
    }
    int Z = a->model ? a->model->cfg.z : 0;
    for (int i = 0; i < 2; i++)
        if (s->slot_z[i] && s->slot_n[i] == Z && a->dec) {
            memcpy(a->slot[i].z, s->slot_z[i], sizeof(float) * (size_t)Z);
            snprintf(a->slot[i].label, sizeof a->slot[i].label, "%s", s->slot_label[i][0] ? s->slot_label[i] : "restored");
            snprintf(a->slot[i].name, sizeof a->slot[i].name, "%s", s->slot_name[i][0] ? s->slot_name[i] : "restored");
            a->slot[i].set = 1;
            a->batch_dirty[ZS_CH_SLOTS] = a->batch_dirty[ZS_CH_STRIP] = a->batch_dirty[ZS_CH_T] = 1;
        }
    if (s->have_sharpen) a->sharpen = s->sharpen;
    if (s->have_sample_mode) {
        a->sample_fitted = s->sample_mode == 1, a->sample_box = s->sample_mode == 2, a->sample_b = s->sample_b;
        a->batch_dirty[ZS_CH_SAMPLES] = 1;
    }
    if (s->have_walk) {
        a->walk_x = s->walk_x, a->walk_y = s->walk_y, a->walk_range = s->walk_range;
        a->walk_n = s->walk_n, a->walk_nf = (float)s->walk_n;
    }
    if (s->tab >= 0 && s->tab != ZS_TAB_PHOTO) a->tab = s->tab;   /* the Photo tab comes with its photo */
    a->dirty = 1;
    fprintf(stderr, "zspace: session restored from %s\n", a->session_path);
    zs_session_free(s);
}

static void mkdirs(const char *path)
{
    char d[PATH_MAX];
    snprintf(d, sizeof d, "%s", path);
    for (char *p = d + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(d, 0700);   /* EEXIST is fine; a real failure shows when writing */
            *p = '/';
        }
}

typedef struct { char *buf; size_t n, cap; } sbuf;
static void put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->buf + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if (k < 0) return;
        if ((size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        b->cap = 2 * b->cap + (size_t)k + 64;
        b->buf = zs_xrealloc(b->buf, b->cap);
    }
}

/* Paths are kept absolute, so the session works from any directory. */
static void put_path(sbuf *b, const char *key, const char *path)
{
    if (!path[0] || strchr(path, '\n')) return;
    char abs[PATH_MAX];
    if (path[0] != '/' && realpath(path, abs)) path = abs;
    put(b, "%s %s\n", key, path);
}

void zs_session_save(zs_app *a)
{
    if (!a->session_path[0] || !a->win) return;
    sbuf b = {zs_xmalloc(4096), 0, 4096};
    b.buf[0] = 0;
    put(&b, "zspace-session 1\n");
    int w = a->win_w, h = a->win_h;
    if (w >= 320 && h >= 240) put(&b, "window %d %d\n", w, h);
    if (a->model) put_path(&b, "model", a->model_path);
    if (a->gallery) put_path(&b, "gallery", a->gallery_path);
    if (a->have_attrs && !a->have_cos) put_path(&b, "attrs", a->attrs_path);   /* recomputed vectors live in memory only */
    put(&b, "tab %d\n", a->tab);
    if (zs_app_photo_mode(a) && !strchr(a->photo_path, '\n')) {
        char abs[PATH_MAX];
        const char *p = a->photo_path[0] != '/' && realpath(a->photo_path, abs) ? abs : a->photo_path;
        put(&b, "face photo %s\n", p);
        if (zs_app_crop_is_users(a))
            put(&b, "photo_crop %.9g %.9g %.9g\n", (double)a->photo_crop.cx, (double)a->photo_crop.cy,
                (double)a->photo_crop.side);
    } else if (a->current >= 0) put(&b, "face gallery %d\n", a->current);
    int Z = a->model ? a->model->cfg.z : 0;
    if (a->src == ZS_SRC_SAMPLE && Z > 0) {
        put(&b, "sample_face %d %llu", a->sample_pick, (unsigned long long)a->sample_pick_seed);
        for (int j = 0; j < Z; j++) put(&b, " %.9g", (double)a->sample_base[j]);
        put(&b, "\n");
    }
    for (int k = 0; k < ZS_NATTR; k++)
        if (a->strength[k] != 0.0f) put(&b, "strength %s %.9g\n", zs_attr_names[k], (double)a->strength[k]);
    for (int j = 0; j < ZS_NPC; j++)
        if (a->pc_strength[j] != 0.0f) put(&b, "pc %d %.9g\n", j + 1, (double)a->pc_strength[j]);
    if (a->filter[0] && !strchr(a->filter, '\n')) put(&b, "filter %s\n", a->filter);
    if (a->ortho_box[0] && !strchr(a->ortho_box, '\n')) put(&b, "ortho %s\n", a->ortho_box);
    if (a->search[0] && !strchr(a->search, '\n')) put(&b, "search %s\n", a->search);
    for (int i = 0; i < 2; i++)
        if (a->slot[i].set && Z > 0) {
            put(&b, "slot %c", "AB"[i]);
            for (int j = 0; j < Z; j++) put(&b, " %.9g", (double)a->slot[i].z[j]);
            put(&b, "\n");
            if (!strchr(a->slot[i].label, '\n')) put(&b, "slot_label %c %s\n", "AB"[i], a->slot[i].label);
            if (!strchr(a->slot[i].name, '\n')) put(&b, "slot_name %c %s\n", "AB"[i], a->slot[i].name);
        }
    put(&b, "sharpen %.9g\n", (double)a->sharpen);
    put(&b, "sample %s %.9g\n", a->sample_box ? "box" : a->sample_fitted ? "fitted" : "isotropic", (double)a->sample_b);
    char wx[40], wy[40];
    for (int i = 0; i < 2; i++) {
        int d = i ? a->walk_y : a->walk_x;
        char *o = i ? wy : wx;
        if (d < ZS_NATTR) snprintf(o, 40, "%s", zs_attr_names[d]);
        else snprintf(o, 40, "PC%d", d - ZS_NATTR + 1);
    }
    put(&b, "walk %s %s %.9g %d\n", wx, wy, (double)a->walk_range, a->walk_n);
    mkdirs(a->session_path);
    zs_atomic_file af;
    zs_status st = zs_atomic_open(&af, a->session_path);
    if (st == ZS_OK) {
        st = zs_atomic_write(&af, b.buf, b.n);
        if (st == ZS_OK) st = zs_atomic_commit(&af);
        else zs_atomic_abort(&af);
    }
    if (st != ZS_OK) fprintf(stderr, "zspace: session not saved: %s\n", zs_last_error());
    free(b.buf);
}
