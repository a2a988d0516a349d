"""Compare methods: metrics on the test split, OOD detection, selective prediction, the uncertainty split."""
import numpy as np
import pandas as pd
import streamlit as st

from dashboard import widgets
from dashboard.resources import evaluation, get_bundle, risk_curves
from uqcore.plots import risk_coverage_curves, uncertainty_scatter
from uqcore.selective import accuracy_at_coverage
from uqcore.uncertainty import spearman

LOWER_IS_BETTER = {"NLL", "Brier", "ECE", "AURC"}
COLUMN_HELP = {
    "Accuracy": "Share of the test digits read correctly. Higher is better.",
    "NLL": "Negative log-likelihood: how surprised the model is by the true digit, on average (nats). Punishes "
           "confident mistakes hard. Lower is better.",
    "Brier": "Squared distance between the predicted probabilities and the true digit (0 to 2). Lower is better.",
    "ECE": "Expected calibration error: average gap between confidence and accuracy (15 bins). Lower is better.",
    "AURC": "Area under the risk-coverage curve: the average error rate when the model may abstain on its least "
            "certain images first. Lower is better.",
}

st.title("Compare methods")
bundle = get_bundle()
result = evaluation()
methods = bundle.methods
titles = {name: m.title for name, m in methods.items()}
st.write(f"Every number below is computed on the {result['n_test']:,} MNIST test digits, which no method saw "
         "during training. The best value in each column is marked ★.")

# ------------------------------------------------------------------ metrics table
ood_sets = list(next(iter(result["methods"].values()))["ood"])
rows = {}
for name, r in result["methods"].items():
    row = {"Accuracy": r["accuracy"], "NLL": r["nll"], "Brier": r["brier"], "ECE": r["ece"], "AURC": r["aurc"]}
    row |= {f"OOD AUROC: {s}": r["ood"][s]["auroc"] for s in ood_sets}
    rows[titles[name]] = row
table = pd.DataFrame(rows).T
best = {c: (table[c].idxmin() if c in LOWER_IS_BETTER else table[c].idxmax()) for c in table.columns}


def fmt(col):
    pct = col == "Accuracy"
    return lambda v: (f"{v:.2%}" if pct else f"{v:.4f}") + (" ★" if v == table.loc[best[col], col] else "")


styler = table.style.format({c: fmt(c) for c in table.columns})
for c in table.columns:
    styler = (styler.highlight_min if c in LOWER_IS_BETTER else styler.highlight_max)(
        subset=[c], props="background-color: #cfe3f3; font-weight: bold")
# Rendered as HTML, not st.dataframe, so the best value per column can be shaded and read from afar.
widgets.html_table(styler)
scores = {titles[n]: methods[n].ood_score_name.replace("_", " ") for n in methods}
lines = [f"**{c}**: {h}" for c, h in COLUMN_HELP.items()]
lines.append("**OOD AUROC: <set>**: how well the method's own unusualness score separates that set's images "
             "(letters, noise, photos, blank images) from test digits: 1 = perfectly, 0.5 = chance. Higher is "
             "better. Scores: " + "; ".join(f"{t}: {s}" for t, s in scores.items()) + ".")
for line in lines:
    st.caption(line)

# ------------------------------------------------------------------ selective prediction
st.subheader("Abstaining on the hardest images")
st.write("A method that knows when it is unsure can hand its least certain images to a person. Move the slider to "
         "choose how many images each method must answer; the rest are set aside, least certain first "
         "(by total uncertainty).")
curves = risk_curves()
coverage = st.slider("Share of test images the methods answer", min_value=0.50, max_value=1.00, value=0.95,
                     step=0.01, format="%.2f", key="coverage",
                     help="1.00 = answer everything. 0.95 = set aside the 5% the method is least sure about.")
readout = {}
for name, c in curves.items():
    readout[name] = accuracy_at_coverage(c["total"], c["correct"], coverage)
cols = st.columns(3)
for i, (name, acc) in enumerate(readout.items()):
    with cols[i % 3].container(border=True):
        st.markdown(f"**{titles[name]}**  \nabstain on {1 - coverage:.0%} → accuracy **{acc:.2%}**",
                    help=f"Accuracy on the {coverage:.0%} of test images this method is surest about "
                         f"(on all images: {curves[name]['correct'].mean():.2%}).")
st.plotly_chart(risk_coverage_curves({titles[n]: (c["coverage"], c["risk"]) for n, c in curves.items()},
                                     marker=coverage), width="stretch")

# ------------------------------------------------------------------ aleatoric vs epistemic
st.subheader("Is the uncertainty split clean?")
choice = st.selectbox("Method", list(methods), format_func=titles.get, index=list(methods).index("ensemble"),
                      help="Which method's uncertainty split to plot.")
pred = bundle.predictions
ale, epi = pred[f"test/{choice}/aleatoric"], pred[f"test/{choice}/epistemic"]
correct = curves[choice]["correct"]
rho = spearman(ale, epi)
idx = np.sort(np.random.default_rng(0).choice(len(ale), size=min(2000, len(ale)), replace=False))
st.plotly_chart(uncertainty_scatter(ale[idx], epi[idx], correct[idx]), width="stretch")
if np.isnan(rho):
    st.info(f"{titles[choice]} has a single prediction per image, so its epistemic part is always zero: it cannot "
            "tell an unclear image from an unfamiliar one.")
else:
    st.metric("Spearman rank correlation (all test images)", f"{rho:.3f}",
              help="1 = the two parts rise and fall together; 0 = unrelated.")
    together = ("Here the two parts rise and fall together: images the model finds unclear are mostly the ones "
                "it is unfamiliar with." if rho >= 0.5 else "Here the two parts are only loosely related.")
    st.write(together + " Mucsányi et al. (2024) found that across many methods the aleatoric and epistemic "
             "estimates are often highly correlated, so read the split as a hint, not a clean separation.")
st.caption(f"{len(idx):,} of {len(ale):,} test images shown (a fixed random sample); wrong readings are orange crosses.")
