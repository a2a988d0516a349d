"""Calibration lab logic: the slider's temperatures, presets, binning choices, the view in the URL and the
page's copy. The numbers themselves come from ``uqcore.analysis.calibration``."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashboard.logic import view as urlview
from uqcore.analysis.calibration import T_MAX, T_MIN

PRESETS = {"Overconfident": 0.4, "No scaling": 1.0, "Underconfident": 3.0}
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


def slider_temperatures(extra=()) -> list[float]:
    """Options for the temperature slider: the log grid, the presets, and any ``extra`` values."""
    values = set(float(t) for t in temperature_grid())
    values.update(PRESETS.values())
    for t in extra:
        if t is not None and np.isfinite(t) and T_MIN <= t <= T_MAX:
            values.add(round(float(t), 2))
    return sorted(values)


def bin_at(edges, x) -> int | None:
    """The bin whose confidence range holds ``x`` (a clicked bar's x), or None when ``x`` is no number."""
    if edges is None or not isinstance(x, (int, float)):
        return None
    return int(np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2))


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
            urlview.choice("binning", STRATEGIES, default.strategy, what="binning"))


def parse_view(params: dict, methods, default: ViewState) -> tuple[ViewState, list[str]]:
    """Read ``method``, ``T``, ``bins``, ``binning`` from query parameters: the view (defaults where a value
    is missing or invalid) and one plain-words problem per invalid value. Never raises on user input."""
    v, problems = urlview.read(params, specs(methods, default))
    return ViewState(v["method"], v["T"], v["bins"], v["binning"]), problems


def view_params(view: ViewState) -> dict[str, str]:
    """The query parameters that reopen ``view``."""
    return {"method": view.method, "T": f"{view.temperature:g}", "bins": str(view.n_bins),
            "binning": view.strategy}
