"""Digit photos on ruled and squared notebook paper through the upload path (issue 11), on the full build.

    python benchmarks/probe_ruled_paper.py [--without-rules]

Synthesises 150 photos per kind (MNIST test digits in dark or blue ink on grey, shaded, grainy paper, 800x600
JPEG; pale blue ruled or squared lines every 28-45 px), also turned by 1-3 and 3-7 degrees, and blank ruled and
squared sheets; prints the headline kinds, the share read correctly and the preprocessing time per photo.
``--without-rules`` turns the ruled-line removal (``uqcore.data.preprocess._ruled_lines``) off, for the before
column. Not a family of the build: none of these numbers was tuned on the held-out families.
"""
from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from uqcore.build import build  # noqa: E402
from uqcore.data import families, load_mnist  # noqa: E402
from uqcore.data import preprocess  # noqa: E402
from uqcore.file_path import read_kinds, through_files  # noqa: E402

LINE = np.array([0.55, 0.65, 0.95])  # pale blue ruling
BLUE_PEN = np.array([0.15, 0.25, 0.85])


def sheet(rng, kind: str, h: int = 600, w: int = 800) -> np.ndarray:
    rgb = np.repeat(families._paper(rng, h, w)[..., None], 3, -1)
    if kind in ("ruled", "squared"):
        gap = int(rng.integers(28, 45))
        off = int(rng.integers(0, gap))
        for r in range(off, h, gap):
            rgb[r:r + 2] = rgb[r:r + 2] * LINE
        if kind == "squared":
            for c in range(off, w, gap):
                rgb[:, c:c + 2] = rgb[:, c:c + 2] * LINE
    return rgb


def jpeg(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8)).save(buf, "JPEG", quality=85)
    return buf.getvalue()


def photos(kind: str, n: int, seed: int) -> tuple[list[bytes], np.ndarray]:
    test = load_mnist().test
    rng = np.random.default_rng(seed)
    files, ys = [], []
    for k in rng.permutation(len(test))[:n]:
        rgb = sheet(rng, "plain" if kind == "blue_ink" else kind)
        h, w = rgb.shape[:2]
        side = min(int(np.sqrt(rng.uniform(0.05, 0.3) * h * w)), h - 4, w - 4)
        d = np.asarray(Image.fromarray((test.x[k].reshape(28, 28) * 255).astype(np.uint8))
                       .resize((side, side), Image.Resampling.BICUBIC), np.float32) / 255
        d = ndimage.gaussian_filter(np.clip(d, 0, 1), 0.8)[..., None]
        r0, c0 = rng.integers(0, h - side), rng.integers(0, w - side)
        ink = rng.uniform(0.6, 0.9)
        pen = BLUE_PEN if kind == "blue_ink" else np.zeros(3)
        patch = rgb[r0:r0 + side, c0:c0 + side]
        rgb[r0:r0 + side, c0:c0 + side] = patch * (1 - ink * d) + ink * d * pen * patch
        files.append(jpeg(rgb))
        ys.append(test.y[k])
    return files, np.array(ys)


def turned(files: list[bytes], lo: float, hi: float, seed: int = 3) -> list[bytes]:
    rng = np.random.default_rng(seed)
    out = []
    for f in files:
        im = Image.open(io.BytesIO(f)).convert("RGB")
        angle = float(rng.uniform(lo, hi)) * (1 if rng.random() < 0.5 else -1)
        w, h = im.size
        m = int(np.ceil(max(w, h) * np.sin(np.deg2rad(abs(angle))))) + 2  # crop away the corners turning leaves
        im = im.rotate(angle, resample=Image.Resampling.BILINEAR).crop((m, m, w - m, h - m))
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=85)
        out.append(buf.getvalue())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--without-rules", action="store_true", help="turn the ruled-line removal off (the before column)")
    ap.add_argument("-n", type=int, default=150)
    a = ap.parse_args()
    if a.without_rules:
        preprocess.RULE_MIN_LINES = 10 ** 9
    b = build()
    fam, reader = b.familiarity, b.methods["reader"]
    print("| photos | n | confident | ambiguous | unfamiliar | no digit | read correctly | ms per photo |")
    print("|---|---|---|---|---|---|---|---|")

    def row(name, files, y):
        t0 = time.perf_counter()
        x, empty = through_files(files)
        ms = (time.perf_counter() - t0) / len(files) * 1000
        probs, k = read_kinds(reader, fam, x, empty)
        read = f"{((probs.argmax(1) == y) & ~empty).mean():.1%}" if (y >= 0).all() else "–"
        print(f"| {name} | {len(files)} | " + " | ".join(f"{(k == q).mean():.1%}" for q in
                                                       ("confident", "ambiguous", "unfamiliar", "no_digit"))
              + f" | {read} | {ms:.0f} |", flush=True)

    for kind, seed in (("plain", 11), ("blue_ink", 11), ("ruled", 11), ("squared", 11)):
        files, y = photos(kind, a.n, seed)
        row(kind, files, y)
    for kind in ("plain", "ruled", "squared"):
        files, y = photos(kind, a.n, 12)
        row(f"{kind}, turned 1-3°", turned(files, 1, 3), y)
        row(f"{kind}, turned 3-7°", turned(files, 3, 7), y)
    rng = np.random.default_rng(21)
    for kind in ("ruled", "squared"):
        files = [jpeg(sheet(rng, kind)) for _ in range(40)]
        row(f"blank {kind} sheet", files, np.full(40, -1))
        row(f"blank {kind} sheet, turned 1-6°", turned(files, 1, 6), np.full(40, -1))


if __name__ == "__main__":
    main()
