"""Metrics of every method on every evaluation set, from the build's cached predictions (no forward pass)."""
from __future__ import annotations

import threading

from uqcore.analysis.calibration import logits_for
from uqcore.metrics.calibration import calibration_report, ece
from uqcore.metrics.calibrators import TEXTBOOK, compare
from uqcore.metrics.ood import ood_metrics
from uqcore.metrics.selective import aurc


# Bump when evaluate's code, or a metric or calibrator it calls, changes what it returns: the cached evaluations
# are keyed by the build's stages and this number only.
EVALUATION_VERSION = 6


def evaluation_key(store, config) -> str:
    """The artifact key of a build's evaluation (``evaluate_cached``)."""
    from uqcore.build import stage_keys

    return store.key("evaluation", {"stages": stage_keys(store, config.resolved()), "version": EVALUATION_VERSION})


def evaluate_cached(bundle) -> dict:
    """``evaluate(bundle)``, kept in the bundle's store: computed once per build (~14 s on the full build, most of
    it fitting the calibrators), then loaded in milliseconds by the CLI and the app (Compare methods)."""
    store = bundle.store
    key = evaluation_key(store, bundle.config)
    with _EVALUATING:  # a page and the first start's background turn at once: one computes, the other loads
        found = store.load_record(key)
        if found is not None:
            return found[0]
        result = evaluate(bundle)
        store.save_record(key, result, {"stage": "evaluation"})
        again = store.load_record(key)  # as every later call gets it (tuples become lists)
        return result if again is None else again[0]


_EVALUATING = threading.Lock()


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
        # (the textbook forms of histogram binning and isotonic regression for reference, not offered)
        zv, zt = logits_for(pred, "val", name)[0], logits_for(pred, "test", name)[0]
        row["calibrators"] = compare(zv, pred.y("val"), zt, y, n_bins=15)
        row["calibrators_textbook"] = compare(zv, pred.y("val"), zt, y, n_bins=15, which=TEXTBOOK)
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


def external_logits(ext):
    """The file's logits, or log(probs) where it gave probabilities (the same softmax at T = 1)."""
    import numpy as np

    return ext.logits if ext.logits is not None else np.log(np.clip(ext.probs, 1e-12, None))


def external_uncertainties(ext) -> dict:
    """Per row, in nats: "total", and "aleatoric" / "epistemic" when member probabilities were given."""
    from uqcore.metrics.uncertainty import decompose, entropy

    if ext.member_probs is None:
        return {"total": entropy(ext.probs)}
    d = decompose(ext.member_probs)
    return {"total": d.total, "aleatoric": d.aleatoric, "epistemic": d.epistemic}


def evaluate_external(ext, *, n_bins: int = 15, seed: int = 0) -> dict:
    """The JSON of ``python -m uqcore evaluate --predictions FILE`` (``uqcore.data.external``): the test metrics
    of the rows as given, the uncertainty split when member probabilities are given, and, because there is no
    separate validation split, calibrators and conformal sets fitted on a seeded half of the rows and scored on
    the other half."""
    from uqcore.data.external import halves
    from uqcore.metrics.conformal import sweep

    y, probs = ext.y, ext.probs
    row = {k: float(v) for k, v in calibration_report(probs, y, n_bins=n_bins).items()}
    unc = external_uncertainties(ext)
    row["uncertainty"] = {k: float(v.mean()) for k, v in unc.items()}
    if ext.member_probs is not None:
        row["uncertainty"]["members"] = int(ext.member_probs.shape[0])
    row["aurc"] = float(aurc(unc["total"], probs.argmax(1) == y))
    logits = external_logits(ext)
    a, b = halves(ext.n, seed)
    row["calibrators"] = compare(logits[a], y[a], logits[b], y[b], n_bins=n_bins)
    row["calibrators_textbook"] = compare(logits[a], y[a], logits[b], y[b], n_bins=n_bins, which=TEXTBOOK)
    alphas = (0.01, 0.05, 0.1)
    row["conformal"] = {score: {str(al): {"coverage": float(c), "mean_size": float(m)}
                                for al, c, m in zip(alphas, *(lambda r: (r["coverage"], r["mean_size"]))(
                                    sweep(probs[a], y[a], probs[b], y[b], alphas, score=score)))}
                        for score in ("lac", "aps", "raps")}
    return {"source": ext.source, "n": ext.n, "n_classes": ext.n_classes,
            "split": f"calibrators and conformal sets: fitted on {len(a)} rows, scored on the other {len(b)} "
                     f"(seed {seed})", "logits_given": ext.logits is not None, "metrics": row}


def table_external(result: dict) -> str:
    """``evaluate_external``'s JSON as text."""
    m = result["metrics"]
    lines = [f"{result['source']}: {result['n']} rows, {result['n_classes']} classes",
             "  " + "  ".join(f"{k} {m[k]:.4f}" for k in ("accuracy", "nll", "brier", "ece", "mce", "aurc")),
             "  uncertainty (mean, nats): " + ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                                                        for k, v in m["uncertainty"].items()),
             f"  calibrators ({result['split']}):"]
    lines += [f"    {k:<16} ECE {v['ece']:.4f}  NLL {v['nll']:.4f}" for k, v in m["calibrators"].items()]
    lines += [f"    {k + ' (textbook)':<16} ECE {v['ece']:.4f}  NLL {v['nll']:.4f}"
              for k, v in m["calibrators_textbook"].items()]
    lines += ["  conformal sets, coverage / mean size at alpha 0.05: "
              + ", ".join(f"{s} {v['0.05']['coverage']:.3f} / {v['0.05']['mean_size']:.2f}"
                          for s, v in m["conformal"].items())]
    return "\n".join(lines)


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
