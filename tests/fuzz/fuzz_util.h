/* Shared by the file-format fuzz targets (fuzz_ckpt, fuzz_cache,
 * fuzz_session): a check that aborts with the last error, and the input put
 * where a path can reach it (a memfd, /proc/self/fd/N), so the real
 * open-by-path entry points are the ones fuzzed. */
#ifndef ZS_FUZZ_UTIL_H
#define ZS_FUZZ_UTIL_H

#include "zspace/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FUZZ_REQUIRE(c)                                                                             \
    do {                                                                                            \
        if (!(c)) {                                                                                 \
            fprintf(stderr, "%s: check failed: %s (line %d); last error: %s\n", __FILE__, #c, __LINE__, \
                    zs_last_error());                                                               \
            abort();                                                                                \
        }                                                                                           \
    } while (0)

/* The bytes as a file; returns its path (valid until the next call). */
static inline const char *fuzz_as_file(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("zs_fuzz", MFD_CLOEXEC);
        FUZZ_REQUIRE(fd >= 0);
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    FUZZ_REQUIRE(ftruncate(fd, 0) == 0);
    size_t off = 0;
    while (off < size) {
        ssize_t k = pwrite(fd, data + off, size - off, (off_t)off);
        FUZZ_REQUIRE(k > 0);
        off += (size_t)k;
    }
    return path;
}

/* A failure's message must name the file it is about. */
static inline void fuzz_require_named(const char *path)
{
    if (!strstr(zs_last_error(), path)) {
        fprintf(stderr, "message does not name %s: %s\n", path, zs_last_error());
        abort();
    }
}

#endif
