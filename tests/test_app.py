"""AppTests: the app runs from its entry file on a quick build in a temporary artifact folder."""
import pytest
from streamlit.testing.v1 import AppTest

from pathlib import Path

ENTRY = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")


@pytest.fixture(scope="module")
def quick_env(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("UQCORE_ARTIFACTS", str(tmp_path_factory.mktemp("app_artifacts")))
    mp.setenv("UQCORE_QUICK", "1")
    yield
    mp.undo()


def test_first_start_builds_then_home_shows_status(quick_env):
    at = AppTest.from_file(ENTRY, default_timeout=300).run()
    assert not at.exception, at.exception
    assert at.title[0].value == "How sure is the model?"
    labels = [m.label for m in at.metric]
    assert "Test accuracy" in labels and "Training time" in labels
    assert at.get("plotly_chart"), "learning curves missing"
    assert any("Quick build" in i.value for i in at.info)
    # second run: the cache is warm, no training status box
    at2 = AppTest.from_file(ENTRY, default_timeout=60).run()
    assert not at2.exception
    assert not at2.status
