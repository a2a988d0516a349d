"""The same digits written with thinner and thicker pens, through the upload path (issue 11), on the full build.

    python benchmarks/probe_pens.py [-n 500]

An editor draws a digit in a paint program with its default 1 px brush, or photographs one written with a
felt-tip marker. Each MNIST test digit is enlarged to 280 x 280, thinned to its skeleton (scikit-image) and
drawn again with a round pen of the given width in pixels (MNIST's own strokes are ~22 px wide at that
size); saved as PNG, dark on white. Then phone photos of digits written with a ballpoint, a gel pen and a felt
tip (2, 3, 5 px wide in the photo) on paper under a lamp, the digit's frame 5-30% of the picture, JPEG, as the
build's ``digit_photos`` family makes them. Then pictures that are no digit, where redrawing must not make one:
printed letters (the ``letters`` set) written the same ways, and large crops of scikit-image's photos (JPEG).
Per row: the share of each headline kind and read correctly. ``--without-redraw`` turns off the thin pen's
redrawing and the ridge filter for thin lines in photos (the before column).
"""
from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from uqcore.build import build  # noqa: E402
from uqcore.data import families, preprocess, shift  # noqa: E402
from uqcore.data import load_mnist  # noqa: E402
from uqcore.file_path import read_kinds, through_files  # noqa: E402

KINDS = ("confident", "ambiguous", "unfamiliar", "no_digit")
SIDE = 280


def skeleton(v: np.ndarray) -> np.ndarray:
    from skimage.morphology import skeletonize

    big = np.asarray(Image.fromarray(v.reshape(28, 28)).resize((SIDE, SIDE), Image.Resampling.BILINEAR))
    return skeletonize(big > 0.5)


def drawn(sk: np.ndarray, width: int | None) -> bytes:
    """The skeleton drawn with a round pen ``width`` px wide (dark on white, anti-aliased by 2x supersampling)."""
    hi = np.kron(sk, np.ones((2, 2), bool))
    ink = ndimage.distance_transform_edt(~hi) <= max(width, 1)  # radius = width at 2x = width / 2 at 1x
    a = np.asarray(Image.fromarray((ink * 255).astype(np.uint8)).resize((SIDE, SIDE), Image.Resampling.BOX))
    buf = io.BytesIO()
    Image.fromarray(255 - a).save(buf, "PNG")
    return buf.getvalue()


def photographed(sk: np.ndarray, pen: float, rng: np.random.Generator) -> bytes:
    """The skeleton (at 280 px) written with a ``pen`` px wide pen on photographed paper (``families``'s)."""
    h, w = families._size(rng)
    paper = families._paper(rng, h, w)
    side = min(int(np.sqrt(rng.uniform(0.05, 0.30) * h * w)), h - 4, w - 4)
    small = np.asarray(Image.fromarray(sk.astype(np.uint8) * 255).resize((side, side), Image.Resampling.BOX)) > 0
    ink = ndimage.distance_transform_edt(~small) <= pen / 2
    digit = ndimage.gaussian_filter(ink.astype(np.float32), rng.uniform(0.3, 1.0))
    r0, c0 = rng.integers(0, h - side), rng.integers(0, w - side)
    paper[r0:r0 + side, c0:c0 + side] *= 1 - rng.uniform(0.6, 0.9) * digit
    return families._photo_bytes(ndimage.gaussian_filter(paper, rng.uniform(0.3, 1.0)), rng)


def crops(n: int, rng: np.random.Generator) -> list[bytes]:
    """``n`` square crops (150-500 px) of scikit-image's bundled photos, as JPEG files."""
    lib = families._photo_library()
    out = []
    for _ in range(n):
        g = lib[sorted(lib)[rng.integers(len(lib))]]
        side = int(rng.integers(150, min(500, min(g.shape)) + 1))
        r0, c0 = rng.integers(0, g.shape[0] - side + 1), rng.integers(0, g.shape[1] - side + 1)
        buf = io.BytesIO()
        Image.fromarray(g[r0:r0 + side, c0:c0 + side].astype(np.uint8)).save(buf, "JPEG", quality=85)
        out.append(buf.getvalue())
    return out


def stroke_width(v: np.ndarray) -> float:
    """A digit's stroke width at 280 px: twice the median distance to the background along its skeleton."""
    big = np.asarray(Image.fromarray(v.reshape(28, 28)).resize((SIDE, SIDE), Image.Resampling.BILINEAR)) > 0.5
    from skimage.morphology import skeletonize

    return 2 * float(np.median(ndimage.distance_transform_edt(big)[skeletonize(big)]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=500)
    ap.add_argument("--without-redraw", action="store_true", help="no redrawing of thin pens (the before column)")
    a = ap.parse_args()
    if a.without_redraw:
        preprocess.PEN_THIN, preprocess.RIDGE_SNR = 0.0, float("inf")
    b = build()
    fam, reader = b.familiarity, b.methods["reader"]
    test = load_mnist().test
    x, y = test.x[: a.n], test.y[: a.n]
    print(f"MNIST's own stroke width at {SIDE} px: median {np.median([stroke_width(v) for v in x[:200]]):.0f} px\n")
    sks = [skeleton(v) for v in x]
    print("| pen | confident | ambiguous | unfamiliar | no digit | read correctly |")
    print("|---|---|---|---|---|---|")

    def row(name, files, labels=y):
        xi, empty = through_files(files)
        probs, k = read_kinds(reader, fam, xi, empty)
        read = f"{((probs.argmax(1) == labels) & ~empty).mean():.1%}" if (labels >= 0).all() else "–"
        print(f"| {name} | " + " | ".join(f"{(k == q).mean():.1%}" for q in KINDS) + f" | {read} |", flush=True)

    for w in (2, 4, 8, 16, 28, 40, 56):
        row(f"drawn, {w} px at 280 px", [drawn(s, w) for s in sks])
    for pen, name in ((2, "ballpoint"), (3, "gel pen"), (5, "felt tip")):
        rng = np.random.default_rng(pen)
        row(f"photo, {name} ({pen} px)", [photographed(s, pen, rng) for s in sks])
    letters = shift.make("letters", n=a.n).x
    none = np.full(len(letters), -1)
    lsks = [skeleton(v) for v in letters]
    for w in (4, 28):
        row(f"letters, drawn {w} px at 280 px", [drawn(s, w) for s in lsks], none)
    rng = np.random.default_rng(9)
    row("letters, photo, ballpoint (2 px)", [photographed(s, 2, rng) for s in lsks], none)
    row("large photo crops (JPEG)", crops(a.n, np.random.default_rng(10)), np.full(a.n, -1))


if __name__ == "__main__":
    main()
