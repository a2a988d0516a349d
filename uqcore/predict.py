"""Predictions for user images: every method, with uncertainties, OOD flag and a verdict."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from uqcore.data.preprocess import ImageError, to_mnist
from uqcore.methods import Method
from uqcore.verdict import HEADLINE_SOURCE, Headline, headline, verdict

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


def predict_one(methods: dict[str, Method], x: np.ndarray) -> dict[str, dict]:
    """Per method: label, probs (10), confidence, total, aleatoric, epistemic, ood_score, is_ood, verdict."""
    x = np.asarray(x, dtype=np.float32).reshape(1, -1)
    out = {}
    for name, method in methods.items():
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
    return out


def predict_paths(methods: dict[str, Method], paths: list[str | Path], familiarity=None) -> dict:
    """The JSON of ``python -m uqcore predict``: results for good images, plain errors for the rest.
    With ``familiarity`` (``uqcore.metrics.familiarity.Familiarity``) every result also gets the headline."""
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
        per_method = predict_one(methods, pre.x)
        row = {"path": str(f), "methods": per_method}
        if familiarity is not None:
            row["headline"] = headline_for(familiarity, per_method, pre.x).to_json()
        row["framing"] = pre.framing
        results.append(row)
    return {"results": results, "errors": errors}


def headline_for(familiarity, results: dict[str, dict], x: np.ndarray) -> Headline:
    """The headline for one image: ``predict_one``'s ``results`` (the ensemble's probabilities; the
    single network's where the ensemble is missing) and the familiarity (``uqcore.metrics.familiarity``) of ``x``."""
    source = HEADLINE_SOURCE if HEADLINE_SOURCE in results else next(iter(results))
    s = float(familiarity.score(np.asarray(x, np.float32).reshape(1, 784))[0])
    return headline(np.asarray(results[source]["probs"]), familiarity=s, familiarity_threshold=familiarity.threshold_,
                    familiar_share=familiarity.percentile(s), source=source)
