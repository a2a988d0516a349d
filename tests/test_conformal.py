import json
import math
import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from uqcore.metrics import conformal as cf
from uqcore.metrics.conformal import Conformal, coverage, fit, labels, mean_size, predict_sets, sweep


def _calibrated(n, n_classes=10, conc=0.3, seed=0):
    """Dirichlet probabilities and labels drawn FROM them: a perfectly calibrated model."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(n_classes, conc), size=n)
    y = (p.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    return p, y


# 1. Known answers by hand ---------------------------------------------------------------------

# p_true = .9 .8 .6 .3 .5 -> LAC scores .1 .2 .4 .7 .5 -> sorted .1 .2 .4 .5 .7
HAND_P = np.array([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.3, 0.6, 0.1], [0.5, 0.25, 0.25]])
HAND_Y = np.array([0, 1, 2, 0, 0])


@pytest.mark.parametrize(
    "alpha, qhat",
    [
        (0.5, 0.4),  # k = ceil(6 * 0.5) = 3 exactly -> 3rd smallest (numpy method="higher" at 3/5 gives 0.5)
        (0.4, 0.5),  # k = ceil(3.6) = 4
        (0.2, 0.7),  # k = ceil(4.8) = 5 = n -> the largest score
        (0.1, math.inf),  # k = ceil(5.4) = 6 > n -> every class
    ],
)
def test_lac_qhat_by_hand(alpha, qhat):
    c = fit(HAND_P, HAND_Y, alpha, "lac")
    assert c.qhat == pytest.approx(qhat, abs=1e-12) and c.n == 5 and c.score == "lac"
    sets = predict_sets(np.array([[0.55, 0.35, 0.10], [0.0, 0.0, 1.0]]), c)
    # 1 - p = (.45 .65 .90) and (1 1 0)
    expected = {0.4: [[False] * 3, [False, False, True]], 0.5: [[True, False, False], [False, False, True]],
                0.7: [[True, True, False], [False, False, True]], math.inf: [[True] * 3, [True] * 3]}[qhat]
    np.testing.assert_array_equal(sets, expected)


def test_rank_is_robust_to_float_noise():
    # 10 * (1 - 0.7) == 3.0000000000000004 in floats; the intended rank is 3, not 4
    scores = np.arange(1, 10) / 10  # p_true = 1 - scores
    p = np.column_stack([1 - scores, scores])
    c = fit(p, np.zeros(9, dtype=int), 0.7, "lac")
    assert c.qhat == pytest.approx(0.3)


def test_aps_by_hand_with_known_uniforms():
    # sorted probs .5 .3 .2, u = .5: scores of ranks 1..3 = .25, .65, .9 ; RAPS(lam=.1,k=1) adds 0, .1, .2
    p = np.array([[0.2, 0.5, 0.3]])
    u = np.array([0.5])
    np.testing.assert_allclose(cf._class_scores(p, "aps", u, 0.0, 0), [[0.9, 0.25, 0.65]])
    np.testing.assert_allclose(cf._class_scores(p, "raps", u, 0.1, 1), [[1.1, 0.25, 0.75]])
    s = cf._class_scores(p, "aps", u, 0.0, 0)
    np.testing.assert_array_equal(cf._sets_from_scores(s, p, "aps", 0.7), [[False, True, True]])
    np.testing.assert_array_equal(cf._sets_from_scores(s, p, "aps", 0.1), [[False, True, False]])  # top-1 kept
    np.testing.assert_array_equal(cf._sets_from_scores(s, p, "lac", 0.1), [[False, False, False]])  # LAC may be empty


# 2. Synthetic known case: a calibrated model --------------------------------------------------


@pytest.fixture(scope="module")
def synth():
    p, y = _calibrated(10_000, seed=0)
    return p[:5000], y[:5000], p[5000:], y[5000:]


@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.1])
def test_coverage_on_a_calibrated_model(synth, alpha):
    pc, yc, pt, yt = synth
    c = fit(pc, yc, alpha, "lac")
    assert abs(coverage(predict_sets(pt, c), yt) - (1 - alpha)) <= 0.015
    sizes = {}
    for score in ("aps", "raps"):
        c = fit(pc, yc, alpha, score, lam=0.01, k_reg=1, seed=1)
        sets = predict_sets(pt, c, seed=2)
        assert coverage(sets, yt) >= 1 - alpha - 0.015, score
        assert sets.sum(axis=1).min() >= 1, f"{score} produced an empty set"
        assert sets[np.arange(len(pt)), pt.argmax(axis=1)].all(), f"{score} dropped the top-1 label"
        sizes[score] = sets.sum(axis=1)
    # On a calibrated model RAPS does not shrink the mean set (APS is already adaptive; measured +0.08 at
    # alpha=0.01, -0.002 at 0.1): what the penalty does is trim the largest sets.
    assert sizes["raps"].max() < sizes["aps"].max()
    assert abs(sizes["raps"].mean() - sizes["aps"].mean()) <= 0.15
    # LAC gives the smallest sets at a given coverage (Sadinle et al. 2019)
    assert mean_size(predict_sets(pt, fit(pc, yc, alpha, "lac"))) <= sizes["aps"].mean()


def test_raps_without_penalty_is_aps_and_sets_are_nested(synth):
    pc, yc, pt, _ = synth
    aps = predict_sets(pt, fit(pc, yc, 0.1, "aps", seed=3), seed=4)
    raps0 = predict_sets(pt, fit(pc, yc, 0.1, "raps", lam=0.0, k_reg=1, seed=3), seed=4)
    np.testing.assert_array_equal(aps, raps0)
    for score in cf.SCORES:
        loose, tight = (predict_sets(pt, fit(pc, yc, a, score)) for a in (0.2, 0.05))
        assert np.all(tight >= loose), score  # smaller alpha -> superset


def test_same_uniform_rule_at_calibration_and_prediction(synth):
    """Predicting on the calibration rows themselves with the same seed must cover >= k/n of them."""
    pc, yc, _, _ = synth
    n = len(pc)
    for alpha in (0.05, 0.1, 0.3):
        k = math.ceil((n + 1) * (1 - alpha))
        c = fit(pc, yc, alpha, "aps", seed=11)
        assert coverage(predict_sets(pc, c, seed=11), yc) >= k / n


def test_sweep_matches_fit_and_predict(synth):
    pc, yc, pt, yt = synth
    alphas = [0.02, 0.1, 0.3]
    for score in cf.SCORES:
        out = sweep(pc, yc, pt, yt, alphas, score, lam=0.05, k_reg=2, seed=5)
        assert set(out) == {"alpha", "coverage", "mean_size"}
        for i, a in enumerate(alphas):
            sets = predict_sets(pt, fit(pc, yc, a, score, lam=0.05, k_reg=2, seed=5), seed=5)
            assert out["coverage"][i] == coverage(sets, yt) and out["mean_size"][i] == mean_size(sets)
        assert np.all(np.diff(out["coverage"]) <= 0)  # larger alpha, lower coverage


def test_dict_round_trip_through_json():
    for c in (fit(HAND_P, HAND_Y, 0.4, "raps", lam=0.2, k_reg=2), fit(HAND_P, HAND_Y, 0.1)):
        d = json.loads(json.dumps(c.to_dict(), allow_nan=False))
        assert Conformal.from_dict(d) == c
    assert fit(HAND_P, HAND_Y, 0.1).to_dict()["qhat"] is None  # +inf


def test_labels_and_titles():
    row = np.array([True, False, True, True])
    assert labels(row) == [0, 2, 3]
    assert labels(row, np.array([0.1, 0.5, 0.3, 0.1])) == [2, 0, 3]  # ties keep index order
    assert set(cf.SCORE_TITLES) == set(cf.SCORES) and cf.DEFAULT_ALPHA == 0.05


# 3. Cross-check against MAPIE -----------------------------------------------------------------

class StoredProbs(ClassifierMixin, BaseEstimator):
    """A prefit sklearn classifier over stored probabilities: X is a column of row indices.

    MAPIE's prefit check needs classes_ and, when n_features_in_ is set, a working
    predict(np.zeros((1, n_features_in_))) -- row 0 here."""

    def __init__(self, probs=None):
        self.probs = probs

    def fit(self, X=None, y=None):
        self.classes_ = np.arange(self.probs.shape[1])
        self.n_features_in_ = 1
        return self

    def predict_proba(self, X):
        return self.probs[np.asarray(X)[:, 0].astype(int)]

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


@pytest.fixture(scope="module")
def split_conformal():
    """MAPIE is a test-only dependency (requirements-dev.txt): only its cross-checks skip without it."""
    return pytest.importorskip("mapie.classification").SplitConformalClassifier


def _mapie(cls, probs, y, n_cal, alpha, score, seed=7):
    """MAPIE calibrated on rows [0, n_cal); returns it and the X of the remaining (test) rows."""
    m = cls(StoredProbs(probs).fit(), confidence_level=1 - alpha, conformity_score=score, prefit=True,
            random_state=seed)
    x = np.arange(len(probs))[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none today; fail loudly rather than hide a new one
        m.conformalize(x[:n_cal], y[:n_cal])
    return m, x[n_cal:]


@pytest.fixture(scope="module")
def mdata():
    p, y = _calibrated(6000, conc=0.5, seed=1)
    return p, y, 3000


@pytest.mark.parametrize("alpha", [0.02, 0.05, 0.1, 0.2])
def test_lac_sets_equal_mapie(split_conformal, mdata, alpha):
    p, y, n = mdata
    m, x_test = _mapie(split_conformal, p, y, n, alpha, "lac")
    _, msets = m.predict_set(x_test)
    c = fit(p[:n], y[:n], alpha, "lac")
    k = math.ceil((n + 1) * (1 - alpha))
    assert c.qhat == np.sort(np.ravel(m.conformity_scores))[k - 1]  # MAPIE: np.quantile(k/n, "lower")
    np.testing.assert_array_equal(predict_sets(p[n:], c), msets[:, :, 0])


@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.5])
def test_aps_equals_mapie_randomized_given_the_same_uniforms(split_conformal, mdata, alpha):
    """MAPIE's APS score is cumsum_incl - U * p_true (ours with u = 1 - U) and its randomized set keeps
    the boundary label iff V <= U, the same rule. With its RandomState draws fed in, the scores, qhat and
    sets agree; the only difference is that MAPIE may return an empty set where ours holds the top-1."""
    p, y, n = mdata
    seed = 7
    m, x_test = _mapie(split_conformal, p, y, n, alpha, "aps", seed)
    _, msets = m.predict_set(x_test, conformity_score_params={"include_last_label": "randomized"})
    msets = msets[:, :, 0]
    u_cal = 1 - np.random.RandomState(seed).uniform(size=n)
    u_test = 1 - np.random.RandomState(seed).uniform(size=len(x_test))
    cal_s = cf._class_scores(p[:n], "aps", u_cal, 0.0, 0)[np.arange(n), y[:n]]
    np.testing.assert_allclose(cal_s, np.ravel(m.conformity_scores), atol=1e-12)
    ours = cf._sets_from_scores(cf._class_scores(p[n:], "aps", u_test, 0.0, 0), p[n:], "aps", cf._qhat(cal_s, alpha))
    empty = msets.sum(axis=1) == 0
    np.testing.assert_array_equal(ours[~empty], msets[~empty])
    assert np.all(ours[empty].sum(axis=1) == 1)
    if alpha == 0.5:
        assert empty.sum() > 0  # the exception above is exercised


def test_raps_equals_mapie_randomized_given_its_split_and_parameters(split_conformal, mdata):
    """MAPIE's RAPS holds out 10% (StratifiedShuffleSplit) to choose k_star and lambda_star, then calibrates
    on the rest. Fed that split, those parameters and its uniforms, ours agrees exactly on the scores and
    qhat, and on the sets except (a) MAPIE's empty sets and (b) sets of size > k_star, where MAPIE's
    randomization denominator (p_L - lam*max(0, L-k) + lam*[L>k]) departs from the paper's p_L."""
    from sklearn.model_selection import StratifiedShuffleSplit

    p, y, n = mdata
    seed, alpha = 7, 0.1
    m, x_test = _mapie(split_conformal, p, y, n, alpha, "raps", seed)
    _, msets = m.predict_set(x_test, conformity_score_params={"include_last_label": "randomized"})
    msets = msets[:, :, 0]
    g = m._mapie_classifier.conformity_score_function_  # MAPIE internals: the chosen k_star, lambda_star
    k, lam = int(np.ravel(g.k_star)[0]), float(np.ravel(g.lambda_star)[0])
    tr, _ = next(StratifiedShuffleSplit(n_splits=1, test_size=None, random_state=seed).split(p[:n], y[:n]))
    assert len(tr) == len(np.ravel(m.conformity_scores))
    u_cal = 1 - np.random.RandomState(seed).uniform(size=len(tr))
    cal_s = cf._class_scores(p[tr], "raps", u_cal, lam, k)[np.arange(len(tr)), y[tr]]
    mapie_reg = np.ravel(m.conformity_scores) + lam * np.maximum(0, np.ravel(g.cutoff) - k)
    np.testing.assert_allclose(cal_s, mapie_reg, atol=1e-12)
    qhat = cf._qhat(cal_s, alpha)
    assert qhat == pytest.approx(float(np.ravel(g.quantiles_)[0]), abs=1e-12)
    u_test = 1 - np.random.RandomState(seed).uniform(size=len(x_test))
    ours = cf._sets_from_scores(cf._class_scores(p[n:], "raps", u_test, lam, k), p[n:], "raps", qhat)
    size = msets.sum(axis=1)
    keep = (size > 0) & (size <= k)
    assert keep.mean() > 0.9
    np.testing.assert_array_equal(ours[keep], msets[keep])


@pytest.mark.parametrize("score", ["aps", "raps"])
def test_public_api_agrees_with_mapie_in_coverage_and_size(split_conformal, mdata, score):
    """Different random streams (default_rng vs RandomState), same method: coverage within 2 points and
    mean size within 0.25 of MAPIE's randomized sets; MAPIE's default (boundary label always kept) covers more."""
    p, y, n = mdata
    alpha = 0.1
    m, x_test = _mapie(split_conformal, p, y, n, alpha, score)
    _, mrand = m.predict_set(x_test, conformity_score_params={"include_last_label": "randomized"})
    _, mdef = m.predict_set(x_test)
    if score == "raps":
        g = m._mapie_classifier.conformity_score_function_
        kw = {"k_reg": int(np.ravel(g.k_star)[0]), "lam": float(np.ravel(g.lambda_star)[0])}
    else:
        kw = {}
    ours = predict_sets(p[n:], fit(p[:n], y[:n], alpha, score, **kw))
    yt = y[n:]
    assert abs(coverage(ours, yt) - coverage(mrand[:, :, 0], yt)) <= 0.02
    assert abs(mean_size(ours) - mean_size(mrand[:, :, 0])) <= 0.25
    assert coverage(mdef[:, :, 0], yt) >= coverage(mrand[:, :, 0], yt)


# 4. Input errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 1.0}, "alpha"),
        ({"alpha": float("nan")}, "alpha"),
        ({"alpha": "0.1"}, "alpha"),
        ({"score": "naive"}, "score must be one of"),
        ({"lam": -1.0, "score": "raps"}, "lam"),
        ({"k_reg": 1.5, "score": "raps"}, "k_reg"),
        ({"cal_probs": HAND_P[:, :2]}, "sum to 1"),
        ({"cal_probs": HAND_P[0]}, "shape"),
        ({"cal_probs": np.zeros((0, 3))}, "n >= 1"),
        ({"cal_probs": np.where(HAND_P == 0.9, np.nan, HAND_P)}, "finite"),
        ({"cal_y": HAND_Y[:4]}, "shape"),
        ({"cal_y": HAND_Y + 1}, r"\[0, 2\]"),
        ({"cal_y": HAND_Y.astype(float)}, "integer"),
    ],
)
def test_fit_input_errors(kwargs, match):
    args = {"cal_probs": HAND_P, "cal_y": HAND_Y, "alpha": 0.1, "score": "lac"} | kwargs
    with pytest.raises(ValueError, match=match):
        fit(**args)


def test_other_input_errors():
    c = fit(HAND_P, HAND_Y, 0.2)
    with pytest.raises(ValueError, match="Conformal"):
        predict_sets(HAND_P, {"qhat": 0.5})
    with pytest.raises(ValueError, match="boolean"):
        coverage(np.ones((5, 3)), HAND_Y)
    with pytest.raises(ValueError, match="shape"):
        coverage(predict_sets(HAND_P, c), HAND_Y[:3])
    with pytest.raises(ValueError, match="missing"):
        Conformal.from_dict({"score": "lac"})
    with pytest.raises(ValueError, match="unknown keyword"):
        sweep(HAND_P, HAND_Y, HAND_P, HAND_Y, [0.1], "lac", alpha=0.1)
    with pytest.raises(ValueError, match="classes"):
        sweep(HAND_P, HAND_Y, HAND_P[:, :2] / HAND_P[:, :2].sum(1, keepdims=True), HAND_Y % 2, [0.1])
    with pytest.raises(ValueError, match="shape"):
        labels(np.array([True, False]), np.array([0.5, 0.3, 0.2]))
