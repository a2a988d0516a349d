"""Evidential deep learning (Sensoy et al. 2018): one network outputs a Dirichlet over the class
probabilities (alpha = evidence + 1, the evidence ``uqcore.methods.training.evidence`` of its outputs); vacuity
(K / total evidence) is its OOD score."""
from __future__ import annotations

import torch

from uqcore.methods.base import Method, Prediction, as_tensor, log_probabilities, register
from uqcore.methods.training import evidence
from uqcore.metrics.uncertainty import dirichlet_uncertainty


@register
class Evidential(Method):
    name = "evidential"
    title = "Evidential (Dirichlet)"
    short = "Evidential"
    description = "A network that outputs a Dirichlet over class probabilities (Sensoy et al. 2018); vacuity = K / total evidence."
    ood_score_name = "vacuity"
    network = "evidential"
    logits_are = "log-probabilities"
    order = 5

    def predict(self, x):
        xt = as_tensor(x)
        with torch.no_grad():
            z = self.parts.evidential.embed(xt)
            alpha = (evidence(self.parts.evidential.head(z)) + 1.0).numpy()
        u = dirichlet_uncertainty(alpha)
        probs = alpha / alpha.sum(1, keepdims=True)
        return Prediction(member_probs=probs[None], probs=probs, embeddings=z.numpy(), total=u.total,
                          aleatoric=u.aleatoric, epistemic=u.epistemic, ood_score=u.vacuity, logits=log_probabilities(probs),
                          extra={"alpha": alpha, "vacuity": u.vacuity})
