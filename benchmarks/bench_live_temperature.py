"""Calibration lab, live temperature: chart updates per second while the slider is dragged with the mouse, in
Debian's Chromium (Playwright), and the ECE shown after release against ``uqcore``'s at that temperature.

    python benchmarks/bench_live_temperature.py [--repeat 3]

A sampler in the page (requestAnimationFrame) records every painted frame in which the diagram's temperature
or ECE changed; updates per second = such frames / the drag's duration. The mouse moves at 60 events a
second, as a real drag does, so 60 is the ceiling. Each drag sweeps the slider across its whole range and
back to a point in the middle. A reference workload (softmax of 10,000 x 10 logits, 200 times, in numpy) is timed in the same run
so the figure can be read against the machine's speed. Prints a markdown table for benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from playwright.sync_api import sync_playwright

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]
from bench_browser import (CHROMIUM, FLAGS, free_port, goto_when_up, reference_seconds, settle,  # noqa: E402
                           start_app, until)

SAMPLER = """(el) => {
  const lt = el.closest('.lt');
  window.__frames = []; window.__run = true;
  let last = null;
  const tick = (now) => {
    const shown = lt.dataset.temperature + '|' + lt.querySelector('.v-ece').textContent;
    if (shown !== last) { window.__frames.push([now, shown]); last = shown; }
    if (window.__run) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""


def drag(page, slider, stop: float, seconds: float = 2.0, rate: int = 60) -> dict:
    """Drag the thumb from the left end to the right end and back to ``stop`` (a fraction of the track),
    ``rate`` mouse events a second."""
    b = slider.bounding_box()
    y = b["y"] + b["height"] / 2
    x0, x1 = b["x"] + 8, b["x"] + b["width"] - 8
    page.mouse.click(x0, y)  # put the thumb at the left end (one server round trip)
    settle(page)
    slider.evaluate(SAMPLER)
    n = int(seconds * rate)
    xs = [*np.linspace(x0, x1, n // 2), *np.linspace(x1, x0 + (x1 - x0) * stop, n - n // 2)]
    page.mouse.move(x0, y)
    page.mouse.down()
    t0 = time.perf_counter()
    for i, x in enumerate(xs):
        page.mouse.move(float(x), y)
        lag = t0 + (i + 1) / rate - time.perf_counter()
        if lag > 0:
            time.sleep(lag)
    duration = time.perf_counter() - t0
    page.mouse.up()
    frames = page.evaluate("() => { window.__run = false; return window.__frames; }")
    changes = len(frames) - 1  # the first sample is the state before the drag
    return {"updates_per_s": changes / duration, "changes": changes, "duration": duration,
            "moves": len(xs)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    from uqcore.analysis.calibration import logits_for
    from uqcore.build import build
    from uqcore.metrics.calibration import ece, softmax

    preds = build().predictions
    port = free_port()
    server = start_app(port)
    runs, checks = [], []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            goto_when_up(page, f"http://127.0.0.1:{port}/calibration_lab")
            slider = page.locator("input.t").first
            slider.wait_for(timeout=120000)
            settle(page)
            for i in range(a.repeat):
                runs.append(drag(page, slider, stop=(0.35, 0.55, 0.7)[i % 3]))
                # released: the URL and the server's numbers follow
                shown_t = page.locator(".lt").first.get_attribute("data-temperature")
                until(lambda: f"T={float(shown_t):g}&" in page.evaluate("location.href") + "&", timeout=30)
                settle(page)
                method = page.evaluate("location.href").split("method=")[1].split("&")[0]
                z, _ = logits_for(preds, "test", method)
                want = f"{ece(softmax(z, float(shown_t)), preds.y('test')):.2%}"
                metric = page.locator('[data-testid="stMetric"]').filter(has_text="ECE").first
                got = metric.locator('[data-testid="stMetricValue"]').inner_text()
                checks.append((shown_t, got, want))
            browser.close()
    finally:
        server.terminate()
    ref = reference_seconds()
    rates = [r["updates_per_s"] for r in runs]
    print(f"reference workload: {ref * 1000:.0f} ms")
    print("| while dragging the temperature | median | runs | target |\n|---|---|---|---|")
    print(f"| chart updates per second | {statistics.median(rates):.0f} | {', '.join(f'{v:.0f}' for v in rates)} "
          f"| ≥ 20 |")
    print(f"| mouse events sent per second | {statistics.median(r['moves'] / r['duration'] for r in runs):.0f} | | |")
    for t, got, want in checks:
        print(f"| after release at T = {t}: ECE shown | {got} | uqcore: {want} | {'equal' if got == want else 'DIFFERENT'} |")


if __name__ == "__main__":
    main()
