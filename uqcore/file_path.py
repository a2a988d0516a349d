"""What users really do: save a picture as a file and upload it. Every family is measured twice,
as the arrays the build made and as files through ``uqcore.data.preprocess.to_mnist``, then summed up as
OOD tables and a verdict matrix (the share of each headline kind per family).

Families: ``test`` (clean MNIST test digits), every OOD set of the build, ``blends`` (two different
digits at 40-60%), ``sklearn_digits``, ``digit_photos`` (synthetic photos of digits on paper) and
``paper_photos`` (blank paper). ``HELD_OUT`` families (``uqcore.data.blind2``: scrawls, diagrams) were kept out of
every choice that was tuned (the score, its layers, k, the thresholds, the reader's training non-digits) and were
written by a helper session that never saw a score on them: their figures are the honest estimate (looked at in
aggregate only, four times: benchmarks/RESULTS.md says when). ``DEVELOPMENT`` families (objects, doodles) shaped the
headline reader's hand-drawn non-digits and the band: their figures flatter the headline. ``TRAINING_KINDS``
families (``uqcore.data.blind``: sketches, glyphs) were once held out; the headline reader trains on other drawings
from their generators (``families.OUTLIER_KINDS``), so their figures say how it does on the kinds it was taught.
"""
from __future__ import annotations

import io
from typing import Callable

import numpy as np
from PIL import Image

from uqcore.data import load_mnist
from uqcore.data.preprocess import ImageError, to_mnist
from uqcore.methods import Method
from uqcore.metrics.familiarity import LAYERS, Familiarity, layer_inputs, stratified_bank
from uqcore.metrics.ood import RelativeMahalanobis, ood_metrics
from uqcore.predictions import Predictions
from uqcore.predict import headline_source
from uqcore.verdict import (BAND_CONFIDENT, CONFIDENT, HEADLINE_SOURCE, READER_VETO, band_probability,
                            not_a_digit_probability)

HELD_OUT = ("scrawls", "diagrams")  # written blind (uqcore.data.blind2); only looked at in aggregate
DEVELOPMENT = ("objects", "doodles")  # the development set of the band's and the reader's non-digits
TRAINING_KINDS = ("sketches", "glyphs")  # written blind once; their generators now draw reader training
KINDS = ("confident", "ambiguous", "unfamiliar", "no_digit")
BLEND_MAX = 0.6  # blends with the dominant digit at most 60%
LABELLED = ("test", "blends", "sklearn_digits", "digit_photos")  # digits; every other family is OOD


def png_bytes(x784: np.ndarray) -> bytes:
    """A (784,) image in [0, 1] as an 8-bit grayscale PNG file (what a user would save)."""
    buf = io.BytesIO()
    Image.fromarray((np.asarray(x784).reshape(28, 28) * 255).round().astype(np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def through_files(files: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Files -> (model inputs (n, 784) float32, no digit found (n,) bool)."""
    x = np.zeros((len(files), 784), np.float32)
    empty = np.zeros(len(files), bool)
    for i, f in enumerate(files):
        try:
            p = to_mnist(f)
        except ImageError:
            empty[i] = True
            continue
        empty[i] = p.is_empty
        x[i] = p.x
    return x, empty


def _families(predictions: Predictions, n_photos: int):
    """(name, labels, arrays (n, 784) or None, files) for every family."""
    from uqcore.data import families
    from uqcore.data.shift import REGISTRY

    def stored(name, rows=slice(None)):
        return predictions.images(name)[rows].reshape(-1, 784), predictions.y(name)[rows]

    sets = predictions.sets
    out, extras = [], {}
    x, y = stored("test")
    out.append(("test", y, x, None))
    for s in sets:
        if s in REGISTRY and REGISTRY[s].kind == "ood":
            x, y = stored(s)
            out.append((s, y, x, None))
    if "ambiguous" in sets:
        rows = np.flatnonzero(predictions.meta("ambiguous", "mix_weight") <= BLEND_MAX)
        x, y = stored("ambiguous", rows)
        out.append(("blends", y, x, None))
        extras["blends/label_b"] = predictions.meta("ambiguous", "label_b")[rows]
    if "sklearn_digits" in sets:
        x, y = stored("sklearn_digits")
        out.append(("sklearn_digits", y, x, None))
    rng = np.random.default_rng(301)
    files, y, _ = families.digit_photos(n_photos, rng)
    out.append(("digit_photos", y, None, files))
    out.append(("paper_photos", np.full(max(n_photos // 6, 5), -1), None,
                families.paper_photos(max(n_photos // 6, 5), np.random.default_rng(302))))
    return out, extras


def measure(methods: dict[str, Method], fam: Familiarity, predictions: Predictions, *,
            n_photos: int = 300, progress: Callable[[int, int, str], None] | None = None) -> dict[str, np.ndarray]:
    """Arrays and file-path predictions of every method, and the familiarity scores, per family."""
    progress = progress or (lambda d, t, m: None)
    fams, extras = _families(predictions, n_photos)
    train = load_mnist().train
    bank = stratified_bank(train.y, fam.config.bank, fam.config.seed)
    rmd = RelativeMahalanobis().fit(layer_inputs(fam.model, train.x[bank])["hidden2"], train.y[bank])
    out: dict[str, np.ndarray] = {"families": np.array([f[0] for f in fams]),
                                  "held_out": np.array(HELD_OUT), "threshold": np.asarray(fam.threshold_),
                                  "quantile": np.asarray(fam.config.quantile), "confident": np.asarray(fam.confident_),
                                  "band": np.asarray(np.inf if fam.band_ is None else fam.band_),
                                  "source": np.asarray(headline_source(methods)), **extras}
    for i, (name, y, x, files) in enumerate(fams):
        progress(i, len(fams), f"file path: {name}")
        out[f"{name}/y"] = np.asarray(y)
        views = {}
        if x is not None:
            views["arrays"] = (x, np.zeros(len(x), bool))
            files = [png_bytes(v) for v in x]
        views["png"] = through_files(files)
        for view, (v, empty) in views.items():
            p = f"{name}/{view}"
            out[f"{p}/empty"] = empty
            if view == "png":
                out[f"{p}/x"] = np.round(v * 255).astype(np.uint8)
                if x is not None and not empty.any() and np.array_equal(v, x):
                    # the files gave back exactly the arrays (a 28x28 image passes through unchanged): the same
                    # inputs, so the same outputs, without running every score and method a second time
                    a = f"{name}/arrays/"
                    out.update({p + k[len(a) - 1:]: val for k, val in list(out.items())
                                if k.startswith(a) and not k.endswith("/empty")})
                    continue
            feats = fam.features(v)
            terms = fam.layer_scores(features=feats)
            for layer in LAYERS:
                out[f"{p}/knn_{layer}"] = terms[layer].astype(np.float32)
            out[f"{p}/familiarity"] = sum(terms.values()).astype(np.float32)
            out[f"{p}/rmd_hidden2"] = rmd.score(feats["hidden2"]).astype(np.float32)
            for m, method in methods.items():
                pred = method.predict(v)
                out[f"{p}/{m}/probs"] = pred.probs.astype(np.float32)
                out[f"{p}/{m}/ood_score"] = pred.ood_score.astype(np.float32)
    progress(len(fams), len(fams), "file path: done")
    return out


# ----------------------------------------------------------------------------- summaries


def headline_kinds(probs: np.ndarray, familiarity: np.ndarray, empty: np.ndarray, threshold: float,
                   confident: float = CONFIDENT, band: float | None = None,
                   not_a_digit: np.ndarray | None = None) -> np.ndarray:
    """Vectorised ``uqcore.verdict.headline``: the kind of every row, "no_digit" where nothing was found.
    ``not_a_digit``: the reader's probability of "not a digit" per row (None: 0, a source without one)."""
    top = probs.max(1).astype(np.float64)  # as ``headline`` compares them
    nad = np.zeros(len(top)) if not_a_digit is None else np.asarray(not_a_digit, np.float64)
    unfamiliar = (familiarity > threshold) | (nad > READER_VETO)
    if band is not None:
        unfamiliar |= (familiarity > band) & (band_probability(top, nad) < BAND_CONFIDENT)
    kind = np.where(unfamiliar, "unfamiliar", np.where(top >= confident, "confident", "ambiguous"))
    return np.where(empty, "no_digit", kind)


def read_kinds(reader: Method, familiarity: Familiarity, x: np.ndarray,
               empty: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The headline reader's probabilities (n, 10) and the headline's kind of every row of ``x`` (n, 784): what
    the probes of ``benchmarks/`` read, with the shipped rule ("not a digit" counted in the band)."""
    pred = reader.predict(x)
    return pred.probs, headline_kinds(pred.probs, familiarity.score(x), empty, familiarity.threshold_,
                                      familiarity.confident_, familiarity.band_,
                                      not_a_digit_probability(pred.ood_score))


def source_not_a_digit(fp: dict[str, np.ndarray], family: str, view: str, source: str) -> np.ndarray | None:
    """The headline source's probability of "not a digit" per image (the reader's OOD score is its log-odds);
    None for a source without that output."""
    if source != HEADLINE_SOURCE:
        return None
    return not_a_digit_probability(fp[f"{family}/{view}/reader/ood_score"])


def ood_families(fp: dict[str, np.ndarray], view: str = "png") -> list[str]:
    """The non-digit families measured in ``view`` ("png" or "arrays")."""
    return [str(f) for f in fp["families"] if str(f) not in LABELLED and f"{f}/{view}/empty" in fp]


def score_values(fp: dict[str, np.ndarray], family: str, view: str, score: str) -> np.ndarray:
    """One score of one family (float64): ``score`` is a method's name (its own OOD score),
    "familiarity", "knn_<layer>" or "rmd_hidden2"; +inf where no digit was found (never a reading)."""
    key = f"{family}/{view}/{score}" + ("/ood_score" if f"{family}/{view}/{score}/ood_score" in fp else "")
    return np.where(fp[f"{family}/{view}/empty"], np.inf, fp[key].astype(np.float64))


def no_digit_share(fp: dict[str, np.ndarray], family: str, view: str = "png") -> float:
    """Share of a family's images in which no digit was found (they never get a reading)."""
    return float(fp[f"{family}/{view}/empty"].mean())


def _metrics(s_in, s_out) -> dict:
    """OOD metrics with 'no digit found' (+inf) counted as detected."""
    finite = np.isfinite(s_out)
    if not finite.any():
        return {"auroc": 1.0, "aupr": 1.0, "fpr95": 0.0}
    s_out = np.where(finite, s_out, max(s_in.max(), s_out[finite].max()) + 1.0)
    return ood_metrics(s_in, s_out)


def summary(fp: dict[str, np.ndarray], method_scores: dict[str, str]) -> dict:
    """The file-path part of ``evaluate --json``: OOD tables (arrays vs PNG), accuracy, verdict matrix."""
    fams = [str(f) for f in fp["families"]]
    ood = ood_families(fp)
    thr = float(fp["threshold"])
    source, confident, band = _headline_rule(fp)
    scores = {f"{m} ({s})": m for m, s in method_scores.items()}
    scores.update({f"knn_{n}": f"knn_{n}" for n in LAYERS})
    scores["rmd_hidden2"] = "rmd_hidden2"
    scores["familiarity (headline)"] = "familiarity"
    table: dict = {}
    for label, score in scores.items():
        table[label] = {f: {view: _metrics(score_values(fp, "test", view, score), score_values(fp, f, view, score))
                            for view in ("arrays", "png") if f"{f}/{view}/empty" in fp}
                        for f in ood}
    matrix, accuracy = {}, {}
    for f in fams:
        for view in ("arrays", "png"):
            if f"{f}/{view}/empty" not in fp:
                continue
            probs = fp[f"{f}/{view}/{source}/probs"]
            kinds = headline_kinds(probs, fp[f"{f}/{view}/familiarity"], fp[f"{f}/{view}/empty"], thr, confident,
                                   band, source_not_a_digit(fp, f, view, source))
            row = {"n": int(len(kinds)), **{k: float((kinds == k).mean()) for k in KINDS}}
            y = fp[f"{f}/y"]
            if (y >= 0).all():
                row["read_correctly"] = float(((probs.argmax(1) == y) & ~fp[f"{f}/{view}/empty"]).mean())
            matrix.setdefault(f, {})[view] = row
    for m in method_scores:
        accuracy[m] = {view: float((fp[f"test/{view}/{m}/probs"].argmax(1) == fp["test/y"]).mean())
                       for view in ("arrays", "png")}
    if "blends/label_b" in fp:
        for view in matrix.get("blends", {}):
            matrix["blends"][view]["ambiguous_naming_both"] = blends_naming_both(fp, view)
    return {"threshold": thr, "quantile": float(fp["quantile"]), "confident_threshold": confident, "source": source,
            "band": band, "band_confident": BAND_CONFIDENT,
            "held_out": list(HELD_OUT), "development": list(DEVELOPMENT), "training_kinds": list(TRAINING_KINDS),
            "tuned_on": [f for f in ood if f not in HELD_OUT],
            "scores": table, "verdict_matrix": matrix, "test_accuracy": accuracy}


def blends_naming_both(fp: dict[str, np.ndarray], view: str = "png") -> float:
    """Share of blends whose headline is 'ambiguous' and names both blended digits."""
    source, confident, band = _headline_rule(fp)
    probs = fp[f"blends/{view}/{source}/probs"]
    kinds = headline_kinds(probs, fp[f"blends/{view}/familiarity"], fp[f"blends/{view}/empty"], float(fp["threshold"]),
                           confident, band, source_not_a_digit(fp, "blends", view, source))
    return float(((kinds == "ambiguous") & blends_both_mask(fp, view, source)).mean())


def blends_both_mask(fp: dict[str, np.ndarray], view: str, source: str) -> np.ndarray:
    """Per blend: are its two most likely digits (``source``'s) the two that were blended?"""
    top2 = np.argsort(-fp[f"blends/{view}/{source}/probs"], 1)[:, :2]
    y, label_b = fp["blends/y"], fp["blends/label_b"]
    return ((top2[:, 0] == y) & (top2[:, 1] == label_b)) | ((top2[:, 1] == y) & (top2[:, 0] == label_b))


def _headline_rule(fp: dict[str, np.ndarray]) -> tuple[str, float, float | None]:
    """(whose probabilities the headline read, its confident cut, the band's edge or None) when these
    measurements were made."""
    band = float(fp["band"]) if "band" in fp and np.isfinite(fp["band"]) else None
    return str(fp["source"]), float(fp["confident"]) if "confident" in fp else CONFIDENT, band
