"""Plain-English verdicts for a non-technical reader: confident, ambiguous, unsure, or unlike the training data."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CONFIDENT = 0.90  # top probability at or above this: "confident"
TWO_WAY = 0.80  # top two together at or above this: "ambiguous between X and Y"


@dataclass(frozen=True)
class Verdict:
    kind: str  # "confident" | "ambiguous" | "unsure" | "ood"
    sentence: str
    label: int
    runner_up: int


def verdict(probs, *, aleatoric: float, epistemic: float, is_ood: bool) -> Verdict:
    """One sentence for one prediction. ``probs`` (C,) sums to 1; uncertainties in nats."""
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 1 or not np.isclose(p.sum(), 1.0, atol=1e-3):
        raise ValueError(f"probs must be one probability vector, got shape {p.shape} summing to {p.sum():.3f}.")
    order = np.argsort(-p)
    a, b = int(order[0]), int(order[1])
    if is_ood:
        return Verdict("ood", f"This does not look like anything the model was trained on: its best guess would be "
                              f"a {a}, but do not trust it.", a, b)
    if p[a] >= CONFIDENT:
        return Verdict("confident", f"Confident: this is a {a} ({p[a]:.0%} sure).", a, b)
    if p[a] + p[b] >= TWO_WAY:
        why = ("the image itself is unclear" if aleatoric >= epistemic
               else "the model has seen too few images like this to decide")
        return Verdict("ambiguous", f"Ambiguous between {a} and {b} ({p[a]:.0%} vs {p[b]:.0%}): {why}.", a, b)
    return Verdict("unsure", f"Unsure: the best guess is a {a} ({p[a]:.0%}), but several digits are possible.", a, b)


def overall(verdicts: dict[str, Verdict], *, reference: str = "ensemble") -> Verdict:
    """The headline across methods: OOD when at least half the methods say so; otherwise the reference
    method's verdict (the deep ensemble, the best calibrated here), with a note when methods disagree on the digit."""
    if not verdicts:
        raise ValueError("no verdicts to summarise.")
    n_ood = sum(v.kind == "ood" for v in verdicts.values())
    ref = verdicts.get(reference) or next(iter(verdicts.values()))
    if n_ood * 2 >= len(verdicts):
        return Verdict("ood", f"This does not look like anything the model was trained on ({n_ood} of "
                              f"{len(verdicts)} methods say so). Any digit it names is a guess.", ref.label, ref.runner_up)
    labels = {v.label for v in verdicts.values()}
    if len(labels) > 1 and ref.kind == "confident":
        return Verdict("ambiguous", ref.sentence + " Some methods read it differently: "
                       + ", ".join(str(x) for x in sorted(labels)) + ".", ref.label, ref.runner_up)
    return ref
