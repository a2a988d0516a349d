"""The Embedding map: a Streamlit custom component (components v2, inline HTML, CSS and the JavaScript in
``map_canvas.js``) that draws every point on a 2-D canvas.

Why a component and not a Plotly chart: a Plotly chart is rebuilt from ~1 MB of JSON on every rerun, so a
recolour took ~0.9 s and a selection ~1.8 s in Chromium. The component gets every point's position and every
colouring once (``dashboard.logic.explore.map_payload``, ~35 bytes a point); switching the colouring, zooming,
hovering and lassoing happen in the browser. Only two things go back to the server: the colouring chosen
(``on_colour``, so the URL follows) and the ids of a selection (``on_selection``, so the page shows its images).
A rerun with the same ``token`` leaves the drawing alone.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

HTML = """
<div class="um">
  <div class="bar">
    <span class="lab">Colour by</span><span class="colours" role="group" aria-label="Colour by"></span>
    <span class="sep"></span>
    <span class="modes" role="group" aria-label="Mouse does">
      <button data-mode="lasso" title="Draw a loop around points to select them">Lasso</button>
      <button data-mode="box" title="Drag a rectangle to select points">Box</button>
      <button data-mode="pan" title="Drag to move the map; the mouse wheel zooms">Move / zoom</button>
    </span>
    <button class="reset" title="Show the whole map again">Whole map</button>
    <label class="lbl"><input type="checkbox" class="labels" checked> digit labels</label>
  </div>
  <div class="stage"><canvas role="img" aria-label="Embedding map"></canvas><div class="tip" hidden></div></div>
  <div class="legend"></div>
</div>
"""

CSS = """
.um { font-family: "Source Sans Pro", sans-serif; color: var(--st-text-color, #111); font-size: 16px; }
.um .bar { display: flex; flex-wrap: wrap; gap: .35rem; align-items: center; margin-bottom: .35rem; }
.um .lab { font-weight: 600; margin-right: .2rem; }
.um .sep { width: .8rem; }
.um button { font: inherit; font-size: 15px; padding: .2rem .6rem; border: 1px solid rgba(128,128,128,.45);
  background: var(--st-background-color, #fff); color: inherit; border-radius: .4rem; cursor: pointer; }
.um button.on { background: #1f77b4; color: #fff; border-color: #1f77b4; }
.um button:focus-visible { outline: 2px solid #1f77b4; outline-offset: 1px; }
.um .lbl { font-size: 15px; margin-left: .3rem; white-space: nowrap; }
.um .stage { position: relative; }
.um canvas { width: 100%; height: 600px; display: block; background: #fff; border: 1px solid rgba(128,128,128,.3);
  border-radius: .3rem; touch-action: none; cursor: crosshair; }
.um canvas.pan { cursor: grab; }
.um .tip { position: absolute; pointer-events: none; background: rgba(20,20,20,.92); color: #fff; font-size: 14px;
  padding: .3rem .5rem; border-radius: .3rem; white-space: nowrap; z-index: 2; line-height: 1.35; }
.um .legend { display: flex; flex-wrap: wrap; gap: .3rem 1rem; align-items: center; margin-top: .35rem;
  font-size: 15px; }
.um .sw { display: inline-block; width: .8rem; height: .8rem; border-radius: 50%; margin-right: .3rem;
  vertical-align: -1px; }
.um .ramp { display: inline-block; width: 180px; height: .8rem; vertical-align: -1px; margin: 0 .3rem;
  border-radius: .2rem; }
"""

_COMPONENT = st.components.v2.component(
    "uq_map_canvas", html=HTML, css=CSS,
    js=(Path(__file__).with_name("map_canvas.js")).read_text(encoding="utf-8"))


def map_canvas(payload: dict, *, colour: str, selected: list[str], key: str, on_colour, on_selection):
    """Mount the map with ``payload`` (``dashboard.logic.explore.map_payload``), coloured by ``colour`` with the
    ids in ``selected`` highlighted. ``on_colour`` runs when a colour button is pressed (the colouring in
    ``st.session_state[key]["colour"]``), ``on_selection`` when a lasso, box, click or double-click changes the
    selection (the ids in ``st.session_state[key]["selection"]``)."""
    data = {**payload, "colour": colour, "selected": list(selected)}
    return _COMPONENT(key=key, data=data, on_colour_change=on_colour, on_selection_change=on_selection)
