"""Active learning lab: which digits should a person label next? Uncertainty sampling against random picks.

The curves (``uqcore.acquisition.curves_stage``) are the build's last background stage; until they land
the page says so and the interactive mode works already. The interactive run lives in
``st.session_state["al_run"]``; the strategy in the URL.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import resources, widgets
from dashboard.logic.active import HELP, progress_text, query_captions, round_sentence, table_rows, verdict, view_specs
from uqcore.acquisition import ASK, STRATEGIES, STRATEGY_TITLES, start_session, summary, teach
from uqcore.plots import learning_curves

st.title("Active learning lab")
st.write(
    "Labelling digits by hand costs time. A model that **knows what it does not know** can ask for the labels "
    "that teach it most. A small network starts from a handful of labelled digits and, round after round, asks a "
    "person to label more: either digits picked **at random**, or the digits it is **least sure of**."
)

resources.get_bundle()  # the first start's progress, like every page
config = resources.active_config()
view = widgets.PageView("active_learning", "al", view_specs())

data = resources.active_data()
run = st.session_state.get("al_run")
if run is None or run["strategy"] != view["strategy"]:  # a first visit, "Start again" or another strategy
    run = st.session_state["al_run"] = start_session(data, config, view["strategy"])
    st.session_state["al_restarts"] = st.session_state.get("al_restarts", 0) + 1

# ----------------------------------------------------------------------------- the precomputed curves
st.subheader(f"What each strategy buys, from {config.start} to {config.budget:,} labels")
found = resources.active_curves()
if isinstance(found, tuple):
    arrays, meta = found
    sizes, n_seeds = arrays["sizes"], arrays["random/accuracy"].shape[0]
    best = summary(arrays)
    st.info(verdict(best, int(sizes[-1]), n_seeds), icon=":material/lightbulb:")
    st.plotly_chart(learning_curves(sizes, {STRATEGY_TITLES[s]: arrays[f"{s}/accuracy"] for s in STRATEGIES},
                                    yours=run["history"]), width="stretch", key="al_curves")
    st.caption(f"Each line is the mean of {n_seeds} runs (each run starts from other random digits); the shaded band "
               f"spans the lowest to the highest run. Every round adds {config.batch} labels and trains a fresh "
               f"network on {config.features} summary features of each image (principal components). Your "
               "run below is drawn in black.")
    with st.expander("Exact numbers", icon=":material/table:"):
        st.dataframe(pd.DataFrame(table_rows(best)), hide_index=True, width="stretch")
        st.caption(f"Test accuracy on {int(data.test_y.shape[0]):,} test digits at "
                   f"{int(sizes[-1]):,} labels. Computed in {meta['seconds']:.0f} s during the build.")
else:
    st.info("**The curves are still being computed** in the background (about a minute; it is the build's last "
            "step). Labelling below works already.", icon=":material/hourglass_top:")

    @st.fragment(run_every=2.0)
    def _wait() -> None:
        if found.finished:
            st.rerun(scope="app")
        if found.error:
            st.error(f"Computing the curves failed: {found.error}. Reload the page to try again.",
                     icon=":material/error:")
        else:
            st.caption(progress_text(found.stages))

    _wait()

# ----------------------------------------------------------------------------- the interactive mode
st.subheader("Your turn: label what the model asks about")
c_strategy, c_start = st.columns([3, 1], vertical_alignment="bottom")
strategy = c_strategy.selectbox("How the model chooses what to ask", STRATEGIES, format_func=STRATEGY_TITLES.get,
                                **view.widget("strategy"), help=HELP[view["strategy"]])
params = view.publish()
c_start.button("Start again", icon=":material/restart_alt:", width="stretch",
               on_click=lambda: st.session_state.pop("al_run", None))

st.markdown(round_sentence(run))
st.caption(f"{HELP[strategy]} The model starts from {config.start} digits picked at random.")
# one set of label boxes per round (and per restart): fresh boxes, never the last round's choices
KEY = f"al_label_{st.session_state.get('al_restarts', 0)}_{len(run['history'])}_{{}}"
images = data.images[run["queries"]]
widgets.image_grid(images, query_captions(len(images)), columns=ASK)
cols = st.columns(ASK)
for i, col in enumerate(cols):
    col.selectbox(f"Digit #{i + 1}", list(range(10)), index=None, placeholder="?", key=KEY.format(i),
                  label_visibility="collapsed")
labels = [st.session_state.get(KEY.format(i)) for i in range(ASK)]
missing = sum(v is None for v in labels)


def _fill() -> None:
    for i, v in enumerate(data.pool_y[run["queries"]].tolist()):
        st.session_state[KEY.format(i)] = int(v)


def _teach() -> None:
    given = [int(st.session_state.pop(KEY.format(i))) for i in range(ASK)]
    st.session_state["al_run"] = teach(data, config, st.session_state["al_run"], given)


c_fill, c_teach = st.columns(2)
c_fill.button("Fill in the dataset's labels for me", icon=":material/auto_fix_high:", width="stretch", on_click=_fill,
              help="For a quick demonstration: each box gets the label the dataset gives that digit.")
c_teach.button(f"Teach the model these {ASK}", type="primary", icon=":material/school:", width="stretch",
               disabled=bool(missing), on_click=_teach,
               help="Label all eight digits first." if missing else "Adds these eight digits and retrains "
                                                                     "(under a second).")
if missing:
    st.caption(f"Pick a digit under each picture ({missing} of {ASK} still to label), then teach the model.")
view.share(params)
