"""Deep ensemble (Lakshminarayanan et al. 2017): five networks from different random starts; their
disagreement (mutual information) is the epistemic part and the OOD score."""
from __future__ import annotations

import numpy as np
import torch

from uqcore.methods.base import Method, logits_and_embed, register
from uqcore.metrics.ood import mutual_information_score


@register
class Ensemble(Method):
    name = "ensemble"
    title = "Deep ensemble"
    short = "Ensemble"
    description = "Five networks trained from different random starts; their disagreement is epistemic uncertainty."
    ood_score_name = "mutual_information"
    network = "members"
    logits_are = "log-probabilities"
    order = 2

    def predict(self, x):
        outs = [logits_and_embed(m, x) for m in self.parts.members]
        member_probs = np.stack([torch.softmax(torch.as_tensor(lg), -1).numpy() for lg, _ in outs])
        z = np.concatenate([e for _, e in outs], axis=1)
        return self._from_members(member_probs, z, mutual_information_score(member_probs))
