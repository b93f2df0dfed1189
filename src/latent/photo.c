/* A user's photo into the model's input. */
#include "zspace/latent.h"

#include <math.h>
#include <stdlib.h>

zs_crop zs_photo_crop(int w, int h, zs_crop face)
{
    if (w <= 0 || h <= 0) return face;
    if (fabs((double)h / w - 218.0 / 178.0) < 0.01) return face;
    /* largest centred square; side is relative to the width */
    double side = w < h ? 1.0 : (double)h / w;
    return (zs_crop){0.5f, 0.5f, (float)side};
}

/* The same geometry as crop_geometry in src/data/image.c (zs_image_crop_resize):
 * the side is relative to the width on both axes. */
void zs_crop_rect(zs_crop c, int w, int h, double *x0, double *y0, double *side)
{
    ZS_ASSERT(x0 && y0 && side);
    *side = (double)c.side * w;
    *x0 = (double)c.cx * w - *side / 2;
    *y0 = (double)c.cy * h - *side / 2;
}

zs_crop zs_crop_from_rect(int w, int h, double x0, double y0, double side)
{
    ZS_ASSERT(w > 0 && h > 0);
    return (zs_crop){(float)((x0 + side / 2) / w), (float)((y0 + side / 2) / h), (float)(side / w)};
}

zs_crop zs_crop_clamp(zs_crop c, int w, int h)
{
    ZS_ASSERT(w > 0 && h > 0);
    double lo = 16.0 / w, hi = 2.0 * (w > h ? w : h) / w;
    double side = isfinite(c.side) ? c.side : 1.0;
    side = side < lo ? lo : side > hi ? hi : side;
    double cx = isfinite(c.cx) ? c.cx : 0.5, cy = isfinite(c.cy) ? c.cy : 0.5;
    cx = cx < 0 ? 0 : cx > 1 ? 1 : cx;
    cy = cy < 0 ? 0 : cy > 1 ? 1 : cy;
    return (zs_crop){(float)cx, (float)cy, (float)side};
}

zs_status zs_photo_face_at(const zs_image *im, zs_crop crop, int size, float *chw)
{
    ZS_ASSERT(im && im->rgb && im->w > 0 && im->h > 0 && size > 0 && chw);
    uint8_t *hwc = zs_xmalloc((size_t)size * size * 3);
    zs_status st = zs_image_crop_resize(im, crop, size, hwc);
    if (st == ZS_OK) zs_face_to_chw(hwc, size, chw, 0);
    free(hwc);
    return st;
}

zs_status zs_photo_face(const zs_image *im, zs_crop face, int size, float *chw)
{
    ZS_ASSERT(im && im->rgb && im->w > 0 && im->h > 0);
    return zs_photo_face_at(im, zs_photo_crop(im->w, im->h, face), size, chw);
}

zs_status zs_photo_load_face(const char *path, zs_crop face, int size, float *chw)
{
    zs_image im;
    zs_status st = zs_image_load(&im, path);
    if (st != ZS_OK) return st;
    st = zs_photo_face(&im, face, size, chw);
    zs_image_free(&im);
    return st;
}
