"""PyTorch reference for zspace's `dfc64` VAE (docs: /work/shared/DESIGN.md, tests/golden/README.md).

Run with Debian's interpreter: /usr/bin/python3 (python3-torch 1.13, numpy).

Architecture (image 64, widths (32, 64, 128, 256), Z = 128):

  encoder  x (N,3,64,64)
           enc.conv{i}: Conv2d(Cin, Cout, 4, stride 2, pad 1, bias=False)
           enc.bn{i}:   BatchNorm2d(Cout, eps 1e-5, momentum 0.1) -> LeakyReLU(0.2)
           channels 3-32-64-128-256, 64->32->16->8->4
           flatten (N, 256*4*4) in NCHW order: feature index = c*16 + y*4 + x
           enc.fc_mu, enc.fc_logvar: Linear(4096, Z)
  decoder  dec.fc: Linear(Z, 4096) (no activation) -> view (N,256,4,4)
           blocks i = 0..2: Upsample x2 nearest -> dec.conv{i}: Conv2d(Cin, Cout, 3, pad 1, bias=False)
                            -> dec.bn{i} -> LeakyReLU(0.2); channels 256-128-64-32
           Upsample x2 -> dec.conv3: Conv2d(32, 3, 3, pad 1, bias=True) -> sigmoid

Generalisation (the C side follows the same rule): `widths` lists the block
channels from the highest resolution down to the bottleneck and the number of
blocks is L = len(widths) = log2(image / 4), so the bottleneck is always
widths[-1] x 4 x 4.  image 64 -> L = 4, default widths (32, 64, 128, 256);
image 128 -> L = 5, default widths (32, 32, 64, 128, 256) (one more block at
the top, same bottleneck and parameter names shifted by one: the decoder then
has dec.conv0..3 / dec.bn0..3 blocks and the output conv is dec.conv4).
Encoder blocks: enc.conv{i}/enc.bn{i}, i = 0..L-1, channels
3 -> widths[0] -> ... -> widths[L-1].  Decoder blocks: dec.conv{i}/dec.bn{i},
i = 0..L-2, channels widths[L-1-i] -> widths[L-2-i]; output conv dec.conv{L-1}:
widths[0] -> 3, 3x3, bias.
"""
import json
import math
import os
import struct
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

try:
    from zs_rand import zs_hash64, zs_fnv1a64, zs_uniform01
except ImportError:  # imported as tools.torch_model
    from .zs_rand import zs_hash64, zs_fnv1a64, zs_uniform01

BN_EPS = 1e-5
BN_MOMENTUM = 0.1
LEAKY_SLOPE = 0.2


def default_widths(image):
    if image == 64:
        return (32, 64, 128, 256)
    if image == 128:
        return (32, 32, 64, 128, 256)
    raise ValueError("image must be 64 or 128")


def n_blocks(image):
    if image not in (64, 128):
        raise ValueError("image must be 64 or 128")
    return int(round(math.log2(image // 4)))


class Encoder(nn.Module):
    def __init__(self, z, widths, image):
        super().__init__()
        self.L = len(widths)
        cin = 3
        for i, c in enumerate(widths):
            setattr(self, "conv%d" % i, nn.Conv2d(cin, c, 4, stride=2, padding=1, bias=False))
            setattr(self, "bn%d" % i, nn.BatchNorm2d(c, eps=BN_EPS, momentum=BN_MOMENTUM))
            cin = c
        flat = widths[-1] * 4 * 4
        self.fc_mu = nn.Linear(flat, z)
        self.fc_logvar = nn.Linear(flat, z)

    def forward(self, x):
        h = x
        for i in range(self.L):
            h = getattr(self, "conv%d" % i)(h)
            h = getattr(self, "bn%d" % i)(h)
            h = F.leaky_relu(h, LEAKY_SLOPE)
        h = h.reshape(h.shape[0], -1)  # NCHW flatten: c*16 + y*4 + x
        return self.fc_mu(h), self.fc_logvar(h)


class Decoder(nn.Module):
    def __init__(self, z, widths, image):
        super().__init__()
        self.L = len(widths)
        self.c0 = widths[-1]
        self.fc = nn.Linear(z, widths[-1] * 4 * 4)
        rev = list(widths[::-1])
        for i in range(self.L - 1):
            setattr(self, "conv%d" % i, nn.Conv2d(rev[i], rev[i + 1], 3, padding=1, bias=False))
            setattr(self, "bn%d" % i, nn.BatchNorm2d(rev[i + 1], eps=BN_EPS, momentum=BN_MOMENTUM))
        setattr(self, "conv%d" % (self.L - 1), nn.Conv2d(widths[0], 3, 3, padding=1, bias=True))

    def logits(self, z):
        h = self.fc(z).reshape(z.shape[0], self.c0, 4, 4)
        for i in range(self.L - 1):
            h = F.interpolate(h, scale_factor=2, mode="nearest")
            h = getattr(self, "conv%d" % i)(h)
            h = getattr(self, "bn%d" % i)(h)
            h = F.leaky_relu(h, LEAKY_SLOPE)
        h = F.interpolate(h, scale_factor=2, mode="nearest")
        return getattr(self, "conv%d" % (self.L - 1))(h)

    def forward(self, z):
        return torch.sigmoid(self.logits(z))


class VAE(nn.Module):
    def __init__(self, z=128, widths=None, image=64):
        super().__init__()
        if widths is None:
            widths = default_widths(image)
        widths = tuple(int(w) for w in widths)
        if len(widths) != n_blocks(image):
            raise ValueError("image %d needs %d widths (bottleneck 4x4), got %r" % (image, n_blocks(image), widths))
        self.z_dim, self.widths, self.image = int(z), widths, int(image)
        self.enc = Encoder(z, widths, image)
        self.dec = Decoder(z, widths, image)

    def config(self):
        return {"z": self.z_dim, "widths": list(self.widths), "image": self.image}

    def forward(self, x, eps):
        """eps: (N, Z) standard normals (None -> z = mu). Returns recon, mu, logvar, z."""
        mu, logvar = self.enc(x)
        z = mu if eps is None else mu + torch.exp(0.5 * logvar) * eps
        return self.dec(z), mu, logvar, z


def dfc64(z=128, widths=(32, 64, 128, 256), image=64):
    return VAE(z, widths, image)


def loss_fn(recon, x, mu, logvar, beta=1.0, kind="sse"):
    """Per image: rec (SSE or BCE summed over pixels) + beta * KL; mean over the batch.
    KL = -0.5 * sum(1 + logvar - mu^2 - exp(logvar)).  Returns (loss, rec_mean, kl_mean).
    BCE uses torch's binary_cross_entropy, which clamps each log term at -100."""
    n = x.shape[0]
    if kind == "sse":
        rec = ((recon - x) ** 2).reshape(n, -1).sum(1)
    elif kind == "bce":
        rec = F.binary_cross_entropy(recon, x, reduction="none").reshape(n, -1).sum(1)
    else:
        raise ValueError(kind)
    kl = -0.5 * (1 + logvar - mu * mu - torch.exp(logvar)).sum(1)
    rec_m, kl_m = rec.mean(), kl.mean()
    return rec_m + beta * kl_m, rec_m, kl_m


# ---------------------------------------------------------------------------
# deterministic initialisation (same numbers as the C engine)

def _param_kind(model):
    """name -> ('bn', None) or ('dense', fan_in) for every parameter."""
    kinds = {}
    for mname, m in model.named_modules():
        for pname, _ in m.named_parameters(recurse=False):
            full = (mname + "." if mname else "") + pname
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                kinds[full] = ("bn", None)
            elif isinstance(m, nn.Conv2d):
                kinds[full] = ("dense", m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1])
            elif isinstance(m, nn.Linear):
                kinds[full] = ("dense", m.in_features)
            else:
                raise TypeError("no init rule for %s (%s)" % (full, type(m).__name__))
    return kinds


def init_values(name, shape, fan_in, seed):
    """float32 array: bound * (2u - 1), u_i = zs_uniform01(zs_hash64(seed) ^ zs_fnv1a64(name), i),
    bound = 1/sqrt(fan_in), computed in float64 then rounded to float32."""
    n = int(np.prod(shape)) if len(shape) else 1
    key = zs_hash64(seed) ^ zs_fnv1a64(name)
    u = zs_uniform01(key, np.arange(n, dtype=np.uint64)).astype(np.float64)
    bound = 1.0 / math.sqrt(float(fan_in))
    return (bound * (2.0 * u - 1.0)).astype(np.float32).reshape(shape)


@torch.no_grad()
def deterministic_init(model, seed):
    kinds = _param_kind(model)
    for name, p in model.named_parameters():
        kind, fan_in = kinds[name]
        if kind == "bn":
            p.fill_(1.0 if name.endswith(".weight") else 0.0)
        else:
            p.copy_(torch.from_numpy(init_values(name, tuple(p.shape), fan_in, seed)).to(p.dtype))
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.zero_()
            m.running_var.fill_(1.0)
            m.num_batches_tracked.zero_()
    return model


def export_state(model, dtype=np.float32):
    """state_dict as numpy (num_batches_tracked dropped), in state_dict order."""
    return {k: v.detach().cpu().numpy().astype(dtype) for k, v in model.state_dict().items()
            if not k.endswith("num_batches_tracked")}


@torch.no_grad()
def import_state(model, tensors, strict=True):
    """Load numpy arrays by name (e.g. from a zspace checkpoint; `opt.` entries ignored)."""
    sd = model.state_dict()
    missing = [k for k in sd if not k.endswith("num_batches_tracked") and k not in tensors]
    if strict and missing:
        raise KeyError("missing tensors: %s" % missing)
    for k, v in sd.items():
        if k in tensors:
            a = np.asarray(tensors[k])
            if tuple(a.shape) != tuple(v.shape):
                raise ValueError("%s: shape %s, model wants %s" % (k, a.shape, tuple(v.shape)))
            v.copy_(torch.from_numpy(a.copy(order="C")).to(v.dtype))
    return model


# ---------------------------------------------------------------------------
# safetensors by hand (no safetensors package on this machine)

_DT = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32, "U8": np.uint8}
_NP2DT = {np.dtype(v): k for k, v in _DT.items()}


def save_safetensors(path, tensors, metadata=None, crc=True):
    """tensors: {name: numpy array}; metadata: {str: str}.  8-byte LE header length, JSON
    header padded with spaces to a multiple of 8, then the payload with no holes.  Tensors
    are laid out 8-byte dtypes first, then 4, 2, 1 (each naturally aligned in the payload).
    With crc=True adds metadata payload_crc32 (8 hex digits, zlib CRC32), which zspace checks."""
    meta = {str(k): str(v) for k, v in (metadata or {}).items()}
    arrs = {}
    for k, v in tensors.items():
        a = np.asarray(v)
        if not a.flags.c_contiguous:
            a = a.copy(order="C")  # (np.ascontiguousarray would turn a 0-d scalar into shape [1])
        if a.dtype not in _NP2DT:
            raise TypeError("%s: unsupported dtype %s" % (k, a.dtype))
        arrs[k] = a.astype(a.dtype.newbyteorder("<"), copy=False)
    order = sorted(arrs, key=lambda k: -arrs[k].dtype.itemsize)  # stable: keeps insertion order per size
    header, off, chunks = {}, 0, []
    for k in order:
        a = arrs[k]
        b = a.tobytes()
        header[k] = {"dtype": _NP2DT[a.dtype.newbyteorder("=")], "shape": list(a.shape),
                     "data_offsets": [off, off + len(b)]}
        off += len(b)
        chunks.append(b)
    payload = b"".join(chunks)
    if crc:
        meta["payload_crc32"] = "%08x" % (zlib.crc32(payload) & 0xFFFFFFFF)
    full = {"__metadata__": meta}
    full.update(header)
    hj = json.dumps(full, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    hj += b" " * ((-len(hj)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        f.write(payload)


def load_safetensors(path, check_crc=True):
    """-> (dict name -> numpy array, metadata dict).  BF16 is widened to float32."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise ValueError("%s: header length %d beyond file size" % (path, n))
    header = json.loads(data[8:8 + n].decode("utf-8"))
    payload = data[8 + n:]
    meta = header.pop("__metadata__", {}) or {}
    if check_crc and "payload_crc32" in meta:
        got = zlib.crc32(payload) & 0xFFFFFFFF
        if got != int(meta["payload_crc32"], 16):
            raise ValueError("%s: payload CRC32 mismatch" % path)
    out = {}
    for k, h in header.items():
        a, b = h["data_offsets"]
        shape = tuple(h["shape"])
        if h["dtype"] == "BF16":
            u = np.frombuffer(payload[a:b], dtype="<u2").astype(np.uint32) << 16
            arr = u.view(np.float32).reshape(shape)
        else:
            dt = np.dtype(_DT[h["dtype"]]).newbyteorder("<")
            arr = np.frombuffer(payload[a:b], dtype=dt).reshape(shape).astype(_DT[h["dtype"]])
        out[k] = arr
    return out, meta


# ---------------------------------------------------------------------------
# zspace model files (see include/zspace/trainer.h): tensors under the names above, Adam
# moments as opt.m.<name> / opt.v.<name>, and the training state in __metadata__.

def config_string(model):
    """zspace's config metadata: 'z=128 image=64 widths=32,64,128,256'."""
    return "z=%d image=%d widths=%s" % (model.z_dim, model.image, ",".join(str(w) for w in model.widths))


def model_from_config_string(cfg):
    kv = dict(part.split("=", 1) for part in cfg.split())
    return VAE(int(kv["z"]), [int(w) for w in kv["widths"].split(",")], int(kv["image"]))


def model_from_state(state):
    """A VAE shaped for a state_dict (names as above, 'module.' prefixes already removed)."""
    z = state["enc.fc_mu.weight"].shape[0]
    widths, i = [], 0
    while "enc.conv%d.weight" % i in state:
        widths.append(int(state["enc.conv%d.weight" % i].shape[0]))
        i += 1
    return VAE(int(z), widths, 4 * 2 ** len(widths))


def load_zspace(path):
    """-> (VAE with the file's weights and batch-norm statistics, metadata, {name: numpy} of opt.*)."""
    tensors, meta = load_safetensors(path)
    if meta.get("format") != "zspace-vae":
        raise ValueError("%s: not a zspace model (metadata format %r)" % (path, meta.get("format")))
    model = model_from_config_string(meta["config"])
    import_state(model, {k: v.astype(np.float32) for k, v in tensors.items() if not k.startswith("opt.")})
    return model, meta, {k: v for k, v in tensors.items() if k.startswith("opt.")}


def save_zspace(path, model, meta=None, adam=None):
    """Write a checkpoint zspace opens, atomically (temporary file, fsync, rename).
    meta: training state (step, epoch, batch_in_epoch, seed, data_hash as 16 hex digits, lr,
    beta, batch, loss); absent keys get zspace's defaults for a weights-only file.
    adam: {param name: (m, v)} numpy float32, for `zspace train --resume`."""
    full = {"format": "zspace-vae", "version": "1", "config": config_string(model), "step": "0",
            "epoch": "0", "batch_in_epoch": "0", "seed": "1", "data_hash": "%016x" % 0, "lr": "0.0005",
            "beta": "1", "batch": "64", "loss": "sse"}
    full.update({k: str(v) for k, v in (meta or {}).items()})
    tensors = export_state(model)
    for name, (m, v) in (adam or {}).items():
        tensors["opt.m." + name] = np.asarray(m, dtype=np.float32)
        tensors["opt.v." + name] = np.asarray(v, dtype=np.float32)
    tmp = "%s.tmp.%d" % (path, os.getpid())
    try:
        save_safetensors(tmp, tensors, full)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


if __name__ == "__main__":
    m = deterministic_init(dfc64(), 1)
    total = 0
    for k, v in m.state_dict().items():
        if k.endswith("num_batches_tracked"):
            continue
        print("%-24s %s" % (k, tuple(v.shape)))
    n = sum(p.numel() for p in m.parameters())
    print("parameters:", n)
    m2 = VAE(image=128)
    print("image 128 parameters:", sum(p.numel() for p in m2.parameters()),
          "out", tuple(m2(torch.rand(2, 3, 128, 128), None)[0].shape))
