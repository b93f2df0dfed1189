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

int zs_render_init(zs_render *r, const char *shader_dir, char *err, size_t nerr)
{
    memset(r, 0, sizeof *r);
    unsigned vs = compile(GL_VERTEX_SHADER, shader_dir, "quad.vert", err, nerr);
    unsigned fs = vs ? compile(GL_FRAGMENT_SHADER, shader_dir, "quad.frag", err, nerr) : 0;
    if (!fs) {
        if (vs) glDeleteShader(vs);
        return -1;
    }
    r->prog = glCreateProgram();
    glAttachShader(r->prog, vs);
    glAttachShader(r->prog, fs);
    glLinkProgram(r->prog);
    glDeleteShader(vs);
    glDeleteShader(fs);
    GLint ok = 0;
    glGetProgramiv(r->prog, GL_LINK_STATUS, &ok);
    if (!ok) {
        char log[512] = "";
        glGetProgramInfoLog(r->prog, sizeof log, NULL, log);
        snprintf(err, nerr, "linking %s/quad.vert + quad.frag: %s", shader_dir, log);
        return -1;
    }
    r->u_viewport = glGetUniformLocation(r->prog, "u_viewport");
    r->u_tex = glGetUniformLocation(r->prog, "u_tex");

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
    const uint8_t white[4] = {255, 255, 255, 255};
    glGenTextures(1, &r->white);
    glBindTexture(GL_TEXTURE_2D, r->white);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, 1, 1, 0, GL_RGBA, GL_UNSIGNED_BYTE, white);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    return 0;
}

void zs_render_free(zs_render *r)
{
    if (r->prog) glDeleteProgram(r->prog);
    if (r->vbo) glDeleteBuffers(1, &r->vbo);
    if (r->ibo) glDeleteBuffers(1, &r->ibo);
    if (r->vao) glDeleteVertexArrays(1, &r->vao);
    if (r->white) glDeleteTextures(1, &r->white);
    free(r->verts);
    memset(r, 0, sizeof *r);
}

/* ---- batching ------------------------------------------------------------------ */
static void flush(zs_render *r)
{
    if (!r->nquads) return;
    if (r->cur_blend) glEnable(GL_BLEND);
    else glDisable(GL_BLEND);
    glBindTexture(GL_TEXTURE_2D, r->cur_tex);
    glBindBuffer(GL_ARRAY_BUFFER, r->vbo);
    glBufferData(GL_ARRAY_BUFFER, (GLsizeiptr)(sizeof(vtx) * 4 * r->nquads), r->verts, GL_STREAM_DRAW);
    glDrawElements(GL_TRIANGLES, 6 * r->nquads, GL_UNSIGNED_SHORT, 0);
    r->nquads = 0;
}

/* A quad in drawable pixels [x0, x1) x [y0, y1). Opaque quads are drawn
 * without blending: on llvmpipe that halves the cost of a frame. */
static void quad(zs_render *r, unsigned tex, int blend, float x0, float y0, float x1, float y1, float u0, float v0,
                 float u1, float v1, ui_color c)
{
    blend = blend || c.a < 255;
    if (tex != r->cur_tex || blend != r->cur_blend || r->nquads == MAX_QUADS)
        flush(r), r->cur_tex = tex, r->cur_blend = blend;
    vtx *v = (vtx *)r->verts + 4 * r->nquads++;
    const float xs[4] = {x0, x1, x0, x1}, ys[4] = {y0, y0, y1, y1};
    const float us[4] = {u0, u1, u0, u1}, vs[4] = {v0, v0, v1, v1};
    for (int k = 0; k < 4; k++) {
        v[k] = (vtx){xs[k], ys[k], us[k], vs[k], {c.r, c.g, c.b, c.a}};
    }
}

static float px(const zs_render *r, int logical) { return roundf((float)logical * r->scale); }

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

void zs_render_frame(zs_render *r, int fb_w, int fb_h, float scale, const ui_ctx *ui, const zs_font *font)
{
    r->fb_w = fb_w, r->fb_h = fb_h, r->scale = scale;
    glViewport(0, 0, fb_w, fb_h);
    glDisable(GL_SCISSOR_TEST);
    const ui_color clear = ui->style.panel;   /* the colour most of the window has */
    glClearColor(clear.r / 255.0f, clear.g / 255.0f, clear.b / 255.0f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    glBlendFunc(GL_SRC_ALPHA, GL_ONE_MINUS_SRC_ALPHA);
    glEnable(GL_SCISSOR_TEST);
    glUseProgram(r->prog);
    glUniform2f(r->u_viewport, (float)fb_w, (float)fb_h);
    glUniform1i(r->u_tex, 0);
    glActiveTexture(GL_TEXTURE0);
    glBindVertexArray(r->vao);
    r->nquads = 0;
    r->cur_tex = r->white;
    r->cur_blend = 0;
    for (int i = 0; i < ui->ncmd; i++) {
        const ui_cmd *c = &ui->cmds[i];
        ui_rect q = c->rect;
        float x0 = px(r, q.x), y0 = px(r, q.y), x1 = px(r, q.x + q.w), y1 = px(r, q.y + q.h);
        switch (c->kind) {
        case UI_CMD_RECT: quad(r, r->white, 0, x0, y0, x1, y1, 0.5f, 0.5f, 0.5f, 0.5f, c->color); break;
        case UI_CMD_IMAGE:
            quad(r, c->image.tex, 0, x0, y0, x1, y1, c->image.u0, c->image.v0, c->image.u1, c->image.v1, c->color);
            break;
        case UI_CMD_TEXT: draw_text(r, font, ui->text + c->text, c->len, q.x, q.y, c->color); break;
        case UI_CMD_CLIP:
            flush(r);
            glScissor((GLint)x0, (GLint)((float)fb_h - y1), (GLsizei)(x1 - x0), (GLsizei)(y1 - y0));
            break;
        }
    }
    flush(r);
    glBindVertexArray(0);
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
    glBindTexture(GL_TEXTURE_2D, tex);
    GLint f = nearest ? GL_NEAREST : GL_LINEAR;
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, f);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, f);
}

unsigned zs_tex_create(int w, int h, const uint8_t *rgb, int nearest)
{
    unsigned tex;
    glGenTextures(1, &tex);
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
    glBindTexture(GL_TEXTURE_2D, tex);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glTexSubImage2D(GL_TEXTURE_2D, 0, x, y, w, h, GL_RGB, GL_UNSIGNED_BYTE, rgb);
}

void zs_tex_free(unsigned tex)
{
    if (tex) glDeleteTextures(1, &tex);
}
