/* prepare_speed: where the time of `zspace prepare` goes, per image on one
 * thread: reading the file, the general path (full decode + crop_resize)
 * and the fast path (zs_face_load: DCT-scaled, only the crop's rows). With
 * a cache it also times zs_cache_open, zs_cache_verify and the loader.
 *
 *     prepare_speed [--celeba DIR] [--n N] [--cache FILE.zsf]
 *     prepare_speed --open FILE.zsf      (only the open time: first and median of 21)
 */
#include "zspace/data.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int open_only(const char *path)
{
    double t[21];
    for (int i = 0; i < 21; i++) {
        zs_cache *c;
        double t0 = zs_now();
        if (zs_cache_open(&c, path) != ZS_OK) {
            fprintf(stderr, "prepare_speed: %s\n", zs_last_error());
            return 1;
        }
        t[i] = 1e3 * (zs_now() - t0);
        if (i == 0) printf("faces: %d of %dx%d\n", zs_cache_count(c), zs_cache_size(c), zs_cache_size(c));
        zs_cache_close(c);
    }
    printf("open_ms_first: %.3f\n", t[0]);
    qsort(t, 21, sizeof t[0], cmp_double);
    printf("open_ms: %.3f\n", t[10]);
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = "../shared/celeba", *cache_path = NULL;
    int n = 2000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--open") && i + 1 < argc) return open_only(argv[i + 1]);
        if (!strcmp(argv[i], "--celeba") && i + 1 < argc) dir = argv[++i];
        else if (!strcmp(argv[i], "--n") && i + 1 < argc) n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--cache") && i + 1 < argc) cache_path = argv[++i];
        else {
            fprintf(stderr, "usage: prepare_speed [--celeba DIR] [--n N] [--cache FILE.zsf] | --open FILE.zsf\n");
            return 2;
        }
    }
    char img_dir[4096];
    snprintf(img_dir, sizeof img_dir, "%s/img_align_celeba", dir);
    DIR *d = opendir(img_dir);
    if (!d) {
        fprintf(stderr, "prepare_speed: cannot open %s\n", img_dir);
        return 1;
    }
    char **names = NULL;
    int cnt = 0, cap = 0;
    for (struct dirent *de; (de = readdir(d));) {
        if (de->d_name[0] == '.') continue;
        if (cnt == cap) names = zs_xrealloc(names, sizeof *names * (size_t)(cap = cap ? 2 * cap : 1024));
        names[cnt++] = zs_xstrdup(de->d_name);
    }
    closedir(d);
    qsort(names, (size_t)cnt, sizeof *names, cmp_str);
    if (n > cnt) n = cnt;

    uint8_t **data = zs_xmalloc(sizeof *data * (size_t)n);
    size_t *len = zs_xmalloc(sizeof *len * (size_t)n);
    char path[4200];
    double t0 = zs_now();
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", img_dir, names[i]);
        if (zs_read_file(path, &data[i], &len[i], ZS_IMAGE_MAX_FILE_BYTES) != ZS_OK) {
            fprintf(stderr, "prepare_speed: %s\n", zs_last_error());
            return 1;
        }
    }
    double t_read = zs_now() - t0;
    size_t bytes = 0;
    for (int i = 0; i < n; i++) bytes += len[i];
    uint8_t out[64 * 64 * 3], ref[64 * 64 * 3];
    zs_crop crop = zs_crop_celeba();
    double t_full = 1e30, t_fast = 1e30;
    long diff_sum = 0;
    int diff_max = 0;
    for (int rep = 0; rep < 3; rep++) {
        t0 = zs_now();
        for (int i = 0; i < n; i++) {
            zs_image img;
            if (zs_image_load_mem(&img, names[i], data[i], len[i]) != ZS_OK) return 1;
            zs_image_crop_resize(&img, crop, 64, ref);
            zs_image_free(&img);
        }
        double t = zs_now() - t0;
        if (t < t_full) t_full = t;
        t0 = zs_now();
        for (int i = 0; i < n; i++)
            if (zs_face_load_mem(names[i], data[i], len[i], crop, 64, out) != ZS_OK) return 1;
        t = zs_now() - t0;
        if (t < t_fast) t_fast = t;
    }
    for (int i = 0; i < n; i += 10) {   /* how far the fast path strays */
        zs_image img;
        zs_image_load_mem(&img, names[i], data[i], len[i]);
        zs_image_crop_resize(&img, crop, 64, ref);
        zs_image_free(&img);
        zs_face_load_mem(names[i], data[i], len[i], crop, 64, out);
        for (int k = 0; k < 64 * 64 * 3; k++) {
            int dd = abs((int)out[k] - (int)ref[k]);
            diff_sum += dd;
            if (dd > diff_max) diff_max = dd;
        }
    }
    int sampled = (n + 9) / 10;
    printf("images: %d from %s (%.1f KB each on average), one thread\n", n, img_dir, bytes / 1024.0 / n);
    printf("read_us_per_image: %.1f\n", 1e6 * t_read / n);
    printf("full_decode_crop_us_per_image: %.1f\n", 1e6 * t_full / n);
    printf("face_load_us_per_image: %.1f\n", 1e6 * t_fast / n);
    printf("fast_over_full: %.2fx\n", t_full / t_fast);
    printf("fast_vs_full_mean_abs_diff: %.3f  max: %d\n", (double)diff_sum / (sampled * 64.0 * 64 * 3), diff_max);
    for (int i = 0; i < n; i++) free(data[i]);
    free(data);
    free(len);

    if (cache_path) {
        zs_cache *c;
        t0 = zs_now();
        if (zs_cache_open(&c, cache_path) != ZS_OK) {
            fprintf(stderr, "prepare_speed: %s\n", zs_last_error());
            return 1;
        }
        printf("open_ms: %.3f (%d faces)\n", 1e3 * (zs_now() - t0), zs_cache_count(c));
        t0 = zs_now();
        zs_status st = zs_cache_verify(c);
        printf("verify_ms: %.1f (%s)\n", 1e3 * (zs_now() - t0), st == ZS_OK ? "ok" : zs_last_error());
        zs_loader *l;
        if (zs_loader_create(&l, &(zs_loader_desc){.cache = c, .batch = 64, .seed = 1, .flip = 1}) == ZS_OK) {
            int s = zs_cache_size(c);
            float *x = zs_xmalloc(sizeof(float) * 64 * 3 * (size_t)s * (size_t)s);
            int nb = zs_loader_batches_per_epoch(l);
            t0 = zs_now();
            for (int b = 0; b < nb; b++) zs_loader_next(l, x, NULL, NULL);
            double t = zs_now() - t0;
            printf("loader_batches_per_s: %.0f (%.0f images/s, batch 64, flip on)\n", nb / t, nb * 64 / t);
            free(x);
            zs_loader_destroy(l);
        }
        zs_cache_close(c);
    }
    for (int i = 0; i < cnt; i++) free(names[i]);
    free(names);
    return 0;
}
