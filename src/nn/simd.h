/* Eight-float vectors for the engine's own loops (GCC vector extensions).
 *
 * The default build targets plain x86-64 at -O2, where GCC vectorises
 * almost nothing; these loops are written with explicit vectors instead, so
 * they compile to SSE everywhere and, in functions marked ZS_SIMD_CLONES, to
 * AVX2 / AVX-512 clones picked at load time. Every lane does the same
 * operations in the same order in every clone (no FMA contraction, fixed
 * reduction order), so results are bitwise the same on every machine. */
#ifndef ZS_NN_SIMD_H
#define ZS_NN_SIMD_H

#include <stdlib.h>
#include <string.h>

/* The helpers below pass 32-byte vectors by value. They are always inlined
 * (also at -O0), so no call crosses between a clone's AVX calling
 * convention and the default one, and GCC's note about it does not apply. */
#pragma GCC diagnostic ignored "-Wpsabi"
#define ZS_V8_INLINE static inline __attribute__((always_inline))

typedef float zs_v8 __attribute__((vector_size(32)));
typedef float zs_v4 __attribute__((vector_size(16)));
typedef int zs_v8i __attribute__((vector_size(32)));

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(ZS_NO_CLONES)
#define ZS_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ZS_SIMD_CLONES
#endif

/* 1 when a 16-float vector is one register (AVX-512). Tiles of 8 x 16
 * accumulators fit 32 zmm registers; with AVX2 (16 ymm) they need 16
 * registers for the accumulators alone and spill on every step: 6x slower
 * decoding measured on an AVX2-only AMD EPYC. Kernels pick 4 x 16 then.
 * ZS_SIMD_NARROW=1 in the environment picks the narrow tiles on AVX-512
 * too, so that a machine with AVX-512 (CI's, usually) tests the tiles an
 * AVX2 machine runs (tests/nn.cmake); the results are the same to the bit.
 * Read once per translation unit; racing threads store the same value. */
ZS_V8_INLINE int zs_simd_wide(void)
{
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    static int wide = -1;
    int w = __atomic_load_n(&wide, __ATOMIC_RELAXED);
    if (w < 0) {
        const char *narrow = getenv("ZS_SIMD_NARROW");
        w = !(narrow && *narrow && strcmp(narrow, "0") != 0) && __builtin_cpu_supports("avx512f");
        __atomic_store_n(&wide, w, __ATOMIC_RELAXED);
    }
    return w;
#else
    return 0;
#endif
}

ZS_V8_INLINE zs_v8 zs_v8_load(const float *p)
{
    zs_v8 v;
    memcpy(&v, p, sizeof v);
    return v;
}
ZS_V8_INLINE void zs_v8_store(float *p, zs_v8 v) { memcpy(p, &v, sizeof v); }
ZS_V8_INLINE zs_v4 zs_v4_load(const float *p)
{
    zs_v4 v;
    memcpy(&v, p, sizeof v);
    return v;
}
ZS_V8_INLINE void zs_v4_store(float *p, zs_v4 v) { memcpy(p, &v, sizeof v); }
/* Sixteen floats: one AVX-512 register, two AVX ones. */
typedef float zs_v16 __attribute__((vector_size(64)));
ZS_V8_INLINE zs_v16 zs_v16_load(const float *p)
{
    zs_v16 v;
    memcpy(&v, p, sizeof v);
    return v;
}
ZS_V8_INLINE void zs_v16_store(float *p, zs_v16 v) { memcpy(p, &v, sizeof v); }
/* 8 floats at p then 8 at q */
ZS_V8_INLINE zs_v16 zs_v16_load2(const float *p, const float *q)
{
#if defined(__clang__) || __GNUC__ >= 12
    /* one register insert (memcpy into halves of a vector goes through the stack) */
    return __builtin_shufflevector(zs_v8_load(p), zs_v8_load(q), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
#else
    zs_v16 v;
    memcpy(&v, p, sizeof v / 2);
    memcpy((char *)&v + sizeof v / 2, q, sizeof v / 2);
    return v;
#endif
}
ZS_V8_INLINE zs_v16 zs_v16_zero(void) { return (zs_v16){0}; }
ZS_V8_INLINE zs_v8 zs_v8_set1(float x) { return (zs_v8){x, x, x, x, x, x, x, x}; }
ZS_V8_INLINE zs_v8 zs_v8_zero(void) { return zs_v8_set1(0.0f); }
/* Lanes summed in a fixed order. */
ZS_V8_INLINE float zs_v8_sum(zs_v8 v) { return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7])); }
/* Two-vector shuffle: lane i of the result is lane idx[i] of a0..a7 b0..b7. */
#if defined(__clang__)
#define ZS_V8_SHUFFLE(a, b, i0, i1, i2, i3, i4, i5, i6, i7) \
    __builtin_shufflevector(a, b, i0, i1, i2, i3, i4, i5, i6, i7)
#else
#define ZS_V8_SHUFFLE(a, b, i0, i1, i2, i3, i4, i5, i6, i7) \
    __builtin_shuffle(a, b, (zs_v8i){i0, i1, i2, i3, i4, i5, i6, i7})
#endif
/* (a, b) -> even elements of the 16 values a0..a7 b0..b7, and odd ones. */
ZS_V8_INLINE zs_v8 zs_v8_even(zs_v8 a, zs_v8 b) { return ZS_V8_SHUFFLE(a, b, 0, 2, 4, 6, 8, 10, 12, 14); }
ZS_V8_INLINE zs_v8 zs_v8_odd(zs_v8 a, zs_v8 b) { return ZS_V8_SHUFFLE(a, b, 1, 3, 5, 7, 9, 11, 13, 15); }
/* Interleave e0 o0 e1 o1 ...: first 8 values, then the next 8. */
ZS_V8_INLINE zs_v8 zs_v8_zip_lo(zs_v8 e, zs_v8 o) { return ZS_V8_SHUFFLE(e, o, 0, 8, 1, 9, 2, 10, 3, 11); }
ZS_V8_INLINE zs_v8 zs_v8_zip_hi(zs_v8 e, zs_v8 o) { return ZS_V8_SHUFFLE(e, o, 4, 12, 5, 13, 6, 14, 7, 15); }
/* Lane-wise IEEE square root (correctly rounded, as sqrtf). */
#if defined(__SSE__)
#include <xmmintrin.h>
ZS_V8_INLINE zs_v8 zs_v8_sqrt(zs_v8 v)
{
    __m128 h[2];
    memcpy(h, &v, sizeof v);
    h[0] = _mm_sqrt_ps(h[0]);
    h[1] = _mm_sqrt_ps(h[1]);
    memcpy(&v, h, sizeof v);
    return v;
}
#else
#include <math.h>
ZS_V8_INLINE zs_v8 zs_v8_sqrt(zs_v8 v)
{
    for (int i = 0; i < 8; i++) v[i] = sqrtf(v[i]);
    return v;
}
#endif
/* Lane-wise mask ? a : b, mask lanes all ones or zero (a comparison's result). */
ZS_V8_INLINE zs_v8 zs_v8_select(zs_v8i mask, zs_v8 a, zs_v8 b)
{
    return (zs_v8)((mask & (zs_v8i)a) | (~mask & (zs_v8i)b));
}
/* Lane-wise x > 0 ? x : slope * x, by the same comparison as the scalar code. */
ZS_V8_INLINE zs_v8 zs_v8_leaky(zs_v8 x, float slope) { return zs_v8_select(x > zs_v8_zero(), x, x * slope); }

#endif
