/* Immediate-mode widgets: see ui.h. One rule holds everything together: a
 * widget becomes `active` when the mouse is pressed over it and stays so
 * until the button is released; it reacts while active (a slider follows
 * the mouse, a button clicks on a release over it). Hover is tested
 * against the current input, not last frame's, so a press and a release
 * that arrive in the same frame (synthetic events) still click. */
#include "ui.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

ui_style ui_style_default(void)
{
    return (ui_style){
        .bg = {30, 31, 34, 255},
        .panel = {42, 44, 48, 255},
        .widget = {60, 63, 69, 255},
        .widget_hot = {74, 78, 86, 255},
        .widget_active = {88, 93, 104, 255},
        .accent = {86, 156, 230, 255},
        .text = {228, 230, 233, 255},
        .text_dim = {150, 154, 160, 255},
        .border = {24, 25, 27, 255},
        .error = {240, 110, 100, 255},
        .pad = 8,
        .spacing = 4,
        .row_h = 22,
        .scrollbar_w = 10,
    };
}

void ui_init(ui_ctx *ui, int (*text_width)(void *, const char *, int), void *font, int text_h)
{
    memset(ui, 0, sizeof *ui);
    ui->style = ui_style_default();
    ui->text_width = text_width;
    ui->font = font;
    ui->text_h = text_h;
}

/* ---- input ---------------------------------------------------------------------- */
void ui_input_mousemove(ui_ctx *ui, int x, int y) { ui->mouse_x = x, ui->mouse_y = y; }
void ui_input_mousedown(ui_ctx *ui, int x, int y)
{
    ui_input_mousemove(ui, x, y);
    ui->mouse_down = ui->mouse_pressed = 1;
}
void ui_input_mouseup(ui_ctx *ui, int x, int y)
{
    ui_input_mousemove(ui, x, y);
    ui->mouse_down = 0;
    ui->mouse_released = 1;
}
void ui_input_wheel(ui_ctx *ui, int dy) { ui->wheel += dy; }
void ui_input_key(ui_ctx *ui, int key) { ui->keys |= key; }
void ui_input_text(ui_ctx *ui, const char *s)
{
    size_t n = strlen(ui->input), m = strlen(s);
    if (n + m < sizeof ui->input) memcpy(ui->input + n, s, m + 1);
}
int ui_has_focus(const ui_ctx *ui) { return ui->focus != 0; }

/* ---- helpers ---------------------------------------------------------------------- */
static ui_rect intersect(ui_rect a, ui_rect b)
{
    int x0 = MAX(a.x, b.x), y0 = MAX(a.y, b.y);
    int x1 = MIN(a.x + a.w, b.x + b.w), y1 = MIN(a.y + a.h, b.y + b.h);
    return (ui_rect){x0, y0, MAX(0, x1 - x0), MAX(0, y1 - y0)};
}
static int contains(ui_rect r, int x, int y) { return x >= r.x && y >= r.y && x < r.x + r.w && y < r.y + r.h; }
static ui_rect cur_clip(const ui_ctx *ui) { return ui->clip[ui->nclip - 1]; }
static int mouse_over(const ui_ctx *ui, ui_rect r)
{
    return contains(r, ui->mouse_x, ui->mouse_y) && contains(cur_clip(ui), ui->mouse_x, ui->mouse_y);
}

ui_id ui_get_id(const ui_ctx *ui, const char *name)
{
    uint32_t h = 2166136261u ^ ui->seed;   /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) h = (h ^ *p) * 16777619u;
    return h ? h : 1;
}

/* Press handling shared by all widgets; returns whether the mouse is over r. */
static int control(ui_ctx *ui, ui_id id, ui_rect r)
{
    int over = mouse_over(ui, r);
    if (ui->disabled) return 0;
    if (over && (ui->active == 0 || ui->active == id)) ui->next_hot = id;
    if (over && ui->mouse_pressed && ui->active == 0) ui->active = id;
    return over;
}
static int clicked(ui_ctx *ui, ui_id id, int over) { return ui->active == id && ui->mouse_released && over; }

static ui_color widget_color(const ui_ctx *ui, ui_id id)
{
    if (ui->active == id) return ui->style.widget_active;
    if (ui->next_hot == id) return ui->style.widget_hot;
    return ui->style.widget;
}
static ui_color text_color(const ui_ctx *ui) { return ui->disabled ? ui->style.text_dim : ui->style.text; }

static ui_cmd *push_cmd(ui_ctx *ui, ui_cmd_kind kind, ui_rect r)
{
    if (ui->ncmd >= UI_MAX_CMDS) return NULL;
    ui_cmd *c = &ui->cmds[ui->ncmd++];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->rect = r;
    return c;
}

/* ---- frame -------------------------------------------------------------------------- */
void ui_begin(ui_ctx *ui, ui_rect window)
{
    ui->ncmd = ui->ntext = ui->nnamed = 0;
    ui->nclip = 0;
    ui->next_hot = 0;
    ui->focus_seen = 0;
    ui->scroll = NULL;
    ui->seed = 0;
    ui->nclip = 1;
    ui->clip[0] = window;
    push_cmd(ui, UI_CMD_CLIP, window);
    ui_layout_body(ui, window);   /* the renderer clears to style.panel */
}

void ui_end(ui_ctx *ui)
{
    if (ui->focus && (!ui->focus_seen || (ui->mouse_pressed && ui->active != ui->focus))) ui->focus = 0;
    if (ui->mouse_released || !ui->mouse_down) ui->active = 0;
    ui->hot = ui->next_hot;
    ui->mouse_pressed = ui->mouse_released = 0;
    ui->wheel = 0;
    ui->keys = 0;
    ui->input[0] = 0;
}

/* ---- layout ----------------------------------------------------------------------------- */
void ui_layout_body(ui_ctx *ui, ui_rect body)
{
    ui->lay = (ui_layout){.body = body, .x = body.x, .y = body.y, .row_h = ui->style.row_h, .row_n = 1,
                          .max_y = body.y};
}

void ui_panel(ui_ctx *ui, ui_rect r)
{
    int p = ui->style.pad;
    ui_layout_body(ui, (ui_rect){r.x + p, r.y + p, r.w - 2 * p, r.h - 2 * p});
}

void ui_layout_row(ui_ctx *ui, int n, const int *widths, int height)
{
    if (ui->lay.row_i > 0) ui->lay.y += ui->lay.row_h + ui->style.spacing;
    ui->lay.row_n = MAX(1, MIN(n, 16));
    for (int i = 0; i < ui->lay.row_n; i++) ui->lay.row_w[i] = widths ? widths[i] : 0;
    ui->lay.row_h = height > 0 ? height : ui->style.row_h;
    ui->lay.row_i = 0;
    ui->lay.x = ui->lay.body.x;
}

ui_rect ui_layout_next(ui_ctx *ui)
{
    if (ui->lay.row_i >= ui->lay.row_n) {
        ui->lay.y += ui->lay.row_h + ui->style.spacing;
        ui->lay.row_i = 0;
        ui->lay.x = ui->lay.body.x;
    }
    int w = ui->lay.row_w[ui->lay.row_i];
    if (w <= 0) w = MAX(0, ui->lay.body.x + ui->lay.body.w + w - ui->lay.x);
    ui_rect r = {ui->lay.x, ui->lay.y, w, ui->lay.row_h};
    ui->lay.x += w + ui->style.spacing;
    ui->lay.row_i++;
    ui->lay.max_y = MAX(ui->lay.max_y, r.y + r.h);
    return r;
}

ui_rect ui_layout_rest(ui_ctx *ui)
{
    int y = ui->lay.row_i > 0 ? ui->lay.y + ui->lay.row_h + ui->style.spacing : ui->lay.y;
    return (ui_rect){ui->lay.body.x, y, ui->lay.body.w, MAX(0, ui->lay.body.y + ui->lay.body.h - y)};
}

/* ---- drawing ------------------------------------------------------------------------------- */
void ui_draw_rect(ui_ctx *ui, ui_rect r, ui_color c)
{
    if (r.w <= 0 || r.h <= 0 || intersect(r, cur_clip(ui)).w == 0 || intersect(r, cur_clip(ui)).h == 0) return;
    ui_cmd *cmd = push_cmd(ui, UI_CMD_RECT, r);
    if (cmd) cmd->color = c;
}

void ui_draw_box(ui_ctx *ui, ui_rect r, ui_color c, int t)
{
    ui_draw_rect(ui, (ui_rect){r.x, r.y, r.w, t}, c);
    ui_draw_rect(ui, (ui_rect){r.x, r.y + r.h - t, r.w, t}, c);
    ui_draw_rect(ui, (ui_rect){r.x, r.y + t, t, r.h - 2 * t}, c);
    ui_draw_rect(ui, (ui_rect){r.x + r.w - t, r.y + t, t, r.h - 2 * t}, c);
}

void ui_draw_text(ui_ctx *ui, const char *s, int len, int x, int y, ui_color c)
{
    if (len <= 0 || ui->ntext + len > UI_MAX_TEXT) return;
    ui_rect r = {x, y, ui->text_width(ui->font, s, len), ui->text_h};
    ui_rect v = intersect(r, cur_clip(ui));
    if (v.w == 0 || v.h == 0) return;
    ui_cmd *cmd = push_cmd(ui, UI_CMD_TEXT, r);
    if (!cmd) return;
    cmd->color = c;
    cmd->text = ui->ntext;
    cmd->len = len;
    memcpy(ui->text + ui->ntext, s, (size_t)len);
    ui->ntext += len;
}

void ui_draw_text_in(ui_ctx *ui, ui_rect r, const char *s, ui_color c, int align)
{
    int len = (int)strlen(s), room = r.w - 2 * ui->style.spacing;
    while (len > 0 && ui->text_width(ui->font, s, len) > room) len--;
    int w = ui->text_width(ui->font, s, len);
    int x = align < 0 ? r.x + ui->style.spacing : align > 0 ? r.x + r.w - ui->style.spacing - w : r.x + (r.w - w) / 2;
    ui_draw_text(ui, s, len, x, r.y + (r.h - ui->text_h) / 2, c);
}

void ui_draw_image(ui_ctx *ui, ui_rect r, ui_image im)
{
    ui_rect v = intersect(r, cur_clip(ui));
    if (v.w == 0 || v.h == 0) return;
    ui_cmd *cmd = push_cmd(ui, UI_CMD_IMAGE, r);
    if (!cmd) return;
    cmd->color = (ui_color){255, 255, 255, 255};
    cmd->image = im;
}

void ui_push_clip(ui_ctx *ui, ui_rect r)
{
    if (ui->nclip >= UI_MAX_CLIPS) return;
    ui_rect c = intersect(r, cur_clip(ui));
    ui->clip[ui->nclip++] = c;
    push_cmd(ui, UI_CMD_CLIP, c);
}

void ui_pop_clip(ui_ctx *ui)
{
    if (ui->nclip > 1) ui->nclip--;
    push_cmd(ui, UI_CMD_CLIP, cur_clip(ui));
}

void ui_name(ui_ctx *ui, const char *name, ui_rect r)
{
    if (!ui->record || ui->nnamed >= UI_MAX_NAMED) return;
    ui_rect v = intersect(r, cur_clip(ui));
    if (v.w == 0 || v.h == 0) return;
    ui_named *n = &ui->named[ui->nnamed++];
    snprintf(n->name, sizeof n->name, "%s", name);
    n->rect = v;
}

static void name2(ui_ctx *ui, const char *kind, const char *name, ui_rect r)
{
    if (!ui->record) return;
    char buf[40];
    snprintf(buf, sizeof buf, "%s/%s", kind, name);
    for (char *p = buf; *p; p++)
        if (*p == ' ') *p = '_';   /* "button/Save PNG" -> "button/Save_PNG": one word in a script */
    ui_name(ui, buf, r);
}

/* ---- widgets ------------------------------------------------------------------------------- */
void ui_label_ex(ui_ctx *ui, const char *text, ui_color c, int align)
{
    ui_draw_text_in(ui, ui_layout_next(ui), text, c, align);
}
void ui_label(ui_ctx *ui, const char *text) { ui_label_ex(ui, text, text_color(ui), -1); }

void ui_label_wrap(ui_ctx *ui, const char *text, ui_color c)
{
    int room = ui->lay.body.w - 2 * ui->style.spacing;
    const char *line = text;
    while (*line) {
        /* take words while they fit (at least one) */
        const char *end = line, *p = line;
        while (*p) {
            const char *q = p;
            while (*q == ' ') q++;
            while (*q && *q != ' ') q++;
            if (end != line && ui->text_width(ui->font, line, (int)(q - line)) > room) break;
            end = p = q;
        }
        ui_layout_row(ui, 1, NULL, ui->text_h + 2);
        ui_rect r = ui_layout_next(ui);
        ui_draw_text(ui, line, (int)(end - line), r.x + ui->style.spacing, r.y + 1, c);
        line = end;
        while (*line == ' ') line++;
    }
}

int ui_button(ui_ctx *ui, const char *label)
{
    ui_id id = ui_get_id(ui, label);
    ui_rect r = ui_layout_next(ui);
    name2(ui, "button", label, r);
    int over = control(ui, id, r);
    ui_draw_rect(ui, r, widget_color(ui, id));
    ui_draw_text_in(ui, r, label, text_color(ui), 0);
    return clicked(ui, id, over);
}

int ui_toggle(ui_ctx *ui, const char *label, int *v)
{
    ui_id id = ui_get_id(ui, label) ^ 0x51c3u;
    ui_rect r = ui_layout_next(ui);
    name2(ui, "toggle", label, r);
    int over = control(ui, id, r), changed = 0;
    if (clicked(ui, id, over)) *v = !*v, changed = 1;
    int side = MIN(r.h - 6, 16);
    ui_rect box = {r.x + 2, r.y + (r.h - side) / 2, side, side};
    ui_draw_rect(ui, box, widget_color(ui, id));
    ui_draw_box(ui, box, ui->style.border, 1);
    if (*v) ui_draw_rect(ui, (ui_rect){box.x + 3, box.y + 3, side - 6, side - 6}, ui->style.accent);
    int tx = box.x + side + ui->style.spacing + 2;
    ui_draw_text_in(ui, (ui_rect){tx, r.y, r.x + r.w - tx, r.h}, label, text_color(ui), -1);
    return changed;
}

int ui_choice(ui_ctx *ui, const char *name, const char *label, int selected)
{
    ui_id id = ui_get_id(ui, name) ^ 0x3c71u;
    ui_rect r = ui_layout_next(ui);
    name2(ui, "choice", name, r);
    int over = control(ui, id, r);
    ui_draw_rect(ui, r, selected ? ui->style.widget_active : widget_color(ui, id));
    if (selected) ui_draw_rect(ui, (ui_rect){r.x, r.y, 3, r.h}, ui->style.accent);
    ui_draw_text_in(ui, (ui_rect){r.x + 6, r.y, r.w - 6, r.h}, label, text_color(ui), -1);
    return clicked(ui, id, over);
}

int ui_slider(ui_ctx *ui, const char *name, float *v, float lo, float hi, const char *fmt)
{
    return ui_slider_ex(ui, name, v, lo, hi, fmt, NULL);
}

/* The histogram's bars (faint, from the bottom edge) and the marker (a
 * 2-pixel line with caps), under and over the slider's own drawing. */
static void slider_hist(ui_ctx *ui, ui_rect r, const ui_slider_deco *d)
{
    if (!d || !d->hist || d->nbins <= 0) return;
    float top = 0;
    for (int i = 0; i < d->nbins; i++) top = MAX(top, d->hist[i]);
    if (!(top > 0)) return;
    ui_color c = ui->style.text_dim;
    c.a = 70;
    for (int i = 0; i < d->nbins; i++) {
        int x0 = r.x + (int)((long)i * r.w / d->nbins), x1 = r.x + (int)((long)(i + 1) * r.w / d->nbins);
        int h = (int)(d->hist[i] / top * (float)(r.h - 2) + 0.5f);
        if (h > 0 && x1 > x0) ui_draw_rect(ui, (ui_rect){x0, r.y + r.h - 1 - h, MAX(1, x1 - x0 - 1), h}, c);
    }
}

static void slider_marker(ui_ctx *ui, const char *name, ui_rect r, float lo, float hi, const ui_slider_deco *d)
{
    if (!d || isnan(d->marker) || ui->disabled) return;
    float t = (d->marker - lo) / (hi - lo);
    t = t < 0 ? 0 : t > 1 ? 1 : t;   /* off the scale: at the end */
    int x = r.x + (int)(t * (float)(r.w - 1) + 0.5f);
    ui_color c = d->marker_color.a ? d->marker_color : ui->style.text;
    ui_draw_rect(ui, (ui_rect){x - 1, r.y, 2, r.h}, c);
    ui_draw_rect(ui, (ui_rect){x - 3, r.y, 6, 2}, c);
    ui_draw_rect(ui, (ui_rect){x - 3, r.y + r.h - 2, 6, 2}, c);
    name2(ui, "marker", name, (ui_rect){x - 1, r.y, 2, r.h});
}

int ui_slider_ex(ui_ctx *ui, const char *name, float *v, float lo, float hi, const char *fmt, const ui_slider_deco *deco)
{
    ui_id id = ui_get_id(ui, name);
    ui_rect r = ui_layout_next(ui);
    name2(ui, "slider", name, r);
    float old = *v;
    control(ui, id, r);
    if (ui->active == id && r.w > 1) {
        float t = (float)(ui->mouse_x - r.x) / (float)(r.w - 1);
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        *v = lo + t * (hi - lo);
    }
    ui_draw_rect(ui, r, widget_color(ui, id));
    slider_hist(ui, r, deco);
    /* fill from the zero point (or lo) to the value, then a handle */
    float zero = lo < 0 && hi > 0 ? 0 : lo;
    int xz = r.x + (int)((zero - lo) / (hi - lo) * (float)(r.w - 1) + 0.5f);
    int xv = r.x + (int)((*v - lo) / (hi - lo) * (float)(r.w - 1) + 0.5f);
    ui_color fill = ui->style.accent;
    if (ui->disabled) fill = ui->style.widget_hot;
    else fill.a = 110;
    ui_draw_rect(ui, (ui_rect){MIN(xz, xv), r.y + 2, MAX(1, xv > xz ? xv - xz : xz - xv), r.h - 4}, fill);
    ui_draw_rect(ui, (ui_rect){xz, r.y, 1, r.h}, ui->style.text_dim);
    if (!ui->disabled) ui_draw_rect(ui, (ui_rect){xv - 2, r.y, 5, r.h}, ui->style.accent);
    slider_marker(ui, name, r, lo, hi, deco);
    char buf[32];
    snprintf(buf, sizeof buf, fmt, (double)*v);   /* on the side away from the handle */
    ui_draw_text_in(ui, r, buf, text_color(ui), xv - r.x > r.w / 2 || (xv - r.x == r.w / 2 && *v > zero) ? -1 : 1);
    return *v != old;
}

int ui_tabs(ui_ctx *ui, const char *const *names, int n, int *sel)
{
    ui_rect r = ui_layout_next(ui);
    int changed = 0, x = r.x, text = 0;
    for (int i = 0; i < n; i++) text += ui->text_width(ui->font, names[i], (int)strlen(names[i]));
    int pad = 4 * ui->style.pad;   /* less when the names would not fit */
    if (n > 0 && text + n * pad + n - 1 > r.w) pad = MAX(2, (r.w - text - (n - 1)) / n);
    for (int i = 0; i < n; i++) {
        int w = ui->text_width(ui->font, names[i], (int)strlen(names[i])) + pad;
        ui_rect t = {x, r.y, MIN(w, r.x + r.w - x), r.h};
        ui_id id = ui_get_id(ui, names[i]) ^ 0x7ab5u;
        name2(ui, "tab", names[i], t);
        int over = control(ui, id, t);
        if (clicked(ui, id, over) && *sel != i) *sel = i, changed = 1;
        ui_draw_rect(ui, t, i == *sel ? ui->style.widget_active : widget_color(ui, id));
        if (i == *sel) ui_draw_rect(ui, (ui_rect){t.x, t.y + t.h - 2, t.w, 2}, ui->style.accent);
        ui_draw_text_in(ui, t, names[i], text_color(ui), 0);
        x += t.w + 1;
    }
    ui_draw_rect(ui, (ui_rect){x, r.y + r.h - 1, r.x + r.w - x, 1}, ui->style.widget);
    return changed;
}

int ui_textbox(ui_ctx *ui, const char *name, char *buf, int size, const char *placeholder)
{
    ui_id id = ui_get_id(ui, name);
    ui_rect r = ui_layout_next(ui);
    name2(ui, "textbox", name, r);
    int res = 0, over = control(ui, id, r);
    if (over && ui->mouse_pressed && ui->active == id) ui->focus = id;
    int len = (int)strlen(buf);
    if (ui->focus == id) {
        ui->focus_seen = 1;
        for (const char *p = ui->input; *p; p++)   /* printable ASCII: what the font draws */
            if (*p >= 32 && *p < 127 && len + 1 < size) buf[len++] = *p, res |= UI_CHANGED;
        buf[len] = 0;
        if ((ui->keys & UI_KEY_BACKSPACE) && len > 0) buf[--len] = 0, res |= UI_CHANGED;
        if ((ui->keys & UI_KEY_CLEAR) && len > 0) buf[len = 0] = 0, res |= UI_CHANGED;
        if (ui->keys & UI_KEY_RETURN) res |= UI_SUBMIT, ui->focus = 0;
        if (ui->keys & UI_KEY_ESCAPE) ui->focus = 0;
    }
    ui_draw_rect(ui, r, ui->focus == id ? ui->style.border : widget_color(ui, id));
    if (ui->focus == id) ui_draw_box(ui, r, ui->style.accent, 1);
    ui_push_clip(ui, r);
    int room = r.w - 3 * ui->style.spacing, start = 0;
    while (start < len && ui->text_width(ui->font, buf + start, len - start) > room) start++;
    int x = r.x + ui->style.spacing, y = r.y + (r.h - ui->text_h) / 2;
    if (len) ui_draw_text(ui, buf + start, len - start, x, y, text_color(ui));
    else if (ui->focus != id && placeholder)
        ui_draw_text(ui, placeholder, (int)strlen(placeholder), x, y, ui->style.text_dim);
    if (ui->focus == id) {
        int cx = x + ui->text_width(ui->font, buf + start, len - start);
        ui_draw_rect(ui, (ui_rect){cx + 1, r.y + 4, 1, r.h - 8}, ui->style.text);
    }
    ui_pop_clip(ui);
    return res;
}

/* ---- scroll region ------------------------------------------------------------------------------ */
static int clamp_offset(const ui_scroll *s, int off)
{
    int max = MAX(0, s->content_h - s->view_h);
    return off < 0 ? 0 : off > max ? max : off;
}


void ui_begin_scroll(ui_ctx *ui, const char *name, ui_rect r, ui_scroll *s)
{
    ui->outer = ui->lay;
    ui->scroll = s;
    ui->scroll_rect = r;
    ui->scroll_id = ui_get_id(ui, name);
    s->view_h = r.h;
    s->offset = clamp_offset(s, s->offset);
    ui_layout_body(ui, (ui_rect){r.x, r.y - s->offset, r.w - ui->style.scrollbar_w - ui->style.spacing, 1 << 20});
    ui->seed = ui->scroll_id;
    ui_push_clip(ui, r);
    name2(ui, "scroll", name, r);
}

void ui_end_scroll(ui_ctx *ui)
{
    ui_scroll *s = ui->scroll;
    ui_rect r = ui->scroll_rect;
    ui_id id = ui->scroll_id + 1;
    ui->seed = 0;
    ui_pop_clip(ui);
    s->content_h = ui->lay.max_y - ui->lay.body.y;
    if (mouse_over(ui, r) && ui->wheel) {
        s->offset = clamp_offset(s, s->offset - ui->wheel * 3 * ui->style.row_h);
        ui->wheel = 0;
    }
    if (s->content_h > s->view_h) {
        ui_rect track = {r.x + r.w - ui->style.scrollbar_w, r.y, ui->style.scrollbar_w, r.h};
        int range = s->content_h - s->view_h;
        int th = MAX(24, (int)((long)r.h * r.h / s->content_h));
        int ty = r.y + (int)((long)s->offset * (r.h - th) / range);
        int over = control(ui, id, track);
        if (over && ui->mouse_pressed && ui->active == id)   /* grab the thumb where pressed, or its middle */
            ui->drag_offset = (ui->mouse_y >= ty && ui->mouse_y < ty + th) ? ui->mouse_y - ty : th / 2;
        if (ui->active == id && r.h > th) {
            ty = MAX(r.y, MIN(r.y + r.h - th, ui->mouse_y - ui->drag_offset));
            s->offset = clamp_offset(s, (int)((long)(ty - r.y) * range / (r.h - th)));
        }
        ui_draw_rect(ui, track, ui->style.bg);
        ui_draw_rect(ui, (ui_rect){track.x + 1, ty, track.w - 2, th}, widget_color(ui, id));
    }
    ui->scroll = NULL;
    /* back in the panel, below the region (which took the rest of the body) */
    ui->lay = ui->outer;
    ui->lay.y = r.y + r.h + ui->style.spacing;
    ui->lay.x = ui->lay.body.x;
    ui->lay.row_i = 0;
    ui->lay.max_y = MAX(ui->lay.max_y, r.y + r.h);
}

/* ---- image grid ------------------------------------------------------------------------------------ */
int ui_image_grid(ui_ctx *ui, const char *name, const ui_image *images, int n, int cell, int selected,
                  int reveal)
{
    int gap = ui->style.spacing, step = cell + gap;
    int cols = MAX(1, (ui->lay.body.w + gap) / step), rows = (n + cols - 1) / cols;
    ui_layout_row(ui, 1, NULL, MAX(1, rows * step - gap));
    ui_rect r = ui_layout_next(ui);
    ui_id base = ui_get_id(ui, name);
    ui_rect clip = cur_clip(ui);
    int r0 = MAX(0, (clip.y - r.y) / step), r1 = MIN(rows - 1, (clip.y + clip.h - r.y) / step);
    int hit = -1;
    for (int row = r0; row <= r1; row++)
        for (int c = 0; c < cols && row * cols + c < n; c++) {
            int i = row * cols + c;
            ui_rect cr = {r.x + c * step, r.y + row * step, cell, cell};
            ui_id id = base + (ui_id)i + 1;
            int over = control(ui, id, cr);
            if (clicked(ui, id, over)) hit = i;
            ui_draw_image(ui, cr, images[i]);
            if (i == selected) ui_draw_box(ui, cr, ui->style.accent, 3);
            else if (ui->next_hot == id) ui_draw_box(ui, cr, ui->style.text, 1);
            if (ui->record) {
                char buf[24];
                snprintf(buf, sizeof buf, "%d", i);
                name2(ui, name, buf, cr);   /* "NAME/3" */
            }
        }
    if (reveal && ui->scroll && selected >= 0 && selected < n) {
        int y = r.y + selected / cols * step, top = ui->scroll_rect.y, bottom = top + ui->scroll_rect.h;
        if (y < top) ui->scroll->offset -= top - y;
        else if (y + cell > bottom) ui->scroll->offset += y + cell - bottom;
    }
    return hit;
}

/* ---- line plot ----------------------------------------------------------------------------------------- */
int ui_area(ui_ctx *ui, const char *name, ui_rect r)
{
    ui_id id = ui_get_id(ui, name) ^ 0x3c1du;
    name2(ui, "area", name, r);
    return clicked(ui, id, control(ui, id, r));
}

int ui_drag_area(ui_ctx *ui, const char *name, ui_rect r, int *dx, int *dy, int *wheel)
{
    ui_id id = ui_get_id(ui, name) ^ 0x5a17u;
    name2(ui, "drag", name, r);
    int over = control(ui, id, r);
    *dx = *dy = *wheel = 0;
    if (ui->active == id) {
        if (ui->mouse_pressed) ui->drag_x = ui->mouse_x, ui->drag_y = ui->mouse_y;
        *dx = ui->mouse_x - ui->drag_x, *dy = ui->mouse_y - ui->drag_y;
        ui->drag_x = ui->mouse_x, ui->drag_y = ui->mouse_y;
    }
    if (over && ui->wheel) *wheel = ui->wheel, ui->wheel = 0;
    return *dx || *dy || *wheel;
}

void ui_plot(ui_ctx *ui, const char *name, const float *x, const float *y, int n, const char *title, ui_color c,
             const char *fmt)
{
    ui_rect r = ui_layout_next(ui);
    name2(ui, "plot", name, r);
    ui_draw_rect(ui, r, ui->style.bg);
    int th = ui->text_h;
    ui_draw_text_in(ui, (ui_rect){r.x, r.y, r.w, th + 2}, title, ui->style.text, -1);
    /* the plot area: below the title, above the x labels */
    ui_rect p = {r.x + 4, r.y + th + 4, r.w - 8, r.h - 2 * th - 8};
    if (p.w < 4 || p.h < 4) return;
    ui_draw_rect(ui, (ui_rect){p.x, p.y + p.h, p.w, 1}, ui->style.text_dim);   /* axes */
    ui_draw_rect(ui, (ui_rect){p.x, p.y, 1, p.h}, ui->style.text_dim);
    if (n < 2 || !(x[n - 1] > x[0])) {
        ui_draw_text_in(ui, p, "no data yet", ui->style.text_dim, 0);
        return;
    }
    float lo = y[0], hi = y[0];
    for (int i = 1; i < n; i++) lo = MIN(lo, y[i]), hi = MAX(hi, y[i]);
    if (!(hi > lo)) hi = lo + 1e-6f + 1e-3f * (lo < 0 ? -lo : lo);
    char buf[48];
    snprintf(buf, sizeof buf, fmt, (double)hi);
    ui_draw_text(ui, buf, (int)strlen(buf), p.x + 4, p.y, ui->style.text_dim);
    snprintf(buf, sizeof buf, fmt, (double)lo);
    ui_draw_text(ui, buf, (int)strlen(buf), p.x + 4, p.y + p.h - th - 1, ui->style.text_dim);
    snprintf(buf, sizeof buf, "%.0f", (double)x[0]);
    ui_draw_text_in(ui, (ui_rect){r.x, p.y + p.h + 2, r.w, th}, buf, ui->style.text_dim, -1);
    snprintf(buf, sizeof buf, "%.0f", (double)x[n - 1]);
    ui_draw_text_in(ui, (ui_rect){r.x, p.y + p.h + 2, r.w, th}, buf, ui->style.text_dim, 1);
    /* column by column: the span of y over the segments crossing each pixel column */
    double x0 = x[0], dx = (double)(x[n - 1] - x[0]);
    int seg = 0;
    for (int col = 0; col < p.w; col++) {
        double xa = x0 + dx * col / p.w, xb = x0 + dx * (col + 1) / p.w;
        while (seg < n - 2 && x[seg + 1] < xa) seg++;
        float ya = 0, yb = 0;
        int first = 1;
        for (int i = seg; i < n - 1 && x[i] <= xb; i++) {
            /* the segment i..i+1 clipped to [xa, xb] */
            double s0 = MAX(xa, (double)x[i]), s1 = MIN(xb, (double)x[i + 1]);
            if (s1 < s0) continue;
            double w = (double)(x[i + 1] - x[i]);
            float v0 = w > 0 ? (float)(y[i] + (y[i + 1] - y[i]) * (s0 - x[i]) / w) : y[i];
            float v1 = w > 0 ? (float)(y[i] + (y[i + 1] - y[i]) * (s1 - x[i]) / w) : y[i + 1];
            if (first) ya = MIN(v0, v1), yb = MAX(v0, v1), first = 0;
            else ya = MIN(ya, MIN(v0, v1)), yb = MAX(yb, MAX(v0, v1));
        }
        if (first) continue;
        int py0 = p.y + p.h - 1 - (int)((yb - lo) / (hi - lo) * (float)(p.h - 1) + 0.5f);
        int py1 = p.y + p.h - 1 - (int)((ya - lo) / (hi - lo) * (float)(p.h - 1) + 0.5f);
        /* columns share their edge's point, so the line stays joined */
        ui_draw_rect(ui, (ui_rect){p.x + col, py0, 1, MAX(1, py1 - py0 + 1)}, c);
    }
}
