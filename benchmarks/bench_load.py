"""A bounded classroom load test: N browser sessions at once on one server (loopback only).

    python benchmarks/bench_load.py [--sessions 10] [--steps 6]

One Chromium with N contexts. Each session cycles through four actions for ``--steps`` steps: open Try a
digit on a link to a test digit (``?test=<n>``, so the input is known) and read the deep ensemble's answer;
upload a PNG of a test digit (drawn 4x larger, dark on light, as a scan) on Try a digit and read the deep
ensemble's answer; clear the drawing pad and draw one of ``SHAPES`` on it and read the deep ensemble's answer;
open the calibration lab at a temperature (``?method=mlp&T=<t>``) and read the ECE; drag the lab's temperature
slider with the mouse (30 moves at 60 a second) and, from the release, wait for the server's ECE at the
temperature the slider shows (and the address to carry it). Every answer is compared
with the single-session answer (computed here from the cached build, the upload through the same ``to_mnist``;
each drawing by one session drawing it alone before the load starts), exception boxes are counted, and the table
gives p50/p95 latency per action (link opened, file chosen or pen lifted -> answer shown), the server's own time
for Try a digit (its "answered in" caption) and the
server's memory (RSS): before, after a warm-up round (every session does each action once) and at the end.
Bounded: N sessions x steps actions, each with a ``--limit`` (default 120 s).
"""
from __future__ import annotations

import argparse
import asyncio
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


LIMIT_MS = 120_000
TICK = 100.0  # clock ticks per second of /proc/<pid>/stat (os.sysconf("SC_CLK_TCK") on Linux)


def cpu_seconds(pid: int, children: bool = False) -> float:
    """User + system CPU seconds of one process so far (``children``: plus those of its children that ended and
    were reaped: Chromium's renderers come and go with navigations)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15 if children else 13]) / TICK


def system_idle() -> tuple[int, int]:
    """(idle + iowait ticks, all ticks) of every core so far (/proc/stat)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return ticks[3] + ticks[4], sum(ticks)


def chromium_cpu() -> dict[int, float]:
    """CPU seconds so far of every running Chromium process (the browser and its renderers), by pid, each with
    its reaped children's (so a renderer that ended still counts, once, in its parent's)."""
    out = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if "chromium" in (proc / "cmdline").read_bytes().split(b"\0")[0].decode(errors="ignore"):
                    out[int(proc.name)] = cpu_seconds(int(proc.name), children=True)
            except (OSError, IndexError, ValueError):
                continue
    return out


def chromium_cpu_since(before: dict[int, float]) -> float:
    """CPU seconds Chromium spent since ``before``: a renderer that ended in between left its time in its parent's
    children's time, so the sums before and after compare."""
    return sum(chromium_cpu().values()) - sum(before.values())


UPLOADS = Path("/tmp/uqcore_bench_load")


def scan_png(x) -> bytes:
    """A test digit as a 112 x 112 PNG, dark ink on light grey paper (what a scan looks like)."""
    import io

    import numpy as np
    from PIL import Image

    img = Image.fromarray((235 - np.asarray(x).reshape(28, 28) * 200).astype(np.uint8)).resize((112, 112))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def expected_answers(digits, temps):
    """What one session sees: the ensemble's digit for each test digit (as a link, and as an uploaded scan,
    written to ``UPLOADS``), the ECE at each temperature."""
    from uqcore.analysis.calibration import lab_metrics, logits_for, rescale
    from uqcore.build import build
    from uqcore.data.preprocess import to_mnist

    bundle = build()
    probs = bundle.predictions.get("test", "ensemble", "probs")
    logits, _ = logits_for(bundle.predictions, "test", "mlp")
    y = bundle.predictions.y("test")
    UPLOADS.mkdir(exist_ok=True)
    scans = {}
    for i in digits:
        data = scan_png(bundle.predictions.images("test", [i])[0])
        (UPLOADS / f"digit_{i}.png").write_bytes(data)
        scans[i] = int(bundle.methods["ensemble"].predict(to_mnist(data).x.reshape(1, 784)).probs[0].argmax())
    LAB.update(logits=logits, y=y)  # the ECE at any temperature, for the dragged slider
    return ({i: int(probs[i].argmax()) for i in digits},
            {t: f"{lab_metrics(rescale(logits, t), y)['ece']:.2%}" for t in temps}, scans)


ACTIONS = ("Try a digit (link to a test digit)", "Try a digit (upload a scan)", "Try a digit (draw on the pad)",
           "Calibration lab at a temperature", "Calibration lab: drag the temperature, release -> server's ECE")
LAB: dict = {}  # the mlp's test logits and labels (``expected_answers``)


def lab_ece(t: float) -> str:
    """The ECE the Calibration lab shows for the mlp at temperature ``t``, as the page formats it."""
    from uqcore.analysis.calibration import lab_metrics, rescale

    return f"{lab_metrics(rescale(LAB['logits'], t), LAB['y'])['ece']:.2%}"
# Pen paths on the pad, as fractions of its width and height: a 1, a 7, a 4 and a 0-like loop.
SHAPES = (((0.5, 0.15), (0.5, 0.85)),
          ((0.25, 0.2), (0.75, 0.2), (0.45, 0.85)),
          ((0.6, 0.15), (0.25, 0.6), (0.8, 0.6), (0.62, 0.4), (0.62, 0.85)),
          ((0.5, 0.15), (0.25, 0.5), (0.5, 0.85), (0.75, 0.5), (0.5, 0.15)))


async def draw(page, shape) -> None:
    """Clear the pad when it holds a drawing, wait for the fresh one, then draw ``shape`` in one stroke (8 pen moves a
    segment)."""
    canvas = page.locator(".dp canvas").first
    await canvas.wait_for()
    if await canvas.evaluate("c => Boolean(c.dataset.strokes)"):  # a pad never drawn on needs no clearing
        await page.get_by_role("button", name="Clear the drawing").click()
    # wait for a pad whose script is attached and that holds no stroke (the cleared one replaces the old one)
    deadline = time.perf_counter() + LIMIT_MS / 1000
    while not await canvas.evaluate("c => Boolean(c.__dp) && !c.dataset.strokes"):
        if time.perf_counter() > deadline:
            raise TimeoutError("the cleared drawing pad did not appear")
        await asyncio.sleep(0.05)
    box = await canvas.bounding_box()
    at = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in shape]
    await page.mouse.move(*at[0])
    await page.mouse.down()
    for (x0, y0), (x1, y1) in zip(at, at[1:]):
        for j in range(1, 9):
            await page.mouse.move(x0 + (x1 - x0) * j / 8, y0 + (y1 - y0) * j / 8)
    await page.mouse.up()


async def drawn_answers(browser, url) -> dict[int, int]:
    """The single-session answer for each of ``SHAPES``: one session draws each alone on a quiet server."""
    page = await browser.new_page(viewport={"width": 1280, "height": 720})
    page.set_default_timeout(LIMIT_MS)
    await page.goto(f"{url}/try_digit")
    answers = {}
    for j, shape in enumerate(SHAPES):
        before = await cards_now(page)
        await draw(page, shape)
        got: list = []
        await read_cards(page, "single", 0, {0: -1}, -1, time.perf_counter(), got, before=before, quiet=True)
        answers[j] = got[0][3]
    await page.close()
    return answers


async def session(browser, url, k, steps, digits, temps, want, out, first: int = 0):
    ctx = await browser.new_context(viewport={"width": 1280, "height": 720})
    ctx.set_default_timeout(LIMIT_MS)
    ctx.set_default_navigation_timeout(LIMIT_MS)
    page = await ctx.new_page()
    for s in range(first, first + steps):
        try:
            await step(page, url, k, s, steps, digits, temps, want, out)
        except Exception as e:  # noqa: BLE001 - a step that does not finish counts as a failure, not a crash
            out.append((ACTIONS[s % 5], float("nan"), False, None))
            print(f"session {k} step {s}: {type(e).__name__}: {str(e).splitlines()[0][:120]}", file=sys.stderr)
        if await page.locator('[data-testid="stException"]').count():
            out.append(("exception box", 0.0, False, None))
    await ctx.close()


async def cards_now(page) -> str:
    """What the method cards show now ("" before any): compared before and after an action."""
    cards = page.locator(".uq-cards").first
    return (await cards.inner_html()) if await cards.count() else ""


async def read_cards(page, action, i, want, k, t0, out, before: str | None = None, quiet: bool = False):
    """Wait for the "answered in" caption (drawn after every card), and with ``before`` (``cards_now`` before the
    action) for cards that differ from it, then read the deep ensemble's digit (``quiet``: record the digit
    itself in the server-time field, print nothing)."""
    caption = page.get_by_text("answered in").first
    if before is None:
        await caption.wait_for()
    else:
        deadline = time.perf_counter() + LIMIT_MS / 1000
        while not (await caption.count() and (await cards_now(page)) != before):
            if time.perf_counter() > deadline:
                raise TimeoutError(f"no new answer within {LIMIT_MS / 1000:.0f} s")
            await asyncio.sleep(0.02)
    dt = time.perf_counter() - t0
    text = await page.locator('[data-testid="stMain"]').inner_text()
    digit = (await page.locator('.uq-card[data-method="ensemble"] .uq-big').first.inner_text()).strip()
    server = re.search(r"answered in (\d+) ms", text)
    ok = digit.isdigit() and int(digit) == want[i]
    if quiet:
        out.append((action, dt, ok, int(digit) if digit.isdigit() else None))
        return
    out.append((action, dt, ok, int(server.group(1)) / 1000 if server else None))
    if not ok:
        print(f"session {k}: {action}, test digit {i}: want {want[i]}, page: {text[:300]!r}", file=sys.stderr)


async def step(page, url, k, s, steps, digits, temps, want, out):
    i = digits[(k * steps + s) % len(digits)]
    if s % 5 == 0:
        t0 = time.perf_counter()
        await page.goto(f"{url}/try_digit?test={i}")
        await read_cards(page, ACTIONS[0], i, want[0], k, t0, out)
    elif s % 5 == 1:
        if "/try_digit" not in page.url:
            await page.goto(f"{url}/try_digit")
        await page.locator('input[type="file"]').first.wait_for(state="attached")
        before = await cards_now(page)
        t0 = time.perf_counter()
        await page.locator('input[type="file"]').first.set_input_files(str(UPLOADS / f"digit_{i}.png"))
        await read_cards(page, ACTIONS[1], i, want[2], k, t0, out, before=before)
    elif s % 5 == 2:
        if "/try_digit" not in page.url:
            await page.goto(f"{url}/try_digit")
        j = (k + s) % len(SHAPES)
        await page.get_by_text("answered in").first.wait_for()
        before = await cards_now(page)
        await draw(page, SHAPES[j])
        t0 = time.perf_counter()  # from pen up
        await read_cards(page, ACTIONS[2], j, want[3], k, t0, out, before=before)
    elif s % 5 == 4:
        await drag_temperature(page, url, k, s, out)
    else:
        t = temps[(k + s) % len(temps)]
        t0 = time.perf_counter()
        await page.goto(f"{url}/calibration_lab?method=mlp&T={t:g}")
        await page.get_by_text("digits in this bin").first.wait_for()  # the page's last part
        metric = page.locator('[data-testid="stMetric"]').filter(
            has=page.locator('[data-testid="stMetricLabel"]', has_text=re.compile(r"^ECE$"))
        ).locator('[data-testid="stMetricValue"]').first  # by its label: elements can arrive out of order
        dt = time.perf_counter() - t0
        got = (await metric.inner_text()).strip()
        out.append(("Calibration lab at a temperature", dt, got == want[1][t], None))
        if got != want[1][t]:
            slider = await page.locator('[data-testid="stMain"]').inner_text()
            print(f"session {k}: T={t}: want ECE {want[1][t]}, got {got}; {slider[:400]!r}", file=sys.stderr)


def ece_metric(page):
    """The Calibration lab's ECE figure, found by its label (elements can arrive out of order)."""
    return page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=re.compile(r"^ECE$"))
    ).locator('[data-testid="stMetricValue"]').first


async def drag_temperature(page, url, k, s, out, limit: float = 120.0) -> None:
    """Drag the lab's temperature slider (the live chart follows in the browser), release, and time the release
    -> the server's ECE for the temperature the slider shows, with the address carrying that temperature."""
    action = ACTIONS[4]
    if "/calibration_lab" not in page.url:
        await page.goto(f"{url}/calibration_lab?method=mlp")
    slider = page.locator("input.t").first
    await slider.wait_for()
    await page.get_by_text("digits in this bin").first.wait_for()
    await slider.scroll_into_view_if_needed()
    b = await slider.bounding_box()
    y, x0, x1 = b["y"] + b["height"] / 2, b["x"] + 8, b["x"] + b["width"] - 8
    start, stop = ((0.2, 0.6), (0.7, 0.35), (0.45, 0.8), (0.85, 0.5))[(k + s) % 4]
    before = await page.evaluate("location.href")
    await page.mouse.move(x0 + (x1 - x0) * start, y)
    await page.mouse.down()
    for i in range(1, 31):
        await page.mouse.move(x0 + (x1 - x0) * (start + (stop - start) * i / 30), y)
        await asyncio.sleep(1 / 60)
    await page.mouse.up()
    t0 = time.perf_counter()
    shown = float(await page.locator(".lt").first.get_attribute("data-temperature"))
    if f"T={shown:g}&" in before + "&":  # the drag ended where the page already was: nothing to wait for
        print(f"session {k}: the drag ended at the page's temperature T={shown:g}; not counted", file=sys.stderr)
        return
    want, metric = lab_ece(shown), ece_metric(page)
    got = None
    while time.perf_counter() - t0 < limit:
        here = await page.evaluate("location.href") + "&"
        if f"T={shown:g}&" in here:
            got = (await metric.inner_text()).strip()
            if got == want:
                break
        await asyncio.sleep(0.02)
    dt = time.perf_counter() - t0
    ok = got == want
    out.append((action, dt if ok else float("nan"), ok, None))
    if not ok:
        print(f"session {k}: dragged to T={shown:g}: want ECE {want}, got {got}", file=sys.stderr)


async def run(n: int, steps: int) -> None:
    from playwright.async_api import async_playwright

    from dashboard.logic.calibration import temperature_grid

    digits, temps = list(range(0, 10000, 397)), [float(t) for t in temperature_grid()[5::10]]
    want = expected_answers(digits, temps)
    warm_steps = 5
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.headless",
                               "true", "--server.port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    out: list = []
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            warm = await browser.new_page()
            for _ in range(300):
                try:
                    await warm.goto(url)
                    break
                except Exception:
                    await asyncio.sleep(0.1)
            await warm.locator("h1").first.wait_for(timeout=120000)
            await warm.close()
            want = (*want, await drawn_answers(browser, url))
            print(f"single-session answers for the drawn shapes: {want[3]}", file=sys.stderr)
            before = rss_mb(server.pid)
            warm_out: list = []  # the warm-up round: each session does each action once (not in the table)
            await asyncio.gather(*(session(browser, url, k, warm_steps, digits, temps, want, warm_out)
                                   for k in range(n)))
            warmed = rss_mb(server.pid)
            cpu0, browser0, idle0 = cpu_seconds(server.pid), chromium_cpu(), system_idle()
            t0 = time.perf_counter()
            await asyncio.gather(*(session(browser, url, k, steps, digits, temps, want, out, first=warm_steps)
                                   for k in range(n)))
            wall = time.perf_counter() - t0
            server_cpu, browser_cpu = cpu_seconds(server.pid) - cpu0, chromium_cpu_since(browser0)
            idle1 = system_idle()
            idle = (idle1[0] - idle0[0]) / max(1, idle1[1] - idle0[1])
            after = rss_mb(server.pid)
            await browser.close()
    finally:
        server.terminate()
    boxes = sum(1 for r in warm_out + out if r[0] == "exception box")
    warm_ok = sum(r[2] for r in warm_out if r[0] != "exception box")
    print(f"{n} sessions x {steps} steps in {wall:.0f} s (after a warm-up round of {warm_steps} steps: "
          f"{warm_ok}/{len(warm_out)} right); exception boxes: {boxes}; server RSS {before:.0f} MB before, "
          f"{warmed:.0f} MB after the warm-up, {after:.0f} MB at the end ({(after / warmed - 1) * 100:+.1f}% "
          "after warm-up)")
    n_actions = sum(1 for r in out if r[0] != "exception box")
    print(f"CPU in the measured phase ({wall:.0f} s x 2 cores = {2 * wall:.0f} core-seconds): server "
          f"{server_cpu:.0f} s ({server_cpu / n_actions:.2f} s per action), Chromium's {n} tabs {browser_cpu:.0f} s "
          f"({browser_cpu / n_actions:.2f} s per action); the cores idle {idle:.0%} of the time\n")
    print("| action | n | right answers | p50 s | p95 s | server s (p50) |\n|---|---|---|---|---|---|")
    for action in dict.fromkeys(a for a, *_ in out):
        rows = [r for r in out if r[0] == action]
        lat = sorted(r[1] for r in rows if r[1] == r[1])  # finished steps only (NaN = did not finish)
        if not lat:
            print(f"| {action} | {len(rows)} | 0/{len(rows)} | – | – | – |")
            continue
        server_s = [r[3] for r in rows if r[3] is not None]
        p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))]
        server_p50 = f"{statistics.median(server_s):.3f}" if server_s else "–"
        print(f"| {action} | {len(rows)} | {sum(r[2] for r in rows)}/{len(rows)} | {statistics.median(lat):.2f} | "
              f"{p95:.2f} | {server_p50} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--limit", type=float, default=120.0, help="seconds an action may take before it counts as failed")
    a = ap.parse_args()
    global LIMIT_MS
    LIMIT_MS = int(a.limit * 1000)
    asyncio.run(run(a.sessions, a.steps))


if __name__ == "__main__":
    main()
