"""A markdown row of the photo probes (probe_frames, probe_table): photos of test digits through the upload path."""
from __future__ import annotations

import numpy as np

from uqcore.data import preprocess
from uqcore.file_path import read_kinds, through_files

HEADER = "| confident | ambiguous | unfamiliar | no digit found | read correctly |"


def photo_row(bundle, name: str, files: list[bytes], y: np.ndarray, fact: str) -> str:
    """``| name | n | share with framing[fact] | each headline kind | read correctly |`` for ``files`` of digits ``y``."""
    found = np.mean([bool(preprocess.to_mnist(f).framing.get(fact)) for f in files])
    v, empty = through_files(files)
    probs, k = read_kinds(bundle.methods["reader"], bundle.familiarity, v, empty)
    share = {kind: (k == kind).mean() for kind in ("confident", "ambiguous", "unfamiliar", "no_digit")}
    return (f"| {name} | {len(files)} | {found:.1%} | {share['confident']:.1%} | {share['ambiguous']:.1%} | "
            f"{share['unfamiliar']:.1%} | {share['no_digit']:.1%} | {((probs.argmax(1) == y) & ~empty).mean():.1%} |")
