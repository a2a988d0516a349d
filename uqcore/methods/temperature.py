"""Temperature scaling (Guo et al. 2017): the single network's logits divided by one number fitted on
validation digits. OOD score: the energy of the scaled logits."""
from __future__ import annotations

import numpy as np
import torch

from uqcore.methods.base import Method, logits_and_embed, register
from uqcore.methods.nets import MLP
from uqcore.methods.training import predict_logits
from uqcore.metrics.calibration import TemperatureScaler
from uqcore.metrics.ood import energy_score


def fit_temperature(model: MLP, x_val: np.ndarray, y_val: np.ndarray) -> float:
    """The temperature that minimises NLL of ``model``'s logits on validation digits."""
    return float(TemperatureScaler().fit(predict_logits(model, x_val).numpy(), y_val).temperature_)


@register
class Temperature(Method):
    name = "temperature"
    title = "Temperature scaling"
    short = "Temperature"
    description = "The same network with its logits divided by a temperature fitted on validation data."
    ood_score_name = "energy"
    order = 1

    def predict(self, x):
        logits, z = logits_and_embed(self.parts.mlp, x)
        t = self.parts.temperature
        probs = torch.softmax(torch.as_tensor(logits) / t, -1).numpy()
        return self._from_members(probs[None], z, energy_score(logits, temperature=t), logits / t)
