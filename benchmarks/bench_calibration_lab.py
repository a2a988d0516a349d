"""Calibration lab: how long a temperature change takes on the server, on the 10k test digits.

    python benchmarks/bench_calibration_lab.py            # the full build in artifacts/ if it is there
    UQCORE_QUICK=1 python benchmarks/bench_calibration_lab.py   # the quick build (built if missing)

Times (1) a full AppTest rerun of the page after moving the temperature slider (the script rerun:
softmax over cached logits, metrics at T and at T = 1, ECE at 10/15/20 bins, both figures, the image grid),
median over N reruns, and the part of it spent in the page script (Streamlit's script thread); and
(2) the pure numpy recompute alone (softmax + ECE/MCE/NLL/Brier/accuracy).
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


N = int(os.environ.get("BENCH_N", "20"))


def time_script_runs(durations: list) -> None:
    """Record how long each page-script run takes inside Streamlit's script thread (the server-side work,
    without AppTest's own bookkeeping around it)."""
    from streamlit.runtime.scriptrunner import script_runner

    original = script_runner.ScriptRunner._run_script

    def timed(self, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            durations.append(time.perf_counter() - t0)

    script_runner.ScriptRunner._run_script = timed


def main() -> None:
    from uqcore.build import BuildConfig, build, is_built

    full = BuildConfig(quick=False)
    if os.environ.get("UQCORE_QUICK", "") in ("", "0") and not is_built(full):
        print("no full build in the artifact folder; using the quick build (set UQCORE_QUICK=1 to choose it)")
        os.environ["UQCORE_QUICK"] = "1"
    quick = os.environ.get("UQCORE_QUICK", "") not in ("", "0")
    config = BuildConfig(quick=quick)
    t0 = time.perf_counter()
    bundle = build(config)
    print(f"build: {'quick' if quick else 'full'} ({time.perf_counter() - t0:.1f} s to load or build)")

    from streamlit.testing.v1 import AppTest

    from dashboard.logic.calibration import temperature_grid
    from uqcore.analysis.calibration import lab_metrics, logits_for, rescale

    script_times: list[float] = []
    time_script_runs(script_times)
    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=600)
    at.switch_page("views/calibration_lab.py")
    t0 = time.perf_counter()
    at.run()
    first = time.perf_counter() - t0
    assert not at.exception, at.exception
    slider = next(s for s in at.select_slider if s.label.startswith("Temperature"))
    temps = [float(t) for t in temperature_grid()][5:-5:5]
    times = []
    script_times.clear()
    for i in range(N + 1):  # the first is a warm-up (temperature-sweep cache for this method/bins)
        slider = next(s for s in at.select_slider if s.label.startswith("Temperature"))
        slider.set_value(temps[i % len(temps)])
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
        assert not at.exception, at.exception
    reruns = times[1:]
    script = script_times[1:]

    pred = bundle.predictions
    logits, _ = logits_for(pred, "test", "mlp")
    y = pred.y("test")
    pure = []
    for i in range(30):
        t0 = time.perf_counter()
        lab_metrics(rescale(logits, temps[i % len(temps)]), y, n_bins=15, strategy="uniform")
        pure.append(time.perf_counter() - t0)

    n = len(y)
    print(f"test points: {n:,}")
    print(f"first page run (cold caches: optimal T fit, sweeps): {first * 1000:.0f} ms")
    print(f"rerun after a temperature change (AppTest, whole page), median of {N}: "
          f"{statistics.median(reruns) * 1000:.1f} ms (min {min(reruns) * 1000:.1f}, max {max(reruns) * 1000:.1f})")
    print(f"  of which the page script itself (server side), median: {statistics.median(script) * 1000:.1f} ms "
          f"(min {min(script) * 1000:.1f}, max {max(script) * 1000:.1f})")
    print(f"pure numpy recompute (softmax + ECE/MCE/NLL/Brier/accuracy, 15 bins), median of 30: "
          f"{statistics.median(pure) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
