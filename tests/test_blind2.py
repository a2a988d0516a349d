"""uqcore.data.blind2: the blind scrawl and diagram families are well-formed, even and deterministic."""
from __future__ import annotations

import numpy as np
import pytest

from uqcore.data import blind2 as B

N = 45  # three of each kind


@pytest.fixture(scope="module", params=sorted(B.FAMILIES))
def family(request):
    name = request.param
    kinds, key = (B.SCRAWL_KINDS, "scrawl") if name == "scrawls" else (B.DIAGRAM_KINDS, "diagram")
    x, y, meta = B.FAMILIES[name](N, np.random.default_rng(0))
    return name, kinds, key, x, y, meta


def test_families_and_kinds_are_declared():
    assert set(B.FAMILIES) == {"scrawls", "diagrams"}
    assert B.FAMILIES["scrawls"] is B.scrawls and B.FAMILIES["diagrams"] is B.diagrams
    for kinds in (B.SCRAWL_KINDS, B.DIAGRAM_KINDS):
        assert isinstance(kinds, tuple) and len(kinds) >= 12 and len(set(kinds)) == len(kinds)
    assert "Tune nothing on them" in B.__doc__


def test_shapes_dtype_range_and_labels(family):
    _, _, _, x, y, _ = family
    assert x.shape == (N, 784) and x.dtype == np.float32
    assert np.isfinite(x).all() and x.min() >= 0.0 and x.max() <= 1.0
    np.testing.assert_allclose(x.max(axis=1), 1.0, atol=1e-6)
    assert ((x > 0).sum(axis=1) >= 20).all()
    assert y.shape == (N,) and y.dtype == np.int64 and (y == -1).all()


def test_meta_is_per_image_with_category_first(family):
    _, kinds, key, _, _, meta = family
    assert next(iter(meta)) == key
    for v in meta.values():
        assert isinstance(v, np.ndarray) and len(v) == N
    names, counts = np.unique(meta[key], return_counts=True)
    assert set(names) == set(kinds) and (counts == N // len(kinds)).all()


def test_uneven_n_keeps_categories_within_one():
    _, _, meta = B.scrawls(len(B.SCRAWL_KINDS) + 4, np.random.default_rng(3))
    _, counts = np.unique(meta["scrawl"], return_counts=True)
    assert len(counts) == len(B.SCRAWL_KINDS) and counts.max() - counts.min() <= 1


@pytest.mark.parametrize("name", sorted(B.FAMILIES))
def test_deterministic_for_a_seed(name):
    make = B.FAMILIES[name]
    a, _, ma = make(16, np.random.default_rng(7))
    b, _, mb = make(16, np.random.default_rng(7))
    c, _, _ = make(16, np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    for k in ma:
        np.testing.assert_array_equal(ma[k], mb[k])
    assert not np.array_equal(a, c)


def test_zero_images():
    x, y, meta = B.diagrams(0, np.random.default_rng(0))
    assert x.shape == (0, 784) and y.shape == (0,) and all(len(v) == 0 for v in meta.values())
