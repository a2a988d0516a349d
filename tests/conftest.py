"""Shared fixtures: tiny data and tiny models, so the suite stays fast."""
from __future__ import annotations

import numpy as np
import pytest

from uqcore.data import load_mnist
from uqcore.models import ModelConfig, TrainConfig


@pytest.fixture(scope="session")
def mnist():
    return load_mnist()


@pytest.fixture(scope="session")
def tiny_cfg():
    """5k training images, 3 epochs: about 2 s on 2 cores, ~88% test accuracy."""
    return TrainConfig(epochs=3, batch_size=128, n_train=5000, model=ModelConfig(dropout=0.1), seed=0)


@pytest.fixture(scope="session")
def tiny_model(mnist, tiny_cfg):
    from uqcore.training import train_mlp

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
