"""Entry point: ``streamlit run dashboard/app.py``."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run dashboard/app.py` from a fresh clone, no install step
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import widgets  # noqa: E402

st.set_page_config(page_title="Uncertainty explorer", page_icon="🔢", layout="wide")

VIEWS = Path(__file__).parent / "views"


def page(name: str, title: str, icon: str, **kw) -> st.Page:
    return st.Page(VIEWS / f"{name}.py", title=title, icon=f":material/{icon}:", **kw)


pages = {
    "Start": [page("home", "Home", "home", default=True)],
    "Explore": [page("try_digit", "Try a digit", "edit"), page("calibration_lab", "Calibration lab", "thermostat"),
                page("embedding_map", "Embedding map", "scatter_plot"), page("errors", "Errors", "error")],
    "Compare": [page("compare", "Compare methods", "bar_chart"), page("shift_lab", "Shift lab", "tune"),
                page("active_learning", "Active learning lab", "school"),
                page("your_predictions", "Your predictions", "upload_file")],
    "About": [page("about", "How it works", "menu_book")],
}
nav = st.navigation(pages)
with st.sidebar.popover("Glossary: what the words mean", icon=":material/menu_book:", width="stretch"):
    widgets.glossary()
nav.run()  # each page asks for the build (resources.get_bundle) after its title; "Your predictions" never does
