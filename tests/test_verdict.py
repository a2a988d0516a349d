import numpy as np
import pytest

from uqcore.verdict import verdict


def onehot(k, p=1.0):
    v = np.full(10, (1 - p) / 9)
    v[k] = p
    return v


def test_confident():
    v = verdict(onehot(7, 0.97), aleatoric=0.1, epistemic=0.01, is_ood=False)
    assert v.kind == "confident" and v.sentence == "Confident: this is a 7 (97% sure)."


def test_ambiguous_names_both_digits_and_the_reason():
    p = np.zeros(10)
    p[4], p[9], p[1] = 0.55, 0.40, 0.05
    v = verdict(p, aleatoric=0.8, epistemic=0.05, is_ood=False)
    assert v.kind == "ambiguous" and (v.label, v.runner_up) == (4, 9)
    assert "between 4 and 9" in v.sentence and "the image itself is unclear" in v.sentence
    v2 = verdict(p, aleatoric=0.1, epistemic=0.5, is_ood=False)
    assert "seen too few images like this" in v2.sentence


def test_unsure_and_ood():
    assert verdict(np.full(10, 0.1), aleatoric=2.3, epistemic=0.0, is_ood=False).kind == "unsure"
    v = verdict(onehot(3, 0.99), aleatoric=0.0, epistemic=0.0, is_ood=True)
    assert v.kind == "ood" and "does not look like anything the model was trained on" in v.sentence


def test_bad_probs_are_refused():
    with pytest.raises(ValueError, match="probability vector"):
        verdict(np.ones(10), aleatoric=0, epistemic=0, is_ood=False)


def test_per_method_verdict_uses_the_right_article():
    assert verdict(onehot(8, 0.97), aleatoric=0.1, epistemic=0.0, is_ood=False).sentence == "Confident: this is an 8 (97% sure)."
