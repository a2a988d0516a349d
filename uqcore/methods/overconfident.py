"""The teaching network: the same MLP trained without dropout or augmentation, at a constant learning rate,
on 30k digits. It reads digits about as well as the others but claims more certainty than it has
(ECE about 1.4% before temperature scaling), which is what the Calibration lab shows how to fix.
OOD score: the maximum-softmax score (1 - max probability)."""
from __future__ import annotations

import torch

from uqcore.methods.base import Method, logits_and_embed, register
from uqcore.metrics.ood import msp_score


@register
class Overconfident(Method):
    name = "overconfident"
    title = "Overconfident network (teaching)"
    short = "Overconfident"
    description = ("The single network's twin trained without dropout or augmentation: overconfident on purpose, "
                   "so the Calibration lab has something to fix.")
    ood_score_name = "msp"
    network = "overconfident"
    requires = "overconfident"
    teaching = True
    order = 6

    def predict(self, x):
        logits, z = logits_and_embed(self.parts.overconfident, x)
        probs = torch.softmax(torch.as_tensor(logits), -1).numpy()
        return self._from_members(probs[None], z, msp_score(probs), logits)
