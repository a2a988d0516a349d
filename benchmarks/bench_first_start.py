"""A first start in Chromium: from `streamlit run` on an empty artifact folder to a drawn digit answered.

    python benchmarks/bench_first_start.py [--full]

Starts the app on an empty temporary artifact folder (the full build, not the quick one), opens Try a digit,
draws a vertical stroke (a "1") as soon as the pad is there, and times: the page's title, the pad, the first
network's answer (the single network's early snapshot, ``uqcore.build.EARLY_EPOCHS`` epochs in). With
``--full`` it then waits for the whole build and times the method cards replacing the first answer by
themselves (no reload). Prints a markdown table for benchmarks/RESULTS.md, with a reference workload
(200 x softmax of 10,000 x 10 in numpy) timed before and after.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_browser import CHROMIUM, FLAGS, ROOT, free_port, goto_when_up, reference_seconds  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="also wait for the whole build (minutes)")
    a = ap.parse_args()
    ref_before = reference_seconds()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "UQCORE_ARTIFACTS": folder}
        env.pop("UQCORE_QUICK", None)
        port = free_port()
        t0 = time.perf_counter()
        server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.headless",
                                   "true", "--server.port", str(port)], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            with sync_playwright() as p:
                page = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS).new_page(
                    viewport={"width": 1280, "height": 720})
                goto_when_up(page, f"http://127.0.0.1:{port}/try_digit")
                page.locator("h1").first.wait_for(timeout=120000)
                rows.append(("Try a digit's title shown", time.perf_counter() - t0))
                pad = page.locator(".dp canvas").first
                pad.wait_for(timeout=120000)
                rows.append(("the drawing pad shown (the first network exists)", time.perf_counter() - t0))
                b = pad.bounding_box()
                page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] * 0.2)
                page.mouse.down()
                for k in range(1, 16):
                    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] * (0.2 + 0.04 * k))
                page.mouse.up()
                page.get_by_text("First network reads").first.wait_for(timeout=60000)
                rows.append(("**a drawn digit answered** (by the first network)", time.perf_counter() - t0))
                if a.full:
                    page.locator(".uq-card[data-method=\"ensemble\"]").first.wait_for(timeout=900000)
                    rows.append(("every method's card shown, without a reload", time.perf_counter() - t0))
        finally:
            server.terminate()
            server.wait()
    ref_after = reference_seconds()
    print(f"Reference workload: {ref_before * 1000:.0f} ms before, {ref_after * 1000:.0f} ms after.\n")
    print("| from `streamlit run` on an empty artifact folder | seconds |\n|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
