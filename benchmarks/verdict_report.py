"""Markdown tables of the headline on real-looking pictures, from ``python -m uqcore evaluate --json``.

    python -m uqcore evaluate --json > /tmp/eval.json && python benchmarks/verdict_report.py /tmp/eval.json

Prints: every OOD score's AUROC on arrays and through PNG/JPEG files (held-out families marked),
the verdict matrix (share of each headline kind per family, through files) and test accuracy.
``--blind`` leaves the held-out families out, for a choice being tuned: look at them only once it is made.
The development families (``file_path.DEVELOPMENT``: objects, doodles) and the training kinds
(``file_path.TRAINING_KINDS``: sketches, glyphs) stay in: they are where a choice is tried before the held-out ones
measure it once.
"""
from __future__ import annotations

import json
import sys


def main(path: str, blind: bool = False) -> None:
    fp = json.load(open(path))["file_path"]
    held, dev = set(fp["held_out"]), set(fp.get("development", []))
    sets = [s for s in next(iter(fp["scores"].values())) if not (blind and s in held)]
    trained = set(fp.get("training_kinds", []))

    def mark(s: str) -> str:
        status = "held out" if s in held else "development" if s in dev else "training kinds" if s in trained else ""
        return f"{s} ({status})" if status else s

    print(f"Headline threshold {fp['threshold']:.3f} (q{fp['quantile']:.2f} of clean validation digits), "
          f"confident at top probability >= {fp['confident_threshold']:.2f} ({fp['source']}).\n")
    print("| score | " + " | ".join(mark(s) for s in sets) + " |")
    print("|---|" + "---|" * len(sets))
    for score, row in fp["scores"].items():
        cells = []
        for s in sets:
            a = row[s].get("arrays", {}).get("auroc")
            cells.append(("–" if a is None else f"{a:.3f}") + f" / {row[s]['png']['auroc']:.3f}")
        print(f"| {score} | " + " | ".join(cells) + " |")
    print("\nAUROC as arrays / through files (test digits negative; 'no digit found' counts as caught).\n")
    print("| family | n | confident | ambiguous | unfamiliar | no digit | read correctly | ambiguous naming both |")
    print("|---|---|---|---|---|---|---|---|")
    for f, views in fp["verdict_matrix"].items():
        if blind and f in held:
            continue
        r = views["png"]
        extra = [f"{r['read_correctly']:.1%}" if "read_correctly" in r else "–",
                 f"{r['ambiguous_naming_both']:.1%}" if "ambiguous_naming_both" in r else "–"]
        print(f"| {mark(f)} | {r['n']} | {r['confident']:.1%} | {r['ambiguous']:.1%} | {r['unfamiliar']:.1%} | "
              f"{r['no_digit']:.1%} | " + " | ".join(extra) + " |")
    print("\n| method | test accuracy, arrays | through PNG |\n|---|---|---|")
    for m, v in fp["test_accuracy"].items():
        print(f"| {m} | {v['arrays']:.2%} | {v['png']:.2%} |")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--blind"]
    main(args[0] if args else "/dev/stdin", blind="--blind" in sys.argv[1:])
