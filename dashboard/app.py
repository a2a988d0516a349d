"""Entry point: ``streamlit run dashboard/app.py``."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run dashboard/app.py` from a fresh clone, no install step
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import resources  # noqa: E402

st.set_page_config(page_title="Uncertainty explorer", page_icon="🔢", layout="wide")

VIEWS = Path(__file__).parent / "views"
pages = {
    "Start": [st.Page(VIEWS / "home.py", title="Home", icon="🏠", default=True)],
}
nav = st.navigation(pages)
resources.ensure_built()
nav.run()
