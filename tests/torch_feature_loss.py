#!/usr/bin/python3
"""The feature network and the feature-consistent loss against PyTorch (float64).

    torch_feature_loss.py TEST_FEATURES_EXE

`test_features --dump DIR` writes a small random feature network
(zs_feat_save) and x, r, zspace's logits of x, its feature loss of r against
x over blocks 1 and 3, and d(loss)/dr. Here PyTorch rebuilds the network from
the file (4 x [Conv2d 4x4 stride 2 pad 1 + bias, LeakyReLU 0.2], NCHW
flatten, Linear to 40), computes the same loss,
    sum over blocks l of (3 S^2 / N_l) || phi_l(r) - phi_l(x) ||^2,
N_l = C_l H_l W_l, summed over the images, and its gradient by autograd, and
both are compared: logits and loss to 1e-5 relative, dr to 1e-4 of its largest
value. Exits 77 (skipped) without torch.
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))


def main():
    try:
        import numpy as np
        import torch
        import torch.nn.functional as F
    except ImportError as e:
        print("skipped: %s" % e)
        return 77
    from torch_model import load_safetensors
    exe = sys.argv[1]
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([exe, "--dump", d], check=True)
        w, meta = load_safetensors(os.path.join(d, "feat.safetensors"))
        io, io_meta = load_safetensors(os.path.join(d, "feat_io.safetensors"))
    cfg = dict(kv.split("=") for kv in meta["feat_config"].split())
    nblocks = len(cfg["widths"].split(","))
    S = int(cfg["image"])
    t = {k: torch.tensor(np.asarray(v), dtype=torch.float64) for k, v in w.items()}

    def blocks(h):
        acts = []
        for b in range(nblocks):
            h = F.leaky_relu(F.conv2d(h, t["conv%d.weight" % b], t["conv%d.bias" % b], stride=2, padding=1), 0.2)
            acts.append(h)
        return acts

    x = torch.tensor(np.asarray(io["x"]), dtype=torch.float64)
    r = torch.tensor(np.asarray(io["r"]), dtype=torch.float64, requires_grad=True)
    ax = blocks(x)
    logits = F.linear(ax[-1].reshape(x.shape[0], -1), t["fc.weight"], t["fc.bias"])
    ar = blocks(r)
    layers = [int(v) - 1 for v in io_meta["layers"].split(",")]
    loss = sum((3.0 * S * S / ar[l][0].numel()) * ((ar[l] - ax[l]) ** 2).sum() for l in layers)
    loss.backward()

    ok = True

    def close(name, got, want, tol, scale=None):
        nonlocal ok
        got = np.asarray(got, dtype=np.float64)
        want = want.detach().numpy()
        s = scale if scale is not None else max(np.abs(want).max(), 1e-30)
        err = np.abs(got - want).max() / s
        print("%-7s max error %.3g of %.3g (tolerance %.0e)" % (name, err, s, tol))
        if not err <= tol:
            ok = False

    close("logits", io["logits"], logits, 1e-5)
    close("loss", io["loss"], loss.reshape(1), 1e-5)
    close("dr", io["dr"], r.grad, 1e-4)
    print("ok" if ok else "FAIL: zspace's feature path differs from PyTorch's")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
