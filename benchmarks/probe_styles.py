"""Handwriting of other styles through the upload path, per style (``uqcore.data.styles``; the full build, the
shipped headline).

    python benchmarks/probe_styles.py [--n 300] [--held-out]

Per style: n files (PNG and JPEG in turn) of MNIST test digits (scikit-learn's for ``sklearn``): the share of each
headline kind, read correctly (the headline's digit, a digit found), and the single network's reading (``mlp``:
does the picture the models receive still hold the digit?). Then blends of two digits of each style (40-60%: the
share named by an ambiguous headline), and greyscale pictures of clothing (``styles.garment_files``).
``--held-out`` adds ``uqcore.data.scans`` (form scans and garment pictures written blind: measure them once, after
every choice is made, and never tune on them).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from uqcore.build import build  # noqa: E402
from uqcore.data import styles  # noqa: E402
from uqcore.file_path import read_kinds, through_files  # noqa: E402

KINDS = ("confident", "ambiguous", "unfamiliar", "no_digit")
HEADER = ("| family | n | confident | ambiguous | unfamiliar | no digit found | read correctly | single network "
          "| ambiguous naming both |\n|---|---|---|---|---|---|---|---|---|")


def row(bundle, name: str, files: list[bytes], y: np.ndarray | None = None, y_b: np.ndarray | None = None) -> str:
    x, empty = through_files(files)
    probs, kinds = read_kinds(bundle.methods["reader"], bundle.familiarity, x, empty)
    share = {k: (kinds == k).mean() for k in KINDS}
    cells = [f"{share[k]:.1%}" for k in KINDS]
    if y is not None and y_b is None:
        mlp = bundle.methods["mlp"].predict(x).label
        cells += [f"{((probs.argmax(1) == y) & ~empty).mean():.1%}", f"{((mlp == y) & ~empty).mean():.1%}", "–"]
    elif y_b is not None:
        top2 = np.argsort(-probs, 1)[:, :2]
        both = (np.sort(top2, 1) == np.sort(np.stack([y, y_b], 1), 1)).all(1)
        cells += ["–", "–", f"{((kinds == 'ambiguous') & both).mean():.1%}"]
    else:
        cells += ["–", "–", "–"]
    return f"| {name} | {len(files)} | " + " | ".join(cells) + " |"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--held-out", action="store_true", help="also the families written blind (uqcore.data.scans)")
    args = ap.parse_args()
    b = build()
    print(HEADER)
    for i, style in enumerate(styles.STYLES):
        files, y = styles.style_digits(args.n, np.random.default_rng(700 + i), style)
        print(row(b, style, files, y), flush=True)
    for i, style in enumerate(styles.STYLES):
        files, y, y_b = styles.style_blends(args.n, np.random.default_rng(800 + i), style)
        print(row(b, f"blends, {style}", files, y, y_b), flush=True)
    print(row(b, "clothing", styles.garment_files(args.n, np.random.default_rng(900))), flush=True)
    if args.held_out:
        from uqcore.data import scans

        files, y, meta = scans.form_scans(args.n * 4, np.random.default_rng(950))
        print(row(b, "form scans (held out)", files, y), flush=True)
        for style in sorted(set(meta["style"])):
            keep = np.flatnonzero(meta["style"] == style)
            print(row(b, f"form scans: {style} (held out)", [files[k] for k in keep], y[keep]), flush=True)
        files, _ = scans.garment_pictures(args.n, np.random.default_rng(951))
        print(row(b, "garment pictures (held out)", files), flush=True)


if __name__ == "__main__":
    main()
