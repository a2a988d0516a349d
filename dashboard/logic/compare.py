"""Compare page logic: the metrics table of every method (every value that ties the best as shown is starred),
the prediction-set table and the copy."""
from __future__ import annotations

from html import escape

import pandas as pd

TEST_TABLE, OOD_TABLE = "On the test digits", "OOD AUROC: how well each method's own score spots unusual images"
# header -> (key in evaluate's per-method row, scale, decimals, suffix, lower is better); a value is shown as
# format(value * scale, f".{decimals}f") + suffix, and the best is picked among the values as shown
COLUMNS = {
    "Accuracy": ("accuracy", 100, 2, "%", False),
    "NLL": ("nll", 1, 4, "", True),
    "Brier": ("brier", 1, 4, "", True),
    "ECE": ("ece", 100, 2, "%", True),  # calibration errors are percent with 2 decimals on every page
    "AURC (‰)": ("aurc", 1000, 2, "", True),
}
AUROC_DECIMALS = 3  # as in the histograms' table further down the page
COLUMN_HELP = {
    "Accuracy": "Share of the test digits read correctly. Higher is better.",
    "NLL": "Negative log-likelihood: how surprised the model is by the true digit, on average (nats). Punishes "
           "confident mistakes hard. Lower is better.",
    "Brier": "Squared distance between the predicted probabilities and the true digit (0 to 2). Lower is better.",
    "ECE": "Expected calibration error: the average gap between confidence and accuracy, in percentage points "
           "(15 bins). Lower is better.",
    "AURC (‰)": "Area under the risk-coverage curve, in per mille (×1000: 0.50 ‰ = 0.0005): the error rate "
                "averaged over every share of images answered, when the model may abstain on its least certain "
                "images first. Lower is better. Methods that read the same differ by less than 0.01 ‰, about what "
                "one mistake moved among the least certain images changes.",
}
OOD_HELP = ("How well the method's own unusualness score separates this set's images from test digits: "
            "1 = perfectly, 0.5 = chance. Higher is better.")
HELD_OUT_NOTE = ("'Held out' sets were kept out of every choice that was tuned, and written by someone who never saw "
                 "a score on them: their numbers are the honest estimate. 'Development' sets helped shape the "
                 "headline's model, so their numbers flatter it. 'Training kinds': the headline's model was trained "
                 "on other drawings of the same kinds, so their numbers say how it does on what it was taught.")
STAR_NOTE = "★ shaded: the best value in each column as shown (every method that ties it shares the star)."
VIEWS = {"png": "as uploaded files", "arrays": "as generated arrays"}  # the histograms' two views of each set
TABLE_FONT = 15  # px
OOD_PADDING = "6px 5px"  # the OOD table has a column per set (11): narrower cells fit it on a 1280 px projector
BEST_PROPS = "background-color: #cfe3f3; font-weight: bold"
CELL_PROPS = "padding: 6px 9px"


def shown(value: float, scale: float = 1, decimals: int = 4, suffix: str = "") -> str:
    """A number as the table shows it."""
    return f"{value * scale:.{decimals}f}{suffix}"


def percent(value: float) -> str:
    """A calibration error (ECE, adaptive or class-wise ECE, MCE) as every page shows it: percent, 2 decimals."""
    return shown(value, 100, 2, "%")


def best_mask(values, scale: float = 1, decimals: int = 4, lower: bool = False) -> pd.Series:
    """True for every value that ties the best one at the displayed precision, so values that read the same
    share the star. NaN is never best."""
    rounded = pd.Series(values, dtype=float).map(lambda v: round(v * scale, decimals))
    top = rounded.min() if lower else rounded.max()
    return rounded == top


def _header(label: str, help_text: str | None) -> str:
    return f'<span title="{escape(help_text)}">{escape(label)}</span>' if help_text else escape(label)


def metrics_table(result: dict, titles: dict, part: str = "test"):
    """``uqcore.evaluate.evaluate``'s per-method numbers as a Styler of the shown text, one row per method:
    ``part`` "test" (accuracy, NLL, Brier, ECE, AURC) or "ood" (OOD AUROC per set). Each header's help is its
    tooltip; every value that ties the best at the displayed precision is starred and shaded."""
    methods = result["methods"]
    names = list(methods)
    if part == "test":
        spec = {c: (lambda r, k=key: r[k], scale, dec, suf, low) for c, (key, scale, dec, suf, low) in COLUMNS.items()}
        helps, caption = COLUMN_HELP, TEST_TABLE
    elif part == "ood":
        spec = {s: (lambda r, s=s: r["ood"][s]["auroc"], 1, AUROC_DECIMALS, "", False)
                for s in methods[names[0]]["ood"]}
        helps, caption = {s: OOD_HELP for s in spec}, OOD_TABLE
    else:
        raise ValueError(f"part must be 'test' or 'ood', got {part!r}.")
    index = [titles[n] for n in names]
    text, best = {}, {}
    for col, (get, scale, dec, suf, low) in spec.items():
        values = [get(methods[n]) for n in names]
        best[col] = best_mask(values, scale, dec, low).to_numpy()
        text[col] = [shown(v, scale, dec, suf) + (" ★" if b else "") for v, b in zip(values, best[col])]
    table, marks = pd.DataFrame(text, index=index), pd.DataFrame(best, index=index)
    return (table.style.set_caption(f'<div style="text-align: left; font-weight: 600">{escape(caption)}</div>')
            .apply(lambda _: marks.map(lambda b: f"{CELL_PROPS}; {BEST_PROPS}" if b else CELL_PROPS), axis=None)
            .format_index(lambda c: _header(c, helps.get(c)), axis=1, escape=None)
            .map_index(lambda _: CELL_PROPS, axis=1).map_index(lambda _: CELL_PROPS, axis=0))


def your_row(metrics: dict) -> dict[str, str]:
    """An analyst's file's test-table numbers (``COLUMNS``' keys in ``metrics``) as the table shows them."""
    return {col: shown(metrics[key], scale, dec, suf) for col, (key, scale, dec, suf, _) in COLUMNS.items()}


EXPORT_METRICS = ("accuracy", "f1_macro", "nll", "brier", "ece", "mce", "adaptive_ece", "classwise_ece", "aurc")


def metrics_csv(result: dict, titles: dict) -> str:
    """Both tables' numbers at full precision, one row per method, as CSV: the test metrics (shares 0..1, not
    percent) and, per OOD set, AUROC, AUPR and FPR95 of the method's own score."""
    rows = {}
    for name, r in result["methods"].items():
        row = {"method": name, "title": titles.get(name, name), **{k: r[k] for k in EXPORT_METRICS if k in r}}
        for s, m in r.get("ood", {}).items():
            row.update({f"{s}_auroc": m["auroc"], f"{s}_aupr": m["aupr"], f"{s}_fpr95": m["fpr95"]})
        rows[name] = row
    return pd.DataFrame(list(rows.values())).to_csv(index=False, float_format="%.6g")


def column_notes(scores: dict) -> list[str]:
    """One caption per column of the table; ``scores``: method title -> its OOD score's name."""
    lines = [f"**{c}**: {h}" for c, h in COLUMN_HELP.items()]
    lines.append("**OOD AUROC: <set>**: how well the method's own unusualness score separates that set's images "
                 "(letters, noise, photos, blank images) from test digits: 1 = perfectly, 0.5 = chance. Higher is "
                 "better. Scores: " + "; ".join(f"{t}: {s}" for t, s in scores.items()) + ".")
    return lines


def sets_table(result: dict, titles: dict):
    """Per method, its readers' sets (RAPS, alpha 0.05) on test, rotated and corrupted digits: share of sets
    holding the right digit and mean digits per set (from ``evaluate``'s "conformal")."""
    rows = {}
    for name, row in result["methods"].items():
        c = row.get("conformal")
        if not c:
            continue
        test = c["raps"]["0.05"]
        out = {"test: right digit in set": f"{test['coverage']:.1%}", "test: digits per set": f"{test['mean_size']:.2f}"}
        for s, m in c["shift"].items():
            out[f"{s}: right digit in set"] = f"{m['coverage']:.1%}"
            out[f"{s}: digits per set"] = f"{m['mean_size']:.2f}"
        rows[titles.get(name, name)] = out
    return pd.DataFrame(rows).T


def held_out_mark(family: str, summary: dict) -> str:
    """The 'held out' cell of a set in Compare's score table: 'yes', 'development', 'training kinds' or ''
    (``summary``: the ``file_path`` part of ``evaluate --json``)."""
    if family in summary["held_out"]:
        return "yes"
    if family in summary.get("training_kinds", ()):
        return "training kinds"
    return "development" if family in summary.get("development", ()) else ""
