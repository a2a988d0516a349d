"""Split conformal prediction sets over stored class probabilities.

Calibrate on a validation split, then turn each test row of probabilities into a set of digits that
holds the true digit with probability at least 1 - alpha (Angelopoulos & Bates 2021, "A gentle
introduction to conformal prediction"). Three scores:

- ``lac``: 1 - p_true. The set is {k : 1 - p_k <= qhat} and may be empty; that is what lets its
  coverage match 1 - alpha exactly (between 1 - alpha and 1 - alpha + 1/(n+1)).
- ``aps`` (Romano et al. 2020): randomized cumulative mass of the classes sorted by probability,
  score = mass before the label + u * p_label, with u ~ U(0, 1) drawn once per row.
- ``raps`` (Angelopoulos et al. 2021): APS plus lam * max(0, rank - k_reg), rank 1-based.

qhat is the ceil((n+1)(1-alpha))-th smallest calibration score, i.e. the ceil((n+1)(1-alpha))/n
empirical quantile (``np.quantile(..., method="lower")`` / ``"inverted_cdf"``, as in MAPIE); +inf
when that level exceeds 1 (the set is then all classes). numpy's ``method="higher"`` at the same
level would pick the next order statistic up whenever the level is below 1, one step more
conservative than the theory needs.

APS/RAPS sets always hold the top-1 digit (never empty, like ``allow_zero_sets=False`` in the
authors' RAPS code). A set that is never empty contains the top-1 digit, so APS/RAPS coverage is at
least the top-1 accuracy: for a 98.8%-accurate model and alpha = 0.1 they over-cover (about 99%
instead of 90%). LAC is the score whose coverage matches 1 - alpha exactly.

Randomness: u comes from ``np.random.default_rng(seed)``, one draw per row, by the same rule at
calibration (``fit``) and prediction (``predict_sets``). Pure numpy, vectorised.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "SCORES",
    "DEFAULT_ALPHA",
    "SCORE_TITLES",
    "Conformal",
    "fit",
    "predict_sets",
    "coverage",
    "mean_size",
    "labels",
    "sweep",
]

SCORES = ("lac", "aps", "raps")
DEFAULT_ALPHA = 0.05
SCORE_TITLES = {
    "lac": "Threshold (LAC)",
    "aps": "Adaptive (APS)",
    "raps": "Regularised adaptive (RAPS)",
}


@dataclass(frozen=True)
class Conformal:
    """A calibrated conformal predictor: the threshold qhat on the chosen score.

    score : one of SCORES; alpha : target miscoverage; qhat : score threshold (+inf = all classes);
    n : calibration size; lam, k_reg : RAPS penalty (unused by lac/aps).
    """

    score: str
    alpha: float
    qhat: float
    n: int
    lam: float
    k_reg: int

    def to_dict(self) -> dict:
        """Plain JSON types; an infinite qhat is written as None (strict JSON has no Infinity)."""
        return {
            "score": self.score,
            "alpha": float(self.alpha),
            "qhat": float(self.qhat) if math.isfinite(self.qhat) else None,
            "n": int(self.n),
            "lam": float(self.lam),
            "k_reg": int(self.k_reg),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Conformal:
        """Inverse of to_dict (qhat None or "inf" means +inf)."""
        missing = {"score", "alpha", "qhat", "n", "lam", "k_reg"} - set(d)
        if missing:
            raise ValueError(f"Conformal dict is missing keys {sorted(missing)}")
        qhat = d["qhat"]
        qhat = math.inf if qhat is None or qhat == "inf" else float(qhat)
        c = cls(score=str(d["score"]), alpha=float(d["alpha"]), qhat=qhat, n=int(d["n"]),
                lam=float(d["lam"]), k_reg=int(d["k_reg"]))
        _check_params(c.alpha, c.score, c.lam, c.k_reg)
        return c


# ----------------------------------------------------------------------------------- checks


def _check_params(alpha, score, lam, k_reg) -> None:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.floating, np.integer)):
        raise ValueError(f"alpha must be a number in (0, 1); got {alpha!r}")
    if not (0.0 < float(alpha) < 1.0):
        raise ValueError(f"alpha must lie strictly between 0 and 1; got {alpha!r}")
    if score not in SCORES:
        raise ValueError(f"score must be one of {SCORES}; got {score!r}")
    if not (math.isfinite(float(lam)) and float(lam) >= 0.0):
        raise ValueError(f"lam must be a finite number >= 0; got {lam!r}")
    if isinstance(k_reg, bool) or int(k_reg) != k_reg or k_reg < 0:
        raise ValueError(f"k_reg must be an integer >= 0; got {k_reg!r}")


def _check_probs(probs, name: str = "probs") -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] < 1 or p.shape[1] < 1:
        raise ValueError(f"{name} must have shape (n, C) with n >= 1 and C >= 1; got shape {p.shape}")
    if not np.all(np.isfinite(p)):
        raise ValueError(f"{name} must be finite (no nan or inf)")
    if p.min() < 0.0 or p.max() > 1.0 + 1e-6:
        raise ValueError(f"{name} must lie in [0, 1]; got range [{p.min():.3g}, {p.max():.3g}]")
    sums = p.sum(axis=1)
    if np.max(np.abs(sums - 1.0)) > 1e-3:
        raise ValueError(f"each row of {name} must sum to 1 (within 1e-3); worst row sums to "
                         f"{sums[np.argmax(np.abs(sums - 1.0))]:.6g}")
    return p


def _check_labels(y, n: int, n_classes: int, name: str = "y") -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},) to match the probabilities; got shape {y.shape}")
    if y.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integer class indices; got dtype {y.dtype}")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"{name} must lie in [0, {n_classes - 1}]; got range [{y.min()}, {y.max()}]")
    return y.astype(np.intp)


def _check_sets(sets) -> np.ndarray:
    s = np.asarray(sets)
    if s.ndim != 2 or s.shape[0] < 1:
        raise ValueError(f"sets must have shape (n, C) with n >= 1; got shape {s.shape}")
    if s.dtype != bool:
        raise ValueError(f"sets must be a boolean array; got dtype {s.dtype}")
    return s


# ------------------------------------------------------------------------------------ core


def _uniforms(n: int, seed) -> np.ndarray:
    """The one u-per-row rule shared by calibration and prediction."""
    return np.random.default_rng(seed).random(n)


def _class_scores(p: np.ndarray, score: str, u: np.ndarray | None, lam: float, k_reg: int) -> np.ndarray:
    """(n, C) matrix: the score each label would get if it were the true one.

    Calibration scores are its entries at the true labels; a set is the labels whose entry <= qhat.
    """
    if score == "lac":
        return 1.0 - p
    order = np.argsort(-p, axis=1, kind="stable")  # descending probability, ties by index
    ps = np.take_along_axis(p, order, axis=1)
    before = np.cumsum(ps, axis=1) - ps  # mass of the classes ranked above
    s_sorted = before + u[:, None] * ps
    if score == "raps":
        rank = np.arange(1, p.shape[1] + 1, dtype=np.float64)
        s_sorted += lam * np.maximum(0.0, rank - k_reg)[None, :]
    out = np.empty_like(s_sorted)
    np.put_along_axis(out, order, s_sorted, axis=1)
    return out


def _order_statistic_rank(n: int, alpha: float) -> int:
    """k = ceil((n+1)(1-alpha)), robust to float noise when the product is an integer."""
    x = (n + 1) * (1.0 - float(alpha))
    r = round(x)
    return int(r) if abs(x - r) <= 1e-9 * max(1.0, x) else math.ceil(x)


def _qhat(cal_scores: np.ndarray, alpha: float) -> float:
    n = cal_scores.shape[0]
    k = _order_statistic_rank(n, alpha)
    if k > n:
        return math.inf
    return float(np.partition(cal_scores, k - 1)[k - 1])


def _sets_from_scores(s: np.ndarray, p: np.ndarray, score: str, qhat: float) -> np.ndarray:
    sets = s <= qhat
    if score != "lac":  # never empty: always keep the top-1 label
        sets[np.arange(p.shape[0]), np.argmax(p, axis=1)] = True
    return sets


# ------------------------------------------------------------------------------------- API


def fit(cal_probs, cal_y, alpha: float = DEFAULT_ALPHA, score: str = "lac", *,
        lam: float = 0.01, k_reg: int = 1, seed=0) -> Conformal:
    """Calibrate qhat on a held-out split.

    cal_probs : (n, C) class probabilities; cal_y : (n,) integer labels; alpha in (0, 1).
    seed drives the APS/RAPS u draws (one per calibration row).
    """
    _check_params(alpha, score, lam, k_reg)
    p = _check_probs(cal_probs, "cal_probs")
    y = _check_labels(cal_y, p.shape[0], p.shape[1], "cal_y")
    u = _uniforms(p.shape[0], seed) if score != "lac" else None
    s = _class_scores(p, score, u, float(lam), int(k_reg))[np.arange(p.shape[0]), y]
    return Conformal(score=score, alpha=float(alpha), qhat=_qhat(s, alpha), n=int(p.shape[0]),
                     lam=float(lam), k_reg=int(k_reg))


def predict_sets(probs, conformal: Conformal, *, seed=0) -> np.ndarray:
    """Boolean (n, C) prediction sets; row i holds the labels of sample i's set."""
    if not isinstance(conformal, Conformal):
        raise ValueError(f"conformal must be a Conformal from fit(); got {type(conformal).__name__}")
    p = _check_probs(probs)
    c = conformal
    u = _uniforms(p.shape[0], seed) if c.score != "lac" else None
    return _sets_from_scores(_class_scores(p, c.score, u, c.lam, c.k_reg), p, c.score, c.qhat)


def coverage(sets, y) -> float:
    """Fraction of rows whose set holds the true label."""
    s = _check_sets(sets)
    yy = _check_labels(y, s.shape[0], s.shape[1])
    return float(np.mean(s[np.arange(s.shape[0]), yy]))


def mean_size(sets) -> float:
    """Mean number of labels per set."""
    return float(np.mean(_check_sets(sets).sum(axis=1)))


def labels(row_bool, probs=None) -> list[int]:
    """The labels in one set; by descending probability if that row's probs are given, else ascending."""
    row = np.asarray(row_bool)
    if row.ndim != 1 or row.dtype != bool:
        raise ValueError(f"row_bool must be a 1-D boolean array; got shape {row.shape}, dtype {row.dtype}")
    idx = np.flatnonzero(row)
    if probs is None:
        return [int(i) for i in idx]
    p = np.asarray(probs, dtype=np.float64)
    if p.shape != row.shape:
        raise ValueError(f"probs must have the shape of row_bool {row.shape}; got shape {p.shape}")
    return [int(i) for i in idx[np.argsort(-p[idx], kind="stable")]]


def sweep(cal_probs, cal_y, test_probs, test_y, alphas, score: str = "lac", **kw) -> dict:
    """Coverage and mean set size on the test split for each alpha (one calibration per alpha).

    kw : lam, k_reg, seed as in fit (seed is used for both splits). Returns arrays
    {"alpha", "coverage", "mean_size"} of shape (len(alphas),), ready for a chart.
    """
    unknown = set(kw) - {"lam", "k_reg", "seed"}
    if unknown:
        raise ValueError(f"unknown keyword(s) {sorted(unknown)}; expected lam, k_reg, seed")
    lam, k_reg, seed = float(kw.get("lam", 0.01)), kw.get("k_reg", 1), kw.get("seed", 0)
    a = np.atleast_1d(np.asarray(alphas, dtype=np.float64))
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"alphas must be a non-empty 1-D sequence; got shape {a.shape}")
    for alpha in a:
        _check_params(float(alpha), score, lam, k_reg)
    pc = _check_probs(cal_probs, "cal_probs")
    yc = _check_labels(cal_y, pc.shape[0], pc.shape[1], "cal_y")
    pt = _check_probs(test_probs, "test_probs")
    if pt.shape[1] != pc.shape[1]:
        raise ValueError(f"test_probs has {pt.shape[1]} classes but cal_probs has {pc.shape[1]}")
    yt = _check_labels(test_y, pt.shape[0], pt.shape[1], "test_y")
    # Same numbers as fit + predict_sets per alpha; the score matrices do not depend on alpha.
    uc = _uniforms(pc.shape[0], seed) if score != "lac" else None
    ut = _uniforms(pt.shape[0], seed) if score != "lac" else None
    cal_s = _class_scores(pc, score, uc, lam, int(k_reg))[np.arange(pc.shape[0]), yc]
    test_s = _class_scores(pt, score, ut, lam, int(k_reg))
    cov, size = np.empty(a.size), np.empty(a.size)
    for i, alpha in enumerate(a):
        sets = _sets_from_scores(test_s, pt, score, _qhat(cal_s, float(alpha)))
        cov[i] = sets[np.arange(pt.shape[0]), yt].mean()
        size[i] = sets.sum(axis=1).mean()
    return {"alpha": a, "coverage": cov, "mean_size": size}
