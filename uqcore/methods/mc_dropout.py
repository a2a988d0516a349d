"""MC dropout (Gal & Ghahramani 2016): the network with dropout kept on at prediction time, sampled;
the samples' disagreement is the epistemic part and the OOD score."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from uqcore.methods.base import Method, as_tensor, chunks, register
from uqcore.methods.nets import MLP
from uqcore.metrics.ood import mutual_information_score


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
        for sl in chunks(len(x), chunk):
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
    short = "MC dropout"
    description = "The network with dropout kept on at prediction time, sampled 50 times."
    ood_score_name = "mutual_information"
    sampling = True
    logits_are = "log-probabilities"
    order = 3

    def predict(self, x):
        xt = as_tensor(x)
        member_probs = mc_dropout_probs(self.parts.mlp, xt, self.parts.mc_samples, self.parts.seed).numpy()
        with torch.no_grad():
            z = self.parts.mlp.embed(xt).numpy()
        return self._from_members(member_probs, z, mutual_information_score(member_probs))
