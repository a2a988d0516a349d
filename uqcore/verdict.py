"""Plain-English verdicts for a non-technical reader: per method (``verdict``: confident, ambiguous, unsure,
or unlike the training data) and the page's headline (``headline``: one three-way rule over all of them)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CONFIDENT = 0.90  # a method's verdict: top probability at or above this is "confident"
TWO_WAY = 0.80  # top two together at or above this: "ambiguous between X and Y"
# The headline reads the headline reader (uqcore.methods.reader), or the ensemble in a build without one.
HEADLINE_SOURCE = "reader"
# uqcore.methods.DEFAULT_METHOD, spelled out (a test checks they agree): importing uqcore.methods loads torch (~1 s),
# and every page imports this module before its title, which should show at once.
FALLBACK_SOURCE = "ensemble"
# The headline's confident cut: the reader's top probability that this share of the familiar clean validation
# digits reach (fitted with the familiarity score, ``uqcore.metrics.familiarity``).
CONFIDENT_SHARE = 0.97
CONFIDENT_FLOOR = 0.80  # but never below this: "Confident ... (53% sure)" would read as nonsense (a weak model)
# In the familiarity band (stranger than 97.5% of clean validation digits, not yet than 99%: ``Familiarity.band_``)
# the source must give one digit this much of its probability, counting "not a digit" among the answers
# (P(that digit | a digit) x P(a digit), ``band_probability``), or the image is unfamiliar. Chosen on the tuning
# families with objects and doodles as the development set (benchmarks/history/, "Hand-drawn non-digits for the
# headline reader, the band again").
BAND_CONFIDENT = 0.80


# Anywhere under the threshold, the headline reader's own "not a digit" above this probability makes the image
# unfamiliar: the model trained to tell digits from other pictures finds it more likely no digit than a digit.
# Not tuned: its decision boundary. Measured on the tuning and development families (benchmarks/history/, "The reader's
# veto").
READER_VETO = 0.5


def band_probability(top, not_a_digit):
    """The probability that the picture is its top digit when "not a digit" is one of the answers: the top
    probability among the ten digits times the chance it is a digit at all. Works on floats and arrays."""
    return np.asarray(top, np.float64) * (1.0 - np.asarray(not_a_digit, np.float64))


def floor_percent(p: float) -> str:
    """A probability as a percentage floored to 0.1 point ('79.9%' for 0.7996), so that a value under a cut is
    never shown as the cut it lacks."""
    return f"{np.floor(float(p) * 1000) / 10:g}%"


def not_a_digit_probability(log_odds):
    """The headline reader's "not a digit" log-odds (its OOD score, ``uqcore.methods.reader``) as a probability."""
    return 1.0 / (1.0 + np.exp(-np.clip(np.asarray(log_odds, np.float64), -60, 60)))


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
                              f"{article(a)}, but do not trust it.", a, b)
    if p[a] >= CONFIDENT:
        return Verdict("confident", f"Confident: this is {article(a)} ({p[a]:.0%} sure).", a, b)
    if p[a] + p[b] >= TWO_WAY:
        why = ("the image itself is unclear" if aleatoric >= epistemic
               else "the model has seen too few images like this to decide")
        return Verdict("ambiguous", f"Ambiguous between {a} and {b} ({p[a]:.0%} vs {p[b]:.0%}): {why}.", a, b)
    return Verdict("unsure", f"Unsure: the best guess is {article(a)} ({p[a]:.0%}), but several digits are possible.", a, b)


# ----------------------------------------------------------------------------- the headline

def article(n: int) -> str:
    """'a 7', 'an 8' (and 'an 18', 'an 80'...)."""
    s = str(int(n))
    return ("an " if s.startswith("8") or s in ("11", "18") else "a ") + s


@dataclass(frozen=True)
class Headline:
    """The one sentence an editor reads. ``evidence`` says which rule decided, in numbers."""

    kind: str  # "confident" | "ambiguous" | "unfamiliar"
    label: int
    runner_up: int
    sentence: str  # plain words, no jargon
    reason: str  # plain words: which evidence decided
    evidence: dict
    prediction_set: tuple[int, ...] = ()  # the conformal set of ``source`` (uqcore.analysis.sets); () = none
    guarantee: str = ""  # that set in plain words; empty for an unfamiliar image (no guarantee holds there)

    def to_json(self) -> dict:
        out = {"kind": self.kind, "label": self.label, "runner_up": self.runner_up, "sentence": self.sentence,
               "reason": self.reason, "evidence": self.evidence}
        if self.prediction_set:
            out["prediction_set"] = {"digits": list(self.prediction_set), "sentence": self.guarantee,
                                     **self.evidence.get("prediction_set", {})}
        return out


def headline(probs, *, familiarity: float, familiarity_threshold: float, familiar_share: float,
             confident: float = CONFIDENT, source: str = HEADLINE_SOURCE, prediction_set=None,
             terms: dict[str, float] | None = None, band: float | None = None,
             not_a_digit: float = 0.0) -> Headline:
    """The three-way rule, in this order (one rule, not a vote):

    1. **unfamiliar** when the familiarity score (``uqcore.metrics.familiarity``: distances to the nearest
       training digits, plus the headline reader's not-a-digit log-odds) is above its threshold: the 99th
       percentile of clean validation digits; or when it is above ``band`` (the 97.5th percentile,
       ``Familiarity.band_``) and the top digit's probability, with ``not_a_digit`` (the reader's probability
       that the picture is no digit) among the answers, is below ``BAND_CONFIDENT``: fairly strange and not
       read as any one digit; or when ``not_a_digit`` is above ``READER_VETO`` (the reader finds it more
       likely no digit than a digit);
    2. **confident** when the top probability of ``source`` (the headline reader) is at least
       ``confident`` (the cut that 97% of familiar clean validation digits reach, ``Familiarity.confident_``);
    3. otherwise **ambiguous** between the two most likely digits (both named).

    ``familiar_share`` is the share of clean validation digits closer than this image (0..1).
    ``prediction_set`` (the source's conformal set, ``uqcore.analysis.sets``) adds the guaranteed answer in
    plain words, except for an unfamiliar image: the guarantee only holds for images like the digits.
    ``terms`` (the familiarity score's parts, ``Familiarity.layer_scores``) say in the reason which evidence
    weighed most: the headline reader's "not a digit" output, or the distance to the training digits.
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 1 or not np.isclose(p.sum(), 1.0, atol=1e-3):
        raise ValueError(f"probs must be one probability vector, got shape {p.shape} summing to {p.sum():.3f}.")
    order = np.argsort(-p)
    a, b = int(order[0]), int(order[1])
    share = min(familiar_share, 0.999)
    evidence = {"familiarity": {"score": float(familiarity), "threshold": float(familiarity_threshold),
                                "share_of_digits_closer": float(familiar_share),
                                **({"terms": {k: float(v) for k, v in terms.items()}} if terms else {})},
                "probabilities": {"source": source, "top": float(p[a]), "runner_up": float(p[b]),
                                  "confident_threshold": float(confident)}}
    digits = tuple(int(d) for d in (prediction_set or ()))
    in_band = band is not None and band < familiarity <= familiarity_threshold
    as_digit = float(band_probability(p[a], not_a_digit))
    unread = in_band and as_digit < BAND_CONFIDENT  # fairly strange and not read as any one digit
    if band is not None:
        evidence["familiarity"].update(band=float(band), band_confident=BAND_CONFIDENT, in_band=bool(in_band),
                                       band_probability=as_digit)
    vetoed = not_a_digit > READER_VETO
    if source == HEADLINE_SOURCE:  # only the reader has a 'not a digit' output
        evidence["familiarity"].update(not_a_digit=float(not_a_digit), reader_veto=READER_VETO)
    if vetoed and familiarity <= familiarity_threshold and not unread:
        evidence["decided_by"] = "not a digit"
        return Headline("unfamiliar", a, b,
                        "This does not look like anything the model was trained on. Any digit it names would be a "
                        "guess; do not trust it.",
                        f"The model that was trained to tell digits from other pictures finds it more likely to be no "
                        f"digit at all ({floor_percent(not_a_digit)}) than any digit, though it would pick "
                        f"{article(a)} if it had to.", evidence)
    if familiarity > familiarity_threshold or unread:
        evidence["decided_by"] = "familiarity and probability" if unread else "familiarity"
        reason = _unfamiliar_reason(share, terms, in_band=unread)
        if unread:  # floored, so that 79.8% never reads as the 80% it lacks
            most = floor_percent(as_digit)
            if not_a_digit >= 0.005:  # the card shows the top digit among the digits: say how the two meet
                reason = (f"{reason} Among the digits it would pick {article(a)} ({p[a]:.0%}), but it gives "
                          f"{not_a_digit:.0%} to 'not a digit at all', which leaves at most {most} for "
                          f"{article(a)}, where a picture this unusual needs {BAND_CONFIDENT:.0%}.")
            else:
                reason = (f"{reason[:-1]}, and the model is at most {most} sure it is {article(a)}, where a picture "
                          f"this unusual needs {BAND_CONFIDENT:.0%}.")
        return Headline("unfamiliar", a, b,
                        "This does not look like anything the model was trained on. Any digit it names would be a "
                        "guess; do not trust it.", reason, evidence)  # no set: no guarantee for unfamiliar images
    if digits:
        from uqcore.analysis import sets

        evidence["prediction_set"] = {"score": sets.READER_SCORE, "alpha": sets.ALPHA, "source": source}
    if p[a] >= confident:
        evidence["decided_by"] = "probability"
        close = ("It is more unusual than most handwritten digits" if in_band else
                 "It is as close to the digits the model learned as real handwritten digits usually are")
        return Headline("confident", a, b, f"Confident: this is {article(a)} ({p[a]:.0%} sure).",
                        f"{close}, and the model is {p[a]:.0%} sure it is {article(a)}.", evidence, digits,
                        _guarantee(digits))
    evidence["decided_by"] = "probability"
    rest = "" if p[a] + p[b] >= TWO_WAY else " Other digits are possible too."
    return Headline("ambiguous", a, b,
                    f"Ambiguous between {a} and {b}: {p[a]:.0%} {article(a)}, {p[b]:.0%} {article(b)}.{rest}",
                    f"It looks like a digit the model knows, but the shape fits more than one: no digit gets the "
                    f"{confident:.0%} a confident answer needs.", evidence, digits, _guarantee(digits))


def _guarantee(digits: tuple[int, ...]) -> str:
    if not digits:
        return ""
    from uqcore.analysis import sets

    return sets.set_sentence(list(digits))


def _unfamiliar_reason(share: float, terms: dict[str, float] | None, *, in_band: bool = False) -> str:
    """Which evidence made an image unfamiliar, in plain words: the larger of the reader's term and the
    distances' terms (``terms`` as in ``headline``). In the band the reader's term is only a lean, not a call."""
    distance = sum(v for k, v in (terms or {}).items() if k != "reader")
    if terms and "reader" in terms and terms["reader"] > distance:
        says = "finds it unusual" if in_band else "calls it not a digit"
        return (f"The model that was trained to tell digits from other pictures {says}: it is stranger "
                f"than {share:.1%} of real handwritten digits are.")
    return f"It is further from every digit the model learned than {share:.1%} of real handwritten digits are."
