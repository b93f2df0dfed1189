/* Photo I/O (JPEG via libjpeg-turbo, PNG via libpng), the face crop and its
 * area-filter resize, and the fast DCT-scaled face loader (see zspace/data.h).
 *
 * libjpeg reports errors through error_exit, which must not return: we
 * longjmp back to the decode function, which frees what it allocated and
 * returns a message naming the file. Truncation and corrupt entropy data only
 * raise libjpeg warnings (it would pad the image with grey); we treat those
 * as errors too, so a damaged file never reaches the cache. */
#include "data_impl.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

/* Progressive JPEGs may legally carry thousands of tiny scans, each a full
 * pass over the coefficients: a decode-time bomb. Real encoders write < 20. */
#define MAX_JPEG_SCANS 500

/* ---- libjpeg error handling ------------------------------------------------ */
typedef struct jerr {
    struct jpeg_error_mgr pub;
    struct jpeg_progress_mgr progress;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX + 64];
} jerr;

static void jerr_exit(j_common_ptr c)
{
    jerr *e = (jerr *)c->err;
    if (c->err->msg_code == JERR_NO_SOI) {
        snprintf(e->msg, sizeof e->msg, "not a JPEG file (starts with 0x%02x 0x%02x)", c->err->msg_parm.i[0] & 0xFF,
                 c->err->msg_parm.i[1] & 0xFF);
    } else {
        char m[JMSG_LENGTH_MAX];
        c->err->format_message(c, m);
        snprintf(e->msg, sizeof e->msg, "bad JPEG: %s", m);
    }
    longjmp(e->jb, 1);
}

static void jerr_emit(j_common_ptr c, int level)
{
    if (level >= 0) return;   /* trace messages */
    jerr *e = (jerr *)c->err;
    int code = c->err->msg_code;
    if (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER) {
        snprintf(e->msg, sizeof e->msg, "truncated JPEG (the data ends before the image does)");
        longjmp(e->jb, 1);
    }
    if (code == JWRN_HUFF_BAD_CODE || code == JWRN_MUST_RESYNC || code == JWRN_BOGUS_PROGRESSION) {
        char m[JMSG_LENGTH_MAX];
        c->err->format_message(c, m);
        snprintf(e->msg, sizeof e->msg, "corrupt JPEG data (%s)", m);
        longjmp(e->jb, 1);
    }
    c->err->num_warnings++;   /* harmless ones, e.g. extraneous bytes */
}

static void jerr_progress(j_common_ptr c)
{
    if (!c->is_decompressor) return;
    j_decompress_ptr d = (j_decompress_ptr)c;
    if (d->input_scan_number > MAX_JPEG_SCANS) {
        jerr *e = (jerr *)c->err;
        snprintf(e->msg, sizeof e->msg, "JPEG has more than %d progressive scans", MAX_JPEG_SCANS);
        longjmp(e->jb, 1);
    }
}

/* Set up a decompressor reading `data`, with our handlers; memory for
 * libjpeg's whole-image buffers (progressive files) capped from max_pixels. */
static void jdec_init(struct jpeg_decompress_struct *ci, jerr *e, const uint8_t *data, size_t len, size_t max_pixels)
{
    ci->err = jpeg_std_error(&e->pub);
    e->pub.error_exit = jerr_exit;
    e->pub.emit_message = jerr_emit;
    e->msg[0] = 0;
    jpeg_create_decompress(ci);
    e->progress.progress_monitor = jerr_progress;
    ci->progress = &e->progress;
    /* Coefficients of a progressive 4:4:4 image: 6 bytes per pixel. */
    ci->mem->max_memory_to_use = (long)(max_pixels * 8 + (16 << 20));
    jpeg_mem_src(ci, data, (unsigned long)len);
    jpeg_save_markers(ci, JPEG_APP0 + 1, 0xFFFF);
}

static zs_status check_pixels(const char *name, uint64_t w, uint64_t h, size_t max_pixels)
{
    if (w == 0 || h == 0) return zs_errorf(ZS_ERR_FORMAT, "%s: image has no pixels (%llux%llu)", name,
                                           (unsigned long long)w, (unsigned long long)h);
    if (w * h > max_pixels)
        return zs_errorf(ZS_ERR_LIMIT, "%s: image is %llux%llu (%.1f megapixels), more than the limit of %.1f",
                         name, (unsigned long long)w, (unsigned long long)h, (double)(w * h) / 1e6,
                         (double)max_pixels / 1e6);
    return ZS_OK;
}

/* EXIF orientation (1..8) from a saved APP1 marker; 1 when absent or odd. */
static int exif_orientation(j_decompress_ptr ci)
{
    for (jpeg_saved_marker_ptr m = ci->marker_list; m; m = m->next) {
        if (m->marker != JPEG_APP0 + 1 || m->data_length < 6 + 8 || memcmp(m->data, "Exif\0\0", 6) != 0) continue;
        const uint8_t *t = m->data + 6;
        size_t n = m->data_length - 6;
        int le = t[0] == 'I' && t[1] == 'I';
        if (!le && !(t[0] == 'M' && t[1] == 'M')) continue;
#define RD16(p) (le ? (unsigned)(p)[0] | (unsigned)(p)[1] << 8 : (unsigned)(p)[1] | (unsigned)(p)[0] << 8)
#define RD32(p) (le ? (uint32_t)RD16(p) | (uint32_t)RD16((p) + 2) << 16 : (uint32_t)RD16(p) << 16 | RD16((p) + 2))
        if (RD16(t + 2) != 42) continue;
        size_t ifd = RD32(t + 4);
        if (ifd > n || n - ifd < 2) continue;
        unsigned cnt = RD16(t + ifd);
        for (unsigned i = 0; i < cnt; i++) {
            size_t e = ifd + 2 + (size_t)12 * i;
            if (e > n || n - e < 12) break;
            if (RD16(t + e) != 0x0112) continue;
            unsigned v = RD16(t + e + 2) == 3 ? RD16(t + e + 8) : 1;
            return v >= 1 && v <= 8 ? (int)v : 1;
        }
#undef RD16
#undef RD32
    }
    return 1;
}

/* Apply an EXIF orientation: returns a new buffer, sets *w, *h. */
static uint8_t *orient(const uint8_t *src, int *w, int *h, int o)
{
    int W = *w, H = *h;
    int ow = o >= 5 ? H : W, oh = o >= 5 ? W : H;
    uint8_t *dst = zs_xmalloc((size_t)ow * oh * 3);
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            int sx, sy;
            switch (o) {
            case 2: sx = W - 1 - x; sy = y; break;
            case 3: sx = W - 1 - x; sy = H - 1 - y; break;
            case 4: sx = x; sy = H - 1 - y; break;
            case 5: sx = y; sy = x; break;
            case 6: sx = y; sy = H - 1 - x; break;
            case 7: sx = W - 1 - y; sy = H - 1 - x; break;
            case 8: sx = W - 1 - y; sy = x; break;
            default: sx = x; sy = y; break;
            }
            memcpy(dst + ((size_t)y * ow + x) * 3, src + ((size_t)sy * W + sx) * 3, 3);
        }
    *w = ow;
    *h = oh;
    return dst;
}

/* Reads all rows of a started decompressor into rgb (w*h*3), converting
 * CMYK (Adobe files store it inverted) through `row4`. */
static void jdec_read_all(struct jpeg_decompress_struct *ci, uint8_t *rgb, uint8_t *row4)
{
    size_t w = ci->output_width;
    while (ci->output_scanline < ci->output_height) {
        uint8_t *dst = rgb + (size_t)ci->output_scanline * w * 3;
        if (ci->out_color_space != JCS_CMYK) {
            JSAMPROW r = dst;
            jpeg_read_scanlines(ci, &r, 1);
            continue;
        }
        JSAMPROW r = row4;
        jpeg_read_scanlines(ci, &r, 1);
        int inv = ci->saw_Adobe_marker;
        for (size_t x = 0; x < w; x++) {
            unsigned c = row4[4 * x], m = row4[4 * x + 1], yy = row4[4 * x + 2], k = row4[4 * x + 3];
            if (!inv) c = 255 - c, m = 255 - m, yy = 255 - yy, k = 255 - k;
            dst[3 * x] = (uint8_t)((c * k + 127) / 255);
            dst[3 * x + 1] = (uint8_t)((m * k + 127) / 255);
            dst[3 * x + 2] = (uint8_t)((yy * k + 127) / 255);
        }
    }
}

static zs_status load_jpeg(zs_image *img, const char *name, const uint8_t *data, size_t len, size_t max_pixels)
{
    struct jpeg_decompress_struct ci;
    jerr e;
    uint8_t *volatile rgb = NULL, *volatile row4 = NULL;
    if (setjmp(e.jb)) {
        jpeg_destroy_decompress(&ci);
        free(rgb);
        free(row4);
        return zs_errorf(ZS_ERR_FORMAT, "%s: %s", name, e.msg);
    }
    jdec_init(&ci, &e, data, len, max_pixels);
    jpeg_read_header(&ci, TRUE);
    zs_status st = check_pixels(name, ci.image_width, ci.image_height, max_pixels);
    if (st != ZS_OK) {
        jpeg_destroy_decompress(&ci);
        return st;
    }
    int orientation = exif_orientation(&ci);
    int cmyk = ci.jpeg_color_space == JCS_CMYK || ci.jpeg_color_space == JCS_YCCK;
    ci.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(&ci);
    int w = (int)ci.output_width, h = (int)ci.output_height;
    rgb = zs_xmalloc((size_t)w * h * 3);
    if (cmyk) row4 = zs_xmalloc((size_t)w * 4);
    jdec_read_all(&ci, rgb, row4);
    jpeg_finish_decompress(&ci);
    jpeg_destroy_decompress(&ci);
    free(row4);
    uint8_t *out = rgb;
    if (orientation != 1) {
        out = orient(rgb, &w, &h, orientation);
        free(rgb);
    }
    img->w = w;
    img->h = h;
    img->rgb = out;
    return ZS_OK;
}

/* PNG through libpng's classic API: every colour type and bit depth comes
 * out as 8-bit RGB or RGBA (16-bit samples scaled, palette and gray
 * expanded); alpha is then composited over white in sRGB space, as browsers
 * and Pillow do. gAMA/iCCP are ignored (the samples are taken as sRGB).
 * libpng reports errors by longjmp to the setjmp below. */
typedef struct png_src { const uint8_t *p; size_t n, off; const char *name; char msg[200]; } png_src;

static void png_read_mem(png_structp png, png_bytep out, png_size_t n)
{
    png_src *s = png_get_io_ptr(png);
    if (n > s->n - s->off) png_error(png, "truncated PNG (the data ends before the image does)");
    memcpy(out, s->p + s->off, n);
    s->off += n;
}

static void png_on_error(png_structp png, png_const_charp msg)
{
    png_src *s = png_get_error_ptr(png);
    if (!s->msg[0]) snprintf(s->msg, sizeof s->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg) { (void)png, (void)msg; }

static zs_status load_png(zs_image *img, const char *name, const uint8_t *data, size_t len, size_t max_pixels)
{
    png_src src = {data, len, 0, name, ""};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, png_on_error, png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return zs_errorf(ZS_ERR_NOMEM, "%s: cannot start the PNG decoder", name);
    }
    uint8_t *volatile pix = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(pix);
        free(rows);
        return zs_errorf(ZS_ERR_FORMAT, "%s: bad PNG: %s", name, src.msg[0] ? src.msg : "decode error");
    }
    png_set_read_fn(png, &src, png_read_mem);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    zs_status st = check_pixels(name, w, h, max_pixels);
    if (st != ZS_OK) {
        png_destroy_read_struct(&png, &info, NULL);
        return st;
    }
    int ct = png_get_color_type(png, info);
    png_set_expand(png);   /* palette -> RGB, gray < 8 bits -> 8, tRNS -> alpha */
    png_set_scale_16(png);
    if (ct == PNG_COLOR_TYPE_GRAY || ct == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int ch = png_get_channels(png, info);
    if (png_get_bit_depth(png, info) != 8 || (ch != 3 && ch != 4))
        png_error(png, "unexpected pixel layout after conversion");
    size_t stride = (size_t)w * (size_t)ch;
    pix = zs_xmalloc(stride * h);
    rows = zs_xmalloc(sizeof(png_bytep) * h);
    for (png_uint_32 y = 0; y < h; y++) rows[y] = pix + stride * y;
    png_read_image(png, rows);
    png_read_end(png, NULL);   /* through IEND: a cut file is an error */
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    uint8_t *rgb = pix;
    if (ch == 4) {   /* over white, in place: pixel i's RGB lands at 3i <= 4i */
        size_t n = (size_t)w * h;
        for (size_t i = 0; i < n; i++) {
            const uint8_t *q = pix + 4 * i;
            unsigned a = q[3];
            uint8_t r = (uint8_t)((q[0] * a + 255 * (255 - a) + 127) / 255);
            uint8_t g = (uint8_t)((q[1] * a + 255 * (255 - a) + 127) / 255);
            uint8_t b = (uint8_t)((q[2] * a + 255 * (255 - a) + 127) / 255);
            rgb[3 * i] = r, rgb[3 * i + 1] = g, rgb[3 * i + 2] = b;
        }
        uint8_t *shrunk = realloc(rgb, n * 3);
        if (shrunk) rgb = shrunk;
    }
    img->w = (int)w;
    img->h = (int)h;
    img->rgb = rgb;
    return ZS_OK;
}

static int is_png(const uint8_t *d, size_t n) { return n >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0; }

zs_status zs_image_load_mem_ex(zs_image *img, const char *name, const uint8_t *data, size_t len, size_t max_pixels)
{
    ZS_ASSERT(img && name && (data || len == 0));
    memset(img, 0, sizeof *img);
    if (len == 0) return zs_errorf(ZS_ERR_FORMAT, "%s: empty file", name);
    if (is_png(data, len)) return load_png(img, name, data, len, max_pixels);
    if (len >= 2 && data[0] == 0xFF && data[1] == 0xD8) return load_jpeg(img, name, data, len, max_pixels);
    return zs_errorf(ZS_ERR_FORMAT, "%s: not a JPEG or PNG file (starts with 0x%02x 0x%02x)", name, data[0],
                     len > 1 ? data[1] : 0);
}

zs_status zs_image_load_mem(zs_image *img, const char *name, const uint8_t *data, size_t len)
{
    return zs_image_load_mem_ex(img, name, data, len, ZS_IMAGE_MAX_PIXELS);
}

zs_status zs_image_load(zs_image *img, const char *path)
{
    uint8_t *data;
    size_t len;
    memset(img, 0, sizeof *img);
    zs_status st = zs_read_file(path, &data, &len, ZS_IMAGE_MAX_FILE_BYTES);
    if (st != ZS_OK) return st;
    st = zs_image_load_mem(img, path, data, len);
    free(data);
    return st;
}

void zs_image_free(zs_image *img)
{
    if (!img) return;
    free(img->rgb);
    memset(img, 0, sizeof *img);
}

/* ---- writers ------------------------------------------------------------------ */
zs_status zs_image_write_png(const char *path, const zs_image *img)
{
    ZS_ASSERT(img && img->rgb && img->w > 0 && img->h > 0);
    zs_atomic_file af;
    zs_status st = zs_atomic_open(&af, path);
    if (st != ZS_OK) return st;
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    pi.width = (png_uint_32)img->w;
    pi.height = (png_uint_32)img->h;
    pi.format = PNG_FORMAT_RGB;
    if (!png_image_write_to_stdio(&pi, af.f, 0, img->rgb, 0, NULL)) {
        st = zs_errorf(ZS_ERR_IO, "%s: cannot write PNG: %s", path, pi.message);
        png_image_free(&pi);
        zs_atomic_abort(&af);
        return st;
    }
    return zs_atomic_commit(&af);
}

static void jcomp_exit(j_common_ptr c)
{
    jerr *e = (jerr *)c->err;
    c->err->format_message(c, e->msg);
    longjmp(e->jb, 1);
}

/* Compress img into f; 0 on success, else a message in e->msg. Kept apart
 * from zs_image_write_jpeg so no local of the caller lives across setjmp. */
static int jpeg_compress_stdio(FILE *f, const zs_image *img, int quality, jerr *e)
{
    struct jpeg_compress_struct cc;
    cc.err = jpeg_std_error(&e->pub);
    e->pub.error_exit = jcomp_exit;
    e->msg[0] = 0;
    if (setjmp(e->jb)) {
        jpeg_destroy_compress(&cc);
        return -1;
    }
    jpeg_create_compress(&cc);
    jpeg_stdio_dest(&cc, f);
    cc.image_width = (JDIMENSION)img->w;
    cc.image_height = (JDIMENSION)img->h;
    cc.input_components = 3;
    cc.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cc);
    jpeg_set_quality(&cc, quality, TRUE);
    if (quality >= 90) {   /* keep full chroma resolution for high-quality saves */
        cc.comp_info[0].h_samp_factor = cc.comp_info[0].v_samp_factor = 1;
    }
    jpeg_start_compress(&cc, TRUE);
    while (cc.next_scanline < cc.image_height) {
        JSAMPROW r = img->rgb + (size_t)cc.next_scanline * img->w * 3;
        jpeg_write_scanlines(&cc, &r, 1);
    }
    jpeg_finish_compress(&cc);
    jpeg_destroy_compress(&cc);
    return 0;
}

zs_status zs_image_write_jpeg(const char *path, const zs_image *img, int quality)
{
    ZS_ASSERT(img && img->rgb && img->w > 0 && img->h > 0);
    zs_atomic_file af;
    zs_status st = zs_atomic_open(&af, path);
    if (st != ZS_OK) return st;
    jerr e;
    if (jpeg_compress_stdio(af.f, img, quality < 1 ? 1 : quality > 100 ? 100 : quality, &e) != 0) {
        st = zs_errorf(ZS_ERR_IO, "%s: cannot write JPEG: %s", path, e.msg);
        zs_atomic_abort(&af);
        return st;
    }
    return zs_atomic_commit(&af);
}

/* ---- crop and area resize --------------------------------------------------------- */
zs_crop zs_crop_celeba(void) { return (zs_crop){89.0f / 178.0f, 114.0f / 218.0f, 148.0f / 178.0f}; }

void zs_crop_rows(double y0, double side, int h, int *r0, int *r1)
{
    double lo = floor(y0), hi = ceil(y0 + side);
    int a = lo < 0 ? 0 : lo > h - 1 ? h - 1 : (int)lo;
    int b = hi > h ? h : hi < a + 1 ? a + 1 : (int)hi;
    *r0 = a;
    *r1 = b;
}

/* Taps of a 1-D area filter: output o covers [a0 + o*step, a0 + (o+1)*step)
 * and reads the source pixels first[o] .. first[o] + count[o] - 1 (relative
 * to `base`) with weights w[o * per ..]. Indices are clamped into [lo, hi);
 * taps that clamp onto the same edge pixel are merged, so each output's
 * pixels stay contiguous. */
typedef struct taps { int per; int *first, *count; float *w; } taps;

static void taps_build(taps *t, double a0, double step, int n, int lo, int hi, int base, void *mem)
{
    t->per = (int)ceil(step) + 2;
    t->first = mem;
    t->count = t->first + n;
    t->w = (float *)(t->count + n);
    for (int o = 0; o < n; o++) {
        double a = a0 + o * step, b = a + step;
        float *w = t->w + (size_t)o * t->per;
        int k = 0, last = 0;
        for (double j = floor(a); j < b; j += 1) {
            double cov = (b < j + 1 ? b : j + 1) - (a > j ? a : j);
            if (cov <= 1e-9) continue;
            int ix = j < lo ? lo : j >= hi ? hi - 1 : (int)j;
            if (k > 0 && ix == last) {
                w[k - 1] += (float)(cov / step);
            } else {
                if (k == 0) t->first[o] = ix - base;
                w[k++] = (float)(cov / step);
                last = ix;
            }
        }
        if (k == 0) {   /* a crop far thinner than a pixel: its nearest pixel */
            double j = floor(a);
            t->first[o] = (j < lo ? lo : j >= hi ? hi - 1 : (int)j) - base;
            w[k++] = 1;
        }
        t->count[o] = k;
    }
}

static size_t taps_bytes(double step, int n)
{
    return (size_t)n * (2 * sizeof(int) + sizeof(float) * (size_t)((int)ceil(step) + 2));
}

/* The resize's loops are element-wise over contiguous bytes (no sum is
 * reordered), so -O3's vectoriser and an AVX2 clone give the same bits, and
 * it was 28% of `zspace prepare` (perf, 27,500 faces); with this the fast
 * path went from 194 to 138 us per face (bench/prepare_speed --n 3000). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(ZS_NO_CLONES)
#define ZS_RESIZE_FAST __attribute__((optimize("O3"), target_clones("arch=x86-64-v3", "default")))
#else
#define ZS_RESIZE_FAST
#endif
ZS_RESIZE_FAST
void zs_area_resize(const uint8_t *src, int cols, int rows, size_t stride, int row0, int img_h, double x0,
                    double y0, double side, int size, uint8_t *out)
{
    ZS_ASSERT(cols > 0 && rows > 0 && size > 0 && side > 0);
    double step = side / size;
    size_t tb = taps_bytes(step, size);
    taps tx, ty;
    int r0, r1;   /* the rows the crop touches, clamped into the image */
    zs_crop_rows(y0, side, img_h, &r0, &r1);
    ZS_ASSERT(r0 >= row0 && r1 - row0 <= rows);
    char *mem = zs_xmalloc(2 * tb);
    taps_build(&tx, x0, step, size, 0, cols, 0, mem);
    taps_build(&ty, y0, step, size, 0, img_h, r0, mem + tb);
    /* Vertical pass first, over only the columns the horizontal taps read,
     * along contiguous bytes; the horizontal pass then has `size` rows of
     * floats to reduce. tmp: (size, c1 - c0, 3). */
    int c0 = tx.first[0], c1 = tx.first[size - 1] + tx.count[size - 1];
    size_t cw = (size_t)(c1 - c0) * 3;
    float *tmp = zs_xmalloc(sizeof(float) * cw * (size_t)size);
    for (int o = 0; o < size; o++) {
        const float *w = ty.w + (size_t)o * ty.per;
        const uint8_t *restrict s = src + (size_t)(r0 - row0 + ty.first[o]) * stride + (size_t)c0 * 3;
        float *restrict t = tmp + (size_t)o * cw, w0 = w[0];
        for (size_t i = 0; i < cw; i++) t[i] = w0 * s[i];
        for (int k = 1, n = ty.count[o]; k < n; k++) {
            const uint8_t *restrict sk = s + (size_t)k * stride;
            float wk = w[k];
            for (size_t i = 0; i < cw; i++) t[i] += wk * sk[i];
        }
    }
    for (int oy = 0; oy < size; oy++) {
        const float *t = tmp + (size_t)oy * cw;
        uint8_t *d = out + (size_t)oy * size * 3;
        for (int o = 0; o < size; o++) {
            const float *p = t + (size_t)(tx.first[o] - c0) * 3;
            const float *w = tx.w + (size_t)o * tx.per;
            float a[3] = {0, 0, 0};
            for (int k = 0, n = tx.count[o]; k < n; k++, p += 3) {
                float wk = w[k];
                a[0] += wk * p[0];
                a[1] += wk * p[1];
                a[2] += wk * p[2];
            }
            for (int c = 0; c < 3; c++) {
                float v = a[c] + 0.5f;
                d[3 * o + c] = v > 0 ? (v < 255 ? (uint8_t)v : 255) : 0;   /* NaN -> 0 */
            }
        }
    }
    free(tmp);
    free(mem);
}

static void crop_geometry(zs_crop crop, int w, int h, double *x0, double *y0, double *side)
{
    *side = (double)crop.side * w;
    *x0 = (double)crop.cx * w - *side / 2;
    *y0 = (double)crop.cy * h - *side / 2;
}

static int crop_ok(zs_crop c)
{
    return isfinite(c.cx) && isfinite(c.cy) && isfinite(c.side) && c.side > 0 && c.side < 64 && fabsf(c.cx) < 64 &&
           fabsf(c.cy) < 64;
}

zs_status zs_image_crop_resize(const zs_image *src, zs_crop crop, int size, uint8_t *out)
{
    ZS_ASSERT(src && src->rgb && src->w > 0 && src->h > 0 && size > 0 && size <= 4096 && out);
    if (!crop_ok(crop))
        return zs_errorf(ZS_ERR_ARG, "crop (%g, %g, side %g) is not a finite square inside reach of the image",
                         crop.cx, crop.cy, crop.side);
    double x0, y0, side;
    crop_geometry(crop, src->w, src->h, &x0, &y0, &side);
    int r0, r1;
    zs_crop_rows(y0, side, src->h, &r0, &r1);
    size_t stride = (size_t)src->w * 3;
    zs_area_resize(src->rgb + (size_t)r0 * stride, src->w, r1 - r0, stride, r0, src->h, x0, y0, side, size, out);
    return ZS_OK;
}

/* ---- fast face path ------------------------------------------------------------------ */
/* Decodes only what the crop needs at a reduced DCT scale. Returns ZS_OK
 * with *general = 1 for files it leaves to the general path. */
static zs_status face_jpeg(const char *name, const uint8_t *data, size_t len, zs_crop crop, int size, uint8_t *out,
                           int *general, int *src_w, int *src_h)
{
    struct jpeg_decompress_struct ci;
    jerr e;
    uint8_t *volatile rows = NULL;
    *general = 0;
    if (setjmp(e.jb)) {
        jpeg_destroy_decompress(&ci);
        free(rows);
        return zs_errorf(ZS_ERR_FORMAT, "%s: %s", name, e.msg);
    }
    jdec_init(&ci, &e, data, len, ZS_IMAGE_MAX_PIXELS);
    jpeg_read_header(&ci, TRUE);
    zs_status st = check_pixels(name, ci.image_width, ci.image_height, ZS_IMAGE_MAX_PIXELS);
    if (st != ZS_OK || exif_orientation(&ci) != 1 || ci.jpeg_color_space == JCS_CMYK ||
        ci.jpeg_color_space == JCS_YCCK) {
        jpeg_destroy_decompress(&ci);
        *general = st == ZS_OK;
        return st;
    }
    int W = (int)ci.image_width, H = (int)ci.image_height;
    *src_w = W;
    *src_h = H;
    double x0, y0, side;
    crop_geometry(crop, W, H, &x0, &y0, &side);
    /* Smallest DCT scale 1/d (d = 8, 4, 2, 1) keeping >= size pixels across
     * the crop. Scaled pixel k covers source [k*d, (k+1)*d) exactly. */
    int d = 8;
    while (d > 1 && side / d < size) d /= 2;
    ci.scale_num = 1;
    ci.scale_denom = (unsigned)d;
    ci.out_color_space = JCS_RGB;
    jpeg_start_decompress(&ci);
    int ow = (int)ci.output_width, oh = (int)ci.output_height;
    x0 /= d, y0 /= d, side /= d;
    int r0, r1;
    zs_crop_rows(y0, side, oh, &r0, &r1);
    size_t stride = (size_t)ow * 3;
    rows = zs_xmalloc(stride * (size_t)(r1 - r0 + 1));   /* + 1 scratch row */
    if (r0 > 0) jpeg_skip_scanlines(&ci, (JDIMENSION)r0);
    while ((int)ci.output_scanline < r1) {
        JSAMPROW r = rows + (size_t)((int)ci.output_scanline - r0) * stride;
        jpeg_read_scanlines(&ci, &r, 1);
    }
    /* A file that does not end with EOI may be truncated below the crop:
     * decode to the end so libjpeg can tell. Otherwise stop here. */
    int complete = len >= 4 && data[len - 2] == 0xFF && data[len - 1] == 0xD9;
    if (!complete || r1 == oh) {
        while (ci.output_scanline < ci.output_height) {
            JSAMPROW r = rows + (size_t)(r1 - r0) * stride;
            jpeg_read_scanlines(&ci, &r, 1);
        }
        jpeg_finish_decompress(&ci);
    }
    jpeg_destroy_decompress(&ci);
    zs_area_resize(rows, ow, r1 - r0, stride, r0, oh, x0, y0, side, size, out);
    free(rows);
    return ZS_OK;
}

zs_status zs_face_decode_mem(const char *name, const uint8_t *data, size_t len, zs_crop crop, int size, uint8_t *out,
                             int *src_w, int *src_h)
{
    ZS_ASSERT(name && (data || len == 0) && size > 0 && size <= 4096 && out);
    int w = 0, h = 0;
    zs_status st = ZS_OK;
    int general = 1;
    if (!crop_ok(crop)) {
        st = zs_errorf(ZS_ERR_ARG, "%s: crop (%g, %g, side %g) is not a usable square", name, crop.cx, crop.cy,
                       crop.side);
        general = 0;
    } else if (len >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) {
        st = face_jpeg(name, data, len, crop, size, out, &general, &w, &h);
    }
    if (st == ZS_OK && general) {
        zs_image img;
        st = zs_image_load_mem(&img, name, data, len);
        if (st == ZS_OK) {
            w = img.w;
            h = img.h;
            st = zs_image_crop_resize(&img, crop, size, out);
            zs_image_free(&img);
        }
    }
    if (src_w) *src_w = st == ZS_OK ? w : 0;
    if (src_h) *src_h = st == ZS_OK ? h : 0;
    return st;
}

zs_status zs_face_load_mem(const char *name, const uint8_t *data, size_t len, zs_crop crop, int size, uint8_t *out)
{
    return zs_face_decode_mem(name, data, len, crop, size, out, NULL, NULL);
}

zs_status zs_face_decode(const char *path, zs_crop crop, int size, uint8_t *out, int *src_w, int *src_h)
{
    uint8_t *data;
    size_t len;
    zs_status st = zs_read_file(path, &data, &len, ZS_IMAGE_MAX_FILE_BYTES);
    if (st != ZS_OK) {
        if (src_w) *src_w = 0;
        if (src_h) *src_h = 0;
        return st;
    }
    st = zs_face_decode_mem(path, data, len, crop, size, out, src_w, src_h);
    free(data);
    return st;
}

zs_status zs_face_load(const char *path, zs_crop crop, int size, uint8_t *out)
{
    return zs_face_decode(path, crop, size, out, NULL, NULL);
}

/* ---- float conversion ------------------------------------------------------------------ */
/* value/255 in float, exactly what PyTorch's ToTensor computes. */
#define D1(i) ((float)(i) / 255.0f)
#define D4(i) D1(i), D1(i + 1), D1(i + 2), D1(i + 3)
#define D16(i) D4(i), D4(i + 4), D4(i + 8), D4(i + 12)
#define D64(i) D16(i), D16(i + 16), D16(i + 32), D16(i + 48)
static const float u8_to_f[256] = {D64(0), D64(64), D64(128), D64(192)};

void zs_face_to_chw(const uint8_t *hwc, int size, float *chw, int flip)
{
    size_t plane = (size_t)size * size;
    float *r = chw, *g = chw + plane, *b = chw + 2 * plane;
    for (int y = 0; y < size; y++) {
        const uint8_t *row = hwc + (size_t)y * size * 3;
        size_t o = (size_t)y * size;
        for (int x = 0; x < size; x++) {
            const uint8_t *p = row + (size_t)(flip ? size - 1 - x : x) * 3;
            r[o + x] = u8_to_f[p[0]];
            g[o + x] = u8_to_f[p[1]];
            b[o + x] = u8_to_f[p[2]];
        }
    }
}

static inline uint8_t to_u8(float v)
{
    float t = v * 255.0f + 0.5f;
    if (!(t > 0)) return 0;   /* also NaN */
    return t >= 255 ? 255 : (uint8_t)t;
}

void zs_face_from_chw(const float *chw, int size, uint8_t *hwc)
{
    size_t plane = (size_t)size * size;
    for (size_t i = 0; i < plane; i++) {
        hwc[3 * i] = to_u8(chw[i]);
        hwc[3 * i + 1] = to_u8(chw[plane + i]);
        hwc[3 * i + 2] = to_u8(chw[2 * plane + i]);
    }
}
