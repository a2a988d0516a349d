"""Reusable UI pieces: the glossary, a digit image, the verdict card, a per-method card."""
from __future__ import annotations

import numpy as np
import streamlit as st
from PIL import Image

from uqcore.plots import probability_bars

# Plain-word definitions; the same text feeds the sidebar glossary, the About page and tooltips.
GLOSSARY = {
    "Total uncertainty": "How unsure the answer is overall, from 0 (certain) up to 2.3 (all ten digits equally "
                         "likely). Measured in *nats*, a unit of information. It is the sum of the two parts below.",
    "Aleatoric uncertainty": "Uncertainty that comes from **the image itself**: a sloppy 4 that could be a 9. "
                             "More training would not remove it.",
    "Epistemic uncertainty": "Uncertainty that comes from **the model's lack of experience**: it has seen too few "
                             "images like this one, so different plausible versions of the model disagree. "
                             "More (or more varied) training data would reduce it.",
    "Calibration": "Whether the stated confidence can be taken at face value: of all answers given with 80% "
                   "confidence, about 80% should be right.",
    "ECE": "Expected calibration error: the average gap between stated confidence and actual accuracy, "
           "0 is perfect. An ECE of 2% means the confidence is off by about 2 percentage points on average.",
    "Temperature": "A single number that softens (above 1) or sharpens (below 1) the model's confidence "
                   "without changing which digit it picks. Fitted on held-out images to fix overconfidence.",
    "OOD (out of distribution)": "An input unlike anything the model was trained on, such as a letter, a photo "
                                 "or noise. The model still names a digit, so it must be flagged separately.",
}

HELP = {
    "total": GLOSSARY["Total uncertainty"],
    "aleatoric": GLOSSARY["Aleatoric uncertainty"],
    "epistemic": GLOSSARY["Epistemic uncertainty"],
    "ood": GLOSSARY["OOD (out of distribution)"],
}

VERDICT_STYLE = {  # kind -> (streamlit box, icon, plain heading): the icon and heading carry the meaning, not the colour
    "confident": (st.success, ":material/check_circle:", "Confident"),
    "ambiguous": (st.warning, ":material/balance:", "Ambiguous"),
    "unsure": (st.warning, ":material/help:", "Unsure"),
    "ood": (st.error, ":material/block:", "Not a digit?"),
    "unfamiliar": (st.error, ":material/block:", "Unlike anything seen in training"),
}


def glossary(*, full: bool = False) -> None:
    """The glossary in plain words; ``full`` adds headings (About page), otherwise a compact list (sidebar)."""
    for term, text in GLOSSARY.items():
        if full:
            st.markdown(f"#### {term}\n{text}")
        else:
            st.markdown(f"**{term}**: {text}")


def digit_image(preview: np.ndarray, *, size: int = 168, caption: str | None = None) -> None:
    """A 28x28 image in [0, 1], upscaled with nearest neighbour so each model pixel stays a crisp square."""
    arr = (np.clip(np.asarray(preview, dtype=np.float32).reshape(28, 28), 0, 1) * 255).astype(np.uint8)
    img = Image.fromarray(arr).resize((size, size), Image.Resampling.NEAREST)
    st.image(img, caption=caption, width=size)


def verdict_card(v) -> None:
    """The headline sentence of a ``uqcore.verdict.Verdict``, in a box whose icon and heading say the kind."""
    box, icon, heading = VERDICT_STYLE.get(v.kind, (st.info, ":material/info:", ""))
    reason = getattr(v, "reason", "")
    box(f"#### {v.sentence}" + (f"\n\n**Why:** {reason}" if reason else ""), icon=icon)
    evidence = getattr(v, "evidence", None)
    if evidence:
        with st.expander("Details: the scores behind this sentence"):
            f, p = evidence["familiarity"], evidence["probabilities"]
            st.markdown(
                f"- **Decided by:** {'familiarity' if evidence['decided_by'] == 'familiarity' else 'probability'} "
                "(the rule: unfamiliar if the familiarity score is above its threshold; otherwise confident if the "
                "top probability reaches the confident threshold; otherwise ambiguous between the top two)\n"
                f"- **Familiarity score** (sum of k-nearest-neighbour distances to training digits at the pixels, "
                f"first and last layer, each scaled by validation digits): **{f['score']:.3f}**, threshold "
                f"**{f['threshold']:.3f}** (99th percentile of clean validation digits); "
                f"{f['share_of_digits_closer']:.1%} of validation digits score lower\n"
                f"- **Probabilities** ({p['source']}): top **{p['top']:.3f}**, runner-up **{p['runner_up']:.3f}**, "
                f"confident threshold **{p['confident_threshold']:.2f}**")


def method_card(method, result: dict, *, quantile: float = 0.95, true_label: int | None = None) -> None:
    """One method's answer: digit, confidence, probabilities, uncertainty split and the OOD flag."""
    with st.container(border=True):
        st.markdown(f"**{method.title}**", help=method.description)
        head, right = st.columns([3, 2])
        head.markdown(f"## {result['label']}")
        head.caption(f"its reading, {result['confidence']:.1%} sure")
        if true_label is not None:
            if result["label"] == true_label:
                right.markdown(f"✓ **right**  \ntrue digit: {true_label}")
            else:
                right.markdown(f"✗ **wrong**  \ntrue digit: {true_label}")
        std = result["probs_std"] if method.sampling or method.name == "ensemble" else None
        st.plotly_chart(probability_bars(result["probs"], std, highlight=result["label"]),
                        width="stretch", config={"displayModeBar": False}, key=f"bars_{method.name}")
        if std is not None:
            st.caption("Whiskers: ± one standard deviation over the samples / members.")
        st.markdown(f"Total uncertainty **{result['total']:.3f}** nats", help=HELP["total"])
        st.markdown(f"= from the image (aleatoric) **{result['aleatoric']:.3f}**", help=HELP["aleatoric"])
        st.markdown(f"\+ from the model (epistemic) **{result['epistemic']:.3f}**", help=HELP["epistemic"])
        where = f"score {result['ood_score']:.3g} vs threshold {method.threshold_:.3g}, {method.ood_score_name.replace('_', ' ')}"
        if result["is_ood"]:
            st.markdown(f":material/block: **Flagged as unusual**: more unusual than {quantile:.0%} of clean validation digits "
                        f"({where}).", help=HELP["ood"])
        else:
            st.markdown(f":material/check: Looks like a typical digit ({where}).", help=HELP["ood"])


def image_grid(images, captions, *, columns: int = 8, scale: int = 4) -> None:
    """28x28 images in [0, 1] (or uint8) in rows of ``columns``, upscaled by ``scale`` with crisp pixels."""
    cols = st.columns(columns)
    for k, (img, caption) in enumerate(zip(images, captions)):
        arr = np.asarray(img).reshape(28, 28)
        if arr.dtype != np.uint8:
            arr = (np.clip(arr, 0, 1) * 255).astype(np.uint8)
        arr = np.repeat(np.repeat(arr, scale, axis=0), scale, axis=1)
        cols[k % columns].image(arr, caption=caption, width="stretch")


def reading_caption(true: int, pred: int, confidence: float, total: float, aleatoric: float, epistemic: float) -> str:
    """One image's reading in a caption: ✓/✗, true and predicted digit, confidence, then T / A / E.

    Non-breaking spaces keep each label with its number, so a narrow column wraps between items only."""
    nb = "\u00a0"
    head = f"no{nb}label · said{nb}{pred}" if true < 0 else \
        f"{'✓' if true == pred else '✗'}{nb}true{nb}{true} · said{nb}{pred}"
    return (f"{head} · {confidence:.0%}{nb}sure · T{nb}{total:.2f} · A{nb}{aleatoric:.2f} · E{nb}{epistemic:.2f}")


def html_table(styler, *, font_size: int = 16) -> None:
    """A pandas ``Styler`` as a plain HTML table: large tabular numbers, right-aligned, left row labels.

    Used instead of st.dataframe where a table must read well on a projector and carry highlighting."""
    styler = styler.set_table_styles([
        {"selector": "", "props": f"border-collapse: collapse; font-size: {font_size}px; width: 100%;"},
        {"selector": "th, td", "props": "padding: 6px 10px; border-bottom: 1px solid #ddd; text-align: right;"},
        {"selector": "td", "props": "white-space: nowrap; font-variant-numeric: tabular-nums;"},
        {"selector": "th.row_heading", "props": "text-align: left;"},
    ])
    st.html(styler.to_html())


def remember(key: str, default, valid=None) -> dict:
    """Keyword arguments for the widget ``key`` that keep its value across pages, with bad values replaced.

    Streamlit forgets a widget's value on runs where it is not drawn (another page), so the value is
    mirrored under ``_keep_<key>`` by an ``on_change`` callback and put back before the widget is drawn.
    A value that fails ``valid`` (stale, or set by hand through the session state or a test) becomes
    ``default``. Use as ``st.selectbox(label, options, **remember(key, default, valid))`` with no
    default/index of the widget's own; ``st.session_state[key]`` holds the value after the call."""
    mirror = f"_keep_{key}"
    value = st.session_state[mirror] if mirror in st.session_state else st.session_state.get(key, default)
    try:
        ok = valid is None or bool(valid(value))
    except (TypeError, ValueError):
        ok = False
    set_kept(key, value if ok else default)
    return {"key": key, "on_change": _sync, "args": (key,)}


def set_kept(key: str, value) -> None:
    """Set a remembered widget's value (before the widget is drawn)."""
    st.session_state[key] = st.session_state[f"_keep_{key}"] = value


def _sync(key: str) -> None:
    st.session_state[f"_keep_{key}"] = st.session_state[key]
