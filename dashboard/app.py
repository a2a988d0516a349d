"""Entry point: ``streamlit run dashboard/app.py``."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run dashboard/app.py` from a fresh clone, no install step
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import resources, widgets  # noqa: E402

st.set_page_config(page_title="Uncertainty explorer", page_icon="🔢", layout="wide")

VIEWS = Path(__file__).parent / "views"
explore = [st.Page(VIEWS / "try_digit.py", title="Try a digit", icon=":material/edit:")]
if (VIEWS / "calibration_lab.py").exists():  # written separately; the app runs without it
    explore.append(st.Page(VIEWS / "calibration_lab.py", title="Calibration lab", icon=":material/thermostat:"))
pages = {
    "Start": [st.Page(VIEWS / "home.py", title="Home", icon=":material/home:", default=True)],
    "Explore": explore,
    "Compare": [st.Page(VIEWS / "compare.py", title="Compare methods", icon=":material/bar_chart:")],
    "About": [st.Page(VIEWS / "about.py", title="How it works", icon=":material/menu_book:")],
}
nav = st.navigation(pages)
with st.sidebar.popover("Glossary: what the words mean", icon=":material/menu_book:", width="stretch"):
    widgets.glossary()
resources.ensure_built()
nav.run()
