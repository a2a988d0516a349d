"""Answers an editor can publish (uqcore.analysis.sets): sets, their phrases, what a confidence means, the
headline's guaranteed answer; on hand-made predictions (known answers) and on the quick build."""
from __future__ import annotations

import numpy as np
import pytest

from uqcore.analysis import sets
from uqcore.metrics import conformal
from uqcore.metrics.calibration import reliability_bins
from uqcore.predictions import Predictions
from uqcore.verdict import headline


def _store(n=4000, seed=0) -> Predictions:
    """A calibrated toy method: labels drawn from its own probabilities, on val and test."""
    rng = np.random.default_rng(seed)
    pred = Predictions()
    for split in ("val", "test"):
        p = rng.dirichlet(np.full(10, 0.3), n)
        y = np.array([rng.choice(10, p=row) for row in p])
        pred.add_set(split, np.zeros((n, 784), np.uint8), y)
        pred.put(split, "m", "probs", p)
    return pred


def test_phrases_and_sentence():
    assert sets.set_phrase([7]) == "a 7" and sets.set_phrase([8]) == "an 8"
    assert sets.set_phrase([4, 9]) == "one of 4 or 9" and sets.set_phrase([1, 7, 9]) == "one of 1, 7 or 9"
    assert sets.set_phrase([]) == "no digit"
    assert "one of 4 or 9" in sets.set_sentence([4, 9], 0.05) and "at least 95 times in 100" in sets.set_sentence([4, 9])


def test_meaning_equals_the_reliability_bin():
    pred = _store()
    ctx = sets.build_context(pred, ["m"])
    p, y = pred.get("test", "m", "probs"), pred.y("test")
    bins = reliability_bins(p, y, n_bins=sets.MEANING_BINS)
    for conf in (0.93, 0.55, 0.999, 1.0, 0.2):
        m = sets.meaning(conf, ctx.bins["m"])
        b = m["bin"]
        assert bins.edges[b] <= conf <= bins.edges[b + 1]
        assert m["n"] == bins.count[b] and m["right"] == pytest.approx(bins.accuracy[b])
        assert f"{bins.edges[b] * 100:.0f}–{bins.edges[b + 1]:.0%} sure about, {bins.accuracy[b]:.1%} were right " \
               f"({bins.count[b]:,} images)" in m["sentence"]
    assert sets.meaning(0.93, ctx.bins["m"])["lo"] == pytest.approx(0.90)  # 20 bins: 90–95%
    empty = {"edges": np.linspace(0, 1, 21).tolist(), "count": [0] * 20, "accuracy": [np.nan] * 20}
    assert sets.meaning(0.5, empty)["right"] is None and "no record" in sets.meaning(0.5, empty)["sentence"]
    assert sets.lab_link("m", 18) == "calibration_lab?method=m&T=1&bins=20&binning=uniform&bin=19"


def test_context_sets_cover_and_match_the_conformal_module():
    pred = _store()
    ctx = sets.build_context(pred, ["m", "missing"])
    assert list(ctx.sets) == ["m"], "a method without stored predictions is skipped"
    want = conformal.fit(pred.get("val", "m", "probs"), pred.y("val"), sets.ALPHA, sets.READER_SCORE)
    assert ctx.sets["m"] == want
    row = pred.get("test", "m", "probs")[0]
    digits = sets.prediction_set(row, ctx.sets["m"])
    assert digits and digits[0] == int(row.argmax()), "never empty, the most likely digit first"
    report = sets.coverage_report(pred, ["m"])["m"]
    for a in ("0.01", "0.05", "0.1"):
        assert abs(report["lac"][a]["coverage"] - (1 - float(a))) < 0.02  # calibrated toy: exact coverage
        assert report["raps"][a]["empty"] == 0 and report["aps"][a]["empty"] == 0
    assert report["shift"] == {}, "no shifted sets in this store"


def test_headline_carries_the_set_except_when_unfamiliar():
    p = np.zeros(10)
    p[4], p[9], p[1] = 0.55, 0.40, 0.05
    h = headline(p, familiarity=0.1, familiarity_threshold=1.0, familiar_share=0.5, prediction_set=[4, 9])
    assert h.kind == "ambiguous" and h.prediction_set == (4, 9) and "one of 4 or 9" in h.guarantee
    j = h.to_json()
    assert j["prediction_set"]["digits"] == [4, 9] and j["prediction_set"]["score"] == "raps"
    assert j["prediction_set"]["alpha"] == 0.05
    odd = headline(p, familiarity=2.0, familiarity_threshold=1.0, familiar_share=0.999, prediction_set=[4, 9])
    assert odd.kind == "unfamiliar" and odd.prediction_set == () and "prediction_set" not in odd.to_json()
    plain = headline(p, familiarity=0.1, familiarity_threshold=1.0, familiar_share=0.5)
    assert plain.guarantee == "" and "prediction_set" not in plain.to_json()


def test_explanation_is_withheld_when_the_set_names_several_digits():
    from uqcore.explain import DECLINE_REASONS, SEVERAL_DIGITS_REASON
    from uqcore.predict import explanation_for

    p = np.zeros(10)
    p[5], p[3] = 0.93, 0.07
    h = headline(p, familiarity=0.1, familiarity_threshold=1.0, familiar_share=0.5, prediction_set=[5, 3])
    assert h.kind == "confident"
    assert explanation_for({}, h, np.zeros(784)) == {"shown": False, "reason": SEVERAL_DIGITS_REASON}
    assert "unsure between" not in SEVERAL_DIGITS_REASON  # the headline said confident: no clash
    odd = headline(p, familiarity=2.0, familiarity_threshold=1.0, familiar_share=0.99)
    assert explanation_for({}, odd, np.zeros(784))["reason"] == DECLINE_REASONS["unfamiliar"]
