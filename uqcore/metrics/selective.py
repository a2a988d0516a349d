"""Selective prediction: risk-coverage curves, AURC, accuracy at a coverage."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["RiskCoverage", "risk_coverage", "aurc", "accuracy_at_coverage"]


@dataclass(frozen=True)
class RiskCoverage:
    """coverage, risk, accuracy : arrays of shape (n,); entry k-1 keeps the k most certain."""

    coverage: np.ndarray
    risk: np.ndarray
    accuracy: np.ndarray


def _check(uncertainty, correct) -> tuple[np.ndarray, np.ndarray]:
    u = np.asarray(uncertainty, dtype=np.float64)
    c = np.asarray(correct)
    if u.ndim != 1 or u.size == 0:
        raise ValueError(f"uncertainty must have shape (n,) with n > 0; got shape {u.shape}")
    if c.shape != u.shape:
        raise ValueError(f"correct must have the shape of uncertainty {u.shape}; got shape {c.shape}")
    if np.any(np.isnan(u)):
        raise ValueError("uncertainty must not contain nan")
    c = c.astype(np.float64)
    if not np.all((c == 0) | (c == 1)):
        raise ValueError("correct must hold only 0/1 or booleans")
    return u, c


def risk_coverage(uncertainty, correct) -> RiskCoverage:
    """Risk (error rate) among the k most certain samples, for k = 1..n.

    uncertainty : (n,), higher = less certain; correct : (n,) bool/0-1.
    Sorted by increasing uncertainty with a stable sort (ties keep input order).
    """
    u, c = _check(uncertainty, correct)
    order = np.argsort(u, kind="stable")
    k = np.arange(1, u.size + 1, dtype=np.float64)
    risk = np.cumsum(1.0 - c[order]) / k
    return RiskCoverage(coverage=k / u.size, risk=risk, accuracy=1.0 - risk)


def aurc(uncertainty, correct) -> float:
    """Area under the risk-coverage curve: mean of the risk over coverages k/n."""
    return float(np.mean(risk_coverage(uncertainty, correct).risk))


def accuracy_at_coverage(uncertainty, correct, coverage: float) -> float:
    """Accuracy on the ceil(coverage * n) most certain samples; coverage in (0, 1]."""
    u, c = _check(uncertainty, correct)
    if not (0.0 < float(coverage) <= 1.0):
        raise ValueError(f"coverage must lie in (0, 1]; got {coverage!r}")
    k = max(1, min(u.size, math.ceil(float(coverage) * u.size - 1e-9)))
    order = np.argsort(u, kind="stable")
    return float(np.mean(c[order[:k]]))
