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

void zs_present_frame(zs_present *p, SDL_Window *win, const zs_render *r)
{
#ifdef ZS_HAVE_GLX
    int whole = r->nrects == 1 && r->rects[0][2] >= r->fb_w && r->rects[0][3] >= r->fb_h;
    if (p->sub && r->nrects <= ZS_RENDER_MAX_RECTS && !whole) {
        for (int i = 0; i < r->nrects; i++) {
            const int *q = r->rects[i];
            glXCopySubBufferMESA(p->dpy, (GLXDrawable)p->xwin, q[0], q[1], q[2], q[3]);
        }
        /* the canary (render.c) is drawn every frame: copy it too, so the window is the back buffer */
        glXCopySubBufferMESA(p->dpy, (GLXDrawable)p->xwin, r->fb_w - 1, 0, 1, 1);
        p->nsub++;
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
