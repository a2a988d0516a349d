"""The drawing pad of Try a digit: a Streamlit custom component (components v2, inline HTML and CSS, the
JavaScript in ``draw_canvas.js``): white ink, 18 px round pen, on a black 280 x 280 square.

Why not streamlit-drawable-canvas: it waits 200 ms after each stroke before it tells the server (a fixed
debounce inside its bundle) and loads ~400 kB of fabric.js. This pad sends the PNG the moment the pen lifts,
so a stroke reaches the methods ~0.2 s sooner. The PNG arrives as a data URL in
``st.session_state[key]["drawing"]["data"]`` (the shape streamlit-drawable-canvas used, so a test can set it).
"""
from __future__ import annotations

import base64
import binascii
import io
from pathlib import Path

import numpy as np
import streamlit as st

SIZE, PEN = 280, 18
HTML = f"""<div class="dp"><canvas width="{SIZE}" height="{SIZE}" role="img"
  aria-label="Drawing pad: draw one digit with the mouse, a finger or a pen"></canvas></div>"""
CSS = f""".dp canvas {{ width: {SIZE}px; height: {SIZE}px; display: block; background: #000; touch-action: none;
  cursor: crosshair; border-radius: .3rem; }}"""
MAX_BYTES = 2_000_000  # a 280 x 280 PNG is a few kB; anything larger is not from this pad

_COMPONENT = st.components.v2.component(
    "uq_draw_canvas", html=HTML, css=CSS, js=(Path(__file__).with_name("draw_canvas.js")).read_text(encoding="utf-8"))


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def data_url_of(state) -> str | None:
    """The PNG data URL in a pad's state (``{"drawing": {"data": "data:image/png;base64,...", ...}}``), or None."""
    drawing = state.get("drawing") if hasattr(state, "get") else None
    url = drawing.get("data") if hasattr(drawing, "get") else None
    return url if isinstance(url, str) and url.startswith("data:image/png;base64,") and len(url) <= MAX_BYTES else None


def png_of(state) -> bytes | None:
    """The PNG bytes in a pad's state, or None when nothing usable was drawn: no stroke yet, or anything that is
    not a PNG of the pad's own size that decodes (a value sent by hand could be any bytes, or a small file that
    decompresses to a huge picture: the header's size is checked before anything is decoded)."""
    url = data_url_of(state)
    if url is None:
        return None
    try:
        png = base64.b64decode(url.split(",", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        return None
    if not png.startswith(PNG_SIGNATURE) or len(png) < 24 or png[12:16] != b"IHDR":
        return None
    if int.from_bytes(png[16:20], "big") != SIZE or int.from_bytes(png[20:24], "big") != SIZE:
        return None
    try:
        rgba_of(png)
    except (OSError, ValueError, SyntaxError):  # PIL's errors for a damaged file
        return None
    return png


def rgba_of(png: bytes) -> np.ndarray:
    """The pad's PNG as an (H, W, 4) uint8 array (what ``uqcore.data.preprocess.to_mnist`` reads as a canvas)."""
    from PIL import Image

    with Image.open(io.BytesIO(png), formats=["PNG"]) as img:
        return np.asarray(img.convert("RGBA"))


def draw_canvas(*, key: str) -> bytes | None:
    """Mount the pad; the PNG of what is drawn so far (None before the first stroke). A pad mounted anew under
    a key that already holds a drawing (the first start's pad becoming the full page's) repaints it."""
    state = st.session_state.get(key)  # what the browser sent before this run; mounting does not change it
    png = png_of(state)
    _COMPONENT(key=key, data={"size": SIZE, "pen": PEN, "image": data_url_of(state) if png else None},
               on_drawing_change=lambda: None)
    return png
