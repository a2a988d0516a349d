"""Predictions for user images: every method, with uncertainties, OOD flag and a verdict."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from uqcore.data.preprocess import ImageError, to_mnist
from uqcore.methods import Method
from uqcore.analysis import sets
from uqcore.verdict import (CONFIDENT, FALLBACK_SOURCE, HEADLINE_SOURCE, Headline, headline, not_a_digit_probability,
                            verdict)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff", ".svg"}


def expand_paths(paths: list[str | Path]) -> tuple[list[Path], list[dict]]:
    """Files as given; folders expand to the image files inside (sorted). Missing paths become errors."""
    files, errors = [], []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                errors.append({"path": str(p), "error": "This folder holds no image files."})
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            errors.append({"path": str(p), "error": "No such file or folder."})
    return files, errors


def predict_one(methods: dict[str, Method], x: np.ndarray, context=None) -> dict[str, dict]:
    """Per method: label, probs (10), confidence, total, aleatoric, epistemic, ood_score, is_ood, verdict;
    with ``context`` (``uqcore.analysis.sets.build_context``) also its prediction set ("set", "set_phrase")
    and what its confidence means on the test digits ("meaning"). Teaching methods (``Method.teaching``: the
    Calibration lab's overconfident network) do not read pictures."""
    x = np.asarray(x, dtype=np.float32).reshape(1, -1)
    out = {}
    for name, method in methods.items():
        if method.teaching:
            continue
        pred = method.predict(x)
        is_ood = bool(method.is_ood(pred.ood_score)[0])
        v = verdict(pred.probs[0], aleatoric=float(pred.aleatoric[0]), epistemic=float(pred.epistemic[0]),
                    is_ood=is_ood)
        out[name] = {
            "label": int(pred.label[0]),
            "probs": [float(p) for p in pred.probs[0]],
            "probs_std": [float(s) for s in pred.member_probs[:, 0].std(0)],
            "confidence": float(pred.confidence[0]),
            "total": float(pred.total[0]),
            "aleatoric": float(pred.aleatoric[0]),
            "epistemic": float(pred.epistemic[0]),
            "ood_score": float(pred.ood_score[0]),
            "is_ood": is_ood,
            "verdict": v.sentence,
        }
        if context is not None and name in context.sets:
            digits = sets.prediction_set(pred.probs[0], context.sets[name])
            out[name].update({"set": digits, "set_phrase": sets.set_phrase(digits),
                              "meaning": sets.meaning(float(pred.confidence[0]), context.bins[name])})
    return out


def predict_paths(methods: dict[str, Method], paths: list[str | Path], familiarity=None, context=None, *,
                  explain: bool = False) -> dict:
    """The JSON of ``python -m uqcore predict``: results for good images, plain errors for the rest.
    With ``familiarity`` (``uqcore.metrics.familiarity.Familiarity``) every result also gets the headline;
    with ``context`` the prediction sets (``predict_one``); with ``explain`` an integrated-gradients map of the
    headline's digit, given only when the headline is confident (``explanation_for``)."""
    files, errors = expand_paths(paths)
    results = []
    for f in files:
        try:
            pre = to_mnist(f)
        except ImageError as e:
            errors.append({"path": str(f), "error": str(e)})
            continue
        if pre.is_empty:
            errors.append({"path": str(f), "error": "No digit found: the picture is blank or nothing stands out "
                                                    "from the paper."})
            continue
        per_method = predict_one(methods, pre.x, context)
        row = {"path": str(f), "methods": per_method}
        if familiarity is not None:
            h = headline_for(familiarity, per_method, pre.x)
            row["headline"] = h.to_json()
            if explain:
                row["explanation"] = explanation_for(methods, h, pre.x, as_lists=True)
        row["framing"], row["notes"] = pre.framing, pre.notes
        results.append(row)
    return {"results": results, "errors": errors}


def headline_for(familiarity, results: dict[str, dict], x: np.ndarray) -> Headline:
    """The headline for one image: ``predict_one``'s ``results`` (the headline reader's probabilities; the
    ensemble's, then any method's, where it is missing) and the familiarity (``uqcore.metrics.familiarity``) of
    ``x``, whose fit also holds the confident cut."""
    source = headline_source(results)
    terms = {k: float(v[0]) for k, v in familiarity.layer_scores(np.asarray(x, np.float32).reshape(1, 784)).items()}
    s = sum(terms.values())
    return headline(np.asarray(results[source]["probs"]), familiarity=s, familiarity_threshold=familiarity.threshold_,
                    familiar_share=familiarity.percentile(s), source=source, terms=terms,
                    confident=getattr(familiarity, "confident_", CONFIDENT), prediction_set=results[source].get("set"),
                    band=getattr(familiarity, "band_", None),
                    not_a_digit=float(not_a_digit_probability(results[source]["ood_score"]))
                    if source == HEADLINE_SOURCE else 0.0)


def headline_source(available) -> str:
    """Whose probabilities the headline reads: the reader, else the ensemble, else the first method."""
    return next((m for m in (HEADLINE_SOURCE, FALLBACK_SOURCE) if m in available), next(iter(available)))


def explanation_for(methods: dict[str, Method], h: Headline, x: np.ndarray, *, as_lists: bool = False) -> dict:
    """Integrated gradients (``uqcore.explain``) of the headline's digit for the headline's method, only when
    the headline is confident and its prediction set names one digit (an explanation of an unsure or
    unfamiliar reading would only mislead).
    Keys: shown, reason; when shown also method, target, completeness_error and attributions (28x28)."""
    from uqcore import explain

    shown, reason = explain.should_explain(h.kind)
    if shown and len(h.prediction_set) > 1:  # confident, but its guaranteed answer names several digits
        shown, reason = False, explain.SEVERAL_DIGITS_REASON
    if not shown:
        return {"shown": False, "reason": reason}
    method = methods[h.evidence["probabilities"]["source"]]
    e = explain.integrated_gradients(explain.explain_network(method), x, h.label)
    attr = np.round(e.attributions, 5).tolist() if as_lists else e.attributions
    return {"shown": True, "reason": "", "method": method.name, "target": e.target,
            "completeness_error": e.completeness_error, "attributions": attr}
