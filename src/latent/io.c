/* Latents of a face cache and attribute vectors: computing the latents,
 * the model hash that ties files to the model that made them, and their
 * safetensors files (see zspace/latent.h). */
#include "zspace/latent.h"
#include "zspace/st.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENCODE_BATCH 32

/* ---- model hash ------------------------------------------------------------- */
uint64_t zs_model_hash(const zs_vae *m)
{
    char cfg[160];
    zs_vae_config_format(&m->cfg, cfg, sizeof cfg);
    uint64_t h = zs_fnv1a64(cfg);
    /* FNV-1a over the bytes of every float, then one mixing step */
    const uint8_t *p = (const uint8_t *)m->params;
    size_t n = m->table.total * sizeof(float);
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return zs_hash64(h);
}

/* ---- encoding a cache --------------------------------------------------------- */
typedef struct {
    const zs_vae *m;
    const zs_cache *c;
    zs_latents *out;
    int next;          /* next batch to take (atomic) */
    int done;          /* faces encoded (atomic) */
    void (*progress)(void *user, int done, int total);
    void *user;
} encode_job;

static void encode_member(void *arg, int tid, int nt)
{
    encode_job *j = arg;
    const zs_vae_config *cfg = &j->m->cfg;
    int S = cfg->image, Z = cfg->z, n = j->out->n;
    size_t img = (size_t)3 * S * S;
    zs_vae_infer *inf = zs_vae_infer_create(cfg, ENCODE_BATCH);
    zs_vae_infer_load(inf, j->m->params);
    float *x = zs_xmalloc(sizeof(float) * img * ENCODE_BATCH);
    int nbatches = (n + ENCODE_BATCH - 1) / ENCODE_BATCH;
    for (;;) {
        int b = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED);
        if (b >= nbatches) break;
        int lo = b * ENCODE_BATCH, cnt = n - lo < ENCODE_BATCH ? n - lo : ENCODE_BATCH;
        for (int i = 0; i < cnt; i++) zs_face_to_chw(zs_cache_pixels(j->c, lo + i), S, x + i * img, 0);
        zs_vae_encode(inf, x, cnt, j->out->mu + (size_t)lo * Z, j->out->logvar + (size_t)lo * Z);
        int done = __atomic_add_fetch(&j->done, cnt, __ATOMIC_RELAXED);
        if (tid == 0 && j->progress) j->progress(j->user, done, n);
    }
    (void)nt;
    free(x);
    zs_vae_infer_destroy(inf);
}

zs_status zs_latents_encode(const zs_vae *m, const zs_cache *c, int threads,
                            void (*progress)(void *user, int done, int total), void *user, zs_latents *out)
{
    memset(out, 0, sizeof *out);
    if (zs_cache_size(c) != m->cfg.image)
        return zs_errorf(ZS_ERR_ARG, "%s: faces are %dx%d but the model takes %dx%d", zs_cache_path(c),
                         zs_cache_size(c), zs_cache_size(c), m->cfg.image, m->cfg.image);
    int n = zs_cache_count(c), Z = m->cfg.z;
    out->n = n;
    out->z = Z;
    out->mu = zs_xmalloc(sizeof(float) * (size_t)n * Z);
    out->logvar = zs_xmalloc(sizeof(float) * (size_t)n * Z);
    out->attr = zs_xmalloc((size_t)n * ZS_NATTR);
    out->part = zs_xmalloc((size_t)n);
    for (int i = 0; i < n; i++) {
        memcpy(out->attr + (size_t)i * ZS_NATTR, zs_cache_attrs(c, i), ZS_NATTR);
        out->part[i] = (int8_t)zs_cache_partition(c, i);
    }
    out->model_hash = zs_model_hash(m);
    out->data_hash = zs_cache_hash(c);
    if (threads <= 0) threads = zs_cpu_count();
    if (threads > 64) threads = 64;
    encode_job j = {.m = m, .c = c, .out = out, .progress = progress, .user = user};
    zs_team *team = zs_team_create(threads);
    zs_team_run(team, encode_member, &j);
    zs_team_destroy(team);
    if (progress) progress(user, n, n);
    return ZS_OK;
}

void zs_latents_free(zs_latents *l)
{
    free(l->mu);
    free(l->logvar);
    free(l->attr);
    free(l->part);
    memset(l, 0, sizeof *l);
}

/* ---- files ------------------------------------------------------------------- */
static void meta_u64(zs_st_writer *w, const char *key, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%016" PRIx64, v);
    zs_st_add_meta(w, key, buf);
}

static zs_status read_u64(const zs_st_file *f, const char *key, uint64_t *v)
{
    const char *s = zs_st_meta(f, key);
    char *end;
    if (!s || !*s) return zs_errorf(ZS_ERR_FORMAT, "%s: metadata has no %s", f->path, key);
    *v = strtoull(s, &end, 16);
    if (*end) return zs_errorf(ZS_ERR_FORMAT, "%s: metadata %s='%s' is not a hex number", f->path, key, s);
    return ZS_OK;
}

/* A tensor of the expected dtype and shape (dims < 0: any), or an error. */
static const zs_st_tensor *want(const zs_st_file *f, const char *name, zs_dtype dt, int ndim, int64_t d0, int64_t d1,
                                zs_status *st)
{
    const zs_st_tensor *t = zs_st_find(f, name);
    if (!t) {
        *st = zs_errorf(ZS_ERR_FORMAT, "%s: no tensor '%s'", f->path, name);
        return NULL;
    }
    if (t->dtype != dt || t->ndim != ndim || (d0 >= 0 && t->shape[0] != d0) || (ndim > 1 && d1 >= 0 && t->shape[1] != d1)) {
        *st = zs_errorf(ZS_ERR_FORMAT, "%s: tensor '%s' has dtype %s and %d dimensions, not %s of the expected shape",
                        f->path, name, zs_dtype_name(t->dtype), t->ndim, zs_dtype_name(dt));
        return NULL;
    }
    return t;
}

static zs_status check_kind(const zs_st_file *f, const char *kind)
{
    const char *k = zs_st_meta(f, "format");
    if (!k || strcmp(k, kind) != 0)
        return zs_errorf(ZS_ERR_FORMAT, "%s: not a zspace %s file (format is '%s')", f->path,
                         strcmp(kind, "zspace-latents") == 0 ? "latents" : "attribute-vector", k ? k : "missing");
    const char *v = zs_st_meta(f, "version");
    if (!v || strcmp(v, "1") != 0)
        return zs_errorf(ZS_ERR_VERSION, "%s: version %s, this zspace reads version 1", f->path, v ? v : "missing");
    return ZS_OK;
}

zs_status zs_latents_save(const char *path, const zs_latents *l)
{
    zs_st_writer w;
    zs_st_writer_init(&w);
    zs_st_add(&w, "mu", ZS_DT_F32, 2, (int64_t[]){l->n, l->z}, l->mu);
    zs_st_add(&w, "logvar", ZS_DT_F32, 2, (int64_t[]){l->n, l->z}, l->logvar);
    /* -1/+1 as uint8 0/1 (safetensors has no int8 in our reader) */
    uint8_t *attr = zs_xmalloc((size_t)l->n * ZS_NATTR);
    for (size_t i = 0; i < (size_t)l->n * ZS_NATTR; i++) attr[i] = l->attr[i] > 0;
    zs_st_add(&w, "attributes", ZS_DT_U8, 2, (int64_t[]){l->n, ZS_NATTR}, attr);
    zs_st_add(&w, "partition", ZS_DT_U8, 1, (int64_t[]){l->n}, l->part);
    zs_st_add_meta(&w, "format", "zspace-latents");
    zs_st_add_meta(&w, "version", "1");
    meta_u64(&w, "model_hash", l->model_hash);
    meta_u64(&w, "data_hash", l->data_hash);
    zs_status st = zs_st_write(&w, path);
    zs_st_writer_free(&w);
    free(attr);
    return st;
}

zs_status zs_latents_load(const char *path, zs_latents *l)
{
    memset(l, 0, sizeof *l);
    zs_st_file f;
    zs_status st = zs_st_open(&f, path);
    if (st != ZS_OK) return st;
    const zs_st_tensor *mu, *lv, *at, *pt;
    if ((st = check_kind(&f, "zspace-latents")) != ZS_OK) goto done;
    if (!(mu = want(&f, "mu", ZS_DT_F32, 2, -1, -1, &st))) goto done;
    int64_t n = mu->shape[0], z = mu->shape[1];
    if (n < 1 || z < 1 || z > 4096 || n > (1 << 26)) {
        st = zs_errorf(ZS_ERR_FORMAT, "%s: mu has shape (%" PRId64 ", %" PRId64 ")", path, n, z);
        goto done;
    }
    if (!(lv = want(&f, "logvar", ZS_DT_F32, 2, n, z, &st)) || !(at = want(&f, "attributes", ZS_DT_U8, 2, n, ZS_NATTR, &st)) ||
        !(pt = want(&f, "partition", ZS_DT_U8, 1, n, 0, &st)))
        goto done;
    if ((st = read_u64(&f, "model_hash", &l->model_hash)) != ZS_OK || (st = read_u64(&f, "data_hash", &l->data_hash)) != ZS_OK)
        goto done;
    l->n = (int)n;
    l->z = (int)z;
    l->mu = zs_xmalloc(sizeof(float) * (size_t)(n * z));
    l->logvar = zs_xmalloc(sizeof(float) * (size_t)(n * z));
    l->attr = zs_xmalloc((size_t)n * ZS_NATTR);
    l->part = zs_xmalloc((size_t)n);
    zs_st_read_f32(&f, "mu", l->mu, (size_t)(n * z));
    zs_st_read_f32(&f, "logvar", l->logvar, (size_t)(n * z));
    const uint8_t *a = zs_st_data(&f, at), *p = zs_st_data(&f, pt);
    for (size_t i = 0; i < (size_t)n * ZS_NATTR; i++) {
        if (a[i] > 1) {
            st = zs_errorf(ZS_ERR_FORMAT, "%s: attribute value %u of face %zu is not 0 or 1", path, a[i], i / ZS_NATTR);
            goto done;
        }
        l->attr[i] = a[i] ? 1 : -1;
    }
    for (size_t i = 0; i < (size_t)n; i++) {
        if (p[i] > 2) {
            st = zs_errorf(ZS_ERR_FORMAT, "%s: partition %u of face %zu is not 0, 1 or 2", path, p[i], i);
            goto done;
        }
        l->part[i] = (int8_t)p[i];
    }
done:
    zs_st_close(&f);
    if (st != ZS_OK) zs_latents_free(l);
    return st;
}

zs_status zs_attr_vectors_save(const char *path, const zs_attr_vectors *a)
{
    zs_st_writer w;
    zs_st_writer_init(&w);
    int32_t counts[ZS_NATTR][2], conf[ZS_NATTR][8];
    for (int k = 0; k < ZS_NATTR; k++) {
        counts[k][0] = a->npos[k];
        counts[k][1] = a->nneg[k];
        for (int j = 0; j < 8; j++) conf[k][j] = j < a->nconf[k] ? a->conf[k][j] : -1;
    }
    float proj[ZS_NATTR][2];
    for (int k = 0; k < ZS_NATTR; k++) {
        proj[k][0] = a->mean_proj_pos[k];
        proj[k][1] = a->mean_proj_neg[k];
    }
    zs_st_add(&w, "vectors", ZS_DT_F32, 2, (int64_t[]){ZS_NATTR, a->z}, a->vec);
    zs_st_add(&w, "counts", ZS_DT_I32, 2, (int64_t[]){ZS_NATTR, 2}, counts);
    zs_st_add(&w, "auc", ZS_DT_F32, 1, (int64_t[]){ZS_NATTR}, a->auc);
    zs_st_add(&w, "held_out_projection", ZS_DT_F32, 2, (int64_t[]){ZS_NATTR, 2}, proj);
    zs_st_add(&w, "confounders", ZS_DT_I32, 2, (int64_t[]){ZS_NATTR, 8}, conf);
    /* names in order, one per line */
    size_t len = 0;
    for (int k = 0; k < ZS_NATTR; k++) len += strlen(zs_attr_names[k]) + 1;
    char *names = zs_xmalloc(len + 1), *q = names;
    for (int k = 0; k < ZS_NATTR; k++) q += sprintf(q, "%s%s", k ? "," : "", zs_attr_names[k]);
    zs_st_add_meta(&w, "format", "zspace-attrs");
    zs_st_add_meta(&w, "version", "1");
    zs_st_add_meta(&w, "attributes", names);
    zs_st_add_meta(&w, "method", a->balanced ? "balanced" : "mean-difference");
    zs_st_add_meta(&w, "auc_on", a->held_out_from_fit ? "every-10th-fit-face" : "held-out-split");
    meta_u64(&w, "model_hash", a->model_hash);
    zs_status st = zs_st_write(&w, path);
    zs_st_writer_free(&w);
    free(names);
    return st;
}

zs_status zs_attr_vectors_load(const char *path, zs_attr_vectors *a)
{
    memset(a, 0, sizeof *a);
    zs_st_file f;
    zs_status st = zs_st_open(&f, path);
    if (st != ZS_OK) return st;
    const zs_st_tensor *v, *c, *au, *pr, *cf;
    if ((st = check_kind(&f, "zspace-attrs")) != ZS_OK) goto done;
    if (!(v = want(&f, "vectors", ZS_DT_F32, 2, ZS_NATTR, -1, &st))) goto done;
    if (v->shape[1] < 1 || v->shape[1] > 4096) {
        st = zs_errorf(ZS_ERR_FORMAT, "%s: vectors have %" PRId64 " dimensions", path, v->shape[1]);
        goto done;
    }
    if (!(c = want(&f, "counts", ZS_DT_I32, 2, ZS_NATTR, 2, &st)) || !(au = want(&f, "auc", ZS_DT_F32, 1, ZS_NATTR, 0, &st)) ||
        !(pr = want(&f, "held_out_projection", ZS_DT_F32, 2, ZS_NATTR, 2, &st)) ||
        !(cf = want(&f, "confounders", ZS_DT_I32, 2, ZS_NATTR, 8, &st)))
        goto done;
    if ((st = read_u64(&f, "model_hash", &a->model_hash)) != ZS_OK) goto done;
    const char *names = zs_st_meta(&f, "attributes");
    char expect[1024];
    size_t off = 0;
    for (int k = 0; k < ZS_NATTR; k++) off += (size_t)snprintf(expect + off, sizeof expect - off, "%s%s", k ? "," : "", zs_attr_names[k]);
    if (!names || strcmp(names, expect) != 0) {
        st = zs_errorf(ZS_ERR_FORMAT, "%s: the attribute names are not CelebA's 40 in their official order", path);
        goto done;
    }
    const char *method = zs_st_meta(&f, "method");
    a->balanced = method && strcmp(method, "balanced") == 0;
    const char *auc_on = zs_st_meta(&f, "auc_on");
    a->held_out_from_fit = auc_on && strcmp(auc_on, "every-10th-fit-face") == 0;
    a->z = (int)v->shape[1];
    a->vec = zs_xmalloc(sizeof(float) * ZS_NATTR * (size_t)a->z);
    zs_st_read_f32(&f, "vectors", a->vec, (size_t)ZS_NATTR * a->z);
    zs_st_read_f32(&f, "auc", a->auc, ZS_NATTR);
    const int32_t *cnt = zs_st_data(&f, c), *cfd = zs_st_data(&f, cf);
    float proj[ZS_NATTR * 2];
    zs_st_read_f32(&f, "held_out_projection", proj, ZS_NATTR * 2);
    for (int k = 0; k < ZS_NATTR; k++) {
        int32_t p, q;
        memcpy(&p, cnt + 2 * k, sizeof p);   /* the payload need not be aligned */
        memcpy(&q, cnt + 2 * k + 1, sizeof q);
        a->npos[k] = p;
        a->nneg[k] = q;
        a->mean_proj_pos[k] = proj[2 * k];
        a->mean_proj_neg[k] = proj[2 * k + 1];
        for (int j = 0; j < 8; j++) {
            int32_t x;
            memcpy(&x, cfd + 8 * k + j, sizeof x);
            if (x >= 0 && x < ZS_NATTR && a->nconf[k] < 8) a->conf[k][a->nconf[k]++] = x;
        }
    }
    for (size_t i = 0; i < (size_t)ZS_NATTR * a->z; i++)
        if (!isfinite(a->vec[i])) {
            st = zs_errorf(ZS_ERR_NUMERIC, "%s: vector of %s holds a non-finite value", path, zs_attr_names[i / a->z]);
            goto done;
        }
done:
    zs_st_close(&f);
    if (st != ZS_OK) zs_attr_vectors_free(a);
    return st;
}

/* ---- names -------------------------------------------------------------------- */
static int edit_distance(const char *a, const char *b)
{
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > 63) la = 63;
    if (lb > 63) lb = 63;
    int d[64][64];
    for (int i = 0; i <= la; i++) d[i][0] = i;
    for (int j = 0; j <= lb; j++) d[0][j] = j;
    for (int i = 1; i <= la; i++)
        for (int j = 1; j <= lb; j++) {
            int ca = a[i - 1] >= 'A' && a[i - 1] <= 'Z' ? a[i - 1] + 32 : a[i - 1];
            int cb = b[j - 1] >= 'A' && b[j - 1] <= 'Z' ? b[j - 1] + 32 : b[j - 1];
            int best = d[i - 1][j - 1] + (ca != cb);
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

int zs_attr_nearest(const char *name)
{
    int best = 0, bd = 1 << 30;
    for (int k = 0; k < ZS_NATTR; k++) {
        int dist = edit_distance(name, zs_attr_names[k]);
        if (dist < bd) {
            bd = dist;
            best = k;
        }
    }
    return best;
}
