"""Calibration lab (teachers): drag the temperature, watch the reliability diagram, ECE and NLL move.

Everything is recomputed from cached arrays (a softmax over stored logits); no model runs here.
The view (method, T, bins, binning) lives in the URL so a link reopens it exactly.
"""
from __future__ import annotations

from urllib.parse import urlencode

import numpy as np
import streamlit as st

from dashboard import resources
from uqcore.calibration_lab import (
    BINS_MAX,
    BINS_MIN,
    PRESETS,
    STRATEGIES,
    ViewState,
    bin_members,
    lab_metrics,
    parse_view,
    rescale,
    slider_temperatures,
    view_params,
)
from uqcore.plots import reliability_lab, temperature_curves

METHOD_LABELS = {
    "mlp": "Single network",
    "temperature": "Single network + fitted temperature",
    "ensemble": "Deep ensemble",
    "mc_dropout": "MC dropout",
    "laplace": "Laplace",
    "evidential": "Evidential",
}
BINNING_LABELS = {"uniform": "equal-width", "quantile": "equal-mass"}
DEFAULT = ViewState(method="mlp", temperature=1.0, n_bins=15, strategy="uniform")
K_METHOD, K_T, K_BINS, K_BINNING, K_BIN = "cal_method", "cal_T", "cal_bins", "cal_binning", "cal_bin"

HELP = {
    "ece": "Expected calibration error. Group the test digits by how confident the model is, and compare that "
           "confidence with how often it is actually right in each group. ECE is the average gap: 0% means "
           "'when it says 90%, it is right 90% of the time'. Lower is better.",
    "mce": "Maximum calibration error: the gap in the single worst group (bin). Lower is better. "
           "It jumps around when a bin holds only a few images.",
    "nll": "Negative log-likelihood: how surprised the model is by the true answers, on average. A confident "
           "mistake costs a lot, a hesitant correct answer a little. Lower is better; this is what the "
           "optimal temperature minimises.",
    "brier": "Brier score: the squared distance between the predicted probabilities and the true answer "
             "(0 = perfect and certain, 2 = certain and wrong). Lower is better.",
    "accuracy": "Share of the test digits read correctly. Temperature never changes which digit the model "
                "picks, only how sure it says it is, so accuracy stays put.",
}

st.title("Calibration lab")
st.write(
    "When the model says **90% sure**, is it right 90% of the time? Drag the **temperature** and watch: "
    "below 1 makes the model more confident, above 1 less confident. It never changes which digit is "
    "predicted, only how sure the model claims to be."
)

bundle = resources.get_bundle()
pred = bundle.predictions
methods = [m for m in bundle.methods if f"test/{m}/probs" in pred and f"val/{m}/probs" in pred]
optimal = resources.optimal_temperatures()

# ----------------------------------------------------------------------------- URL -> widgets (fresh view only)
if K_METHOD not in st.session_state:
    default = DEFAULT if DEFAULT.method in methods else ViewState(methods[0], 1.0, 15, "uniform")
    view, problems = parse_view(st.query_params.to_dict(), methods, default)
    if problems:
        st.warning("This link has values the lab cannot use, so defaults are shown instead: "
                   + "; ".join(problems) + ".", icon=":material/warning:")
    st.session_state[K_METHOD] = view.method
    st.session_state[K_T] = view.temperature
    st.session_state[K_BINS] = view.n_bins
    st.session_state[K_BINNING] = view.strategy


def _set_t(value: float) -> None:
    st.session_state[K_T] = round(float(value), 2)


# ----------------------------------------------------------------------------- controls
c_method, c_bins, c_binning = st.columns([2, 2, 1.3])
method = c_method.selectbox("Method", methods, key=K_METHOD, format_func=lambda m: METHOD_LABELS.get(m, m),
                            help="Which model's predictions to recalibrate. Each was trained once; "
                                 "here only its stored test-set outputs are rescaled.")
n_bins = c_bins.slider("Number of bins", BINS_MIN, BINS_MAX, key=K_BINS,
                       help="How many confidence groups the reliability diagram and ECE use.")
strategy = c_binning.radio("Binning", list(STRATEGIES), key=K_BINNING, horizontal=True,
                           format_func=BINNING_LABELS.get,
                           help="Equal-width: every bin spans the same confidence range. "
                                "Equal-mass: every bin holds the same number of digits.")

t_opt = optimal[method]
t_opt_r = round(t_opt, 2)
options = slider_temperatures(extra=[t_opt_r, st.session_state.get(K_T)])
if st.session_state.get(K_T) not in options:  # e.g. a stale value: fall back to no scaling
    st.session_state[K_T] = 1.0
temperature = st.select_slider(
    f"Temperature T (log scale) · best on validation: T = {t_opt:.2f}", options=options, key=K_T,
    format_func=lambda t: f"{t:.2f}",
    help="The model's raw scores (logits) are divided by T before they become probabilities. "
         "T < 1 sharpens (more confident), T > 1 softens (less confident). The best T is the one with the "
         "lowest NLL on the 10,000 validation digits.",
)
b1, b2, b3, b4 = st.columns(4)
b1.button(f"Overconfident (T = {PRESETS['Overconfident']:g})", on_click=_set_t, icon=":material/local_fire_department:",
          args=(PRESETS["Overconfident"],), width="stretch")
b2.button(f"Optimal T ({t_opt_r:.2f})", on_click=_set_t, icon=":material/target:", args=(t_opt_r,), width="stretch",
          type="primary", help="Jump to the temperature with the lowest NLL on the validation digits.")
b3.button(f"Underconfident (T = {PRESETS['Underconfident']:g})", on_click=_set_t, icon=":material/ac_unit:",
          args=(PRESETS["Underconfident"],), width="stretch")
b4.button("No scaling (T = 1)", on_click=_set_t, icon=":material/undo:", args=(1.0,), width="stretch")

# ----------------------------------------------------------------------------- widgets -> URL
view = ViewState(method, float(temperature), int(n_bins), strategy)
params = view_params(view)
if st.query_params.to_dict() != params:
    st.query_params.from_dict(params)

arrays = resources.calibration_arrays(method)
y = arrays["test_y"]
if not arrays["from_logits"]:
    st.caption(f":material/info: {METHOD_LABELS.get(method, method)} stores probabilities, not logits, so log(probabilities) "
               "are used as logits: the same as raising each probability to the power 1/T and renormalising.")

# ----------------------------------------------------------------------------- compute (cheap numpy)
probs = rescale(arrays["test_logits"], view.temperature)
probs_1 = rescale(arrays["test_logits"], 1.0)
now = lab_metrics(probs, y, n_bins=n_bins, strategy=strategy)
ref = lab_metrics(probs_1, y, n_bins=n_bins, strategy=strategy)
bins = now["bins"]

non_empty = [int(b) for b in np.flatnonzero(bins.count > 0)]
contrib = np.nan_to_num(bins.weights * bins.gaps)
st.session_state["cal_edges"] = bins.edges  # for the click handler below, which runs before the next script run


def _click_bin() -> None:
    """A click on a bar (accuracy, gap or count) selects its bin for the image grid."""
    event = st.session_state.get("cal_reliability") or {}
    edges = st.session_state.get("cal_edges")
    for point in event.get("selection", {}).get("points", []):
        x = point.get("x")
        if edges is not None and isinstance(x, (int, float)):
            st.session_state[K_BIN] = int(np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2))
            return


if st.session_state.get(K_BIN) not in non_empty:
    st.session_state[K_BIN] = int(np.argmax(contrib)) if contrib.any() else non_empty[-1]
selected = int(st.session_state[K_BIN])

# ----------------------------------------------------------------------------- diagram + metrics
st.subheader(f"Reliability diagram · {METHOD_LABELS.get(method, method)} · T = {view.temperature:.2f}")
c_fig, c_metrics = st.columns([3, 1])
with c_fig:
    fig = reliability_lab(bins.edges, bins.count, bins.confidence, bins.accuracy,
                          ref_confidence=ref["bins"].confidence, ref_accuracy=ref["bins"].accuracy,
                          selected_bin=selected)
    st.plotly_chart(fig, width="stretch", key="cal_reliability", on_select=_click_bin, selection_mode="points")
    st.caption("Bars: accuracy in each confidence bin (paler = fewer digits). Hatched red: the gap to the "
               "dashed diagonal, where confidence equals accuracy. Bars **below** the diagonal = overconfident, "
               "**above** = underconfident. Open circles: the same bins at T = 1. Bottom: digits per bin "
               "(log scale); yellow: the bin shown below. **Click a bar** to show its digits.")
with c_metrics:
    scaled = view.temperature != 1.0  # at T = 1 there is nothing to compare with

    def pp(a: float, b: float) -> str | None:
        return f"{(a - b) * 100:+.2f} pp vs T = 1" if scaled else None

    def diff(a: float, b: float) -> str | None:
        return f"{a - b:+.4f} vs T = 1" if scaled else None

    st.metric("ECE", f"{now['ece']:.2%}", pp(now["ece"], ref["ece"]), delta_color="inverse", help=HELP["ece"])
    st.metric("MCE", f"{now['mce']:.2%}", pp(now["mce"], ref["mce"]), delta_color="inverse", help=HELP["mce"])
    st.metric("NLL", f"{now['nll']:.4f}", diff(now["nll"], ref["nll"]), delta_color="inverse",
              help=HELP["nll"])
    st.metric("Brier", f"{now['brier']:.4f}", diff(now["brier"], ref["brier"]),
              delta_color="inverse", help=HELP["brier"])
    st.metric("Accuracy", f"{now['accuracy']:.2%}", pp(now["accuracy"], ref["accuracy"]), delta_color="off",
              help=HELP["accuracy"])

# ----------------------------------------------------------------------------- sensitivity to binning
alt = {b: lab_metrics(probs, y, n_bins=b, strategy=strategy)["ece"] for b in (10, 15, 20)}
other = "quantile" if strategy == "uniform" else "uniform"
alt_other = lab_metrics(probs, y, n_bins=n_bins, strategy=other)["ece"]
st.markdown(
    f"**ECE depends on how you bin:** at this T it is {alt[10]:.2%} with 10 bins, {alt[15]:.2%} with 15 and "
    f"{alt[20]:.2%} with 20 ({BINNING_LABELS[strategy]}); with {n_bins} {BINNING_LABELS[other]} bins it is "
    f"{alt_other:.2%}. Compare models only at the same setting."
)
signs = np.sign(bins.accuracy - bins.confidence)[bins.count > 0]
if signs.size and (np.all(signs <= 0) or np.all(signs >= 0)):
    st.caption(f"Here every bin is off in the same direction, so ECE is simply the gap between the average "
               f"confidence ({probs.max(1).mean():.2%}) and the accuracy ({now['accuracy']:.2%}), "
               "almost whatever the bins.")

# ----------------------------------------------------------------------------- curves over T
st.subheader("How ECE and NLL change with temperature")
curves = resources.temperature_sweep_curves(method, int(n_bins), strategy)
st.plotly_chart(temperature_curves(curves["temperature"], curves["ece"], curves["nll"], current=view.temperature,
                                   current_ece=now["ece"], current_nll=now["nll"], optimal=t_opt),
                width="stretch", key="cal_curves")
st.caption("Measured on the 10,000 test digits. The green dashed line is the temperature fitted on the separate "
           "validation digits; the dotted grey line is T = 1.")

# ----------------------------------------------------------------------------- images in a bin
st.subheader("Which digits are in a bin?")


def _bin_label(b: int) -> str:
    return (f"Bin {b + 1}: confidence {bins.edges[b]:.1%}–{bins.edges[b + 1]:.1%} · {bins.count[b]:,} digits · "
            f"accuracy {bins.accuracy[b]:.0%} vs confidence {bins.confidence[b]:.0%}")


selected = st.selectbox("Bin", non_empty, key=K_BIN, format_func=_bin_label,
                        help="Pick a confidence bin to see its test digits. It starts on the bin that adds "
                             "the most to the ECE.")
members = bin_members(bins, selected, probs, y, limit=24)
st.write(f"{members['total']:,} digits in this bin, {members['n_wrong']:,} of them read wrongly (✗). "
         f"Showing {len(members['index'])}: mistakes first, then the most confident.")
x = pred["test/x"]
cols = st.columns(8)
for k, i in enumerate(members["index"]):
    img = x[i].reshape(28, 28)
    img = np.repeat(np.repeat(img, 4, axis=0), 4, axis=1)  # crisp pixels when projected
    ok = bool(members["correct"][k])
    caption = (f"{'✓' if ok else '✗'} true {members['true'][k]} · said {members['pred'][k]} · "
               f"{members['confidence'][k]:.1%} sure")
    cols[k % 8].image(img, caption=caption, width="stretch")

# ----------------------------------------------------------------------------- share
st.divider()
st.caption(f":material/link: **Share this view:** `calibration_lab?{urlencode(params)}` (add it after the app's address; "
           "the link opens this method, temperature and binning).")
