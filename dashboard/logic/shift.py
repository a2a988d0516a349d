"""Shift lab logic: display names and descriptions of the shifts, the slider's steps and labels, display
rounding, the best-method star and the one plain sentence about the chosen cell. The numbers come from
``uqcore.analysis.shift``; the figure from ``uqcore.plots.severity_figure``."""
from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.logic import view as urlview
from uqcore import plots
from uqcore.analysis.shift import ALL_CORRUPTIONS, METRICS, ROTATION, SHIFT_KINDS, _check_kind, severities
from uqcore.data.shift import CORRUPTIONS

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


def shift_label(kind: str) -> str:
    """Display name: "rotation" -> "Rotation", "gaussian_blur" -> "Gaussian blur"."""
    return _LABELS.get(_check_kind(kind), kind.replace("_", " ").capitalize())


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


DECIMALS = {"accuracy": 1, "ece": 2}  # percent decimals as printed: ECE as on every other page (0.28%)


def as_shown(share: float, decimals: int = 1) -> float:
    """A share (0..1) as the page prints it, in percent with ``decimals``: 0.01549 -> 1.5 (1), 1.55 (2).

    Same rounding as ``f"{share:.1%}"`` (or ``.2%``), so methods that print alike compare alike.
    """
    return round(float(share) * 100, decimals)


def best_methods(table: pd.DataFrame) -> dict[str, list[str]]:
    """The methods with the highest accuracy and those with the lowest ECE, in table order ([] if all nan).

    Values are compared as shown (``as_shown``: percent, ``DECIMALS``), so every method that prints the
    best number shares it. Epistemic uncertainty and flag rate have no "best": on damaged images more is
    what we want, on clean ones less, so only their trend over severities says something.
    """
    out: dict[str, list[str]] = {}
    for col, pick in (("accuracy", max), ("ece", min)):
        shown = {m: as_shown(v, DECIMALS[col]) for m, v in table[col].items() if np.isfinite(v)}
        top = pick(shown.values()) if shown else None
        out[col] = [m for m, v in shown.items() if v == top]
    return out


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
        return (f"{start} {who} (ECE {_each(r['ece'], '.2%')}), "
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
            f"(ECE {_each(r['ece'], '.2%')}); {moved}{', and ' if flags else ''}{flags}{before}.")




def severity_figure(curves: pd.DataFrame, kind: str, *, current: int | None = None, labels: dict | None = None,
                    font_size: int = 16, height: int = 720):
    """``uqcore.plots.severity_figure`` with this shift's steps, tick labels and axis title."""
    rot = kind == ROTATION
    steps = list(severities(kind))[:: 2 if rot else 1]
    return plots.severity_figure(
        curves, panels={m: METRIC_LABELS[m] for m in METRICS}, steps=steps,
        tick_labels=[severity_label(kind, s).split()[0] for s in steps],
        x_title="rotation angle" if rot else "severity (0 = clean digits)", unit="°" if rot else "",
        current=current, labels=labels, font_size=font_size, height=height)


# ----------------------------------------------------------------------------- the view in a URL
DEFAULT_KIND, DEFAULT_SEVERITY = ROTATION, 90


def view_specs(methods, default_method: str):
    """kind, severity (checked against the kind's steps by ``snap_severity``) and method."""
    return (urlview.choice("kind", SHIFT_KINDS, DEFAULT_KIND, what="shift"),
            urlview.integer("severity", DEFAULT_SEVERITY, 0, 180),
            urlview.choice("method", methods, default_method))


# ----------------------------------------------------------------------------- page copy and the table
TINY = 20  # fewer images than this in a cell: say the numbers are noisy
ONE_NETWORK = "0 (one network)"  # epistemic of a method with one set of weights (no epistemic part)
HELP = {
    "accuracy": "Share of these images whose digit the method reads correctly. Higher is better.",
    "ece": "Expected calibration error (15 bins): the average gap between how sure the method says it is and how "
           "often it is actually right. 0% = its confidence can be taken at face value. Lower is better.",
    "epistemic": "Epistemic uncertainty, in nats: how much plausible versions of the model disagree, i.e. the "
                 "model knowing it has not seen images like these. On damaged images it *should* rise. The single "
                 "network and temperature scaling have one set of weights, so theirs is always 0.",
    "flag_rate": "Share of these images the method's out-of-distribution score flags as 'unlike the training "
                 "digits'. The threshold lets 5% of clean digits through as flagged; on damaged images a "
                 "trustworthy method flags more.",
    "n": "How many images this row is measured on.",
}
PP = " The small number underneath is the change since {ref}, in pp = percentage points."  # metrics with a pp delta


def metric_help(key: str, kind: str, at_zero: bool) -> str:
    """A headline metric's tooltip; with a delta, what the delta is measured against."""
    return HELP[key] + ("" if at_zero else PP.format(ref="0°" if kind == ROTATION else "the clean digits"))


def where(kind: str, severity: int) -> str:
    """ "90°" or "severity 3": the chosen setting in the page's headings."""
    return severity_label(kind, severity) if kind == ROTATION else f"severity {severity_label(kind, severity)}"


def source(kind: str, severity: int) -> str:
    return "rotated test digits" if kind == ROTATION else "clean test digits" if severity == 0 else "damaged test digits"


def example_caption(true: int, pred: int, confidence: float, variant: str, kind: str) -> str:
    """ "✓ true 7 · said 7 · 98% sure" (the order of widgets.reading_caption), plus the damage when pooled."""
    nb = "\u00a0"
    caption = f"{'✓' if true == pred else '✗'}{nb}true{nb}{true} · said{nb}{pred} · {confidence:.0%}{nb}sure"
    if variant and kind != variant:
        caption += f" · {shift_label(str(variant)).lower()}"
    return caption


def styled_table(table: pd.DataFrame, titles: dict):
    """Every method at one setting as a pandas Styler: the best accuracy and ECE as shown get a star and shading
    (ties share it), epistemic 0 reads "0 (one network)"."""
    shown = pd.DataFrame({
        "Accuracy": table["accuracy"], "ECE": table["ece"], "Mean epistemic (nats)": table["epistemic"],
        "OOD-flag rate": table["flag_rate"], "Images": table["n"],
    }).rename(index=titles).rename_axis(None)
    digits = {"Accuracy": DECIMALS["accuracy"], "ECE": DECIMALS["ece"]}
    best = {("Accuracy" if c == "accuracy" else "ECE"): as_shown(table.loc[ms[0], c], DECIMALS[c]) if ms else None
            for c, ms in best_methods(table).items()}

    def is_best(col: str, v) -> bool:
        return best.get(col) is not None and np.isfinite(v) and as_shown(v, digits[col]) == best[col]

    def fmt(col: str):
        def f(v) -> str:
            if col == "Images":
                return f"{int(v):,}"
            if not np.isfinite(v):
                return "n/a"
            if col == "Mean epistemic (nats)":
                return ONE_NETWORK if v == 0 else f"{v:.3f}"
            return f"{v:.{digits.get(col, 1)}%}{' ★' if is_best(col, v) else ''}"
        return f

    def shade(column: pd.Series) -> list[str]:
        return ["background-color: #cfe3f3; font-weight: bold" if is_best(column.name, v) else "" for v in column]

    return shown.style.format({c: fmt(c) for c in shown.columns}).apply(shade, subset=list(best))
