"""Post-hoc calibrators (uqcore.metrics.calibrators): known answers, scikit-learn agreement, recovery of a
correct vector-scaling model, improvement on an overconfident model, and clear input errors."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression

from uqcore.metrics.calibration import nll, softmax
from uqcore.metrics.calibrators import (
    CALIBRATOR_TITLES,
    CALIBRATORS,
    HistogramBinning,
    IsotonicCalibrator,
    TEXTBOOK,
    TemperatureCalibrator,
    VectorScaling,
    compare,
)


def _sample(rng, n: int, c: int, spread: float = 2.0):
    """Logits of a calibrated model and labels drawn from its softmax."""
    z = rng.normal(0.0, spread, size=(n, c))
    p = softmax(z)
    y = (rng.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    return z, np.minimum(y, c - 1)


def test_histogram_binning_gives_the_known_positive_shares():
    # C = 2, two bins [0, .5) and [.5, 1]: four rows at p1 = .2 (one is class 1), four at p1 = .8 (three are)
    p = np.array([[0.8, 0.2]] * 4 + [[0.2, 0.8]] * 4)
    y = np.array([0, 0, 0, 1, 1, 1, 1, 0])
    h = HistogramBinning(n_bins=2, from_probs=True, prior=0).fit(p, y)
    np.testing.assert_array_equal(h.bin_value_, [[0.25, 0.75], [0.25, 0.75]])
    np.testing.assert_array_equal(h.predict_raw([[0.8, 0.2], [0.2, 0.8]]), [[0.75, 0.25], [0.25, 0.75]])
    np.testing.assert_array_equal(h.predict_proba([[0.8, 0.2], [0.2, 0.8]]), [[0.75, 0.25], [0.25, 0.75]])
    np.testing.assert_array_equal(h.predict_raw([[0.5, 0.5]]), [[0.75, 0.75]])  # an edge goes to the upper bin
    # C = 3: class 2's low bin pools both kinds of row, so raw rows sum to 1.25 and 0.75 and are renormalised
    p3 = np.array([[0.8, 0.1, 0.1]] * 4 + [[0.1, 0.8, 0.1]] * 4)
    y3 = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    h3 = HistogramBinning(n_bins=2, from_probs=True, prior=0).fit(p3, y3)
    raw = h3.predict_raw(p3[[0, 4]])
    np.testing.assert_array_equal(raw, [[0.75, 0.25, 0.25], [0.0, 0.5, 0.25]])
    np.testing.assert_allclose(h3.predict_proba(p3[[0, 4]]), [[0.6, 0.2, 0.2], [0.0, 2 / 3, 1 / 3]], atol=1e-15)
    # a row whose every bin holds only negatives (raw sum 0) keeps its uncalibrated probabilities
    fit = np.array([[0.82, 0.15, 0.03], [0.15, 0.03, 0.82], [0.03, 0.82, 0.15]])
    h10 = HistogramBinning(n_bins=10, from_probs=True, prior=0).fit(fit, [1, 2, 1])
    row = np.array([[0.82, 0.03, 0.15]])
    np.testing.assert_array_equal(h10.predict_raw(row), [[0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(h10.predict_proba(row), row)
    # an empty bin keeps the raw probability
    one_side = HistogramBinning(n_bins=2, from_probs=True, prior=0).fit(p[:4], np.zeros(4, int))
    np.testing.assert_array_equal(one_side.predict_raw([[0.8, 0.2], [0.2, 0.8]]), [[1.0, 0.0], [0.2, 0.8]])
    assert np.isnan(HistogramBinning(n_bins=4, from_probs=True, prior=0).fit(p, y).bin_value_[0, 1])


def test_isotonic_matches_scikit_learn_per_class_and_rows_sum_to_one(rng):
    zv, yv = _sample(rng, 2000, 4)
    zt, _ = _sample(rng, 500, 4)
    cal = IsotonicCalibrator(floor=False).fit(zv, yv)
    pv, pt = softmax(zv), softmax(zt)
    want = np.stack([IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1)
                     .fit(pv[:, k], yv == k).predict(pt[:, k]) for k in range(4)], axis=1)
    np.testing.assert_allclose(cal.predict_raw(zt), want, rtol=0, atol=1e-15)
    assert not np.allclose(want.sum(1), 1.0)  # renormalisation has work to do
    out = cal.predict_proba(zt)
    np.testing.assert_allclose(out.sum(1), 1.0, atol=1e-12)
    np.testing.assert_allclose(out, want / want.sum(1, keepdims=True), atol=1e-12)
    # probabilities in directly give the same answer
    np.testing.assert_allclose(IsotonicCalibrator(from_probs=True, floor=False).fit(pv, yv).predict_proba(pt), out, atol=1e-12)


def test_vector_scaling_identity_and_recovery(rng):
    z = rng.normal(0, 3, size=(50, 5))
    vs = VectorScaling()
    vs.w_, vs.b_ = np.ones(5), np.zeros(5)
    np.testing.assert_allclose(vs.predict_proba(z), softmax(z), atol=1e-15)
    # the model's logits are the true ones scaled and shifted per class, so vector scaling is the right model
    scale = np.array([0.5, 1.0, 2.0, 3.0])
    shift = np.array([1.0, -2.0, 0.5, 0.0])
    z_true, y = _sample(rng, 30000, 4, spread=1.5)
    z = z_true * scale + shift
    fit, held = slice(0, 20000), slice(20000, None)
    vs = VectorScaling().fit(z[fit], y[fit])
    np.testing.assert_allclose(vs.w_, 1 / scale, rtol=0.1)
    b_true = -shift / scale  # defined up to a common constant
    np.testing.assert_allclose(vs.b_ - vs.b_.mean(), b_true - b_true.mean(), atol=0.15)
    ts = TemperatureCalibrator().fit(z[fit], y[fit])
    assert nll(vs.predict_proba(z[held]), y[held]) < nll(ts.predict_proba(z[held]), y[held]) - 0.01


def test_vector_scaling_pull_gives_its_anchor_back(rng):
    z, y = _sample(rng, 3000, 4)
    z = 2.5 * z + np.array([0.3, -0.2, 0.0, 0.1])
    strong_t = VectorScaling(l2=1e6).fit(z, y)
    ts = TemperatureCalibrator().fit(z, y)
    assert strong_t.temperature_ == pytest.approx(ts.temperature_)
    np.testing.assert_allclose(strong_t.predict_proba(z), ts.predict_proba(z), atol=1e-4)
    strong_1 = VectorScaling(l2=1e6, toward="identity").fit(z, y)
    np.testing.assert_allclose(strong_1.predict_proba(z), softmax(z), atol=1e-4)
    chosen = VectorScaling().fit(z, y)  # l2 by cross-validation
    assert chosen.l2_ in VectorScaling.L2_GRID
    np.testing.assert_allclose(chosen.predict_proba(z), VectorScaling(l2=chosen.l2_).fit(z, y).predict_proba(z))
    with pytest.raises(ValueError, match="toward"):
        VectorScaling(toward="uniform")
    with pytest.raises(ValueError, match="l2"):
        VectorScaling(l2="auto")


def test_every_calibrator_helps_an_overconfident_model(rng):
    z, y = _sample(rng, 20000, 10)
    z = 3 * z  # a calibrated model made overconfident
    r = compare(z[:10000], y[:10000], z[10000:], y[10000:])
    assert set(r) == set(CALIBRATORS)
    r.update(compare(z[:10000], y[:10000], z[10000:], y[10000:], which=TEXTBOOK))  # the textbook forms help here too
    assert set(r) == set(CALIBRATORS) | set(TEXTBOOK) == set(CALIBRATOR_TITLES)
    assert CALIBRATOR_TITLES["none"] == "Uncalibrated"
    for key, m in r.items():
        extra = {"raw_share"} if key.endswith("_mixed") else set()
        assert set(m) == {"ece", "nll", "accuracy", "brier"} | extra and all(np.isfinite(v) for v in m.values()), key
        if key != "none":
            assert m["nll"] <= r["none"]["nll"], key
            assert m["ece"] < r["none"]["ece"] / 2, key
    assert abs(r["temperature"]["nll"] - nll(softmax(z[10000:] / 3), y[10000:])) < 0.02


def test_what_is_offered_never_costs_a_calibrated_model_nll_and_the_textbook_forms_do(rng):
    # a calibrated, confident model (labels drawn from its own softmax): the must-hold "improves or equals NLL"
    z, y = _sample(rng, 12000, 10, spread=4.0)
    r = compare(z[:4000], y[:4000], z[4000:], y[4000:])
    for key, m in r.items():  # fitting noise only: 0.0008 at most over four seeds, against 0.07 / 0.015 below
        assert m["nll"] <= r["none"]["nll"] + 0.002, key
    t = compare(z[:4000], y[:4000], z[4000:], y[4000:], which=TEXTBOOK)
    assert set(t) == set(TEXTBOOK) and not set(t) & set(CALIBRATORS)
    for key, m in t.items():  # why they are not offered: the steps throw the order inside a bin away
        assert m["nll"] > r["none"]["nll"] + 0.005, key


def test_zero_probabilities_keep_nll_finite(rng):
    # few validation rows and many bins: some test rows get probability 0 on their true class
    z, y = _sample(rng, 2300, 10)
    z = 3 * z
    for cal in (HistogramBinning(n_bins=50, prior=0), IsotonicCalibrator(floor=False)):  # without the pseudo-counts
        p = cal.fit(z[:300], y[:300]).predict_proba(z[300:])
        assert np.all(np.isfinite(p)) and np.all(p >= 0)
        np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-12)
        assert np.any(p[np.arange(2000), y[300:]] == 0), "the case this test is for"
        assert np.isfinite(nll(p, y[300:])) and nll(p, y[300:]) <= -np.log(1e-12)


@pytest.mark.parametrize("key", sorted({**CALIBRATORS, **TEXTBOOK}))
def test_input_errors_are_clear(key, rng):
    z, y = _sample(rng, 100, 3)
    cls = {**CALIBRATORS, **TEXTBOOK}[key]
    with pytest.raises(ValueError, match="shape"):
        cls().fit(z[:, 0], y)
    with pytest.raises(ValueError, match="length"):
        cls().fit(z, y[:-1])
    bad = z.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="finite"):
        cls().fit(bad, y)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\]"):
        cls().fit(z, np.where(y == 0, 3, y))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\]"):
        cls().fit(z, np.where(y == 0, -1, y))
    fitted = cls().fit(z, y)
    with pytest.raises(ValueError, match="fitted on 3 classes"):
        fitted.predict_proba(rng.normal(size=(5, 4)))
    with pytest.raises(ValueError, match="finite"):
        fitted.predict_proba(bad)
    with pytest.raises(ValueError, match="sum to 1"):
        cls(from_probs=True).fit(softmax(z) * 0.5, y)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        cls(from_probs=True).fit(softmax(z) * 2 - 0.5, y)


def test_compare_checks_its_inputs(rng):
    z, y = _sample(rng, 100, 3)
    with pytest.raises(ValueError, match="same number of classes"):
        compare(z, y, z[:, :2], y)
    with pytest.raises(ValueError, match="n_bins"):
        compare(z, y, z, y, n_bins=0)
    with pytest.raises(ValueError, match="n_bins"):
        HistogramBinning(n_bins=0)



def test_pseudo_counts_keep_every_probability_above_zero():
    """Add-one smoothing (histogram) and the 1 / (n + 2) floor (isotonic): known answers on a toy case."""
    p = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.2, 0.8]])
    y = np.array([0, 0, 0, 1])
    h = HistogramBinning(n_bins=2, from_probs=True).fit(p, y)
    # class 0, top bin: 3 of 3 positives -> (3 + 1) / (3 + 2); bottom bin: 0 of 1 -> 1 / 3
    np.testing.assert_allclose(h.bin_value_[0], [1 / 3, 4 / 5])
    iso = IsotonicCalibrator(from_probs=True).fit(p, y)
    raw = iso.predict_raw(p)
    assert raw.min() >= 1 / 6 - 1e-12 and raw.max() <= 5 / 6 + 1e-12
    assert (iso.predict_proba(p) > 0).all()


@pytest.mark.parametrize("key, base", [("histogram_mixed", HistogramBinning), ("isotonic_mixed", IsotonicCalibrator)])
def test_mixed_with_raw_is_the_stated_mixture_of_its_base_refitted_on_every_row(key, base, rng):
    z, y = _sample(rng, 3000, 4)
    z = 2 * z
    m = CALIBRATORS[key]().fit(z[:2000], y[:2000])
    assert 0.0 <= m.raw_share_ <= 1.0 and np.isclose(m.raw_share_ * 20, round(m.raw_share_ * 20))  # on the grid
    pure = base().fit(z[:2000], y[:2000]).predict_proba(z[2000:])
    raw = softmax(z[2000:])
    np.testing.assert_allclose(m.predict_proba(z[2000:]), (1 - m.raw_share_) * pure + m.raw_share_ * raw, atol=1e-12)
    np.testing.assert_allclose(m.predict_proba(z[2000:]).sum(1), 1.0, atol=1e-12)
    same = CALIBRATORS[key]().fit(z[:2000], y[:2000])
    assert same.raw_share_ == m.raw_share_  # seeded folds


@pytest.mark.parametrize("base", [HistogramBinning, IsotonicCalibrator])
def test_mixing_goes_back_to_raw_where_the_calibrator_hurts_and_away_from_it_where_it_helps(base, rng):
    from uqcore.metrics.calibrators import MixedWithRaw

    z, y = _sample(rng, 6000, 10, spread=4.0)  # a calibrated, confident model: binning can only lose
    fit, test = slice(0, 1000), slice(1000, None)
    m = MixedWithRaw(base).fit(z[fit], y[fit])
    pure = base().fit(z[fit], y[fit]).predict_proba(z[test])
    # one standard error: the data cannot tell the best share from leaving the model alone, so it is left alone
    assert m.raw_share_ == 1.0
    np.testing.assert_allclose(m.predict_proba(z[test]), softmax(z[test]), atol=1e-12)
    assert nll(m.predict_proba(z[test]), y[test]) < nll(pure, y[test])
    assert nll(m.predict_proba(z[test]), y[test]) <= nll(softmax(z[test]), y[test]) + 0.01
    over = MixedWithRaw(base).fit(4 * z[fit], y[fit])  # the same model made overconfident: calibrate it
    assert over.raw_share_ <= 0.5
    assert nll(over.predict_proba(4 * z[test]), y[test]) < nll(softmax(4 * z[test]), y[test])


def test_one_standard_error_known_answer():
    from uqcore.metrics.calibrators import one_standard_error

    # three candidates on four rows: the first is best (mean 1.0); the second is 0.05 worse on average but its
    # paired differences (+0.3, -0.2, +0.3, -0.2) have a standard error of 0.144: within; the third is 1.0 worse
    loss = np.array([[1.0, 1.0, 1.0, 1.0], [1.3, 0.8, 1.3, 0.8], [2.0, 2.0, 2.0, 2.0]])
    assert one_standard_error(loss) == 1
    assert one_standard_error(loss[[0, 2]]) == 0  # nothing within: the best itself
    assert one_standard_error(loss[[2, 0]]) == 1  # the best is last
    tight = np.array([[1.0, 1.0, 1.0, 1.0], [1.06, 1.04, 1.06, 1.04]])  # 0.05 worse, standard error 0.006
    assert one_standard_error(tight) == 0
    assert one_standard_error(np.array([[0.5], [0.7]])) == 0  # one row: no spread, the best alone
    for bad in (np.zeros((0, 4)), np.array([[1.0, np.nan]]), np.ones(3)):
        with pytest.raises(ValueError, match="finite"):
            one_standard_error(bad)


def test_mixed_with_raw_refuses_what_it_cannot_mix():
    from uqcore.metrics.calibrators import MixedWithRaw

    with pytest.raises(ValueError, match="base must be"):
        MixedWithRaw(TemperatureCalibrator)
    with pytest.raises(ValueError, match="folds must be at least 2"):
        MixedWithRaw(HistogramBinning, folds=1)
