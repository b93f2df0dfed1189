/*
 * ui.h - the explorer's immediate-mode widgets (after rxi/microui).
 *
 * Widgets are function calls made every frame; a widget's id is a hash of
 * its name (and of the scroll region around it), so no widget objects
 * exist. The caller feeds input (ui_input_*), calls widgets between
 * ui_begin and ui_end, and hands the resulting command list (rectangles,
 * text, images, clip changes) to a renderer. Fixed memory, no allocation,
 * no SDL and no GL in here.
 *
 *     ui_begin(ui, (ui_rect){0, 0, w, h});
 *     ui_panel(ui, (ui_rect){0, 0, 300, h});
 *     ui_layout_row(ui, 2, (int[]){120, -1}, 0);     // fixed 120 px, then the rest
 *     ui_label(ui, "Smiling");
 *     if (ui_slider(ui, "Smiling", &s, -3, 3, "%+.2f")) changed = 1;
 *     if (ui_button(ui, "Reset")) s = 0;
 *     ui_end(ui);
 *     for (int i = 0; i < ui->ncmd; i++) draw(&ui->cmds[i]);
 *
 * Coordinates are window (logical) pixels; the renderer scales them to the
 * drawable for HiDPI. Text is measured through a callback, so the same
 * code runs with a real font or a fixed-width stand-in (the unit test).
 */
#ifndef ZS_APP_UI_H
#define ZS_APP_UI_H

#include <stdint.h>

typedef struct ui_rect { int x, y, w, h; } ui_rect;
typedef struct ui_color { uint8_t r, g, b, a; } ui_color;
typedef uint32_t ui_id;
/* A texture (renderer's handle) and the part of it to show. */
/* sharpen > 0: the renderer draws the texels u0..u1 x v0..v1 through an
 * unsharp mask of that strength (a decoded face; shaders/sharpen.frag). */
typedef struct ui_image { unsigned tex; float u0, v0, u1, v1, sharpen; } ui_image;

typedef enum ui_cmd_kind { UI_CMD_RECT, UI_CMD_TEXT, UI_CMD_IMAGE, UI_CMD_CLIP } ui_cmd_kind;
typedef struct ui_cmd {
    ui_cmd_kind kind;
    ui_rect rect;       /* RECT, IMAGE: the area; TEXT: x and top y; CLIP: the scissor */
    ui_color color;     /* RECT, TEXT; IMAGE: tint */
    ui_image image;     /* IMAGE */
    int text, len;      /* TEXT: offset into ui_ctx.text and length in bytes */
} ui_cmd;

/* Keys the widgets react to (the caller maps its key codes to these). */
enum { UI_KEY_BACKSPACE = 1, UI_KEY_RETURN = 2, UI_KEY_ESCAPE = 4, UI_KEY_CLEAR = 8 /* empty the text box */ };
/* ui_textbox results */
enum { UI_CHANGED = 1, UI_SUBMIT = 2 };

typedef struct ui_style {
    ui_color bg, panel, widget, widget_hot, widget_active, accent, text, text_dim, border, error;
    int pad;            /* inside panels */
    int spacing;        /* between cells */
    int row_h;          /* default row height */
    int scrollbar_w;
} ui_style;
ui_style ui_style_default(void);

/* Scroll state lives with the caller (one per scroll region). */
typedef struct ui_scroll { int offset, content_h, view_h; } ui_scroll;

/* Rows are laid out top to bottom in a body: a row cursor. */
typedef struct ui_layout {
    ui_rect body;
    int x, y;                        /* where the next cell goes */
    int row_h, row_n, row_i, row_w[16];
    int max_y;                       /* bottom of everything laid out */
} ui_layout;

#define UI_MAX_CMDS 8192
#define UI_MAX_TEXT (64 * 1024)
#define UI_MAX_CLIPS 8
#define UI_MAX_NAMED 512

/* A widget's name and on-screen rectangle, recorded when ui_ctx.record is
 * set (test mode: scripts click widgets by name). */
typedef struct ui_named { char name[40]; ui_rect rect; } ui_named;

typedef struct ui_ctx {
    ui_style style;
    int (*text_width)(void *font, const char *s, int len);   /* logical pixels */
    void *font;
    int text_h;                      /* line height, logical pixels */
    int disabled;                    /* set by the caller: widgets draw dimmed and ignore input */
    int record;                      /* 1: fill named[] each frame */

    /* input, accumulated between frames */
    int mouse_x, mouse_y, mouse_down, mouse_pressed, mouse_released, wheel;
    int keys;                        /* UI_KEY_* pressed this frame */
    char input[128];                 /* text typed this frame (UTF-8) */

    /* interaction state */
    ui_id hot, next_hot, active, focus, seed;
    int drag_offset;                 /* scrollbar thumb grab point */
    int drag_x, drag_y;              /* ui_drag_area: the mouse at the last frame of its drag */
    int focus_seen;                  /* the focused widget was drawn this frame */

    ui_layout lay;                   /* the current panel's (or scroll region's) */
    ui_layout outer;                 /* the panel's, kept while in a scroll region */
    ui_scroll *scroll;               /* current scroll region (or NULL) */
    ui_rect scroll_rect;
    ui_id scroll_id;

    ui_rect clip[UI_MAX_CLIPS];
    int nclip;

    ui_cmd cmds[UI_MAX_CMDS];
    int ncmd;
    char text[UI_MAX_TEXT];
    int ntext;
    ui_named named[UI_MAX_NAMED];
    int nnamed;
} ui_ctx;

void ui_init(ui_ctx *ui, int (*text_width)(void *, const char *, int), void *font, int text_h);

/* ---- input (between frames) ---- */
void ui_input_mousemove(ui_ctx *ui, int x, int y);
void ui_input_mousedown(ui_ctx *ui, int x, int y);
void ui_input_mouseup(ui_ctx *ui, int x, int y);
void ui_input_wheel(ui_ctx *ui, int dy);          /* notches, positive = away from the user */
void ui_input_key(ui_ctx *ui, int key);
void ui_input_text(ui_ctx *ui, const char *utf8);
int ui_has_focus(const ui_ctx *ui);                /* a text box takes the keyboard */

/* ---- frame ---- */
void ui_begin(ui_ctx *ui, ui_rect window);
void ui_end(ui_ctx *ui);

/* ---- layout ---- */
/* A panel: the inside of r (minus padding) becomes the body that rows are
 * laid out in, top to bottom. Nothing is drawn: the renderer clears the
 * window to style.panel (filling large areas is what costs most in a
 * software renderer). */
void ui_panel(ui_ctx *ui, ui_rect r);
/* Lay out rows in r (no drawing). */
void ui_layout_body(ui_ctx *ui, ui_rect r);
/* The next rows have n cells: width > 0 pixels; <= 0 fills up to -width
 * pixels from the body's right edge. height 0 -> style.row_h. */
void ui_layout_row(ui_ctx *ui, int n, const int *widths, int height);
ui_rect ui_layout_next(ui_ctx *ui);
/* Whatever is left of the body below the cursor. */
ui_rect ui_layout_rest(ui_ctx *ui);

/* ---- drawing (in the current clip) ---- */
void ui_draw_rect(ui_ctx *ui, ui_rect r, ui_color c);
void ui_draw_box(ui_ctx *ui, ui_rect r, ui_color c, int thickness);   /* outline */
void ui_draw_text(ui_ctx *ui, const char *s, int len, int x, int y, ui_color c);
/* align: -1 left, 0 centre, 1 right; vertically centred; cut to fit. */
void ui_draw_text_in(ui_ctx *ui, ui_rect r, const char *s, ui_color c, int align);
void ui_draw_image(ui_ctx *ui, ui_rect r, ui_image im);
void ui_push_clip(ui_ctx *ui, ui_rect r);          /* intersected with the current one */
void ui_pop_clip(ui_ctx *ui);
void ui_name(ui_ctx *ui, const char *name, ui_rect r);   /* record for scripts */
ui_id ui_get_id(const ui_ctx *ui, const char *name);

/* ---- widgets (each takes the next layout cell) ---- */
void ui_label(ui_ctx *ui, const char *text);
void ui_label_ex(ui_ctx *ui, const char *text, ui_color c, int align);
/* Words of `text` wrapped to the body's width, as many rows as needed. */
void ui_label_wrap(ui_ctx *ui, const char *text, ui_color c);
int ui_button(ui_ctx *ui, const char *label);       /* 1 when clicked */
/* A check box and its label; a click flips *v. 1 when it changed. */
int ui_toggle(ui_ctx *ui, const char *label, int *v);
/* One row of a list to choose from: label, highlighted when selected; 1
 * when clicked. The id and the script's name ("choice/NAME") come from name. */
int ui_choice(ui_ctx *ui, const char *name, const char *label, int selected);
/* Float slider: click or drag anywhere on it; shows the value with fmt.
 * 1 when the value changed. */
int ui_slider(ui_ctx *ui, const char *name, float *v, float lo, float hi, const char *fmt);
/* What a slider can show besides its value: a histogram of nbins bars
 * over [lo, hi] (heights relative to the largest; drawn faint in the
 * track) and a marker at a value (NaN: none; beyond the ends: at the end). */
typedef struct ui_slider_deco {
    const float *hist;
    int nbins;
    float marker;
    ui_color marker_color;           /* alpha 0: style.text */
} ui_slider_deco;
int ui_slider_ex(ui_ctx *ui, const char *name, float *v, float lo, float hi, const char *fmt,
                 const ui_slider_deco *deco);
/* A row of n tabs filling the cell; 1 when *sel changed. */
int ui_tabs(ui_ctx *ui, const char *const *names, int n, int *sel);
/* Single-line text box: click to focus; typing, backspace, clear, enter
 * (UI_SUBMIT), escape or a click elsewhere to leave. Returns UI_* flags. */
int ui_textbox(ui_ctx *ui, const char *name, char *buf, int size, const char *placeholder);
/* A vertical scroll region filling rect r: wheel over it or drag the bar.
 * Widgets between begin and end are laid out in it and clipped. */
void ui_begin_scroll(ui_ctx *ui, const char *name, ui_rect r, ui_scroll *s);
void ui_end_scroll(ui_ctx *ui);
/* n thumbnails of cell x cell in as many columns as fit the body; the
 * selected one is framed. reveal: scroll the enclosing region to the
 * selected one. Returns the index clicked, or -1. Cells are recorded as
 * "NAME/i" (the gallery's: "thumb/i"). */
int ui_image_grid(ui_ctx *ui, const char *name, const ui_image *images, int n, int cell, int selected,
                  int reveal);

/* An invisible clickable area at r (a map, a strip of bars): 1 when a press
 * and its release were both over it. Recorded as "area/NAME". */
int ui_area(ui_ctx *ui, const char *name, ui_rect r);

/* An invisible area at r to drag on (a picture to pan and zoom): while a
 * press that began on it lasts, *dx and *dy get the mouse's motion since
 * the last frame; *wheel gets the wheel's notches over it (taken from any
 * scroll region around). 1 when any is not 0. Recorded as "drag/NAME". */
int ui_drag_area(ui_ctx *ui, const char *name, ui_rect r, int *dx, int *dy, int *wheel);

/* A line plot in the next layout cell: the polyline of (x[i], y[i]), x
 * increasing, scaled to the data's range, drawn one pixel column at a time
 * (rectangles only); the title top left, y's max and min at the top and
 * bottom of the left edge, x's first and last under it. n < 2: the title
 * and "no data". fmt formats the axis numbers (e.g. "%.0f"). */
void ui_plot(ui_ctx *ui, const char *name, const float *x, const float *y, int n, const char *title, ui_color c,
             const char *fmt);

#endif
