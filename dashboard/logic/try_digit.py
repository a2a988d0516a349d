"""Try a digit logic: one input read by every method, with the headline; the random picks' descriptions.
Plain Python: the page keeps the returned record in its session state."""
from __future__ import annotations

import time

import numpy as np

from uqcore.data.preprocess import several_marks
from uqcore.predict import explanation_for, headline_for, predict_one
from uqcore.verdict import READER_VETO

OOD_CHOICES = {"letters": "a printed capital letter", "noise": "random static", "natural": "a patch of a photo",
               "objects": "a drawing of an everyday object", "doodles": "a pen doodle",
               "sketches": "a quick pen sketch of a thing",
               "glyphs": "a handwritten sign or a letter of another script"}
# the held-out families (uqcore.file_path.HELD_OUT) are not offered: they are only looked at in aggregate
_KINDS = list(OOD_CHOICES.values())
OOD_HELP = f"Something that is not a digit: {', '.join(_KINDS[:-1])} or {_KINDS[-1]}. "
NO_DIGIT = ("No digit found in this picture: it looks blank, or nothing stands out from the paper. "
            "Try a closer photo with the digit written darker.")


def read_input(bundle, x, preview, *, source: str, true_label: int | None = None, notes=None,
               test: int | None = None, context=None, hint: str | None = None) -> dict:
    """Every method's answer and the headline for one image (784 values in [0, 1]), timed on the server;
    with ``context`` (``uqcore.analysis.sets.build_context``) the prediction sets and what each confidence
    means. The explanation (``explanation_for``) is computed after the cards are drawn (``explain``).

    ``test`` is the test digit's number when the input is one (it goes into the page's link); ``hint`` is a remark
    the page shows beside the headline (``picture_hint``)."""
    x = np.asarray(x, dtype=np.float32).reshape(784)
    t0 = time.perf_counter()
    results = predict_one(bundle.methods, x, context)
    headline = headline_for(bundle.familiarity, results, x)
    return {"x": x, "preview": np.asarray(preview).reshape(28, 28), "source": source, "true_label": true_label,
            "notes": list(notes or []), "results": results, "verdict": headline,
            "seconds": time.perf_counter() - t0, "test": test, "explanation": None, "hint": hint}


def picture_hint(pre) -> tuple[str | None, list[str]]:
    """An uploaded picture's remark for beside the headline, and its other notes: several marks side by side
    (``preprocess.several_marks``) are said there, where a reader of the headline sees them."""
    n = int(pre.framing.get("side_by_side", 0))
    hint = several_marks(n) if n >= 2 else None
    return hint, [note for note in pre.notes if note != hint]


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


# ----------------------------------------------------------------------------- the method cards, as one element
CARD_CSS = """<style>
.uq-cards{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:1rem;margin:.25rem 0 .5rem}
.uq-card{border:1px solid rgba(49,51,63,.2);border-radius:.5rem;padding:.85rem 1rem;line-height:1.5;min-width:0}
.uq-card p{margin:0 0 .35rem}
.uq-card .uq-title{font-weight:600}
.uq-card .uq-head{display:flex;justify-content:space-between;gap:.5rem;align-items:flex-start}
.uq-card .uq-big{font-size:2.4rem;font-weight:700;line-height:1.15;margin:.2rem 0 0}
.uq-card .uq-cap{color:rgba(49,51,63,.65);font-size:.9rem}
.uq-card .uq-tip{cursor:help;display:inline-flex;align-items:center;justify-content:center;width:1.05em;
 height:1.05em;border:1px solid rgba(49,51,63,.45);border-radius:50%;color:rgba(49,51,63,.6);font-size:.75rem;
 font-weight:600;margin-left:.35rem;vertical-align:.1em}
.uq-card .uq-flag{color:#b42318}
@media (max-width:900px){.uq-cards{grid-template-columns:1fr}}
</style>"""


def _plain(text: str) -> str:
    """Markdown emphasis out, for a tooltip (``title`` shows text as it is)."""
    return text.replace("**", "").replace("*", "")


def _tip(text: str) -> str:
    from html import escape

    return f'<span class="uq-tip" title="{escape(_plain(text))}">?</span>'  # the title is also its description


def card_html(card: dict, tips: dict[str, str], bars: str) -> str:
    """One method's card (what ``widgets.method_card`` drew as ~13 Streamlit elements) as HTML.

    ``card``: title, description, label, confidence, set_phrase?, meaning_sentence?, lab_link?, true_label?,
    not_a_digit? (the headline reader's probability of "not a digit"), total, aleatoric, epistemic, is_ood,
    quantile, where, has_spread. ``tips``: the glossary's total, aleatoric,
    epistemic, ood and set texts. ``bars``: the probability bars (``uqcore.plots.probability_bars_html``)."""
    from html import escape as e

    parts = [f'<p class="uq-title">{e(card["title"])}{_tip(card["description"])}</p>', '<div class="uq-head"><div>',
             f'<p class="uq-big">{card["label"]}</p>',
             f'<p class="uq-cap">its reading, {card["confidence"]:.1%} sure'
             + (f' among the digits; "not a digit": {card["not_a_digit"]:.0%}' if "not_a_digit" in card else "")
             + '</p></div>']
    if card.get("true_label") is not None:
        right = card["label"] == card["true_label"]
        parts.append(f'<p>{"✓ <b>right</b>" if right else "✗ <b>wrong</b>"}<br>true digit: {card["true_label"]}</p>')
    parts.append("</div>")
    if card.get("not_a_digit", 0.0) > READER_VETO:  # its set is among the digits: no promise for a non-digit
        parts.append(f'<p>Guaranteed answer: <b>none</b>: it finds this more likely no digit at all, and the '
                     f'guarantee holds for digits only{_tip(tips["set"])}</p>')
    elif card.get("set_phrase"):
        parts.append(f'<p>Guaranteed answer: <b>{e(card["set_phrase"])}</b>{_tip(tips["set"])}</p>')
    if card.get("meaning_sentence"):
        parts.append(f'<p class="uq-cap">What {card["confidence"]:.1%} means: {e(card["meaning_sentence"])} '
                     f'<a href="{e(card["lab_link"])}" target="_self">In the lab</a></p>')
    parts.append(bars)
    if card.get("has_spread"):
        parts.append('<p class="uq-cap">Whiskers: ± one standard deviation over the samples / members.</p>')
    parts += [f'<p>Total uncertainty <b>{card["total"]:.3f}</b> nats{_tip(tips["total"])}</p>',
              f'<p>= from the image (aleatoric) <b>{card["aleatoric"]:.3f}</b>{_tip(tips["aleatoric"])}</p>',
              f'<p>+ from the model (epistemic) <b>{card["epistemic"]:.3f}</b>{_tip(tips["epistemic"])}</p>']
    if card["is_ood"]:
        parts.append(f'<p><b class="uq-flag">✗ Flagged as unusual</b>: more unusual than {card["quantile"]:.0%} of '
                     f'clean validation digits ({e(card["where"])}).{_tip(tips["ood"])}</p>')
    else:
        parts.append(f'<p>✓ Looks like a typical digit ({e(card["where"])}).{_tip(tips["ood"])}</p>')
    return f'<div class="uq-card" data-method="{e(card["name"])}">{"".join(parts)}</div>'


def cards_html(cards: list[str]) -> str:
    """The cards in a grid of three columns (one column on a narrow screen), one HTML element; the probability
    bars' style (``uqcore.plots.BARS_CSS``) goes once for all cards, which draw theirs with ``css=False``."""
    from uqcore.plots import BARS_CSS

    return f'{CARD_CSS}{BARS_CSS}<div class="uq-cards">{"".join(cards)}</div>'
