/* The explorer's state, shared by app.c (window, loop, input), view.c (what
 * a frame shows), script.c (test mode) and paths.c. */
#ifndef ZS_APP_IMPL_H
#define ZS_APP_IMPL_H

#include <SDL.h>
#include <limits.h>

#include "app.h"
#include "decoder.h"
#include "zspace/query.h"
#include "present.h"
#include "render.h"
#include "trainview.h"
#include "ui.h"
#include "zspace/latent.h"
#include "zspace/trainer.h"

#define ZS_APP_MAX_ERRORS 4
#define ZS_APP_TIMING 4096   /* frames kept for timing statistics */
#define ZS_NPC 10            /* sliders along the gallery's principal directions */
#define ZS_NSLIDERS (ZS_NATTR + ZS_NPC)
#define ZS_HIST_BINS 48      /* a slider's histogram */
#define ZS_NSAMPLES 16       /* the Sample tab's grid */
#define ZS_SLIDER_LO -3.0f
#define ZS_SLIDER_HI 3.0f

typedef struct zs_app_paths { char shaders[PATH_MAX], assets[PATH_MAX], data[PATH_MAX]; } zs_app_paths;
/* Where the shaders, font and shipped data are: data_dir/{shaders,assets,data}
 * when given; else <prefix>/share/zspace when the executable is
 * <prefix>/bin/zspace and that exists; else the source tree the build
 * came from. */
void zs_app_find_paths(zs_app_paths *p, const char *data_dir);

typedef struct zs_script zs_script;
typedef struct zs_anview zs_anview;   /* the Analysis tab (analysisview.c) */

/* A session file's contents (session.c). */
typedef struct zs_session {
    int w, h, tab, face;
    char model[PATH_MAX], gallery[PATH_MAX], attrs[PATH_MAX], photo[PATH_MAX];
    float strength[ZS_NATTR], pc_strength[ZS_NPC];
    float *slot_z[2];
    int slot_n[2];
    char slot_label[2][160], slot_name[2][64];
    float *sample_z;                     /* a sample that was the current face */
    int sample_n, sample_pick;
    unsigned long long sample_seed;
    char ortho[160], search[160], filter[64];
    /* views.c's state (absent from older files: have_* 0) */
    int have_sharpen, have_sample_mode, have_walk, have_photo_crop;
    float sharpen, sample_b, walk_range;
    zs_crop photo_crop;                  /* the photo's crop, when the user framed it */
    int sample_mode, walk_x, walk_y, walk_n;   /* sample_mode 0 isotropic, 1 fitted, 2 box */
} zs_session;

typedef struct zs_app {
    zs_app_desc desc;
    zs_app_paths paths;
    SDL_Window *win;
    SDL_GLContext gl;
    int win_w, win_h, fb_w, fb_h;
    float scale;                         /* drawable pixels per logical pixel (win_w, win_h are logical) */
    float ui_scale;                      /* screen units per logical pixel (--ui-scale; 1 normally) */
    zs_render render;
    zs_present present;      /* how frames reach the screen (present.c) */
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
    uint64_t edit_key;                   /* whose face (decoder face_key) tex_edit shows */
    uint8_t *edit_rgb;                   /* tex_edit's pixels (S x S x 3), for saving */
    int max_tex;                         /* GL_MAX_TEXTURE_SIZE */

    /* the Photo tab: a photo read, cropped and encoded by the worker */
    int have_photo;                      /* a photo was loaded (photo_gen) */
    uint64_t photo_gen, photo_gen_req;   /* shown / last asked for */
    int photo_loading;                   /* a load is on its way */
    char photo_path[PATH_MAX];           /* the photo shown */
    char photo_box[PATH_MAX];            /* the path text box */
    char save_box[PATH_MAX];             /* where Save writes */
    char save_derived[PATH_MAX];         /* save_box as derived from the photo's name (not typed) */
    int photo_w, photo_h;
    zs_crop photo_crop;
    unsigned tex_crop, tex_photo, tex_detail;   /* model input S x S, whole photo, keep-detail result */
    int tex_photo_w, tex_photo_h, tex_detail_w, tex_detail_h;
    int keep_detail;
    zs_image detail;                     /* the keep-detail result shown (UI's copy, for saving) */
    int have_detail;                     /* detail is the newest result's */
    double photo_ms;
    int saving;

    /* what the sliders edit: a gallery face, the photo or a sample (a latent) */
    int src;                             /* ZS_SRC_* */
    float *cur_z;                        /* the edited latent of the newest result for the current face */
    uint64_t cur_z_key;                  /* its face_key (ZS_NO_FACE_KEY: none yet) */

    /* batches decoded on the worker's channels (ZS_CH_*) */
    uint64_t batch_posted[ZS_DEC_CHANNELS], batch_shown[ZS_DEC_CHANNELS];
    int batch_dirty[ZS_DEC_CHANNELS];

    /* the Interpolate tab */
    struct zs_slot { int set; float *z; char label[160], name[64]; unsigned tex; } slot[2];   /* A, B */
    float interp_t;
    int interp_slerp;
    int playing;
    double play_last;                    /* zs_now() of the last animated frame */
    float play_dir;
    unsigned tex_strip, tex_t;           /* 8 faces in a row; the face at t */
    uint8_t *strip_rgb;                  /* tex_strip's pixels (8 S x S), for export */
    int have_strip, have_t;
    char strip_box[PATH_MAX];            /* where Export writes */
    double strip_ms, t_ms;

    /* the Sample tab */
    float sample_radius;
    int sample_fitted;                   /* 0 isotropic N(0, r^2 I); 1 the Gaussian fitted to the gallery */
    uint64_t sample_seed;
    float *samples;                      /* ZS_NSAMPLES x z latents of the grid */
    uint8_t *sample_rgb;                 /* their decodes (ZS_NSAMPLES x S x S x 3), as shown */
    unsigned tex_samples;                /* 4 S x 4 S atlas */
    int have_samples;
    uint64_t samples_shown_gen, samples_gen;   /* which latents the atlas shows / were posted */
    zs_gauss gauss;                      /* fitted to the gallery's latents (with them, from the worker) */
    int have_gauss, fitting;
    double fit_ms, samples_ms;
    float *sample_base;                  /* the sample made current (src == ZS_SRC_SAMPLE) */
    int sample_pick;                     /* its index in the grid then */
    uint64_t sample_pick_seed, sample_key;
    uint64_t base_key;                   /* the sample_key ZS_CH_BASE's picture was posted for */

    /* views.c: the sharpen slider, the Sample tab's box mode and data cloud, the Walk tab, the mean face */
    float sharpen;                       /* unsharp-mask strength of every decode shown (0: off; the shader) */
    int sample_box;                      /* 1: uniform in [-sample_b, sample_b]^z (over sample_fitted) */
    float sample_b;
    float sample_maha[ZS_NSAMPLES];      /* the shown samples' Mahalanobis distances under gauss */
    int sample_inside[ZS_NSAMPLES], have_maha;   /* d^2 within chi-square's 99% quantile */
    int walk_x, walk_y;                  /* directions: slider indices (attributes, then principal directions) */
    float walk_range, walk_nf;           /* walk_nf: N as the slider holds it (rounded to walk_n) */
    int walk_n, walk_shown_n, walk_post_n;   /* N asked for; of the grid shown; of the newest posted */
    float walk_shown_range, walk_post_range;
    float *walk_req;                     /* (3, z): centre, vx, vy of the newest grid posted */
    unsigned tex_walk;                   /* ZS_WALK_MAX S square atlas */
    uint8_t *walk_rgb;                   /* the shown grid's N x N decodes, row-major (cells of S x S x 3) */
    int have_walk, walk_posted_any;
    char walk_box[PATH_MAX];             /* where Export writes */
    ui_scroll walk_scroll[2];
    double walk_ms;
    int mean_n;                          /* the current face (src sample) is the mean latent of mean_n faces */
    char mean_query[160];

    /* the Train tab (trainview.h) */
    zs_cache *train_cache;               /* --data FACES.zsf (else the gallery is trained on) */
    const zs_cache *tcache;              /* what is trained on */
    zs_data_split tsplit;
    int train_threads;
    zs_tv *tv;
    zs_tv_view tview;                    /* the newest poll */
    unsigned tex_train;                  /* 8 S x 2 S: the fixed faces above their reconstructions */
    uint64_t train_recon_shown;
    float train_beta, train_lr_log;      /* sliders (lr as log10) */
    char ckpt_box[PATH_MAX];
    float attr_cos[ZS_NATTR];            /* cosine of each recomputed vector to the one it replaced */
    int have_cos, attrs_stale;           /* attrs_stale: the vectors are of other weights than the decoder's */
    uint64_t weights_gen, recompute_gen; /* bumped by "Use these weights"; the one a recompute started from */
    long weights_step;                   /* -1: the model file's weights; else the training step in use */
    ui_scroll cos_scroll;
    int photo_reload;                    /* the photo is read again for a new decoder: stay on this tab */

    zs_anview *an;                       /* the Analysis tab: its worker and what it shows */

    /* the status line's message: what the last action did */
    char message[700];
    int message_err;

    /* the sliders (sliders.c): attribute k or principal direction j moves the latent along dirs[k] or
     * dirs[ZS_NATTR + j]; each shows the gallery's histogram and the current face on its axis */
    float pc_strength[ZS_NPC];           /* in the gallery's standard deviations */
    float *dirs;                         /* (ZS_NSLIDERS, z) */
    float *axes, axis_origin[ZS_NSLIDERS];   /* (ZS_NSLIDERS, z): t(z) = z . axis - origin */
    float hist[ZS_NSLIDERS][ZS_HIST_BINS];
    float marker[ZS_NSLIDERS];           /* t of the current edited latent (NaN: none) */
    int have_axes;
    float *gal_mu;                       /* (gal_n, z): the gallery's latents */
    int gal_n;
    zs_pca pca;
    int have_pca;
    int slider_set;                      /* shown: 0 attributes, 1 principal directions */
    char ortho_box[160], ortho_msg[400]; /* "orthogonal to" and what in it is not an attribute */
    int keep[ZS_NATTR], nkeep;           /* the attributes edits are orthogonalized against */
    char search[160], search_msg[400];   /* the gallery's search box */
    int *shown, nshown;                  /* the gallery faces it lets through */
    ui_image *shown_thumbs;

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
    double frame_ms;                     /* smoothed work time of a frame (as the status line shows it) */
    double status_decode_ms, status_encode_ms, status_time;   /* the status line's figures, refreshed at 2 Hz */
    int expose;                          /* the window system wants the whole picture again */
    float timing[ZS_APP_TIMING];         /* work ms of recent frames */
    uint8_t timing_busy[ZS_APP_TIMING];  /* the decoder was busy during that frame */
    double decode_sum, decode_max;
    long ntiming, ndecode;
    zs_script *script;
    int script_waiting;                  /* the script waits for time to pass: the loop need not spin */
    char shot_path[PATH_MAX];            /* a screenshot to take after this frame */
    char winshot_path[PATH_MAX];         /* the same of the window, once the frame is presented */

    /* the session (session.c) */
    char session_path[PATH_MAX];
    zs_session session;
    int have_session;
    char session_problem[PATH_MAX + 200];

    /* --bench */
    int bench_phase;                     /* 0 waiting for the first face, 1 measuring, 2 done */
    double bench_t0, bench_next, bench_frame_due;
    long bench_step0;
    double bench_step0_done;   /* when step bench_step0 finished: the rate runs from step end to step end */
    double post_time[256];               /* when stamp s was posted: post_time[s % 256] */
    uint64_t bench_seen;                 /* newest stamp whose picture was on screen */
    float *bench_frame, *bench_decode, *bench_compute, *bench_drawn;   /* samples */
    int nbench_frame, nbench_decode, bench_cap;
    double bench_cpu0[4];                /* CPU seconds by kind of thread when measuring began */
} zs_app;

/* app.c */
/* snprintf for text meant to be shown: cut to fit, silently. */
void zs_strf(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void zs_app_error(zs_app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void zs_app_select(zs_app *a, int face);
void zs_app_reset(zs_app *a);
void zs_app_set_nearest(zs_app *a, int nearest);
void zs_app_message(zs_app *a, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Ask the worker for the photo at path (the answer arrives in a later frame),
 * cropped at *crop (the user's framing) or, crop NULL, as zs_photo_crop guesses. */
void zs_app_load_photo(zs_app *a, const char *path);
void zs_app_load_photo_crop(zs_app *a, const char *path, const zs_crop *crop);
/* Frame the photo's face anew: the crop c (clamped), or c NULL for the guess
 * again; the worker crops and encodes the photo it holds. */
void zs_app_set_crop(zs_app *a, const zs_crop *c);
/* photo_crop is the user's framing, not zs_photo_crop's guess for the photo. */
int zs_app_crop_is_users(const zs_app *a);
/* Write what the centre shows as edited (keep-detail image or S x S edit) to the save box's path. */
void zs_app_save(zs_app *a);
/* The Photo tab's picture is shown (else the gallery face's). */
int zs_app_photo_mode(const zs_app *a);
uint64_t zs_app_face_key(const zs_app *a);   /* decoder key of what the centre should show */
enum { ZS_TAB_ATTRS, ZS_TAB_PHOTO, ZS_TAB_INTERP, ZS_TAB_SAMPLE, ZS_TAB_TRAIN, ZS_TAB_WALK, ZS_TAB_ANALYSIS, ZS_NTABS };
#define ZS_SAMPLE_KEY(n) ((1ull << 62) | (uint64_t)(n))
/* Sample: make grid cell i the current face. */
void zs_app_pick_sample(zs_app *a, int i);
enum { ZS_SRC_GALLERY, ZS_SRC_PHOTO, ZS_SRC_SAMPLE };
/* decoder batch channels; ZS_CH_BASE: the plain picture of a current face that is only a latent
 * (a mean face, a restored sample, any sample after new weights), zs_views_post_base */
enum { ZS_CH_STRIP, ZS_CH_T, ZS_CH_SAMPLES, ZS_CH_SLOTS, ZS_CH_WALK, ZS_CH_BASE };
#define ZS_STRIP_N 8
/* Interpolate: fill slot 0 (A) or 1 (B) from the current face's edited latent. */
void zs_app_set_slot(zs_app *a, int which);
void zs_app_export_strip(zs_app *a);
/* A short name of the current face, e.g. "face 3 (000004.jpg)", "photo me.jpg". */
void zs_app_current_label(const zs_app *a, char *buf, size_t n);
void zs_app_current_name(const zs_app *a, char *buf, size_t n);   /* shorter: "162792.jpg", "me.jpg" */
/* The Train tab's actions. */
void zs_app_train_start(zs_app *a);
void zs_app_use_weights(zs_app *a);
void zs_app_recompute_attrs(zs_app *a);
void zs_app_save_ckpt(zs_app *a);
const char *zs_app_train_state_name(int state);
/* view.c: build this frame's widgets into a->ui. */
void zs_view_build(zs_app *a);
int zs_view_attr_matches(const char *filter, int attr);
/* sliders.c */
void zs_sliders_update_dirs(zs_app *a);      /* after the vectors, the fit or the orthogonal set changed */
void zs_sliders_update_axes(zs_app *a);      /* after the vectors or the gallery's latents changed */
void zs_sliders_update_markers(zs_app *a);   /* after a new result for the current face */
void zs_sliders_set_ortho(zs_app *a);        /* parse ortho_box */
void zs_sliders_take_fit(zs_app *a, zs_gallery_fit *f);   /* takes f's latents, Gaussian and directions */
int zs_sliders_delta(const zs_app *a, float *delta);      /* the summed edit; 0 when nothing moved */
int zs_sliders_edited(const zs_app *a);
float *zs_sliders_value(zs_app *a, int i);  /* slider i's strength (attributes, then principal directions) */
void zs_gallery_search(zs_app *a);           /* parse the search box, fill shown */
int zs_gallery_step(const zs_app *a, int step);   /* the shown face before (-1) / after (+1) the current one */
/* analysisview.c: the Analysis tab (statistics and the projection map) */
zs_anview *zs_anview_create(zs_app *a, void (*wake)(void *));
void zs_anview_destroy(zs_anview *v);
void zs_anview_data_changed(zs_app *a);     /* the gallery's latents changed (a new fit) */
void zs_anview_track(zs_app *a);            /* a new edited latent for the current face (its path) */
/* Before a frame is built: take the newest result (take_result), post a job when one is due; after
 * it (take_result 0): post what the frame's clicks asked for. */
void zs_anview_frame(zs_app *a, int take_result);
int zs_anview_busy(const zs_app *a);        /* a job is pending or due */
void zs_anview_centre(zs_app *a, ui_rect body);
void zs_anview_panel(zs_app *a);
void zs_anview_print(const zs_app *a);      /* script: print analysis */
/* views.c */
#define ZS_WALK_MAX 9                        /* the Walk grid is N x N, N in 3..ZS_WALK_MAX */
void zs_views_init(zs_app *a);               /* after the model: textures, defaults */
void zs_views_free(zs_app *a);
void zs_views_post(zs_app *a);               /* once a frame: the Walk grid's batch when it is out of date */
void zs_views_take(zs_app *a);               /* once a frame: the Walk and mean batches' results */
void zs_views_samples_posted(zs_app *a);     /* the Sample grid's latents changed: inside / outside the cloud */
void zs_views_export_walk(zs_app *a);
/* A copy of an atlas of cols x rows faces (S x S each) with the Sharpen
 * slider's mask (zs_sharpen_chw per face), as the shader shows it; NULL
 * when Sharpen is off. */
uint8_t *zs_views_sharpened(const zs_app *a, const uint8_t *rgb, int cols, int rows);
void zs_views_mean_face(zs_app *a);
/* Decode sample_base plain (the "Original" of a latent-only current face) for the current sample_key. */
void zs_views_post_base(zs_app *a);          /* the mean latent of the faces the search shows becomes current */
void zs_views_sample_latents(zs_app *a);     /* a->samples for the Sample tab's mode */
void zs_views_walk_tab(zs_app *a);           /* view.c's right panel and centre for the Walk tab */
void zs_views_walk_centre(zs_app *a);
void zs_views_sharpen_slider(zs_app *a, ui_rect status);   /* at the right of the status line */
void zs_views_direction_name(int i, char *buf, size_t n); /* "Smiling", "PC 3" */
/* session.c */
void zs_session_path(zs_app *a);
void zs_session_load(zs_app *a);    /* before the window opens: size and files */
void zs_session_apply(zs_app *a);   /* after the data is loaded: face, sliders, slots, tab */
void zs_session_save(zs_app *a);
/* script.c */
int zs_script_load(zs_script **out, const char *path, char *err, size_t nerr);
void zs_script_free(zs_script *s);
/* Once a frame before events are read: push this frame's synthetic events. */
void zs_script_tick(zs_script *s, zs_app *a);

#endif
