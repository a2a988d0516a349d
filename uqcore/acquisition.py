"""Active learning by uncertainty: which digits to label next, and how much each strategy buys.

From ``ActiveConfig.start`` labelled training digits, each round a small network is trained from scratch on
the labelled digits, scored on the test digits, and asks for the ``batch`` pool digits a strategy ranks first:

- ``random``: any unlabelled digit (the baseline);
- ``entropy``: the highest predictive entropy H[mean_t p_t] (least sure);
- ``margin``: the smallest gap between the top two digits of mean_t p_t;
- ``bald``: the highest mutual information H[mean_t p_t] - mean_t H[p_t] (Houlsby et al. 2011; Gal et al. 2017):
  dropout samples that disagree.

All three uncertainty strategies read the same ``mc_samples`` dropout passes (MC dropout, as Gal et al. 2017 do
for every acquisition function), so they differ only in what they read from them.

The network: inputs are the pool's first ``features`` principal components (fitted on the unlabelled pool:
unlabelled digits are free in active learning), one hidden layer with dropout, full-batch Adam for ``steps``
steps. Written as plain tensors with a private ``torch.Generator`` for its initial weights and its dropout
masks, so a run is reproducible in any thread (the app's interactive mode runs on the server's threads).

``curves_stage`` computes the curves (mean and band over seeds) once, after the main build, and caches them;
``start_session`` / ``teach`` are the page's interactive mode: a user labels the next 8 digits and the network
retrains (well under a second).
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, replace
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from uqcore.metrics.uncertainty import decompose

STRATEGIES = ("random", "entropy", "margin", "bald")
STRATEGY_TITLES = {
    "random": "Random",
    "entropy": "Entropy (least sure)",
    "margin": "Margin (top two closest)",
    "bald": "BALD (dropout samples disagree)",
}
ASK = 8  # digits the interactive mode asks about per round

Progress = Callable[[str, int, int, str], None]


@dataclass(frozen=True)
class ActiveConfig:
    start: int = 100  # labelled digits at the start (chosen at random)
    batch: int = 100  # digits acquired per round of the precomputed curves
    budget: int = 1000  # labels at the end of a curve
    pool: int = 10000  # unlabelled training digits the strategies choose from
    seeds: tuple[int, ...] = (0, 1, 2)
    features: int = 64  # principal components of the pool
    hidden: int = 128
    dropout: float = 0.25
    steps: int = 150  # full-batch Adam steps per training
    lr: float = 5e-3
    weight_decay: float = 1e-4
    mc_samples: int = 10
    quick: bool = False

    def resolved(self) -> "ActiveConfig":
        if not self.quick:
            return self
        return replace(self, start=50, batch=50, budget=200, pool=2000, seeds=(0,), steps=60, mc_samples=5)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["seeds"] = list(self.seeds)
        return d

    @property
    def sizes(self) -> list[int]:
        return list(range(self.start, self.budget + 1, self.batch))


@dataclass
class ActiveData:
    """The pool (PCA features, labels, indices into the training split) and the test digits, in features."""

    pool_x: torch.Tensor
    pool_y: torch.Tensor
    pool_index: np.ndarray  # rows of the training split
    test_x: torch.Tensor
    test_y: torch.Tensor
    images: np.ndarray  # the pool's images (n, 784) uint8: what the interactive mode shows


def prepare(config: ActiveConfig, train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray,
            test_y: np.ndarray) -> ActiveData:
    """Choose the pool (seeded), fit PCA on its images, project pool and test digits."""
    from sklearn.decomposition import PCA

    if config.pool > len(train_y):
        raise ValueError(f"the pool ({config.pool}) is larger than the training split ({len(train_y)})")
    if config.budget > config.pool:
        raise ValueError(f"the budget ({config.budget}) is larger than the pool ({config.pool})")
    index = np.sort(np.random.default_rng(12345).choice(len(train_y), size=config.pool, replace=False))
    pca = PCA(n_components=config.features, svd_solver="randomized", random_state=0).fit(train_x[index])
    scale = float(np.sqrt(pca.explained_variance_[0]))  # first component ~ unit spread; the rest keep their ratio

    def project(x):
        return torch.as_tensor((pca.transform(x) / scale).astype(np.float32))

    images = np.round(np.asarray(train_x[index]) * 255).astype(np.uint8)  # what the interactive mode shows
    return ActiveData(project(train_x[index]), torch.as_tensor(train_y[index], dtype=torch.long), index,
                      project(test_x), torch.as_tensor(np.asarray(test_y), dtype=torch.long), images)


# ----------------------------------------------------------------------------- the network
def init_params(d: int, hidden: int, n_classes: int, gen: torch.Generator) -> list[torch.Tensor]:
    """torch.nn.Linear's default initialisation (uniform in +-1/sqrt(fan_in)), from ``gen``."""
    def uniform(shape, fan_in):
        bound = 1.0 / math.sqrt(fan_in)
        return ((torch.rand(shape, generator=gen) * 2 - 1) * bound).requires_grad_()

    return [uniform((d, hidden), d), uniform((hidden,), d), uniform((hidden, n_classes), hidden),
            uniform((n_classes,), hidden)]


def forward(params: list[torch.Tensor], x: torch.Tensor, dropout: float = 0.0,
            gen: torch.Generator | None = None) -> torch.Tensor:
    """Logits; with ``dropout`` > 0 a fresh inverted-dropout mask on the hidden layer, drawn from ``gen``."""
    w1, b1, w2, b2 = params
    h = torch.relu(x @ w1 + b1)
    if dropout > 0:
        keep = torch.rand(h.shape, generator=gen) >= dropout
        h = h * keep / (1.0 - dropout)
    return h @ w2 + b2


def train(x: torch.Tensor, y: torch.Tensor, config: ActiveConfig, seed: int, n_classes: int = 10) -> list[torch.Tensor]:
    """A fresh network trained on (x, y): full-batch Adam, ``config.steps`` steps, dropout on."""
    gen = torch.Generator().manual_seed(int(seed))
    params = init_params(x.shape[1], config.hidden, n_classes, gen)
    opt = torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    for _ in range(config.steps):
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(forward(params, x, config.dropout, gen), y).backward()
        opt.step()
    return [p.detach() for p in params]


@torch.no_grad()
def accuracy(params: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> float:
    return float((forward(params, x).argmax(1) == y).double().mean())


@torch.no_grad()
def mc_probs(params: list[torch.Tensor], x: torch.Tensor, config: ActiveConfig, gen: torch.Generator) -> torch.Tensor:
    """(mc_samples, n, C) softmax outputs with dropout on."""
    return torch.stack([torch.softmax(forward(params, x, config.dropout, gen), 1) for _ in range(config.mc_samples)])


def scores(strategy: str, samples: torch.Tensor | None, n: int, gen: torch.Generator) -> torch.Tensor:
    """Higher = asked first. ``samples``: (S, n, C) dropout outputs (unused by ``random``)."""
    if strategy == "random":
        return torch.rand(n, generator=gen)
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    if strategy == "margin":
        top2 = samples.mean(0).topk(2, dim=1).values
        return -(top2[:, 0] - top2[:, 1])
    parts = decompose(samples.numpy())  # total = H[mean_t p_t], epistemic = the mutual information
    return torch.as_tensor(parts.total if strategy == "entropy" else parts.epistemic)


def acquire(params, data: ActiveData, labelled: np.ndarray, strategy: str, k: int, config: ActiveConfig,
            gen: torch.Generator) -> np.ndarray:
    """The ``k`` unlabelled pool positions ``strategy`` asks about next (best first)."""
    n = data.pool_x.shape[0]
    samples = None if strategy == "random" else mc_probs(params, data.pool_x, config, gen)
    s = scores(strategy, samples, n, gen).double()
    s[torch.as_tensor(np.asarray(labelled, dtype=np.int64))] = -math.inf
    return s.topk(k).indices.numpy()


# ----------------------------------------------------------------------------- the precomputed curves
def curves(data: ActiveData, config: ActiveConfig, progress: Progress | None = None) -> dict[str, np.ndarray]:
    """{"sizes": (P,), "<strategy>/accuracy": (n_seeds, P)}: test accuracy after each round, per seed.
    Within a seed every strategy starts from the same random digits and the same first network."""
    sizes = config.sizes
    total, done = len(config.seeds) * (1 + len(STRATEGIES) * (len(sizes) - 1)), 0
    out = {f"{s}/accuracy": np.zeros((len(config.seeds), len(sizes))) for s in STRATEGIES}
    for si, seed in enumerate(config.seeds):
        start = np.random.default_rng(seed).choice(data.pool_x.shape[0], size=config.start, replace=False)
        first = train(data.pool_x[start], data.pool_y[start], config, seed=seed * 1000)
        first_acc = accuracy(first, data.test_x, data.test_y)
        done += 1
        for strategy in STRATEGIES:
            gen = torch.Generator().manual_seed(seed * 7919 + STRATEGIES.index(strategy))
            labelled, params = start, first
            out[f"{strategy}/accuracy"][si, 0] = first_acc
            for r in range(1, len(sizes)):
                new = acquire(params, data, labelled, strategy, config.batch, config, gen)
                labelled = np.concatenate([labelled, new])
                params = train(data.pool_x[labelled], data.pool_y[labelled], config, seed=seed * 1000 + r)
                out[f"{strategy}/accuracy"][si, r] = accuracy(params, data.test_x, data.test_y)
                done += 1
                if progress:
                    progress("active", done, total, f"active learning: seed {seed}, {strategy}, {len(labelled)} "
                                                    "labels")
    out["sizes"] = np.asarray(sizes)
    return out


def summary(arrays: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Per strategy at the last size: mean, min and max test accuracy over seeds."""
    last = {s: arrays[f"{s}/accuracy"][:, -1] for s in STRATEGIES if f"{s}/accuracy" in arrays}
    return {s: {"mean": float(a.mean()), "min": float(a.min()), "max": float(a.max())} for s, a in last.items()}


def stage_key(store, config: ActiveConfig) -> str:
    return store.key("active", {**config.to_dict(), "version": 1})


def load_curves(store, config: ActiveConfig) -> tuple[dict[str, np.ndarray], dict] | None:
    """The cached curves, or None while they are missing (being computed, or never built)."""
    return store.load_arrays(stage_key(store, config.resolved()))


def load_data(config: ActiveConfig) -> ActiveData:
    from uqcore.data import load_mnist

    mnist = load_mnist()
    return prepare(config.resolved(), mnist.train.x, mnist.train.y, mnist.test.x, mnist.test.y)


def curves_stage(store, config: ActiveConfig | None = None, *, force: bool = False,
                 progress: Progress | None = None) -> tuple[dict[str, np.ndarray], dict]:
    """The curves from the cache, or computed (about a minute on 2 cores) and saved atomically."""
    config = (config or ActiveConfig()).resolved()
    key = stage_key(store, config)
    cached = None if force else store.load_arrays(key)
    if cached is not None:
        if progress:
            progress("active", 1, 1, "active learning: loaded from cache")
        return cached
    t0 = time.perf_counter()
    if progress:
        progress("active", 0, 1, "active learning: preparing the pool")
    arrays = curves(load_data(config), config, progress)
    meta = {"config": config.to_dict(), "seconds": time.perf_counter() - t0, "summary": summary(arrays)}
    store.save_arrays(key, arrays, meta)
    return arrays, meta


# ----------------------------------------------------------------------------- the interactive mode
def start_session(data: ActiveData, config: ActiveConfig, strategy: str, seed: int = 0) -> dict:
    """A fresh interactive run: ``config.start`` random labelled digits (their dataset labels), the first
    network's accuracy, and the ``ASK`` digits ``strategy`` asks about next. Plain lists (session state)."""
    labelled = np.random.default_rng(seed).choice(data.pool_x.shape[0], size=config.start, replace=False)
    session = {"strategy": strategy, "seed": int(seed), "labelled": labelled.tolist(),
               "labels": data.pool_y[labelled].tolist(), "history": [], "queries": []}
    return _retrain(data, config, session)


def teach(data: ActiveData, config: ActiveConfig, session: dict, labels: list[int]) -> dict:
    """Add the asked digits with the labels the user gave (right or not), retrain, ask again. A new dict."""
    queries = session["queries"]
    if len(labels) != len(queries):
        raise ValueError(f"give one label per asked digit: {len(queries)} asked, {len(labels)} labels given")
    bad = [v for v in labels if not (isinstance(v, (int, np.integer)) and 0 <= int(v) <= 9)]
    if bad:
        raise ValueError(f"labels are digits 0-9; got {bad[0]!r}")
    new = dict(session, labelled=session["labelled"] + list(queries),
               labels=session["labels"] + [int(v) for v in labels])
    return _retrain(data, config, new)


def _retrain(data: ActiveData, config: ActiveConfig, session: dict) -> dict:
    labelled = np.asarray(session["labelled"], dtype=np.int64)
    y = torch.as_tensor(session["labels"], dtype=torch.long)
    step = len(session["history"])
    params = train(data.pool_x[labelled], y, config, seed=session["seed"] * 1000 + step)
    acc = accuracy(params, data.test_x, data.test_y)
    gen = torch.Generator().manual_seed(session["seed"] * 7919 + 100 + step)
    queries = acquire(params, data, labelled, session["strategy"], ASK, config, gen)
    wrong = int(sum(int(a) != int(b) for a, b in zip(session["labels"], data.pool_y[labelled].tolist())))
    return dict(session, history=session["history"] + [[len(labelled), acc]], queries=queries.tolist(),
                mislabelled=wrong)
