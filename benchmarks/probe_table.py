"""A sheet that does not fill the photo: the table shows along one to four sides (``preprocess.off_the_sheet`` and
the sheet-on-a-table rules of ``_light_background``; the full build, the shipped headline).

    python benchmarks/probe_table.py [--n 300] [--before]

MNIST test digits written on grey paper as ``families.photo_of`` photographs them, but the sheet's edge (straight,
turned up to 10 degrees) leaves a darker, textured table along one side, two sides (a corner), three or all four
(a sheet lying on a desk), each band 10-30% deep. Beside them the plain digit photos. ``--before`` reads them without either step. Test digits only; no
family of ``file_path`` is read.
"""
from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _photo_rows import HEADER, photo_row  # noqa: E402
from uqcore.build import build  # noqa: E402
from uqcore.data import load_mnist, preprocess  # noqa: E402
from uqcore.data.families import _paper, _photo_bytes, _size, photo_of  # noqa: E402


def on_a_table(x784: np.ndarray, rng: np.random.Generator, sides: int) -> bytes:
    """A photo of a digit on a sheet whose edge leaves the table visible along ``sides`` sides of the photo."""
    from PIL import Image
    from scipy import ndimage

    h, w = _size(rng)
    paper = _paper(rng, h, w)
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    table = np.zeros((h, w), bool)
    for side in rng.permutation(4)[:sides]:  # each side: a band 10-30% deep, its edge turned up to 10 degrees
        depth, tilt = rng.uniform(0.10, 0.30), np.tan(np.radians(rng.uniform(-10, 10)))
        if side == 0:
            table |= yy < depth * h + tilt * (xx - w / 2)
        elif side == 1:
            table |= yy > (1 - depth) * h + tilt * (xx - w / 2)
        elif side == 2:
            table |= xx < depth * w + tilt * (yy - h / 2)
        else:
            table |= xx > (1 - depth) * w + tilt * (yy - h / 2)
    wood = ndimage.gaussian_filter(rng.normal(0, 1, (h, w)), (2, 25))  # a grain along the table
    tone = rng.uniform(0.15, 0.45)
    paper = np.where(table, np.clip(tone + 0.04 * wood, 0, 1) * paper.mean(), paper)
    free = np.argwhere(~ndimage.binary_dilation(table, iterations=8))  # the digit lies on the sheet
    side = int(min(np.sqrt(rng.uniform(0.03, 0.12) * h * w), h / 3, w / 3))
    digit = np.asarray(Image.fromarray((np.asarray(x784).reshape(28, 28) * 255).astype(np.uint8))
                       .resize((side, side), Image.Resampling.BICUBIC), np.float32) / 255.0
    digit = ndimage.gaussian_filter(np.clip(digit, 0, 1), rng.uniform(0.3, 1.2))
    for _ in range(200):
        r0, c0 = free[rng.integers(len(free))]
        if r0 + side < h and c0 + side < w and not table[r0:r0 + side, c0:c0 + side].any():
            break
    paper[r0:r0 + side, c0:c0 + side] *= 1 - rng.uniform(0.6, 0.9) * digit
    return _photo_bytes(ndimage.gaussian_filter(paper, rng.uniform(0.3, 1.0)), rng)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--before", action="store_true", help="without the two steps (the before column)")
    args = ap.parse_args()
    if args.before:
        preprocess.off_the_sheet = lambda work: None
        preprocess._light_background = functools.partial(preprocess._light_background, sheet_on_table=False)
    b = build()
    test = load_mnist().test
    rng = np.random.default_rng(606)
    idx = rng.permutation(len(test))[:args.n]
    x, y = test.x[idx], test.y[idx]
    print(f"| digits | n | table left out {HEADER}")
    print("|---|---|---|---|---|---|---|---|")
    for name, make in (("no table", lambda v: photo_of(v, rng)[0]),
                       ("table along 1 side", functools.partial(on_a_table, rng=rng, sides=1)),
                       ("table along 2 sides", functools.partial(on_a_table, rng=rng, sides=2)),
                       ("table along 3 sides", functools.partial(on_a_table, rng=rng, sides=3)),
                       ("table all round (the sheet lies on the desk)", functools.partial(on_a_table, rng=rng, sides=4))):
        print(photo_row(b, name, [make(v) for v in x], y, "off_sheet"))


if __name__ == "__main__":
    main()
