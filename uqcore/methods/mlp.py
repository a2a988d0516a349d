"""The single network: its softmax read as confidence; OOD score: Mahalanobis distance of its features."""
from __future__ import annotations

import torch

from uqcore.methods.base import Method, logits_and_embed, register


@register
class SingleMLP(Method):
    name = "mlp"
    title = "Single network"
    short = "Single"
    description = "One network, its softmax read as confidence. OOD score: Mahalanobis distance of its features."
    ood_score_name = "mahalanobis"
    order = 0

    def predict(self, x):
        logits, z = logits_and_embed(self.parts.mlp, x)
        probs = torch.softmax(torch.as_tensor(logits), -1).numpy()
        return self._from_members(probs[None], z, self.parts.mahalanobis.score(z), logits)
