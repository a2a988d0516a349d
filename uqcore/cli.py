"""Command line: ``python -m uqcore train | evaluate | predict``."""
from __future__ import annotations

import argparse
import json
import sys
import time

from uqcore.data import DataError
from uqcore.data.external import PredictionsError
from uqcore.devices import DeviceError
from uqcore.store import StoreError


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


def _bundle(args, *, force: bool = False):
    """Load the build (training what is missing, with bars on stderr so --json stays clean)."""
    from uqcore.build import BuildConfig, build
    from uqcore.store import Store

    store = Store(args.artifacts, log=lambda m: print(m, file=sys.stderr))
    bars = _Bars()
    try:
        from uqcore.devices import resolve_device

        return build(BuildConfig(quick=args.quick, device=resolve_device(args.device)), store=store, force=force,
                     progress=bars)
    finally:
        bars.close()


def cmd_train(args) -> int:
    from uqcore.build import BuildConfig, built_summary, familiarity_summary
    from uqcore.devices import resolve_device
    from uqcore.store import Store

    t0 = time.perf_counter()
    resolve_device(args.device)  # a device that is not there is an error, built or not
    store = Store(args.artifacts, log=lambda m: print(m, file=sys.stderr))
    meta = None if args.force else built_summary(store, BuildConfig(quick=args.quick))
    bundle = None
    if meta is None:  # something to build (or to load whole: a cache written before the summary's fields)
        bundle = _bundle(args, force=args.force)
        fam = bundle.familiarity
        store, meta = bundle.store, {**bundle.meta, "familiarity": None if fam is None else familiarity_summary(fam)}
    seconds = time.perf_counter() - t0
    print(f"artifacts: {store.root}")
    for name in ("mlp", "ensemble", "bootstrap", "evidential", "overconfident", "reader", "swag"):
        m = meta[name]
        print(f"{name}: test accuracy {m['test_accuracy']:.2%} "
              f"({m['config']['epochs']} epochs, trained in {m['train_seconds']:.1f} s on {m.get('device', 'cpu')})")
    print(f"temperature: T = {meta['posthoc']['temperature']:.3f}")
    fam = meta["familiarity"]
    if fam is not None:
        from uqcore.verdict import BAND_CONFIDENT, READER_VETO

        reader_t = meta["posthoc"]["reader_temperature"]
        print(f"headline: confident at {fam['confident']:.0%} (reader T = {reader_t:.2f}), "
              f"unfamiliar above {fam['threshold']:.2f}"
              + (f", or above {fam['band']:.2f} when under {BAND_CONFIDENT:.0%} sure of one digit ('not a digit' "
                 "counted)" if fam["band"] is not None else "")
              + (f", or when the reader gives 'not a digit' more than {READER_VETO:.0%}" if fam["reader"] else ""))
    print(f"done in {seconds:.1f} s")
    if not args.no_active:
        _active_curves(args, store)
    from uqcore.evaluate import evaluate_cached, evaluation_key

    t0 = time.perf_counter()
    if bundle is not None or store.metadata(evaluation_key(store, BuildConfig(quick=args.quick))) is None:
        evaluate_cached(bundle or _bundle(args))  # what `evaluate` prints and Compare methods shows, kept beside it
    print(f"evaluation: every method's metrics ({time.perf_counter() - t0:.1f} s)")
    return 0


def _active_curves(args, store) -> None:
    """The build's last stage: the Active learning lab's curves (cached like every stage)."""
    from uqcore.acquisition import STRATEGY_TITLES, ActiveConfig, curves_stage

    t0 = time.perf_counter()
    bars = _Bars()
    try:
        arrays, meta = curves_stage(store, ActiveConfig(quick=args.quick), force=args.force, progress=bars)
    finally:
        bars.close()
    n = int(arrays["sizes"][-1])
    parts = ", ".join(f"{STRATEGY_TITLES[s].split(' (')[0]} {v['mean']:.2%}" for s, v in meta["summary"].items())
    print(f"active learning at {n:,} labels: {parts} ({time.perf_counter() - t0:.1f} s)")


def cmd_evaluate(args) -> int:
    if args.predictions:
        from uqcore.data.external import load_predictions
        from uqcore.evaluate import evaluate_external, table_external

        result = evaluate_external(load_predictions(args.predictions))
        print(json.dumps(result, indent=2) if args.json else table_external(result))
        return 0
    from uqcore.evaluate import evaluate_cached, table

    result = evaluate_cached(_bundle(args))
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0


def cmd_predict(args) -> int:
    from uqcore.analysis.sets import build_context
    from uqcore.predict import predict_paths

    bundle = _bundle(args)
    context = build_context(bundle.predictions, bundle.methods)
    result = predict_paths(bundle.methods, args.paths, bundle.familiarity, context, explain=args.explain)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for r in result["results"]:
            print(f"{r['path']}")
            for name, m in r["methods"].items():
                flag = "  OOD" if m["is_ood"] else ""
                print(f"  {name:<12} {m['label']}  conf {m['confidence']:.3f}  total {m['total']:.3f}  "
                      f"alea {m['aleatoric']:.3f}  epi {m['epistemic']:.3f}{flag}")
            for note in r.get("notes", []):
                print(f"  note: {note}")
            h = r["headline"]
            print(f"  headline ({h['kind']}): {h['sentence']}")
            print(f"    why: {h['reason']}")
            if "prediction_set" in h:
                print(f"    {h['prediction_set']['sentence']}")
            if "explanation" in r:
                e = r["explanation"]
                print(f"    explanation: {'integrated gradients of the ' + str(e['target']) if e['shown'] else 'withheld: ' + e['reason']}")
        for e in result["errors"]:
            print(f"{e['path']}: error: {e['error']}", file=sys.stderr)
    return 0 if result["results"] or not result["errors"] else 1


def cmd_clean(args) -> int:
    from uqcore.build import current_keys
    from uqcore.store import Store

    store = Store(args.artifacts)
    gone, size = store.prune(set() if args.all else current_keys(store), dry_run=args.dry_run)
    if args.dry_run:
        for p in gone:
            print(p.name)
    verb = "would remove" if args.dry_run else "removed"
    if args.all:
        print(f"{verb} every artifact: {len(gone)} files ({_size(size)}) in {store.root}; the next start builds again")
    else:
        print(f"{verb} {len(gone)} files ({_size(size)}) that no build of this version uses, in {store.root}; "
              "the current full and quick builds are kept")
    return 0


def _size(n: int) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"


def make_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m uqcore", description="Train, evaluate and query MNIST uncertainty models.")
    p.add_argument("--artifacts", default=None, help="artifact folder (default: $UQCORE_ARTIFACTS or ./artifacts)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                   help="where networks train: a CUDA GPU when there is one (auto, the default), or the CPU")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="build every model (a cache hit when already built)")
    t.add_argument("--quick", action="store_true", help="tiny subset and few epochs, for smoke tests")
    t.add_argument("--force", action="store_true", help="retrain even if cached")
    t.add_argument("--no-active", action="store_true",
                   help="skip the Active learning lab's curves (the app computes them in the background)")
    t.set_defaults(func=cmd_train)
    e = sub.add_parser("evaluate", help="metrics of every method on the test split, OOD and shifted sets")
    e.add_argument("--json", action="store_true", help="machine-readable output")
    e.add_argument("--quick", action="store_true", help="use the quick build")
    e.add_argument("--predictions", metavar="FILE", default=None,
                   help="evaluate your own model's predictions instead (.npz with y_true and probs or logits, "
                        "or a .csv with y_true, p0..p{C-1}); see the README")
    e.set_defaults(func=cmd_evaluate)
    pr = sub.add_parser("predict", help="classify image files or folders with every method")
    pr.add_argument("paths", nargs="+", help="image files or folders of images")
    pr.add_argument("--json", action="store_true", help="machine-readable output")
    pr.add_argument("--quick", action="store_true", help="use the quick build")
    pr.add_argument("--explain", action="store_true",
                    help="add an integrated-gradients map of the headline's digit, only where the headline is "
                         "confident (otherwise the reason it is withheld)")
    pr.set_defaults(func=cmd_predict)
    c = sub.add_parser("clean", help="free disk space: remove the artifacts that earlier versions or settings left")
    c.add_argument("--dry-run", action="store_true", help="list what would go, remove nothing")
    c.add_argument("--all", action="store_true", help="remove every artifact (the next start builds everything again)")
    c.set_defaults(func=cmd_clean)
    return p


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return args.func(args)
    except (DataError, DeviceError, StoreError, PredictionsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing half-written is kept (artifacts are written atomically).", file=sys.stderr)
        return 130
