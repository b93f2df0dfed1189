#!/usr/bin/python3
"""zspace prepare against the Pillow equivalent, on the same images, same run.

    /usr/bin/python3 bench/compare_pillow.py [--celeba DIR] [--zspace EXE]
                                             [--limit N] [--rounds 3]

zspace side: the built `zspace prepare --celeba DIR --out TMP --threads 2`,
timed as a whole process (index parsing, decoding, writing, fsync, rename).
Pillow side: the same image files, each Image.open -> draft (DCT scaling to the
smallest scale that keeps 64 pixels across the crop, as zspace does; --no-draft
for full-size decoding) -> resize((64, 64), Image.BOX, box=the crop (15, 40, 163,
188) scaled to the decoded size), on a multiprocessing Pool of 2 processes,
the faces returned to the parent (no file written). The page cache is warmed
first and the two alternate for --rounds rounds; the median round counts.

Prints zspace_img_per_s, pillow_img_per_s, ratio (zspace / Pillow),
open_ms (zs_cache_open of the resulting cache, via bench prepare_speed when
it is built) and how far the two results are apart.
"""
import argparse
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

CROP = (15, 40, 163, 188)   # zs_crop_celeba(): side 148 at x = 15, y = 40
SIZE = 64


def pillow_face(path):
    """Pillow's fastest path: Image.draft lets libjpeg decode at the smallest
    DCT scale (1/2, 1/4, 1/8) that keeps at least SIZE pixels across the
    crop, as zspace does; the crop box is scaled to the decoded size and the
    box filter resamples from it."""
    im = Image.open(path)
    w0, h0 = im.size
    side = CROP[2] - CROP[0]
    if DRAFT:
        im.draft("RGB", (max(1, w0 * SIZE // side), max(1, h0 * SIZE // side)))
    if im.mode != "RGB":
        im = im.convert("RGB")
    sx, sy = im.size[0] / w0, im.size[1] / h0
    box = (CROP[0] * sx, CROP[1] * sy, CROP[2] * sx, CROP[3] * sy)
    return im.resize((SIZE, SIZE), Image.BOX, box=box).tobytes()


DRAFT = True


def pool_init(draft):
    global DRAFT
    DRAFT = draft


def run_pillow(paths, procs, draft):
    t0 = time.perf_counter()
    with multiprocessing.Pool(procs, initializer=pool_init, initargs=(draft,)) as pool:
        faces = pool.map(pillow_face, paths, chunksize=64)
    out = np.frombuffer(b"".join(faces), dtype=np.uint8).reshape(len(paths), SIZE, SIZE, 3)
    return time.perf_counter() - t0, out


def run_zspace(exe, celeba, out, limit, threads):
    cmd = [exe, "prepare", "--celeba", celeba, "--out", out, "--threads", str(threads)]
    if limit:
        cmd += ["--limit", str(limit)]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit("zspace prepare failed (%d):\n%s%s" % (p.returncode, p.stdout, p.stderr))
    m = re.search(r"wrote (\d+) faces, (\d+) bad images, ([\d.]+) s, (\d+) faces/s", p.stdout)
    if not m:
        sys.exit("cannot parse zspace output:\n" + p.stdout)
    return wall, int(m.group(1)), float(m.group(3)), p.stdout


def read_cache(path):
    """Ids and pixels of a .zsf (layout in include/zspace/data.h)."""
    with open(path, "rb") as f:
        h = f.read(4096)
    assert h[:8] == b"ZSFACES\x1a"
    count = int.from_bytes(h[16:20], "little")
    size = int.from_bytes(h[20:24], "little")
    ids_off = int.from_bytes(h[64:72], "little")
    mm = np.memmap(path, dtype=np.uint8, mode="r")
    pix = mm[4096:4096 + count * size * size * 3].reshape(count, size, size, 3)
    ids = [bytes(mm[ids_off + 32 * i: ids_off + 32 * (i + 1)]).rstrip(b"\0").decode() for i in range(count)]
    return ids, pix


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--celeba", default=os.path.join(os.path.dirname(root), "shared", "celeba"))
    ap.add_argument("--zspace", default=None, help="the zspace executable (default: build-data/ or build/)")
    ap.add_argument("--limit", type=int, default=0, help="first N faces (default: all)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--procs", type=int, default=2, help="Pillow processes and zspace threads")
    ap.add_argument("--no-draft", action="store_true", help="Pillow decodes at full size (no Image.draft)")
    a = ap.parse_args()
    exe = a.zspace
    if not exe:
        for cand in ("build-data/zspace", "build/zspace"):
            if os.access(os.path.join(root, cand), os.X_OK):
                exe = os.path.join(root, cand)
                break
    if not exe:
        sys.exit("no zspace executable found; pass --zspace")
    img_dir = os.path.join(a.celeba, "img_align_celeba")
    names = sorted(n for n in os.listdir(img_dir) if n.lower().endswith((".jpg", ".jpeg", ".png")))
    if a.limit:
        names = names[:a.limit]
    paths = [os.path.join(img_dir, n) for n in names]
    print("images: %d in %s" % (len(paths), img_dir))
    print("zspace: %s" % exe)
    print("cpus: %d, load average: %s" % (os.cpu_count(), " ".join("%.2f" % x for x in os.getloadavg())))

    total = 0   # warm the page cache for both
    for p in paths:
        with open(p, "rb") as f:
            total += len(f.read())
    print("image bytes: %d (%.1f KB each)" % (total, total / len(paths) / 1024))

    tmp = tempfile.mkdtemp(prefix="zs_bench_")
    out = os.path.join(tmp, "faces.zsf")
    zs_rates, zs_build_rates, pil_rates = [], [], []
    pil_faces = None
    for r in range(a.rounds):
        wall, n, build_s, text = run_zspace(exe, a.celeba, out, a.limit, a.procs)
        zs_rates.append(n / wall)
        zs_build_rates.append(n / build_s)
        t, pil_faces = run_pillow(paths, a.procs, not a.no_draft)
        pil_rates.append(len(paths) / t)
        print("round %d: zspace %d faces in %.2f s (build %.2f s), pillow %d faces in %.2f s"
              % (r + 1, n, wall, build_s, len(paths), t))
    zs = statistics.median(zs_rates)
    pil = statistics.median(pil_rates)
    print("zspace_img_per_s: %.0f" % zs)
    print("zspace_build_img_per_s: %.0f" % statistics.median(zs_build_rates))
    print("pillow_img_per_s: %.0f" % pil)
    print("ratio: %.2f" % (zs / pil))

    speed = os.path.join(os.path.dirname(exe), "bench", "prepare_speed")
    if os.access(speed, os.X_OK):
        p = subprocess.run([speed, "--open", out], stdout=subprocess.PIPE, text=True)
        m = re.search(r"open_ms: ([\d.]+)", p.stdout)
        print("open_ms: %s" % (m.group(1) if m else "?"))
    else:
        print("open_ms: ? (build bench/prepare_speed to measure)")

    ids, pix = read_cache(out)
    assert ids == names[:len(ids)], "the cache and the Pillow run cover different images"
    d = np.abs(pix.astype(np.int16) - pil_faces[:len(ids)].astype(np.int16))
    print("zspace_vs_pillow_mean_abs_diff: %.2f (levels of 255; max %d; %.2f%% over 8)"
          % (d.mean(), d.max(), 100.0 * (d > 8).mean()))
    os.unlink(out)
    os.rmdir(tmp)


if __name__ == "__main__":
    main()
