"""Handwriting in other styles than MNIST's, as the files people upload: dark ink on white paper, one digit each.

Every style starts from an MNIST *test* digit or a scikit-learn digit (never from what any network trains on) and
changes one thing that real scans of other collections differ in:

- ``tight2`` / ``tight3`` / ``tight4``: cut to the ink's box, so the ink touches 2, 3 or 4 edges of the picture;
- ``low16`` / ``low8``: the digit shrunk to 16 or 8 px, then enlarged to 64 px (bicubic), as a low-resolution
  collection resized for the web;
- ``sklearn``: scikit-learn's own 8 x 8 digits, enlarged to 64 px (bicubic);
- ``thick``: strokes made 2-4 px bolder at 64 px (a felt pen, a marker);
- ``blurred``: a soft scan (Gaussian blur of 2-3 px at 64 px);
- ``faint``: a pale pencil (ink 20-35% darker than the paper);
- ``boxed``: centred by its box instead of its centre of mass, with a margin of 10-25% of its side.
- ``postal``: low resolution (16 px), thick and blurred, cut so the ink touches top and bottom, 64 x 64.

``style_digits(n, rng, style)`` gives ``n`` files of one style (PNG and JPEG in turn) with their labels;
``style_blends(n, rng, style)`` gives two different digits of that style overlaid at 40-60% (an ambiguous
picture that must name both). ``STYLES`` lists the names.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image
from scipy import ndimage

from uqcore.data.mnist import load_mnist

STYLES = ("tight2", "tight3", "tight4", "low16", "low8", "sklearn", "thick", "blurred", "faint", "boxed", "postal")
SIDE = 64  # the working size of a digit (and of the pictures that are not cut to the ink)


def _enlarge(img: np.ndarray, side: int) -> np.ndarray:
    """(h, w) in [0, 1] -> (side, side) bicubic, clipped to [0, 1]."""
    out = Image.fromarray(np.asarray(img, np.float32)).resize((side, side), Image.Resampling.BICUBIC)
    return np.clip(np.asarray(out, np.float32), 0.0, 1.0)


def _shrink(img: np.ndarray, side: int) -> np.ndarray:
    out = Image.fromarray(np.asarray(img, np.float32)).resize((side, side), Image.Resampling.BOX)
    return np.clip(np.asarray(out, np.float32), 0.0, 1.0)


def _crop(ink: np.ndarray, sides: int, rng: np.random.Generator) -> np.ndarray:
    """Cut ``ink`` (bright on black) to its box, leaving a margin of 8-20% of its side on ``4 - sides`` sides:
    2 -> top and bottom touch, 3 -> and the left (or right), 4 -> every edge."""
    rows, cols = np.flatnonzero(ink.max(1) > 0.2), np.flatnonzero(ink.max(0) > 0.2)
    ink = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = ink.shape
    pad = [int(rng.uniform(0.08, 0.2) * max(h, w)) for _ in range(2)]
    if sides == 2:
        return np.pad(ink, ((0, 0), (pad[0], pad[1])))
    if sides == 3:
        return np.pad(ink, ((0, 0), (pad[0], 0) if rng.random() < 0.5 else (0, pad[0])))
    return ink


def _centred_by_box(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    rows, cols = np.flatnonzero(ink.max(1) > 0.2), np.flatnonzero(ink.max(0) > 0.2)
    ink = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = ink.shape
    side = int(max(h, w) * (1 + 2 * rng.uniform(0.1, 0.25)))
    out = np.zeros((side, side), np.float32)
    out[(side - h) // 2:(side - h) // 2 + h, (side - w) // 2:(side - w) // 2 + w] = ink
    return out


def _sklearn() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.images / 16.0).astype(np.float32), d.target.astype(np.int64)


def styled(x28: np.ndarray, style: str, rng: np.random.Generator) -> np.ndarray:
    """One digit (28 x 28, or 8 x 8 for ``sklearn``; bright on black in [0, 1]) in ``style``: ink (h, w) in [0, 1]."""
    if style not in STYLES:
        raise ValueError(f"Unknown style {style!r}; expected one of {', '.join(STYLES)}.")
    ink = _enlarge(x28, SIDE)
    if style.startswith("tight"):
        return _crop(ink, int(style[-1]), rng)
    if style in ("low16", "low8"):
        return _enlarge(_shrink(ink, int(style[3:])), SIDE)
    if style == "sklearn":
        return ink
    if style == "thick":
        r = int(rng.integers(2, 5))
        return ndimage.grey_dilation(ink, footprint=_disc(r))
    if style == "blurred":
        return ndimage.gaussian_filter(ink, rng.uniform(2.0, 3.0))
    if style == "faint":
        return ink * rng.uniform(0.2, 0.35)
    if style == "boxed":
        return _centred_by_box(ink, rng)
    # postal: low resolution, bold and soft, cut to the ink top and bottom, stretched back to 64 x 64
    ink = ndimage.grey_dilation(_enlarge(_shrink(ink, 16), SIDE), footprint=_disc(int(rng.integers(2, 4))))
    ink = ndimage.gaussian_filter(ink, rng.uniform(1.0, 2.0))
    return _enlarge(_crop(ink, 2, rng), SIDE)


def _disc(r: int) -> np.ndarray:
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    return xx * xx + yy * yy <= r * r


def file_of(ink: np.ndarray, rng: np.random.Generator, fmt: str) -> bytes:
    """Ink (bright on black) as a scan: dark ink on white-ish paper with a little grain, as PNG or JPEG bytes."""
    paper = rng.uniform(0.85, 1.0)
    gray = paper * (1 - np.clip(ink, 0, 1)) + rng.normal(0, 0.01, ink.shape)
    buf = io.BytesIO()
    img = Image.fromarray((np.clip(gray, 0, 1) * 255).round().astype(np.uint8))
    img.save(buf, fmt, **({"quality": int(rng.integers(75, 95))} if fmt == "JPEG" else {}))
    return buf.getvalue()


def _sources(style: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if style == "sklearn":
        x, y = _sklearn()
    else:
        test = load_mnist().test
        x, y = test.x.reshape(-1, 28, 28), test.y
    idx = rng.choice(len(x), size=n, replace=n > len(x))
    return x[idx], y[idx]


def style_digits(n: int, rng: np.random.Generator, style: str) -> tuple[list[bytes], np.ndarray]:
    """``n`` files of one ``style`` (PNG and JPEG in turn) -> (files, labels)."""
    x, y = _sources(style, n, rng)
    return [file_of(styled(d, style, rng), rng, ("PNG", "JPEG")[i % 2]) for i, d in enumerate(x)], y


def style_blends(n: int, rng: np.random.Generator, style: str) -> tuple[list[bytes], np.ndarray, np.ndarray]:
    """``n`` files, each two different digits of ``style`` overlaid with the first at 40-60% ->
    (files, first labels, second labels). The two are drawn at the same size before the style is applied."""
    x, y = _sources(style, 3 * n, rng)
    a, b = np.arange(n), n + np.arange(n)
    b = np.where(y[a] == y[b], 2 * n + np.arange(n), b)
    keep = y[a] != y[b]
    a, b = a[keep], b[keep]
    files = []
    for i, (j, k) in enumerate(zip(a, b)):
        w = rng.uniform(0.4, 0.6)
        mix = w * x[j] + (1 - w) * x[k]  # as the build's ``ambiguous`` set blends them
        mix = np.clip(mix / max(float(mix.max()), 1e-8), 0, 1)
        files.append(file_of(styled(mix, style, rng), rng, ("PNG", "JPEG")[i % 2]))
    return files, y[a], y[b]


GARMENTS = ("shoe", "shirt", "bag")  # the clothing among ``families.OBJECTS``


def garment_files(n: int, rng: np.random.Generator) -> list[bytes]:
    """``n`` greyscale pictures of clothing (shoes, shirts, bags: ``families``' drawings, filled, some patterned),
    shaded and lit from one side, on a plain light or dark background, 80-200 px, PNG and JPEG in turn."""
    from PIL import ImageDraw

    from uqcore.data import families

    files = []
    for i in range(n):
        img = Image.new("L", (families.CANVAS, families.CANVAS))
        families._draw_object(GARMENTS[i % len(GARMENTS)], ImageDraw.Draw(img), rng, 255, int(rng.integers(3, 9)))
        if rng.random() < 0.5:
            img = families._texture(img, rng)
        a = np.asarray(img.rotate(float(rng.uniform(-20, 20)), resample=Image.Resampling.BILINEAR), np.float32) / 255
        yy, xx = np.mgrid[0:a.shape[0], 0:a.shape[1]] / a.shape[0]
        shade = 0.6 + 0.4 * (xx * np.cos(rng.uniform(0, 6.3)) + yy * np.sin(rng.uniform(0, 6.3)) + 1) / 2
        a = ndimage.gaussian_filter(a * shade, rng.uniform(0.5, 1.5))
        side = int(rng.integers(80, 201))
        a = np.asarray(Image.fromarray(a).resize((side, side), Image.Resampling.BICUBIC), np.float32)
        back = rng.uniform(0.85, 1.0) if rng.random() < 0.5 else rng.uniform(0.0, 0.15)
        gray = back + (rng.uniform(0.1, 0.4) - back if back > 0.5 else rng.uniform(0.6, 0.9) - back) * np.clip(a, 0, 1)
        gray = gray + rng.normal(0, 0.01, gray.shape)
        buf = io.BytesIO()
        fmt = ("PNG", "JPEG")[i % 2]
        Image.fromarray((np.clip(gray, 0, 1) * 255).round().astype(np.uint8)).save(buf, fmt)
        files.append(buf.getvalue())
    return files
