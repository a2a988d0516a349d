"""Deep ensemble (Lakshminarayanan et al. 2017): five networks from different random starts; their
disagreement (mutual information) is the epistemic part and the OOD score. The bootstrap ensemble is the same
with each member trained on a resample of the training digits drawn with replacement (Efron's bootstrap, as
in Osband et al. 2016)."""
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

    def networks(self) -> list:
        return self.parts.members

    def predict(self, x):
        outs = [logits_and_embed(m, x) for m in self.networks()]
        member_probs = np.stack([torch.softmax(torch.as_tensor(lg), -1).numpy() for lg, _ in outs])
        z = np.concatenate([e for _, e in outs], axis=1)
        return self._from_members(member_probs, z, mutual_information_score(member_probs))


@register
class Bootstrap(Ensemble):
    name = "bootstrap"
    title = "Bootstrap ensemble"
    short = "Bootstrap"
    description = ("Five networks, each trained on its own resample of the training digits drawn with replacement; "
                   "their disagreement is epistemic uncertainty.")
    network = "bootstrap"
    requires = "bootstrap"  # a build without the bootstrap stage (an old cache) has no such method
    order = 2.5

    def networks(self) -> list:
        return self.parts.bootstrap
