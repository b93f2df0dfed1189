/* safetensors reader and writer (see zspace/st.h).
 *
 * The header parser is a small recursive-descent JSON reader bounded in
 * depth and size: every number that sizes an allocation is checked against
 * the file before it is used. */
#include "zspace/st.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ST_MAX_FILE   ((size_t)1 << 34)    /* 16 GiB */
#define ST_MAX_HEADER ((size_t)64 << 20)   /* 64 MiB of JSON */
#define ST_MAX_TENSORS 100000
#define JSON_MAX_DEPTH 8

size_t zs_dtype_size(zs_dtype dt)
{
    switch (dt) {
    case ZS_DT_F32: case ZS_DT_I32: return 4;
    case ZS_DT_F16: case ZS_DT_BF16: return 2;
    case ZS_DT_U8: return 1;
    case ZS_DT_I64: case ZS_DT_F64: return 8;
    }
    return 0;
}

const char *zs_dtype_name(zs_dtype dt)
{
    static const char *names[] = {"F32", "F16", "BF16", "U8", "I32", "I64", "F64"};
    return names[dt];
}

static int dtype_parse(const char *s, zs_dtype *dt)
{
    for (int i = 0; i <= ZS_DT_F64; i++)
        if (strcmp(s, zs_dtype_name((zs_dtype)i)) == 0) {
            *dt = (zs_dtype)i;
            return 1;
        }
    return 0;
}

/* ---- half floats ------------------------------------------------------- */
uint16_t zs_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t exp = (x >> 23) & 0xFF, man = x & 0x7FFFFFu;
    if (exp == 0xFF) return (uint16_t)(sign | 0x7C00u | (man ? 0x200u : 0));
    int e = (int)exp - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7C00u);
    if (e <= 0) {
        if (e < -10) return (uint16_t)sign;
        man |= 0x800000u;
        int shift = 14 - e;
        uint32_t h = man >> shift, rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1))) h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)e << 10) | (man >> 13), rem = man & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) h++;   /* may carry into exp: fine */
    return (uint16_t)(sign | h);
}

float zs_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1F, man = h & 0x3FFu, x;
    if (exp == 0) {
        if (man == 0) {
            x = sign;
        } else {   /* subnormal */
            int e = -1;
            do { man <<= 1; e++; } while (!(man & 0x400u));
            x = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3FFu) << 13);
        }
    } else if (exp == 31) {
        x = sign | 0x7F800000u | (man << 13);
    } else {
        x = sign | ((exp + 112) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &x, 4);
    return f;
}

/* ---- a bounded JSON reader --------------------------------------------- */
typedef struct {
    const char *start, *p, *end;
    const char *path;
    char err[200];
} jr;

static void jr_ws(jr *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) r->p++;
}

static int jr_fail(jr *r, const char *what)
{
    if (!r->err[0]) snprintf(r->err, sizeof r->err, "%s at header byte %ld", what, (long)(r->p - r->start));
    return 0;
}

static int jr_expect(jr *r, char c)
{
    jr_ws(r);
    if (r->p >= r->end || *r->p != c) {
        char msg[40];
        snprintf(msg, sizeof msg, "expected '%c'", c);
        return jr_fail(r, msg);
    }
    r->p++;
    return 1;
}

/* Parse a JSON string into a new malloc'd buffer (escapes \" \\ \/ \n \t
 * \uXXXX in the ASCII range; others are refused: our names are ASCII). */
static char *jr_string(jr *r)
{
    jr_ws(r);
    if (r->p >= r->end || *r->p != '"') {
        jr_fail(r, "expected a string");
        return NULL;
    }
    r->p++;
    const char *s = r->p;
    size_t n = 0;
    while (s < r->end && *s != '"') {
        if (*s == '\\') s++;
        s++;
        n++;
    }
    if (s >= r->end) {
        jr_fail(r, "unterminated string");
        return NULL;
    }
    char *out = zs_xmalloc(n + 1), *o = out;
    while (*r->p != '"') {
        char c = *r->p++;
        if (c == '\\') {
            c = *r->p++;
            switch (c) {
            case '"': case '\\': case '/': break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'u': {
                unsigned v = 0;
                for (int i = 0; i < 4; i++) {
                    if (r->p >= r->end) { free(out); jr_fail(r, "bad \\u escape"); return NULL; }
                    char h = *r->p++;
                    v = v * 16 + (unsigned)(h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 :
                                            h >= 'A' && h <= 'F' ? h - 'A' + 10 : 99);
                }
                if (v == 0 || v > 127) { free(out); jr_fail(r, "non-ASCII \\u escape"); return NULL; }
                c = (char)v;
                break;
            }
            default: free(out); jr_fail(r, "bad escape"); return NULL;
            }
        }
        *o++ = c;
        if ((size_t)(o - out) > n) { free(out); jr_fail(r, "bad string"); return NULL; }
    }
    *o = 0;
    r->p++;
    return out;
}

static int jr_int(jr *r, int64_t *v)
{
    jr_ws(r);
    const char *s = r->p;
    int64_t x = 0;
    if (s >= r->end || *s < '0' || *s > '9') return jr_fail(r, "expected a non-negative integer");
    while (s < r->end && *s >= '0' && *s <= '9') {
        if (x > (INT64_MAX - 9) / 10) return jr_fail(r, "integer too large");
        x = x * 10 + (*s++ - '0');
    }
    r->p = s;
    *v = x;
    return 1;
}

/* Skip any JSON value (for unknown keys), bounded in depth. */
static int jr_skip(jr *r, int depth)
{
    if (depth > JSON_MAX_DEPTH) return jr_fail(r, "nesting too deep");
    jr_ws(r);
    if (r->p >= r->end) return jr_fail(r, "unexpected end");
    char c = *r->p;
    if (c == '"') {
        char *s = jr_string(r);
        free(s);
        return s != NULL;
    }
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        r->p++;
        jr_ws(r);
        if (r->p < r->end && *r->p == close) { r->p++; return 1; }
        for (;;) {
            if (c == '{') {
                char *k = jr_string(r);
                if (!k) return 0;
                free(k);
                if (!jr_expect(r, ':')) return 0;
            }
            if (!jr_skip(r, depth + 1)) return 0;
            jr_ws(r);
            if (r->p < r->end && *r->p == ',') { r->p++; continue; }
            return jr_expect(r, close);
        }
    }
    /* number, true, false, null */
    const char *s = r->p;
    while (s < r->end && (strchr("+-.eE0123456789", *s) || (*s >= 'a' && *s <= 'z'))) s++;
    if (s == r->p) return jr_fail(r, "unexpected character");
    r->p = s;
    return 1;
}

static int parse_tensor(jr *r, zs_st_tensor *t)
{
    int have_dtype = 0, have_shape = 0, have_off = 0;
    if (!jr_expect(r, '{')) return 0;
    jr_ws(r);
    if (r->p < r->end && *r->p == '}') return jr_fail(r, "empty tensor entry");
    for (;;) {
        char *k = jr_string(r);
        if (!k) return 0;
        if (!jr_expect(r, ':')) { free(k); return 0; }
        if (strcmp(k, "dtype") == 0) {
            char *v = jr_string(r);
            if (!v) { free(k); return 0; }
            int ok = dtype_parse(v, &t->dtype);
            free(v);
            if (!ok) { free(k); return jr_fail(r, "unsupported dtype"); }
            have_dtype = 1;
        } else if (strcmp(k, "shape") == 0) {
            if (!jr_expect(r, '[')) { free(k); return 0; }
            t->ndim = 0;
            jr_ws(r);
            if (r->p < r->end && *r->p == ']') {
                r->p++;
            } else {
                for (;;) {
                    int64_t v;
                    if (t->ndim >= ZS_ST_MAX_DIMS) { free(k); return jr_fail(r, "too many dimensions"); }
                    if (!jr_int(r, &v)) { free(k); return 0; }
                    t->shape[t->ndim++] = v;
                    jr_ws(r);
                    if (r->p < r->end && *r->p == ',') { r->p++; continue; }
                    if (!jr_expect(r, ']')) { free(k); return 0; }
                    break;
                }
            }
            have_shape = 1;
        } else if (strcmp(k, "data_offsets") == 0) {
            int64_t a, b;
            if (!jr_expect(r, '[') || !jr_int(r, &a) || !jr_expect(r, ',') || !jr_int(r, &b) || !jr_expect(r, ']')) {
                free(k);
                return 0;
            }
            if (b < a) { free(k); return jr_fail(r, "data_offsets end before start"); }
            t->offset = (size_t)a;
            t->nbytes = (size_t)(b - a);
            have_off = 1;
        } else if (!jr_skip(r, 2)) {
            free(k);
            return 0;
        }
        free(k);
        jr_ws(r);
        if (r->p < r->end && *r->p == ',') { r->p++; continue; }
        if (!jr_expect(r, '}')) return 0;
        break;
    }
    if (!have_dtype || !have_shape || !have_off) return jr_fail(r, "tensor entry lacks dtype, shape or data_offsets");
    return 1;
}

static int parse_meta(jr *r, zs_st_file *f)
{
    if (!jr_expect(r, '{')) return 0;
    jr_ws(r);
    if (r->p < r->end && *r->p == '}') { r->p++; return 1; }
    for (;;) {
        char *k = jr_string(r);
        if (!k) return 0;
        if (!jr_expect(r, ':')) { free(k); return 0; }
        char *v = jr_string(r);
        if (!v) { free(k); return jr_fail(r, "metadata values must be strings"); }
        if (f->nmeta >= ST_MAX_TENSORS) { free(k); free(v); return jr_fail(r, "too many metadata entries"); }
        if ((f->nmeta & (f->nmeta - 1)) == 0) {   /* capacity doubles at 1, 2, 4, ... */
            size_t cap = f->nmeta ? 2 * (size_t)f->nmeta : 1;
            f->meta_key = zs_xrealloc(f->meta_key, sizeof(char *) * cap);
            f->meta_val = zs_xrealloc(f->meta_val, sizeof(char *) * cap);
        }
        f->meta_key[f->nmeta] = k;
        f->meta_val[f->nmeta] = v;
        f->nmeta++;
        jr_ws(r);
        if (r->p < r->end && *r->p == ',') { r->p++; continue; }
        return jr_expect(r, '}');
    }
}

static int cmp_offset(const void *a, const void *b)
{
    const zs_st_tensor *x = a, *y = b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const zs_st_tensor *)a)->name, ((const zs_st_tensor *)b)->name);
}

static zs_status st_parse(zs_st_file *f)
{
    const char *path = f->path;
    if (f->len < 8) return zs_errorf(ZS_ERR_FORMAT, "%s: not a safetensors file (only %zu bytes)", path, f->len);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | f->data[i];
    if (hlen > ST_MAX_HEADER || hlen > f->len - 8)
        return zs_errorf(ZS_ERR_FORMAT, "%s: header length %llu does not fit in the %zu-byte file (truncated or not safetensors)",
                         path, (unsigned long long)hlen, f->len);
    f->payload = f->data + 8 + hlen;
    f->payload_len = f->len - 8 - (size_t)hlen;
    jr r = {.start = (const char *)f->data + 8, .p = (const char *)f->data + 8, .end = (const char *)f->data + 8 + hlen, .path = path};
    int ok = jr_expect(&r, '{');
    jr_ws(&r);
    if (ok && r.p < r.end && *r.p == '}') {
        r.p++;
    } else {
        while (ok) {
            char *k = jr_string(&r);
            if (!k || !jr_expect(&r, ':')) { free(k); ok = 0; break; }
            if (strcmp(k, "__metadata__") == 0) {
                free(k);
                ok = parse_meta(&r, f);
            } else {
                if (f->n >= ST_MAX_TENSORS) { free(k); ok = jr_fail(&r, "too many tensors"); break; }
                if ((f->n & (f->n - 1)) == 0)   /* capacity doubles at 1, 2, 4, ...: no quadratic copying */
                    f->t = zs_xrealloc(f->t, sizeof *f->t * (size_t)(f->n ? 2 * f->n : 1));
                zs_st_tensor *t = &f->t[f->n];
                memset(t, 0, sizeof *t);
                t->name = k;
                f->n++;
                ok = parse_tensor(&r, t);
            }
            if (!ok) break;
            jr_ws(&r);
            if (r.p < r.end && *r.p == ',') { r.p++; continue; }
            ok = jr_expect(&r, '}');
            break;
        }
    }
    if (!ok) return zs_errorf(ZS_ERR_FORMAT, "%s: bad safetensors header: %s", path, r.err);
    /* Validate each tensor: size matches shape, inside the payload, no overlap. */
    for (int i = 0; i < f->n; i++) {
        zs_st_tensor *t = &f->t[i];
        uint64_t numel = 1;
        for (int d = 0; d < t->ndim; d++) {
            if (t->shape[d] < 0 || (t->shape[d] && numel > (UINT64_MAX >> 4) / (uint64_t)t->shape[d]))
                return zs_errorf(ZS_ERR_FORMAT, "%s: tensor '%s' has an impossible shape", path, t->name);
            numel *= (uint64_t)t->shape[d];
        }
        t->numel = (size_t)numel;
        if (numel * zs_dtype_size(t->dtype) != t->nbytes)
            return zs_errorf(ZS_ERR_FORMAT, "%s: tensor '%s' has %zu bytes but its shape needs %llu", path, t->name,
                             t->nbytes, (unsigned long long)(numel * zs_dtype_size(t->dtype)));
        if (t->offset > f->payload_len || t->nbytes > f->payload_len - t->offset)
            return zs_errorf(ZS_ERR_FORMAT, "%s: tensor '%s' lies beyond the end of the file (truncated?)", path, t->name);
    }
    /* duplicates and overlaps on sorted copies (up to 100,000 tensors: not
     * pairwise) */
    if (f->n > 1) {
        zs_st_tensor *sorted = zs_xmalloc(sizeof *sorted * (size_t)f->n);
        memcpy(sorted, f->t, sizeof *sorted * (size_t)f->n);
        qsort(sorted, (size_t)f->n, sizeof *sorted, cmp_name);
        for (int i = 1; i < f->n; i++)
            if (strcmp(sorted[i].name, sorted[i - 1].name) == 0) {
                zs_status st = zs_errorf(ZS_ERR_FORMAT, "%s: tensor '%s' appears twice", path, sorted[i].name);
                free(sorted);
                return st;
            }
        qsort(sorted, (size_t)f->n, sizeof *sorted, cmp_offset);
        int overlap = 0;
        for (int i = 1; i < f->n; i++)
            if (sorted[i].offset < sorted[i - 1].offset + sorted[i - 1].nbytes) overlap = 1;
        free(sorted);
        if (overlap) return zs_errorf(ZS_ERR_FORMAT, "%s: tensors overlap in the payload", path);
    }
    const char *crc = zs_st_meta(f, "payload_crc32");
    if (crc) {
        char *end;
        errno = 0;
        unsigned long want = strtoul(crc, &end, 16);
        if (errno || *end || end == crc) return zs_errorf(ZS_ERR_FORMAT, "%s: bad payload_crc32 '%s'", path, crc);
        uint32_t got = zs_crc32(0, f->payload, f->payload_len);
        if (got != (uint32_t)want)
            return zs_errorf(ZS_ERR_FORMAT, "%s: payload checksum mismatch (file says %08lx, data gives %08x): the file is corrupt",
                             path, want, got);
    }
    return ZS_OK;
}

zs_status zs_st_open_mem(zs_st_file *f, const char *name, const uint8_t *data, size_t len)
{
    memset(f, 0, sizeof *f);
    f->path = zs_xstrdup(name);
    f->data = zs_xmalloc(len + 1);
    memcpy(f->data, data, len);
    f->len = len;
    zs_status st = st_parse(f);
    if (st != ZS_OK) zs_st_close(f);
    return st;
}

zs_status zs_st_open(zs_st_file *f, const char *path)
{
    memset(f, 0, sizeof *f);
    uint8_t *data;
    size_t len;
    zs_status st = zs_read_file(path, &data, &len, ST_MAX_FILE);
    if (st != ZS_OK) return st;
    f->path = zs_xstrdup(path);
    f->data = data;
    f->len = len;
    st = st_parse(f);
    if (st != ZS_OK) zs_st_close(f);
    return st;
}

void zs_st_close(zs_st_file *f)
{
    for (int i = 0; i < f->n; i++) free(f->t[i].name);
    for (int i = 0; i < f->nmeta; i++) {
        free(f->meta_key[i]);
        free(f->meta_val[i]);
    }
    free(f->t);
    free(f->meta_key);
    free(f->meta_val);
    free(f->data);
    free(f->path);
    memset(f, 0, sizeof *f);
}

const zs_st_tensor *zs_st_find(const zs_st_file *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->t[i].name, name) == 0) return &f->t[i];
    return NULL;
}

const char *zs_st_meta(const zs_st_file *f, const char *key)
{
    for (int i = 0; i < f->nmeta; i++)
        if (strcmp(f->meta_key[i], key) == 0) return f->meta_val[i];
    return NULL;
}

const void *zs_st_data(const zs_st_file *f, const zs_st_tensor *t) { return f->payload + t->offset; }

zs_status zs_st_read_f32(const zs_st_file *f, const char *name, float *dst, size_t count)
{
    const zs_st_tensor *t = zs_st_find(f, name);
    if (!t) return zs_errorf(ZS_ERR_FORMAT, "%s: tensor '%s' is missing", f->path, name);
    if (t->numel != count)
        return zs_errorf(ZS_ERR_FORMAT, "%s: tensor '%s' has %zu values, expected %zu", f->path, name, t->numel, count);
    const uint8_t *p = zs_st_data(f, t);
    switch (t->dtype) {
    case ZS_DT_F32: memcpy(dst, p, count * 4); break;
    case ZS_DT_F16:
        for (size_t i = 0; i < count; i++) dst[i] = zs_f16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        break;
    case ZS_DT_BF16:
        for (size_t i = 0; i < count; i++) {
            uint32_t x = (uint32_t)(p[2 * i] | p[2 * i + 1] << 8) << 16;
            memcpy(&dst[i], &x, 4);
        }
        break;
    case ZS_DT_F64:
        for (size_t i = 0; i < count; i++) {
            double d;
            memcpy(&d, p + 8 * i, 8);
            dst[i] = (float)d;
        }
        break;
    default:
        return zs_errorf(ZS_ERR_FORMAT, "%s: tensor '%s' is %s, not a float type", f->path, name, zs_dtype_name(t->dtype));
    }
    return ZS_OK;
}

/* ---- writer ------------------------------------------------------------ */
void zs_st_writer_init(zs_st_writer *w) { memset(w, 0, sizeof *w); }

void zs_st_writer_free(zs_st_writer *w)
{
    for (int i = 0; i < w->n; i++) {
        free(w->e[i].name);
        free(w->e[i].owned);
    }
    for (int i = 0; i < w->nmeta; i++) {
        free(w->meta_key[i]);
        free(w->meta_val[i]);
    }
    free(w->e);
    free(w->meta_key);
    free(w->meta_val);
    memset(w, 0, sizeof *w);
}

void zs_st_add(zs_st_writer *w, const char *name, zs_dtype dt, int ndim, const int64_t *shape, const void *data)
{
    ZS_ASSERT(ndim >= 0 && ndim <= ZS_ST_MAX_DIMS);
    if (w->n == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 32;
        w->e = zs_xrealloc(w->e, sizeof *w->e * (size_t)w->cap);
    }
    zs_st_entry *e = &w->e[w->n++];
    memset(e, 0, sizeof *e);
    e->name = zs_xstrdup(name);
    e->dtype = dt;
    e->ndim = ndim;
    for (int d = 0; d < ndim; d++) e->shape[d] = shape[d];
    e->data = data;
}

void zs_st_add_f32_as_f16(zs_st_writer *w, const char *name, int ndim, const int64_t *shape, const float *data)
{
    size_t n = 1;
    for (int d = 0; d < ndim; d++) n *= (size_t)shape[d];
    uint16_t *h = zs_xmalloc(n * 2 + 2);
    for (size_t i = 0; i < n; i++) h[i] = zs_f32_to_f16(data[i]);
    zs_st_add(w, name, ZS_DT_F16, ndim, shape, h);
    w->e[w->n - 1].owned = h;
}

void zs_st_add_meta(zs_st_writer *w, const char *key, const char *value)
{
    for (int i = 0; i < w->nmeta; i++)
        if (strcmp(w->meta_key[i], key) == 0) {
            free(w->meta_val[i]);
            w->meta_val[i] = zs_xstrdup(value);
            return;
        }
    if (w->nmeta == w->metacap) {
        w->metacap = w->metacap ? 2 * w->metacap : 16;
        w->meta_key = zs_xrealloc(w->meta_key, sizeof(char *) * (size_t)w->metacap);
        w->meta_val = zs_xrealloc(w->meta_val, sizeof(char *) * (size_t)w->metacap);
    }
    w->meta_key[w->nmeta] = zs_xstrdup(key);
    w->meta_val[w->nmeta] = zs_xstrdup(value);
    w->nmeta++;
}

typedef struct { char *s; size_t n, cap; } sbuf;
static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        while (b->n + n + 1 > b->cap) b->cap = b->cap ? 2 * b->cap : 4096;
        b->s = zs_xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}
static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }
static void sb_json_str(sbuf *b, const char *s)
{
    sb_str(b, "\"");
    for (; *s; s++) {
        char esc[8];
        if (*s == '"' || *s == '\\') {
            esc[0] = '\\'; esc[1] = *s; esc[2] = 0;
            sb_str(b, esc);
        } else if ((unsigned char)*s < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", (unsigned char)*s);
            sb_str(b, esc);
        } else {
            sb_put(b, s, 1);
        }
    }
    sb_str(b, "\"");
}

zs_status zs_st_write(zs_st_writer *w, const char *path)
{
    size_t *off = zs_xmalloc(sizeof(size_t) * (size_t)(w->n + 1));
    size_t total = 0;
    uint32_t crc = 0;
    for (int i = 0; i < w->n; i++) {
        size_t n = zs_dtype_size(w->e[i].dtype);
        for (int d = 0; d < w->e[i].ndim; d++) n *= (size_t)w->e[i].shape[d];
        off[i] = total;
        total += n;
        crc = zs_crc32(crc, w->e[i].data, n);
    }
    off[w->n] = total;
    char crcbuf[16];
    snprintf(crcbuf, sizeof crcbuf, "%08x", crc);
    zs_st_add_meta(w, "payload_crc32", crcbuf);

    sbuf h = {0};
    sb_str(&h, "{\"__metadata__\":{");
    for (int i = 0; i < w->nmeta; i++) {
        if (i) sb_str(&h, ",");
        sb_json_str(&h, w->meta_key[i]);
        sb_str(&h, ":");
        sb_json_str(&h, w->meta_val[i]);
    }
    sb_str(&h, "}");
    for (int i = 0; i < w->n; i++) {
        char buf[128];
        sb_str(&h, ",");
        sb_json_str(&h, w->e[i].name);
        snprintf(buf, sizeof buf, ":{\"dtype\":\"%s\",\"shape\":[", zs_dtype_name(w->e[i].dtype));
        sb_str(&h, buf);
        for (int d = 0; d < w->e[i].ndim; d++) {
            snprintf(buf, sizeof buf, "%s%lld", d ? "," : "", (long long)w->e[i].shape[d]);
            sb_str(&h, buf);
        }
        snprintf(buf, sizeof buf, "],\"data_offsets\":[%zu,%zu]}", off[i], off[i + 1]);
        sb_str(&h, buf);
    }
    sb_str(&h, "}");
    while (h.n % 8) sb_str(&h, " ");   /* payload 8-byte aligned */
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)h.n >> (8 * i));

    zs_atomic_file af;
    zs_status st = zs_atomic_open(&af, path);
    if (st == ZS_OK) {
        zs_atomic_write(&af, len8, 8);
        zs_atomic_write(&af, h.s, h.n);
        for (int i = 0; i < w->n; i++) zs_atomic_write(&af, w->e[i].data, off[i + 1] - off[i]);
        st = zs_atomic_commit(&af);
    }
    free(h.s);
    free(off);
    return st;
}
