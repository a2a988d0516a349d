"""Digits with a box or a ring drawn round them (a form's field, a teacher's circle), photographed: does the upload
path read the digit? (``preprocess.enclosing_frame``; the full build, the shipped headline.)

    python benchmarks/probe_frames.py [--n 300] [--without-frames]

MNIST test digits photographed as ``families.photo_of`` photographs them, with a frame drawn round the digit's
28 x 28 frame in the same ink: a box or an ellipse, 0-25% of the digit's frame away from it, its line 1-4% of the
digit's frame thick. Beside them, the same digits without a frame (how often a frame is wrongly found and what
the headline says). ``--without-frames`` reads them as before frames were taken out. Test digits only; no family
of ``file_path`` is read.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _photo_rows import HEADER, photo_row  # noqa: E402
from uqcore.build import build  # noqa: E402
from uqcore.data import load_mnist, preprocess  # noqa: E402
from uqcore.data.families import _paper, _photo_bytes, _size, photo_of  # noqa: E402


def framed_photo(x784: np.ndarray, rng: np.random.Generator, shape: str) -> bytes:
    """``photo_of``'s photo of a digit, with a box or a ring round its 28 x 28 frame."""
    from PIL import Image, ImageDraw
    from scipy import ndimage

    h, w = _size(rng)
    paper = _paper(rng, h, w)
    side = int(np.sqrt(rng.uniform(0.05, 0.20) * h * w))
    margin = int(rng.uniform(0.0, 0.25) * side) + 2
    width = max(1, int(round(rng.uniform(0.01, 0.04) * side)))
    side = min(side, h - 2 * margin - 2 * width - 4, w - 2 * margin - 2 * width - 4)
    if shape == "ring":  # the ring reaches 1.3 x as far from the centre as the box would: room for it too
        side = int(min(side, (min(h, w) / 2 - width - 4) / 1.3 / 1.1 * 2 - 2 * margin))
    digit = np.asarray(Image.fromarray((np.asarray(x784).reshape(28, 28) * 255).astype(np.uint8))
                       .resize((side, side), Image.Resampling.BICUBIC), np.float32) / 255.0
    digit = ndimage.gaussian_filter(np.clip(digit, 0, 1), rng.uniform(0.3, 1.2))
    pad = margin + width if shape == "box" else int(np.ceil((side / 2 + margin) * 1.3 * 1.1 - side / 2)) + width
    r0, c0 = rng.integers(pad, h - side - pad), rng.integers(pad, w - side - pad)
    ink_img = np.zeros((h, w), np.float32)
    ink_img[r0:r0 + side, c0:c0 + side] = digit
    frame = Image.new("L", (w, h))
    box = (c0 - margin, r0 - margin, c0 + side + margin, r0 + side + margin)
    if shape == "box":
        ImageDraw.Draw(frame).rectangle(box, outline=255, width=width)
    else:  # a ring round the frame's corners: its axes sqrt(2) x the box's
        cx, cy, half = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2, (box[2] - box[0]) / 2 * 1.3
        ImageDraw.Draw(frame).ellipse((cx - half, cy - half * rng.uniform(0.9, 1.1), cx + half,
                                       cy + half * rng.uniform(0.9, 1.1)), outline=255, width=width)
    ink_img = np.maximum(ink_img, ndimage.gaussian_filter(np.asarray(frame, np.float32) / 255.0, 0.6))
    paper *= 1 - rng.uniform(0.6, 0.9) * ink_img
    return _photo_bytes(ndimage.gaussian_filter(paper, rng.uniform(0.3, 1.0)), rng)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--without-frames", action="store_true", help="do not take frames out (as before)")
    args = ap.parse_args()
    if args.without_frames:
        preprocess.enclosing_frame = lambda labels, keep: None
    b = build()
    test = load_mnist().test
    rng = np.random.default_rng(505)
    idx = rng.permutation(len(test))[:args.n]
    x, y = test.x[idx], test.y[idx]
    print(f"| digits | n | frame found {HEADER}")
    print("|---|---|---|---|---|---|---|---|")
    for name, make in (("no frame", lambda v: photo_of(v, rng)[0]),
                       ("in a box", lambda v: framed_photo(v, rng, "box")),
                       ("in a ring", lambda v: framed_photo(v, rng, "ring"))):
        print(photo_row(b, name, [make(v) for v in x], y, "frame"))


if __name__ == "__main__":
    main()
