"""Bring your own predictions: an analyst's model outputs, checked, as one object the metrics can read.

A file is either

- an ``.npz`` (``np.savez``) with ``y_true`` (n,) integer labels and ``probs`` (n, C) or ``logits`` (n, C);
  optionally ``member_probs`` (S, n, C) (ensemble members or MC samples: the uncertainty is split into
  aleatoric and epistemic parts) and ``images`` (n, 784) or (n, 28, 28); or
- a ``.csv`` with a header: ``y_true`` and one column per class, ``p0 .. p{C-1}`` (probabilities) or
  ``logit0 .. logit{C-1}``.

Every problem is a ``PredictionsError`` whose message says what is wrong and what to do: a missing or
unreadable file, a missing array, wrong shapes, NaN or infinite values, negative probabilities, rows that do
not sum to one, labels outside 0..C-1, fewer than 2 classes or 20 rows, more than ``MAX_ROWS`` rows. Nothing
is unpickled (``allow_pickle=False``).
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

MAX_ROWS = 1_000_000
MIN_ROWS = 20
SUM_TOLERANCE = 1e-3  # a probability row must sum to 1 within this
EXAMPLE = "see the README, 'Bring your own predictions', for a 20-line example that writes the file"


class PredictionsError(ValueError):
    """The predictions file cannot be used; the message says why and what to do."""


@dataclass(frozen=True, eq=False)
class ExternalPredictions:
    y: np.ndarray  # (n,) int64
    probs: np.ndarray  # (n, C) float64, rows sum to 1
    logits: np.ndarray | None  # (n, C) as given, or None (then log(probs) stands in)
    member_probs: np.ndarray | None  # (S, n, C) or None
    images: np.ndarray | None  # (n, 784) float32 or None
    source: str
    digest: str = ""  # SHA-256 of the file's bytes: names this file in caches

    @property
    def n(self) -> int:
        return len(self.y)

    @property
    def n_classes(self) -> int:
        return self.probs.shape[1]


MAX_BYTES = 2_000_000_000


def halves(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(fitting rows, scored rows): a file has no validation split, so whatever is fitted on it (a temperature,
    calibrators, conformal sets) is fitted on a seeded half of the rows and measured on the other half."""
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[: n // 2]), np.sort(perm[n // 2:])


def locate(path: str | Path) -> tuple[Path, float]:
    """(the file ``path`` names, ``~`` expanded; its modification time) or a ``PredictionsError``: no such file,
    a folder, an unknown user in ``~user``, a name the system refuses, no permission."""
    try:
        p = Path(path).expanduser()
        if not p.is_file():
            raise PredictionsError(f"{path}: no such file" + (" (it is a folder)." if p.is_dir() else "."))
        return p, p.stat().st_mtime
    except (OSError, RuntimeError, ValueError) as e:  # ENAMETOOLONG, EACCES, "~nosuchuser", a NUL in the path
        raise PredictionsError(f"{str(path)[:80]}: cannot be opened ({getattr(e, 'strerror', None) or e}).") from e


def load_predictions(path: str | Path) -> ExternalPredictions:
    """Read and check the file at ``path`` (.npz or .csv)."""
    path, _ = locate(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise PredictionsError(f"{path.name}: over 2 GB; evaluate a sample of the rows.")
        data = path.read_bytes()
    except OSError as e:
        raise PredictionsError(f"{path.name}: cannot be read ({e.strerror or e}).") from e
    return parse_predictions(data, path.name)


def parse_predictions(data: bytes, name: str) -> ExternalPredictions:
    """Check the bytes of a predictions file called ``name`` (its suffix says the format): an upload."""
    suffix = Path(name).suffix.lower()
    if suffix == ".npz":
        arrays = _read_npz(data, name)
    elif suffix == ".csv":
        arrays = _read_csv(data, name)
    else:
        raise PredictionsError(f"{name}: expected an .npz or a .csv file, got '{suffix or 'no extension'}'; "
                               f"{EXAMPLE}.")
    try:
        checked = from_arrays(arrays, source=name)
    except PredictionsError:
        raise
    except (ValueError, TypeError, IndexError, OverflowError) as e:  # a shape no check above foresaw
        raise PredictionsError(f"{name}: its arrays cannot be read as predictions ({type(e).__name__}: {e}); "
                               f"{EXAMPLE}.") from e
    return replace(checked, digest=hashlib.sha256(data).hexdigest())


def _read_npz(data: bytes, name: str) -> dict[str, np.ndarray]:
    try:
        z = np.load(io.BytesIO(data), allow_pickle=False)
        if not isinstance(z, np.lib.npyio.NpzFile):  # a single array saved with np.save and renamed
            raise PredictionsError(f"{name}: holds one array, not named arrays; save it with "
                                   f"np.savez(file, y_true=..., probs=...).")
        with z:
            return {k: z[k] for k in z.files}
    except ValueError as e:  # object arrays would need unpickling
        raise PredictionsError(f"{name}: holds Python objects, which are not read (no unpickling); save plain "
                               f"numeric arrays with np.savez ({e}).") from e
    except (OSError, zipfile.BadZipFile, EOFError) as e:
        raise PredictionsError(f"{name}: not a readable .npz file ({e}); {EXAMPLE}.") from e


def _read_csv(data: bytes, name: str) -> dict[str, np.ndarray]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise PredictionsError(f"{name}: not a readable text file ({e}).") from e
    try:
        return _parse_csv(csv.reader(io.StringIO(text)), name)
    except csv.Error as e:  # e.g. a field longer than the csv module allows
        raise PredictionsError(f"{name}: not a readable CSV file ({e}).") from e


def _parse_csv(reader, name: str) -> dict[str, np.ndarray]:
    header = [h.strip() for h in next(reader, [])]
    if "y_true" not in header:
        raise PredictionsError(f"{name}: the header needs a 'y_true' column and p0..p{{C-1}} or "
                               f"logit0..logit{{C-1}} columns; found {header[:6]}.")
    for prefix, key in (("p", "probs"), ("logit", "logits")):
        cols = [i for i, h in enumerate(header) if re.fullmatch(f"{prefix}[0-9]+", h)]
        if cols:
            order = sorted(cols, key=lambda i: int(header[i][len(prefix):]))
            if [int(header[i][len(prefix):]) for i in order] != list(range(len(order))):
                raise PredictionsError(f"{name}: the {prefix}0..{prefix}{{C-1}} columns must be numbered "
                                       f"from 0 without gaps.")
            break
    else:
        raise PredictionsError(f"{name}: no class columns; name them p0, p1, ... (probabilities) or logit0, "
                               f"logit1, ... (logits).")
    rows = []
    for line_no, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise PredictionsError(f"{name}, line {line_no}: {len(row)} values for {len(header)} columns.")
        rows.append(row)
        if len(rows) > MAX_ROWS:
            raise PredictionsError(f"{name}: more than {MAX_ROWS:,} rows; evaluate a sample of them.")
    try:
        table = np.array(rows, dtype=np.float64).reshape(len(rows), len(header))
    except ValueError as e:
        raise PredictionsError(f"{name}: a value is not a number ({e}).") from e
    return {"y_true": table[:, header.index("y_true")], key: table[:, order]}


def from_arrays(arrays: dict[str, np.ndarray], *, source: str = "arrays") -> ExternalPredictions:
    """Check the arrays of a predictions file (keys as in the module docstring)."""
    where = f"{source}:"
    if "y_true" not in arrays:
        raise PredictionsError(f"{where} no 'y_true' array (the true labels, shape (n,)); {EXAMPLE}.")
    if "probs" not in arrays and "logits" not in arrays:
        raise PredictionsError(f"{where} neither 'probs' (n, C) nor 'logits' (n, C) is there; {EXAMPLE}.")
    y = _numeric(arrays["y_true"], "y_true", where).reshape(-1) if np.ndim(arrays["y_true"]) <= 1 else None
    if y is None:
        raise PredictionsError(f"{where} 'y_true' must be one label per row, shape (n,); "
                               f"got {np.shape(arrays['y_true'])}.")
    key = "probs" if "probs" in arrays else "logits"
    values = _numeric(arrays[key], key, where)
    if values.ndim != 2:
        raise PredictionsError(f"{where} '{key}' must have shape (n, C); got {values.shape}.")
    n, c = values.shape
    if n > MAX_ROWS:
        raise PredictionsError(f"{where} {n:,} rows, more than {MAX_ROWS:,}; evaluate a sample of them.")
    if n < MIN_ROWS:
        raise PredictionsError(f"{where} only {n} rows; at least {MIN_ROWS} are needed for calibration metrics.")
    if c < 2:
        raise PredictionsError(f"{where} '{key}' has {c} class column; at least 2 are needed.")
    if len(y) != n:
        raise PredictionsError(f"{where} 'y_true' has {len(y)} labels but '{key}' has {n} rows.")
    if not np.all(np.isclose(y, np.round(y))) or y.min() < 0 or y.max() >= c:
        bad = y[(~np.isclose(y, np.round(y))) | (y < 0) | (y >= c)][:3]
        raise PredictionsError(f"{where} 'y_true' must hold whole class numbers 0..{c - 1}; found {bad.tolist()}.")
    logits = None
    if key == "logits":
        logits = values
        z = values - values.max(1, keepdims=True)
        probs = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    else:
        probs = _check_probability_rows(values, "probs", where)
    members = None
    if "member_probs" in arrays:
        members = _numeric(arrays["member_probs"], "member_probs", where)
        if members.ndim != 3 or members.shape[1:] != (n, c) or members.shape[0] < 1:
            raise PredictionsError(f"{where} 'member_probs' must have shape (S, {n}, {c}) with S >= 1; "
                                   f"got {members.shape}.")
        _check_probability_rows(members.reshape(-1, c), "member_probs", where)
    images = None
    if "images" in arrays:
        images = _numeric(arrays["images"], "images", where)
        if images.ndim < 2 or images.shape[0] != n or int(np.prod(images.shape[1:])) != 784:
            raise PredictionsError(f"{where} 'images' must have shape ({n}, 784) or ({n}, 28, 28); got {images.shape}.")
        images = images.reshape(n, 784).astype(np.float32)
        if images.max() > 1.0:
            images = images / 255.0
    return ExternalPredictions(y=np.round(y).astype(np.int64), probs=probs, logits=logits, member_probs=members,
                               images=images, source=source)


def _numeric(a, name: str, where: str) -> np.ndarray:
    arr = np.asarray(a)
    if not np.issubdtype(arr.dtype, np.number) and arr.dtype != bool:
        raise PredictionsError(f"{where} '{name}' must be numbers; got dtype {arr.dtype}.")
    arr = arr.astype(np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        raise PredictionsError(f"{where} '{name}' holds {int(bad.sum())} NaN or infinite value(s) "
                               f"(first at index {np.argwhere(bad)[0].tolist()}).")
    return arr


def _check_probability_rows(p: np.ndarray, name: str, where: str) -> np.ndarray:
    if (p < 0).any():
        raise PredictionsError(f"{where} '{name}' holds negative values; pass probabilities, or save them as "
                               f"'logits' instead.")
    sums = p.sum(1)
    off = np.abs(sums - 1.0) > SUM_TOLERANCE
    if off.any():
        i = int(np.flatnonzero(off)[0])
        raise PredictionsError(f"{where} {int(off.sum())} row(s) of '{name}' do not sum to 1 (row {i} sums to "
                               f"{sums[i]:.4f}); apply a softmax, or save the raw outputs as 'logits'.")
    return p / sums[:, None]
