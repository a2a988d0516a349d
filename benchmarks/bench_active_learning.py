"""The Active learning lab in Chromium at 1280x720: "Teach the model these 8" -> the grown curve shown.

    python benchmarks/bench_active_learning.py [--repeat 5] [--shots DIR]

Opens the lab (full build, curves cached), then per round: fills in the dataset's labels, clicks Teach, and
times from the click until the page's "With **N labels**" sentence names the new count (the chart and the
sentence are drawn in the same rerun). A fixed CPU workload is timed before and after (``reference_seconds``).
Also reports the server's own time for one round (``uqcore.acquisition.teach``, median of 5) beside it.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_browser import app_page, reference_seconds, settle, until  # noqa: E402


def server_round_seconds() -> float:
    from uqcore.acquisition import ActiveConfig, load_data, start_session, teach

    cfg = ActiveConfig()
    data = load_data(cfg)
    run = start_session(data, cfg, "bald")
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        run = teach(data, cfg, run, data.pool_y[run["queries"]].tolist())
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--shots", help="save full-page screenshots (before, after) here")
    args = ap.parse_args()
    ref0 = reference_seconds()
    rounds = []
    with app_page("active_learning?strategy=bald") as (page, _server):
        page.get_by_text("Your turn").wait_for(timeout=300_000)
        settle(page)
        if args.shots:
            Path(args.shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{args.shots}/al_start.png", full_page=True)
        for r in range(args.repeat):
            page.get_by_role("button", name="Fill in the dataset's labels for me").click()
            teach = page.get_by_role("button", name="Teach the model these 8")
            until(lambda: teach.is_enabled(), timeout=60)
            n_next = 100 + 8 * (r + 1)
            t0 = time.perf_counter()
            teach.click()
            page.get_by_text(f"With {n_next:,} labels").wait_for(timeout=60_000)
            rounds.append(time.perf_counter() - t0)
            settle(page, 0.5)
        if args.shots:
            page.screenshot(path=f"{args.shots}/al_after.png", full_page=True)
    ref1 = reference_seconds()
    server = server_round_seconds()
    print(f"| Teach 8 -> sentence and curve updated | {statistics.median(rounds):.2f} s median "
          f"({min(rounds):.2f}-{max(rounds):.2f}, {len(rounds)} rounds) | server part {server:.2f} s |")
    print(f"reference workload {ref0 * 1000:.0f} ms before, {ref1 * 1000:.0f} ms after")


if __name__ == "__main__":
    main()
