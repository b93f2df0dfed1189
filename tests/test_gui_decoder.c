/* The explorer's face worker (src/app/decoder.c) without a window: a burst
 * of requests from this thread while the worker decodes, the newest one
 * wins, stale ones are dropped, every result matches libzspace for its own
 * request, polling never waits for a decode, and destroy joins the thread;
 * then the Photo tab's jobs (a photo read, cropped and encoded on the
 * worker, edited with face == NULL, keep-detail at the photo's size, a
 * file that is no image leaving the photo in place, a PNG saved), batches
 * of latents on channels, a request with a summed edit (delta), and the
 * gallery's latents with their Gaussian and principal directions, encoded
 * between requests.
 * Run under ThreadSanitizer by tests/sanitize.sh (label threads).
 *
 * usage: test_gui_decoder MODEL ATTRS GALLERY */
#include "testutil.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "app/decoder.h"
#include "zspace/trainer.h"

static atomic_int g_wakes;
static void on_wake(void *user) { atomic_fetch_add((atomic_int *)user, 1); }

/* What the worker should produce for face `face` with strength s on attribute k. */
static void expected(zs_vae_infer *inf, const zs_cache *c, const zs_attr_vectors *A, int face, int k, float s,
                     uint8_t *out)
{
    int S = zs_cache_size(c), Z = A->z;
    float *x = zs_xmalloc(sizeof(float) * 3 * S * S), *mu = zs_xmalloc(sizeof(float) * Z);
    zs_face_to_chw(zs_cache_pixels(c, face), S, x, 0);
    zs_vae_encode(inf, x, 1, mu, NULL);
    if (s != 0.0f) zs_latent_add(Z, mu, A->vec + (size_t)k * Z, s, mu);
    zs_vae_decode(inf, mu, 1, x);
    zs_face_from_chw(x, S, out);
    free(x), free(mu);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: test_gui_decoder MODEL ATTRS GALLERY\n");
        return 2;
    }
    zs_vae *m;
    zs_attr_vectors A;
    zs_cache *c;
    if (zs_ckpt_load_model(argv[1], &m, NULL) != ZS_OK || zs_attr_vectors_load(argv[2], &A) != ZS_OK ||
        zs_cache_open(&c, argv[3]) != ZS_OK) {
        fprintf(stderr, "%s\n", zs_last_error());
        return 1;
    }
    int S = m->cfg.image, k = zs_attr_find("Smiling");
    size_t npix = (size_t)S * S * 3;
    zs_vae_infer *inf = zs_vae_infer_create(&m->cfg, 1);
    zs_vae_infer_load(inf, m->params);
    uint8_t *want = zs_xmalloc(npix);

    zs_decoder *d = zs_decoder_create(m, &A, on_wake, &g_wakes);
    /* a burst: 200 requests over 3 faces, one every 0.3 ms (faster than the
     * worker decodes), polling between posts the way the UI does each frame */
    const int N = 200;
    uint64_t last_seen = 0;
    int results = 0, ordered = 1, checked = 0, matched = 0;
    double max_poll_ms = 0;
    for (int i = 1; i <= N; i++) {
        zs_decode_req req = {.stamp = (uint64_t)i, .face_key = (uint64_t)(i / 70), .face = zs_cache_pixels(c, i / 70)};
        req.strength[k] = -3.0f + 6.0f * (float)i / (float)N;
        zs_decoder_post(d, &req);
        nanosleep(&(struct timespec){0, 300000}, NULL);
        zs_decode_result r;
        double t0 = zs_now();
        int got = zs_decoder_poll(d, &r);
        double ms = (zs_now() - t0) * 1e3;
        if (ms > max_poll_ms) max_poll_ms = ms;
        if (got) {
            results++;
            if (r.stamp <= last_seen) ordered = 0;
            last_seen = r.stamp;
            if (checked < 5) {   /* a result is the decode of its own request */
                checked++;
                expected(inf, c, &A, (int)(r.stamp / 70), k, -3.0f + 6.0f * (float)r.stamp / (float)N, want);
                matched += memcmp(want, r.rgb, npix) == 0;
            }
        }
    }
    /* wait (here, not in a UI) for the newest */
    double t0 = zs_now();
    while (last_seen != (uint64_t)N && zs_now() - t0 < 30) {
        zs_decode_result r;
        if (zs_decoder_poll(d, &r)) {
            results++;
            if (r.stamp <= last_seen) ordered = 0;
            last_seen = r.stamp;
            if (r.stamp == (uint64_t)N) {
                expected(inf, c, &A, N / 70, k, 3.0f, want);
                CHECKF(memcmp(want, r.rgb, npix) == 0, "the newest result is not decode(mu_2 + 3 v_Smiling)");
            }
        }
    }
    /* the worker marks itself idle and wakes the UI just after it publishes
     * its result: on a loaded machine give it a moment (bounded) to do so */
    zs_decoder_stats st = zs_decoder_get_stats(d);
    for (t0 = zs_now(); (st.busy || atomic_load(&g_wakes) != st.served) && zs_now() - t0 < 10;
         st = zs_decoder_get_stats(d))
        usleep(1000);
    fprintf(stderr, "posted %ld served %ld dropped %ld; %d results polled, slowest poll %.3f ms, %d wake-ups\n",
            st.posted, st.served, st.dropped, results, max_poll_ms, atomic_load(&g_wakes));
    CHECKF(last_seen == (uint64_t)N, "the newest request (stamp %d) never came back (last %llu)", N,
           (unsigned long long)last_seen);
    CHECK(ordered);
    CHECKF(checked == matched, "%d of %d sampled results differ from libzspace", checked - matched, checked);
    CHECK(st.posted == N && st.served + st.dropped == N && !st.busy);
    CHECKF(st.dropped > 0 && st.served > 1 && results > 1, "a burst of %d posts: %ld served, %ld dropped", N,
           st.served, st.dropped);
    CHECK(atomic_load(&g_wakes) == st.served);

    /* destroy while a (slow) decode is in flight: it joins */
    zs_decoder_set_delay(d, 200);
    zs_decoder_post(d, &(zs_decode_req){.stamp = N + 1, .face_key = 0, .face = zs_cache_pixels(c, 0)});
    zs_decoder_destroy(d);

    /* without attribute vectors the strengths are ignored: a plain reconstruction */
    d = zs_decoder_create(m, NULL, NULL, NULL);
    zs_decode_req req = {.stamp = 1, .face_key = 7, .face = zs_cache_pixels(c, 7)};
    req.strength[k] = 2.0f;
    zs_decoder_post(d, &req);
    zs_decode_result r;
    t0 = zs_now();
    int got = 0;
    while (!(got = zs_decoder_poll(d, &r)) && zs_now() - t0 < 30) {}
    expected(inf, c, &A, 7, k, 0.0f, want);
    CHECK(got && r.stamp == 1 && memcmp(want, r.rgb, npix) == 0 && r.encode_ms > 0);
    zs_decoder_destroy(d);

    /* photos, saves, batches, the fit: wait on each answer */
    {
        const char *tmp = zs_test_tmpdir();
        char png[600], bad[600], out[600];
        snprintf(png, sizeof png, "%s/face3.png", tmp);
        snprintf(bad, sizeof bad, "%s/bad.jpg", tmp);
        snprintf(out, sizeof out, "%s/saved.png", tmp);
        zs_image f3 = {S, S, (uint8_t *)zs_cache_pixels(c, 3)};
        CHECK(zs_image_write_png(png, &f3) == ZS_OK);
        FILE *f = fopen(bad, "w");
        fputs("no image", f);
        fclose(f);
        d = zs_decoder_create(m, &A, NULL, NULL);
        zs_photo_result pr;
        zs_decoder_load_photo(d, png, 1, 4096, NULL);
        t0 = zs_now();
        while (!(got = zs_decoder_poll_photo(d, &pr)) && zs_now() - t0 < 30) {}
        CHECK(got && pr.ok && pr.gen == 1 && pr.photo.w == S && memcmp(pr.face, f3.rgb, npix) == 0);
        zs_decoder_load_photo(d, bad, 2, 4096, NULL);
        while (!(got = zs_decoder_poll_photo(d, &pr)) && zs_now() - t0 < 30) {}
        CHECKF(got && !pr.ok && strstr(pr.msg, "bad.jpg"), "a file that is not an image: %s", pr.msg);
        zs_decode_req pq = {.stamp = 5, .face_key = ZS_PHOTO_KEY(1), .detail = 1};
        pq.strength[k] = 1.5f;
        zs_decoder_post(d, &pq);
        while (!(got = zs_decoder_poll(d, &r)) && zs_now() - t0 < 30) {}
        expected(inf, c, &A, 3, k, 1.5f, want);   /* the photo is face 3: the same edit, still photo 1 */
        CHECK(got && r.stamp == 5 && r.face_key == ZS_PHOTO_KEY(1) && memcmp(want, r.rgb, npix) == 0);
        CHECK(r.detail.rgb && r.detail.w == S && r.detail.h == S);
        if (r.detail.rgb) {
            zs_decoder_save(d, out, &r.detail);
            zs_save_result sr;
            while (!(got = zs_decoder_poll_save(d, &sr)) && zs_now() - t0 < 30) {}
            zs_image back;
            CHECK(got && sr.ok && zs_image_load(&back, out) == ZS_OK && back.w == S &&
                  memcmp(back.rgb, r.detail.rgb, npix) == 0);
            if (got && sr.ok) zs_image_free(&back);
        }
        /* the same photo framed anew (path NULL): its top-left quarter, no file read, the
         * crop's pixels and the decode of their encoding; then crop NULL: the same crop again */
        {
            zs_crop q = zs_crop_from_rect(S, S, 0, 0, S / 2.0);
            zs_decoder_load_photo(d, NULL, 3, 4096, &q);
            while (!(got = zs_decoder_poll_photo(d, &pr)) && zs_now() - t0 < 30) {}
            uint8_t *hwc = zs_xmalloc(npix), *dec = zs_xmalloc(npix);
            float *xq = zs_xmalloc(sizeof(float) * npix), *mq = zs_xmalloc(sizeof(float) * A.z);
            CHECK(zs_image_crop_resize(&f3, q, S, hwc) == ZS_OK);
            CHECKF(got && pr.ok && pr.recrop && pr.gen == 3 && !pr.photo.rgb && pr.photo.w == S &&
                       memcmp(&pr.crop, &q, sizeof q) == 0,
                   "recrop: got %d ok %d recrop %d gen %llu msg %s", got, pr.ok, pr.recrop,
                   (unsigned long long)pr.gen, pr.msg);
            CHECK(got && pr.ok && memcmp(pr.face, hwc, npix) == 0 && memcmp(pr.face, f3.rgb, npix) != 0);
            zs_face_to_chw(hwc, S, xq, 0);
            zs_vae_encode(inf, xq, 1, mq, NULL);
            zs_vae_decode(inf, mq, 1, xq);
            zs_face_from_chw(xq, S, dec);
            zs_decoder_post(d, &(zs_decode_req){.stamp = 6, .face_key = ZS_PHOTO_KEY(3)});
            while (!(got = zs_decoder_poll(d, &r)) && zs_now() - t0 < 30) {}
            CHECKF(got && r.stamp == 6 && memcmp(dec, r.rgb, npix) == 0, "the recropped photo's decode");
            zs_decoder_load_photo(d, NULL, 4, 4096, NULL);
            while (!(got = zs_decoder_poll_photo(d, &pr)) && zs_now() - t0 < 30) {}
            CHECK(got && pr.ok && pr.gen == 4 && memcmp(&pr.crop, &q, sizeof q) == 0 && memcmp(pr.face, hwc, npix) == 0);
            free(hwc), free(dec), free(xq), free(mq);
            zs_decoder *d2 = zs_decoder_create(m, &A, NULL, NULL);   /* nothing held: a message, no crash */
            zs_decoder_load_photo(d2, NULL, 1, 4096, &q);
            while (!(got = zs_decoder_poll_photo(d2, &pr)) && zs_now() - t0 < 30) {}
            CHECKF(got && !pr.ok && strstr(pr.msg, "no photo"), "recrop without a photo: %s", pr.msg);
            zs_decoder_destroy(d2);
        }
        /* a batch: the latents of faces 0 and 1 decode to their reconstructions */
        float *z2 = zs_xmalloc(sizeof(float) * 2 * A.z), *x = zs_xmalloc(sizeof(float) * npix);
        for (int i = 0; i < 2; i++) {
            zs_face_to_chw(zs_cache_pixels(c, i), S, x, 0);
            zs_vae_encode(inf, x, 1, z2 + (size_t)i * A.z, NULL);
        }
        zs_decoder_post_batch(d, 1, 9, 2, z2);
        zs_batch_result br;
        while (!(got = zs_decoder_poll_batch(d, 1, &br)) && zs_now() - t0 < 30) {}
        CHECK(got && br.stamp == 9 && br.n == 2);
        for (int i = 0; i < 2 && got; i++) {
            expected(inf, c, &A, i, k, 0.0f, want);
            CHECKF(memcmp(want, br.rgb + (size_t)i * npix, npix) == 0, "batch face %d", i);
        }
        /* a long batch (the Walk grid's 81) is decoded in turns of 16: a face request posted after it
         * is served before the batch is done, and every face of the batch is libzspace's decode */
        {
            int nb = ZS_DEC_BATCH_MAX, Zb = A.z;
            float *zb = zs_xmalloc(sizeof(float) * (size_t)nb * Zb);
            uint8_t *dec = zs_xmalloc(npix);
            for (int i = 0; i < nb; i++)
                for (int j = 0; j < Zb; j++)
                    zb[(size_t)i * Zb + j] = z2[(size_t)(i % 2) * Zb + j] + 0.02f * (float)(i - 40) * A.vec[(size_t)k * Zb + j];
            zs_decoder_post_batch(d, 4, 31, nb, zb);
            zs_decoder_post(d, &(zs_decode_req){.stamp = 19, .face_key = 3, .face = zs_cache_pixels(c, 3)});
            int face_first = 0, have_batch = 0;
            while (!(got = zs_decoder_poll(d, &r)) && zs_now() - t0 < 30) have_batch |= zs_decoder_poll_batch(d, 4, &br);
            face_first = got && !have_batch;
            CHECKF(got && r.stamp == 19 && face_first, "a request during an 81-face batch: got %d, batch first %d", got,
                   have_batch);
            if (!have_batch)
                while (!(have_batch = zs_decoder_poll_batch(d, 4, &br)) && zs_now() - t0 < 30) {}
            CHECK(have_batch && br.stamp == 31 && br.n == nb);
            int bad = 0;
            for (int i = 0; i < nb && have_batch; i++) {
                zs_vae_decode(inf, zb + (size_t)i * Zb, 1, x);
                zs_face_from_chw(x, S, dec);
                bad += memcmp(dec, br.rgb + (size_t)i * npix, npix) != 0;
            }
            CHECKF(bad == 0, "%d of %d faces of the long batch differ from zs_vae_decode", bad, nb);
            free(zb), free(dec);
        }
        /* the fit: the gallery's latents, encoded a few at a time, so a
         * request posted meanwhile is served before the fit is done */
        zs_decoder_fit(d, c, 5);
        zs_decode_req rq = {.stamp = 20, .face_key = 2, .face = zs_cache_pixels(c, 2)};
        float *delta = zs_xmalloc(sizeof(float) * A.z);
        for (int j = 0; j < A.z; j++) delta[j] = 1.25f * A.vec[(size_t)k * A.z + j];
        rq.delta = delta;   /* the explorer's summed edit: the same as strength 1.25 */
        zs_decoder_post(d, &rq);
        zs_gallery_fit gf;
        int fitted_first = 0;
        while (!(got = zs_decoder_poll(d, &r)) && zs_now() - t0 < 60) fitted_first |= zs_decoder_poll_fit(d, &gf);
        CHECKF(got && r.stamp == 20 && !fitted_first, "a request during the fit: got %d, fit first %d", got, fitted_first);
        expected(inf, c, &A, 2, k, 1.25f, want);
        CHECK(got && memcmp(want, r.rgb, npix) == 0);
        while (!(got = zs_decoder_poll_fit(d, &gf)) && zs_now() - t0 < 60) {}
        CHECKF(got && gf.ok && gf.n == zs_cache_count(c) && gf.z == A.z && gf.gauss.z == A.z && gf.pca.k == 5, "fit: %s",
               got ? gf.msg : "none");
        if (got && gf.ok) {   /* face 7's latent is zs_vae_encode's */
            float *mu = zs_xmalloc(sizeof(float) * A.z);
            zs_face_to_chw(zs_cache_pixels(c, 7), zs_cache_size(c), x, 0);
            zs_vae_encode(inf, x, 1, mu, NULL);
            CHECK(memcmp(mu, gf.mu + (size_t)7 * A.z, sizeof(float) * A.z) == 0);
            CHECK(gf.pca.var[0] >= gf.pca.var[4] && gf.pca.var[4] > 0);
            free(mu);
        }
        if (got) zs_gallery_fit_free(&gf);
        free(delta);
        CHECK(!zs_decoder_get_stats(d).busy);
        zs_decoder_destroy(d);
        free(z2), free(x);
    }

    free(want);
    zs_vae_infer_destroy(inf);
    zs_cache_close(c);
    zs_attr_vectors_free(&A);
    zs_vae_destroy(m);
    TEST_END();
}
