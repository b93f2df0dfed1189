/* The face cache (.zsf): building it from a joined CelebA index on a thread
 * team, and opening it as a read-only memory map (layout in zspace/data.h).
 *
 * Building. The selected faces get slots in selection order; each member of
 * the team claims a chunk of CHUNK consecutive slots, decodes them with
 * zs_face_load, hashes each face and writes the chunk with one pwrite at its
 * final offset. Images that fail leave a hole; holes are squeezed out at the
 * end (a pass over the faces after the first hole, only when some image
 * failed). Then the metadata and the header go in, and the temporary file
 * is fsync'ed and renamed over the output (zs_atomic_*).
 *
 * Opening reads the 4 KB header, checks every field against the layout
 * implied by (count, size) and the file's real size, maps the file, and
 * checks the metadata (CRC, ids NUL-terminated and sorted, values in range,
 * split counts). Pixels are not touched: pages load when first read.
 * zs_cache_verify recomputes the content hash over everything. The
 * descriptor stays open: the training loader reads faces with pread
 * (zs_cache_read_face) and checks the file's size and mtime every batch
 * (zs_cache_check_file), so a cache truncated under a long training run is
 * an error with a message, where a read through the mapping would be SIGBUS. */
#include "data_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char MAGIC[8] = {'Z', 'S', 'F', 'A', 'C', 'E', 'S', 0x1a};
#define MIN_SIZE 8
#define MAX_SIZE 1024
#define CHUNK 16   /* faces per claim and per pwrite */

/* ---- hashing ------------------------------------------------------------------ */
static inline uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t load64le(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

#define HM1 0x9E3779B185EBCA87ull
#define HM2 0xC2B2AE3D27D4EB4Full

/* Four independent multiply-rotate lanes over 32-byte blocks (so the CPU
 * overlaps them), the tail packed with the length, then folded with the
 * splitmix finaliser. Not cryptographic: it names data, it does not defend
 * against an adversary. */
uint64_t zs_hash_bytes(const void *data, size_t n, uint64_t seed)
{
    const uint8_t *p = data;
    uint64_t l0 = seed ^ 0x243F6A8885A308D3ull, l1 = seed ^ 0x13198A2E03707344ull;
    uint64_t l2 = seed ^ 0xA4093822299F31D0ull, l3 = seed ^ 0x082EFA98EC4E6C89ull;
    size_t left = n;
    while (left >= 32) {
        l0 = rotl64(l0 + load64le(p) * HM2, 31) * HM1;
        l1 = rotl64(l1 + load64le(p + 8) * HM2, 31) * HM1;
        l2 = rotl64(l2 + load64le(p + 16) * HM2, 31) * HM1;
        l3 = rotl64(l3 + load64le(p + 24) * HM2, 31) * HM1;
        p += 32;
        left -= 32;
    }
    uint64_t h = zs_hash64(l0) ^ rotl64(zs_hash64(l1), 17) ^ rotl64(zs_hash64(l2), 31) ^ rotl64(zs_hash64(l3), 47);
    while (left >= 8) {
        h = zs_hash64(h ^ load64le(p));
        p += 8;
        left -= 8;
    }
    uint64_t tail = 0;
    for (size_t i = 0; i < left; i++) tail |= (uint64_t)p[i] << (8 * i);
    return zs_hash64(h ^ tail ^ zs_hash64((uint64_t)n));
}

zs_cache_layout zs_cache_layout_of(uint64_t count, int size)
{
    zs_cache_layout L;
    L.face_bytes = (uint64_t)size * (uint64_t)size * 3;
    L.pixels = ZS_CACHE_HEADER_BYTES;
    L.ids = L.pixels + count * L.face_bytes;
    L.attrs = L.ids + count * ZS_ID_BYTES;
    L.part = L.attrs + count * ZS_NATTR;
    L.file_bytes = L.part + count;
    return L;
}

/* Layout fields and crop as bytes (the part of the header the hash covers). */
static size_t layout_bytes(const zs_cache_header *h, uint8_t *b)
{
    zs_put_u32(b, h->version);
    zs_put_u32(b + 4, h->count);
    zs_put_u32(b + 8, h->size);
    zs_put_u32(b + 12, 3);
    zs_put_u32(b + 16, ZS_NATTR);
    zs_put_u32(b + 20, ZS_ID_BYTES);
    zs_put_u32(b + 24, h->flags);
    zs_put_f32(b + 28, h->crop.cx);
    zs_put_f32(b + 32, h->crop.cy);
    zs_put_f32(b + 36, h->crop.side);
    return 40;
}

uint64_t zs_cache_content_hash(const zs_cache_header *h, const uint64_t *face_hash, const void *meta,
                               size_t meta_bytes)
{
    uint8_t b[64];
    uint64_t acc = zs_hash_bytes(b, layout_bytes(h, b), 0x7A7366616365730Aull);
    for (uint32_t i = 0; i < h->count; i++) acc = zs_hash64(acc ^ face_hash[i]);   /* order matters */
    return zs_hash64(acc ^ zs_hash_bytes(meta, meta_bytes, acc));
}

void zs_cache_header_encode(const zs_cache_header *h, uint8_t *buf)
{
    zs_cache_layout L = zs_cache_layout_of(h->count, (int)h->size);
    memset(buf, 0, ZS_CACHE_HEADER_BYTES);
    memcpy(buf, MAGIC, 8);
    zs_put_u32(buf + 8, h->version);
    zs_put_u32(buf + 12, ZS_CACHE_HEADER_BYTES);
    zs_put_u32(buf + 16, h->count);
    zs_put_u32(buf + 20, h->size);
    zs_put_u32(buf + 24, 3);
    zs_put_u32(buf + 28, ZS_NATTR);
    zs_put_u32(buf + 32, ZS_ID_BYTES);
    zs_put_u32(buf + 36, h->flags);
    zs_put_f32(buf + 40, h->crop.cx);
    zs_put_f32(buf + 44, h->crop.cy);
    zs_put_f32(buf + 48, h->crop.side);
    zs_put_u32(buf + 52, h->meta_crc);
    zs_put_u64(buf + 56, L.pixels);
    zs_put_u64(buf + 64, L.ids);
    zs_put_u64(buf + 72, L.attrs);
    zs_put_u64(buf + 80, L.part);
    zs_put_u64(buf + 88, L.file_bytes);
    zs_put_u64(buf + 96, h->hash);
    for (int s = 0; s < 3; s++) zs_put_u32(buf + 104 + 4 * s, h->split_count[s]);
    zs_put_u32(buf + 116, h->src_w);
    zs_put_u32(buf + 120, h->src_h);
    for (int a = 0; a < ZS_NATTR; a++) memcpy(buf + 128 + 32 * a, zs_attr_names[a], strlen(zs_attr_names[a]));
    zs_put_u32(buf + 4092, zs_crc32(0, buf, 4092));
}

/* ---- the open cache ------------------------------------------------------------------ */
struct zs_cache {
    char *path;
    const uint8_t *map;
    size_t map_bytes;
    int fd;                     /* kept open for zs_cache_read_face */
    struct timespec mtime;      /* at open, for zs_cache_check_file */
    zs_cache_header h;
    zs_cache_layout L;
    const char (*id)[ZS_ID_BYTES];
    const int8_t *attr;
    const uint8_t *part;
};

/* Checks a header buffer; fills *h. `file_bytes` is the real size. */
static zs_status header_check(const char *path, const uint8_t *b, uint64_t file_bytes, zs_cache_header *h)
{
    if (memcmp(b, MAGIC, 8) != 0)
        return zs_errorf(ZS_ERR_FORMAT, "%s: not a zspace face cache (bad magic, expected \"ZSFACES\\x1a\")", path);
    memset(h, 0, sizeof *h);
    h->version = zs_get_u32(b + 8);
    if (h->version != ZS_CACHE_VERSION)
        return zs_errorf(ZS_ERR_VERSION, "%s: face cache version %u, this build reads version %d (run zspace prepare "
                         "again)", path, h->version, ZS_CACHE_VERSION);
    uint32_t crc = zs_crc32(0, b, 4092);
    if (crc != zs_get_u32(b + 4092))
        return zs_errorf(ZS_ERR_FORMAT, "%s: header checksum mismatch (stored %08x, computed %08x): the header is "
                         "corrupt", path, zs_get_u32(b + 4092), crc);
    static const struct { int off; uint32_t want; const char *what; } fixed[] = {
        {12, ZS_CACHE_HEADER_BYTES, "header bytes"}, {24, 3, "channels"}, {28, ZS_NATTR, "attribute count"},
        {32, ZS_ID_BYTES, "id bytes"}, {36, 0, "flags"},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        uint32_t v = zs_get_u32(b + fixed[i].off);
        if (v != fixed[i].want)
            return zs_errorf(ZS_ERR_FORMAT, "%s: header field '%s' is %u, expected %u", path, fixed[i].what, v,
                             fixed[i].want);
    }
    h->count = zs_get_u32(b + 16);
    h->size = zs_get_u32(b + 20);
    h->flags = 0;
    if (h->count == 0 || h->count > INT_MAX)
        return zs_errorf(ZS_ERR_FORMAT, "%s: header says %u faces", path, h->count);
    if (h->size < MIN_SIZE || h->size > MAX_SIZE)
        return zs_errorf(ZS_ERR_FORMAT, "%s: header says faces of %u pixels, expected %d..%d", path, h->size, MIN_SIZE,
                         MAX_SIZE);
    h->crop = (zs_crop){zs_get_f32(b + 40), zs_get_f32(b + 44), zs_get_f32(b + 48)};
    if (!(isfinite(h->crop.cx) && isfinite(h->crop.cy) && isfinite(h->crop.side) && h->crop.side > 0))
        return zs_errorf(ZS_ERR_FORMAT, "%s: header holds an invalid crop", path);
    h->meta_crc = zs_get_u32(b + 52);
    zs_cache_layout L = zs_cache_layout_of(h->count, (int)h->size);
    static const char *const names[] = {"pixels offset", "ids offset", "attributes offset", "partition offset",
                                        "file bytes"};
    const uint64_t want[] = {L.pixels, L.ids, L.attrs, L.part, L.file_bytes};
    for (int i = 0; i < 5; i++) {
        uint64_t v = zs_get_u64(b + 56 + 8 * i);
        if (v != want[i])
            return zs_errorf(ZS_ERR_FORMAT, "%s: header field '%s' is %llu, but %u faces of %ux%u need %llu", path,
                             names[i], (unsigned long long)v, h->count, h->size, h->size, (unsigned long long)want[i]);
    }
    h->hash = zs_get_u64(b + 96);
    for (int s = 0; s < 3; s++) h->split_count[s] = zs_get_u32(b + 104 + 4 * s);
    h->src_w = zs_get_u32(b + 116);
    h->src_h = zs_get_u32(b + 120);
    for (int a = 0; a < ZS_NATTR; a++) {
        const char *n = (const char *)b + 128 + 32 * a;
        if (strncmp(n, zs_attr_names[a], 32) != 0)
            return zs_errorf(ZS_ERR_FORMAT, "%s: header attribute %d is '%.31s', expected '%s'", path, a, n,
                             zs_attr_names[a]);
    }
    if (file_bytes != L.file_bytes)
        return zs_errorf(ZS_ERR_FORMAT, "%s: file is %llu bytes but its header says %llu (%s)", path,
                         (unsigned long long)file_bytes, (unsigned long long)L.file_bytes,
                         file_bytes < L.file_bytes ? "truncated" : "trailing data");
    return ZS_OK;
}

/* The metadata of a mapped cache: CRC, then values. */
static zs_status meta_check(const zs_cache *c)
{
    const zs_cache_header *h = &c->h;
    uint64_t meta_bytes = c->L.file_bytes - c->L.ids;
    uint32_t crc = zs_crc32(0, c->map + c->L.ids, (size_t)meta_bytes);
    if (crc != h->meta_crc)
        return zs_errorf(ZS_ERR_FORMAT, "%s: metadata checksum mismatch (ids, attributes or partition corrupt)",
                         c->path);
    uint32_t split[3] = {0, 0, 0};
    for (uint32_t i = 0; i < h->count; i++) {
        const char *id = c->id[i];
        if (id[0] == 0 || memchr(id, 0, ZS_ID_BYTES) == NULL)
            return zs_errorf(ZS_ERR_FORMAT, "%s: face %u has an empty or unterminated id", c->path, i);
        if (i > 0 && strcmp(c->id[i - 1], id) >= 0)
            return zs_errorf(ZS_ERR_FORMAT, "%s: ids are not sorted at face %u ('%s' after '%s')", c->path, i, id,
                             c->id[i - 1]);
        for (int a = 0; a < ZS_NATTR; a++) {
            int8_t v = c->attr[(size_t)i * ZS_NATTR + a];
            if (v != 1 && v != -1)
                return zs_errorf(ZS_ERR_FORMAT, "%s: face %u (%s) has attribute value %d", c->path, i, id, v);
        }
        if (c->part[i] > 2)
            return zs_errorf(ZS_ERR_FORMAT, "%s: face %u (%s) has partition %u", c->path, i, id, c->part[i]);
        split[c->part[i]]++;
    }
    for (int s = 0; s < 3; s++)
        if (split[s] != h->split_count[s])
            return zs_errorf(ZS_ERR_FORMAT, "%s: header says %u %s faces, the partition column has %u", c->path,
                             h->split_count[s], zs_split_name((zs_data_split)s), split[s]);
    return ZS_OK;
}

zs_status zs_cache_open(zs_cache **out, const char *path)
{
    ZS_ASSERT(out && path);
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return zs_errorf(ZS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return zs_errorf(ZS_ERR_IO, "%s: not a regular file", path);
    }
    uint64_t fbytes = (uint64_t)sb.st_size;
    uint8_t b[ZS_CACHE_HEADER_BYTES];
    size_t want = fbytes < sizeof b ? (size_t)fbytes : sizeof b;
    ssize_t got = pread(fd, b, want, 0);
    if (got != (ssize_t)want) {
        zs_status st = zs_errorf(ZS_ERR_IO, "%s: cannot read the header: %s", path,
                                 got < 0 ? strerror(errno) : "short read");
        close(fd);
        return st;
    }
    if (want < sizeof b) {
        close(fd);
        int magic = want >= 8 && memcmp(b, MAGIC, 8) == 0;
        return zs_errorf(ZS_ERR_FORMAT, "%s: file is %llu bytes, shorter than the %d-byte face cache header (%s)",
                         path, (unsigned long long)fbytes, ZS_CACHE_HEADER_BYTES,
                         magic ? "truncated" : "not a face cache");
    }
    zs_cache_header h;
    zs_status st = header_check(path, b, fbytes, &h);
    if (st != ZS_OK) {
        close(fd);
        return st;
    }
    if (fbytes > SIZE_MAX) {
        close(fd);
        return zs_errorf(ZS_ERR_LIMIT, "%s: too large to map on this system", path);
    }
    void *map = mmap(NULL, (size_t)fbytes, PROT_READ, MAP_SHARED, fd, 0);
    int err = errno;
    if (map == MAP_FAILED) {
        close(fd);
        return zs_errorf(ZS_ERR_IO, "%s: cannot map: %s", path, strerror(err));
    }
    zs_cache *c = zs_xcalloc(1, sizeof *c);
    c->path = zs_xstrdup(path);
    c->map = map;
    c->map_bytes = (size_t)fbytes;
    c->fd = fd;
    c->mtime = sb.st_mtim;
    c->h = h;
    c->L = zs_cache_layout_of(h.count, (int)h.size);
    c->id = (const char(*)[ZS_ID_BYTES])(c->map + c->L.ids);
    c->attr = (const int8_t *)(c->map + c->L.attrs);
    c->part = c->map + c->L.part;
    if ((st = meta_check(c)) != ZS_OK) {
        zs_cache_close(c);
        return st;
    }
    *out = c;
    return ZS_OK;
}

void zs_cache_close(zs_cache *c)
{
    if (!c) return;
    munmap((void *)c->map, c->map_bytes);
    close(c->fd);
    free(c->path);
    free(c);
}

int zs_cache_count(const zs_cache *c) { return (int)c->h.count; }
int zs_cache_size(const zs_cache *c) { return (int)c->h.size; }
zs_crop zs_cache_crop(const zs_cache *c) { return c->h.crop; }
const char *zs_cache_path(const zs_cache *c) { return c->path; }
uint64_t zs_cache_hash(const zs_cache *c) { return c->h.hash; }

const uint8_t *zs_cache_pixels(const zs_cache *c, int i)
{
    ZS_ASSERT(i >= 0 && (uint32_t)i < c->h.count);
    return c->map + c->L.pixels + (uint64_t)i * c->L.face_bytes;
}

const int8_t *zs_cache_attrs(const zs_cache *c, int i)
{
    ZS_ASSERT(i >= 0 && (uint32_t)i < c->h.count);
    return c->attr + (size_t)i * ZS_NATTR;
}

int zs_cache_partition(const zs_cache *c, int i)
{
    ZS_ASSERT(i >= 0 && (uint32_t)i < c->h.count);
    return c->part[i];
}

const char *zs_cache_id(const zs_cache *c, int i)
{
    ZS_ASSERT(i >= 0 && (uint32_t)i < c->h.count);
    return c->id[i];
}

int zs_cache_find(const zs_cache *c, const char *id)
{
    int lo = 0, hi = (int)c->h.count;   /* ids are sorted (checked at open) */
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        int r = strncmp(c->id[mid], id, ZS_ID_BYTES);
        if (r == 0) return mid;
        if (r < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

int zs_cache_split_indices(const zs_cache *c, zs_data_split s, int **out)
{
    ZS_ASSERT(out && s >= ZS_SPLIT_TRAIN && s <= ZS_SPLIT_ALL);
    int n = 0, count = (int)c->h.count;
    int *idx = zs_xmalloc(sizeof(int) * (size_t)count);
    for (int i = 0; i < count; i++)
        if (s == ZS_SPLIT_ALL || c->part[i] == (uint8_t)s) idx[n++] = i;
    *out = idx;
    return n;
}

/* ---- content hash on a team --------------------------------------------------------- */
typedef struct hash_job {
    const uint8_t *pixels;
    uint64_t face_bytes;
    int count;
    uint64_t *face_hash;
} hash_job;

static void hash_faces(void *arg, int tid, int nt)
{
    hash_job *j = arg;
    size_t lo, hi;
    zs_split((size_t)j->count, tid, nt, &lo, &hi);
    for (size_t i = lo; i < hi; i++)
        j->face_hash[i] = zs_hash_bytes(j->pixels + i * j->face_bytes, (size_t)j->face_bytes, 0);
}

zs_status zs_cache_verify(const zs_cache *c)
{
    ZS_ASSERT(c);
    zs_status st = meta_check(c);
    if (st != ZS_OK) return st;
    hash_job j = {c->map + c->L.pixels, c->L.face_bytes, (int)c->h.count, NULL};
    j.face_hash = zs_xmalloc(sizeof(uint64_t) * (size_t)j.count);
    int nt = zs_cpu_count();
    if (nt > 8) nt = 8;
    if (nt > j.count) nt = j.count;
    zs_team *t = zs_team_create(nt);
    zs_team_run(t, hash_faces, &j);
    zs_team_destroy(t);
    uint64_t h = zs_cache_content_hash(&c->h, j.face_hash, c->map + c->L.ids, (size_t)(c->L.file_bytes - c->L.ids));
    free(j.face_hash);
    if (h != c->h.hash)
        return zs_errorf(ZS_ERR_FORMAT, "%s: content hash mismatch (header %016llx, data %016llx): pixels or "
                         "metadata changed since the cache was built", c->path, (unsigned long long)c->h.hash,
                         (unsigned long long)h);
    return ZS_OK;
}

/* ---- building ------------------------------------------------------------------------ */
typedef struct build_job {
    const zs_index *ix;
    const int *sel;             /* index rows, in slot order */
    int total;
    int size;
    zs_crop crop;
    uint64_t face_bytes;
    int fd;                     /* the temporary output file */
    uint64_t *face_hash;        /* (total) */
    uint8_t *ok;                /* (total) 1 if slot i holds a face */
    int next;                   /* next unclaimed slot (atomic) */
    int done;                   /* slots finished (atomic) */
    int stop;                   /* set on an output error (atomic) */
    pthread_mutex_t mu;         /* guards everything below */
    int bad;
    int nmsg;
    int msg_slot[ZS_PREPARE_MAX_MSGS];
    char msg[ZS_PREPARE_MAX_MSGS][320];
    char io_error[1024];
    int src_w, src_h, src_slot;
    const zs_prepare_desc *d;
} build_job;

static int pwrite_all(int fd, const void *buf, size_t n, uint64_t off)
{
    const uint8_t *p = buf;
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

static int pread_all(int fd, void *buf, size_t n, uint64_t off)
{
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

/* ---- reads that survive a file changing under us ------------------------------------ */
zs_status zs_cache_check_file(const zs_cache *c)
{
    struct stat sb;
    if (fstat(c->fd, &sb) != 0) return zs_errorf(ZS_ERR_IO, "%s: cannot stat: %s", c->path, strerror(errno));
    if ((uint64_t)sb.st_size != c->map_bytes)
        return zs_errorf(ZS_ERR_IO, "%s: the file is now %lld bytes, %zu when it was opened: truncated or overwritten "
                         "while in use", c->path, (long long)sb.st_size, c->map_bytes);
    if (sb.st_mtim.tv_sec != c->mtime.tv_sec || sb.st_mtim.tv_nsec != c->mtime.tv_nsec)
        return zs_errorf(ZS_ERR_IO, "%s: the file was modified while in use (its faces may have changed)", c->path);
    return ZS_OK;
}

int zs_cache_file_deleted(const zs_cache *c)
{
    struct stat sb;
    return fstat(c->fd, &sb) == 0 && sb.st_nlink == 0;
}

zs_status zs_cache_read_face(const zs_cache *c, int i, uint8_t *out)
{
    ZS_ASSERT(i >= 0 && (uint32_t)i < c->h.count);
    uint64_t off = c->L.pixels + (uint64_t)i * c->L.face_bytes;
    errno = 0;
    if (pread_all(c->fd, out, (size_t)c->L.face_bytes, off) == 0) return ZS_OK;
    int err = errno;
    if (zs_cache_check_file(c) != ZS_OK) return ZS_ERR_IO;   /* the more telling message */
    return zs_errorf(ZS_ERR_IO, "%s: cannot read face %d: %s", c->path, i, err ? strerror(err) : "unexpected end of file");
}

/* Keeps the messages of the lowest-numbered failed slots, so the report
 * does not depend on thread timing. Called with the mutex held. */
static void keep_msg(build_job *j, int slot, const char *msg)
{
    int pos = j->nmsg;
    if (pos == ZS_PREPARE_MAX_MSGS) {
        if (slot > j->msg_slot[pos - 1]) return;
        pos--;
    } else {
        j->nmsg++;
    }
    while (pos > 0 && j->msg_slot[pos - 1] > slot) {
        j->msg_slot[pos] = j->msg_slot[pos - 1];
        memcpy(j->msg[pos], j->msg[pos - 1], sizeof j->msg[0]);
        pos--;
    }
    j->msg_slot[pos] = slot;
    snprintf(j->msg[pos], sizeof j->msg[0], "%s", msg);
}

static void build_worker(void *arg, int tid, int nt)
{
    build_job *j = arg;
    const zs_index *ix = j->ix;
    uint8_t *buf = zs_xmalloc((size_t)j->face_bytes * CHUNK);
    size_t dlen = strlen(ix->img_dir);
    char *path = zs_xmalloc(dlen + ZS_ID_BYTES + 2);
    memcpy(path, ix->img_dir, dlen);
    path[dlen] = '/';
    for (;;) {
        if (__atomic_load_n(&j->stop, __ATOMIC_RELAXED)) break;
        int a = __atomic_fetch_add(&j->next, CHUNK, __ATOMIC_RELAXED);
        if (a >= j->total) break;
        int b = a + CHUNK < j->total ? a + CHUNK : j->total;
        for (int s = a; s < b; s++) {
            uint8_t *face = buf + (size_t)(s - a) * j->face_bytes;
            strcpy(path + dlen + 1, ix->id[j->sel[s]]);
            int w = 0, h = 0;
            zs_status st = zs_face_decode(path, j->crop, j->size, face, &w, &h);
            if (st == ZS_OK) {
                j->face_hash[s] = zs_hash_bytes(face, (size_t)j->face_bytes, 0);
                j->ok[s] = 1;
                if (w > 0 && s < __atomic_load_n(&j->src_slot, __ATOMIC_RELAXED)) {
                    pthread_mutex_lock(&j->mu);
                    if (s < j->src_slot) {   /* written under the lock, peeked at without */
                        __atomic_store_n(&j->src_slot, s, __ATOMIC_RELAXED);
                        j->src_w = w;
                        j->src_h = h;
                    }
                    pthread_mutex_unlock(&j->mu);
                }
            } else {
                memset(face, 0, (size_t)j->face_bytes);
                pthread_mutex_lock(&j->mu);
                j->bad++;
                keep_msg(j, s, zs_last_error());
                pthread_mutex_unlock(&j->mu);
            }
        }
        uint64_t off = ZS_CACHE_HEADER_BYTES + (uint64_t)a * j->face_bytes;
        if (pwrite_all(j->fd, buf, (size_t)(b - a) * j->face_bytes, off) != 0) {
            int err = errno;
            pthread_mutex_lock(&j->mu);
            if (!j->io_error[0]) snprintf(j->io_error, sizeof j->io_error, "write failed: %s", strerror(err));
            pthread_mutex_unlock(&j->mu);
            __atomic_store_n(&j->stop, 1, __ATOMIC_RELAXED);
            break;
        }
        int done = __atomic_add_fetch(&j->done, b - a, __ATOMIC_RELAXED);
        if (tid == 0 && j->d->progress) j->d->progress(j->d->user, done, j->total);
    }
    free(path);
    free(buf);
    (void)nt;
}

zs_status zs_cache_build(const zs_index *ix, const char *out_path, const zs_prepare_desc *desc,
                         zs_prepare_report *rep)
{
    ZS_ASSERT(ix && out_path);
    double t0 = zs_now();
    zs_prepare_desc d = desc ? *desc : (zs_prepare_desc){0};
    zs_prepare_report scratch;
    if (!rep) rep = &scratch;
    memset(rep, 0, sizeof *rep);
    if (d.size == 0) d.size = 64;
    if (d.threads <= 0) d.threads = zs_cpu_count();
    if (d.threads > 64) d.threads = 64;
    if (d.crop.side == 0) d.crop = zs_crop_celeba();
    unsigned mask = d.split_mask;
    if (mask == 0 || (mask & (1u << ZS_SPLIT_ALL))) mask = 7;
    if (d.size < MIN_SIZE || d.size > MAX_SIZE)
        return zs_errorf(ZS_ERR_ARG, "face size %d is out of range (%d..%d; the model uses 64 or 128)", d.size,
                         MIN_SIZE, MAX_SIZE);
    if (d.limit < 0) return zs_errorf(ZS_ERR_ARG, "limit %d is negative", d.limit);
    if (!(isfinite(d.crop.cx) && isfinite(d.crop.cy) && isfinite(d.crop.side) && d.crop.side > 0))
        return zs_errorf(ZS_ERR_ARG, "the crop is not a finite square");

    /* The selection: index rows (sorted by id) in the chosen splits, the first `limit`. */
    int *sel = zs_xmalloc(sizeof(int) * (size_t)(ix->n > 0 ? ix->n : 1));
    int total = 0;
    for (int i = 0; i < ix->n && (d.limit == 0 || total < d.limit); i++)
        if (mask & (1u << ix->part[i])) sel[total++] = i;
    if (total == 0) {
        free(sel);
        return zs_errorf(ZS_ERR_ARG, "%s: no faces in the selected splits", ix->dir ? ix->dir : "index");
    }
    rep->total = total;

    build_job *j = zs_xcalloc(1, sizeof *j);
    j->ix = ix;
    j->sel = sel;
    j->total = total;
    j->size = d.size;
    j->crop = d.crop;
    j->face_bytes = zs_cache_layout_of(0, d.size).face_bytes;
    j->face_hash = zs_xcalloc((size_t)total, sizeof *j->face_hash);
    j->ok = zs_xcalloc((size_t)total, 1);
    j->src_slot = INT_MAX;
    j->d = &d;
    pthread_mutex_init(&j->mu, NULL);

    zs_status st;
    zs_atomic_file af;
    if ((st = zs_atomic_open(&af, out_path)) != ZS_OK) goto out;
    /* All output goes through pwrite on the descriptor; the FILE is only used
     * by zs_atomic_commit (flush of an empty buffer, fsync, close). */
    j->fd = fileno(af.f);

    int nt = d.threads < (total + CHUNK - 1) / CHUNK ? d.threads : (total + CHUNK - 1) / CHUNK;
    zs_team *team = zs_team_create(nt);
    zs_team_run(team, build_worker, j);
    zs_team_destroy(team);
    if (j->io_error[0]) {
        st = zs_errorf(ZS_ERR_IO, "%s: %s", af.tmp, j->io_error);
        goto abort;
    }
    if (d.progress) d.progress(d.user, total, total);

    int count = total - j->bad;
    rep->bad = j->bad;
    rep->nmsg = j->nmsg;
    memcpy(rep->msg, j->msg, sizeof rep->msg);
    if (count == 0) {
        st = zs_errorf(ZS_ERR_FORMAT, "%s: none of the %d selected images could be decoded (first: %s)", ix->img_dir,
                       total, j->msg[0]);
        goto abort;
    }

    /* Squeeze out the holes left by bad images (the temporary file is open
     * for writing only, so read it back through a second descriptor). */
    if (j->bad > 0) {
        int rfd = open(af.tmp, O_RDONLY | O_CLOEXEC);
        if (rfd < 0) {
            st = zs_errorf(ZS_ERR_IO, "%s: cannot reopen: %s", af.tmp, strerror(errno));
            goto abort;
        }
        uint8_t *face = zs_xmalloc((size_t)j->face_bytes);
        int w = 0, failed = 0;
        for (int s = 0; s < total && !failed; s++) {
            if (!j->ok[s]) continue;
            if (w != s) {
                uint64_t from = ZS_CACHE_HEADER_BYTES + (uint64_t)s * j->face_bytes;
                uint64_t to = ZS_CACHE_HEADER_BYTES + (uint64_t)w * j->face_bytes;
                failed = pread_all(rfd, face, (size_t)j->face_bytes, from) != 0 ||
                         pwrite_all(j->fd, face, (size_t)j->face_bytes, to) != 0;
                j->face_hash[w] = j->face_hash[s];
                sel[w] = sel[s];
            }
            w++;
        }
        int err = errno;
        free(face);
        close(rfd);
        if (failed) {
            st = zs_errorf(ZS_ERR_IO, "%s: cannot move a face: %s", af.tmp, strerror(err));
            goto abort;
        }
    }
    rep->decode_seconds = zs_now() - t0;

    /* Metadata, then the header. */
    zs_cache_layout L = zs_cache_layout_of((uint64_t)count, d.size);
    size_t meta_bytes = (size_t)(L.file_bytes - L.ids);
    uint8_t *meta = zs_xcalloc(meta_bytes, 1);
    zs_cache_header h = {.version = ZS_CACHE_VERSION, .count = (uint32_t)count, .size = (uint32_t)d.size,
                         .crop = d.crop, .src_w = (uint32_t)j->src_w, .src_h = (uint32_t)j->src_h};
    for (int i = 0; i < count; i++) {
        int r = sel[i];
        memcpy(meta + (size_t)i * ZS_ID_BYTES, ix->id[r], ZS_ID_BYTES);
        memcpy(meta + (size_t)(L.attrs - L.ids) + (size_t)i * ZS_NATTR, ix->attr + (size_t)r * ZS_NATTR, ZS_NATTR);
        meta[(size_t)(L.part - L.ids) + (size_t)i] = (uint8_t)ix->part[r];
        h.split_count[ix->part[r]]++;
    }
    h.meta_crc = zs_crc32(0, meta, meta_bytes);
    h.hash = zs_cache_content_hash(&h, j->face_hash, meta, meta_bytes);
    uint8_t hb[ZS_CACHE_HEADER_BYTES];
    zs_cache_header_encode(&h, hb);
    int werr = pwrite_all(j->fd, meta, meta_bytes, L.ids) != 0 || ftruncate(j->fd, (off_t)L.file_bytes) != 0 ||
               pwrite_all(j->fd, hb, sizeof hb, 0) != 0;
    free(meta);
    if (werr) {
        st = zs_errorf(ZS_ERR_IO, "%s: write failed: %s", af.tmp, strerror(errno));
        goto abort;
    }
    if ((st = zs_atomic_commit(&af)) != ZS_OK) goto out;
    rep->written = count;
    rep->hash = h.hash;
    rep->bytes = L.file_bytes;
    rep->seconds = zs_now() - t0;
    st = ZS_OK;
    goto out;
abort:
    zs_atomic_abort(&af);
out:
    pthread_mutex_destroy(&j->mu);
    free(j->face_hash);
    free(j->ok);
    free(j);
    free(sel);
    return st;
}
