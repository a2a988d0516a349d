"""The headline reader: the network whose answer the headline gives (``uqcore.verdict.headline``).

A wider MLP than the others (784-800-128) with an eleventh output, "not a digit". It is trained on the
training digits and on two kinds of extra pictures (``uqcore.methods.training.reader_loss``):

- **blends of two different digits** (25-75%), with the blend as the target ("60% a 4, 40% a 9"), so that
  a picture between two digits gets two probabilities instead of one confident answer;
- **non-digits** (``uqcore.data.families.training_outliers``: scrambled digits, printed symbols, photo
  crops, outlines with marks inside, random pen drawings, and pen sketches and handwritten signs from the
  generators of the ``sketches`` and ``glyphs`` families), with "not a digit" as the target. The crops come
  from the same photographs as the ``photos`` family, and the sketches and signs are other drawings of the
  same kinds as ``sketches`` and ``glyphs`` (``uqcore.file_path.TRAINING_KINDS``), so those three families
  are not independent of this training; the held-out ones (``uqcore.file_path.HELD_OUT``) are.

``probs`` are the ten digits' probabilities (the digit logits divided by a temperature fitted on the
validation digits, so that on real digits they are calibrated). OOD score: the log-odds of "not a digit"
against all ten digits, ``logit_10 - logsumexp(logit_0..9)``; the headline adds it to the familiarity score
(``uqcore.metrics.familiarity``).
"""
from __future__ import annotations

import numpy as np
import torch

from uqcore.methods.base import Method, as_tensor, register

NOT_A_DIGIT = 10  # the index of the eleventh output


@torch.no_grad()
def reader_outputs(model, x: np.ndarray, temperature: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(digit logits / temperature (n, 10), not-a-digit log-odds (n,), penultimate features (n, 128))."""
    z = model.embed(as_tensor(x))
    out = model.head(z)
    digits = out[:, :NOT_A_DIGIT]
    odds = out[:, NOT_A_DIGIT] - torch.logsumexp(digits, -1)
    return (digits / temperature).numpy(), odds.numpy(), z.numpy()


@register
class Reader(Method):
    name = "reader"
    title = "Headline reader"
    short = "Reader"
    description = ("The network the headline reads: trained also on blends of two digits and on pictures that are "
                   "not digits, so it can say 'between two digits' and 'not a digit'. OOD score: its "
                   "'not a digit' output.")
    ood_score_name = "not-a-digit"
    network = "reader"
    requires = "reader"
    order = 7

    def predict(self, x):
        logits, odds, z = reader_outputs(self.parts.reader, x, self.parts.reader_temperature)
        probs = torch.softmax(torch.as_tensor(logits), -1).numpy()
        return self._from_members(probs[None], z, odds, logits)
