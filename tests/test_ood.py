import numpy as np
import pytest
from scipy.special import logsumexp
from sklearn.metrics import average_precision_score, roc_auc_score

from uqcore.metrics.calibration import NotFittedError
from uqcore.metrics.ood import (
    KNN,
    SCORES,
    Mahalanobis,
    energy_score,
    entropy_score,
    fit_threshold,
    msp_score,
    mutual_information_score,
    ood_metrics,
)


def test_auroc_aupr_match_sklearn():
    rng = np.random.default_rng(0)
    s_in, s_out = rng.normal(size=300), rng.normal(0.7, 1.0, size=200)
    m = ood_metrics(s_in, s_out)
    y = np.r_[np.zeros(300), np.ones(200)]
    s = np.r_[s_in, s_out]
    assert m["auroc"] == pytest.approx(roc_auc_score(y, s))
    assert m["aupr"] == pytest.approx(average_precision_score(y, s))
    assert set(m) == {"auroc", "aupr", "fpr95"}


def test_separable_scores():
    m = ood_metrics([0.0, 0.1, 0.2], [1.0, 2.0])
    assert m == {"auroc": 1.0, "aupr": 1.0, "fpr95": 0.0}


def test_fpr95_known_example():
    # 20 OOD scores 1..20, in-distribution scores 0.5 and 1.5..9.5:
    # TPR reaches 19/20 = 0.95 at threshold 2 -> in-dist scores >= 2 are 2.5..9.5 = 8 of 10
    s_out = np.arange(1, 21, dtype=float)
    s_in = np.r_[0.5, np.arange(1.5, 10.5, 1.0)]
    assert s_in.size == 10
    assert ood_metrics(s_in, s_out)["fpr95"] == pytest.approx(0.8)


def test_simple_scores():
    p = np.array([[1.0, 0.0], [0.5, 0.5]])
    np.testing.assert_allclose(msp_score(p), [0.0, 0.5])
    np.testing.assert_allclose(entropy_score(p), [0.0, np.log(2)])
    mi = mutual_information_score(np.array([[[1.0, 0.0]], [[0.0, 1.0]]]))
    np.testing.assert_allclose(mi, [np.log(2)])
    assert SCORES == ("msp", "entropy", "mutual_information", "energy", "mahalanobis")


def test_energy():
    z = np.random.default_rng(0).normal(size=(50, 10)) * 5
    np.testing.assert_allclose(energy_score(z), -logsumexp(z, axis=1))
    np.testing.assert_allclose(energy_score(z, temperature=2.0), -2.0 * logsumexp(z / 2.0, axis=1))
    with pytest.raises(ValueError, match="temperature"):
        energy_score(z, temperature=-1)


def _blobs(rng, n_per=300, d=8, C=4):
    means = rng.normal(0, 6, size=(C, d))
    A = rng.normal(size=(d, d)) * 0.5 + np.eye(d)
    y = np.repeat(np.arange(C), n_per)
    x = means[y] + rng.normal(size=(C * n_per, d)) @ A.T
    return x, y, means, A


def test_mahalanobis_blobs():
    rng = np.random.default_rng(0)
    x, y, means_true, A = _blobs(rng)
    maha = Mahalanobis().fit(x, y)
    assert maha.means_.shape == (4, 8) and maha.precision_.shape == (8, 8)
    y_in = rng.integers(0, 4, 300)  # fresh held-out points from the same blobs
    x_in = means_true[y_in] + rng.normal(size=(300, 8)) @ A.T
    x_far = rng.normal(0, 1, size=(300, 8)) + 40.0
    s_in, s_far = maha.score(x_in), maha.score(x_far)
    assert s_in.mean() < s_far.mean()
    assert ood_metrics(s_in, s_far)["auroc"] > 0.99

    # direct numpy computation (same ridge 1e-6)
    means = np.stack([x[y == k].mean(0) for k in range(4)])
    xc = x - means[y]
    cov = xc.T @ xc / len(x) + 1e-6 * np.eye(8)
    prec = np.linalg.inv(cov)
    q = np.r_[x_far[:3], x_in[:3]]
    direct = np.min([np.einsum("nd,de,ne->n", q - m, prec, q - m) for m in means], axis=0)
    np.testing.assert_allclose(maha.score(q), direct, rtol=1e-6)


def test_mahalanobis_state_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    x, y, _, _ = _blobs(rng, n_per=50)
    maha = Mahalanobis().fit(x, y)
    np.savez(tmp_path / "m.npz", **maha.state())
    with np.load(tmp_path / "m.npz") as f:
        back = Mahalanobis.from_state(f)
    np.testing.assert_array_equal(back.means_, maha.means_)
    np.testing.assert_array_equal(back.precision_, maha.precision_)
    np.testing.assert_allclose(back.score(x[:10]), maha.score(x[:10]))


def test_mahalanobis_unfitted():
    with pytest.raises(NotFittedError, match=r"not fitted; call fit\(\) first"):
        Mahalanobis().score(np.zeros((2, 3)))


def test_threshold_flags_five_percent():
    rng = np.random.default_rng(0)
    t = fit_threshold(rng.normal(size=5000))
    fresh = rng.normal(size=20000)
    assert np.mean(fresh > t) == pytest.approx(0.05, abs=0.01)
    with pytest.raises(ValueError, match="quantile"):
        fit_threshold([1.0, 2.0], quantile=1.5)


def test_knn_from_state_scores_as_fitted_and_builds_its_index_only_for_many_rows():
    """A KNN loaded from its state gives the fitted one's scores; one reading needs no scikit-learn index, a batch
    builds it on first use."""
    rng = np.random.default_rng(0)
    bank, x = rng.normal(size=(200, 8)), rng.normal(size=(40, 8))
    fitted = KNN(k=5).fit(bank)
    loaded = KNN.from_state(fitted.state())
    assert getattr(loaded, "nn_", None) is None
    np.testing.assert_allclose(loaded.score(x[:1]), fitted.score(x[:1]), rtol=1e-5)
    assert getattr(loaded, "nn_", None) is None
    np.testing.assert_allclose(loaded.score(x), fitted.score(x), rtol=1e-5)
    assert loaded.nn_ is not None
