"""Try a digit: draw, upload or pick an image; every method reads it and says how sure it is.
A picked test digit is kept in the URL (``?test=1234``), so a link reopens it."""
import hashlib

import numpy as np
import streamlit as st

from dashboard import widgets
from dashboard.draw_canvas import draw_canvas, rgba_of
from dashboard.logic import view as urlview
from dashboard.logic.try_digit import (NO_DIGIT, OOD_HELP, blend, explain, picture_hint, read_input, test_digit,
                                       unusual)
from dashboard.resources import early_network, get_bundle, reading_context, sample_set, settle_heap
from uqcore.data.preprocess import ImageError, to_mnist

st.title("Try a digit")
st.write("Draw a digit, upload a picture of one, or let the app pick an image. Nine different methods read it "
         "and each says how sure it is, and **why** it is unsure.")

state = st.session_state
state.setdefault("canvas_n", 0)  # bumping it gives the canvas a new key: that clears it
state.setdefault("canvas_seen", None)
state.setdefault("upload_seen", None)
state.setdefault("current_input", None)
if (early := early_network()) is not None:  # a first start: a first network reads while the rest trains
    widgets.first_reading(*early, key=f"canvas_{state['canvas_n']}")  # the same pad: its drawing carries over
bundle = get_bundle()
ctx = reading_context()
n_test = bundle.predictions.n("test")
view = widgets.PageView("try_digit", "try", (urlview.integer("test", -1, -1, n_test - 1, optional=True,
                                                              what="test digit number"),))


def show(record: dict | None) -> None:
    """Make ``record`` (``dashboard.logic.try_digit.read_input``) the current input; None clears it."""
    state["current_input"] = record
    view.set("test", -1 if record is None or record["test"] is None else record["test"])
    if record is not None:
        state["last_digit"] = record["x"]  # other pages place this digit on their maps


def from_image(image, source: str) -> None:
    try:
        pre = to_mnist(image)
    except ImageError as err:
        st.error(f"This image cannot be used: {err}")
        return
    if pre.is_empty:
        show(None)  # the page then says "Draw a digit first"
        if source != "Your drawing":
            st.warning(NO_DIGIT, icon=":material/image_search:")
        return
    hint, notes = picture_hint(pre)
    show(read_input(bundle, pre.x, pre.preview, source=source, notes=notes, context=ctx, hint=hint))


@st.fragment
def workbench() -> None:
    """Inputs and answers together, so a pen stroke reruns only this part of the page."""
    draw_col, seen_col, other_col = st.columns([3, 2, 3], gap="large")
    with draw_col:
        st.markdown("**Draw** one digit, large")
        drawing = draw_canvas(key=f"canvas_{state['canvas_n']}")  # PNG bytes, None before the first stroke
        if st.button("Clear the drawing", icon=":material/ink_eraser:"):
            state["canvas_n"] += 1
            state["canvas_seen"] = None
            st.rerun(scope="fragment")
    with other_col:
        upload = st.file_uploader("**Upload** a picture of a digit", type=["png", "jpg", "jpeg", "gif", "bmp", "webp"],
                                  help="A photo or scan of one handwritten digit. Dark ink on light paper is fine: "
                                       "the app converts it to white on black, as the model expects.")
        st.markdown("**Or let the app pick**")
        test_clicked = st.button("Random test digit", help="A real handwritten digit the model never trained on.",
                                 width="stretch")
        ood_clicked = st.button("Random non-digit", help=OOD_HELP + widgets.HELP["ood"], width="stretch")
        blend_clicked = st.button("Ambiguous blend", help="Two different digits blended into one image.",
                                  width="stretch")

    # Which input is new? Buttons win; then a new upload; then a new stroke on the canvas.
    drawing_id = hashlib.sha1(drawing).hexdigest() if drawing else None
    upload_id = upload.file_id if upload is not None else None
    if test_clicked:
        show(test_digit(bundle, context=ctx))
    elif ood_clicked:
        show(unusual(bundle, sample_set, context=ctx))
    elif blend_clicked:
        show(blend(bundle, sample_set, context=ctx))
    elif upload_id is not None and upload_id != state["upload_seen"]:
        state["upload_seen"] = upload_id
        from_image(upload.getvalue(), source=f"Uploaded picture '{upload.name}'")
        widgets.forget_upload(upload)  # the server keeps no copy of the picture once it is read
    elif drawing_id is not None and drawing_id != state["canvas_seen"]:
        state["canvas_seen"] = drawing_id
        from_image(rgba_of(drawing), source="Your drawing")

    current = state["current_input"]
    view.publish()
    with seen_col:
        st.markdown("**What the model sees**", help="Every image is shrunk to 28 × 28 grey pixels, white ink on "
                    "black, centred like the training digits. This is exactly what the methods read.")
        if current is None:
            widgets.digit_image(np.zeros((28, 28)))
        else:
            widgets.digit_image(current["preview"])
            st.caption(current["source"])
            for note in current["notes"]:
                st.caption(note)

    if current is None:
        st.info("Draw a digit first, upload a picture, or press one of the buttons.", icon=":material/edit:")
        return
    st.divider()
    widgets.verdict_card(current["verdict"], current["results"])
    if current.get("hint"):
        st.info(current["hint"], icon=":material/crop:")
    quantile = bundle.meta["posthoc"].get("threshold_quantile", 0.95)
    results = current["results"]
    source = current["verdict"].evidence.get("probabilities", {}).get("source")
    names = sorted(results, key=lambda n: n != source)  # the card the headline reads comes first
    widgets.method_cards([bundle.methods[n] for n in names], results, quantile=quantile,
                         true_label=current["true_label"])
    st.caption(f"All {len(names)} methods answered in {current['seconds'] * 1000:.0f} ms on the server "
               f"(from the new input to the last card's numbers).")
    widgets.explanation_panel(explain(bundle, current), current["x"], current["verdict"].label)
    if current["test"] is not None:
        view.share()
    settle_heap()  # the first explanation imports Captum: out of the collector's way for later strokes


if view["test"] >= 0 and (state["current_input"] or {}).get("test") != view["test"]:
    show(test_digit(bundle, view["test"], context=ctx))  # a link to a test digit
workbench()
widgets.card_styles()  # at the end, so it moves nothing: the browser's code for the cards, before a stroke
