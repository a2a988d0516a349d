"""Calibration: softmax, temperature scaling, classification and calibration metrics.

Pure numpy functions over arrays (torch is used only inside ``TemperatureScaler.fit``).

Binning convention for equal-width ("uniform") bins matches torchmetrics'
``MulticlassCalibrationError``: bins are half-open ``[lo, hi)`` on ``[0, 1]``
(torchmetrics uses ``torch.bucketize(..., right=True) - 1``), so a confidence lying
exactly on an interior edge goes to the upper bin. One deliberate difference: a
confidence of exactly 1.0 goes to the last bin here (which is closed, ``[lo, 1]``),
whereas torchmetrics puts it into an extra (n_bins+1)-th bin of its own. ECE and MCE
therefore equal torchmetrics' whenever no confidence is exactly 1.0.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "softmax",
    "NotFittedError",
    "TemperatureScaler",
    "optimal_temperature",
    "accuracy",
    "f1_macro",
    "confusion_matrix",
    "nll",
    "brier",
    "ReliabilityBins",
    "reliability_bins",
    "ece",
    "mce",
    "adaptive_ece",
    "classwise_ece",
    "calibration_report",
]

STRATEGIES = ("uniform", "quantile")


# ----------------------------------------------------------------------------- checks
def _as_probs(probs) -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(f"probs must have shape (n, C); got shape {p.shape}")
    if p.shape[0] == 0 or p.shape[1] == 0:
        raise ValueError(f"probs must be non-empty; got shape {p.shape}")
    if not np.all(np.isfinite(p)):
        raise ValueError("probs must be finite; got nan or inf")
    return p


def _as_labels(y_true, n: int, n_classes: int | None = None) -> np.ndarray:
    y = np.asarray(y_true)
    if y.ndim != 1:
        raise ValueError(f"y_true must have shape (n,); got shape {y.shape}")
    if y.shape[0] != n:
        raise ValueError(f"y_true must have length n={n}; got length {y.shape[0]}")
    if y.size and not np.issubdtype(y.dtype, np.integer):
        if not np.all(np.mod(y, 1) == 0):
            raise ValueError(f"y_true must hold integer class labels; got dtype {y.dtype}")
    y = y.astype(np.int64)
    if n_classes is not None and y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(
            f"y_true labels must lie in [0, {n_classes - 1}]; got range [{y.min()}, {y.max()}]"
        )
    return y


def _check_n_bins(n_bins) -> int:
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer; got {n_bins!r}")
    return int(n_bins)


def _as_logits(logits) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 2 or z.shape[0] == 0 or z.shape[1] == 0:
        raise ValueError(f"logits must have shape (n, C) with n, C > 0; got shape {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ValueError("logits must be finite; got nan or inf")
    return z


# ----------------------------------------------------------------------------- softmax
def softmax(logits, temperature: float = 1.0) -> np.ndarray:
    """Numerically stable softmax over the last axis.

    logits : array of shape (..., C)
    temperature : float > 0; the logits are divided by it.
    Returns an array of shape (..., C) of float64 probabilities.
    """
    if not np.isfinite(temperature) or temperature <= 0:
        raise ValueError(f"temperature must be a finite number > 0; got {temperature!r}")
    z = np.asarray(logits, dtype=np.float64) / float(temperature)
    if z.ndim == 0:
        raise ValueError("logits must have at least 1 dimension; got a scalar")
    z = z - np.max(z, axis=-1, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=-1, keepdims=True)


# ----------------------------------------------------------------------------- temperature
class NotFittedError(RuntimeError):
    """Raised when a fitted-only method is used before ``fit``."""


class TemperatureScaler:
    """Post-hoc temperature scaling (Guo et al., 2017).

    ``fit`` minimises the mean NLL of ``softmax(logits / T)`` over ``log T`` in float64
    with torch LBFGS (strong-Wolfe line search). Fitted attribute: ``temperature_``.
    """

    def __init__(self, *, max_iter: int = 100, init_temperature: float = 1.0):
        if not np.isfinite(init_temperature) or init_temperature <= 0:
            raise ValueError(f"init_temperature must be a finite number > 0; got {init_temperature!r}")
        self.max_iter = int(max_iter)
        self.init_temperature = float(init_temperature)

    def fit(self, logits, y_true) -> "TemperatureScaler":
        """logits : array of shape (n, C); y_true : array of shape (n,). Returns self."""
        import torch

        z = _as_logits(logits)
        y = _as_labels(y_true, z.shape[0], z.shape[1])
        zt = torch.as_tensor(z, dtype=torch.float64)
        yt = torch.as_tensor(y, dtype=torch.long)
        log_t = torch.tensor([np.log(self.init_temperature)], dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS(
            [log_t], lr=1.0, max_iter=self.max_iter, line_search_fn="strong_wolfe",
            tolerance_grad=1e-10, tolerance_change=1e-12,
        )

        def closure():
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(zt / torch.exp(log_t), yt)
            loss.backward()
            return loss

        opt.step(closure)
        t = float(torch.exp(log_t).item())
        if not np.isfinite(t) or t <= 0:
            raise RuntimeError(f"temperature fit diverged; got T={t!r}")
        self.temperature_ = t
        return self

    def _check_fitted(self) -> float:
        if not hasattr(self, "temperature_"):
            raise NotFittedError("TemperatureScaler is not fitted; call fit() first.")
        return self.temperature_

    def transform(self, logits) -> np.ndarray:
        """logits : array of shape (..., C) -> logits / temperature_, same shape."""
        t = self._check_fitted()
        return np.asarray(logits, dtype=np.float64) / t

    def predict_proba(self, logits) -> np.ndarray:
        """logits : array of shape (..., C) -> calibrated probs, same shape."""
        t = self._check_fitted()
        return softmax(logits, temperature=t)


def optimal_temperature(logits, y_true) -> float:
    """The NLL-optimal temperature for logits (n, C) and labels (n,)."""
    return TemperatureScaler().fit(logits, y_true).temperature_


# ----------------------------------------------------------------------------- metrics
def accuracy(probs, y_true) -> float:
    """probs : array of shape (n, C); y_true : (n,). Fraction with argmax == label."""
    p = _as_probs(probs)
    y = _as_labels(y_true, p.shape[0])
    return float(np.mean(p.argmax(axis=1) == y))


def f1_macro(probs, y_true) -> float:
    """Macro-averaged F1 of the argmax predictions (sklearn, zero_division=0)."""
    from sklearn.metrics import f1_score

    p = _as_probs(probs)
    y = _as_labels(y_true, p.shape[0])
    return float(f1_score(y, p.argmax(axis=1), average="macro", zero_division=0))


def confusion_matrix(probs, y_true, n_classes: int | None = None) -> np.ndarray:
    """Counts of shape (n_classes, n_classes); rows = true class, columns = predicted."""
    p = _as_probs(probs)
    k = p.shape[1] if n_classes is None else int(n_classes)
    if k < p.shape[1]:
        raise ValueError(f"n_classes must be >= probs.shape[1]={p.shape[1]}; got {n_classes}")
    y = _as_labels(y_true, p.shape[0], k)
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (y, p.argmax(axis=1)), 1)
    return cm


def nll(probs, y_true, eps: float = 1e-12) -> float:
    """Mean negative log-likelihood -log p[y] in nats, with p clipped at eps."""
    p = _as_probs(probs)
    y = _as_labels(y_true, p.shape[0], p.shape[1])
    return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], eps, None))))


def brier(probs, y_true) -> float:
    """Mean over samples of sum over classes of (p_k - 1[y=k])^2 (range [0, 2])."""
    p = _as_probs(probs)
    y = _as_labels(y_true, p.shape[0], p.shape[1])
    onehot = np.zeros_like(p)
    onehot[np.arange(len(y)), y] = 1.0
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))


# ----------------------------------------------------------------------------- binning
@dataclass(frozen=True)
class ReliabilityBins:
    """Reliability-diagram bins.

    edges : (n_bins + 1,) bin edges on [0, 1]
    count : (n_bins,) number of samples per bin
    confidence : (n_bins,) mean confidence per bin (nan where empty)
    accuracy : (n_bins,) fraction correct per bin (nan where empty)
    bin_index : (n,) bin of each sample, in [0, n_bins)
    """

    edges: np.ndarray
    count: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray
    bin_index: np.ndarray

    @property
    def n_bins(self) -> int:
        return int(self.count.shape[0])

    @property
    def gaps(self) -> np.ndarray:
        """(n_bins,) |accuracy - confidence| per bin (nan where empty)."""
        return np.abs(self.accuracy - self.confidence)

    @property
    def weights(self) -> np.ndarray:
        """(n_bins,) fraction of samples per bin."""
        return self.count / max(int(self.count.sum()), 1)


def _bin(conf: np.ndarray, hits: np.ndarray, n_bins: int, strategy: str) -> ReliabilityBins:
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    elif strategy == "quantile":
        edges = np.quantile(conf, np.linspace(0.0, 1.0, n_bins + 1))
        edges[0], edges[-1] = 0.0, 1.0
        edges = np.maximum.accumulate(edges)
    else:
        raise ValueError(f"strategy must be one of {STRATEGIES}; got {strategy!r}")
    # [lo, hi) bins; the last bin is closed so values == 1.0 (and > 1 by rounding) fall in it.
    idx = np.searchsorted(edges[1:-1], conf, side="right")
    count = np.bincount(idx, minlength=n_bins).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(idx, weights=conf, minlength=n_bins) / count
        mean_acc = np.bincount(idx, weights=hits, minlength=n_bins) / count
    mean_conf[count == 0] = np.nan
    mean_acc[count == 0] = np.nan
    return ReliabilityBins(edges=edges, count=count, confidence=mean_conf, accuracy=mean_acc, bin_index=idx)


def reliability_bins(probs, y_true, *, n_bins: int = 15, strategy: str = "uniform") -> ReliabilityBins:
    """Bin top-label confidences (max prob) of probs (n, C) against correctness.

    strategy : "uniform" (equal-width bins on [0, 1]) or "quantile" (equal-mass bins,
    edges at quantiles of the confidences; ties may make some bins uneven or empty).
    """
    p = _as_probs(probs)
    y = _as_labels(y_true, p.shape[0])
    n_bins = _check_n_bins(n_bins)
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}; got {strategy!r}")
    conf = p.max(axis=1)
    hits = (p.argmax(axis=1) == y).astype(np.float64)
    return _bin(conf, hits, n_bins, strategy)


def _ece_from_bins(b: ReliabilityBins) -> float:
    nz = b.count > 0
    return float(np.sum(b.weights[nz] * b.gaps[nz]))


def ece(probs, y_true, *, n_bins: int = 15, strategy: str = "uniform") -> float:
    """Expected calibration error: sum over bins of count/n * |acc - conf|."""
    return _ece_from_bins(reliability_bins(probs, y_true, n_bins=n_bins, strategy=strategy))


def mce(probs, y_true, *, n_bins: int = 15, strategy: str = "uniform") -> float:
    """Maximum calibration error: max |acc - conf| over non-empty bins."""
    b = reliability_bins(probs, y_true, n_bins=n_bins, strategy=strategy)
    return float(np.max(b.gaps[b.count > 0]))


def adaptive_ece(probs, y_true, *, n_bins: int = 15) -> float:
    """ECE with equal-mass (quantile) bins."""
    return ece(probs, y_true, n_bins=n_bins, strategy="quantile")


def classwise_ece(probs, y_true, *, n_bins: int = 15) -> float:
    """Mean over classes k of the equal-width-bin ECE of p_k against 1[y = k]."""
    p = _as_probs(probs)
    y = _as_labels(y_true, p.shape[0], p.shape[1])
    n_bins = _check_n_bins(n_bins)
    out = []
    for k in range(p.shape[1]):
        out.append(_ece_from_bins(_bin(p[:, k], (y == k).astype(np.float64), n_bins, "uniform")))
    return float(np.mean(out))


def calibration_report(probs, y_true, *, n_bins: int = 15) -> dict:
    """Dict of python floats: accuracy, f1_macro, nll, brier, ece, mce, adaptive_ece, classwise_ece."""
    return {
        "accuracy": accuracy(probs, y_true),
        "f1_macro": f1_macro(probs, y_true),
        "nll": nll(probs, y_true),
        "brier": brier(probs, y_true),
        "ece": ece(probs, y_true, n_bins=n_bins),
        "mce": mce(probs, y_true, n_bins=n_bins),
        "adaptive_ece": adaptive_ece(probs, y_true, n_bins=n_bins),
        "classwise_ece": classwise_ece(probs, y_true, n_bins=n_bins),
    }
