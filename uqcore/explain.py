"""Saliency maps gated by uncertainty: explain a prediction only when the model is sure and the input
familiar. A map of an uncertain or unfamiliar input only shows readers what they expect to see.

``explain_network(method)`` is the logits network that stands for a method, ``integrated_gradients``
its Integrated Gradients (Sundararajan et al. 2017, via Captum) on one image, ``should_explain`` the
gate, and ``overlay`` the picture: the digit in grey, positive attribution red, negative blue.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from uqcore.methods.nets import MLP

SIDE = 28
DECLINE_REASONS: dict[str, str] = {
    "ambiguous": "The model is unsure between two digits, so a map of 'why' would only show what you want to see.",
    "unfamiliar": "This does not look like the digits the model learned from, so an explanation would mislead.",
    "no_digit": "There is no digit in this picture, so there is nothing to explain.",
}
# A confident headline whose prediction set (the guaranteed answer) still names several digits.
SEVERAL_DIGITS_REASON = ("Its guaranteed answer still names more than one digit, so a map of 'why' one digit won "
                         "could mislead.")


class _Logits(nn.Module):
    """The mean logits of ``models``, divided by ``temperature``, with dropout always off.

    The models are shared with the methods, so they are held unregistered (a tuple, not submodules):
    ``train()``, ``eval()``, ``to()`` or ``requires_grad_()`` on the wrapper never reach them, and its
    forward ignores their training flags.
    """

    def __init__(self, models: list[nn.Module], temperature: float = 1.0):
        super().__init__()
        self.models = tuple(models)
        self.temperature = float(temperature)

    @staticmethod
    def _deterministic(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(model, MLP):
            return model(x)
        for layer in model.hidden:
            x = F.relu(layer(x))
        return model.head(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = torch.stack([self._deterministic(m, x) for m in self.models]).mean(0)
        return logits / self.temperature


def explain_network(method) -> nn.Module:
    """(n, 784) -> (n, C) logits standing for ``method``: the single network (over its temperature for
    temperature scaling; without dropout for MC dropout; the mean of the last-layer posterior for
    Laplace), the mean of the members' logits for the ensembles (deep and bootstrap), the evidential network's
    raw output (its evidence before ``uqcore.methods.training.evidence``); any other method: the ``Parts`` field
    its ``network`` names, as it is (the headline reader: its 11 outputs, no temperature; a temperature moves no
    digit's attribution share)."""
    parts = method.parts
    model = getattr(parts, method.network, None)  # "mlp", "members", "evidential": the Parts field of that name
    if isinstance(model, (list, tuple)) and model and all(isinstance(m, nn.Module) for m in model):
        return _Logits(list(model))  # an ensemble (deep or bootstrap): the mean of its members' logits
    if not isinstance(model, nn.Module):
        raise ValueError(f"{method.name}: no network to explain for network={method.network!r}.")
    return _Logits([model], parts.temperature if method.name == "temperature" else 1.0)


@dataclass(frozen=True, eq=False)
class Explanation:
    attributions: np.ndarray  # (28, 28) float64: each pixel's share of logit_diff
    target: int
    logit_diff: float  # f(x)[target] - f(baseline)[target]
    delta: float  # Captum's convergence delta: sum(attributions) - logit_diff, in float32
    completeness_error: float  # |sum(attributions) - logit_diff| / max(|logit_diff|, 1e-8)


def _image(x, name: str) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x, dtype=np.float32))
    if t.numel() != SIDE * SIDE:
        raise ValueError(f"{name} must be one image of 784 pixels, got shape {tuple(t.shape)}.")
    return t.reshape(1, SIDE * SIDE)


def integrated_gradients(network: nn.Module, x, target: int, *, baseline=None, steps: int = 64) -> Explanation:
    """Integrated Gradients of ``network``'s logit ``target`` for one image x ((784,) or (28, 28), in
    [0, 1]) from ``baseline`` (default: all black, the MNIST background), Gauss-Legendre, ``steps`` points."""
    from captum.attr import IntegratedGradients  # lazily: ~0.5 s and matplotlib on import

    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}.")
    xt = _image(x, "x")
    bt = torch.zeros_like(xt) if baseline is None else _image(baseline, "baseline")
    target = int(target)
    attr, delta = IntegratedGradients(network).attribute(
        xt, baselines=bt, target=target, n_steps=steps, method="gausslegendre", return_convergence_delta=True)
    with torch.no_grad():
        f = network(torch.cat([xt, bt]))[:, target].double()
    logit_diff = float(f[0] - f[1])
    a = attr.detach().double().reshape(SIDE, SIDE).numpy()
    error = abs(float(a.sum()) - logit_diff) / max(abs(logit_diff), 1e-8)
    return Explanation(attributions=a, target=target, logit_diff=logit_diff, delta=float(delta.item()),
                       completeness_error=error)


def should_explain(kind: str) -> tuple[bool, str]:
    """(True, "") for a "confident" headline; (False, the reason in plain words) for the others."""
    if kind == "confident":
        return True, ""
    if kind in DECLINE_REASONS:
        return False, DECLINE_REASONS[kind]
    raise ValueError(f"unknown kind {kind!r}; expected 'confident' or one of {sorted(DECLINE_REASONS)}.")


def overlay(x, attributions, *, size: int = 224) -> Image.Image:
    """RGB: the digit in grey, positive attribution in red and negative in blue, on one symmetric scale
    (full colour at the 99th percentile of |attributions|, or at their largest where that is 0),
    upscaled (nearest) to size x size."""
    grey = np.clip(np.asarray(x, dtype=np.float64).reshape(SIDE, SIDE), 0.0, 1.0) * 0.6
    a = np.asarray(attributions, dtype=np.float64).reshape(SIDE, SIDE)
    scale = float(np.percentile(np.abs(a), 99)) or float(np.abs(a).max())  # sparse maps: their largest pixel
    s = np.clip(a / scale, -1.0, 1.0) if scale > 0 else np.zeros_like(a)
    w = np.abs(s)[..., None]
    colour = np.where(s[..., None] > 0, [1.0, 0.0, 0.0], [0.0, 0.3, 1.0])
    rgb = (1 - w) * grey[..., None] + w * colour
    img = Image.fromarray(np.round(rgb * 255).astype(np.uint8))
    return img.resize((size, size), Image.NEAREST)
