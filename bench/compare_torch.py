#!/usr/bin/python3
"""zspace's C engine against PyTorch on dfc64: training throughput and one-face decode latency.

    /usr/bin/python3 bench/compare_torch.py --threads 2 --batch 64 --steps 30 --warmup 5 \
        --rounds 3 --zspace-build build

Every measurement is its own subprocess (clean thread settings, cold process), and the
rounds alternate C / PyTorch so drifting machine load hits both alike.  Medians across rounds.

  zspace:  <build>/bench/train_speed --threads T --batch B --steps N --warmup W   -> "img_per_s: X"
           <build>/bench/decode_speed --iters N                                    -> "decode_ms: X"
  torch:   this file with --worker train|decode (tools/torch_model.py's dfc64, deterministic
           init seed 1, train mode, forward + SSE loss (beta 1) + backward + Adam(5e-4) per step;
           decode: eval mode, no_grad, z (1,128) -> image, 1 thread, median of N calls)

OPENBLAS_CORETYPE is removed from every subprocess's environment (both engines use the
system OpenBLAS and must pick the same kernel by CPU detection).  The torch configurations:
  tuned: OMP_WAIT_POLICY=passive GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (PyTorch's fastest here)
  plain: neither variable
both with OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = T (1 for decode) and torch.set_num_threads(T).
The `torch_*` summary lines take, per figure, the faster torch configuration's median.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

TORCH_CONFIGS = {
    "tuned": {"OMP_WAIT_POLICY": "passive", "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"},
    "plain": {},
}


# ---------------------------------------------------------------------------
# workers (run in a subprocess)

def worker_train(a):
    import torch
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    from torch_model import deterministic_init, dfc64, loss_fn
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    m = deterministic_init(dfc64(), 1).train()
    opt = torch.optim.Adam(m.parameters(), lr=5e-4, betas=(0.9, 0.999), eps=1e-8)
    x = torch.rand(a.batch, 3, 64, 64)

    def step():
        eps = torch.randn(a.batch, m.z_dim)
        opt.zero_grad(set_to_none=True)
        recon, mu, logvar, _ = m(x, eps)
        loss, _, _ = loss_fn(recon, x, mu, logvar, 1.0, "sse")
        loss.backward()
        opt.step()
        return loss

    for _ in range(a.warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        loss = step()
    float(loss)
    dt = time.perf_counter() - t0
    print("threads: %d (torch.get_num_threads %d)" % (a.threads, torch.get_num_threads()))
    print("img_per_s: %.3f" % (a.batch * a.steps / dt))


def worker_decode(a):
    import torch
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    from torch_model import deterministic_init, dfc64
    torch.set_num_threads(1)
    m = deterministic_init(dfc64(), 1).eval()
    z = torch.randn(1, m.z_dim, generator=torch.Generator().manual_seed(0))
    times = []
    with torch.no_grad():
        for i in range(a.warmup_decode + a.iters):
            t0 = time.perf_counter()
            img = m.dec(z)
            float(img[0, 0, 0, 0])
            if i >= a.warmup_decode:
                times.append(time.perf_counter() - t0)
    print("decode_ms: %.4f" % (1000 * statistics.median(times)))


# ---------------------------------------------------------------------------
# driver

def clean_env(extra):
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    for k in TORCH_CONFIGS["tuned"]:  # each config states its own
        env.pop(k, None)
    env.update(extra)
    return env


def run(cmd, env, key, timeout):
    t0 = time.time()
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    m = re.search(r"^%s:\s*([0-9.eE+-]+)" % key, p.stdout, re.M)
    if p.returncode != 0 or not m:
        tail = "\n".join(p.stdout.strip().splitlines()[-8:])
        raise RuntimeError("%s failed (exit %d):\n%s" % (" ".join(cmd), p.returncode, tail))
    return float(m.group(1)), time.time() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iters", type=int, default=200, help="decode calls timed per run")
    ap.add_argument("--warmup-decode", type=int, default=20)
    ap.add_argument("--zspace-build", default="build")
    ap.add_argument("--torch-configs", default="tuned,plain", help="comma list of: " + ",".join(TORCH_CONFIGS))
    ap.add_argument("--no-decode", action="store_true")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--worker", choices=["train", "decode"], help=argparse.SUPPRESS)
    a = ap.parse_args()

    if a.worker == "train":
        return worker_train(a)
    if a.worker == "decode":
        return worker_decode(a)

    configs = [c.strip() for c in a.torch_configs.split(",") if c.strip()]
    for c in configs:
        if c not in TORCH_CONFIGS:
            sys.exit("unknown torch config %r" % c)
    build = a.zspace_build
    if not os.path.isabs(build) and not os.path.isdir(build):
        build = os.path.join(ROOT, build)
    train_bin = os.path.join(build, "bench", "train_speed")
    decode_bin = os.path.join(build, "bench", "decode_speed")
    have_train = os.access(train_bin, os.X_OK)
    have_decode = os.access(decode_bin, os.X_OK) and not a.no_decode

    print("dfc64 benchmark: threads %d, batch %d, steps %d, warmup %d, rounds %d, decode iters %d"
          % (a.threads, a.batch, a.steps, a.warmup, a.rounds, a.iters))
    was = os.environ.get("OPENBLAS_CORETYPE")
    print("OPENBLAS_CORETYPE: unset in every subprocess (parent had %s)" % ("%r" % was if was is not None else "it unset"))
    for c in configs:
        print("torch config %-5s: %s, OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=threads"
              % (c, " ".join("%s=%s" % kv for kv in TORCH_CONFIGS[c].items()) or "(no extra variables)"))
    if not have_train:
        print("zspace: train_speed MISSING (%s not built): running the torch half only" % train_bin)
    if not have_decode and not a.no_decode:
        print("zspace: decode_speed MISSING (%s not built)" % decode_bin)
    sys.stdout.flush()

    me = [sys.executable, os.path.abspath(__file__)]
    targs = ["--threads", str(a.threads), "--batch", str(a.batch), "--steps", str(a.steps), "--warmup", str(a.warmup)]
    dargs = ["--iters", str(a.iters), "--warmup-decode", str(a.warmup_decode)]
    tenv = lambda c, t: clean_env(dict(TORCH_CONFIGS[c], OMP_NUM_THREADS=str(t), OPENBLAS_NUM_THREADS=str(t)))  # noqa: E731
    res = {}

    def rec(key, v):
        res.setdefault(key, []).append(v)

    for r in range(a.rounds):
        line = []
        # alternate the order each round
        order = ["zspace"] + configs if r % 2 == 0 else configs[::-1] + ["zspace"]
        for who in order:
            if who == "zspace":
                if have_train:
                    v, _ = run([train_bin] + targs, clean_env({}), "img_per_s", a.timeout)
                    rec("zspace_img_per_s", v)
                    line.append("zspace_img_per_s: %.2f" % v)
                if have_decode:
                    v, _ = run([decode_bin, "--iters", str(a.iters)], clean_env({}), "decode_ms", a.timeout)
                    rec("zspace_decode_ms", v)
                    line.append("zspace_decode_ms: %.3f" % v)
            else:
                v, _ = run(me + ["--worker", "train"] + targs, tenv(who, a.threads), "img_per_s", a.timeout)
                rec("torch_%s_img_per_s" % who, v)
                line.append("torch[%s]_img_per_s: %.2f" % (who, v))
                if not a.no_decode:
                    v, _ = run(me + ["--worker", "decode"] + dargs, tenv(who, 1), "decode_ms", a.timeout)
                    rec("torch_%s_decode_ms" % who, v)
                    line.append("torch[%s]_decode_ms: %.3f" % (who, v))
        print("round %d: %s" % (r + 1, "  ".join(line)))
        sys.stdout.flush()

    med = {k: statistics.median(v) for k, v in res.items()}
    print("medians over %d rounds:" % a.rounds)
    for c in configs:
        if "torch_%s_img_per_s" % c in med:
            print("torch[%s]_img_per_s: %.2f" % (c, med["torch_%s_img_per_s" % c]))
        if "torch_%s_decode_ms" % c in med:
            print("torch[%s]_decode_ms: %.3f" % (c, med["torch_%s_decode_ms" % c]))
    # the torch baseline is its faster configuration for each figure (median over rounds)
    tcfg_i = max((c for c in configs if "torch_%s_img_per_s" % c in med),
                 key=lambda c: med["torch_%s_img_per_s" % c], default=None)
    tcfg_d = min((c for c in configs if "torch_%s_decode_ms" % c in med),
                 key=lambda c: med["torch_%s_decode_ms" % c], default=None)
    print("# summary (torch = its faster config: train %s, decode %s; OPENBLAS_CORETYPE unset for both engines)"
          % (tcfg_i, tcfg_d))
    ti = med.get("torch_%s_img_per_s" % tcfg_i)
    zi = med.get("zspace_img_per_s")
    td = med.get("torch_%s_decode_ms" % tcfg_d)
    zd = med.get("zspace_decode_ms")
    fmt = lambda v, f: (f % v) if v is not None else "missing"  # noqa: E731
    print("torch_img_per_s: %s" % fmt(ti, "%.2f"))
    print("zspace_img_per_s: %s" % fmt(zi, "%.2f"))
    print("ratio: %s" % (("%.3f" % (zi / ti)) if ti and zi else "n/a (zspace half missing)"))
    if not a.no_decode:
        print("torch_decode_ms: %s" % fmt(td, "%.3f"))
        print("zspace_decode_ms: %s" % fmt(zd, "%.3f"))
        if td and zd:
            print("decode_ratio (torch/zspace, >1 = zspace faster): %.3f" % (td / zd))


if __name__ == "__main__":
    main()
