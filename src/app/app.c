/*
 * The explorer: window, main loop, input and the data it shows.
 *
 * Threads and cores. The UI thread owns SDL, OpenGL and every piece of UI
 * state, and never runs the model: it only copies requests and results.
 * One decoder thread (decoder.c) owns its own zs_vae_infer and serves the
 * newest request (encode the face when it changed, add the slider
 * vectors, decode); requests it has not taken yet are overwritten, so a
 * fast slider drag costs one decode per frame at most, never a queue.
 * The same thread reads, crops and encodes photos (Photo tab), computes
 * keep-detail edits, writes PNGs, decodes the Interpolate strip and the
 * Sample grid (batches, each channel newest-wins) and encodes the gallery's
 * faces, a few between two requests, for the Sample tab's Gaussian, the
 * sliders' histograms and the principal directions (sliders.c). The UI
 * thread only sums the slider edit (50 directions of z floats), computes
 * lerp/slerp and draws samples (a few hundred floats) and uploads results.
 * The Analysis tab's statistics, PCA and LDA run on a thread of their own
 * (analyzer.c, niced: a slider's face comes first), newest job wins, from a
 * copy of the gallery's latents.
 *
 * Cores and OpenBLAS. OpenBLAS's thread count is process-wide, so zspace
 * sets it to 1 once, when it loads the library (zs_blas_init in
 * src/core/blas.c: openblas_set_num_threads(1), and the kernel chosen from
 * the CPU's features); every sgemm then runs on the thread that calls it
 * and parallelism is ours: the trainer's zs_team splits each batch over
 * its members. The Train tab's trainer (trainview.c) gets every core
 * (zs_cpu_count(); --train-threads N), and its threads run at nice 10
 * (--train-nice; zs_thread_set_nice), so that whenever the UI, llvmpipe,
 * the decoder or the watcher want a core the scheduler gives it to them at
 * once instead of sharing it out with training. They all do little (a
 * decode is ~1 ms, a frame's work ~5 ms while a slider is dragged, the
 * watcher's 8-face grid a few ms a few times a second), so a slider still
 * shows its face in the next frame at 60 fps while training runs flat out,
 * and training has the whole machine while nobody touches the window.
 * The trainer's members take each batch in chunks as they get CPU
 * (zs_train_desc.dynamic; --train-static for fixed slices), and a member
 * that reaches a batch-norm barrier first computes queued weight gradients
 * instead of waiting for the one the UI preempted. Measured on 2 cores
 * under Xvfb + llvmpipe (docs/gui.md, stop 16): 60 fps dragging with
 * training at 76-81% of the CLI's rate (the GUI itself takes 0.33 of a
 * core), 96% with the window idle (stop 15); with the cores but one (the
 * earlier default) dragging gave 50% and idle 51%. Mesa's llvmpipe,
 * when there is no GPU, would render with a thread per core: open_window
 * sets LP_NUM_THREADS=1 (unless set) so it stays on the UI's core too.
 *
 * Training runs on a copy of the model, so the decoder keeps its weights
 * until "Use these weights" swaps them in (a new decoder is made: the old
 * one is joined, at most one job away). The watcher thread reconstructs
 * the fixed faces from the newest snapshot (zs_trainer_snapshot) on its
 * own inference context, and does what would block the UI: stopping the
 * trainer (a join), saving a checkpoint (pause, wait, save, resume) and
 * recomputing the attribute vectors.
 *
 * The loop waits for events while nothing is pending and never waits for
 * the decoder: the worker pushes an SDL user event when a result is ready
 * (SDL_PushEvent is thread-safe), which wakes the loop to upload it as a
 * texture. A frame draws only what changed since the last one (render.c,
 * "damage"), and is not swapped when nothing did: with llvmpipe a slider
 * drag costs a fifth of the rendering a full redraw did. Quitting joins the worker (at most one decode, ~1 ms, away),
 * the watcher (one job) and the trainer (one step).
 *
 * Test mode (--script, --frames, --screenshot; script.c) replays
 * synthetic SDL events and writes screenshots read back from the GL back
 * buffer, so tests/test_gui.c can drive the real window headless.
 */
#include "app_impl.h"

#include <SDL_ttf.h>
#include <dirent.h>
#include <unistd.h>
#include <epoxy/gl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define FONT_PT 14

void zs_strf(char *out, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, n, fmt, ap);
    va_end(ap);
}

void zs_app_error(zs_app *a, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "zspace: %s\n", msg);
    if (a->nerrors < ZS_APP_MAX_ERRORS) snprintf(a->errors[a->nerrors++], sizeof a->errors[0], "%s", msg);
}

void zs_app_message(zs_app *a, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->message, sizeof a->message, fmt, ap);
    va_end(ap);
    a->message_err = err;
    fprintf(stderr, "zspace: %s\n", a->message);
}

/* ---- window and GL ------------------------------------------------------------ */
static int open_window(zs_app *a)
{
    /* Mesa's software renderer (llvmpipe, when there is no GPU) would start a
     * render thread per core and compete with the trainer: keep it on the
     * UI's core unless the user chose (the frame time hardly changes at
     * 1280 x 800; --bench shows both). A GPU driver ignores it. */
    setenv("LP_NUM_THREADS", "1", 0);
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        fprintf(stderr, "zspace: cannot open the explorer window: no display (%s).\n"
                        "Run it on a desktop, under xvfb-run, or with SDL_VIDEODRIVER=offscreen; the command line\n"
                        "does everything the explorer does:\n\n", SDL_GetError());
        return 0;
    }
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_MAJOR_VERSION, 3);
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_MINOR_VERSION, 3);
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_PROFILE_MASK, SDL_GL_CONTEXT_PROFILE_CORE);
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_FLAGS, SDL_GL_CONTEXT_FORWARD_COMPATIBLE_FLAG);
    SDL_GL_SetAttribute(SDL_GL_DOUBLEBUFFER, 1);
    SDL_GL_SetAttribute(SDL_GL_DEPTH_SIZE, 0);
    float k = a->ui_scale;   /* the window is asked for in screen units; the layout is in logical pixels */
    a->win = SDL_CreateWindow("zspace", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, (int)lroundf(a->desc.width * k),
                              (int)lroundf(a->desc.height * k),
                              SDL_WINDOW_OPENGL | SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
    if (a->win) a->gl = SDL_GL_CreateContext(a->win);
    if (!a->win || !a->gl) {
        fprintf(stderr, "zspace: cannot open the explorer window with OpenGL 3.3 core (%s).\n\n", SDL_GetError());
        if (a->win) SDL_DestroyWindow(a->win);
        SDL_Quit();
        return 0;
    }
    SDL_SetWindowMinimumSize(a->win, (int)lroundf(960 * k), (int)lroundf(600 * k));
    SDL_GL_MakeCurrent(a->win, a->gl);
    /* test mode renders as fast as it can; otherwise follow the display */
    SDL_GL_SetSwapInterval(a->desc.script || a->desc.frames || a->desc.bench ? 0 : 1);
    a->wake_event = SDL_RegisterEvents(1);
    return 1;
}

/* HiDPI. SDL gives the window's size and the mouse in screen units and the
 * drawable in pixels; on a Retina display a 1280 x 800 window has a 2560 x
 * 1600 drawable. The layout is in logical pixels: screen units divided by
 * ui_scale (1, unless --ui-scale or ZS_UI_SCALE asks for more on a screen
 * that does no scaling of its own, e.g. X11); the renderer and the font
 * work at `scale` drawable pixels per logical pixel. */
static void update_sizes(zs_app *a)
{
    int ww, wh;
    SDL_GetWindowSize(a->win, &ww, &wh);
    SDL_GL_GetDrawableSize(a->win, &a->fb_w, &a->fb_h);
    a->win_w = (int)lroundf((float)ww / a->ui_scale), a->win_h = (int)lroundf((float)wh / a->ui_scale);
    a->scale = a->win_w > 0 ? (float)a->fb_w / (float)a->win_w : 1.0f;
    if (a->font.tex && fabsf(a->scale - a->font.scale) > 0.01f) {   /* moved to a screen of another density */
        char err[512];
        zs_font reopened;
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/DejaVuSans.ttf", a->paths.assets);
        if (zs_font_open(&reopened, path, FONT_PT, a->scale, err, sizeof err) == 0) {
            zs_font_close(&a->font);
            a->font = reopened;
            a->ui->text_h = zs_font_line_height(&a->font);
        }
    }
}

static int init_gl(zs_app *a)
{
    char err[1024], path[PATH_MAX + 32];
    if (epoxy_gl_version() < 33) {
        fprintf(stderr, "zspace: OpenGL 3.3 is needed, this context has %d.%d\n", epoxy_gl_version() / 10,
                epoxy_gl_version() % 10);
        return 0;
    }
    if (zs_render_init(&a->render, a->paths.shaders, err, sizeof err) != 0) {
        fprintf(stderr, "zspace: %s\n", err);
        return 0;
    }
    zs_present_init(&a->present, a->win);
    update_sizes(a);
    snprintf(path, sizeof path, "%s/DejaVuSans.ttf", a->paths.assets);
    if (zs_font_open(&a->font, path, FONT_PT, a->scale, err, sizeof err) != 0) {
        fprintf(stderr, "zspace: %s\n", err);
        return 0;
    }
    a->ui = zs_xcalloc(1, sizeof *a->ui);
    ui_init(a->ui, zs_font_text_width, &a->font, zs_font_line_height(&a->font));
    a->ui->record = a->desc.script != NULL;
    return 1;
}

/* ---- data: model, gallery, attribute vectors -------------------------------------- */
static void setup_training(zs_app *a);

/* The gallery's latents, their Gaussian and principal directions, on the worker. */
static void start_fit(zs_app *a)
{
    if (!a->dec || !a->gallery) return;
    zs_decoder_fit(a->dec, a->gallery, ZS_NPC);
    a->fitting = 1;
}
static void wake_ui(void *user)
{
    zs_app *a = user;
    SDL_Event e = {.type = a->wake_event};
    SDL_PushEvent(&e);
}

static void load_gallery(zs_app *a)
{
    if (zs_cache_open(&a->gallery, a->gallery_path) != ZS_OK) {
        zs_app_error(a, "gallery: %s", zs_last_error());
        a->gallery = NULL;
        return;
    }
    a->nfaces = zs_cache_count(a->gallery);
    a->S = zs_cache_size(a->gallery);
    int S = a->S, cols = 32, max_tex = a->max_tex;
    int max_rows = max_tex / S > 0 ? max_tex / S : 1;
    a->nthumbs = a->nfaces < cols * max_rows ? a->nfaces : cols * max_rows;
    if (a->nthumbs < a->nfaces)
        zs_app_error(a, "gallery: showing the first %d of %d faces of %s", a->nthumbs, a->nfaces, a->gallery_path);
    int rows = (a->nthumbs + cols - 1) / cols, W = cols * S, H = rows * S;
    uint8_t *atlas = zs_xcalloc((size_t)W * H, 3);
    a->thumbs = zs_xcalloc((size_t)a->nthumbs, sizeof *a->thumbs);
    for (int i = 0; i < a->nthumbs; i++) {
        int cx = i % cols * S, cy = i / cols * S;
        const uint8_t *px = zs_cache_pixels(a->gallery, i);
        for (int y = 0; y < S; y++)
            memcpy(atlas + ((size_t)(cy + y) * W + cx) * 3, px + (size_t)y * S * 3, (size_t)S * 3);
        a->thumbs[i] = (ui_image){0, (float)cx / W, (float)cy / H, (float)(cx + S) / W, (float)(cy + S) / H, 0};
    }
    a->tex_thumbs = zs_tex_create(W, H, atlas, 1);
    for (int i = 0; i < a->nthumbs; i++) a->thumbs[i].tex = a->tex_thumbs;
    free(atlas);
    zs_gallery_search(a);   /* all of them */
}

static void load_attrs(zs_app *a)
{
    if (!a->model) {
        snprintf(a->attrs_problem, sizeof a->attrs_problem, "no model is loaded");
        return;
    }
    if (zs_attr_vectors_load(a->attrs_path, &a->attrs) != ZS_OK) {
        snprintf(a->attrs_problem, sizeof a->attrs_problem, "%s", zs_last_error());
        zs_app_error(a, "attribute vectors: %s", zs_last_error());
        return;
    }
    uint64_t h = zs_model_hash(a->model);
    if (a->attrs.z != a->model->cfg.z || a->attrs.model_hash != h) {
        zs_app_error(a, "attribute vectors: %s was made with another model (hash %016llx, this model's is %016llx)",
                     a->attrs_path, (unsigned long long)a->attrs.model_hash, (unsigned long long)h);
        zs_strf(a->attrs_problem, sizeof a->attrs_problem,
                "%s was made with another model; recompute it with: zspace attrs --model %s --data FACES.zsf "
                "--out %s", a->attrs_path, a->model_path, a->attrs_path);
        fprintf(stderr, "zspace: %s\n", a->attrs_problem);
        zs_attr_vectors_free(&a->attrs);
        return;
    }
    a->have_attrs = 1;
}

/* dir/file into out; an over-long path is refused (it would name another file). */
static void join_path(zs_app *a, char *out, size_t n, const char *dir, const char *file)
{
    if (snprintf(out, n, "%s/%s", dir, file) >= (int)n) {
        zs_app_error(a, "path too long: %s/%s", dir, file);
        out[0] = 0;
    }
}

static void load_data(zs_app *a)
{
    const zs_app_desc *d = &a->desc;
    snprintf(a->model_path, sizeof a->model_path, "%s", d->model ? d->model : "");
    snprintf(a->gallery_path, sizeof a->gallery_path, "%s", d->gallery ? d->gallery : "");
    snprintf(a->attrs_path, sizeof a->attrs_path, "%s", d->attrs ? d->attrs : "");
    if (!d->model) join_path(a, a->model_path, sizeof a->model_path, a->paths.data, "default.safetensors");
    if (!d->gallery) join_path(a, a->gallery_path, sizeof a->gallery_path, a->paths.data, "gallery.zsf");
    if (!d->attrs) join_path(a, a->attrs_path, sizeof a->attrs_path, a->paths.data, "attrs.safetensors");
    glGetIntegerv(GL_MAX_TEXTURE_SIZE, &a->max_tex);

    if (zs_ckpt_load_model(a->model_path, &a->model, &a->info) != ZS_OK) {
        zs_app_error(a, "model: %s", zs_last_error());
        a->model = NULL;
    }
    load_gallery(a);
    if (!a->gallery && a->model) a->S = a->model->cfg.image;   /* photos still work */
    if (a->model && a->gallery && a->S != a->model->cfg.image) {
        zs_app_error(a, "%s has %dx%d faces but the model %s takes %dx%d", a->gallery_path, a->S, a->S,
                     a->model_path, a->model->cfg.image, a->model->cfg.image);
        zs_vae_destroy(a->model);
        a->model = NULL;
    }
    load_attrs(a);
    if (a->model) {   /* the requests carry the summed edit (sliders.c): the worker needs no vectors */
        a->dec = zs_decoder_create(a->model, NULL, wake_ui, a);
        zs_decoder_set_delay(a->dec, a->desc.decode_delay_ms);
        zs_sliders_update_dirs(a);
        start_fit(a);
    }
    a->an = zs_anview_create(a, wake_ui);
    int S = a->S ? a->S : 64;
    uint8_t *black = zs_xcalloc((size_t)S * S, 3);
    a->tex_orig = zs_tex_create(S, S, black, a->nearest);
    a->tex_edit = zs_tex_create(S, S, black, a->nearest);
    a->tex_crop = zs_tex_create(S, S, black, a->nearest);
    a->tex_photo = zs_tex_create(1, 1, black, a->nearest);
    a->tex_detail = zs_tex_create(1, 1, black, a->nearest);
    a->tex_photo_w = a->tex_photo_h = a->tex_detail_w = a->tex_detail_h = 1;
    a->edit_rgb = black;
    uint8_t *strip = zs_xcalloc((size_t)ZS_STRIP_N * S * S, 3);
    a->tex_strip = zs_tex_create(ZS_STRIP_N * S, S, strip, a->nearest);
    a->strip_rgb = strip;
    a->tex_t = zs_tex_create(S, S, strip, a->nearest);
    for (int i = 0; i < 2; i++) {
        a->slot[i].tex = zs_tex_create(S, S, strip, a->nearest);
        a->slot[i].z = zs_xcalloc((size_t)(a->model ? a->model->cfg.z : 1), sizeof(float));
    }
    a->cur_z = zs_xcalloc((size_t)(a->model ? a->model->cfg.z : 1), sizeof(float));
    a->cur_z_key = ZS_NO_FACE_KEY;
    a->interp_t = 0.5f;
    a->interp_slerp = 1;
    a->play_dir = 1;
    snprintf(a->strip_box, sizeof a->strip_box, "zspace_strip.png");
    int Z = a->model ? a->model->cfg.z : 1;
    a->samples = zs_xcalloc((size_t)ZS_NSAMPLES * Z, sizeof(float));
    a->sample_base = zs_xcalloc((size_t)Z, sizeof(float));
    a->sample_rgb = zs_xcalloc((size_t)ZS_NSAMPLES * S * S, 3);
    a->tex_samples = zs_tex_create(4 * S, 4 * S, a->sample_rgb, a->nearest);
    a->sample_radius = 1.0f;
    a->sample_seed = 1;
    a->batch_dirty[ZS_CH_SAMPLES] = 1;   /* decoded when the tab is first shown */
    zs_views_init(a);
    setup_training(a);
    a->current = -1;
    if (a->nthumbs > 0) zs_app_select(a, 0);
    if (d->photo) {
        snprintf(a->photo_box, sizeof a->photo_box, "%s", d->photo);
        zs_app_load_photo(a, d->photo);
    }
}

/* ---- the Train tab ------------------------------------------------------------------------ */
static void setup_training(zs_app *a)
{
    int S = a->S ? a->S : 64;
    uint8_t *black = zs_xcalloc((size_t)ZS_TV_FACES * S * S * 2, 3);
    a->tex_train = zs_tex_create(ZS_TV_FACES * S, 2 * S, black, a->nearest);
    free(black);
    a->train_beta = 1.0f;
    a->train_lr_log = log10f(5e-4f);
    a->weights_step = -1;
    /* the cores: one for the UI thread and the decoder, the rest train */
    a->train_threads = zs_cpu_count();   /* at nice 10: the UI takes what it needs first */
    if (a->desc.train_threads > 0) a->train_threads = a->desc.train_threads;
    if (a->desc.train_data) {
        if (zs_cache_open(&a->train_cache, a->desc.train_data) != ZS_OK) {
            zs_app_error(a, "--data: %s (training on the gallery instead)", zs_last_error());
            a->train_cache = NULL;
        } else if (a->model && zs_cache_size(a->train_cache) != a->model->cfg.image) {
            zs_app_error(a, "--data: %s has %dx%d faces but the model takes %dx%d (training on the gallery instead)",
                         a->desc.train_data, zs_cache_size(a->train_cache), zs_cache_size(a->train_cache),
                         a->model->cfg.image, a->model->cfg.image);
            zs_cache_close(a->train_cache);
            a->train_cache = NULL;
        }
    }
    a->tcache = a->train_cache ? a->train_cache : a->gallery;
    a->tsplit = a->train_cache ? ZS_SPLIT_TRAIN : ZS_SPLIT_ALL;   /* a gallery has no train split: all its faces */
    const char *base = a->model_path[0] ? strrchr(a->model_path, '/') : NULL;
    zs_strf(a->ckpt_box, sizeof a->ckpt_box, "%s_trained.safetensors",
            base ? base + 1 : "zspace");
    char *dot = strstr(a->ckpt_box, ".safetensors_trained");
    if (dot) memmove(dot, dot + strlen(".safetensors"), strlen(dot + strlen(".safetensors")) + 1);
    if (!a->model || !a->tcache) return;
    a->tv = zs_tv_create(&(zs_tv_desc){.model = a->model, .cache = a->tcache, .split = a->tsplit,
                                       .threads = a->train_threads, .batch = a->desc.train_batch,
                                       .nice = a->desc.train_nice < 0 ? 0 : a->desc.train_nice ? a->desc.train_nice : 10,
                                       .dynamic = !a->desc.train_static,
                                       .wake = wake_ui, .user = a});
}

const char *zs_app_train_state_name(int state)
{
    switch (state) {
    case ZS_TRAINER_RUNNING: return "running";
    case ZS_TRAINER_PAUSED: return "paused";
    case ZS_TRAINER_DONE: return "done";
    case ZS_TRAINER_FAILED: return "failed";
    default: return "idle";
    }
}

void zs_app_train_start(zs_app *a)
{
    char err[600];
    if (!a->tv) {
        zs_app_message(a, 1, "Train: %s", !a->model ? "no model is loaded" : "no faces to train on");
        return;
    }
    if (zs_tv_start(a->tv, err, sizeof err) != 0) {
        zs_app_message(a, 1, "Train: %s", err);
        return;
    }
    zs_tv_set_beta(a->tv, a->train_beta);
    zs_tv_set_lr(a->tv, powf(10.0f, a->train_lr_log));
    zs_app_message(a, 0, "Training on %d faces with %d thread%s (beta %.2f, lr %.2g)", a->tview.nfaces,
                   a->train_threads, a->train_threads == 1 ? "" : "s", (double)a->train_beta,
                   (double)powf(10.0f, a->train_lr_log));
}

void zs_app_save_ckpt(zs_app *a)
{
    if (!a->tv || !a->tview.have_trainer) {
        zs_app_message(a, 1, "Save checkpoint: nothing trained yet (press Start first)");
        return;
    }
    const char *p = a->ckpt_box;
    while (*p == ' ') p++;
    if (!*p) {
        zs_app_message(a, 1, "Save checkpoint: type where to write it in the box");
        return;
    }
    zs_tv_save(a->tv, p);
    a->tview.saving = 1;
    zs_app_message(a, 0, "Saving checkpoint %s (pausing training for it) ...", p);
}

/* A new decoder for the model's (new) weights or attribute vectors: the old
 * one is joined (at most the job in flight), everything shown is asked for
 * again. */
static void restart_decoder(zs_app *a)
{
    zs_decoder_destroy(a->dec);
    a->dec = zs_decoder_create(a->model, NULL, wake_ui, a);
    zs_decoder_set_delay(a->dec, a->desc.decode_delay_ms);
    a->dirty = 1;
    for (int c = 0; c < ZS_DEC_CHANNELS; c++) {
        a->batch_dirty[c] = 1;
        a->batch_shown[c] = a->batch_posted[c];
    }
    if (a->have_gauss) zs_gauss_free(&a->gauss);   /* the samples wait for the new weights' Gaussian; */
    a->have_gauss = 0;
    start_fit(a);                                  /* the sliders keep their axes until it comes */
    a->cur_z_key = ZS_NO_FACE_KEY;
    a->saving = a->photo_loading = 0;
    if (a->have_photo) {   /* the new worker has not read the photo yet */
        a->photo_reload = 1;
        a->photo_loading = 1;
        zs_decoder_load_photo(a->dec, a->photo_path, ++a->photo_gen_req, a->max_tex,
                              zs_app_crop_is_users(a) ? &a->photo_crop : NULL);
    }
}

void zs_app_use_weights(zs_app *a)
{
    if (!a->tv || !a->tview.have_trainer) {
        zs_app_message(a, 1, "Use these weights: nothing trained yet (press Start first)");
        return;
    }
    zs_decoder_destroy(a->dec);   /* nobody reads the model while it changes */
    a->dec = NULL;
    long step = zs_tv_copy_weights(a->tv, a->model->params);
    a->weights_step = step;
    a->weights_gen++;
    if (a->have_attrs) a->attrs_stale = 1;
    restart_decoder(a);
    zs_app_message(a, 0, "The explorer now uses the training weights of step %ld%s", step,
                   a->have_attrs ? "; the attribute vectors are still the old weights' (Recompute them)" : "");
}

void zs_app_recompute_attrs(zs_app *a)
{
    if (!a->tv || !a->model) {
        zs_app_message(a, 1, "Recompute: no model or no faces");
        return;
    }
    const zs_cache *c = a->train_cache ? a->train_cache : a->gallery;
    a->recompute_gen = a->weights_gen;
    zs_tv_recompute(a->tv, a->model->params, c);
    a->tview.recomputing = 1;
    zs_app_message(a, 0, "Recomputing the attribute vectors: encoding the %d faces of %s with the %s ...",
                   zs_cache_count(c), zs_cache_path(c), a->weights_step >= 0 ? "training weights" : "model's weights");
}

static void take_train(zs_app *a)
{
    if (!a->tv) return;
    zs_tv_set_shown(a->tv, a->tab == ZS_TAB_TRAIN);
    zs_tv_view v;
    zs_tv_poll(a->tv, &v);
    a->tview = v;
    if (v.recon_version != a->train_recon_shown) {
        int S = a->S, W = ZS_TV_FACES * S;
        uint8_t *atlas = zs_xcalloc((size_t)W * 2 * S, 3);
        for (int row = 0; row < 2; row++)
            for (int i = 0; i < ZS_TV_FACES; i++)
                for (int y = 0; y < S; y++)
                    memcpy(atlas + ((size_t)(row * S + y) * W + (size_t)i * S) * 3,
                           (row ? v.recon : v.orig) + ((size_t)i * S * S + (size_t)y * S) * 3, (size_t)S * 3);
        zs_tex_update(a->tex_train, 0, 0, W, 2 * S, atlas);
        free(atlas);
        a->train_recon_shown = v.recon_version;
    }
    if (v.have_msg) zs_app_message(a, v.msg_err, "%s", v.msg);
    int ok;
    zs_attr_vectors A;
    char msg[600];
    double ms;
    if (zs_tv_poll_attrs(a->tv, &ok, &A, msg, sizeof msg, &ms)) {
        a->tview.recomputing = 0;
        if (!ok) {
            zs_app_message(a, 1, "Recompute failed (the vectors stay as they were): %s", msg);
            return;
        }
        if (a->have_attrs) {
            for (int k = 0; k < ZS_NATTR; k++) {
                const float *u = a->attrs.vec + (size_t)k * A.z, *w = A.vec + (size_t)k * A.z;
                double uu = 0, ww = 0, uw = 0;
                for (int j = 0; j < A.z; j++) uu += (double)u[j] * u[j], ww += (double)w[j] * w[j], uw += (double)u[j] * w[j];
                a->attr_cos[k] = uu > 0 && ww > 0 ? (float)(uw / sqrt(uu * ww)) : NAN;
            }
            a->have_cos = 1;
            zs_attr_vectors_free(&a->attrs);
        } else a->have_cos = 0;
        a->attrs = A;
        a->have_attrs = 1;
        a->attrs_stale = a->recompute_gen != a->weights_gen;
        a->attrs_problem[0] = 0;
        zs_sliders_update_dirs(a);
        zs_sliders_update_axes(a);
        restart_decoder(a);
        double mean = 0;
        int n = 0;
        for (int k = 0; k < ZS_NATTR && a->have_cos; k++)
            if (isfinite(a->attr_cos[k])) mean += a->attr_cos[k], n++;
        if (n) zs_app_message(a, 0, "Attribute vectors recomputed in %.1f s: mean cosine to the old ones %.3f (listed in the Train tab)",
                              ms / 1e3, mean / n);
        else zs_app_message(a, 0, "Attribute vectors recomputed in %.1f s", ms / 1e3);
    }
}

/* ---- actions -------------------------------------------------------------------------- */
void zs_app_select(zs_app *a, int face)
{
    if (face < 0 || face >= a->nthumbs) return;
    a->current = face;
    a->src = ZS_SRC_GALLERY;
    zs_tex_update(a->tex_orig, 0, 0, a->S, a->S, zs_cache_pixels(a->gallery, face));
    a->dirty = 1;
    a->reveal = 1;
}

void zs_app_reset(zs_app *a)
{
    memset(a->strength, 0, sizeof a->strength);
    memset(a->pc_strength, 0, sizeof a->pc_strength);
    a->dirty = 1;
}

void zs_app_set_nearest(zs_app *a, int nearest)
{
    a->nearest = nearest;
    zs_tex_set_filter(a->tex_orig, nearest);
    zs_tex_set_filter(a->tex_edit, nearest);
    zs_tex_set_filter(a->tex_crop, nearest);
    zs_tex_set_filter(a->tex_photo, nearest);
    zs_tex_set_filter(a->tex_detail, nearest);
    zs_tex_set_filter(a->tex_strip, nearest);
    zs_tex_set_filter(a->tex_t, nearest);
    zs_tex_set_filter(a->tex_samples, nearest);
    zs_tex_set_filter(a->tex_walk, nearest);
    zs_tex_set_filter(a->tex_train, nearest);
    for (int i = 0; i < 2; i++) zs_tex_set_filter(a->slot[i].tex, nearest);
}

int zs_app_photo_mode(const zs_app *a) { return a->src == ZS_SRC_PHOTO && a->have_photo; }

void zs_app_pick_sample(zs_app *a, int i)
{
    if (i < 0 || i >= ZS_NSAMPLES || !a->have_samples || a->samples_shown_gen != a->samples_gen) return;
    int Z = a->model->cfg.z;
    memcpy(a->sample_base, a->samples + (size_t)i * Z, sizeof(float) * Z);
    a->sample_pick = i;
    a->sample_pick_seed = a->sample_seed;
    a->mean_n = 0;
    a->sample_key++;
    a->src = ZS_SRC_SAMPLE;
    zs_tex_update(a->tex_orig, 0, 0, a->S, a->S, a->sample_rgb + (size_t)i * a->S * a->S * 3);
    a->tab = ZS_TAB_ATTRS;   /* where the sliders are */
    a->dirty = 1;
    zs_app_message(a, 0, "Sample %d (seed %llu, radius %.2f, %s) is the current face: the sliders edit it", i + 1,
                   (unsigned long long)a->sample_seed, (double)a->sample_radius,
                   a->sample_box ? "box" : a->sample_fitted ? "fitted" : "isotropic");
}

void zs_app_current_label(const zs_app *a, char *buf, size_t n)
{
    if (zs_app_photo_mode(a)) {
        const char *base = strrchr(a->photo_path, '/');
        zs_strf(buf, n, "photo %s", base ? base + 1 : a->photo_path);
    } else if (a->src == ZS_SRC_SAMPLE && a->mean_n > 0) {
        zs_strf(buf, n, "mean of %d faces (%s)", a->mean_n, a->mean_query);
    } else if (a->src == ZS_SRC_SAMPLE) {
        zs_strf(buf, n, "sample %d (seed %llu)", a->sample_pick + 1, (unsigned long long)a->sample_pick_seed);
    } else if (a->current >= 0) zs_strf(buf, n, "face %d (%s)", a->current + 1, zs_cache_id(a->gallery, a->current));
    else zs_strf(buf, n, "no face");
    if (zs_sliders_edited(a) && strlen(buf) + 8 < n) strcat(buf, ", edited");
}

void zs_app_current_name(const zs_app *a, char *buf, size_t n)
{
    const char *name = "-";
    if (zs_app_photo_mode(a)) {
        const char *base = strrchr(a->photo_path, '/');
        name = base ? base + 1 : a->photo_path;
    } else if (a->src == ZS_SRC_SAMPLE) name = a->mean_n > 0 ? "mean face" : "sample";
    else if (a->current >= 0) name = zs_cache_id(a->gallery, a->current);
    zs_strf(buf, n, "%s%s", name, zs_sliders_edited(a) ? " (edited)" : "");
}

void zs_app_set_slot(zs_app *a, int which)
{
    if (!a->dec || a->cur_z_key != zs_app_face_key(a) || a->edit_key != a->cur_z_key) {
        zs_app_message(a, 1, "Set %c: the current face is still being decoded; try again", "AB"[which]);
        return;
    }
    struct zs_slot *sl = &a->slot[which];
    memcpy(sl->z, a->cur_z, sizeof(float) * (size_t)a->model->cfg.z);
    zs_tex_update(sl->tex, 0, 0, a->S, a->S, a->edit_rgb);
    zs_app_current_label(a, sl->label, sizeof sl->label);
    zs_app_current_name(a, sl->name, sizeof sl->name);
    sl->set = 1;
    a->batch_dirty[ZS_CH_STRIP] = a->batch_dirty[ZS_CH_T] = 1;
    zs_app_message(a, 0, "%c = %s", "AB"[which], sl->label);
}

void zs_app_export_strip(zs_app *a)
{
    if (!a->dec || !a->have_strip || a->batch_shown[ZS_CH_STRIP] != a->batch_posted[ZS_CH_STRIP]) {
        zs_app_message(a, 1, "Export: %s", a->slot[0].set && a->slot[1].set ? "the strip is still being decoded; try again"
                                                                           : "set A and B first");
        return;
    }
    if (!a->strip_box[0]) {
        zs_app_message(a, 1, "Export: type where to write the PNG in the box");
        return;
    }
    uint8_t *sharp = zs_views_sharpened(a, a->strip_rgb, ZS_STRIP_N, 1);   /* as shown */
    zs_decoder_save(a->dec, a->strip_box, &(zs_image){ZS_STRIP_N * a->S, a->S, sharp ? sharp : a->strip_rgb});
    free(sharp);
    a->saving = 1;
    zs_app_message(a, 0, "Saving %s ...", a->strip_box);
}

/* The latent at t between the slots, as the Interpolate tab is set. */
static void interp_z(const zs_app *a, float t, float *out)
{
    if (a->interp_slerp) zs_slerp(a->model->cfg.z, a->slot[0].z, a->slot[1].z, t, out);
    else zs_lerp(a->model->cfg.z, a->slot[0].z, a->slot[1].z, t, out);
}

static void post_samples(zs_app *a)
{
    if (!a->batch_dirty[ZS_CH_SAMPLES] || a->tab != ZS_TAB_SAMPLE) return;   /* decoded when shown */
    if (!a->dec) {
        a->batch_dirty[ZS_CH_SAMPLES] = 0;
        return;
    }
    if (a->sample_fitted && !a->sample_box && !a->have_gauss) {
        if (!a->fitting && a->gallery) {
            start_fit(a);
            zs_app_message(a, 0, "Sample: encoding the %d gallery faces to fit a Gaussian ...", a->nfaces);
        }
        if (!a->gallery) {
            zs_app_message(a, 1, "Sample: no gallery to fit a Gaussian to; using the isotropic prior");
            a->sample_fitted = 0;
        }
        if (a->fitting) return;   /* posted when the fit arrives */
    }
    zs_views_sample_latents(a);
    zs_views_samples_posted(a);
    zs_decoder_post_batch(a->dec, ZS_CH_SAMPLES, ++a->batch_posted[ZS_CH_SAMPLES], ZS_NSAMPLES, a->samples);
    a->samples_gen = a->batch_posted[ZS_CH_SAMPLES];
    a->batch_dirty[ZS_CH_SAMPLES] = 0;
}

/* The A/B slots' pictures: decoded when they come from a latent alone (a
 * restored session) or the weights changed. */
static void post_slots(zs_app *a)
{
    if (!a->batch_dirty[ZS_CH_SLOTS]) return;
    a->batch_dirty[ZS_CH_SLOTS] = 0;
    if (!a->dec || (!a->slot[0].set && !a->slot[1].set)) return;
    int Z = a->model->cfg.z;
    float *z = zs_xcalloc((size_t)2 * Z, sizeof(float));
    for (int i = 0; i < 2; i++)
        if (a->slot[i].set) memcpy(z + (size_t)i * Z, a->slot[i].z, sizeof(float) * Z);
    zs_decoder_post_batch(a->dec, ZS_CH_SLOTS, ++a->batch_posted[ZS_CH_SLOTS], 2, z);
    free(z);
}

static void post_batches(zs_app *a)
{
    post_samples(a);
    post_slots(a);
    zs_views_post(a);
    if (!a->dec || !a->slot[0].set || !a->slot[1].set) {   /* nothing to decode yet */
        a->batch_dirty[ZS_CH_STRIP] = a->batch_dirty[ZS_CH_T] = 0;
        return;
    }
    int Z = a->model->cfg.z;
    float z[ZS_STRIP_N * 512];
    if (Z > 512) return;
    if (a->batch_dirty[ZS_CH_STRIP]) {
        for (int i = 0; i < ZS_STRIP_N; i++) interp_z(a, (float)i / (ZS_STRIP_N - 1), z + (size_t)i * Z);
        zs_decoder_post_batch(a->dec, ZS_CH_STRIP, ++a->batch_posted[ZS_CH_STRIP], ZS_STRIP_N, z);
    }
    if (a->batch_dirty[ZS_CH_T]) {
        interp_z(a, a->interp_t, z);
        zs_decoder_post_batch(a->dec, ZS_CH_T, ++a->batch_posted[ZS_CH_T], 1, z);
    }
    a->batch_dirty[ZS_CH_STRIP] = a->batch_dirty[ZS_CH_T] = 0;
}

static void take_batches(zs_app *a)
{
    zs_batch_result b;
    if (!a->dec) return;
    zs_views_take(a);
    if (zs_decoder_poll_batch(a->dec, ZS_CH_STRIP, &b)) {
        int S = a->S, W = ZS_STRIP_N * S;
        for (int i = 0; i < b.n; i++)
            for (int y = 0; y < S; y++)
                memcpy(a->strip_rgb + ((size_t)y * W + (size_t)i * S) * 3, b.rgb + ((size_t)i * S * S + (size_t)y * S) * 3,
                       (size_t)S * 3);
        zs_tex_update(a->tex_strip, 0, 0, W, S, a->strip_rgb);
        a->have_strip = 1;
        a->strip_ms = b.ms;
        a->batch_shown[ZS_CH_STRIP] = b.stamp;
    }
    if (zs_decoder_poll_batch(a->dec, ZS_CH_T, &b)) {
        zs_tex_update(a->tex_t, 0, 0, a->S, a->S, b.rgb);
        a->have_t = 1;
        a->t_ms = b.ms;
        a->batch_shown[ZS_CH_T] = b.stamp;
        a->decode_ms = b.ms;
    }
    if (zs_decoder_poll_batch(a->dec, ZS_CH_SLOTS, &b)) {
        for (int i = 0; i < 2 && i < b.n; i++)
            if (a->slot[i].set) zs_tex_update(a->slot[i].tex, 0, 0, a->S, a->S, b.rgb + (size_t)i * a->S * a->S * 3);
        a->batch_shown[ZS_CH_SLOTS] = b.stamp;
    }
    if (zs_decoder_poll_batch(a->dec, ZS_CH_SAMPLES, &b)) {
        int S = a->S, W = 4 * S;
        uint8_t *atlas = zs_xmalloc((size_t)W * W * 3);
        memcpy(a->sample_rgb, b.rgb, (size_t)b.n * S * S * 3);
        for (int i = 0; i < b.n; i++)
            for (int y = 0; y < S; y++)
                memcpy(atlas + ((size_t)(i / 4 * S + y) * W + (size_t)(i % 4) * S) * 3,
                       b.rgb + ((size_t)i * S * S + (size_t)y * S) * 3, (size_t)S * 3);
        zs_tex_update(a->tex_samples, 0, 0, W, W, atlas);
        free(atlas);
        a->have_samples = 1;
        a->samples_ms = b.ms;
        a->samples_shown_gen = b.stamp;
        a->batch_shown[ZS_CH_SAMPLES] = b.stamp;
    }
    zs_gallery_fit f;
    if (zs_decoder_poll_fit(a->dec, &f)) {
        a->fitting = 0;
        if (f.ok) {
            zs_sliders_take_fit(a, &f);
            zs_anview_data_changed(a);   /* new latents (new weights): the Analysis tab recomputes */
            if (a->tab == ZS_TAB_SAMPLE && a->sample_fitted)
                zs_app_message(a, 0, "Sample: Gaussian fitted to %d encoded gallery faces in %.0f ms", f.n, f.ms);
        } else {
            a->sample_fitted = 0;
            zs_app_message(a, 1, "The gallery's latents: %s (no fitted samples, histograms or principal directions)",
                           f.msg);
        }
        zs_gallery_fit_free(&f);
        a->batch_dirty[ZS_CH_SAMPLES] = 1;
    }
}

/* Play: t goes 0 -> 1 -> 0 ... in 2 s a sweep. */
static void animate(zs_app *a)
{
    if (!a->playing) return;
    double now = zs_now(), dt = now - a->play_last;
    a->play_last = now;
    if (dt > 0.1) dt = 0.1;   /* after a stall, do not jump */
    float t = a->interp_t + a->play_dir * (float)(dt / 2.0);
    if (t >= 1) t = 1, a->play_dir = -1;
    if (t <= 0) t = 0, a->play_dir = 1;
    a->interp_t = t;
    a->batch_dirty[ZS_CH_T] = 1;
}

uint64_t zs_app_face_key(const zs_app *a)
{
    if (zs_app_photo_mode(a)) return ZS_PHOTO_KEY(a->photo_gen);
    if (a->src == ZS_SRC_SAMPLE) return ZS_SAMPLE_KEY(a->sample_key);
    return a->current >= 0 ? (uint64_t)a->current : ZS_NO_FACE_KEY;
}

void zs_app_load_photo(zs_app *a, const char *path) { zs_app_load_photo_crop(a, path, NULL); }

void zs_app_load_photo_crop(zs_app *a, const char *path, const zs_crop *crop)
{
    while (*path == ' ') path++;
    size_t n = strlen(path);
    while (n > 0 && (path[n - 1] == ' ' || path[n - 1] == '\n' || path[n - 1] == '\r')) n--;
    if (n == 0) {
        zs_app_message(a, 1, "Photo: type the path of a JPEG or PNG, or drop one on the window");
        return;
    }
    if (!a->dec) {
        zs_app_message(a, 1, "Photo: cannot load %.*s: no model is loaded", (int)n, path);
        return;
    }
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%.*s", (int)n, path);
    zs_decoder_load_photo(a->dec, p, ++a->photo_gen_req, a->max_tex, crop);
    a->photo_loading = 1;
    zs_app_message(a, 0, "Photo: reading %s ...", p);
}

/* The photo's crop as zs_photo_crop guesses it (what a photo loaded without a crop gets). */
static zs_crop crop_guess(const zs_app *a) { return zs_photo_crop(a->photo_w, a->photo_h, zs_crop_celeba()); }

int zs_app_crop_is_users(const zs_app *a)
{
    zs_crop g = crop_guess(a);
    return a->have_photo && memcmp(&g, &a->photo_crop, sizeof g) != 0;
}

/* The decoder reports itself busy until the new crop's result is polled
 * (script.c's idle), so no flag of our own says a crop is on its way. */
void zs_app_set_crop(zs_app *a, const zs_crop *c)
{
    if (!a->dec || !a->have_photo || a->photo_loading) return;   /* a new photo is coming: its own crop */
    a->photo_crop = c ? zs_crop_clamp(*c, a->photo_w, a->photo_h) : crop_guess(a);
    zs_decoder_load_photo(a->dec, NULL, ++a->photo_gen_req, a->max_tex, &a->photo_crop);
}

/* photo.jpg -> photo_zspace.png in the same directory */
static void derive_save_path(const char *photo, char *out, size_t n)
{
    const char *base = strrchr(photo, '/');
    base = base ? base + 1 : photo;
    const char *dot = strrchr(base, '.');
    int len = dot && dot > base ? (int)(dot - photo) : (int)strlen(photo);
    if (snprintf(out, n, "%.*s_zspace.png", len, photo) >= (int)n) out[0] = 0;
}

void zs_app_save(zs_app *a)
{
    if (!a->dec) {
        zs_app_message(a, 1, "Save: nothing to save (no model is loaded)");
        return;
    }
    int photo = zs_app_photo_mode(a);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", a->save_box);
    if (!path[0] && !photo && a->current >= 0) derive_save_path(zs_cache_id(a->gallery, a->current), path, sizeof path);
    if (!path[0]) {
        zs_app_message(a, 1, "Save: type where to write the PNG in the save box");
        return;
    }
    if (photo && a->keep_detail) {
        if (!a->have_detail) {
            zs_app_message(a, 1, "Save: the keep-detail image is still being computed; try again");
            return;
        }
        zs_decoder_save(a->dec, path, &a->detail);
    } else {
        if (!a->have_edit || a->edit_key != zs_app_face_key(a)) {
            zs_app_message(a, 1, "Save: the edit is still being decoded; try again");
            return;
        }
        zs_decoder_save(a->dec, path, &(zs_image){a->S, a->S, a->edit_rgb});
    }
    a->saving = 1;
    zs_app_message(a, 0, "Saving %s ...", path);
}

/* (Re)create tex to hold w x h pixels. */
static void tex_put(zs_app *a, unsigned *tex, int *tw, int *th, int w, int h, const uint8_t *rgb)
{
    if (*tw == w && *th == h) zs_tex_update(*tex, 0, 0, w, h, rgb);
    else {
        zs_tex_free(*tex);
        *tex = zs_tex_create(w, h, rgb, a->nearest);
        *tw = w, *th = h;
    }
}

static void take_photo(zs_app *a)
{
    zs_photo_result r;
    if (a->dec && zs_decoder_poll_photo(a->dec, &r)) {
        if (r.gen == a->photo_gen_req) a->photo_loading = 0;
        if (!r.ok) {
            /* the message names the file; what was shown stays */
            zs_app_message(a, 1, "Photo: cannot load it: %s%s", r.msg,
                           a->have_photo ? " (still showing the previous photo)" : "");
        } else if (r.recrop && r.gen > a->photo_gen) {
            /* the same photo framed anew (zs_app_set_crop): during a drag an older crop
             * may come back; the one asked for last stays in photo_crop */
            a->photo_gen = r.gen;
            if (r.gen == a->photo_gen_req) a->photo_crop = r.crop;
            zs_tex_update(a->tex_crop, 0, 0, a->S, a->S, r.face);
            a->have_detail = 0;
            a->dirty = 1;
        } else if (r.gen > a->photo_gen) {
            a->have_photo = 1;
            a->photo_gen = r.gen;
            snprintf(a->photo_path, sizeof a->photo_path, "%s", r.path);
            a->photo_w = r.photo.w, a->photo_h = r.photo.h;
            a->photo_crop = r.crop;
            a->photo_ms = r.ms;
            zs_tex_update(a->tex_crop, 0, 0, a->S, a->S, r.face);
            tex_put(a, &a->tex_photo, &a->tex_photo_w, &a->tex_photo_h, r.photo.w, r.photo.h, r.photo.rgb);
            if (!a->save_box[0] || strcmp(a->save_box, a->save_derived) == 0) {   /* not typed by the user */
                derive_save_path(r.path, a->save_derived, sizeof a->save_derived);
                snprintf(a->save_box, sizeof a->save_box, "%s", a->save_derived);
            }
            a->have_detail = 0;
            if (!a->photo_reload) {
                a->tab = ZS_TAB_PHOTO;
                a->src = ZS_SRC_PHOTO;
            }
            a->photo_reload = 0;
            a->dirty = 1;
            zs_app_message(a, 0, "Photo: %s, %dx%d (read, cropped and encoded in %.0f ms)", r.path, r.photo.w,
                           r.photo.h, r.ms);
        }
    }
    zs_save_result sr;
    if (a->dec && zs_decoder_poll_save(a->dec, &sr)) {
        a->saving = 0;
        if (sr.ok) zs_app_message(a, 0, "Saved %s", sr.path);
        else zs_app_message(a, 1, "Save failed: could not write %s (%s)", sr.path, sr.msg);
    }
}

static void post_request(zs_app *a)
{
    if (!a->dirty) return;
    a->dirty = 0;
    if (!a->dec) return;
    zs_decode_req req = {.stamp = 0};
    if (zs_app_photo_mode(a)) {
        req.face_key = ZS_PHOTO_KEY(a->photo_gen);
        req.detail = a->keep_detail;
    } else if (a->src == ZS_SRC_SAMPLE) {
        req.face_key = ZS_SAMPLE_KEY(a->sample_key);
        req.base = a->sample_base;
    } else {
        if (a->current < 0) return;
        req.face_key = (uint64_t)a->current;
        req.face = zs_cache_pixels(a->gallery, a->current);
    }
    req.stamp = ++a->stamp_posted;
    a->post_time[req.stamp % 256] = zs_now();
    float delta[4096];
    if (a->model->cfg.z <= 4096 && zs_sliders_delta(a, delta)) req.delta = delta;
    zs_decoder_post(a->dec, &req);
}

static void take_result(zs_app *a)
{
    take_photo(a);
    take_batches(a);
    take_train(a);
    zs_anview_frame(a, 1);   /* its newest result, in time for this frame */
    zs_decode_result res;
    if (!a->dec || !zs_decoder_poll(a->dec, &res)) return;
    a->stamp_shown = res.stamp;
    if (res.face_key == ZS_NO_FACE_KEY) return;
    memcpy(a->cur_z, res.z, sizeof(float) * (size_t)a->model->cfg.z);
    a->cur_z_key = res.face_key;
    zs_sliders_update_markers(a);
    zs_anview_track(a);
    zs_tex_update(a->tex_edit, 0, 0, a->S, a->S, res.rgb);
    memcpy(a->edit_rgb, res.rgb, (size_t)a->S * a->S * 3);
    a->have_edit = 1;
    a->edit_key = res.face_key;
    a->have_detail = 0;
    if (res.detail.rgb) {
        size_t n = (size_t)res.detail.w * res.detail.h * 3;
        if (a->detail.w != res.detail.w || a->detail.h != res.detail.h) {
            free(a->detail.rgb);
            a->detail = (zs_image){res.detail.w, res.detail.h, zs_xmalloc(n)};
        }
        memcpy(a->detail.rgb, res.detail.rgb, n);
        tex_put(a, &a->tex_detail, &a->tex_detail_w, &a->tex_detail_h, res.detail.w, res.detail.h, res.detail.rgb);
        a->have_detail = 1;
    }
    a->decode_ms = res.decode_ms;
    if (res.encode_ms > 0) a->encode_ms = res.encode_ms;
    a->decode_sum += res.decode_ms;
    if (res.decode_ms > a->decode_max) a->decode_max = res.decode_ms;
    a->ndecode++;
}

/* ---- input ------------------------------------------------------------------------------- */
static void on_key(zs_app *a, const SDL_KeyboardEvent *k)
{
    SDL_Keycode sym = k->keysym.sym;
    int ctrl = (k->keysym.mod & KMOD_CTRL) != 0;
    if (ctrl && sym == SDLK_q) {
        a->quit = 1;
        return;
    }
    if (ctrl && sym == SDLK_s) {
        zs_app_save(a);
        return;
    }
    if (ui_has_focus(a->ui)) {   /* the text box has the keyboard: letters arrive as text */
        if (ctrl && (sym == SDLK_BACKSPACE || sym == SDLK_u)) ui_input_key(a->ui, UI_KEY_CLEAR);
        else if (sym == SDLK_BACKSPACE) ui_input_key(a->ui, UI_KEY_BACKSPACE);
        if (sym == SDLK_RETURN || sym == SDLK_KP_ENTER) ui_input_key(a->ui, UI_KEY_RETURN);
        if (sym == SDLK_ESCAPE) ui_input_key(a->ui, UI_KEY_ESCAPE);
        return;
    }
    if (ctrl || (k->keysym.mod & KMOD_ALT)) return;
    switch (sym) {
    case SDLK_ESCAPE: a->quit = 1; break;
    case SDLK_r: zs_app_reset(a); break;
    case SDLK_n: zs_app_set_nearest(a, !a->nearest); break;
    case SDLK_LEFT: zs_app_select(a, zs_gallery_step(a, -1)); break;   /* among the faces the search shows */
    case SDLK_RIGHT: zs_app_select(a, zs_gallery_step(a, 1)); break;
    default: break;
    }
}

/* screen units -> logical pixels */
static int logical(const zs_app *a, int v) { return (int)floorf((float)v / a->ui_scale); }

static void on_event(zs_app *a, const SDL_Event *e)
{
    ui_ctx *ui = a->ui;
    switch (e->type) {
    case SDL_QUIT: a->quit = 1; break;
    case SDL_MOUSEMOTION: ui_input_mousemove(ui, logical(a, e->motion.x), logical(a, e->motion.y)); break;
    case SDL_MOUSEBUTTONDOWN:
        if (e->button.button == SDL_BUTTON_LEFT) ui_input_mousedown(ui, logical(a, e->button.x), logical(a, e->button.y));
        break;
    case SDL_MOUSEBUTTONUP:
        if (e->button.button == SDL_BUTTON_LEFT) ui_input_mouseup(ui, logical(a, e->button.x), logical(a, e->button.y));
        break;
    case SDL_MOUSEWHEEL:
        ui_input_mousemove(ui, logical(a, e->wheel.mouseX), logical(a, e->wheel.mouseY));
        ui_input_wheel(ui, e->wheel.direction == SDL_MOUSEWHEEL_FLIPPED ? -e->wheel.y : e->wheel.y);
        break;
    case SDL_TEXTINPUT: ui_input_text(ui, e->text.text); break;
    case SDL_DROPFILE:   /* a file dropped on the window: a photo */
        if (e->drop.file) {
            snprintf(a->photo_box, sizeof a->photo_box, "%s", e->drop.file);
            zs_app_load_photo(a, e->drop.file);
            SDL_free(e->drop.file);
        }
        break;
    case SDL_KEYDOWN: on_key(a, &e->key); break;
    case SDL_WINDOWEVENT: a->expose = 1; break;   /* shown, exposed, resized: show the whole frame again */
    default: break;
    }
}

/* ---- the loop ---------------------------------------------------------------------------------- */
/* A PNG of the back buffer, or (window) of what the window shows. */
static void write_screenshot(zs_app *a, const char *path, int window)
{
    zs_image im;
    if (window) {
        im.w = a->fb_w, im.h = a->fb_h;
        im.rgb = zs_xmalloc((size_t)im.w * im.h * 3);
        if (zs_present_read_window(&a->present, im.w, im.h, im.rgb) != 0) {
            fprintf(stderr, "zspace: windowshot: the window's pixels cannot be read here (not X11)\n");
            free(im.rgb);
            return;
        }
    } else zs_render_read(&a->render, &im);
    if (zs_image_write_png(path, &im) != ZS_OK) fprintf(stderr, "zspace: screenshot: %s\n", zs_last_error());
    free(im.rgb);
}

/* Median work time of the last 31 frames (the status line's "frame"). */
static double recent_median(const zs_app *a)
{
    float v[31];
    int n = 0;
    for (long i = a->ntiming - 1; i >= 0 && n < 31; i--) {
        float x = a->timing[i % ZS_APP_TIMING];
        int j = n++;
        for (; j > 0 && v[j - 1] > x; j--) v[j] = v[j - 1];   /* insertion sort */
        v[j] = x;
    }
    return n ? v[n / 2] : 0;
}

/* ---- --bench ---------------------------------------------------------------------------------- */
static int cmp_f(const void *x, const void *y)
{
    float p = *(const float *)x, q = *(const float *)y;
    return (p > q) - (p < q);
}

static double pct(float *v, int n, double p)
{
    if (n <= 0) return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_f);
    int i = (int)(p * (n - 1) + 0.5);
    return v[i];
}

/* CPU seconds used so far by the process's threads, by kind: the UI thread,
 * Mesa's llvmpipe renderer, the decoder and watcher, and the rest (the
 * trainer's threads). From /proc (Linux); zeros elsewhere. */
enum { CPU_UI, CPU_LLVMPIPE, CPU_HELPERS, CPU_TRAIN, CPU_KINDS };
static void cpu_by_thread(double out[CPU_KINDS])
{
    memset(out, 0, sizeof(double) * CPU_KINDS);
    char dir[64], line[1024];
    snprintf(dir, sizeof dir, "/proc/%d/task", (int)getpid());
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char path[400];
        snprintf(path, sizeof path, "%s/%s/stat", dir, e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t n = fread(line, 1, sizeof line - 1, f);
        fclose(f);
        line[n] = 0;
        char *open = strchr(line, '('), *close = strrchr(line, ')');
        if (!open || !close) continue;
        unsigned long ut = 0, st = 0;   /* fields 14 and 15, counted after the name */
        if (sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) continue;
        double sec = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
        int kind = atoi(e->d_name) == (int)getpid() ? CPU_UI
                   : strstr(open, "llvmpipe") ? CPU_LLVMPIPE
                   : strstr(open, "zs-decoder") || strstr(open, "zs-watcher") ? CPU_HELPERS
                   : CPU_TRAIN;
        out[kind] += sec;
    }
    closedir(d);
}

/* Before a frame is built: move the Smiling slider (a triangle wave, -2..2 in 2 s). */
static void bench_drive(zs_app *a)
{
    double now = zs_now();
    if (a->bench_phase == 0) {
        if (!a->tv || !a->dec || a->nthumbs == 0) {
            fprintf(stderr, "zspace gui --bench: needs a model and a gallery (see the messages above)\n");
            a->failed = a->quit = 1;
            a->bench_phase = 2;
            return;
        }
        if (a->bench_t0 == 0) a->bench_t0 = now;
        if (a->stamp_shown == 0 && now - a->bench_t0 < 60) return;   /* the first face first */
        zs_app_train_start(a);
        a->bench_phase = 1;
        a->bench_t0 = now;
        a->bench_step0 = -1;
        a->bench_cap = 1 << 16;
        a->bench_frame = zs_xmalloc(sizeof(float) * (size_t)a->bench_cap);
        a->bench_decode = zs_xmalloc(sizeof(float) * (size_t)a->bench_cap);
        a->bench_compute = zs_xmalloc(sizeof(float) * (size_t)a->bench_cap);
        a->bench_drawn = zs_xmalloc(sizeof(float) * (size_t)a->bench_cap);
    }
    if (a->bench_phase != 1) return;
    double secs = a->desc.bench_seconds > 0 ? a->desc.bench_seconds : 10;
    if (a->bench_step0 < 0 && a->tview.have_trainer && a->tview.metrics.step > 0 && now - a->bench_t0 > 1.0) {
        a->bench_step0 = a->tview.metrics.step;   /* throughput from the first second on: the trainer is warm */
        a->bench_step0_done = a->tview.metrics.step_done;
        a->bench_next = now;
        cpu_by_thread(a->bench_cpu0);
    }
    if (now - a->bench_t0 >= secs + 1.0) {
        a->bench_phase = 2;
        a->quit = 1;
        return;
    }
    if (a->desc.bench_idle) return;   /* training with the window open and nobody touching it */
    int k = zs_attr_find("Smiling");
    double ph = fmod(now - a->bench_t0, 2.0) / 2.0;   /* 0..1 */
    float s = (float)(ph < 0.5 ? -2 + 8 * ph : 6 - 8 * ph);
    if (k >= 0 && s != a->strength[k]) {
        a->strength[k] = s;
        a->dirty = 1;
    }
}

/* After a frame was swapped: its work time, and the latency of a picture new on screen. */
static void bench_record(zs_app *a, double frame_ms)
{
    if (a->bench_phase != 1 || a->bench_step0 < 0) return;
    if (a->nbench_frame < a->bench_cap) {
        a->bench_drawn[a->nbench_frame] = (float)a->render.drawn_px;
        a->bench_frame[a->nbench_frame++] = (float)frame_ms;
    }
    if (a->stamp_shown > a->bench_seen && a->stamp_shown + 255 > a->stamp_posted && !a->desc.bench_idle) {
        if (a->nbench_decode < a->bench_cap) {
            a->bench_decode[a->nbench_decode] = (float)((zs_now() - a->post_time[a->stamp_shown % 256]) * 1e3);
            a->bench_compute[a->nbench_decode++] = (float)a->decode_ms;
        }
    }
    a->bench_seen = a->stamp_shown;
}

static void bench_report(zs_app *a)
{
    if (!a->desc.bench || !a->bench_frame) return;
    zs_tv_view v = a->tview;
    double el = zs_now() - a->bench_next;
    long steps = a->bench_step0 >= 0 ? v.metrics.step - a->bench_step0 : 0;
    double train_s = steps > 0 ? v.metrics.step_done - a->bench_step0_done : 0;   /* whole steps, no partial ones */
    printf("bench_seconds %.1f\n", a->desc.bench_seconds > 0 ? a->desc.bench_seconds : 10);
    printf("frames %d\n", a->nbench_frame);
    printf("frame_ms_p50 %.2f\nframe_ms_p95 %.2f\nframe_ms_p99 %.2f\n", pct(a->bench_frame, a->nbench_frame, 0.5),
           pct(a->bench_frame, a->nbench_frame, 0.95), pct(a->bench_frame, a->nbench_frame, 0.99));
    printf("drawn_px_p50 %.0f (of %d), full redraws for a lost back buffer %ld\n", pct(a->bench_drawn, a->nbench_frame, 0.5),
           a->fb_w * a->fb_h, a->render.nfull_lost);
    printf("present %s (%ld frames copied in parts, %.1f rectangles each; %ld swapped)\n",
           a->present.sub ? "copy" : "swap", a->present.nsub,
           a->present.nsub ? (double)a->present.ncopies / (double)a->present.nsub : 0.0, a->present.nswap);
    printf("decodes %d\n", a->nbench_decode);
    printf("decode_ms_p50 %.2f\ndecode_ms_p95 %.2f\n", pct(a->bench_decode, a->nbench_decode, 0.5),
           pct(a->bench_decode, a->nbench_decode, 0.95));
    printf("decode_compute_ms_p50 %.2f\n", pct(a->bench_compute, a->nbench_decode, 0.5));
    printf("train_threads %d\ntrain_batch %d\ntrain_steps %ld\n", a->train_threads, v.batch, steps);
    printf("train_img_per_s %.1f\n", train_s > 0 ? (double)steps * v.batch / train_s : 0.0);
    double cpu[CPU_KINDS];   /* where the CPU went while measuring, per frame and in all */
    cpu_by_thread(cpu);
    for (int k = 0; k < CPU_KINDS; k++) cpu[k] -= a->bench_cpu0[k];
    double nf = a->nbench_frame > 0 ? a->nbench_frame : 1;
    printf("cpu_ms_per_frame ui %.2f llvmpipe %.2f decoder+watcher %.2f\n", cpu[CPU_UI] * 1e3 / nf,
           cpu[CPU_LLVMPIPE] * 1e3 / nf, cpu[CPU_HELPERS] * 1e3 / nf);
    printf("cpu_cores gui %.2f train %.2f (of %d, over %.1f s)\n",
           el > 0 ? (cpu[CPU_UI] + cpu[CPU_LLVMPIPE] + cpu[CPU_HELPERS]) / el : 0.0, el > 0 ? cpu[CPU_TRAIN] / el : 0.0,
           zs_cpu_count(), el);
    fflush(stdout);
    free(a->bench_frame), free(a->bench_decode), free(a->bench_compute), free(a->bench_drawn);
}

static void frame(zs_app *a, double t0)
{
    int busy = a->dec && zs_decoder_get_stats(a->dec).busy;
    take_result(a);
    update_sizes(a);
    animate(a);
    if (a->desc.bench) bench_drive(a);
    zs_view_build(a);   /* widgets may change the sliders or the face ... */
    post_request(a);    /* ... and the newest state goes to the worker at once */
    post_batches(a);
    zs_anview_frame(a, 0);
    busy = busy || (a->dec && zs_decoder_get_stats(a->dec).busy);   /* a decode was in flight this frame */
    /* only what changed is drawn; an unchanged picture is not even shown again (the window keeps it) */
    if (a->expose) a->render.full = 1;
    a->expose = 0;
    int present = zs_render_frame(&a->render, a->fb_w, a->fb_h, a->scale, a->ui, &a->font) > 0;
    glFinish();   /* count the rendering itself (llvmpipe draws on the CPU), not the wait for vsync */
    double ms = (zs_now() - t0) * 1e3;
    a->timing[a->ntiming % ZS_APP_TIMING] = (float)ms;
    a->timing_busy[a->ntiming % ZS_APP_TIMING] = (uint8_t)busy;
    a->ntiming++;
    if (a->shot_path[0]) {
        write_screenshot(a, a->shot_path, 0);
        a->shot_path[0] = 0;
    }
    int last = a->quit || (a->desc.frames > 0 && a->frame + 1 >= a->desc.frames);
    if (last && a->desc.screenshot) write_screenshot(a, a->desc.screenshot, 0);
    if (present) zs_present_frame(&a->present, a->win, &a->render);
    if (a->winshot_path[0]) {
        write_screenshot(a, a->winshot_path, 1);
        a->winshot_path[0] = 0;
    }
    if (a->desc.bench) bench_record(a, ms);
    if (zs_now() - a->status_time > 0.5) {   /* the status line's figures: twice a second, not every frame */
        a->frame_ms = recent_median(a);
        a->status_decode_ms = a->decode_ms, a->status_encode_ms = a->encode_ms;
        a->status_time = zs_now();
    }
    a->frame++;
    if (last) a->quit = 1;
}

static void run_loop(zs_app *a)
{
    while (!a->quit) {
        SDL_Event e;
        if (a->script) zs_script_tick(a->script, a);
        if (a->desc.bench) {   /* a 60 Hz display: one frame every 16.7 ms, the rest of the time free */
            double next = a->bench_frame_due, now = zs_now();
            if (next > now) SDL_Delay((Uint32)((next - now) * 1e3));
            a->bench_frame_due = (next > now ? next : now) + 1.0 / 60;
        } else if (!a->dirty && !a->playing && !a->script && !a->desc.frames) {
            /* nothing pending: sleep until an event (the worker's wake-up is one) */
            if (!SDL_WaitEventTimeout(&e, 1000)) continue;
            on_event(a, &e);
        } else if (!a->dirty && ((a->dec && zs_decoder_get_stats(a->dec).busy) || a->script_waiting)) {
            if (SDL_WaitEventTimeout(&e, 20)) on_event(a, &e);   /* test mode: not a busy loop */
        }
        double t0 = zs_now();
        while (SDL_PollEvent(&e)) on_event(a, &e);
        frame(a, t0);
    }
}

static void shutdown_app(zs_app *a)
{
    zs_tv_destroy(a->tv);         /* stops training (at most one step), joins its watcher */
    if (a->train_cache) zs_cache_close(a->train_cache);
    zs_tex_free(a->tex_train);
    zs_decoder_destroy(a->dec);   /* joins the worker */
    zs_anview_destroy(a->an);     /* joins the analysis worker */
    if (a->script) zs_script_free(a->script);
    zs_tex_free(a->tex_thumbs);
    zs_tex_free(a->tex_orig);
    zs_tex_free(a->tex_edit);
    zs_tex_free(a->tex_crop);
    zs_tex_free(a->tex_photo);
    zs_tex_free(a->tex_detail);
    free(a->edit_rgb);
    free(a->strip_rgb);
    free(a->samples), free(a->sample_rgb), free(a->sample_base);
    zs_tex_free(a->tex_samples);
    zs_views_free(a);
    if (a->have_gauss) zs_gauss_free(&a->gauss);
    free(a->cur_z);
    free(a->dirs), free(a->axes), free(a->gal_mu), free(a->shown), free(a->shown_thumbs);
    if (a->have_pca) zs_pca_free(&a->pca);
    zs_tex_free(a->tex_strip);
    zs_tex_free(a->tex_t);
    for (int i = 0; i < 2; i++) zs_tex_free(a->slot[i].tex), free(a->slot[i].z);
    free(a->detail.rgb);
    free(a->thumbs);
    zs_font_close(&a->font);
    zs_render_free(&a->render);
    free(a->ui);
    if (a->have_attrs) zs_attr_vectors_free(&a->attrs);
    if (a->model) zs_vae_destroy(a->model);
    if (a->gallery) zs_cache_close(a->gallery);
    SDL_GL_DeleteContext(a->gl);
    SDL_DestroyWindow(a->win);
    if (TTF_WasInit()) TTF_Quit();
    SDL_Quit();
}

int zs_app_run(const zs_app_desc *d)
{
    zs_app *a = zs_xcalloc(1, sizeof *a);
    a->desc = *d;
    zs_session_path(a);
    zs_session_load(a);   /* the window size and the files, unless given */
    if (a->desc.width <= 0 || a->desc.height <= 0) a->desc.width = 0;
    if (a->desc.width <= 0) a->desc.width = 1280;
    if (a->desc.height <= 0) a->desc.height = 800;
    zs_app_find_paths(&a->paths, d->data_dir);
    const char *env = getenv("ZS_UI_SCALE");
    a->ui_scale = d->ui_scale > 0 ? d->ui_scale : env && atof(env) >= 0.5 && atof(env) <= 4 ? (float)atof(env) : 1.0f;
    if (!open_window(a)) {
        free(a);
        return ZS_APP_NO_DISPLAY;
    }
    int rc = 0;
    if (!init_gl(a)) {
        rc = 1;
        goto done;
    }
    load_data(a);
    zs_session_apply(a);
    if (a->session_problem[0]) zs_app_message(a, 1, "%s", a->session_problem);
    if (d->script) {
        char err[512];
        if (zs_script_load(&a->script, d->script, err, sizeof err) != 0) {
            fprintf(stderr, "zspace: %s\n", err);
            rc = 1;
            goto done;
        }
    }
    run_loop(a);
    zs_session_save(a);
    bench_report(a);
    if (a->failed) rc = 1;
done:
    shutdown_app(a);
    free(a);
    return rc;
}

/* ---- zspace gui ------------------------------------------------------------------------------------- */
int zs_cmd_gui(int argc, char **argv)
{
    zs_app_desc d = {0};
    const char *size = NULL;
    long frames = 0, delay = 0, train_batch = 0, train_threads = 0, train_nice = 10;
    double seconds = 10, ui_scale = 0;
    int bad = 0;
    for (int i = 1; i < argc && !bad; i++) {
        if (zs_arg_flag(argv, i, "--help") || zs_arg_flag(argv, i, "-h")) {
            printf("usage: zspace [gui] [--model M] [--gallery G.zsf] [--attrs A] [--data-dir D] [--size WxH]\n"
                   "                  [--photo IMAGE] [--data FACES.zsf] [--session FILE] [--ui-scale F]\n\n"
                   "Opens the explorer: a gallery of faces (click one, or Left/Right; the search box filters it,\n"
                   "e.g. Smiling=no Eyeglasses=yes), the face beside its reconstruction, and 40 attribute\n"
                   "sliders that edit it live (each with the gallery's histogram and the face's place on it;\n"
                   "\"orthogonal to\" keeps other attributes fixed; a second set moves along the gallery's 10\n"
                   "principal directions); tabs for your own\n"
                   "photo, interpolation between two faces (A, B, t, lerp/slerp, play, export) and\n"
                   "samples (radius, isotropic, fitted to the gallery or a box [-b, b], each marked inside or\n"
                   "outside the data cloud; click one to edit it) and a walk (an N x N grid along two directions,\n"
                   "exported as a PNG); a Mean face button for the gallery's search and a Sharpen slider for\n"
                   "every decoded face shown. Defaults are the\n"
                   "shipped data/default.safetensors, data/gallery.zsf and data/attrs.safetensors;\n"
                   "--data-dir D reads shaders, font and data from D/shaders, D/assets and D/data.\n"
                   "--ui-scale F (or ZS_UI_SCALE=F) draws everything F times larger, for a dense screen the\n"
                   "desktop does not scale (a Retina display is handled without it).\n"
                   "Keys: Escape or Ctrl-Q quits (Escape first leaves the filter box), R resets the\n"
                   "sliders, N switches linear/nearest filtering, Left/Right select the previous/next face,\n"
                   "Ctrl-S saves the edit as a PNG; in a text box Ctrl-U (or Ctrl-Backspace) empties it.\n"
                   "Photo tab: drop a JPEG or PNG on the window, type its path, or start with --photo IMAGE;\n"
                   "it is cropped and encoded as `zspace edit` does, edited with the same sliders, and\n"
                   "\"Keep detail\" shows the edit at the photo's own resolution (zspace edit --detail).\n"
                   "The session (model, face, sliders, A/B slots, window size, sharpen, sample mode, walk) is\n"
                   "saved on quit and restored on start: --session FILE, default $XDG_CONFIG_HOME/zspace/session\n"
                   "(~/.config/zspace/session).\n"
                   "Train tab: trains a copy of the model in the background on --data FACES.zsf (its train\n"
                   "split) or, without it, on the gallery's faces; Save checkpoint, Use these weights (the\n"
                   "explorer then edits with them) and Recompute attribute vectors.\n"
                   "Analysis tab: statistics of the encoded gallery (components, norms, correlations) and a\n"
                   "PCA or LDA map of its faces coloured by attribute groups (hover: the face; click: current).\n\n"
                   "Test mode: --script FILE replays synthetic events (see src/app/script.c),\n"
                   "--screenshot OUT.png writes the last frame, --frames N quits after N frames,\n"
                   "--decode-delay MS slows the decoder down (to show the UI does not wait for it),\n"
                   "--train-batch N trains with batches of N (default 64), --train-threads N on N threads\n"
                   "(default: every core), --train-nice N at nice level N (default 10; 0: as the UI),\n"
                   "--train-static with one fixed slice of each batch per thread (default: chunks taken as\n"
                   "threads get CPU, so the UI preempting one does not stall the others).\n"
                   "--bench [--seconds 10]: trains in the background and moves the Smiling slider back and forth\n"
                   "for that long, then prints frame_ms_p50/p95/p99 (work per frame at 60 Hz), decode_ms_p50/p95\n"
                   "(slider move to picture on screen) and train_img_per_s, and quits; --bench-idle the same\n"
                   "without touching the sliders (training with the window open).\n");
            return 0;
        }
        if (zs_arg_str(argc, argv, &i, "--model", &d.model, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--gallery", &d.gallery, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--attrs", &d.attrs, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--data-dir", &d.data_dir, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--photo", &d.photo, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--data", &d.train_data, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--session", &d.session, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--train-batch", &train_batch, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--train-threads", &train_threads, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--train-nice", &train_nice, &bad)) continue;
        if (zs_arg_flag(argv, i, "--train-static")) {
            d.train_static = 1;
            continue;
        }
        if (zs_arg_flag(argv, i, "--bench-idle")) {
            d.bench = d.bench_idle = 1;
            continue;
        }
        if (zs_arg_flag(argv, i, "--bench")) {
            d.bench = 1;
            continue;
        }
        if (zs_arg_float(argc, argv, &i, "--seconds", &seconds, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--size", &size, &bad)) continue;
        if (zs_arg_float(argc, argv, &i, "--ui-scale", &ui_scale, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--script", &d.script, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--screenshot", &d.screenshot, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--frames", &frames, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--decode-delay", &delay, &bad)) continue;
        fprintf(stderr, "zspace gui: unknown option '%s'\n", argv[i]);
        bad = 1;
    }
    if (!bad && size && (sscanf(size, "%dx%d", &d.width, &d.height) != 2 || d.width < 320 || d.height < 240 ||
                         d.width > 16384 || d.height > 16384)) {
        fprintf(stderr, "zspace gui: --size wants WIDTHxHEIGHT, e.g. 1280x800, not '%s'\n", size);
        bad = 1;
    }
    if (!bad && (frames < 0 || delay < 0 || delay > 10000 || train_batch < 0 || train_batch > 1024 ||
                 train_threads < 0 || train_threads > 256 || train_nice < 0 || train_nice > 19)) {
        fprintf(stderr, "zspace gui: --frames must be >= 0, --decode-delay 0..10000, --train-batch 0..1024, "
                        "--train-threads 0..256 and --train-nice 0..19\n");
        bad = 1;
    }
    if (bad) return 2;
    d.frames = (int)frames;
    d.decode_delay_ms = (int)delay;
    d.train_batch = (int)train_batch;
    d.train_threads = (int)train_threads;
    d.train_nice = train_nice == 0 ? -1 : (int)train_nice;
    if (!(seconds > 0 && seconds <= 3600)) {
        fprintf(stderr, "zspace gui: --seconds must be in (0, 3600]\n");
        return 2;
    }
    d.bench_seconds = seconds;
    if (ui_scale != 0 && !(ui_scale >= 0.5 && ui_scale <= 4)) {
        fprintf(stderr, "zspace gui: --ui-scale must be in [0.5, 4]\n");
        return 2;
    }
    d.ui_scale = (float)ui_scale;
    return zs_app_run(&d);
}
