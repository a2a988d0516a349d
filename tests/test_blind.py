"""uqcore.data.blind: the blind sketch and glyph families are well-formed, deterministic and framed like MNIST."""
from __future__ import annotations

import numpy as np
import pytest

from uqcore.data.blind import FAMILIES, GLYPH_KINDS, SKETCH_KINDS, glyphs, sketches

KINDS = {"sketches": (SKETCH_KINDS, "sketch"), "glyphs": (GLYPH_KINDS, "glyph")}


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def family(request):
    """(name, generator, its category list, the meta key of the category, a sample of 2 per category)."""
    name = request.param
    kinds, key = KINDS[name]
    out = FAMILIES[name](2 * len(kinds), np.random.default_rng(0))
    return name, FAMILIES[name], kinds, key, out


def test_enough_categories():
    assert len(SKETCH_KINDS) >= 18 and len(GLYPH_KINDS) >= 24
    assert FAMILIES == {"sketches": sketches, "glyphs": glyphs}


def test_shapes_dtype_range(family):
    _, _, kinds, _, (x, y, meta) = family
    n = 2 * len(kinds)
    assert x.shape == (n, 784) and x.dtype == np.float32
    assert np.isfinite(x).all() and x.min() >= 0.0 and x.max() <= 1.0
    assert y.shape == (n,) and (y == -1).all()
    assert np.allclose(x.max(1), 1.0)  # framing stretches the brightest pixel to 1


def test_no_empty_rows(family):
    x = family[4][0]
    assert ((x > 0).sum(1) >= 20).all()


def test_every_category_appears_evenly(family):
    _, _, kinds, key, (x, _, meta) = family
    names, counts = np.unique(meta[key], return_counts=True)
    assert set(names) == set(kinds) and (counts == 2).all()


def test_meta_arrays_have_length_n(family):
    x, meta = family[4][0], family[4][2]
    assert meta and all(isinstance(v, np.ndarray) and len(v) == len(x) for v in meta.values())


def test_deterministic_per_seed(family):
    gen = family[1]
    a, _, ma = gen(12, np.random.default_rng(7))
    b, _, mb = gen(12, np.random.default_rng(7))
    c, _, _ = gen(12, np.random.default_rng(8))
    assert np.array_equal(a, b) and all(np.array_equal(ma[k], mb[k]) for k in ma)
    assert not np.array_equal(a, c)


def test_zero_and_one_image():
    for gen in FAMILIES.values():
        x, y, meta = gen(0, np.random.default_rng(0))
        assert x.shape == (0, 784) and y.shape == (0,)
        x, y, meta = gen(1, np.random.default_rng(0))
        assert x.shape == (1, 784) and x.max() == 1.0


def test_framing_centres_the_ink(family):
    """frame_like_mnist puts the centre of mass at (14, 14) (to a pixel's rounding), unless the 20 px box had
    to be pushed back in at the border (then the ink touches it); the long side of the ink's box is ~20 px."""
    x = family[4][0]
    rows = np.arange(28.0)
    for img in x[:10].reshape(-1, 28, 28):
        mass = img.sum()
        com = (img.sum(1) @ rows / mass, img.sum(0) @ rows / mass)
        r, c = np.flatnonzero(img.any(1)), np.flatnonzero(img.any(0))
        at_border = r[0] == 0 or c[0] == 0 or r[-1] == 27 or c[-1] == 27
        assert at_border or max(abs(com[0] - 14), abs(com[1] - 14)) <= 1.0
        assert 19 <= max(r[-1] - r[0], c[-1] - c[0]) + 1 <= 21
