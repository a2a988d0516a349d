"""A cold full build, stage by stage, beside a reference workload timed in the same run.

    python benchmarks/bench_build.py [--device auto|cpu|cuda] [--quick] [--keep DIR]

Builds into an empty temporary folder (nothing cached; numba's compile cache empty too unless --warm-numba),
records when each
stage started and ended (from the build's progress callback), and before and after the build trains the
reference: a plain PyTorch loop over one epoch of the 50k training digits with the same MLP (784-256-64-10,
Adam, batch 128). The build's time divided by the reference's says how fast the machine was, so the figure
means something on a shared, noisy machine. Prints a markdown table for benchmarks/RESULTS.md and the
accuracy bars the build must keep.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def reference_epoch(device: str = "cpu") -> float:
    """Seconds for one epoch of a plain PyTorch loop training the build's MLP on the 50k training digits."""
    import torch

    from uqcore.data import load_mnist
    from uqcore.methods.nets import MLP, ModelConfig

    train = load_mnist().train
    x, y = torch.as_tensor(train.x, device=device), torch.as_tensor(train.y, device=device)
    torch.manual_seed(0)
    model = MLP(ModelConfig(dropout=0.2)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    t0 = time.perf_counter()
    perm = torch.randperm(len(y), device=device)
    for i in range(0, len(y), 128):
        idx = perm[i:i + 128]
        loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda"))
    ap.add_argument("--quick", action="store_true", help="the quick build (a smoke test of this script)")
    ap.add_argument("--keep", help="build into this folder instead of a temporary one (kept afterwards)")
    ap.add_argument("--warm-numba", action="store_true",
                    help="keep numba's usual compile cache (what a second build on the same install sees)")
    a = ap.parse_args()
    folder = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="bench_build_"))
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["UQCORE_ARTIFACTS"] = str(folder)

    import torch

    from uqcore.build import BuildConfig, build
    from uqcore.devices import resolve_device
    from uqcore.store import Store

    device = resolve_device(a.device)
    ref_before = reference_epoch(device)
    spans: dict[str, list[float]] = {}

    def progress(stage: str, done: int, total: int, message: str) -> None:
        now = time.perf_counter()
        spans.setdefault(stage, [now, now])[1] = now

    t0 = time.perf_counter()
    bundle = build(BuildConfig(quick=a.quick, device=device), store=Store(folder), progress=progress)
    total = time.perf_counter() - t0
    ref_after = reference_epoch(device)
    ref = (ref_before + ref_after) / 2

    print(f"torch {torch.__version__} on {device}, {torch.get_num_threads()} threads, {os.cpu_count()} cores; "
          f"{'quick' if a.quick else 'full'} build into an empty folder\n")
    print("| stage | seconds | share |\n|---|---|---|")
    previous = t0
    for stage, (start, end) in spans.items():
        # a stage runs from the end of the previous one (its first message can come late) to its last message
        seconds = end - previous
        previous = end
        print(f"| {stage} | {seconds:.1f} | {seconds / total:.0%} |")
    print(f"| **total** | **{total:.1f}** | |")
    print(f"\nReference (one epoch of a plain PyTorch loop, same MLP): {ref_before:.2f} s before, {ref_after:.2f} s "
          f"after the build; build / reference = **{total / ref:.0f}x**.\n")
    meta = bundle.meta
    from uqcore.evaluate import evaluate

    result = evaluate(bundle)["methods"]
    print("| bar | measured | must be |\n|---|---|---|")
    print(f"| mlp test accuracy | {meta['mlp']['test_accuracy']:.2%} | >= 98.3% |")
    print(f"| ensemble test accuracy | {meta['ensemble']['test_accuracy']:.2%} | >= 98.6% |")
    print(f"| temperature ECE | {result['temperature']['ece']:.2%} | <= 0.5% |")
    print(f"| evidential test accuracy | {meta['evidential']['test_accuracy']:.2%} | no worse than before |")
    if not a.keep:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
