"""Calibration lab (teachers): drag the temperature, watch the reliability diagram, ECE and NLL move.
Recomputed from cached logits (no model runs); the view (method, T, bins, binning) lives in the URL."""
from __future__ import annotations

import numpy as np
import streamlit as st

from dashboard import resources, widgets
from dashboard.logic.calibration import (BINNING_LABELS, BINS_MAX, BINS_MIN, HELP, PRESETS, STRATEGIES, ViewState,
                                         bin_at, bin_label, slider_temperatures, specs)
from uqcore.analysis.calibration import bin_members, binning_sensitivity, lab_metrics, rescale
from uqcore.plots import reliability_lab, temperature_curves

DEFAULT = ViewState(method="mlp", temperature=1.0, n_bins=15, strategy="uniform")
K_BIN = "cal_bin"  # the bin whose digits are shown (not in the URL: it depends on the bins)

st.title("Calibration lab")
st.write(
    "When the model says **90% sure**, is it right 90% of the time? Drag the **temperature** and watch: "
    "below 1 makes the model more confident, above 1 less confident. It never changes which digit is "
    "predicted, only how sure the model claims to be."
)

bundle = resources.get_bundle()
pred = bundle.predictions
methods = [m for m in bundle.methods if pred.has("test", m) and pred.has("val", m)]
titles = {m: bundle.methods[m].title for m in methods}
optimal = resources.optimal_temperatures()
view = widgets.PageView("calibration_lab", "cal", specs(methods, DEFAULT if DEFAULT.method in methods else
                                     ViewState(methods[0], 1.0, 15, "uniform")))

# ----------------------------------------------------------------------------- controls
c_method, c_bins, c_binning = st.columns([2, 2, 1.3])
method = c_method.selectbox("Method", methods, format_func=titles.get, **view.widget("method"),
                            help="Which model's predictions to recalibrate. Each was trained once; "
                                 "here only its stored test-set outputs are rescaled.")
n_bins = c_bins.slider("Number of bins", BINS_MIN, BINS_MAX, **view.widget("bins"),
                       help="How many confidence groups the reliability diagram and ECE use.")
strategy = c_binning.radio("Binning", list(STRATEGIES), horizontal=True, format_func=BINNING_LABELS.get,
                           **view.widget("binning"), help="Equal-width: every bin spans the same confidence range. "
                                                          "Equal-mass: every bin holds the same number of digits.")
t_opt = optimal[method]
t_opt_r = round(t_opt, 2)
options = slider_temperatures(extra=[t_opt_r, view["T"]])
if view["T"] not in options:  # e.g. a stale value: fall back to no scaling
    view.set("T", 1.0)
temperature = st.select_slider(
    f"Temperature T (log scale) · best on validation: T = {t_opt:.2f}", options=options,
    format_func=lambda t: f"{t:.2f}", **view.widget("T"),
    help="The model's raw scores (logits) are divided by T before they become probabilities. "
         "T < 1 sharpens (more confident), T > 1 softens (less confident). The best T is the one with the "
         "lowest NLL on the 10,000 validation digits.")
presets = [(f"Overconfident (T = {PRESETS['Overconfident']:g})", PRESETS["Overconfident"], ":material/local_fire_department:"),
           (f"Optimal T ({t_opt_r:.2f})", t_opt_r, ":material/target:"),
           (f"Underconfident (T = {PRESETS['Underconfident']:g})", PRESETS["Underconfident"], ":material/ac_unit:"),
           ("No scaling (T = 1)", 1.0, ":material/undo:")]
for col, (label, t, icon) in zip(st.columns(4), presets):
    col.button(label, on_click=view.set, args=("T", t), icon=icon, width="stretch",
               type="primary" if label.startswith("Optimal") else "secondary")
params = view.publish()

arrays = resources.calibration_arrays(method)
y = arrays["test_y"]
if not arrays["from_logits"]:
    st.caption(f":material/info: {titles[method]} has no logits, so the log of its probabilities is used: the same as "
               "raising each probability to the power 1/T and renormalising.")

# ----------------------------------------------------------------------------- compute (cheap numpy)
probs = rescale(arrays["test_logits"], temperature)
now = lab_metrics(probs, y, n_bins=n_bins, strategy=strategy)
ref = lab_metrics(rescale(arrays["test_logits"], 1.0), y, n_bins=n_bins, strategy=strategy)
bins = now["bins"]
non_empty = [int(b) for b in np.flatnonzero(bins.count > 0)]
contrib = np.nan_to_num(bins.weights * bins.gaps)
st.session_state["cal_edges"] = bins.edges  # for the click handler below, which runs before the next script run


def _click_bin() -> None:
    """A click on a bar (accuracy, gap or count) selects its bin for the image grid."""
    for point in (st.session_state.get("cal_reliability") or {}).get("selection", {}).get("points", []):
        b = bin_at(st.session_state.get("cal_edges"), point.get("x"))
        if b is not None:
            st.session_state[K_BIN] = b
            return


if st.session_state.get(K_BIN) not in non_empty:
    st.session_state[K_BIN] = int(np.argmax(contrib)) if contrib.any() else non_empty[-1]

# ----------------------------------------------------------------------------- diagram + metrics
st.subheader(f"Reliability diagram · {titles[method]} · T = {temperature:.2f}")
c_fig, c_metrics = st.columns([3, 1])
with c_fig:
    fig = reliability_lab(bins.edges, bins.count, bins.confidence, bins.accuracy, ref_confidence=ref["bins"].confidence,
                          ref_accuracy=ref["bins"].accuracy, selected_bin=int(st.session_state[K_BIN]))
    st.plotly_chart(fig, width="stretch", key="cal_reliability", on_select=_click_bin, selection_mode="points")
    st.caption("Bars: accuracy in each confidence bin (paler = fewer digits). Hatched red: the gap to the "
               "dashed diagonal, where confidence equals accuracy. Bars **below** the diagonal = overconfident, "
               "**above** = underconfident. Open circles: the same bins at T = 1. Bottom: digits per bin "
               "(log scale); yellow: the bin shown below. **Click a bar** to show its digits.")
with c_metrics:
    scaled = temperature != 1.0  # at T = 1 there is nothing to compare with
    for name, fmt, pp in (("ECE", ".2%", True), ("MCE", ".2%", True), ("NLL", ".4f", False), ("Brier", ".4f", False),
                          ("Accuracy", ".2%", True)):
        a, b = now[name.lower()], ref[name.lower()]
        delta = None if not scaled else f"{(a - b) * 100:+.2f} pp vs T = 1" if pp else f"{a - b:+.4f} vs T = 1"
        st.metric(name, format(a, fmt), delta, delta_color="off" if name == "Accuracy" else "inverse",
                  help=HELP[name.lower()])

# ----------------------------------------------------------------------------- sensitivity to binning
alt = binning_sensitivity(probs, y, n_bins=n_bins, strategy=strategy)
st.markdown(
    f"**ECE depends on how you bin:** at this T it is {alt[10]:.2%} with 10 bins, {alt[15]:.2%} with 15 and "
    f"{alt[20]:.2%} with 20 ({BINNING_LABELS[strategy]}); with {n_bins} {BINNING_LABELS[alt['other_strategy']]} bins "
    f"it is {alt['other']:.2%}. Compare models only at the same setting.")
signs = np.sign(bins.accuracy - bins.confidence)[bins.count > 0]
if signs.size and (np.all(signs <= 0) or np.all(signs >= 0)):
    st.caption(f"Here every bin is off in the same direction, so ECE is simply the gap between the average "
               f"confidence ({probs.max(1).mean():.2%}) and the accuracy ({now['accuracy']:.2%}), "
               "almost whatever the bins.")

# ----------------------------------------------------------------------------- curves over T
st.subheader("How ECE and NLL change with temperature")
curves = resources.temperature_sweep_curves(method, int(n_bins), strategy)
st.plotly_chart(temperature_curves(curves["temperature"], curves["ece"], curves["nll"], current=temperature,
                                   current_ece=now["ece"], current_nll=now["nll"], optimal=t_opt),
                width="stretch", key="cal_curves")
st.caption("Measured on the 10,000 test digits. The green dashed line is the temperature fitted on the separate "
           "validation digits; the dotted grey line is T = 1.")

# ----------------------------------------------------------------------------- images in a bin
st.subheader("Which digits are in a bin?")


selected = st.selectbox("Bin", non_empty, key=K_BIN, format_func=lambda b: bin_label(bins, b),
                        help="Pick a confidence bin to see its test digits. It starts on the bin that adds "
                             "the most to the ECE.")
members = bin_members(bins, selected, probs, y, limit=24)
st.write(f"{members['total']:,} digits in this bin, {members['n_wrong']:,} of them read wrongly (✗). "
         f"Showing {len(members['index'])}: mistakes first, then the most confident.")
widgets.image_grid(pred.x("test")[members["index"]], [
    f"{'✓' if ok else '✗'} true {t} · said {p} · {c:.1%} sure"
    for ok, t, p, c in zip(members["correct"], members["true"], members["pred"], members["confidence"])])
st.divider()
view.share(params)
