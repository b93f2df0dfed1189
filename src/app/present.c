/* Showing a frame: see present.h.
 *
 * Mesa's software renderers (llvmpipe, softpipe) keep the back buffer in
 * memory and "swap" by copying all of it to the window: XShmPutImage of
 * the whole drawable, which the X server then copies into the screen. The
 * renderer only draws what changed (render.c, "damage"), so during a slider
 * drag the swap moved about seven times the pixels that were drawn: 4 MB a
 * frame at 1280 x 800. GLX_MESA_copy_sub_buffer copies given rectangles of
 * the back buffer to the front instead, and leaves the back buffer as it
 * was, which is what the damage tracking needs anyway.
 *
 * It is used only where it is that kind of copy: an X11 window, a Mesa
 * software renderer, the extension present. A GPU driver swaps by flipping
 * (and waits for vsync), and gets SDL_GL_SwapWindow as before; so does
 * every frame drawn in full, and a frame of more rectangles than
 * ZS_RENDER_MAX_RECTS. ZS_FULL_SWAP=1 turns it off, to compare. */
#include "present.h"

#include <SDL_syswm.h>
#include <epoxy/gl.h>
#include <stdlib.h>
#include <string.h>

#if defined(SDL_VIDEO_DRIVER_X11) && defined(ZS_HAVE_X11)
#include <X11/Xutil.h>
#include <epoxy/glx.h>
#define ZS_HAVE_GLX 1
#endif

void zs_present_init(zs_present *p, SDL_Window *win)
{
    memset(p, 0, sizeof *p);
#ifdef ZS_HAVE_GLX
    const char *off = getenv("ZS_FULL_SWAP");
    SDL_SysWMinfo info;
    SDL_VERSION(&info.version);
    if (!SDL_GetWindowWMInfo(win, &info) || info.subsystem != SDL_SYSWM_X11) return;
    p->dpy = info.info.x11.display;
    p->xwin = (unsigned long)info.info.x11.window;
    if (off && strcmp(off, "0") != 0) return;
    const char *renderer = (const char *)glGetString(GL_RENDERER);
    if (!renderer || (!strstr(renderer, "llvmpipe") && !strstr(renderer, "softpipe"))) return;
    Display *dpy = p->dpy;
    if (!epoxy_has_glx_extension(dpy, DefaultScreen(dpy), "GLX_MESA_copy_sub_buffer")) return;
    p->sub = 1;
#else
    (void)win;
#endif
}

/* Rectangles (x, y, w, h) merged while the box around two of them is no
 * more than MERGE_SLACK pixels larger than the two: each copy is a request
 * the client waits on (XSync was 23% of the UI thread's perf samples with
 * about 10 copies a frame). 50,000 is a round guess, not tuned: it merges
 * a slider drag's small rectangles into 3-4 copies a frame. */
#define MERGE_SLACK 50000L
static int merge_rects(int (*q)[4], int n)
{
    for (int merged = 1; merged && n > 1;) {
        merged = 0;
        for (int i = 0; i < n && !merged; i++)
            for (int j = i + 1; j < n && !merged; j++) {
                int x0 = q[i][0] < q[j][0] ? q[i][0] : q[j][0], y0 = q[i][1] < q[j][1] ? q[i][1] : q[j][1];
                int x1 = q[i][0] + q[i][2] > q[j][0] + q[j][2] ? q[i][0] + q[i][2] : q[j][0] + q[j][2];
                int y1 = q[i][1] + q[i][3] > q[j][1] + q[j][3] ? q[i][1] + q[i][3] : q[j][1] + q[j][3];
                long both = (long)q[i][2] * q[i][3] + (long)q[j][2] * q[j][3];
                if ((long)(x1 - x0) * (y1 - y0) - both > MERGE_SLACK) continue;
                q[i][0] = x0, q[i][1] = y0, q[i][2] = x1 - x0, q[i][3] = y1 - y0;
                memcpy(q[j], q[n - 1], sizeof q[j]);
                n--, merged = 1;
            }
    }
    return n;
}

void zs_present_frame(zs_present *p, SDL_Window *win, const zs_render *r)
{
#ifdef ZS_HAVE_GLX
    int whole = r->drawn_px >= r->fb_w * r->fb_h;
    if (p->sub && r->nrects <= ZS_RENDER_MAX_RECTS && !whole) {
        int q[ZS_RENDER_MAX_RECTS][4], n = r->nrects;
        memcpy(q, r->rects, sizeof(int) * 4 * (size_t)n);
        n = merge_rects(q, n);
        for (int i = 0; i < n; i++) glXCopySubBufferMESA(p->dpy, (GLXDrawable)p->xwin, q[i][0], q[i][1], q[i][2], q[i][3]);
        p->nsub++;
        p->ncopies += n;
        return;
    }
#endif
    SDL_GL_SwapWindow(win);
    p->nswap++;
}

int zs_present_read_window(const zs_present *p, int w, int h, uint8_t *rgb)
{
#ifdef ZS_HAVE_GLX
    if (!p->dpy) return -1;
    Display *dpy = p->dpy;
    glFinish();
    XSync(dpy, False);
    XImage *im = XGetImage(dpy, (Window)p->xwin, 0, 0, (unsigned)w, (unsigned)h, AllPlanes, ZPixmap);
    if (!im) return -1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned long px = XGetPixel(im, x, y);
            uint8_t *d = rgb + ((size_t)y * w + x) * 3;
            d[0] = (uint8_t)((px & im->red_mask) >> __builtin_ctzl(im->red_mask));
            d[1] = (uint8_t)((px & im->green_mask) >> __builtin_ctzl(im->green_mask));
            d[2] = (uint8_t)((px & im->blue_mask) >> __builtin_ctzl(im->blue_mask));
        }
    XDestroyImage(im);
    return 0;
#else
    (void)p, (void)w, (void)h, (void)rgb;
    return -1;
#endif
}
