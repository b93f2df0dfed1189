#!/usr/bin/python3
"""tools/train_torch.py trains with DistributedDataParallel (2 CPU processes, gloo) and zspace
opens and continues what it wrote.

    torch_train_ddp.py ZSPACE CELEBA_DIR

Prepares 256 faces with zspace, trains 3 steps of global batch 32 (16 per process) with
`train_torch.py --nproc 2 --device cpu`, then checks: the checkpoint says step 3, epoch 0,
batch 3, batch 32 and the cache's hash; its weights moved away from the initialisation;
`zspace eval --model` loads it and prints a finite mse; `zspace train --resume` continues it
from step 3 with its Adam moments to step 5; and train_torch.py resumes zspace's checkpoint to
step 6. Exit 77 (skipped) without torch or the CelebA slice."""
import math
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(HERE, "..", "tools")
sys.path.insert(0, TOOLS)


def main():
    zs, celeba = sys.argv[1], sys.argv[2]
    try:
        import numpy as np
        import torch  # noqa: F401
    except ImportError as e:
        print("skipped: %s" % e)
        return 77
    if not os.path.isdir(os.path.join(celeba, "img_align_celeba")):
        print("skipped: no CelebA slice at %s" % celeba)
        return 77
    from torch_model import VAE, deterministic_init, export_state, load_safetensors
    from train_torch import FaceCache

    def run(*a):
        r = subprocess.run(list(a), capture_output=True, text=True, timeout=240)
        if r.returncode != 0:
            sys.exit("FAIL: %s exited %d:\n%s%s" % (" ".join(a), r.returncode, r.stdout, r.stderr))
        return r

    trainer = [sys.executable, os.path.join(TOOLS, "train_torch.py")]
    with tempfile.TemporaryDirectory() as d:
        cache, ck = os.path.join(d, "f.zsf"), os.path.join(d, "t.safetensors")
        run(zs, "prepare", "--celeba", celeba, "--out", cache, "--limit", "256", "--split", "train")
        r = run(*trainer, "--nproc", "2", "--device", "cpu", "--threads", "1", "--data", cache, "--out", ck,
                "--steps", "3", "--batch", "32", "--log-every", "1", "--seed", "7")
        print(r.stdout.strip())
        if "2 process(es)" not in r.stdout or "16 per process" not in r.stdout:
            print("FAIL: train_torch.py did not run 2 processes of 16 faces each")
            return 1
        tensors, meta = load_safetensors(ck)
        want = {"format": "zspace-vae", "step": "3", "epoch": "0", "batch_in_epoch": "3", "batch": "32",
                "data_hash": "%016x" % FaceCache(cache).hash}
        for k, v in want.items():
            if meta.get(k) != v:
                print("FAIL: metadata %s is %r, expected %r" % (k, meta.get(k), v))
                return 1
        init = export_state(deterministic_init(VAE(), 7))
        moved = max(float(np.abs(tensors[k] - init[k]).max()) for k in init if not k.endswith("running_var"))
        if not moved > 1e-4 or "opt.m.enc.conv0.weight" not in tensors:
            print("FAIL: weights did not move from the initialisation (%g) or no Adam moments" % moved)
            return 1
        r = run(zs, "eval", "--model", ck, "--data", cache, "--split", "train", "--threads", "2")
        m = re.search(r"^mse: ([0-9.eE+-]+)$", r.stdout, re.M)
        if not m or not math.isfinite(float(m.group(1))) or float(m.group(1)) <= 0:
            print("FAIL: zspace eval printed no finite mse:\n" + r.stdout)
            return 1
        print("zspace eval: mse %s" % m.group(1))
        r = run(zs, "train", "--data", cache, "--out", ck, "--resume", "--steps", "5", "--grid-every", "0",
                "--threads", "2")
        if "resuming %s at step 3 (epoch 0, batch 3)" % ck not in r.stderr:
            print("FAIL: zspace train did not resume the PyTorch checkpoint at step 3:\n" + r.stderr)
            return 1
        if load_safetensors(ck)[1].get("step") != "5":
            print("FAIL: zspace train --resume did not write step 5")
            return 1
        r = run(*trainer, "--device", "cpu", "--data", cache, "--out", ck, "--resume", "--steps", "6",
                "--batch", "32")
        if "resuming %s at step 5" % ck not in r.stdout or load_safetensors(ck)[1].get("step") != "6":
            print("FAIL: train_torch.py did not resume zspace's checkpoint to step 6:\n" + r.stdout)
            return 1
        print("zspace resumed it to step 5, train_torch.py to step 6")
    return 0


if __name__ == "__main__":
    sys.exit(main())
