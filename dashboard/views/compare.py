"""Compare methods: metrics on the test split, OOD detection, selective prediction, the uncertainty split.
The chosen score, sets, coverage and method live in the URL."""
import numpy as np
import pandas as pd
import streamlit as st

from dashboard import resources, widgets
from dashboard.logic import view as urlview
from dashboard.logic.compare import (OOD_PADDING, STAR_NOTE, TABLE_FONT, VIEWS, column_notes, metrics_csv,
                                    metrics_table, HELD_OUT_NOTE, held_out_mark, sets_table, your_row)
from dashboard.resources import conformal_curves, evaluation, get_bundle, risk_curves
from uqcore.file_path import no_digit_share, ood_families, score_values
from uqcore.methods import DEFAULT_METHOD
from uqcore.metrics.conformal import SCORE_TITLES
from uqcore.plots import coverage_curves, ood_histograms, risk_coverage_curves, uncertainty_scatter
from uqcore.metrics.selective import accuracy_at_coverage
from uqcore.metrics.uncertainty import spearman

st.title("Compare methods")
bundle = get_bundle()
result = evaluation()
methods = bundle.methods
titles = {name: m.title for name, m in methods.items()}
fp = bundle.file_path
fp_summary = result["file_path"]
hist_scores = {"familiarity": "Familiarity (decides the headline)", **titles}
found = resources.yours()  # an analyst's file, loaded on Your predictions: also offered for the uncertainty split
split_options = [*methods, *([] if found is None else [found[0]])]
view = widgets.PageView("compare", "cmp", (
    urlview.choice("score", hist_scores, "familiarity"), urlview.choice("images", VIEWS, "png"),
    urlview.subset("sets", sorted({f for v in VIEWS for f in ood_families(fp, v)}), ["letters", "doodles", "scrawls"]),
    urlview.number("coverage", 0.95, 0.5, 1.0, digits=2),
    urlview.choice("method", split_options, DEFAULT_METHOD if DEFAULT_METHOD in methods else next(iter(methods))),
    urlview.choice("conformal", SCORE_TITLES, "raps", what="set score")))
st.write(f"Every number below is computed on the {result['n_test']:,} MNIST test digits, which no method saw "
         "during training. " + STAR_NOTE)

# ------------------------------------------------------------------ metrics table
# Rendered as HTML, not st.dataframe, so the best value per column can be shaded and read from afar.
for part in ("test", "ood"):
    widgets.html_table(metrics_table(result, titles, part), font_size=TABLE_FONT,
                       padding=OOD_PADDING if part == "ood" else "6px 10px")
for line in column_notes({titles[n]: methods[n].ood_score_name.replace("_", " ") for n in methods}):
    st.caption(line)
if found is not None:
    mine, ext = found
    yours = resources.external_summary(ext, ext.digest)
    st.markdown(f"**Your predictions** ({ext.source}), on all {ext.n:,} of its rows: other rows than the test "
                "digits, so not ranked against the methods above.")
    st.dataframe(pd.DataFrame({"Your predictions": your_row(yours["metrics"])}).T, width="stretch")
    titles = {**titles, mine: "Your predictions (on its own rows)"}  # for the abstention cards below
st.download_button("Download both tables (CSV, full precision)", metrics_csv(result, titles), "compare-methods.csv",
                   "text/csv", icon=":material/download:")

# ------------------------------------------------------------------ OOD score histograms
st.subheader("How well each score spots unusual images")
st.write("Each method has its own score for how unusual an image is; the headline uses one more, the "
         "**familiarity** score (how far the image is from the digits the model learned). A good score puts the "
         "test digits (blue) on the left and everything else on the right of its threshold.")
score_label = {"familiarity": "familiarity (headline)", **{n: f"{n} ({m.ood_score_name})" for n, m in methods.items()}}
h_left, h_right = st.columns([2, 1])
h_choice = h_left.selectbox("Score", list(hist_scores), format_func=hist_scores.get, **view.widget("score"))
h_view = h_right.radio("Images", list(VIEWS), horizontal=True, format_func=VIEWS.get, **view.widget("images"),
                       help="Uploaded files go through the same preprocessing as a user's picture.")
ood_fams = ood_families(fp, h_view)
view.set("sets", [f for f in view["sets"] if f in ood_fams])
shown = st.multiselect("Sets", ood_fams, **view.widget("sets"))
h_threshold = fp_summary["threshold"] if h_choice == "familiarity" else methods[h_choice].threshold_
h_band = fp_summary.get("band") if h_choice == "familiarity" else None  # the headline's band: unsure -> unfamiliar
h_sets = {f: score_values(fp, f, h_view, h_choice) for f in shown}
st.plotly_chart(ood_histograms(score_values(fp, "test", h_view, h_choice), h_sets, threshold=h_threshold,
                               band=h_band), width="stretch")
summary_rows = {}
for f in shown:
    m = fp_summary["scores"][score_label[h_choice]][f][h_view]
    summary_rows[f] = {"AUROC": f"{m['auroc']:.3f}", "FPR at 95% TPR": f"{m['fpr95']:.1%}",
                       "held out": held_out_mark(f, fp_summary),
                       "no digit found": f"{no_digit_share(fp, f, h_view):.0%}"}
if summary_rows:
    st.dataframe(pd.DataFrame(summary_rows).T, width="stretch")
st.caption("AUROC: 1 = the score separates the set from test digits perfectly, 0.5 = chance. FPR at 95% TPR: the "
           f"share of test digits wrongly flagged when 95% of the set is caught. {HELD_OUT_NOTE} 'No digit found' "
           "images count as caught (they never get a reading) and sit in the last bin.")

# ------------------------------------------------------------------ selective prediction
st.subheader("Abstaining on the hardest images")
st.write("A method that knows when it is unsure can hand its least certain images to a person. Move the slider to "
         "choose how many images each method must answer; the rest are set aside, least certain first "
         "(by total uncertainty).")
curves = risk_curves() if found is None else {**risk_curves(), mine: yours["curve"]}
short = {**{n: m.short for n, m in methods.items()}, **({} if found is None else {mine: "yours (its rows)"})}
coverage = st.slider("Share of test images the methods answer", min_value=0.50, max_value=1.00,
                     step=0.01, format="%.2f", **view.widget("coverage"),
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
st.plotly_chart(risk_coverage_curves({short[n]: (c["coverage"], c["risk"]) for n, c in curves.items()},
                                     marker=coverage), width="stretch")

# ------------------------------------------------------------------ conformal prediction sets
st.subheader("Answers as guaranteed sets")
st.write("Instead of one digit, a method can name a **set** of digits that holds the right one at least "
         "1 − α of the time (split conformal prediction, calibrated on the 10,000 validation digits). Try a digit "
         "shows the regularised adaptive sets at α = 0.05. Left: the promise kept on the test digits; right: "
         "what it costs in digits per set.")
c_score = st.radio("Set rule", list(SCORE_TITLES), format_func=SCORE_TITLES.get, horizontal=True,
                   **view.widget("conformal"), help="Threshold (LAC): exact coverage, but a set can be empty. "
                   "Adaptive (APS) and regularised (RAPS): never empty, so they hold the right digit at least as "
                   "often as the top guess is right (over-covering when 1 − α is below the accuracy).")
cc = conformal_curves(c_score)
st.plotly_chart(coverage_curves({methods[n].short: (c["alpha"], c["coverage"], c["mean_size"])
                                 for n, c in cc.items() if n in methods}), width="stretch")
st.dataframe(sets_table(result, titles), width="stretch")
st.caption("At α = 0.05 with RAPS (the sets readers see). The promise holds only for images like the "
           "calibration digits: on rotated or damaged digits the sets grow but miss far more often.")

# ------------------------------------------------------------------ aleatoric vs epistemic
st.subheader("Is the uncertainty split clean?")
choice = st.selectbox("Method", split_options, format_func=titles.get, **view.widget("method"),
                      help="Which method's uncertainty split to plot.")
params = view.publish()
is_file = found is not None and choice == mine  # the file's own rows; epistemic only from its member probabilities
parts = ("aleatoric", "epistemic")
split = yours["split"] if is_file else {k: bundle.predictions.get("test", choice, k) for k in parts}
ale, epi, correct = split["aleatoric"], split["epistemic"], curves[choice]["correct"]
rows_are = "rows of your file" if is_file else "test images"
rho = spearman(ale, epi)
idx = np.sort(np.random.default_rng(0).choice(len(ale), size=min(2000, len(ale)), replace=False))
st.plotly_chart(uncertainty_scatter(ale[idx], epi[idx], correct[idx]), width="stretch")
if np.isnan(rho):
    st.info(("Your file has no member probabilities (`member_probs`)" if is_file else
             f"{titles[choice]} has a single prediction per image") + ", so its epistemic part is always zero: it "
            "cannot tell an unclear image from an unfamiliar one.")
else:
    st.metric(f"Spearman rank correlation (all {rows_are})", f"{rho:.3f}",
              help="1 = the two parts rise and fall together; 0 = unrelated.")
    together = ("Here the two parts rise and fall together: images the model finds unclear are mostly the ones "
                "it is unfamiliar with." if rho >= 0.5 else "Here the two parts are only loosely related.")
    st.write(together + " Mucsányi et al. (2024) found that across many methods the aleatoric and epistemic "
             "estimates are often highly correlated, so read the split as a hint, not a clean separation.")
st.caption(f"{len(idx):,} of {len(ale):,} {rows_are} shown (a fixed random sample); wrong readings are orange "
           "crosses.")
view.share(params)
