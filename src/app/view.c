/* What one frame of the explorer shows (DESIGN.md, "The GUI"):
 *
 *   +-----------+---------------------------------+----------------+
 *   | search    |  Original        Reconstruction | [Attributes]   |
 *   | gallery   |  +---------+     +---------+    | filter | Reset |
 *   | (scroll,  |  |  face   |     |  edit   |    | [attr.][PCs]   |
 *   |  click a  |  +---------+     +---------+    | orthogonal to  |
 *   |  face)    |  id, labels, edit, keys         | name slider AUC|
 *   +-----------+---------------------------------+----------------+
 *   | status: model, faces, frame ms, decode ms, problems           |
 *   +---------------------------------------------------------------+
 *
 * Tabs (right): Attributes; Photo (path box, keep detail, save, and the
 * same sliders: the centre shows the photo's crop and its edit, or the
 * photo and its keep-detail edit); Interpolate (the centre shows A, the
 * face at t, B and the strip); Sample (the centre shows the 4 x 4 grid);
 * Train; Walk (views.c: the N x N grid); Analysis (analysisview.c:
 * statistics of the encoded gallery, or its PCA / LDA map). The status line
 * ends with the Sharpen slider (views.c), the gallery's count with Mean face.
 * What the sliders edit (a->src) is a gallery face, the photo or a sample.
 */
#include "app_impl.h"
#include "zspace/analysis.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

#define STATUS_H 26
#define THUMB 64
#define RIGHT_W 360
#define NAME_W 150
#define AUC_W 44
#define SAMPLE_GAP 10    /* between the Sample grid's cells */
#define SHARPEN_W 230   /* the status line's Sharpen slider */

/* "Mouth_Slightly_Open" -> "Mouth Slightly Open" */
static void display_name(int k, char *buf, size_t n)
{
    snprintf(buf, n, "%s", zs_attr_names[k]);
    for (char *p = buf; *p; p++)
        if (*p == '_') *p = ' ';
}

/* Case-insensitive substring, '_' and ' ' alike; the empty filter matches all. */
int zs_view_attr_matches(const char *filter, int k)
{
    const char *name = zs_attr_names[k];
    size_t nf = strlen(filter), nn = strlen(name);
    for (size_t i = 0; i + nf <= nn; i++) {
        size_t j = 0;
        for (; j < nf; j++) {
            int a = tolower((unsigned char)name[i + j]), b = tolower((unsigned char)filter[j]);
            if (a == '_') a = ' ';
            if (b == '_') b = ' ';
            if (a != b) break;
        }
        if (j == nf) return 1;
    }
    return 0;
}

static void gallery_panel(zs_app *a, ui_rect r)
{
    ui_ctx *ui = a->ui;
    ui_panel(ui, r);
    char buf[128];
    ui_layout_row(ui, 1, NULL, 24);
    if (!a->gallery) ui->disabled = 1;
    if (ui_textbox(ui, "search", a->search, sizeof a->search, "search: Smiling=no Male") & UI_CHANGED)
        zs_gallery_search(a);
    ui->disabled = 0;
    ui_layout_row(ui, 2, (int[]){-(84 + ui->style.spacing), 0}, 22);
    if (!a->gallery) snprintf(buf, sizeof buf, "Gallery: none");
    else if (a->nshown == a->nthumbs) snprintf(buf, sizeof buf, "%d faces", a->nthumbs);
    else snprintf(buf, sizeof buf, "%d of %d", a->nshown, a->nthumbs);
    ui_label_ex(ui, buf, ui->style.text, -1);
    if (!a->gallery || !a->dec) ui->disabled = 1;
    if (ui_button(ui, "Mean face")) zs_views_mean_face(a);   /* of the faces the search lets through */
    ui->disabled = 0;
    ui_layout_row(ui, 1, NULL, 0);
    if (a->src == ZS_SRC_SAMPLE && a->mean_n > 0) {
        zs_strf(buf, sizeof buf, "Current: mean of %d faces", a->mean_n);
        ui_label_ex(ui, buf, ui->style.accent, -1);
    }
    if (a->search_msg[0]) ui_label_wrap(ui, a->search_msg, ui->style.error);
    int sel = -1;   /* the current face's place among the shown ones */
    for (int i = 0; i < a->nshown && a->src == ZS_SRC_GALLERY; i++)
        if (a->shown[i] == a->current) sel = i;
    ui_begin_scroll(ui, "gallery", ui_layout_rest(ui), &a->gallery_scroll);
    int hit = ui_image_grid(ui, "thumb", a->shown_thumbs, a->nshown, THUMB, sel, a->reveal);
    ui_end_scroll(ui);
    a->reveal = 0;
    if (hit >= 0) hit = a->shown[hit];
    if (hit >= 0 && (hit != a->current || a->tab == ZS_TAB_PHOTO || a->src != ZS_SRC_GALLERY)) {
        zs_app_select(a, hit);
        if (a->tab == ZS_TAB_PHOTO) a->tab = ZS_TAB_ATTRS;   /* the gallery face becomes what is edited */
    }
}

/* A face image, or a dark box with a note when there is none. */
static void face_box(ui_ctx *ui, const char *name, ui_rect r, unsigned tex, int shown, const char *note, float sharpen)
{
    if (shown) ui_draw_image(ui, r, (ui_image){tex, 0, 0, 1, 1, sharpen});
    else {
        ui_draw_rect(ui, r, ui->style.bg);
        ui_draw_text_in(ui, r, note, ui->style.text_dim, 0);
    }
    ui_name(ui, name, r);
}

/* An image of w x h scaled to fit r, centred; the rectangle it covers. */
static ui_rect fit_rect(ui_rect r, int w, int h)
{
    if (w <= 0 || h <= 0) return r;
    double k = (double)r.w / w < (double)r.h / h ? (double)r.w / w : (double)r.h / h;
    int fw = (int)(w * k + 0.5), fh = (int)(h * k + 0.5);
    return (ui_rect){r.x + (r.w - fw) / 2, r.y + (r.h - fh) / 2, fw, fh};
}

/* "Edit: Smiling +1.50, PC 2 -1.00 sd (orthogonal to Male)" */
static void edit_summary(zs_app *a, char *buf, size_t size)
{
    int n = snprintf(buf, size, "Edit:");
    for (int i = 0; i < ZS_NSLIDERS && n < (int)size - 60; i++) {
        float v = *zs_sliders_value(a, i);
        if (v == 0.0f) continue;
        char name[40];
        if (i < ZS_NATTR) display_name(i, name, sizeof name);
        else snprintf(name, sizeof name, "PC %d", i - ZS_NATTR + 1);
        n += snprintf(buf + n, size - (size_t)n, "%s %s %+.2f%s", n > 5 ? "," : "", name, (double)v,
                      i < ZS_NATTR ? "" : " sd");
    }
    for (int i = 0; i < a->nkeep && n < (int)size - 40; i++)
        n += snprintf(buf + n, size - (size_t)n, "%s%s", i ? ", " : " (orthogonal to ", zs_attr_names[a->keep[i]]);
    if (a->nkeep && n < (int)size - 2) snprintf(buf + n, size - (size_t)n, ")");
}

/* Framing the face: a drag on the picture r moves the crop, the wheel zooms
 * (smaller square: the face larger). On the model's input (r shows the
 * crop) the picture follows the mouse, so the square moves the other way;
 * on the whole photo (follow: r shows all of it) the square follows. */
static void crop_drag(zs_app *a, const char *name, ui_rect r, int follow)
{
    int dx, dy, wheel;
    if (!ui_drag_area(a->ui, name, r, &dx, &dy, &wheel) || r.w <= 0) return;
    double x0, y0, sd;
    zs_crop_rect(a->photo_crop, a->photo_w, a->photo_h, &x0, &y0, &sd);
    double k = follow ? (double)a->photo_w / r.w : -sd / r.w;   /* photo pixels per window pixel */
    x0 += dx * k, y0 += dy * k;
    if (wheel) {
        double ns = sd * pow(0.9, wheel);
        x0 += (sd - ns) / 2, y0 += (sd - ns) / 2, sd = ns;
    }
    zs_crop c = zs_crop_from_rect(a->photo_w, a->photo_h, x0, y0, sd);
    zs_app_set_crop(a, &c);
}

/* The Photo tab's centre: the model's input (the crop) beside its edit, or
 * in keep-detail mode the whole photo, the crop's square on it, beside the
 * edit at its resolution. */
static void photo_centre(zs_app *a, ui_rect ro, ui_rect re, int side)
{
    ui_ctx *ui = a->ui;
    const ui_style *st = &ui->style;
    int edited = zs_sliders_edited(a), ready = a->have_edit && a->edit_key == zs_app_face_key(a);
    int y = ui->lay.body.y;
    if (a->keep_detail) {
        ui_draw_text_in(ui, (ui_rect){ro.x - st->spacing, y, side, st->row_h}, "Photo", st->text, -1);
        ui_draw_text_in(ui, (ui_rect){re.x - st->spacing, y, side, st->row_h},
                        edited ? "Edit, keeping detail" : "Keep detail (no edit yet)", st->text, -1);
        ui_rect fo = fit_rect(ro, a->photo_w, a->photo_h), fe = fit_rect(re, a->photo_w, a->photo_h);
        ui_draw_rect(ui, ro, st->bg);
        ui_draw_rect(ui, re, st->bg);
        ui_draw_image(ui, fo, (ui_image){a->tex_photo, 0, 0, 1, 1, 0});
        ui_name(ui, "image/photo", fo);
        if (a->photo_w > 0 && fo.w > 0) {
            double k = (double)a->photo_w / fo.w, x0, y0, sd;
            zs_crop_rect(a->photo_crop, a->photo_w, a->photo_h, &x0, &y0, &sd);
            ui_push_clip(ui, fo);
            ui_draw_box(ui, (ui_rect){fo.x + (int)lround(x0 / k), fo.y + (int)lround(y0 / k), (int)lround(sd / k),
                                      (int)lround(sd / k)},
                        st->accent, 2);
            ui_pop_clip(ui);
            crop_drag(a, "photo", fo, 1);
        }
        if (a->have_detail && ready) {
            ui_draw_image(ui, fe, (ui_image){a->tex_detail, 0, 0, 1, 1, 0});
            ui_name(ui, "image/detail", fe);
        } else ui_draw_text_in(ui, re, "computing...", st->text_dim, 0);
    } else {
        ui_draw_text_in(ui, (ui_rect){ro.x - st->spacing, y, side, st->row_h}, "Photo crop (model input)", st->text,
                        -1);
        ui_draw_text_in(ui, (ui_rect){re.x - st->spacing, y, side, st->row_h}, edited ? "Edit" : "Reconstruction",
                        st->text, -1);
        face_box(ui, "image/crop", ro, a->tex_crop, 1, "", 0);
        crop_drag(a, "crop", ro, 0);
        face_box(ui, "image/edit", re, a->tex_edit, ready, "encoding...", a->sharpen);
    }
    int ytext = ro.y + side + st->pad;
    ui_layout_body(ui, (ui_rect){ro.x, ytext, re.x + re.w - ro.x, ui->lay.body.y + ui->lay.body.h - ytext});
    char buf[PATH_MAX + 200];
    double x0, y0, sd;
    zs_crop_rect(a->photo_crop, a->photo_w, a->photo_h, &x0, &y0, &sd);
    zs_strf(buf, sizeof buf, "%s   %dx%d   crop %.0f px square at (%.0f, %.0f)%s -> %dx%d", a->photo_path,
            a->photo_w, a->photo_h, sd, x0, y0, zs_app_crop_is_users(a) ? ", yours" : "", a->S, a->S);
    ui_label_wrap(ui, buf, st->text);
    if (edited) {
        edit_summary(a, buf, sizeof buf);
        ui_label_wrap(ui, buf, st->text);
    }
    snprintf(buf, sizeof buf,
             "Drag the %s to frame the face from hairline to chin, wheel to zoom   Drop a photo on the window or "
             "type its path   Ctrl-S: save   R: reset sliders   N: %s",
             a->keep_detail ? "square" : "crop", a->nearest ? "nearest" : "linear");
    ui_label_wrap(ui, buf, st->text_dim);
}

/* The Interpolate tab's centre: A, the face at t, B; below, the strip t = 0..1. */
static void interp_centre(zs_app *a)
{
    ui_ctx *ui = a->ui;
    const ui_style *st = &ui->style;
    ui_rect b = ui->lay.body;
    int S = a->S ? a->S : 64, gap = 2 * st->pad;
    int small = b.w >= 5 * S + 4 * gap ? 2 * S : S;
    int big = b.w - 2 * small - 2 * gap;
    int strip_cell = (b.w - (ZS_STRIP_N - 1) * st->spacing) / ZS_STRIP_N;
    if (strip_cell > 2 * S) strip_cell = 2 * S;
    int room = b.h - 2 * st->row_h - strip_cell - 6 * (ui->text_h + 2) - 3 * st->pad;
    if (big > room) big = room;
    if (big >= S) big = big / S * S;
    if (big < S) big = S;
    int x0 = b.x + (b.w - big - 2 * small - 2 * gap) / 2, y0 = b.y + st->row_h + st->spacing;
    ui_rect ra = {x0, y0 + (big - small) / 2, small, small}, rt = {x0 + small + gap, y0, big, big};
    ui_rect rb = {rt.x + big + gap, ra.y, small, small};
    int both = a->slot[0].set && a->slot[1].set;
    char buf[256];
    ui_draw_text_in(ui, (ui_rect){ra.x, b.y, small, st->row_h}, "A", st->text, 0);
    ui_draw_text_in(ui, (ui_rect){rb.x, b.y, small, st->row_h}, "B", st->text, 0);
    snprintf(buf, sizeof buf, "t = %.2f  (%s)", (double)a->interp_t, a->interp_slerp ? "slerp" : "lerp");
    ui_draw_text_in(ui, (ui_rect){rt.x, b.y, big, st->row_h}, buf, st->text, 0);
    face_box(ui, "image/A", ra, a->slot[0].tex, a->slot[0].set, "Set A", a->sharpen);
    face_box(ui, "image/B", rb, a->slot[1].tex, a->slot[1].set, "Set B", a->sharpen);
    face_box(ui, "image/t", rt, a->tex_t, both && a->have_t,
             both ? "decoding..." : "Set A and B (right) from a gallery face or the photo", a->sharpen);
    for (int i = 0; i < 2; i++) {   /* the slot's name under it; " (edited)" on a line of its own */
        if (!a->slot[i].set) continue;
        ui_rect la = {(i ? rb.x : ra.x) - gap / 2, ra.y + small + 2, small + gap, ui->text_h};
        char name[64];
        snprintf(name, sizeof name, "%s", a->slot[i].name);
        char *paren = strstr(name, " (");
        if (paren) *paren = 0;
        ui_draw_text_in(ui, la, name, st->text_dim, 0);
        la.y += ui->text_h;
        if (paren) ui_draw_text_in(ui, la, paren + 1, st->text_dim, 0);
    }

    int sw = ZS_STRIP_N * strip_cell + (ZS_STRIP_N - 1) * st->spacing;
    int sx = b.x + (b.w - sw) / 2, sy = y0 + big + st->pad + st->row_h;
    ui_draw_text_in(ui, (ui_rect){sx, sy - st->row_h, sw, st->row_h}, "Strip, t = 0 ... 1 (Export writes it)",
                    st->text, -1);
    for (int i = 0; i < ZS_STRIP_N; i++) {
        ui_rect c = {sx + i * (strip_cell + st->spacing), sy, strip_cell, strip_cell};
        char name[24];
        snprintf(name, sizeof name, "strip/%d", i);
        if (both && a->have_strip)
            ui_draw_image(ui, c, (ui_image){a->tex_strip, (float)i / ZS_STRIP_N, 0, (float)(i + 1) / ZS_STRIP_N, 1,
                                            a->sharpen});
        else ui_draw_rect(ui, c, st->bg);
        ui_name(ui, name, c);
        snprintf(buf, sizeof buf, "%.2f", (double)i / (ZS_STRIP_N - 1));
        ui_draw_text_in(ui, (ui_rect){c.x, c.y + c.h + 1, c.w, ui->text_h}, buf, st->text_dim, 0);
    }
    if (both) {   /* where t is along the strip */
        int mx = sx + strip_cell / 2 + (int)(a->interp_t * (float)(sw - strip_cell) + 0.5f);
        ui_draw_rect(ui, (ui_rect){mx - 6, sy - 4, 13, 3}, st->accent);
    }
    int ytext = sy + strip_cell + ui->text_h + st->pad;
    ui_layout_body(ui, (ui_rect){sx, ytext, sw, b.y + b.h - ytext});
    ui_label_wrap(ui, a->interp_slerp ? "Slerp: along the great circle between A's and B's latents, the length going "
                                        "linearly (faces in between stay as typical as the ends)."
                                      : "Lerp: the straight line between A's and B's latents (the middle is shorter: "
                                        "often blander).", st->text_dim);
    if (both) {
        snprintf(buf, sizeof buf, "strip decoded in %.1f ms, the face at t in %.1f ms", a->strip_ms, a->t_ms);
        ui_label_wrap(ui, buf, st->text_dim);
    }
}

/* The Sample tab's centre: a 4 x 4 grid of decoded samples; click one. */
static void sample_centre(zs_app *a)
{
    ui_ctx *ui = a->ui;
    const ui_style *st = &ui->style;
    ui_rect b = ui->lay.body;
    int S = a->S ? a->S : 64, sp = SAMPLE_GAP;   /* room for each cell's inside / outside frame */
    int cell = (b.w - 3 * sp) / 4, hcell = (b.h - st->row_h - 4 * (ui->text_h + 2) - 3 * sp - st->pad) / 4;
    if (cell > hcell) cell = hcell;
    if (cell >= S) cell = cell / S * S;
    if (cell < 16) cell = 16;
    int gw = 4 * cell + 3 * sp, x0 = b.x + (b.w - gw) / 2, y0 = b.y + st->row_h + sp;
    char buf[300];
    if (a->sample_box)
        snprintf(buf, sizeof buf, "Box samples in [-%.2f, %.2f], seed %llu  (click one to edit it)",
                 (double)a->sample_b, (double)a->sample_b, (unsigned long long)a->sample_seed);
    else
        snprintf(buf, sizeof buf, "%s samples, radius %.2f, seed %llu  (click one to edit it)",
                 a->sample_fitted ? "Fitted" : "Isotropic", (double)a->sample_radius, (unsigned long long)a->sample_seed);
    ui_draw_text_in(ui, (ui_rect){x0, b.y, gw, st->row_h}, buf, st->text, -1);
    int shown = a->have_samples && a->samples_shown_gen == a->samples_gen && !a->fitting;
    ui_image cells[ZS_NSAMPLES];
    for (int i = 0; i < ZS_NSAMPLES; i++) {
        float u0 = (float)(i % 4) / 4, v0 = (float)(i / 4) / 4;
        cells[i] = (ui_image){a->tex_samples, u0, v0, u0 + 0.25f, v0 + 0.25f, a->sharpen};
    }
    ui_layout_body(ui, (ui_rect){x0, y0, gw, 4 * cell + 3 * sp});
    if (!shown) ui->disabled = 1;
    ui_style keep = ui->style;
    ui->style.spacing = sp;
    int hit = ui_image_grid(ui, "sample", cells, ZS_NSAMPLES, cell, -1, 0);
    ui->style = keep;
    ui->disabled = 0;
    if (hit >= 0) zs_app_pick_sample(a, hit);
    int ninside = 0;
    for (int i = 0; i < ZS_NSAMPLES && shown && a->have_maha; i++) {   /* inside / outside the data cloud */
        /* a frame around the cell, in the gap (the face's pixels stay the decoder's) */
        ui_rect c = {x0 + (i % 4) * (cell + sp), y0 + (i / 4) * (cell + sp), cell, cell};
        ui_color col = a->sample_inside[i] ? (ui_color){80, 200, 110, 255} : (ui_color){230, 70, 60, 255};
        ui_draw_box(ui, (ui_rect){c.x - 4, c.y - 4, c.w + 8, c.h + 8}, col, 3);
        char name[24];
        snprintf(name, sizeof name, "cloud/%d", i);
        ui_name(ui, name, (ui_rect){c.x - 4, c.y - 4, c.w + 8, 3});   /* its top edge */
        ninside += a->sample_inside[i];
    }
    if (!shown) {
        ui_rect all = {x0, y0, gw, 4 * cell + 3 * sp};
        ui_draw_text_in(ui, (ui_rect){all.x, all.y + all.h / 2 - ui->text_h / 2, all.w, ui->text_h},
                        a->fitting ? "Fitting a Gaussian to the gallery's latents..." : "decoding...", st->text, 0);
    }
    int ytext = y0 + 4 * cell + 3 * sp + st->pad + 4;
    ui_layout_body(ui, (ui_rect){x0, ytext, gw, b.y + b.h - ytext});
    if (shown && a->have_maha) {
        snprintf(buf, sizeof buf, "%d/%d inside the data cloud (green frame: Mahalanobis distance d under the gallery's "
                                  "Gaussian with d^2 within chi-square(%d)'s 99%% quantile, %.0f; red: outside)",
                 ninside, ZS_NSAMPLES, a->model->cfg.z, zs_chi2_quantile99(a->model->cfg.z));
        ui_label_wrap(ui, buf, st->text);
    }
    if (a->sample_box)
        ui_label_wrap(ui, "Box: every component uniform in [-b, b], z ~ U([-b, b]^z). The box's corners are far from "
                          "where the encoded faces lie: most draws fall outside the cloud.", st->text_dim);
    else if (a->sample_fitted)
        ui_label_wrap(ui, "Fitted: z = mean + radius * L n, n ~ N(0, I), with L L^T the covariance of the gallery's "
                          "encoded faces. Radius 0 is the mean face.", st->text_dim);
    else
        ui_label_wrap(ui, "Isotropic: z = radius * n, n ~ N(0, I), the prior the model was trained towards. Radius 0 is "
                          "z = 0.", st->text_dim);
    if (shown) {
        snprintf(buf, sizeof buf, "16 faces decoded in %.1f ms", a->samples_ms);
        ui_label_wrap(ui, buf, st->text_dim);
    }
}

/* The Train tab's centre: the fixed faces above their reconstructions, the
 * loss curves, KL per latent dimension. */
static void train_centre(zs_app *a)
{
    ui_ctx *ui = a->ui;
    const ui_style *st = &ui->style;
    ui_rect b = ui->lay.body;
    const zs_tv_view *v = &a->tview;
    int S = a->S ? a->S : 64, sp = st->spacing;
    int cell = (b.w - (ZS_TV_FACES - 1) * sp) / ZS_TV_FACES;
    if (cell > 2 * S) cell = 2 * S;
    if (cell >= S) cell = cell / S * S;
    if (cell < 16) cell = 16;
    int gw = ZS_TV_FACES * cell + (ZS_TV_FACES - 1) * sp, x0 = b.x + (b.w - gw) / 2, y0 = b.y + st->row_h + sp;
    char buf[300];
    if (!a->tv) {
        ui_draw_text_in(ui, (ui_rect){b.x, b.y, b.w, st->row_h}, !a->model ? "No model: nothing to train"
                                                                          : "No faces to train on", st->text, 0);
        return;
    }
    if (v->recon_step < 0) snprintf(buf, sizeof buf, "Fixed faces (top) and their reconstructions: computing...");
    else if (!v->have_trainer)
        snprintf(buf, sizeof buf, "Fixed faces (top) and their reconstructions with the starting weights");
    else snprintf(buf, sizeof buf, "Fixed faces (top) and their reconstructions at step %ld", v->recon_step);
    ui_draw_text_in(ui, (ui_rect){x0, b.y, gw, st->row_h}, buf, st->text, -1);
    for (int row = 0; row < 2; row++)
        for (int i = 0; i < ZS_TV_FACES; i++) {
            ui_rect c = {x0 + i * (cell + sp), y0 + row * (cell + sp), cell, cell};
            float u0 = (float)i / ZS_TV_FACES, u1 = (float)(i + 1) / ZS_TV_FACES;
            if (v->recon_step >= 0)
                ui_draw_image(ui, c, (ui_image){a->tex_train, u0, row * 0.5f, u1, row * 0.5f + 0.5f, row ? a->sharpen : 0});
            else ui_draw_rect(ui, c, st->bg);
        }
    ui_name(ui, "image/train_orig", (ui_rect){x0, y0, gw, cell});
    ui_name(ui, "image/train_recon", (ui_rect){x0, y0 + cell + sp, gw, cell});

    /* loss curves: reconstruction and KL, side by side */
    int yp = y0 + 2 * (cell + sp) + st->pad;
    int kl_h = 90, ph = b.y + b.h - yp - kl_h - 2 * (ui->text_h + 2) - 3 * st->pad;
    if (ph > 220) ph = 220;
    if (ph < 80) ph = 80;
    static float xs[ZS_TV_HISTORY], rec[ZS_TV_HISTORY], kl[ZS_TV_HISTORY];
    int n = v->nhist;
    for (int i = 0; i < n; i++)
        xs[i] = (float)v->hist[i].step, rec[i] = v->hist[i].rec, kl[i] = v->hist[i].kl;
    ui_layout_body(ui, (ui_rect){x0, yp, gw, ph});
    ui_layout_row(ui, 2, (int[]){-(gw / 2 + sp / 2), 0}, ph);
    ui_plot(ui, "rec", xs, rec, n, "reconstruction (sum sq. error / face)", (ui_color){86, 156, 230, 255}, "%.1f");
    ui_plot(ui, "kl", xs, kl, n, "KL / face", (ui_color){230, 160, 80, 255}, "%.1f");

    /* KL per latent dimension: a bar strip */
    int yk = yp + ph + st->pad;
    int Z = v->z > 0 ? v->z : 1;
    double mx = 0;
    for (int k = 0; k < v->z; k++)
        if (v->kl_dim[k] > mx) mx = v->kl_dim[k];
    int nactive = 0;
    for (int k = 0; k < v->z; k++) nactive += v->kl_dim[k] > 0.05;
    if (v->have_trainer && v->metrics.step > 0)
        snprintf(buf, sizeof buf, "KL per dimension (max %.2f): %d of %d above 0.05, %d active units",
                 mx, nactive, v->z, v->metrics.active_units);
    else snprintf(buf, sizeof buf, "KL per latent dimension: shown while training");
    ui_draw_text_in(ui, (ui_rect){x0, yk, gw, ui->text_h + 2}, buf, st->text, -1);
    ui_rect kr = {x0, yk + ui->text_h + 4, gw, kl_h - ui->text_h - 4};
    ui_draw_rect(ui, kr, st->bg);
    ui_name(ui, "plot/kl_dim", kr);
    int bw = (kr.w - 2) / Z > 1 ? (kr.w - 2) / Z : 1;
    for (int k = 0; k < v->z && mx > 0 && v->have_trainer; k++) {
        int h = (int)(v->kl_dim[k] / mx * (kr.h - 4) + 0.5);
        ui_color c = v->kl_dim[k] > 0.05 ? st->accent : st->text_dim;
        ui_draw_rect(ui, (ui_rect){kr.x + 1 + k * bw, kr.y + kr.h - 2 - h, bw > 2 ? bw - 1 : bw, h > 0 ? h : 1}, c);
    }
    int yt = kr.y + kr.h + st->pad;
    ui_layout_body(ui, (ui_rect){x0, yt, gw, b.y + b.h - yt});
    ui_label_wrap(ui, "The faces are reconstructed on the training watcher's thread from the newest weights snapshot, a "
                      "few times a second; the explorer's own decoder keeps the weights it had until \"Use these "
                      "weights\".", st->text_dim);
}

static void centre_panel(zs_app *a, ui_rect r)
{
    ui_ctx *ui = a->ui;
    const ui_style *st = &ui->style;
    ui_panel(ui, r);
    if (a->tab == ZS_TAB_TRAIN) {
        train_centre(a);
        return;
    }
    if (a->tab == ZS_TAB_INTERP) {
        interp_centre(a);
        return;
    }
    if (a->tab == ZS_TAB_SAMPLE) {
        sample_centre(a);
        return;
    }
    if (a->tab == ZS_TAB_ANALYSIS) {
        zs_anview_centre(a, ui->lay.body);
        return;
    }
    if (a->tab == ZS_TAB_WALK) {
        zs_views_walk_centre(a);
        return;
    }
    /* two faces side by side, as large as fits, in whole multiples of the
     * model's size when possible (every texel the same number of pixels) */
    int S = a->S ? a->S : 64, gap = 2 * st->pad, lines = 7 * (ui->text_h + 2) + st->row_h;
    int side = (ui->lay.body.w - gap) / 2;
    if (side > ui->lay.body.h - lines) side = ui->lay.body.h - lines;
    if (side >= S) side = side / S * S;
    if (side < 16) side = 16;
    int x0 = ui->lay.body.x + (ui->lay.body.w - 2 * side - gap) / 2;
    int y0 = ui->lay.body.y + st->row_h + st->spacing;
    ui_rect ro = {x0, y0, side, side}, re = {x0 + side + gap, y0, side, side};
    if (zs_app_photo_mode(a)) {
        photo_centre(a, ro, re, side);
        return;
    }
    if (a->tab == ZS_TAB_PHOTO) {   /* no photo yet: a drop target, not the gallery face */
        ui_rect all = {ro.x, ro.y, re.x + re.w - ro.x, side};
        ui_draw_rect(ui, all, st->bg);
        ui_draw_box(ui, all, st->border, 2);
        ui_draw_text_in(ui, (ui_rect){all.x, all.y + all.h / 2 - ui->text_h, all.w, ui->text_h},
                        a->photo_loading ? "Reading the photo..." : "Drop a JPEG or PNG here", st->text, 0);
        ui_draw_text_in(ui, (ui_rect){all.x, all.y + all.h / 2 + 4, all.w, ui->text_h},
                        "or type its path in the box on the right and press Enter", st->text_dim, 0);
        ui_name(ui, "image/drop", all);
        return;
    }
    int edited = zs_sliders_edited(a), sample = a->src == ZS_SRC_SAMPLE, mean = sample && a->mean_n > 0;
    char head[80];
    if (mean) zs_strf(head, sizeof head, "Mean of %d faces", a->mean_n);
    ui_draw_text_in(ui, (ui_rect){ro.x - st->spacing, ui->lay.body.y, side, st->row_h},
                    mean ? head : sample ? "Sample" : "Original", st->text, -1);
    ui_draw_text_in(ui, (ui_rect){re.x - st->spacing, ui->lay.body.y, side, st->row_h},
                    edited ? "Edit" : sample ? "Edit (move a slider)" : "Reconstruction", st->text, -1);
    face_box(ui, "image/original", ro, a->tex_orig, a->current >= 0 || sample, "no faces", sample ? a->sharpen : 0);
    face_box(ui, "image/edit", re, a->tex_edit,
             a->have_edit && (a->current >= 0 || sample) && a->edit_key == zs_app_face_key(a),
             !a->model ? "no model" : a->current < 0 && !sample ? "no faces" : "decoding...", a->sharpen);

    /* about the face, under the pictures */
    int ytext = y0 + side + st->pad;
    ui_layout_body(ui, (ui_rect){x0, ytext, 2 * side + gap, ui->lay.body.y + ui->lay.body.h - ytext});
    char buf[1024];
    if (mean) {
        zs_strf(buf, sizeof buf, "The mean latent of the %d gallery faces matching '%s' (the gallery's Mean face "
                                 "button): mean of %d faces, decoded", a->mean_n, a->mean_query, a->mean_n);
        ui_label_wrap(ui, buf, st->text);
    } else if (sample) {
        snprintf(buf, sizeof buf, "Sample %d of seed %llu (from the Sample tab): a latent, no photo behind it",
                 a->sample_pick + 1, (unsigned long long)a->sample_pick_seed);
        ui_label_wrap(ui, buf, st->text);
    } else if (a->current >= 0) {
        static const char *const split[] = {"train", "val", "test"};
        int part = zs_cache_partition(a->gallery, a->current);
        snprintf(buf, sizeof buf, "%s   face %d of %d   (%s split)", zs_cache_id(a->gallery, a->current),
                 a->current + 1, a->nthumbs, part >= 0 && part < 3 ? split[part] : "?");
        ui_label_wrap(ui, buf, st->text);
        const int8_t *lab = zs_cache_attrs(a->gallery, a->current);
        int n = snprintf(buf, sizeof buf, "Labelled:");
        for (int k = 0; k < ZS_NATTR && n < (int)sizeof buf - 40; k++)
            if (lab[k] > 0) {
                char name[40];
                display_name(k, name, sizeof name);
                n += snprintf(buf + n, sizeof buf - (size_t)n, "%s %s", n > 9 ? "," : "", name);
            }
        ui_label_wrap(ui, buf, st->text_dim);
    }
    if (edited) {
        edit_summary(a, buf, sizeof buf);
        ui_label_wrap(ui, buf, st->text);
    }
    snprintf(buf, sizeof buf, "Left/Right: face   R: reset sliders   N: %s filtering   Esc: quit",
             a->nearest ? "nearest" : "linear");
    ui_label_wrap(ui, buf, st->text_dim);
}

/* One slider row: name, slider with the gallery's histogram and the current
 * face's marker, and a figure on the right (AUC, or the variance explained). */
static void slider_row(zs_app *a, int i, const char *label, const char *figure, int strong)
{
    ui_ctx *ui = a->ui;
    int shown = a->have_axes && a->cur_z_key == zs_app_face_key(a);
    ui_slider_deco deco = {a->have_axes ? a->hist[i] : NULL, ZS_HIST_BINS, shown ? a->marker[i] : NAN,
                           {240, 180, 90, 255}};
    char name[16];
    if (i >= ZS_NATTR) snprintf(name, sizeof name, "PC%d", i - ZS_NATTR + 1);
    ui_label(ui, label);
    if (ui_slider_ex(ui, i < ZS_NATTR ? zs_attr_names[i] : name, zs_sliders_value(a, i), ZS_SLIDER_LO, ZS_SLIDER_HI,
                     "%+.2f", &deco))
        a->dirty = 1;
    ui_label_ex(ui, figure, strong ? ui->style.text : ui->style.text_dim, 1);
}

static void attribute_sliders(zs_app *a, const int *cols)
{
    ui_ctx *ui = a->ui;
    const ui_style *st = &ui->style;
    ui_layout_row(ui, 2, (int[]){ui->text_width(ui->font, "orthogonal to", 13) + 3 * st->spacing, 0}, 24);
    ui_label_ex(ui, "orthogonal to", st->text_dim, -1);
    if (ui_textbox(ui, "ortho", a->ortho_box, sizeof a->ortho_box, "e.g. Male,Young") & UI_CHANGED)
        zs_sliders_set_ortho(a);
    if (a->ortho_msg[0]) ui_label_wrap(ui, a->ortho_msg, st->error);
    ui_layout_row(ui, 3, cols, 0);
    ui_label_ex(ui, "attribute", st->text_dim, -1);
    ui_label_ex(ui, "strength", st->text_dim, 0);
    ui_label_ex(ui, "AUC", st->text_dim, 1);
    a->nvisible = 0;
    for (int k = 0; k < ZS_NATTR; k++)
        if (zs_view_attr_matches(a->filter, k)) a->visible[a->nvisible++] = k;
    ui_begin_scroll(ui, "attributes", ui_layout_rest(ui), &a->attr_scroll);
    ui_layout_row(ui, 3, cols, 0);
    for (int i = 0; i < a->nvisible; i++) {
        int k = a->visible[i];
        char name[40], auc[16];
        display_name(k, name, sizeof name);
        float v = a->have_attrs ? a->attrs.auc[k] : NAN;
        if (isfinite(v)) snprintf(auc, sizeof auc, "%.2f", (double)v);
        else snprintf(auc, sizeof auc, "-");
        slider_row(a, k, name, auc, v >= 0.75f);   /* weak directions dimmed */
    }
    if (a->nvisible == 0) {
        char buf[96];
        snprintf(buf, sizeof buf, "No attribute matches \"%s\".", a->filter);
        ui_label_wrap(ui, buf, st->text_dim);
    }
    ui_end_scroll(ui);
}

static void pc_sliders(zs_app *a, const int *cols)
{
    ui_ctx *ui = a->ui;
    const ui_style *st = &ui->style;
    ui->disabled = !a->have_pca;
    if (!a->have_pca) {
        ui_layout_row(ui, 1, NULL, 0);
        ui_label_wrap(ui, a->fitting ? "Encoding the gallery's faces..."
                                     : "No principal directions: they need a model and a gallery.", st->text_dim);
        return;
    }
    ui_layout_row(ui, 1, NULL, 0);
    ui_label_wrap(ui, "The directions along which the gallery's latents vary most; strength in standard deviations.",
                  st->text_dim);
    ui_layout_row(ui, 3, cols, 0);
    ui_label_ex(ui, "direction", st->text_dim, -1);
    ui_label_ex(ui, "strength (sd)", st->text_dim, 0);
    ui_label_ex(ui, "var", st->text_dim, 1);
    ui_begin_scroll(ui, "pcs", ui_layout_rest(ui), &a->attr_scroll);
    ui_layout_row(ui, 3, cols, 0);
    for (int j = 0; j < ZS_NPC && j < a->pca.k; j++) {
        char name[16], var[16];
        snprintf(name, sizeof name, "PC %d", j + 1);
        snprintf(var, sizeof var, "%.1f%%", 100.0 * a->pca.var[j] / a->pca.total_var);
        slider_row(a, ZS_NATTR + j, name, var, 1);
    }
    double sum = 0;
    for (int j = 0; j < a->pca.k; j++) sum += a->pca.var[j];
    char buf[160];
    snprintf(buf, sizeof buf, "Together %.0f%% of the variance of the %d gallery latents (z = %d).",
             100 * sum / a->pca.total_var, a->gal_n, a->pca.z);
    ui_label_wrap(ui, buf, st->text_dim);
    ui_end_scroll(ui);
}

static void attributes_tab(zs_app *a)
{
    ui_ctx *ui = a->ui;
    const ui_style *st = &ui->style;
    ui_layout_row(ui, 2, (int[]){-(70 + st->spacing), 0}, 24);
    if (a->slider_set) ui->disabled = 1;   /* the filter picks attributes */
    if (ui_textbox(ui, "filter", a->filter, sizeof a->filter, "filter, e.g. hair") & UI_CHANGED)
        a->attr_scroll.offset = 0;
    ui->disabled = !a->have_attrs && !a->have_pca;
    if (ui_button(ui, "Reset")) zs_app_reset(a);
    ui->disabled = 0;
    static const char *const sets[2] = {"By attribute", "Principal directions"};
    ui_layout_row(ui, 1, NULL, 24);
    if (ui_tabs(ui, sets, 2, &a->slider_set)) a->attr_scroll.offset = 0;
    const int cols[3] = {NAME_W, -(AUC_W + st->spacing), 0};
    if (a->slider_set) pc_sliders(a, cols);
    else {
        if (!a->have_attrs) {
            char buf[400];
            zs_strf(buf, sizeof buf, "Sliders disabled: %s", a->attrs_problem);
            ui_layout_row(ui, 1, NULL, 0);
            ui_label_wrap(ui, buf, st->error);
        }
        ui->disabled = !a->have_attrs;
        attribute_sliders(a, cols);
    }
    ui->disabled = 0;
}

/* Load a photo (path box, or a file dropped on the window), keep detail,
 * save; below, the same sliders as the Attributes tab. */
static void photo_tab(zs_app *a)
{
    ui_ctx *ui = a->ui;
    const ui_style *st = &ui->style;
    ui_layout_row(ui, 2, (int[]){-(70 + st->spacing), 0}, 24);
    int r = ui_textbox(ui, "photo", a->photo_box, sizeof a->photo_box, "photo path, or drop a file here");
    int load = ui_button(ui, "Load");
    if ((r & UI_SUBMIT) || load) zs_app_load_photo(a, a->photo_box);
    ui_layout_row(ui, 3, (int[]){-(200 + 2 * st->spacing), -(100 + st->spacing), 0}, 24);
    if (!a->have_photo) ui->disabled = 1;
    if (ui_toggle(ui, "Keep detail", &a->keep_detail)) a->dirty = 1;
    int was = ui->disabled;
    if (!zs_app_crop_is_users(a)) ui->disabled = 1;
    if (ui_button(ui, "Reset crop")) zs_app_set_crop(a, NULL);
    ui->disabled = was;
    if (ui_button(ui, "Save PNG")) zs_app_save(a);
    ui_layout_row(ui, 1, NULL, 24);
    ui_textbox(ui, "save", a->save_box, sizeof a->save_box, "save as ...png");
    ui->disabled = 0;
    if (!a->have_photo)
        ui_label_wrap(ui, a->photo_loading ? "Reading the photo..."
                                           : "Drop a JPEG or PNG on the window, or type its path and press Enter. "
                                             "It is cropped like the training faces (an aligned CelebA image "
                                             "exactly; any other photo: the centred square, which you then "
                                             "drag and zoom to frame the face).",
                      st->text_dim);
    else if (a->keep_detail)
        ui_label_wrap(ui, "Keep detail: the photo at its own resolution plus what the edit changes in the "
                          "model's picture, only where it changes something.", st->text_dim);
    ui_layout_row(ui, 1, NULL, 6);
    ui_layout_next(ui);
    attributes_tab(a);
}

/* A and B from the current face, t, lerp/slerp, play, export. */
static void interp_tab(zs_app *a)
{
    ui_ctx *ui = a->ui;
    const ui_style *st = &ui->style;
    char label[200], buf[300];
    zs_app_current_label(a, label, sizeof label);
    int ready = a->have_edit && a->edit_key == zs_app_face_key(a) && a->cur_z_key == a->edit_key;
    ui_rect body = ui->lay.body;
    ui_layout_row(ui, 2, (int[]){64, 0}, 64);
    ui_rect th = ui_layout_next(ui);
    if (ready) ui_draw_image(ui, th, (ui_image){a->tex_edit, 0, 0, 1, 1, a->sharpen});
    else ui_draw_rect(ui, th, st->bg);
    ui_name(ui, "image/current", th);
    ui_rect lr = ui_layout_next(ui);
    ui_layout_body(ui, (ui_rect){lr.x, lr.y, lr.w, lr.h});
    snprintf(buf, sizeof buf, "Current: %s", label);
    ui_label_wrap(ui, buf, st->text);
    ui_label_wrap(ui, "(click a gallery face, or load a photo; slider edits are included)", st->text_dim);
    int y = lr.y + lr.h + st->spacing;
    ui_layout_body(ui, (ui_rect){body.x, y, body.w, body.y + body.h - y});
    ui_layout_row(ui, 2, (int[]){-(ui->lay.body.w / 2 + st->spacing / 2), 0}, 26);
    if (!ready) ui->disabled = 1;
    if (ui_button(ui, "Set A")) zs_app_set_slot(a, 0);
    if (ui_button(ui, "Set B")) zs_app_set_slot(a, 1);
    ui->disabled = 0;
    int both = a->slot[0].set && a->slot[1].set;
    if (!both) ui->disabled = 1;
    ui_layout_row(ui, 2, (int[]){40, 0}, 0);
    ui_label(ui, "t");
    if (ui_slider(ui, "t", &a->interp_t, 0.0f, 1.0f, "%.2f")) a->batch_dirty[ZS_CH_T] = 1;
    ui_layout_row(ui, 1, NULL, 26);
    if (ui_toggle(ui, "Slerp (off: lerp)", &a->interp_slerp)) a->batch_dirty[ZS_CH_STRIP] = a->batch_dirty[ZS_CH_T] = 1;
    ui_layout_row(ui, 2, (int[]){-(ui->lay.body.w / 2 + st->spacing / 2), 0}, 26);
    if (ui_button(ui, a->playing ? "Pause" : "Play")) {
        a->playing = !a->playing;
        a->play_last = zs_now();
    }
    if (ui_button(ui, "Export strip")) zs_app_export_strip(a);
    ui_layout_row(ui, 1, NULL, 24);
    ui_textbox(ui, "strip", a->strip_box, sizeof a->strip_box, "strip.png");
    ui->disabled = 0;
    if (!both) a->playing = 0;
    ui_label_wrap(ui, "A and B start as the current gallery face and the next one. Choose a face and press Set A, "
                      "another and Set B: the strip shows 8 faces from A to B and the large one the face at t. Play "
                      "moves t back and forth.", st->text_dim);
}

/* Radius, mode, resample. */
static void sample_tab(zs_app *a)
{
    ui_ctx *ui = a->ui;
    const ui_style *st = &ui->style;
    if (!a->dec) ui->disabled = 1;
    ui_layout_row(ui, 2, (int[]){60, 0}, 0);
    ui_label(ui, "radius");
    if (ui_slider(ui, "radius", &a->sample_radius, 0.0f, 3.0f, "%.2f")) a->batch_dirty[ZS_CH_SAMPLES] = 1;
    ui_layout_row(ui, 1, NULL, 26);
    if (ui_toggle(ui, "Fitted to the gallery", &a->sample_fitted)) {
        a->batch_dirty[ZS_CH_SAMPLES] = 1;
        if (a->sample_fitted) a->sample_box = 0;
    }
    if (ui_toggle(ui, "Box [-b, b]", &a->sample_box)) {   /* the third mode: uniform in the box */
        a->batch_dirty[ZS_CH_SAMPLES] = 1;
        if (a->sample_box) a->sample_fitted = 0;
    }
    ui_layout_row(ui, 2, (int[]){60, 0}, 0);
    ui_label(ui, "b");
    if (ui_slider(ui, "box_b", &a->sample_b, 0.1f, 4.0f, "%.2f") && a->sample_box) a->batch_dirty[ZS_CH_SAMPLES] = 1;
    ui_layout_row(ui, 1, NULL, 26);
    ui_layout_row(ui, 2, (int[]){-(ui->lay.body.w / 2 + st->spacing / 2), 0}, 26);
    if (ui_button(ui, "Resample")) {
        a->sample_seed++;
        a->batch_dirty[ZS_CH_SAMPLES] = 1;
    }
    char buf[64];
    snprintf(buf, sizeof buf, "seed %llu", (unsigned long long)a->sample_seed);
    ui_label_ex(ui, buf, st->text_dim, 0);
    ui->disabled = 0;
    ui_layout_row(ui, 1, NULL, 0);
    ui_label_wrap(ui, "Each grid is 16 draws of one seed: the same seed, radius and mode give the same faces. "
                      "Resample takes the next seed. Click a face to make it the current one: the Attributes "
                      "sliders then edit its latent, and Interpolate can take it as A or B.", st->text_dim);
}

static void fmt_eta(char *buf, size_t n, double s)
{
    if (!(s >= 0) || s > 1e7) snprintf(buf, n, "?");
    else if (s >= 3600) snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
    else snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)s % 60);
}

/* Start / Pause / Stop, beta and lr, rate, checkpoint, weights, vectors. */
static void train_tab(zs_app *a)
{
    ui_ctx *ui = a->ui;
    const ui_style *st = &ui->style;
    const zs_tv_view *v = &a->tview;
    char buf[600];
    int live = v->have_trainer && (v->state == ZS_TRAINER_RUNNING || v->state == ZS_TRAINER_PAUSED);
    int third = (ui->lay.body.w - 2 * st->spacing) / 3;
    if (!a->tv) ui->disabled = 1;
    ui_layout_row(ui, 3, (int[]){third, third, 0}, 26);
    if (live || v->stopping || v->saving) ui->disabled = 1;
    if (ui_button(ui, "Start")) zs_app_train_start(a);
    ui->disabled = !a->tv || !live || v->stopping;
    if (v->state == ZS_TRAINER_PAUSED) {
        if (ui_button(ui, "Resume")) zs_tv_resume(a->tv);
    } else if (ui_button(ui, "Pause")) zs_tv_pause(a->tv);
    if (ui_button(ui, "Stop")) {
        zs_tv_stop(a->tv);
        a->tview.stopping = 1;
    }
    ui->disabled = !a->tv;

    const zs_train_metrics *m = &v->metrics;
    const char *state = v->stopping ? "stopping" : v->saving ? "saving" : zs_app_train_state_name(v->state);
    ui_layout_row(ui, 1, NULL, 0);
    if (v->have_trainer)
        snprintf(buf, sizeof buf, "%s: step %ld, epoch %d, batch %d/%ld", state, m->step, m->epoch + 1,
                 m->batch_in_epoch, v->steps_per_epoch);
    else snprintf(buf, sizeof buf, "not started: Start trains a copy of the model");
    ui_label_ex(ui, buf, st->text, -1);
    if (v->have_trainer && m->img_per_s > 0) {
        char eta[32];
        long left = v->steps_per_epoch - m->batch_in_epoch;
        fmt_eta(eta, sizeof eta, (double)left * v->batch / m->img_per_s);
        snprintf(buf, sizeof buf, "%.0f img/s, end of epoch in %s   loss %.1f", m->img_per_s, eta, m->loss);
    } else snprintf(buf, sizeof buf, "img/s: measured after a few steps");
    ui_label_ex(ui, buf, st->text_dim, -1);

    ui_layout_row(ui, 3, (int[]){40, -(76 + st->spacing), 0}, 0);
    ui_label(ui, "beta");
    if (ui_slider(ui, "beta", &a->train_beta, 0.0f, 4.0f, "%.2f") && a->tv) zs_tv_set_beta(a->tv, a->train_beta);
    snprintf(buf, sizeof buf, "KL weight");
    ui_label_ex(ui, buf, st->text_dim, -1);
    ui_label(ui, "lr");
    if (ui_slider(ui, "lr", &a->train_lr_log, -5.0f, -2.5f, "10^%.2f") && a->tv)
        zs_tv_set_lr(a->tv, powf(10.0f, a->train_lr_log));
    snprintf(buf, sizeof buf, "%.2g", (double)powf(10.0f, a->train_lr_log));
    ui_label_ex(ui, buf, st->text_dim, -1);

    ui_layout_row(ui, 1, NULL, 0);
    if (v->have_trainer && m->step < 200)
        ui_label_wrap(ui, "The rate ramps up over the first 200 steps (Adam starts afresh on trained weights).",
                      st->text_dim);
    if (a->train_cache)
        zs_strf(buf, sizeof buf, "Training on the %d faces of the train split of %s (batch %d, %d thread%s).",
                v->nfaces, zs_cache_path(a->train_cache), v->batch, a->train_threads, a->train_threads == 1 ? "" : "s");
    else
        zs_strf(buf, sizeof buf, "Training on the %d gallery faces; give --data FACES.zsf for a real dataset "
                                 "(batch %d, %d thread%s).", v->nfaces, v->batch, a->train_threads,
                a->train_threads == 1 ? "" : "s");
    ui_label_wrap(ui, buf, st->text_dim);

    ui_layout_row(ui, 1, NULL, 24);
    ui_textbox(ui, "ckpt", a->ckpt_box, sizeof a->ckpt_box, "checkpoint path .safetensors");
    int half = (ui->lay.body.w - st->spacing) / 2;
    ui_layout_row(ui, 2, (int[]){half, 0}, 26);
    if (!v->have_trainer || v->saving || v->stopping) ui->disabled = 1;
    if (ui_button(ui, "Save checkpoint")) zs_app_save_ckpt(a);
    if (ui_button(ui, "Use these weights")) zs_app_use_weights(a);
    ui->disabled = !a->tv || v->recomputing;
    ui_layout_row(ui, 1, NULL, 26);
    if (ui_button(ui, v->recomputing ? "Recomputing..." : "Recompute attribute vectors")) zs_app_recompute_attrs(a);
    ui->disabled = 0;
    if (a->weights_step >= 0)
        snprintf(buf, sizeof buf, "The explorer uses the training weights of step %ld%s.", a->weights_step,
                 a->attrs_stale ? "; its attribute vectors are of other weights" : "");
    else snprintf(buf, sizeof buf, "The explorer uses the model file's weights.");
    ui_label_wrap(ui, buf, a->attrs_stale ? st->error : st->text_dim);
    if (a->have_cos) {
        ui_layout_row(ui, 1, NULL, 0);
        ui_label_ex(ui, "Cosine of each new vector to the old one:", st->text, -1);
        ui_begin_scroll(ui, "cosines", ui_layout_rest(ui), &a->cos_scroll);
        ui_layout_row(ui, 2, (int[]){-(60 + st->spacing), 0}, ui->text_h + 2);
        int order[ZS_NATTR];
        for (int k = 0; k < ZS_NATTR; k++) order[k] = k;
        for (int i = 1; i < ZS_NATTR; i++)   /* least similar first */
            for (int j = i; j > 0 && !(a->attr_cos[order[j - 1]] <= a->attr_cos[order[j]]); j--) {
                int t = order[j];
                order[j] = order[j - 1], order[j - 1] = t;
            }
        for (int i = 0; i < ZS_NATTR; i++) {
            int k = order[i];
            char name[40], c[16];
            display_name(k, name, sizeof name);
            ui_label_ex(ui, name, st->text, -1);
            snprintf(c, sizeof c, "%.3f", (double)a->attr_cos[k]);
            ui_label_ex(ui, c, a->attr_cos[k] < 0.9f ? st->error : st->text_dim, 1);
        }
        ui_end_scroll(ui);
    }
}

static void right_panel(zs_app *a, ui_rect r)
{
    ui_ctx *ui = a->ui;
    static const char *const tabs[ZS_NTABS] = {"Attributes", "Photo", "Interpolate", "Sample", "Train", "Walk", "Analysis"};
    ui_panel(ui, r);
    /* one row of tabs while their names fit, else two (rows of ZS_NTABS / 2 rounded up, the second
     * row's selection shifted) */
    int text = 0, half = (ZS_NTABS + 1) / 2, changed;
    for (int i = 0; i < ZS_NTABS; i++) text += ui->text_width(ui->font, tabs[i], (int)strlen(tabs[i])) + 12;
    if (text <= ui->lay.body.w) {
        ui_layout_row(ui, 1, NULL, 26);
        changed = ui_tabs(ui, tabs, ZS_NTABS, &a->tab);
    } else {
        int top = a->tab < half ? a->tab : -1, bottom = a->tab >= half ? a->tab - half : -1;
        ui_layout_row(ui, 1, NULL, 24);
        changed = ui_tabs(ui, tabs, half, &top);
        ui_layout_row(ui, 1, NULL, 24);
        changed |= ui_tabs(ui, tabs + half, ZS_NTABS - half, &bottom) << 1;
        if (changed & 1) a->tab = top;
        else if (changed & 2) a->tab = bottom + half;
    }
    if (changed) {
        if (a->tab == ZS_TAB_PHOTO && a->have_photo) a->src = ZS_SRC_PHOTO;
        a->dirty = 1;
    }
    if (a->tab == ZS_TAB_PHOTO) photo_tab(a);
    else if (a->tab == ZS_TAB_ANALYSIS) zs_anview_panel(a);
    else if (a->tab == ZS_TAB_INTERP) interp_tab(a);
    else if (a->tab == ZS_TAB_SAMPLE) sample_tab(a);
    else if (a->tab == ZS_TAB_TRAIN) train_tab(a);
    else if (a->tab == ZS_TAB_WALK) zs_views_walk_tab(a);
    else attributes_tab(a);
}

/* Model, timing and decode figures on one line; below it each problem
 * with the files, in red, one line each. */
static int status_height(const zs_app *a)
{
    return STATUS_H + (a->nerrors + (a->message[0] != 0)) * (a->ui->text_h + 4);
}

static void status_line(zs_app *a, ui_rect r)
{
    ui_ctx *ui = a->ui;
    const ui_style *st = &ui->style;
    ui_draw_rect(ui, r, st->border);
    char buf[1024];
    int n = 0;
    if (a->model) {
        const char *base = strrchr(a->model_path, '/');
        n += snprintf(buf, sizeof buf, "model %s (z=%d, step %ld)", base ? base + 1 : a->model_path,
                      a->model->cfg.z, a->info.step);
    } else n += snprintf(buf, sizeof buf, "no model");
    if (a->weights_step >= 0) n += snprintf(buf + n, sizeof buf - (size_t)n, " with training weights of step %ld", a->weights_step);
    if (a->tv && a->tview.have_trainer) {
        const zs_tv_view *v = &a->tview;
        n += snprintf(buf + n, sizeof buf - (size_t)n, "   training %s, step %ld",
                      v->stopping ? "stopping" : v->saving ? "saving" : zs_app_train_state_name(v->state), v->metrics.step);
        if (v->state == ZS_TRAINER_RUNNING && v->metrics.img_per_s > 0)
            n += snprintf(buf + n, sizeof buf - (size_t)n, " (%.0f img/s)", v->metrics.img_per_s);
    } else if (a->tv) n += snprintf(buf + n, sizeof buf - (size_t)n, "   training idle");
    n += snprintf(buf + n, sizeof buf - (size_t)n, "   frame %.1f ms", a->frame_ms);
    if (a->ndecode)
        snprintf(buf + n, sizeof buf - (size_t)n, "   decode %.1f ms (encode %.1f ms)", a->status_decode_ms,
                 a->status_encode_ms);
    ui_rect line = {r.x + st->pad, r.y + (STATUS_H - ui->text_h) / 2, r.w - 2 * st->pad, ui->text_h};
    ui_rect sharp = {r.x + r.w - SHARPEN_W - st->pad, r.y + 2, SHARPEN_W, STATUS_H - 4};
    ui_draw_text_in(ui, (ui_rect){line.x, line.y, line.w - SHARPEN_W - st->pad, line.h}, buf, st->text_dim, -1);
    zs_views_sharpen_slider(a, sharp);   /* every decoded face shown goes through it */
    int first = 1;
    if (a->message[0]) {   /* what the last action did */
        line.y += STATUS_H - (STATUS_H - ui->text_h) / 2 - 2;
        first = 0;
        ui_draw_text_in(ui, line, a->message, a->message_err ? st->error : st->text, -1);
    }
    for (int i = 0; i < a->nerrors; i++) {
        line.y += first && i == 0 ? STATUS_H - (STATUS_H - ui->text_h) / 2 - 2 : ui->text_h + 4;
        ui_draw_text_in(ui, line, a->errors[i], st->error, -1);
    }
    ui_name(ui, "status", r);
}

void zs_view_build(zs_app *a)
{
    ui_ctx *ui = a->ui;
    int W = a->win_w, H = a->win_h, cols = W >= 1600 ? 4 : 3;
    int left_w = 2 * ui->style.pad + cols * (THUMB + ui->style.spacing) - ui->style.spacing + ui->style.scrollbar_w +
                 ui->style.spacing;
    ui_begin(ui, (ui_rect){0, 0, W, H});
    int body_h = H - status_height(a);
    gallery_panel(a, (ui_rect){0, 0, left_w, body_h});
    right_panel(a, (ui_rect){W - RIGHT_W, 0, RIGHT_W, body_h});
    centre_panel(a, (ui_rect){left_w + 1, 0, W - RIGHT_W - left_w - 2, body_h});
    status_line(a, (ui_rect){0, body_h, W, status_height(a)});
    ui_draw_rect(ui, (ui_rect){left_w, 0, 1, body_h}, ui->style.border);
    ui_draw_rect(ui, (ui_rect){W - RIGHT_W - 1, 0, 1, body_h}, ui->style.border);
    ui_end(ui);
}
