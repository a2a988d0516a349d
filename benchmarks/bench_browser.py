"""User action -> changed chart, in Debian's Chromium (Playwright), on the full cached build.

    python benchmarks/bench_browser.py [--repeat 3]

Starts `streamlit run dashboard/app.py` on a free loopback port and measures, as a user would see it:
Home's title after launch; the first pen stroke in a fresh tab until the method cards show, and a later
stroke until the cards change (both from the moment the pen lifts, and from pen down: the stroke itself is 16
mouse moves, ~0.25 s); the Embedding map's first draw and a recolour; a box selection until its
images show; an Errors filter until the count line changes. Each after-launch figure is the median of
``--repeat`` runs. Prints a markdown table for benchmarks/RESULTS.md with the issue's target beside each.
"""
from __future__ import annotations

import argparse
import contextlib
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int) -> subprocess.Popen:
    """`streamlit run dashboard/app.py` on ``port`` (loopback), output discarded."""
    return subprocess.Popen([sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.headless",
                             "true", "--server.port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def goto_when_up(page, url: str, tries: int = 600) -> None:
    """Open ``url``, retrying every 0.1 s while the server is still starting."""
    for _ in range(tries):
        try:
            page.goto(url)
            return
        except Exception:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer")


@contextlib.contextmanager
def app_page(path: str, *, width: int = 1280, height: int = 720):
    """``(page, server)``: the app served on a free loopback port and a Chromium page opened on ``path``;
    the browser and the server are closed at the end."""
    port = free_port()
    server = start_app(port)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page(viewport={"width": width, "height": height})
            goto_when_up(page, f"http://127.0.0.1:{port}/{path}")
            yield page, server
            browser.close()
    finally:
        server.terminate()


def until(check, timeout: float = 60.0, step: float = 0.01) -> float:
    """Seconds until ``check()`` is true (polled every ``step``); raises on timeout."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if check():
            return time.perf_counter() - t0
        time.sleep(step)
    raise TimeoutError("the page did not change in time")


def settle(page, quiet: float = 1.0) -> None:
    """Wait until Streamlit's running indicator has been gone for ``quiet`` seconds."""
    calm = 0.0
    while calm < quiet:
        calm = 0.0 if page.locator('[data-testid="stStatusWidget"]').count() else calm + 0.1
        time.sleep(0.1)


def canvas_box(page):
    for frame in page.frames:
        loc = frame.locator(".dp canvas")
        try:
            loc.first.wait_for(timeout=5000 if frame is not page.main_frame else 30000)
        except Exception:
            continue
        return loc.first.bounding_box()
    raise RuntimeError("no drawing canvas")


def stroke(page, box, x: float) -> float:
    """A vertical stroke at ``x`` (a fraction of the pad); returns the clock when the pen lifted."""
    page.mouse.move(box["x"] + x * box["width"], box["y"] + 0.2 * box["height"])
    page.mouse.down()
    for k in range(1, 16):
        page.mouse.move(box["x"] + x * box["width"], box["y"] + (0.2 + k * 0.04) * box["height"])
    page.mouse.up()
    return time.perf_counter()


def reference_seconds() -> float:
    """A fixed CPU workload (200 x softmax of 10,000 x 10 in numpy), timed before and after: how busy the cores were."""
    import numpy as np

    z = np.random.default_rng(0).normal(size=(10000, 10))
    t0 = time.perf_counter()
    for _ in range(200):
        e = np.exp(z - z.max(1, keepdims=True))
        e / e.sum(1, keepdims=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--strokes-only", action="store_true", help="time Home and the strokes, skip the map and Errors")
    a = ap.parse_args()
    ref_before = reference_seconds()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    t_launch = time.perf_counter()
    server = start_app(port)
    rows: dict[str, list[float]] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            goto_when_up(page, url)
            page.locator("h1").first.wait_for(timeout=120000)
            rows["Home rendered after `streamlit run`"] = [time.perf_counter() - t_launch]
            for _ in range(a.repeat):
                tab = browser.new_page(viewport={"width": 1280, "height": 720})  # a fresh tab each time
                tab.goto(f"{url}/try_digit")
                box = canvas_box(tab)
                settle(tab)
                t0 = time.perf_counter()
                up = stroke(tab, box, 0.5)
                tab.locator(".uq-card[data-method=\"ensemble\"]").first.wait_for(timeout=60000)
                rows.setdefault("first stroke in a fresh tab -> cards", []).append(time.perf_counter() - up)
                rows.setdefault("(the same, from pen down)", []).append(time.perf_counter() - t0)
                settle(tab)
                before = tab.get_by_text("answered in").first.inner_text()
                t0 = time.perf_counter()
                up = stroke(tab, box, 0.35)
                until(lambda: tab.get_by_text("answered in").first.inner_text() != before)
                rows.setdefault("later stroke -> cards", []).append(time.perf_counter() - up)
                rows.setdefault("(the same, from pen down) ", []).append(time.perf_counter() - t0)
                tab.close()
            for _ in range(0 if a.strokes_only else a.repeat):
                t0 = time.perf_counter()
                page.goto(f"{url}/embedding_map")
                page.locator(".um[data-draws]").first.wait_for(timeout=60000)  # drawn once
                rows.setdefault("map: open by its address (a full page load) -> first draw", []).append(
                    time.perf_counter() - t0)
                settle(page)
                page.get_by_role("link", name="Errors").first.click()  # away, then back as a user does: the sidebar
                page.get_by_text("of the 10,000 test digits match").first.wait_for(timeout=60000)
                settle(page)
                t0 = time.perf_counter()
                page.get_by_role("link", name="Embedding map").first.click()
                page.locator(".um[data-draws]").first.wait_for(timeout=60000)
                rows.setdefault("map: open from the sidebar -> first draw", []).append(time.perf_counter() - t0)
                settle(page)
                t0 = time.perf_counter()
                page.locator(".um .colours button", has_text="True digit").click()
                until(lambda: "digit 0" in (page.locator(".um .legend").first.text_content() or ""))
                rows.setdefault("map: recolour -> changed chart", []).append(time.perf_counter() - t0)
                settle(page)
                canvas = page.locator(".um canvas").first
                canvas.scroll_into_view_if_needed()
                b = canvas.bounding_box()
                page.locator(".um .modes button", has_text="Box").click()
                t0 = time.perf_counter()
                page.mouse.move(b["x"] + b["width"] * 0.4, b["y"] + b["height"] * 0.4)
                page.mouse.down()
                page.mouse.move(b["x"] + b["width"] * 0.6, b["y"] + b["height"] * 0.6, steps=4)
                page.mouse.up()
                page.get_by_text("images selected").first.wait_for(timeout=60000)
                rows.setdefault("map: selection -> images", []).append(time.perf_counter() - t0)
            for _ in range(0 if a.strokes_only else a.repeat):
                page.goto(f"{url}/errors")
                page.get_by_text("of the 10,000 test digits match").first.wait_for(timeout=60000)
                settle(page)
                line = page.get_by_text("of the 10,000 test digits match").first
                before = line.inner_text()
                page.get_by_role("combobox").nth(1).click()  # True digit
                t0 = time.perf_counter()
                page.get_by_role("option", name="7", exact=True).click()
                until(lambda: line.inner_text() != before)
                rows.setdefault("Errors: filter -> changed list", []).append(time.perf_counter() - t0)
            browser.close()
    finally:
        server.terminate()
    targets = {"Home rendered after `streamlit run`": 3.0, "first stroke in a fresh tab -> cards": 0.5,
               "(the same, from pen down)": float("nan"), "(the same, from pen down) ": float("nan"),
               "later stroke -> cards": 0.3, "map: open from the sidebar -> first draw": 1.0,
               "map: open by its address (a full page load) -> first draw": float("nan"),
               "map: recolour -> changed chart": 0.3,
               "map: selection -> images": 0.5, "Errors: filter -> changed list": 0.3}
    ref_after = reference_seconds()
    print(f"Reference workload (200 x softmax of 10,000 x 10, numpy): {ref_before * 1000:.0f} ms before, "
          f"{ref_after * 1000:.0f} ms after.\n")
    print("| user action -> changed chart | median s | runs | target |\n|---|---|---|---|")
    for name, values in rows.items():
        print(f"| {name} | {statistics.median(values):.2f} | {', '.join(f'{v:.2f}' for v in values)} | "
              f"{'≤ ' + format(targets[name], 'g') if targets[name] == targets[name] else '–'} |")


if __name__ == "__main__":
    main()
