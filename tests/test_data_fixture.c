/* Fixtures for the data tests (see test_data_fixture.h). */
#include "test_data_fixture.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>

#include "testutil.h"
#include "zspace/core.h"

uint8_t *fx_picture(int w, int h, int seed)
{
    uint8_t *p = zs_xmalloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *q = p + ((size_t)y * w + x) * 3;
            int edge = ((x + seed * 7) / 23 + (y + seed * 3) / 31) & 1;   /* blocky hard edges */
            uint64_t r = zs_rand64((uint64_t)seed, (uint64_t)y * 100003u + (uint64_t)x);
            int noise = (int)(r % 17) - 8;
            int R = 40 + (x * 160) / (w > 1 ? w - 1 : 1) + (edge ? 30 : 0) + noise;
            int G = 30 + (y * 170) / (h > 1 ? h - 1 : 1) - (edge ? 25 : 0) + noise;
            int B = 128 + ((x + y + seed * 11) % 64) - 32 + noise;
            q[0] = (uint8_t)(R < 0 ? 0 : R > 255 ? 255 : R);
            q[1] = (uint8_t)(G < 0 ? 0 : G > 255 ? 255 : G);
            q[2] = (uint8_t)(B < 0 ? 0 : B > 255 ? 255 : B);
        }
    return p;
}

static uint8_t *jpeg_encode(const uint8_t *rgb, int w, int h, int components, int quality, int progressive,
                            int orientation, size_t *len)
{
    struct jpeg_compress_struct cc;
    struct jpeg_error_mgr jerr;
    cc.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&cc);
    unsigned char *mem = NULL;
    unsigned long mlen = 0;
    jpeg_mem_dest(&cc, &mem, &mlen);
    cc.image_width = (JDIMENSION)w;
    cc.image_height = (JDIMENSION)h;
    int inc = components == 1 ? 1 : components >= 4 ? 4 : 3;
    cc.input_components = inc;
    cc.in_color_space = inc == 1 ? JCS_GRAYSCALE : inc == 4 ? JCS_CMYK : JCS_RGB;
    jpeg_set_defaults(&cc);
    if (components == 5) jpeg_set_colorspace(&cc, JCS_YCCK);
    jpeg_set_quality(&cc, quality, TRUE);
    if (quality >= 90) cc.comp_info[0].h_samp_factor = cc.comp_info[0].v_samp_factor = 1;
    if (progressive) jpeg_simple_progression(&cc);
    jpeg_start_compress(&cc, TRUE);
    if (orientation) {
        uint8_t ex[6 + 8 + 2 + 12 + 4] = {'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0, 0,
                                          1, 0,                                     /* one entry */
                                          0x12, 0x01, 3, 0, 1, 0, 0, 0, (uint8_t)orientation, 0, 0, 0,
                                          0, 0, 0, 0};
        jpeg_write_marker(&cc, JPEG_APP0 + 1, ex, sizeof ex);
    }
    uint8_t *row = zs_xmalloc((size_t)w * 4);
    while (cc.next_scanline < cc.image_height) {
        const uint8_t *s = rgb + (size_t)cc.next_scanline * w * 3;
        for (int x = 0; x < w; x++) {
            if (inc == 1) row[x] = (uint8_t)((s[3 * x] * 299 + s[3 * x + 1] * 587 + s[3 * x + 2] * 114 + 500) / 1000);
            else if (inc == 3) memcpy(row + 3 * x, s + 3 * x, 3);
            else {   /* Adobe CMYK stores 255 - ink: C = 255 - R etc. and K = 0 become R, G, B, 255 */
                memcpy(row + 4 * x, s + 3 * x, 3);
                row[4 * x + 3] = 255;
            }
        }
        JSAMPROW r = row;
        jpeg_write_scanlines(&cc, &r, 1);
    }
    free(row);
    jpeg_finish_compress(&cc);
    jpeg_destroy_compress(&cc);
    uint8_t *out = zs_xmalloc(mlen);
    memcpy(out, mem, mlen);
    free(mem);
    *len = mlen;
    return out;
}

uint8_t *fx_jpeg(const uint8_t *rgb, int w, int h, int components, int quality, int progressive, size_t *len)
{
    return jpeg_encode(rgb, w, h, components, quality, progressive, 0, len);
}

uint8_t *fx_jpeg_exif(const uint8_t *rgb, int w, int h, int orientation, size_t *len)
{
    return jpeg_encode(rgb, w, h, 3, 95, 0, orientation, len);
}

typedef struct membuf { uint8_t *p; size_t n, cap; } membuf;
static void png_mem_write(png_structp png, png_bytep data, png_size_t n)
{
    membuf *m = png_get_io_ptr(png);
    if (m->n + n > m->cap) {
        m->cap = (m->n + n) * 2;
        m->p = zs_xrealloc(m->p, m->cap);
    }
    memcpy(m->p + m->n, data, n);
    m->n += n;
}
static void png_mem_flush(png_structp png) { (void)png; }

uint8_t *fx_png(const uint8_t *rgb, int w, int h, const char *kind, size_t *len)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    membuf m = {0};
    png_set_write_fn(png, &m, png_mem_write, png_mem_flush);
    int ct, depth = 8, ch;
    if (!strcmp(kind, "rgb8")) ct = PNG_COLOR_TYPE_RGB, ch = 3;
    else if (!strcmp(kind, "rgb16")) ct = PNG_COLOR_TYPE_RGB, ch = 3, depth = 16;
    else if (!strcmp(kind, "gray8")) ct = PNG_COLOR_TYPE_GRAY, ch = 1;
    else if (!strcmp(kind, "gray16")) ct = PNG_COLOR_TYPE_GRAY, ch = 1, depth = 16;
    else if (!strcmp(kind, "rgba8")) ct = PNG_COLOR_TYPE_RGB_ALPHA, ch = 4;
    else if (!strcmp(kind, "palette8")) ct = PNG_COLOR_TYPE_PALETTE, ch = 1;
    else abort();
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, ct, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (ct == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[256];
        for (int i = 0; i < 256; i++) {
            pal[i].red = (png_byte)(((i >> 5) & 7) * 255 / 7);
            pal[i].green = (png_byte)(((i >> 2) & 7) * 255 / 7);
            pal[i].blue = (png_byte)((i & 3) * 255 / 3);
        }
        png_set_PLTE(png, info, pal, 256);
    }
    png_write_info(png, info);
    size_t bps = (size_t)depth / 8;
    uint8_t *row = zs_xmalloc((size_t)w * ch * bps);
    for (int y = 0; y < h; y++) {
        const uint8_t *s = rgb + (size_t)y * w * 3;
        for (int x = 0; x < w; x++) {
            unsigned v[4];
            const uint8_t *p = s + 3 * x;
            if (ch == 1 && ct == PNG_COLOR_TYPE_GRAY) v[0] = (p[0] * 299u + p[1] * 587u + p[2] * 114u + 500) / 1000;
            else if (ct == PNG_COLOR_TYPE_PALETTE)
                v[0] = (unsigned)(((p[0] * 7 + 127) / 255) << 5 | ((p[1] * 7 + 127) / 255) << 2 |
                                  ((p[2] * 3 + 127) / 255));
            else {
                v[0] = p[0], v[1] = p[1], v[2] = p[2];
                v[3] = (unsigned)(w > 1 ? x * 255 / (w - 1) : 255);
            }
            for (int c = 0; c < ch; c++) {
                if (bps == 1) row[(size_t)x * ch + c] = (uint8_t)v[c];
                else {   /* big-endian 16-bit sample v * 257 */
                    row[((size_t)x * ch + c) * 2] = (uint8_t)v[c];
                    row[((size_t)x * ch + c) * 2 + 1] = (uint8_t)v[c];
                }
            }
        }
        png_write_row(png, row);
    }
    free(row);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    *len = m.n;
    return m.p;
}

int fx_write(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, len, f);
    return (fclose(f) != 0 || w != len) ? -1 : 0;
}

char *fx_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = zs_xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

int fx_mkdirs(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
            *p = '/';
        }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

int fx_attr_value(int id, int a) { return (id * 7 + a * 3) % 5 < 2 ? 1 : -1; }
int fx_partition_of(int id) { return id % 10 == 0 ? 1 : id % 10 == 5 ? 2 : 0; }

int fx_make_celeba(const char *root, const fx_celeba *c)
{
    if (fx_mkdirs(root) != 0) return -1;
    char *img_dir = fx_path(root, c->nested ? "img_align_celeba/img_align_celeba" : "img_align_celeba");
    if (fx_mkdirs(img_dir) != 0) return -1;
    /* annotations */
    size_t cap = (size_t)(c->rows + 2) * 400 + 4096;
    char *a = zs_xmalloc(cap), *p = zs_xmalloc(cap);
    size_t an = 0, pn = 0;
    if (c->csv) {
        an += (size_t)snprintf(a + an, cap - an, "image_id");
        for (int k = 0; k < ZS_NATTR; k++) an += (size_t)snprintf(a + an, cap - an, ",%s", zs_attr_names[k]);
        an += (size_t)snprintf(a + an, cap - an, "\r\n");
        pn += (size_t)snprintf(p + pn, cap - pn, "image_id,partition\r\n");
    } else {
        an += (size_t)snprintf(a + an, cap - an, "%d\r\n", c->rows);
        for (int k = 0; k < ZS_NATTR; k++) an += (size_t)snprintf(a + an, cap - an, "%s ", zs_attr_names[k]);
        an += (size_t)snprintf(a + an, cap - an, "\r\n");
    }
    for (int id = 1; id <= c->rows; id++) {
        an += (size_t)snprintf(a + an, cap - an, c->csv ? "%06d.jpg" : "%06d.jpg ", id);
        for (int k = 0; k < ZS_NATTR; k++)
            an += (size_t)snprintf(a + an, cap - an, c->csv ? ",%d" : " %2d",
                                   c->attr ? (c->attr(id, k) > 0 ? 1 : -1) : fx_attr_value(id, k));
        an += (size_t)snprintf(a + an, cap - an, "\r\n");
        pn += (size_t)snprintf(p + pn, cap - pn, c->csv ? "%06d.jpg,%d\r\n" : "%06d.jpg %d\r\n", id,
                               c->partition ? c->partition(id) : fx_partition_of(id));
    }
    char *ap = fx_path(root, c->csv ? "list_attr_celeba.csv" : "list_attr_celeba.txt");
    char *pp = fx_path(root, c->csv ? "list_eval_partition.csv" : "list_eval_partition.txt");
    int rc = fx_write(ap, a, an) | fx_write(pp, p, pn);
    free(ap);
    free(pp);
    free(a);
    free(p);
    /* images */
    int w = c->img_size_w ? c->img_size_w : 178, h = c->img_size_h ? c->img_size_h : 218;
    for (int i = 0; i < c->n_images && rc == 0; i++) {
        uint8_t *pic;
        if (c->picture) c->picture(c->images[i], w, h, pic = zs_xmalloc((size_t)w * h * 3));
        else pic = fx_picture(w, h, c->images[i]);
        size_t len;
        uint8_t *jpg = fx_jpeg(pic, w, h, 3, c->quality ? c->quality : 85, 0, &len);
        char name[32];
        snprintf(name, sizeof name, "%06d.jpg", c->images[i]);
        char *path = fx_path(img_dir, name);
        rc |= fx_write(path, jpg, len);
        free(path);
        free(jpg);
        free(pic);
    }
    free(img_dir);
    return rc;
}

int fx_make_celeba_cache(const char *root, const fx_celeba *c, const char *cache_path, zs_cache **out)
{
    if (fx_make_celeba(root, c) != 0) return -1;
    zs_index ix;
    if (zs_index_open(&ix, root) != ZS_OK) {
        fprintf(stderr, "%s\n", zs_last_error());
        return -1;
    }
    zs_prepare_report rep;
    zs_status st = zs_cache_build(&ix, cache_path, &(zs_prepare_desc){.size = 64, .threads = 2}, &rep);
    zs_index_free(&ix);
    if (st == ZS_OK) st = zs_cache_open(out, cache_path);
    if (st != ZS_OK) fprintf(stderr, "%s\n", zs_last_error());
    return st == ZS_OK ? 0 : -1;
}

int fx_run(const char *cmd, char **output)
{
    char full[8192];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *f = popen(full, "r");
    if (!f) return -1;
    size_t cap = 4096, n = 0;
    char *buf = zs_xmalloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n < 1024) buf = zs_xrealloc(buf, cap *= 2);
    }
    buf[n] = 0;
    int st = pclose(f);
    if (output) *output = buf;
    else free(buf);
    if (st == -1 || !WIFEXITED(st)) return -1;
    return WEXITSTATUS(st);
}

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb, (void)type, (void)ftw;
    return remove(path);
}

void fx_cleanup(void) { nftw(zs_test_tmpdir(), rm_entry, 16, FTW_DEPTH | FTW_PHYS); }
