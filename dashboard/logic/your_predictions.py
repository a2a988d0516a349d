"""Your predictions page logic (plain Python): an analyst's own model outputs (``uqcore.data.external``)
read like the build's: metrics at a temperature, the rows as a CSV, the most confident mistakes."""
from __future__ import annotations

import io

import numpy as np

from uqcore.analysis.calibration import lab_metrics, rescale
from uqcore.evaluate import external_logits as logits_of
from uqcore.evaluate import external_uncertainties as uncertainties

HALF_NOTE = ("There is no separate validation split in your file, so the best temperature, the calibrators and the "
             "prediction sets are fitted on a seeded half of the rows, and the calibration figures and the "
             "abstention curve are measured on the other half. The uncertainty chart, the mistakes and the CSV "
             "use every row.")


def metrics_at(ext, rows: np.ndarray, temperature: float, *, n_bins: int = 15, strategy: str = "uniform") -> dict:
    """``lab_metrics`` of ``rows`` at ``temperature`` (ECE, MCE, NLL, Brier, accuracy and the bins)."""
    return lab_metrics(rescale(logits_of(ext)[rows], temperature), ext.y[rows], n_bins=n_bins, strategy=strategy)


def fixed_figures(ext) -> dict:
    """What does not move with the temperature: the scored rows, uncertainties, right/wrong, the figures at T = 1,
    the risk-coverage curve of the scored rows and the accuracy when abstaining on the 5% most uncertain."""
    from uqcore.data.external import halves
    from uqcore.metrics.selective import accuracy_at_coverage, risk_coverage

    _, rows = halves(ext.n)
    unc = uncertainties(ext)
    correct = ext.probs.argmax(1) == ext.y
    rc = risk_coverage(unc["total"][rows], correct[rows])
    return {"rows": rows, "unc": unc, "correct": correct, "at_1": metrics_at(ext, rows, 1.0), "curve": rc,
            "keep_95": accuracy_at_coverage(unc["total"][rows], correct[rows], 0.95)}


def confident_mistakes(ext, k: int = 16) -> np.ndarray:
    """Row indices of the ``k`` wrong answers given with the highest confidence (most confident first)."""
    wrong = np.flatnonzero(ext.probs.argmax(1) != ext.y)
    return wrong[np.argsort(-ext.probs[wrong].max(1), kind="stable")[:k]]


def rows_csv(ext, temperature: float, unc: dict | None = None) -> str:
    """Every row as CSV: index, true label, predicted label, confidence at ``temperature``, right or not, and the
    uncertainties (nats, at T = 1; ``unc`` when the caller already has them, ``uncertainties(ext)``)."""
    probs = rescale(logits_of(ext), temperature)
    cols = {"index": np.arange(ext.n), "y_true": ext.y, "predicted": probs.argmax(1),
            "confidence": np.round(probs.max(1), 6), "correct": (probs.argmax(1) == ext.y).astype(int)}
    cols.update({k: np.round(v, 6) for k, v in (unc or uncertainties(ext)).items()})
    buf = io.StringIO()
    buf.write(",".join(cols) + "\n")
    np.savetxt(buf, np.column_stack([np.asarray(v, dtype=float) for v in cols.values()]), delimiter=",",
               fmt=["%d", "%d", "%d", "%.6f", "%d"] + ["%.6f"] * (len(cols) - 5))
    return buf.getvalue()
