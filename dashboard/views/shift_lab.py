"""Shift lab: turn or damage the test digits and watch each method's accuracy, calibration and doubt.

After Ovadia et al. (2019), "Can you trust your model's uncertainty?". Every number comes from the
predictions the build cached; no model runs here. The view (shift, severity, method) lives in the URL
and in ``st.session_state["shift_kind"]``, ``["shift_severity"]`` and ``["shift_method"]``.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from dashboard import resources, widgets
from dashboard.logic.shift import (DEFAULT_SEVERITY, DESCRIPTIONS, HELP, ONE_NETWORK, TINY, convert_severity,
                                   example_caption, metric_help, reading, severity_figure, severity_label, shift_label,
                                   snap_severity, source, styled_table, view_specs, where)
from uqcore.analysis.shift import ROTATION, SHIFT_KINDS, examples, severities
from uqcore.methods import DEFAULT_METHOD

W_KIND, W_SEV = "shift_kind_picker", "shift_severity_slider"  # the widgets that edit the view

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
view = widgets.PageView("shift_lab", "shift", view_specs(methods, DEFAULT_METHOD if DEFAULT_METHOD in methods
                                                         else methods[0]), plain=("kind", "severity"))


def _on_kind() -> None:
    """A new shift: carry the slider across (rotation 0-180° <-> severity 0-5)."""
    view.set("severity", convert_severity(view["severity"], view["kind"], st.session_state[W_KIND]))
    view.set("kind", st.session_state[W_KIND])


kind = view["kind"]
if view["severity"] not in severities(kind) and view["severity"] == DEFAULT_SEVERITY:
    view.set("severity", 3)  # a corruption opened without a severity starts in the middle
view.set("severity", snap_severity(kind, view["severity"]))  # e.g. a value set for the other scale
severity = view["severity"]
st.session_state[W_KIND], st.session_state[W_SEV] = kind, severity
rotation = kind == ROTATION

# ----------------------------------------------------------------------------- controls
c_kind, c_sev, c_method = st.columns([2, 3, 2])
c_kind.selectbox("Shift", SHIFT_KINDS, key=W_KIND, format_func=shift_label, on_change=_on_kind,
                 help="How the test digits are changed: turned (rotation), or one of 15 kinds of damage "
                      "(MNIST-C style), or every kind of damage pooled together.")
c_sev.select_slider(
    "Rotation angle" if rotation else "Severity (0 = clean digits, 5 = strongest)", options=severities(kind),
    key=W_SEV, format_func=lambda s: severity_label(kind, s),
    on_change=lambda: view.set("severity", st.session_state[W_SEV]),
    help="How far the digits are turned." if rotation else
         "How strong the damage is. 0 shows the clean test digits, for comparison.")
method = c_method.selectbox("Method to follow", methods, format_func=titles.get, **view.widget("method"),
                            help="Whose readings the example images and the headline numbers show. "
                                 "The table and the curves below show every method.")
params = view.publish()

curves = resources.shift_curves(kind)
table = curves[curves["severity"] == severity].set_index("method")
base = curves[curves["severity"] == severities(kind)[0]].set_index("method")
n = int(table["n"].iloc[0])
here = where(kind, severity)
st.caption(f"**{shift_label(kind)}**: {DESCRIPTIONS[kind]} · {n:,} {source(kind, severity)} at {here}.")
if n < TINY:
    st.caption(f":material/warning: Only {n} images at this setting, so these numbers are noisy: one image more or less "
               "read correctly moves accuracy by several points.")
st.info(reading(curves, kind, severity, titles), icon=":material/lightbulb:")

# ----------------------------------------------------------------------------- headline numbers
st.subheader(f"{titles[method]} at {here} of {shift_label(kind).lower()}")
at_zero = severity == severities(kind)[0]
ref = "0°" if rotation else "clean"
r, r0 = table.loc[method], base.loc[method]


def _pp(a: float, b: float, digits: int = 1) -> str | None:
    return None if at_zero or not np.isfinite(a - b) else f"{(a - b) * 100:+.{digits}f} pp vs {ref}"


one_network = r["epistemic"] == 0 and r0["epistemic"] == 0
cols = st.columns(4)
cols[0].metric("Accuracy", f"{r['accuracy']:.1%}", _pp(r["accuracy"], r0["accuracy"]),
               help=metric_help("accuracy", kind, at_zero))
cols[1].metric("ECE", f"{r['ece']:.2%}", _pp(r["ece"], r0["ece"], 2), delta_color="inverse",
               help=metric_help("ece", kind, at_zero))
cols[2].metric("Mean epistemic", ONE_NETWORK if r["epistemic"] == 0 else f"{r['epistemic']:.3f} nats",
               None if at_zero or one_network else f"{r['epistemic'] - r0['epistemic']:+.3f} vs {ref}",
               delta_color="off", help=HELP["epistemic"])
cols[3].metric("OOD-flag rate", f"{r['flag_rate']:.1%}" if np.isfinite(r["flag_rate"]) else "n/a",
               _pp(r["flag_rate"], r0["flag_rate"]), delta_color="off", help=metric_help("flag_rate", kind, at_zero))

# ----------------------------------------------------------------------------- example strip
ex = examples(pred, kind, severity, method, k=10)
if len(ex["index"]):
    st.markdown(f"**Example images** read by {titles[method]} (✓ right, ✗ wrong):")
    widgets.image_grid(ex["x"], [example_caption(t, p, c, v, kind) for t, p, c, v in
                                 zip(ex["true"], ex["pred"], ex["confidence"], ex["variant"])], columns=10)

# ----------------------------------------------------------------------------- every method, this severity
st.subheader("Every method at this setting")
widgets.html_table(styled_table(table, titles), font_size=17)
st.caption("★ shaded: the highest accuracy and the lowest ECE, as shown (ties share the star). Epistemic uncertainty "
           "and the flag rate have no single best value: on damaged images higher is better, on clean ones lower, so "
           "read their curves below.")
for col, key in (("Accuracy", "accuracy"), ("ECE", "ece"), ("Mean epistemic", "epistemic"),
                 ("OOD-flag rate", "flag_rate")):
    st.caption(f"**{col}**: {HELP[key]}")

# ----------------------------------------------------------------------------- curves over severities
st.subheader(f"Over every {'angle' if rotation else 'severity'}")
n_point = int(curves.loc[curves["severity"] == severities(kind)[-1], "n"].iloc[0])
st.plotly_chart(severity_figure(curves, kind, current=severity, labels=titles), width="stretch", key="shift_curves")
st.caption("One line per method; the dotted vertical line is the setting chosen above. "
           + ("At 0° the images are the rotated set's unturned digits. " if rotation else
              f"Severity 0 is the {pred.n('test'):,} clean test digits. ")
           + "Dotted horizontal line: the roughly 5% of clean digits every method flags by design. "
           + f"Each point {'' if rotation else 'from severity 1 on '}is measured on about {n_point:,} images.")
view.share(params)
