"""The Calibration lab's live reliability diagram: a Streamlit custom component (components v2, inline HTML,
CSS and the JavaScript in ``live_reliability.js``).

Why a component and not a Plotly slider: while the temperature is dragged, the chart must follow at 20+
updates a second with no server round trip (each rerun costs ~100 ms of page script). The server computes the
diagram and its metrics for every temperature on the slider's grid once (``resources.live_states``, cached);
the browser switches between them on each slider step. Releasing the slider sends the temperature back
(``on_temperature``), and so does a click on a bar (``on_bin``), so the URL and the rest of the page follow.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

HTML = """
<div class="lt">
  <div class="top">
    <div class="control">
      <label>Temperature <b>T = <span class="tval"></span></b> <span class="hint"></span>
        <span class="bestval"></span></label>
      <input class="t" type="range" min="0" max="1" step="1" aria-label="Temperature T">
      <div class="ticks"><i class="best">▲</i></div>
    </div>
  </div>
  <div class="body">
    <div class="chart"><div class="title"></div><svg role="img" aria-label="Reliability diagram"></svg></div>
    <div class="metrics">
      <div class="m"><div class="k">ECE</div><div class="v v-ece"></div><div class="r r-ece"></div></div>
      <div class="m"><div class="k">MCE</div><div class="v v-mce small"></div><div class="r r-mce"></div></div>
      <div class="m"><div class="k">NLL</div><div class="v v-nll small"></div><div class="r r-nll"></div></div>
    </div>
  </div>
</div>
"""

CSS = """
.lt { font-family: "Source Sans Pro", sans-serif; color: var(--st-text-color, #111); }
.lt .top { display: flex; gap: 1rem; align-items: flex-start; }
.lt .control { flex: 1; }
.lt label { font-size: 1.25rem; display: block; margin-bottom: .15rem; }
.lt .hint { font-size: 1rem; opacity: .75; margin-left: .5rem; }
.lt input.t { width: 100%; height: 2rem; accent-color: #1f77b4; cursor: grab; }
.lt .ticks { position: relative; height: 1.5rem; font-size: .95rem; opacity: .8; }
.lt .ticks span { position: absolute; transform: translateX(-50%); }
.lt .ticks i.best { position: absolute; top: -.55rem; transform: translateX(-50%); color: #2ca02c;
  font-style: normal; font-size: .9rem; }
.lt .bestval { float: right; color: #2ca02c; font-size: 1rem; font-weight: 600; margin-top: .3rem; }
.lt .body { display: flex; gap: 1rem; align-items: stretch; }
.lt .chart { flex: 3; min-width: 0; }
.lt .title { font-size: 1.05rem; font-weight: 600; }
.lt svg { width: 100%; height: auto; max-height: 400px; display: block; }
.lt .metrics { flex: 1; display: flex; flex-direction: column; gap: .6rem; justify-content: center; }
.lt .m .k { font-size: 1.1rem; opacity: .8; }
.lt .m .v { font-size: 2.8rem; font-weight: 700; line-height: 1.05; font-variant-numeric: tabular-nums; }
.lt .m .v.small { font-size: 2rem; }
.lt .m .r { font-size: .95rem; opacity: .75; }
.lt .grid { stroke: rgba(128,128,128,.25); }
.lt .diag { stroke: #555; stroke-width: 2; stroke-dasharray: 7 5; }
.lt .tick { font-size: 16px; fill: currentColor; }
.lt .axis { font-size: 17px; fill: currentColor; }
.lt .bar { fill: #1f77b4; cursor: pointer; }
.lt .bar.selected { stroke: #111; stroke-width: 2; }
.lt .count { fill: #7f7f7f; cursor: pointer; }
.lt .count.selected { fill: #e6b800; }
.lt .gap { pointer-events: none; }
.lt .ref { fill: none; stroke: #111; stroke-width: 2; pointer-events: none; }
"""

_COMPONENT = st.components.v2.component(
    "uq_live_reliability", html=HTML, css=CSS,
    js=(Path(__file__).with_name("live_reliability.js")).read_text(encoding="utf-8"))


def live_reliability(payload: dict, *, key: str, on_temperature, on_bin):
    """Mount the diagram with ``payload`` (``dashboard.logic.calibration.live_payload``). ``on_temperature``
    runs when a drag is released (the new T in ``st.session_state[key]["temperature"]``), ``on_bin`` when a
    bar is clicked (``st.session_state[key]["bin"]``)."""
    return _COMPONENT(key=key, data=payload, on_temperature_change=on_temperature, on_bin_change=on_bin)
