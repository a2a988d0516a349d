"""The build: train (or load from the cache) everything the app and the CLI need, stage by stage.

``build(quick=False)`` returns a ``Bundle`` of trained parts. Each stage reports through
``progress(stage, done, total, message)`` so the CLI can show tqdm bars and the app ``st.status``.
A cached stage is a load (under a second); a missing, stale or corrupt one is rebuilt.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import torch

from .data import MNIST, load_mnist
from .models import MLP, ModelConfig, TrainConfig
from .store import Store
from .training import predict_logits, train_mlp

StageProgress = Callable[[str, int, int, str], None]


@dataclass(frozen=True)
class BuildConfig:
    """What the build trains. ``quick`` shrinks everything for smoke tests (well under a minute)."""

    quick: bool = False
    mlp: TrainConfig = field(
        default_factory=lambda: TrainConfig(epochs=20, batch_size=128, shift=2, model=ModelConfig(dropout=0.2))
    )

    def resolved(self) -> "BuildConfig":
        if not self.quick:
            return self
        return replace(self, mlp=replace(self.mlp, epochs=3, n_train=10000))


@dataclass
class Bundle:
    config: BuildConfig
    mlp: MLP
    mlp_meta: dict
    store: Store

    @property
    def data(self) -> MNIST:
        return load_mnist()


def _noop(stage: str, done: int, total: int, message: str) -> None:
    pass


def accuracy_of(model: torch.nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    return float((predict_logits(model, x).argmax(-1).numpy() == y).mean())


def mlp_stage(store: Store, cfg: TrainConfig, *, force: bool, progress: StageProgress) -> tuple[MLP, dict]:
    """Load the MLP from the cache or train it; the metadata holds history, accuracy and timing."""
    key = store.key("mlp", cfg.to_dict())
    cached = None if force else store.load_tensors(key)
    if cached is not None:
        state, meta = cached
        model = MLP(cfg.model)
        model.load_state_dict(state)
        progress("mlp", 1, 1, f"MLP loaded from cache ({meta['test_accuracy']:.2%} test accuracy)")
        return model.eval(), meta
    data = load_mnist()
    t0 = time.perf_counter()
    model, history = train_mlp(data.train, data.val, cfg, progress=lambda d, t, m: progress("mlp", d, t, m))
    seconds = time.perf_counter() - t0
    meta = {
        "config": cfg.to_dict(),
        "history": history,
        "train_seconds": seconds,
        "test_accuracy": accuracy_of(model, data.test.x, data.test.y),
        "val_accuracy": accuracy_of(model, data.val.x, data.val.y),
        "threads": torch.get_num_threads(),
    }
    store.save_tensors(key, model.state_dict(), meta)
    return model, store.metadata(key) or meta


def build(
    config: BuildConfig | None = None,
    *,
    store: Store | None = None,
    force: bool = False,
    progress: StageProgress | None = None,
) -> Bundle:
    config = (config or BuildConfig()).resolved()
    store = store or Store()
    progress = progress or _noop
    mlp, mlp_meta = mlp_stage(store, config.mlp, force=force, progress=progress)
    return Bundle(config=config, mlp=mlp, mlp_meta=mlp_meta, store=store)


def is_built(config: BuildConfig | None = None, *, store: Store | None = None) -> bool:
    """True when every artifact of the build is present (metadata written last, so complete)."""
    config = (config or BuildConfig()).resolved()
    store = store or Store()
    return store.metadata(store.key("mlp", config.mlp.to_dict())) is not None
