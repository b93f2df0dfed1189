/*
 * The explorer: window, main loop, input and the data it shows.
 *
 * Threads and cores. The UI thread owns SDL, OpenGL and every piece of UI
 * state, and never runs the model: it only copies requests and results.
 * One decoder thread (decoder.c) owns its own zs_vae_infer and serves the
 * newest request (encode the face when it changed, add the slider
 * vectors, decode); requests it has not taken yet are overwritten, so a
 * fast slider drag costs one decode per frame at most, never a queue.
 * OpenBLAS runs single-threaded in the whole process (zs_blas_init in
 * main; core.h), so the decoder's sgemm keeps to one core whatever else
 * runs; Mesa's llvmpipe, when there is no GPU, renders with its own
 * threads on the others. (A background trainer, a later tab, takes the
 * cores the UI does not need through its own zs_team.)
 *
 * The loop waits for events while nothing is pending and never waits for
 * the decoder: the worker pushes an SDL user event when a result is ready
 * (SDL_PushEvent is thread-safe), which wakes the loop to upload it as a
 * texture. Quitting joins the worker (at most one decode, ~1 ms, away).
 *
 * Test mode (--script, --frames, --screenshot; script.c) replays
 * synthetic SDL events and writes screenshots read back from the GL back
 * buffer, so tests/test_gui.c can drive the real window headless.
 */
#include "app_impl.h"

#include <SDL_ttf.h>
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

/* ---- window and GL ------------------------------------------------------------ */
static int open_window(zs_app *a)
{
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
    a->win = SDL_CreateWindow("zspace", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, a->desc.width,
                              a->desc.height, SDL_WINDOW_OPENGL | SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
    if (a->win) a->gl = SDL_GL_CreateContext(a->win);
    if (!a->win || !a->gl) {
        fprintf(stderr, "zspace: cannot open the explorer window with OpenGL 3.3 core (%s).\n\n", SDL_GetError());
        if (a->win) SDL_DestroyWindow(a->win);
        SDL_Quit();
        return 0;
    }
    SDL_SetWindowMinimumSize(a->win, 960, 600);
    SDL_GL_MakeCurrent(a->win, a->gl);
    /* test mode renders as fast as it can; otherwise follow the display */
    SDL_GL_SetSwapInterval(a->desc.script || a->desc.frames ? 0 : 1);
    a->wake_event = SDL_RegisterEvents(1);
    return 1;
}

static void update_sizes(zs_app *a)
{
    SDL_GetWindowSize(a->win, &a->win_w, &a->win_h);
    SDL_GL_GetDrawableSize(a->win, &a->fb_w, &a->fb_h);
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
    int S = a->S, cols = 32, max_tex = 0;
    glGetIntegerv(GL_MAX_TEXTURE_SIZE, &max_tex);
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
        a->thumbs[i] = (ui_image){0, (float)cx / W, (float)cy / H, (float)(cx + S) / W, (float)(cy + S) / H};
    }
    a->tex_thumbs = zs_tex_create(W, H, atlas, 1);
    for (int i = 0; i < a->nthumbs; i++) a->thumbs[i].tex = a->tex_thumbs;
    free(atlas);
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

    if (zs_ckpt_load_model(a->model_path, &a->model, &a->info) != ZS_OK) {
        zs_app_error(a, "model: %s", zs_last_error());
        a->model = NULL;
    }
    load_gallery(a);
    if (a->model && a->gallery && a->S != a->model->cfg.image) {
        zs_app_error(a, "%s has %dx%d faces but the model %s takes %dx%d", a->gallery_path, a->S, a->S,
                     a->model_path, a->model->cfg.image, a->model->cfg.image);
        zs_vae_destroy(a->model);
        a->model = NULL;
    }
    load_attrs(a);
    if (a->model) {
        a->dec = zs_decoder_create(a->model, a->have_attrs ? &a->attrs : NULL, wake_ui, a);
        zs_decoder_set_delay(a->dec, a->desc.decode_delay_ms);
    }
    int S = a->S ? a->S : 64;
    uint8_t *black = zs_xcalloc((size_t)S * S, 3);
    a->tex_orig = zs_tex_create(S, S, black, a->nearest);
    a->tex_edit = zs_tex_create(S, S, black, a->nearest);
    free(black);
    a->current = -1;
    if (a->nthumbs > 0) zs_app_select(a, 0);
}

/* ---- actions -------------------------------------------------------------------------- */
void zs_app_select(zs_app *a, int face)
{
    if (face < 0 || face >= a->nthumbs) return;
    a->current = face;
    zs_tex_update(a->tex_orig, 0, 0, a->S, a->S, zs_cache_pixels(a->gallery, face));
    a->dirty = 1;
    a->reveal = 1;
}

void zs_app_reset(zs_app *a)
{
    memset(a->strength, 0, sizeof a->strength);
    a->dirty = 1;
}

void zs_app_set_nearest(zs_app *a, int nearest)
{
    a->nearest = nearest;
    zs_tex_set_filter(a->tex_orig, nearest);
    zs_tex_set_filter(a->tex_edit, nearest);
}

static void post_request(zs_app *a)
{
    if (!a->dirty) return;
    a->dirty = 0;
    if (!a->dec || a->current < 0) return;
    zs_decode_req req = {.stamp = ++a->stamp_posted, .face_key = (uint64_t)a->current,
                         .face = zs_cache_pixels(a->gallery, a->current)};
    memcpy(req.strength, a->strength, sizeof req.strength);
    zs_decoder_post(a->dec, &req);
}

static void take_result(zs_app *a)
{
    zs_decode_result res;
    if (!a->dec || !zs_decoder_poll(a->dec, &res)) return;
    zs_tex_update(a->tex_edit, 0, 0, a->S, a->S, res.rgb);
    a->have_edit = 1;
    a->stamp_shown = res.stamp;
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
    if (ui_has_focus(a->ui)) {   /* the text box has the keyboard: letters arrive as text */
        if (sym == SDLK_BACKSPACE) ui_input_key(a->ui, UI_KEY_BACKSPACE);
        if (sym == SDLK_RETURN || sym == SDLK_KP_ENTER) ui_input_key(a->ui, UI_KEY_RETURN);
        if (sym == SDLK_ESCAPE) ui_input_key(a->ui, UI_KEY_ESCAPE);
        return;
    }
    if (ctrl || (k->keysym.mod & KMOD_ALT)) return;
    switch (sym) {
    case SDLK_ESCAPE: a->quit = 1; break;
    case SDLK_r: zs_app_reset(a); break;
    case SDLK_n: zs_app_set_nearest(a, !a->nearest); break;
    case SDLK_LEFT: zs_app_select(a, a->current - 1); break;
    case SDLK_RIGHT: zs_app_select(a, a->current + 1); break;
    default: break;
    }
}

static void on_event(zs_app *a, const SDL_Event *e)
{
    ui_ctx *ui = a->ui;
    switch (e->type) {
    case SDL_QUIT: a->quit = 1; break;
    case SDL_MOUSEMOTION: ui_input_mousemove(ui, e->motion.x, e->motion.y); break;
    case SDL_MOUSEBUTTONDOWN:
        if (e->button.button == SDL_BUTTON_LEFT) ui_input_mousedown(ui, e->button.x, e->button.y);
        break;
    case SDL_MOUSEBUTTONUP:
        if (e->button.button == SDL_BUTTON_LEFT) ui_input_mouseup(ui, e->button.x, e->button.y);
        break;
    case SDL_MOUSEWHEEL:
        ui_input_mousemove(ui, e->wheel.mouseX, e->wheel.mouseY);
        ui_input_wheel(ui, e->wheel.direction == SDL_MOUSEWHEEL_FLIPPED ? -e->wheel.y : e->wheel.y);
        break;
    case SDL_TEXTINPUT: ui_input_text(ui, e->text.text); break;
    case SDL_KEYDOWN: on_key(a, &e->key); break;
    default: break;
    }
}

/* ---- the loop ---------------------------------------------------------------------------------- */
static void write_screenshot(zs_app *a, const char *path)
{
    zs_image im;
    zs_render_read(&a->render, &im);
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

static void frame(zs_app *a, double t0)
{
    int busy = a->dec && zs_decoder_get_stats(a->dec).busy;
    take_result(a);
    update_sizes(a);
    zs_view_build(a);   /* widgets may change the sliders or the face ... */
    post_request(a);    /* ... and the newest state goes to the worker at once */
    busy = busy || (a->dec && zs_decoder_get_stats(a->dec).busy);   /* a decode was in flight this frame */
    zs_render_frame(&a->render, a->fb_w, a->fb_h, a->scale, a->ui, &a->font);
    glFinish();   /* count the rendering itself (llvmpipe draws on the CPU), not the wait for vsync */
    double ms = (zs_now() - t0) * 1e3;
    a->timing[a->ntiming % ZS_APP_TIMING] = (float)ms;
    a->timing_busy[a->ntiming % ZS_APP_TIMING] = (uint8_t)busy;
    a->ntiming++;
    if (a->shot_path[0]) {
        write_screenshot(a, a->shot_path);
        a->shot_path[0] = 0;
    }
    int last = a->quit || (a->desc.frames > 0 && a->frame + 1 >= a->desc.frames);
    if (last && a->desc.screenshot) write_screenshot(a, a->desc.screenshot);
    SDL_GL_SwapWindow(a->win);
    a->frame_ms = recent_median(a);
    a->frame++;
    if (last) a->quit = 1;
}

static void run_loop(zs_app *a)
{
    while (!a->quit) {
        SDL_Event e;
        if (a->script) zs_script_tick(a->script, a);
        if (!a->dirty && !a->script && !a->desc.frames) {
            /* nothing pending: sleep until an event (the worker's wake-up is one) */
            if (!SDL_WaitEventTimeout(&e, 1000)) continue;
            on_event(a, &e);
        } else if (!a->dirty && a->dec && zs_decoder_get_stats(a->dec).busy) {
            if (SDL_WaitEventTimeout(&e, 20)) on_event(a, &e);   /* test mode: not a busy loop */
        }
        double t0 = zs_now();
        while (SDL_PollEvent(&e)) on_event(a, &e);
        frame(a, t0);
    }
}

static void shutdown_app(zs_app *a)
{
    zs_decoder_destroy(a->dec);   /* joins the worker */
    if (a->script) zs_script_free(a->script);
    zs_tex_free(a->tex_thumbs);
    zs_tex_free(a->tex_orig);
    zs_tex_free(a->tex_edit);
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
    if (a->desc.width <= 0) a->desc.width = 1280;
    if (a->desc.height <= 0) a->desc.height = 800;
    zs_app_find_paths(&a->paths, d->data_dir);
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
    if (d->script) {
        char err[512];
        if (zs_script_load(&a->script, d->script, err, sizeof err) != 0) {
            fprintf(stderr, "zspace: %s\n", err);
            rc = 1;
            goto done;
        }
    }
    run_loop(a);
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
    long frames = 0, delay = 0;
    int bad = 0;
    for (int i = 1; i < argc && !bad; i++) {
        if (zs_arg_flag(argv, i, "--help") || zs_arg_flag(argv, i, "-h")) {
            printf("usage: zspace [gui] [--model M] [--gallery G.zsf] [--attrs A] [--data-dir D] [--size WxH]\n\n"
                   "Opens the explorer: a gallery of faces (click one, or Left/Right), the face beside\n"
                   "its reconstruction, and 40 attribute sliders that edit it live. Defaults are the\n"
                   "shipped data/default.safetensors, data/gallery.zsf and data/attrs.safetensors;\n"
                   "--data-dir D reads shaders, font and data from D/shaders, D/assets and D/data.\n"
                   "Keys: Escape or Ctrl-Q quits (Escape first leaves the filter box), R resets the\n"
                   "sliders, N switches linear/nearest filtering, Left/Right select the previous/next face.\n\n"
                   "Test mode: --script FILE replays synthetic events (see src/app/script.c),\n"
                   "--screenshot OUT.png writes the last frame, --frames N quits after N frames,\n"
                   "--decode-delay MS slows the decoder down (to show the UI does not wait for it).\n");
            return 0;
        }
        if (zs_arg_str(argc, argv, &i, "--model", &d.model, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--gallery", &d.gallery, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--attrs", &d.attrs, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--data-dir", &d.data_dir, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--size", &size, &bad)) continue;
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
    if (!bad && (frames < 0 || delay < 0 || delay > 10000)) {
        fprintf(stderr, "zspace gui: --frames must be >= 0 and --decode-delay 0..10000\n");
        bad = 1;
    }
    if (bad) return 2;
    d.frames = (int)frames;
    d.decode_delay_ms = (int)delay;
    return zs_app_run(&d);
}
