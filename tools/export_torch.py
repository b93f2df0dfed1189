#!/usr/bin/python3
"""zspace model <-> PyTorch state_dict.

    export_torch.py MODEL.safetensors OUT.pt              zspace -> PyTorch
    export_torch.py --to-zspace IN.pt OUT.safetensors     PyTorch -> zspace

zspace -> PyTorch writes the plain state_dict of tools/torch_model.py's VAE (float32, batch-norm
running statistics included; Adam moments are left out), so in PyTorch

    from torch_model import model_from_state
    sd = torch.load("OUT.pt"); m = model_from_state(sd); m.load_state_dict(sd); m.eval()

gives the model zspace runs (eval mode: z = mu, batch norm with running statistics).

PyTorch -> zspace reads a state_dict with these names: a plain one, or a dict holding it under
"state_dict" or "model" (common training-checkpoint layouts); DDP's "module." prefixes are
removed. The architecture (Z, widths, image size) is read from the tensor shapes. Writes a
weights-only zspace model (like `zspace export`) that every zspace command opens; continue
training it with `zspace train --init OUT.safetensors`.

Both directions copy float32 values unchanged, so a round trip gives back the same decodes
bit for bit (tests/torch_roundtrip.py). Needs python3-torch and python3-numpy.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ beside an installed copy (/usr/share/zspace/tools)

import torch  # noqa: E402

from torch_model import config_string, load_zspace, model_from_state, save_zspace  # noqa: E402


def to_torch(src, dst):
    model, meta, _ = load_zspace(src)
    torch.save(model.state_dict(), dst)
    n = sum(p.numel() for p in model.parameters())
    print("wrote %s: %s, %d parameters, trained %s steps" % (dst, meta["config"], n, meta.get("step", "?")))


def state_of(obj, path):
    if isinstance(obj, dict):
        for key in ("state_dict", "model"):
            if key in obj and isinstance(obj[key], dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not all(torch.is_tensor(v) for v in obj.values()):
        raise SystemExit("%s: not a state_dict (a dict of tensors, or one under 'state_dict' or 'model')" % path)
    return {(k[len("module."):] if k.startswith("module.") else k): v for k, v in obj.items()}


def to_zspace(src, dst):
    try:
        obj = torch.load(src, map_location="cpu")
    except OSError:
        raise
    except Exception as e:  # torch.load raises pickle's and zipfile's errors, among others
        raise SystemExit("export_torch.py: %s: not a PyTorch file (%s)" % (src, e))
    state = state_of(obj, src)
    if "enc.fc_mu.weight" not in state:
        raise SystemExit("%s: no enc.fc_mu.weight: not the dfc64 of tools/torch_model.py" % src)
    model = model_from_state(state)
    model.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
    missing = [k for k in model.state_dict() if k not in state and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in state if k not in model.state_dict()]
    if missing or unexpected:
        raise SystemExit("%s: missing tensors %s, unexpected tensors %s" % (src, missing, unexpected))
    save_zspace(dst, model)
    print("wrote %s: %s" % (dst, config_string(model)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--to-zspace", action="store_true", help="convert a PyTorch state_dict to a zspace model")
    ap.add_argument("src")
    ap.add_argument("dst")
    a = ap.parse_args()
    try:
        (to_zspace if a.to_zspace else to_torch)(a.src, a.dst)
    except (OSError, ValueError, KeyError) as e:
        raise SystemExit("export_torch.py: %s" % e)


if __name__ == "__main__":
    main()
