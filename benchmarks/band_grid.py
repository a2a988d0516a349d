"""The headline's band rule over a grid, on the full build's file-path measurements (issue 11).

    python benchmarks/band_grid.py [--all] [--without-veto]

For each rule (the band reads the top digit's probability among the ten digits, or that times the reader's
chance that the picture is a digit at all), band quantile, band confidence and confident share: the verdict
matrix through files on the tuning families and the development set (objects, doodles). The held-out families
(``file_path.HELD_OUT``) are never read. Rows are ranked as they were when the shipped values
were chosen: first the rows that keep the digits' bars with a margin for the build's noise (test confident >= 95.2%, unfamiliar <= 2.8%;
blends naming both >= 62%, unfamiliar <= 18%; sklearn_digits flagged <= 8%), then by the worse of objects' and
doodles' confident share, then by letters called unfamiliar. ``--all`` prints every row instead of the first 14.
The reader's veto (``verdict.READER_VETO``) is applied as shipped; ``--without-veto`` gives the grid as it was when
the band was chosen (before the veto existed: RESULTS, "Hand-drawn non-digits for the headline reader").
"""
from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from uqcore.build import build  # noqa: E402
from uqcore.data import load_mnist  # noqa: E402
from uqcore.file_path import HELD_OUT, blends_both_mask  # noqa: E402
from uqcore.metrics.calibration import softmax  # noqa: E402
from uqcore.verdict import CONFIDENT_FLOOR, READER_VETO, band_probability, not_a_digit_probability  # noqa: E402

FAMILIES = ("test", "letters", "objects", "doodles", "blends", "sklearn_digits", "digit_photos")


def main(show_all: bool = False, veto: bool = True) -> None:
    b = build()
    fam, fp = b.familiarity, b.file_path
    val = load_mnist().val
    v_score, v_top = fam.score(val.x), softmax(fam.features(val.x)["reader_logits"]).max(1)
    thr = fam.threshold_
    rows = []
    for rule, bq, bc, share in itertools.product((0, 1), (0.97, 0.975, 0.98), (0.95, 0.9, 0.8), (0.965, 0.97, 0.975)):
        band = min(thr, float(np.quantile(fam.val_scores_, bq)))
        cut = max(CONFIDENT_FLOOR, float(np.quantile(v_top[v_score <= thr], 1 - share)))
        out = {}
        for name in FAMILIES:
            assert name not in HELD_OUT
            p = fp[f"{name}/png/reader/probs"].astype(np.float64)
            top = p.max(1)
            nad = not_a_digit_probability(fp[f"{name}/png/reader/ood_score"]) if rule else 0.0
            sc = fp[f"{name}/png/familiarity"]
            unf = (sc > thr) | ((sc > band) & (band_probability(top, nad) < bc))
            if veto and rule:
                unf |= nad > READER_VETO
            k = np.where(fp[f"{name}/png/empty"], "no", np.where(unf, "unf", np.where(top >= cut, "conf", "amb")))
            out[name] = ((k == "conf").mean(), (k == "unf").mean())
            if name == "blends":
                out["both"] = ((k == "amb") & blends_both_mask(fp, "png", "reader")).mean()
        ok = (out["test"][0] >= 0.952 and out["test"][1] <= 0.028 and out["both"] >= 0.62 and out["blends"][1] <= 0.18
              and out["sklearn_digits"][1] <= 0.08)
        rows.append((not ok, max(out["objects"][0], out["doodles"][0]), -out["letters"][1], (rule, bq, bc, share), out))
    rows.sort(key=lambda r: r[:3])
    print("| keeps the bars | band reads | band quantile | band confidence | confident share | test conf / unf | "
          "letters conf / unf | objects conf | doodles conf / unf | blends naming both / unf | sklearn flagged |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for bad, _, _, (rule, bq, bc, share), o in rows if show_all else rows[:14]:
        print(f"| {'no' if bad else 'yes'} | {'P(top) x P(digit)' if rule else 'P(top)'} | {bq} | {bc} | {share} | "
              f"{o['test'][0]:.1%} / {o['test'][1]:.1%} | {o['letters'][0]:.1%} / {o['letters'][1]:.1%} | "
              f"{o['objects'][0]:.1%} | {o['doodles'][0]:.1%} / {o['doodles'][1]:.1%} | {o['both']:.1%} / "
              f"{o['blends'][1]:.1%} | {o['sklearn_digits'][1]:.1%} |")


if __name__ == "__main__":
    main("--all" in sys.argv[1:], veto="--without-veto" not in sys.argv[1:])
