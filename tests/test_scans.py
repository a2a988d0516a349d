"""uqcore.data.scans: scanned digits and garment pictures are well-formed files, even and deterministic."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from uqcore.data import scans as S

N = 40


@pytest.fixture(scope="module")
def scans():
    return S.form_scans(N, np.random.default_rng(0))


@pytest.fixture(scope="module")
def garments():
    return S.garment_pictures(N, np.random.default_rng(0))


def _open(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def test_styles_and_kinds_are_declared():
    for names in (S.SCAN_STYLES, S.GARMENT_KINDS):
        assert isinstance(names, tuple) and len(names) >= 10 and len(set(names)) == len(names)


def test_scans_counts_labels_and_meta(scans):
    files, labels, meta = scans
    assert len(files) == N and all(isinstance(f, bytes) and f for f in files)
    assert labels.shape == (N,) and np.issubdtype(labels.dtype, np.integer)
    assert labels.min() >= 0 and labels.max() <= 9 and len(set(labels.tolist())) == 10
    for v in meta.values():
        assert len(v) == N
    assert set(meta["style"]) == set(S.SCAN_STYLES)
    counts = np.unique(meta["style"], return_counts=True)[1]
    assert counts.max() - counts.min() <= 1
    assert set(meta["source"]) <= {"mnist_test", "sklearn_digits"}


def _formats_and_sizes(files, lo: int, hi: int) -> list:
    """Every file opens, PNG and JPEG both occur, each side is in [lo, hi] and none is 28 x 28: the images."""
    images = [_open(f) for f in files]
    assert {img.format for img in images} == {"PNG", "JPEG"}
    for img in images:
        w, h = img.size
        assert lo <= w <= hi and lo <= h <= hi and (w, h) != (28, 28)
    return images


def test_scans_decode_with_sizes_in_range(scans):
    files, _, _ = scans
    images = _formats_and_sizes(files, 16, 400)
    for img in images:
        a = np.asarray(img.convert("L"), np.float32)
        assert a.max() - a.min() > 40  # the digit stands out from the paper


def test_garments_counts_kinds_and_sizes(garments):
    files, meta = garments
    assert len(files) == N and set(meta["kind"]) == set(S.GARMENT_KINDS)
    assert all(len(v) == N for v in meta.values())
    assert set(meta["background"]) == {"light", "dark"}
    _formats_and_sizes(files, 28, 300)


def test_same_seed_same_files_other_seed_other_files(scans, garments):
    files, labels, meta = S.form_scans(N, np.random.default_rng(0))
    assert files == scans[0] and np.array_equal(labels, scans[1])
    assert all(np.array_equal(meta[k], scans[2][k]) for k in meta)
    assert S.garment_pictures(N, np.random.default_rng(0))[0] == garments[0]
    assert S.form_scans(N, np.random.default_rng(1))[0] != scans[0]
    assert S.garment_pictures(N, np.random.default_rng(1))[0] != garments[0]
