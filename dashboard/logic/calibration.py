"""Calibration lab logic: the slider's temperatures, presets, binning choices, the view in the URL and the
page's copy. The numbers themselves come from ``uqcore.analysis.calibration``."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashboard.logic import view as urlview
from uqcore.analysis.calibration import T_MAX, T_MIN
from uqcore.metrics.calibrators import CALIBRATOR_TITLES

PRESETS = {"Sharpen": 0.4, "No scaling": 1.0, "Soften": 3.0}
LIVE_STEPS = 161  # the live slider's log-spaced grid (about 147 distinct at 2 decimals) (plus presets, the best T and the shared one)
TICKS = (0.2, 0.5, 1.0, 2.0, 5.0)
STRATEGIES = ("uniform", "quantile")
BINNING_LABELS = {"uniform": "equal-width", "quantile": "equal-mass"}
BINS_MIN, BINS_MAX = 5, 30

HELP = {
    "ece": "Expected calibration error. Group the test digits by how confident the model is, and compare that "
           "confidence with how often it is actually right in each group. ECE is the average gap: 0% means "
           "'when it says 90%, it is right 90% of the time'. Lower is better.",
    "mce": "Maximum calibration error: the gap in the single worst group (bin). Lower is better. "
           "It jumps around when a bin holds only a few images.",
    "nll": "Negative log-likelihood: how surprised the model is by the true answers, on average. A confident "
           "mistake costs a lot, a hesitant correct answer a little. Lower is better; this is what the "
           "optimal temperature minimises.",
    "brier": "Brier score: the squared distance between the predicted probabilities and the true answer "
             "(0 = perfect and certain, 2 = certain and wrong). Lower is better.",
    "accuracy": "Share of the test digits read correctly. Temperature never changes which digit the model "
                "picks, only how sure it says it is, so accuracy stays put.",
}


def temperature_grid(n: int = 61) -> np.ndarray:
    """Log-spaced temperatures from T_MIN to T_MAX, rounded to 2 decimals (unique, sorted)."""
    return np.unique(np.round(np.geomspace(T_MIN, T_MAX, n), 2))


ROWS = {False: "test digits", True: "scored rows (half of your file)"}  # what the lab measures on, by "is it a file"
FIT = {False: "separate validation digits", True: "other half of your file's rows"}  # what its best T is fitted on
CALIBRATORS_NOTE = ("Temperature scaling divides all logits by one number; vector scaling fits a scale and a shift "
                    "per digit; histogram binning and isotonic regression replace each probability by the share of "
                    "right answers near it (one digit at a time) and then blend that back with the uncalibrated "
                    "probabilities, as much as cross-validation on the fitting rows says (\"raw mixed in\"; 100% "
                    "means binning had nothing to add to this model). Lower is better for ECE and NLL.")
TEXTBOOK_NOTE = ("For reference, not offered: the textbook forms, without the blend. Their steps throw away the "
                 "order of the probabilities inside a bin, which lowers ECE but can raise NLL on a model that is "
                 "already calibrated; compare their NLL with \"Uncalibrated\" above.")
BEST_ON = {False: "validation", True: "the other half"}  # the live diagram's "best on ..." label
LAB_DEFAULT = "overconfident"  # the teaching network: the one with something to fix


def live_temperatures(extra=()) -> list[float]:
    """The live slider's temperatures: a fine log grid (``LIVE_STEPS``), the presets and ``extra`` values."""
    return slider_temperatures(extra, n=LIVE_STEPS)


def slider_temperatures(extra=(), *, n: int = 61) -> list[float]:
    """Options for a temperature slider: the log grid, the presets, and any ``extra`` values."""
    values = set(float(t) for t in temperature_grid(n))
    values.update(PRESETS.values())
    for t in extra:
        if t is not None and np.isfinite(t) and T_MIN <= t <= T_MAX:
            values.add(round(float(t), 2))
    return sorted(values)


def live_payload(states: dict, *, current: float, best: float, selected: int, title: str,
                 best_on: str = "validation") -> dict:
    """The JSON the live diagram (``dashboard.live``) draws from: the states of
    ``uqcore.analysis.calibration.temperature_states`` rounded (NaN -> None), where the slider starts
    (``current``), the best temperature (fitted on ``best_on``, shown in its label), T = 1 (the open circles),
    the selected bin and the ticks."""
    temps = np.asarray(states["temperature"])

    def at(t) -> int:
        return int(np.argmin(np.abs(temps - t)))

    def rows(a, digits):
        return [[None if not np.isfinite(v) else round(float(v), digits) for v in row] for row in np.atleast_2d(a)]

    edges = np.asarray(states["edges"])
    return {
        "temperature": [round(float(t), 2) for t in temps],
        "edges": rows(edges, 5), "count": [[int(c) for c in row] for row in states["count"]],
        "confidence": rows(states["confidence"], 5), "accuracy": rows(states["accuracy"], 5),
        **{f: [round(float(v), 6) for v in states[f]] for f in ("ece", "mce", "nll")},
        "max_count": int(np.max(states["count"])), "same_edges": bool(np.allclose(edges, edges[0])),
        "index": at(current), "best": at(best), "ref": at(1.0), "selected": int(selected), "title": title,
        "best_on": best_on,
        "ticks": [[at(t), f"{t:g}"] for t in TICKS],
        "token": f"{title}|{edges.shape[1] - 1}|{current:.2f}|{selected}",
    }


def bin_label(bins, b: int) -> str:
    """The bin picker's text for bin ``b`` of ``ReliabilityBins``."""
    return (f"Bin {b + 1}: confidence {bins.edges[b]:.1%}–{bins.edges[b + 1]:.1%} · {bins.count[b]:,} digits · "
            f"accuracy {bins.accuracy[b]:.0%} vs confidence {bins.confidence[b]:.0%}")


# ----------------------------------------------------------------------------- the view in a URL
@dataclass(frozen=True)
class ViewState:
    method: str
    temperature: float
    n_bins: int
    strategy: str


def specs(methods, default: ViewState):
    return (urlview.choice("method", methods, default.method),
            urlview.number("T", default.temperature, T_MIN, T_MAX, digits=2, what="temperature T"),
            urlview.integer("bins", default.n_bins, BINS_MIN, BINS_MAX),
            urlview.choice("binning", STRATEGIES, default.strategy, what="binning"),
            urlview.integer("bin", 0, 1, BINS_MAX, what="bin", optional=True))


def parse_view(params: dict, methods, default: ViewState) -> tuple[ViewState, list[str]]:
    """Read ``method``, ``T``, ``bins``, ``binning`` from query parameters: the view (defaults where a value
    is missing or invalid) and one plain-words problem per invalid value. Never raises on user input."""
    v, problems = urlview.read(params, specs(methods, default))
    return ViewState(v["method"], v["T"], v["bins"], v["binning"]), problems


def view_params(view: ViewState) -> dict[str, str]:
    """The query parameters that reopen ``view``."""
    return {"method": view.method, "T": f"{view.temperature:g}", "bins": str(view.n_bins),
            "binning": view.strategy}


def calibrator_rows(result: dict) -> dict[str, dict[str, str]]:
    """``uqcore.metrics.calibrators.compare``'s result as table rows: {title: {"ECE", "NLL", "accuracy",
    "raw mixed in"}}, formatted as every page shows them (ECE and accuracy in %, NLL to 4 places; the raw share
    only for the calibrators mixed with the raw probabilities)."""
    return {CALIBRATOR_TITLES[k]: {"ECE": f"{v['ece']:.2%}", "NLL": f"{v['nll']:.4f}",
                                   "accuracy": f"{v['accuracy']:.2%}",
                                   "raw mixed in": f"{v['raw_share']:.0%}" if "raw_share" in v else ""}
            for k, v in result.items()}


def textbook_rows(result: dict) -> dict[str, dict[str, str]]:
    """``calibrator_rows`` of the textbook forms (``compare(..., which=TEXTBOOK)``): without "raw mixed in"."""
    return {title: {c: row[c] for c in ("ECE", "NLL", "accuracy")} for title, row in calibrator_rows(result).items()}
