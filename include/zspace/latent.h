/*
 * zspace/latent.h - what the explorer does to faces, as library calls:
 * encoding photos the way the cache crops faces, the latents of a whole
 * face cache, the 40 attribute vectors (with their trustworthiness as AUC),
 * edits, interpolation (lerp / slerp), sampling (isotropic or from the
 * Gaussian fitted to the encoded faces) and their principal directions.
 *
 *     zs_latents L;                                   // mu of every face
 *     zs_latents_encode(model, cache, 0, NULL, NULL, &L);
 *     zs_attr_vectors A;                              // train split -> vectors, val -> AUC
 *     zs_attr_vectors_compute(&L, &(zs_attr_desc){.balanced = 1}, &A);
 *     int k = zs_attr_find("Smiling");
 *     zs_latent_add(Z, mu, A.vec + k * Z, 1.0f, out);   // one full vector: a smile
 *     zs_slerp(Z, za, zb, 0.5f, mid);
 *
 * Latent files and attribute files are safetensors (zs_latents_save,
 * zs_attr_vectors_save) that carry the hash of the model that made them
 * (zs_model_hash), so an edit with vectors of another model is refused.
 */
#ifndef ZSPACE_LATENT_H
#define ZSPACE_LATENT_H

#include "zspace/data.h"
#include "zspace/vae.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- photos --------------------------------------------------------------- */
/* The crop for a photo of w x h pixels: an aligned CelebA image (178x218,
 * or any image of that aspect ratio) gets the cache's crop `face`; any other
 * photo gets the largest centred square, assumed to frame the face. */
zs_crop zs_photo_crop(int w, int h, zs_crop face);
/* The crop's square in pixels of a w x h image: x0, y0, side (may reach
 * outside the image, where crop_resize replicates the border). */
void zs_crop_rect(zs_crop c, int w, int h, double *x0, double *y0, double *side);

/* The inverse of zs_crop_rect: the crop whose square in a w x h image has
 * its top left at (x0, y0) and the given side, all in pixels (the user's
 * own framing of a photo: `zspace edit --crop`, the explorer's Photo tab). */
zs_crop zs_crop_from_rect(int w, int h, double x0, double y0, double side);
/* A user's crop kept sensible for a w x h image: the side between 16
 * pixels and twice the longer edge, the centre inside the image. */
zs_crop zs_crop_clamp(zs_crop c, int w, int h);

/* Load a photo (JPEG or PNG), crop it with zs_photo_crop and reduce it to
 * the model size: CHW floats in [0,1] (3*size*size). */
zs_status zs_photo_load_face(const char *path, zs_crop face, int size, float *chw);
/* The same from an image already in memory. */
zs_status zs_photo_face(const zs_image *im, zs_crop face, int size, float *chw);
/* The same with `crop` taken as it is (no guess from the photo's shape). */
zs_status zs_photo_face_at(const zs_image *im, zs_crop crop, int size, float *chw);

/* ---- model identity --------------------------------------------------------- */
/* 64-bit hash of the architecture and every parameter and running statistic:
 * two models hash alike only if they decode alike. */
uint64_t zs_model_hash(const zs_vae *m);

/* ---- latents of a face cache -------------------------------------------------- */
typedef struct zs_latents {
    int n, z;
    float *mu;              /* (n, z) */
    float *logvar;          /* (n, z) */
    int8_t *attr;           /* (n, ZS_NATTR) -1/+1, copied from the cache */
    int8_t *part;           /* (n) 0/1/2 */
    uint64_t model_hash;    /* zs_model_hash of the encoder */
    uint64_t data_hash;     /* zs_cache_hash of the faces */
} zs_latents;
/* Encode every face of the cache (eval mode, mu and logvar) on `threads`
 * threads (0: all CPUs). progress(user, done, total) is called on the
 * calling thread now and then; may be NULL. */
zs_status zs_latents_encode(const zs_vae *m, const zs_cache *c, int threads,
                            void (*progress)(void *user, int done, int total), void *user, zs_latents *out);
void zs_latents_free(zs_latents *l);
zs_status zs_latents_save(const char *path, const zs_latents *l);
zs_status zs_latents_load(const char *path, zs_latents *l);
/* Indices (ascending) of the latents in split s (ZS_SPLIT_ALL: all). */
int zs_latents_split(const zs_latents *l, zs_data_split s, int **out);

/* ---- attribute vectors ----------------------------------------------------------
 * vec[a] = mean(mu | attribute a) - mean(mu | not a) over the train split
 * (the facenet wiki's method). With `balanced`, each attribute's positive
 * and negative means are taken over the cells of its confounders (all
 * combinations of their labels) with equal weight per cell, counting only
 * cells that hold enough positive and negative faces (Tom White, "Sampling
 * Generative Networks"): then Smiling no longer carries Female just because
 * smiling faces are more often women's. The confounders are, in this order
 * of precedence: the list given; or, with `confounders` = k > 0, Male and
 * the k-1 attributes whose labels correlate most with the target; or by
 * default Male alone. (Correlation alone is a poor guide: Smiling's
 * strongest correlates, High_Cheekbones and Mouth_Slightly_Open, are parts
 * of a smile, and balancing them away removes the smile itself: measured,
 * +Smiling then convinced a probe on 67% of faces instead of 82%. Adding
 * Young to Male shortened the Smiling vector and cost 3 points of success
 * for no fewer gender flips: 83.6% / 3.7% against 86.6% / 3.4%.) AUC is
 * the vector's worth as a classifier:
 * the projection of held-out latents onto it, ranked against the labels;
 * 0.5 is chance, NaN when the held-out faces lack either class. When the
 * held-out split has no faces at all, every 10th face of the fit split is
 * held out instead (and not used for the vectors). */
typedef struct zs_attr_desc {
    int balanced;
    int conf_list[8];       /* balanced: these confounders (the target itself is skipped) */
    int nconf_list;
    int confounders;        /* balanced, no list: Male + the k-1 most correlated (0 -> Male alone) */
    int min_cell;           /* balanced: faces per class a cell needs (0 -> 5) */
    zs_data_split fit;      /* split the vectors come from (0 = train) */
    zs_data_split held_out; /* split for AUC (0 -> val; train means val) */
} zs_attr_desc;

typedef struct zs_attr_vectors {
    int z;
    float *vec;                                /* (ZS_NATTR, z), malloc'd */
    int npos[ZS_NATTR], nneg[ZS_NATTR];        /* faces behind each vector */
    float auc[ZS_NATTR];                       /* held-out AUC */
    int conf[ZS_NATTR][8], nconf[ZS_NATTR];    /* balanced: confounders used */
    float mean_proj_pos[ZS_NATTR], mean_proj_neg[ZS_NATTR];   /* held-out, in units of |vec| */
    int balanced;
    int held_out_from_fit;                     /* 1: AUC on every 10th fit face (no held-out split) */
    uint64_t model_hash;
} zs_attr_vectors;
zs_status zs_attr_vectors_compute(const zs_latents *l, const zs_attr_desc *d, zs_attr_vectors *out);
zs_status zs_attr_vectors_save(const char *path, const zs_attr_vectors *a);
zs_status zs_attr_vectors_load(const char *path, zs_attr_vectors *a);
void zs_attr_vectors_free(zs_attr_vectors *a);

/* The attribute whose name is closest to `name` (case-insensitive edit
 * distance), for "did you mean" messages. */
int zs_attr_nearest(const char *name);

/* cos[i * ZS_NATTR + j]: cosine similarity of vectors i and j. */
void zs_attr_cosines(const zs_attr_vectors *a, float *cos);
/* AUC of scores against labels (+1 / -1): probability that a random
 * positive scores above a random negative (ties count half). */
double zs_auc(const float *score, const int8_t *label, int n);
/* v minus its projection onto the span of the k vectors in `others` (each z
 * long): the direction that changes v's attribute while, to first order,
 * leaving the others alone (InterFaceGAN's conditional editing, for any
 * number of conditions). Near-dependent others are skipped. Returns
 * |result| / |v| (the part of v that was its own). out may alias v. */
float zs_orthogonalize(int z, const float *v, const float *others, int k, float *out);

/* The edit direction of attribute k: its vector, orthogonalised against the
 * vectors of the nkeep attributes in `keep` (k itself skipped) when nkeep > 0.
 * out: z floats. */
void zs_attr_edit_vector(const zs_attr_vectors *a, int k, const int *keep, int nkeep, float *out);

/* ---- edits, interpolation, sampling ---------------------------------------------- */
/* out = mu + s * v. out may alias mu. */
void zs_latent_add(int z, const float *mu, const float *v, float s, float *out);
/* (1 - t) a + t b */
void zs_lerp(int z, const float *a, const float *b, float t, float *out);
/* Along the great circle from a's direction to b's, the norm going linearly
 * from |a| to |b| (for equal norms: Shoemake's slerp, which keeps the
 * norm that samples of the prior have). Identical directions give lerp;
 * antipodal ones turn through a fixed perpendicular direction. */
void zs_slerp(int z, const float *a, const float *b, float t, float *out);

/* The Gaussian fitted to encoded faces: mean, covariance and its Cholesky
 * factor (covariance = L L^T, lower triangle, row-major z x z). */
typedef struct zs_gauss { int z; float *mean; double *cov; double *chol; } zs_gauss;
zs_status zs_gauss_fit(const float *x, int n, int z, zs_gauss *g);
void zs_gauss_free(zs_gauss *g);
/* count samples (count, z): isotropic z = radius * N(0, I) when g == NULL,
 * else z = mean + radius * L N(0, I). The noise is zs_normal(key, i * z + j). */
void zs_latent_sample(const zs_gauss *g, int z, int count, float radius, uint64_t seed, float *out);

/* The k principal directions of n latents (n, z) (src/latent/pca.c): the
 * unit eigenvectors of their covariance with the k largest eigenvalues,
 * largest first, each signed so that its largest component is positive.
 * var[i] / total_var is the fraction of the variance direction i explains. */
typedef struct zs_pca {
    int z, k;
    float *mean;            /* (z) */
    float *dir;             /* (k, z) orthonormal */
    float *var;             /* (k) variance along each direction */
    double total_var;       /* trace of the covariance: the variance of all z dimensions */
} zs_pca;
zs_status zs_pca_fit(const float *x, int n, int z, int k, zs_pca *p);   /* k > z: z directions */
void zs_pca_free(zs_pca *p);

/* ---- keep-detail edits (the Neural Photo Editor's residual) ----------------------
 * The model's plain decode d0 and edited decode d1 (CHW, size x size, of the
 * crop `crop` of `photo`) become an edit at the photo's own resolution:
 * out = photo + mask * upsample(d1 - d0), the mask smooth in [0, 1] and
 * nonzero only where the decodes differ, so everything the edit does not
 * touch keeps the photo's own pixels. out is allocated like photo. */
zs_status zs_detail_edit(const zs_image *photo, zs_crop crop, const float *d0, const float *d1, int size,
                         zs_image *out);

/* ---- judging edits ------------------------------------------------------------------
 * Linear probes: one logistic regression per attribute from mu (standardised)
 * to the label, fitted on one split. They stand in for an attribute
 * classifier: an edited face is decoded, encoded again, and the probes say
 * what the picture now shows, so an edit is judged by its image, not by the
 * latent it came from. */
typedef struct zs_probes {
    int z;
    float *w;                  /* (ZS_NATTR, z), on standardised mu */
    float *mean, *scale;       /* (z): x_std = (mu - mean) * scale */
    float b[ZS_NATTR];
    float acc[ZS_NATTR];       /* accuracy on the held-out split (NaN if none) */
    float base_rate[ZS_NATTR]; /* fraction positive in the fit split */
} zs_probes;
/* Fit on `fit`, report accuracy on `held_out`. */
zs_status zs_probes_fit(const zs_latents *l, zs_data_split fit, zs_data_split held_out, zs_probes *p);
void zs_probes_free(zs_probes *p);
/* out (n, ZS_NATTR): +1 / -1 judgements of n latents. */
void zs_probes_predict(const zs_probes *p, const float *mu, int n, int8_t *out);

typedef struct zs_edit_report {
    int attr;
    float strength;
    int n;                     /* held-out faces judged: labelled without the attribute (with it, for s < 0) */
    float success;             /* fraction judged to show it after the edit (not to, for s < 0) */
    float before;              /* the same judgement of their plain reconstructions */
    float flip[ZS_NATTR];      /* fraction whose judgement of attribute j changed vs the plain reconstruction */
} zs_edit_report;
/* Edit up to max_faces (0: all) faces of the cache's `split` (0 -> val)
 * along attribute `attr` at `strength` (the vector orthogonalised against
 * `keep`, nkeep of them, when nkeep > 0) and judge the decoded pictures:
 * with the probes on their encodings, or, when f is not NULL, with that
 * attribute network (zspace/features.h) on the pictures themselves
 * (logit > 0; p is then not used and may be NULL). */
struct zs_feat;
zs_status zs_edit_judge(const zs_vae *m, const zs_cache *c, zs_data_split split, const zs_attr_vectors *a,
                        const zs_probes *p, const struct zs_feat *f, int attr, float strength, const int *keep,
                        int nkeep, int max_faces, int threads, zs_edit_report *r);

#ifdef __cplusplus
}
#endif
#endif
