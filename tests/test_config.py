"""The repository's `.streamlit/config.toml` as `streamlit run dashboard/app.py` reads it from the repo root."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READ = """
import json
from streamlit import config
config.get_config_options(force_reparse=True)
keys = ("server.address", "server.maxUploadSize", "server.enableXsrfProtection", "server.fileWatcherType",
        "client.toolbarMode", "browser.gatherUsageStats")
print(json.dumps({k: config.get_option(k) for k in keys}))
"""


def test_the_effective_config_is_the_safe_one():
    """Read by Streamlit itself in a fresh process started in the repo root, as `streamlit run` would."""
    out = subprocess.run([sys.executable, "-c", READ], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got == {"server.address": "127.0.0.1",  # this machine only
                   "server.maxUploadSize": 20,  # MB
                   "server.enableXsrfProtection": True,
                   "server.fileWatcherType": "none",  # no per-run walk over every imported module
                   "client.toolbarMode": "viewer",  # no Deploy button
                   "browser.gatherUsageStats": False}
