"""The generated OOD families by kind, through files, with the shipped headline (issue 11), on the full build.

    python benchmarks/probe_by_kind.py [objects doodles ...]

Per kind of a family (``shift.make(name).meta``: a doodle's or an object's kind): how many images, the share
called confident and unfamiliar, and the digits the confident ones were read as. It is run freely on the
development families (``file_path.DEVELOPMENT``) and on sketches and glyphs (their by-kind
table decided that their generators draw reader training: ``file_path.TRAINING_KINDS``). Do not run it on the
held-out families (``file_path.HELD_OUT``: scrawls, diagrams): they are only ever looked at in aggregate, so
that they stay an honest estimate.
"""
from __future__ import annotations

import collections
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from uqcore.build import build  # noqa: E402
from uqcore.data import shift  # noqa: E402
from uqcore.file_path import HELD_OUT, png_bytes, read_kinds, through_files  # noqa: E402

KIND_OF = {"objects": "object", "doodles": "doodle", "letters": "letter", "sketches": "sketch", "glyphs": "glyph"}


def main(names: list[str]) -> None:
    b = build()
    fam, reader = b.familiarity, b.methods["reader"]
    for name in names:
        if name in HELD_OUT:
            raise SystemExit(f"{name} is held out: it is only looked at in aggregate, by evaluate --json.")
        s = shift.make(name)
        x, empty = through_files([png_bytes(v) for v in s.x])
        probs, k = read_kinds(reader, fam, x, empty)
        kinds = np.asarray(s.meta[KIND_OF.get(name, name)])
        print(f"\n{name}: confident {(k == 'confident').mean():.1%}, unfamiliar {(k == 'unfamiliar').mean():.1%}\n")
        print("| kind | n | confident | unfamiliar | the confident ones read as |")
        print("|---|---|---|---|---|")
        rows = []
        for kind in np.unique(kinds):
            m = kinds == kind
            read = collections.Counter(probs[m & (k == "confident")].argmax(1).tolist()).most_common(3)
            rows.append(((k[m] == "confident").mean(), str(kind), int(m.sum()), (k[m] == "unfamiliar").mean(), read))
        for conf, kind, n, unf, read in sorted(rows, key=lambda r: (-r[0], r[1])):
            print(f"| {kind} | {n} | {conf:.0%} | {unf:.0%} | " + ", ".join(f"{d} ({c})" for d, c in read) + " |")


if __name__ == "__main__":
    main(sys.argv[1:] or ["objects", "doodles"])
