"""Pure helpers for the shift lab: per-method metrics on shifted digits, by shift and severity.

As in Ovadia et al. (2019), "Can you trust your model's uncertainty?": turn the test digits (rotation)
or damage them (MNIST-C-style corruptions, severity 1..5) and measure, per method, accuracy, ECE,
mean epistemic uncertainty and how many images its OOD score flags. Everything is numpy over the
arrays the build saved (``Bundle.predictions``); nothing runs a model.

A *shift kind* is ``"rotation"``, ``"all_corruptions"`` (every corruption pooled) or one name of
``uqcore.shift.CORRUPTIONS``. Its *severities*: rotation angles 0..180 (the rotated set's 0-degree
images at 0); for corruptions 0..5, where 0 is the clean test split.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .calibration import accuracy, ece
from .plots import DASHES, OKABE_ITO, SYMBOLS
from .shift import ANGLES, CORRUPTIONS, SEVERITIES

__all__ = [
    "ROTATION",
    "ALL_CORRUPTIONS",
    "SHIFT_KINDS",
    "METRICS",
    "METRIC_LABELS",
    "DESCRIPTIONS",
    "shift_label",
    "severities",
    "severity_label",
    "snap_severity",
    "convert_severity",
    "select",
    "cell_metrics",
    "severity_curves",
    "as_shown",
    "best_methods",
    "examples",
    "reading",
    "severity_figure",
]

ROTATION = "rotation"
ALL_CORRUPTIONS = "all_corruptions"
SHIFT_KINDS: tuple[str, ...] = (ROTATION, ALL_CORRUPTIONS, *CORRUPTIONS)
METRICS = ("accuracy", "ece", "epistemic", "flag_rate")  # columns of cell_metrics besides n
N_BINS = 15

_LABELS = {
    ROTATION: "Rotation",
    ALL_CORRUPTIONS: "All corruptions (pooled)",
    "shot_noise": "Shot noise",
    "impulse_noise": "Impulse noise",
    "gaussian_blur": "Gaussian blur",
    "motion_blur": "Motion blur",
    "shear": "Shear",
    "scale": "Scale",
    "translate": "Translate",
    "brightness": "Brightness",
    "contrast": "Contrast",
    "stripe": "Stripe",
    "zigzag": "Zigzag",
    "dotted_line": "Dotted line",
    "fog": "Fog",
    "inverse": "Inverse",
    "pixelate": "Pixelate",
}
DESCRIPTIONS = {  # one plain line per shift, for the caption under the picker
    ROTATION: "The test digits turned by 0 to 180 degrees. At 180° a 6 looks like a 9.",
    ALL_CORRUPTIONS: f"The images of all {len(CORRUPTIONS)} kinds of damage in this list, pooled into one set at the "
                     f"chosen severity and measured together (not an average of the {len(CORRUPTIONS)} results).",
    "shot_noise": "Grainy speckle, like a photo taken in poor light.",
    "impulse_noise": "Random pixels switched fully black or white (salt and pepper).",
    "gaussian_blur": "The digit smeared out of focus.",
    "motion_blur": "A smear along one direction, as from a shaking camera.",
    "shear": "The digit slanted sideways.",
    "scale": "The digit shrunk towards the centre.",
    "translate": "The digit pushed away from the centre.",
    "brightness": "The whole image made brighter, so the background turns grey.",
    "contrast": "Less difference between the stroke and the background.",
    "stripe": "A vertical band with its colours flipped.",
    "zigzag": "Zigzag lines drawn over the digit (one more per severity).",
    "dotted_line": "Dotted lines drawn over the digit (one more per severity).",
    "fog": "A cloudy grey haze laid over the image.",
    "inverse": "Colours flipped towards black on white (fully at severity 5).",
    "pixelate": "The image shrunk and blown up again, so it turns blocky.",
}
METRIC_LABELS = {"accuracy": "Accuracy", "ece": "ECE", "epistemic": "Mean epistemic uncertainty",
                 "flag_rate": "OOD-flag rate"}


def _check_kind(kind: str) -> str:
    if kind not in SHIFT_KINDS:
        raise ValueError(f"unknown shift {kind!r}; valid: {', '.join(SHIFT_KINDS)}.")
    return kind


def shift_label(kind: str) -> str:
    """Display name: "rotation" -> "Rotation", "gaussian_blur" -> "Gaussian blur"."""
    return _LABELS.get(_check_kind(kind), kind.replace("_", " ").capitalize())


def severities(kind: str) -> tuple[int, ...]:
    """The slider's steps: angles 0..180 for rotation, else 0 (clean test digits) .. 5."""
    return tuple(ANGLES) if _check_kind(kind) == ROTATION else (0, *SEVERITIES)


def severity_label(kind: str, severity: int) -> str:
    """ "90°" for rotation; "0 (clean)" or "3" for a corruption."""
    if _check_kind(kind) == ROTATION:
        return f"{int(severity)}°"
    return "0 (clean)" if int(severity) == 0 else str(int(severity))


def snap_severity(kind: str, value) -> int:
    """The valid severity of ``kind`` nearest to ``value`` (the first one when ``value`` is not a number)."""
    steps = severities(kind)
    try:
        v = float(value)
    except (TypeError, ValueError):
        return steps[0]
    if not np.isfinite(v):
        return steps[0]
    return int(steps[int(np.argmin([abs(s - v) for s in steps]))])


def convert_severity(value, from_kind: str, to_kind: str) -> int:
    """Carry the slider across a change of shift: rotation 0..180 degrees maps onto severity 0..5 linearly."""
    from_rot, to_rot = _check_kind(from_kind) == ROTATION, _check_kind(to_kind) == ROTATION
    if from_rot == to_rot:
        return snap_severity(to_kind, value)
    top_from, top_to = max(severities(from_kind)), max(severities(to_kind))
    return snap_severity(to_kind, snap_severity(from_kind, value) / top_from * top_to)


def select(predictions: dict, kind: str, severity: int) -> tuple[str, np.ndarray]:
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
        return "rotated", np.flatnonzero(np.asarray(predictions["rotated/meta/angle"]) == severity)
    if severity == 0:
        return "test", np.arange(len(predictions["test/y"]))
    mask = np.asarray(predictions["corrupted/meta/severity"]) == severity
    if kind != ALL_CORRUPTIONS:
        mask &= np.asarray(predictions["corrupted/meta/variant"]).astype(str) == kind
    return "corrupted", np.flatnonzero(mask)


def cell_metrics(predictions: dict, kind: str, severity: int, *, methods, thresholds: dict,
                 n_bins: int = N_BINS) -> pd.DataFrame:
    """Per method on one (shift, severity) cell: accuracy, ECE, mean epistemic (nats), OOD-flag rate, n.

    ``thresholds`` maps a method to its OOD threshold (``Method.threshold_``): an image is flagged when
    its ``ood_score`` is above it (flag rate nan where the threshold is None). Returns a DataFrame
    indexed by method; every metric is nan for an empty cell.
    """
    name, idx = select(predictions, kind, severity)
    y = np.asarray(predictions[f"{name}/y"])[idx]
    rows = {}
    for m in methods:
        row = dict.fromkeys(METRICS, np.nan)
        if len(idx):
            probs = np.asarray(predictions[f"{name}/{m}/probs"])[idx]
            row["accuracy"] = accuracy(probs, y)
            row["ece"] = ece(probs, y, n_bins=n_bins)
            row["epistemic"] = float(np.mean(np.asarray(predictions[f"{name}/{m}/epistemic"])[idx]))
            t = thresholds.get(m)
            if t is not None:
                row["flag_rate"] = float(np.mean(np.asarray(predictions[f"{name}/{m}/ood_score"])[idx] > t))
        rows[m] = row | {"n": len(idx)}
    df = pd.DataFrame.from_dict(rows, orient="index", columns=[*METRICS, "n"])
    df.index.name = "method"
    return df.astype({"n": int})


def severity_curves(predictions: dict, kind: str, *, methods, thresholds: dict,
                    n_bins: int = N_BINS) -> pd.DataFrame:
    """``cell_metrics`` at every severity of ``kind``, long format: columns severity, method, metrics, n."""
    parts = []
    for s in severities(kind):
        df = cell_metrics(predictions, kind, s, methods=methods, thresholds=thresholds, n_bins=n_bins)
        parts.append(df.reset_index().assign(severity=s))
    out = pd.concat(parts, ignore_index=True)
    return out[["severity", "method", *METRICS, "n"]]


def as_shown(share: float) -> float:
    """A share (0..1) as the page prints it, in percent with one decimal: 0.01549 -> 1.5.

    Same rounding as ``f"{share:.1%}"``, so methods that print alike compare alike.
    """
    return round(float(share) * 100, 1)


def best_methods(table: pd.DataFrame) -> dict[str, list[str]]:
    """The methods with the highest accuracy and those with the lowest ECE, in table order ([] if all nan).

    Values are compared as shown (``as_shown``: percent, one decimal), so every method that prints the
    best number shares it. Epistemic uncertainty and flag rate have no "best": on damaged images more is
    what we want, on clean ones less, so only their trend over severities says something.
    """
    out: dict[str, list[str]] = {}
    for col, pick in (("accuracy", max), ("ece", min)):
        shown = {m: as_shown(v) for m, v in table[col].items() if np.isfinite(v)}
        top = pick(shown.values()) if shown else None
        out[col] = [m for m, v in shown.items() if v == top]
    return out


def examples(predictions: dict, kind: str, severity: int, method: str, *, k: int = 10,
             seed: int = 0) -> dict[str, np.ndarray]:
    """Up to ``k`` images of a cell (a fixed random draw, so the strip stays put) with ``method``'s reading.

    Keys: index (rows of the set), x (k, 28, 28) float in [0, 1], true, pred, confidence, variant
    (the corruption's name, or "" outside the corrupted set). ``set`` is the set's name.
    """
    name, idx = select(predictions, kind, severity)
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(idx, size=min(k, len(idx)), replace=False)) if len(idx) else idx
    probs = np.asarray(predictions[f"{name}/{method}/probs"])[pick]
    if name == "corrupted":
        variant = np.asarray(predictions["corrupted/meta/variant"]).astype(str)[pick]
    else:
        variant = np.full(len(pick), "")
    return {"set": name, "index": pick,
            "x": np.asarray(predictions[f"{name}/x"])[pick].reshape(-1, 28, 28).astype(np.float32) / 255.0,
            "true": np.asarray(predictions[f"{name}/y"])[pick], "pred": probs.argmax(1),
            "confidence": probs.max(1) if len(pick) else np.zeros(0), "variant": variant}


def _where(kind: str, severity: int) -> str:
    if kind == ROTATION:
        return f"at {int(severity)}° of rotation"
    what = "all corruptions pooled" if kind == ALL_CORRUPTIONS else shift_label(kind).lower()
    return f"at severity {int(severity)} of {what}"


def _join(items) -> str:
    """ "a", "a and b", "a, b and c"."""
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _each(values, fmt: str) -> str:
    """Several methods' values in the order they were named: "98.0%" when all print alike, else "97.5% and 98.0%"."""
    shown = [format(v, fmt) for v in values]
    return shown[0] if len(set(shown)) == 1 else _join(shown)


def reading(curves: pd.DataFrame, kind: str, severity: int, labels: dict | None = None) -> str:
    """One plain sentence about the chosen cell, from ``severity_curves``' output (markdown).

    Names the best-calibrated method (lowest ECE as shown; every method tied at it) and how its accuracy
    and flag rate moved from the undamaged images (severity 0: 0° or the clean test digits) to the
    chosen severity.
    """
    labels = labels or {}
    here = curves[curves["severity"] == int(severity)].set_index("method")
    base = curves[curves["severity"] == severities(kind)[0]].set_index("method")
    best = best_methods(here)["ece"]
    if not best:
        return f"There are no images {_where(kind, severity)} in this build."
    one = len(best) == 1
    names = _join(f"**{labels.get(m, m)}**" for m in best)
    who = f"the best-calibrated method is {names}" if one else f"the best-calibrated methods are {names}"
    r, r0 = here.loc[best], base.loc[best]
    flagged = [m for m in best if np.isfinite(r.loc[m, "flag_rate"])]  # methods with an OOD threshold
    flags = ""
    if flagged:
        subject = ("it" if one else "they") if len(flagged) == len(best) else _join(labels.get(m, m) for m in flagged)
        flags = (f"{subject} {'flags' if len(flagged) == 1 else 'flag'} {_each(r.loc[flagged, 'flag_rate'], '.0%')} "
                 "of the images as unfamiliar")
    its = "its" if one else "their"
    if int(severity) == severities(kind)[0]:
        start = "Without rotation" if kind == ROTATION else "On the clean test digits"
        by_design = " (about 5% by design)" if flags else ""
        return (f"{start} {who} (ECE {_each(r['ece'], '.1%')}), "
                f"with accuracy {_each(r['accuracy'], '.1%')}{'; ' if flags else ''}{flags}{by_design}.")
    clean = "0°" if kind == ROTATION else "the clean digits"
    acc, acc0 = r["accuracy"], r0["accuracy"]
    if (acc == acc0).all():
        moved = f"{its} accuracy stayed at {_each(acc, '.1%')}, as on {clean}"
    else:
        verb = "fell" if (acc <= acc0).all() else "rose" if (acc >= acc0).all() else "went"
        moved = f"{its} accuracy {verb} from {_each(acc0, '.1%')} on {clean} to {_each(acc, '.1%')}"
    before = (f" (vs {_each(r0.loc[flagged, 'flag_rate'], '.0%')} on {clean})"
              if flags and np.isfinite(r0.loc[flagged, "flag_rate"]).all() else "")
    return (f"{_where(kind, severity).capitalize()} {who} "
            f"(ECE {_each(r['ece'], '.1%')}); {moved}{', and ' if flags else ''}{flags}{before}.")


def severity_figure(curves: pd.DataFrame, kind: str, *, current: int | None = None, labels: dict | None = None,
                    font_size: int = 16, height: int = 720) -> go.Figure:
    """Four small panels (accuracy, ECE, mean epistemic, OOD-flag rate) against severity, one line per method.

    ``curves`` is ``severity_curves``' output; ``current`` draws a dotted vertical line at that severity.
    Methods differ by colour (Okabe–Ito), dash and marker shape, so the lines survive a grey projector.
    """
    labels = labels or {}
    rot = kind == ROTATION
    fig = make_subplots(rows=2, cols=2, subplot_titles=[METRIC_LABELS[m] for m in METRICS],
                        horizontal_spacing=0.1, vertical_spacing=0.14)
    for i, method in enumerate(dict.fromkeys(curves["method"])):
        c = curves[curves["method"] == method].sort_values("severity")
        name = labels.get(method, method)
        for j, metric in enumerate(METRICS):
            is_nats = metric == "epistemic"
            fmt = ":.3f} nats" if is_nats else ":.1%}"
            fig.add_trace(go.Scatter(
                x=c["severity"].tolist(), y=c[metric].tolist(), name=name, legendgroup=method,
                showlegend=j == 0, mode="lines+markers",
                line=dict(color=OKABE_ITO[i % len(OKABE_ITO)], dash=DASHES[i % len(DASHES)], width=2.5),
                marker=dict(symbol=SYMBOLS[i % len(SYMBOLS)], size=9),
                hovertemplate=f"{name}<br>%{{x}}{'°' if rot else ''}: %{{y{fmt}<extra></extra>"),
                row=j // 2 + 1, col=j % 2 + 1)
    fig.add_hline(y=0.05, line=dict(color="#777777", dash="dot", width=1.5), row=2, col=2,
                  annotation_text="5% of clean digits, by design", annotation_position="top right",
                  annotation_bgcolor="rgba(255,255,255,0.85)")
    if current is not None:
        fig.add_vline(x=int(current), line=dict(color="#333333", dash="dot", width=2), row="all", col="all")
    steps = list(severities(kind))[:: 2 if rot else 1]
    axis_fonts = dict(tickfont=dict(size=font_size - 2), title_font=dict(size=font_size - 1))
    fig.update_xaxes(tickmode="array", tickvals=steps, ticktext=[severity_label(kind, s).split()[0] for s in steps],
                     showgrid=True, gridcolor="#e5e5e5", zeroline=False, **axis_fonts)
    fig.update_xaxes(title_text="rotation angle" if rot else "severity (0 = clean digits)", row=2)
    fig.update_yaxes(showgrid=True, gridcolor="#e5e5e5", zeroline=False, **axis_fonts)
    for j in (0, 1, 3):  # shares in [0, 1]: accuracy, ECE, flag rate
        fig.update_yaxes(tickformat=".0%", rangemode="tozero", row=j // 2 + 1, col=j % 2 + 1)
    fig.update_yaxes(range=[0, 1.04], row=1, col=1)
    fig.update_yaxes(range=[0, 1.04], row=2, col=2)
    fig.update_yaxes(title_text="nats", rangemode="tozero", row=2, col=1)
    fig.update_annotations(font_size=font_size)  # the panel titles
    fig.update_layout(font=dict(size=font_size), height=height, plot_bgcolor="white",
                      margin=dict(t=90, b=60, l=70, r=20), hovermode="closest",
                      legend=dict(orientation="h", yanchor="bottom", y=1.07, x=0, font=dict(size=font_size - 1)))
    return fig
