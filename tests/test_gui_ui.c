/* The explorer's immediate-mode widgets (src/app/ui.c) without a window:
 * input goes in through ui_input_*, behaviour and the command list come
 * out. Text is measured as 7 pixels a character. Also the parser of the
 * gallery's search box (query.c). */
#include "testutil.h"

#include <math.h>
#include <string.h>

#include "zspace/query.h"
#include "app/ui.h"
#include "zspace/latent.h"

static int width7(void *font, const char *s, int len) { return 7 * len; }

static ui_ctx ui;
static const ui_rect WIN = {0, 0, 400, 300};

/* One frame: a panel at the window's origin, then one widget row. */
static void begin(int n, const int *w) { ui_begin(&ui, WIN), ui_panel(&ui, WIN), ui_layout_row(&ui, n, w, 20); }

static int count_cmds(ui_cmd_kind k)
{
    int n = 0;
    for (int i = 0; i < ui.ncmd; i++) n += ui.cmds[i].kind == k;
    return n;
}

static void test_button(void)
{
    /* the panel pads by 8: the button covers x 8..391, y 8..27 */
    ui_input_mousedown(&ui, 50, 15), ui_input_mouseup(&ui, 50, 15);   /* press and release in one frame */
    begin(1, NULL);
    CHECK(ui_button(&ui, "OK") == 1);
    ui_end(&ui);
    CHECK(count_cmds(UI_CMD_TEXT) == 1 && memcmp(ui.text + ui.cmds[ui.ncmd - 1].text, "OK", 2) == 0);

    ui_input_mousedown(&ui, 50, 15);   /* press on it, release elsewhere: no click */
    begin(1, NULL); CHECK(ui_button(&ui, "OK") == 0); ui_end(&ui);
    ui_input_mouseup(&ui, 50, 200);
    begin(1, NULL); CHECK(ui_button(&ui, "OK") == 0); ui_end(&ui);

    ui_input_mousedown(&ui, 50, 200);  /* press elsewhere, release on it: no click */
    begin(1, NULL); CHECK(ui_button(&ui, "OK") == 0); ui_end(&ui);
    ui_input_mouseup(&ui, 50, 15);
    begin(1, NULL); CHECK(ui_button(&ui, "OK") == 0); ui_end(&ui);
}

static void test_slider(void)
{
    /* slider 101 px wide (x 8..108): value = -3 + 6 * (x - 8) / 100 */
    float v = 0;
    const int w[1] = {101};
    ui_input_mousedown(&ui, 8 + 75, 15);   /* a click jumps there */
    begin(1, w); CHECK(ui_slider(&ui, "s", &v, -3, 3, "%.2f") == 1); ui_end(&ui);
    CHECKF(v > 1.49f && v < 1.51f, "click: %g", v);
    ui_input_mousemove(&ui, 8 + 100 + 30, 40);   /* dragging past the end clamps, off the row too */
    begin(1, w), ui_slider(&ui, "s", &v, -3, 3, "%.2f"), ui_end(&ui);
    CHECKF(v == 3.0f, "drag past the end: %g", v);
    ui_input_mouseup(&ui, 8, 15);   /* the release position still counts */
    begin(1, w), ui_slider(&ui, "s", &v, -3, 3, "%.2f"), ui_end(&ui);
    CHECKF(v == -3.0f, "release: %g", v);
    ui_input_mousemove(&ui, 8 + 50, 15);   /* released: motion no longer moves it */
    begin(1, w); CHECK(ui_slider(&ui, "s", &v, -3, 3, "%.2f") == 0); ui_end(&ui);
    CHECK(v == -3.0f);

    float other = 0;   /* a press on one slider does not move another */
    ui_input_mousedown(&ui, 8 + 50, 15);
    begin(1, w), ui_slider(&ui, "s", &v, -3, 3, "%.2f"), ui_layout_row(&ui, 1, w, 20);
    ui_slider(&ui, "t", &other, -3, 3, "%.2f"), ui_end(&ui);
    ui_input_mousemove(&ui, 8 + 100, 40);   /* moves over the second one while dragging the first */
    begin(1, w), ui_slider(&ui, "s", &v, -3, 3, "%.2f"), ui_layout_row(&ui, 1, w, 20);
    ui_slider(&ui, "t", &other, -3, 3, "%.2f"), ui_end(&ui);
    CHECK(v == 3.0f && other == 0.0f);
    ui_input_mouseup(&ui, 8 + 100, 40);
    begin(1, w), ui_end(&ui);

    ui.disabled = 1;   /* disabled: no reaction */
    ui_input_mousedown(&ui, 8 + 10, 15), ui_input_mouseup(&ui, 8 + 10, 15);
    begin(1, w); CHECK(ui_slider(&ui, "s", &v, -3, 3, "%.2f") == 0); ui_end(&ui);
    ui.disabled = 0;
    CHECK(v == 3.0f);
}

static void test_textbox(void)
{
    char buf[6] = "";
    ui_input_text(&ui, "ab");   /* not focused: typing goes nowhere */
    begin(1, NULL); CHECK(ui_textbox(&ui, "f", buf, sizeof buf, NULL) == 0); ui_end(&ui);
    CHECK(buf[0] == 0 && !ui_has_focus(&ui));
    ui_input_mousedown(&ui, 20, 15), ui_input_mouseup(&ui, 20, 15);
    begin(1, NULL), ui_textbox(&ui, "f", buf, sizeof buf, NULL), ui_end(&ui);
    CHECK(ui_has_focus(&ui));
    ui_input_text(&ui, "h\x01" "air!!");   /* control characters dropped, the buffer never overflows */
    begin(1, NULL); CHECK(ui_textbox(&ui, "f", buf, sizeof buf, NULL) == UI_CHANGED); ui_end(&ui);
    CHECKF(strcmp(buf, "hair!") == 0, "'%s'", buf);
    ui_input_key(&ui, UI_KEY_BACKSPACE);
    begin(1, NULL), ui_textbox(&ui, "f", buf, sizeof buf, NULL), ui_end(&ui);
    CHECK(strcmp(buf, "hair") == 0);
    ui_input_key(&ui, UI_KEY_RETURN);
    begin(1, NULL); CHECK(ui_textbox(&ui, "f", buf, sizeof buf, NULL) & UI_SUBMIT); ui_end(&ui);
    CHECK(!ui_has_focus(&ui));
    ui_input_mousedown(&ui, 20, 15), ui_input_mouseup(&ui, 20, 15);   /* focus again, then click away */
    begin(1, NULL), ui_textbox(&ui, "f", buf, sizeof buf, NULL), ui_end(&ui);
    ui_input_mousedown(&ui, 20, 200), ui_input_mouseup(&ui, 20, 200);
    begin(1, NULL), ui_textbox(&ui, "f", buf, sizeof buf, NULL), ui_end(&ui);
    CHECK(!ui_has_focus(&ui));
}

static void test_scroll_and_grid(void)
{
    /* 30 cells of 20 px, 4 gap, in a 100 px wide region: (100 - 14 + 4) / 24 = 3 columns, 10 rows, 236 px */
    ui_image im[30];
    for (int i = 0; i < 30; i++) im[i] = (ui_image){(unsigned)i + 1, 0, 0, 1, 1, 0};
    ui_scroll s = {0};
    const ui_rect r = {0, 0, 100, 100};
    for (int f = 0; f < 2; f++) {   /* the first frame measures the content */
        ui_begin(&ui, WIN), ui_begin_scroll(&ui, "g", r, &s);
        ui_image_grid(&ui, "faces", im, 30, 20, -1, 0);
        ui_end_scroll(&ui), ui_end(&ui);
    }
    CHECKF(s.content_h == 236 && s.view_h == 100, "content %d view %d", s.content_h, s.view_h);
    CHECKF(count_cmds(UI_CMD_IMAGE) == 15, "only visible rows are drawn: %d", count_cmds(UI_CMD_IMAGE));

    ui_input_mousemove(&ui, 50, 50), ui_input_wheel(&ui, -1);   /* 3 rows of 22 px per notch */
    ui_begin(&ui, WIN), ui_begin_scroll(&ui, "g", r, &s), ui_image_grid(&ui, "faces", im, 30, 20, -1, 0);
    ui_end_scroll(&ui), ui_end(&ui);
    CHECK(s.offset == 66);
    ui_input_wheel(&ui, -10);   /* clamped at the end */
    ui_begin(&ui, WIN), ui_begin_scroll(&ui, "g", r, &s), ui_image_grid(&ui, "faces", im, 30, 20, -1, 0);
    ui_end_scroll(&ui), ui_end(&ui);
    CHECK(s.offset == 136);

    /* at offset 136, y 50 in the window is content y 186: row 7; x 30 is column 1 -> index 22 */
    int hit = -1;
    ui_input_mousedown(&ui, 30, 50), ui_input_mouseup(&ui, 30, 50);
    ui_begin(&ui, WIN), ui_begin_scroll(&ui, "g", r, &s), hit = ui_image_grid(&ui, "faces", im, 30, 20, -1, 0);
    ui_end_scroll(&ui), ui_end(&ui);
    CHECKF(hit == 22, "clicked %d", hit);
    ui_input_mousedown(&ui, 30, 150), ui_input_mouseup(&ui, 30, 150);   /* below the region: clipped, no hit */
    ui_begin(&ui, WIN), ui_begin_scroll(&ui, "g", r, &s), hit = ui_image_grid(&ui, "faces", im, 30, 20, -1, 0);
    ui_end_scroll(&ui), ui_end(&ui);
    CHECK(hit == -1);

    /* drag the bar's thumb to the top */
    ui_input_mousedown(&ui, 95, 90);
    ui_begin(&ui, WIN), ui_begin_scroll(&ui, "g", r, &s), ui_image_grid(&ui, "faces", im, 30, 20, -1, 0);
    ui_end_scroll(&ui), ui_end(&ui);
    ui_input_mousemove(&ui, 95, -200), ui_input_mouseup(&ui, 95, -200);
    ui_begin(&ui, WIN), ui_begin_scroll(&ui, "g", r, &s), ui_image_grid(&ui, "faces", im, 30, 20, -1, 0);
    ui_end_scroll(&ui), ui_end(&ui);
    CHECKF(s.offset == 0, "thumb dragged up: offset %d", s.offset);

    /* reveal scrolls the selected cell into view */
    ui_begin(&ui, WIN), ui_begin_scroll(&ui, "g", r, &s), ui_image_grid(&ui, "faces", im, 30, 20, 29, 1);
    ui_end_scroll(&ui), ui_end(&ui);
    CHECKF(s.offset == 236 - 100, "reveal: offset %d", s.offset);
}

static void test_tabs_and_clips(void)
{
    static const char *const names[] = {"One", "Two"};
    int sel = 0;
    /* tabs are text width + 32: "One" 8..60, "Two" from 62 */
    ui_input_mousedown(&ui, 70, 15), ui_input_mouseup(&ui, 70, 15);
    begin(1, NULL); CHECK(ui_tabs(&ui, names, 2, &sel) == 1); ui_end(&ui);
    CHECK(sel == 1);
    ui_begin(&ui, WIN);
    ui_push_clip(&ui, (ui_rect){10, 10, 50, 50});
    ui_draw_rect(&ui, (ui_rect){100, 100, 10, 10}, ui.style.text);   /* outside the clip: dropped */
    ui_draw_rect(&ui, (ui_rect){20, 20, 10, 10}, ui.style.text);
    ui_pop_clip(&ui);
    ui_end(&ui);
    CHECK(count_cmds(UI_CMD_RECT) == 1 && count_cmds(UI_CMD_CLIP) == 3);
    CHECK(ui_get_id(&ui, "a") != ui_get_id(&ui, "b"));
}

/* A slider's histogram bars and marker: where they are drawn. */
static void test_slider_deco(void)
{
    float v = 0, hist[4] = {1, 0, 4, 2};
    const int w[1] = {101};   /* x 8..108, y 8..27 */
    ui.record = 1;
    ui_slider_deco d = {hist, 4, 1.5f, {0}};
    begin(1, w), ui_slider_ex(&ui, "s", &v, -3, 3, "%.2f", &d), ui_end(&ui);
    /* bars: bin 2 (the largest) is 18 px high at x 58..82, bin 1 (empty) none, bin 3 half as high */
    int bars = 0, tall = 0, half = 0;
    for (int i = 0; i < ui.ncmd; i++) {
        const ui_cmd *c = &ui.cmds[i];
        if (c->kind != UI_CMD_RECT || c->color.a != 70) continue;
        bars++;
        if (c->rect.x == 58 && c->rect.h == 18 && c->rect.y + c->rect.h == 27) tall = 1;
        if (c->rect.x == 83 && c->rect.h == 9) half = 1;
    }
    CHECKF(bars == 3 && tall && half, "histogram bars: %d (tall %d, half %d)", bars, tall, half);
    int found = 0;
    for (int i = 0; i < ui.nnamed; i++)
        if (strcmp(ui.named[i].name, "marker/s") == 0) {
            found = 1;   /* 1.5 on -3..3 is 3/4 of the way: x = 8 + 75 */
            CHECKF(ui.named[i].rect.x == 8 + 75 - 1 && ui.named[i].rect.h == 20, "marker at x %d", ui.named[i].rect.x);
        }
    CHECK(found);
    d.marker = 9;   /* off the scale: at the end */
    begin(1, w), ui_slider_ex(&ui, "s", &v, -3, 3, "%.2f", &d), ui_end(&ui);
    found = 0;
    for (int i = 0; i < ui.nnamed; i++)
        if (strcmp(ui.named[i].name, "marker/s") == 0) found = ui.named[i].rect.x == 8 + 100 - 1;
    CHECK(found);
    d.marker = NAN;   /* none */
    begin(1, w), ui_slider_ex(&ui, "s", &v, -3, 3, "%.2f", &d), ui_end(&ui);
    for (int i = 0; i < ui.nnamed; i++) CHECK(strcmp(ui.named[i].name, "marker/s") != 0);
    ui.record = 0;
}

/* The search and "orthogonal to" boxes' parser. */
static void test_query(void)
{
    zs_query q;
    char msg[256];
    CHECK(zs_query_parse("Smiling=no Eyeglasses=yes", &q, msg, sizeof msg) == 0 && q.n == 2);
    CHECK(q.attr[0] == zs_attr_find("Smiling") && q.want[0] == -1);
    CHECK(q.attr[1] == zs_attr_find("Eyeglasses") && q.want[1] == 1);
    CHECK(zs_query_parse("smil=0, GLASSES , !male  wearing_hat=Y", &q, msg, sizeof msg) == 0 && q.n == 4);
    CHECK(q.attr[0] == zs_attr_find("Smiling") && q.want[0] == -1 && q.attr[1] == zs_attr_find("Eyeglasses"));
    CHECK(q.attr[2] == zs_attr_find("Male") && q.want[2] == -1 && q.attr[3] == zs_attr_find("Wearing_Hat"));
    CHECK(zs_query_attr("Mouth slightly open", 19) == zs_attr_find("Mouth_Slightly_Open"));
    CHECK(zs_query_attr("hair", 4) == ZS_QUERY_AMBIGUOUS);
    CHECK(zs_query_attr("Male", 4) == zs_attr_find("Male"));   /* a whole name, though "male" is in no other */
    CHECK(zs_query_parse("", &q, msg, sizeof msg) == 0 && q.n == 0 && msg[0] == 0);
    /* bad terms: named, the good ones kept */
    CHECK(zs_query_parse("Smilng=no hair Young=maybe Bald", &q, msg, sizeof msg) == -1);
    CHECKF(q.n == 1 && q.attr[0] == zs_attr_find("Bald") && q.want[0] == 1, "kept %d", q.n);
    CHECKF(strstr(msg, "'Smilng'") && strstr(msg, "did you mean Smiling") && strstr(msg, "'hair' names several") &&
               strstr(msg, "Young=maybe"), "%s", msg);
    /* matching */
    int8_t lab[ZS_NATTR];
    memset(lab, -1, sizeof lab);
    lab[zs_attr_find("Eyeglasses")] = 1;
    zs_query_parse("Smiling=no Eyeglasses=yes", &q, msg, sizeof msg);
    CHECK(zs_query_match(&q, lab));
    lab[zs_attr_find("Smiling")] = 1;
    CHECK(!zs_query_match(&q, lab));
}

int main(void)
{
    ui_init(&ui, width7, NULL, 14);
    test_button();
    test_slider();
    test_slider_deco();
    test_query();
    test_textbox();
    test_scroll_and_grid();
    test_tabs_and_clips();
    TEST_END();
}
