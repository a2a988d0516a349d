"""Per-method metrics on shifted digits, by shift and severity (what the Shift lab shows).

As in Ovadia et al. (2019), "Can you trust your model's uncertainty?": turn the test digits (rotation)
or damage them (MNIST-C-style corruptions, severity 1..5) and measure, per method, accuracy, ECE,
mean epistemic uncertainty and how many images its OOD score flags. Everything is numpy over the
arrays the build saved (``Bundle.predictions``); nothing runs a model.

A *shift kind* is ``"rotation"``, ``"all_corruptions"`` (every corruption pooled) or one name of
``uqcore.data.shift.CORRUPTIONS``. Its *severities*: rotation angles 0..180 (the rotated set's 0-degree
images at 0); for corruptions 0..5, where 0 is the clean test split.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from uqcore.data.shift import ANGLES, CORRUPTIONS, SEVERITIES
from uqcore.metrics.calibration import accuracy, ece
from uqcore.predictions import Predictions

ROTATION = "rotation"
ALL_CORRUPTIONS = "all_corruptions"
SHIFT_KINDS: tuple[str, ...] = (ROTATION, ALL_CORRUPTIONS, *CORRUPTIONS)
METRICS = ("accuracy", "ece", "epistemic", "flag_rate")  # columns of cell_metrics besides n
N_BINS = 15

def _check_kind(kind: str) -> str:
    if kind not in SHIFT_KINDS:
        raise ValueError(f"unknown shift {kind!r}; valid: {', '.join(SHIFT_KINDS)}.")
    return kind


def severities(kind: str) -> tuple[int, ...]:
    """The slider's steps: angles 0..180 for rotation, else 0 (clean test digits) .. 5."""
    return tuple(ANGLES) if _check_kind(kind) == ROTATION else (0, *SEVERITIES)


def select(predictions: Predictions, kind: str, severity: int) -> tuple[str, np.ndarray]:
    """(set name, row indices) of the images of one (shift, severity) cell.

    Rotation: rows of ``rotated`` whose ``meta/angle`` equals ``severity``. Corruption, severity 0:
    every row of ``test``. Corruption, severity 1..5: rows of ``corrupted`` with that variant (every
    variant for ``all_corruptions``) and severity.
    """
    kind = _check_kind(kind)
    severity = int(severity)
    if severity not in severities(kind):
        raise ValueError(f"severity {severity} is not a step of {kind!r}; valid: {severities(kind)}.")
    if kind == ROTATION:
        return "rotated", np.flatnonzero(np.asarray(predictions.meta("rotated", "angle")) == severity)
    if severity == 0:
        return "test", np.arange(predictions.n("test"))
    mask = np.asarray(predictions.meta("corrupted", "severity")) == severity
    if kind != ALL_CORRUPTIONS:
        mask &= np.asarray(predictions.meta("corrupted", "variant")).astype(str) == kind
    return "corrupted", np.flatnonzero(mask)


def cell_metrics(predictions: Predictions, kind: str, severity: int, *, methods, thresholds: dict,
                 n_bins: int = N_BINS) -> pd.DataFrame:
    """Per method on one (shift, severity) cell: accuracy, ECE, mean epistemic (nats), OOD-flag rate, n.

    ``thresholds`` maps a method to its OOD threshold (``Method.threshold_``): an image is flagged when
    its ``ood_score`` is above it (flag rate nan where the threshold is None). Returns a DataFrame
    indexed by method; every metric is nan for an empty cell.
    """
    name, idx = select(predictions, kind, severity)
    y = np.asarray(predictions.y(name))[idx]
    rows = {}
    for m in methods:
        row = dict.fromkeys(METRICS, np.nan)
        if len(idx):
            probs = np.asarray(predictions.get(name, m, "probs"))[idx]
            row["accuracy"] = accuracy(probs, y)
            row["ece"] = ece(probs, y, n_bins=n_bins)
            row["epistemic"] = float(np.mean(np.asarray(predictions.get(name, m, "epistemic"))[idx]))
            t = thresholds.get(m)
            if t is not None:
                row["flag_rate"] = float(np.mean(np.asarray(predictions.get(name, m, "ood_score"))[idx] > t))
        rows[m] = row | {"n": len(idx)}
    df = pd.DataFrame.from_dict(rows, orient="index", columns=[*METRICS, "n"])
    df.index.name = "method"
    return df.astype({"n": int})


def severity_curves(predictions: Predictions, kind: str, *, methods, thresholds: dict,
                    n_bins: int = N_BINS) -> pd.DataFrame:
    """``cell_metrics`` at every severity of ``kind``, long format: columns severity, method, metrics, n."""
    parts = []
    for s in severities(kind):
        df = cell_metrics(predictions, kind, s, methods=methods, thresholds=thresholds, n_bins=n_bins)
        parts.append(df.reset_index().assign(severity=s))
    out = pd.concat(parts, ignore_index=True)
    return out[["severity", "method", *METRICS, "n"]]


def examples(predictions: Predictions, kind: str, severity: int, method: str, *, k: int = 10,
             seed: int = 0) -> dict[str, np.ndarray]:
    """Up to ``k`` images of a cell (a fixed random draw, so the strip stays put) with ``method``'s reading.

    Keys: index (rows of the set), x (k, 28, 28) float in [0, 1], true, pred, confidence, variant
    (the corruption's name, or "" outside the corrupted set). ``set`` is the set's name.
    """
    name, idx = select(predictions, kind, severity)
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(idx, size=min(k, len(idx)), replace=False)) if len(idx) else idx
    probs = np.asarray(predictions.get(name, method, "probs"))[pick]
    if name == "corrupted":
        variant = np.asarray(predictions.meta("corrupted", "variant")).astype(str)[pick]
    else:
        variant = np.full(len(pick), "")
    return {"set": name, "index": pick,
            "x": predictions.images(name, pick),
            "true": np.asarray(predictions.y(name))[pick], "pred": probs.argmax(1),
            "confidence": probs.max(1) if len(pick) else np.zeros(0), "variant": variant}
