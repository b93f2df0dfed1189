/*
 * present.h - put a rendered frame on the screen: a swap, or on Mesa's
 * software renderers under X11 a copy of only the rectangles the frame
 * drew (GLX_MESA_copy_sub_buffer). See present.c.
 *
 *     zs_present p;
 *     zs_present_init(&p, window);         // with the GL context current
 *     if (zs_render_frame(&r, ...)) zs_present_frame(&p, window, &r);
 */
#ifndef ZS_APP_PRESENT_H
#define ZS_APP_PRESENT_H

#include <SDL.h>
#include <stdint.h>

#include "render.h"

typedef struct zs_present {
    int sub;                 /* copies rectangles (else swaps) */
    void *dpy;               /* X11 Display * */
    unsigned long xwin;      /* X11 Window */
    long nsub, nswap;        /* frames shown each way */
    long ncopies;            /* rectangles copied */
} zs_present;

void zs_present_init(zs_present *p, SDL_Window *win);
/* Show the frame r just drew. */
void zs_present_frame(zs_present *p, SDL_Window *win, const zs_render *r);
/* What the window shows, w x h RGB top row first (an X11 window: its
 * pixels on the X server); -1 where that cannot be read. */
int zs_present_read_window(const zs_present *p, int w, int h, uint8_t *rgb);

#endif
