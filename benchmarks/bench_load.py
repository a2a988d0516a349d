"""A bounded classroom load test: N browser sessions at once on one server (loopback only).

    python benchmarks/bench_load.py [--sessions 10] [--steps 6]

One Chromium with N contexts. Each session cycles through three actions for ``--steps`` steps: open Try a
digit on a link to a test digit (``?test=<n>``, so the input is known) and read the deep ensemble's answer;
upload a PNG of a test digit (drawn 4x larger, dark on light, as a scan) on Try a digit and read the deep
ensemble's answer; open the calibration lab at a temperature (``?method=mlp&T=<t>``) and read the ECE. Every
answer is compared with the single-session answer (computed here from the cached build, the upload through the
same ``to_mnist``), exception boxes are counted, and the table gives p50/p95 latency per action (link opened or
file chosen -> answer shown), the server's own time for Try a digit (its "answered in" caption) and the
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def chromium_cpu_seconds() -> float:
    """CPU seconds of every running Chromium process (the browser and its renderers) so far."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if "chromium" in (proc / "cmdline").read_bytes().split(b"\0")[0].decode(errors="ignore"):
                    total += cpu_seconds(int(proc.name))
            except (OSError, IndexError, ValueError):
                continue
    return total
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
    return ({i: int(probs[i].argmax()) for i in digits},
            {t: f"{lab_metrics(rescale(logits, t), y)['ece']:.2%}" for t in temps}, scans)


ACTIONS = ("Try a digit (link to a test digit)", "Try a digit (upload a scan)", "Calibration lab at a temperature")


async def session(browser, url, k, steps, digits, temps, want, out, first: int = 0):
    ctx = await browser.new_context(viewport={"width": 1280, "height": 720})
    ctx.set_default_timeout(LIMIT_MS)
    ctx.set_default_navigation_timeout(LIMIT_MS)
    page = await ctx.new_page()
    for s in range(first, first + steps):
        try:
            await step(page, url, k, s, steps, digits, temps, want, out)
        except Exception as e:  # noqa: BLE001 - a step that does not finish counts as a failure, not a crash
            out.append((ACTIONS[s % 3], float("nan"), False, None))
            print(f"session {k} step {s}: {type(e).__name__}: {str(e).splitlines()[0][:120]}", file=sys.stderr)
        if await page.locator('[data-testid="stException"]').count():
            out.append(("exception box", 0.0, False, None))
    await ctx.close()


async def read_cards(page, action, i, want, k, t0, out, before: str | None = None):
    """Wait for the "answered in" caption (drawn after every card; a new one when ``before`` is given), then read
    the deep ensemble's digit."""
    caption = page.get_by_text("answered in").first
    if before is None:
        await caption.wait_for()
    else:
        deadline = time.perf_counter() + LIMIT_MS / 1000
        while not (await caption.count() and (await caption.inner_text()) != before):
            if time.perf_counter() > deadline:
                raise TimeoutError(f"no new answer within {LIMIT_MS / 1000:.0f} s")
            await asyncio.sleep(0.02)
    dt = time.perf_counter() - t0
    text = await page.locator('[data-testid="stMain"]').inner_text()
    digit = (await page.locator('.uq-card[data-method="ensemble"] .uq-big').first.inner_text()).strip()
    server = re.search(r"answered in (\d+) ms", text)
    ok = digit.isdigit() and int(digit) == want[i]
    out.append((action, dt, ok, int(server.group(1)) / 1000 if server else None))
    if not ok:
        print(f"session {k}: {action}, test digit {i}: want {want[i]}, page: {text[:300]!r}", file=sys.stderr)


async def step(page, url, k, s, steps, digits, temps, want, out):
    i = digits[(k * steps + s) % len(digits)]
    if s % 3 == 0:
        t0 = time.perf_counter()
        await page.goto(f"{url}/try_digit?test={i}")
        await read_cards(page, ACTIONS[0], i, want[0], k, t0, out)
    elif s % 3 == 1:
        if "/try_digit" not in page.url:
            await page.goto(f"{url}/try_digit")
        await page.locator('input[type="file"]').first.wait_for(state="attached")
        caption = page.get_by_text("answered in").first
        before = (await caption.inner_text()) if await caption.count() else ""
        t0 = time.perf_counter()
        await page.locator('input[type="file"]').first.set_input_files(str(UPLOADS / f"digit_{i}.png"))
        await read_cards(page, ACTIONS[1], i, want[2], k, t0, out, before=before)
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


async def run(n: int, steps: int) -> None:
    from playwright.async_api import async_playwright

    from dashboard.logic.calibration import temperature_grid

    digits, temps = list(range(0, 10000, 397)), [float(t) for t in temperature_grid()[5::10]]
    want = expected_answers(digits, temps)
    warm_steps = 3
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
            before = rss_mb(server.pid)
            warm_out: list = []  # the warm-up round: each session does each action once (not in the table)
            await asyncio.gather(*(session(browser, url, k, warm_steps, digits, temps, want, warm_out)
                                   for k in range(n)))
            warmed = rss_mb(server.pid)
            cpu0, browser0 = cpu_seconds(server.pid), chromium_cpu_seconds()
            t0 = time.perf_counter()
            await asyncio.gather(*(session(browser, url, k, steps, digits, temps, want, out, first=warm_steps)
                                   for k in range(n)))
            wall = time.perf_counter() - t0
            server_cpu, browser_cpu = cpu_seconds(server.pid) - cpu0, chromium_cpu_seconds() - browser0
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
          f"({browser_cpu / n_actions:.2f} s per action)\n")
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
