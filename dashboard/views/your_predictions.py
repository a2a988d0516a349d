"""Your predictions (analysts): another model's outputs, uploaded or read from a path, measured like the build's
methods: metrics at a temperature, the reliability diagram, risk-coverage, the uncertainty split, the most
confident mistakes, calibrators and prediction sets, and every row as a CSV. Needs no build."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from dashboard import resources, widgets
from dashboard.logic.calibration import TEXTBOOK_NOTE, calibrator_rows, textbook_rows
from dashboard.logic.your_predictions import HALF_NOTE, confident_mistakes, metrics_at, rows_csv
from uqcore.data.external import MAX_ROWS, PredictionsError, locate
from uqcore.plots import reliability_overlay, uncertainty_scatter

FORMAT = (f"**The file.** An `.npz` (`np.savez`) with `y_true` (n,) and `probs` (n, C) or `logits` (n, C); "
          "optionally `member_probs` (S, n, C) (ensemble members or MC samples) and `images` (n, 784) or "
          "(n, 28, 28). Or a `.csv` with a header `y_true,p0,...,p{C-1}` (or `logit0,...`). Up to "
          f"{MAX_ROWS:,} rows. The README has a 20-line example that writes one from PyTorch or scikit-learn, and "
          "`python -m uqcore evaluate --predictions FILE --json` gives the same figures in the terminal.")

widgets.compact_top()
st.title("Your predictions")
st.markdown("Bring **your own model's outputs** and read them the way this app reads its own methods: how well "
            "its confidence matches its accuracy, what abstaining buys, where it is sure and wrong.")
with st.expander("What the file holds", icon=":material/description:"):
    st.markdown(FORMAT)

up_col, path_col = st.columns(2, gap="large")
upload = up_col.file_uploader("**Upload** an .npz or .csv", type=["npz", "csv"], key="yours_upload",
                              help="Uploads are limited to 20 MB; for a bigger file, give its path instead.")
path = path_col.text_input("**Or a file on this computer** (no size limit)", key="yours_path",
                           placeholder="/home/me/predictions.npz")
try:
    if upload is not None:
        ext = resources.external_predictions(upload.getvalue(), upload.name)
    elif path.strip():
        where, modified = locate(path.strip())
        ext = resources.external_file(str(where), modified)
    else:
        ext = None
except PredictionsError as e:
    st.error(f"**This file cannot be used.** {e}", icon=":material/error:")
    st.stop()
if ext is None and (earlier := resources.yours()) is not None:  # loaded before this visit: the uploader forgets
    ext = earlier[1]
if ext is None:
    st.info("Upload a file or type its path to start.", icon=":material/upload_file:")
    st.stop()
resources.remember_external(ext)

extras = [x for x, present in (("member probabilities", ext.member_probs is not None),
                               ("images", ext.images is not None)) if present]
st.success(f"**{ext.source}**: {ext.n:,} rows, {ext.n_classes} classes, "
           f"{'logits' if ext.logits is not None else 'probabilities'}"
           + (f", with {' and '.join(extras)}" if extras else "") + ". The Calibration lab, Compare and Errors now "
           "offer it too, as **Your predictions** in their model lists.", icon=":material/check_circle:")
fixed = resources.external_fixed(ext, ext.digest)
rows, unc, correct = fixed["rows"], fixed["unc"], fixed["correct"]
t_best = resources.external_temperature(ext, ext.digest)
st.caption(HALF_NOTE)

st.subheader("Calibration")
t_col, b_col = st.columns([3, 1])
t_use = float(np.clip(round(t_best, 2), 0.2, 5.0))
b_col.button(f"Best T = {t_use:.2f}" + (" (the slider's end)" if t_use != round(t_best, 2) else ""),
             width="stretch", help=f"The temperature that minimises NLL on the fitting half of the rows: "
             f"{t_best:.3f}.", on_click=lambda: st.session_state.update(yours_T=t_use))
temperature = t_col.slider("Temperature (logits / T)", 0.2, 5.0, 1.0, 0.01, key="yours_T",
                           help="Below 1 the model claims more certainty, above 1 less; the predicted class "
                                "never changes. The best T minimises NLL on the fitting half.")
now, ref = metrics_at(ext, rows, temperature), fixed["at_1"]
cols = st.columns(5)
for col, (label, key, fmt) in zip(cols, (("Accuracy", "accuracy", "{:.2%}"), ("ECE", "ece", "{:.2%}"),
                                          ("NLL", "nll", "{:.4f}"), ("Brier", "brier", "{:.4f}"),
                                          ("MCE", "mce", "{:.2%}"))):
    delta = now[key] - ref[key]
    col.metric(label, fmt.format(now[key]), delta=None if abs(delta) < 1e-12 else fmt.format(delta),
               delta_color="off" if key == "accuracy" else "inverse", help=f"On the {len(rows):,} scored rows; the "
               f"change is against T = 1." if key != "accuracy" else "Temperature never changes the predicted class.")
left, right = st.columns(2, gap="large")
curves = {f"T = {temperature:.2f}": (now["bins"].confidence, now["bins"].accuracy, now["bins"].count)}
if temperature != 1.0:
    curves["T = 1 (as given)"] = (ref["bins"].confidence, ref["bins"].accuracy, ref["bins"].count)
with left:
    st.markdown("**Reliability diagram** (15 equal-width bins; dot size: rows in the bin)")
    st.plotly_chart(reliability_overlay(curves, height=400), width="stretch", config={"displayModeBar": False})
with right:
    st.markdown(f"**Abstain when unsure**: abstaining on the 5% most uncertain rows gives accuracy "
                f"**{fixed['keep_95']:.2%}** "
                f"(all scored rows: {correct[rows].mean():.2%})", help="Rows ranked by total uncertainty (the "
                "entropy of the averaged probabilities, in nats); the curve is the error rate among the rows kept.")
    st.plotly_chart(fixed["curve_figure"], width="stretch", config={"displayModeBar": False})

if "epistemic" in unc:
    st.subheader("Two kinds of doubt")
    show = np.random.default_rng(0).permutation(ext.n)[:20000]
    st.caption(f"Aleatoric (the input itself is unclear) against epistemic (the members disagree), in nats; "
               f"{len(show):,} rows shown of {ext.n:,}; orange crosses are wrong answers. Means: aleatoric "
               f"{unc['aleatoric'].mean():.3f}, epistemic {unc['epistemic'].mean():.3f}.")
    st.plotly_chart(uncertainty_scatter(unc["aleatoric"][show], unc["epistemic"][show], correct[show]),
                    width="stretch")
if ext.images is not None:
    st.subheader("Sure and wrong")
    worst = confident_mistakes(ext, 16)
    st.caption("The wrong answers given with the most confidence (at T = 1): true → predicted, confidence.")
    widgets.image_grid(ext.images[worst], [f"{ext.y[i]} → {ext.probs[i].argmax()}, {ext.probs[i].max():.0%}"
                                           for i in worst])

with st.expander("Calibrators and prediction sets (fitted on half the rows)", icon=":material/tune:"):
    if st.toggle("Compute them", key="yours_report", help="Five calibrators (and two textbook forms for reference) and three conformal scores; on a "
                 "million rows this takes about 15 s."):
        m = resources.external_report(ext, ext.digest)["metrics"]
        st.dataframe(calibrator_rows(m["calibrators"]), width="stretch")
        st.dataframe(textbook_rows(m["calibrators_textbook"]), width="stretch")
        st.caption(TEXTBOOK_NOTE)
        st.markdown("Conformal prediction sets, coverage / mean size on the scored half: " + "; ".join(
            f"**{s.upper()}** α 0.05 → {v['0.05']['coverage']:.1%} / {v['0.05']['mean_size']:.2f}"
            for s, v in m["conformal"].items()))
st.download_button("Download every row as CSV (prediction, confidence at this T, right or wrong, uncertainty)",
                   lambda: rows_csv(ext, temperature, unc), file_name=f"{Path(ext.source).stem}-rows.csv", mime="text/csv",
                   icon=":material/download:")
