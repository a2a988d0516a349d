import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score, log_loss
from torchmetrics.classification import MulticlassCalibrationError

from uqcore.metrics.calibration import (
    NotFittedError,
    TemperatureScaler,
    accuracy,
    adaptive_ece,
    brier,
    calibration_report,
    classwise_ece,
    confusion_matrix,
    ece,
    f1_macro,
    mce,
    nll,
    optimal_temperature,
    reliability_bins,
    softmax,
)


def _tm(probs32, y, n_bins, norm):
    C = probs32.shape[1]
    m = MulticlassCalibrationError(num_classes=C, n_bins=n_bins, norm=norm)
    return float(m(torch.from_numpy(probs32), torch.from_numpy(y)))


def _random_probs(seed, n=500, C=10):
    rng = np.random.default_rng(seed)
    p = softmax(rng.normal(size=(n, C)) * rng.uniform(0.5, 4.0)).astype(np.float32)
    y = rng.integers(0, C, n)
    y[: n // 2] = p[: n // 2].argmax(1)  # make it somewhat accurate
    return p, y


def _tied_probs(seed, n=400, C=4):
    # integer counts / total: ties between classes and many repeated confidences,
    # several exactly on bin edges (0.5, 0.25, 0.75, ...), none equal to 1.0
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 4, size=(n, C)).astype(np.float32)
    p = counts / counts.sum(1, keepdims=True)
    return p.astype(np.float32), rng.integers(0, C, n)


@pytest.mark.parametrize("seed", range(5))
def test_ece_mce_match_torchmetrics_random(seed):
    p, y = _random_probs(seed)
    assert p.max() < 1.0
    p64 = p.astype(np.float64)
    assert ece(p64, y, n_bins=15) == pytest.approx(_tm(p, y, 15, "l1"), abs=1e-6)
    assert mce(p64, y, n_bins=15) == pytest.approx(_tm(p, y, 15, "max"), abs=1e-6)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("n_bins", [2, 4, 8, 16])
def test_ece_mce_match_torchmetrics_ties_and_edges(seed, n_bins):
    # n_bins with exactly representable edges, so that "on the edge" means the same in
    # float32 (torchmetrics) and float64 (here); with n_bins=15 a float32 confidence such as
    # 0.4f and torch's float32 linspace edge 6/15 differ by one ulp, a rounding artefact.
    p, y = _tied_probs(seed)
    conf = p.max(1)
    edges = np.linspace(0, 1, n_bins + 1)
    assert np.isin(conf, edges[1:-1]).any()
    p64 = p.astype(np.float64)
    assert ece(p64, y, n_bins=n_bins) == pytest.approx(_tm(p, y, n_bins, "l1"), abs=1e-6)
    assert mce(p64, y, n_bins=n_bins) == pytest.approx(_tm(p, y, n_bins, "max"), abs=1e-6)


def test_confidence_on_edge_goes_to_upper_bin():
    p = np.array([[0.5, 0.25, 0.25], [0.4, 0.3, 0.3]])
    b = reliability_bins(p, [0, 0], n_bins=2)
    assert b.bin_index.tolist() == [1, 0]


def test_hand_computed_two_bins():
    # confidences 0.40, 0.45 | 0.6, 0.7, 0.8, 0.9 ; 2 equal-width bins [0, .5), [.5, 1]
    p = np.array(
        [
            [0.40, 0.35, 0.25],
            [0.45, 0.30, 0.25],
            [0.60, 0.20, 0.20],
            [0.70, 0.20, 0.10],
            [0.80, 0.10, 0.10],
            [0.90, 0.05, 0.05],
        ]
    )
    y = np.array([0, 1, 0, 1, 0, 2])  # bin 0: 1/2 correct, bin 1: 2/4 correct
    b = reliability_bins(p, y, n_bins=2)
    np.testing.assert_array_equal(b.count, [2, 4])
    np.testing.assert_allclose(b.confidence, [0.425, 0.75])
    np.testing.assert_allclose(b.accuracy, [0.5, 0.5])
    np.testing.assert_allclose(b.gaps, [0.075, 0.25])
    assert ece(p, y, n_bins=2) == pytest.approx(2 / 6 * 0.075 + 4 / 6 * 0.25)
    assert mce(p, y, n_bins=2) == pytest.approx(0.25)


def test_reliability_bins_partition():
    p, y = _random_probs(7, n=1000)
    b = reliability_bins(p, y, n_bins=15)
    assert b.edges.shape == (16,) and b.count.shape == (15,)
    assert b.count.sum() == 1000
    conf = p.astype(np.float64).max(1)
    lo, hi = b.edges[b.bin_index], b.edges[b.bin_index + 1]
    assert np.all((lo <= conf) & (conf < hi))
    empty = b.count == 0
    assert np.all(np.isnan(b.confidence[empty])) and np.all(np.isnan(b.accuracy[empty]))


def test_quantile_bins_equal_mass():
    rng = np.random.default_rng(3)
    p = softmax(rng.normal(size=(1500, 10)) * 3)
    y = rng.integers(0, 10, 1500)
    b = reliability_bins(p, y, n_bins=15, strategy="quantile")
    assert b.count.sum() == 1500
    assert b.count.min() >= 99 and b.count.max() <= 101
    assert adaptive_ece(p, y, n_bins=15) == pytest.approx(ece(p, y, n_bins=15, strategy="quantile"))


def test_bad_arguments():
    p, y = _random_probs(0, n=20)
    with pytest.raises(ValueError, match="strategy"):
        ece(p, y, strategy="foo")
    with pytest.raises(ValueError, match="n_bins"):
        ece(p, y, n_bins=0)
    with pytest.raises(ValueError, match="shape"):
        ece(p[0], y)
    with pytest.raises(ValueError, match="length"):
        ece(p, y[:-1])


def test_temperature_recovers_known_value():
    rng = np.random.default_rng(0)
    n, C, T = 20000, 10, 2.5
    z = rng.normal(size=(n, C)) * 4.0
    cum = softmax(z / T).cumsum(1)
    y = (rng.uniform(size=(n, 1)) > cum).sum(1)
    ts = TemperatureScaler().fit(z, y)
    assert ts.temperature_ == pytest.approx(T, abs=0.1)
    np.testing.assert_allclose(ts.transform(z), z / ts.temperature_)
    np.testing.assert_allclose(ts.predict_proba(z), softmax(z, ts.temperature_))
    assert optimal_temperature(z, y) == pytest.approx(ts.temperature_, rel=1e-6)
    assert nll(ts.predict_proba(z), y) < nll(softmax(z), y)


def test_unfitted_raises():
    with pytest.raises(NotFittedError, match=r"TemperatureScaler is not fitted; call fit\(\) first\."):
        TemperatureScaler().transform(np.zeros((2, 3)))
    with pytest.raises(NotFittedError):
        TemperatureScaler().predict_proba(np.zeros((2, 3)))


def test_softmax_stable_and_leading_dims():
    z = np.array([[1000.0, 1000.0], [-1000.0, 0.0]])
    np.testing.assert_allclose(softmax(z), [[0.5, 0.5], [0.0, 1.0]])
    zz = np.random.default_rng(0).normal(size=(3, 4, 5))
    np.testing.assert_allclose(softmax(zz).sum(-1), 1.0)
    with pytest.raises(ValueError, match="temperature"):
        softmax(z, temperature=0)


def test_basic_metrics_vs_sklearn():
    p, y = _random_probs(11, n=300)
    p = p.astype(np.float64)
    p /= p.sum(1, keepdims=True)
    C = p.shape[1]
    assert accuracy(p, y) == pytest.approx(np.mean(p.argmax(1) == y))
    assert f1_macro(p, y) == pytest.approx(f1_score(y, p.argmax(1), average="macro"))
    assert nll(p, y) == pytest.approx(log_loss(y, p, labels=np.arange(C)), rel=1e-9)
    onehot = np.eye(C)[y]
    assert brier(p, y) == pytest.approx(np.mean(np.sum((p - onehot) ** 2, 1)))
    cm = confusion_matrix(p, y)
    assert cm.shape == (C, C) and cm.sum() == 300
    assert np.trace(cm) == np.sum(p.argmax(1) == y)
    assert cm[y[0], p[0].argmax()] >= 1
    # rows = true, columns = predicted
    cm2 = confusion_matrix(np.array([[0.9, 0.1], [0.9, 0.1]]), [1, 1])
    np.testing.assert_array_equal(cm2, [[0, 0], [2, 0]])


def test_classwise_ece_calibrated_is_small():
    rng = np.random.default_rng(5)
    n, C = 20000, 5
    p = rng.dirichlet(np.ones(C), size=n)
    y = (rng.uniform(size=(n, 1)) > p.cumsum(1)).sum(1)
    y = np.minimum(y, C - 1)
    assert classwise_ece(p, y) < 0.02
    assert ece(p, y) < 0.03
    # a miscalibrated version is clearly worse
    assert classwise_ece(softmax(np.log(p) * 3), y) > 3 * classwise_ece(p, y)


def test_calibration_report_keys():
    p, y = _random_probs(2, n=200)
    r = calibration_report(p, y)
    assert set(r) == {"accuracy", "f1_macro", "nll", "brier", "ece", "mce", "adaptive_ece", "classwise_ece"}
    assert all(type(v) is float for v in r.values())
