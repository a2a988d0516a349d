import numpy as np
import pytest

from uqcore.metrics.uncertainty import decompose, dirichlet_uncertainty, entropy, spearman

LN2 = np.log(2.0)


def test_entropy_known_values():
    np.testing.assert_allclose(entropy([[1.0, 0.0], [0.5, 0.5]]), [0.0, LN2])
    np.testing.assert_allclose(entropy(np.full((3, 7), 1 / 7)), np.log(7))
    np.testing.assert_allclose(entropy(np.array([[0.5, 0.5]]).T, axis=0), [LN2])


def test_fully_disagreeing_members():
    member = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])  # (S=2, n=1, C=2)
    d = decompose(member)
    np.testing.assert_allclose(d.total, [LN2])
    np.testing.assert_allclose(d.aleatoric, [0.0])
    np.testing.assert_allclose(d.epistemic, [LN2])


def test_agreeing_members_have_zero_mi():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(5), size=20)
    d = decompose(np.stack([p, p, p]))
    np.testing.assert_allclose(d.epistemic, 0.0, atol=1e-12)
    np.testing.assert_allclose(d.total, d.aleatoric)
    np.testing.assert_allclose(d.total, entropy(p))


def test_two_dim_input_is_single_member():
    p = np.full((4, 10), 0.1)
    d = decompose(p)
    np.testing.assert_allclose(d.total, np.log(10))
    np.testing.assert_allclose(d.epistemic, 0.0)


def test_epistemic_never_negative():
    rng = np.random.default_rng(1)
    mp = rng.dirichlet(np.full(10, 0.3), size=(8, 500))
    d = decompose(mp)
    assert d.epistemic.shape == (500,)
    assert np.all(d.epistemic >= 0)
    assert np.all(d.total <= np.log(10) + 1e-12)
    with pytest.raises(ValueError, match="shape"):
        decompose(np.ones(3))


def test_dirichlet_flat_prior():
    u = dirichlet_uncertainty(np.ones((2, 10)))
    np.testing.assert_allclose(u.vacuity, 1.0)
    np.testing.assert_allclose(u.total, np.log(10))
    assert np.all(u.epistemic > 0) and np.all(u.aleatoric < u.total)


def test_dirichlet_concentrated_is_certain():
    alpha = np.full((3, 10), 1.0)
    alpha[:, 0] = 1e6
    u = dirichlet_uncertainty(alpha)
    for v in (u.total, u.aleatoric, u.epistemic, u.vacuity):
        assert np.all(v < 1e-3) and np.all(v >= 0)


def test_dirichlet_aleatoric_monte_carlo():
    rng = np.random.default_rng(2)
    alpha = np.array([[2.0, 3.0, 0.5]])
    samples = rng.dirichlet(alpha[0], size=200_000)
    assert dirichlet_uncertainty(alpha).aleatoric[0] == pytest.approx(entropy(samples).mean(), abs=5e-3)
    with pytest.raises(ValueError, match="> 0"):
        dirichlet_uncertainty(np.array([[1.0, 0.0]]))


def test_spearman():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 400]) == pytest.approx(1.0)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert np.isnan(spearman([1, 1, 1], [1, 2, 3]))
