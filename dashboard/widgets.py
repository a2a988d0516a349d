"""Reusable UI pieces: the glossary, a digit image, the verdict card, a per-method card."""
from __future__ import annotations

from urllib.parse import urlencode

import numpy as np
import streamlit as st
from PIL import Image

from dashboard.logic import view as urlview
from uqcore.analysis.sets import lab_link
from uqcore.plots import BARS_CSS, probability_bars_html
from uqcore.verdict import HEADLINE_SOURCE, floor_percent, not_a_digit_probability

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
    "Headline reader": "The network whose answer the headline sentence gives. Besides digits it was shown blends of "
                       "two digits (and told, say, '60% a 4, 40% a 9') and pictures that are not digits (and told "
                       "'not a digit'), so it can say 'between two digits' or 'not a digit' instead of forcing "
                       "one digit.",
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


def forget_upload(upload) -> None:
    """Drop an uploaded file from the server's memory once it has been read (Streamlit otherwise keeps every
    upload of a session until the session ends). The widget still shows the file's name; nothing is lost,
    since the page keeps only the 28 x 28 image it made from it."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    try:
        ctx.uploaded_file_mgr.remove_file(ctx.session_id, upload.file_id)
    except (AttributeError, KeyError):  # no runtime (bare mode) or already gone
        pass
    _trim_heap()


def _trim_heap() -> None:
    """Hand freed memory back to the system (glibc keeps the pages of a big decoded photo otherwise)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def compact_top() -> None:
    """Less empty space above the title, so a page's first screen holds more (the projector layout)."""
    st.html("<style>[data-testid='stMainBlockContainer'] { padding-top: 2.2rem; }</style>")


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


SET_HELP = ("A conformal prediction set (split conformal, RAPS, calibrated on 10,000 validation digits): the "
            "digits it names hold the right one at least 95 times in 100 for images like the training digits. "
            "One digit means the model can commit; several mean it cannot decide between them. It promises "
            "nothing for pictures unlike the training digits, or for rotated or damaged ones.")


def verdict_card(v, results: dict | None = None) -> None:
    """The headline sentence of a ``uqcore.verdict.Verdict``, in a box whose icon and heading say the kind;
    with ``results`` (``predict_one``'s) also what the stated confidence means on the test digits."""
    box, icon, heading = VERDICT_STYLE.get(v.kind, (st.info, ":material/info:", ""))
    reason = getattr(v, "reason", "")
    source = (getattr(v, "evidence", None) or {}).get("probabilities", {}).get("source")
    what = (results or {}).get(source, {}).get("meaning") if v.kind != "unfamiliar" else None
    box(f"#### {v.sentence}" + (f"\n\n**Why:** {reason}" if reason else "")
        + (f"\n\n**{getattr(v, 'guarantee', '')}**" if getattr(v, "guarantee", "") else "")
        + (f"\n\n**What {results[source]['confidence']:.0%} sure means:** {what['sentence']} "
           f"[See them in the Calibration lab]({lab_link(source, what['bin'])})" if what else ""), icon=icon)
    evidence = getattr(v, "evidence", None)
    if evidence:
        with st.expander("Details: the scores behind this sentence"):
            f, p = evidence["familiarity"], evidence["probabilities"]
            band = (f"; it lies in the band from **{f['band']:.3f}** to the threshold, where the top digit's "
                    f"probability with 'not a digit' among the answers must reach **{f['band_confident']:.0%}** "
                    f"(here {floor_percent(f.get('band_probability', p['top']))}: {p['top']:.1%} among the digits"
                    + (f", 'not a digit' {f['not_a_digit']:.1%}" if "not_a_digit" in f else "") + ")"
                    if f.get("in_band") else "")
            in_band_rule = (f", or above **{f['band']:.3f}** (the band) with the top digit's probability, 'not a "
                            f"digit' counted, under {f['band_confident']:.0%}" if "band" in f else "")
            if "reader_veto" in f:
                in_band_rule += (f", or if the headline reader gives 'not a digit' more than {f['reader_veto']:.0%} "
                                 f"(here {f.get('not_a_digit', 0.0):.1%})")
            st.markdown(
                f"- **Decided by:** {evidence['decided_by']} "
                f"(the rule: unfamiliar if the familiarity score is above its threshold{in_band_rule}; otherwise "
                "confident if the top probability reaches the confident threshold; otherwise ambiguous between the "
                "top two)\n"
                f"- **Familiarity score** (sum of k-nearest-neighbour distances to training digits at the pixels, "
                f"first and last layer, and of the headline reader's 'not a digit' log-odds, each scaled by "
                f"validation digits): **{f['score']:.3f}**"
                + (" (" + ", ".join(f"{k} {v:+.2f}" for k, v in f["terms"].items()) + ")" if f.get("terms") else "")
                + ", threshold "
                f"**{f['threshold']:.3f}** (99th percentile of clean validation digits){band}; "
                f"{f['share_of_digits_closer']:.1%} of validation digits score lower\n"
                f"- **Probabilities** ({p['source']}): top **{p['top']:.3f}**, runner-up **{p['runner_up']:.3f}**, "
                f"confident threshold **{p['confident_threshold']:.2f}**")


def card_styles() -> None:
    """The cards' style sheet as an element of its own, drawn when the page loads. Besides the style it makes
    the browser load Streamlit's code for ``st.html`` (a separate chunk, with its HTML sanitiser) before the
    first pen stroke: without it, the first stroke in a fresh tab waited 200-570 ms in the browser for it."""
    from dashboard.logic.try_digit import CARD_CSS

    st.html(CARD_CSS + BARS_CSS + '<div class="uq-warm" hidden></div>')  # not style alone: that element
    # goes to Streamlit's hidden event container, which AppTest's tree then reads without the page's main block


def method_cards(methods: list, results: dict, *, quantile: float = 0.95, true_label: int | None = None) -> None:
    """Every method's answer (digit, confidence, probabilities, uncertainty split, the OOD flag) as cards in one
    HTML element (``dashboard.logic.try_digit.card_html``): a stroke redraws one element instead of ~13 per card."""
    from dashboard.logic.try_digit import card_html, cards_html

    tips = {**HELP, "set": SET_HELP}
    cards = []
    for method in methods:
        r = results[method.name]
        std = r["probs_std"] if method.has_spread else None
        card = {"name": method.name, "title": method.title, "description": method.description, "label": r["label"],
                "confidence": r["confidence"], "set_phrase": r.get("set_phrase"), "true_label": true_label,
                "total": r["total"], "aleatoric": r["aleatoric"], "epistemic": r["epistemic"], "is_ood": r["is_ood"],
                "quantile": quantile, "has_spread": std is not None,
                "where": f"score {r['ood_score']:.3g} vs threshold {method.threshold_:.3g}, "
                         f"{method.ood_score_name.replace('_', ' ')}"}
        if method.name == HEADLINE_SOURCE:  # the reader also answers "not a digit": its card says how much
            card["not_a_digit"] = float(not_a_digit_probability(r["ood_score"]))
        if "meaning" in r:
            card["meaning_sentence"] = r["meaning"]["sentence"]
            card["lab_link"] = lab_link(method.name, r["meaning"]["bin"])
        cards.append(card_html(card, tips, probability_bars_html(r["probs"], std, highlight=r["label"], css=False)))
    st.html(cards_html(cards))


def explanation_panel(explanation: dict, x, label: int) -> None:
    """The saliency map of a confident reading, or in plain words why none is shown."""
    st.subheader(f"Why {label}? Which pixels decided" if explanation["shown"] else "Why no explanation is shown")
    if not explanation["shown"]:
        st.info(explanation["reason"] + " Maps of 'why' are shown only for confident readings of familiar digits "
                "whose guaranteed answer is one digit.", icon=":material/visibility_off:")
        return
    from uqcore.explain import overlay

    pic, words = st.columns([1, 2])
    pic.image(overlay(x, explanation["attributions"], size=224), width=224)
    words.markdown(f"**Red** pixels pushed the model towards **{label}**, **blue** ones away from it; grey is the "
                   "ink it read. Measured by integrated gradients: the ink is faded in from a black image and "
                   "each pixel's share of the change in the model's score is summed.")
    words.caption(f"Check: the shares add up to the score's change within {explanation['completeness_error']:.1%} "
                  f"({explanation['method']}, Captum's integrated gradients, 64 steps).")


GRID_CSS = ("<style>.uq-grid{display:grid;gap:.6rem .5rem;margin:.2rem 0 .6rem}.uq-grid figure{margin:0;min-width:0}"
            ".uq-grid img{width:100%;aspect-ratio:1;image-rendering:pixelated;display:block;border-radius:.25rem}"
            ".uq-grid figcaption{font-size:14px;line-height:1.35;color:rgba(49,51,63,.72);text-align:center;"
            "margin-top:.25rem;overflow-wrap:normal}</style>")


def image_grid(images, captions, *, columns: int = 8) -> None:
    """28x28 images in [0, 1] (or uint8) in rows of ``columns``, each with its caption under it, as one HTML
    element of PNG data URLs drawn with crisp pixels. One element instead of one ``st.image`` a picture: the
    browser gets the whole grid in one message instead of fetching each picture (a 48-image selection on the
    map showed ~0.2 s sooner). The caption is also the picture's alt text."""
    from html import escape

    from dashboard.logic.explore import data_urls

    arr = np.asarray(images)
    if not len(arr):
        return
    arr = arr.reshape(len(arr), 28, 28)
    if arr.dtype == np.uint8:
        arr = arr / 255.0
    cells = "".join(f'<figure><img src="{u}" alt="{escape(c)}"><figcaption>{escape(c)}</figcaption></figure>'
                    for u, c in zip(data_urls(arr), captions))
    st.html(f'{GRID_CSS}<div class="uq-grid" style="grid-template-columns:repeat({columns},minmax(0,1fr))">'
            f"{cells}</div>")


def reading_caption(true: int, pred: int, confidence: float, total: float, aleatoric: float, epistemic: float) -> str:
    """One image's reading in a caption: ✓/✗, true and predicted digit, confidence, then T / A / E.

    Non-breaking spaces keep each label with its number, so a narrow column wraps between items only."""
    nb = "\u00a0"
    head = f"no{nb}label · said{nb}{pred}" if true < 0 else \
        f"{'✓' if true == pred else '✗'}{nb}true{nb}{true} · said{nb}{pred}"
    return (f"{head} · {confidence:.0%}{nb}sure · T{nb}{total:.2f} · A{nb}{aleatoric:.2f} · E{nb}{epistemic:.2f}")


def html_table(styler, *, font_size: int = 16, padding: str = "6px 10px") -> None:
    """A pandas ``Styler`` as a plain HTML table: large tabular numbers, right-aligned, left row labels.

    Used instead of st.dataframe where a table must read well on a projector and carry highlighting. A table wider
    than its column (Compare's OOD table, one column per set) scrolls sideways instead of being cut off."""
    styler = styler.set_table_styles([
        {"selector": "", "props": f"border-collapse: collapse; font-size: {font_size}px; width: 100%;"},
        {"selector": "th, td", "props": f"padding: {padding}; border-bottom: 1px solid #ddd; text-align: right;"},
        {"selector": "td", "props": "white-space: nowrap; font-variant-numeric: tabular-nums;"},
        {"selector": "th.row_heading", "props": "text-align: left;"},
    ])
    st.html(f'<div style="overflow-x: auto">{styler.to_html()}</div>')


class PageView:
    """One page's view, kept in the URL's query parameters (so a link reopens it) and across pages.

    ``specs`` are ``dashboard.logic.view`` parameters. On a fresh link the values are read once, with a
    warning naming each value that cannot be used (its default is shown instead). Each widget takes
    ``**view.widget(name)`` (its key and a callback; no default of its own); after the widgets,
    ``view.publish()`` writes the view back into the URL and ``view.share()`` offers the link.
    """

    def __init__(self, page: str, prefix: str, specs, *, plain=()):
        """``page``: the page's URL path ("calibration_lab"); ``prefix``: of its session keys ("cal" ->
        "cal_method"). ``plain`` names are held in plain session keys that no widget owns (code and tests may
        set them directly); the others belong to widgets, whose own state Streamlit drops while another page
        is shown, so their kept copy wins."""
        self.page, self.prefix, self.specs = page, prefix, {s.name: s for s in specs}
        params = st.query_params.to_dict()
        if params and params != st.session_state.get("_url_last"):  # a link, not a page's own last write
            given = {k: v for k, v in params.items() if k in self.specs}
            values, problems = urlview.read(given, self.specs.values())
            for name in given:
                set_kept(self.key(name), values[name])
            if problems:
                st.warning(urlview.warning_text(problems), icon=":material/warning:")
        for name, spec in self.specs.items():
            key = self.key(name)
            first, second = (key, f"_keep_{key}") if name in plain else (f"_keep_{key}", key)
            value = st.session_state.get(first, st.session_state.get(second, spec.default))
            value = spec.clean(value) if spec.clean else value
            set_kept(key, value if _fits(spec, value) else spec.default)

    def key(self, name: str) -> str:
        return f"{self.prefix}_{name}"

    def __getitem__(self, name: str):
        return st.session_state[self.key(name)]

    def set(self, name: str, value) -> None:
        """Change one value (before its widget is drawn, or from a callback)."""
        set_kept(self.key(name), value)

    def widget(self, name: str) -> dict:
        """Keyword arguments binding a widget to ``name``: ``st.selectbox(label, options, **view.widget(name))``."""
        return {"key": self.key(name), "on_change": _sync, "args": (self.key(name),)}

    def publish(self) -> dict[str, str]:
        """Write the view into the URL; returns the query parameters."""
        params = urlview.to_params({n: self[n] for n in self.specs}, self.specs.values())
        if st.query_params.to_dict() != params:
            st.query_params.from_dict(params)
        st.session_state["_url_last"] = params
        return params

    def share(self, params: dict[str, str] | None = None) -> None:
        """A "copy link to this view" control: the page's full address with its view."""
        from dashboard.resources import YOURS

        params = self.publish() if params is None else params
        own = {k for k, v in params.items() if str(v).startswith(YOURS)}  # a loaded file: no one else has it
        params = {k: v for k, v in params.items() if k not in own}
        base = str(getattr(st.context, "url", None) or self.page).split("?")[0]
        link = f"{base}?{urlencode(params)}" if params else base
        text, button = st.columns([5, 1], vertical_alignment="center")
        text.caption(f":material/link: **Share this view:** `{link}` (anyone opening it sees this page with the "
                     "same choices" + ("; your predictions file stays on this computer, so the link shows the "
                                       "default model instead)." if own else ")."))
        with button.popover("Copy link", icon=":material/content_copy:", width="stretch"):
            st.code(link, language=None, wrap_lines=True)  # its corner button copies the link


def _fits(spec, value) -> bool:
    """True when ``value`` survives being written into a URL and read back (stale or hand-set values do not)."""
    try:
        back, problem = spec.read(spec.write(value))
    except Exception:  # noqa: BLE001 - any value that cannot be written is simply not kept
        return False
    return problem is None and back == value


def set_kept(key: str, value) -> None:
    """Set a widget's value before it is drawn; a mirror keeps it while another page is shown (Streamlit
    forgets the state of widgets that are not drawn)."""
    st.session_state[key] = st.session_state[f"_keep_{key}"] = value


def _sync(key: str) -> None:
    st.session_state[f"_keep_{key}"] = st.session_state[key]


def reading_columns(ood_score_name: str, *, flagged: bool = False) -> dict:
    """``st.dataframe`` column settings for a table of readings (true, pred, confidence, T / A / E, OOD score)."""
    cols = {
        "true": st.column_config.NumberColumn("true digit", help="-1: no label (not a digit)"),
        "pred": st.column_config.NumberColumn("read as"),
        "confidence": st.column_config.NumberColumn("confidence", format="percent"),
        "total": st.column_config.NumberColumn("total", format="%.4f", help=HELP["total"]),
        "aleatoric": st.column_config.NumberColumn("aleatoric", format="%.4f", help=HELP["aleatoric"]),
        "epistemic": st.column_config.NumberColumn("epistemic", format="%.4f", help=HELP["epistemic"]),
        "ood_score": st.column_config.NumberColumn(f"OOD score ({ood_score_name.replace('_', ' ')})", format="%.4g",
                                                   help=HELP["ood"]),
    }
    if flagged:
        cols["flagged"] = st.column_config.CheckboxColumn(
            "flagged", help="The OOD score is above the method's threshold (the 95th percentile on clean validation "
                            "digits).")
    return cols


PER_CLASS_COLUMNS = {
    "images": st.column_config.NumberColumn("test images"),
    "accuracy": st.column_config.NumberColumn("accuracy", format="percent",
                                              help="Share of this digit's test images read correctly (recall)."),
    "precision": st.column_config.NumberColumn("precision", format="percent",
                                               help="Of the images read as this digit, the share that really are."),
    "confidence": st.column_config.NumberColumn("mean confidence", format="percent",
                                                help="Average top probability on this digit's test images."),
    "ece": st.column_config.NumberColumn("ECE (one-vs-rest)", format="percent",
                                         help="Calibration error of the probability for this digit."),
}


def first_reading(model, meta: dict, *, key: str) -> None:
    """Try a digit during a first start, before the methods are trained: the single network's early snapshot
    (``resources.early_network``) reads the drawing at once, under the build's progress (the page stops after
    it and fills in by itself when the build lands). ``key``: the drawing pad's, the same as the full page's,
    so that the digit drawn now is read by every method when they land."""
    from dashboard.draw_canvas import draw_canvas, rgba_of
    from dashboard.logic.try_digit import STILL_TRAINING, first_reading as read
    from dashboard.resources import ensure_built
    from uqcore.data.preprocess import ImageError, to_mnist

    if ensure_built(stop=False):  # the build's progress, where the waiting page had it
        st.rerun()  # it landed since the page looked: the full page
    draw_col, seen_col, card_col = st.columns([3, 2, 3], gap="large")
    with draw_col:
        st.markdown("**Draw** one digit, large")
        png = draw_canvas(key=key)
    pre = None
    if png:
        try:
            pre = to_mnist(rgba_of(png))
        except ImageError as err:
            st.error(f"This image cannot be used: {err}")
    seen = pre is not None and not pre.is_empty
    with seen_col:
        st.markdown("**What the model sees**")
        digit_image(pre.preview if seen else np.zeros((28, 28)))
    with card_col:
        if seen:
            probs = read(model, pre.x)
            st.metric("First network reads", str(int(probs.argmax())), f"{probs.max():.0%} sure", delta_color="off",
                      delta_arrow="off")
            st.html(probability_bars_html(probs, highlight=int(probs.argmax())))
        else:
            st.info("Draw a digit: a first network reads it at once.", icon=":material/edit:")
    st.info(STILL_TRAINING.format(epochs=meta["epochs"], of=meta["of"], accuracy=meta["test_accuracy"]),
            icon=":material/hourglass_top:")
    st.stop()
