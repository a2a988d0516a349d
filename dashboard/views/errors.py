"""Errors (analysts): which test digits each method gets wrong, how sure it was, and where the mistakes cluster.

Everything comes from the cached test-set predictions; no model runs here.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from dashboard import resources, widgets
from uqcore.explore import LIST_HELP, LISTS, UNCERTAINTIES, confusion_cell, data_urls, error_list, most_confused
from uqcore.plots import confusion_heatmap, per_class_bars

K_METHOD, K_LIST, K_TRUE, K_PRED = "err_method", "err_list", "err_true", "err_pred"
K_UNC, K_RANGE, K_CONF, K_CELL, K_SHOW = "err_unc", "err_range", "err_conf", "err_cell", "err_show"
ANY = "any"
PAGE_SIZES = (24, 48, 96)

st.title("Errors")
st.write("Which digits does the model get wrong, how sure was it when it did, and which digits does it "
         "mix up? Pick a list, narrow it down with the filters, and look at the images.")

bundle = resources.get_bundle()
methods = [m for m in bundle.methods if f"test/{m}/probs" in bundle.predictions]
titles = {m: bundle.methods[m].title for m in methods}

# ----------------------------------------------------------------------------- controls
digits = [ANY] + list(range(10))
remember = widgets.remember  # keeps each control's value across pages; replaces bad values by defaults
c1, c2 = st.columns([1, 2])
method = c1.selectbox("Method", methods, format_func=titles.get,
                      help="Whose answers to inspect. Each method's test-set predictions were computed once "
                           "when the models were built.",
                      **remember(K_METHOD, "ensemble" if "ensemble" in methods else methods[0], lambda v: v in methods))
kind = c2.segmented_control("List", LISTS, format_func=str.capitalize,
                            help="  \n".join(f"**{k.capitalize()}**: {v}" for k, v in LIST_HELP.items()),
                            **remember(K_LIST, LISTS[0], lambda v: v in LISTS))
kind = kind or LISTS[0]  # a second click on the chosen list clears it
frame = resources.test_frame(method)

f1, f2, f3, f4 = st.columns([1, 1, 1.2, 2.2])
true = f1.selectbox("True digit", digits, help="Only digits whose correct answer is this.",
                    **remember(K_TRUE, ANY, lambda v: v in digits))
pred = f2.selectbox("Read as", digits, help="Only digits the method read as this.",
                    **remember(K_PRED, ANY, lambda v: v in digits))
unc = f3.selectbox("Uncertainty", UNCERTAINTIES, format_func=str.capitalize,
                   help="Which uncertainty the range on the right filters by. " + widgets.HELP["total"],
                   **remember(K_UNC, "total", lambda v: v in UNCERTAINTIES))
top = float(np.ceil(frame[unc].max() * 100) / 100) or 0.01
# The range is kept while the method changes (to compare methods on the same range), clipped to this
# method's scale; a new kind of uncertainty starts with the whole range.
range_args = remember(K_RANGE, (0.0, top), lambda v: len(v) == 2 and 0 <= float(v[0]) <= float(v[1]))
lo, hi = st.session_state[K_RANGE] if st.session_state.get("err_range_for") == unc else (0.0, top)
st.session_state["err_range_for"] = unc
widgets.set_kept(K_RANGE, (min(float(lo), top), min(float(hi), top)))
low, high = f4.slider(f"{unc.capitalize()} uncertainty between (nats)", 0.0, top, step=0.01,
                      help="Keep digits whose uncertainty lies in this range. 0 = certain; "
                           "2.30 = all ten digits equally likely.", **range_args)
if frame["epistemic"].max() == 0 and (unc == "epistemic" or kind == "most epistemic"):
    st.info(f"{titles[method]} has a single set of weights, so it has no epistemic part: every digit's "
            "epistemic uncertainty is 0 and a list by it has no order. Pick a deep ensemble, MC dropout, "
            "Laplace or evidential model to see it.", icon=":material/info:")
conf_args = remember(K_CONF, 0.9, lambda v: 0.5 <= float(v) <= 1.0)
min_conf = st.session_state[K_CONF]
if kind == "confidently wrong":
    min_conf = st.slider("At least this sure", 0.5, 1.0, step=0.01, format="%.2f",
                         help="A mistake counts as confident when the method gave its answer at least this "
                              "probability.", **conf_args)

rows = error_list(frame, kind, true=None if true == ANY else int(true), pred=None if pred == ANY else int(pred),
                  uncertainty=unc, low=low, high=high, min_confidence=min_conf)
wrong = int((~frame["correct"]).sum())
st.markdown(f"**{len(rows):,}** of the {len(frame):,} test digits match "
            f"({titles[method]} reads {wrong:,} of them wrongly: accuracy {frame['correct'].mean():.2%}).")

# ----------------------------------------------------------------------------- grid
if rows.empty:
    st.info("No digit matches these filters. Widen the uncertainty range or set a digit filter back to "
            "'any'.", icon=":material/filter_alt_off:")
else:
    n_show = st.radio("Images to show", PAGE_SIZES, horizontal=True,
                      **remember(K_SHOW, PAGE_SIZES[0], lambda v: v in PAGE_SIZES),
                      help="The grid shows the top of the list; the table below holds up to 500 rows.")
    head = rows.head(n_show)
    x = bundle.predictions["test/x"]
    widgets.image_grid(x[head.index.to_numpy()], [
        widgets.reading_caption(r.true, r.pred, r.confidence, r.total, r.aleatoric, r.epistemic)
        for r in head.itertuples()])
    st.caption("Under each image: ✓ right / ✗ wrong, the true digit, what the method said and how sure it was, "
               "then the total (T), aleatoric (A: the image is unclear) and epistemic (E: the model lacks "
               "experience) uncertainty in nats, with T = A + E.")

    with st.expander(f"Table: exact numbers, sortable (first {min(len(rows), 500):,} rows)", expanded=False):
        table = rows.head(500)[["true", "pred", "confidence", *UNCERTAINTIES, "ood_score"]].copy()
        table.insert(0, "image", data_urls(x[table.index.to_numpy()] / 255.0))
        st.dataframe(
            table, width="stretch", height=420,
            column_config={
                "image": st.column_config.ImageColumn("image", width="small"),
                "true": st.column_config.NumberColumn("true digit"),
                "pred": st.column_config.NumberColumn("read as"),
                "confidence": st.column_config.NumberColumn("confidence", format="percent"),
                "total": st.column_config.NumberColumn("total", format="%.4f", help=widgets.HELP["total"]),
                "aleatoric": st.column_config.NumberColumn("aleatoric", format="%.4f", help=widgets.HELP["aleatoric"]),
                "epistemic": st.column_config.NumberColumn("epistemic", format="%.4f", help=widgets.HELP["epistemic"]),
                "ood_score": st.column_config.NumberColumn(f"OOD score ({bundle.methods[method].ood_score_name})",
                                                           format="%.4g", help=widgets.HELP["ood"]),
            })
        st.caption("Click a column header to sort. The row number is the digit's position in the MNIST test set.")

# ----------------------------------------------------------------------------- per class
st.subheader("Per digit")
table, counts = resources.class_tables(method)
st.plotly_chart(per_class_bars(table), width="stretch", key="err_per_class")
st.caption("Left: of the test images of each digit, the share read correctly. Right: the calibration error of "
           "the probability given to that digit, over all test images (0% = when it says 30% for a 7, it is a 7 "
           "30% of the time). Its average over the ten digits is the class-wise ECE.")
with st.expander("Per-digit numbers"):
    st.dataframe(table, width="stretch", column_config={
        "images": st.column_config.NumberColumn("test images"),
        "accuracy": st.column_config.NumberColumn("accuracy", format="percent",
                                                  help="Share of this digit's test images read correctly (recall)."),
        "precision": st.column_config.NumberColumn("precision", format="percent",
                                                   help="Of the images read as this digit, the share that really are."),
        "confidence": st.column_config.NumberColumn("mean confidence", format="percent",
                                                    help="Average top probability on this digit's test images."),
        "ece": st.column_config.NumberColumn("ECE (one-vs-rest)", format="%.4f",
                                             help="Calibration error of the probability for this digit."),
    })

# ----------------------------------------------------------------------------- confusion matrix
st.subheader("Which digits get mixed up?")


def _pick_cell() -> None:
    """Chart selection -> the selected (true, predicted) cell: a cell's marker sits at x = predicted, y = true."""
    event = st.session_state.get("err_confusion") or {}
    for p in event.get("selection", {}).get("points", []):
        try:
            cell = (int(p["y"]), int(p["x"]))
        except (KeyError, TypeError, ValueError):
            continue
        if all(0 <= v < 10 for v in cell):
            st.session_state[K_CELL] = cell
            return


worst = most_confused(counts)


def _as_cell(value) -> tuple[int, int] | None:
    """A (true, predicted) pair inside the matrix, or None (the cell is set by a click, or by hand)."""
    try:
        cell = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        return None
    return cell if len(cell) == 2 and all(0 <= v < len(counts) for v in cell) else None


cell = st.session_state[K_CELL] = _as_cell(st.session_state.get(K_CELL, worst)) or worst
c_matrix, c_cell = st.columns([1.2, 1])
with c_matrix:
    st.plotly_chart(confusion_heatmap(counts, selected=cell), width="stretch", key="err_confusion",
                    on_select=_pick_cell, selection_mode="points", config={"displayModeBar": False})
    st.caption("Rows: the true digit; columns: what the method read. The diagonal (grey) holds the correct "
               "answers; the darker a red cell, the more often that mix-up happens. **Click a cell** to see "
               "its images.")
with c_cell:
    t, p = cell
    cell_rows = confusion_cell(frame, t, p)
    verb = "read correctly" if t == p else f"read as {p}"
    n = len(cell_rows)
    st.markdown(f"**True {t}, {verb}: {n:,} image{'s' if n != 1 else ''}**" + (" (most confident first)" if n > 1 else ""))
    if n:
        sub = cell_rows.head(24)
        widgets.image_grid(bundle.predictions["test/x"][sub.index.to_numpy()], [
            f"{r.confidence:.0%}\u00a0sure · E\u00a0{r.epistemic:.2f}" for r in sub.itertuples()], columns=6)
        st.caption("Under each image: how sure the method was, and its epistemic uncertainty (E, nats).")
    else:
        st.caption("No test digit falls in this cell.")
