/* The explorer's state, shared by app.c (window, loop, input), view.c (what
 * a frame shows), script.c (test mode) and paths.c. */
#ifndef ZS_APP_IMPL_H
#define ZS_APP_IMPL_H

#include <SDL.h>
#include <limits.h>

#include "app.h"
#include "decoder.h"
#include "render.h"
#include "ui.h"
#include "zspace/latent.h"
#include "zspace/trainer.h"

#define ZS_APP_MAX_ERRORS 4
#define ZS_APP_TIMING 4096   /* frames kept for timing statistics */

typedef struct zs_app_paths { char shaders[PATH_MAX], assets[PATH_MAX], data[PATH_MAX]; } zs_app_paths;
/* Where the shaders, font and shipped data are: data_dir/{shaders,assets,data}
 * when given; else <prefix>/share/zspace when the executable is
 * <prefix>/bin/zspace and that exists; else the source tree the build
 * came from. */
void zs_app_find_paths(zs_app_paths *p, const char *data_dir);

typedef struct zs_script zs_script;

typedef struct zs_app {
    zs_app_desc desc;
    zs_app_paths paths;
    SDL_Window *win;
    SDL_GLContext gl;
    int win_w, win_h, fb_w, fb_h;
    float scale;                         /* drawable pixels per window pixel */
    zs_render render;
    zs_font font;
    ui_ctx *ui;
    Uint32 wake_event;                   /* pushed by the decoder thread */

    /* what is loaded (any may be missing: see errors) */
    char model_path[PATH_MAX], gallery_path[PATH_MAX], attrs_path[PATH_MAX];
    zs_vae *model;
    zs_ckpt_info info;
    zs_cache *gallery;
    int nfaces, S;
    zs_attr_vectors attrs;
    int have_attrs;
    char attrs_problem[3 * PATH_MAX];             /* why the sliders are disabled */
    zs_decoder *dec;

    /* textures */
    unsigned tex_thumbs, tex_orig, tex_edit;
    ui_image *thumbs;                    /* nthumbs cells of tex_thumbs */
    int nthumbs;
    int have_edit;                       /* tex_edit holds a decoded face */

    /* what the user chose */
    int current;                         /* gallery face, -1 when none */
    float strength[ZS_NATTR];
    char filter[64];
    int tab, nearest, reveal;
    ui_scroll gallery_scroll, attr_scroll;
    int visible[ZS_NATTR], nvisible;     /* sliders the filter lets through */

    /* requests and results */
    int dirty;                           /* the picture needs a new request */
    uint64_t stamp_posted, stamp_shown;
    double decode_ms, encode_ms;

    /* status line */
    char errors[ZS_APP_MAX_ERRORS][400];
    int nerrors;

    /* loop */
    int quit, failed;                    /* failed: a test script went wrong (exit code 1) */
    long frame;
    double frame_ms;                     /* smoothed work time of a frame */
    float timing[ZS_APP_TIMING];         /* work ms of recent frames */
    uint8_t timing_busy[ZS_APP_TIMING];  /* the decoder was busy during that frame */
    double decode_sum, decode_max;
    long ntiming, ndecode;
    zs_script *script;
    char shot_path[PATH_MAX];            /* a screenshot to take after this frame */
} zs_app;

/* app.c */
/* snprintf for text meant to be shown: cut to fit, silently. */
void zs_strf(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void zs_app_error(zs_app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void zs_app_select(zs_app *a, int face);
void zs_app_reset(zs_app *a);
void zs_app_set_nearest(zs_app *a, int nearest);
/* view.c: build this frame's widgets into a->ui. */
void zs_view_build(zs_app *a);
int zs_view_attr_matches(const char *filter, int attr);
/* script.c */
int zs_script_load(zs_script **out, const char *path, char *err, size_t nerr);
void zs_script_free(zs_script *s);
/* Once a frame before events are read: push this frame's synthetic events. */
void zs_script_tick(zs_script *s, zs_app *a);

#endif
