"""Every predictive method behind one interface.

A method takes images x of shape (n, 784) and returns a ``Prediction``: ``member_probs`` (S, n, C)
(S = 1 for deterministic methods), the predictive ``probs`` (n, C), the logits where they exist,
the embeddings it uses, the total / aleatoric / epistemic uncertainty (nats) and its OOD score
(higher = more out-of-distribution). Adding a method means one class here plus one ``@register``.

Methods are built from trained parts (``Parts``) and never mutate them: MC dropout draws explicit
masks from a private generator instead of switching a shared model into training mode, so one
method object can serve many threads at once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import numpy as np
import torch
import torch.nn.functional as F

from .models import MLP
from .ood import Mahalanobis, energy_score, mutual_information_score
from .uncertainty import decompose, dirichlet_uncertainty

NAMES = ("mlp", "temperature", "ensemble", "mc_dropout", "laplace", "evidential")


@dataclass
class Prediction:
    member_probs: np.ndarray  # (S, n, C)
    probs: np.ndarray  # (n, C)
    embeddings: np.ndarray  # (n, d)
    total: np.ndarray  # (n,)
    aleatoric: np.ndarray  # (n,)
    epistemic: np.ndarray  # (n,)
    ood_score: np.ndarray  # (n,)
    logits: np.ndarray | None = None  # (n, C) where the method has them
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
    mc_samples: int = 50
    laplace_samples: int = 50
    seed: int = 0


def _t(x: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x, dtype=np.float32))


def _chunks(n: int, size: int):
    for i in range(0, n, size):
        yield slice(i, min(i + size, n))


class Method:
    name: str = ""
    title: str = ""
    description: str = ""
    ood_score_name: str = ""
    sampling: bool = False  # member_probs are samples (S > 1) from one model

    def __init__(self, parts: Parts):
        self.parts = parts
        self.threshold_: float | None = None  # set by the build: 95th percentile on clean validation

    def predict(self, x: np.ndarray) -> Prediction:
        raise NotImplementedError

    def is_ood(self, scores: np.ndarray) -> np.ndarray:
        if self.threshold_ is None:
            raise RuntimeError(f"{self.name}: OOD threshold not fitted; build the methods first.")
        return np.asarray(scores) > self.threshold_

    def _from_members(self, member_probs: np.ndarray, embeddings: np.ndarray, ood: np.ndarray,
                      logits: np.ndarray | None = None) -> Prediction:
        d = decompose(member_probs)
        return Prediction(member_probs=member_probs, probs=member_probs.mean(0), embeddings=embeddings,
                          total=d.total, aleatoric=d.aleatoric, epistemic=d.epistemic, ood_score=ood,
                          logits=logits)


REGISTRY: dict[str, type[Method]] = {}


def register(cls: type[Method]) -> type[Method]:
    REGISTRY[cls.name] = cls
    return cls


@torch.no_grad()
def _logits_and_embed(model: MLP, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = model.embed(_t(x))
    return model.head(z).numpy(), z.numpy()


@register
class SingleMLP(Method):
    name = "mlp"
    title = "Single network"
    description = "One network, its softmax read as confidence. OOD score: Mahalanobis distance of its features."
    ood_score_name = "mahalanobis"

    def predict(self, x):
        logits, z = _logits_and_embed(self.parts.mlp, x)
        probs = torch.softmax(torch.as_tensor(logits), -1).numpy()
        return self._from_members(probs[None], z, self.parts.mahalanobis.score(z), logits)


@register
class Temperature(Method):
    name = "temperature"
    title = "Temperature scaling"
    description = "The same network with its logits divided by a temperature fitted on validation data."
    ood_score_name = "energy"

    def predict(self, x):
        logits, z = _logits_and_embed(self.parts.mlp, x)
        t = self.parts.temperature
        probs = torch.softmax(torch.as_tensor(logits) / t, -1).numpy()
        return self._from_members(probs[None], z, energy_score(logits, temperature=t), logits / t)


@register
class Ensemble(Method):
    name = "ensemble"
    title = "Deep ensemble"
    description = "Five networks trained from different random starts; their disagreement is epistemic uncertainty."
    ood_score_name = "mutual_information"

    def predict(self, x):
        outs = [_logits_and_embed(m, x) for m in self.parts.members]
        member_probs = np.stack([torch.softmax(torch.as_tensor(lg), -1).numpy() for lg, _ in outs])
        z = np.concatenate([e for _, e in outs], axis=1)
        return self._from_members(member_probs, z, mutual_information_score(member_probs))


def mc_dropout_probs(model: MLP, x: torch.Tensor, n_samples: int, seed: int, chunk: int = 1024) -> torch.Tensor:
    """(S, n, C) softmax outputs under S dropout masks, without touching the model's mode.

    The masks come from a generator private to this call, seeded with ``seed``: the result depends
    only on (model, x, n_samples, seed), whichever thread asks. The layer before the first dropout
    is computed once and shared by all samples.
    """
    p = model.cfg.dropout
    if p <= 0:
        raise ValueError("MC dropout needs a model trained with dropout > 0.")
    gen = torch.Generator().manual_seed(seed)
    keep = 1.0 - p
    out = []
    with torch.no_grad():
        for sl in _chunks(len(x), chunk):
            h = x[sl]
            for k, layer in enumerate(model.hidden):
                h = F.relu(layer(h))
                if h.dim() == 2:
                    h = h.unsqueeze(0).expand(n_samples, -1, -1)
                mask = torch.empty(h.shape).bernoulli_(keep, generator=gen)
                h = h * mask / keep
            out.append(torch.softmax(model.head(h), -1))
    return torch.cat(out, dim=1)


@register
class MCDropout(Method):
    name = "mc_dropout"
    title = "MC dropout"
    description = "The network with dropout kept on at prediction time, sampled 50 times."
    ood_score_name = "mutual_information"
    sampling = True

    def predict(self, x):
        xt = _t(x)
        member_probs = mc_dropout_probs(self.parts.mlp, xt, self.parts.mc_samples, self.parts.seed).numpy()
        with torch.no_grad():
            z = self.parts.mlp.embed(xt).numpy()
        return self._from_members(member_probs, z, mutual_information_score(member_probs))


def last_layer_glm(model: MLP, cov: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mean (n, C) and covariance (n, C, C) of the logits under a Gaussian posterior over the last
    layer, linearised (GLM predictive), plus the features (n, d).

    Parameters are ordered as laplace-torch orders them: the weight (C, d) row by row, then the bias.
    """
    with torch.no_grad():
        z = model.embed(x)
        f_mu = model.head(z)
        n, d = z.shape
        c = f_mu.shape[1]
        cov = cov.to(z.dtype)
        # Reindex the covariance as (c, j, c', k) with j, k over [features..., bias].
        idx = torch.cat([torch.arange(c * d).reshape(c, d), (c * d + torch.arange(c)).reshape(c, 1)], dim=1)
        cov4 = cov[idx.reshape(-1)][:, idx.reshape(-1)].reshape(c, d + 1, c, d + 1)
        phi = torch.cat([z, torch.ones(n, 1)], dim=1)
        f_var = torch.einsum("nj,cjek,nk->nce", phi, cov4, phi)
    return f_mu, f_var, z


@register
class LaplaceLastLayer(Method):
    name = "laplace"
    title = "Laplace (last layer)"
    description = "A Gaussian over the last layer's weights (laplace-torch, Kronecker-factored), sampled 50 times."
    ood_score_name = "mutual_information"
    sampling = True

    def predict(self, x):
        xt = _t(x)
        f_mu, f_var, z = last_layer_glm(self.parts.mlp, self.parts.laplace_cov, xt)
        c = f_mu.shape[1]
        chol = torch.linalg.cholesky(f_var + 1e-6 * torch.eye(c))
        gen = torch.Generator().manual_seed(self.parts.seed)
        eps = torch.randn(self.parts.laplace_samples, *f_mu.shape, generator=gen)
        f = f_mu + torch.einsum("nce,sne->snc", chol, eps)
        member_probs = torch.softmax(f, -1).numpy()
        return self._from_members(member_probs, z.numpy(), mutual_information_score(member_probs), f_mu.numpy())


def evidential_alpha(model: MLP, x: torch.Tensor) -> torch.Tensor:
    """Dirichlet concentration alpha = softplus(output) + 1, shape (n, C)."""
    return F.softplus(model(x)) + 1.0


@register
class Evidential(Method):
    name = "evidential"
    title = "Evidential (Dirichlet)"
    description = "A network that outputs a Dirichlet over class probabilities (Sensoy et al. 2018); vacuity = K / total evidence."
    ood_score_name = "vacuity"

    def predict(self, x):
        xt = _t(x)
        with torch.no_grad():
            z = self.parts.evidential.embed(xt)
            alpha = (F.softplus(self.parts.evidential.head(z)) + 1.0).numpy()
        u = dirichlet_uncertainty(alpha)
        probs = alpha / alpha.sum(1, keepdims=True)
        return Prediction(member_probs=probs[None], probs=probs, embeddings=z.numpy(), total=u.total,
                          aleatoric=u.aleatoric, epistemic=u.epistemic, ood_score=u.vacuity,
                          extra={"alpha": alpha, "vacuity": u.vacuity})


def make_methods(parts: Parts, thresholds: dict[str, float] | None = None) -> dict[str, Method]:
    methods = {name: REGISTRY[name](parts) for name in NAMES}
    for name, t in (thresholds or {}).items():
        methods[name].threshold_ = float(t)
    return methods


