"""A cached ``python -m uqcore train`` (a cache hit), beside a reference timed in the same run.

    python benchmarks/bench_cached_train.py [--repeat 5]

Needs a full build in ``artifacts/`` (run ``python -m uqcore train`` first). Times the whole command in a new
process, ``--repeat`` times, and as a reference ``python -c "import torch"`` in the same way: the floor of any
command that loads the package. Prints the median of each and their ratio (the figure that means something on a
shared, noisy machine).
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def seconds(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    train = [sys.executable, "-m", "uqcore", "train"]
    ref = [sys.executable, "-c", "import torch"]
    seconds(train)  # the page cache warm, as on a second start
    t, r = [], []
    for _ in range(args.repeat):  # interleaved, so that both see the same load
        t.append(seconds(train))
        r.append(seconds(ref))
    tm, rm = statistics.median(t), statistics.median(r)
    print(f"| cached `train` | `import torch` (reference) | ratio |\n|---|---|---|\n"
          f"| {tm:.2f} s ({min(t):.2f}–{max(t):.2f}) | {rm:.2f} s ({min(r):.2f}–{max(r):.2f}) | {tm / rm:.2f}x |")


if __name__ == "__main__":
    main()
