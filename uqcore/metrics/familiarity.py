""""Has the model seen anything like this?": the score behind the headline's *unfamiliar* verdict.

Deep nearest neighbours (Sun et al., 2022) at three depths of the single network: the pixels, the
first hidden layer (256) and the penultimate features (64). At each depth the score is the distance
of the L2-normalised input to its k-th nearest training digit (``uqcore.metrics.ood.KNN``), put on a common
scale by the clean validation digits: ``(d - median_val) / (q99_val - median_val)``; the three are
summed. Distances to the nearest *digits*, not disagreement between models: an image that sits
between two digits (ambiguity) stays close to both, so this score barely moves on blends, while the
mutual information of an ensemble rises on them.

With the headline reader (``uqcore.methods.reader``), a fourth term joins the sum on the same scale: the
reader's log-odds of "not a digit", weighted ``reader_weight`` (6: more than the three distances
together). It was trained to fire on non-digits and, because it was also trained
on blends of two digits, not on those.

Fitted on training digits only (a stratified bank of ``bank`` of them); the threshold is the
``quantile`` of the clean validation digits' scores, and ``percentile(s)`` says which share of those
digits lie closer than ``s`` ("further from every digit it learned than 99.6% of real digits").

Below the threshold lies a band: images stranger than ``band_quantile`` (97.5%) of the clean validation digits
(``band_``) are unfamiliar too when the headline reader does not give one digit ``uqcore.verdict.BAND_CONFIDENT``
(80%) of its probability, counting its "not a digit" output among the answers: moderate strangeness plus no
reading is what a non-digit looks like, while a real digit that is merely unusual is still read with confidence.

The headline's other cut is fitted beside it, on the same validation digits: ``confident_``, the reader's
top probability that ``CONFIDENT_SHARE`` of the familiar validation digits reach, and at least
``CONFIDENT_FLOOR`` (``uqcore.verdict``).
Without a reader it is the fixed ``uqcore.verdict.CONFIDENT``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

from uqcore.methods.nets import MLP
from uqcore.methods.reader import reader_outputs
from uqcore.metrics.calibration import softmax
from uqcore.metrics.ood import KNN
from uqcore.verdict import CONFIDENT, CONFIDENT_FLOOR, CONFIDENT_SHARE

LAYERS = ("pixels", "hidden1", "hidden2")  # the k-NN depths
READER_TERM = "reader"  # the reader's not-a-digit log-odds
LAYER_TITLES = {"pixels": "the pixels", "hidden1": "the first layer's features",
                "hidden2": "the last layer's features", READER_TERM: "the headline reader's 'not a digit' output"}


@dataclass(frozen=True)
class FamiliarityConfig:
    k: int = 10
    bank: int = 10_000  # training digits kept as neighbours (stratified by class)
    quantile: float = 0.99  # of clean validation digits: above it is "unfamiliar" whatever the probabilities say
    # The band's lower edge: above it (and below ``quantile``) an image is unfamiliar unless the reader is
    # ``BAND_CONFIDENT`` sure (chosen with objects and doodles as the development set: benchmarks/RESULTS.md,
    # "Hand-drawn non-digits for the headline reader, the band again").
    band_quantile: float = 0.975
    # The reader's term counts more than the three distances together (its 99th percentile of validation
    # digits is 6, theirs 1 each). Chosen on the tuning families by the rule of ``benchmarks/reader_weight_grid.py``
    # (printed letters' AUROC 0.9529, test digits confident 95.2%).
    reader_weight: float = 6.0
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def layer_inputs(model: MLP, x: np.ndarray, *, chunk: int = 4096) -> dict[str, np.ndarray]:
    """(n, 784) -> {"pixels": (n, 784), "hidden1": (n, 256), "hidden2": (n, 64)}."""
    x = np.asarray(x, dtype=np.float32).reshape(-1, 784)
    parts: dict[str, list] = {name: [] for name in LAYERS}
    for i in range(0, len(x), chunk):
        h1, h2 = model.layer_features(torch.as_tensor(x[i:i + chunk]))
        parts["pixels"].append(x[i:i + chunk])
        parts["hidden1"].append(h1.numpy())
        parts["hidden2"].append(h2.numpy())
    return {k: np.concatenate(v) if v else np.zeros((0, 1), np.float32) for k, v in parts.items()}


def stratified_bank(y: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Indices of ``size`` training points, the same number from every class (sorted)."""
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    per = max(1, size // len(classes))
    idx = [rng.permutation(np.flatnonzero(y == c))[:per] for c in classes]
    return np.sort(np.concatenate(idx))


class Familiarity:
    """fit(model, x_train, y_train, x_val) -> self; score(x) -> (n,) (higher = less familiar)."""

    def __init__(self, config: FamiliarityConfig | None = None):
        self.config = config or FamiliarityConfig()

    def fit(self, model: MLP, x_train, y_train, x_val, *, reader: MLP | None = None,
            reader_temperature: float = 1.0) -> "Familiarity":
        self._attach(model, reader, reader_temperature)
        bank = stratified_bank(np.asarray(y_train), self.config.bank, self.config.seed)
        feats = layer_inputs(model, np.asarray(x_train)[bank])
        self.knn_ = {name: KNN(k=self.config.k).fit(feats[name]) for name in LAYERS}
        feats_val = self.features(x_val)
        raw = {n: self._raw(n, feats_val) for n in self.terms}
        self.centre_ = {n: float(np.median(v)) for n, v in raw.items()}
        self.scale_ = {n: float(np.quantile(v, 0.99) - self.centre_[n]) or 1.0 for n, v in raw.items()}
        val = sum(self._weight(n) * (raw[n] - self.centre_[n]) / self.scale_[n] for n in self.terms)
        self.val_scores_ = np.sort(val)
        self.threshold_ = float(np.quantile(self.val_scores_, self.config.quantile))
        self.band_ = self._band(reader is not None)
        self.confident_ = CONFIDENT
        if reader is not None:
            top = softmax(feats_val["reader_logits"]).max(1)[val <= self.threshold_]
            self.confident_ = max(CONFIDENT_FLOOR, float(np.quantile(top, 1.0 - CONFIDENT_SHARE)))
        return self

    def _band(self, with_reader: bool) -> float | None:
        """The band's lower edge; None without a reader (the band was chosen on the reader's probabilities)."""
        if not with_reader:
            return None
        return min(self.threshold_, float(np.quantile(self.val_scores_, self.config.band_quantile)))

    def _attach(self, model: MLP, reader: MLP | None, reader_temperature: float) -> None:
        self.model, self.reader, self.reader_temperature = model, reader, float(reader_temperature)
        self.terms = LAYERS + ((READER_TERM,) if reader is not None else ())

    def features(self, x) -> dict[str, np.ndarray]:
        """What the terms read: ``layer_inputs`` of the single network and, with a reader, its not-a-digit
        log-odds (``"reader"``, (n,)) and its digit logits (``"reader_logits"``, (n, 10), temperature applied)."""
        feats = layer_inputs(self.model, x)
        if self.reader is not None:
            logits, odds, _ = reader_outputs(self.reader, feats["pixels"], self.reader_temperature)
            feats.update({READER_TERM: odds, "reader_logits": logits})
        return feats

    def _raw(self, term: str, features: dict[str, np.ndarray]) -> np.ndarray:
        return features[term].astype(np.float64) if term == READER_TERM else self.knn_[term].score(features[term])

    def layer_scores(self, x=None, *, features: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """Per term, the normalised score (1.0 = the 99th percentile of validation digits; ``reader_weight`` for
        the reader's term): the k-NN distance at each depth and the reader's not-a-digit log-odds, of images ``x``
        or of their ``features`` (``features(x)``) when the caller already has them."""
        features = self.features(x) if features is None else features
        return {n: self._weight(n) * (self._raw(n, features) - self.centre_[n]) / self.scale_[n] for n in self.terms}

    def _weight(self, term: str) -> float:
        return self.config.reader_weight if term == READER_TERM else 1.0

    def score(self, x) -> np.ndarray:
        return sum(self.layer_scores(x).values())

    def is_unfamiliar(self, scores) -> np.ndarray:
        """Above the threshold: unfamiliar whatever the probabilities say. The headline also calls an image in the
        band (``band_``) unfamiliar when its reader is unsure (``uqcore.verdict.headline``)."""
        return np.asarray(scores) > self.threshold_

    def percentile(self, score: float) -> float:
        """Share (0..1) of clean validation digits whose score is below ``score``."""
        return float(np.searchsorted(self.val_scores_, score, side="left") / len(self.val_scores_))

    # ------------------------------------------------------------------ storage
    def state(self) -> dict[str, np.ndarray]:
        out = {"val_scores": self.val_scores_, "threshold": np.asarray(self.threshold_),
               "confident": np.asarray(self.confident_), "terms": np.array(self.terms),
               "centre": np.array([self.centre_[n] for n in self.terms]),
               "scale": np.array([self.scale_[n] for n in self.terms])}
        for n in LAYERS:
            out[f"bank.{n}"] = self.knn_[n].bank_
        return out

    @classmethod
    def from_state(cls, model: MLP, d, config: FamiliarityConfig, *, reader: MLP | None = None,
                   reader_temperature: float = 1.0) -> "Familiarity":
        obj = cls(config)
        obj._attach(model, reader, reader_temperature)
        if tuple(str(t) for t in d["terms"]) != obj.terms:
            raise ValueError(f"stored terms {list(d['terms'])} differ from this build's {list(obj.terms)}.")
        obj.val_scores_ = np.asarray(d["val_scores"], dtype=np.float64)
        obj.threshold_ = float(d["threshold"])
        obj.band_ = obj._band(reader is not None)
        obj.confident_ = float(d["confident"])
        obj.centre_ = dict(zip(obj.terms, np.asarray(d["centre"]).tolist(), strict=True))
        obj.scale_ = dict(zip(obj.terms, np.asarray(d["scale"]).tolist(), strict=True))
        obj.knn_ = {n: KNN.from_state({"bank": d[f"bank.{n}"], "k": config.k, "normalise": True}) for n in LAYERS}
        return obj

