"""Temperature applied to cached arrays: rescaled probabilities, the lab's metrics, sweeps, bin members.

Everything here is cheap numpy over arrays that the build already saved; nothing runs a model.
Temperature always acts on logits: ``softmax(logits / T)``. A method that stores no logits is
given ``log(probs)`` as logits, which is the same as ``p ** (1 / T)`` renormalised.
"""
from __future__ import annotations

import numpy as np

from uqcore.metrics.calibration import (
    ReliabilityBins,
    _ece_from_bins,
    accuracy,
    brier,
    nll,
    reliability_bins,
    softmax,
)
from uqcore.predictions import Predictions

T_MIN, T_MAX = 0.2, 5.0  # the temperatures the calibration lab and its sweep span
LOG_EPS = 1e-12


def logits_for(predictions: Predictions, split: str, method: str) -> tuple[np.ndarray, bool]:
    """(logits (n, C) float64, True if real logits) for ``method`` on ``split``.

    The stored logits (real ones, or log-probabilities: ``Predictions.logits_are``), else ``log(probs)``.
    """
    if predictions.has(split, method, "logits"):
        return (np.asarray(predictions.get(split, method, "logits"), dtype=np.float64),
                predictions.logits_are(method) == "logits")
    probs = np.asarray(predictions.get(split, method, "probs"), dtype=np.float64)
    return np.log(np.clip(probs, LOG_EPS, None)), False


def rescale(logits, temperature: float) -> np.ndarray:
    """softmax(logits / T): probs (n, C)."""
    return softmax(logits, temperature=temperature)


def lab_metrics(probs, y_true, *, n_bins: int = 15, strategy: str = "uniform") -> dict:
    """ECE, MCE, NLL, Brier, accuracy (python floats) and the ReliabilityBins they come from.

    ``ece`` equals ``uqcore.metrics.calibration.ece(probs, y_true, n_bins=n_bins, strategy=strategy)``.
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


def binning_sensitivity(probs, y_true, *, n_bins: int, strategy: str) -> dict:
    """ECE of the same probabilities under other binnings: 10, 15 and 20 bins of ``strategy``, and
    ``n_bins`` of the other strategy ("other"). Shows how much ECE depends on the choice of bins."""
    other = "quantile" if strategy == "uniform" else "uniform"
    out = {b: _ece_from_bins(reliability_bins(probs, y_true, n_bins=b, strategy=strategy)) for b in (10, 15, 20)}
    out["other"] = _ece_from_bins(reliability_bins(probs, y_true, n_bins=n_bins, strategy=other))
    out["other_strategy"] = other
    return out


def temperature_states(logits, y_true, temps, *, n_bins: int = 15, strategy: str = "uniform") -> dict:
    """The reliability diagram and its metrics at every T in ``temps``, for a chart that switches between
    them in the browser while a slider is dragged (the Calibration lab's live temperature).

    Returns dict of arrays: ``temperature`` (k,), ``edges`` (k, n_bins + 1), ``count``, ``confidence``,
    ``accuracy`` (k, n_bins; NaN where a bin is empty), ``ece``, ``mce``, ``nll``, ``brier`` (k,). Row i equals
    ``lab_metrics(rescale(logits, temps[i]), ...)``.
    """
    temps = np.asarray(temps, dtype=np.float64)
    k = len(temps)
    out = {"temperature": temps, "edges": np.empty((k, n_bins + 1)), **{
        f: np.empty((k, n_bins)) for f in ("count", "confidence", "accuracy")},
        **{f: np.empty(k) for f in ("ece", "mce", "nll", "brier")}}
    for i, t in enumerate(temps):
        m = lab_metrics(rescale(logits, float(t)), y_true, n_bins=n_bins, strategy=strategy)
        b = m["bins"]
        out["edges"][i], out["count"][i] = b.edges, b.count
        out["confidence"][i], out["accuracy"][i] = b.confidence, b.accuracy
        for f in ("ece", "mce", "nll", "brier"):
            out[f][i] = m[f]
    return out
