"""Embedding map (analysts): every image as a dot placed by what the network sees in it.

The 2-D map was laid out once during the build: one UMAP fit over the test digits' 64 network features and
up to 1,000 images of every other set. A lasso or box selection shows the selected images. Nothing here
runs a model, except placing the digit last drawn on "Try a digit"; the view lives in the URL.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from dashboard import resources, widgets
from dashboard.logic import view as urlview
from dashboard.logic.explore import SET_LABELS, TAE_KEY, from_line, selection_ids
from uqcore.analysis.tables import images_of, selection_summary
from uqcore.methods import DEFAULT_METHOD
from uqcore.plots import COLOUR_BY, embedding_map

K_SEL, K_CHART, K_IDS = "map_selection", "map_chart", "map_trace_ids"
GRID_MAX = 48

st.title("Embedding map")
st.write("Each dot is one image. The network turns every image into 64 numbers; this map squeezes them into "
         "two, so images the network sees as **similar sit close together**. Clean test digits form ten "
         "islands. Letters and damaged digits often land **on** an island: that is the digit the network "
         "mistakes them for; images it sees as all alike (noise) form an island of their own. Their colour "
         "(uncertainty) and shape (flagged) show whether the method notices. Draw a lasso around a region to see "
         "its images.")

bundle = resources.get_bundle()
pred, emb = bundle.predictions, bundle.embedding
methods = [m for m in bundle.methods if pred.has("test", m)]
titles = {m: bundle.methods[m].title for m in methods}
on_map = [s for s in bundle.set_names if f"{s}/xy" in emb and s != "val"]
view = widgets.PageView("embedding_map", "map", (
    urlview.choice("method", methods, DEFAULT_METHOD if DEFAULT_METHOD in methods else methods[0]),
    urlview.choice("colour", COLOUR_BY, COLOUR_BY[0], what="colouring"),
    urlview.subset("sets", on_map, [s for s in on_map if s in ("test", "letters", "noise")])))

# ----------------------------------------------------------------------------- controls
c1, c2, c3 = st.columns([1, 1, 3])
method = c1.selectbox("Method", methods, format_func=titles.get, **view.widget("method"),
                      help="Whose predictions, uncertainties and OOD flags colour and shape the dots. The map "
                           "positions are the same for every method (they come from the single network).")
colour_by = c2.selectbox("Colour by", COLOUR_BY, format_func=str.capitalize, **view.widget("colour"),
                         help="Epistemic: the model lacks experience. Aleatoric: the image itself is unclear. "
                              "Total: both. Or the true digit, right/wrong, or which data set the image is from.")
sets = c3.multiselect("Data sets on the map", on_map, format_func=lambda s: SET_LABELS.get(s, s),
                      **view.widget("sets"),
                      help="MNIST test digits: the 10,000 the model was tested on. 'Not digits': images that are "
                           "no digit at all (OOD). The others are digits that are changed (rotated, damaged, "
                           "blended, another handwriting collection). Up to 1,000 images of each set are placed.")
params = view.publish()
if not sets:
    st.info("Pick at least one data set to draw the map.", icon=":material/scatter_plot:")
    view.share(params)
    st.stop()

frame = resources.map_points(method, tuple(sets))
if colour_by == "epistemic" and frame["epistemic"].max() == 0:
    st.info(f"{titles[method]} has a single set of weights, so it has no epistemic part: every dot is 0. "
            "Colour by total uncertainty, or pick a deep ensemble, MC dropout, Laplace or evidential model.",
            icon=":material/info:")

# ----------------------------------------------------------------------------- the digit from "Try a digit"
last = st.session_state.get("last_digit")
star = None if last is None else resources.digit_position(last)


# ----------------------------------------------------------------------------- map + selection
def _take_selection() -> None:
    """Chart event -> ids of the selected points, kept in ``map_selection`` (so a test can set it too)."""
    event = st.session_state.get(K_CHART) or {}
    st.session_state[K_SEL] = selection_ids(event.get("selection", {}).get("points", []),
                                            st.session_state.get(K_IDS, []))


fig, trace_ids = embedding_map(frame, colour_by, star=star)
st.session_state[K_IDS] = trace_ids
st.plotly_chart(fig, width="stretch", key=K_CHART, on_select=_take_selection, selection_mode=("lasso", "box"),
                config={"displaylogo": False, "modeBarButtonsToRemove": ["toImage"]})
legend = ("Shapes: ● read normally, ✕ read wrongly, ◆ flagged as unusual by "
          f"{titles[method]} (its OOD score is above the 95th percentile of clean validation digits).")
if "test" in sets:
    legend += " Boxed digits: the middle of each digit's test images (the button above the map hides them)."
if star is not None:
    legend += " ★ the digit you last drew on *Try a digit*, placed among its 15 nearest test digits."
else:
    legend += " Draw a digit on *Try a digit* and it appears here as a ★."
st.caption(legend)

# ----------------------------------------------------------------------------- what is selected
selected = [i for i in st.session_state.get(K_SEL, []) if i in frame.index]
if not selected:
    st.info("Use the lasso (default) or the box tool on the map to select a region; its images appear here. "
            "Double-click the map to clear.", icon=":material/gesture_select:")
    view.share(params)
    st.stop()

part = frame.loc[selected]
summary = selection_summary(part)
head, clear = st.columns([5, 1])
head.subheader(f"{summary['n']:,} images selected")
if clear.button("Clear selection", icon=":material/close:", width="stretch"):
    st.session_state[K_SEL] = []
    st.rerun()
m1, m2, m3, m4, m5 = st.columns(5)
m1.metric("Accuracy", "n/a" if np.isnan(summary["accuracy"]) else f"{summary['accuracy']:.1%}",
          help="Share of the selected images that have a true digit and are read correctly (OOD images have none).")
m2.metric("Flagged as unusual", f"{summary['flagged']:.0%}", help=widgets.HELP["ood"])
m3.metric("Mean total", f"{summary['mean_total']:.3f}", help=widgets.HELP["total"])
m4.metric("Mean aleatoric", f"{summary['mean_aleatoric']:.3f}", help=widgets.HELP["aleatoric"])
m5.metric("Mean epistemic", f"{summary['mean_epistemic']:.3f}", help=widgets.HELP["epistemic"])
st.caption(from_line(summary["per_set"]))

by = "epistemic" if part["epistemic"].max() > 0 else "total"  # single networks have no epistemic part
show = part.sort_values(by, ascending=False).head(GRID_MAX)
if len(part) > GRID_MAX:
    st.write(f"Showing the {GRID_MAX} with the highest {by} uncertainty; all {len(part):,} are in the table.")
st.caption(TAE_KEY)
widgets.image_grid(images_of(pred, show.index), [
    widgets.reading_caption(r.true, r.pred, r.confidence, r.total, r.aleatoric, r.epistemic)
    for r in show.itertuples()])
columns = ["set", "row", "true", "pred", "confidence", "total", "aleatoric", "epistemic", "ood_score", "flagged"]
with st.expander("Table of the selection (exact numbers, sortable)"):
    st.dataframe(part[columns], width="stretch", height=360,
                 column_config=widgets.reading_columns(bundle.methods[method].ood_score_name, flagged=True))
st.download_button(f"Download the {len(part):,} selected images' readings (CSV: set, row in that set, labels, "
                   "uncertainties)", part[columns].to_csv(index=False), f"map-selection-{method}.csv", "text/csv",
                   icon=":material/download:")
view.share(params)
