/*
 * render.h - the explorer's OpenGL 3.3 core renderer: a shader program for
 * textured, tinted quads (shaders/quad.vert, quad.frag) and one for faces
 * through an unsharp mask (quad.vert, sharpen.frag), a batch of
 * quads in a streaming vertex buffer, textures for faces, and text from
 * a glyph atlas made with SDL2_ttf. It draws ui.h command lists, again
 * only where they changed.
 *
 *     zs_render r;
 *     if (zs_render_init(&r, shader_dir, err, sizeof err) != 0) fail(err);
 *     zs_font f;  zs_font_open(&f, "assets/DejaVuSans.ttf", 14, scale, err, sizeof err);
 *     unsigned tex = zs_tex_create(64, 64, rgb, 1);        // RGB, nearest
 *     if (zs_render_frame(&r, drawable_w, drawable_h, scale, &ui, &f)) swap();
 *
 * Needs a current GL context (functions through libepoxy).
 */
#ifndef ZS_APP_RENDER_H
#define ZS_APP_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "ui.h"
#include "zspace/data.h"

/* ASCII glyphs 32..126 in one texture (white, coverage in alpha). */
typedef struct zs_glyph { int x, y, w, h, xoff, advance; } zs_glyph;   /* atlas pixels */
typedef struct zs_font {
    unsigned tex;
    int atlas_w, atlas_h;
    int height;              /* line height in drawable pixels */
    float scale;             /* drawable pixels per logical pixel */
    zs_glyph g[95];
} zs_font;
int zs_font_open(zs_font *f, const char *path, int size_pt, float scale, char *err, size_t nerr);
void zs_font_close(zs_font *f);
/* ui.h's text_width callback: logical pixels. */
int zs_font_text_width(void *font, const char *s, int len);
int zs_font_line_height(const zs_font *f);   /* logical pixels */

#define ZS_RENDER_MAX_RECTS 64
typedef struct zs_render {
    unsigned prog, prog_sharpen, vao, vbo, ibo;   /* quad.frag; sharpen.frag */
    int u_viewport, u_tex, us_viewport, us_tex, u_sharpen, u_rect;
    float *verts;            /* quads waiting to be drawn */
    int nquads;
    unsigned cur_tex;
    int cur_blend;
    float cur_sharpen, cur_rect[4];   /* the unsharp mask of the quads batched (0: none) */
    int fb_w, fb_h;
    float scale;
    /* only what changed is drawn (render.c, "damage") */
    int target_w, target_h, tiles_x, tiles_y;
    int full;                /* the next frame draws everything (set it to force that) */
    uint32_t *sig, *prev_sig;   /* (tiles_y, tiles_x) what each tile showed: this frame, the last */
    void *boxes;             /* each command's pixels this frame */
    uint32_t canary, frames;
    int canary_set;
    long nfull_lost;         /* full redraws because the back buffer had not kept the last frame */
    int drawn_px;            /* pixels drawn in the last frame */
    /* the rectangles drawn in the last frame (the canary's too), in GL window
     * pixels (x, y from the bottom, w, h); more than ZS_RENDER_MAX_RECTS:
     * only the count */
    int nrects;
    int rects[ZS_RENDER_MAX_RECTS][4];
} zs_render;
/* 0 on success; else a message naming the file or the GL problem in err. */
int zs_render_init(zs_render *r, const char *shader_dir, char *err, size_t nerr);
void zs_render_free(zs_render *r);
/* Draw a command list into the back buffer: only the parts that differ
 * from the last frame's, when the buffer still holds it. Returns the number
 * of pixels drawn (0: nothing changed, no need to swap). */
int zs_render_frame(zs_render *r, int fb_w, int fb_h, float scale, const ui_ctx *ui, const zs_font *font);
/* The back buffer as an image (top row first), for screenshots. */
void zs_render_read(zs_render *r, zs_image *out);

/* RGB textures (3 bytes a pixel), nearest or linear filtering; drawn opaque. */
unsigned zs_tex_create(int w, int h, const uint8_t *rgb, int nearest);
void zs_tex_update(unsigned tex, int x, int y, int w, int h, const uint8_t *rgb);
void zs_tex_set_filter(unsigned tex, int nearest);
void zs_tex_free(unsigned tex);

#endif
