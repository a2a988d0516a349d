"""Pure helpers for the calibration lab: temperature applied to cached arrays, metrics, sweeps.

Everything here is cheap numpy over arrays that the build already saved; nothing runs a model.
Temperature always acts on logits: ``softmax(logits / T)``. A method that stores no logits is
given ``log(probs)`` as logits, which is the same as ``p ** (1 / T)`` renormalised.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .calibration import (
    ReliabilityBins,
    _ece_from_bins,
    accuracy,
    brier,
    nll,
    reliability_bins,
    softmax,
)

__all__ = [
    "T_MIN",
    "T_MAX",
    "PRESETS",
    "STRATEGIES",
    "logits_for",
    "rescale",
    "temperature_grid",
    "slider_temperatures",
    "lab_metrics",
    "temperature_sweep",
    "ViewState",
    "parse_view",
    "view_params",
    "bin_members",
]

T_MIN, T_MAX = 0.2, 5.0
PRESETS = {"Overconfident": 0.4, "No scaling": 1.0, "Underconfident": 3.0}
STRATEGIES = ("uniform", "quantile")
BINS_MIN, BINS_MAX = 5, 30
LOG_EPS = 1e-12


def logits_for(predictions: dict, split: str, method: str) -> tuple[np.ndarray, bool]:
    """(logits (n, C) float64, True if real logits) for ``method`` on ``split``.

    Uses ``<split>/<method>/logits`` where the build stored them, else ``log(probs)``.
    """
    key = f"{split}/{method}/logits"
    if key in predictions:
        return np.asarray(predictions[key], dtype=np.float64), True
    probs = np.asarray(predictions[f"{split}/{method}/probs"], dtype=np.float64)
    return np.log(np.clip(probs, LOG_EPS, None)), False


def rescale(logits, temperature: float) -> np.ndarray:
    """softmax(logits / T): probs (n, C)."""
    return softmax(logits, temperature=temperature)


def temperature_grid(n: int = 61) -> np.ndarray:
    """Log-spaced temperatures from T_MIN to T_MAX, rounded to 2 decimals (unique, sorted)."""
    return np.unique(np.round(np.geomspace(T_MIN, T_MAX, n), 2))


def slider_temperatures(extra=()) -> list[float]:
    """Options for the temperature slider: the log grid, the presets, and any ``extra`` values."""
    values = set(float(t) for t in temperature_grid())
    values.update(PRESETS.values())
    for t in extra:
        if t is not None and np.isfinite(t) and T_MIN <= t <= T_MAX:
            values.add(round(float(t), 2))
    return sorted(values)


def lab_metrics(probs, y_true, *, n_bins: int = 15, strategy: str = "uniform") -> dict:
    """ECE, MCE, NLL, Brier, accuracy (python floats) and the ReliabilityBins they come from.

    ``ece`` equals ``uqcore.calibration.ece(probs, y_true, n_bins=n_bins, strategy=strategy)``.
    """
    bins = reliability_bins(probs, y_true, n_bins=n_bins, strategy=strategy)
    nz = bins.count > 0
    return {
        "ece": _ece_from_bins(bins),
        "mce": float(np.max(bins.gaps[nz])) if nz.any() else 0.0,
        "nll": nll(probs, y_true),
        "brier": brier(probs, y_true),
        "accuracy": accuracy(probs, y_true),
        "bins": bins,
    }


def temperature_sweep(logits, y_true, temps, *, n_bins: int = 15, strategy: str = "uniform") -> dict:
    """ECE and NLL of softmax(logits / T) for every T in ``temps``: dict of (len(temps),) arrays."""
    temps = np.asarray(temps, dtype=np.float64)
    e = np.empty_like(temps)
    l = np.empty_like(temps)
    y = np.asarray(y_true)
    for i, t in enumerate(temps):
        p = softmax(logits, temperature=float(t))
        e[i] = _ece_from_bins(reliability_bins(p, y, n_bins=n_bins, strategy=strategy))
        l[i] = nll(p, y)
    return {"temperature": temps, "ece": e, "nll": l}


# ----------------------------------------------------------------------------- the view in a URL
@dataclass(frozen=True)
class ViewState:
    method: str
    temperature: float
    n_bins: int
    strategy: str


def parse_view(params: dict, methods, default: ViewState) -> tuple[ViewState, list[str]]:
    """Read ``method``, ``T``, ``bins``, ``binning`` from query parameters.

    Returns the view (defaults where a value is missing or invalid) and one plain-words problem
    per invalid value. Never raises on user input.
    """
    problems: list[str] = []

    def read(name: str, convert, ok, problem: str, current):
        """``params[name]`` converted, or ``current`` (noting ``problem``) when it is there but not usable."""
        if name not in params:
            return current
        raw = str(params[name])
        try:
            value = convert(raw)
        except ValueError:
            value = None
        if value is not None and ok(value):
            return value
        problems.append(problem.format(raw=raw))
        return current

    method = read("method", str, lambda v: v in methods,
                  f"unknown method {{raw!r}} (choose from {', '.join(methods)})", default.method)
    t = round(read("T", float, lambda f: np.isfinite(f) and T_MIN <= f <= T_MAX,
                   f"temperature T={{raw!r}} is not a number between {T_MIN} and {T_MAX}", default.temperature), 2)
    n_bins = read("bins", int, lambda b: BINS_MIN <= b <= BINS_MAX,
                  f"bins={{raw!r}} is not a whole number between {BINS_MIN} and {BINS_MAX}", default.n_bins)
    strategy = read("binning", str, lambda v: v in STRATEGIES,
                    f"binning={{raw!r}} is not one of {', '.join(STRATEGIES)}", default.strategy)
    return ViewState(method, t, n_bins, strategy), problems


def view_params(view: ViewState) -> dict[str, str]:
    """The query parameters that reopen ``view``."""
    return {"method": view.method, "T": f"{view.temperature:g}", "bins": str(view.n_bins),
            "binning": view.strategy}


def bin_members(bins: ReliabilityBins, b: int, probs, y_true, *, limit: int = 24) -> dict:
    """Up to ``limit`` test indices in bin ``b``: wrong predictions first, then by confidence (high first).

    Returns dict of arrays: index, true, pred, confidence, correct; plus total (int) and n_wrong (int).
    """
    p = np.asarray(probs)
    y = np.asarray(y_true)
    idx = np.flatnonzero(bins.bin_index == b)
    pred = p[idx].argmax(axis=1)
    conf = p[idx].max(axis=1)
    correct = pred == y[idx]
    order = np.lexsort((-conf, correct))  # wrong (False) first, then confidence descending
    keep = order[:limit]
    return {"index": idx[keep], "true": y[idx][keep], "pred": pred[keep], "confidence": conf[keep],
            "correct": correct[keep], "total": int(idx.size), "n_wrong": int((~correct).sum())}
