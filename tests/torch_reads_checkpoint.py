#!/usr/bin/python3
"""PyTorch reads a zspace checkpoint into the reference dfc64 (tools/torch_model.py) and gets
the same reconstruction as zspace.

    torch_reads_checkpoint.py ZSPACE CELEBA_DIR

Prepares 100 faces, trains 6 steps with zspace (so batch-norm running statistics are not
the init's), runs `zspace recon` on one face, then feeds the PNG's left half (the
model-size input crop zspace used, exactly) through PyTorch in eval mode with z = mu and
compares with the right half (zspace's reconstruction): at most 1 level of 255 apart.
Exit 77 (skipped) without torch or the CelebA slice."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))


def main():
    zs, celeba = sys.argv[1], sys.argv[2]
    try:
        import numpy as np
        import torch
        from PIL import Image
    except ImportError as e:
        print("skipped: %s" % e)
        return 77
    if not os.path.isdir(os.path.join(celeba, "img_align_celeba")):
        print("skipped: no CelebA slice at %s" % celeba)
        return 77
    from torch_model import VAE, import_state, load_safetensors
    with tempfile.TemporaryDirectory() as d:
        run = lambda *a: subprocess.run([zs] + list(a), check=True, capture_output=True, text=True)  # noqa: E731
        cache, model = os.path.join(d, "f.zsf"), os.path.join(d, "m.safetensors")
        run("prepare", "--celeba", celeba, "--out", cache, "--limit", "100")
        run("train", "--data", cache, "--out", model, "--steps", "6", "--batch", "16", "--grid-every", "0")
        face = sorted(os.listdir(os.path.join(celeba, "img_align_celeba")))[0]
        out = run("recon", "--model", model, os.path.join(celeba, "img_align_celeba", face), "--out-dir", d)
        png = out.stdout.strip().splitlines()[-1]
        pair = np.asarray(Image.open(png).convert("RGB"), dtype=np.float32) / 255.0
        tensors, meta = load_safetensors(model)
        cfg = dict(kv.split("=") for kv in meta["config"].split())
        m = VAE(int(cfg["z"]), [int(w) for w in cfg["widths"].split(",")], int(cfg["image"]))
        import_state(m, {k: v for k, v in tensors.items() if not k.startswith("opt.")})
        m.eval()
        s = int(cfg["image"])
        x = torch.from_numpy(pair[:, :s].transpose(2, 0, 1).copy())[None]
        with torch.no_grad():
            recon, mu, logvar, _ = m(x, None)
        ours = np.round(recon[0].numpy().transpose(1, 2, 0) * 255.0)
        theirs = np.round(pair[:, s:] * 255.0)
        diff = np.abs(ours - theirs)
        print("step %s, %s: max |torch - zspace| = %d levels, mean %.4f levels"
              % (meta["step"], face, diff.max(), diff.mean()))
        if diff.max() > 1:
            print("FAIL: PyTorch's reconstruction differs from zspace's")
            return 1
        if np.std(theirs) < 1:
            print("FAIL: the reconstruction is flat; the comparison would prove nothing")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
