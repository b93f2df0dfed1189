#!/usr/bin/python3
"""Weights zspace -> PyTorch -> zspace (tools/export_torch.py both ways) decode and encode the same.

    torch_roundtrip.py ZSPACE MODEL GALLERY.zsf

MODEL (the shipped default) goes to a PyTorch state_dict .pt and back to a zspace model. Then:
  - `zspace sample` (16 fixed latents from a seed, decoded) writes byte-identical PNGs with
    the original and the round-tripped model;
  - `zspace encode` of the gallery gives bit-identical mu and logvar with both;
  - the .pt itself, loaded into tools/torch_model.py's VAE in eval mode, encodes the gallery's
    first 64 faces to zspace's mu within 1e-3 (so the .pt holds the right tensors in the right
    places, not only bytes that survive a round trip).
Exit 77 (skipped) without torch."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(HERE, "..", "tools")
sys.path.insert(0, TOOLS)


def main():
    zs, model, gallery = sys.argv[1:4]
    try:
        import numpy as np
        import torch
    except ImportError as e:
        print("skipped: %s" % e)
        return 77
    from torch_model import load_safetensors, model_from_state
    from train_torch import FaceCache

    def run(*a):
        r = subprocess.run(list(a), capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("FAIL: %s exited %d:\n%s%s" % (" ".join(a), r.returncode, r.stdout, r.stderr))
        return r

    exporter = [sys.executable, os.path.join(TOOLS, "export_torch.py")]
    with tempfile.TemporaryDirectory() as d:
        pt, back = os.path.join(d, "m.pt"), os.path.join(d, "back.safetensors")
        run(*exporter, model, pt)
        run(*exporter, "--to-zspace", pt, back)
        outs = {}
        for tag, m in (("orig", model), ("back", back)):
            png, lat = os.path.join(d, tag + ".png"), os.path.join(d, tag + "_lat.safetensors")
            run(zs, "sample", "--model", m, "--count", "16", "--seed", "5", "--radius", "0.8", "--out", png)
            run(zs, "encode", "--model", m, "--data", gallery, "--out", lat, "--threads", "2")
            with open(png, "rb") as f:
                outs[tag] = (f.read(), load_safetensors(lat)[0])
        png0, lat0 = outs["orig"]
        png1, lat1 = outs["back"]
        if png0 != png1:
            print("FAIL: the round-tripped model decodes the fixed latents differently")
            return 1
        if len(png0) < 10000:
            print("FAIL: the sample grid is suspiciously small (%d bytes)" % len(png0))
            return 1
        for k in ("mu", "logvar"):
            if k not in lat0 or not np.array_equal(lat0[k], lat1[k]):
                print("FAIL: encode's %s differs after the round trip" % k)
                return 1
        print("sample PNG identical (%d bytes), encode mu/logvar identical (%s)" % (len(png0), lat0["mu"].shape))

        sd = torch.load(pt)
        net = model_from_state(sd)
        net.load_state_dict(sd)
        net.eval()
        faces = np.array(FaceCache(gallery).pixels[:64])
        x = torch.from_numpy(faces).permute(0, 3, 1, 2).float() / 255.0
        with torch.no_grad():
            mu, _ = net.enc(x)
        err = float(np.abs(mu.numpy() - lat0["mu"][:64]).max())
        print("PyTorch encodes the first 64 gallery faces to zspace's mu within %.2e" % err)
        if not err <= 1e-3:
            print("FAIL: the exported state_dict does not give zspace's encoder")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
