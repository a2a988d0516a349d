"""Shift lab: turn or damage the test digits and watch each method's accuracy, calibration and doubt.

After Ovadia et al. (2019), "Can you trust your model's uncertainty?". Every number comes from the
predictions the build cached; no model runs here. The chosen shift and severity live in
``st.session_state["shift_kind"]`` and ``st.session_state["shift_severity"]``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import resources, widgets
from uqcore.shift_lab import (
    DESCRIPTIONS,
    ROTATION,
    SHIFT_KINDS,
    as_shown,
    best_methods,
    convert_severity,
    examples,
    reading,
    severities,
    severity_figure,
    severity_label,
    shift_label,
    snap_severity,
)

K_KIND, K_SEV, K_METHOD = "shift_kind", "shift_severity", "shift_method"  # the view (plain state)
W_KIND, W_SEV = "shift_kind_picker", "shift_severity_slider"  # the widgets that edit it
DEFAULT_KIND, DEFAULT_SEVERITY, DEFAULT_METHOD = ROTATION, 90, "ensemble"
TINY = 20  # fewer images than this in a cell: say the numbers are noisy
NB = "\u00a0"  # keeps a label with its number in the narrow example captions

HELP = {
    "accuracy": "Share of these images whose digit the method reads correctly. Higher is better.",
    "ece": "Expected calibration error (15 bins): the average gap between how sure the method says it is and how "
           "often it is actually right. 0% = its confidence can be taken at face value. Lower is better.",
    "epistemic": "Epistemic uncertainty, in nats: how much plausible versions of the model disagree, i.e. the "
                 "model knowing it has not seen images like these. On damaged images it *should* rise. The single "
                 "network and temperature scaling have one set of weights, so theirs is always 0.",
    "flag_rate": "Share of these images the method's out-of-distribution score flags as 'unlike the training "
                 "digits'. The threshold lets 5% of clean digits through as flagged; on damaged images a "
                 "trustworthy method flags more.",
    "n": "How many images this row is measured on.",
}
PP = " The small number underneath is the change since {ref}, in pp = percentage points."  # metrics with a pp delta
ONE_NETWORK = "0 (one network)"  # epistemic of a method with one set of weights (no epistemic part)

st.title("Shift lab")
st.write(
    "Real images are rarely as clean as the training data. Here the test digits are **turned or damaged**, "
    "step by step. As the damage gets worse, accuracy falls; a model you can trust should then become **less "
    "confident and flag more images** as unfamiliar, rather than stay sure of wrong answers."
)

bundle = resources.get_bundle()
pred = bundle.predictions
methods = list(bundle.methods)
titles = {m: bundle.methods[m].title for m in methods}

# ----------------------------------------------------------------------------- state (initialised once)
# The view lives in plain keys (kept across pages and settable by tests); the widgets copy it each run
# and write back through their callbacks.
if st.session_state.get(K_KIND) not in SHIFT_KINDS:
    st.session_state[K_KIND] = DEFAULT_KIND
if K_SEV not in st.session_state:
    st.session_state[K_SEV] = DEFAULT_SEVERITY if st.session_state[K_KIND] == ROTATION else 3
if st.session_state.get(K_METHOD) not in methods:
    st.session_state[K_METHOD] = DEFAULT_METHOD if DEFAULT_METHOD in methods else methods[0]


def _on_kind() -> None:
    """A new shift: carry the slider across (rotation 0-180° <-> severity 0-5)."""
    old, new = st.session_state[K_KIND], st.session_state[W_KIND]
    st.session_state[K_SEV] = convert_severity(st.session_state[K_SEV], old, new)
    st.session_state[K_KIND] = new


def _on_severity() -> None:
    st.session_state[K_SEV] = st.session_state[W_SEV]


kind = st.session_state[K_KIND]
severity = st.session_state[K_SEV] = snap_severity(kind, st.session_state[K_SEV])  # e.g. set for the other scale
st.session_state[W_KIND], st.session_state[W_SEV] = kind, severity
rotation = kind == ROTATION

# ----------------------------------------------------------------------------- controls
c_kind, c_sev, c_method = st.columns([2, 3, 2])
c_kind.selectbox("Shift", SHIFT_KINDS, key=W_KIND, format_func=shift_label, on_change=_on_kind,
                 help="How the test digits are changed: turned (rotation), or one of 15 kinds of damage "
                      "(MNIST-C style), or every kind of damage pooled together.")
c_sev.select_slider(
    "Rotation angle" if rotation else "Severity (0 = clean digits, 5 = strongest)", options=severities(kind),
    key=W_SEV, format_func=lambda s: severity_label(kind, s), on_change=_on_severity,
    help="How far the digits are turned." if rotation else
         "How strong the damage is. 0 shows the clean test digits, for comparison.",
)
method = c_method.selectbox("Method to follow", methods, key=K_METHOD, format_func=titles.get,
                            help="Whose readings the example images and the headline numbers show. "
                                 "The table and the curves below show every method.")

curves = resources.shift_curves(kind)
table = curves[curves["severity"] == severity].set_index("method")
base = curves[curves["severity"] == severities(kind)[0]].set_index("method")
n = int(table["n"].iloc[0])
where = severity_label(kind, severity) if rotation else f"severity {severity_label(kind, severity)}"
source = ("rotated test digits" if rotation else
          "clean test digits" if severity == 0 else "damaged test digits")
st.caption(f"**{shift_label(kind)}**: {DESCRIPTIONS[kind]} · {n:,} {source} at {where}.")
if n < TINY:
    st.caption(f":material/warning: Only {n} images at this setting, so these numbers are noisy: one image more or less read "
               "correctly moves accuracy by several points.")

# ----------------------------------------------------------------------------- the reading, in words
st.info(reading(curves, kind, severity, titles), icon=":material/lightbulb:")

# ----------------------------------------------------------------------------- headline numbers
st.subheader(f"{titles[method]} at {where} of {shift_label(kind).lower()}")
at_zero = severity == severities(kind)[0]
ref = "0°" if rotation else "clean"
r, r0 = table.loc[method], base.loc[method]


def _pp(a: float, b: float) -> str | None:
    return None if at_zero or not np.isfinite(a - b) else f"{(a - b) * 100:+.1f} pp vs {ref}"


def _help(key: str) -> str:
    return HELP[key] + ("" if at_zero else PP.format(ref="0°" if rotation else "the clean digits"))


one_network = r["epistemic"] == 0 and r0["epistemic"] == 0
cols = st.columns(4)
cols[0].metric("Accuracy", f"{r['accuracy']:.1%}", _pp(r["accuracy"], r0["accuracy"]), help=_help("accuracy"))
cols[1].metric("ECE", f"{r['ece']:.1%}", _pp(r["ece"], r0["ece"]), delta_color="inverse", help=_help("ece"))
cols[2].metric("Mean epistemic", ONE_NETWORK if r["epistemic"] == 0 else f"{r['epistemic']:.3f} nats",
               None if at_zero or one_network else f"{r['epistemic'] - r0['epistemic']:+.3f} vs {ref}",
               delta_color="off", help=HELP["epistemic"])
cols[3].metric("OOD-flag rate", f"{r['flag_rate']:.1%}" if np.isfinite(r["flag_rate"]) else "n/a",
               _pp(r["flag_rate"], r0["flag_rate"]), delta_color="off", help=_help("flag_rate"))

# ----------------------------------------------------------------------------- example strip
ex = examples(pred, kind, severity, method, k=10)
if len(ex["index"]):
    st.markdown(f"**Example images** read by {titles[method]} (✓ right, ✗ wrong):")
    strip = st.columns(10)
    for k in range(len(ex["index"])):
        img = np.repeat(np.repeat(ex["x"][k], 4, axis=0), 4, axis=1)  # crisp pixels when projected
        ok = ex["true"][k] == ex["pred"][k]
        caption = (f"{'✓' if ok else '✗'}{NB}true{NB}{ex['true'][k]} · said{NB}{ex['pred'][k]} · "
                   f"{ex['confidence'][k]:.0%}{NB}sure")  # the order of widgets.reading_caption
        if ex["variant"][k] and kind != ex["variant"][k]:
            caption += f" · {shift_label(str(ex['variant'][k])).lower()}"
        strip[k].image(np.clip(img, 0, 1), caption=caption, width="stretch", output_format="PNG")

# ----------------------------------------------------------------------------- every method, this severity
st.subheader("Every method at this setting")
shown = pd.DataFrame({
    "Accuracy": table["accuracy"], "ECE": table["ece"], "Mean epistemic (nats)": table["epistemic"],
    "OOD-flag rate": table["flag_rate"], "Images": table["n"],
}).rename(index=titles).rename_axis(None)
# The best value as shown (percent, one decimal): every method that prints it gets the star.
best = {("Accuracy" if c == "accuracy" else "ECE"): as_shown(table.loc[ms[0], c]) if ms else None
        for c, ms in best_methods(table).items()}


def _is_best(col: str, v) -> bool:
    return best.get(col) is not None and np.isfinite(v) and as_shown(v) == best[col]  # ties share the star


def _fmt(col: str):
    def f(v) -> str:
        if col == "Images":
            return f"{int(v):,}"
        if not np.isfinite(v):
            return "n/a"
        if col == "Mean epistemic (nats)":
            return ONE_NETWORK if v == 0 else f"{v:.3f}"
        return f"{v:.1%}{' ★' if _is_best(col, v) else ''}"
    return f


def _shade(column: pd.Series) -> list[str]:
    return ["background-color: #cfe3f3; font-weight: bold" if _is_best(column.name, v) else "" for v in column]


styler = shown.style.format({c: _fmt(c) for c in shown.columns}).apply(_shade, subset=list(best))
widgets.html_table(styler, font_size=17)
st.caption("★ shaded: the highest accuracy and the lowest ECE, as shown (ties share the star). Epistemic uncertainty "
           "and the flag rate have no single best value: on damaged images higher is better, on clean ones lower, so "
           "read their curves below.")
for col, key in (("Accuracy", "accuracy"), ("ECE", "ece"), ("Mean epistemic", "epistemic"),
                 ("OOD-flag rate", "flag_rate")):
    st.caption(f"**{col}**: {HELP[key]}")

# ----------------------------------------------------------------------------- curves over severities
st.subheader(f"Over every {'angle' if rotation else 'severity'}")
fig = severity_figure(curves, kind, current=severity, labels=titles)
n_point = int(curves.loc[curves["severity"] == severities(kind)[-1], "n"].iloc[0])
st.plotly_chart(fig, width="stretch", key="shift_curves")
st.caption("One line per method; the dotted vertical line is the setting chosen above. "
           + ("At 0° the images are the rotated set's unturned digits. " if rotation else
              f"Severity 0 is the {len(pred['test/y']):,} clean test digits. ")
           + "Dotted horizontal line: the roughly 5% of clean digits every method flags by design. "
           + f"Each point {'' if rotation else 'from severity 1 on '}is measured on about {n_point:,} images.")
