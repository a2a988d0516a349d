"""Metrics of every method on every evaluation set, from the build's cached predictions (no forward pass)."""
from __future__ import annotations

from uqcore.analysis.calibration import logits_for
from uqcore.metrics.calibration import calibration_report, ece
from uqcore.metrics.calibrators import compare
from uqcore.metrics.ood import ood_metrics
from uqcore.metrics.selective import aurc


def evaluate(bundle) -> dict:
    """The JSON of ``python -m uqcore evaluate``: per method, test metrics, OOD detection per OOD set
    (the method's own OOD score; test digits are the negatives), accuracy / ECE per shifted set, and
    conformal coverage / mean set size (``uqcore.analysis.sets.coverage_report``)."""
    pred = bundle.predictions
    y = pred.y("test")
    sets = bundle.set_names
    out = {"n_test": int(len(y)), "methods": {}}
    for name, method in bundle.methods.items():
        probs = pred.get("test", name, "probs")
        row = {k: float(v) for k, v in calibration_report(probs, y, n_bins=15).items()}
        row["aurc"] = float(aurc(pred.get("test", name, "total"), probs.argmax(1) == y))
        row["temperature"] = float(bundle.parts.temperature) if name == "temperature" else None
        # post-hoc calibrators (uqcore.metrics.calibrators) fitted on the validation logits, scored on test
        row["calibrators"] = compare(logits_for(pred, "val", name)[0], pred.y("val"),
                                     logits_for(pred, "test", name)[0], y, n_bins=15)
        scores_in = pred.get("test", name, "ood_score")
        row["ood"], row["shift"] = {}, {}
        for s in sets:
            kind = pred.info(s)["kind"]
            if kind == "ood":
                m = ood_metrics(scores_in, pred.get(s, name, "ood_score"))
                row["ood"][s] = {**{k: float(v) for k, v in m.items()}, "score": method.ood_score_name}
            elif kind == "shift":
                p, ys = pred.get(s, name, "probs"), pred.y(s)
                row["shift"][s] = {"accuracy": float((p.argmax(1) == ys).mean()), "ece": float(ece(p, ys))}
        out["methods"][name] = row
    from uqcore.analysis.sets import ALPHA, READER_SCORE, coverage_report

    for name, report in coverage_report(pred, bundle.methods).items():
        # coverage and mean set size on the test digits per score and alpha (calibrated on validation);
        # "shift": the readers' sets (RAPS, alpha 0.05) on rotated / corrupted digits
        out["methods"][name]["conformal"] = {**report, "shift_score": READER_SCORE, "shift_alpha": ALPHA}
    if bundle.file_path:
        from uqcore.file_path import summary

        fp = summary(bundle.file_path, {m: meth.ood_score_name for m, meth in bundle.methods.items()})
        for name, meth in bundle.methods.items():
            table = fp["scores"][f"{name} ({meth.ood_score_name})"]
            out["methods"][name]["ood_png"] = {s: {**v["png"], "score": meth.ood_score_name}
                                               for s, v in table.items() if "png" in v}
            out["methods"][name]["accuracy_png"] = fp["test_accuracy"][name]["png"]
        out["file_path"] = fp
    return out


def table(result: dict) -> str:
    """The evaluate JSON as aligned text tables."""
    import pandas as pd

    cols = ["accuracy", "f1_macro", "nll", "brier", "ece", "mce", "adaptive_ece", "classwise_ece", "aurc"]
    main = pd.DataFrame({m: {c: r[c] for c in cols} for m, r in result["methods"].items()}).T
    lines = [f"Test split ({result['n_test']} images)", main.to_string(float_format=lambda v: f"{v:.4f}")]
    ood = pd.DataFrame({m: {s: v["auroc"] for s, v in r["ood"].items()} for m, r in result["methods"].items()}).T
    if not ood.empty:
        scores = {m: r["ood"][next(iter(r["ood"]))]["score"] for m, r in result["methods"].items() if r["ood"]}
        ood.insert(0, "score", pd.Series(scores))
        lines += ["", "OOD detection, AUROC (OOD = positive class; test digits = negatives)",
                  ood.to_string(float_format=lambda v: f"{v:.4f}")]
    shift = pd.DataFrame({m: {f"{s} acc": v["accuracy"] for s, v in r["shift"].items()}
                          | {f"{s} ece": v["ece"] for s, v in r["shift"].items()}
                          for m, r in result["methods"].items()}).T
    if not shift.empty:
        lines += ["", "Shifted sets: accuracy and ECE", shift.to_string(float_format=lambda v: f"{v:.4f}")]
    return "\n".join(lines)
