"""Out-of-distribution scores and metrics. Every score is (n,), higher = more OOD;
OOD is the positive class in the metrics."""
from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from .calibration import NotFittedError
from .uncertainty import decompose, entropy

__all__ = [
    "SCORES",
    "msp_score",
    "entropy_score",
    "mutual_information_score",
    "energy_score",
    "Mahalanobis",
    "ood_metrics",
    "fit_threshold",
]

SCORES = ("msp", "entropy", "mutual_information", "energy", "mahalanobis")


def _as_2d(x, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2 or 0 in a.shape:
        raise ValueError(f"{name} must have shape (n, d), non-empty; got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite; got nan or inf")
    return a


def msp_score(probs) -> np.ndarray:
    """probs : (n, C) -> 1 - max_k p_k, shape (n,)."""
    return 1.0 - _as_2d(probs, "probs").max(axis=1)


def entropy_score(probs) -> np.ndarray:
    """probs : (n, C) -> predictive entropy in nats, shape (n,)."""
    return entropy(_as_2d(probs, "probs"))


def mutual_information_score(member_probs) -> np.ndarray:
    """member_probs : (S, n, C) -> mutual information (epistemic) in nats, shape (n,)."""
    return decompose(member_probs).epistemic


def energy_score(logits, *, temperature: float = 1.0) -> np.ndarray:
    """logits : (n, C) -> -T * logsumexp(logits / T), shape (n,)."""
    if not np.isfinite(temperature) or temperature <= 0:
        raise ValueError(f"temperature must be a finite number > 0; got {temperature!r}")
    z = _as_2d(logits, "logits")
    return -temperature * logsumexp(z / temperature, axis=1)


class Mahalanobis:
    """Class-conditional Gaussians with a tied covariance (Lee et al., 2018).

    fit(embeddings (n, d), y_true (n,)) sets ``classes_`` (C,), ``means_`` (C, d) and
    ``precision_`` (d, d) = pinv(tied covariance + ridge * I).
    score(embeddings (m, d)) -> (m,) min over classes of the squared Mahalanobis distance.
    """

    def __init__(self, *, ridge: float = 1e-6):
        if not np.isfinite(ridge) or ridge < 0:
            raise ValueError(f"ridge must be a finite number >= 0; got {ridge!r}")
        self.ridge = float(ridge)

    def fit(self, embeddings, y_true) -> "Mahalanobis":
        x = _as_2d(embeddings, "embeddings")
        y = np.asarray(y_true)
        if y.shape != (x.shape[0],):
            raise ValueError(f"y_true must have shape ({x.shape[0]},); got shape {y.shape}")
        classes, inv = np.unique(y, return_inverse=True)
        counts = np.bincount(inv)
        means = np.zeros((classes.size, x.shape[1]))
        np.add.at(means, inv, x)
        means /= counts[:, None]
        xc = x - means[inv]
        cov = xc.T @ xc / x.shape[0]
        cov += self.ridge * np.eye(x.shape[1])
        self.classes_ = classes
        self.means_ = means
        self.precision_ = np.linalg.pinv(cov, hermitian=True)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "precision_"):
            raise NotFittedError("Mahalanobis is not fitted; call fit() first.")

    def distances(self, embeddings) -> np.ndarray:
        """(m, d) -> (m, C) squared Mahalanobis distance to every class mean."""
        self._check_fitted()
        x = _as_2d(embeddings, "embeddings")
        if x.shape[1] != self.means_.shape[1]:
            raise ValueError(f"embeddings must have d={self.means_.shape[1]} columns; got {x.shape[1]}")
        out = np.empty((x.shape[0], self.means_.shape[0]))
        for k, mu in enumerate(self.means_):
            diff = x - mu
            out[:, k] = np.einsum("nd,de,ne->n", diff, self.precision_, diff)
        return np.clip(out, 0.0, None)

    def score(self, embeddings) -> np.ndarray:
        """(m, d) -> (m,) min over classes of the squared Mahalanobis distance."""
        return self.distances(embeddings).min(axis=1)

    def state(self) -> dict:
        """Dict of numpy arrays (savable with np.savez)."""
        self._check_fitted()
        return {
            "classes": self.classes_,
            "means": self.means_,
            "precision": self.precision_,
            "ridge": np.asarray(self.ridge),
        }

    @classmethod
    def from_state(cls, d) -> "Mahalanobis":
        """Inverse of ``state()``; accepts a dict or an NpzFile."""
        missing = [k for k in ("means", "precision") if k not in d]
        if missing:
            raise ValueError(f"state must hold keys 'means' and 'precision'; missing {missing}")
        obj = cls(ridge=float(d["ridge"]) if "ridge" in d else 1e-6)
        obj.means_ = np.asarray(d["means"], dtype=np.float64)
        obj.precision_ = np.asarray(d["precision"], dtype=np.float64)
        obj.classes_ = np.asarray(d["classes"]) if "classes" in d else np.arange(obj.means_.shape[0])
        if obj.precision_.shape != (obj.means_.shape[1],) * 2:
            raise ValueError(
                f"precision must have shape (d, d) with d={obj.means_.shape[1]}; got {obj.precision_.shape}"
            )
        return obj


def _as_scores(s, name: str) -> np.ndarray:
    a = np.asarray(s, dtype=np.float64).ravel()
    if a.size == 0:
        raise ValueError(f"{name} must be non-empty; got 0 scores")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite; got nan or inf")
    return a


def ood_metrics(scores_in, scores_out) -> dict:
    """AUROC, AUPR (OOD = positive) and FPR at 95% TPR, as python floats.

    scores_in : (n_in,) scores of in-distribution samples; scores_out : (n_out,) of OOD samples.
    fpr95 = FPR at the first ROC threshold where TPR >= 0.95.
    """
    from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

    s_in = _as_scores(scores_in, "scores_in")
    s_out = _as_scores(scores_out, "scores_out")
    y = np.concatenate([np.zeros(s_in.size), np.ones(s_out.size)])
    s = np.concatenate([s_in, s_out])
    fpr, tpr, _ = roc_curve(y, s, drop_intermediate=False)
    return {
        "auroc": float(roc_auc_score(y, s)),
        "aupr": float(average_precision_score(y, s)),
        "fpr95": float(fpr[np.argmax(tpr >= 0.95)]),
    }


def fit_threshold(scores_val, *, quantile: float = 0.95) -> float:
    """The ``quantile`` of clean validation scores; ``score > threshold`` flags ~(1 - quantile)."""
    if not (0.0 < float(quantile) < 1.0):
        raise ValueError(f"quantile must lie in (0, 1); got {quantile!r}")
    return float(np.quantile(_as_scores(scores_val, "scores_val"), quantile))
