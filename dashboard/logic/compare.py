"""Compare page logic: the metrics table of every method (with the best value per column), the prediction-set
table and the copy."""
from __future__ import annotations

import pandas as pd

LOWER_IS_BETTER = {"NLL", "Brier", "ECE", "AURC"}
COLUMN_HELP = {
    "Accuracy": "Share of the test digits read correctly. Higher is better.",
    "NLL": "Negative log-likelihood: how surprised the model is by the true digit, on average (nats). Punishes "
           "confident mistakes hard. Lower is better.",
    "Brier": "Squared distance between the predicted probabilities and the true digit (0 to 2). Lower is better.",
    "ECE": "Expected calibration error: average gap between confidence and accuracy (15 bins). Lower is better.",
    "AURC": "Area under the risk-coverage curve: the average error rate when the model may abstain on its least "
            "certain images first. Lower is better.",
}
VIEWS = {"png": "as uploaded files", "arrays": "as generated arrays"}  # the histograms' two views of each set


def metrics_table(result: dict, titles: dict):
    """``uqcore.evaluate.evaluate``'s per-method numbers as a Styler: one row per method, the best value per
    column starred and shaded."""
    ood_sets = list(next(iter(result["methods"].values()))["ood"])
    rows = {}
    for name, r in result["methods"].items():
        row = {"Accuracy": r["accuracy"], "NLL": r["nll"], "Brier": r["brier"], "ECE": r["ece"], "AURC": r["aurc"]}
        row |= {f"OOD AUROC: {s}": r["ood"][s]["auroc"] for s in ood_sets}
        rows[titles[name]] = row
    table = pd.DataFrame(rows).T
    best = {c: (table[c].idxmin() if c in LOWER_IS_BETTER else table[c].idxmax()) for c in table.columns}

    def fmt(col):
        pct = col == "Accuracy"
        return lambda v: (f"{v:.2%}" if pct else f"{v:.4f}") + (" ★" if v == table.loc[best[col], col] else "")

    styler = table.style.format({c: fmt(c) for c in table.columns})
    for c in table.columns:
        styler = (styler.highlight_min if c in LOWER_IS_BETTER else styler.highlight_max)(
            subset=[c], props="background-color: #cfe3f3; font-weight: bold")
    return styler


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
