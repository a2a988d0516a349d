"""Printed digits, set in every font available, through the upload path and the shipped headline (issue 11).

    python benchmarks/probe_printed_digits.py [N]

A newsroom editor may upload a digit cut from a printed page. The model learned handwriting only, so this probe
says what the headline makes of type: N digits (default 600) in Pillow's font and every DejaVu/Liberation font
that draws (``shift._draws_letters``), 24-60 px, stroke 0-2, turned -10..10 degrees, framed like MNIST, saved as
28 x 28 PNG files and read by the shipped headline. Not a family: nothing is tuned on it.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from uqcore.build import build  # noqa: E402
from uqcore.data.preprocess import frame_like_mnist  # noqa: E402
from uqcore.data.shift import _font, letter_fonts  # noqa: E402
from uqcore.file_path import png_bytes, read_kinds, through_files  # noqa: E402


def main(n: int) -> None:
    b = build()
    rng = np.random.default_rng(5)
    fonts = letter_fonts()
    d, font = rng.integers(0, 10, n), rng.integers(0, len(fonts), n)
    size, stroke, angle = rng.integers(24, 61, n), rng.integers(0, 3, n), rng.uniform(-10, 10, n)
    x = np.empty((n, 784), np.float32)
    for i in range(n):
        img = Image.new("L", (112, 112))
        ImageDraw.Draw(img).text((20, 10), str(d[i]), fill=255, font=_font(fonts[font[i]], int(size[i])),
                                 stroke_width=int(stroke[i]), stroke_fill=255)
        x[i] = frame_like_mnist(np.asarray(img.rotate(float(angle[i]), resample=Image.Resampling.BILINEAR),
                                           np.float32) / 255.0).ravel()
    v, empty = through_files([png_bytes(r) for r in x])
    probs, k = read_kinds(b.methods["reader"], b.familiarity, v, empty)
    right = probs.argmax(1) == d
    print(f"{n} printed digits in {len(fonts)} fonts: confident {(k == 'confident').mean():.1%} (wrong "
          f"{((k == 'confident') & ~right).mean():.1%}), ambiguous {(k == 'ambiguous').mean():.1%}, unfamiliar "
          f"{(k == 'unfamiliar').mean():.1%}, no digit found {(k == 'no_digit').mean():.1%}; read {right.mean():.1%}\n")
    print("| digit | n | confident | unfamiliar | read correctly |")
    print("|---|---|---|---|---|")
    for digit in range(10):
        m = d == digit
        print(f"| {digit} | {m.sum()} | {(k[m] == 'confident').mean():.0%} | {(k[m] == 'unfamiliar').mean():.0%} | "
              f"{right[m].mean():.0%} |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 600)
