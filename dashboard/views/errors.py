"""Errors (analysts): which test digits each method gets wrong, how sure it was, and where the mistakes cluster.

Everything comes from the cached test-set predictions; no model runs here. The list, its filters and the
chosen confusion cell live in the URL.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from dashboard import resources, widgets
from dashboard.logic import view as urlview
from dashboard.logic.calibration import ROWS
from dashboard.logic.explore import (CELL_COLUMNS, CELL_IMAGES, CELL_KEY, LIST_HELP, as_cell, cell_caption,
                                     clicked_cell, data_urls, no_epistemic_note)
from uqcore.analysis.tables import LISTS, UNCERTAINTIES, confusion_cell, error_list, most_confused
from uqcore.methods import DEFAULT_METHOD
from uqcore.plots import confusion_heatmap, per_class_bars

ANY = "any"
PAGE_SIZES = (24, 48, 96)
MAX_NATS = 2.31  # above ln(10), the largest uncertainty of ten classes

st.title("Errors")
st.write("Which digits does the model get wrong, how sure was it when it did, and which digits does it "
         "mix up? Pick a list, narrow it down with the filters, and look at the images.")

bundle = resources.get_bundle()
pred = bundle.predictions
methods, titles, mine = resources.with_yours([m for m in bundle.methods if pred.has("test", m)],
                                            {m: bundle.methods[m].title for m in bundle.methods})
digits = [ANY, *range(max(10, resources.yours()[1].n_classes if mine else 10))]  # a file may have more classes
view = widgets.PageView("errors", "err", (
    urlview.choice("method", methods, DEFAULT_METHOD if DEFAULT_METHOD in methods else methods[0]),
    urlview.choice("list", LISTS, LISTS[0]), urlview.choice("true", digits, ANY, what="true digit"),
    urlview.choice("pred", digits, ANY, what="read-as digit"), urlview.choice("unc", UNCERTAINTIES, "total"),
    urlview.pair("range", (0.0, MAX_NATS), 0.0, MAX_NATS, what="uncertainty range"),
    urlview.number("conf", 0.9, 0.5, 1.0, digits=2, what="confidence"), urlview.choice("show", PAGE_SIZES, 24),
    urlview.pair("cell", (-1, -1), -1, 9, whole=True, what="confusion cell")), plain=("cell",))

# ----------------------------------------------------------------------------- controls
c1, c2 = st.columns([1, 2])
method = c1.selectbox("Method", methods, format_func=titles.get, **view.widget("method"),
                      help="Whose answers to inspect. Each method's test-set predictions were computed once "
                           "when the models were built.")
kind = c2.segmented_control("List", LISTS, format_func=str.capitalize, **view.widget("list"),
                            help="  \n".join(f"**{k.capitalize()}**: {v}" for k, v in LIST_HELP.items()))
kind = kind or LISTS[0]  # a second click on the chosen list clears it
frame = resources.test_frame(method)

f1, f2, f3, f4 = st.columns([1, 1, 1.2, 2.2])
true = f1.selectbox("True digit", digits, help="Only digits whose correct answer is this.", **view.widget("true"))
said = f2.selectbox("Read as", digits, help="Only digits the method read as this.", **view.widget("pred"))
unc = f3.selectbox("Uncertainty", UNCERTAINTIES, format_func=str.capitalize, **view.widget("unc"),
                   help="Which uncertainty the range on the right filters by. " + widgets.HELP["total"])
top = float(np.ceil(frame[unc].max() * 100) / 100) or 0.01
# The range is kept across methods (clipped to this one's scale; one that reached the old top reaches the new
# one); a new kind of uncertainty starts with the whole range.
lo, hi = view["range"] if st.session_state.get("err_range_for", unc) == unc else (0.0, top)
hi = top if hi >= st.session_state.get("err_range_top", top) else hi
st.session_state["err_range_for"], st.session_state["err_range_top"] = unc, top
view.set("range", (min(float(lo), top), min(float(hi), top)))
low, high = f4.slider(f"{unc.capitalize()} uncertainty between (nats)", 0.0, top, step=0.01, **view.widget("range"),
                      help="Keep digits whose uncertainty lies in this range. 0 = certain; "
                           "2.30 = all ten digits equally likely.")
if frame["epistemic"].max() == 0 and (unc == "epistemic" or kind == "most epistemic"):
    st.info(no_epistemic_note(titles[method], file=method == mine), icon=":material/info:")
min_conf = view["conf"]
if kind == "confidently wrong":
    min_conf = st.slider("At least this sure", 0.5, 1.0, step=0.01, format="%.2f", **view.widget("conf"),
                         help="A mistake counts as confident when the method gave its answer at least this probability.")

rows = error_list(frame, kind, true=None if true == ANY else int(true), pred=None if said == ANY else int(said),
                  uncertainty=unc, low=low, high=high, min_confidence=min_conf)
wrong = int((~frame["correct"]).sum())
st.markdown(f"**{len(rows):,}** of the {len(frame):,} {ROWS[method == mine]} match "
            f"({titles[method]} reads {wrong:,} of them wrongly: accuracy {frame['correct'].mean():.2%}).")

# ----------------------------------------------------------------------------- grid
x = resources.row_images(method)  # by the frame's index; None: a file without images
if rows.empty:
    st.info("No digit matches these filters. Widen the uncertainty range or set a digit filter back to "
            "'any'.", icon=":material/filter_alt_off:")
else:
    if x is not None:
        n_show = st.radio("Images to show", PAGE_SIZES, horizontal=True, **view.widget("show"),
                          help="The grid shows the top of the list; the table below holds up to 500 rows.")
        widgets.image_grid(x[rows.head(n_show).index.to_numpy()], [widgets.reading_caption(
            r.true, r.pred, r.confidence, r.total, r.aleatoric, r.epistemic) for r in rows.head(n_show).itertuples()])
        st.caption("Under each image: ✓ right / ✗ wrong, the true digit, what the method said and how sure it was, "
                   "then the total (T), aleatoric (A: the image is unclear) and epistemic (E: the model lacks "
                   "experience) uncertainty in nats, with T = A + E.")
    with st.expander(f"Table: exact numbers, sortable (first {min(len(rows), 500):,} rows)", expanded=x is None):
        table = rows.head(500)[["true", "pred", "confidence", *UNCERTAINTIES, "ood_score"]].copy()
        if x is not None:
            table.insert(0, "image", data_urls(x[table.index.to_numpy()] / (255.0 if x.dtype == np.uint8 else 1.0)))
        st.dataframe(table, width="stretch", height=420, column_config={
            "image": st.column_config.ImageColumn("image", width="small"),
            **widgets.reading_columns(bundle.methods[method].ood_score_name if method != mine else "none")})
        st.caption("Click a column header to sort. The row number is the image's position in "
                   + ("your file." if method == mine else "the MNIST test set."))
    st.download_button(f"Download all {len(rows):,} rows of this list (CSV)", rows[["true", "pred", "confidence",
                       *UNCERTAINTIES, "ood_score"]].rename_axis("row" if method == mine else "test_index").to_csv(),
                       f"errors-{'yours' if method == mine else method}.csv")

# ----------------------------------------------------------------------------- per class
st.subheader("Per digit")
table, counts = resources.class_tables(method)
st.plotly_chart(per_class_bars(table), width="stretch", key="err_per_class")
st.caption("Left: of the test images of each digit, the share read correctly. Right: the calibration error of "
           "the probability given to that digit, over all test images (0% = when it says 30% for a 7, it is a 7 "
           "30% of the time). Its average over the ten digits is the class-wise ECE.")
with st.expander("Per-digit numbers"):
    st.dataframe(table, width="stretch", column_config=widgets.PER_CLASS_COLUMNS)

# ----------------------------------------------------------------------------- confusion matrix
st.subheader("Which digits get mixed up?")


def _pick_cell() -> None:
    """Chart selection -> the selected (true, predicted) cell."""
    cell = clicked_cell((st.session_state.get("err_confusion") or {}).get("selection", {}).get("points", []))
    if cell is not None:
        view.set("cell", cell)


cell = as_cell(view["cell"], len(counts)) or most_confused(counts)
view.set("cell", cell)
params = view.publish()
c_matrix, c_cell = st.columns([1, 1])
with c_matrix:
    st.plotly_chart(confusion_heatmap(counts, selected=cell), width="stretch", key="err_confusion",
                    on_select=_pick_cell, selection_mode="points", config={"displayModeBar": False})
    st.caption("Rows: the true digit; columns: what the method read. The diagonal (grey) holds the correct "
               "answers; the darker a red cell, the more often that mix-up happens. **Click a cell** to see "
               "its images.")
with c_cell:
    t, p = cell
    cell_rows = confusion_cell(frame, t, p)
    n = len(cell_rows)
    st.markdown(f"**True {t}, {'read correctly' if t == p else f'read as {p}'}: {n:,} image{'s' if n != 1 else ''}**"
                + (" (most confident first)" if n > 1 else ""))
    if n and x is not None:
        sub = cell_rows.head(CELL_IMAGES)
        widgets.image_grid(x[sub.index.to_numpy()], [cell_caption(r.confidence, r.epistemic) for r in sub.itertuples()],
                           columns=CELL_COLUMNS)
        st.caption(CELL_KEY + (f" The {CELL_IMAGES} most confident of {n:,} are shown." if n > CELL_IMAGES else ""))
    elif not n:
        st.caption("No test digit falls in this cell.")
view.share(params)
