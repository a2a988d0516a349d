"""Try a digit logic: one input read by every method, with the headline; the random picks' descriptions.
Plain Python: the page keeps the returned record in its session state."""
from __future__ import annotations

import time

import numpy as np

from uqcore.predict import explanation_for, headline_for, predict_one

OOD_CHOICES = {"letters": "a printed capital letter", "noise": "random static", "natural": "a patch of a photo",
               "objects": "a drawing of an everyday object", "doodles": "a doodle that is not a digit"}
NO_DIGIT = ("No digit found in this picture: it looks blank, or nothing stands out from the paper. "
            "Try a closer photo with the digit written darker.")


def read_input(bundle, x, preview, *, source: str, true_label: int | None = None, notes=None,
               test: int | None = None, context=None) -> dict:
    """Every method's answer and the headline for one image (784 values in [0, 1]), timed on the server;
    with ``context`` (``uqcore.analysis.sets.build_context``) the prediction sets and what each confidence
    means. The explanation (``explanation_for``) is computed after the cards are drawn (``explain``).

    ``test`` is the test digit's number when the input is one (it goes into the page's link)."""
    x = np.asarray(x, dtype=np.float32).reshape(784)
    t0 = time.perf_counter()
    results = predict_one(bundle.methods, x, context)
    headline = headline_for(bundle.familiarity, results, x)
    return {"x": x, "preview": np.asarray(preview).reshape(28, 28), "source": source, "true_label": true_label,
            "notes": list(notes or []), "results": results, "verdict": headline,
            "seconds": time.perf_counter() - t0, "test": test, "explanation": None}


def explain(bundle, record: dict) -> dict:
    """The record's explanation (integrated gradients of the headline's digit, or why it is withheld),
    computed once and kept in the record."""
    if record.get("explanation") is None:
        record["explanation"] = explanation_for(bundle.methods, record["verdict"], record["x"])
    return record["explanation"]


def test_digit(bundle, i: int | None = None, rng: np.random.Generator | None = None, context=None) -> dict:
    """Test digit ``i`` (a random one when None) with its true label."""
    random = i is None
    i = int((rng or np.random.default_rng()).integers(bundle.predictions.n("test"))) if random else int(i)
    img = bundle.predictions.images("test", [i])[0]
    return read_input(bundle, img, img, source=f"{'Random ' if random else ''}MNIST test digit (no. {i})",
                      true_label=int(bundle.predictions.y("test")[i]), test=i, context=context)


def unusual(bundle, sample_set, rng: np.random.Generator | None = None, context=None) -> dict:
    """A random image of a random OOD set (``sample_set(name) -> (x, y, meta)``)."""
    rng = rng or np.random.default_rng()
    name = str(rng.choice(list(OOD_CHOICES)))
    x, _, _ = sample_set(name)
    i = int(rng.integers(len(x)))
    return read_input(bundle, x[i], x[i], source=f"Random unusual image: {OOD_CHOICES[name]} (not a digit)",
                      context=context)


def blend(bundle, sample_set, rng: np.random.Generator | None = None, context=None) -> dict:
    """A random blend of two different test digits, described with its weights."""
    x, y, meta = sample_set("ambiguous")
    i = int((rng or np.random.default_rng()).integers(len(x)))
    w = float(meta["mix_weight"][i])
    return read_input(bundle, x[i], x[i],
                      source=f"Blend of a {int(y[i])} ({w:.0%}) and a {int(meta['label_b'][i])} ({1 - w:.0%})",
                      context=context)


def first_reading(model, x) -> np.ndarray:
    """The 10 probabilities the single network's early snapshot (a first start) gives one image (784 values)."""
    import torch

    with torch.no_grad():
        logits = model(torch.as_tensor(np.asarray(x, np.float32).reshape(1, 784)))
    return torch.softmax(logits, -1).numpy()[0].astype(np.float64)


STILL_TRAINING = ("**Still training the other methods.** This first answer comes from the single network after "
                  "{epochs} of its {of} training epochs ({accuracy:.1%} of test digits right). The plain-language "
                  "verdict and every method's card replace it here by themselves when the build lands.")
