"""Embedding map (analysts): every image as a dot placed by what the network sees in it.

The 2-D map was laid out once during the build: one UMAP fit over the test digits' 64 network features and
up to 1,000 images of every other set, drawn by the map component (``dashboard.map_canvas``: colouring, zoom,
hover and lasso run in the browser). A lasso, box or click shows the selected images. Nothing here runs a
model, except placing the digit last drawn on "Try a digit"; the view lives in the URL.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from dashboard import resources, widgets
from dashboard.logic import view as urlview
from dashboard.logic.explore import SET_LABELS, TAE_KEY, from_line, selection_ids
from dashboard.map_canvas import map_canvas
from uqcore.analysis.tables import images_of, selection_summary
from uqcore.methods import DEFAULT_METHOD
from uqcore.plots import COLOUR_BY

K_SEL, K_CHART = "map_selection", "map_chart"
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
    urlview.subset("sets", on_map, [s for s in on_map if s in ("test", "letters", "noise")])), plain=("colour",))

# ----------------------------------------------------------------------------- controls (the colouring is on the map)
c1, c3 = st.columns([1, 3])
method = c1.selectbox("Method", methods, format_func=titles.get, **view.widget("method"),
                      help="Whose predictions, uncertainties and OOD flags colour and shape the dots. The map "
                           "positions are the same for every method (they come from the single network).")
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
colour_by = view["colour"]
if colour_by == "epistemic" and frame["epistemic"].max() == 0:
    st.info(f"{titles[method]} has a single set of weights, so it has no epistemic part: every dot is 0. "
            "Colour by total uncertainty, or pick a deep ensemble, MC dropout, Laplace or evidential model.",
            icon=":material/info:")

# ----------------------------------------------------------------------------- the digit from "Try a digit"
last = st.session_state.get("last_digit")
star = None if last is None else resources.digit_position(last)


# ----------------------------------------------------------------------------- map + selection
def _take_selection() -> None:
    """The component sent the ids of a selection; kept in ``map_selection`` (so a test can set it too)."""
    st.session_state[K_SEL] = selection_ids((st.session_state.get(K_CHART) or {}).get("selection"))


def _take_colour() -> None:
    colour = (st.session_state.get(K_CHART) or {}).get("colour")
    if colour in COLOUR_BY:
        view.set("colour", colour)


map_canvas(resources.map_payload(method, tuple(sets), star), colour=colour_by,
           selected=[i for i in st.session_state.get(K_SEL, []) if i in frame.index], key=K_CHART,
           on_colour=_take_colour, on_selection=_take_selection)
legend = ("Hover a dot for its numbers, a colour button for what it shows. Shapes: ● read normally, ✕ read wrongly, "
          "◆ flagged as unusual by "
          f"{titles[method]} (its OOD score is above the 95th percentile of clean validation digits).")
if "test" in sets:
    legend += " Boxed digits: the middle of each digit's test images (the box above the map hides them)."
if star is not None:
    legend += " ★ the digit you last drew on *Try a digit*, placed among its 15 nearest test digits."
else:
    legend += " Draw a digit on *Try a digit* and it appears here as a ★."
st.caption(legend)

# ----------------------------------------------------------------------------- what is selected
selected = [i for i in st.session_state.get(K_SEL, []) if i in frame.index]
if not selected:
    st.info("Draw a loop around a region of the map (Lasso, the default), drag a rectangle (Box) or click one dot: "
            "the images appear here. Double-click the map to clear.", icon=":material/gesture_select:")
    view.share(params)
    st.stop()

part = frame.loc[selected]
summary = selection_summary(part)
head, clear = st.columns([3, 1], vertical_alignment="center")
head.subheader(f"{summary['n']:,} image{'s' if summary['n'] != 1 else ''} selected")
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
