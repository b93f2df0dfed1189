/* Writes the seed corpora of fuzz_ckpt and fuzz_cache (the committed files
 * in tests/fuzz/corpus/ckpt and corpus/cache came from this; run by hand):
 *
 *   build-fuzz/tests/fuzz/fuzz_make_seeds tests/fuzz/corpus
 *
 * ckpt:  a full checkpoint (weights, Adam moments, training state) and
 *        weights-only float32 and float16 files of a tiny model (z=4,
 *        widths 2,2,2,2: ~1,000 numbers), a 128-pixel weights-only one, a
 *        safetensors file that is not a model, and a cut checkpoint;
 * cache: faces of 8x8 pixels from a CelebA-shaped directory of generated
 *        JPEGs, 3 faces (odd length: the fuzzer rewrites its CRCs) and 2
 *        (even: raw), and a cut one. */
#include "zspace/st.h"
#include "zspace/trainer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void die(const char *what)
{
    fprintf(stderr, "fuzz_make_seeds: %s: %s\n", what, zs_last_error());
    exit(1);
}

static void cut(const char *from, const char *to, double frac)
{
    uint8_t *b;
    size_t n;
    if (zs_read_file(from, &b, &n, 1 << 26) != ZS_OK) die(from);
    FILE *f = fopen(to, "wb");
    if (!f) die(to);
    fwrite(b, 1, (size_t)(n * frac), f);
    fclose(f);
    free(b);
}

static void models(const char *dir)
{
    char p[1024];
    zs_vae_config c;
    if (zs_vae_config_parse("z=4 image=64 widths=2,2,2,2", &c) != ZS_OK) die("config");
    zs_vae *m = zs_vae_create(&c);
    zs_vae_init(m, 7);
    zs_vae_train *t = zs_vae_train_create(m, &(zs_train_desc){.max_batch = 2, .threads = 1, .seed = 3});
    /* two real steps, so the moments are not zero */
    float *x = malloc(sizeof(float) * 2 * 3 * 64 * 64);
    for (int i = 0; i < 2 * 3 * 64 * 64; i++) x[i] = 0.5f + 0.4f * sinf(0.01f * (float)i);
    zs_step_stats st;
    for (int k = 0; k < 2; k++) zs_vae_train_step(t, x, 2, NULL, &st);
    free(x);
    zs_ckpt_info info = {.cfg = c, .step = 2, .epoch = 0, .batch_in_epoch = 2, .seed = 3, .data_hash = 0x1234abcd,
                         .lr = 5e-4f, .beta = 1, .batch = 2, .loss = ZS_LOSS_SSE};
    snprintf(p, sizeof p, "%s/tiny_ckpt.safetensors", dir);
    if (zs_ckpt_save(p, m, t, &info, 0) != ZS_OK) die(p);
    char q[1100];
    snprintf(q, sizeof q, "%s/cut_ckpt.safetensors", dir);
    cut(p, q, 0.6);
    snprintf(p, sizeof p, "%s/tiny_f32.safetensors", dir);
    if (zs_ckpt_save(p, m, NULL, &info, 0) != ZS_OK) die(p);
    snprintf(p, sizeof p, "%s/tiny_f16.safetensors", dir);
    if (zs_ckpt_save(p, m, NULL, &info, 1) != ZS_OK) die(p);
    zs_vae_train_destroy(t);
    zs_vae_destroy(m);

    zs_vae_config c128;
    if (zs_vae_config_parse("z=2 image=128 widths=1,1,1,1,1", &c128) != ZS_OK) die("config 128");
    m = zs_vae_create(&c128);
    zs_vae_init(m, 8);
    info.cfg = c128;
    snprintf(p, sizeof p, "%s/tiny128_f16.safetensors", dir);
    if (zs_ckpt_save(p, m, NULL, &info, 1) != ZS_OK) die(p);
    zs_vae_destroy(m);

    /* a latents-like file: safetensors, but no model */
    float mu[6] = {0, 1, 2, 3, 4, 5};
    zs_st_writer w;
    zs_st_writer_init(&w);
    zs_st_add(&w, "mu", ZS_DT_F32, 2, (int64_t[]){3, 2}, mu);
    zs_st_add_meta(&w, "model_hash", "00000000deadbeef");
    snprintf(p, sizeof p, "%s/not_a_model.safetensors", dir);
    if (zs_st_write(&w, p) != ZS_OK) die(p);
    zs_st_writer_free(&w);
}

static void caches(const char *dir, const char *tmp)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/img_align_celeba", tmp);
    mkdir(tmp, 0777);
    mkdir(p, 0777);
    FILE *fa, *fp;
    snprintf(p, sizeof p, "%s/list_attr_celeba.txt", tmp);
    if (!(fa = fopen(p, "w"))) die(p);
    snprintf(p, sizeof p, "%s/list_eval_partition.txt", tmp);
    if (!(fp = fopen(p, "w"))) die(p);
    fprintf(fa, "3\n");
    for (int a = 0; a < ZS_NATTR; a++) fprintf(fa, "%s ", zs_attr_names[a]);
    fprintf(fa, "\n");
    zs_image im = {40, 48, malloc(40 * 48 * 3)};
    for (int i = 1; i <= 3; i++) {
        for (int k = 0; k < im.w * im.h * 3; k++) im.rgb[k] = (uint8_t)(128 + 100 * sin(0.1 * k * i));
        snprintf(p, sizeof p, "%s/img_align_celeba/%06d.jpg", tmp, i);
        if (zs_image_write_jpeg(p, &im, 80) != ZS_OK) die(p);
        fprintf(fa, "%06d.jpg", i);
        for (int a = 0; a < ZS_NATTR; a++) fprintf(fa, " %d", (i + a) % 3 ? -1 : 1);
        fprintf(fa, "\n");
        fprintf(fp, "%06d.jpg %d\n", i, i - 1);   /* one face per split */
    }
    free(im.rgb);
    fclose(fa);
    fclose(fp);
    zs_index ix;
    if (zs_index_open(&ix, tmp) != ZS_OK) die(tmp);
    zs_prepare_report rep;
    snprintf(p, sizeof p, "%s/faces3_8px.zsf", dir);
    if (zs_cache_build(&ix, p, &(zs_prepare_desc){.size = 8, .threads = 1}, &rep) != ZS_OK) die(p);
    char q[1100];
    snprintf(q, sizeof q, "%s/cut_faces3.zsf", dir);
    cut(p, q, 0.9);
    snprintf(p, sizeof p, "%s/faces2_8px.zsf", dir);
    if (zs_cache_build(&ix, p, &(zs_prepare_desc){.size = 8, .threads = 1, .limit = 2}, &rep) != ZS_OK) die(p);
    zs_index_free(&ix);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_make_seeds CORPUS_DIR (writes CORPUS_DIR/ckpt and CORPUS_DIR/cache)\n");
        return 2;
    }
    zs_blas_init();
    char d[1024], t[1024];
    snprintf(d, sizeof d, "%s/ckpt", argv[1]);
    mkdir(d, 0777);
    models(d);
    snprintf(d, sizeof d, "%s/cache", argv[1]);
    mkdir(d, 0777);
    snprintf(t, sizeof t, "/tmp/zs_fuzz_seeds.%d", (int)getpid());
    caches(d, t);
    printf("seeds written under %s (scratch images left in %s)\n", argv[1], t);
    return 0;
}
