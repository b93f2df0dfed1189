/* What the sliders do and show (the Attributes tab), and the gallery's search.
 *
 * Slider i moves the latent along dirs[i]: attribute k's vector (or, with
 * "orthogonal to", that vector minus its projection onto the span of the
 * chosen attributes' vectors: zs_attr_edit_vector), or principal direction
 * j times its standard deviation in the gallery (so PC sliders are in
 * standard deviations). The request carries the sum of strength * dir.
 *
 * Each slider also shows where a face sits on its axis, in the slider's
 * units: t_i(z) = z . axis_i - origin_i, where a strength s along the
 * slider's own (not orthogonalized) direction moves t by exactly s:
 * axis_k = v_k / |v_k|^2 for attribute k, e_j / sd_j for a principal
 * direction. The origin is the middle of the gallery faces labelled with
 * and without the attribute (their mean t), so 0 is roughly where faces
 * start to look like it; for a principal direction, the gallery's mean.
 * The histogram is t of every gallery latent (the worker's fit, computed
 * once per model, vectors or gallery), the marker t of the current
 * edited latent (once per decode result). */
#include "app_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double dot(int z, const float *a, const float *b)
{
    double s = 0;
    for (int j = 0; j < z; j++) s += (double)a[j] * b[j];
    return s;
}

static int zdim(const zs_app *a) { return a->model ? a->model->cfg.z : 0; }

/* ---- directions -------------------------------------------------------------------- */
void zs_sliders_update_dirs(zs_app *a)
{
    int Z = zdim(a);
    if (!Z) return;
    if (!a->dirs) a->dirs = zs_xcalloc((size_t)ZS_NSLIDERS * Z, sizeof(float));
    for (int k = 0; k < ZS_NATTR; k++) {
        float *d = a->dirs + (size_t)k * Z;
        if (a->have_attrs) zs_attr_edit_vector(&a->attrs, k, a->keep, a->nkeep, d);
        else memset(d, 0, sizeof(float) * Z);
    }
    for (int j = 0; j < ZS_NPC; j++) {
        float *d = a->dirs + (size_t)(ZS_NATTR + j) * Z;
        float sd = a->have_pca && j < a->pca.k ? sqrtf(a->pca.var[j]) : 0;
        for (int i = 0; i < Z; i++) d[i] = sd * (a->have_pca && j < a->pca.k ? a->pca.dir[(size_t)j * Z + i] : 0);
    }
    a->dirty = 1;
}

float *zs_sliders_value(zs_app *a, int i) { return i < ZS_NATTR ? &a->strength[i] : &a->pc_strength[i - ZS_NATTR]; }

int zs_sliders_edited(const zs_app *a)
{
    for (int k = 0; k < ZS_NATTR; k++)
        if (a->strength[k] != 0.0f) return 1;
    for (int j = 0; j < ZS_NPC; j++)
        if (a->pc_strength[j] != 0.0f) return 1;
    return 0;
}

/* delta = sum_i s_i dirs_i (z floats); 0 when no slider is moved. */
int zs_sliders_delta(const zs_app *a, float *delta)
{
    int Z = zdim(a), any = 0;
    memset(delta, 0, sizeof(float) * (size_t)Z);
    for (int i = 0; i < ZS_NSLIDERS && a->dirs; i++) {
        float s = i < ZS_NATTR ? a->strength[i] : a->pc_strength[i - ZS_NATTR];
        if (s != 0.0f) zs_latent_add(Z, delta, a->dirs + (size_t)i * Z, s, delta), any = 1;
    }
    return any;
}

/* "Male,Young": the attributes edits are orthogonalized against. */
void zs_sliders_set_ortho(zs_app *a)
{
    zs_query q;
    zs_query_parse(a->ortho_box, &q, a->ortho_msg, sizeof a->ortho_msg);
    int same = q.n == a->nkeep;
    for (int i = 0; i < q.n && same; i++) same = a->keep[i] == q.attr[i];
    if (same) return;
    a->nkeep = q.n;
    memcpy(a->keep, q.attr, sizeof(int) * (size_t)q.n);
    zs_sliders_update_dirs(a);
}

/* ---- axes: histograms and markers --------------------------------------------------- */
static void hist_of(const zs_app *a, int i, float *h)
{
    int Z = zdim(a);
    const float *ax = a->axes + (size_t)i * Z;
    memset(h, 0, sizeof(float) * ZS_HIST_BINS);
    for (int t = 0; t < a->gal_n; t++) {
        double v = dot(Z, a->gal_mu + (size_t)t * Z, ax) - a->axis_origin[i];
        int b = (int)floor((v - ZS_SLIDER_LO) / (ZS_SLIDER_HI - ZS_SLIDER_LO) * ZS_HIST_BINS);
        if (b >= 0 && b < ZS_HIST_BINS) h[b] += 1;   /* beyond the slider's range: left out */
    }
}

void zs_sliders_update_axes(zs_app *a)
{
    int Z = zdim(a);
    a->have_axes = 0;
    if (!Z || !a->gal_mu) return;
    if (!a->axes) a->axes = zs_xcalloc((size_t)ZS_NSLIDERS * Z, sizeof(float));
    for (int k = 0; k < ZS_NATTR && a->have_attrs; k++) {
        const float *v = a->attrs.vec + (size_t)k * Z;
        float *ax = a->axes + (size_t)k * Z;
        double vv = dot(Z, v, v);
        for (int j = 0; j < Z; j++) ax[j] = vv > 0 ? (float)(v[j] / vv) : 0;
        double sum[2] = {0, 0};   /* mean t of the faces without / with the attribute */
        int n[2] = {0, 0};
        for (int t = 0; t < a->gal_n; t++) {
            int pos = zs_cache_attrs(a->gallery, t)[k] > 0;
            sum[pos] += dot(Z, a->gal_mu + (size_t)t * Z, ax), n[pos]++;
        }
        a->axis_origin[k] = n[0] && n[1] ? (float)(0.5 * (sum[0] / n[0] + sum[1] / n[1]))
                                         : (float)((sum[0] + sum[1]) / (n[0] + n[1] > 0 ? n[0] + n[1] : 1));
    }
    for (int j = 0; j < ZS_NPC; j++) {
        float *ax = a->axes + (size_t)(ZS_NATTR + j) * Z;
        float sd = a->have_pca && j < a->pca.k ? sqrtf(a->pca.var[j]) : 0;
        for (int i = 0; i < Z; i++) ax[i] = sd > 0 ? a->pca.dir[(size_t)j * Z + i] / sd : 0;
        a->axis_origin[ZS_NATTR + j] = sd > 0 ? (float)dot(Z, a->pca.mean, ax) : 0;
    }
    for (int i = 0; i < ZS_NSLIDERS; i++) hist_of(a, i, a->hist[i]);
    a->have_axes = 1;
    zs_sliders_update_markers(a);
}

void zs_sliders_update_markers(zs_app *a)
{
    int Z = zdim(a);
    for (int i = 0; i < ZS_NSLIDERS; i++)
        a->marker[i] = a->have_axes && a->cur_z_key != ZS_NO_FACE_KEY
                           ? (float)(dot(Z, a->cur_z, a->axes + (size_t)i * Z) - a->axis_origin[i])
                           : NAN;
}

/* ---- the gallery's latents arrive -------------------------------------------------- */
static void default_slot(zs_app *a, int which, int face)
{
    struct zs_slot *sl = &a->slot[which];
    memcpy(sl->z, a->gal_mu + (size_t)face * zdim(a), sizeof(float) * (size_t)zdim(a));
    zs_strf(sl->label, sizeof sl->label, "face %d (%s)", face + 1, zs_cache_id(a->gallery, face));
    zs_strf(sl->name, sizeof sl->name, "%s", zs_cache_id(a->gallery, face));
    sl->set = 1;
}

void zs_sliders_take_fit(zs_app *a, zs_gallery_fit *f)
{
    free(a->gal_mu);
    if (a->have_pca) zs_pca_free(&a->pca);
    if (a->have_gauss) zs_gauss_free(&a->gauss);
    a->gal_mu = f->mu, a->gal_n = f->n;
    a->pca = f->pca, a->gauss = f->gauss;
    a->have_pca = a->have_gauss = 1;
    a->fit_ms = f->ms;
    f->mu = NULL;   /* ours now */
    memset(&f->pca, 0, sizeof f->pca);
    memset(&f->gauss, 0, sizeof f->gauss);
    /* Interpolate starts with the current face and the next one, unless the user (or the session) chose */
    if (!a->slot[0].set && !a->slot[1].set && a->gal_n >= 2 && a->gal_n == a->nthumbs) {
        int i = a->current >= 0 ? a->current : 0;
        default_slot(a, 0, i);
        default_slot(a, 1, (i + 1) % a->gal_n);
        a->batch_dirty[ZS_CH_SLOTS] = a->batch_dirty[ZS_CH_STRIP] = a->batch_dirty[ZS_CH_T] = 1;
    }
    zs_sliders_update_dirs(a);
    zs_sliders_update_axes(a);
}

/* ---- the gallery's search ------------------------------------------------------------ */
void zs_gallery_search(zs_app *a)
{
    zs_query q;
    zs_query_parse(a->search, &q, a->search_msg, sizeof a->search_msg);
    if (!a->shown) {
        a->shown = zs_xmalloc(sizeof(int) * (size_t)(a->nthumbs > 0 ? a->nthumbs : 1));
        a->shown_thumbs = zs_xmalloc(sizeof(ui_image) * (size_t)(a->nthumbs > 0 ? a->nthumbs : 1));
    }
    a->nshown = 0;
    for (int i = 0; i < a->nthumbs; i++)
        if (zs_query_match(&q, zs_cache_attrs(a->gallery, i))) {
            a->shown_thumbs[a->nshown] = a->thumbs[i];
            a->shown[a->nshown++] = i;
        }
    a->gallery_scroll.offset = 0;
}

/* The shown face `step` places from the current one (-1: previous, +1: next). */
int zs_gallery_step(const zs_app *a, int step)
{
    int pos = -1;
    for (int i = 0; i < a->nshown; i++)
        if (a->shown[i] == a->current) pos = i;
    if (pos < 0) {   /* the current face is not among them: the first one after (before) it */
        for (int i = 0; i < a->nshown; i++)
            if (step > 0 ? a->shown[i] > a->current : a->shown[i] < a->current) {
                if (step > 0) return a->shown[i];
                pos = i + 1;
            }
        return step < 0 && pos > 0 ? a->shown[pos - 1] : -1;
    }
    pos += step;
    return pos >= 0 && pos < a->nshown ? a->shown[pos] : -1;
}
