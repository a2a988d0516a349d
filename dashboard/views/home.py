"""Home: what this is, and the state of the models."""
import streamlit as st

from dashboard.resources import get_bundle
from uqcore.plots import training_history

st.title("How sure is the model?")
st.write(
    "This app shows how neural networks that read handwritten digits (the MNIST data set) express "
    "**uncertainty**: when they are confident, when an image is genuinely ambiguous, and when an "
    "image is unlike anything they were trained on."
)

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
st.plotly_chart(training_history(history, title="Learning curves"), use_container_width=True)
