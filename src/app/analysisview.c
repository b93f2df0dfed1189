/* The Analysis tab (issue 9): what the cloud of the gallery's encoded faces
 * looks like, and a map of it.
 *
 *   Statistics: a strip of every latent component's mean and spread (the
 *   dominant ones, the top tenth by spread, in the accent colour; click one),
 *   the chosen component's histogram against N(0, 1), the faces' latent
 *   norms against samples of N(0, I) and sqrt(Z), the z x z correlation
 *   heatmap (one texture) with the strongest pairs, the centre's offset.
 *
 *   Projection: the faces on a plane, PCA (the two directions of largest
 *   variance) or LDA (the two that best separate groups of attributes, e.g.
 *   the hair colours), coloured by group with a legend; hovering a point
 *   shows its face, a click makes it the current face; the current face and
 *   the path its edited latent took as the sliders moved are drawn on it.
 *
 * Everything is computed on the analysis worker (analyzer.c) from the
 * latents the decoder's gallery fit produced (sliders.c): posted when the
 * tab is shown and they or the groups changed (a new fit comes with new
 * weights: "Use these weights"). The UI thread draws the newest result and
 * projects the path's latents (two dot products each, once per new latent). */
#include "app_impl.h"
#include "analyzer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TRAIL_MAX 256
#define HAIR_SET "Black_Hair Blond_Hair Brown_Hair Gray_Hair Bald"

struct zs_anview {
    zs_analyzer *w;
    zs_an_result r;                  /* the newest result (have) */
    int have;
    uint64_t gen_posted;
    int dirty;                       /* the latents or the groups changed since the last post */
    int mode;                        /* 0 statistics, 1 projection */
    int proj;                        /* 0 PCA, 1 LDA */
    float comp_f;                    /* the chosen component (slider) */
    char groups[200], groups_msg[300];
    int gattr[ZS_AN_MAX_CLASSES], ngroups;   /* the attributes parsed from groups */
    int p_gattr[ZS_AN_MAX_CLASSES], p_ngroups;   /* ... of the newest post */
    int r_gattr[ZS_AN_MAX_CLASSES], r_ngroups;   /* ... that the shown result was computed with */
    unsigned tex_heat;
    int heat_z;
    float lo[2][2], hi[2][2];        /* [plane][axis] range of the points */
    /* the current latent's path (UI copies of a->cur_z) */
    float *trail;                    /* (TRAIL_MAX, z) */
    float txy[TRAIL_MAX][2];
    int ntrail, trail_proj;          /* trail_proj: the plane txy is for (-1: none) */
    uint64_t trail_key, trail_wgen;  /* whose path: face key and weights (a->weights_gen) */
    int hover, pick;                 /* face under the mouse; a face a script can click (-1: none) */
    ui_scroll scroll;
    /* while the Train tab trains: every LIVE_EVERY_S the gallery is encoded
     * with the newest training weights (on the worker) and all recomputed */
    int follow;
    double live_t;
    long live_step;
};

#define LIVE_EVERY_S 10.0

static const ui_color PALETTE[ZS_AN_MAX_CLASSES] = {
    {235, 95, 80, 255}, {90, 170, 245, 255}, {245, 205, 80, 255}, {120, 210, 120, 255},
    {205, 125, 230, 255}, {245, 150, 60, 255}, {100, 215, 215, 255}, {230, 230, 230, 255}};
static const ui_color OTHER = {95, 98, 105, 255};

static void parse_groups(zs_anview *v)
{
    zs_query q;
    v->groups_msg[0] = 0;
    zs_query_parse(v->groups, &q, v->groups_msg, sizeof v->groups_msg);
    v->ngroups = 0;
    for (int i = 0; i < q.n && v->ngroups < ZS_AN_MAX_CLASSES; i++) {
        int dup = 0;
        for (int j = 0; j < v->ngroups; j++) dup |= v->gattr[j] == q.attr[i];
        if (!dup) v->gattr[v->ngroups++] = q.attr[i];
    }
    if (q.n > ZS_AN_MAX_CLASSES)
        zs_strf(v->groups_msg, sizeof v->groups_msg, "at most %d groups: the first %d are used", ZS_AN_MAX_CLASSES,
                ZS_AN_MAX_CLASSES);
    v->dirty = 1;
}

zs_anview *zs_anview_create(zs_app *a, void (*wake)(void *))
{
    zs_anview *v = zs_xcalloc(1, sizeof *v);
    v->w = zs_analyzer_create(wake, a);
    v->dirty = 1;
    v->follow = 1;
    v->live_step = -1;
    v->hover = v->pick = -1;
    v->trail_proj = -1;
    v->trail_key = ZS_NO_FACE_KEY;
    snprintf(v->groups, sizeof v->groups, "%s", HAIR_SET);
    parse_groups(v);
    return v;
}

void zs_anview_destroy(zs_anview *v)
{
    if (!v) return;
    zs_analyzer_destroy(v->w);
    if (v->have) zs_an_result_free(&v->r);
    zs_tex_free(v->tex_heat);
    free(v->trail);
    free(v);
}

void zs_anview_data_changed(zs_app *a) { a->an->dirty = 1; }

int zs_anview_busy(const zs_app *a)
{
    const zs_anview *v = a->an;
    return v && (zs_analyzer_busy(v->w) || (v->dirty && a->tab == ZS_TAB_ANALYSIS && a->gal_mu && !a->fitting));
}

/* A group's name: "Black Hair", or for a single attribute "Smiling" / "not Smiling". */
static void class_name(const zs_anview *v, int c, char *buf, size_t n)
{
    int k = v->r_ngroups == 1 ? v->r_gattr[0] : v->r_gattr[c];
    zs_strf(buf, n, "%s%s", v->r_ngroups == 1 && c == 1 ? "not " : "", zs_attr_names[k]);
    for (char *p = buf; *p; p++)
        if (*p == '_') *p = ' ';
}

/* Post a job when the tab is shown and something changed, or, while
 * training runs, with the training weights every LIVE_EVERY_S. */
static void post(zs_app *a)
{
    zs_anview *v = a->an;
    if (a->tab != ZS_TAB_ANALYSIS || !a->gal_mu || a->fitting || !a->gallery) return;
    float *params = NULL;
    long step = a->weights_step;
    int live = v->follow && a->tv && a->tview.state == ZS_TRAINER_RUNNING;
    if (!v->dirty && (!live || zs_analyzer_busy(v->w) || zs_now() - v->live_t < LIVE_EVERY_S)) return;
    if (live) {
        params = zs_xmalloc(sizeof(float) * a->model->table.total);
        long s = zs_tv_copy_weights(a->tv, params);
        v->live_t = zs_now();
        if (s < 0) free(params), params = NULL;
        else if (!v->dirty && s == v->live_step) {
            free(params);
            return;
        } else step = v->live_step = s;
    }
    v->dirty = 0;
    int n = a->gal_n, Z = a->model->cfg.z, k = 0;
    int *lab = zs_xmalloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    for (int i = 0; i < n; i++) {
        const int8_t *l = zs_cache_attrs(a->gallery, i);
        if (v->ngroups == 1) lab[i] = l[v->gattr[0]] > 0 ? 0 : 1;
        else {
            lab[i] = -1;
            for (int g = 0; g < v->ngroups; g++)
                if (l[v->gattr[g]] > 0) lab[i] = lab[i] == -1 ? g : -2;   /* in two groups: left out */
            if (lab[i] < -1) lab[i] = -1;
        }
    }
    k = v->ngroups == 1 ? 2 : v->ngroups;
    zs_analyzer_post(v->w, &(zs_an_job){.gen = ++v->gen_posted, .n = n, .z = Z, .mu = params ? NULL : a->gal_mu,
                                        .label = k >= 2 ? lab : NULL, .k = k, .seed = 7, .weights_step = step,
                                        .params = params, .nparams = a->model->table.total,
                                        .cfg = a->model->cfg, .faces = a->gallery});
    free(params);
    v->p_ngroups = v->ngroups;   /* what the result will be of */
    memcpy(v->p_gattr, v->gattr, sizeof v->gattr);
    free(lab);
}

/* The newest post's result (an older one is dropped: the newer is on its way). */
static void take(zs_app *a)
{
    zs_anview *v = a->an;
    zs_an_result r;
    if (!zs_analyzer_poll(v->w, &r)) return;
    if (r.gen != v->gen_posted) {
        zs_an_result_free(&r);
        return;
    }
    if (v->have) zs_an_result_free(&v->r);
    v->r = r;
    v->have = 1;
    v->r_ngroups = v->p_ngroups;
    memcpy(v->r_gattr, v->p_gattr, sizeof v->gattr);
    if (!r.ok) return;
    if (v->heat_z != r.z) {
        zs_tex_free(v->tex_heat);
        v->tex_heat = zs_tex_create(r.z, r.z, r.heat, 1);
        v->heat_z = r.z;
    } else zs_tex_update(v->tex_heat, 0, 0, r.z, r.z, r.heat);
    const zs_an_plane *pl[2] = {&r.pca, &r.lda};
    for (int p = 0; p < 2; p++)
        for (int ax = 0; ax < 2; ax++) {
            float lo = INFINITY, hi = -INFINITY;
            for (int i = 0; i < r.n && pl[p]->ok; i++) {
                float t = pl[p]->xy[2 * i + ax];
                lo = t < lo ? t : lo, hi = t > hi ? t : hi;
            }
            if (!(hi > lo)) lo = -1, hi = 1;
            float m = 0.06f * (hi - lo);
            v->lo[p][ax] = lo - m, v->hi[p][ax] = hi + m;
        }
    if (v->comp_f > r.z - 1) v->comp_f = 0;
    v->trail_proj = -1;
}

void zs_anview_frame(zs_app *a, int take_result)
{
    if (!a->an) return;
    if (take_result) take(a);   /* before the frame is built: what it draws is what a script sees */
    post(a);
}

/* A new decode result: the edited latent joins the path (a new face starts a new one). */
void zs_anview_track(zs_app *a)
{
    zs_anview *v = a->an;
    if (!v || !a->model) return;
    int Z = a->model->cfg.z;
    if (!v->trail) v->trail = zs_xmalloc(sizeof(float) * (size_t)TRAIL_MAX * Z);
    if (a->cur_z_key != v->trail_key || a->weights_gen != v->trail_wgen)   /* another face, or new weights */
        v->ntrail = 0, v->trail_key = a->cur_z_key, v->trail_wgen = a->weights_gen;
    if (v->ntrail > 0 && memcmp(v->trail + (size_t)(v->ntrail - 1) * Z, a->cur_z, sizeof(float) * Z) == 0) return;
    if (v->ntrail == TRAIL_MAX) {   /* the oldest after the start goes */
        memmove(v->trail + Z, v->trail + 2 * (size_t)Z, sizeof(float) * (size_t)(TRAIL_MAX - 2) * Z);
        v->ntrail--;
    }
    memcpy(v->trail + (size_t)v->ntrail * Z, a->cur_z, sizeof(float) * Z);
    v->ntrail++;
    v->trail_proj = -1;
}

/* ---- drawing helpers --------------------------------------------------------------------- */

/* A dotted segment (rectangles only): a dot every 3 pixels, at most max_dots + 1. */
static void segment(ui_ctx *ui, float x0, float y0, float x1, float y1, ui_color c, int max_dots)
{
    float dx = x1 - x0, dy = y1 - y0, len = sqrtf(dx * dx + dy * dy);
    int steps = (int)(len / 3);
    if (steps > max_dots) steps = max_dots;
    for (int s = 0; s <= steps; s++) {
        float t = steps ? (float)s / steps : 0;
        ui_draw_rect(ui, (ui_rect){(int)lroundf(x0 + t * dx) - 1, (int)lroundf(y0 + t * dy) - 1, 2, 2}, c);
    }
}

static double phi(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }

/* Bars of h (nb) in r, heights relative to hmax. */
static void bars(ui_ctx *ui, ui_rect r, const float *h, int nb, double hmax, ui_color c)
{
    for (int b = 0; b < nb && hmax > 0; b++) {
        int x0 = r.x + b * r.w / nb, x1 = r.x + (b + 1) * r.w / nb;
        int bh = (int)lround(h[b] / hmax * r.h);
        if (bh > r.h) bh = r.h;
        if (bh > 0) ui_draw_rect(ui, (ui_rect){x0, r.y + r.h - bh, x1 - x0 > 1 ? x1 - x0 - 1 : 1, bh}, c);
    }
}

/* A step line of h (nb) in r (the top of each bin, 2 px). */
static void steps_line(ui_ctx *ui, ui_rect r, const float *h, int nb, double hmax, ui_color c)
{
    for (int b = 0; b < nb && hmax > 0; b++) {
        int x0 = r.x + b * r.w / nb, x1 = r.x + (b + 1) * r.w / nb;
        int bh = (int)lround(h[b] / hmax * r.h);
        if (bh > r.h) bh = r.h;
        ui_draw_rect(ui, (ui_rect){x0, r.y + r.h - bh - 1, x1 - x0, 2}, c);
    }
}

static void vline(ui_ctx *ui, ui_rect r, double lo, double hi, double x, ui_color c)
{
    if (!(x >= lo && x <= hi)) return;
    ui_draw_rect(ui, (ui_rect){r.x + (int)lround((x - lo) / (hi - lo) * (r.w - 1)), r.y, 2, r.h}, c);
}

/* ---- the statistics ---------------------------------------------------------------------- */
static int is_dominant(const zs_an_result *r, int j)
{
    int top = r->z / 10 > 0 ? r->z / 10 : 1;
    for (int i = 0; i < top; i++)
        if (r->st.order[i] == j) return 1;
    return 0;
}

static void stats_centre(zs_app *a, ui_rect b)
{
    ui_ctx *ui = a->ui;
    const ui_style *st = &ui->style;
    zs_anview *v = a->an;
    const zs_an_result *r = &v->r;
    const zs_latent_stats *s = &r->st;
    int th = ui->text_h, Z = r->z, comp = (int)lroundf(v->comp_f);
    char buf[400];
    ui_layout_body(ui, b);
    zs_strf(buf, sizeof buf, "The %d gallery faces encoded with %s: z = %d", r->n,
            r->live ? "the weights being trained" : r->weights_step >= 0 ? "the training weights" : "the model's weights",
            Z);
    if (r->weights_step >= 0) zs_strf(buf + strlen(buf), sizeof buf - strlen(buf), " (step %ld)", r->weights_step);
    if (r->live) zs_strf(buf + strlen(buf), sizeof buf - strlen(buf), ", renewed every %.0f s", LIVE_EVERY_S);
    ui_layout_row(ui, 1, NULL, 0);
    ui_label_wrap(ui, buf, st->text);
    zs_strf(buf, sizeof buf, "Centre of the cloud: |mean| = %.3f from the origin (%.2f of a component's spread); the "
            "top tenth of the components hold %.0f%% of the variance.", s->centre_norm, s->centre_sigmas,
            100 * s->var_share_top);
    ui_label_wrap(ui, buf, st->text_dim);

    /* the strip: every component's mean (tick) and +-1 sd (bar) */
    ui_label_wrap(ui, "Components: mean (white) and +-1 sd (bar); dominant blue, chosen orange. Click one.",
                  st->text);
    ui_layout_row(ui, 1, NULL, 96);
    ui_rect sr = ui_layout_next(ui);
    ui_draw_rect(ui, sr, st->bg);
    ui_name(ui, "plot/components", sr);
    double ext = 0;
    for (int j = 0; j < Z; j++) ext = fmax(ext, fabs(s->mean[j]) + s->std[j]);
    if (!(ext > 0)) ext = 1;
    int lw = ui->text_width(ui->font, "-0.00", 5) + 8;   /* the scale's labels, left of the bars */
    ui_rect pr = {sr.x + lw, sr.y + 4, sr.w - lw - 2, sr.h - 8};
    int y0 = pr.y + pr.h / 2;
    ui_draw_rect(ui, (ui_rect){pr.x, y0, pr.w, 1}, st->widget);
    for (int j = 0; j < Z; j++) {
        int x0 = pr.x + j * pr.w / Z, x1 = pr.x + (j + 1) * pr.w / Z, w = x1 - x0 > 2 ? x1 - x0 - 1 : 1;
        double lo = s->mean[j] - s->std[j], hi = s->mean[j] + s->std[j];
        int ya = y0 - (int)lround(hi / ext * pr.h / 2), yb = y0 - (int)lround(lo / ext * pr.h / 2);
        if (j == comp) ui_draw_rect(ui, (ui_rect){x0, pr.y, w, pr.h}, st->widget_active);
        ui_color c = j == comp ? (ui_color){245, 170, 80, 255} : is_dominant(r, j) ? st->accent : st->text_dim;
        ui_draw_rect(ui, (ui_rect){x0, ya, w, yb - ya > 1 ? yb - ya : 1}, c);
        int ym = y0 - (int)lround(s->mean[j] / ext * pr.h / 2);
        ui_draw_rect(ui, (ui_rect){x0, ym, w, 2}, st->text);
    }
    zs_strf(buf, sizeof buf, "+%.2f", ext);
    ui_draw_text(ui, buf, (int)strlen(buf), sr.x + 3, sr.y + 1, st->text_dim);
    zs_strf(buf, sizeof buf, "-%.2f", ext);
    ui_draw_text(ui, buf, (int)strlen(buf), sr.x + 3, sr.y + sr.h - th - 1, st->text_dim);
    if (ui_area(ui, "components", sr) && Z > 0) {
        int j = (ui->mouse_x - pr.x) * Z / (pr.w > 0 ? pr.w : 1);
        v->comp_f = (float)(j < 0 ? 0 : j >= Z ? Z - 1 : j);
        comp = (int)v->comp_f;
    }

    /* the chosen component's histogram | the norms */
    int half = (b.w - st->spacing) / 2, ph = 170 + th;
    ui_layout_row(ui, 2, (int[]){half, 0}, ph);
    ui_rect hr = ui_layout_next(ui), nr = ui_layout_next(ui);
    ui_draw_rect(ui, hr, st->bg);
    ui_draw_rect(ui, nr, st->bg);
    ui_name(ui, "plot/component", hr);
    ui_name(ui, "plot/norms", nr);
    zs_strf(buf, sizeof buf, "z%d: mean %+.2f, sd %.2f%s", comp, s->mean[comp], s->std[comp],
            is_dominant(r, comp) ? " (dominant)" : "");
    ui_draw_text_in(ui, (ui_rect){hr.x + 4, hr.y, hr.w - 8, th + 2}, buf, st->text, -1);
    ui_draw_text_in(ui, (ui_rect){hr.x + 4, hr.y + th + 1, hr.w - 8, th}, "bars: faces; grey: N(0, 1)",
                    st->text_dim, -1);
    ui_rect hp = {hr.x + 4, hr.y + 2 * th + 6, hr.w - 8, hr.h - 3 * th - 12};
    {
        const float *h = r->hist + (size_t)comp * ZS_AN_BINS;
        double lo = r->hist_lo[comp], hi = r->hist_hi[comp], mx = 0;
        float prior[ZS_AN_BINS];
        for (int i = 0; i < ZS_AN_BINS; i++) {
            double b0 = lo + (hi - lo) * i / ZS_AN_BINS, b1 = lo + (hi - lo) * (i + 1) / ZS_AN_BINS;
            prior[i] = (float)(r->n * (phi(b1) - phi(b0)));
            mx = fmax(mx, fmax(h[i], prior[i]));
        }
        bars(ui, hp, h, ZS_AN_BINS, mx, st->accent);
        steps_line(ui, hp, prior, ZS_AN_BINS, mx, (ui_color){200, 202, 206, 255});
        vline(ui, hp, lo, hi, 0, st->widget_active);
        vline(ui, hp, lo, hi, s->mean[comp], st->text);
        zs_strf(buf, sizeof buf, "%.2f", lo);
        ui_draw_text_in(ui, (ui_rect){hp.x, hp.y + hp.h + 2, hp.w, th}, buf, st->text_dim, -1);
        zs_strf(buf, sizeof buf, "%.2f", hi);
        ui_draw_text_in(ui, (ui_rect){hp.x, hp.y + hp.h + 2, hp.w, th}, buf, st->text_dim, 1);
    }
    zs_strf(buf, sizeof buf, "|z|: faces %.2f +- %.2f, N(0,I) %.2f +- %.2f", s->norm_mean, s->norm_std,
            s->prior_norm_mean, s->prior_norm_std);
    ui_draw_text_in(ui, (ui_rect){nr.x + 4, nr.y, nr.w - 8, th + 2}, buf, st->text, -1);
    zs_strf(buf, sizeof buf, "grey: N(0,I); white: sqrt(Z) = %.2f", sqrt((double)Z));
    ui_draw_text_in(ui, (ui_rect){nr.x + 4, nr.y + th + 1, nr.w - 8, th}, buf, st->text_dim, -1);
    ui_rect np = {nr.x + 4, nr.y + 2 * th + 6, nr.w - 8, nr.h - 3 * th - 12};
    {
        float fh[ZS_AN_BINS], ph2[ZS_AN_BINS];
        double mx = 0;
        for (int i = 0; i < ZS_AN_BINS; i++) {
            fh[i] = (float)s->norm_hist[i], ph2[i] = (float)s->prior_norm_hist[i];
            mx = fmax(mx, fmax(fh[i], ph2[i]));
        }
        bars(ui, np, ph2, ZS_AN_BINS, mx, (ui_color){120, 124, 132, 255});   /* the prior's behind the faces' */
        bars(ui, np, fh, ZS_AN_BINS, mx, (ui_color){240, 160, 70, 255});
        vline(ui, np, s->norm_lo, s->norm_hi, sqrt((double)Z), st->text);
        zs_strf(buf, sizeof buf, "%.1f", s->norm_lo);
        ui_draw_text_in(ui, (ui_rect){np.x, np.y + np.h + 2, np.w, th}, buf, st->text_dim, -1);
        zs_strf(buf, sizeof buf, "%.1f", s->norm_hi);
        ui_draw_text_in(ui, (ui_rect){np.x, np.y + np.h + 2, np.w, th}, buf, st->text_dim, 1);
    }

    /* the heatmap and the strongest pairs */
    ui_layout_row(ui, 1, NULL, 0);
    ui_label_wrap(ui, "Correlations: red +, blue -, full colour at |r| >= 0.6 (hover a cell)", st->text);
    ui_rect rest = ui_layout_rest(ui);
    int side = rest.h < half ? rest.h : half;
    if (side >= Z && Z > 0) side = side / Z * Z;   /* whole pixels a cell when it fits */
    ui_rect hm = {rest.x, rest.y, side, side};
    ui_draw_image(ui, hm, (ui_image){v->tex_heat, 0, 0, 1, 1, 0});
    ui_name(ui, "image/heatmap", hm);
    int tx = hm.x + side + 2 * st->pad, ty = hm.y;
    ui_rect lr = {tx, ty, rest.x + rest.w - tx, th + 2};
    if (ui->mouse_x >= hm.x && ui->mouse_x < hm.x + hm.w && ui->mouse_y >= hm.y && ui->mouse_y < hm.y + hm.h && Z > 0) {
        int i = (ui->mouse_y - hm.y) * Z / hm.h, j = (ui->mouse_x - hm.x) * Z / hm.w;
        zs_strf(buf, sizeof buf, "z%d and z%d: r = %+.3f", i, j, s->corr[(size_t)i * Z + j]);
        ui_draw_text_in(ui, lr, buf, st->text, -1);
    } else ui_draw_text_in(ui, lr, "Strongest pairs:", st->text, -1);
    for (int p = 0; p < r->npairs; p++) {
        lr.y += th + 2;
        if (lr.y + th > rest.y + rest.h) break;
        zs_strf(buf, sizeof buf, "z%d - z%d   r = %+.3f", r->pairs[2 * p], r->pairs[2 * p + 1], r->r[p]);
        ui_draw_text_in(ui, lr, buf, r->r[p] >= 0 ? (ui_color){245, 140, 120, 255} : (ui_color){130, 180, 250, 255},
                        -1);
    }
}

/* ---- the projection ------------------------------------------------------------------------ */
static void project_trail(zs_app *a, const zs_an_plane *p, int which)
{
    zs_anview *v = a->an;
    if (v->trail_proj == which) return;
    int Z = a->model->cfg.z;
    zs_latent_project(v->trail, v->ntrail, Z, p->mean, p->dir, 2, &v->txy[0][0]);
    v->trail_proj = which;
}

static void proj_centre(zs_app *a, ui_rect b)
{
    ui_ctx *ui = a->ui;
    const ui_style *st = &ui->style;
    zs_anview *v = a->an;
    const zs_an_result *r = &v->r;
    int which = v->proj, th = ui->text_h;
    const zs_an_plane *p = which ? &r->lda : &r->pca;
    char buf[400];
    ui_layout_body(ui, b);
    ui_layout_row(ui, 1, NULL, 0);
    int labelled = 0;
    for (int c = 0; c < r->k; c++) labelled += r->count[c];
    if (which == 0)
        zs_strf(buf, sizeof buf, "PCA of the %d gallery faces: x = PC1 (%.1f%% of the variance), y = PC2 (%.1f%%)",
                r->n, 100 * p->axis_info[0], 100 * p->axis_info[1]);
    else if (p->ok)
        zs_strf(buf, sizeof buf, "LDA of %d of the %d gallery faces in %d groups: x = LD1, y = %s", labelled, r->n,
                r->k, p->second_is_pc ? "the main direction left" : "LD2");
    else zs_strf(buf, sizeof buf, "LDA of the %d gallery faces", r->n);
    ui_label_wrap(ui, buf, st->text);
    if (which == 1 && !p->ok) {
        zs_strf(buf, sizeof buf, "No discriminants: %s", p->msg);
        ui_label_wrap(ui, buf, st->error);
        return;
    }
    if (r->k >= 2) {
        zs_strf(buf, sizeof buf, "Nearest group centre in this plane: %.0f%% right", 100 * p->acc);
        if (which == 1 && isfinite(p->acc_held))
            zs_strf(buf + strlen(buf), sizeof buf - strlen(buf), " (%.0f%% on faces left out of the fit)",
                    100 * p->acc_held);
        int big = 0;
        for (int c = 0; c < r->k; c++) big = r->count[c] > big ? r->count[c] : big;
        if (labelled)
            zs_strf(buf + strlen(buf), sizeof buf - strlen(buf), "; always the largest group: %.0f%%",
                    100.0 * big / labelled);
        ui_label_wrap(ui, buf, st->text_dim);
    }
    ui_rect rest = ui_layout_rest(ui);
    int side = rest.w < rest.h - th - 4 ? rest.w : rest.h - th - 4;
    ui_rect m = {rest.x + (rest.w - side) / 2, rest.y, side, side};
    ui_draw_rect(ui, m, st->bg);
    ui_name(ui, "plot/map", m);
    ui_push_clip(ui, m);   /* a path can leave the points' range */
    float lx = v->lo[which][0], hx = v->hi[which][0], ly = v->lo[which][1], hy = v->hi[which][1];
#define MAPX(t) (m.x + (float)((t) - lx) / (hx - lx) * (float)(m.w - 1))
#define MAPY(t) (m.y + m.h - 1 - (float)((t) - ly) / (hy - ly) * (float)(m.h - 1))
    /* the axes through 0 when they cross the map */
    if (lx < 0 && hx > 0) ui_draw_rect(ui, (ui_rect){(int)MAPX(0), m.y, 1, m.h}, st->widget);
    if (ly < 0 && hy > 0) ui_draw_rect(ui, (ui_rect){m.x, (int)MAPY(0), m.w, 1}, st->widget);
    /* the points: the others first, small and grey, then the groups */
    int n = r->n < a->nthumbs ? r->n : a->nthumbs;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++) {
            int c = r->label[i];
            if ((c >= 0) != pass) continue;
            int x = (int)MAPX(p->xy[2 * i]), y = (int)MAPY(p->xy[2 * i + 1]);
            if (c < 0) ui_draw_rect(ui, (ui_rect){x - 1, y - 1, 3, 3}, r->k >= 2 ? OTHER : st->text_dim);
            else ui_draw_rect(ui, (ui_rect){x - 2, y - 2, 5, 5}, PALETTE[c]);
        }
    /* hover: the nearest face within 8 pixels; a face a script can click: the one farthest from its neighbours */
    int mx = ui->mouse_x, my = ui->mouse_y, over = mx >= m.x && my >= m.y && mx < m.x + m.w && my < m.y + m.h;
    v->hover = -1;
    double best = 64;
    for (int i = 0; i < n && over; i++) {
        double dx = MAPX(p->xy[2 * i]) - mx, dy = MAPY(p->xy[2 * i + 1]) - my, d = dx * dx + dy * dy;
        if (d < best) best = d, v->hover = i;
    }
    if (ui->record) {
        v->pick = -1;
        double far = 0;
        for (int i = 0; i < n; i += 7) {   /* a sample is enough */
            if (i == a->current) continue;
            double near = INFINITY, xi = MAPX(p->xy[2 * i]), yi = MAPY(p->xy[2 * i + 1]);
            for (int j = 0; j < n; j++) {
                if (j == i) continue;
                double dx = MAPX(p->xy[2 * j]) - xi, dy = MAPY(p->xy[2 * j + 1]) - yi;
                near = fmin(near, dx * dx + dy * dy);
            }
            if (near > far && near > 100) far = near, v->pick = i;
        }
        if (v->pick >= 0)
            ui_name(ui, "point/pick", (ui_rect){(int)MAPX(p->xy[2 * v->pick]) - 1, (int)MAPY(p->xy[2 * v->pick + 1]) - 1, 3, 3});
    }
    if (ui_area(ui, "map", m) && v->hover >= 0) {
        zs_app_select(a, v->hover);
        zs_app_message(a, 0, "Face %d (%s) is the current face", v->hover + 1, zs_cache_id(a->gallery, v->hover));
    }
    /* the current face, and the path of its edited latent */
    ui_color path = {250, 250, 140, 255};
    if (a->src == ZS_SRC_GALLERY && a->current >= 0 && a->current < n) {
        int x = (int)MAPX(p->xy[2 * a->current]), y = (int)MAPY(p->xy[2 * a->current + 1]);
        ui_draw_box(ui, (ui_rect){x - 6, y - 6, 13, 13}, st->text, 2);
        ui_name(ui, "point/current", (ui_rect){x - 6, y - 6, 13, 13});
    }
    if (v->ntrail > 0 && v->trail_key == zs_app_face_key(a)) {
        project_trail(a, p, which);
        int budget = 1600 / v->ntrail;   /* rectangles for the whole path: the command list is fixed memory */
        for (int t = 1; t < v->ntrail; t++)
            segment(ui, MAPX(v->txy[t - 1][0]), MAPY(v->txy[t - 1][1]), MAPX(v->txy[t][0]), MAPY(v->txy[t][1]), path,
                    budget < 40 ? budget : 40);
        int x = (int)MAPX(v->txy[v->ntrail - 1][0]), y = (int)MAPY(v->txy[v->ntrail - 1][1]);
        ui_draw_rect(ui, (ui_rect){x - 3, y - 3, 7, 7}, path);
        ui_name(ui, "point/edited", (ui_rect){x - 3, y - 3, 7, 7});
    }
    if (v->hover >= 0) {   /* the face under the mouse, beside it */
        int S = a->S ? a->S : 64, cell = S * 3 / 2 > 96 ? S * 3 / 2 : 96;
        int i = v->hover, x = (int)MAPX(p->xy[2 * i]), y = (int)MAPY(p->xy[2 * i + 1]);
        int bx = x + 12 + cell > m.x + m.w ? x - 12 - cell : x + 12, by = y - cell / 2;
        by = by < m.y ? m.y : by;
        char name[64] = "";
        if (r->label[i] >= 0) class_name(v, r->label[i], name, sizeof name);
        int lines = name[0] ? 2 : 1;
        by = by + cell + lines * th + 4 > m.y + m.h ? m.y + m.h - cell - lines * th - 4 : by;
        ui_draw_rect(ui, (ui_rect){bx - 2, by - 2, cell + 4, cell + lines * th + 6}, st->border);
        ui_draw_image(ui, (ui_rect){bx, by, cell, cell}, a->thumbs[i]);
        ui_name(ui, "image/hover", (ui_rect){bx, by, cell, cell});
        zs_strf(buf, sizeof buf, "face %d", i + 1);
        ui_draw_text_in(ui, (ui_rect){bx, by + cell + 2, cell, th}, buf, st->text, 0);
        if (name[0]) ui_draw_text_in(ui, (ui_rect){bx, by + cell + 2 + th, cell, th}, name, st->text_dim, 0);
        ui_draw_box(ui, (ui_rect){x - 4, y - 4, 9, 9}, st->text, 1);
    }
    ui_pop_clip(ui);
    zs_strf(buf, sizeof buf, "%s", m.w > 560 ? "white ring: the current face; yellow: its edited latent and the path the "
                                               "sliders took" : "ring: current face; yellow: its edit's path");
    ui_draw_text_in(ui, (ui_rect){m.x, m.y + m.h + 2, m.w, th}, buf, st->text_dim, 0);
#undef MAPX
#undef MAPY
}

void zs_anview_centre(zs_app *a, ui_rect b)
{
    ui_ctx *ui = a->ui;
    zs_anview *v = a->an;
    const char *wait = !a->model ? "No model: nothing to analyse"
                       : !a->gallery ? "No gallery: nothing to analyse"
                       : !v->have ? "Encoding the gallery's faces and computing..." : NULL;
    if (wait) {
        ui_draw_text_in(ui, (ui_rect){b.x, b.y + b.h / 2 - ui->text_h, b.w, ui->text_h}, wait, ui->style.text, 0);
        return;
    }
    if (!v->r.ok) {
        char buf[700];
        zs_strf(buf, sizeof buf, "No statistics: %s", v->r.msg);
        ui_layout_body(ui, b);
        ui_layout_row(ui, 1, NULL, 0);
        ui_label_wrap(ui, buf, ui->style.error);
        return;
    }
    if (v->mode == 0) stats_centre(a, b);
    else proj_centre(a, b);
}

/* ---- the right panel --------------------------------------------------------------------------- */
void zs_anview_panel(zs_app *a)
{
    ui_ctx *ui = a->ui;
    const ui_style *st = &ui->style;
    zs_anview *v = a->an;
    const zs_an_result *r = &v->r;
    char buf[400];
    static const char *const modes[2] = {"Statistics", "Projection"}, *const projs[2] = {"PCA", "LDA"};
    ui_layout_row(ui, 1, NULL, 24);
    ui_tabs(ui, modes, 2, &v->mode);
    ui_layout_row(ui, 1, NULL, 0);
    int ready = v->have && r->ok;
    if (a->fitting) ui_label_wrap(ui, "Encoding the gallery's faces with the current weights...", st->text_dim);
    else if (v->have && (v->dirty || zs_analyzer_busy(v->w))) ui_label_wrap(ui, "Recomputing...", st->text_dim);
    if (a->tv && ui_toggle(ui, "Follow training (the weights being trained)", &v->follow) && !v->follow)
        v->dirty = 1;   /* back to the explorer's own weights */
    if (v->mode == 0) {
        if (!ready) return;
        ui_layout_row(ui, 2, (int[]){90, 0}, 0);
        ui_label(ui, "component");
        ui_slider(ui, "component", &v->comp_f, 0, (float)(r->z - 1), "z%.0f");
        v->comp_f = roundf(v->comp_f);
        ui_layout_row(ui, 1, NULL, 0);
        ui_label_ex(ui, "Dominant components (largest sd):", st->text, -1);
        int top = r->z / 10 > 0 ? r->z / 10 : 1;
        ui_begin_scroll(ui, "dominant", ui_layout_rest(ui), &v->scroll);
        ui_layout_row(ui, 3, (int[]){70, 120, 0}, ui->text_h + 2);
        for (int i = 0; i < top; i++) {
            int j = r->st.order[i];
            zs_strf(buf, sizeof buf, "z%d", j);
            ui_label_ex(ui, buf, st->accent, -1);
            zs_strf(buf, sizeof buf, "sd %.3f", r->st.std[j]);
            ui_label_ex(ui, buf, st->text, -1);
            zs_strf(buf, sizeof buf, "mean %+.3f", r->st.mean[j]);
            ui_label_ex(ui, buf, st->text_dim, -1);
        }
        ui_layout_row(ui, 1, NULL, 0);
        int weak = 0;
        for (int j = 0; j < r->z; j++) weak += r->st.std[j] < 0.1;
        zs_strf(buf, sizeof buf, "%d of %d components have sd < 0.1 (collapsed to the prior's mean: unused by the "
                "decoder). A dominant component spreads the faces most.", weak, r->z);
        ui_label_wrap(ui, buf, st->text_dim);
        zs_strf(buf, sizeof buf, "Computed from %d faces on the analysis thread in %.0f ms (%.0f ms of CPU; it "
                "runs at a lower priority than the UI).", r->n, r->ms, r->cpu_ms);
        ui_label_wrap(ui, buf, st->text_dim);
        ui_end_scroll(ui);
        return;
    }
    ui_layout_row(ui, 1, NULL, 24);
    ui_tabs(ui, projs, 2, &v->proj);
    ui_layout_row(ui, 1, NULL, 0);
    ui_label_ex(ui, "Groups (attributes; one: with / without):", st->text_dim, -1);
    ui_layout_row(ui, 1, NULL, 24);
    if (ui_textbox(ui, "groups", v->groups, sizeof v->groups, "e.g. " HAIR_SET) & UI_CHANGED) parse_groups(v);
    if (v->groups_msg[0]) ui_label_wrap(ui, v->groups_msg, st->error);
    int q = (ui->lay.body.w - 3 * st->spacing) / 4;
    ui_layout_row(ui, 4, (int[]){q, q, q, 0}, 24);
    static const char *const preset_names[4] = {"Hair", "Male", "Smiling", "Young"};
    static const char *const presets[4] = {HAIR_SET, "Male", "Smiling", "Young"};
    for (int i = 0; i < 4; i++)
        if (ui_button(ui, preset_names[i]) && strcmp(v->groups, presets[i]) != 0) {
            snprintf(v->groups, sizeof v->groups, "%s", presets[i]);
            parse_groups(v);
        }
    if (!ready) return;
    ui_layout_row(ui, 3, (int[]){14, -(60 + st->spacing), 0}, ui->text_h + 4);
    int labelled = 0;
    for (int c = 0; c < r->k; c++) {
        char name[64];
        class_name(v, c, name, sizeof name);
        ui_rect sw = ui_layout_next(ui);
        ui_draw_rect(ui, (ui_rect){sw.x + 2, sw.y + sw.h / 2 - 4, 9, 9}, PALETTE[c]);
        ui_label_ex(ui, name, st->text, -1);
        zs_strf(buf, sizeof buf, "%d", r->count[c]);
        ui_label_ex(ui, buf, st->text_dim, 1);
        labelled += r->count[c];
    }
    if (r->k >= 2 && labelled < r->n) {
        ui_rect sw = ui_layout_next(ui);
        ui_draw_rect(ui, (ui_rect){sw.x + 3, sw.y + sw.h / 2 - 2, 5, 5}, OTHER);
        ui_label_ex(ui, "in none or several (left out)", st->text_dim, -1);
        zs_strf(buf, sizeof buf, "%d", r->n - labelled);
        ui_label_ex(ui, buf, st->text_dim, 1);
    }
    ui_layout_row(ui, 1, NULL, 0);
    const zs_an_plane *pca = &r->pca, *lda = &r->lda;
    if (r->k >= 2 && lda->ok) {
        zs_strf(buf, sizeof buf, "Separation (nearest group centre in the plane): PCA %.0f%%, LDA %.0f%% (%.0f%% held "
                "out). LDA's shrinkage %.2f; between/within variance along LD1 %.2f.", 100 * pca->acc, 100 * lda->acc,
                100 * lda->acc_held, lda->shrinkage, lda->axis_info[0]);
        ui_label_wrap(ui, buf, st->text_dim);
    }
    /* the current face */
    ui_layout_row(ui, 2, (int[]){64, 0}, 64);
    ui_rect tr = ui_layout_next(ui);
    int shown = a->have_edit && a->edit_key == zs_app_face_key(a);
    if (shown) ui_draw_image(ui, tr, (ui_image){a->tex_edit, 0, 0, 1, 1, a->sharpen});
    else ui_draw_rect(ui, tr, st->bg);
    ui_rect lr = ui_layout_next(ui);
    char label[200];
    zs_app_current_label(a, label, sizeof label);
    zs_strf(buf, sizeof buf, "Current: %s", label);
    ui_draw_text_in(ui, (ui_rect){lr.x, lr.y, lr.w, ui->text_h}, buf, st->text, -1);
    ui_layout_row(ui, 1, NULL, 0);
    ui_label_wrap(ui, "Hover a point to see the face; click it to make it the current face. Move the sliders in the "
                      "Attributes tab: the path of the edited latent is drawn here.", st->text_dim);
}

void zs_anview_print(const zs_app *a)
{
    const zs_anview *v = a->an;
    if (!v) {
        printf("analysis none\n");
        return;
    }
    const zs_an_result *r = &v->r;
    printf("analysis have=%d ok=%d gen=%llu posted=%llu mode=%d proj=%d n=%d z=%d k=%d hover=%d pick=%d trail=%d "
           "comp=%d step=%ld live=%d ms=%.1f cpu_ms=%.1f\n", v->have, v->have && r->ok,
           (unsigned long long)(v->have ? r->gen : 0), (unsigned long long)v->gen_posted, v->mode, v->proj, r->n, r->z,
           r->k, v->hover, v->pick, v->ntrail, (int)v->comp_f, r->weights_step, r->live, v->have ? r->ms : 0.0,
           v->have ? r->cpu_ms : 0.0);
    if (!v->have || !r->ok) return;
    printf("analysis_stats centre=%.4f centre_sigmas=%.4f top_share=%.4f norm=%.4f+-%.4f prior=%.4f dominant",
           r->st.centre_norm, r->st.centre_sigmas, r->st.var_share_top, r->st.norm_mean, r->st.norm_std,
           r->st.prior_norm_mean);
    for (int i = 0; i < (r->z / 10 > 0 ? r->z / 10 : 1); i++) printf(" %d", r->st.order[i]);
    printf("\nanalysis_pairs");
    for (int p = 0; p < r->npairs && p < 5; p++) printf(" %d-%d:%.3f", r->pairs[2 * p], r->pairs[2 * p + 1], r->r[p]);
    printf("\nanalysis_groups");
    for (int c = 0; c < r->k; c++) {
        char name[64];
        class_name(v, c, name, sizeof name);
        for (char *p = name; *p; p++)
            if (*p == ' ') *p = '_';
        printf(" %s=%d", name, r->count[c]);
    }
    printf("\nanalysis_sep pca=%.4f lda=%.4f held=%.4f shrink=%.4f lda_ok=%d pca_var=%.4f,%.4f\n", r->pca.acc,
           r->lda.acc, r->lda.acc_held, r->lda.shrinkage, r->lda.ok, r->pca.axis_info[0], r->pca.axis_info[1]);
    if (!r->lda.ok) printf("analysis_lda_msg %s\n", r->lda.msg);
}
