/* Keep-detail edits (see zspace/latent.h): the change an edit makes to the
 * model's decode, carried onto the photo at its own resolution, weighted by
 * a smooth mask of where the decode changed (the Neural Photo Editor's
 * residual). */
#include "zspace/latent.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_float(const void *pa, const void *pb)
{
    float a = *(const float *)pa, b = *(const float *)pb;
    return (a > b) - (a < b);
}

/* Separable box blur of the (n, n) image m in place, window 2r + 1; near the
 * edges the mean is over the part of the window inside the image, so a
 * uniform image stays uniform. */
static void box_blur(float *m, int n, int r)
{
    float *tmp = zs_xmalloc(sizeof(float) * (size_t)n * n);
    for (int y = 0; y < n; y++)   /* rows: m -> tmp */
        for (int x = 0; x < n; x++) {
            int lo = x - r < 0 ? 0 : x - r, hi = x + r >= n ? n - 1 : x + r;
            double s = 0;
            for (int k = lo; k <= hi; k++) s += m[(size_t)y * n + k];
            tmp[(size_t)y * n + x] = (float)(s / (hi - lo + 1));
        }
    for (int y = 0; y < n; y++)   /* columns: tmp -> m */
        for (int x = 0; x < n; x++) {
            int lo = y - r < 0 ? 0 : y - r, hi = y + r >= n ? n - 1 : y + r;
            double s = 0;
            for (int k = lo; k <= hi; k++) s += tmp[(size_t)k * n + x];
            m[(size_t)y * n + x] = (float)(s / (hi - lo + 1));
        }
    free(tmp);
}

/* Bilinear taps along one axis: photo pixel p (centre p + 0.5) lies at crop
 * coordinate u = (p + 0.5 - o) / side * size - 0.5 (crop pixel centres at
 * integers), clamped to the crop grid [0, size - 1]. */
static void taps(int p, double o, double side, int size, int *i0, int *i1, float *f)
{
    double u = (p + 0.5 - o) / side * size - 0.5;
    if (u < 0) u = 0;
    if (u > size - 1) u = size - 1;
    int i = (int)floor(u);
    if (i > size - 2) i = size - 2 < 0 ? 0 : size - 2;
    *i0 = i;
    *i1 = i + 1 < size ? i + 1 : i;
    *f = (float)(u - i);
}

/* First photo pixel whose centre is at or after coordinate c, clamped to [0, n]. */
static int first_at(double c, int n)
{
    double p = ceil(c - 0.5);
    return p < 0 ? 0 : p > n ? n : (int)p;
}

zs_status zs_detail_edit(const zs_image *photo, zs_crop crop, const float *d0, const float *d1, int size,
                         zs_image *out)
{
    ZS_ASSERT(photo && photo->rgb && photo->w > 0 && photo->h > 0 && d0 && d1 && out);
    ZS_ASSERT(size > 0 && size <= 4096);
    out->w = out->h = 0;
    out->rgb = NULL;
    if (!isfinite(crop.cx) || !isfinite(crop.cy) || !isfinite(crop.side) || !(crop.side > 0))
        return zs_errorf(ZS_ERR_ARG, "detail edit: crop (%g, %g, side %g) is not a square", crop.cx, crop.cy,
                         crop.side);
    size_t np = (size_t)size * size;
    float *delta = zs_xmalloc(sizeof(float) * 3 * np);   /* (3, size, size) */
    float *mask = zs_xcalloc(np, sizeof(float));         /* (size, size) */
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < np; i++) {
            float d = d1[c * np + i] - d0[c * np + i];
            if (!isfinite(d)) {
                free(delta);
                free(mask);
                return zs_errorf(ZS_ERR_NUMERIC, "detail edit: decode pixel %zu of channel %d is not finite", i, c);
            }
            delta[c * np + i] = d;
            mask[i] += fabsf(d);
        }

    /* The mask. A box blur of radius ceil(size / 32) (2 crop pixels at 64)
     * spreads it over the edges of what changed, so the edit fades in instead
     * of stopping at a pixel boundary. Then it is normalised by half the 99th
     * percentile of the blurred values: everything at least half as changed
     * as the most changed 1% of the crop gets the whole delta, weaker change
     * (decoder noise, the faint spill of an edit) proportionally less. The
     * 99th percentile, not the maximum, so a few extreme pixels do not dim
     * the whole edit; the floor 0.02 (about 5/255 summed over channels)
     * keeps an edit that changes almost nothing from being amplified to a
     * full-strength mask of noise. */
    int r = (size + 31) / 32;
    if (r < 1) r = 1;
    box_blur(mask, size, r);
    float *sorted = zs_xmalloc(sizeof(float) * np);
    memcpy(sorted, mask, sizeof(float) * np);
    qsort(sorted, np, sizeof(float), cmp_float);
    float p99 = sorted[(size_t)(0.99 * (double)(np - 1))];
    free(sorted);
    float thr = 0.5f * (p99 > 0.02f ? p99 : 0.02f);
    for (size_t i = 0; i < np; i++) {
        float m = mask[i] / thr;
        mask[i] = m < 0 ? 0 : m > 1 ? 1 : m;
    }

    int w = photo->w, h = photo->h;
    size_t bytes = (size_t)w * h * 3;
    out->rgb = zs_xmalloc(bytes);
    memcpy(out->rgb, photo->rgb, bytes);
    out->w = w, out->h = h;

    double x0, y0, side;
    zs_crop_rect(crop, w, h, &x0, &y0, &side);
    /* photo pixels whose centres lie in [x0, x0 + side) x [y0, y0 + side) */
    int xa = first_at(x0, w), xb = first_at(x0 + side, w);
    int ya = first_at(y0, h), yb = first_at(y0 + side, h);
    if (xa < xb && ya < yb) {   /* else the square misses the photo */
        int *cx0 = zs_xmalloc(sizeof(int) * 2 * (size_t)(xb - xa)), *cx1 = cx0 + (xb - xa);
        float *fx = zs_xmalloc(sizeof(float) * (size_t)(xb - xa));
        for (int x = xa; x < xb; x++) taps(x, x0, side, size, &cx0[x - xa], &cx1[x - xa], &fx[x - xa]);
        for (int y = ya; y < yb; y++) {
            int r0, r1;
            float fy;
            taps(y, y0, side, size, &r0, &r1, &fy);
            uint8_t *row = out->rgb + ((size_t)y * w) * 3;
            for (int x = xa; x < xb; x++) {
                int k = x - xa, c0 = cx0[k], c1 = cx1[k];
                float f = fx[k];
                size_t i00 = (size_t)r0 * size + c0, i01 = (size_t)r0 * size + c1;
                size_t i10 = (size_t)r1 * size + c0, i11 = (size_t)r1 * size + c1;
                float w00 = (1 - f) * (1 - fy), w01 = f * (1 - fy), w10 = (1 - f) * fy, w11 = f * fy;
                float m = w00 * mask[i00] + w01 * mask[i01] + w10 * mask[i10] + w11 * mask[i11];
                if (m == 0) continue;
                for (int c = 0; c < 3; c++) {
                    const float *dc = delta + c * np;
                    float d = w00 * dc[i00] + w01 * dc[i01] + w10 * dc[i10] + w11 * dc[i11];
                    float v = row[x * 3 + c] + 255.0f * m * d;
                    v = floorf(v + 0.5f);
                    row[x * 3 + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
                }
            }
        }
        free(fx);
        free(cx0);
    }
    free(mask);
    free(delta);
    return ZS_OK;
}
