"""Calibration lab (teachers): drag the temperature, watch the reliability diagram, ECE and NLL move.
Recomputed from cached logits (no model runs); the view (method, T, bins, binning) lives in the URL."""
from __future__ import annotations

import numpy as np
import streamlit as st

from dashboard import resources, widgets
from dashboard.live import live_reliability
from dashboard.logic.calibration import (BEST_ON, BINNING_LABELS, BINS_MAX, BINS_MIN, CALIBRATORS_NOTE, FIT, HELP,
                                         LAB_DEFAULT, PRESETS, ROWS, STRATEGIES, TEXTBOOK_NOTE, ViewState, bin_label,
                                         live_payload, live_temperatures, specs)
from uqcore.analysis.calibration import T_MAX, T_MIN, bin_members, binning_sensitivity, lab_metrics, rescale
from uqcore.plots import reliability_overlay, temperature_curves

K_LIVE = "cal_live"  # the live diagram (dashboard.live)

widgets.compact_top()
st.title("Calibration lab")
st.markdown("When the model says **90% sure**, is it right 90% of the time? **Drag the temperature**: below 1 the "
            "model claims more certainty, above 1 less. It never changes which digit is predicted.")

bundle = resources.get_bundle()
pred = bundle.predictions
methods, titles, mine = resources.with_yours([m for m in bundle.methods if pred.has("test", m) and pred.has("val", m)],
                                            {m: bundle.methods[m].title for m in bundle.methods})
optimal = resources.optimal_temperatures(() if mine is None else (mine,))
first = LAB_DEFAULT if LAB_DEFAULT in methods else methods[0]  # the overconfident teaching network
view = widgets.PageView("calibration_lab", "cal", specs(methods, ViewState(first, 1.0, 15, "uniform")))
method, n_bins, strategy = view["method"], int(view["bins"]), view["binning"]
t_opt_r = round(t_opt := optimal[method], 2)
temps = live_temperatures(extra=[t_opt_r])  # the fixed grid; a linked T off it is added (live_states_with)
if not T_MIN <= view["T"] <= T_MAX:  # e.g. a stale value: fall back to no scaling
    view.set("T", 1.0)
temperature = float(view["T"])

arrays = resources.calibration_arrays(method)
y, probs = arrays["test_y"], rescale(arrays["test_logits"], temperature)
now = lab_metrics(probs, y, n_bins=n_bins, strategy=strategy)
ref = lab_metrics(rescale(arrays["test_logits"], 1.0), y, n_bins=n_bins, strategy=strategy)
bins = now["bins"]
non_empty = [int(b) for b in np.flatnonzero(bins.count > 0)]
contrib = np.nan_to_num(bins.weights * bins.gaps)
if view["bin"] - 1 not in non_empty:  # the bin shown (1-based in the URL): by default the one adding most to ECE
    view.set("bin", 1 + (int(np.argmax(contrib)) if contrib.any() else non_empty[-1]))


def _released() -> None:
    """The slider was let go in the browser: the page (its numbers, the URL) moves to that temperature."""
    t = (st.session_state.get(K_LIVE) or {}).get("temperature")
    if isinstance(t, (int, float)) and T_MIN <= t <= T_MAX:
        view.set("T", round(float(t), 2))


def _clicked_bin() -> None:
    b = (st.session_state.get(K_LIVE) or {}).get("bin")
    if isinstance(b, int) and b in non_empty:
        view.set("bin", b + 1)


# ----------------------------------------------------------------------------- the live diagram (first screen)
states = resources.live_states_with(method, n_bins, strategy, tuple(temps), temperature)
live_reliability(live_payload(states, current=temperature, best=t_opt, selected=view["bin"] - 1,
                              title=f"Reliability diagram · {titles[method]}", best_on=BEST_ON[method == mine]),
                 key=K_LIVE, on_temperature=_released, on_bin=_clicked_bin)
st.caption("Bars: how often the model was right in each confidence group. Hatched red: the gap to the dashed "
           "diagonal (confidence = accuracy); bars **below** it = overconfident. Open circles: T = 1. Bottom: digits "
           "per group (log scale). **Click a bar** to see its digits below.")

# ----------------------------------------------------------------------------- controls
c_method, c_bins, c_binning = st.columns([2, 2, 1.3])
c_method.selectbox("Model", methods, format_func=titles.get, **view.widget("method"),
                   help="Whose stored test-set outputs to recalibrate. The overconfident teaching network was "
                        "trained without dropout or augmentation, so it has the most to fix.")
c_bins.slider("Number of bins", BINS_MIN, BINS_MAX, **view.widget("bins"),
              help="How many confidence groups the reliability diagram and ECE use.")
c_binning.radio("Binning", list(STRATEGIES), horizontal=True, format_func=BINNING_LABELS.get, **view.widget("binning"),
                help="Equal-width: every bin spans the same confidence range. "
                     "Equal-mass: every bin holds the same number of digits.")
presets = [(f"Sharpen (T = {PRESETS['Sharpen']:g})", PRESETS["Sharpen"], ":material/local_fire_department:"),
           (f"Optimal T ({t_opt_r:.2f})", t_opt_r, ":material/target:"),
           (f"Soften (T = {PRESETS['Soften']:g})", PRESETS["Soften"], ":material/ac_unit:"),
           ("No scaling (T = 1)", 1.0, ":material/undo:")]
for col, (label, t, icon) in zip(st.columns(4), presets):
    col.button(label, on_click=view.set, args=("T", t), icon=icon, width="stretch",
               type="primary" if label.startswith("Optimal") else "secondary")
params = view.publish()
if not arrays["from_logits"]:
    st.caption(f":material/info: {titles[method]} has no logits, so the log of its probabilities is used: the same as "
               "raising each probability to the power 1/T and renormalising.")

# ----------------------------------------------------------------------------- exact figures at the released T
scaled = temperature != 1.0  # at T = 1 there is nothing to compare with
for col, (name, fmt, pp) in zip(st.columns(5), (("ECE", ".2%", True), ("MCE", ".2%", True), ("NLL", ".4f", False),
                                                 ("Brier", ".4f", False), ("Accuracy", ".2%", True))):
    a, b = now[name.lower()], ref[name.lower()]
    delta = None if not scaled else f"{(a - b) * 100:+.2f} pp vs T = 1" if pp else f"{a - b:+.4f} vs T = 1"
    col.metric(name, format(a, fmt), delta, delta_color="off" if name == "Accuracy" else "inverse",
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
st.caption(f"Measured on the {len(y):,} {ROWS[method == mine]}. The green dashed line is the temperature fitted on the "
           f"{FIT[method == mine]}; the dotted grey line is T = 1.")

with st.expander("Several models on one diagram (at T = 1 and at each model's best T)"):
    chosen = st.multiselect("Models", methods, default=[m for m in (method, "ensemble") if m in methods],
                            format_func=titles.get, key="cal_overlay")
    best = st.toggle("At each model's best temperature", key="cal_overlay_best")
    st.plotly_chart(reliability_overlay(resources.overlay_curves(tuple(chosen), best, n_bins, strategy, titles)),
                    width="stretch", key="cal_overlay_chart")
with st.expander(f"Other calibrators for {titles[method]} (fitted on the {FIT[method == mine]}, measured on the "
                 f"{ROWS[method == mine]})"):
    for table, note in zip(resources.calibrator_table(method), (CALIBRATORS_NOTE, TEXTBOOK_NOTE)):
        st.dataframe(table, width="stretch")
        st.caption(note)

# ----------------------------------------------------------------------------- images in a bin
st.subheader("Which digits are in a bin?")
selected = st.selectbox("Bin", [b + 1 for b in non_empty], format_func=lambda k: bin_label(bins, k - 1),
                        **view.widget("bin"),
                        help="Pick a confidence bin to see its test digits. It starts on the bin that adds "
                             "the most to the ECE.")
members = bin_members(bins, selected - 1, probs, y, limit=24)
st.write(f"{members['total']:,} digits in this bin, {members['n_wrong']:,} of them read wrongly (✗). "
         f"Showing {len(members['index'])}: mistakes first, then the most confident.")
if (images := resources.scored_images(method)) is None:
    st.caption("Your file has no `images` array, so there are no pictures to show.")
else:
    widgets.image_grid(images[members["index"]], [
        f"{'✓' if ok else '✗'} true {t} · said {p} · {c:.1%} sure"
        for ok, t, p, c in zip(members["correct"], members["true"], members["pred"], members["confidence"])])
st.divider()
view.share(params)
