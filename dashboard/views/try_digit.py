"""Try a digit: draw, upload or pick an image; every method reads it and says how sure it is."""
import hashlib
import time

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas  # only importable inside a running app: keep it in this page

from dashboard import widgets
from dashboard.resources import get_bundle, sample_set
from uqcore.predict import headline_for, predict_one
from uqcore.preprocess import ImageError, to_mnist

OOD_CHOICES = {"letters": "a printed capital letter", "noise": "random static", "natural": "a patch of a photo",
               "objects": "a drawing of an everyday object", "doodles": "a doodle that is not a digit"}

st.title("Try a digit")
st.write("Draw a digit, upload a picture of one, or let the app pick an image. Six different methods read it "
         "and each says how sure it is, and **why** it is unsure.")

bundle = get_bundle()
state = st.session_state
state.setdefault("canvas_n", 0)  # bumping it gives the canvas a new key: that clears it
state.setdefault("canvas_seen", None)
state.setdefault("upload_seen", None)
state.setdefault("current_input", None)


def set_input(x: np.ndarray, preview: np.ndarray, *, source: str, true_label: int | None = None,
              notes: list[str] | None = None) -> None:
    """Make ``x`` the current input and compute every method's answer once (timed on the server)."""
    x = np.asarray(x, dtype=np.float32).reshape(784)
    t0 = time.perf_counter()
    results = predict_one(bundle.methods, x)
    headline = headline_for(bundle.familiarity, results, x)
    seconds = time.perf_counter() - t0
    state["current_input"] = {"x": x, "preview": np.asarray(preview).reshape(28, 28), "source": source,
                              "true_label": true_label, "notes": notes or [], "results": results,
                              "verdict": headline, "seconds": seconds}
    state["last_digit"] = x  # other pages place this digit on their maps


def from_image(image, source: str) -> None:
    try:
        pre = to_mnist(image)
    except ImageError as err:
        st.error(f"This image cannot be used: {err}")
        return
    if pre.is_empty:
        state["current_input"] = None  # the page then says "Draw a digit first"
        if source != "Your drawing":
            st.warning("No digit found in this picture: it looks blank, or nothing stands out from the paper. "
                       "Try a closer photo with the digit written darker.", icon=":material/image_search:")
        return
    set_input(pre.x, pre.preview, source=source, notes=pre.notes)


def pick_test_digit() -> None:
    x, y = bundle.predictions["test/x"], bundle.predictions["test/y"]
    i = int(np.random.default_rng().integers(len(y)))
    img = x[i].astype(np.float32) / 255.0
    set_input(img, img, source=f"Random MNIST test digit (no. {i})", true_label=int(y[i]))


def pick_ood() -> None:
    rng = np.random.default_rng()
    name = str(rng.choice(list(OOD_CHOICES)))
    x, _, _ = sample_set(name)
    i = int(rng.integers(len(x)))
    set_input(x[i], x[i], source=f"Random unusual image: {OOD_CHOICES[name]} (not a digit)")


def pick_blend() -> None:
    x, y, meta = sample_set("ambiguous")
    i = int(np.random.default_rng().integers(len(x)))
    w = float(meta["mix_weight"][i])
    set_input(x[i], x[i], source=f"Blend of a {int(y[i])} ({w:.0%}) and a {int(meta['label_b'][i])} ({1 - w:.0%})")


@st.fragment
def workbench() -> None:
    """Inputs and answers together, so a pen stroke reruns only this part of the page."""
    draw_col, seen_col, other_col = st.columns([3, 2, 3], gap="large")
    with draw_col:
        st.markdown("**Draw** one digit, large")
        canvas = st_canvas(stroke_width=18, stroke_color="#FFFFFF", background_color="#000000", height=280,
                           width=280, drawing_mode="freedraw", return_image_data=True,
                           key=f"canvas_{state['canvas_n']}")
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
        ood_clicked = st.button("Random OOD image", help="Something that is not a digit: a letter, noise or a photo "
                                "patch. " + widgets.HELP["ood"], width="stretch")
        blend_clicked = st.button("Ambiguous blend", help="Two different digits blended into one image.",
                                  width="stretch")

    # Which input is new? Buttons win; then a new upload; then a new stroke on the canvas.
    drawing = canvas.image_bytes  # None until the first stroke arrives
    drawing_id = hashlib.sha1(drawing).hexdigest() if drawing else None
    upload_id = upload.file_id if upload is not None else None
    if test_clicked:
        pick_test_digit()
    elif ood_clicked:
        pick_ood()
    elif blend_clicked:
        pick_blend()
    elif upload_id is not None and upload_id != state["upload_seen"]:
        state["upload_seen"] = upload_id
        from_image(upload.getvalue(), source=f"Uploaded picture '{upload.name}'")
    elif drawing_id is not None and drawing_id != state["canvas_seen"]:
        state["canvas_seen"] = drawing_id
        from_image(canvas.image_data, source="Your drawing")

    current = state["current_input"]
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
    widgets.verdict_card(current["verdict"])
    quantile = bundle.meta["posthoc"].get("threshold_quantile", 0.95)
    results = current["results"]
    names = list(results)
    for row in range(0, len(names), 3):
        for col, name in zip(st.columns(3), names[row:row + 3]):
            with col:
                widgets.method_card(bundle.methods[name], results[name], quantile=quantile,
                                    true_label=current["true_label"])
    st.caption(f"All {len(names)} methods answered in {current['seconds'] * 1000:.0f} ms on the server "
               f"(from the new input to the last card's numbers).")


workbench()
