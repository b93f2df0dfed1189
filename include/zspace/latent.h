/*
 * zspace/latent.h - what the explorer does to faces, as library calls:
 * encoding a user's photo the way the cache crops faces, and (issue 5) the
 * attribute vectors, edits, interpolation and sampling.
 */
#ifndef ZSPACE_LATENT_H
#define ZSPACE_LATENT_H

#include "zspace/data.h"
#include "zspace/vae.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The crop for a photo of w x h pixels: an aligned CelebA image (178x218,
 * or any image of that aspect ratio) gets the cache's crop `face`; any other
 * photo gets the largest centred square, assumed to frame the face. */
zs_crop zs_photo_crop(int w, int h, zs_crop face);

/* Load a photo (JPEG or PNG), crop it with zs_photo_crop and reduce it to
 * the model size: CHW floats in [0,1] (3*size*size). */
zs_status zs_photo_load_face(const char *path, zs_crop face, int size, float *chw);

#ifdef __cplusplus
}
#endif
#endif
