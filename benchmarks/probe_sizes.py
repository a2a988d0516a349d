"""The same digit saved at different sizes through the upload path (issue 11), on the full build.

    python benchmarks/probe_sizes.py [-n 1000]

An editor may upload an MNIST digit as its 28x28 file or as a screenshot of it, enlarged. Each test digit is
saved as a PNG at 28x28 (it reaches the model as it is) and enlarged (nearest-neighbour and bilinear, white on
black and black on white); per size: the share of each headline kind, read correctly, the share whose kind
agrees with the 28x28 file's, and the mean absolute difference of the model's input from the 28x28 one.
"""
from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from uqcore.build import build  # noqa: E402
from uqcore.data import load_mnist  # noqa: E402
from uqcore.file_path import read_kinds, through_files  # noqa: E402

KINDS = ("confident", "ambiguous", "unfamiliar", "no_digit")


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def files(x: np.ndarray, side: int, resample, inverted: bool = False) -> list[bytes]:
    out = []
    for v in x:
        a = (v.reshape(28, 28) * 255).round().astype(np.uint8)
        img = Image.fromarray(255 - a if inverted else a)
        out.append(png(img if side == 28 else img.resize((side, side), resample)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=1000)
    a = ap.parse_args()
    b = build()
    fam, reader = b.familiarity, b.methods["reader"]
    test = load_mnist().test
    x, y = test.x[: a.n], test.y[: a.n]
    near, bil = Image.Resampling.NEAREST, Image.Resampling.BILINEAR
    views = {"28x28 (as it is)": files(x, 28, near), "56x56 nearest": files(x, 56, near),
             "112x112 nearest": files(x, 112, near), "112x112 bilinear": files(x, 112, bil),
             "280x280 bilinear": files(x, 280, bil), "280x280 bilinear, black on white": files(x, 280, bil, True)}
    print("| saved as | confident | ambiguous | unfamiliar | no digit | read correctly | same kind as 28x28 | "
          "mean abs. input difference |")
    print("|---|---|---|---|---|---|---|---|")
    base_kind = base_x = None
    for name, fs in views.items():
        xi, empty = through_files(fs)
        probs, k = read_kinds(reader, fam, xi, empty)
        if base_kind is None:
            base_kind, base_x = k, xi
        read = ((probs.argmax(1) == y) & ~empty).mean()
        print(f"| {name} | " + " | ".join(f"{(k == q).mean():.1%}" for q in KINDS)
              + f" | {read:.1%} | {(k == base_kind).mean():.1%} | {np.abs(xi - base_x).mean():.4f} |", flush=True)


if __name__ == "__main__":
    main()
