"""Numbers written as several digits, photographed: how often the upload path says "several marks side by side"
(``preprocess.marks_side_by_side``), and how often it says so of a single digit.

    python benchmarks/probe_numbers.py [--n 300] [--seed 0]

Single digits: MNIST test digits as ``families.photo_of`` photographs them, and the same digits drawn large on a
clean canvas (as the drawing pad sends them). Numbers: 2-4 test digits side by side, each digit's 28 x 28 frame
shifted against the last by ``overlap`` pixels (0: frames edge to edge, i.e. about 8 px of paper between the inks;
8: the inks about touch), photographed the same way. Test digits only; no family of ``file_path`` is read.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from uqcore.data import load_mnist  # noqa: E402
from uqcore.data.families import _paper, _photo_bytes, _size, photo_of  # noqa: E402
from uqcore.data.preprocess import to_mnist  # noqa: E402


def strip(digits: list[np.ndarray], overlap: int) -> np.ndarray:
    """Digits (28 x 28 each) side by side, each frame ``overlap`` px into the last; the brighter pixel wins."""
    w = 28 * len(digits) - overlap * (len(digits) - 1)
    out = np.zeros((28, w), np.float32)
    for i, d in enumerate(digits):
        c = i * (28 - overlap)
        out[:, c:c + 28] = np.maximum(out[:, c:c + 28], d.reshape(28, 28))
    return out


def photo_of_strip(x: np.ndarray, rng: np.random.Generator) -> bytes:
    """A photo of a (28, w) strip on paper, as ``photo_of`` takes one of a digit (the strip is as tall as a
    digit's frame would be, the photo wide enough for it)."""
    from PIL import Image
    from scipy import ndimage

    h, w = _size(rng)
    side = int(np.sqrt(rng.uniform(0.05, 0.30) * h * w))
    width = int(side * x.shape[1] / 28)
    if width > w - 4:
        side, width = int(side * (w - 4) / width), w - 4
    paper = _paper(rng, h, w)
    ink_img = np.asarray(Image.fromarray((x * 255).astype(np.uint8)).resize((width, side), Image.Resampling.BICUBIC),
                         np.float32) / 255.0
    ink_img = ndimage.gaussian_filter(np.clip(ink_img, 0, 1), rng.uniform(0.3, 1.2))
    r0, c0 = rng.integers(0, h - side), rng.integers(0, w - width)
    paper[r0:r0 + side, c0:c0 + width] *= 1 - rng.uniform(0.6, 0.9) * ink_img
    return _photo_bytes(ndimage.gaussian_filter(paper, rng.uniform(0.3, 1.0)), rng)


def canvas_of(x784: np.ndarray) -> np.ndarray:
    """A test digit drawn large on the drawing pad: 280 x 280 RGBA, white ink on transparent-black."""
    from PIL import Image

    big = np.asarray(Image.fromarray((x784.reshape(28, 28) * 255).astype(np.uint8)).resize((280, 280)))
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., :3], rgba[..., 3] = 255, big
    return rgba


def marks(pre) -> int:
    return int(pre.framing.get("side_by_side", 0)) if not pre.is_empty else 0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    test = load_mnist().test
    rng = np.random.default_rng(args.seed)
    idx = rng.permutation(len(test))[:args.n]
    photo = [marks(to_mnist(photo_of(test.x[k], rng)[0])) for k in idx]
    canvas = [marks(to_mnist(canvas_of(test.x[k]))) for k in idx]
    print(f"| pictures | n | 1 mark | 2 or more (the hint) | no ink |\n|---|---|---|---|---|")
    for name, m in (("single digits, photographed", photo), ("single digits, drawing pad", canvas)):
        m = np.array(m)
        print(f"| {name} | {len(m)} | {np.mean(m == 1):.1%} | {np.mean(m >= 2):.1%} | {np.mean(m == 0):.1%} |")
    print("\n| number | overlap of frames (px) | n | marks = digits | 2 or more (the hint) |\n|---|---|---|---|---|")
    for k in (2, 3, 4):
        for overlap in (0, 4, 6, 8):
            got = []
            for _ in range(args.n // 3):
                ds = [test.x[i] for i in rng.integers(0, len(test), k)]
                got.append(marks(to_mnist(photo_of_strip(strip(ds, overlap), rng))))
            got = np.array(got)
            print(f"| {k} digits | {overlap} | {len(got)} | {np.mean(got == k):.1%} | {np.mean(got >= 2):.1%} |")


if __name__ == "__main__":
    main()
