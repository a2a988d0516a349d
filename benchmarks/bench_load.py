"""A bounded classroom load test: N browser sessions at once on one server (loopback only).

    python benchmarks/bench_load.py [--sessions 10] [--steps 6]

One Chromium with N contexts. Each session alternates two actions for ``--steps`` steps: open Try a digit
on a link to a test digit (``?test=<n>``, so the input is known) and read the deep ensemble's answer; open
the calibration lab at a temperature (``?method=mlp&T=<t>``) and read the ECE. Every answer is compared
with the single-session answer (computed here from the cached build), exception boxes are counted, and the
table gives p50/p95 latency per action (link opened -> answer shown), the server's own time for Try a digit
(its "answered in" caption) and the server's memory (RSS) before and after. Bounded: N sessions x steps
actions, each with a 120 s limit.
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


def expected_answers(digits, temps):
    """What one session sees: the ensemble's digit for each test digit, the ECE at each temperature."""
    from uqcore.analysis.calibration import lab_metrics, logits_for, rescale
    from uqcore.build import build

    bundle = build()
    probs = bundle.predictions.get("test", "ensemble", "probs")
    logits, _ = logits_for(bundle.predictions, "test", "mlp")
    y = bundle.predictions.y("test")
    return ({i: int(probs[i].argmax()) for i in digits},
            {t: f"{lab_metrics(rescale(logits, t), y)['ece']:.2%}" for t in temps})


async def session(browser, url, k, steps, digits, temps, want, out):
    ctx = await browser.new_context(viewport={"width": 1280, "height": 720})
    page = await ctx.new_page()
    for s in range(steps):
        try:
            await step(page, url, k, s, steps, digits, temps, want, out)
        except Exception as e:  # noqa: BLE001 - a step that does not finish counts as a failure, not a crash
            out.append(("Try a digit (link to a test digit)" if s % 2 == 0 else "Calibration lab at a temperature",
                        float("nan"), False, None))
            print(f"session {k} step {s}: {type(e).__name__}: {str(e).splitlines()[0][:120]}", file=sys.stderr)
        if await page.locator('[data-testid="stException"]').count():
            out.append(("exception box", 0.0, False, None))
    await ctx.close()


async def step(page, url, k, s, steps, digits, temps, want, out):
    if s % 2 == 0:
        i = digits[(k * steps + s) % len(digits)]
        t0 = time.perf_counter()
        await page.goto(f"{url}/try_digit?test={i}")
        await page.locator("text=its reading").nth(5).wait_for(timeout=120000)  # all six cards
        dt = time.perf_counter() - t0
        text = await page.locator('[data-testid="stMain"]').inner_text()
        m = re.search(r"Deep ensemble\s+(\d)\s", text)
        server = re.search(r"answered in (\d+) ms", text)
        ok = m is not None and int(m.group(1)) == want[0][i]
        out.append(("Try a digit (link to a test digit)", dt, ok, int(server.group(1)) / 1000 if server else None))
        if not ok:
            print(f"session {k}: test digit {i}: want {want[0][i]}, page: {text[:300]!r}", file=sys.stderr)
    else:
        t = temps[(k + s) % len(temps)]
        t0 = time.perf_counter()
        await page.goto(f"{url}/calibration_lab?method=mlp&T={t:g}")
        await page.get_by_text("digits in this bin").first.wait_for(timeout=120000)  # the page's last part
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
            t0 = time.perf_counter()
            await asyncio.gather(*(session(browser, url, k, steps, digits, temps, want, out) for k in range(n)))
            wall = time.perf_counter() - t0
            after = rss_mb(server.pid)
            await browser.close()
    finally:
        server.terminate()
    print(f"{n} sessions x {steps} steps in {wall:.0f} s; server RSS {before:.0f} MB before, {after:.0f} MB after\n")
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
    a = ap.parse_args()
    asyncio.run(run(a.sessions, a.steps))


if __name__ == "__main__":
    main()
