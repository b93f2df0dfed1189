/* The Analysis tab's worker (src/app/analyzer.c) without a window: what a
 * job computes on clusters whose structure is known (the statistics are
 * zs_latent_stats', the planes are the projections on PCA's and LDA's
 * directions, LDA separates the groups where PCA does not, the heatmap's
 * diagonal is red, every component's histogram holds every face), and the
 * thread: a burst of jobs, the newest wins and is the last result, results
 * come in order, busy ends, destroy joins with a job still pending.
 * Run under ThreadSanitizer by tests/sanitize.sh (label threads). */
#include "testutil.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/analyzer.h"

static atomic_int g_wakes;
static void on_wake(void *user) { atomic_fetch_add((atomic_int *)user, 1); }

enum { N = 600, Z = 16, K = 3 };

static void make(float *mu, int *lab, double shift)
{
    for (int i = 0; i < N; i++) {
        lab[i] = i % 4 == 3 ? -1 : i % 4;   /* a quarter left out */
        for (int j = 0; j < Z; j++) {
            double v = zs_normal(5, (uint64_t)i * Z + j) * (j < 2 ? 6 : 1) + shift;
            if (i % 4 == 1 && j == 3) v += 3;   /* the groups differ along z3 and z4, the spread is along z0 and z1 */
            if (i % 4 == 2 && j == 4) v += 3;
            mu[(size_t)i * Z + j] = (float)v;
        }
    }
}

int main(void)
{
    float *mu = malloc(sizeof(float) * N * Z);
    int *lab = malloc(sizeof(int) * N);
    make(mu, lab, 0.25);
    zs_an_result r;
    zs_an_compute(&(zs_an_job){.gen = 4, .n = N, .z = Z, .mu = mu, .label = lab, .k = K, .seed = 7, .weights_step = 9}, &r);
    CHECKF(r.ok && r.gen == 4 && r.weights_step == 9 && r.n == N && r.z == Z && r.k == K, "%s", r.msg);
    zs_latent_stats s;
    CHECK(zs_latent_stats_compute(mu, N, Z, ZS_AN_BINS, 7, &s) == ZS_OK);
    CHECK(fabs(r.st.centre_norm - s.centre_norm) < 1e-12 && (r.st.order[0] == 0 || r.st.order[0] == 1));
    zs_latent_stats_free(&s);
    CHECK(r.count[0] == N / 4 && r.count[1] == N / 4 && r.count[2] == N / 4);
    for (int j = 0; j < Z; j++) {
        double sum = 0;
        for (int b = 0; b < ZS_AN_BINS; b++) sum += r.hist[(size_t)j * ZS_AN_BINS + b];
        CHECKF(sum == N, "component %d's histogram holds %g faces", j, sum);
    }
    const uint8_t *d = r.heat + ((size_t)5 * Z + 5) * 3;
    CHECKF(d[0] > 200 && d[1] < 120 && d[2] < 120, "diagonal %d %d %d", d[0], d[1], d[2]);
    float xy[2];
    zs_latent_project(mu + 17 * Z, 1, Z, r.lda.mean, r.lda.dir, 2, xy);
    CHECK(r.lda.ok && xy[0] == r.lda.xy[34] && xy[1] == r.lda.xy[35]);
    zs_latent_project(mu + 17 * Z, 1, Z, r.pca.mean, r.pca.dir, 2, xy);
    CHECK(r.pca.ok && xy[0] == r.pca.xy[34] && xy[1] == r.pca.xy[35]);
    CHECKF(r.lda.acc > 0.8 && r.lda.acc_held > 0.8 && r.pca.acc < 0.6 && r.lda.acc > r.pca.acc + 0.3,
           "nearest centre: LDA %.3f (held out %.3f), PCA %.3f", r.lda.acc, r.lda.acc_held, r.pca.acc);
    zs_an_result_free(&r);
    /* without labels: statistics and PCA, no discriminants (a message) */
    zs_an_compute(&(zs_an_job){.gen = 1, .n = N, .z = Z, .mu = mu}, &r);
    CHECK(r.ok && r.pca.ok && !r.lda.ok && r.lda.msg[0] && isnan(r.pca.acc) && r.label[0] == -1);
    zs_an_result_free(&r);
    /* too few faces: a message, no statistics */
    zs_an_compute(&(zs_an_job){.gen = 1, .n = 1, .z = Z, .mu = mu}, &r);
    CHECK(!r.ok && strstr(r.msg, "at least 2"));
    zs_an_result_free(&r);

    /* the thread: 20 jobs in a burst; the newest wins */
    zs_analyzer *w = zs_analyzer_create(on_wake, &g_wakes);
    for (int g = 1; g <= 20; g++) {
        make(mu, lab, 0.01 * g);
        zs_analyzer_post(w, &(zs_an_job){.gen = (uint64_t)g, .n = N, .z = Z, .mu = mu, .label = lab, .k = K});
    }
    memset(mu, 0, sizeof(float) * N * Z);   /* post copied them */
    uint64_t last = 0;
    int got = 0;
    double t0 = zs_now();
    while (last != 20 && zs_now() - t0 < 30) {
        if (zs_analyzer_poll(w, &r)) {
            CHECKF(r.gen > last && r.ok, "gen %llu after %llu", (unsigned long long)r.gen, (unsigned long long)last);
            if (r.gen == 20) CHECKF(fabs(r.st.mean[5] - 0.2) < 0.1, "the newest job's latents: mean %g", r.st.mean[5]);
            last = r.gen;
            got++;
            zs_an_result_free(&r);
        } else nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    CHECKF(last == 20 && got < 20, "results up to %llu, %d of them", (unsigned long long)last, got);
    CHECK(!zs_analyzer_busy(w) && atomic_load(&g_wakes) >= got);
    make(mu, lab, 0);
    zs_analyzer_post(w, &(zs_an_job){.gen = 21, .n = N, .z = Z, .mu = mu, .label = lab, .k = K});
    zs_analyzer_post(w, &(zs_an_job){.gen = 22, .n = N, .z = Z, .mu = mu, .label = lab, .k = K});
    zs_analyzer_destroy(w);   /* a job pending or in flight: joined, freed */
    free(mu), free(lab);
    TEST_END();
}
