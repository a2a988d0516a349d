"""Every calibrator of ``uqcore.metrics.calibrators.CALIBRATORS`` (and the ``TEXTBOOK`` forms, for reference) on the full build's models: test ECE / NLL,
the NLL change against uncalibrated with its 95% paired-bootstrap interval, and the fitting time.

    python benchmarks/bench_calibrators.py [--quick] [--resamples 1000] [--methods mlp overconfident]

Fitted on the validation digits' logits, scored on the test digits (as ``evaluate --json``'s ``calibrators``).
The build comes from the cache under artifacts/ (it is built first if missing). Prints a markdown table for
benchmarks/RESULTS.md; the README's calibrator table is this output.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path[:0] = [str(Path(__file__).resolve().parent.parent)]
from uqcore.analysis.calibration import logits_for  # noqa: E402
from uqcore.build import BuildConfig, build  # noqa: E402
from uqcore.metrics.calibration import ece  # noqa: E402
from uqcore.metrics.calibrators import CALIBRATORS, LOG_EPS, TEXTBOOK, MixedWithRaw  # noqa: E402
from uqcore.store import Store  # noqa: E402


def row_nll(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    return -np.log(np.clip(p[np.arange(len(y)), y], LOG_EPS, None))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="the quick build (smoke test)")
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument("--methods", nargs="+", default=["mlp", "overconfident"])
    args = ap.parse_args()
    root = Path(__file__).resolve().parent.parent
    pred = build(BuildConfig(quick=args.quick), store=Store(root / "artifacts")).predictions
    rng = np.random.default_rng(0)
    print("| method | calibrator | test ECE | test NLL | NLL change vs none (95% paired bootstrap) "
          "| raw mixed in | fit s |")
    print("|---|---|---|---|---|---|---|")
    for method in args.methods:
        zv, zt = logits_for(pred, "val", method)[0], logits_for(pred, "test", method)[0]
        yv, yt = pred.y("val"), pred.y("test")
        boot = rng.integers(0, len(yt), (args.resamples, len(yt)))
        base = None
        for key, cls in {**CALIBRATORS, **TEXTBOOK}.items():
            t0 = time.perf_counter()
            cal = cls().fit(zv, yv)
            seconds = time.perf_counter() - t0
            p = cal.predict_proba(zt)
            loss = row_nll(p, yt)
            base = loss if key == "none" else base
            diff = loss - base
            lo, hi = np.percentile(diff[boot].mean(axis=1), [2.5, 97.5])
            change = "" if key == "none" else f"{diff.mean():+.4f} ({lo:+.4f}…{hi:+.4f})"
            share = f"{cal.raw_share_:.0%}" if isinstance(cal, MixedWithRaw) else ""
            name = f"{key} (textbook, not offered)" if key in TEXTBOOK else key
            print(f"| {method} | {name} | {ece(p, yt):.2%} | {loss.mean():.4f} | {change} | {share} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
