"""Predictive-uncertainty measures (all in nats): entropy, ensemble decomposition,
Dirichlet (evidential) uncertainty, and a nan-safe Spearman correlation."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, xlogy

__all__ = ["entropy", "Decomposition", "decompose", "DirichletUncertainty", "dirichlet_uncertainty", "spearman"]


def entropy(p, axis: int = -1) -> np.ndarray:
    """Shannon entropy in nats along ``axis`` (0 log 0 = 0).

    p : array of shape (..., C) of probabilities. Returns shape (...,).
    """
    p = np.asarray(p, dtype=np.float64)
    if p.ndim == 0:
        raise ValueError("p must have at least 1 dimension; got a scalar")
    return -np.sum(xlogy(p, p), axis=axis)


@dataclass(frozen=True)
class Decomposition:
    """total, aleatoric, epistemic : arrays of shape (n,), in nats."""

    total: np.ndarray
    aleatoric: np.ndarray
    epistemic: np.ndarray


def decompose(member_probs) -> Decomposition:
    """Split predictive entropy into aleatoric and epistemic parts.

    member_probs : array of shape (S, n, C) (S members / MC samples), or (n, C) for S = 1.
    total = H(mean_s p_s); aleatoric = mean_s H(p_s);
    epistemic = total - aleatoric (mutual information), clipped at 0.
    """
    mp = np.asarray(member_probs, dtype=np.float64)
    if mp.ndim == 2:
        mp = mp[None]
    if mp.ndim != 3 or 0 in mp.shape:
        raise ValueError(f"member_probs must have shape (S, n, C) or (n, C), non-empty; got shape {np.shape(member_probs)}")
    if not np.all(np.isfinite(mp)):
        raise ValueError("member_probs must be finite; got nan or inf")
    total = entropy(mp.mean(axis=0))
    aleatoric = entropy(mp).mean(axis=0)
    epistemic = np.clip(total - aleatoric, 0.0, None)
    return Decomposition(total=total, aleatoric=aleatoric, epistemic=epistemic)


@dataclass(frozen=True)
class DirichletUncertainty:
    """total, aleatoric, epistemic, vacuity : arrays of shape (n,)."""

    total: np.ndarray
    aleatoric: np.ndarray
    epistemic: np.ndarray
    vacuity: np.ndarray


def dirichlet_uncertainty(alpha) -> DirichletUncertainty:
    """Uncertainty of Dirichlet(alpha) predictions.

    alpha : array of shape (n, C), all > 0.
    total = H(alpha / alpha0); aleatoric = E_Dir[H(p)]
    = sum_k (alpha_k / alpha0) (digamma(alpha0 + 1) - digamma(alpha_k + 1));
    epistemic = total - aleatoric, clipped at 0; vacuity = C / alpha0.
    """
    a = np.asarray(alpha, dtype=np.float64)
    if a.ndim != 2 or 0 in a.shape:
        raise ValueError(f"alpha must have shape (n, C), non-empty; got shape {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise ValueError(f"alpha must be finite and > 0; got min {np.nanmin(a)!r}")
    a0 = a.sum(axis=1, keepdims=True)
    mean = a / a0
    total = entropy(mean)
    aleatoric = np.sum(mean * (digamma(a0 + 1.0) - digamma(a + 1.0)), axis=1)
    epistemic = np.clip(total - aleatoric, 0.0, None)
    vacuity = a.shape[1] / a0[:, 0]
    return DirichletUncertainty(total=total, aleatoric=aleatoric, epistemic=epistemic, vacuity=vacuity)


def spearman(a, b) -> float:
    """Spearman rank correlation of two (n,) arrays; nan if either is constant or n < 2."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same length; got {a.shape[0]} and {b.shape[0]}")
    if a.size < 2 or np.all(a == a[0]) or np.all(b == b[0]):
        return float("nan")
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)
