"""The Active learning lab's words and view: plain Python, no streamlit (tests/test_logic.py)."""
from __future__ import annotations

from dashboard.logic import view as urlview
from uqcore.acquisition import STRATEGIES, STRATEGY_TITLES

DEFAULT_STRATEGY = "bald"
HELP = {
    "random": "Asks about digits picked at random: what you get without any model guidance.",
    "entropy": "Asks about the digits the model is least sure of: its probabilities are spread over many digits.",
    "margin": "Asks about the digits whose two likeliest answers are closest.",
    "bald": "Asks about the digits on which the model's own dropout samples disagree most (mutual information): "
            "doubt that more labels can remove.",
}


def view_specs():
    return (urlview.choice("strategy", STRATEGIES, DEFAULT_STRATEGY, what="strategy"),)


def _points(x: float) -> str:
    return f"{x * 100:+.1f} points"


def verdict(summary: dict, n_labels: int, n_seeds: int) -> str:
    """The curves in one sentence: the best strategy at the last size against random picks."""
    rand = summary["random"]["mean"]
    best = max((s for s in STRATEGIES if s != "random"), key=lambda s: summary[s]["mean"])
    gain = summary[best]["mean"] - rand
    runs = f"mean of {n_seeds} runs" if n_seeds > 1 else "one run"
    if gain <= 0:
        return (f"With {n_labels:,} labels no strategy beat random picks here: random {rand:.1%}, the best of the "
                f"others ({STRATEGY_TITLES[best]}) {summary[best]['mean']:.1%} ({runs}).")
    spread = summary["random"]["max"] - summary["random"]["min"]
    return (f"With {n_labels:,} labels, **{STRATEGY_TITLES[best]}** reads {summary[best]['mean']:.1%} of test digits "
            f"right, against {rand:.1%} for random picks ({_points(gain)}; {runs}, random's runs spread over "
            f"{spread * 100:.1f} points).")


def table_rows(summary: dict) -> list[dict]:
    """Exact numbers per strategy at the last size."""
    return [{"strategy": STRATEGY_TITLES[s], "mean accuracy": f"{summary[s]['mean']:.2%}",
             "lowest run": f"{summary[s]['min']:.2%}", "highest run": f"{summary[s]['max']:.2%}",
             "vs random": "–" if s == "random" else _points(summary[s]["mean"] - summary["random"]["mean"])}
            for s in STRATEGIES]


def progress_text(stages: dict) -> str:
    status = stages.get("active")
    if status is None:
        return "starting…"
    return f"{status.done} of {status.total} trainings · {status.message.split(': ', 1)[-1]}"


def round_sentence(session: dict) -> str:
    """Where the interactive run stands: accuracy now, change since the last round, labels that differ."""
    (n, acc), before = session["history"][-1], session["history"][:-1]
    text = f"With **{n:,} labels** the model reads **{acc:.1%}** of the test digits right"
    text += f" ({_points(acc - before[-1][1])} since the last round)." if before else "."
    if session.get("mislabelled"):
        k = session["mislabelled"]
        text += (f" {k} of your labels differ from the dataset's: the model learned what you told it, "
                 "so they may cost accuracy.")
    return text


def query_captions(n: int) -> list[str]:
    return [f"#{i + 1}" for i in range(n)]
