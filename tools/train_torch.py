#!/usr/bin/python3
"""Train zspace's dfc64 in PyTorch, on one or many GPUs (or CPU processes), from a face cache.

    python3 tools/train_torch.py --data faces.zsf --out model.safetensors --epochs 10
    python3 tools/train_torch.py --nproc 8 --data faces.zsf --out model.safetensors --batch 512
    torchrun --nnodes 4 --nproc_per_node 8 --rdzv_backend c10d --rdzv_endpoint HOST:29500 \\
        tools/train_torch.py --data faces.zsf --out model.safetensors --batch 2048 --lr 1e-3

The face cache is the one `zspace prepare` writes (.zsf, read here through a numpy memmap, so
every process shares the page cache); the output is a zspace checkpoint: `zspace eval`, `zspace
gui --model`, the latent commands and `zspace train --resume` open it (Adam moments, step and
data position are in it). Same model (tools/torch_model.py), loss (per-image sum of squared
errors or BCE + beta * KL, mean over the batch), Adam and random horizontal flips as
`zspace train`; the data order and noise come from torch's generators, so the numbers are not
zspace's bit for bit.

Distributed: with --nproc N (one machine) or under torchrun (RANK, WORLD_SIZE, LOCAL_RANK,
MASTER_ADDR in the environment: many machines) the model is wrapped in DistributedDataParallel, NCCL on GPUs, gloo on CPUs. --batch is the global batch,
split evenly over the processes; every epoch is one permutation of the split, shared by all
ranks, each taking its slice of every batch, so the gradient is that of the global batch.
Batch norm uses each process's own slice unless --sync-bn (GPUs only: SyncBatchNorm makes it
exactly the global batch's statistics). Rank 0 logs and writes the checkpoint (atomically) every
--ckpt-every steps and at the end; Ctrl-C or SIGTERM (a scheduler's) saves within 10 steps and
exits with 130; --resume continues.
A CPU-only machine runs the same path: --nproc 2 --device cpu.
"""
import argparse
import math
import os
import signal
import struct
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ beside an installed copy (/usr/share/zspace/tools)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402

from torch_model import VAE, deterministic_init, load_zspace, loss_fn, save_zspace  # noqa: E402

SPLITS = {"train": 0, "val": 1, "test": 2}


class FaceCache:
    """A zspace face cache (layout: include/zspace/data.h), read-only and memory-mapped."""

    def __init__(self, path):
        with open(path, "rb") as f:
            h = f.read(4096)
        if len(h) < 4096 or h[:8] != b"ZSFACES\x1a":
            raise ValueError("%s: not a zspace face cache (bad magic)" % path)
        version, hbytes, count, size, ch, nattr, idb, flags = struct.unpack_from("<8I", h, 8)
        if version != 1:
            raise ValueError("%s: face cache version %d, this reads version 1" % (path, version))
        if zlib.crc32(h[:4092]) & 0xFFFFFFFF != struct.unpack_from("<I", h, 4092)[0]:
            raise ValueError("%s: header checksum mismatch: the header is corrupt" % path)
        if (hbytes, ch, nattr, idb) != (4096, 3, 40, 32):
            raise ValueError("%s: unexpected header fields" % path)
        pix, ids, attrs, part, total, self.hash = struct.unpack_from("<6Q", h, 56)
        face = size * size * 3
        if (pix, ids, attrs, part, total) != (4096, 4096 + count * face, 4096 + count * (face + 32),
                                              4096 + count * (face + 72), 4096 + count * (face + 73)):
            raise ValueError("%s: header offsets do not match %d faces of %d pixels" % (path, count, size))
        if os.path.getsize(path) != total:
            raise ValueError("%s: file is %d bytes, header says %d (truncated?)" % (path, os.path.getsize(path), total))
        self.path, self.count, self.size = path, count, size
        self.pixels = np.memmap(path, np.uint8, "r", pix, (count, size, size, 3))
        self.partition = np.array(np.memmap(path, np.uint8, "r", part, (count,)))

    def split(self, name):
        if name == "all":
            return np.arange(self.count)
        return np.nonzero(self.partition == SPLITS[name])[0]


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--data", required=True, help="face cache (.zsf) from zspace prepare")
    ap.add_argument("--out", required=True, help="zspace checkpoint to write (.safetensors)")
    ap.add_argument("--epochs", type=int, default=10, help="train until this many epochs in total (default 10)")
    ap.add_argument("--steps", type=int, default=0, help="train until this many steps in total (overrides --epochs)")
    ap.add_argument("--batch", type=int, default=64, help="global batch, divided among the processes (default 64)")
    ap.add_argument("--lr", type=float, default=None,
                    help="Adam learning rate (default 5e-4; with --resume the checkpoint's, unless given)")
    ap.add_argument("--beta", type=float, default=1.0, help="KL weight (default 1)")
    ap.add_argument("--kl-warmup", type=int, default=0, help="ramp beta from 0 over this many steps")
    ap.add_argument("--loss", choices=("sse", "bce"), default="sse")
    ap.add_argument("--z", type=int, default=128, help="latent dimensions (default 128)")
    ap.add_argument("--seed", type=int, default=1, help="initialisation (zspace's), data order and noise")
    ap.add_argument("--split", choices=("train", "val", "test", "all"), default="train",
                    help="faces to train on (default train)")
    ap.add_argument("--no-flip", action="store_true", help="no random horizontal flips")
    ap.add_argument("--init", help="start from this zspace model's weights with a fresh optimizer")
    ap.add_argument("--resume", action="store_true", help="continue --out (weights, Adam, position)")
    ap.add_argument("--device", default="", help="cuda or cpu (default: cuda when available)")
    ap.add_argument("--sync-bn", action="store_true", help="batch norm over the global batch (GPUs)")
    ap.add_argument("--nproc", type=int, default=1,
                    help="start this many processes on this machine (instead of torchrun), e.g. one per GPU")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads per process (default: cores / processes)")
    ap.add_argument("--log-every", type=int, default=50, help="progress line interval in steps")
    ap.add_argument("--ckpt-every", type=int, default=1000, help="checkpoint interval in steps")
    return ap.parse_args()


def adam_state(opt, model):
    """{name: (exp_avg, exp_avg_sq)} of every trained parameter (zspace's opt.m / opt.v)."""
    out = {}
    for name, p in model.named_parameters():
        st = opt.state.get(p)
        if st:
            out[name] = (st["exp_avg"].detach().cpu().numpy(), st["exp_avg_sq"].detach().cpu().numpy())
    return out


def load_adam(opt, model, moments, step, device):
    params = dict(model.named_parameters())
    for name, p in params.items():
        m, v = moments.get("opt.m." + name), moments.get("opt.v." + name)
        if m is None or v is None:
            raise ValueError("checkpoint has no Adam moments for %s" % name)
        opt.state[p] = {"step": torch.tensor(float(step)),
                        "exp_avg": torch.from_numpy(m.astype(np.float32)).to(device).reshape(p.shape),
                        "exp_avg_sq": torch.from_numpy(v.astype(np.float32)).to(device).reshape(p.shape)}


def launch(n):
    """--nproc N without torchrun: N local processes of this script, ranks 0..N-1, rendezvous on a
    free local port. (Debian 12's torchrun, torch 1.13 under Python 3.11, fails before starting
    any worker: its Std.from_str cannot map "0" to an IntFlag member there.)"""
    import socket
    import subprocess
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv, skip = [], False
    for x in sys.argv[1:]:
        if skip or x.startswith("--nproc="):
            skip = False
            continue
        if x == "--nproc":
            skip = True
            continue
        argv.append(x)
    procs, signalled = [], [0.0]

    def on_signal(sig, frame):  # pass it on (if the workers did not get it too): they save and exit
        signalled[0] = signalled[0] or time.time()
        for q in procs:
            if q.poll() is None:
                q.send_signal(signal.SIGTERM)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    for r in range(n):
        env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE=str(n), RANK=str(r),
                   LOCAL_RANK=str(r), LOCAL_WORLD_SIZE=str(n))
        procs.append(subprocess.Popen([sys.executable, os.path.abspath(__file__)] + argv, env=env))
    rc, live = 0, list(procs)
    while live:
        for p in list(live):
            code = p.poll()
            if code is None:
                continue
            live.remove(p)
            if code != 0 and rc == 0:
                rc = code
                for q in live:  # one failed: the others cannot go on without it
                    q.terminate()
        if signalled[0] and time.time() - signalled[0] > 60:
            for q in live:
                q.kill()
        time.sleep(0.1)
    return 130 if signalled[0] and rc in (0, 130) else rc


def main():
    a = parse_args()
    if a.nproc > 1 and "RANK" not in os.environ:
        sys.exit(launch(a.nproc))
    world, rank = int(os.environ.get("WORLD_SIZE", "1")), int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
    use_cuda = a.device.startswith("cuda") or (not a.device and torch.cuda.is_available())
    if use_cuda:
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
    else:
        device = torch.device("cpu")
        torch.set_num_threads(a.threads or max(1, (os.cpu_count() or 1) // local_world))
    if world > 1:
        dist.init_process_group("nccl" if use_cuda else "gloo")
    log = print if rank == 0 else (lambda *x, **k: None)
    if a.batch % world:
        raise SystemExit("train_torch.py: --batch %d does not divide among %d processes" % (a.batch, world))
    local_batch = a.batch // world

    cache = FaceCache(a.data)
    idx = cache.split(a.split)
    per_epoch = len(idx) // a.batch
    if per_epoch == 0:
        raise SystemExit("train_torch.py: %s has %d %s faces, fewer than one batch of %d"
                         % (a.data, len(idx), a.split, a.batch))

    step, epoch, pos, moments = 0, 0, 0, None
    if a.resume and os.path.exists(a.out):
        model, meta, moments = load_zspace(a.out)
        if int(meta.get("data_hash", "0"), 16) != cache.hash:
            raise SystemExit("train_torch.py: cannot resume: %s was trained on other data" % a.out)
        step, epoch, pos = int(meta["step"]), int(meta["epoch"]), int(meta["batch_in_epoch"])
        a.seed, a.beta, a.loss = int(meta["seed"]), float(meta["beta"]), meta["loss"]
        if a.lr is None:
            a.lr = float(meta["lr"])
        if int(meta["batch"]) != a.batch:
            raise SystemExit("train_torch.py: %s was trained with batch %s; resume with --batch %s"
                             % (a.out, meta["batch"], meta["batch"]))
        log("resuming %s at step %d (epoch %d, batch %d)" % (a.out, step, epoch, pos))
    elif a.init:
        model, meta, _ = load_zspace(a.init)
        log("starting from the weights of %s (trained %s steps)" % (a.init, meta.get("step", "?")))
    else:
        model = deterministic_init(VAE(a.z, image=cache.size), a.seed)
    if a.lr is None:
        a.lr = 5e-4
    if model.image != cache.size:
        raise SystemExit("train_torch.py: a %d-pixel model and %d-pixel faces" % (model.image, cache.size))
    model.to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, betas=(0.9, 0.999), eps=1e-8)
    if moments:
        load_adam(opt, model, moments, step, device)
    net = model
    if world > 1:
        if a.sync_bn and use_cuda:
            net = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        net = torch.nn.parallel.DistributedDataParallel(net, device_ids=[local_rank] if use_cuda else None)
    target = a.steps if a.steps else a.epochs * per_epoch
    log("training %s on %d %s faces of %s: steps %d..%d of %d (%d per epoch), %d process(es) on %s, %d per process"
        % (a.out, len(idx), a.split, a.data, step, target, a.batch, per_epoch, world, device.type, local_batch))

    def save():
        if rank == 0:
            save_zspace(a.out, model, {
                "step": step, "epoch": epoch, "batch_in_epoch": pos, "seed": a.seed,
                "data_hash": "%016x" % cache.hash, "lr": "%.9g" % a.lr, "beta": "%.9g" % a.beta,
                "batch": a.batch, "loss": a.loss, "rng": "torch generators (tools/train_torch.py)",
                "trained_by": "tools/train_torch.py, %d process(es)" % world}, adam_state(opt, model))
        if world > 1:
            dist.barrier()

    # Ctrl-C / SIGTERM: finish the step, save, exit (the ranks agree on the step, every 10 steps)
    stop = [0]

    def on_signal(sig, frame):
        stop[0] = 1
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    order = None
    t0, seen, last_log = time.time(), 0, step
    while step < target:
        if order is None or order[0] != epoch:
            g = torch.Generator().manual_seed(a.seed * 1000003 + epoch)
            order = (epoch, idx[torch.randperm(len(idx), generator=g).numpy()])
        sel = order[1][pos * a.batch + rank * local_batch: pos * a.batch + (rank + 1) * local_batch]
        sel.sort()  # memmap reads in file order
        gen = torch.Generator().manual_seed((a.seed * 1000003 + step) * 4099 + rank)
        x = torch.from_numpy(np.ascontiguousarray(cache.pixels[sel])).permute(0, 3, 1, 2).float().div_(255.0)
        if not a.no_flip:
            flip = torch.rand(len(sel), generator=gen) < 0.5
            x[flip] = x[flip].flip(3)
        eps = torch.randn(len(sel), model.z_dim, generator=gen)
        x, eps = x.to(device, non_blocking=True), eps.to(device, non_blocking=True)
        beta = a.beta * min(1.0, (step + 1) / a.kl_warmup) if a.kl_warmup else a.beta
        recon, mu, logvar, _ = net(x, eps)
        loss, rec, kl = loss_fn(recon, x, mu, logvar, beta, a.loss)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step, pos, seen = step + 1, pos + 1, seen + a.batch
        if pos == per_epoch:
            epoch, pos = epoch + 1, 0
        if rank == 0 and (step % a.log_every == 0 or step == target):
            if not math.isfinite(loss.item()):
                raise SystemExit("train_torch.py: loss is %s at step %d" % (loss.item(), step))
            dt = time.time() - t0
            log("step %d/%d epoch %d loss %.2f rec %.2f kl %.2f (rank 0's slice) %.0f img/s, ETA %.0f s"
                % (step, target, epoch, loss.item(), rec.item(), kl.item(), seen / dt,
                   (target - step) * dt / max(1, step - last_log)), flush=True)
        if step % a.ckpt_every == 0 and step < target:
            save()
        flag = stop[0]
        if world > 1 and step % 10 == 0:
            t = torch.tensor([flag], dtype=torch.int32, device=device)
            dist.all_reduce(t, op=dist.ReduceOp.MAX)
            flag = int(t.item())
        elif world > 1:
            flag = 0
        if flag:
            save()
            log("interrupted at step %d: saved %s; continue with --resume" % (step, a.out))
            if world > 1:
                dist.destroy_process_group()
            sys.exit(130)
    save()
    log("wrote %s (step %d); try: zspace eval --model %s --data %s --split %s"
        % (a.out, step, a.out, a.data, "val" if len(cache.split("val")) else "train"))
    if world > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
