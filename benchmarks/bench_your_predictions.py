"""Your predictions, with a 1,000,000-row file: user action -> changed figures, in Debian's Chromium (Playwright).

    python benchmarks/bench_your_predictions.py [--rows 1000000] [--repeat 3]

Writes an .npz of ``--rows`` rows x 10 classes (logits of a synthetic, overconfident model), starts the app,
types the file's path on the page, and times: the path entered -> the file's summary shown (reading, checking,
fitting the temperature, first figures); then, ``--repeat`` times, a temperature slider step (one arrow key)
-> the ECE figure changed. A reference workload (softmax of 10,000 x 10 logits, 200 times, numpy) is timed
in the same run. Prints a markdown table for benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]
from bench_browser import app_page, settle, until  # noqa: E402
from bench_live_temperature import reference_seconds  # noqa: E402


def write_file(path: Path, rows: int) -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 2.5, (rows, 10)).astype(np.float32)
    noisy = logits / 1.6 + rng.gumbel(size=logits.shape).astype(np.float32)  # labels from softmax(logits / 1.6)
    np.savez(path, y_true=noisy.argmax(1), logits=logits)


def ece_shown(page) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="ECE").first
    return metric.locator('[data-testid="stMetricValue"]').inner_text()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    ref = reference_seconds()
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "mine.npz"
        write_file(f, args.rows)
        with app_page("your_predictions") as (page, _):
            box = page.get_by_placeholder("/home/me/predictions.npz")
            box.wait_for(timeout=120_000)
            settle(page)
            box.fill(str(f))
            box.press("Enter")  # until() starts its clock here
            load = until(lambda: page.get_by_text(f"{args.rows:,} rows").count() > 0
                         and page.locator('[data-testid="stMetric"]').count() >= 5, timeout=300)
            settle(page)
            steps = []
            for _ in range(args.repeat):
                before = ece_shown(page)
                page.get_by_role("slider").first.focus()
                t0 = time.perf_counter()
                page.keyboard.press("ArrowRight")
                until(lambda: ece_shown(page) != before, timeout=60)
                steps.append(time.perf_counter() - t0)
                settle(page)
    print(f"reference workload: {ref:.3f} s\n")
    print("| user action -> changed figures | seconds | runs | x reference | target |\n|---|---|---|---|---|")
    print(f"| path of a {args.rows:,}-row file entered -> summary and figures | {load:.2f} | 1 | {load / ref:.0f} "
          "| – |")
    med = statistics.median(steps)
    print(f"| temperature step -> ECE changed | {med:.2f} | {', '.join(f'{s:.2f}' for s in steps)} | "
          f"{med / ref:.0f} | ≤ 1 |")


if __name__ == "__main__":
    main()
