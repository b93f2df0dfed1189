/* The explorer's views over the latent space beside the sliders (issue 9,
 * items 3-6): the Sharpen slider of every decoded face shown, the Sample
 * tab's box mode with each sample inside or outside the data cloud, the
 * Walk tab's N x N grid around the current face and the gallery's mean
 * face. As everywhere, the UI thread never runs the model: the Walk grid
 * and the mean face are batches on the decoder's channels (ZS_CH_WALK,
 * ZS_CH_BASE, newest wins; a long batch gives way to the face requests
 * every 16 decodes), the sharpening is the fragment shader's
 * (shaders/sharpen.frag, the formula of zs_sharpen_chw), and the UI thread
 * only forms latents (81 x z floats for the grid), 16 Mahalanobis
 * distances and the mean of the gallery's latents (a few thousand floats)
 * and uploads results. */
#include "app_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "zspace/analysis.h"

static int zdim(const zs_app *a) { return a->model ? a->model->cfg.z : 0; }

void zs_views_direction_name(int i, char *buf, size_t n)
{
    if (i < ZS_NATTR) {
        snprintf(buf, n, "%s", zs_attr_names[i]);
        for (char *p = buf; *p; p++)
            if (*p == '_') *p = ' ';
    } else snprintf(buf, n, "PC %d", i - ZS_NATTR + 1);
}

void zs_views_init(zs_app *a)
{
    int S = a->S ? a->S : 64, Z = zdim(a) ? zdim(a) : 1, W = ZS_WALK_MAX * S;
    a->sample_b = 1.5f;
    a->walk_x = zs_attr_find("Smiling"), a->walk_y = zs_attr_find("Male");
    if (a->walk_x < 0) a->walk_x = 0;
    if (a->walk_y < 0) a->walk_y = 1;
    a->walk_range = 2.0f, a->walk_nf = 7.0f, a->walk_n = 7;
    a->walk_rgb = zs_xcalloc((size_t)W * W, 3);
    a->tex_walk = zs_tex_create(W, W, a->walk_rgb, a->nearest);
    a->walk_req = zs_xcalloc((size_t)3 * Z, sizeof(float));
    snprintf(a->walk_box, sizeof a->walk_box, "zspace_walk.png");
}

void zs_views_free(zs_app *a)
{
    zs_tex_free(a->tex_walk);
    free(a->walk_rgb), free(a->walk_req);
}

/* ---- Sample: the box mode and the data cloud ------------------------------------------------ */
void zs_views_sample_latents(zs_app *a)
{
    int Z = zdim(a);
    if (a->sample_box) zs_latent_sample_box(Z, ZS_NSAMPLES, a->sample_b, a->sample_seed, a->samples);
    else zs_latent_sample(a->sample_fitted ? &a->gauss : NULL, Z, ZS_NSAMPLES, a->sample_radius, a->sample_seed,
                          a->samples);
}

void zs_views_samples_posted(zs_app *a)
{
    a->have_maha = a->have_gauss;
    if (!a->have_gauss) return;
    int Z = zdim(a);
    double q = zs_chi2_quantile99(Z);
    for (int i = 0; i < ZS_NSAMPLES; i++) {
        double d = zs_gauss_mahalanobis(&a->gauss, a->samples + (size_t)i * Z);
        a->sample_maha[i] = (float)d;
        a->sample_inside[i] = d * d <= q;
    }
}

/* ---- Walk ------------------------------------------------------------------------------------ */
/* Post the grid when what it shows changed: the centre (the current face's
 * edited latent, once its picture arrived), a direction, the range or N. */
void zs_views_post(zs_app *a)
{
    if (a->batch_dirty[ZS_CH_BASE]) {   /* a new decoder (new weights): a latent face's picture again */
        a->batch_dirty[ZS_CH_BASE] = 0;
        if (a->src == ZS_SRC_SAMPLE) zs_views_post_base(a);
    }
    if (a->tab != ZS_TAB_WALK || !a->dec || !a->dirs) return;
    int Z = zdim(a), n = a->walk_n;
    if (a->cur_z_key != zs_app_face_key(a) || a->cur_z_key == ZS_NO_FACE_KEY) {
        a->batch_dirty[ZS_CH_WALK] = 1;   /* the centre is still being decoded: posted when it arrives */
        return;
    }
    /* centre, x and y direction: compared with the last post's in place (this runs every frame) */
    const float *want[3] = {a->cur_z, a->dirs + (size_t)a->walk_x * Z, a->dirs + (size_t)a->walk_y * Z};
    int changed = a->batch_dirty[ZS_CH_WALK] || !a->walk_post_n || n != a->walk_post_n ||
                  a->walk_range != a->walk_post_range;
    for (int k = 0; k < 3 && !changed; k++) changed = memcmp(want[k], a->walk_req + (size_t)k * Z, sizeof(float) * Z) != 0;
    if (changed) {
        for (int k = 0; k < 3; k++) memcpy(a->walk_req + (size_t)k * Z, want[k], sizeof(float) * Z);
        float *z = zs_xmalloc(sizeof(float) * (size_t)n * n * Z);
        zs_walk_grid(a->walk_req, a->walk_req + Z, a->walk_req + 2 * (size_t)Z, Z, n, a->walk_range, z);
        zs_decoder_post_batch(a->dec, ZS_CH_WALK, ++a->batch_posted[ZS_CH_WALK], n * n, z);
        free(z);
        a->walk_post_n = n, a->walk_post_range = a->walk_range;
    }
    a->batch_dirty[ZS_CH_WALK] = 0;
}

void zs_views_take(zs_app *a)
{
    zs_batch_result b;
    if (!a->dec) return;
    int S = a->S;
    if (zs_decoder_poll_batch(a->dec, ZS_CH_WALK, &b)) {
        int n = (int)lround(sqrt((double)b.n)), W = n * S;
        for (int i = 0; i < b.n; i++)
            for (int y = 0; y < S; y++)
                memcpy(a->walk_rgb + ((size_t)(i / n * S + y) * W + (size_t)(i % n) * S) * 3,
                       b.rgb + ((size_t)i * S * S + (size_t)y * S) * 3, (size_t)S * 3);
        /* the atlas is ZS_WALK_MAX S wide: the grid in its top-left corner */
        zs_tex_update(a->tex_walk, 0, 0, W, W, a->walk_rgb);
        a->have_walk = 1;
        a->walk_shown_n = n;
        if (b.stamp == a->batch_posted[ZS_CH_WALK]) a->walk_shown_range = a->walk_post_range;
        a->walk_ms = b.ms;
        a->batch_shown[ZS_CH_WALK] = b.stamp;
    }
    if (zs_decoder_poll_batch(a->dec, ZS_CH_BASE, &b)) {
        if (b.stamp == a->batch_posted[ZS_CH_BASE] && a->src == ZS_SRC_SAMPLE && a->base_key == a->sample_key)
            zs_tex_update(a->tex_orig, 0, 0, S, S, b.rgb);
        a->batch_shown[ZS_CH_BASE] = b.stamp;
    }
}

uint8_t *zs_views_sharpened(const zs_app *a, const uint8_t *rgb, int cols, int rows)
{
    if (!(a->sharpen > 0)) return NULL;
    int S = a->S, W = cols * S;
    uint8_t *sharp = zs_xmalloc((size_t)W * rows * S * 3);
    float *x = zs_xmalloc(sizeof(float) * 3 * S * S), *y = zs_xmalloc(sizeof(float) * 3 * S * S);
    uint8_t *cell = zs_xmalloc((size_t)S * S * 3);
    for (int i = 0; i < cols * rows; i++) {
        size_t off = ((size_t)(i / cols * S) * W + (size_t)(i % cols) * S) * 3;
        for (int r = 0; r < S; r++) memcpy(cell + (size_t)r * S * 3, rgb + off + (size_t)r * W * 3, (size_t)S * 3);
        zs_face_to_chw(cell, S, x, 0);
        zs_sharpen_chw(x, S, a->sharpen, y);
        zs_face_from_chw(y, S, cell);
        for (int r = 0; r < S; r++) memcpy(sharp + off + (size_t)r * W * 3, cell + (size_t)r * S * 3, (size_t)S * 3);
    }
    free(x), free(y), free(cell);
    return sharp;
}

/* The PNG of the grid as shown: N S x N S, each face at 1:1, sharpened
 * when the Sharpen slider is on. */
void zs_views_export_walk(zs_app *a)
{
    if (!a->dec || !a->have_walk || a->batch_shown[ZS_CH_WALK] != a->batch_posted[ZS_CH_WALK]) {
        zs_app_message(a, 1, "Export: the grid is still being decoded; try again");
        return;
    }
    if (!a->walk_box[0]) {
        zs_app_message(a, 1, "Export: type where to write the PNG in the box");
        return;
    }
    int S = a->S, n = a->walk_shown_n, W = n * S;
    zs_image im = {W, W, a->walk_rgb};
    uint8_t *sharp = zs_views_sharpened(a, a->walk_rgb, n, n);
    if (sharp) im.rgb = sharp;
    zs_decoder_save(a->dec, a->walk_box, &im);   /* copied */
    free(sharp);
    a->saving = 1;
    zs_app_message(a, 0, "Saving %s ...", a->walk_box);
}

/* The right panel: range, N, export; the two directions, each a list of
 * the 40 attributes and the principal directions. */
void zs_views_walk_tab(zs_app *a)
{
    ui_ctx *ui = a->ui;
    const ui_style *st = &ui->style;
    char label[200], buf[300];
    zs_app_current_label(a, label, sizeof label);
    if (!a->dec) ui->disabled = 1;
    ui_layout_row(ui, 1, NULL, 0);
    zs_strf(buf, sizeof buf, "Around: %s", label);
    ui_label_wrap(ui, buf, st->text);
    ui_layout_row(ui, 2, (int[]){60, 0}, 0);
    ui_label(ui, "range");
    ui_slider(ui, "walk_range", &a->walk_range, 0.5f, 4.0f, "+-%.2f");
    ui_label(ui, "N");
    if (ui_slider(ui, "walk_n", &a->walk_nf, 3.0f, (float)ZS_WALK_MAX, "%.0f")) {
        int n = (int)lroundf(a->walk_nf);
        a->walk_n = n < 3 ? 3 : n > ZS_WALK_MAX ? ZS_WALK_MAX : n;
    }
    ui_layout_row(ui, 2, (int[]){-(ui->lay.body.w / 2 + st->spacing / 2), 0}, 24);
    if (ui_button(ui, "Export grid")) zs_views_export_walk(a);
    ui_textbox(ui, "walk", a->walk_box, sizeof a->walk_box, "walk.png");
    ui_layout_row(ui, 2, (int[]){-(ui->lay.body.w / 2 + st->spacing / 2), 0}, 0);
    ui_label_ex(ui, "columns (x)", st->text_dim, -1);
    ui_label_ex(ui, "rows (y)", st->text_dim, -1);
    ui_rect rest = ui_layout_rest(ui);
    int half = (rest.w - st->spacing) / 2;
    for (int axis = 0; axis < 2; axis++) {
        ui_rect r = {rest.x + axis * (half + st->spacing), rest.y, half, rest.h};
        ui_begin_scroll(ui, axis ? "walk_y" : "walk_x", r, &a->walk_scroll[axis]);
        ui_layout_row(ui, 1, NULL, ui->text_h + 4);
        int *sel = axis ? &a->walk_y : &a->walk_x;
        for (int i = 0; i < ZS_NSLIDERS; i++) {
            char name[48], disp[40];
            if (i < ZS_NATTR && !a->have_attrs) continue;
            if (i >= ZS_NATTR && !a->have_pca) continue;
            zs_views_direction_name(i, disp, sizeof disp);
            snprintf(name, sizeof name, "%c_%s", axis ? 'y' : 'x', i < ZS_NATTR ? zs_attr_names[i] : disp);
            if (ui_choice(ui, name, disp, *sel == i)) *sel = i;
        }
        ui_end_scroll(ui);
    }
    ui->disabled = 0;
}

/* The centre: the grid, the current face in the middle cell (N odd). */
void zs_views_walk_centre(zs_app *a)
{
    ui_ctx *ui = a->ui;
    const ui_style *st = &ui->style;
    ui_rect b = ui->lay.body;
    int S = a->S ? a->S : 64, n = a->have_walk ? a->walk_shown_n : a->walk_n, sp = 2;
    /* lab: the columns' label above the grid; left: the rows' figures beside it */
    int lab = ui->text_h + 4, left = ui->text_width(ui->font, "+0.0", 4) + 20;
    int room_w = b.w - left - 2 * st->pad, room_h = b.h - 2 * st->row_h - 4 * (ui->text_h + 2) - lab;
    int cell = ((room_w < room_h ? room_w : room_h) - (n - 1) * sp) / n;
    if (cell >= S) cell = cell / S * S;
    if (cell < 16) cell = 16;
    int gw = n * cell + (n - 1) * sp, x0 = b.x + left + (b.w - left - gw) / 2, y0 = b.y + st->row_h + lab;
    char xn[40], yn[40], buf[400];
    zs_views_direction_name(a->walk_x, xn, sizeof xn);
    zs_views_direction_name(a->walk_y, yn, sizeof yn);
    const char *unit_x = a->walk_x < ZS_NATTR ? "" : " sd", *unit_y = a->walk_y < ZS_NATTR ? "" : " sd";
    double R = a->have_walk ? a->walk_shown_range : a->walk_range;
    int fresh = a->have_walk && a->batch_shown[ZS_CH_WALK] == a->batch_posted[ZS_CH_WALK] && !a->batch_dirty[ZS_CH_WALK];
    snprintf(buf, sizeof buf, "Walk: %d x %d around the current face%s", n, n, fresh ? "" : "  (decoding...)");
    ui_draw_text_in(ui, (ui_rect){x0 - left + 6, b.y, gw + left, st->row_h}, buf, st->text, -1);
    snprintf(buf, sizeof buf, "%s  %+.2f%s  ->  %+.2f%s", xn, -R, unit_x, R, unit_x);
    ui_draw_text_in(ui, (ui_rect){x0, y0 - lab, gw, lab}, buf, st->text_dim, 0);
    for (int i = 0; i < n * n && a->have_walk; i++) {
        int r = i / n, q = i % n;
        ui_rect c = {x0 + q * (cell + sp), y0 + r * (cell + sp), cell, cell};
        float k = 1.0f / ZS_WALK_MAX;
        ui_draw_image(ui, c, (ui_image){a->tex_walk, q * k, r * k, (q + 1) * k, (r + 1) * k, a->sharpen});
        char name[24];
        snprintf(name, sizeof name, "walk/%d", i);
        ui_name(ui, name, c);
    }
    if (!a->have_walk) {
        ui_rect all = {x0, y0, gw, gw};
        ui_draw_rect(ui, all, st->bg);
        ui_draw_text_in(ui, all, a->dec ? "decoding..." : "no model", st->text, 0);
    } else if (n % 2) {   /* the middle cell is the current face itself */
        ui_draw_box(ui, (ui_rect){x0 + n / 2 * (cell + sp) - 2, y0 + n / 2 * (cell + sp) - 2, cell + 4, cell + 4},
                    st->accent, 2);
    }
    ui_name(ui, "image/walk", (ui_rect){x0, y0, gw, gw});
    /* the rows' direction: an arrow down the left side with its name at the ends */
    ui_draw_rect(ui, (ui_rect){x0 - 5, y0, 2, gw}, st->text_dim);
    snprintf(buf, sizeof buf, "%+.1f", -R);
    ui_draw_text_in(ui, (ui_rect){x0 - left, y0, left - 7, ui->text_h}, buf, st->text_dim, 1);
    snprintf(buf, sizeof buf, "%+.1f", R);
    ui_draw_text_in(ui, (ui_rect){x0 - left, y0 + gw - ui->text_h, left - 7, ui->text_h}, buf, st->text_dim, 1);
    int ytext = y0 + gw + st->pad;
    ui_layout_body(ui, (ui_rect){x0, ytext, gw > 300 ? gw : 300, b.y + b.h - ytext});
    snprintf(buf, sizeof buf, "Rows: %s from %+.2f%s (top) to %+.2f%s (bottom). Columns: %s, left to right.", yn, -R,
             unit_y, R, unit_y, xn);
    ui_label_wrap(ui, buf, st->text);
    ui_label_wrap(ui, "z = centre + a v_x + b v_y, the centre the current face's latent with its slider edit (the "
                      "framed cell); the grid `zspace walk` draws.", st->text_dim);
    if (fresh) {
        snprintf(buf, sizeof buf, "%d faces decoded in %.0f ms", n * n, a->walk_ms);
        ui_label_wrap(ui, buf, st->text_dim);
    }
}

/* ---- the gallery's mean face -------------------------------------------------------------------- */
void zs_views_mean_face(zs_app *a)
{
    int Z = zdim(a);
    if (!a->dec || !a->gallery) {
        zs_app_message(a, 1, "Mean face: %s", !a->dec ? "no model is loaded" : "no gallery");
        return;
    }
    if (!a->gal_mu || a->gal_n != a->nthumbs) {
        zs_app_message(a, 1, "Mean face: the gallery's faces are still being encoded; try again in a moment");
        return;
    }
    zs_query q;
    char msg[400];
    if (zs_query_parse(a->search, &q, msg, sizeof msg) != 0) {
        zs_app_message(a, 1, "Mean face: %s", msg);
        return;
    }
    /* the gallery's latents as a zs_latents, so `zspace mean --where` and this are one computation */
    int n = a->gal_n;
    zs_latents L = {.n = n, .z = Z, .mu = a->gal_mu};
    L.attr = zs_xmalloc((size_t)n * ZS_NATTR);
    L.part = zs_xmalloc((size_t)n);
    for (int i = 0; i < n; i++) {
        memcpy(L.attr + (size_t)i * ZS_NATTR, zs_cache_attrs(a->gallery, i), ZS_NATTR);
        L.part[i] = (int8_t)zs_cache_partition(a->gallery, i);
    }
    float *mean = zs_xmalloc(sizeof(float) * Z);
    int count = zs_latents_group_mean(&L, &q, ZS_SPLIT_ALL, mean);
    free(L.attr), free(L.part);
    const char *what = a->search[0] ? a->search : "no condition";
    if (count == 0) {
        zs_app_message(a, 1, "Mean face: no gallery face matches '%s'", a->search);
        free(mean);
        return;
    }
    memcpy(a->sample_base, mean, sizeof(float) * Z);
    free(mean);
    a->sample_key++;
    a->src = ZS_SRC_SAMPLE;
    zs_views_post_base(a);
    a->mean_n = count;
    snprintf(a->mean_query, sizeof a->mean_query, "%s", what);
    if (a->tab != ZS_TAB_ATTRS && a->tab != ZS_TAB_WALK) a->tab = ZS_TAB_ATTRS;
    a->dirty = 1;
    zs_app_message(a, 0, "Mean face: the mean latent of %d face%s (%s) is the current face", count,
                   count == 1 ? "" : "s", what);
}

void zs_views_post_base(zs_app *a)
{
    if (!a->dec) return;
    a->base_key = a->sample_key;   /* a picture for another face (a newer pick) is not shown */
    zs_decoder_post_batch(a->dec, ZS_CH_BASE, ++a->batch_posted[ZS_CH_BASE], 1, a->sample_base);
}

/* ---- Sharpen ------------------------------------------------------------------------------------ */
void zs_views_sharpen_slider(zs_app *a, ui_rect r)
{
    ui_ctx *ui = a->ui;
    ui_layout_body(ui, r);
    ui_layout_row(ui, 2, (int[]){ui->text_width(ui->font, "Sharpen", 7) + 8, 0}, r.h);
    ui_label_ex(ui, "Sharpen", ui->style.text_dim, 1);
    ui_slider(ui, "sharpen", &a->sharpen, 0.0f, 4.0f, a->sharpen > 0 ? "%.2f" : "off");
}
