/* Photo decoding (JPEG RGB/gray/CMYK/YCCK/progressive/EXIF, PNG of every
 * colour type), the pixel limit, damaged files, the area-filter crop
 * against a double-precision reference, the fast DCT-scaled face path
 * against the general one, the writers and the float conversion. */
#include "testutil.h"
#include "test_data_fixture.h"
#include "zspace/data.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static double mean_abs(const uint8_t *a, const uint8_t *b, size_t n, int *maxd)
{
    double s = 0;
    int m = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)a[i] - (int)b[i]);
        s += d;
        if (d > m) m = d;
    }
    if (maxd) *maxd = m;
    return n ? s / (double)n : 0;
}

/* ---- JPEG --------------------------------------------------------------------- */
static void test_jpeg_rgb_gray(void)
{
    int w = 61, h = 47;
    uint8_t *pic = fx_picture(w, h, 3);
    for (int prog = 0; prog < 2; prog++) {
        size_t len;
        uint8_t *jpg = fx_jpeg(pic, w, h, 3, 95, prog, &len);
        zs_image img;
        CHECKF(zs_image_load_mem(&img, "rgb.jpg", jpg, len) == ZS_OK, "%s", zs_last_error());
        CHECK(img.w == w && img.h == h);
        int mx;
        double m = mean_abs(img.rgb, pic, (size_t)w * h * 3, &mx);
        CHECKF(m < 2.5, "RGB JPEG (progressive %d) differs from its source by %.2f on average", prog, m);
        zs_image_free(&img);
        CHECK(img.rgb == NULL && img.w == 0);
        free(jpg);
    }
    size_t len;
    uint8_t *jpg = fx_jpeg(pic, w, h, 1, 95, 0, &len);
    zs_image img;
    CHECKF(zs_image_load_mem(&img, "gray.jpg", jpg, len) == ZS_OK, "%s", zs_last_error());
    CHECK(img.w == w && img.h == h);
    int gray_ok = 1;
    double err = 0;
    for (int i = 0; i < w * h; i++) {
        const uint8_t *p = img.rgb + 3 * i, *s = pic + 3 * i;
        if (p[0] != p[1] || p[1] != p[2]) gray_ok = 0;
        int luma = (s[0] * 299 + s[1] * 587 + s[2] * 114 + 500) / 1000;
        err += abs(p[0] - luma);
    }
    CHECKF(gray_ok, "a grayscale JPEG must come out with R = G = B");
    CHECKF(err / (w * h) < 2.0, "gray JPEG error %.2f", err / (w * h));
    zs_image_free(&img);
    free(jpg);
    free(pic);
}

static void test_jpeg_cmyk(void)
{
    int w = 40, h = 33;
    uint8_t *pic = fx_picture(w, h, 5);
    for (int comps = 4; comps <= 5; comps++) {   /* CMYK, YCCK */
        size_t len;
        uint8_t *jpg = fx_jpeg(pic, w, h, comps, 95, 0, &len);
        zs_image img;
        CHECKF(zs_image_load_mem(&img, "cmyk.jpg", jpg, len) == ZS_OK, "%s", zs_last_error());
        CHECK(img.w == w && img.h == h);
        double m = mean_abs(img.rgb, pic, (size_t)w * h * 3, NULL);
        CHECKF(m < (comps == 4 ? 3.0 : 6.0), "%s JPEG differs from its RGB source by %.2f on average",
               comps == 4 ? "CMYK" : "YCCK", m);
        zs_image_free(&img);
        /* the face path hands CMYK to the general path: same result */
        uint8_t a[24 * 24 * 3], b[24 * 24 * 3];
        zs_crop crop = {0.5f, 0.5f, 0.8f};
        CHECK(zs_image_load_mem(&img, "cmyk.jpg", jpg, len) == ZS_OK);
        CHECK(zs_image_crop_resize(&img, crop, 24, a) == ZS_OK);
        CHECK(zs_face_load_mem("cmyk.jpg", jpg, len, crop, 24, b) == ZS_OK);
        CHECK(memcmp(a, b, sizeof a) == 0);
        zs_image_free(&img);
        free(jpg);
    }
    free(pic);
}

/* The expected display pixel (x, y) of an image stored as W x H with EXIF
 * orientation o: the source pixel it comes from. */
static void exif_src(int o, int W, int H, int x, int y, int *sx, int *sy)
{
    switch (o) {
    case 2: *sx = W - 1 - x, *sy = y; break;           /* mirrored */
    case 3: *sx = W - 1 - x, *sy = H - 1 - y; break;   /* upside down */
    case 4: *sx = x, *sy = H - 1 - y; break;           /* flipped */
    case 5: *sx = y, *sy = x; break;                   /* transposed */
    case 6: *sx = y, *sy = H - 1 - x; break;           /* stored rotated 90 CCW: show rotated CW */
    case 7: *sx = W - 1 - y, *sy = H - 1 - x; break;   /* transverse */
    case 8: *sx = W - 1 - y, *sy = x; break;           /* stored rotated 90 CW */
    default: *sx = x, *sy = y; break;
    }
}

static void test_jpeg_exif(void)
{
    int W = 30, H = 20;
    uint8_t *pic = fx_picture(W, H, 9);
    size_t len;
    uint8_t *plain = fx_jpeg_exif(pic, W, H, 1, &len);
    zs_image ref;
    CHECK(zs_image_load_mem(&ref, "o1.jpg", plain, len) == ZS_OK);
    free(plain);
    for (int o = 1; o <= 8; o++) {
        uint8_t *jpg = fx_jpeg_exif(pic, W, H, o, &len);
        zs_image img;
        CHECKF(zs_image_load_mem(&img, "exif.jpg", jpg, len) == ZS_OK, "%s", zs_last_error());
        int ew = o >= 5 ? H : W, eh = o >= 5 ? W : H;
        CHECKF(img.w == ew && img.h == eh, "orientation %d: %dx%d, expected %dx%d", o, img.w, img.h, ew, eh);
        int same = img.w == ew && img.h == eh;
        for (int y = 0; same && y < eh; y++)
            for (int x = 0; same && x < ew; x++) {
                int sx, sy;
                exif_src(o, W, H, x, y, &sx, &sy);
                same = memcmp(img.rgb + ((size_t)y * ew + x) * 3, ref.rgb + ((size_t)sy * W + sx) * 3, 3) == 0;
            }
        CHECKF(same, "orientation %d: pixels not where EXIF puts them", o);
        /* and the face path agrees with the general one */
        uint8_t a[16 * 16 * 3], b[16 * 16 * 3];
        zs_crop crop = {0.45f, 0.55f, 0.7f};
        CHECK(zs_image_crop_resize(&img, crop, 16, a) == ZS_OK);
        CHECK(zs_face_load_mem("exif.jpg", jpg, len, crop, 16, b) == ZS_OK);
        CHECKF(memcmp(a, b, sizeof a) == 0, "orientation %d: face path differs", o);
        zs_image_free(&img);
        free(jpg);
    }
    zs_image_free(&ref);
    free(pic);
}

/* ---- PNG ------------------------------------------------------------------------ */
static void test_png(void)
{
    int w = 37, h = 29;
    uint8_t *pic = fx_picture(w, h, 4);
    const char *kinds[] = {"rgb8", "rgb16", "gray8", "gray16", "rgba8", "palette8"};
    for (int k = 0; k < 6; k++) {
        size_t len;
        uint8_t *png = fx_png(pic, w, h, kinds[k], &len);
        zs_image img;
        zs_status st = zs_image_load_mem(&img, kinds[k], png, len);
        CHECKF(st == ZS_OK, "%s: %s", kinds[k], zs_last_error());
        free(png);
        if (st != ZS_OK) continue;
        CHECK(img.w == w && img.h == h);
        int bad = 0, worst = 0;
        for (int i = 0; i < w * h; i++) {
            const uint8_t *s = pic + 3 * i, *p = img.rgb + 3 * i;
            int x = i % w;
            int want[3];
            if (!strncmp(kinds[k], "gray", 4)) {
                int l = (s[0] * 299 + s[1] * 587 + s[2] * 114 + 500) / 1000;
                want[0] = want[1] = want[2] = l;
            } else if (!strcmp(kinds[k], "palette8")) {
                want[0] = (s[0] * 7 + 127) / 255 * 255 / 7;
                want[1] = (s[1] * 7 + 127) / 255 * 255 / 7;
                want[2] = (s[2] * 3 + 127) / 255 * 255 / 3;
            } else if (!strcmp(kinds[k], "rgba8")) {
                int a = w > 1 ? x * 255 / (w - 1) : 255;   /* over white */
                for (int c = 0; c < 3; c++) want[c] = (s[c] * a + 255 * (255 - a) + 127) / 255;
            } else {
                want[0] = s[0], want[1] = s[1], want[2] = s[2];
            }
            for (int c = 0; c < 3; c++) {
                int d = abs(p[c] - want[c]);
                if (d > worst) worst = d;
                if (d > (strcmp(kinds[k], "rgba8") == 0 ? 2 : 0)) bad++;
            }
        }
        CHECKF(bad == 0, "%s PNG: %d samples off (worst by %d)", kinds[k], bad, worst);
        zs_image_free(&img);
    }
    free(pic);
}

/* ---- limits and damaged files ------------------------------------------------------ */
/* Patch the SOF dimensions of a baseline JPEG. */
static void jpeg_set_dims(uint8_t *j, size_t len, int w, int h)
{
    for (size_t i = 2; i + 9 < len; i++)
        if (j[i] == 0xFF && (j[i + 1] == 0xC0 || j[i + 1] == 0xC2)) {
            j[i + 5] = (uint8_t)(h >> 8), j[i + 6] = (uint8_t)h;
            j[i + 7] = (uint8_t)(w >> 8), j[i + 8] = (uint8_t)w;
            return;
        }
    abort();
}

static void png_set_dims(uint8_t *p, int w, int h)
{
    /* IHDR data starts at 16: width, height (big-endian); CRC over type + data at 29 */
    for (int i = 0; i < 4; i++) p[16 + i] = (uint8_t)((uint32_t)w >> (24 - 8 * i));
    for (int i = 0; i < 4; i++) p[20 + i] = (uint8_t)((uint32_t)h >> (24 - 8 * i));
    uint32_t crc = zs_crc32(0, p + 12, 17);
    for (int i = 0; i < 4; i++) p[29 + i] = (uint8_t)(crc >> (24 - 8 * i));
}

static void test_limits(void)
{
    int w = 32, h = 24;
    uint8_t *pic = fx_picture(w, h, 1);
    size_t jl, pl;
    uint8_t *jpg = fx_jpeg(pic, w, h, 3, 80, 0, &jl);
    uint8_t *png = fx_png(pic, w, h, "rgb8", &pl);
    zs_image img;
    /* a limit just under the image */
    CHECK(zs_image_load_mem_ex(&img, "small.jpg", jpg, jl, (size_t)w * h - 1) == ZS_ERR_LIMIT);
    CHECKF(strstr(zs_last_error(), "small.jpg") && strstr(zs_last_error(), "32x24"), "%s", zs_last_error());
    CHECK(img.rgb == NULL);
    CHECK(zs_image_load_mem_ex(&img, "small.png", png, pl, (size_t)w * h - 1) == ZS_ERR_LIMIT);
    CHECKF(strstr(zs_last_error(), "small.png"), "%s", zs_last_error());
    CHECK(zs_image_load_mem_ex(&img, "small.jpg", jpg, jl, (size_t)w * h) == ZS_OK);
    zs_image_free(&img);
    /* headers claiming 60000 x 50000 (3 gigapixels, 9 GB of RGB): refused from
     * the header, before any pixel buffer exists */
    jpeg_set_dims(jpg, jl, 60000, 50000);
    png_set_dims(png, 60000, 50000);
    CHECK(zs_image_load_mem(&img, "huge.jpg", jpg, jl) == ZS_ERR_LIMIT);
    CHECKF(strstr(zs_last_error(), "huge.jpg: image is 60000x50000"), "%s", zs_last_error());
    CHECK(zs_image_load_mem(&img, "huge.png", png, pl) == ZS_ERR_LIMIT);
    CHECKF(strstr(zs_last_error(), "huge.png: image is 60000x50000"), "%s", zs_last_error());
    uint8_t face[8 * 8 * 3];
    CHECK(zs_face_load_mem("huge.jpg", jpg, jl, zs_crop_celeba(), 8, face) == ZS_ERR_LIMIT);
    CHECK(zs_face_load_mem("huge.png", png, pl, zs_crop_celeba(), 8, face) == ZS_ERR_LIMIT);
    /* a PNG header claiming 100000 x 100000 (10 gigapixels), a JPEG 65500 x 65500 */
    png_set_dims(png, 100000, 100000);
    CHECK(zs_image_load_mem(&img, "bomb.png", png, pl) == ZS_ERR_LIMIT && img.rgb == NULL);
    CHECKF(strstr(zs_last_error(), "bomb.png: image is 100000x100000"), "%s", zs_last_error());
    CHECK(zs_face_load_mem("bomb.png", png, pl, zs_crop_celeba(), 8, face) == ZS_ERR_LIMIT);
    jpeg_set_dims(jpg, jl, 65500, 65500);   /* libjpeg's own maximum */
    zs_status bj = zs_image_load_mem(&img, "bomb.jpg", jpg, jl);
    CHECKF(bj == ZS_ERR_LIMIT && img.rgb == NULL, "%d %s", bj, zs_last_error());
    CHECK(zs_face_load_mem("bomb.jpg", jpg, jl, zs_crop_celeba(), 8, face) == ZS_ERR_LIMIT);
    /* 8192 x 8192 is exactly the limit; one more row is over */
    jpeg_set_dims(jpg, jl, 8192, 8193);
    CHECK(zs_image_load_mem(&img, "over.jpg", jpg, jl) == ZS_ERR_LIMIT);
    free(jpg);
    free(png);
    free(pic);
}

static void test_damaged(void)
{
    int w = 48, h = 40;
    uint8_t *pic = fx_picture(w, h, 2);
    zs_image img;
    uint8_t face[16 * 16 * 3];
    zs_crop crop = {0.5f, 0.5f, 0.6f};
    /* not an image, empty, missing */
    const char *txt = "hello, this is not a photo";
    CHECK(zs_image_load_mem(&img, "note.jpg", (const uint8_t *)txt, strlen(txt)) == ZS_ERR_FORMAT);
    CHECKF(strstr(zs_last_error(), "note.jpg: not a JPEG or PNG"), "%s", zs_last_error());
    CHECK(zs_image_load_mem(&img, "empty.jpg", (const uint8_t *)"", 0) == ZS_ERR_FORMAT);
    CHECKF(strstr(zs_last_error(), "empty.jpg: empty file"), "%s", zs_last_error());
    CHECK(zs_image_load(&img, "/nonexistent/dir/x.jpg") == ZS_ERR_IO);
    CHECKF(strstr(zs_last_error(), "/nonexistent/dir/x.jpg"), "%s", zs_last_error());
    CHECK(zs_face_load("/nonexistent/dir/x.jpg", crop, 16, face) == ZS_ERR_IO);
    const uint8_t soi_only[] = {0xFF, 0xD8, 0xFF, 0xD9};
    CHECK(zs_image_load_mem(&img, "soi.jpg", soi_only, sizeof soi_only) == ZS_ERR_FORMAT);
    CHECK(zs_face_load_mem("soi.jpg", soi_only, sizeof soi_only, crop, 16, face) == ZS_ERR_FORMAT);

    /* every truncation of a baseline and a progressive JPEG, and of a PNG:
     * an error naming the file, never a crash or a grey-padded image */
    for (int kind = 0; kind < 3; kind++) {
        size_t len;
        uint8_t *f = kind == 2 ? fx_png(pic, w, h, "rgb8", &len) : fx_jpeg(pic, w, h, 3, 90, kind, &len);
        int accepted = 0, face_accepted = 0, tries = 0;
        for (size_t n = 0; n < len; n += (kind == 2 ? 1 : 3)) {
            tries++;
            if (zs_image_load_mem(&img, "cut.img", f, n) == ZS_OK) {
                accepted++;
                zs_image_free(&img);
            } else if (!strstr(zs_last_error(), "cut.img")) {
                CHECKF(0, "message without the name: %s", zs_last_error());
            }
            if (zs_face_load_mem("cut.img", f, n, crop, 16, face) == ZS_OK) face_accepted++;
        }
        CHECKF(accepted == 0 && face_accepted == 0, "kind %d: %d/%d truncated files decoded (%d by the face path)",
               kind, accepted, tries, face_accepted);
        /* the whole file still decodes */
        CHECK(zs_image_load_mem(&img, "whole", f, len) == ZS_OK);
        zs_image_free(&img);
        /* random corruption of a few bytes past the headers: whatever the
         * verdict, no crash (the sanitizer build checks the memory side) */
        uint8_t *g = malloc(len);
        int rejected = 0;
        for (int t = 0; t < 300; t++) {
            memcpy(g, f, len);
            int nb = 1 + t % 4;
            for (int k = 0; k < nb; k++) {
                uint64_t r = zs_rand64(77 + kind, (uint64_t)t * 8 + k);
                size_t pos = len / 3 + (size_t)(r % (len - len / 3 - 2));
                g[pos] = (uint8_t)(r >> 32);
            }
            zs_status s1 = zs_image_load_mem(&img, "noisy", g, len);
            if (s1 == ZS_OK) zs_image_free(&img);
            else rejected++;
            zs_face_load_mem("noisy", g, len, crop, 16, face);
        }
        CHECK(rejected > 0);
        free(g);
        free(f);
    }
    /* a JPEG whose entropy data is cut but which still ends with EOI */
    size_t len;
    uint8_t *f = fx_jpeg(pic, w, h, 3, 90, 0, &len);
    uint8_t *g = malloc(len);
    memcpy(g, f, len / 2);
    g[len / 2] = 0xFF;
    g[len / 2 + 1] = 0xD9;
    CHECK(zs_image_load_mem(&img, "early_eoi.jpg", g, len / 2 + 2) == ZS_ERR_FORMAT);
    CHECKF(strstr(zs_last_error(), "early_eoi.jpg"), "%s", zs_last_error());
    CHECK(zs_face_load_mem("early_eoi.jpg", g, len / 2 + 2, (zs_crop){0.5f, 0.5f, 0.9f}, 16, face) == ZS_ERR_FORMAT);
    free(g);
    free(f);
    free(pic);
}

/* ---- the crop ------------------------------------------------------------------------ */
static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Straightforward area filter in double precision: every output pixel
 * integrates the source over its square, edge pixels repeated outside. */
static void ref_crop(const zs_image *im, zs_crop c, int size, double *out)
{
    double side = (double)c.side * im->w, x0 = (double)c.cx * im->w - side / 2, y0 = (double)c.cy * im->h - side / 2;
    double st = side / size;
    for (int oy = 0; oy < size; oy++)
        for (int ox = 0; ox < size; ox++)
            for (int ch = 0; ch < 3; ch++) {
                double a0 = x0 + ox * st, a1 = a0 + st, b0 = y0 + oy * st, b1 = b0 + st, acc = 0;
                for (int j = (int)floor(b0); j < b1; j++) {
                    double wy = fmin(b1, j + 1) - fmax(b0, j);
                    if (wy <= 0) continue;
                    for (int i = (int)floor(a0); i < a1; i++) {
                        double wx = fmin(a1, i + 1) - fmax(a0, i);
                        if (wx <= 0) continue;
                        size_t at = (size_t)clampi(j, 0, im->h - 1) * im->w + clampi(i, 0, im->w - 1);
                        acc += wx * wy * im->rgb[at * 3 + ch];
                    }
                }
                out[((size_t)oy * size + ox) * 3 + ch] = acc / (st * st);
            }
}

static void test_crop_resize(void)
{
    CHECK(fabsf(zs_crop_celeba().cx * 178 - 89) < 1e-4f);
    CHECK(fabsf(zs_crop_celeba().cy * 218 - 114) < 1e-4f);
    CHECK(fabsf(zs_crop_celeba().side * 178 - 148) < 1e-4f);
    struct { int w, h; zs_crop c; int size; } cases[] = {
        {178, 218, {89.0f / 178, 114.0f / 218, 148.0f / 178}, 64},   /* the CelebA crop */
        {178, 218, {89.0f / 178, 114.0f / 218, 148.0f / 178}, 128},
        {178, 218, {0.5f, 0.5f, 1.0f}, 64},
        {100, 80, {0.1f, 0.2f, 0.9f}, 32},     /* hangs over the top-left corner */
        {100, 80, {0.95f, 0.9f, 0.7f}, 29},    /* over the bottom-right, odd size */
        {64, 64, {0.5f, 0.5f, 1.0f}, 64},      /* identity */
        {40, 30, {0.5f, 0.5f, 0.5f}, 48},      /* enlarging: 20 px -> 48 */
        {300, 200, {0.3f, 0.6f, 0.25f}, 17},
        {50, 50, {-0.5f, 1.5f, 0.4f}, 8},      /* entirely outside: edge pixels */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        zs_image im = {cases[k].w, cases[k].h, fx_picture(cases[k].w, cases[k].h, (int)k + 20)};
        int S = cases[k].size;
        uint8_t *out = malloc((size_t)S * S * 3);
        double *ref = malloc(sizeof(double) * (size_t)S * S * 3);
        CHECK(zs_image_crop_resize(&im, cases[k].c, S, out) == ZS_OK);
        ref_crop(&im, cases[k].c, S, ref);
        double maxd = 0, sum = 0;
        for (int i = 0; i < S * S * 3; i++) {
            double d = fabs(out[i] - ref[i]);
            sum += d;
            if (d > maxd) maxd = d;
        }
        /* rounding of the float result: within 0.5 of the exact value, plus float slack */
        CHECKF(maxd <= 0.51, "case %zu: max |crop - reference| = %.3f", k, maxd);
        CHECKF(sum / (S * S * 3) <= 0.26, "case %zu: mean |crop - reference| = %.3f", k, sum / (S * S * 3));
        if (k == 5) CHECK(memcmp(out, im.rgb, (size_t)S * S * 3) == 0);
        free(out);
        free(ref);
        free(im.rgb);
    }
    zs_image im = {10, 10, fx_picture(10, 10, 1)};
    uint8_t o[4 * 4 * 3];
    CHECK(zs_image_crop_resize(&im, (zs_crop){0.5f, 0.5f, 0}, 4, o) == ZS_ERR_ARG);
    CHECK(zs_image_crop_resize(&im, (zs_crop){NAN, 0.5f, 0.5f}, 4, o) == ZS_ERR_ARG);
    CHECK(zs_face_load_mem("x.jpg", (const uint8_t *)"\xFF\xD8\xFF", 3, (zs_crop){0.5f, 0.5f, -1}, 4, o) == ZS_ERR_ARG);
    free(im.rgb);
}

/* zs_face_load against zs_image_load + zs_image_crop_resize. */
static void test_face_load(void)
{
    struct { int w, h, size, q; int exact; const char *what; } cases[] = {
        {178, 218, 64, 90, 0, "CelebA-sized, 64: decoded at 1/2"},
        {178, 218, 128, 90, 1, "CelebA-sized, 128: needs full scale, must be exact"},
        {712, 872, 64, 90, 0, "4x CelebA, 64: decoded at 1/8"},
        {356, 436, 64, 85, 0, "2x CelebA, 64: decoded at 1/4"},
        {178, 218, 32, 75, 0, "CelebA-sized, 32: 1/4"},
    };
    zs_crop crop = zs_crop_celeba();
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int w = cases[k].w, h = cases[k].h, S = cases[k].size;
        double worst_mean = 0;
        int worst_max = 0;
        for (int seed = 0; seed < 4; seed++) {
            uint8_t *pic = fx_picture(w, h, seed + 40);
            size_t len;
            uint8_t *jpg = fx_jpeg(pic, w, h, 3, cases[k].q, seed & 1, &len);
            zs_image img;
            CHECK(zs_image_load_mem(&img, "f.jpg", jpg, len) == ZS_OK);
            uint8_t *a = malloc((size_t)S * S * 3), *b = malloc((size_t)S * S * 3);
            CHECK(zs_image_crop_resize(&img, crop, S, a) == ZS_OK);
            CHECKF(zs_face_load_mem("f.jpg", jpg, len, crop, S, b) == ZS_OK, "%s", zs_last_error());
            int mx;
            double m = mean_abs(a, b, (size_t)S * S * 3, &mx);
            if (m > worst_mean) worst_mean = m;
            if (mx > worst_max) worst_max = mx;
            if (cases[k].exact) CHECKF(mx == 0, "%s: differs by up to %d", cases[k].what, mx);
            free(a);
            free(b);
            zs_image_free(&img);
            free(jpg);
            free(pic);
        }
        /* The DCT downscale averages pixel pairs/quads before the area
         * filter, which moves the partly covered source pixels at each output
         * pixel's border: a couple of levels on average on this textured
         * picture (about 2 on real faces), more at hard edges. */
        CHECKF(worst_mean <= 4.0, "%s: mean difference %.2f", cases[k].what, worst_mean);
        fprintf(stderr, "  face path vs general, %s: mean %.2f, max %d\n", cases[k].what, worst_mean, worst_max);
    }
    /* crops hanging over the image's edges (edge pixels repeated) */
    zs_crop over[] = {{0.1f, 0.9f, 0.8f}, {0.95f, 0.05f, 0.5f}, {0.5f, 0.5f, 1.3f}};
    for (int k = 0; k < 3; k++) {
        uint8_t *pic = fx_picture(178, 218, 60 + k);
        size_t len;
        uint8_t *jpg = fx_jpeg(pic, 178, 218, 3, 90, 0, &len);
        zs_image img;
        uint8_t a[48 * 48 * 3], b[48 * 48 * 3];
        CHECK(zs_image_load_mem(&img, "o.jpg", jpg, len) == ZS_OK);
        CHECK(zs_image_crop_resize(&img, over[k], 48, a) == ZS_OK);
        CHECK(zs_face_load_mem("o.jpg", jpg, len, over[k], 48, b) == ZS_OK);
        double m = mean_abs(a, b, sizeof a, NULL);
        CHECKF(m <= 4.0, "crop %d over the edge: mean difference %.2f", k, m);
        zs_image_free(&img);
        free(jpg);
        free(pic);
    }
    /* PNG goes through the general path: identical */
    uint8_t *pic = fx_picture(178, 218, 7);
    size_t len;
    uint8_t *png = fx_png(pic, 178, 218, "rgb8", &len);
    zs_image img = {178, 218, pic};
    uint8_t a[64 * 64 * 3], b[64 * 64 * 3];
    CHECK(zs_image_crop_resize(&img, crop, 64, a) == ZS_OK);
    CHECK(zs_face_load_mem("f.png", png, len, crop, 64, b) == ZS_OK);
    CHECK(memcmp(a, b, sizeof a) == 0);
    /* from a file */
    char *path = fx_path(zs_test_tmpdir(), "face.png");
    CHECK(fx_write(path, png, len) == 0);
    memset(b, 0, sizeof b);
    CHECK(zs_face_load(path, crop, 64, b) == ZS_OK && memcmp(a, b, sizeof a) == 0);
    unlink(path);
    free(path);
    free(png);
    free(pic);
}

/* ---- writers and float conversion ------------------------------------------------------ */
static void test_writers(void)
{
    int w = 33, h = 21;
    zs_image img = {w, h, fx_picture(w, h, 8)}, back;
    char *png = fx_path(zs_test_tmpdir(), "w.png"), *jpg = fx_path(zs_test_tmpdir(), "w.jpg");
    CHECKF(zs_image_write_png(png, &img) == ZS_OK, "%s", zs_last_error());
    CHECK(zs_image_load(&back, png) == ZS_OK);
    CHECK(back.w == w && back.h == h && memcmp(back.rgb, img.rgb, (size_t)w * h * 3) == 0);
    zs_image_free(&back);
    CHECKF(zs_image_write_jpeg(jpg, &img, 95) == ZS_OK, "%s", zs_last_error());
    CHECK(zs_image_load(&back, jpg) == ZS_OK);
    CHECK(back.w == w && back.h == h);
    if (back.rgb) CHECK(mean_abs(back.rgb, img.rgb, (size_t)w * h * 3, NULL) < 2.5);
    zs_image_free(&back);
    CHECK(zs_image_write_jpeg(jpg, &img, 500) == ZS_OK);   /* quality clamped */
    CHECK(zs_image_write_png("/nonexistent/dir/x.png", &img) == ZS_ERR_IO);
    CHECKF(strstr(zs_last_error(), "/nonexistent/dir/x.png"), "%s", zs_last_error());
    CHECK(zs_image_write_jpeg("/nonexistent/dir/x.jpg", &img, 90) == ZS_ERR_IO);
    unlink(png);
    unlink(jpg);
    free(png);
    free(jpg);
    free(img.rgb);
}

static void test_chw(void)
{
    int S = 5;
    uint8_t hwc[5 * 5 * 3], back[5 * 5 * 3];
    for (int i = 0; i < S * S * 3; i++) hwc[i] = (uint8_t)(i * 37 + 11);
    float chw[3 * 5 * 5], fl[3 * 5 * 5];
    zs_face_to_chw(hwc, S, chw, 0);
    zs_face_to_chw(hwc, S, fl, 1);
    int ok = 1, okf = 1;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) {
                float v = chw[(c * S + y) * S + x], f = fl[(c * S + y) * S + (S - 1 - x)];
                if (v != (float)hwc[(y * S + x) * 3 + c] / 255.0f) ok = 0;
                if (f != v) okf = 0;
            }
    CHECKF(ok, "HWC uint8 -> CHW float must be value / 255 exactly");
    CHECKF(okf, "flip must mirror each row");
    zs_face_from_chw(chw, S, back);
    CHECK(memcmp(back, hwc, sizeof hwc) == 0);
    chw[0] = -0.3f, chw[1] = 1.7f, chw[2] = NAN, chw[3] = 0.5f / 255.0f + 1e-6f, chw[4] = INFINITY;
    zs_face_from_chw(chw, S, back);
    CHECK(back[0] == 0 && back[3] == 255 && back[6] == 0 && back[9] == 1 && back[12] == 255);
}

int main(void)
{
    test_jpeg_rgb_gray();
    test_jpeg_cmyk();
    test_jpeg_exif();
    test_png();
    test_limits();
    test_damaged();
    test_crop_resize();
    test_face_load();
    test_writers();
    test_chw();
    if (zs_test_failures == 0) fx_cleanup();
    TEST_END();
}
