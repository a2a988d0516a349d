"""The only module with Streamlit caching: models are shared resources, arrays are cached data.

``UQCORE_QUICK=1`` makes the app use the quick build (tests, smoke runs); ``UQCORE_ARTIFACTS``
moves the cache folder.
"""
from __future__ import annotations

import os

import streamlit as st

from uqcore.build import BuildConfig, Bundle, build, is_built


def build_config() -> BuildConfig:
    return BuildConfig(quick=os.environ.get("UQCORE_QUICK", "") not in ("", "0"))


def ensure_built() -> None:
    """On first start (empty cache) build everything inside an ``st.status`` with a bar per stage."""
    config = build_config()
    if is_built(config):
        return
    with st.status("First start: training the models (about 3 minutes on 2 cores)…", expanded=True) as status:
        bars: dict[str, object] = {}

        def progress(stage: str, done: int, total: int, message: str) -> None:
            if stage not in bars:
                bars[stage] = st.progress(0.0, text=stage)
            bars[stage].progress(min(done / max(total, 1), 1.0), text=message)

        build(config, progress=progress)
        status.update(label="Models trained and cached.", state="complete", expanded=False)
    get_bundle.clear()


@st.cache_resource(show_spinner="Loading models…")
def get_bundle() -> Bundle:
    return build(build_config())
