/* Checkpoints: the model's named tensors, Adam moments and training state in
 * one safetensors file (see zspace/trainer.h). */
#include "zspace/st.h"
#include "zspace/trainer.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void meta_num(zs_st_writer *w, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void meta_num(zs_st_writer *w, const char *key, const char *fmt, ...)
{
    char buf[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    zs_st_add_meta(w, key, buf);
}

zs_status zs_ckpt_save(const char *path, const zs_vae *m, zs_vae_train *t, const zs_ckpt_info *info, int f16)
{
    zs_st_writer w;
    zs_st_writer_init(&w);
    char cfg[160];
    zs_vae_config_format(&m->cfg, cfg, sizeof cfg);
    zs_st_add_meta(&w, "format", "zspace-vae");
    meta_num(&w, "version", "%d", ZS_CKPT_VERSION);
    zs_st_add_meta(&w, "config", cfg);
    meta_num(&w, "step", "%ld", info->step);
    meta_num(&w, "epoch", "%d", info->epoch);
    meta_num(&w, "batch_in_epoch", "%d", info->batch_in_epoch);
    meta_num(&w, "seed", "%" PRIu64, info->seed);
    meta_num(&w, "data_hash", "%016" PRIx64, info->data_hash);
    meta_num(&w, "lr", "%.9g", info->lr);
    meta_num(&w, "beta", "%.9g", info->beta);
    meta_num(&w, "batch", "%d", info->batch);
    zs_st_add_meta(&w, "loss", info->loss == ZS_LOSS_BCE ? "bce" : "sse");
    if (info->recon[0] && strcmp(info->recon, "pixel") != 0) {   /* the feature-consistent loss */
        zs_st_add_meta(&w, "recon", info->recon);
        zs_st_add_meta(&w, "features", info->feat_path);
        zs_st_add_meta(&w, "feature_layers", info->feat_layers);
        meta_num(&w, "feature_weight", "%.9g", info->feat_weight);
    }
    meta_num(&w, "rng", "counter-based: noise key hash(seed, step), data order hash(seed, epoch)");

    char name[2 * ZS_TENSOR_NAME];
    for (int i = 0; i < m->table.n; i++) {
        const zs_tensor_info *ti = &m->table.t[i];
        int64_t shape[4];
        for (int d = 0; d < ti->ndim; d++) shape[d] = ti->shape[d];
        const float *p = m->params + ti->offset;
        /* running statistics stay float32: they are tiny and fp16 would clip var */
        if (f16 && ti->trainable)
            zs_st_add_f32_as_f16(&w, ti->name, ti->ndim, shape, p);
        else
            zs_st_add(&w, ti->name, ZS_DT_F32, ti->ndim, shape, p);
        if (t && ti->trainable) {
            snprintf(name, sizeof name, "opt.m.%s", ti->name);
            zs_st_add(&w, name, ZS_DT_F32, ti->ndim, shape, zs_vae_train_adam_m(t) + ti->offset);
            snprintf(name, sizeof name, "opt.v.%s", ti->name);
            zs_st_add(&w, name, ZS_DT_F32, ti->ndim, shape, zs_vae_train_adam_v(t) + ti->offset);
        }
    }
    zs_status st = zs_st_write(&w, path);
    zs_st_writer_free(&w);
    return st;
}

static int parse_long(const char *s, long *out)
{
    if (!s || !*s) return 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end) return 0;
    *out = v;
    return 1;
}

/* The tensor `name` must be present with this shape. */
static zs_status want_shape(const zs_st_file *f, const char *path, const char *cfg, const char *name, int ndim,
                            const int64_t *shape)
{
    const zs_st_tensor *t = zs_st_find(f, name);
    if (!t) return zs_errorf(ZS_ERR_FORMAT, "%s: tensor %s is missing (model '%.80s')", path, name, cfg);
    int ok = t->ndim == ndim;
    for (int d = 0; ok && d < ndim; d++) ok = t->shape[d] == shape[d];
    if (!ok) return zs_errorf(ZS_ERR_FORMAT, "%s: tensor %s has the wrong shape for model '%.80s'", path, name, cfg);
    return ZS_OK;
}

/* The config sizes every buffer a caller allocates for this model (up to
 * ~1 GB for z=4096 and widths of 1024), so it must be backed by the file:
 * the weight matrices, which hold all but a few thousand of the model's
 * numbers, must be in it with the config's shapes. As tensors cannot
 * overlap, the model then needs at most ~2x the file's size in float32
 * (f16 files) and a 100-byte header cannot ask for a gigabyte. */
static zs_status check_config_backed(const zs_st_file *f, const char *path, const zs_vae_config *c, const char *cfg)
{
    char name[ZS_TENSOR_NAME];
    int nb = c->nblocks, top = c->widths[nb - 1];
    zs_status st;
    for (int i = 0; i < nb; i++) {
        snprintf(name, sizeof name, "enc.conv%d.weight", i);
        if ((st = want_shape(f, path, cfg, name, 4, (int64_t[]){c->widths[i], i ? c->widths[i - 1] : 3, 4, 4})))
            return st;
        int ic = c->widths[nb - 1 - i], oc = i == nb - 1 ? 3 : c->widths[nb - 2 - i];
        snprintf(name, sizeof name, "dec.conv%d.weight", i);
        if ((st = want_shape(f, path, cfg, name, 4, (int64_t[]){oc, ic, 3, 3}))) return st;
    }
    int64_t zf[2] = {c->z, (int64_t)top * 16}, fz[2] = {(int64_t)top * 16, c->z};
    if ((st = want_shape(f, path, cfg, "enc.fc_mu.weight", 2, zf))) return st;
    if ((st = want_shape(f, path, cfg, "enc.fc_logvar.weight", 2, zf))) return st;
    return want_shape(f, path, cfg, "dec.fc.weight", 2, fz);
}

/* Metadata and config; `f` is open and CRC-checked. */
static zs_status read_info(const zs_st_file *f, const char *path, zs_ckpt_info *info)
{
    memset(info, 0, sizeof *info);
    const char *fmt = zs_st_meta(f, "format");
    if (!fmt || strcmp(fmt, "zspace-vae") != 0)
        return zs_errorf(ZS_ERR_FORMAT, "%s: not a zspace model (metadata format is '%s', expected 'zspace-vae')", path,
                         fmt ? fmt : "absent");
    long v;
    if (!parse_long(zs_st_meta(f, "version"), &v) || v < 1)
        return zs_errorf(ZS_ERR_FORMAT, "%s: bad or missing version in metadata", path);
    if (v > ZS_CKPT_VERSION)
        return zs_errorf(ZS_ERR_VERSION, "%s: checkpoint version %ld is newer than this zspace reads (%d); update zspace",
                         path, v, ZS_CKPT_VERSION);
    info->version = (int)v;
    const char *cfg = zs_st_meta(f, "config");
    if (!cfg) return zs_errorf(ZS_ERR_FORMAT, "%s: no model config in metadata", path);
    if (zs_vae_config_parse(cfg, &info->cfg) != ZS_OK)
        return zs_errorf(ZS_ERR_FORMAT, "%s: bad model config '%.80s': %s", path, cfg, zs_last_error());
    zs_status cst = check_config_backed(f, path, &info->cfg, cfg);
    if (cst != ZS_OK) return cst;
    long x;
    if (parse_long(zs_st_meta(f, "step"), &x) && x >= 0) info->step = x;
    if (parse_long(zs_st_meta(f, "epoch"), &x) && x >= 0 && x < (1L << 30)) info->epoch = (int)x;
    if (parse_long(zs_st_meta(f, "batch_in_epoch"), &x) && x >= 0 && x < (1L << 30)) info->batch_in_epoch = (int)x;
    if (parse_long(zs_st_meta(f, "batch"), &x) && x > 0 && x < (1L << 20)) info->batch = (int)x;
    const char *s;
    if ((s = zs_st_meta(f, "seed"))) info->seed = strtoull(s, NULL, 10);
    if ((s = zs_st_meta(f, "data_hash"))) info->data_hash = strtoull(s, NULL, 16);
    if ((s = zs_st_meta(f, "lr"))) info->lr = strtof(s, NULL);
    if ((s = zs_st_meta(f, "beta"))) info->beta = strtof(s, NULL);
    if ((s = zs_st_meta(f, "loss"))) info->loss = strcmp(s, "bce") == 0 ? ZS_LOSS_BCE : ZS_LOSS_SSE;
    if ((s = zs_st_meta(f, "recon")) && (strcmp(s, "perceptual") == 0 || strcmp(s, "both") == 0)) {
        snprintf(info->recon, sizeof info->recon, "%s", s);
        if ((s = zs_st_meta(f, "features"))) snprintf(info->feat_path, sizeof info->feat_path, "%s", s);
        if ((s = zs_st_meta(f, "feature_layers"))) snprintf(info->feat_layers, sizeof info->feat_layers, "%s", s);
        if ((s = zs_st_meta(f, "feature_weight"))) info->feat_weight = strtof(s, NULL);
        if (!(info->feat_weight > 0 && info->feat_weight < 1e6)) info->feat_weight = 1.0f;
    }
    info->has_opt = zs_st_find(f, "opt.m.enc.conv0.weight") != NULL;
    return ZS_OK;
}

/* Every tensor of `m` must be present with the table's shape; with `opt`,
 * the moments too. */
static zs_status check_tensors(const zs_st_file *f, const char *path, const zs_vae *m, int opt)
{
    char name[2 * ZS_TENSOR_NAME];
    for (int i = 0; i < m->table.n; i++) {
        const zs_tensor_info *ti = &m->table.t[i];
        for (int k = 0; k < (opt && ti->trainable ? 3 : 1); k++) {
            snprintf(name, sizeof name, "%s%s", k == 0 ? "" : k == 1 ? "opt.m." : "opt.v.", ti->name);
            const zs_st_tensor *t = zs_st_find(f, name);
            if (!t) return zs_errorf(ZS_ERR_FORMAT, "%s: tensor %s is missing", path, name);
            int ok = t->ndim == ti->ndim && t->numel == ti->numel;
            for (int d = 0; ok && d < ti->ndim; d++) ok = t->shape[d] == ti->shape[d];
            if (!ok) return zs_errorf(ZS_ERR_FORMAT, "%s: tensor %s has the wrong shape for this model", path, name);
            if (t->dtype != ZS_DT_F32 && t->dtype != ZS_DT_F16 && t->dtype != ZS_DT_BF16)
                return zs_errorf(ZS_ERR_FORMAT, "%s: tensor %s is %s, expected a float type", path, name,
                                 zs_dtype_name(t->dtype));
        }
    }
    return ZS_OK;
}

static zs_status copy_tensors(const zs_st_file *f, const char *path, const zs_vae *m, float *params, float *am,
                              float *av)
{
    char name[2 * ZS_TENSOR_NAME];
    for (int i = 0; i < m->table.n; i++) {
        const zs_tensor_info *ti = &m->table.t[i];
        if (zs_st_read_f32(f, ti->name, params + ti->offset, ti->numel) != ZS_OK) return ZS_ERR_FORMAT;
        if (am && ti->trainable) {
            snprintf(name, sizeof name, "opt.m.%s", ti->name);
            if (zs_st_read_f32(f, name, am + ti->offset, ti->numel) != ZS_OK) return ZS_ERR_FORMAT;
            snprintf(name, sizeof name, "opt.v.%s", ti->name);
            if (zs_st_read_f32(f, name, av + ti->offset, ti->numel) != ZS_OK) return ZS_ERR_FORMAT;
        }
    }
    /* a finite model only: a checkpoint of NaNs would decode black faces */
    for (size_t k = 0; k < m->table.total; k++)
        if (!(params[k] - params[k] == 0.0f))
            return zs_errorf(ZS_ERR_NUMERIC, "%s: weights contain NaN or Inf", path);
    /* and moments Adam can continue from (it divides by sqrt(v)) */
    for (size_t k = 0; am && k < m->table.ntrain; k++)
        if (!(am[k] - am[k] == 0.0f) || !(av[k] >= 0.0f && av[k] - av[k] == 0.0f))
            return zs_errorf(ZS_ERR_NUMERIC, "%s: optimizer state (opt.m / opt.v) contains NaN, Inf or a negative "
                             "second moment", path);
    (void)path;
    return ZS_OK;
}

zs_status zs_ckpt_read_info(const char *path, zs_ckpt_info *info)
{
    zs_st_file f;
    zs_status st = zs_st_open(&f, path);
    if (st != ZS_OK) return st;
    st = read_info(&f, path, info);
    zs_st_close(&f);
    return st;
}

zs_status zs_ckpt_load_into(const char *path, zs_vae *m, zs_vae_train *t, zs_ckpt_info *info_out)
{
    zs_st_file f;
    zs_status st = zs_st_open(&f, path);
    if (st != ZS_OK) return st;
    zs_ckpt_info info;
    if ((st = read_info(&f, path, &info)) != ZS_OK) goto out;
    if (!zs_vae_config_equal(&info.cfg, &m->cfg)) {
        char a[160], b[160];
        zs_vae_config_format(&info.cfg, a, sizeof a);
        zs_vae_config_format(&m->cfg, b, sizeof b);
        st = zs_errorf(ZS_ERR_FORMAT, "%s: model is '%s', expected '%s'", path, a, b);
        goto out;
    }
    if (t && !info.has_opt) {
        st = zs_errorf(ZS_ERR_FORMAT, "%s: weights only (no optimizer state): cannot resume training from it", path);
        goto out;
    }
    if ((st = check_tensors(&f, path, m, t != NULL)) != ZS_OK) goto out;
    /* stage into scratch so that nothing changes unless everything loads */
    size_t n = m->table.total, nt = m->table.ntrain;
    float *p = zs_xcalloc(n, sizeof(float));   /* zero the alignment padding between tensors */
    float *am = t ? zs_xcalloc(nt, sizeof(float)) : NULL, *av = t ? zs_xcalloc(nt, sizeof(float)) : NULL;
    st = copy_tensors(&f, path, m, p, am, av);
    if (st == ZS_OK) {
        memcpy(m->params, p, sizeof(float) * n);
        if (t) {
            memcpy(zs_vae_train_adam_m(t), am, sizeof(float) * nt);
            memcpy(zs_vae_train_adam_v(t), av, sizeof(float) * nt);
            zs_vae_train_set_steps(t, info.step);
        }
        if (info_out) *info_out = info;
    }
    free(p);
    free(am);
    free(av);
out:
    zs_st_close(&f);
    return st;
}

zs_status zs_ckpt_load_model(const char *path, zs_vae **out, zs_ckpt_info *info_out)
{
    zs_ckpt_info info;
    zs_status st = zs_ckpt_read_info(path, &info);
    if (st != ZS_OK) return st;
    zs_vae *m = zs_vae_create(&info.cfg);
    st = zs_ckpt_load_into(path, m, NULL, info_out);
    if (st != ZS_OK) {
        zs_vae_destroy(m);
        return st;
    }
    *out = m;
    return ZS_OK;
}
