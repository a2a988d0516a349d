"""How it works: the methods in one line each, and the glossary in full."""
import streamlit as st

from dashboard import widgets
from dashboard.resources import get_bundle

st.title("How it works")
st.write("Small neural networks learned to read handwritten digits from 50,000 examples. The methods below turn "
         "their output into an answer **and** a measure of how sure it is. They differ in how they find out what "
         "the network does not know. The headline sentence reads the headline reader.")
for m in get_bundle().methods.values():
    st.markdown(f"- **{m.title}**: {m.description}")
st.header("Glossary")
widgets.glossary(full=True)
