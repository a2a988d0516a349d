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

from uqcore.analysis.embedding import fit_map
from uqcore.data import load_mnist
from uqcore.data.families import OUTLIER_KINDS
from uqcore.data.shift import REGISTRY, generator_inputs, list_sets
from uqcore.data.shift import make as make_set
from uqcore.methods import NAMES, Method, Parts, make_methods
from uqcore.methods.laplace import fit_laplace_covariance
from uqcore.methods.nets import MLP, ModelConfig, TrainConfig
from uqcore.methods.temperature import TemperatureScaler, fit_temperature
from uqcore.methods.reader import reader_outputs
from uqcore.methods.swag import SwagConfig, SwagPosterior, fit_swag, mean_network, swag_probs
from uqcore.methods.training import (EVIDENTIAL_TRAINING, READER_TRAINING, predict_logits, train_ensemble,
                                     train_evidential, train_mlp, train_reader)
from uqcore.metrics.familiarity import Familiarity, FamiliarityConfig
from uqcore.metrics.ood import Mahalanobis, fit_threshold
from uqcore.predictions import Predictions
from uqcore.store import Store
from uqcore.verdict import CONFIDENT_FLOOR, CONFIDENT_SHARE

StageProgress = Callable[[str, int, int, str], None]


@dataclass(frozen=True)
class BuildConfig:
    """What the build trains. ``quick`` shrinks everything for smoke tests (well under a minute)."""

    quick: bool = False
    # The single network keeps 20 cosine epochs: 10 one-cycle epochs (8 s instead of 31 s) reached 98.38% but
    # cost its features' OOD separation (familiarity AUROC letters 0.871 -> 0.863, objects 0.972 -> 0.965,
    # its Mahalanobis letters 0.777 -> 0.688). For the ensemble and the evidential network one-cycle schedules
    # are as good or better in half the epochs (benchmarks/history/, "Build time").
    mlp: TrainConfig = field(
        default_factory=lambda: TrainConfig(epochs=20, batch_size=128, shift=2, model=ModelConfig(dropout=0.2)))
    ensemble: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=10, batch_size=256, shift=2, onecycle=6e-3))
    n_members: int = 5
    # The bootstrap ensemble: the ensemble's recipe, other seeds, each member on a resample with replacement.
    bootstrap: TrainConfig = field(default_factory=lambda: TrainConfig(
        epochs=10, batch_size=256, shift=2, onecycle=6e-3, seed=50))
    evidential: TrainConfig = field(default_factory=lambda: TrainConfig(
        epochs=12, batch_size=256, shift=2, seed=100, onecycle=4e-3))
    # The teaching network of the Calibration lab: the same MLP without dropout or augmentation, a constant
    # learning rate and 30k digits, so that it is overconfident (ECE 1.4% before scaling, 0.4% after, T ~ 1.9).
    overconfident: TrainConfig = field(default_factory=lambda: TrainConfig(
        epochs=16, batch_size=128, cosine=False, shift=0, seed=7, n_train=30000, model=ModelConfig(dropout=0.0)))
    # The headline reader (uqcore.methods.reader): ten digits and "not a digit", trained also on blends and on
    # non-digits. 784-800-128-11, 14 one-cycle epochs (~41 s): chosen on the tuning families over 256-64 (20 epochs,
    # blends naming both 59%), 512-128 and 1024-256 (benchmarks/history/, "The headline reader").
    reader: TrainConfig = field(default_factory=lambda: TrainConfig(
        epochs=14, batch_size=128, shift=2, seed=11, onecycle=3e-3,
        model=ModelConfig(hidden=(800, 128), dropout=0.2, n_classes=11)))
    # SWAG (uqcore.methods.swag): 4 more SGD epochs from the single network, 16 weight snapshots.
    swag: SwagConfig = field(default_factory=SwagConfig)
    swag_samples: int = 30
    mc_samples: int = 50
    laplace_samples: int = 50
    set_size: int | None = None  # images per shift/OOD set; None = each set's default size
    embedding: str = "umap"  # "umap", or "pca" for the quick build (UMAP compiles for ~45 s)
    familiarity: FamiliarityConfig = field(default_factory=FamiliarityConfig)
    photos: int = 300  # synthetic digit photos measured through the file path (and 50 of blank paper)
    device: str = "cpu"  # where networks train ("cpu" or "cuda"; uqcore.devices.resolve_device); not in any key

    def resolved(self) -> "BuildConfig":
        if not self.quick:
            return self
        small = dict(epochs=3, n_train=10000)
        return replace(
            self,
            mlp=replace(self.mlp, **small),
            ensemble=replace(self.ensemble, epochs=2, n_train=10000),
            bootstrap=replace(self.bootstrap, epochs=2, n_train=10000),
            evidential=replace(self.evidential, **small),
            overconfident=replace(self.overconfident, **small),
            reader=replace(self.reader, **small),
            swag=replace(self.swag, epochs=1, rank=4, collect_per_epoch=4),
            set_size=200,
            embedding="pca",
            familiarity=replace(self.familiarity, bank=2000),
            photos=40,
        )


@dataclass
class Bundle:
    config: BuildConfig
    mlp: MLP
    mlp_meta: dict
    store: Store
    methods: dict[str, Method]
    parts: Parts
    meta: dict[str, dict]  # per stage: metadata (histories, timings, accuracies)
    predictions: Predictions  # every method's outputs on every set (uqcore.predictions)
    embedding: dict[str, np.ndarray]  # "<set>/xy" 2-D coordinates; "reference" = "test"
    familiarity: Familiarity | None = None  # the headline's unfamiliar score (uqcore.familiarity)
    file_path: dict[str, np.ndarray] = field(default_factory=dict)  # uqcore.file_path.measure's arrays

    @property
    def set_names(self) -> list[str]:
        return self.predictions.sets


def _noop(stage: str, done: int, total: int, message: str) -> None:
    pass


def accuracy_of(model: torch.nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    return float((predict_logits(model, x).argmax(-1).numpy() == y).mean())


def _model_stage(store: Store, key: str, stage: str, label: str, cfg: TrainConfig, train: Callable, *, force: bool,
                 progress: StageProgress, device: str = "cpu", on_epoch: Callable | None = None) -> tuple[MLP, dict]:
    """Load one network from the cache (``key``, from ``stage_keys``) or train it with
    ``train(train_split, val_split, cfg, progress=...)``; the metadata holds the config, history, timing and
    accuracies."""
    cached = None if force else store.load_tensors(key)
    if cached is not None:
        state, meta = cached
        model = MLP(cfg.model)
        try:
            model.load_state_dict(state)
            progress(stage, 1, 1, f"{label} loaded from cache ({meta['test_accuracy']:.2%} test accuracy)")
            return model.eval(), meta
        except (RuntimeError, KeyError, TypeError, ValueError) as e:  # checksum-valid but not this model's
            store.log(f"{key} does not fit the {label} model ({type(e).__name__}); rebuilding it.")
    store.check_writable()
    data = load_mnist()
    t0 = time.perf_counter()
    extra = {"on_epoch": on_epoch} if on_epoch is not None else {}
    model, history = train(data.train, data.val, cfg, progress=lambda d, t, m: progress(stage, d, t, m), device=device,
                           **extra)
    meta = {
        "config": cfg.to_dict(),
        "history": history,
        "train_seconds": time.perf_counter() - t0,
        "test_accuracy": accuracy_of(model, data.test.x, data.test.y),
        "val_accuracy": accuracy_of(model, data.val.x, data.val.y),
        "threads": torch.get_num_threads(),
        "device": device,
    }
    store.save_tensors(key, model.state_dict(), meta)
    return model, store.metadata(key) or meta


EARLY_EPOCHS = 2  # the single network's snapshot after this many epochs reads digits during a first start


def current_keys(store: Store) -> set[str]:
    """Every artifact key that this code's full and quick builds read or write: their stages, the single network's
    early snapshot, the evaluation and the active-learning curves. Anything else in the store was left by an
    earlier configuration or version (``python -m uqcore clean`` removes it)."""
    from uqcore.acquisition import ActiveConfig
    from uqcore.acquisition import stage_key as active_key
    from uqcore.evaluate import evaluation_key

    keys: set[str] = set()
    for config in (BuildConfig(), BuildConfig(quick=True)):
        keys |= set(stage_keys(store, config.resolved()).values())
        keys |= {early_key(store, config), evaluation_key(store, config),
                 active_key(store, ActiveConfig(quick=config.quick).resolved())}
    return keys


def early_key(store: Store, config: BuildConfig) -> str:
    """The artifact key of the single network's early snapshot (not a stage: ``is_built`` does not need it)."""
    return store.key("mlp_early", {"mlp": stage_keys(store, config.resolved())["mlp"], "epochs": EARLY_EPOCHS})


def mlp_stage(store: Store, key: str, cfg: TrainConfig, *, force: bool, progress: StageProgress,
              device: str = "cpu", early: str | None = None) -> tuple[MLP, dict]:
    """The single network. With ``early`` (an artifact key), its snapshot after ``EARLY_EPOCHS`` epochs is saved
    there as soon as it exists, so that a first start can read digits with it ~3 s into the build."""
    def snapshot(epoch: int, model) -> None:
        if early and epoch == EARLY_EPOCHS and store.metadata(early) is None:
            cpu = MLP(cfg.model)
            cpu.load_state_dict({k: v.detach().cpu() for k, v in model.state_dict().items()})
            data = load_mnist()
            store.save_tensors(early, cpu.state_dict(), {"epochs": epoch, "of": cfg.epochs, "config": cfg.to_dict(),
                                                         "test_accuracy": accuracy_of(cpu.eval(), data.test.x,
                                                                                      data.test.y)})

    return _model_stage(store, key, "mlp", "MLP", cfg, train_mlp, force=force, progress=progress, device=device,
                        on_epoch=snapshot if early else None)


def ensemble_stage(store: Store, key: str, cfg: TrainConfig, n_members: int, *, force: bool,
                   progress: StageProgress, device: str = "cpu", bootstrap: bool = False) -> tuple[list[MLP], dict]:
    """The deep ensemble's members, or with ``bootstrap`` the bootstrap ensemble's (each on a resample)."""
    stage = "bootstrap" if bootstrap else "ensemble"
    cached = None if force else store.load_tensors(key)
    if cached is not None:
        state, meta = cached
        try:
            members = []
            for m in range(n_members):
                model = MLP(cfg.model)
                model.load_state_dict({k.split(".", 1)[1]: v for k, v in state.items() if k.startswith(f"m{m}.")})
                members.append(model.eval())
            progress(stage, 1, 1, f"{stage} loaded from cache ({meta['test_accuracy']:.2%} test accuracy)")
            return members, meta
        except (RuntimeError, KeyError, TypeError, ValueError) as e:
            store.log(f"{key} does not fit the {stage} ensemble ({type(e).__name__}); rebuilding it.")
    store.check_writable()
    data = load_mnist()
    t0 = time.perf_counter()
    members, history = train_ensemble(data.train, data.val, cfg, n_members, bootstrap=bootstrap,
                                      progress=lambda d, t, m: progress(stage, d, t, m), device=device)
    seconds = time.perf_counter() - t0
    probs = np.mean([predict_logits(m, data.test.x).softmax(-1).numpy() for m in members], axis=0)
    meta = {
        "config": cfg.to_dict(), "n_members": n_members, "bootstrap": bootstrap, "history": history,
        "train_seconds": seconds,
        "test_accuracy": float((probs.argmax(1) == data.test.y).mean()),
        "member_test_accuracy": [accuracy_of(m, data.test.x, data.test.y) for m in members],
    }
    state = {f"m{m}.{k}": v for m, model in enumerate(members) for k, v in model.state_dict().items()}
    store.save_tensors(key, state, meta)
    return members, meta


def evidential_stage(store: Store, key: str, cfg: TrainConfig, *, force: bool,
                     progress: StageProgress, device: str = "cpu") -> tuple[MLP, dict]:
    return _model_stage(store, key, "evidential", "evidential", cfg, train_evidential, force=force, progress=progress,
                        device=device)


def overconfident_stage(store: Store, key: str, cfg: TrainConfig, *, force: bool, progress: StageProgress,
                        device: str = "cpu") -> tuple[MLP, dict]:
    return _model_stage(store, key, "overconfident", "overconfident", cfg, train_mlp, force=force,
                        progress=progress, device=device)


def reader_stage(store: Store, key: str, cfg: TrainConfig, *, force: bool, progress: StageProgress,
                 device: str = "cpu") -> tuple[MLP, dict]:
    return _model_stage(store, key, "reader", "headline reader", cfg, train_reader, force=force,
                        progress=progress, device=device)


def swag_stage(store: Store, key: str, cfg: SwagConfig, mlp: MLP, n_train: int | None, *, force: bool,
               progress: StageProgress) -> tuple[MLP, SwagPosterior, dict]:
    """The SWAG posterior around the single network (``uqcore.methods.swag``), and its SWA mean network."""
    n_params = sum(p.numel() for p in mlp.parameters())
    cached = None if force else store.load_tensors(key)
    if cached is not None:
        state, meta = cached
        try:
            posterior = SwagPosterior.from_state(state, n_params)
            progress("swag", 1, 1, f"SWAG loaded from cache ({meta['test_accuracy']:.2%} test accuracy)")
            return mean_network(mlp, posterior), posterior, meta
        except (KeyError, ValueError, TypeError, RuntimeError) as e:
            store.log(f"{key} does not hold this build's SWAG posterior ({type(e).__name__}); rebuilding it.")
    store.check_writable()
    data = load_mnist()
    t0 = time.perf_counter()
    posterior, info = fit_swag(mlp, data.train.subset(n_train), cfg,
                               progress=lambda d, t, m: progress("swag", d, t, m))
    net = mean_network(mlp, posterior)
    probs = swag_probs(net, posterior, torch.as_tensor(data.test.x), 30, 0).mean(0).numpy()
    meta = {"config": cfg.to_dict(), "train_seconds": time.perf_counter() - t0, "snapshots": info["snapshots"],
            "test_accuracy": float((probs.argmax(1) == data.test.y).mean()),
            "swa_mean_test_accuracy": accuracy_of(net, data.test.x, data.test.y)}
    store.save_tensors(key, posterior.state(), meta)
    return net, posterior, store.metadata(key) or meta


def fit_reader_temperature(reader: MLP, x_val: np.ndarray, y_val: np.ndarray) -> float:
    """The temperature of the reader's ten digit logits that minimises NLL on validation digits."""
    logits, _, _ = reader_outputs(reader, x_val)
    return float(TemperatureScaler().fit(logits, y_val).temperature_)


def posthoc_stage(store: Store, config: BuildConfig, key: str, mlp: MLP, members: list[MLP],
                  evidential: MLP, *, force: bool, progress: StageProgress, overconfident: MLP | None = None,
                  reader: MLP | None = None, swag: tuple[MLP, SwagPosterior] | None = None,
                  bootstrap: list[MLP] | None = None) -> tuple[Parts, dict[str, float], dict]:
    """Temperature, Laplace covariance, Mahalanobis statistics and each method's OOD threshold."""
    cached = None if force else store.load_arrays(key)

    def parts_from(temperature, cov, maha, reader_t=1.0):
        return Parts(mlp=mlp, members=members, evidential=evidential, overconfident=overconfident,
                     reader=reader, reader_temperature=float(reader_t), temperature=float(temperature),
                     laplace_cov=torch.as_tensor(cov), mahalanobis=maha, mc_samples=config.mc_samples,
                     laplace_samples=config.laplace_samples, swag=swag[0] if swag else None,
                     swag_posterior=swag[1] if swag else None, swag_samples=config.swag_samples,
                     bootstrap=bootstrap)

    if cached is not None:
        arrays, meta = cached
        try:
            maha = Mahalanobis.from_state({k[5:]: v for k, v in arrays.items() if k.startswith("maha.")})
            parts = parts_from(arrays["temperature"], arrays["laplace_cov"], maha, arrays["reader_temperature"])
            thresholds = {n: t for n, t in zip(NAMES, arrays["thresholds"].tolist(), strict=True)
                          if np.isfinite(t)}  # nan: a method whose part this build does not have
            progress("calibrate", 1, 1, f"calibration loaded from cache (T = {float(arrays['temperature']):.2f})")
            return parts, thresholds, meta
        except (KeyError, ValueError, TypeError, RuntimeError) as e:
            store.log(f"{key} does not hold this build's calibration ({type(e).__name__}); rebuilding it.")
    store.check_writable()
    data = load_mnist()
    train = data.train.subset(config.mlp.n_train)
    timings = {}
    progress("calibrate", 0, 4, "calibrate: fitting the temperature")
    t0 = time.perf_counter()
    temperature = fit_temperature(mlp, data.val.x, data.val.y)
    reader_t = fit_reader_temperature(reader, data.val.x, data.val.y) if reader is not None else 1.0
    timings["temperature"] = time.perf_counter() - t0
    progress("calibrate", 1, 4, f"calibrate: T = {temperature:.2f}; fitting the Laplace approximation")
    t0 = time.perf_counter()
    cov, la_meta = fit_laplace_covariance(mlp, train.x, train.y)
    timings["laplace"] = time.perf_counter() - t0
    progress("calibrate", 2, 4, "calibrate: Mahalanobis statistics of the training features")
    with torch.no_grad():
        maha = Mahalanobis().fit(mlp.embed(torch.as_tensor(train.x)).numpy(), train.y)
    parts = parts_from(temperature, cov, maha, reader_t)
    progress("calibrate", 3, 4, "calibrate: OOD thresholds on the validation split")
    t0 = time.perf_counter()
    methods = make_methods(parts)
    thresholds = {name: fit_threshold(m.predict(data.val.x).ood_score, quantile=0.95) for name, m in methods.items()}
    timings["thresholds"] = time.perf_counter() - t0
    arrays = {"temperature": np.float64(temperature), "reader_temperature": np.float64(reader_t),
              "laplace_cov": cov.numpy(),
              "thresholds": np.array([thresholds.get(n, np.nan) for n in NAMES]),
              **{f"maha.{k}": v for k, v in maha.state().items()}}
    meta = {"temperature": temperature, "reader_temperature": reader_t, "laplace": la_meta, "timings": timings,
            "thresholds": thresholds,
            "threshold_quantile": 0.95}
    store.save_arrays(key, arrays, meta)
    progress("calibrate", 4, 4, f"calibrate: done (T = {temperature:.2f})")
    return parts, thresholds, meta


def familiarity_summary(fam: Familiarity) -> dict:
    """The headline's cuts that ``train`` prints: kept in the familiarity's metadata, so a cache hit needs no load."""
    return {"threshold": fam.threshold_, "confident": fam.confident_, "band": fam.band_, "reader": fam.reader is not None}


def familiarity_stage(store: Store, config: BuildConfig, key: str, mlp: MLP, *, force: bool,
                      progress: StageProgress, reader: MLP | None = None,
                      reader_temperature: float = 1.0) -> Familiarity:
    """The k-NN familiarity score (uqcore.familiarity), fitted on training digits, scaled on validation."""
    cached = None if force else store.load_arrays(key)
    if cached is not None:
        try:
            fam = Familiarity.from_state(mlp, cached[0], config.familiarity, reader=reader,
                                         reader_temperature=reader_temperature)
            progress("familiarity", 1, 1, "familiarity loaded from cache")
            return fam
        except (KeyError, ValueError, TypeError) as e:
            store.log(f"{key} does not hold this build's familiarity score ({type(e).__name__}); rebuilding it.")
    store.check_writable()
    progress("familiarity", 0, 1, "familiarity: k nearest training digits at three depths")
    data = load_mnist()
    t0 = time.perf_counter()
    fam = Familiarity(config.familiarity).fit(mlp, data.train.x, data.train.y, data.val.x, reader=reader,
                                              reader_temperature=reader_temperature)
    store.save_arrays(key, fam.state(), {"config": config.familiarity.to_dict(), **familiarity_summary(fam),
                                         "seconds": time.perf_counter() - t0})
    progress("familiarity", 1, 1, "familiarity: done")
    return fam


def file_path_stage(store: Store, config: BuildConfig, key: str, methods: dict[str, Method], fam: Familiarity,
                    predictions: Predictions, *, force: bool, progress: StageProgress) -> dict[str, np.ndarray]:
    """Every family as files through the upload path (``uqcore.file_path.measure``), cached."""
    from uqcore.file_path import measure

    cached = None if force else store.load_arrays(key)
    if cached is not None:
        progress("file path", 1, 1, "file-path measurements loaded from cache")
        return cached[0]
    t0 = time.perf_counter()
    arrays = measure(methods, fam, predictions, n_photos=config.photos,
                     progress=lambda d, t, m: progress("file path", d, t, m))
    store.save_arrays(key, arrays, {"seconds": time.perf_counter() - t0})
    return arrays


def evaluation_sets(config: BuildConfig) -> list[tuple[str, str, str]]:
    """(name, kind, description) of every set the build predicts on: the two clean splits, then the registry."""
    sets = [("test", "clean", "The 10,000 MNIST test digits."),
            ("val", "clean", "The 10,000 MNIST validation digits (used to fit temperature and thresholds).")]
    return sets + [(s.name, s.kind, s.description) for s in list_sets()]


def _load_set(name: str, config: BuildConfig) -> tuple[np.ndarray, np.ndarray, dict]:
    if name in ("test", "val"):
        split = load_mnist().split(name)
        return split.x, split.y, {}
    s = make_set(name, n=config.set_size)
    return s.x, s.y, s.meta


def predictions_stage(store: Store, config: BuildConfig, key: str, methods: dict[str, Method], *,
                      force: bool, progress: StageProgress) -> tuple[Predictions, dict]:
    sets = evaluation_sets(config)
    cached = None if force else store.load_arrays(key)
    if cached is not None:
        progress("predict", 1, 1, "predictions loaded from cache")
        return Predictions(cached[0]), cached[1]
    preds = Predictions()
    timings: dict[str, dict[str, float]] = {}
    total = len(sets)
    for i, (name, kind, description) in enumerate(sets):
        progress("predict", i, total, f"predict: {name}")
        x, y, meta = _load_set(name, config)
        preds.add_set(name, x, y, kind=kind, description=description, meta=meta)
        timings[name] = {}
        for mname, method in methods.items():
            t0 = time.perf_counter()
            pred = method.predict(x)
            timings[name][mname] = time.perf_counter() - t0
            preds.put_prediction(name, method, pred)
    progress("predict", total, total, "predict: done")
    meta = {"timings": timings, "sets": preds.sets}
    store.save_arrays(key, preds.arrays, meta)
    return preds, meta


EMBED_CAP = 1000  # points per non-test set placed on the map


def embedding_stage(store: Store, config: BuildConfig, key: str, predictions: Predictions, *,
                    force: bool, progress: StageProgress) -> dict[str, np.ndarray]:
    cached = None if force else store.load_arrays(key)
    if cached is not None:
        progress("map", 1, 1, "map loaded from cache")
        return cached[0]
    sets = [s for s in predictions.sets if s != "val"]  # validation digits are not shown on the map
    progress("map", 0, 2, f"map: laying out {config.embedding.upper()} over the test digits and every set")
    t0 = time.perf_counter()
    rows = {}
    for name in sets:
        n = predictions.n(name)
        rows[name] = np.arange(n) if name == "test" else np.sort(
            np.random.default_rng(0).choice(n, size=min(n, EMBED_CAP), replace=False))
    xy = fit_map([predictions.get(s, "mlp", "embeddings")[rows[s]] for s in sets], method=config.embedding)
    fit_seconds = time.perf_counter() - t0
    arrays = {}
    for name, pos in zip(sets, xy):
        arrays[f"{name}/idx"], arrays[f"{name}/xy"] = rows[name], pos
    progress("map", 2, 2, "map: done")
    store.save_arrays(key, arrays, {"method": config.embedding, "fit_seconds": fit_seconds,
                                    "total_seconds": time.perf_counter() - t0})
    return arrays


def stage_keys(store: Store, config: BuildConfig) -> dict[str, str]:
    """The artifact key of every stage. Each depends only on the config and on the keys it builds on,
    so a changed config invalidates exactly the stages downstream of it."""
    k = {"mlp": store.key("mlp", config.mlp.to_dict()),
         "ensemble": store.key("ensemble", {"train": config.ensemble.to_dict(), "n_members": config.n_members}),
         "evidential": store.key("evidential", {**config.evidential.to_dict(), **EVIDENTIAL_TRAINING}),
         "overconfident": store.key("overconfident", config.overconfident.to_dict()),
         "reader": store.key("reader", {**config.reader.to_dict(), **READER_TRAINING,
                                       "outlier_kinds": list(OUTLIER_KINDS), "made_from": generator_inputs()})}
    k["swag"] = store.key("swag", {"mlp": k["mlp"], **config.swag.to_dict()})
    k["bootstrap"] = store.key("bootstrap", {"train": config.bootstrap.to_dict(), "n_members": config.n_members,
                                             "resample": "with replacement"})
    k["posthoc"] = store.key("posthoc", {"mlp": k["mlp"], "ensemble": k["ensemble"], "evidential": k["evidential"],
                                         "overconfident": k["overconfident"], "reader": k["reader"],
                                         "swag": k["swag"], "swag_samples": config.swag_samples,
                                         "bootstrap": k["bootstrap"],
                                         "mc": config.mc_samples, "laplace": config.laplace_samples})
    sets = [(n, REGISTRY[n].seed, REGISTRY[n].size) if n in REGISTRY else n for n, _, _ in evaluation_sets(config)]
    k["predictions"] = store.key("predictions", {"posthoc": k["posthoc"], "set_size": config.set_size, "sets": sets,
                                                 "store": 2,  # 2: uqcore.predictions (every method's logits)
                                                 "letters": 2,  # 2: no font that draws no letter
                                                 "made_from": generator_inputs()})
    k["familiarity"] = store.key("familiarity", {"mlp": k["mlp"], "posthoc": k["posthoc"], "headline": 3,
                                                 "confident_share": CONFIDENT_SHARE, "confident_floor": CONFIDENT_FLOOR,
                                                 **config.familiarity.to_dict()})
    k["file_path"] = store.key("file_path", {"predictions": k["predictions"], "familiarity": k["familiarity"],
                                             # 5: ruled and squared paper taken out of photos
                                             # 6: and the ruled lines that the picture's edge cuts short
                                             # 7: the upload path's box holds the ink at least 0.3 x the brightest
                                             # 8: thin pens redrawn; in photos, thin lines found on ridges
                                             "photos": config.photos, "version": 8})
    k["embedding"] = store.key("embedding", {"predictions": k["predictions"], "method": config.embedding,
                                             "cap": EMBED_CAP, "layout": "joint"})
    return k


def build(
    config: BuildConfig | None = None,
    *,
    store: Store | None = None,
    force: bool = False,
    progress: StageProgress | None = None,
) -> Bundle:
    """Build (or load) every stage: mlp, ensemble, evidential, calibrate, predict, map."""
    config = (config or BuildConfig()).resolved()
    store = store or Store()
    progress = progress or _noop
    timings = {}
    t0 = time.perf_counter()
    keys = stage_keys(store, config)
    if not force:
        plan, seconds = rebuild_plan(store, config)
        if plan and len(plan) < len(keys):  # a partial rebuild: say what it costs
            cost = f"about {seconds:.0f} s, from the last build's timings" if seconds is not None else "time unknown"
            store.log(f"rebuilding {len(plan)} of {len(keys)} stages ({', '.join(plan)}): {cost}.")
    dev = config.device
    mlp, mlp_meta = mlp_stage(store, keys["mlp"], config.mlp, force=force, progress=progress, device=dev,
                              early=early_key(store, config))
    members, ens_meta = ensemble_stage(store, keys["ensemble"], config.ensemble, config.n_members, force=force,
                                       progress=progress, device=dev)
    evidential, ev_meta = evidential_stage(store, keys["evidential"], config.evidential, force=force,
                                           progress=progress, device=dev)
    overconfident, oc_meta = overconfident_stage(store, keys["overconfident"], config.overconfident, force=force,
                                                 progress=progress, device=dev)
    reader, reader_meta = reader_stage(store, keys["reader"], config.reader, force=force, progress=progress,
                                       device=dev)
    boot, boot_meta = ensemble_stage(store, keys["bootstrap"], config.bootstrap, config.n_members, force=force,
                                     progress=progress, device=dev, bootstrap=True)
    swag_net, swag_posterior, swag_meta = swag_stage(store, keys["swag"], config.swag, mlp, config.mlp.n_train,
                                                     force=force, progress=progress)
    timings["train"] = time.perf_counter() - t0
    parts, thresholds, post_meta = posthoc_stage(store, config, keys["posthoc"], mlp, members, evidential,
                                                 force=force, progress=progress, overconfident=overconfident,
                                                 reader=reader, swag=(swag_net, swag_posterior), bootstrap=boot)
    methods = make_methods(parts, thresholds)
    predictions, pred_meta = predictions_stage(store, config, keys["predictions"], methods, force=force,
                                               progress=progress)
    fam = familiarity_stage(store, config, keys["familiarity"], mlp, force=force, progress=progress, reader=reader,
                            reader_temperature=parts.reader_temperature)
    file_path = file_path_stage(store, config, keys["file_path"], methods, fam, predictions, force=force,
                                progress=progress)
    embedding = embedding_stage(store, config, keys["embedding"], predictions, force=force, progress=progress)
    timings["total"] = time.perf_counter() - t0
    return Bundle(config=config, mlp=mlp, mlp_meta=mlp_meta, store=store, methods=methods, parts=parts,
                  meta={"mlp": mlp_meta, "ensemble": ens_meta, "evidential": ev_meta, "overconfident": oc_meta,
                        "reader": reader_meta, "swag": swag_meta, "bootstrap": boot_meta,
                        "posthoc": post_meta,
                        "predictions": pred_meta, "timings": timings},
                  predictions=predictions, embedding=embedding, familiarity=fam, file_path=file_path)


def _seconds_of(meta: dict) -> float | None:
    """The time a stage took, from its metadata (each stage records it under its own name)."""
    for field_ in ("train_seconds", "total_seconds", "seconds"):
        if isinstance(meta.get(field_), (int, float)):
            return float(meta[field_])
    t = meta.get("timings")
    if isinstance(t, dict):
        flat = [v for d in t.values() for v in (d.values() if isinstance(d, dict) else [d])]
        return float(sum(v for v in flat if isinstance(v, (int, float))))
    return None


def recorded_seconds(store: Store, stage: str) -> float | None:
    """How long ``stage`` took the last time it was built in this folder (its newest artifact of any key)."""
    best = None
    for path in store.root.glob(f"{stage}-*.json"):
        meta = store.metadata(path.stem)
        seconds = _seconds_of(meta) if meta else None
        if seconds is not None and (best is None or path.stat().st_mtime > best[0]):
            best = (path.stat().st_mtime, seconds)
    return None if best is None else best[1]


def rebuild_plan(store: Store, config: BuildConfig) -> tuple[list[str], float | None]:
    """(the stages that will run, about how many seconds from the last build's timings; None if unknown)."""
    missing = [stage for stage, key in stage_keys(store, config).items() if store.metadata(key) is None]
    times = [recorded_seconds(store, stage) for stage in missing]
    return missing, (sum(times) if missing and all(t is not None for t in times) else None)


SUMMARY_STAGES = ("mlp", "ensemble", "bootstrap", "evidential", "overconfident", "reader", "swag", "posthoc",
                  "familiarity")


def built_summary(store: Store, config: BuildConfig) -> dict[str, dict] | None:
    """Every stage's metadata when the whole build is in ``store``, each payload checked against its checksum (what
    ``train`` prints on a cache hit, without loading a network or an array: about 0.4 s instead of 2), else None.
    None too for a build cached before its familiarity recorded the band and whether a reader was part of it."""
    metas = {stage: store.verified(key) for stage, key in stage_keys(store, config.resolved()).items()}
    if any(m is None for m in metas.values()) or not {"band", "reader"} <= set(metas["familiarity"]):
        return None
    return {stage: metas[stage] for stage in SUMMARY_STAGES}


def is_built(config: BuildConfig | None = None, *, store: Store | None = None) -> bool:
    """True when every stage's artifact is present (metadata is written last, so each is complete)."""
    config = (config or BuildConfig()).resolved()
    store = store or Store()
    return all(store.metadata(k) is not None for k in stage_keys(store, config).values())
