"""Command line: ``python -m uqcore train | evaluate | predict``."""
from __future__ import annotations

import argparse
import sys
import time

from .data import DataError


class _Bars:
    """One tqdm bar per build stage."""

    def __init__(self):
        from tqdm import tqdm

        self._tqdm = tqdm
        self.bars: dict[str, object] = {}

    def __call__(self, stage: str, done: int, total: int, message: str) -> None:
        bar = self.bars.get(stage)
        if bar is None:
            bar = self.bars[stage] = self._tqdm(total=total, desc=stage, unit="step", leave=True,
                                                 bar_format="{desc:<12} {bar} {n_fmt}/{total_fmt} [{elapsed}] {postfix}")
        bar.total = total
        bar.n = done
        bar.set_postfix_str(message.split(": ", 1)[-1], refresh=True)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


def cmd_train(args) -> int:
    from .build import BuildConfig, build
    from .store import Store

    store = Store(args.artifacts, log=lambda m: print(m, file=sys.stderr))
    bars = _Bars()
    t0 = time.perf_counter()
    try:
        bundle = build(BuildConfig(quick=args.quick), store=store, force=args.force, progress=bars)
    finally:
        bars.close()
    seconds = time.perf_counter() - t0
    meta = bundle.mlp_meta
    print(f"artifacts: {store.root}")
    print(f"mlp: test accuracy {meta['test_accuracy']:.2%} "
          f"({len(meta['history'])} epochs, trained in {meta['train_seconds']:.1f} s)")
    print(f"done in {seconds:.1f} s")
    return 0


def make_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m uqcore", description="Train, evaluate and query MNIST uncertainty models.")
    p.add_argument("--artifacts", default=None, help="artifact folder (default: $UQCORE_ARTIFACTS or ./artifacts)")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="build every model (a cache hit when already built)")
    t.add_argument("--quick", action="store_true", help="tiny subset and few epochs, for smoke tests")
    t.add_argument("--force", action="store_true", help="retrain even if cached")
    t.set_defaults(func=cmd_train)
    return p


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return args.func(args)
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing half-written is kept (artifacts are written atomically).", file=sys.stderr)
        return 130
