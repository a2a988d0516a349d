"""A real browser: the app served by `streamlit run`, a stroke drawn on the canvas with the mouse.

Needs Debian's chromium at /usr/bin/chromium and the playwright package (never `playwright install`).
Run only this: ``python -m pytest -m browser``.
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
PAGES = ["", "try_digit", "calibration_lab", "embedding_map", "errors", "compare", "shift_lab", "your_predictions",
         "about"]

pytestmark = pytest.mark.browser
if not Path(CHROMIUM).exists():
    pytestmark = [pytest.mark.browser, pytest.mark.skip(reason=f"no chromium at {CHROMIUM} (apt-get install -y chromium)")]
try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover
    sync_playwright = None
    pytestmark = [pytest.mark.browser, pytest.mark.skip(reason="the playwright package is not installed "
                                                               "(pip install -r requirements-dev.txt)")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(quick_app_env, tmp_path_factory):
    """`streamlit run dashboard/app.py` on a free port, on the quick build (built first, from the CLI); every other
    setting from the repository's `.streamlit/config.toml`, as a user gets it."""
    env = dict(os.environ)
    subprocess.run([sys.executable, "-m", "uqcore", "--artifacts", str(quick_app_env), "train", "--quick"],
                   cwd=ROOT, env=env, check=True, capture_output=True, timeout=600)
    port = free_port()
    log = open(tmp_path_factory.mktemp("server") / "server.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.headless", "true",
                             "--server.port", str(port)], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
                break
            except Exception:
                if proc.poll() is not None:
                    log.seek(0)
                    pytest.fail("the app exited:\n" + log.read())
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def page(server):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        yield pg
        browser.close()


def wait_idle(pg, timeout_s: float = 120) -> None:
    pg.wait_for_selector('[data-testid="stMain"]', timeout=timeout_s * 1000)
    end, quiet = time.time() + timeout_s, 0
    while time.time() < end and quiet < 4:
        quiet = 0 if pg.locator('[data-testid="stStatusWidget"]').count() else quiet + 1
        time.sleep(0.25)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_without_exception(server, page, path):
    page.goto(f"{server}/{path}")
    wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0, \
        page.locator('[data-testid="stException"]').all_inner_texts()
    assert page.locator("h1").count() >= 1


def test_draw_a_stroke_and_get_predictions(server, page):
    page.goto(f"{server}/try_digit")
    wait_idle(page)
    canvas = None
    for frame in page.frames:  # the canvas may sit in the page or in a component iframe
        loc = frame.locator(".dp canvas")
        try:
            loc.first.wait_for(timeout=5000 if frame is not page.main_frame else 30000)
        except Exception:
            continue
        canvas = loc.first
        break
    assert canvas is not None, "no drawing canvas found"
    box = canvas.bounding_box()
    x0, y0 = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.2
    page.mouse.move(x0, y0)
    page.mouse.down()
    for k in range(1, 21):  # a vertical stroke: a "1"
        page.mouse.move(x0, y0 + k * box["height"] * 0.03)
    page.mouse.up()
    page.locator(".uq-card[data-method=\"ensemble\"]").first.wait_for(timeout=30000)
    page.get_by_text("Your drawing", exact=True).first.wait_for(timeout=10000)
    wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_text("answered in").count() == 1


def open_chart(page, url: str, nth: int = 0):
    """Open ``url``, wait for its ``nth`` plotly chart, scroll it into view; the chart and its first plot area's box."""
    page.goto(url)
    wait_idle(page)
    chart = page.locator(".js-plotly-plot").nth(nth)
    chart.wait_for(timeout=30000)
    chart.scroll_into_view_if_needed()
    time.sleep(0.5)
    return chart, chart.locator(".nsewdrag").first.bounding_box()


def no_exception(page) -> bool:
    return page.locator('[data-testid="stException"]').count() == 0


def test_lasso_on_the_map_shows_the_selected_images(server, page):
    """A real lasso drag on the map component: its ids come back as rows; a colour button recolours in the browser
    and the URL follows."""
    import math

    page.goto(f"{server}/embedding_map")
    wait_idle(page)
    canvas = page.locator(".um canvas").first
    canvas.wait_for(timeout=30000)
    canvas.scroll_into_view_if_needed()
    page.locator(".um[data-draws]").first.wait_for(timeout=30000)  # drawn at least once (in a shadow root)
    box = canvas.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    r = min(box["width"], box["height"]) * 0.2  # a loop around the middle of the map
    page.mouse.move(cx + r, cy)
    page.mouse.down()
    for k in range(1, 25):
        a = 2 * math.pi * k / 24
        page.mouse.move(cx + r * math.cos(a), cy + r * math.sin(a))
    page.mouse.up()
    page.get_by_text("images selected").first.wait_for(timeout=30000)
    wait_idle(page)
    assert no_exception(page)
    shown = int(page.locator(".um").first.get_attribute("data-selected"))
    assert shown > 0 and page.get_by_text(f"{shown:,} images selected").count() == 1, "the page got the lasso's ids"
    assert page.locator(".uq-grid img").count() > 0
    page.locator(".um .colours button", has_text="True digit").click()
    page.locator('.um[data-colour="true class"]').first.wait_for(timeout=5000)
    assert "digit 0" in page.locator(".um .legend").first.inner_text()
    page.wait_for_url("**colour=true+class**", timeout=30000)
    wait_idle(page)
    assert page.get_by_text(f"{shown:,} images selected").count() == 1, "recolouring keeps the selection"
    assert no_exception(page)


def test_click_a_confusion_cell(server, page):
    _, box = open_chart(page, f"{server}/errors", nth=1)  # the per-digit chart comes first
    # the cell true 3 (row 4 from the top), read as 5 (column 6)
    page.mouse.click(box["x"] + box["width"] * 5.5 / 10, box["y"] + box["height"] * 3.5 / 10)
    page.get_by_text("True 3, read as 5").first.wait_for(timeout=30000)
    assert no_exception(page)


def test_click_a_reliability_bar_shows_its_bin(server, page):
    page.goto(f"{server}/calibration_lab")
    page.locator("input.t").first.wait_for(timeout=120000)
    wait_idle(page)
    line = page.get_by_text("digits in this bin").first
    before = line.inner_text()
    bars = page.locator(".lt g.bin rect.count")  # the bottom panel's bars, one per confidence bin
    shown = [k for k in range(bars.count()) if bars.nth(k).is_visible()]
    assert len(shown) >= 2
    bars.nth(shown[0]).click()  # the least confident bin, not the one shown first (most ECE, high confidence)
    for _ in range(120):
        if line.inner_text() != before:
            break
        time.sleep(0.25)
    assert line.inner_text() != before, "clicking a bar did not change the bin shown"
    assert f"bin={shown[0] + 1}&" in page.evaluate("location.href") + "&"
    assert no_exception(page)


def test_live_temperature_projector_layout_and_release(server, page):
    """At 1280x720 the slider, the diagram and ECE are in the first screen; dragging the slider redraws the
    diagram in the browser, and releasing it moves the URL and the server's ECE to that temperature."""
    from uqcore.analysis.calibration import logits_for
    from uqcore.build import BuildConfig, build
    from uqcore.metrics.calibration import ece, softmax
    from uqcore.store import Store

    preds = build(BuildConfig(quick=True), store=Store(os.environ["UQCORE_ARTIFACTS"])).predictions
    pg = page.context.browser.new_page(viewport={"width": 1280, "height": 720})  # the projector's screen
    try:
        pg.goto(f"{server}/calibration_lab")
        slider = pg.locator("input.t").first
        slider.wait_for(timeout=120000)
        wait_idle(pg)
        for name, loc in (("slider", slider), ("diagram", pg.locator(".lt svg").first),
                          ("ECE", pg.locator(".lt .v-ece").first)):
            b = loc.bounding_box()
            assert b and b["y"] >= 0 and b["y"] + b["height"] <= 720 and b["x"] + b["width"] <= 1280, \
                f"{name} is not in the first screen at 1280x720: {b}"
        lt = pg.locator(".lt").first
        start = (lt.get_attribute("data-temperature"), pg.locator(".lt .v-ece").first.inner_text())
        b = slider.bounding_box()
        y = b["y"] + b["height"] / 2
        pg.mouse.move(b["x"] + b["width"] * 0.45, y)
        pg.mouse.down()
        seen = set()
        for k in range(1, 21):
            pg.mouse.move(b["x"] + b["width"] * (0.45 + 0.015 * k), y)
            seen.add((lt.get_attribute("data-temperature"), pg.locator(".lt .v-ece").first.inner_text()))
        pg.mouse.up()
        assert len(seen - {start}) >= 10, "the diagram did not follow the drag"
        t = lt.get_attribute("data-temperature")
        def url() -> str:  # asked from the page: Playwright's page.url is only refreshed by other calls
            return pg.evaluate("location.href") + "&"

        for _ in range(120):
            if f"T={float(t):g}&" in url():
                break
            time.sleep(0.25)
        assert f"T={float(t):g}&" in url(), f"the URL did not follow the release at T = {t}: {url()}"
        wait_idle(pg)
        method = url().split("method=")[1].split("&")[0]
        z, _ = logits_for(preds, "test", method)
        want = f"{ece(softmax(z, float(t)), preds.y('test')):.2%}"
        metric = pg.locator('[data-testid="stMetric"]').filter(has_text="ECE").first
        assert metric.locator('[data-testid="stMetricValue"]').inner_text() == want
        assert pg.locator(".lt .v-ece").first.inner_text() == want
    finally:
        pg.close()


def _canvas(page):
    for frame in page.frames:
        loc = frame.locator(".dp canvas")
        try:
            loc.first.wait_for(timeout=5000 if frame is not page.main_frame else 30000)
        except Exception:
            continue
        return loc.first
    raise AssertionError("no drawing canvas found")


def _stroke(page, box, points) -> None:
    """One pen stroke through ``points`` given as fractions (x, y) of the canvas."""
    xs = [box["x"] + px * box["width"] for px, _ in points]
    ys = [box["y"] + py * box["height"] for _, py in points]
    page.mouse.move(xs[0], ys[0])
    page.mouse.down()
    for (xa, ya), (xb, yb) in zip(zip(xs, ys), zip(xs[1:], ys[1:])):
        for t in (0.25, 0.5, 0.75, 1.0):
            page.mouse.move(xa + (xb - xa) * t, ya + (yb - ya) * t)
    page.mouse.up()


def test_draw_a_4_or_9_and_read_ambiguous(server, page):
    """A 4 whose top is half closed (halfway to a 9): the headline says 'Ambiguous between' two digits.
    Measured in Chromium on the full build: "Ambiguous between 4 and 9: 50% a 4, 50% a 9"; with the top stroke
    starting at x = 0.55 instead of 0.50 the same shape is "Confident: this is a 9 (100% sure)"."""
    page.goto(f"{server}/try_digit")
    wait_idle(page)
    canvas = _canvas(page)
    box = canvas.bounding_box()
    _stroke(page, box, [(0.50, 0.22), (0.40, 0.20), (0.33, 0.40), (0.38, 0.44), (0.64, 0.42)])  # the half-closed top
    wait_idle(page)
    _stroke(page, box, [(0.64, 0.20), (0.64, 0.85)])  # the long right stroke
    page.get_by_text("Your drawing", exact=True).first.wait_for(timeout=30000)
    wait_idle(page)
    alert = page.locator('[data-testid="stAlert"]').filter(has_text="Ambiguous between").first
    alert.wait_for(timeout=20000)
    text = alert.inner_text()
    import re

    assert re.search(r"Ambiguous between \d and \d", text), text
    assert page.locator('[data-testid="stException"]').count() == 0


def listening(port: int) -> set[str]:
    """The local addresses a socket on ``port`` listens on, from the kernel's tables (/proc/net/tcp, tcp6)."""
    out = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, hexport = local.split(":")
            if state == "0A" and int(hexport, 16) == port:  # 0A: LISTEN
                out.add(addr)
    return out


def test_the_server_listens_on_this_machine_only(server):
    """Started without --server.address, as the README says: the repo's config keeps it on the loopback."""
    port = int(server.rsplit(":", 1)[1])
    assert listening(port) == {"0100007F"}, listening(port)  # 127.0.0.1 only: not 0.0.0.0 nor ::


def test_an_upload_over_the_limit_is_refused_in_plain_words(server, page):
    """A 21 MB file (the limit is 20 MB): Streamlit's message under the uploader, no exception box, and the page
    still answers a picture under the limit."""
    page.goto(f"{server}/try_digit")
    wait_idle(page)
    upload = page.locator('input[type="file"]').first
    upload.wait_for(state="attached", timeout=30000)
    upload.set_input_files({"name": "huge.png", "mimeType": "image/png", "buffer": b"\x89PNG" + bytes(21 * 2**20)})
    refusal = page.get_by_text(re.compile(r"File must be 20(\.0)? ?MB or smaller"))
    refusal.first.wait_for(timeout=20000)
    wait_idle(page)
    assert no_exception(page)
    import io

    import numpy as np
    from PIL import Image

    before = page.locator(".uq-cards").first.inner_html() if page.locator(".uq-cards").count() else ""
    one = np.zeros((28, 28), np.uint8)
    one[4:24, 13:16] = 255  # a "1": white on black, as MNIST
    small = io.BytesIO()
    Image.fromarray(one).save(small, format="PNG")
    upload.set_input_files({"name": "one.png", "mimeType": "image/png", "buffer": small.getvalue()})
    end = time.time() + 60
    while time.time() < end and not (page.locator(".uq-cards").count()
                                     and page.locator(".uq-cards").first.inner_html() != before):
        time.sleep(0.2)
    wait_idle(page)
    assert page.locator(".uq-cards").count() and page.locator(".uq-cards").first.inner_html() != before
    assert no_exception(page)
