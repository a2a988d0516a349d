"""Shared fixtures: tiny data and tiny models, so the suite stays fast."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from uqcore.data import load_mnist
from uqcore.methods.nets import ModelConfig, TrainConfig


@pytest.fixture(scope="session")
def mnist():
    return load_mnist()


@pytest.fixture(scope="session")
def tiny_cfg():
    """5k training images, 3 epochs: about 2 s on 2 cores, ~88% test accuracy."""
    return TrainConfig(epochs=3, batch_size=128, n_train=5000, model=ModelConfig(dropout=0.1), seed=0)


@pytest.fixture(scope="session")
def tiny_model(mnist, tiny_cfg):
    from uqcore.methods.training import train_mlp

    model, _ = train_mlp(mnist.train, mnist.val.subset(1000), tiny_cfg)
    return model


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def quick_app_env(tmp_path_factory):
    """UQCORE_QUICK=1 and a fresh UQCORE_ARTIFACTS folder for the whole session: the quick build is
    made once (by the first test that needs it) and shared by every app and browser test."""
    mp = pytest.MonkeyPatch()
    folder = tmp_path_factory.mktemp("app_artifacts")
    mp.setenv("UQCORE_ARTIFACTS", str(folder))
    mp.setenv("UQCORE_QUICK", "1")
    yield folder
    mp.undo()


ENTRY = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")


def grid_captions(at: AppTest) -> list[str]:
    """The captions of every picture in the page's image grids (``dashboard.widgets.image_grid``), in order."""
    import html
    import re

    return [html.unescape(c) for el in at.get("html") if 'class="uq-grid"' in el.proto.body
            for c in re.findall(r"<figcaption>(.*?)</figcaption>", el.proto.body)]


def open_page(page: str | None = None, *, state: dict | None = None, query: dict | None = None,
              timeout: float = 300) -> AppTest:
    """Run the app (optionally on ``page``) with session ``state`` and URL ``query`` set first; no exception."""
    at = AppTest.from_file(ENTRY, default_timeout=timeout)
    for k, v in (state or {}).items():
        at.session_state[k] = v
    for k, v in (query or {}).items():
        at.query_params[k] = v
    if page:
        at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="session")
def quick_bundle(quick_app_env):
    """The quick build the app tests run on. The first app run builds it (inside st.status) when no
    earlier test did, so the first-start path is what creates it."""
    from uqcore.build import BuildConfig, build
    from uqcore.store import Store

    open_page(timeout=600)
    wait_for_first_start(quick_app_env)
    return build(BuildConfig(quick=True), store=Store(quick_app_env))


def wait_for_first_start(folder, timeout: float = 600, name: str = "build") -> None:
    """Wait for the app's background build of ``folder`` (if one is running) to land (``name``: "active" for the
    active-learning lab's curves)."""
    from dashboard import builder
    from uqcore.store import Store

    runner = builder.runner_of(Store(folder).root, name)
    if runner is not None:
        assert runner.wait(timeout), "the first build did not finish"
        assert runner.error is None, runner.error
