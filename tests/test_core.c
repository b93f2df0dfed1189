/* Core: CRC32 check value, f16 round trip, counter RNG determinism,
 * safetensors write/read/corruption, thread team barrier. */
#include "testutil.h"
#include "zspace/st.h"

#include <stdlib.h>
#include <string.h>

typedef struct { int *counts; int rounds; zs_team *team; int bad; } team_arg;
static void team_fn(void *p, int tid, int nt)
{
    team_arg *a = p;
    for (int r = 0; r < a->rounds; r++) {
        __atomic_add_fetch(&a->counts[r], 1, __ATOMIC_RELAXED);
        zs_team_barrier(a->team);
        if (__atomic_load_n(&a->counts[r], __ATOMIC_RELAXED) != nt) a->bad = 1;
        zs_team_barrier(a->team);
    }
}

int main(void)
{
    zs_test_capture_logs();
    /* CRC32 of "123456789" is the standard check value cbf43926. */
    CHECK(zs_crc32(0, "123456789", 9) == 0xCBF43926u);
    CHECK(zs_crc32(zs_crc32(0, "1234", 4), "56789", 5) == 0xCBF43926u);

    /* f16: exact values round-trip; rounding is to nearest. */
    float vals[] = {0.f, 1.f, -2.5f, 65504.f, 6.1035156e-05f, 5.9604645e-08f, 0.333251953125f};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) CHECK(zs_f16_to_f32(zs_f32_to_f16(vals[i])) == vals[i]);
    CHECK(fabsf(zs_f16_to_f32(zs_f32_to_f16(0.1f)) - 0.1f) < 1e-4f);
    CHECK(isinf(zs_f16_to_f32(zs_f32_to_f16(1e6f))));

    /* Counter RNG: deterministic, in range, roughly uniform and normal. */
    uint64_t key = zs_hash64(42);
    double s = 0, s2 = 0;
    for (int i = 0; i < 100000; i++) {
        float u = zs_uniform01(key, (uint64_t)i);
        CHECK(u >= 0.f && u < 1.f);
        float z = zs_normal(key, (uint64_t)i);
        s += z;
        s2 += (double)z * z;
    }
    CHECK(fabs(s / 1e5) < 0.02 && fabs(s2 / 1e5 - 1.0) < 0.02);
    CHECK(zs_uniform01(key, 7) == zs_uniform01(key, 7));
    /* Golden value pinned so the Python side (tools/zs_rand.py) stays equal. */
    CHECK(zs_hash64(0) == 0xE220A8397B1DCDAFull);

    /* safetensors round trip with metadata and f16. */
    char path[256];
    snprintf(path, sizeof path, "%s/t.safetensors", zs_test_tmpdir());
    float a[6] = {1, 2, 3, 4, 5, 6};
    zs_st_writer w;
    zs_st_writer_init(&w);
    zs_st_add(&w, "a", ZS_DT_F32, 2, (int64_t[]){2, 3}, a);
    zs_st_add_f32_as_f16(&w, "h", 1, (int64_t[]){6}, a);
    zs_st_add_meta(&w, "model", "dfc64 \"quoted\"");
    CHECK(zs_st_write(&w, path) == ZS_OK);
    zs_st_writer_free(&w);
    zs_st_file f;
    CHECK(zs_st_open(&f, path) == ZS_OK);
    float b[6] = {0};
    CHECK(zs_st_read_f32(&f, "a", b, 6) == ZS_OK && memcmp(a, b, sizeof a) == 0);
    CHECK(zs_st_read_f32(&f, "h", b, 6) == ZS_OK && memcmp(a, b, sizeof a) == 0);
    CHECK(zs_st_meta(&f, "model") && strcmp(zs_st_meta(&f, "model"), "dfc64 \"quoted\"") == 0);
    CHECK(zs_st_read_f32(&f, "missing", b, 6) != ZS_OK && strstr(zs_last_error(), "missing"));
    CHECK(zs_st_read_f32(&f, "a", b, 5) != ZS_OK);
    size_t len = f.len;
    uint8_t *bytes = malloc(len);
    memcpy(bytes, f.data, len);
    zs_st_close(&f);
    /* Every truncation is refused; so is a flipped payload bit (CRC). */
    for (size_t cut = 0; cut < len; cut++) {
        zs_st_file g;
        zs_status st = zs_st_open_mem(&g, "cut", bytes, cut);
        CHECK(st != ZS_OK);
        if (st == ZS_OK) zs_st_close(&g);
    }
    bytes[len - 3] ^= 0x10;
    zs_st_file g;
    CHECK(zs_st_open_mem(&g, "flip", bytes, len) == ZS_ERR_FORMAT && strstr(zs_last_error(), "checksum"));
    free(bytes);
    remove(path);

    /* Thread team: the barrier really separates phases. */
    for (int nt = 1; nt <= 4; nt++) {
        zs_team *t = zs_team_create(nt);
        int counts[200] = {0};
        team_arg arg = {counts, 200, t, 0};
        zs_team_run(t, team_fn, &arg);
        CHECK(!arg.bad);
        zs_team_destroy(t);
    }
    TEST_END();
}
