"""Answers an editor can publish: conformal prediction sets ("one of 4, 9", right at least 95 times in 100)
and what a stated confidence means ("of the test digits this model was 95–100% sure about, 99.6% were
right"), both from the build's stored predictions (no model runs).

Sets are split conformal (``uqcore.metrics.conformal``), calibrated on the 10,000 validation digits. The
score shown to readers is RAPS (regularised adaptive sets, Angelopoulos et al. 2021): never empty, small.
Its guarantee is "at least 1 - alpha"; on these accurate models it holds the right digit more often than
that (LAC is the score whose coverage is exact, but its sets are empty for a quarter of ambiguous inputs).
The guarantee holds for images like the ones calibrated on: for an unfamiliar picture a set says nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from uqcore.metrics import conformal
from uqcore.metrics.calibration import reliability_bins

READER_SCORE = "raps"  # the set readers see (cards, headline, predict --json)
ALPHA = conformal.DEFAULT_ALPHA  # 0.05: "right at least 95 times in 100"
ALPHAS = (0.01, 0.05, 0.1)  # reported by evaluate --json and Compare
MEANING_BINS = 20  # equal-width confidence bins of 5 points: "90–95% sure"
SHIFT_SETS = ("rotated", "corrupted")  # labelled shifted digits: set size (and coverage) under shift


@dataclass(frozen=True)
class Context:
    """What every reading needs besides the image: per method, its calibrated sets and its test-set
    reliability bins (``MEANING_BINS`` equal-width bins of its stored test probabilities)."""

    sets: dict[str, conformal.Conformal]
    bins: dict[str, dict]  # method -> {"edges", "count", "accuracy", "confidence"} (lists)


def build_context(predictions, methods, *, alpha: float = ALPHA, score: str = READER_SCORE) -> Context:
    sets, bins = {}, {}
    for m in methods:
        if not (predictions.has("val", m) and predictions.has("test", m)):
            continue
        sets[m] = conformal.fit(predictions.get("val", m, "probs"), predictions.y("val"), alpha, score)
        b = reliability_bins(predictions.get("test", m, "probs"), predictions.y("test"), n_bins=MEANING_BINS)
        bins[m] = {"edges": b.edges.tolist(), "count": b.count.tolist(), "accuracy": b.accuracy.tolist(),
                   "confidence": b.confidence.tolist()}
    return Context(sets, bins)


def prediction_set(probs, c: conformal.Conformal) -> list[int]:
    """The digits in the set for one probability vector, most likely first."""
    p = np.asarray(probs, dtype=np.float64).reshape(1, -1)
    return conformal.labels(conformal.predict_sets(p, c)[0], p[0])


def set_phrase(digits: list[int]) -> str:
    """'a 7', 'one of 4 or 9', 'one of 1, 7 or 9', 'no digit' (an empty set)."""
    from uqcore.verdict import article

    d = [str(int(k)) for k in digits]
    if not d:
        return "no digit"
    if len(d) == 1:
        return article(int(d[0]))
    return f"one of {', '.join(d[:-1])} or {d[-1]}"


def set_sentence(digits: list[int], alpha: float = ALPHA) -> str:
    right = round(100 * (1 - alpha))
    return (f"As a guaranteed answer: it is {set_phrase(digits)} (answers given this way hold the right digit "
            f"at least {right} times in 100, for images like the handwritten digits it learned from).")


def meaning(confidence: float, bins: dict) -> dict:
    """What ``confidence`` means for one method: its test digits in the same reliability bin. Keys: bin
    (0-based), lo, hi, n, right (share correct; None when the bin is empty) and sentence."""
    edges = np.asarray(bins["edges"])
    b = int(np.clip(np.searchsorted(edges, confidence, side="right") - 1, 0, len(edges) - 2))
    lo, hi, n = float(edges[b]), float(edges[b + 1]), int(bins["count"][b])
    right = None if n == 0 else float(bins["accuracy"][b])
    if right is None:
        sentence = (f"No test digit got {lo * 100:.0f}–{hi:.0%} from this model, so there is no record to check "
                    "that confidence against.")
    else:
        sentence = (f"Of the test digits this model was {lo * 100:.0f}–{hi:.0%} sure about, {right:.1%} were right "
                    f"({n:,} images).")
    return {"bin": b, "lo": lo, "hi": hi, "n": n, "right": right, "sentence": sentence}


def lab_link(method: str, b: int) -> str:
    """The Calibration lab's address that opens ``method``'s reliability diagram at bin ``b`` (0-based)."""
    return f"calibration_lab?method={method}&T=1&bins={MEANING_BINS}&binning=uniform&bin={b + 1}"


def coverage_report(predictions, methods, *, alphas=ALPHAS, scores=conformal.SCORES,
                    shift_sets=SHIFT_SETS) -> dict:
    """Per method and score, coverage and mean set size on the test digits for each alpha; and at ``ALPHA``
    with ``READER_SCORE``, the same on each labelled shifted set (rotation, corruption)."""
    out = {}
    for m in methods:
        if not (predictions.has("val", m) and predictions.has("test", m)):
            continue
        cal_p, cal_y = predictions.get("val", m, "probs"), predictions.y("val")
        test_p, test_y = predictions.get("test", m, "probs"), predictions.y("test")
        row = {s: {f"{a:g}": _measure(conformal.fit(cal_p, cal_y, a, s), test_p, test_y) for a in alphas}
               for s in scores}
        c = conformal.fit(cal_p, cal_y, ALPHA, READER_SCORE)
        row["shift"] = {name: _measure(c, predictions.get(name, m, "probs"), predictions.y(name))
                        for name in shift_sets if predictions.has(name, m)}
        out[m] = row
    return out


def _measure(c: conformal.Conformal, probs, y) -> dict:
    sets = conformal.predict_sets(probs, c)
    return {"coverage": conformal.coverage(sets, y), "mean_size": conformal.mean_size(sets),
            "empty": float((sets.sum(1) == 0).mean())}
