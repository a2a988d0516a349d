"""Per-image and per-class tables of the cached predictions, the confusion matrix and the map's points:
cached arrays in, pandas out. Nothing here runs a model.

``predictions`` is a ``uqcore.predictions.Predictions``; ``embedding`` is ``Bundle.embedding`` (``"<set>/xy"``
and ``"<set>/idx"``, the rows of that set placed on the map). OOD sets have label -1: no "right answer".
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from uqcore.metrics.calibration import _bin, _ece_from_bins, confusion_matrix
from uqcore.predictions import Predictions

UNCERTAINTIES = ("total", "aleatoric", "epistemic")
LISTS = ("misclassified", "confidently wrong", "most uncertain", "most epistemic")  # error_list's kinds


def prediction_frame(predictions: Predictions, method: str, split: str = "test", rows=None) -> pd.DataFrame:
    """One row per image of ``split`` (or only ``rows``): true, pred, confidence, correct, uncertainties, OOD score.

    The index is the image's row in the set's arrays. ``correct`` is NaN-free boolean: False for OOD images
    (label -1), which have no correct answer; ``labelled`` says which rows have one.
    """
    probs = predictions.get(split, method, "probs")
    rows = np.arange(len(probs)) if rows is None else np.asarray(rows, dtype=np.int64)
    return frame_of(probs[rows], np.asarray(predictions.y(split))[rows],
                    {u: predictions.get(split, method, u)[rows] for u in UNCERTAINTIES},
                    predictions.get(split, method, "ood_score")[rows], index=rows)


def frame_of(probs, y, uncertainties: dict, ood_score=None, *, index=None) -> pd.DataFrame:
    """``prediction_frame``'s table from arrays (e.g. an analyst's own predictions): ``uncertainties`` maps each of
    ``UNCERTAINTIES`` to (n,) nats; no ``ood_score`` gives NaN. ``index`` defaults to 0..n-1."""
    probs = np.asarray(probs)
    y = np.asarray(y).astype(np.int64)
    pred = probs.argmax(1)
    n = len(y)
    return pd.DataFrame({
        "true": y,
        "pred": pred,
        "confidence": probs.max(1).astype(np.float64),
        "correct": (pred == y) & (y >= 0),
        "labelled": y >= 0,
        **{u: np.asarray(uncertainties[u], dtype=np.float64) for u in UNCERTAINTIES},
        "ood_score": np.full(n, np.nan) if ood_score is None else np.asarray(ood_score, dtype=np.float64),
    }, index=pd.Index(np.arange(n) if index is None else np.asarray(index, dtype=np.int64), name="row"))


def error_list(frame: pd.DataFrame, kind: str, *, true: int | None = None, pred: int | None = None,
               uncertainty: str = "total", low: float = 0.0, high: float = np.inf,
               min_confidence: float = 0.9) -> pd.DataFrame:
    """Rows of ``frame`` (from ``prediction_frame``) for one of ``LISTS``, filtered and sorted.

    Filters: true class, predicted class, and ``low <= frame[uncertainty] <= high``. "confidently wrong"
    keeps mistakes with confidence >= ``min_confidence``. Sorted: mistakes by confidence, the others by
    total or epistemic uncertainty, highest first.
    """
    if kind not in LISTS:
        raise ValueError(f"unknown list {kind!r}; choose one of: {', '.join(LISTS)}.")
    if uncertainty not in UNCERTAINTIES:
        raise ValueError(f"uncertainty must be one of {UNCERTAINTIES}, got {uncertainty!r}.")
    if low > high:
        raise ValueError(f"the uncertainty range is empty: low {low} > high {high}.")
    keep = frame["labelled"].to_numpy().copy()
    if kind in ("misclassified", "confidently wrong"):
        keep &= ~frame["correct"].to_numpy()
    if kind == "confidently wrong":
        keep &= frame["confidence"].to_numpy() >= min_confidence
    if true is not None:
        keep &= frame["true"].to_numpy() == true
    if pred is not None:
        keep &= frame["pred"].to_numpy() == pred
    u = frame[uncertainty].to_numpy()
    keep &= (u >= low) & (u <= high)
    out = frame[keep]
    by = {"misclassified": "confidence", "confidently wrong": "confidence", "most uncertain": "total",
          "most epistemic": "epistemic"}[kind]
    return out.sort_values(by, ascending=False, kind="stable")


def per_class(probs, y_true, *, n_bins: int = 15) -> pd.DataFrame:
    """Per digit class k: images, accuracy (share of true k read as k), precision, mean confidence on
    them, and the one-vs-rest ECE of p_k against 1[y = k] over all images (its mean over k is
    ``uqcore.metrics.calibration.classwise_ece``)."""
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(y_true).astype(np.int64)
    pred = p.argmax(1)
    rows = []
    for k in range(p.shape[1]):
        mine = y == k
        said = pred == k
        bins = _bin(p[:, k], mine.astype(np.float64), n_bins, "uniform")
        rows.append({
            "digit": k,
            "images": int(mine.sum()),
            "accuracy": float((pred[mine] == k).mean()) if mine.any() else np.nan,
            "precision": float((y[said] == k).mean()) if said.any() else np.nan,
            "confidence": float(p[mine].max(1).mean()) if mine.any() else np.nan,
            "ece": _ece_from_bins(bins),
        })
    return pd.DataFrame(rows).set_index("digit")


def confusion(probs, y_true) -> np.ndarray:
    """10 x 10 counts: row = true digit, column = predicted digit."""
    return confusion_matrix(probs, y_true, n_classes=np.asarray(probs).shape[1])


def most_confused(counts) -> tuple[int, int]:
    """(true, predicted) of the largest off-diagonal cell of a confusion matrix: the most common mix-up."""
    off = np.array(counts, copy=True)
    np.fill_diagonal(off, 0)
    t, p = np.unravel_index(int(off.argmax()), off.shape)
    return int(t), int(p)


def confusion_cell(frame: pd.DataFrame, true: int, pred: int) -> pd.DataFrame:
    """Rows of ``frame`` with this true and predicted digit, most confident first."""
    rows = frame[(frame["true"] == true) & (frame["pred"] == pred)]
    return rows.sort_values("confidence", ascending=False, kind="stable")


def map_frame(predictions: Predictions, embedding: dict, method: str, sets, *, threshold: float | None = None) -> pd.DataFrame:
    """The points of the embedding map for ``sets``: map position, set, row, and the method's reading.

    Columns: set, row, x, y, true, pred, confidence, correct, labelled, total, aleatoric, epistemic,
    ood_score, flagged (ood_score > threshold; False when no threshold), mistake (labelled and wrong).
    The index is a string id ``"<set>:<row>"`` that stays valid across reruns and methods.
    """
    parts = []
    for s in sets:
        if f"{s}/xy" not in embedding:
            raise KeyError(f"set {s!r} has no map positions; available: "
                           + ", ".join(k[:-3] for k in embedding if k.endswith("/xy")) + ".")
        rows = np.asarray(embedding[f"{s}/idx"], dtype=np.int64)
        f = prediction_frame(predictions, method, s, rows)
        xy = np.asarray(embedding[f"{s}/xy"], dtype=np.float64)
        f.insert(0, "y_map", xy[:, 1])
        f.insert(0, "x_map", xy[:, 0])
        f.insert(0, "row", rows)
        f.insert(0, "set", s)
        f.index = pd.Index([f"{s}:{r}" for r in rows], name="id")
        parts.append(f)
    frame = pd.concat(parts) if parts else pd.DataFrame()
    if len(frame):
        frame["flagged"] = frame["ood_score"] > threshold if threshold is not None else False
        frame["mistake"] = frame["labelled"] & ~frame["correct"]
    return frame


def marker_kind(frame: pd.DataFrame) -> np.ndarray:
    """Per point: "flagged as unusual" (wins), "misclassified" or "normal"; sets the marker shape."""
    out = np.full(len(frame), "normal", dtype=object)
    out[frame["mistake"].to_numpy()] = "misclassified"
    out[frame["flagged"].to_numpy()] = "flagged as unusual"
    return out


def class_centres(frame: pd.DataFrame, set_name: str = "test") -> pd.DataFrame:
    """Per digit class, the median map position of that class's ``set_name`` points (a ``map_frame``): columns
    digit, x, y, n; one row per digit present, none when the set is not in the frame."""
    part = frame[(frame["set"] == set_name) & (frame["true"] >= 0)] if len(frame) else frame
    if not len(part):
        return pd.DataFrame({"digit": pd.Series(dtype=int), "x": pd.Series(dtype=float),
                             "y": pd.Series(dtype=float), "n": pd.Series(dtype=int)})
    g = part.groupby("true")
    out = pd.DataFrame({"x": g["x_map"].median(), "y": g["y_map"].median(), "n": g.size()})
    return out.rename_axis("digit").reset_index().astype({"digit": int, "n": int})


def selection_summary(frame: pd.DataFrame) -> dict:
    """Counts and means of a selection of map points (a ``map_frame`` slice)."""
    labelled = frame[frame["labelled"]]
    return {
        "n": int(len(frame)),
        "per_set": frame["set"].value_counts().to_dict(),
        "accuracy": float(labelled["correct"].mean()) if len(labelled) else np.nan,
        "flagged": float(frame["flagged"].mean()) if len(frame) else np.nan,
        **{f"mean_{u}": float(frame[u].mean()) if len(frame) else np.nan for u in UNCERTAINTIES},
    }


def images_of(predictions: Predictions, ids) -> np.ndarray:
    """(n, 28, 28) float images in [0, 1] for map ids ``"<set>:<row>"``."""
    out = np.zeros((len(ids), 28, 28), np.float32)
    for i, key in enumerate(ids):
        s, r = str(key).rsplit(":", 1)
        out[i] = predictions.x(s)[int(r)].reshape(28, 28) / 255.0
    return out
