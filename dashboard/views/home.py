"""Home: where to start (one door per kind of visitor), and the state of the models."""
import streamlit as st

from dashboard.resources import get_bundle
from uqcore.plots import training_history

st.title("How sure is the model?")
st.write(
    "This app shows how neural networks that read handwritten digits (the MNIST data set) express "
    "**uncertainty**: when they are confident, when an image is genuinely ambiguous, and when an "
    "image is unlike anything they were trained on."
)

st.subheader("Where to start")
editors, teachers, analysts = st.columns(3)
with editors.container(border=True):
    st.markdown("**Check one image**  \nDraw or upload a digit and get a plain-language answer: a confident "
                "reading, an ambiguous one, or a warning that it does not look like a digit at all.")
    st.page_link("views/try_digit.py", label="Try a digit", icon=":material/edit:")
with teachers.container(border=True):
    st.markdown("**Teach calibration**  \nMove the temperature and watch the reliability diagram and the error "
                "numbers change live, on a projector; then damage the digits and watch confidence hold or fall.")
    st.page_link("views/calibration_lab.py", label="Calibration lab", icon=":material/thermostat:")
    st.page_link("views/shift_lab.py", label="Shift lab", icon=":material/tune:")
with analysts.container(border=True):
    st.markdown("**Dig into the models**  \nExact metrics for every method, the mistakes and mix-ups, and a map of "
                "every image coloured by uncertainty.")
    st.page_link("views/compare.py", label="Compare methods", icon=":material/bar_chart:")
    st.page_link("views/errors.py", label="Errors", icon=":material/error:")
    st.page_link("views/embedding_map.py", label="Embedding map", icon=":material/scatter_plot:")

bundle = get_bundle()
meta = bundle.mlp_meta
history = meta["history"]
st.subheader("The model")
c1, c2, c3 = st.columns(3)
c1.metric("Test accuracy", f"{meta['test_accuracy']:.2%}", help="Share of the 10,000 test digits it reads correctly.")
c2.metric("Training time", f"{meta['train_seconds']:.0f} s", help=f"{len(history)} passes over the training images "
          f"on {meta.get('threads', '?')} CPU threads.")
c3.metric("Training images", f"{meta['config']['n_train'] or 50_000:,}")
if bundle.config.quick:
    st.info("Quick build: a small model trained on a subset, for tests. Run `python -m uqcore train` for the full one.")
st.plotly_chart(training_history(history, title="Learning curves"), width="stretch")
