/* zspace prepare: join a CelebA directory's annotations with its images,
 * print what matched, and decode the faces into a face cache (.zsf). */
#include "cli.h"
#include "zspace/data.h"

#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: zspace prepare --celeba DIR --out FILE [--size 64] [--threads N] [--limit N]\n"
            "                      [--split train|val|test|all]\n\n"
            "Decodes the CelebA faces of DIR (official .txt or Kaggle .csv annotations; images in\n"
            "img_align_celeba/) into the face cache FILE: the 148-pixel square crop around the face,\n"
            "area-resized to SIZE x SIZE (64 or 128).\n\n"
            "  --celeba DIR     the CelebA directory\n"
            "  --out FILE       the cache to write (replaced atomically)\n"
            "  --size N         face side in pixels (default 64)\n"
            "  --threads N      decoding threads (default: all cores)\n"
            "  --limit N        only the first N faces by id (default: all)\n"
            "  --split NAME     train, val, test or all (default all)\n");
}

static void on_progress(void *user, int done, int total)
{
    (void)total;
    zs_progress_update(user, (size_t)done, NULL);
}

static int parse_split(const char *s, zs_data_split *out)
{
    for (int i = 0; i <= ZS_SPLIT_ALL; i++)
        if (strcmp(s, zs_split_name((zs_data_split)i)) == 0) {
            *out = (zs_data_split)i;
            return 1;
        }
    return 0;
}

int zs_cmd_prepare(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL, *split_name = "all";
    long size = 64, threads = 0, limit = 0;
    int bad = 0;
    for (int i = 1; i < argc && !bad; i++) {
        if (zs_arg_flag(argv, i, "--help") || zs_arg_flag(argv, i, "-h")) {
            usage(stdout);
            return 0;
        }
        if (zs_arg_str(argc, argv, &i, "--celeba", &dir, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--out", &out, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--size", &size, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--threads", &threads, &bad)) continue;
        if (zs_arg_int(argc, argv, &i, "--limit", &limit, &bad)) continue;
        if (zs_arg_str(argc, argv, &i, "--split", &split_name, &bad)) continue;
        fprintf(stderr, "zspace prepare: unknown option '%s'\n", argv[i]);
        bad = 1;
    }
    zs_data_split split = ZS_SPLIT_ALL;
    if (!bad && (!dir || !out)) {
        fprintf(stderr, "zspace prepare: %s is required\n", !dir ? "--celeba DIR" : "--out FILE");
        bad = 1;
    }
    if (!bad && !parse_split(split_name, &split)) {
        fprintf(stderr, "zspace prepare: --split: '%s' is not train, val, test or all\n", split_name);
        bad = 1;
    }
    if (!bad && size != 64 && size != 128) {
        fprintf(stderr, "zspace prepare: --size: %ld is not 64 or 128\n", size);
        bad = 1;
    }
    if (!bad && (threads < 0 || threads > 64)) {
        fprintf(stderr, "zspace prepare: --threads: %ld is not in 0..64\n", threads);
        bad = 1;
    }
    if (!bad && (limit < 0 || limit > 1000000000)) {
        fprintf(stderr, "zspace prepare: --limit: %ld is not a count of faces\n", limit);
        bad = 1;
    }
    if (bad) {
        usage(stderr);
        return 2;
    }

    double t0 = zs_now();
    zs_index ix;
    if (zs_index_open(&ix, dir) != ZS_OK) {
        fprintf(stderr, "zspace prepare: %s\n", zs_last_error());
        return 1;
    }
    printf("celeba %s (indexed in %.2f s)\n", ix.dir, zs_now() - t0);
    printf("  attributes   %s: %d rows\n", ix.attr_path, ix.attr_rows);
    printf("  partition    %s: %d rows\n", ix.part_path, ix.part_rows);
    printf("  images       %s: %d files\n", ix.img_dir, ix.images);
    printf("  joined       %d faces: train %d, val %d, test %d\n", ix.n, ix.split_count[0], ix.split_count[1],
           ix.split_count[2]);
    printf("  rows without image       %d\n", ix.rows_without_image);
    printf("  images without row       %d\n", ix.images_without_row);
    if (ix.rows_without_partition)
        printf("  rows without partition   %d (left out)\n", ix.rows_without_partition);

    int avail = split == ZS_SPLIT_ALL ? ix.n : ix.split_count[split];
    int todo = limit > 0 && limit < avail ? (int)limit : avail;
    int nthreads = threads > 0 ? (int)threads : zs_cpu_count();
    printf("preparing %d faces (%s%s) at %ldx%ld on %d threads -> %s\n", todo, zs_split_name(split),
           split == ZS_SPLIT_ALL ? " splits" : " split", size, size, nthreads, out);
    fflush(stdout);

    zs_progress prog;
    zs_progress_start(&prog, "prepare", (size_t)todo);
    zs_prepare_report rep;
    zs_prepare_desc desc = {
        .size = (int)size,
        .threads = nthreads,
        .limit = (int)limit,
        .split_mask = split == ZS_SPLIT_ALL ? 0 : 1u << split,
        .progress = on_progress,
        .user = &prog,
    };
    zs_status st = zs_cache_build(&ix, out, &desc, &rep);
    if (st == ZS_OK || rep.total > 0) zs_progress_end(&prog, (size_t)rep.total, NULL);
    for (int i = 0; i < rep.nmsg; i++) fprintf(stderr, "zspace prepare: skipped %s\n", rep.msg[i]);
    if (rep.bad > rep.nmsg) fprintf(stderr, "zspace prepare: ... and %d more bad images\n", rep.bad - rep.nmsg);
    zs_index_free(&ix);
    if (st != ZS_OK) {
        fprintf(stderr, "zspace prepare: %s\n", zs_last_error());
        return 1;
    }
    printf("decoding %.2f s, writing and syncing %.2f s\n", rep.decode_seconds, rep.seconds - rep.decode_seconds);
    printf("wrote %d faces, %d bad images, %.2f s, %.0f faces/s, %llu bytes -> %s (hash %016llx)\n", rep.written,
           rep.bad, rep.seconds, rep.seconds > 0 ? rep.total / rep.seconds : 0.0, (unsigned long long)rep.bytes, out,
           (unsigned long long)rep.hash);
    return 0;
}
