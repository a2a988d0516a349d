""""Has the model seen anything like this?": the score behind the headline's *unfamiliar* verdict.

Deep nearest neighbours (Sun et al., 2022) at three depths of the single network: the pixels, the
first hidden layer (256) and the penultimate features (64). At each depth the score is the distance
of the L2-normalised input to its k-th nearest training digit (``uqcore.metrics.ood.KNN``), put on a common
scale by the clean validation digits: ``(d - median_val) / (q99_val - median_val)``; the three are
summed. Distances to the nearest *digits*, not disagreement between models: an image that sits
between two digits (ambiguity) stays close to both, so this score barely moves on blends, while the
mutual information of an ensemble rises on them.

Fitted on training digits only (a stratified bank of ``bank`` of them); the threshold is the
``quantile`` of the clean validation digits' scores, and ``percentile(s)`` says which share of those
digits lie closer than ``s`` ("further from every digit it learned than 99.6% of real digits").
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

from uqcore.methods.nets import MLP
from uqcore.metrics.ood import KNN

LAYERS = ("pixels", "hidden1", "hidden2")
LAYER_TITLES = {"pixels": "the pixels", "hidden1": "the first layer's features",
                "hidden2": "the last layer's features"}


@dataclass(frozen=True)
class FamiliarityConfig:
    k: int = 10
    bank: int = 10_000  # training digits kept as neighbours (stratified by class)
    quantile: float = 0.99  # of clean validation digits: above it is "unfamiliar"
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

    def fit(self, model: MLP, x_train, y_train, x_val) -> "Familiarity":
        self.model = model
        bank = stratified_bank(np.asarray(y_train), self.config.bank, self.config.seed)
        feats = layer_inputs(model, np.asarray(x_train)[bank])
        self.knn_ = {name: KNN(k=self.config.k).fit(feats[name]) for name in LAYERS}
        val = {name: self.knn_[name].score(f) for name, f in layer_inputs(model, x_val).items()}
        self.centre_ = {n: float(np.median(v)) for n, v in val.items()}
        self.scale_ = {n: float(np.quantile(v, 0.99) - self.centre_[n]) or 1.0 for n, v in val.items()}
        self.val_scores_ = np.sort(self._combine(val))
        self.threshold_ = float(np.quantile(self.val_scores_, self.config.quantile))
        return self

    def _combine(self, per_layer: dict[str, np.ndarray]) -> np.ndarray:
        return sum((per_layer[n] - self.centre_[n]) / self.scale_[n] for n in LAYERS)

    def layer_scores(self, x=None, *, features: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """Per depth, the normalised k-NN distance (1.0 = the 99th percentile of validation digits), of
        images ``x`` or of their ``features`` (``layer_inputs``) when the caller already has them."""
        features = layer_inputs(self.model, x) if features is None else features
        return {n: (self.knn_[n].score(features[n]) - self.centre_[n]) / self.scale_[n] for n in LAYERS}

    def score(self, x) -> np.ndarray:
        return sum(self.layer_scores(x).values())

    def is_unfamiliar(self, scores) -> np.ndarray:
        return np.asarray(scores) > self.threshold_

    def percentile(self, score: float) -> float:
        """Share (0..1) of clean validation digits whose score is below ``score``."""
        return float(np.searchsorted(self.val_scores_, score, side="left") / len(self.val_scores_))

    # ------------------------------------------------------------------ storage
    def state(self) -> dict[str, np.ndarray]:
        out = {"val_scores": self.val_scores_, "threshold": np.asarray(self.threshold_),
               "centre": np.array([self.centre_[n] for n in LAYERS]),
               "scale": np.array([self.scale_[n] for n in LAYERS])}
        for n in LAYERS:
            out[f"bank.{n}"] = self.knn_[n].bank_
        return out

    @classmethod
    def from_state(cls, model: MLP, d, config: FamiliarityConfig) -> "Familiarity":
        obj = cls(config)
        obj.model = model
        obj.val_scores_ = np.asarray(d["val_scores"], dtype=np.float64)
        obj.threshold_ = float(d["threshold"])
        obj.centre_ = dict(zip(LAYERS, np.asarray(d["centre"]).tolist()))
        obj.scale_ = dict(zip(LAYERS, np.asarray(d["scale"]).tolist()))
        obj.knn_ = {n: KNN.from_state({"bank": d[f"bank.{n}"], "k": config.k, "normalise": True}) for n in LAYERS}
        return obj
