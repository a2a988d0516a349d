"""SWAG (Maddox et al. 2019, "A simple baseline for Bayesian uncertainty in deep learning"): a Gaussian over the
single network's weights, fitted from the path SGD takes around the trained solution.

Starting from the trained ``mlp``, SGD at a constant learning rate runs a few more epochs; ``collect_per_epoch``
times an epoch the weights are collected. The posterior's mean is their average (the SWA solution), its
covariance half a diagonal (the collected second moment minus the mean's square) and half a low-rank part (the
last ``rank`` deviations from the running mean), as in the paper, sampled at ``scale`` 1. Prediction averages
``Parts.swag_samples`` networks drawn from it (30 by default); their disagreement (mutual information) is the
epistemic part and the OOD score.
"""
from __future__ import annotations

import copy
import math
import time
from collections import deque
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from uqcore.methods.base import Method, as_tensor, register
from uqcore.methods.training import random_shift, set_threads
from uqcore.metrics.ood import mutual_information_score

VAR_FLOOR = 1e-30  # the diagonal variance is clamped at this (a second moment minus a square can dip below 0)


@dataclass(frozen=True)
class SwagConfig:
    """How the SWAG posterior is collected (part of its artifact key)."""

    epochs: int = 4
    lr: float = 0.01  # SGD's constant learning rate while collecting
    momentum: float = 0.9
    collect_per_epoch: int = 4
    rank: int = 16  # deviations kept for the low-rank part (the paper's K; at most epochs x collect_per_epoch)
    # The covariance's scale when sampling. ``sample`` already has the paper's 1/2 factors (eq. in Maddox et al.,
    # Sec. 3); the reference code leaves them out and passes scale=0.5 instead, which is the same distribution.
    scale: float = 1.0
    batch_size: int = 128
    shift: int = 2
    seed: int = 21
    threads: int = 2

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SwagPosterior:
    """The Gaussian over the flattened weights: ``mean`` (P,), ``sq_mean`` (P,), ``deviations`` (K, P)."""

    mean: torch.Tensor
    sq_mean: torch.Tensor
    deviations: torch.Tensor
    scale: float = 1.0

    @property
    def variance(self) -> torch.Tensor:
        return torch.clamp(self.sq_mean - self.mean ** 2, min=VAR_FLOOR)

    def sample(self, gen: torch.Generator) -> torch.Tensor:
        """One weight vector: mean + sqrt(scale) x (sqrt(var) z1 / sqrt 2 + D^T z2 / sqrt(2 (K - 1)))."""
        z1 = torch.randn(self.mean.shape, generator=gen, dtype=self.mean.dtype)
        noise = self.variance.sqrt() * z1 / math.sqrt(2.0)
        k = self.deviations.shape[0]
        if k > 1:
            z2 = torch.randn(k, generator=gen, dtype=self.mean.dtype)
            noise = noise + self.deviations.T @ z2 / math.sqrt(2.0 * (k - 1))
        return self.mean + math.sqrt(self.scale) * noise

    def state(self) -> dict[str, torch.Tensor]:
        return {"mean": self.mean, "sq_mean": self.sq_mean, "deviations": self.deviations,
                "scale": torch.tensor(float(self.scale))}

    @classmethod
    def from_state(cls, state: dict[str, torch.Tensor], n_params: int) -> "SwagPosterior":
        """Refuses (ValueError) a state whose shapes do not fit a network of ``n_params`` weights."""
        mean, sq, dev = state["mean"], state["sq_mean"], state["deviations"]
        if mean.shape != (n_params,) or sq.shape != (n_params,) or dev.ndim != 2 or dev.shape[1] != n_params:
            raise ValueError(f"SWAG state of shapes {tuple(mean.shape)}, {tuple(sq.shape)}, {tuple(dev.shape)} "
                             f"does not fit a network of {n_params} weights.")
        return cls(mean.float(), sq.float(), dev.float(), float(state["scale"]))


class SwagCollector:
    """Running first and second moments of collected weight vectors, and the last ``rank`` deviations."""

    def __init__(self, rank: int):
        self.n, self.mean, self.sq_mean = 0, None, None
        self.deviations: deque = deque(maxlen=rank)

    def collect(self, weights: torch.Tensor) -> None:
        w = weights.detach().clone().float()
        if self.n == 0:
            self.mean, self.sq_mean = w.clone(), w ** 2
        else:
            self.mean += (w - self.mean) / (self.n + 1)
            self.sq_mean += (w ** 2 - self.sq_mean) / (self.n + 1)
        self.n += 1
        self.deviations.append(w - self.mean)

    def posterior(self, scale: float = 1.0) -> SwagPosterior:
        if self.n == 0:
            raise ValueError("no weights were collected.")
        dev = torch.stack(list(self.deviations)) if self.deviations else torch.zeros(0, len(self.mean))
        return SwagPosterior(self.mean.clone(), self.sq_mean.clone(), dev, scale)


def fit_swag(mlp: torch.nn.Module, train, cfg: SwagConfig, progress=None) -> tuple[SwagPosterior, dict]:
    """Collect the SWAG posterior around ``mlp`` (left untouched) on ``train`` (a ``Split``)."""
    set_threads(cfg.threads)
    model = copy.deepcopy(mlp).train()
    x, y = torch.as_tensor(train.x), torch.as_tensor(train.y)
    n = len(y)
    gen = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)  # dropout masks while collecting
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum)
    steps = math.ceil(n / cfg.batch_size)
    every = max(1, steps // cfg.collect_per_epoch)
    collector = SwagCollector(cfg.rank)
    t0 = time.perf_counter()
    for epoch in range(cfg.epochs):
        perm = torch.randperm(n, generator=gen)
        for step, i in enumerate(range(0, n, cfg.batch_size)):
            idx = perm[i:i + cfg.batch_size]
            loss = F.cross_entropy(model(random_shift(x[idx], cfg.shift, gen)), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if (step + 1) % every == 0 and collector.n < (epoch + 1) * cfg.collect_per_epoch:
                collector.collect(parameters_to_vector(model.parameters()))
        if progress:
            progress(epoch + 1, cfg.epochs, f"swag: epoch {epoch + 1}/{cfg.epochs}, {collector.n} weight snapshots")
    return collector.posterior(cfg.scale), {"snapshots": collector.n, "seconds": time.perf_counter() - t0}


def mean_network(mlp: torch.nn.Module, posterior: SwagPosterior) -> torch.nn.Module:
    """A copy of ``mlp`` holding the SWA mean weights, in eval mode."""
    net = copy.deepcopy(mlp).eval()
    vector_to_parameters(posterior.mean.clone(), net.parameters())
    return net


def draw_weights(posterior: SwagPosterior, samples: int, seed: int) -> torch.Tensor:
    """(samples, n_params): the weight vectors ``swag_probs`` uses, drawn in order from a generator seeded by
    ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    return torch.stack([posterior.sample(gen) for _ in range(samples)])


SWAG_BLOCK = 2048  # rows per batched pass of every draw (swag_probs)


def stacked_parameters(net: torch.nn.Module, weights: torch.Tensor) -> dict[str, torch.Tensor]:
    """``weights`` (samples, n_params), laid out as ``parameters_to_vector(net.parameters())``, as one
    (samples, *shape) tensor per named parameter of ``net``: what ``swag_probs`` reads."""
    named = list(net.named_parameters())
    total = sum(p.numel() for _, p in named)
    if weights.ndim != 2 or weights.shape[1] != total:
        raise ValueError(f"the weight vectors have shape {tuple(weights.shape)}; the network has {total} parameters.")
    out, start = {}, 0
    for name, p in named:
        out[name] = weights[:, start:start + p.numel()].reshape(len(weights), *p.shape)
        start += p.numel()
    return out


def _stacked_forward(net: torch.nn.Module, stacked: dict[str, torch.Tensor], rows: torch.Tensor) -> torch.Tensor:
    """(samples, n, C) softmax outputs of ``net``'s layers (``uqcore.methods.nets.MLP``: ReLU hidden layers, then
    ``out``) with every draw's weights at once, as batched matrix products. Plain tensor operations, so it is safe
    in any number of threads (``torch.func.vmap`` is not: two server sessions reading at once got each other's
    levels and either raised "your tensor may have escaped from vmap" or returned wrong numbers)."""
    h = rows
    for i in range(len(net.hidden)):
        w, b = stacked[f"hidden.{i}.weight"], stacked[f"hidden.{i}.bias"]
        h = torch.relu(torch.matmul(h, w.transpose(1, 2)) + b[:, None, :])  # (n, i) or (S, n, i) -> (S, n, o)
    z = torch.matmul(h, stacked["out.weight"].transpose(1, 2)) + stacked["out.bias"][:, None, :]
    return torch.softmax(z, -1)


def swag_probs(net: torch.nn.Module, posterior: SwagPosterior, x: torch.Tensor, samples: int,
               seed: int, *, weights: torch.Tensor | None = None,
               stacked: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
    """(samples, n, C) softmax outputs of networks drawn from ``posterior`` (a private generator seeded by
    ``seed``: the same input gets the same draws). ``weights``: those draws made already (``draw_weights``), so a
    caller that reads one image at a time does not draw 30 weight vectors per image; ``stacked``: the same as
    ``stacked_parameters``. All draws run at once (batched matrix products over the stacked weights: one image
    read in ~2 ms instead of ~15 ms loading each draw into the network). ``net`` is not changed."""
    if stacked is None:
        stacked = stacked_parameters(net, draw_weights(posterior, samples, seed) if weights is None else weights)
    with torch.no_grad():  # in blocks of rows: 30 draws x 2,048 rows x 256 hidden units is ~60 MB
        return torch.cat([_stacked_forward(net, stacked, x[i:i + SWAG_BLOCK]) for i in range(0, len(x), SWAG_BLOCK)],
                         dim=1)


@register
class Swag(Method):
    name = "swag"
    title = "SWAG"
    short = "SWAG"
    description = ("A Gaussian over the single network's weights, fitted from where SGD wanders around it "
                   "(Maddox et al. 2019); 30 networks drawn from it vote.")
    ood_score_name = "mutual_information"
    sampling = True
    network = "swag"
    requires = "swag"  # a build without the SWAG stage (an old cache) has no such method
    logits_are = "log-probabilities"
    order = 5.5

    def predict(self, x):
        xt = as_tensor(x)
        net, posterior = self.parts.swag, self.parts.swag_posterior
        key = (id(posterior), self.parts.swag_samples, self.parts.seed)
        if getattr(self, "_drawn", (None,))[0] != key:  # drawn once: the same draws for every input (~70 ms each)
            self._drawn = (key, stacked_parameters(net, draw_weights(posterior, self.parts.swag_samples,
                                                                     self.parts.seed)))
        member_probs = swag_probs(net, posterior, xt, self.parts.swag_samples, self.parts.seed,
                                  stacked=self._drawn[1]).numpy()
        with torch.no_grad():
            z = net.embed(xt).numpy()
        return self._from_members(member_probs.astype(np.float64), z, mutual_information_score(member_probs))
