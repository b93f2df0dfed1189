/* What one frame of the explorer shows (DESIGN.md, "The GUI"):
 *
 *   +-----------+---------------------------------+----------------+
 *   | gallery   |  Original        Reconstruction | [Attributes]   |
 *   | (scroll,  |  +---------+     +---------+    | filter | Reset |
 *   |  click a  |  |  face   |     |  edit   |    | name slider AUC|
 *   |  face)    |  +---------+     +---------+    | ... (scroll)   |
 *   |           |  id, labels, edit, keys         |                |
 *   +-----------+---------------------------------+----------------+
 *   | status: model, faces, frame ms, decode ms, problems           |
 *   +---------------------------------------------------------------+
 */
#include "app_impl.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

#define STATUS_H 26
#define THUMB 64
#define RIGHT_W 360
#define NAME_W 150
#define AUC_W 44

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
    if (a->gallery) snprintf(buf, sizeof buf, "Gallery: %d faces", a->nthumbs);
    else snprintf(buf, sizeof buf, "Gallery: none");
    ui_label_ex(ui, buf, ui->style.text, -1);
    ui_begin_scroll(ui, "gallery", ui_layout_rest(ui), &a->gallery_scroll);
    int hit = ui_image_grid(ui, "faces", a->thumbs, a->nthumbs, THUMB, a->current, a->reveal);
    ui_end_scroll(ui);
    a->reveal = 0;
    if (hit >= 0 && hit != a->current) zs_app_select(a, hit);
}

static int all_zero(const float *s)
{
    for (int k = 0; k < ZS_NATTR; k++)
        if (s[k] != 0.0f) return 0;
    return 1;
}

/* A face image, or a dark box with a note when there is none. */
static void face_box(ui_ctx *ui, const char *name, ui_rect r, unsigned tex, int shown, const char *note)
{
    if (shown) ui_draw_image(ui, r, (ui_image){tex, 0, 0, 1, 1});
    else {
        ui_draw_rect(ui, r, ui->style.bg);
        ui_draw_text_in(ui, r, note, ui->style.text_dim, 0);
    }
    ui_name(ui, name, r);
}

static void centre_panel(zs_app *a, ui_rect r)
{
    ui_ctx *ui = a->ui;
    const ui_style *st = &ui->style;
    ui_panel(ui, r);
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
    int edited = !all_zero(a->strength);
    ui_draw_text_in(ui, (ui_rect){ro.x - st->spacing, ui->lay.body.y, side, st->row_h}, "Original", st->text, -1);
    ui_draw_text_in(ui, (ui_rect){re.x - st->spacing, ui->lay.body.y, side, st->row_h},
                    edited ? "Edit" : "Reconstruction", st->text, -1);
    face_box(ui, "image/original", ro, a->tex_orig, a->current >= 0, "no faces");
    face_box(ui, "image/edit", re, a->tex_edit, a->have_edit && a->current >= 0,
             !a->model ? "no model" : a->current < 0 ? "no faces" : "decoding...");

    /* about the face, under the pictures */
    int ytext = y0 + side + st->pad;
    ui_layout_body(ui, (ui_rect){x0, ytext, 2 * side + gap, ui->lay.body.y + ui->lay.body.h - ytext});
    char buf[1024];
    if (a->current >= 0) {
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
        int n = snprintf(buf, sizeof buf, "Edit:");
        for (int k = 0; k < ZS_NATTR && n < (int)sizeof buf - 40; k++)
            if (a->strength[k] != 0.0f) {
                char name[40];
                display_name(k, name, sizeof name);
                n += snprintf(buf + n, sizeof buf - (size_t)n, "%s %s %+.2f", n > 5 ? "," : "", name,
                              (double)a->strength[k]);
            }
        ui_label_wrap(ui, buf, st->text);
    }
    snprintf(buf, sizeof buf, "Left/Right: face   R: reset sliders   N: %s filtering   Esc: quit",
             a->nearest ? "nearest" : "linear");
    ui_label_wrap(ui, buf, st->text_dim);
}

static void attributes_tab(zs_app *a)
{
    ui_ctx *ui = a->ui;
    const ui_style *st = &ui->style;
    ui_layout_row(ui, 2, (int[]){-(70 + st->spacing), 0}, 24);
    if (ui_textbox(ui, "filter", a->filter, sizeof a->filter, "filter, e.g. hair") & UI_CHANGED)
        a->attr_scroll.offset = 0;
    if (!a->have_attrs) ui->disabled = 1;
    if (ui_button(ui, "Reset")) zs_app_reset(a);
    if (!a->have_attrs) {
        char buf[400];
        zs_strf(buf, sizeof buf, "Sliders disabled: %s", a->attrs_problem);
        ui_label_wrap(ui, buf, st->error);
    }
    const int cols[3] = {NAME_W, -(AUC_W + st->spacing), 0};
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
        ui_label(ui, name);
        if (ui_slider(ui, zs_attr_names[k], &a->strength[k], -3.0f, 3.0f, "%+.2f")) a->dirty = 1;
        float v = a->have_attrs ? a->attrs.auc[k] : NAN;
        if (isfinite(v)) snprintf(auc, sizeof auc, "%.2f", (double)v);
        else snprintf(auc, sizeof auc, "-");
        ui_label_ex(ui, auc, v >= 0.75f ? st->text : st->text_dim, 1);   /* weak directions dimmed */
    }
    if (a->nvisible == 0) {
        char buf[96];
        snprintf(buf, sizeof buf, "No attribute matches \"%s\".", a->filter);
        ui_label_wrap(ui, buf, st->text_dim);
    }
    ui_end_scroll(ui);
    ui->disabled = 0;
}

static void right_panel(zs_app *a, ui_rect r)
{
    ui_ctx *ui = a->ui;
    static const char *const tabs[] = {"Attributes"};
    ui_panel(ui, r);
    ui_layout_row(ui, 1, NULL, 26);
    ui_tabs(ui, tabs, 1, &a->tab);
    attributes_tab(a);
}

/* Model, timing and decode figures on one line; below it each problem
 * with the files, in red, one line each. */
static int status_height(const zs_app *a) { return STATUS_H + a->nerrors * (a->ui->text_h + 4); }

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
    n += snprintf(buf + n, sizeof buf - (size_t)n, "   frame %.1f ms", a->frame_ms);
    if (a->ndecode)
        snprintf(buf + n, sizeof buf - (size_t)n, "   decode %.1f ms (encode %.1f ms)", a->decode_ms, a->encode_ms);
    ui_rect line = {r.x + st->pad, r.y + (STATUS_H - ui->text_h) / 2, r.w - 2 * st->pad, ui->text_h};
    ui_draw_text_in(ui, line, buf, st->text_dim, -1);
    for (int i = 0; i < a->nerrors; i++) {
        line.y += i == 0 ? STATUS_H - (STATUS_H - ui->text_h) / 2 - 2 : ui->text_h + 4;
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
