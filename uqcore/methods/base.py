"""The interface every method implements, and the registry.

A method takes images x of shape (n, 784) and returns a ``Prediction``: ``member_probs`` (S, n, C)
(S = 1 for deterministic methods), the predictive ``probs`` (n, C), its ``logits`` (real logits, or the
log of its predictive probabilities where it has none: ``Method.logits_are`` says which), the
``embeddings`` of the network it reads (``Method.network``), the total / aleatoric / epistemic
uncertainty (nats) and its OOD score (higher = more out-of-distribution).

Methods are built from trained parts (``Parts``) and never mutate them: MC dropout draws explicit
masks from a private generator instead of switching a shared model into training mode, so one
method object can serve many threads at once. For the same reason no method uses ``torch.func`` transforms
(``vmap``): their levels are shared between threads, and two readings at once raised or returned wrong numbers
(SWAG reads its draws as batched matrix products instead; ``tests/test_swag.py`` reads in six threads).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from uqcore.methods.nets import MLP
from uqcore.metrics.ood import Mahalanobis
from uqcore.metrics.uncertainty import decompose

LOG_EPS = 1e-12  # log-probabilities are clipped here, so a probability of 0 stays finite


@dataclass
class Prediction:
    member_probs: np.ndarray  # (S, n, C)
    probs: np.ndarray  # (n, C)
    embeddings: np.ndarray  # (n, d)
    total: np.ndarray  # (n,)
    aleatoric: np.ndarray  # (n,)
    epistemic: np.ndarray  # (n,)
    ood_score: np.ndarray  # (n,)
    logits: np.ndarray  # (n, C): logits, or log-probabilities (``Method.logits_are``)
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def label(self) -> np.ndarray:
        return self.probs.argmax(-1)

    @property
    def confidence(self) -> np.ndarray:
        return self.probs.max(-1)


@dataclass
class Parts:
    """The trained pieces every method is made of (see ``uqcore.build``)."""

    mlp: MLP
    members: list[MLP]
    evidential: MLP
    temperature: float
    laplace_cov: torch.Tensor  # (P, P) posterior covariance of the MLP's last layer (weight, bias)
    mahalanobis: Mahalanobis
    overconfident: MLP | None = None  # the Calibration lab's teaching network (no dropout, no augmentation)
    reader: MLP | None = None  # the headline reader: ten digits and "not a digit" (uqcore.methods.reader)
    reader_temperature: float = 1.0  # its digit logits' temperature, fitted on validation digits
    bootstrap: list[MLP] | None = None  # the bootstrap ensemble's members (uqcore.methods.ensemble.Bootstrap)
    swag: MLP | None = None  # the SWA mean of the single network (uqcore.methods.swag)
    swag_posterior: object | None = None  # its SwagPosterior (mean, diagonal and low-rank covariance)
    swag_samples: int = 30
    mc_samples: int = 50
    laplace_samples: int = 50
    seed: int = 0


def as_tensor(x: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x, dtype=np.float32))


def chunks(n: int, size: int):
    for i in range(0, n, size):
        yield slice(i, min(i + size, n))


def log_probabilities(probs: np.ndarray) -> np.ndarray:
    """log(probs), clipped at ``LOG_EPS``: what a method without logits stores as its logits."""
    return np.log(np.clip(np.asarray(probs, dtype=np.float64), LOG_EPS, None))


@torch.no_grad()
def logits_and_embed(model: MLP, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = model.embed(as_tensor(x))
    return model.head(z).numpy(), z.numpy()


class Method:
    name: str = ""  # the key everywhere (URLs, artifacts, the CLI)
    title: str = ""  # the one display name
    short: str = ""  # a short label for legends (the risk-coverage chart on Compare)
    description: str = ""
    ood_score_name: str = ""
    sampling: bool = False  # member_probs are samples (S > 1) from one model
    network: str = "mlp"  # whose features ``embeddings`` are: a Parts field ("mlp", "members", "evidential", ...)
    logits_are: str = "logits"  # or "log-probabilities" (the log of the predictive probabilities)
    order: int = 100  # position in ``uqcore.methods.NAMES``
    requires: str = ""  # a ``Parts`` field that may be None; without it the method is left out
    teaching: bool = False  # made to be calibrated in the lab, not to read new pictures (Try a digit, predict)

    def __init__(self, parts: Parts):
        self.parts = parts
        self.threshold_: float | None = None  # set by the build: 95th percentile on clean validation

    @property
    def has_spread(self) -> bool:
        """True when ``member_probs`` holds several members or samples, whose spread is worth showing."""
        return self.sampling or self.network in ("members", "bootstrap")

    def predict(self, x: np.ndarray) -> Prediction:
        raise NotImplementedError

    def is_ood(self, scores: np.ndarray) -> np.ndarray:
        if self.threshold_ is None:
            raise RuntimeError(f"{self.name}: OOD threshold not fitted; build the methods first.")
        return np.asarray(scores) > self.threshold_

    def _from_members(self, member_probs: np.ndarray, embeddings: np.ndarray, ood: np.ndarray,
                      logits: np.ndarray | None = None) -> Prediction:
        d = decompose(member_probs)
        probs = member_probs.mean(0)
        return Prediction(member_probs=member_probs, probs=probs, embeddings=embeddings,
                          total=d.total, aleatoric=d.aleatoric, epistemic=d.epistemic, ood_score=ood,
                          logits=log_probabilities(probs) if logits is None else logits)


REGISTRY: dict[str, type[Method]] = {}


def register(cls: type[Method]) -> type[Method]:
    REGISTRY[cls.name] = cls
    return cls


