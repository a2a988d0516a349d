import gzip
import struct

import numpy as np
import pytest

from uqcore.data import mnist as D


def test_split_sizes_and_dtypes(mnist):
    for name, n in D.EXPECTED_SIZES.items():
        split = mnist.split(name)
        assert split.x.shape == (n, 784) and split.x.dtype == np.float32
        assert split.y.shape == (n,) and split.y.dtype == np.int64
        assert 0.0 <= split.x.min() and split.x.max() <= 1.0
        assert set(np.unique(split.y)) == set(range(10))


def test_unknown_split_is_a_clear_error(mnist):
    with pytest.raises(ValueError, match="split must be one of"):
        mnist.split("training")


def test_validate_rejects_bad_arrays():
    x = np.zeros((3, 784), np.float32)
    with pytest.raises(D.DataError, match=r"shape \(n, 784\)"):
        D.validate_split("t", np.zeros((3, 100)), np.zeros(3, np.int64))
    with pytest.raises(D.DataError, match=r"\[0, 1\]"):
        D.validate_split("t", x + 2, np.zeros(3, np.int64))
    with pytest.raises(D.DataError, match="0..9"):
        D.validate_split("t", x, np.array([0, 1, 10]))
    with pytest.raises(D.DataError, match="labels of shape"):
        D.validate_split("t", x, np.zeros(2, np.int64))


def test_missing_package_says_how_to_install(monkeypatch):
    import importlib.resources

    def missing(name):
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(importlib.resources, "files", missing)
    with pytest.raises(D.DataError, match="pip install"):
        D.bundled_path()


def _write_idx(path, arr):
    header = struct.pack(">HBB", 0, 0x08, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + arr.astype(np.uint8).tobytes())


def test_idx_folder_as_torchvision_writes_it(tmp_path, mnist):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    xs = (mnist.train.x[:120] * 255).round().astype(np.uint8).reshape(-1, 28, 28)
    xt = (mnist.test.x[:30] * 255).round().astype(np.uint8).reshape(-1, 28, 28)
    _write_idx(raw / "train-images-idx3-ubyte.gz", xs)
    _write_idx(raw / "train-labels-idx1-ubyte.gz", mnist.train.y[:120])
    _write_idx(raw / "t10k-images-idx3-ubyte.gz", xt)
    _write_idx(raw / "t10k-labels-idx1-ubyte.gz", mnist.test.y[:30])
    m = D.load_mnist(tmp_path)
    assert len(m.train) == 100 and len(m.val) == 20 and len(m.test) == 30
    np.testing.assert_allclose(m.test.x, mnist.test.x[:30], atol=1 / 255)
    np.testing.assert_array_equal(m.train.y, mnist.train.y[:100])


def test_truncated_idx_file_is_reported(tmp_path):
    arr = np.zeros((10, 28, 28), np.uint8)
    path = tmp_path / "train-images-idx3-ubyte"
    header = struct.pack(">HBB", 0, 0x08, 3) + struct.pack(">3I", *arr.shape)
    path.write_bytes(header + arr.tobytes()[:-50])
    with pytest.raises(D.DataError, match="truncated"):
        D._read_idx(path)


def test_not_a_folder():
    with pytest.raises(D.DataError, match="not a folder"):
        D.load_mnist("/nonexistent/mnist")
