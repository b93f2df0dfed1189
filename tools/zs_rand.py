"""numpy port of zspace's counter-based RNG (include/zspace/core.h, src/core/util.c).

Bit-identical to the C code:

    zs_hash64(x)      splitmix64 finaliser
    zs_rand64(k, i)   = zs_hash64(k ^ zs_hash64(i))
    zs_uniform01(k,i) = float32((zs_rand64(k, i) >> 40)) * 2^-24   (24 bits, exact in float32)
    zs_normal(k, i)   Box-Muller on uniforms 2i and 2i+1 (float32 math; the C
                      version uses libm logf/cosf, so this one agrees to ~1 ulp, not bit for bit)
    zs_fnv1a64(s)     FNV-1a 64 over the UTF-8 bytes of s

All functions accept Python ints or numpy arrays (vectorised over i).
Arithmetic is uint64 with wraparound; numpy's overflow warnings are silenced.
"""
import numpy as np

_M64 = (1 << 64) - 1
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S40 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(40)


def _u64(x):
    if isinstance(x, np.ndarray):
        return x.astype(np.uint64, copy=False)
    if isinstance(x, (int, np.integer)):
        return np.uint64(int(x) & _M64)
    return np.asarray(x, dtype=np.uint64)


def _scalar_out(x, orig):
    if isinstance(orig, (int, np.integer)):
        return int(x)
    return x


def zs_hash64(x):
    """splitmix64 finaliser (uint64 -> uint64). int in -> int out."""
    orig = x
    x = _u64(x)
    with np.errstate(over="ignore"):
        x = x + _GOLDEN
        x = (x ^ (x >> _S30)) * _C1
        x = (x ^ (x >> _S27)) * _C2
        x = x ^ (x >> _S31)
    return _scalar_out(x, orig)


def zs_rand64(key, i):
    """i-th 64-bit value of stream `key`. Vectorised over i (and/or key)."""
    orig = i if not isinstance(key, np.ndarray) else key
    h = _u64(zs_hash64(_u64(i)))
    out = zs_hash64(_u64(key) ^ h)
    return _scalar_out(out, orig)


def zs_uniform01(key, i):
    """Uniform float32 in [0, 1) with 24 random bits, as in C."""
    r = _u64(zs_rand64(_u64(key), _u64(i)))
    return (r >> _S40).astype(np.float32) * np.float32(1.0 / 16777216.0)


def zs_uniform01_n(key, n, start=0):
    """zs_uniform01(key, i) for i = start .. start+n-1 (float32 array)."""
    return zs_uniform01(key, np.arange(start, start + n, dtype=np.uint64))


def zs_normal(key, i):
    """Standard normal (Box-Muller), float32; matches C to ~1 ulp (libm differences)."""
    i = _u64(i)
    with np.errstate(over="ignore"):
        u1 = np.float32(1.0) - zs_uniform01(key, np.uint64(2) * i)
        u2 = zs_uniform01(key, np.uint64(2) * i + np.uint64(1))
    return (np.sqrt(np.float32(-2.0) * np.log(u1)) * np.cos(np.float32(6.2831853071795864) * u2)).astype(np.float32)


def zs_fnv1a64(s):
    """FNV-1a 64 of a str (UTF-8) or bytes. Returns a Python int."""
    if isinstance(s, str):
        s = s.encode("utf-8")
    h = 0xCBF29CE484222325
    for b in s:
        h = ((h ^ b) * 0x100000001B3) & _M64
    return h


def _selftest():
    assert zs_hash64(0) == 0xE220A8397B1DCDAF, hex(zs_hash64(0))
    # scalar and vector paths agree with a pure-Python reference
    def ref_hash(x):
        x = (x + 0x9E3779B97F4A7C15) & _M64
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
        return x ^ (x >> 31)
    key = zs_hash64(12345)
    idx = np.array([0, 1, 2, 1000, 2**40 + 7, 2**64 - 1], dtype=np.uint64)
    v = zs_rand64(key, idx)
    for j, i in enumerate(idx.tolist()):
        assert int(v[j]) == ref_hash(key ^ ref_hash(i)) == zs_rand64(key, i)
    u = zs_uniform01(key, idx)
    for j, i in enumerate(idx.tolist()):
        assert float(u[j]) == (ref_hash(key ^ ref_hash(i)) >> 40) / 16777216.0
    assert zs_fnv1a64("") == 0xCBF29CE484222325
    assert zs_fnv1a64("a") == 0xAF63DC4C8601EC8C   # published FNV-1a 64 test vector
    return True


if __name__ == "__main__":
    _selftest()
    print("zs_hash64(0) = 0x%016X" % zs_hash64(0))
    print("zs_fnv1a64('a') = 0x%016X" % zs_fnv1a64("a"))
    print("zs_uniform01(zs_hash64(12345), 0..3) =", zs_uniform01_n(zs_hash64(12345), 4))
    print("self-test ok")
