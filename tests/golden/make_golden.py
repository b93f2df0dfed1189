#!/usr/bin/python3
"""Write tests/golden/dfc64_b4.safetensors: the PyTorch reference numbers the C engine is
tested against (see tests/golden/README.md).  Run once by hand, from anywhere:

    /usr/bin/python3 tests/golden/make_golden.py [--out PATH] [--f32-check]

The reference runs in float64 (inputs and initial weights are float32-exact values, cast
to double).  --f32-check also reruns everything in float32 torch and prints how far that
lands from the float64 reference: a realistic scale for the C test's tolerances.
"""
import argparse
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
from zs_rand import zs_hash64, zs_fnv1a64, zs_rand64, zs_uniform01  # noqa: E402
from torch_model import (BN_EPS, BN_MOMENTUM, LEAKY_SLOPE, deterministic_init, dfc64,  # noqa: E402
                         load_safetensors, loss_fn, save_safetensors)

B, Z, IMG = 4, 128, 64
INIT_SEED = 1
X_SEED = 12345
EPS_SEED = 7
STEPS = 5
LR, BETAS, ADAM_EPS = 5e-4, (0.9, 0.999), 1e-8
FULL_MAX = 65536          # gradients with at most this many elements are stored in full
AFTER_FULL_MAX = 16384    # post-Adam parameters with at most this many elements are stored in full
N_SAMPLE = 4096           # sampled gradient entries for bigger tensors
N_SAMPLE_AFTER = 1024     # sampled post-Adam parameter entries (a prefix of the gradient sample)
SAMPLE_SEED = 777


def sample_idx(name, numel, n):
    key = zs_hash64(SAMPLE_SEED) ^ zs_fnv1a64(name)
    return (zs_rand64(key, np.arange(n, dtype=np.uint64)) % np.uint64(numel)).astype(np.int64)


def make_inputs():
    x = zs_uniform01(zs_hash64(X_SEED), np.arange(B * 3 * IMG * IMG, dtype=np.uint64))
    x = x.astype(np.float32).reshape(B, 3, IMG, IMG)
    eps = np.random.default_rng(EPS_SEED).standard_normal((STEPS, B, Z)).astype(np.float32)
    return x, eps


def fresh(dtype):
    m = deterministic_init(dfc64(Z, (32, 64, 128, 256), IMG), INIT_SEED)
    return m.to(dtype).train()


def run(dtype):
    """Everything the golden file holds, computed in `dtype`; returns a dict of float64 numpy."""
    torch.manual_seed(0)
    x_np, eps_np = make_inputs()
    x = torch.from_numpy(x_np).to(dtype)
    eps = torch.from_numpy(eps_np).to(dtype)
    r = {}

    # step 0, SSE, beta 1, train mode (batch statistics)
    m = fresh(dtype)
    recon, mu, logvar, z = m(x, eps[0])
    loss, rec, kl = loss_fn(recon, x, mu, logvar, 1.0, "sse")
    loss.backward()
    for k, v in (("mu", mu), ("logvar", logvar), ("z", z), ("recon", recon), ("loss", loss), ("rec", rec), ("kl", kl)):
        r[k] = v.detach().double().numpy()
    r["grads"] = {n: p.grad.detach().double().numpy() for n, p in m.named_parameters()}
    r["step0_bn"] = {k: v.double().numpy() for k, v in m.state_dict().items()
                     if k.endswith("running_mean") or k.endswith("running_var")}
    # eval mode right after that single forward: init weights, running statistics from step 0.
    # No optimizer step, so unlike eval.* below this is free of Adam's sensitivity to
    # near-zero gradients and LeakyReLU inputs within rounding of 0: a tight check of
    # the folded batch norm inference path.
    m.eval()
    with torch.no_grad():
        recon0, mu0, logvar0, _ = m(x, None)
    r["eval0.mu"], r["eval0.logvar"], r["eval0.recon"] = (t.double().numpy() for t in (mu0, logvar0, recon0))

    # step 0, BCE
    m = fresh(dtype)
    recon, mu, logvar, z = m(x, eps[0])
    loss_b, _, _ = loss_fn(recon, x, mu, logvar, 1.0, "bce")
    loss_b.backward()
    r["loss_bce"] = loss_b.detach().double().numpy()
    pd = dict(m.named_parameters())
    r["grad_bce"] = {n: pd[n].grad.detach().double().numpy() for n in ("dec.conv3.bias", "dec.conv3.weight")}

    # 5 Adam steps from the init
    m = fresh(dtype)
    opt = torch.optim.Adam(m.parameters(), lr=LR, betas=BETAS, eps=ADAM_EPS)
    losses = []
    for k in range(STEPS):
        opt.zero_grad(set_to_none=True)
        recon, mu, logvar, z = m(x, eps[k])
        loss, _, _ = loss_fn(recon, x, mu, logvar, 1.0, "sse")
        loss.backward()
        losses.append(loss.item())
        opt.step()
        if k == 0:
            r["after1"] = {n: p.detach().double().numpy().copy() for n, p in m.named_parameters()}
    r["losses"] = np.array(losses, dtype=np.float64)
    r["after"] = {k: v.detach().double().numpy() for k, v in m.state_dict().items()
                  if not k.endswith("num_batches_tracked")}

    # eval mode (running statistics), z = mu
    m.eval()
    with torch.no_grad():
        recon, mu, logvar, _ = m(x, None)
    r["eval.mu"], r["eval.logvar"], r["eval.recon"] = (t.double().numpy() for t in (mu, logvar, recon))
    r["param_names"] = [n for n, _ in m.named_parameters()]
    r["bn_names"] = [n for n, mod in m.named_modules() if isinstance(mod, torch.nn.BatchNorm2d)]
    return r


def build_file(r):
    x_np, eps_np = make_inputs()
    t, desc = {}, {}
    f32 = lambda a: np.asarray(a, dtype=np.float32)  # noqa: E731
    f64 = lambda a: np.asarray(a, dtype=np.float64).reshape(())  # noqa: E731

    t["x"] = x_np
    desc["x"] = "input (4,3,64,64) F32: x_i = zs_uniform01(zs_hash64(12345), i) in C order"
    t["eps"] = eps_np
    desc["eps"] = "noise (5,4,128) F32: numpy default_rng(7).standard_normal cast to float32; step k uses eps[k]"
    for k in ("mu", "logvar", "z", "recon"):
        t[k] = f32(r[k])
    desc["mu,logvar,z,recon"] = ("step 0 forward from the init (seed 1), train mode (batch statistics), "
                                 "eps[0]; z = mu + exp(0.5 logvar) eps[0]; recon = sigmoid output")
    for k in ("loss", "rec", "kl"):
        t[k] = f64(r[k])
    desc["loss,rec,kl"] = ("step 0 scalars (shape [], F64), SSE, beta 1: rec = batch mean of per-image sum of "
                           "squared errors, kl = batch mean of -0.5 sum(1 + logvar - mu^2 - exp(logvar)), loss = rec + kl")
    for n in r["param_names"]:
        g = r["grads"][n]
        if g.size <= FULL_MAX:
            t["grad." + n] = f32(g)
        else:
            idx = sample_idx(n, g.size, N_SAMPLE)
            t["grad_idx." + n] = idx
            t["grad_val." + n] = f32(g.reshape(-1)[idx])
        t["grad_norm." + n] = f64(np.sqrt(np.sum(g * g)))
        t["grad_sum." + n] = f64(np.sum(g))
    desc["grad.<param>"] = ("step 0 SSE loss gradient d(loss)/d(param), full, param shape, F32 "
                            "(parameters with numel <= 65536)")
    desc["grad_idx.<param>,grad_val.<param>"] = (
        "bigger parameters: 4096 flat (C-order) indices, I64, idx_j = zs_rand64(zs_hash64(777) ^ "
        "zs_fnv1a64(name), j) mod numel (may repeat), and the gradient at them, F32")
    desc["grad_norm.<param>,grad_sum.<param>"] = "L2 norm and plain sum of the full step 0 gradient, F64 scalars"
    t["loss_bce"] = f64(r["loss_bce"])
    desc["loss_bce"] = ("step 0 loss with per-image binary cross entropy summed over pixels (torch "
                        "binary_cross_entropy, logs clamped at -100) + KL, beta 1, same init/x/eps[0]")
    for n, g in r["grad_bce"].items():
        t["grad_bce." + n] = f32(g)
    desc["grad_bce.<param>"] = "step 0 BCE loss gradient of dec.conv3.weight and dec.conv3.bias, full, F32"
    for k, v in r["step0_bn"].items():
        t["step0." + k] = f32(v)
    desc["step0.<bn>.running_mean,running_var"] = (
        "BN running statistics after the single step 0 train-mode forward: 0.9*init + 0.1*batch stat, "
        "running_var uses the UNBIASED batch variance (n/(n-1), n = N*H*W)")
    t["losses"] = np.asarray(r["losses"], dtype=np.float64)
    desc["losses"] = ("(5,) F64: SSE+KL loss at Adam step k (k = 0..4, eps[k], train mode) before its update; "
                      "Adam lr 5e-4 betas (0.9, 0.999) eps 1e-8, from the init; losses[0] == loss")
    after = r["after"]
    for bn in r["bn_names"]:
        for s in ("weight", "bias", "running_mean", "running_var"):
            t["after.%s.%s" % (bn, s)] = f32(after["%s.%s" % (bn, s)])
    for n in r["param_names"]:
        if "after." + n in t:
            continue
        v = after[n]
        if v.size <= AFTER_FULL_MAX:
            t["after." + n] = f32(v)
        else:
            idx = sample_idx(n, v.size, N_SAMPLE_AFTER)
            t["after_idx." + n] = idx
            t["after_val." + n] = f32(v.reshape(-1)[idx])
    for n in r["param_names"]:
        v = r["after1"][n]
        if v.size <= AFTER_FULL_MAX:
            t["after1." + n] = f32(v)
        else:
            t["after1_val." + n] = f32(v.reshape(-1)[sample_idx(n, v.size, N_SAMPLE_AFTER)])
    desc["after1.<param>,after1_val.<param>"] = (
        "parameters after the first Adam step: in full when numel <= 16384, else at the after_idx indices")
    desc["after.<name>"] = ("after the 5 Adam steps: every BN layer's weight, bias, running_mean, running_var "
                            "and every other parameter with numel <= 16384, in full, F32")
    desc["after_idx.<param>,after_val.<param>"] = (
        "after the 5 Adam steps, bigger parameters: 1024 indices (the first 1024 of the grad_idx "
        "stream, same formula) and the parameter values there")
    for k in ("eval0.mu", "eval0.logvar", "eval0.recon"):
        t[k] = f32(r[k])
    desc["eval0.mu,eval0.logvar,eval0.recon"] = ("init weights with the BN running statistics of the step 0 "
                                                 "forward (step0.*), eval mode, x as input, recon = decoder(mu)")
    for k in ("eval.mu", "eval.logvar", "eval.recon"):
        t[k] = f32(r[k])
    desc["eval.mu,eval.logvar,eval.recon"] = ("after the 5 Adam steps, eval mode (BN running statistics), "
                                              "x as input, recon = decoder(mu) (no noise)")
    meta = {
        "format": "zspace golden v1",
        "model": "dfc64",
        "init_seed": str(INIT_SEED),
        "batch": str(B),
        "z": str(Z),
        "widths": "32,64,128,256",
        "image": str(IMG),
        "lr": repr(LR),
        "betas": "%r,%r" % BETAS,
        "adam_eps": repr(ADAM_EPS),
        "adam_steps": str(STEPS),
        "bn_eps": repr(BN_EPS),
        "bn_momentum": repr(BN_MOMENTUM),
        "leaky_slope": repr(LEAKY_SLOPE),
        "beta_kl": "1.0",
        "loss": "sse",
        "x_seed": str(X_SEED),
        "eps_seed": str(EPS_SEED),
        "sample_seed": str(SAMPLE_SEED),
        "precision": "reference computed in torch float64, stored as F32 (tensors) / F64 (scalars)",
        "torch": torch.__version__,
        "numpy": np.__version__,
        "generator": "tests/golden/make_golden.py",
    }
    for k, v in desc.items():
        meta["desc." + k] = v
    return t, meta


def compare(ref, other):
    """Max relative (to the tensor's max abs) deviation per quantity between two run() results."""
    def rel(a, b):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a)), 1e-30))
    out = {}
    for k in ("mu", "logvar", "z", "recon", "loss", "rec", "kl", "loss_bce", "losses", "eval0.mu", "eval0.recon", "eval.mu", "eval.logvar", "eval.recon"):
        out[k] = rel(ref[k], other[k])
    out["grads(worst param)"] = max((rel(ref["grads"][n], other["grads"][n]), n) for n in ref["param_names"])
    out["after params(worst)"] = max((rel(ref["after"][n], other["after"][n]), n) for n in ref["param_names"])
    d = [np.abs(ref["after"][n] - other["after"][n]).max() for n in ref["param_names"]]
    out["after params max abs diff"] = float(max(d))
    out["after running stats(worst)"] = max((rel(ref["after"][k], other["after"][k]), k) for k in ref["after"]
                                            if "running" in k)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "dfc64_b4.safetensors"))
    ap.add_argument("--f32-check", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(1)  # deterministic reductions, and the machine is shared
    r = run(torch.float64)
    t, meta = build_file(r)
    save_safetensors(a.out, t, meta)
    back, meta2 = load_safetensors(a.out)
    assert set(back) == set(t) and meta2["torch"] == torch.__version__
    for k in t:
        assert back[k].dtype == t[k].dtype and back[k].shape == t[k].shape and np.array_equal(back[k], t[k]), k
    assert back["losses"][0] == back["loss"]
    print("wrote %s: %d tensors, %d bytes" % (a.out, len(t), os.path.getsize(a.out)))
    for k in sorted(t):
        print("  %-34s %-4s %s" % (k, t[k].dtype, list(t[k].shape)))
    print("step 0: loss %.10g rec %.10g kl %.10g" % (r["loss"], r["rec"], r["kl"]))
    print("losses:", " ".join("%.10g" % v for v in r["losses"]))
    print("loss_bce: %.10g" % r["loss_bce"])
    if a.f32_check:
        r32 = run(torch.float32)
        print("float32 torch vs float64 reference (max |diff| / max |ref|):")
        for k, v in compare(r, r32).items():
            print("  %-28s %s" % (k, v))


if __name__ == "__main__":
    main()
