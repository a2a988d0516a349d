"""The only module with Streamlit caching: models are shared resources, arrays are cached data.

``UQCORE_QUICK=1`` makes the app use the quick build (tests, smoke runs); ``UQCORE_ARTIFACTS``
moves the cache folder.
"""
from __future__ import annotations

import atexit
import functools
import os
import threading
import weakref
from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:  # uqcore.build imports torch (~1.5 s): a page draws its title before the first call needs it
    from uqcore.build import BuildConfig, Bundle

_READY: set[str] = set()  # the builds (folder and config) this process found complete; a build stays complete


_CONFIGS: dict[bool, BuildConfig] = {}


def build_config() -> BuildConfig:
    """The app's build: the quick one under ``UQCORE_QUICK=1``; networks train on a GPU when there is one.
    Made once per process and kind (finding the device takes ~13 ms, and every page asks several times)."""
    quick = os.environ.get("UQCORE_QUICK", "") not in ("", "0")
    if quick not in _CONFIGS:
        from uqcore.build import BuildConfig
        from uqcore.devices import resolve_device

        _CONFIGS[quick] = BuildConfig(quick=quick, device=resolve_device("auto"))
    return _CONFIGS[quick]


def _ready_key(config) -> str:
    from uqcore.store import default_root

    return f"{default_root()}|{config!r}"


def _is_ready(config) -> bool:
    """Whether the build is complete; once it is, this process never looks again."""
    if _ready_key(config) in _READY:
        return True
    from uqcore.build import is_built

    if is_built(config):
        _READY.add(_ready_key(config))
        return True
    return False


def ensure_built(*, stop: bool = True) -> bool:
    """On a first start (empty cache) the build runs in the background, once per server however many tabs are
    open; every page shows its progress (under what it has drawn so far) and fills in by itself when it lands.
    Stops the page until then (``stop=False``: the caller draws more, then stops; the progress must still come
    first after the title, where the waiting page had it, because its refreshes write to that place). True when
    the build is complete."""
    config = build_config()
    if _is_ready(config):
        return True
    from dashboard.builder import BackgroundBuild
    from uqcore.store import Store

    runner = BackgroundBuild.for_store(config, Store())
    _first_start(runner)
    if stop:
        st.stop()
    return False


@st.fragment(run_every=1.0)
def _first_start(runner) -> None:
    """The first start's progress, refreshed every second; reruns the page when the build has landed, and once
    when the single network's early snapshot appears (Try a digit can read with it)."""
    if runner.finished and runner.error is None:
        _load_bundle.clear()
        st.rerun()
    if not st.session_state.get("_early_seen") and _early_key() is not None:
        st.session_state["_early_seen"] = True
        st.rerun()
    if runner.error:
        st.error(f"The first build failed: {runner.error}. Check the message in the terminal where the app runs, "
                 "then reload this page to try again (finished stages are kept).", icon=":material/error:")
        return
    st.info(f"**First start: training the models** ({runner.seconds:.0f} s so far; a few minutes on 2 cores). "
            "This page fills in by itself when they are ready; other tabs share this one build.",
            icon=":material/hourglass_top:")
    if not runner.stages:
        st.progress(0.0, text="starting…")
    for stage, status in runner.stages.items():
        st.progress(min(status.done / status.total, 1.0), text=f"{stage}: {status.message.split(': ', 1)[-1]}")


_EARLY_KEYS: dict[str, str] = {}


def _early_key() -> str | None:
    """The key of the single network's early snapshot when it exists in the cache, else None (the key is worked
    out once per folder and config: the progress box asks every second)."""
    from uqcore.build import early_key
    from uqcore.store import Store

    config = build_config()
    store = Store()
    ready = _ready_key(config)
    if ready not in _EARLY_KEYS:
        _EARLY_KEYS[ready] = early_key(store, config)
    key = _EARLY_KEYS[ready]
    return key if store.metadata(key) is not None else None


def early_network():
    """During a first start, ``(network, metadata)``: the single network after its first epochs
    (``uqcore.build.EARLY_EPOCHS``), which Try a digit reads with until the build lands. None once the build is
    complete, or before the snapshot exists."""
    if _is_ready(build_config()):
        return None
    key = _early_key()
    return None if key is None else _early_network(key)


@st.cache_resource(show_spinner=False, max_entries=2)
def _early_network(key: str):
    from uqcore.methods.nets import MLP
    from uqcore.store import Store

    found = Store().load_tensors(key)
    if found is None:
        return None
    state, meta = found
    model = MLP(build_config().resolved().mlp.model)
    model.load_state_dict(state)
    return model.eval(), meta


def get_bundle() -> Bundle:
    """The build, loaded once per process. Pages call it after their title, so the title shows at once; on a
    first start this is where the page shows the background build's progress and waits (``ensure_built``)."""
    ensure_built()
    bundle = _load_bundle()
    settle_heap()
    if "active" not in _FOLLOWUPS:  # the build's last stage, in the background: the active-learning lab's curves
        _FOLLOWUPS.add("active")
        active_curves(bundle)
    with _FOLLOWUPS_LOCK:  # two first page loads at once start one warm-up
        warm = "warm" not in _FOLLOWUPS
        _FOLLOWUPS.add("warm")
    if warm:
        _WARM["thread"] = warm_first_reading(bundle)
    return bundle


_FOLLOWUPS: set[str] = set()
_FOLLOWUPS_LOCK = threading.Lock()
_WARM: dict = {}  # the warm-up thread and what it measured or raised (tests read it)


@atexit.register
def _wait_for_the_warm_up(timeout: float = 10.0) -> None:
    """At exit, let a warm-up reading (~1 s of torch) end: a daemon thread inside torch at teardown aborts."""
    thread = _WARM.get("thread")
    if thread is not None:
        thread.join(timeout)


def warm_first_reading(bundle: Bundle) -> threading.Thread:
    """Once per server, on a background thread: one reading of a drawn stroke as Try a digit makes it (the pad's
    RGBA through ``to_mnist``, every method, the headline, the explanation), so the first pen stroke of the first
    tab does not pay for what a first reading loads (Captum's import ~0.65 s, the methods' first passes ~0.2–0.4 s;
    in Chromium that stroke took 0.81–0.84 s against 0.22–0.30 s in later tabs: benchmarks/RESULTS.md). It calls
    no Streamlit function and changes no network; what it fills are the methods' own lazy caches, which any
    reading fills the same way. A failure is kept in ``_WARM["error"]``, never raised."""

    def run() -> None:
        import time

        t0 = time.perf_counter()
        try:
            import captum.attr  # noqa: F401  (the explanation's library, imported lazily by uqcore.explain)
            import numpy as np

            from dashboard.logic.try_digit import explain, read_input
            from uqcore.analysis.sets import build_context
            from uqcore.data.preprocess import to_mnist

            context = build_context(bundle.predictions, bundle.methods)  # the same as reading_context's
            pad = np.zeros((280, 280, 4), np.uint8)
            pad[..., 3] = 255
            pad[60:220, 130:150, :3] = 255  # a stroke: a 1
            pre = to_mnist(pad)
            read_input(bundle, pre.x, pre.preview, source="warm-up", context=context)
            x = bundle.predictions.images("test", [0])[0].reshape(784)  # a clear 7: its explanation is drawn
            explain(bundle, read_input(bundle, x, x.reshape(28, 28), source="warm-up", context=context))
        except Exception as err:  # a warm-up must never break a page
            _WARM["error"] = err
        _WARM["seconds"] = time.perf_counter() - t0

    thread = threading.Thread(target=run, name="uq-warm-first-reading", daemon=True)
    thread.start()
    return thread


_HEAP = {"modules": 0}  # how many modules were loaded when the heap was last frozen


def settle_heap() -> bool:
    """Freeze the heap again (``gc.collect()`` then ``gc.freeze()``) when modules were imported since the last
    time; True if it did. Cheap otherwise (one length compared).

    Streamlit runs ``gc.collect(2)`` after every script run (``runner.postScriptGC``), and a full collection
    walks every object that is not frozen. Libraries imported lazily after the bundle's freeze (Captum drags in
    matplotlib and IPython: ~60,000 objects) made that collection 40–80 ms per pen stroke; frozen, it is
    under 1 ms (benchmarks/RESULTS.md). Modules live as long as the server, so freezing them leaks nothing;
    frozen objects are still freed by reference counting, only cycles among them wait. Pages call it through
    ``get_bundle``; a fragment that reruns alone (Try a digit's strokes) calls it itself."""
    import sys

    if len(sys.modules) == _HEAP["modules"]:
        return False
    _freeze_heap()
    return True


def _freeze_heap() -> None:
    import gc
    import sys

    _HEAP["modules"] = len(sys.modules)
    gc.collect()
    gc.freeze()


@st.cache_resource(show_spinner="Loading models…")
def _load_bundle() -> Bundle:
    from uqcore.build import build

    bundle = build(build_config())
    # Everything loaded so far lives as long as the server. Moved out of the collector's reach, a full collection
    # no longer walks the models and the libraries' objects: in Chromium those pauses (~350 ms, on the server's
    # event loop) held back a pen stroke's answer after the page had computed it (benchmarks/RESULTS.md).
    # Here, not only in ``settle_heap``: a reloaded bundle (a rebuilt cache) imports no new module.
    _freeze_heap()
    return bundle


@st.cache_resource(show_spinner=False)
def reading_context():
    """Per method, its conformal sets (fitted on validation) and test reliability bins, for every reading
    (``uqcore.analysis.sets.build_context``; ~40 ms once)."""
    from uqcore.analysis.sets import build_context

    bundle = get_bundle()
    return build_context(bundle.predictions, bundle.methods)


@st.cache_data(show_spinner=False)
def conformal_curves(score: str) -> dict:
    """Per method, coverage and mean set size on the test digits for 20 alphas from 0.01 to 0.2
    (``uqcore.metrics.conformal.sweep``, calibrated on the validation digits)."""
    import numpy as np

    from uqcore.metrics.conformal import sweep

    pred = get_bundle().predictions
    alphas = np.round(np.linspace(0.01, 0.2, 20), 3)
    return {m: sweep(pred.get("val", m, "probs"), pred.y("val"), pred.get("test", m, "probs"), pred.y("test"),
                     alphas, score) for m in pred.methods if pred.has("val", m)}


@st.cache_data(show_spinner="Computing the metrics of every method…")
def evaluation() -> dict:
    """``uqcore.evaluate.evaluate_cached`` over the cached build (the bundle itself is never hashed): computed
    once per build (by `train`, by the first start's background turn after the active-learning curves, or else
    by the first page that needs it), then read from the artifacts."""
    from uqcore.evaluate import evaluate_cached

    return evaluate_cached(get_bundle())


@st.cache_data(show_spinner=False)
def sample_set(name: str, n: int = 40) -> tuple:
    """(x (n, 784), y (n,), meta) of a small OOD / shift set from ``uqcore.data.shift.make``, for random picks."""
    from uqcore.data.shift import make

    s = make(name, n=n)
    return s.x, s.y, s.meta


@st.cache_data(show_spinner=False)
def risk_curves() -> dict[str, dict]:
    """Per method, on the test split: the risk-coverage curve by total uncertainty, and its inputs."""
    from uqcore.metrics.selective import risk_coverage

    pred = get_bundle().predictions
    y = pred.y("test")
    out = {}
    for name in get_bundle().methods:
        total = pred.get("test", name, "total")
        correct = pred.get("test", name, "probs").argmax(1) == y
        rc = risk_coverage(total, correct)
        out[name] = {"coverage": rc.coverage, "risk": rc.risk, "total": total, "correct": correct}
    return out


# ----------------------------------------------------------------------------- your predictions


@st.cache_resource(show_spinner="Reading your predictions…", max_entries=2)
def external_predictions(data: bytes, name: str):
    """An uploaded predictions file, checked (``uqcore.data.external``); raises ``PredictionsError``."""
    from uqcore.data.external import parse_predictions

    return parse_predictions(data, name)


@st.cache_resource(show_spinner="Reading your predictions…", max_entries=2)
def external_file(path: str, modified: float):
    """A predictions file on this computer (``modified``: its mtime, so a rewritten file is read again)."""
    from uqcore.data.external import load_predictions

    return load_predictions(path)


@st.cache_data(show_spinner="Fitting a temperature on half the rows…", max_entries=4)
def external_temperature(_ext, digest: str) -> float:
    """The NLL-optimal temperature on the fitting half of ``_ext``'s rows (``digest``: the file's)."""
    from dashboard.logic.your_predictions import logits_of
    from uqcore.data.external import halves
    from uqcore.metrics.calibration import TemperatureScaler

    fit, _ = halves(_ext.n)
    return float(TemperatureScaler().fit(logits_of(_ext)[fit], _ext.y[fit]).temperature_)


@st.cache_resource(show_spinner=False, max_entries=2)
def external_fixed(_ext, digest: str) -> dict:
    """What does not move with the temperature (``dashboard.logic.your_predictions.fixed_figures``), once per file, with
    its risk-coverage chart built once ("curve_figure")."""
    from dashboard.logic.your_predictions import fixed_figures
    from uqcore.plots import risk_coverage_curves

    fixed = fixed_figures(_ext)
    rc = fixed["curve"]
    return {**fixed, "curve_figure": risk_coverage_curves({"your model": (rc.coverage, rc.risk)}, marker=0.95)}


@st.cache_data(show_spinner="Fitting the calibrators and three kinds of prediction sets on half the rows…",
               max_entries=4)
def external_report(_ext, digest: str) -> dict:
    """``uqcore.evaluate.evaluate_external`` of ``_ext`` (the CLI's ``evaluate --predictions`` JSON)."""
    from uqcore.evaluate import evaluate_external

    return evaluate_external(_ext)


# ----------------------------------------------------------------------------- your predictions in other pages
YOURS = "yours:"  # a method key "yours:<digest>" names an analyst's file in the pages that take a method
_KNOWN: weakref.WeakValueDictionary = weakref.WeakValueDictionary()  # digest -> file, while a session holds it


def remember_external(ext) -> str:
    """Make ``ext`` this session's file: the Calibration lab, Compare and Errors then offer it beside the build's
    methods (until another file is loaded). Returns its method key."""
    _KNOWN[ext.digest] = ext
    st.session_state["yours_ext"] = ext
    return YOURS + ext.digest


def yours():
    """(method key, file) of the predictions file this session loaded on Your predictions, or None."""
    ext = st.session_state.get("yours_ext")
    return None if ext is None else (YOURS + ext.digest, ext)


def is_yours(method: str) -> bool:
    return method.startswith(YOURS)


def with_yours(methods: list[str], titles: dict[str, str]) -> tuple[list[str], dict[str, str], str | None]:
    """``methods`` and their ``titles`` with this session's file added last (see ``yours``), and its key (or None)."""
    found = yours()
    if found is None:
        return methods, titles, None
    key, ext = found
    return [*methods, key], {**titles, key: f"Your predictions ({ext.source})"}, key


def _external(method: str):
    from uqcore.data.external import PredictionsError

    ext = _KNOWN.get(method[len(YOURS):])
    if ext is None:
        raise PredictionsError("the predictions file is no longer loaded: open Your predictions and load it again.")
    return ext


def scored_images(method: str):
    """The images in the order of ``calibration_arrays``' test rows (the MNIST test digits; a file's scored half),
    or None (a file without images)."""
    images = row_images(method)
    if images is None or not is_yours(method):
        return images
    from uqcore.data.external import halves

    return images[halves(len(images))[1]]


def row_images(method: str):
    """The images by ``test_frame``'s index (the MNIST test digits; every row of a file), or None (no images)."""
    return get_bundle().predictions.x("test") if not is_yours(method) else _external(method).images


@st.cache_data(show_spinner="Measuring your predictions…", max_entries=4)
def external_summary(_ext, digest: str) -> dict:
    """Compare's view of a file, on all its rows: "metrics" (``calibration_report`` and AURC), "curve" (the
    risk-coverage curve by total uncertainty, as ``risk_curves`` gives per method) and "split" (aleatoric and
    epistemic per row; without member probabilities, the total and zeros)."""
    import numpy as np

    from uqcore.evaluate import external_uncertainties
    from uqcore.metrics.calibration import calibration_report
    from uqcore.metrics.selective import aurc, risk_coverage

    unc = external_uncertainties(_ext)
    total = unc["total"]
    correct = _ext.probs.argmax(1) == _ext.y
    rc = risk_coverage(total, correct)
    return {"metrics": {**calibration_report(_ext.probs, _ext.y), "aurc": float(aurc(total, correct))},
            "curve": {"coverage": rc.coverage, "risk": rc.risk, "total": total, "correct": correct},
            "split": {"aleatoric": unc.get("aleatoric", total),
                      "epistemic": unc.get("epistemic", np.zeros_like(total))}}


# ----------------------------------------------------------------------------- embedding map, errors
@st.cache_data(show_spinner=False)
def map_points(method: str, sets: tuple[str, ...]):
    """``uqcore.analysis.tables.map_frame`` of ``sets`` read by ``method`` (flags from its validation threshold)."""
    from uqcore.analysis.tables import map_frame

    bundle = get_bundle()
    return map_frame(bundle.predictions, bundle.embedding, method, sets, threshold=bundle.methods[method].threshold_)


@st.cache_data(show_spinner=False, max_entries=16)
def map_payload(method: str, sets: tuple[str, ...], star: tuple[float, float] | None) -> dict:
    """``dashboard.logic.explore.map_payload`` of ``map_points(method, sets)`` with the ★ at ``star``: what the map
    component draws (~35 bytes a point), made once per method, sets and star."""
    from dashboard.logic.explore import map_payload as payload

    return payload(map_points(method, sets), star=star)


@st.cache_data(show_spinner=False)
def digit_position(x) -> tuple[float, float]:
    """Map position of one image (784 values in [0, 1]): the single network's features of it, placed among
    their 15 nearest test digits (``uqcore.analysis.embedding.place_by_neighbours``). Cached per image."""
    import numpy as np

    from uqcore.analysis.embedding import place_by_neighbours

    bundle = get_bundle()
    features = bundle.methods["mlp"].predict(np.asarray(x, np.float32).reshape(1, 784)).embeddings
    xy = place_by_neighbours(features, bundle.predictions.get("test", "mlp", "embeddings").astype(np.float32),
                             bundle.embedding["test/xy"])[0]
    return float(xy[0]), float(xy[1])


@st.cache_data(show_spinner=False)
def test_frame(method: str):
    """``uqcore.analysis.tables.prediction_frame`` of ``method`` on the 10,000 test digits; for a file (a ``YOURS``
    key), its scored half (``uqcore.data.external.halves``), indexed by row in the file."""
    from uqcore.analysis.tables import UNCERTAINTIES, frame_of, prediction_frame

    if not is_yours(method):
        return prediction_frame(get_bundle().predictions, method, "test")
    from uqcore.data.external import halves
    from uqcore.evaluate import external_uncertainties

    ext = _external(method)
    rows = halves(ext.n)[1]
    unc = external_uncertainties(ext)
    unc = {"aleatoric": unc["total"], "epistemic": 0.0 * unc["total"], **unc}  # one prediction: all aleatoric
    return frame_of(ext.probs[rows], ext.y[rows], {u: unc[u][rows] for u in UNCERTAINTIES}, index=rows)


@st.cache_data(show_spinner=False)
def class_tables(method: str) -> tuple:
    """(per-class table, confusion counts) of ``method`` on the test digits (a file: its scored half)."""
    from uqcore.analysis.tables import confusion, per_class

    if is_yours(method):
        from uqcore.data.external import halves

        ext = _external(method)
        rows = halves(ext.n)[1]
        probs, y = ext.probs[rows], ext.y[rows]
    else:
        pred = get_bundle().predictions
        probs, y = pred.get("test", method, "probs"), pred.y("test")
    return per_class(probs, y), confusion(probs, y)


# ----------------------------------------------------------------------------- calibration lab
@st.cache_data(show_spinner=False)
def calibration_arrays(method: str) -> dict:
    """Validation and test logits of ``method`` (log-probs where no logits are stored) and labels.

    Keys: val_logits, val_y, test_logits, test_y (arrays), from_logits (bool). For a file (a ``YOURS`` key) "val" is
    the fitting half of its rows and "test" the scored half, as on Your predictions.
    """
    from uqcore.analysis.calibration import logits_for

    if is_yours(method):
        from uqcore.data.external import halves
        from uqcore.evaluate import external_logits

        ext = _external(method)
        fit, rows = halves(ext.n)
        logits = external_logits(ext)
        return {"val_logits": logits[fit], "val_y": ext.y[fit], "test_logits": logits[rows], "test_y": ext.y[rows],
                "from_logits": ext.logits is not None}

    pred = get_bundle().predictions
    val, from_logits = logits_for(pred, "val", method)
    test, _ = logits_for(pred, "test", method)
    return {"val_logits": val, "val_y": pred.y("val"), "test_logits": test, "test_y": pred.y("test"),
            "from_logits": from_logits}


@st.cache_data(show_spinner="Fitting the best temperature on the validation digits…")
def optimal_temperatures(extra: tuple[str, ...] = ()) -> dict[str, float]:
    """Per method (and per ``extra`` key, e.g. a file's), the temperature that minimises NLL on the validation split."""
    from uqcore.metrics.calibration import optimal_temperature

    out = {}
    for name in (*get_bundle().methods, *extra):
        a = calibration_arrays(name)
        out[name] = float(optimal_temperature(a["val_logits"], a["val_y"]))
    return out


@st.cache_data(show_spinner=False)
def temperature_sweep_curves(method: str, n_bins: int, strategy: str, n_temps: int = 40) -> dict:
    """Test ECE and NLL of ``method`` over ``n_temps`` log-spaced temperatures (0.2 to 5)."""
    import numpy as np

    from uqcore.analysis.calibration import T_MAX, T_MIN, temperature_sweep

    a = calibration_arrays(method)
    return temperature_sweep(a["test_logits"], a["test_y"], np.geomspace(T_MIN, T_MAX, n_temps),
                             n_bins=n_bins, strategy=strategy)


@st.cache_data(show_spinner="Working out the diagram at every temperature on the slider…", max_entries=24)
def live_states(method: str, n_bins: int, strategy: str, temps: tuple[float, ...]) -> dict:
    """The reliability diagram and its metrics at each T in ``temps`` (the live slider's grid), on test."""
    from uqcore.analysis.calibration import temperature_states

    a = calibration_arrays(method)
    return temperature_states(a["test_logits"], a["test_y"], temps, n_bins=n_bins, strategy=strategy)


def live_states_with(method: str, n_bins: int, strategy: str, temps: tuple[float, ...], t: float) -> dict:
    """``live_states`` on the fixed grid (cached once), with the state at ``t`` added when ``t`` (e.g. from a
    shared link) is not on it: one extra temperature costs ~4 ms, a new grid ~0.6 s."""
    import numpy as np

    from uqcore.analysis.calibration import temperature_states

    base = live_states(method, n_bins, strategy, temps)
    if np.any(np.isclose(base["temperature"], t)):
        return base
    a = calibration_arrays(method)
    one = temperature_states(a["test_logits"], a["test_y"], [t], n_bins=n_bins, strategy=strategy)
    order = np.argsort(np.concatenate([base["temperature"], one["temperature"]]), kind="stable")
    return {k: np.concatenate([base[k], one[k]])[order] for k in base}


@st.cache_data(show_spinner=False, max_entries=32)
def overlay_curves(chosen: tuple[str, ...], best: bool, n_bins: int, strategy: str, titles: dict) -> dict:
    """Per chosen method (its title): test reliability bins at T = 1, or at its best validation T."""
    from uqcore.analysis.calibration import lab_metrics, rescale

    out, opt = {}, optimal_temperatures(tuple(m for m in chosen if is_yours(m)))
    for m in chosen:
        a = calibration_arrays(m)
        b = lab_metrics(rescale(a["test_logits"], opt[m] if best else 1.0), a["test_y"], n_bins=n_bins,
                        strategy=strategy)["bins"]
        out[titles[m]] = (b.confidence, b.accuracy, b.count)
    return out


@st.cache_data(show_spinner="Fitting the calibrators on the validation digits…")
def calibrator_table(method: str):
    """Test ECE and NLL of ``method`` under each offered calibrator and, for reference, the two textbook forms
    (``uqcore.metrics.calibrators.compare``): two data frames."""
    import pandas as pd

    from dashboard.logic.calibration import calibrator_rows, textbook_rows
    from uqcore.metrics.calibrators import TEXTBOOK, compare

    a = calibration_arrays(method)
    args = a["val_logits"], a["val_y"], a["test_logits"], a["test_y"]
    return (pd.DataFrame(calibrator_rows(compare(*args))).T,
            pd.DataFrame(textbook_rows(compare(*args, which=TEXTBOOK))).T)


# ----------------------------------------------------------------------------- shift lab
@st.cache_data(show_spinner=False)
def shift_thresholds() -> dict[str, float | None]:
    """Per method, its OOD threshold (95th percentile of its score on clean validation digits)."""
    return {name: m.threshold_ for name, m in get_bundle().methods.items()}


@st.cache_data(show_spinner="Measuring every method at every severity…")
def shift_curves(kind: str):
    """``uqcore.analysis.shift.severity_curves`` of every method for one shift (``"rotation"``, a corruption, ...)."""
    from uqcore.analysis.shift import severity_curves

    bundle = get_bundle()
    return severity_curves(bundle.predictions, kind, methods=list(bundle.methods), thresholds=shift_thresholds())


# ----------------------------------------------------------------------------- active learning lab
def active_config():
    """The active-learning lab's settings: the quick ones under ``UQCORE_QUICK=1``."""
    from uqcore.acquisition import ActiveConfig

    return ActiveConfig(quick=build_config().quick).resolved()


def _run_active(config, *, store, progress, bundle=None):
    from uqcore.acquisition import curves_stage
    from uqcore.evaluate import evaluate_cached

    out = curves_stage(store, config, progress=progress)
    if bundle is not None:  # a new build's metrics, in the same background turn (~14 s): Compare then reads them
        try:  # from disk. Not in the warm-up: that runs while the first tab draws.
            evaluate_cached(bundle)
        except Exception as err:  # not the curves' failure: Compare computes it again and shows its own message
            _WARM["evaluation_error"] = err
    return out


def active_curves(bundle: Bundle | None = None):
    """``(arrays, meta)`` of the precomputed curves (``uqcore.acquisition.curves_stage``), or the background
    runner computing them: the last stage of the build, started here once per server when it is missing. With
    ``bundle`` (the first page load's), the runner also computes the build's evaluation after the curves."""
    from uqcore.acquisition import stage_key
    from uqcore.store import Store

    config, store = active_config(), Store()
    key = stage_key(store, config)
    if store.metadata(key) is not None and (found := _cached_curves(key)) is not None:
        return found
    from dashboard.builder import BackgroundBuild

    runner = BackgroundBuild.for_store(config, store, build_fn=functools.partial(_run_active, bundle=bundle),
                                       name="active")
    if runner.finished and runner.error is None and (found := _cached_curves(key)) is not None:
        return found  # finished since the check above
    return runner


@st.cache_resource(show_spinner=False, max_entries=2)
def _active_arrays(key: str):
    from uqcore.store import Store

    return Store().load_arrays(key)


def _cached_curves(key: str):
    found = _active_arrays(key)
    if found is None:  # corrupt or gone: forget it, so the runner's new file is read next time
        _active_arrays.clear()
    return found


@st.cache_resource(show_spinner="Preparing the pool of unlabelled digits…")
def active_data():
    """The pool and test digits in the lab's features (``uqcore.acquisition.load_data``; ~1 s once)."""
    from uqcore.acquisition import load_data

    return load_data(active_config())
