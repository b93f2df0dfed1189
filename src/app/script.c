/*
 * Test mode: replay a script of synthetic input into the real window.
 *
 * One command a line ('#' starts a comment). Positions are window
 * (logical) pixels "X,Y", or a widget recorded last frame by name,
 * "slider/Smiling", "thumb/3", "textbox/filter", "button/Reset",
 * "image/edit", optionally at a fraction of its rectangle:
 * "slider/Smiling@0.8333,0.5" (default: the centre).
 *
 *   click POS            press (this frame) and release (next frame)
 *   drag POS POS [N]     press at the first, N motion frames (default 10), release at the second
 *   move POS             mouse motion
 *   wheel POS DY         wheel notches over POS
 *   key NAME             SDL key name ("R", "Left", "Escape", "ctrl+Q"): down, then up
 *   type TEXT            per character: key down, text input, key up (as a keyboard does)
 *   text TEXT            text input only
 *   drop PATH            a file dropped on the window (SDL_DROPFILE)
 *   wait N               let N frames pass
 *   sync                 wait until the newest request's picture is on screen
 *   screenshot PATH      PNG of the next frame (drawable pixels)
 *   windowshot PATH      PNG of what the window shows once the next frame is presented (the front buffer)
 *   redraw               draw the next frame in full (else only what changed is drawn)
 *   print sliders|state|photo|interp|sample|walk|train|timing|rect NAME    to stdout (rect in drawable pixels)
 *   print axis NAME      slider NAME's (Smiling, PC1) value, marker, origin and histogram counts
 *   print gallery        the faces the search shows (and its message); print pca: the directions' variances
 *   print analysis       the Analysis tab: its result's statistics, groups, separation, hover and a point
 *                        ("point/pick", a face apart from the others) a script can click
 *   wait_train N         wait until training reached step N and the grid shows that step's weights
 *   wait_state NAME      wait until the trainer is idle|running|paused|done|failed (and no stop/save is on)
 *   sleep MS             let MS milliseconds pass (frames go on)
 *   timing_reset         start the frame/decode statistics afresh
 *   echo TEXT            print "echo TEXT" (marks sections of the output)
 *   quit
 *
 * The events go through SDL_PushEvent and arrive through SDL_PollEvent
 * like real ones (positions in screen units: logical pixels times
 * --ui-scale); the app takes positions from the events, never from
 * SDL_GetMouseState. A script error (unknown widget, sync timeout) quits
 * with exit code 1.
 */
#include "app_impl.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum op {
    OP_CLICK, OP_DRAG, OP_MOVE, OP_WHEEL, OP_KEY, OP_TYPE, OP_TEXT, OP_WAIT, OP_SYNC, OP_SHOT, OP_PRINT,
    OP_TIMING_RESET, OP_ECHO, OP_QUIT, OP_DROP, OP_WAIT_TRAIN, OP_WAIT_STATE, OP_SLEEP, OP_REDRAW, OP_WINSHOT
} op;
static const char *const op_names[] = {"click", "drag", "move", "wheel", "key", "type", "text",
                                       "wait", "sync", "screenshot", "print", "timing_reset", "echo", "quit",
                                       "drop", "wait_train", "wait_state", "sleep", "redraw", "windowshot"};

typedef struct cmd {
    op op;
    int line, n;
    char a[200], b[200];
} cmd;

struct zs_script {
    char path[PATH_MAX];
    cmd *c;
    int n, pc, sub;           /* command and frame within it */
    int x0, y0, x1, y1;       /* resolved positions */
    double t0;                /* when a sync began */
    zs_decoder_stats base;    /* decoder counts at timing_reset */
};

int zs_script_load(zs_script **out, const char *path, char *err, size_t nerr)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, nerr, "script %s: cannot open", path);
        return -1;
    }
    zs_script *s = zs_xcalloc(1, sizeof *s);
    snprintf(s->path, sizeof s->path, "%s", path);
    char line[512];
    int ln = 0, cap = 0;
    while (fgets(line, sizeof line, f)) {
        ln++;
        line[strcspn(line, "\r\n")] = 0;
        char *p = line;
        while (isspace((unsigned char)*p)) p++;
        if (!*p || *p == '#') continue;
        char word[32] = "";
        int used = 0;
        sscanf(p, "%31s%n", word, &used);
        char *rest = p + used;
        while (*rest == ' ' || *rest == '\t') rest++;
        int k = 0;
        while (k < (int)(sizeof op_names / sizeof op_names[0]) && strcmp(word, op_names[k]) != 0) k++;
        if (k == (int)(sizeof op_names / sizeof op_names[0])) {
            snprintf(err, nerr, "script %s:%d: unknown command '%s'", path, ln, word);
            fclose(f);
            zs_script_free(s);
            return -1;
        }
        if (s->n == cap) cap = cap ? 2 * cap : 64, s->c = zs_xrealloc(s->c, sizeof(cmd) * (size_t)cap);
        cmd *c = &s->c[s->n++];
        memset(c, 0, sizeof *c);
        c->op = (op)k;
        c->line = ln;
        c->n = 10;
        if (c->op == OP_TYPE || c->op == OP_TEXT || c->op == OP_SHOT || c->op == OP_WINSHOT || c->op == OP_KEY || c->op == OP_ECHO ||
            c->op == OP_DROP)
            snprintf(c->a, sizeof c->a, "%s", rest);
        else if (c->op == OP_WAIT || c->op == OP_WAIT_TRAIN || c->op == OP_SLEEP) c->n = atoi(rest);
        else if (c->op == OP_WAIT_STATE) snprintf(c->a, sizeof c->a, "%s", rest);
        else sscanf(rest, "%199s %199s %d", c->a, c->b, &c->n);
    }
    fclose(f);
    *out = s;
    return 0;
}

void zs_script_free(zs_script *s)
{
    free(s->c);
    free(s);
}

static void fail(zs_script *s, zs_app *a, const char *msg, const char *what)
{
    fprintf(stderr, "zspace: script %s:%d: %s%s\n", s->path, s->c[s->pc].line, msg, what);
    a->failed = 1;
    a->quit = 1;
}

static const ui_named *find_named(const zs_app *a, const char *name)
{
    for (int i = 0; i < a->ui->nnamed; i++)
        if (strcmp(a->ui->named[i].name, name) == 0) return &a->ui->named[i];
    return NULL;
}

static int resolve(zs_script *s, zs_app *a, const char *tok, int *x, int *y)
{
    if (isdigit((unsigned char)tok[0])) {
        if (sscanf(tok, "%d,%d", x, y) == 2) return 1;
        fail(s, a, "bad position ", tok);
        return 0;
    }
    char name[64];
    float fx = 0.5f, fy = 0.5f;
    snprintf(name, sizeof name, "%s", tok);
    char *at = strchr(name, '@');
    if (at) {
        *at = 0;
        if (sscanf(at + 1, "%f,%f", &fx, &fy) != 2) {
            fail(s, a, "bad fraction in ", tok);
            return 0;
        }
    }
    const ui_named *n = find_named(a, name);
    if (!n) {
        fail(s, a, "no widget on screen named ", name);
        return 0;
    }
    *x = n->rect.x + (int)(fx * (float)(n->rect.w - 1) + 0.5f);
    *y = n->rect.y + (int)(fy * (float)(n->rect.h - 1) + 0.5f);
    return 1;
}

/* ---- synthetic events ---------------------------------------------------------------- */
static int screen(const zs_app *a, int v) { return (int)floorf(((float)v + 0.5f) * a->ui_scale); }

static void push_mouse(zs_app *a, Uint32 type, int x, int y, int down)
{
    x = screen(a, x), y = screen(a, y);
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = type;
    if (type == SDL_MOUSEMOTION) {
        e.motion.windowID = SDL_GetWindowID(a->win);
        e.motion.x = x, e.motion.y = y;
        e.motion.state = down ? SDL_BUTTON_LMASK : 0;
    } else {
        e.button.windowID = SDL_GetWindowID(a->win);
        e.button.button = SDL_BUTTON_LEFT;
        e.button.state = type == SDL_MOUSEBUTTONDOWN ? SDL_PRESSED : SDL_RELEASED;
        e.button.clicks = 1;
        e.button.x = x, e.button.y = y;
    }
    SDL_PushEvent(&e);
}

static void push_key(zs_app *a, Uint32 type, SDL_Keycode sym, Uint16 mod)
{
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = type;
    e.key.windowID = SDL_GetWindowID(a->win);
    e.key.state = type == SDL_KEYDOWN ? SDL_PRESSED : SDL_RELEASED;
    e.key.keysym.sym = sym;
    e.key.keysym.scancode = SDL_GetScancodeFromKey(sym);
    e.key.keysym.mod = mod;
    SDL_PushEvent(&e);
}

static void push_text(zs_app *a, const char *t)
{
    for (size_t len = strlen(t); len > 0;) {   /* an event holds 31 bytes */
        SDL_Event e;
        memset(&e, 0, sizeof e);
        e.type = SDL_TEXTINPUT;
        e.text.windowID = SDL_GetWindowID(a->win);
        size_t n = len < sizeof e.text.text - 1 ? len : sizeof e.text.text - 1;
        memcpy(e.text.text, t, n);
        SDL_PushEvent(&e);
        t += n, len -= n;
    }
}

/* ---- printing ---------------------------------------------------------------------------- */
static int cmp_float(const void *x, const void *y)
{
    float a = *(const float *)x, b = *(const float *)y;
    return (a > b) - (a < b);
}

/* mean p50 p95 max of the recorded frames (busy: only those with a decode in flight) */
static int frame_stats(const zs_app *a, int busy_only, double out[4])
{
    long n = a->ntiming < ZS_APP_TIMING ? a->ntiming : ZS_APP_TIMING;
    float *v = zs_xmalloc(sizeof(float) * (size_t)(n + 1));
    int m = 0;
    double sum = 0;
    for (long i = 0; i < n; i++)
        if (!busy_only || a->timing_busy[i]) v[m++] = a->timing[i], sum += a->timing[i];
    memset(out, 0, 4 * sizeof(double));
    if (m) {
        qsort(v, (size_t)m, sizeof(float), cmp_float);
        out[0] = sum / m, out[1] = v[m / 2], out[2] = v[(int)(0.95 * (m - 1))], out[3] = v[m - 1];
    }
    free(v);
    return m;
}

static void print(zs_script *s, zs_app *a, const cmd *c)
{
    if (strcmp(c->a, "sliders") == 0) {
        printf("sliders %d\n", a->nvisible);
        for (int i = 0; i < a->nvisible; i++)
            printf("slider %s %.6f\n", zs_attr_names[a->visible[i]], (double)a->strength[a->visible[i]]);
    } else if (strcmp(c->a, "state") == 0) {
        printf("state face=%d nearest=%d attrs=%d posted=%llu shown=%llu filter=%s tab=%d win=%dx%d slots=%d%d "
               "drawable=%dx%d scale=%.2f keep=%d drawn=%d lost=%ld present=%s copies=%ld swaps=%ld\n",
               a->current, a->nearest, a->have_attrs, (unsigned long long)a->stamp_posted,
               (unsigned long long)a->stamp_shown, a->filter, a->tab, a->win_w, a->win_h, a->slot[0].set, a->slot[1].set,
               a->fb_w, a->fb_h, (double)a->scale, a->nkeep, a->render.drawn_px, a->render.nfull_lost,
               a->present.sub ? "copy" : "swap", a->present.nsub, a->present.nswap);
        for (int i = 0; i < a->nkeep; i++) printf("keep %s\n", zs_attr_names[a->keep[i]]);
        if (a->ortho_msg[0]) printf("ortho_msg %s\n", a->ortho_msg);
        for (int k = 0; k < ZS_NATTR; k++)
            if (a->strength[k] != 0.0f) printf("strength %s %.6f\n", zs_attr_names[k], (double)a->strength[k]);
        for (int j = 0; j < ZS_NPC; j++)
            if (a->pc_strength[j] != 0.0f) printf("strength PC%d %.6f\n", j + 1, (double)a->pc_strength[j]);
        for (int i = 0; i < a->nerrors; i++) printf("error %s\n", a->errors[i]);
        if (a->message[0]) printf("message %s %s\n", a->message_err ? "error" : "ok", a->message);
    } else if (strcmp(c->a, "interp") == 0) {
        printf("interp t=%.4f slerp=%d A=%d B=%d playing=%d strip=%llu/%llu\n", (double)a->interp_t, a->interp_slerp,
               a->slot[0].set, a->slot[1].set, a->playing, (unsigned long long)a->batch_shown[ZS_CH_STRIP],
               (unsigned long long)a->batch_posted[ZS_CH_STRIP]);
        for (int i = 0; i < 2; i++)
            if (a->slot[i].set) printf("slot %c %s\n", "AB"[i], a->slot[i].label);
        if (a->message[0]) printf("message %s %s\n", a->message_err ? "error" : "ok", a->message);
    } else if (strcmp(c->a, "sample") == 0) {
        printf("sample seed=%llu radius=%.4f fitted=%d have_gauss=%d src=%d key=%llx shown=%d\n",
               (unsigned long long)a->sample_seed, (double)a->sample_radius, a->sample_fitted, a->have_gauss, a->src,
               (unsigned long long)zs_app_face_key(a), a->have_samples && a->samples_shown_gen == a->samples_gen);
        int inside = 0;
        for (int i = 0; i < ZS_NSAMPLES; i++) inside += a->sample_inside[i];
        printf("sample_box box=%d b=%.4f have_maha=%d inside=%d mean_n=%d sharpen=%.4f\n", a->sample_box,
               (double)a->sample_b, a->have_maha, inside, a->mean_n, (double)a->sharpen);
        for (int i = 0; i < ZS_NSAMPLES && a->have_maha; i++)
            printf("sample_cloud %d %.6f %d\n", i, (double)a->sample_maha[i], a->sample_inside[i]);
        if (a->message[0]) printf("message %s %s\n", a->message_err ? "error" : "ok", a->message);
    } else if (strcmp(c->a, "walk") == 0) {
        char x[40], y[40];
        zs_views_direction_name(a->walk_x, x, sizeof x);
        zs_views_direction_name(a->walk_y, y, sizeof y);
        for (char *p = x; *p; p++) *p = *p == ' ' ? '_' : *p;
        for (char *p = y; *p; p++) *p = *p == ' ' ? '_' : *p;
        printf("walk x=%s y=%s range=%.4f n=%d shown_n=%d have=%d fresh=%d sharpen=%.4f mean_n=%d src=%d\n", x, y,
               (double)a->walk_range, a->walk_n, a->walk_shown_n, a->have_walk,
               a->have_walk && a->batch_shown[ZS_CH_WALK] == a->batch_posted[ZS_CH_WALK], (double)a->sharpen, a->mean_n,
               a->src);
        if (a->message[0]) printf("message %s %s\n", a->message_err ? "error" : "ok", a->message);
    } else if (strcmp(c->a, "photo") == 0) {
        printf("photo tab=%d mode=%d gen=%llu size=%dx%d keep_detail=%d have_detail=%d detail=%dx%d path=%s\n",
               a->tab, zs_app_photo_mode(a), (unsigned long long)a->photo_gen, a->photo_w, a->photo_h,
               a->keep_detail, a->have_detail, a->detail.w, a->detail.h, a->have_photo ? a->photo_path : "-");
        printf("photo_save %s\n", a->save_box);
        double x0 = 0, y0 = 0, sd = 0;
        if (a->have_photo) zs_crop_rect(a->photo_crop, a->photo_w, a->photo_h, &x0, &y0, &sd);
        printf("photo_crop x0=%.2f y0=%.2f side=%.2f user=%d\n", x0, y0, sd, zs_app_crop_is_users(a));
        if (a->message[0]) printf("message %s %s\n", a->message_err ? "error" : "ok", a->message);
    } else if (strcmp(c->a, "train") == 0) {
        const zs_tv_view *v = &a->tview;
        printf("train have=%d state=%s step=%ld epoch=%d recon_step=%ld recon_version=%llu saved_step=%ld hist=%d "
               "stopping=%d saving=%d recomputing=%d weights_step=%ld attrs_stale=%d img_per_s=%.1f faces=%d team=%d "
               "dynamic=%d\n",
               v->have_trainer, zs_app_train_state_name(v->state), v->metrics.step, v->metrics.epoch, v->recon_step,
               (unsigned long long)v->recon_version, v->saved_step, v->nhist, v->stopping, v->saving, v->recomputing,
               a->weights_step, a->attrs_stale, v->metrics.img_per_s, v->nfaces, v->team, v->dynamic);
        for (int k = 0; k < ZS_NATTR && a->have_cos; k++) printf("cos %s %.6f\n", zs_attr_names[k], (double)a->attr_cos[k]);
        if (a->message[0]) printf("message %s %s\n", a->message_err ? "error" : "ok", a->message);
    } else if (strcmp(c->a, "rect") == 0) {
        const ui_named *n = find_named(a, c->b);
        if (!n) printf("rect %s none\n", c->b);
        else {
            float k = a->scale;
            printf("rect %s %d %d %d %d\n", c->b, (int)(n->rect.x * k + 0.5f), (int)(n->rect.y * k + 0.5f),
                   (int)(n->rect.w * k + 0.5f), (int)(n->rect.h * k + 0.5f));
        }
    } else if (strcmp(c->a, "axis") == 0) {
        int i = zs_attr_find(c->b);
        if (i < 0 && strncmp(c->b, "PC", 2) == 0 && atoi(c->b + 2) >= 1 && atoi(c->b + 2) <= ZS_NPC)
            i = ZS_NATTR + atoi(c->b + 2) - 1;
        if (i < 0) {
            fail(s, a, "print axis: no slider named ", c->b);
            return;
        }
        int shown = a->have_axes && a->cur_z_key == zs_app_face_key(a);
        printf("axis %s value=%.6f marker=%.6f origin=%.6f have=%d hist", c->b, (double)*zs_sliders_value(a, i),
               shown ? (double)a->marker[i] : NAN, (double)a->axis_origin[i], a->have_axes);
        for (int b = 0; b < ZS_HIST_BINS; b++) printf(" %.0f", (double)a->hist[i][b]);
        printf("\n");
    } else if (strcmp(c->a, "gallery") == 0) {
        printf("gallery shown=%d of=%d current=%d search=%s\ngallery_faces", a->nshown, a->nthumbs, a->current, a->search);
        for (int i = 0; i < a->nshown; i++) printf(" %d", a->shown[i]);
        printf("\n");
        if (a->search_msg[0]) printf("search_msg %s\n", a->search_msg);
    } else if (strcmp(c->a, "pca") == 0) {
        printf("pca have=%d k=%d total=%.6f var", a->have_pca, a->have_pca ? a->pca.k : 0,
               a->have_pca ? a->pca.total_var : 0.0);
        for (int j = 0; a->have_pca && j < a->pca.k; j++) printf(" %.6f", (double)a->pca.var[j]);
        printf("\n");
    } else if (strcmp(c->a, "analysis") == 0) {
        zs_anview_print(a);
    } else if (strcmp(c->a, "timing") == 0) {
        double all[4], busy[4];
        int n = frame_stats(a, 0, all), nb = frame_stats(a, 1, busy);
        zs_decoder_stats st = a->dec ? zs_decoder_get_stats(a->dec) : (zs_decoder_stats){0};
        printf("timing frames %d frame_ms mean %.2f p50 %.2f p95 %.2f max %.2f\n", n, all[0], all[1], all[2], all[3]);
        printf("timing busy_frames %d frame_ms mean %.2f p50 %.2f p95 %.2f max %.2f\n", nb, busy[0], busy[1], busy[2],
               busy[3]);
        printf("timing decodes %ld decode_ms mean %.2f max %.2f posted %ld served %ld dropped %ld\n", a->ndecode,
               a->ndecode ? a->decode_sum / a->ndecode : 0.0, a->decode_max, st.posted - s->base.posted,
               st.served - s->base.served, st.dropped - s->base.dropped);
    } else {
        fail(s, a, "print what? ", c->a);
    }
    fflush(stdout);
}

/* ---- the runner ------------------------------------------------------------------------------ */
static int idle(const zs_app *a)
{
    for (int c = 0; c < ZS_DEC_CHANNELS; c++)
        if ((a->batch_dirty[c] && (c != ZS_CH_SAMPLES || a->tab == ZS_TAB_SAMPLE) && (c != ZS_CH_WALK || a->tab == ZS_TAB_WALK)) ||
            a->batch_shown[c] != a->batch_posted[c])
            return 0;
    if (a->fitting || zs_anview_busy(a)) return 0;
    if (a->tview.saving || a->tview.stopping || a->tview.recomputing) return 0;
    return !a->dirty && a->stamp_shown == a->stamp_posted && !a->photo_loading && !a->saving &&
           !(a->dec && zs_decoder_get_stats(a->dec).busy);
}

static void next(zs_script *s)
{
    s->pc++;
    s->sub = 0;
}

void zs_script_tick(zs_script *s, zs_app *a)
{
    while (!a->quit) {
        if (s->pc >= s->n) {
            a->quit = 1;
            return;
        }
        const cmd *c = &s->c[s->pc];
        switch (c->op) {
        case OP_CLICK:
            if (s->sub == 0) {
                if (!resolve(s, a, c->a, &s->x0, &s->y0)) return;
                push_mouse(a, SDL_MOUSEMOTION, s->x0, s->y0, 0);
                push_mouse(a, SDL_MOUSEBUTTONDOWN, s->x0, s->y0, 1);
                s->sub = 1;
            } else {
                push_mouse(a, SDL_MOUSEBUTTONUP, s->x0, s->y0, 0);
                next(s);
            }
            return;
        case OP_DRAG: {
            int steps = c->n > 0 ? c->n : 1;
            if (s->sub == 0) {
                if (!resolve(s, a, c->a, &s->x0, &s->y0) || !resolve(s, a, c->b, &s->x1, &s->y1)) return;
                push_mouse(a, SDL_MOUSEMOTION, s->x0, s->y0, 0);
                push_mouse(a, SDL_MOUSEBUTTONDOWN, s->x0, s->y0, 1);
            } else if (s->sub <= steps) {
                int x = s->x0 + (s->x1 - s->x0) * s->sub / steps, y = s->y0 + (s->y1 - s->y0) * s->sub / steps;
                push_mouse(a, SDL_MOUSEMOTION, x, y, 1);
            } else {
                push_mouse(a, SDL_MOUSEBUTTONUP, s->x1, s->y1, 0);
                next(s);
                return;
            }
            s->sub++;
            return;
        }
        case OP_MOVE:
            if (resolve(s, a, c->a, &s->x0, &s->y0)) push_mouse(a, SDL_MOUSEMOTION, s->x0, s->y0, 0), next(s);
            return;
        case OP_WHEEL:
            if (resolve(s, a, c->a, &s->x0, &s->y0)) {
                SDL_Event e;
                memset(&e, 0, sizeof e);
                e.type = SDL_MOUSEWHEEL;
                e.wheel.windowID = SDL_GetWindowID(a->win);
                e.wheel.y = atoi(c->b);
                e.wheel.mouseX = screen(a, s->x0), e.wheel.mouseY = screen(a, s->y0);
                e.wheel.direction = SDL_MOUSEWHEEL_NORMAL;
                SDL_PushEvent(&e);
                next(s);
            }
            return;
        case OP_KEY: {
            const char *name = c->a;
            Uint16 mod = 0;
            if (strncasecmp(name, "ctrl+", 5) == 0) mod = KMOD_LCTRL, name += 5;
            SDL_Keycode sym = SDL_GetKeyFromName(name);
            if (sym == SDLK_UNKNOWN) {
                fail(s, a, "unknown key ", c->a);
                return;
            }
            push_key(a, s->sub == 0 ? SDL_KEYDOWN : SDL_KEYUP, sym, mod);
            if (s->sub++ == 1) next(s);
            return;
        }
        case OP_TYPE:
            for (const char *p = c->a; *p; p++) {
                char t[2] = {*p, 0};
                SDL_Keycode sym = (SDL_Keycode)tolower((unsigned char)*p);
                push_key(a, SDL_KEYDOWN, sym, 0);
                push_text(a, t);
                push_key(a, SDL_KEYUP, sym, 0);
            }
            next(s);
            return;
        case OP_TEXT: push_text(a, c->a), next(s); return;
        case OP_WAIT:
            if (s->sub++ < c->n) return;
            next(s);
            continue;
        case OP_SYNC:
            if (s->sub++ == 0) s->t0 = zs_now();
            if (idle(a)) {
                next(s);
                continue;
            }
            if (zs_now() - s->t0 > 60) fail(s, a, "sync: no picture after 60 s", "");
            return;
        case OP_WAIT_TRAIN:
            if (s->sub++ == 0) s->t0 = zs_now();
            a->script_waiting = 1;
            if (a->tview.metrics.step >= c->n && a->tview.recon_step >= c->n) {
                a->script_waiting = 0;
                next(s);
                continue;
            }
            if (zs_now() - s->t0 > 150) fail(s, a, "wait_train: training did not get there in 150 s", "");
            return;
        case OP_WAIT_STATE:
            if (s->sub++ == 0) s->t0 = zs_now();
            a->script_waiting = 1;
            /* the trainer's state and the metrics the watcher last published agree (the step is final) */
            if (strcmp(zs_app_train_state_name(a->tview.state), c->a) == 0 &&
                (!a->tview.have_trainer || a->tview.metrics.state == a->tview.state) && !a->tview.stopping &&
                !a->tview.saving) {
                a->script_waiting = 0;
                next(s);
                continue;
            }
            if (zs_now() - s->t0 > 150) fail(s, a, "wait_state: the trainer is not ", c->a);
            return;
        case OP_SLEEP:
            if (s->sub++ == 0) s->t0 = zs_now();
            a->script_waiting = 1;
            if ((zs_now() - s->t0) * 1e3 >= c->n) {
                a->script_waiting = 0;
                next(s);
                continue;
            }
            return;
        case OP_SHOT:
            snprintf(a->shot_path, sizeof a->shot_path, "%s", c->a);
            next(s);
            return;
        case OP_WINSHOT:
            snprintf(a->winshot_path, sizeof a->winshot_path, "%s", c->a);
            next(s);
            return;
        case OP_PRINT: print(s, a, c), next(s); continue;
        case OP_TIMING_RESET:
            a->ntiming = a->ndecode = 0;
            a->decode_sum = a->decode_max = 0;
            if (a->dec) s->base = zs_decoder_get_stats(a->dec);
            next(s);
            continue;
        case OP_ECHO:
            printf("echo %s\n", c->a);
            fflush(stdout);
            next(s);
            continue;
        case OP_QUIT: a->quit = 1; return;
        case OP_REDRAW:
            a->render.full = 1;
            next(s);
            continue;
        case OP_DROP: {
            SDL_Event e;
            memset(&e, 0, sizeof e);
            e.type = SDL_DROPFILE;
            e.drop.windowID = SDL_GetWindowID(a->win);
            e.drop.file = SDL_strdup(c->a);   /* the app SDL_frees it, as SDL's own */
            SDL_PushEvent(&e);
            next(s);
            return;
        }
        }
    }
}
