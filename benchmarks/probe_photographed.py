"""Non-digits photographed on paper: does the upload path keep the verdict? (issue 11; the full build).

    python benchmarks/probe_photographed.py [N] [family ...]

Each picture of a family (``shift.make(name)``, the first N, default 300) is written on grey paper and
photographed as ``families.digit_photos`` photographs test digits (``families.photo_of``: lighting, shadow,
grain, blur, JPEG, the picture filling 5-30% of the photo); the JPEG goes through ``to_mnist`` and the shipped
headline (``file_path.read_kinds``). Prints the share of each headline kind beside the same pictures saved
as 28 x 28 PNG files. Test digits are the reference. Never run on the held-out families (``file_path.HELD_OUT``).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from uqcore.build import build  # noqa: E402
from uqcore.data import families, load_mnist, shift  # noqa: E402
from uqcore.file_path import HELD_OUT, png_bytes, read_kinds, through_files  # noqa: E402

DEFAULT = ("test", "letters", "objects", "doodles", "sketches", "glyphs")


def main(n: int, names: list[str]) -> None:
    b = build()
    fam, reader = b.familiarity, b.methods["reader"]
    print("| family | as | n | confident | ambiguous | unfamiliar | no digit found | read correctly |")
    print("|---|---|---|---|---|---|---|---|")
    for name in names:
        if name in HELD_OUT:
            raise SystemExit(f"{name} is held out: it is only looked at in aggregate, by evaluate --json.")
        if name == "test":
            t = load_mnist().test
            x, y = t.x[:n], t.y[:n]
        else:
            s = shift.make(name)
            x, y = s.x[:n], s.y[:n]
        rng = np.random.default_rng(401)
        for view, files in (("28 x 28 PNG", [png_bytes(v) for v in x]),
                            ("photo", [families.photo_of(v, rng)[0] for v in x])):
            v, empty = through_files(files)
            probs, k = read_kinds(reader, fam, v, empty)
            share = {kind: (k == kind).mean() for kind in ("confident", "ambiguous", "unfamiliar", "no_digit")}
            read = f"{((probs.argmax(1) == y) & ~empty).mean():.1%}" if (y >= 0).all() else "–"
            print(f"| {name} | {view} | {len(x)} | {share['confident']:.1%} | {share['ambiguous']:.1%} | "
                  f"{share['unfamiliar']:.1%} | {share['no_digit']:.1%} | {read} |")


if __name__ == "__main__":
    args = sys.argv[1:]
    count = int(args.pop(0)) if args and args[0].isdigit() else 300
    main(count, args or list(DEFAULT))
