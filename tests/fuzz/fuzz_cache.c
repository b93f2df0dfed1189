/* libFuzzer target: face caches (.zsf; tests/fuzz/README.md).
 *
 * The bytes are a face cache a user might pass to --data or open as a
 * gallery. zs_cache_open reads the 4 KB header, checks it against the
 * file's size, maps the file and checks the metadata; then every accessor
 * is run over every face (ids found again by binary search, attribute and
 * partition values in range, each face's pixels read), the splits must
 * partition the faces, and zs_cache_verify recomputes the content hash.
 * The loader's reads (zs_cache_read_face, zs_cache_check_file) must agree
 * with the mapping. A refusal must leave a message naming the file. Inputs of odd length get
 * their metadata and header CRCs rewritten to match (the 3-face seeds are
 * odd, the 2-face ones even), so that mutations also reach the field checks
 * behind the checksums. */
#include "fuzz_util.h"
#include "data/data_impl.h"   /* zs_cache_layout_of */


static void fix_crcs(uint8_t *b, size_t n)
{
    if (n < ZS_CACHE_HEADER_BYTES) return;
    uint32_t size = zs_get_u32(b + 20);
    if (size <= 1024) {
        zs_cache_layout L = zs_cache_layout_of(zs_get_u32(b + 16), (int)size);
        if (L.ids < n) zs_put_u32(b + 52, zs_crc32(0, b + L.ids, n - (size_t)L.ids));
    }
    zs_put_u32(b + 4092, zs_crc32(0, b, 4092));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    zs_log_set_level(ZS_LOG_ERROR);
    uint8_t *buf = malloc(size + 1);
    FUZZ_REQUIRE(buf);
    memcpy(buf, data, size);
    if (size % 2) fix_crcs(buf, size);
    const char *path = fuzz_as_file(buf, size);
    free(buf);

    zs_cache *c;
    if (zs_cache_open(&c, path) != ZS_OK) {
        fuzz_require_named(path);
        return 0;
    }
    int n = zs_cache_count(c), S = zs_cache_size(c);
    FUZZ_REQUIRE(n > 0 && S >= 8 && S <= 1024);
    zs_cache_layout L = zs_cache_layout_of((uint64_t)n, S);
    FUZZ_REQUIRE(L.file_bytes == size);
    unsigned sum = 0;
    for (int i = 0; i < n; i++) {
        const char *id = zs_cache_id(c, i);
        FUZZ_REQUIRE(id[0] && memchr(id, 0, ZS_ID_BYTES));
        FUZZ_REQUIRE(zs_cache_find(c, id) == i);
        const int8_t *a = zs_cache_attrs(c, i);
        for (int k = 0; k < ZS_NATTR; k++) FUZZ_REQUIRE(a[k] == 1 || a[k] == -1);
        FUZZ_REQUIRE(zs_cache_partition(c, i) >= 0 && zs_cache_partition(c, i) <= 2);
        const uint8_t *px = zs_cache_pixels(c, i);
        for (size_t k = 0; k < L.face_bytes; k++) sum += px[k];
        /* the loader's read, through the descriptor, sees the same bytes */
        uint8_t *face = malloc((size_t)L.face_bytes);
        FUZZ_REQUIRE(face && zs_cache_read_face(c, i, face) == ZS_OK && memcmp(face, px, (size_t)L.face_bytes) == 0);
        free(face);
    }
    FUZZ_REQUIRE(zs_cache_check_file(c) == ZS_OK);   /* (a memfd counts as deleted: no such check) */
    int total = 0;
    for (int s = ZS_SPLIT_TRAIN; s <= ZS_SPLIT_TEST; s++) {
        int *idx;
        int k = zs_cache_split_indices(c, (zs_data_split)s, &idx);
        FUZZ_REQUIRE(k >= 0 && k <= n);
        for (int j = 0; j < k; j++) FUZZ_REQUIRE(zs_cache_partition(c, idx[j]) == s && (j == 0 || idx[j] > idx[j - 1]));
        total += k;
        free(idx);
    }
    FUZZ_REQUIRE(total == n);
    if (zs_cache_verify(c) != ZS_OK) fuzz_require_named(path);
    zs_cache_close(c);
    (void)sum;
    return 0;
}
