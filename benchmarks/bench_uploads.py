"""Server memory after big uploads on Try a digit, in Debian's Chromium (Playwright).

    python benchmarks/bench_uploads.py [--uploads 6]

Starts `streamlit run dashboard/app.py` on a free loopback port, opens Try a digit in one tab and uploads
one warm-up picture and then ``--uploads`` - 1 different ~17 MB PNGs (a 7 on grainy paper, under the 20 MB limit), waiting for each
to be answered. Prints the server's resident memory (VmRSS) before the first upload and after the last,
after a settle of 5 s. Since the page drops each upload from the server once read
(``dashboard.widgets.forget_upload``), memory should not grow by the uploads' size.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path[:0] = [str(Path(__file__).resolve().parent)]
from bench_browser import app_page, settle  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--uploads", type=int, default=6)
    a = ap.parse_args()
    tmp = Path("/tmp/uq_bench_uploads")
    tmp.mkdir(exist_ok=True)
    files = []
    for i in range(a.uploads):
        path = tmp / f"noise{i}.png"
        if not path.exists():
            rng = np.random.default_rng(i)
            img = Image.fromarray(rng.integers(150, 256, (2600, 2600, 3), dtype=np.uint8))  # grainy paper
            ImageDraw.Draw(img).line([(900, 800), (1700, 800), (1100, 1900)], fill=(20, 20, 20), width=120)  # a 7
            img.save(path, compress_level=1)
        files.append(path)
    with app_page("try_digit") as (page, server):
        page.locator("input[type=file]").first.wait_for(state="attached", timeout=120000)
        settle(page, 2.0)
        start = rss_mb(server.pid)
        for path in files[:1]:  # warm-up: the first reading imports Captum (the explanation) and more
            page.locator("input[type=file]").first.set_input_files(str(path))
            page.get_by_text(f"Uploaded picture '{path.name}'").first.wait_for(timeout=120000)
            settle(page)
        time.sleep(3)
        before = rss_mb(server.pid)
        for path in files[1:]:
            page.locator("input[type=file]").first.set_input_files(str(path))
            page.get_by_text(f"Uploaded picture '{path.name}'").first.wait_for(timeout=120000)
            settle(page)
        time.sleep(5)
        after = rss_mb(server.pid)
    size = sum(f.stat().st_size for f in files[1:]) / 2**20
    print(f"| {a.uploads - 1} uploads of {size / (a.uploads - 1):.1f} MB ({size:.0f} MB in all) after one warm-up "
          f"| server RSS at start {start:.0f} MB, after the warm-up {before:.0f} MB | after {after:.0f} MB | "
          f"growth {after - before:+.0f} MB |")


if __name__ == "__main__":
    main()
