/* OpenGL 3.3 core renderer and glyph atlas: see render.h. Everything is a
 * quad in drawable pixels, batched until the texture or the scissor
 * changes. */
#include "render.h"

#include <SDL_ttf.h>
#include <epoxy/gl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zspace/core.h"

#define MAX_QUADS 4096

typedef struct vtx { float x, y, u, v; uint8_t c[4]; } vtx;

/* ---- glyph atlas ------------------------------------------------------------ */
int zs_font_open(zs_font *f, const char *path, int size_pt, float scale, char *err, size_t nerr)
{
    memset(f, 0, sizeof *f);
    if (!TTF_WasInit() && TTF_Init() != 0) {
        snprintf(err, nerr, "SDL_ttf: %s", TTF_GetError());
        return -1;
    }
    TTF_Font *font = TTF_OpenFont(path, (int)lroundf((float)size_pt * scale));
    if (!font) {
        snprintf(err, nerr, "cannot open font %s: %s", path, TTF_GetError());
        return -1;
    }
    f->scale = scale;
    f->height = TTF_FontHeight(font);
    f->atlas_w = 512;
    /* pack rows of glyphs; measure first */
    int x = 1, y = 1, row = f->height + 1;
    SDL_Surface *surf[95] = {0};
    for (int i = 0; i < 95; i++) {
        int minx, maxx, miny, maxy, adv;
        if (TTF_GlyphMetrics32(font, (Uint32)(32 + i), &minx, &maxx, &miny, &maxy, &adv) != 0) minx = adv = 0;
        zs_glyph *g = &f->g[i];
        g->advance = adv;
        g->xoff = minx < 0 ? minx : 0;   /* SDL_ttf shifts such glyphs right by -minx */
        if (i > 0) {
            SDL_Surface *s = TTF_RenderGlyph32_Blended(font, (Uint32)(32 + i), (SDL_Color){255, 255, 255, 255});
            if (s) surf[i] = SDL_ConvertSurfaceFormat(s, SDL_PIXELFORMAT_RGBA32, 0), SDL_FreeSurface(s);
        }
        g->w = surf[i] ? surf[i]->w : 0;
        g->h = surf[i] ? surf[i]->h : 0;
        if (x + g->w + 1 > f->atlas_w) x = 1, y += row;
        g->x = x, g->y = y;
        x += g->w + 1;
    }
    f->atlas_h = y + row;
    uint8_t *px = zs_xcalloc((size_t)f->atlas_w * f->atlas_h, 4);
    memset(px, 255, 4);   /* texel (0, 0), left free by the packing: opaque white (white_uv) */
    for (int i = 0; i < 95; i++) {
        SDL_Surface *s = surf[i];
        if (!s) continue;
        const zs_glyph *g = &f->g[i];
        for (int r = 0; r < g->h && g->y + r < f->atlas_h; r++)
            for (int c = 0; c < g->w; c++) {
                uint8_t *d = px + ((size_t)(g->y + r) * f->atlas_w + g->x + c) * 4;
                d[0] = d[1] = d[2] = 255;
                d[3] = ((const uint8_t *)s->pixels)[(size_t)r * s->pitch + c * 4 + 3];
            }
        SDL_FreeSurface(s);
    }
    TTF_CloseFont(font);
    glGenTextures(1, &f->tex);
    glBindTexture(GL_TEXTURE_2D, f->tex);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, f->atlas_w, f->atlas_h, 0, GL_RGBA, GL_UNSIGNED_BYTE, px);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    free(px);
    return 0;
}

void zs_font_close(zs_font *f)
{
    if (f->tex) glDeleteTextures(1, &f->tex);
    f->tex = 0;
}

static const zs_glyph *glyph(const zs_font *f, char ch)
{
    unsigned char c = (unsigned char)ch;
    return &f->g[(c >= 32 && c < 127) ? c - 32 : '?' - 32];
}

int zs_font_text_width(void *font, const char *s, int len)
{
    const zs_font *f = font;
    int w = 0;
    for (int i = 0; i < len; i++) w += glyph(f, s[i])->advance;
    return (int)ceilf((float)w / f->scale);
}

int zs_font_line_height(const zs_font *f) { return (int)ceilf((float)f->height / f->scale); }

/* ---- shaders ------------------------------------------------------------------ */
static unsigned compile(GLenum kind, const char *dir, const char *name, char *err, size_t nerr)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    uint8_t *src;
    size_t len;
    if (zs_read_file(path, &src, &len, 1 << 20) != ZS_OK) {
        snprintf(err, nerr, "%s", zs_last_error());
        return 0;
    }
    unsigned sh = glCreateShader(kind);
    const char *s = (const char *)src;
    GLint n = (GLint)len, ok = 0;
    glShaderSource(sh, 1, &s, &n);
    glCompileShader(sh);
    free(src);
    glGetShaderiv(sh, GL_COMPILE_STATUS, &ok);
    if (!ok) {
        char log[512] = "";
        glGetShaderInfoLog(sh, sizeof log, NULL, log);
        snprintf(err, nerr, "%s: %s", path, log);
        glDeleteShader(sh);
        return 0;
    }
    return sh;
}

/* quad.vert with the fragment shader `frag`; 0 with a message in err. */
static unsigned link_program(unsigned vs, const char *dir, const char *frag, char *err, size_t nerr)
{
    unsigned fs = compile(GL_FRAGMENT_SHADER, dir, frag, err, nerr);
    if (!fs) return 0;
    unsigned prog = glCreateProgram();
    glAttachShader(prog, vs);
    glAttachShader(prog, fs);
    glLinkProgram(prog);
    glDeleteShader(fs);
    GLint ok = 0;
    glGetProgramiv(prog, GL_LINK_STATUS, &ok);
    if (!ok) {
        char log[512] = "";
        glGetProgramInfoLog(prog, sizeof log, NULL, log);
        snprintf(err, nerr, "linking %s/quad.vert + %s: %s", dir, frag, log);
        glDeleteProgram(prog);
        return 0;
    }
    return prog;
}

int zs_render_init(zs_render *r, const char *shader_dir, char *err, size_t nerr)
{
    memset(r, 0, sizeof *r);
    unsigned vs = compile(GL_VERTEX_SHADER, shader_dir, "quad.vert", err, nerr);
    if (!vs) return -1;
    r->prog = link_program(vs, shader_dir, "quad.frag", err, nerr);
    r->prog_sharpen = r->prog ? link_program(vs, shader_dir, "sharpen.frag", err, nerr) : 0;
    glDeleteShader(vs);
    if (!r->prog_sharpen) {
        if (r->prog) glDeleteProgram(r->prog);
        r->prog = 0;
        return -1;
    }
    r->u_viewport = glGetUniformLocation(r->prog, "u_viewport");
    r->u_tex = glGetUniformLocation(r->prog, "u_tex");
    r->us_viewport = glGetUniformLocation(r->prog_sharpen, "u_viewport");
    r->us_tex = glGetUniformLocation(r->prog_sharpen, "u_tex");
    r->u_sharpen = glGetUniformLocation(r->prog_sharpen, "u_sharpen");
    r->u_rect = glGetUniformLocation(r->prog_sharpen, "u_rect");

    glGenVertexArrays(1, &r->vao);
    glBindVertexArray(r->vao);
    glGenBuffers(1, &r->vbo);
    glBindBuffer(GL_ARRAY_BUFFER, r->vbo);
    glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, sizeof(vtx), (void *)offsetof(vtx, x));
    glVertexAttribPointer(1, 2, GL_FLOAT, GL_FALSE, sizeof(vtx), (void *)offsetof(vtx, u));
    glVertexAttribPointer(2, 4, GL_UNSIGNED_BYTE, GL_TRUE, sizeof(vtx), (void *)offsetof(vtx, c));
    for (int i = 0; i < 3; i++) glEnableVertexAttribArray((GLuint)i);
    uint16_t *idx = zs_xmalloc(sizeof(uint16_t) * 6 * MAX_QUADS);
    for (int q = 0; q < MAX_QUADS; q++) {
        const uint16_t b = (uint16_t)(4 * q), o[6] = {0, 1, 2, 2, 1, 3};
        for (int k = 0; k < 6; k++) idx[6 * q + k] = (uint16_t)(b + o[k]);
    }
    glGenBuffers(1, &r->ibo);
    glBindBuffer(GL_ELEMENT_ARRAY_BUFFER, r->ibo);
    glBufferData(GL_ELEMENT_ARRAY_BUFFER, sizeof(uint16_t) * 6 * MAX_QUADS, idx, GL_STATIC_DRAW);
    free(idx);
    glBindVertexArray(0);
    r->verts = zs_xmalloc(sizeof(vtx) * 4 * MAX_QUADS);
    return 0;
}

void zs_render_free(zs_render *r)
{
    if (r->prog) glDeleteProgram(r->prog);
    if (r->prog_sharpen) glDeleteProgram(r->prog_sharpen);
    if (r->vbo) glDeleteBuffers(1, &r->vbo);
    if (r->ibo) glDeleteBuffers(1, &r->ibo);
    if (r->vao) glDeleteVertexArrays(1, &r->vao);
    free(r->verts), free(r->sig), free(r->prev_sig), free(r->boxes);
    memset(r, 0, sizeof *r);
}

/* ---- batching ------------------------------------------------------------------ */
static void flush(zs_render *r)
{
    if (!r->nquads) return;
    if (r->cur_blend) glEnable(GL_BLEND);
    else glDisable(GL_BLEND);
    glBindTexture(GL_TEXTURE_2D, r->cur_tex);
    if (r->cur_sharpen > 0) {
        glUseProgram(r->prog_sharpen);
        glUniform1f(r->u_sharpen, r->cur_sharpen);
        glUniform4fv(r->u_rect, 1, r->cur_rect);
    }
    glBindBuffer(GL_ARRAY_BUFFER, r->vbo);
    glBufferData(GL_ARRAY_BUFFER, (GLsizeiptr)(sizeof(vtx) * 4 * r->nquads), r->verts, GL_STREAM_DRAW);
    glDrawElements(GL_TRIANGLES, 6 * r->nquads, GL_UNSIGNED_SHORT, 0);
    if (r->cur_sharpen > 0) glUseProgram(r->prog);
    r->nquads = 0;
}

/* A quad in drawable pixels [x0, x1) x [y0, y1). Opaque images are drawn
 * without blending: on llvmpipe that halves the cost of their pixels. sharpen >
 * 0 draws the texture through the unsharp mask, its edges clamped to the
 * quad's texels (a cell of an atlas is sharpened as the face alone). */
static void quad_ex(zs_render *r, unsigned tex, int blend, float x0, float y0, float x1, float y1, float u0, float v0,
                    float u1, float v1, ui_color c, float sharpen)
{
    blend = blend || c.a < 255;
    float rect[4] = {u0 < u1 ? u0 : u1, v0 < v1 ? v0 : v1, u0 < u1 ? u1 : u0, v0 < v1 ? v1 : v0};
    int new_mask = sharpen != r->cur_sharpen || (sharpen > 0 && memcmp(rect, r->cur_rect, sizeof rect) != 0);
    if (tex != r->cur_tex || blend != r->cur_blend || r->nquads == MAX_QUADS || new_mask) {
        flush(r), r->cur_tex = tex, r->cur_blend = blend, r->cur_sharpen = sharpen;
        memcpy(r->cur_rect, rect, sizeof rect);
    }
    vtx *v = (vtx *)r->verts + 4 * r->nquads++;
    const float xs[4] = {x0, x1, x0, x1}, ys[4] = {y0, y0, y1, y1};
    const float us[4] = {u0, u1, u0, u1}, vs[4] = {v0, v0, v1, v1};
    for (int k = 0; k < 4; k++) {
        v[k] = (vtx){xs[k], ys[k], us[k], vs[k], {c.r, c.g, c.b, c.a}};
    }
}

static void quad(zs_render *r, unsigned tex, int blend, float x0, float y0, float x1, float y1, float u0, float v0,
                 float u1, float v1, ui_color c)
{
    quad_ex(r, tex, blend, x0, y0, x1, y1, u0, v0, u1, v1, c, 0);
}

/* roundf(logical * scale), without the call: it runs for every command of every frame */
static float px(const zs_render *r, int logical)
{
    float v = (float)logical * r->scale;
    return (float)(int)(v < 0 ? v - 0.5f : v + 0.5f);
}

static void draw_text(zs_render *r, const zs_font *f, const char *s, int len, int x, int y, ui_color c)
{
    float pen = px(r, x), top = px(r, y);
    for (int i = 0; i < len; i++) {
        const zs_glyph *g = glyph(f, s[i]);
        if (g->w > 0) {
            float x0 = pen + (float)g->xoff;
            quad(r, f->tex, 1, x0, top, x0 + (float)g->w, top + (float)g->h, (float)g->x / (float)f->atlas_w,
                 (float)g->y / (float)f->atlas_h, (float)(g->x + g->w) / (float)f->atlas_w,
                 (float)(g->y + g->h) / (float)f->atlas_h, c);
        }
        pen += (float)g->advance;
    }
}

/* ---- damage ---------------------------------------------------------------------
 * Only what changed is drawn again: the drawable is cut into TILE x TILE
 * tiles, a tile's signature hashes every command that touches it (with the
 * clip in force and the generation of the textures it shows), and the
 * tiles whose signature differs from the last frame's are cleared and drawn
 * again, in rectangles (runs of dirty tiles in a row, grown down while the
 * rows below have the same run). The rest of the back buffer must still
 * hold the last frame: true of Mesa's software renderers (the swap copies
 * the back buffer out), not of every driver (a flip leaves an older frame).
 * So each frame leaves a canary, a frame-numbered colour in the drawable's
 * bottom-right pixel, and the next one reads it back first: anything else
 * there means the buffer was not kept, and everything is drawn. A slider
 * drag then draws the slider, the edited face and a few labels instead of
 * the window: on llvmpipe, which shades every pixel on the CPU, that was
 * most of a frame's cost. The pixels are those of a full redraw (the same
 * quads, scissored). */
#define TILE 32
#define MAX_TEX_GEN 4096
static uint32_t g_tex_gen[MAX_TEX_GEN];   /* bumped when a texture's pixels or filtering change */
static void tex_touch(unsigned tex)
{
    if (tex < MAX_TEX_GEN) g_tex_gen[tex]++;
}

typedef struct { int x0, y0, x1, y1; } box;   /* drawable pixels, [x0, x1) x [y0, y1) */
static box box_and(box a, box b)
{
    box c = {a.x0 > b.x0 ? a.x0 : b.x0, a.y0 > b.y0 ? a.y0 : b.y0, a.x1 < b.x1 ? a.x1 : b.x1, a.y1 < b.y1 ? a.y1 : b.y1};
    if (c.x1 < c.x0) c.x1 = c.x0;
    if (c.y1 < c.y0) c.y1 = c.y0;
    return c;
}
static int box_empty(box b) { return b.x1 <= b.x0 || b.y1 <= b.y0; }

static uint32_t fnv(uint32_t h, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++) h = (h ^ ((const uint8_t *)p)[i]) * 16777619u;
    return h;
}

/* What command c covers in drawable pixels (text: its glyphs' boxes, with a margin). */
static box cmd_box(const zs_render *r, const ui_ctx *ui, const zs_font *f, const ui_cmd *c)
{
    ui_rect q = c->rect;
    if (c->kind != UI_CMD_TEXT) return (box){(int)px(r, q.x), (int)px(r, q.y), (int)px(r, q.x + q.w), (int)px(r, q.y + q.h)};
    float pen = px(r, q.x), lo = pen, hi = pen;
    const char *t = ui->text + c->text;
    for (int i = 0; i < c->len; i++) {
        const zs_glyph *g = glyph(f, t[i]);
        if (pen + (float)g->xoff < lo) lo = pen + (float)g->xoff;
        if (pen + (float)(g->xoff + g->w) > hi) hi = pen + (float)(g->xoff + g->w);
        pen += (float)g->advance;
        if (pen > hi) hi = pen;
    }
    int top = (int)px(r, q.y);
    return (box){(int)lo - 2, top - 2, (int)hi + 2, top + f->height + 2};
}

static uint32_t cmd_hash(const zs_render *r, const ui_ctx *ui, const zs_font *f, const ui_cmd *c, box clip)
{
    uint32_t h = fnv(2166136261u, &c->kind, sizeof c->kind);
    h = fnv(h, &c->rect, sizeof c->rect);
    h = fnv(h, &c->color, sizeof c->color);
    h = fnv(h, &clip, sizeof clip);
    if (c->kind == UI_CMD_IMAGE) {
        h = fnv(h, &c->image, sizeof c->image);
        if (c->image.tex < MAX_TEX_GEN) h = fnv(h, &g_tex_gen[c->image.tex], sizeof(uint32_t));
        else h = fnv(h, &r->frames, sizeof r->frames);   /* untracked texture: drawn every frame */
    } else if (c->kind == UI_CMD_TEXT) {
        h = fnv(h, ui->text + c->text, (size_t)c->len);
        h = fnv(h, &f->tex, sizeof f->tex);
    }
    return h;
}

/* Tile signatures for a drawable of w x h; a new size is drawn in full. */
static void ensure_tiles(zs_render *r, int w, int h)
{
    if (r->sig && r->target_w == w && r->target_h == h) return;
    r->target_w = w, r->target_h = h;
    r->tiles_x = (w + TILE - 1) / TILE, r->tiles_y = (h + TILE - 1) / TILE;
    free(r->sig), free(r->prev_sig);
    r->sig = zs_xcalloc((size_t)r->tiles_x * r->tiles_y, sizeof(uint32_t));
    r->prev_sig = zs_xcalloc((size_t)r->tiles_x * r->tiles_y, sizeof(uint32_t));
    r->full = 1;
}

static void canary_color(uint32_t n, uint8_t c[4]) { c[0] = (uint8_t)n, c[1] = (uint8_t)(n >> 8), c[2] = 0x5a, c[3] = 255; }

/* Does the back buffer still hold the last frame we drew? */
static int kept_last_frame(zs_render *r)
{
    if (!r->canary_set) return 0;
    uint8_t got[4] = {0}, want[4];
    glReadBuffer(GL_BACK);
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glReadPixels(r->fb_w - 1, 0, 1, 1, GL_RGBA, GL_UNSIGNED_BYTE, got);
    canary_color(r->canary, want);
    return got[0] == want[0] && got[1] == want[1] && got[2] == want[2];
}

/* The centre of the glyph atlas' white texel (0, 0) (zs_font_open). */
static void white_uv(const zs_font *f, float *u, float *v)
{
    *u = 0.5f / (float)f->atlas_w, *v = 0.5f / (float)f->atlas_h;
}

/* Note a rectangle drawn this frame, in GL's window coordinates (origin bottom left). */
static void list_rect(zs_render *r, box b)
{
    if (r->nrects < ZS_RENDER_MAX_RECTS) {
        int *q = r->rects[r->nrects];
        q[0] = b.x0, q[1] = r->fb_h - b.y1, q[2] = b.x1 - b.x0, q[3] = b.y1 - b.y0;
    }
    r->nrects++;
}

/* Draw the commands that touch `area`, clipped to it (boxes[i]: command i's, clipped; empty for clips). */
static void draw_area(zs_render *r, const ui_ctx *ui, const zs_font *font, const box *boxes, box area, box win)
{
    box clip = win;
    glScissor(area.x0, r->fb_h - area.y1, area.x1 - area.x0, area.y1 - area.y0);
    glDisable(GL_BLEND);
    glClear(GL_COLOR_BUFFER_BIT);
    for (int i = 0; i < ui->ncmd; i++) {
        const ui_cmd *c = &ui->cmds[i];
        ui_rect q = c->rect;
        float x0 = px(r, q.x), y0 = px(r, q.y), x1 = px(r, q.x + q.w), y1 = px(r, q.y + q.h);
        if (c->kind == UI_CMD_CLIP) {
            flush(r);
            clip = box_and((box){(int)x0, (int)y0, (int)x1, (int)y1}, win);
            box s = box_and(clip, area);
            glScissor(s.x0, r->fb_h - s.y1, s.x1 - s.x0, s.y1 - s.y0);
            continue;
        }
        if (box_empty(box_and(boxes[i], area))) continue;
        switch (c->kind) {
        case UI_CMD_RECT: {
            /* the atlas' white texel, blended like the text: rectangles and text then share one
             * batch instead of breaking it at every label (a slider drag drew 50-68 batches a
             * frame, now 11-12); with alpha 255 the colour replaces what is below */
            float wu, wv;
            white_uv(font, &wu, &wv);
            quad(r, font->tex, 1, x0, y0, x1, y1, wu, wv, wu, wv, c->color);
            break;
        }
        case UI_CMD_IMAGE:
            quad_ex(r, c->image.tex, 0, x0, y0, x1, y1, c->image.u0, c->image.v0, c->image.u1, c->image.v1, c->color,
                    c->image.sharpen > 0 ? c->image.sharpen : 0);
            break;
        case UI_CMD_TEXT: draw_text(r, font, ui->text + c->text, c->len, q.x, q.y, c->color); break;
        default: break;
        }
    }
    flush(r);
}

int zs_render_frame(zs_render *r, int fb_w, int fb_h, float scale, const ui_ctx *ui, const zs_font *font)
{
    if (fb_w <= 0 || fb_h <= 0) return 0;
    static int always_full = -1;   /* ZS_FULL_REDRAW=1: to measure what damage saves */
    if (always_full < 0) always_full = getenv("ZS_FULL_REDRAW") != NULL;
    if (r->scale != scale || always_full) r->full = 1;
    r->fb_w = fb_w, r->fb_h = fb_h, r->scale = scale;
    ensure_tiles(r, fb_w, fb_h);
    if (!r->full && !kept_last_frame(r)) r->full = 1, r->nfull_lost++;
    /* 1. every tile's signature */
    box win = {0, 0, fb_w, fb_h}, clip = win;
    int tx = r->tiles_x, ty = r->tiles_y;
    memset(r->sig, 0, sizeof(uint32_t) * (size_t)tx * ty);
    if (!r->boxes) r->boxes = zs_xmalloc(sizeof(box) * UI_MAX_CMDS);
    box *boxes = r->boxes;
    for (int i = 0; i < ui->ncmd; i++) {
        const ui_cmd *c = &ui->cmds[i];
        boxes[i] = (box){0, 0, 0, 0};
        if (c->kind == UI_CMD_CLIP) {
            ui_rect q = c->rect;
            clip = box_and((box){(int)px(r, q.x), (int)px(r, q.y), (int)px(r, q.x + q.w), (int)px(r, q.y + q.h)}, win);
            continue;
        }
        box b = box_and(cmd_box(r, ui, font, c), clip);
        boxes[i] = b;
        if (box_empty(b)) continue;
        uint32_t h = cmd_hash(r, ui, font, c, clip);
        for (int y = b.y0 / TILE; y <= (b.y1 - 1) / TILE; y++)
            for (int x = b.x0 / TILE; x <= (b.x1 - 1) / TILE; x++) {
                uint32_t *t = &r->sig[(size_t)y * tx + x];
                *t = (*t ^ h) * 16777619u + 1;
            }
    }
    /* 2. the dirty tiles, as rectangles: runs in a row, grown down while the next row has the same run */
    glViewport(0, 0, fb_w, fb_h);
    glEnable(GL_SCISSOR_TEST);
    const ui_color bg = ui->style.panel;   /* the colour most of the window has */
    glClearColor(bg.r / 255.0f, bg.g / 255.0f, bg.b / 255.0f, 1.0f);
    glBlendFunc(GL_SRC_ALPHA, GL_ONE_MINUS_SRC_ALPHA);
    glUseProgram(r->prog_sharpen);
    glUniform2f(r->us_viewport, (float)fb_w, (float)fb_h);
    glUniform1i(r->us_tex, 0);
    glUseProgram(r->prog);
    glUniform2f(r->u_viewport, (float)fb_w, (float)fb_h);
    glUniform1i(r->u_tex, 0);
    glActiveTexture(GL_TEXTURE0);
    glBindVertexArray(r->vao);
    r->nquads = 0;
    r->cur_tex = font->tex;
    r->cur_blend = 0;
    r->cur_sharpen = 0;
    memset(r->cur_rect, 0, sizeof r->cur_rect);
    uint8_t *done = zs_xcalloc((size_t)tx * ty, 1);
    int drawn = 0;
    r->nrects = 0;
    for (int y = 0; y < ty; y++)
        for (int x = 0; x < tx; x++) {
            size_t t = (size_t)y * tx + x;
            if (done[t] || (!r->full && r->sig[t] == r->prev_sig[t])) continue;
            int x1 = x;   /* the run x .. x1 */
            while (x1 + 1 < tx && !done[t + (size_t)(x1 + 1 - x)] &&
                   (r->full || r->sig[t + (size_t)(x1 + 1 - x)] != r->prev_sig[t + (size_t)(x1 + 1 - x)]))
                x1++;
            int y1 = y;   /* rows below with the same run dirty, and the tiles beside it clean */
            for (;;) {
                int ok = y1 + 1 < ty;
                for (int k = x; ok && k <= x1; k++) {
                    size_t u = (size_t)(y1 + 1) * tx + k;
                    ok = !done[u] && (r->full || r->sig[u] != r->prev_sig[u]);
                }
                if (!ok) break;
                y1++;
            }
            for (int yy = y; yy <= y1; yy++)
                for (int k = x; k <= x1; k++) done[(size_t)yy * tx + k] = 1;
            box area = box_and((box){x * TILE, y * TILE, (x1 + 1) * TILE, (y1 + 1) * TILE}, win);
            draw_area(r, ui, font, boxes, area, win);
            list_rect(r, area);
            drawn += (area.x1 - area.x0) * (area.y1 - area.y0);
        }
    free(done);
    if (drawn) {   /* 3. this frame's canary */
        uint8_t c[4];
        canary_color(++r->canary, c);
        glScissor(fb_w - 1, 0, 1, 1);
        float wu, wv;
        white_uv(font, &wu, &wv);
        quad(r, font->tex, 0, (float)fb_w - 1, (float)fb_h - 1, (float)fb_w, (float)fb_h, wu, wv, wu, wv,
             (ui_color){c[0], c[1], c[2], c[3]});
        flush(r);
        list_rect(r, (box){fb_w - 1, fb_h - 1, fb_w, fb_h});
        r->canary_set = 1;
    }
    glBindVertexArray(0);
    uint32_t *tmp = r->prev_sig;
    r->prev_sig = r->sig, r->sig = tmp;
    r->full = 0;
    r->frames++;
    glDisable(GL_SCISSOR_TEST);
    r->drawn_px = drawn;
    return drawn;
}

void zs_render_read(zs_render *r, zs_image *out)
{
    int w = r->fb_w, h = r->fb_h;
    uint8_t *buf = zs_xmalloc((size_t)w * h * 3);
    out->w = w, out->h = h;
    out->rgb = zs_xmalloc((size_t)w * h * 3);
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glReadBuffer(GL_BACK);
    glReadPixels(0, 0, w, h, GL_RGB, GL_UNSIGNED_BYTE, buf);
    for (int y = 0; y < h; y++) memcpy(out->rgb + (size_t)y * w * 3, buf + (size_t)(h - 1 - y) * w * 3, (size_t)w * 3);
    free(buf);
}

/* ---- textures --------------------------------------------------------------------- */
void zs_tex_set_filter(unsigned tex, int nearest)
{
    tex_touch(tex);
    glBindTexture(GL_TEXTURE_2D, tex);
    GLint f = nearest ? GL_NEAREST : GL_LINEAR;
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, f);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, f);
}

unsigned zs_tex_create(int w, int h, const uint8_t *rgb, int nearest)
{
    unsigned tex;
    glGenTextures(1, &tex);
    tex_touch(tex);
    glBindTexture(GL_TEXTURE_2D, tex);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGB8, w, h, 0, GL_RGB, GL_UNSIGNED_BYTE, rgb);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    zs_tex_set_filter(tex, nearest);
    return tex;
}

void zs_tex_update(unsigned tex, int x, int y, int w, int h, const uint8_t *rgb)
{
    tex_touch(tex);
    glBindTexture(GL_TEXTURE_2D, tex);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glTexSubImage2D(GL_TEXTURE_2D, 0, x, y, w, h, GL_RGB, GL_UNSIGNED_BYTE, rgb);
}

void zs_tex_free(unsigned tex)
{
    tex_touch(tex);
    if (tex) glDeleteTextures(1, &tex);
}
