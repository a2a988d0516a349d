import numpy as np
import pytest

from uqcore.metrics.selective import accuracy_at_coverage, aurc, risk_coverage


def test_known_tiny_example():
    rc = risk_coverage([0.1, 0.2, 0.3, 0.4], [1, 1, 0, 1])
    np.testing.assert_allclose(rc.coverage, [0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(rc.risk, [0, 0, 1 / 3, 1 / 4])
    np.testing.assert_allclose(rc.accuracy, 1 - rc.risk)
    assert aurc([0.1, 0.2, 0.3, 0.4], [1, 1, 0, 1]) == pytest.approx((1 / 3 + 1 / 4) / 4)


def test_order_does_not_matter_and_ties_are_stable():
    rc = risk_coverage([0.4, 0.3, 0.1, 0.2], [True, False, True, True])
    np.testing.assert_allclose(rc.risk, [0, 0, 1 / 3, 1 / 4])
    tied = risk_coverage([0.5, 0.5], [0, 1])  # stable: input order kept
    np.testing.assert_allclose(tied.risk, [1.0, 0.5])


def test_perfect_ranking_beats_random():
    rng = np.random.default_rng(0)
    correct = rng.uniform(size=2000) < 0.8
    perfect = np.where(correct, 0.0, 1.0) + rng.uniform(0, 0.1, 2000)
    random = rng.uniform(size=2000)
    err = 1 - correct.mean()
    # perfect ranking: risk is 0 until all correct samples are used
    n, m = 2000, int((~correct).sum())
    k = np.arange(n - m + 1, n + 1)
    expected = np.sum((k - (n - m)) / k) / n
    assert aurc(perfect, correct) == pytest.approx(expected)
    assert aurc(random, correct) == pytest.approx(err, abs=0.03)
    assert aurc(perfect, correct) < aurc(random, correct) / 3


def test_accuracy_at_coverage():
    u = [0.1, 0.2, 0.3, 0.4]
    c = [1, 1, 0, 1]
    assert accuracy_at_coverage(u, c, 0.5) == 1.0
    assert accuracy_at_coverage(u, c, 0.51) == pytest.approx(2 / 3)  # ceil(2.04) = 3
    assert accuracy_at_coverage(u, c, 1.0) == 0.75
    assert accuracy_at_coverage(u, c, 0.01) == 1.0
    assert accuracy_at_coverage(np.arange(10), np.r_[np.ones(3), np.zeros(7)], 0.3) == 1.0  # 0.3*10 -> 3
    with pytest.raises(ValueError, match="coverage"):
        accuracy_at_coverage(u, c, 0.0)
    with pytest.raises(ValueError, match="shape"):
        risk_coverage(u, c[:3])
