/* Trainer and checkpoints: save/load round trip, refusal of every kind of
 * damaged or foreign checkpoint (truncated at 10 offsets, bit flips, other
 * architecture, newer version, weights-only for resume, NaN weights), a
 * full disk keeping the previous checkpoint, resume equality, NaN recovery
 * and the background thread's snapshots. Uses a small synthetic CelebA
 * directory and a small model so that it runs in seconds. */
#include "test_data_fixture.h"
#include "testutil.h"
#include "zspace/st.h"
#include "zspace/trainer.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define NFACES 48

static char dir[512], cache_path[600];

/* A CelebA-shaped directory of NFACES smooth random 178x218 JPEGs. */
static void tr_picture(int i, int w, int h, uint8_t *rgb)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                rgb[((size_t)y * w + x) * 3 + c] =
                    (uint8_t)(128 + 100 * sin(0.05 * x * (1 + c) + 0.07 * y * (i % 5 + 1) + i));
}
static int tr_attr(int i, int a) { return (i + a) % 3 ? -1 : 1; }
static int tr_partition(int i) { return i % 6 == 0 ? 1 : 0; }

static void make_dataset(void)
{
    snprintf(dir, sizeof dir, "%s/celeba", zs_test_tmpdir());
    snprintf(cache_path, sizeof cache_path, "%s/faces.zsf", zs_test_tmpdir());
    int ids[NFACES];
    for (int i = 0; i < NFACES; i++) ids[i] = i + 1;
    zs_cache *c;
    if (fx_make_celeba_cache(dir,
                             &(fx_celeba){.rows = NFACES, .images = ids, .n_images = NFACES, .picture = tr_picture,
                                          .attr = tr_attr, .partition = tr_partition, .quality = 90},
                             cache_path, &c) != 0)
        abort();
    zs_cache_close(c);
}

static zs_vae_config small_cfg(void)
{
    zs_vae_config c;
    if (zs_vae_config_parse("z=16 image=64 widths=8,16,16,16", &c) != ZS_OK) abort();
    return c;
}

static zs_trainer *new_trainer(zs_cache *c, zs_vae *m, int threads)
{
    zs_trainer *tr;
    zs_status st = zs_trainer_create(&tr, &(zs_trainer_desc){.cache = c, .model = m, .batch = 8, .threads = threads,
                                                              .lr = 1e-3f, .seed = 5, .publish_every = 2});
    CHECKF(st == ZS_OK, "%s", zs_last_error());
    return tr;
}

static int same_params(const zs_vae *a, const zs_vae *b)
{
    return memcmp(a->params, b->params, sizeof(float) * a->table.total) == 0;
}

static void test_resume_and_checkpoints(zs_cache *c)
{
    char ck[700], ck2[700];
    snprintf(ck, sizeof ck, "%s/a.safetensors", zs_test_tmpdir());
    snprintf(ck2, sizeof ck2, "%s/b.safetensors", zs_test_tmpdir());
    zs_vae_config cfg = small_cfg();

    /* uninterrupted: 12 steps (the 5-batch epoch wraps twice) */
    zs_vae *m1 = zs_vae_create(&cfg);
    zs_vae_init(m1, 5);
    zs_trainer *t1 = new_trainer(c, m1, 2);
    CHECK(zs_trainer_steps_per_epoch(t1) == 5);   /* 40 train faces / 8 */
    double t_run = zs_now();
    CHECK(zs_trainer_run_steps(t1, 12) == ZS_OK);
    zs_train_metrics mt;
    zs_trainer_snapshot(t1, NULL, &mt, NULL);
    CHECK(mt.step == 12 && mt.epoch == 2 && mt.batch_in_epoch == 2);
    /* the explorer's --bench times whole steps by it */
    CHECKF(mt.step_done > t_run && mt.step_done <= zs_now(), "step_done %.3f, run from %.3f", mt.step_done, t_run);
    CHECK(mt.loss > 0 && mt.rec > 0 && mt.kl >= 0);

    /* interrupted at 7, saved, loaded into a fresh trainer, 5 more */
    zs_vae *m2 = zs_vae_create(&cfg);
    zs_vae_init(m2, 5);
    zs_trainer *t2 = new_trainer(c, m2, 2);
    CHECK(zs_trainer_run_steps(t2, 7) == ZS_OK);
    CHECKF(zs_trainer_save(t2, ck) == ZS_OK, "%s", zs_last_error());
    zs_trainer_destroy(t2);
    zs_vae_destroy(m2);
    zs_vae *m3 = zs_vae_create(&cfg);
    zs_vae_init(m3, 99);   /* different init: everything must come from the file */
    zs_trainer *t3 = new_trainer(c, m3, 2);
    zs_ckpt_info info;
    CHECKF(zs_trainer_load(t3, ck, &info) == ZS_OK, "%s", zs_last_error());
    CHECK(info.step == 7 && info.epoch == 1 && info.batch_in_epoch == 2 && info.has_opt);
    CHECK(info.data_hash == zs_cache_hash(c));
    CHECK(zs_trainer_run_steps(t3, 5) == ZS_OK);
    CHECKF(same_params(m1, m3), "resumed run's weights differ from the uninterrupted run's");
    zs_trainer_destroy(t3);

    /* weights-only f16 file: loads for inference (close), refused for resume */
    zs_ckpt_info wi;
    zs_trainer_ckpt_info(t1, &wi);
    CHECK(zs_ckpt_save(ck2, m1, NULL, &wi, 1) == ZS_OK);
    zs_vae *w16;
    CHECKF(zs_ckpt_load_model(ck2, &w16, NULL) == ZS_OK, "%s", zs_last_error());
    double e16 = zs_test_rel_err(w16->params, m1->params, m1->table.total, 1e-3);
    CHECKF(e16 < 1e-3, "float16 weights differ by %.3g", e16);
    zs_vae_destroy(w16);
    zs_trainer *t4 = new_trainer(c, m3, 1);
    CHECK(zs_trainer_load(t4, ck2, NULL) != ZS_OK && strstr(zs_last_error(), "optimizer"));
    zs_trainer_destroy(t4);

    /* another architecture */
    zs_vae_config other = cfg;
    other.z = 32;
    zs_vae *mo = zs_vae_create(&other);
    CHECK(zs_ckpt_load_into(ck, mo, NULL, NULL) != ZS_OK && strstr(zs_last_error(), "expected"));
    zs_vae_destroy(mo);

    /* truncated at 10 offsets, and bit flips: refused, model untouched */
    uint8_t *buf;
    size_t len;
    CHECK(zs_read_file(ck, &buf, &len, 1 << 30) == ZS_OK);
    char bad[700];
    snprintf(bad, sizeof bad, "%s/bad.safetensors", zs_test_tmpdir());
    zs_vae *mv = zs_vae_create(&cfg);
    zs_vae_init(mv, 3);
    float *before = malloc(sizeof(float) * mv->table.total);
    memcpy(before, mv->params, sizeof(float) * mv->table.total);
    int refused = 0;
    for (int k = 0; k < 10; k++) {
        size_t cut = k == 0 ? 0 : k == 1 ? 7 : k == 9 ? len - 1 : (size_t)(len * (k / 10.0));
        FILE *f = fopen(bad, "wb");
        fwrite(buf, 1, cut, f);
        fclose(f);
        if (zs_ckpt_load_into(bad, mv, NULL, NULL) != ZS_OK && strstr(zs_last_error(), bad)) refused++;
    }
    CHECKF(refused == 10, "%d of 10 truncated checkpoints refused with a message naming the file", refused);
    refused = 0;
    for (int k = 0; k < 40; k++) {
        uint8_t *cp = malloc(len);
        memcpy(cp, buf, len);
        size_t at = (size_t)(zs_rand64(77, k) % len);
        cp[at] ^= (uint8_t)(1u << (k % 8));
        FILE *f = fopen(bad, "wb");
        fwrite(cp, 1, len, f);
        fclose(f);
        free(cp);
        if (zs_ckpt_load_into(bad, mv, NULL, NULL) != ZS_OK) refused++;
    }
    /* a flip inside the JSON can keep it valid only by luck (e.g. in a
     * digit of a metadata value we ignore); the payload is CRC-protected */
    CHECKF(refused >= 38, "%d of 40 bit-flipped checkpoints refused", refused);
    CHECK(memcmp(before, mv->params, sizeof(float) * mv->table.total) == 0);

    /* a newer version */
    zs_st_file sf;
    CHECK(zs_st_open(&sf, ck) == ZS_OK);
    zs_st_writer w;
    zs_st_writer_init(&w);
    for (int i = 0; i < sf.n; i++)
        zs_st_add(&w, sf.t[i].name, sf.t[i].dtype, sf.t[i].ndim, sf.t[i].shape, zs_st_data(&sf, &sf.t[i]));
    for (int i = 0; i < sf.nmeta; i++)
        if (strcmp(sf.meta_key[i], "payload_crc32") != 0)
            zs_st_add_meta(&w, sf.meta_key[i], strcmp(sf.meta_key[i], "version") == 0 ? "2" : sf.meta_val[i]);
    CHECK(zs_st_write(&w, bad) == ZS_OK);
    zs_st_writer_free(&w);
    zs_st_close(&sf);
    CHECK(zs_ckpt_load_into(bad, mv, NULL, NULL) == ZS_ERR_VERSION && strstr(zs_last_error(), "newer"));

    /* a 200-byte file whose config asks for the largest model (z=4096,
     * widths of 1024: ~1.3 GB of float32): refused from the header, before
     * anything of that size is allocated */
    zs_st_writer_init(&w);
    float one = 1;
    zs_st_add(&w, "enc.bn0.weight", ZS_DT_F32, 1, (int64_t[]){1}, &one);
    zs_st_add_meta(&w, "format", "zspace-vae");
    zs_st_add_meta(&w, "version", "1");
    zs_st_add_meta(&w, "config", "z=4096 image=128 widths=1024,1024,1024,1024,1024");
    CHECK(zs_st_write(&w, bad) == ZS_OK);
    zs_st_writer_free(&w);
    zs_ckpt_info hi;
    CHECK(zs_ckpt_read_info(bad, &hi) == ZS_ERR_FORMAT);
    CHECKF(strstr(zs_last_error(), bad) && strstr(zs_last_error(), "enc.conv0.weight is missing"), "%s", zs_last_error());
    zs_vae *huge = NULL;
    CHECK(zs_ckpt_load_model(bad, &huge, NULL) == ZS_ERR_FORMAT && huge == NULL);

    /* a full disk while saving: the previous checkpoint stays loadable */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 4096;
    setrlimit(RLIMIT_FSIZE, &lim);
    zs_status ss = zs_trainer_save(t1, ck);
    setrlimit(RLIMIT_FSIZE, &old);
    CHECK(ss == ZS_ERR_IO);
    CHECKF(strstr(zs_last_error(), ck) && strstr(zs_last_error(), "previous file is kept"), "%s", zs_last_error());
    CHECKF(zs_ckpt_load_into(ck, mv, NULL, NULL) == ZS_OK, "after a failed save: %s", zs_last_error());
    uint8_t *buf2;
    size_t len2;
    CHECK(zs_read_file(ck, &buf2, &len2, 1 << 30) == ZS_OK);
    CHECKF(len2 == len && memcmp(buf, buf2, len) == 0, "a failed save changed the previous checkpoint");
    free(buf2);
    free(buf);
    free(before);
    zs_vae_destroy(mv);
    zs_trainer_destroy(t1);
    zs_vae_destroy(m1);
    zs_vae_destroy(m3);
}

static void test_nan_recovery(zs_cache *c)
{
    zs_vae_config cfg = small_cfg();
    zs_vae *m = zs_vae_create(&cfg);
    zs_vae_init(m, 5);
    zs_trainer *tr = new_trainer(c, m, 2);
    CHECK(zs_trainer_run_steps(tr, 4) == ZS_OK);
    CHECK(zs_trainer_run_steps(tr, 1) == ZS_OK);   /* run_steps publishes at its end: the good state */
    float *good = malloc(sizeof(float) * m->table.total);
    memcpy(good, m->params, sizeof(float) * m->table.total);
    zs_trainer_inject_nan(tr, 1);
    zs_test_capture_logs();
    CHECK(zs_trainer_run_steps(tr, 1) == ZS_ERR_NUMERIC);
    zs_train_metrics mt;
    zs_trainer_snapshot(tr, NULL, &mt, NULL);
    CHECKF(strstr(mt.message, "halved the learning rate"), "message: %s", mt.message);
    CHECK(zs_test_logs_contain("not finite"));
    CHECKF(mt.lr == 5e-4f && mt.nan_events == 1 && mt.step == 5, "lr %g nan %d step %ld", mt.lr, mt.nan_events, mt.step);
    CHECK(memcmp(good, m->params, sizeof(float) * m->table.total) == 0);
    for (size_t k = 0; k < m->table.total; k++) CHECK(m->params[k] == m->params[k]);
    CHECK(zs_trainer_run_steps(tr, 2) == ZS_OK);   /* training goes on */
    zs_trainer_snapshot(tr, NULL, &mt, NULL);
    CHECKF(mt.step == 7 && isfinite(mt.loss) && mt.state != ZS_TRAINER_FAILED, "after recovery: step %ld loss %g",
           mt.step, mt.loss);
    for (size_t k = 0; k < m->table.total; k++) CHECK(isfinite(m->params[k]));
    CHECK(memcmp(good, m->params, sizeof(float) * m->table.total) != 0);   /* and it learns again */
    zs_trainer_inject_nan(tr, 3);
    zs_trainer_run_steps(tr, 5);
    zs_trainer_snapshot(tr, NULL, &mt, NULL);
    CHECK(zs_trainer_state(tr) == ZS_TRAINER_FAILED && mt.state == ZS_TRAINER_FAILED);
    CHECKF(strstr(mt.message, "3 times in a row"), "message: %s", mt.message);
    free(good);
    zs_trainer_destroy(tr);
    zs_vae_destroy(m);
}

static void copy_file(const char *from, const char *to)
{
    uint8_t *b;
    size_t n;
    CHECK(zs_read_file(from, &b, &n, 1 << 30) == ZS_OK);
    FILE *f = fopen(to, "wb");
    CHECK(f && fwrite(b, 1, n, f) == n);
    if (f) fclose(f);
    free(b);
}

/* The faces going away mid-training: a cache truncated or overwritten in
 * place stops training (state FAILED, a message naming the file) and the
 * model keeps the last step's weights; one deleted (or renamed over, as
 * zspace prepare replaces a cache) keeps training on the faces it opened.
 * The loader runs up to two batches ahead, so the steps already loaded
 * before the damage still happen: the kept model must be exactly the one
 * an undisturbed run has after the same number of steps. */
static void test_data_vanishing(zs_cache *intact)
{
    zs_vae_config cfg = small_cfg();
    char live[700], ck[700];
    snprintf(live, sizeof live, "%s/live.zsf", zs_test_tmpdir());
    snprintf(ck, sizeof ck, "%s/after_loss.safetensors", zs_test_tmpdir());
    for (int mode = 0; mode < 4; mode++) {   /* truncate, overwrite, delete; 3: truncate under the thread */
        copy_file(cache_path, live);
        zs_cache *c;
        CHECKF(zs_cache_open(&c, live) == ZS_OK, "%s", zs_last_error());
        zs_vae *m = zs_vae_create(&cfg);
        zs_vae_init(m, 5);
        zs_trainer *tr = new_trainer(c, m, 2);
        CHECK(zs_trainer_run_steps(tr, 3) == ZS_OK);
        if (mode == 0 || mode == 3) {
            CHECK(truncate(live, 4096 + 1000) == 0);
        } else if (mode == 1) {
            usleep(20000);   /* a visibly later mtime */
            uint8_t *b;
            size_t n;
            CHECK(zs_read_file(cache_path, &b, &n, 1 << 30) == ZS_OK);
            FILE *f = fopen(live, "r+b");   /* in place, as cp over it would */
            CHECK(f && fwrite(b, 1, n, f) == n);
            if (f) fclose(f);
            free(b);
        } else {
            CHECK(unlink(live) == 0);
            zs_test_capture_logs();
            zs_test_clear_logs();
        }
        zs_train_metrics mt;
        if (mode == 3) {
            zs_trainer_start(tr);
            double t0 = zs_now();
            while (zs_trainer_state(tr) != ZS_TRAINER_FAILED && zs_now() - t0 < 20) usleep(1000);
            zs_trainer_stop(tr);
        } else {
            zs_status st = zs_trainer_run_steps(tr, 5);
            CHECKF(mode == 2 ? st == ZS_OK : st == ZS_ERR_IO, "mode %d: %s", mode, zs_last_error());
        }
        zs_trainer_snapshot(tr, NULL, &mt, NULL);
        if (mode == 2) {
            CHECKF(mt.step == 8 && zs_trainer_state(tr) != ZS_TRAINER_FAILED, "a deleted cache stopped training: %s",
                   mt.message);
            CHECKF(zs_test_logs_contain("live.zsf was deleted or replaced while in use"), "logs: %s", zs_test_logs());
        } else {
            CHECKF(zs_trainer_state(tr) == ZS_TRAINER_FAILED && mt.state == ZS_TRAINER_FAILED, "mode %d", mode);
            char kept[64];
            snprintf(kept, sizeof kept, "weights of step %ld are kept", mt.step);
            CHECKF(strstr(mt.message, live) && strstr(mt.message, mode == 1 ? "modified" : "truncated") &&
                       strstr(mt.message, kept),
                   "mode %d: message: %s", mode, mt.message);
            CHECKF(mt.step >= 3 && mt.step <= 5, "mode %d: stopped at step %ld", mode, mt.step);
        }
        /* the model is an undisturbed run's at that step, and saves and loads */
        zs_vae *ref = zs_vae_create(&cfg);
        zs_vae_init(ref, 5);
        zs_trainer *rt = new_trainer(intact, ref, 2);
        CHECK(zs_trainer_run_steps(rt, mt.step) == ZS_OK);
        CHECKF(same_params(m, ref), "mode %d: the kept model is not the undisturbed run's at step %ld", mode, mt.step);
        zs_trainer_destroy(rt);
        zs_vae_destroy(ref);
        CHECKF(zs_trainer_save(tr, ck) == ZS_OK, "%s", zs_last_error());
        zs_vae *back;
        CHECKF(zs_ckpt_load_model(ck, &back, NULL) == ZS_OK, "%s", zs_last_error());
        CHECK(same_params(back, m));
        zs_vae_destroy(back);
        zs_trainer_destroy(tr);
        zs_vae_destroy(m);
        zs_cache_close(c);
        unlink(live);
    }
}

/* The background thread: snapshots readable while it trains; pause holds
 * the step count; stop joins. */
static void test_thread(zs_cache *c)
{
    zs_vae_config cfg = small_cfg();
    zs_vae *m = zs_vae_create(&cfg);
    zs_vae_init(m, 5);
    zs_trainer *tr;
    CHECK(zs_trainer_create(&tr, &(zs_trainer_desc){.cache = c, .model = m, .batch = 8, .threads = 2, .seed = 5,
                                                     .publish_every = 1, .max_steps = 100000}) == ZS_OK);
    float *p = malloc(sizeof(float) * m->table.total);
    double kl[16];
    zs_vae_infer *inf = zs_vae_infer_create(&cfg, 1);
    float z[16] = {0}, img[3 * 64 * 64];
    CHECK(zs_trainer_start(tr) == ZS_OK);
    uint64_t v0 = zs_trainer_snapshot_version(tr), seen = v0;
    int reads = 0;
    double t0 = zs_now();
    zs_train_metrics mt = {0};
    while (zs_now() - t0 < 20 && (mt.step < 20 || reads < 20)) {
        uint64_t v = zs_trainer_snapshot_version(tr);
        if (v != seen) {
            seen = zs_trainer_snapshot(tr, p, &mt, kl);
            zs_vae_infer_load(inf, p);   /* the explorer's use: decode with the newest weights */
            zs_vae_decode(inf, z, 1, img);
            CHECK(img[0] >= 0 && img[0] <= 1);
            reads++;
        }
    }
    CHECKF(mt.step >= 20 && reads >= 20, "trained %ld steps, read %d snapshots", mt.step, reads);
    zs_train_point hist[64];
    int nh = zs_trainer_history(tr, hist, 64);
    CHECK(nh >= 2 && hist[nh - 1].step > hist[0].step);
    zs_trainer_pause(tr);
    double tp = zs_now();
    while (zs_trainer_state(tr) != ZS_TRAINER_PAUSED && zs_now() - tp < 10) usleep(1000);
    CHECK(zs_trainer_state(tr) == ZS_TRAINER_PAUSED);
    zs_trainer_snapshot(tr, NULL, &mt, NULL);
    long s1 = mt.step;
    usleep(200000);
    zs_trainer_snapshot(tr, NULL, &mt, NULL);
    CHECK(mt.step == s1);
    zs_trainer_set_lr(tr, 2e-4f);
    zs_trainer_resume(tr);
    while (mt.step < s1 + 3 && zs_now() - tp < 20) zs_trainer_snapshot(tr, NULL, &mt, NULL);
    CHECK(mt.step >= s1 + 3 && mt.lr == 2e-4f);
    zs_trainer_stop(tr);
    CHECK(zs_trainer_state(tr) == ZS_TRAINER_IDLE);
    zs_vae_infer_destroy(inf);
    free(p);
    zs_trainer_destroy(tr);
    zs_vae_destroy(m);
}

int main(void)
{
    zs_blas_init();
    make_dataset();
    zs_cache *c;
    CHECKF(zs_cache_open(&c, cache_path) == ZS_OK, "%s", zs_last_error());
    CHECK(zs_cache_count(c) == NFACES);
    test_resume_and_checkpoints(c);
    test_nan_recovery(c);
    test_thread(c);
    test_data_vanishing(c);
    zs_cache_close(c);
    TEST_END();
}
