"""The familiarity score's reader weight over a grid, on the full build's file-path measurements (issue 11).

    python benchmarks/reader_weight_grid.py

The headline's score is the sum of three k-NN terms and the reader's "not a digit" term times ``reader_weight``
(``uqcore.metrics.familiarity``). For each weight this recomputes, from the stored terms, the threshold, the band
and the confident cut on the validation digits as ``Familiarity.fit`` does, then the verdict matrix through files
on the tuning and development families and letters' AUROC. The held-out families (``file_path.HELD_OUT``) are
never read. The rule, written before the grid was run: keep the weights whose digits keep their bars with a margin
(test confident >= 95.1%, unfamiliar <= 2.8%; blends naming both >= 62%, unfamiliar <= 18%; sklearn_digits
flagged <= 8%; digit photos read >= 93%), then take the smallest whose letters' AUROC reaches 0.952.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from uqcore.build import build  # noqa: E402
from uqcore.data import load_mnist  # noqa: E402
from uqcore.file_path import HELD_OUT, blends_both_mask, headline_kinds  # noqa: E402
from uqcore.metrics.calibration import softmax  # noqa: E402
from uqcore.metrics.familiarity import LAYERS, READER_TERM  # noqa: E402
from uqcore.metrics.ood import ood_metrics  # noqa: E402
from uqcore.verdict import CONFIDENT_FLOOR, CONFIDENT_SHARE, not_a_digit_probability  # noqa: E402

FAMILIES = ("test", "letters", "objects", "doodles", "sketches", "glyphs", "blends", "sklearn_digits", "digit_photos")
WEIGHTS = (3.0, 4.0, 5.0, 6.0, 8.0, 12.0)


def main() -> None:
    b = build()
    fam, fp = b.familiarity, b.file_path
    w0 = fam.config.reader_weight
    val_terms = fam.layer_scores(load_mnist().val.x)
    v_knn, v_reader = sum(val_terms[n] for n in LAYERS), val_terms[READER_TERM] / w0
    v_top = softmax(fam.features(load_mnist().val.x)["reader_logits"]).max(1)
    parts = {}
    for f in FAMILIES:
        assert f not in HELD_OUT
        knn = sum(fp[f"{f}/png/knn_{n}"].astype(np.float64) for n in LAYERS)
        parts[f] = (knn, (fp[f"{f}/png/familiarity"] - knn) / w0)
    print("| weight | letters AUROC | test conf. / unf. | blends both / unf. | sklearn flagged | digit photos read / "
          "unf. | letters conf. | objects / doodles / sketches / glyphs conf. | keeps the digits' bars |")
    print("|---|---|---|---|---|---|---|---|---|")
    for w in WEIGHTS:
        val = v_knn + w * v_reader
        thr = float(np.quantile(val, fam.config.quantile))
        band = min(thr, float(np.quantile(val, fam.config.band_quantile)))
        cut = max(CONFIDENT_FLOOR, float(np.quantile(v_top[val <= thr], 1 - CONFIDENT_SHARE)))
        score = {f: knn + w * r for f, (knn, r) in parts.items()}
        out = {}
        for f in FAMILIES:
            p = fp[f"{f}/png/reader/probs"].astype(np.float64)
            k = headline_kinds(p, score[f], fp[f"{f}/png/empty"], thr, cut, band,
                               not_a_digit_probability(fp[f"{f}/png/reader/ood_score"]))
            out[f] = {kind: (k == kind).mean() for kind in ("confident", "unfamiliar", "no_digit")}
            if f == "blends":
                out["both"] = ((k == "ambiguous") & blends_both_mask(fp, "png", "reader")).mean()
            if f == "digit_photos":
                out["read"] = ((p.argmax(1) == fp[f"{f}/y"]) & ~fp[f"{f}/png/empty"]).mean()
        caught = np.where(fp["letters/png/empty"], np.inf, score["letters"])
        letters = ood_metrics(score["test"], np.minimum(caught, np.finfo(np.float32).max))["auroc"]
        flagged = out["sklearn_digits"]["unfamiliar"]
        ok = (out["test"]["confident"] >= 0.951 and out["test"]["unfamiliar"] <= 0.028 and out["both"] >= 0.62
              and out["blends"]["unfamiliar"] <= 0.18 and flagged <= 0.08 and out["read"] >= 0.93)
        dev = " / ".join(f"{out[f]['confident']:.1%}" for f in ("objects", "doodles", "sketches", "glyphs"))
        print(f"| {w:g} | {letters:.4f} | {out['test']['confident']:.1%} / {out['test']['unfamiliar']:.1%} | "
              f"{out['both']:.1%} / {out['blends']['unfamiliar']:.1%} | {flagged:.1%} | {out['read']:.1%} / "
              f"{out['digit_photos']['unfamiliar']:.1%} | {out['letters']['confident']:.1%} | {dev} | "
              f"{'yes' if ok else 'no'} |")


if __name__ == "__main__":
    main()
