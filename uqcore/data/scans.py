"""Scanned handwritten digits from other sources than MNIST, and greyscale product pictures of garments.

``form_scans(n, rng)``: one handwritten digit per picture, as PNG or JPEG file bytes, the way an editor
would upload a digit cut out of some scanned document. The digit's shape is an MNIST *test* digit or one
of scikit-learn's bundled 8 x 8 digits; the styles (``SCAN_STYLES``) are:

- ``form_box``: ballpoint on white paper inside a printed form box, parts of its drop-out coloured lines
  near the border;
- ``envelope``: a felt-tip postal-code digit on cream / manila envelope paper with fibres, slightly rotated;
- ``fax``: a binarised, low-resolution fax line scan, enlarged with jagged edges, streaks and specks;
- ``photocopy``: a grey, high-contrast photocopy with toner speckle, uneven toner and a dark copier edge;
- ``cheque_box``: a cheque's amount box cut to one digit, the ink touching the edges, on a pale guilloche;
- ``pencil``: a thin, light pencil digit with graphite grain, small in a loosely cropped sheet;
- ``low_res``: a very low-resolution scan (16-21 px) enlarged by some program (nearest, bilinear, bicubic);
- ``carbon_copy``: a fuzzy violet / blue carbon copy with smudges and low contrast;
- ``microfilm``: a microfilm negative: light strokes on a dark grainy ground with vignetting and dust;
- ``notebook``: a slanted digit on ruled notebook paper, with the rule lines and a red margin;
- ``coarse_grid``: a scikit-learn 8 x 8 digit (16 grey levels) from a coarse sensor, resampled smoothly.

``garment_pictures(n, rng)``: clothing, shoes and bags (``GARMENT_KINDS``) drawn as shaded, textured
silhouettes with seams and folds, product-photo style, dark on a light background or light on a dark one,
28-300 px. No digit shapes.
"""
from __future__ import annotations

import functools
import io

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

SCAN_STYLES = ("form_box", "envelope", "fax", "photocopy", "cheque_box", "pencil", "low_res", "carbon_copy",
               "microfilm", "notebook", "coarse_grid")
GARMENT_KINDS = ("t_shirt", "trousers", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",
                 "ankle_boot", "skirt")


# ----------------------------------------------------------------------------------------------- helpers
def _even(n: int, names: tuple[str, ...], rng: np.random.Generator) -> np.ndarray:
    """``n`` names, each as often as the others (up to one), in a random order."""
    return np.array(names, dtype=object)[rng.permutation(np.arange(n) % len(names))].astype(str)


def _noise(shape, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Smooth noise of unit standard deviation (``sigma`` in px; 0 gives white noise)."""
    z = rng.standard_normal(shape)
    if sigma > 0:
        z = ndimage.gaussian_filter(z, sigma, mode="wrap")
    return z / (z.std() + 1e-9)


def _disk(r: int) -> np.ndarray:
    y, x = np.mgrid[-r:r + 1, -r:r + 1]
    return x * x + y * y <= r * r + r


def _resize(a: np.ndarray, w: int, h: int, resample=Image.LANCZOS) -> np.ndarray:
    """Resize a float picture in [0, 1] (H x W or H x W x 3)."""
    img = Image.fromarray(np.uint8(np.clip(a, 0, 1) * 255 + 0.5))
    return np.asarray(img.resize((int(w), int(h)), resample), np.float32) / 255.0


def _encode(a: np.ndarray, fmt: str, quality: int = 90) -> bytes:
    img = Image.fromarray(np.uint8(np.clip(a, 0, 1) * 255 + 0.5))
    buf = io.BytesIO()
    if fmt == "JPEG":
        img.save(buf, "JPEG", quality=int(quality))
    else:
        img.save(buf, "PNG")
    return buf.getvalue()


def _size(h: float, aspect: float, lo: int, hi: int) -> tuple[int, int]:
    """(w, h) with ``w / h = aspect``, both in [lo, hi], never 28 x 28."""
    h = int(np.clip(round(h), lo, hi))
    w = int(np.clip(round(h * aspect), lo, hi))
    return (w + 1, h) if (w, h) == (28, 28) else (w, h)


# ------------------------------------------------------------------------------------------ digit glyphs
def _typical(x: np.ndarray, y: np.ndarray, margin: float, blur: float) -> np.ndarray:
    """Digits nearer (cosine, blurred) to their own class's mean than to any other by ``margin``: it leaves
    out the odd, ambiguous ones, so every picture reads easily as its label."""
    z = ndimage.gaussian_filter(x, (0, blur, blur)).reshape(len(x), -1)
    z /= np.linalg.norm(z, axis=1, keepdims=True) + 1e-9
    means = np.stack([z[y == k].mean(0) for k in range(10)])
    sim = z @ (means / np.linalg.norm(means, axis=1, keepdims=True)).T
    own = sim[np.arange(len(y)), y].copy()
    sim[np.arange(len(y)), y] = -np.inf
    return own - sim.max(1) > margin


@functools.lru_cache(maxsize=1)
def _mnist_test():
    from uqcore.data.mnist import load_mnist

    test = load_mnist().test
    x = test.x.reshape(-1, 28, 28)
    return x, test.y, _typical(x, test.y, 0.02, 1.0)


@functools.lru_cache(maxsize=1)
def _sk_digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    x, y = d.images.astype(np.float32) / 16.0, d.target.astype(np.int64)
    return x, y, _typical(x, y, 0.03, 0.5)


def _pick(pool, label: int, rng: np.random.Generator) -> int:
    idx = np.flatnonzero((pool[1] == label) & pool[2])
    return int(idx[rng.integers(len(idx))])


def _glyph(small: np.ndarray, size: int, smooth: float) -> np.ndarray:
    """A small grey digit (white on black) upsampled to ``size`` px as smooth ink alpha in [0, 1]."""
    big = _resize(small, size, size, Image.BICUBIC)
    big = ndimage.gaussian_filter(big, smooth)
    return np.clip((big - 0.22) / 0.45, 0, 1)


def _pen(ink: np.ndarray, r: int) -> np.ndarray:
    """Thicker (r > 0, dilation) or thinner (r < 0, erosion) strokes."""
    if r > 0:
        return ndimage.grey_dilation(ink, footprint=_disk(r))
    if r < 0:
        return ndimage.grey_erosion(ink, footprint=_disk(-r))
    return ink


def _warp(ink: np.ndarray, rot_deg: float = 0.0, shear: float = 0.0, stretch: float = 1.0) -> np.ndarray:
    """Rotate, slant (x += shear * y) and stretch horizontally about the centre, on a padded canvas."""
    p = ink.shape[0] // 3
    a = np.pad(ink, p)
    t = np.deg2rad(rot_deg)
    fwd = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]) @ np.array([[stretch, -shear], [0, 1]])
    inv = np.linalg.inv(fwd)[::-1, ::-1]  # output (row, col) -> input (row, col)
    c = (np.array(a.shape) - 1) / 2
    return ndimage.affine_transform(a, inv, offset=c - inv @ c, order=1)


def _crop(ink: np.ndarray, margins, min_aspect: float = 0.0) -> np.ndarray:
    """Crop to the ink's box plus margins (left, right, top, bottom; fractions of its larger side; negative
    cuts into the ink). The width is widened to at least ``min_aspect`` x the height."""
    rows, cols = np.flatnonzero(ink.max(1) > 0.2), np.flatnonzero(ink.max(0) > 0.2)
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    d = max(r1 - r0, c1 - c0)
    ml, mr, mt, mb = (int(round(m * d)) for m in margins)
    r0, r1, c0, c1 = r0 - mt, r1 + mb, c0 - ml, c1 + mr
    extra = int(np.ceil(min_aspect * (r1 - r0) - (c1 - c0)))
    if extra > 0:
        c0, c1 = c0 - extra // 2, c1 + extra - extra // 2
    pad = max(0, -r0, -c0, r1 - ink.shape[0], c1 - ink.shape[1])
    return np.pad(ink, pad)[r0 + pad:r1 + pad, c0 + pad:c1 + pad]


def _paper(shape, rgb, rng: np.random.Generator, grain: float = 0.015, blotch: float = 0.02) -> np.ndarray:
    h, w = shape
    tone = 1 + grain * _noise((h, w), 0.6, rng) + blotch * _noise((h, w), max(h, w) / 6, rng)
    return np.clip(np.asarray(rgb, np.float32)[None, None] * tone[..., None], 0, 1)


def _ink_on(paper: np.ndarray, alpha: np.ndarray, rgb) -> np.ndarray:
    a = np.clip(alpha, 0, 1)[..., None]
    return paper * (1 - a) + np.asarray(rgb, np.float32)[None, None] * a


def _grey(a: np.ndarray) -> np.ndarray:
    return a.mean(-1) if a.ndim == 3 else a


def _width(ink: np.ndarray) -> float:
    """Mean stroke width in px: twice the ink's area over its outline's length."""
    m = ink > 0.5
    return 2 * m.sum() / max(1, (m & ~ndimage.binary_erosion(m)).sum())


def _mnist_ink(d28, rng: np.random.Generator, width=(8, 12), rot: float = 6.0, shear=(-0.1, 0.1)) -> np.ndarray:
    """The digit at 112 px, redrawn with a pen of about ``width`` px (whatever the writer's own pen), then
    rotated, slanted and stretched a little."""
    ink = _glyph(d28, 112, 1.2)
    ink = _pen(ink, int(np.clip(round((rng.uniform(*width) - _width(ink)) / 2), -4, 6)))
    return _warp(ink, rng.uniform(-rot, rot), rng.uniform(*shear), rng.uniform(0.9, 1.1))


# ------------------------------------------------------------------------------------------ scan styles
def _out(img: np.ndarray, height: float, fmt, quality: int, resample=Image.LANCZOS):
    """A scan resized to about ``height`` px tall (its aspect kept), with the format to save it in."""
    w, h = _size(height, img.shape[1] / img.shape[0], 16, 400)
    return _resize(img, w, h, resample), str(fmt), int(quality)


def _s_form_box(d, rng):
    ink = _crop(_mnist_ink(d, rng, (7, 11)), rng.uniform(0.22, 0.35, 4))
    h, w = ink.shape
    pen = [(0.1, 0.12, 0.45), (0.08, 0.08, 0.1)][rng.integers(2)]
    img = _ink_on(_paper((h, w), (0.97, 0.97, 0.96), rng), ink, pen)
    line = Image.new("L", (w, h), 0)
    dr, k = ImageDraw.Draw(line), int(rng.integers(2, 6))
    box = [(k, k, w - k, k), (w - k, k, w - k, h - k), (k, h - k, w - k, h - k), (k, k, k, h - k)]
    for i in rng.choice(4, int(rng.integers(2, 5)), replace=False):
        dr.line(box[i], fill=255, width=int(rng.integers(2, 4)))
    drop = [(0.95, 0.55, 0.55), (0.55, 0.8, 0.9), (0.7, 0.7, 0.7)][rng.integers(3)]
    img = _ink_on(img, np.asarray(line, np.float32) / 255 * 0.8 * (1 - ink), drop)
    return _out(img, rng.uniform(40, 96), rng.choice(["PNG", "JPEG"]), 92, Image.BILINEAR)


def _s_envelope(d, rng):
    ink = _crop(_mnist_ink(d, rng, (15, 21), rot=11), rng.uniform(0.1, 0.25, 4))
    h, w = ink.shape
    base = [(0.89, 0.8, 0.62), (0.95, 0.92, 0.83), (0.86, 0.76, 0.58)][rng.integers(3)]
    paper = _paper((h, w), base, rng, 0.03, 0.03)
    fibres = np.clip(_noise((h, w), 0, rng), 2.4, 4) - 2.4
    paper *= 1 - 0.25 * ndimage.gaussian_filter1d(fibres, 3, axis=int(rng.integers(2)))[..., None]
    img = _ink_on(paper, ndimage.gaussian_filter(ink, 1.0), (0.07, 0.07, 0.12))
    return _out(img, rng.uniform(48, 140), "JPEG", int(rng.integers(70, 90)))


def _s_fax(d, rng):
    ink = _crop(_mnist_ink(d, rng, (9, 13)), rng.uniform(0.1, 0.3, 4))
    h, w = ink.shape
    lo_h = int(rng.integers(24, 38))
    lo = _resize(ink, max(8, round(lo_h * w / h)), lo_h, Image.BILINEAR)
    lo = lo + 0.06 * _noise(lo.shape, 0, rng) > rng.uniform(0.38, 0.52)
    lo[rng.random(lo.shape) < 0.006] = True
    for r in rng.choice(lo.shape[0], int(rng.integers(0, 3)), replace=False):
        lo[r, rng.random(lo.shape[1]) < 0.5] = rng.random() < 0.5
    return _out(1.0 - lo, lo_h * rng.uniform(2.2, 5.5), "PNG", 0, Image.NEAREST)


def _s_photocopy(d, rng):
    ink = _crop(_mnist_ink(d, rng, (10, 14)), rng.uniform(0.15, 0.4, 4))
    h, w = ink.shape
    paper = _paper((h, w), (0.82,) * 3, rng, 0.04, 0.07)
    edge = np.linspace(1, 0, w)[None, :] ** rng.uniform(8, 20)
    paper *= 1 - 0.7 * (edge if rng.random() < 0.5 else edge[:, ::-1])[..., None]
    img = _ink_on(paper, np.clip(ink * 1.25, 0, 1), (0.05,) * 3)
    specks = ndimage.grey_dilation(rng.random((h, w)) < 0.0015, size=2) * rng.uniform(0.4, 0.9, (h, w))
    img = _grey(_ink_on(img, specks, (0.1,) * 3))
    img = np.clip((img - 0.12) * 1.25, 0, 1)
    return _out(img, rng.uniform(50, 150), rng.choice(["PNG", "JPEG"]), 80)


def _s_cheque_box(d, rng):
    m = rng.uniform(-0.06, 0.0, 4)
    m[rng.integers(4)] = rng.uniform(0.0, 0.06)
    ink = _crop(_mnist_ink(d, rng), m, min_aspect=0.55)
    h, w = ink.shape
    y, x = np.mgrid[0:h, 0:w] / 112.0
    f = rng.uniform(25, 45)
    pattern = 0.5 + 0.5 * np.sin(f * x + 3 * np.sin(f / 6 * y)) * np.sin(f * 0.7 * y + 2 * np.sin(f / 5 * x))
    tint = [(0.82, 0.92, 0.86), (0.84, 0.88, 0.96), (0.95, 0.9, 0.84)][rng.integers(3)]
    paper = _paper((h, w), tint, rng, 0.01, 0.01) * (1 - 0.16 * pattern[..., None])
    img = _ink_on(paper, ink, [(0.05, 0.08, 0.35), (0.05,) * 3][rng.integers(2)])
    return _out(img, rng.uniform(40, 100), "JPEG", int(rng.integers(75, 92)))


def _s_pencil(d, rng):
    ink = _crop(_mnist_ink(d, rng, (4, 6)), rng.uniform(0.5, 1.1, 4))
    h, w = ink.shape
    grain = np.clip(0.75 + 0.35 * _noise((h, w), 0.7, rng), 0.2, 1)
    img = _ink_on(_paper((h, w), (0.96,) * 3, rng), ink * grain * rng.uniform(0.65, 0.85), (0.2,) * 3)
    return _out(_grey(img), rng.uniform(90, 260), rng.choice(["PNG", "JPEG"]), 90)


def _s_low_res(d, rng):
    ink = _crop(_mnist_ink(d, rng, (8, 12)), rng.uniform(0.08, 0.25, 4))
    h, w = ink.shape
    img = _grey(_ink_on(_paper((h, w), (rng.uniform(0.8, 0.97),) * 3, rng), ink, (0.1,) * 3))
    lo_h = int(rng.integers(16, 22))
    lo = _resize(img, max(7, round(lo_h * w / h)), lo_h, Image.BOX)
    how = [Image.NEAREST, Image.BILINEAR, Image.BICUBIC][rng.integers(3)]
    return _out(lo, rng.uniform(32, 128), rng.choice(["PNG", "JPEG"]), 85, how)


def _s_carbon_copy(d, rng):
    ink = _crop(_mnist_ink(d, rng, (10, 14)), rng.uniform(0.15, 0.35, 4))
    h, w = ink.shape
    ink = ndimage.gaussian_filter(ink, rng.uniform(1.5, 3.0)) * np.clip(1 + 0.3 * _noise((h, w), 4, rng), 0, 1.2)
    smudge = 0.12 * np.clip(_noise((h, w), 12, rng), 0, None)
    paper = _paper((h, w), (0.93, 0.93, 0.95), rng, 0.02, 0.02)
    img = _ink_on(paper, np.clip(ink * 0.75 + smudge, 0, 1), [(0.35, 0.25, 0.6), (0.2, 0.3, 0.6)][rng.integers(2)])
    return _out(img, rng.uniform(48, 130), rng.choice(["PNG", "JPEG"]), 85)


def _s_microfilm(d, rng):
    ink = _crop(_mnist_ink(d, rng, (9, 13)), rng.uniform(0.15, 0.35, 4))
    h, w = ink.shape
    y, x = np.mgrid[-1:1:h * 1j, -1:1:w * 1j]
    ground = rng.uniform(0.12, 0.3) * (1 - 0.45 * (x * x + y * y)) + 0.03 * _noise((h, w), 0.8, rng)
    dust = ndimage.grey_dilation(rng.random((h, w)) < 0.0008, size=3).astype(np.float32) * 0.5
    img = np.clip(ground + ndimage.gaussian_filter(ink, 1.2) * rng.uniform(0.6, 0.8) + dust, 0, 1)
    return _out(img, rng.uniform(40, 120), "PNG", 0)


def _s_notebook(d, rng):
    ink = _mnist_ink(d, rng, (8, 11), rot=4, shear=(0.2, 0.4))
    ink = _crop(ink, (rng.uniform(0.25, 0.4), rng.uniform(0.2, 0.4), 0.3, 0.3))
    h, w = ink.shape
    paper = _paper((h, w), (0.98, 0.98, 0.96), rng)
    rules = np.zeros((h, w), np.float32)
    step, y0 = int(h * rng.uniform(0.62, 0.75)), int(h * rng.uniform(0.05, 0.15))
    for y in range(y0, h, step):
        rules[y:y + 2] = 1
    rules[:, int(w * rng.uniform(0.04, 0.12)):][:, :2] = 2
    paper = _ink_on(paper, 0.5 * (rules == 1), (0.45, 0.65, 0.9))
    paper = _ink_on(paper, 0.6 * (rules == 2), (0.9, 0.35, 0.35))
    img = _ink_on(paper, ink, (0.1, 0.15, 0.5))
    return _out(img, rng.uniform(60, 160), "JPEG", int(rng.integers(80, 95)))


def _s_coarse_grid(d8, rng):
    img = 1 - rng.uniform(0.75, 0.9) * np.clip((_resize(d8, 48, 48, Image.BICUBIC) - 0.2) / 0.5, 0, 1)
    img = np.pad(img, int(rng.integers(2, 8)), constant_values=1.0)
    img = img + 0.02 * _noise(img.shape, 0.8, rng)
    return _out(img, rng.uniform(16, 64), rng.choice(["PNG", "JPEG"]), 90, Image.BICUBIC)


_SCANNERS = {name: globals()[f"_s_{name}"] for name in SCAN_STYLES}


def form_scans(n: int, rng: np.random.Generator) -> tuple[list[bytes], np.ndarray, dict[str, np.ndarray]]:
    """``n`` scanned digits as PNG / JPEG bytes, their labels (0-9) and ``meta`` (``style``, ``source``,
    ``index`` into that source: MNIST's test split or scikit-learn's ``load_digits``)."""
    styles = _even(n, SCAN_STYLES, rng)
    labels = rng.permutation(np.arange(n) % 10).astype(np.int64)
    files, source, index = [], [], []
    for style, label in zip(styles, labels):
        if style == "coarse_grid":
            pool, src = _sk_digits(), "sklearn_digits"
        else:
            pool, src = _mnist_test(), "mnist_test"
        i = _pick(pool, int(label), rng)
        img, fmt, quality = _SCANNERS[style](pool[0][i], rng)
        files.append(_encode(img, fmt, quality))
        source.append(src)
        index.append(i)
    meta = {"style": styles, "source": np.array(source), "index": np.array(index, np.int64)}
    return files, labels, meta


# -------------------------------------------------------------------------------------------- garments
def _sym(top, right) -> np.ndarray:
    """A left-right symmetric outline: the top centre point, the right half (top to hem), then its mirror."""
    right = np.asarray(right, float)
    left = np.column_stack([1 - right[::-1, 0], right[::-1, 1]])
    return np.vstack([[top], right, left])


def _smooth(p: np.ndarray, it: int = 2) -> np.ndarray:
    """Chaikin corner cutting of a closed outline."""
    for _ in range(it):
        q = np.roll(p, -1, 0)
        p = np.column_stack([0.75 * p + 0.25 * q, 0.25 * p + 0.75 * q]).reshape(-1, 2)
    return p


def _arc(a, b, lift: float, n: int = 24) -> np.ndarray:
    """A quadratic curve from a to b whose middle rises by ``lift`` (y up is negative)."""
    a, b, t = np.asarray(a, float), np.asarray(b, float), np.linspace(0, 1, n)[:, None]
    c = (a + b) / 2 - [0, lift]
    return (1 - t) ** 2 * a + 2 * t * (1 - t) * c + t * t * b


def _top(rng, long: bool, wide: float = 0.0, hem: float = 0.92):
    """Outline of a top: short or long sleeves; the shoulder, armpit and hem points for seams."""
    u = rng.uniform
    nw, nd, bw = u(0.08, 0.12), u(0.05, 0.1), u(0.19, 0.24) + wide
    if long:
        out, inn = (u(0.38, 0.45) + wide, u(0.78, 0.88)), (u(0.28, 0.32) + wide, 0.0)
        inn = (inn[0], out[1] + u(0.0, 0.03))
    else:
        out = (u(0.4, 0.46) + wide, u(0.3, 0.38))
        inn = (out[0] - u(0.07, 0.1), out[1] + u(0.07, 0.1))
    arm, hem_pt = (bw, u(0.3, 0.36)), (bw + u(0.01, 0.05), hem + u(-0.03, 0.03))
    right = [(0.5 + nw, 0.1), (0.5 + bw, 0.13)] + [(0.5 + x, y) for x, y in (out, inn, arm, hem_pt)]
    return _sym((0.5, 0.1 + nd), right), right


def _ln(w: float, *pts) -> tuple[np.ndarray, float]:
    """A seam, strap or handle: a polyline and its width (fractions of the picture)."""
    return np.asarray(pts, float), w


def _hline(w: float, y: float, x: float) -> tuple[np.ndarray, float]:
    """A horizontal seam at height ``y`` from ``x`` to its mirror ``1 - x``."""
    return _ln(w, (x, y), (1 - x, y))


def _mx(p) -> tuple[float, float]:
    return 1 - p[0], p[1]


def _g_t_shirt(rng):
    poly, r = _top(rng, long=False)
    seams = [(_arc(r[0], _mx(r[0]), -0.06), 0.012), _ln(0.006, r[1], r[4]), _ln(0.006, _mx(r[1]), _mx(r[4])),
             _hline(0.006, r[5][1] - 0.04, r[5][0] - 0.01)]
    return dict(fills=[(poly, 0)], seams=seams, smooth=1)


def _g_shirt(rng):
    poly, r = _top(rng, long=True)
    cuff = r[2][1] - 0.07
    seams = [_ln(0.006, (0.5, 0.16), (0.5, r[5][1])), _ln(0.01, r[0], (0.5, 0.2), _mx(r[0])),
             _ln(0.006, (r[2][0] - 0.01, cuff), (r[3][0], cuff)),
             _ln(0.006, _mx((r[2][0] - 0.01, cuff)), _mx((r[3][0], cuff)))]
    dots = [(0.515, y, 0.012) for y in np.linspace(0.25, r[5][1] - 0.08, 5)]
    return dict(fills=[(poly, 0)], seams=seams, dots=dots)


def _g_pullover(rng):
    poly, r = _top(rng, long=True, wide=0.02)
    ribs = [_hline(0.004, r[5][1] - 0.015 - 0.02 * k, r[5][0] - 0.01) for k in range(4)]
    return dict(fills=[(poly, 0)], seams=[(_arc(r[0], _mx(r[0]), -0.07), 0.02)] + ribs, texture="knit")


def _g_coat(rng):
    poly, r = _top(rng, long=True, wide=0.04, hem=0.97)
    seams = [_ln(0.01, r[0], (0.5, 0.45), _mx(r[0])), _ln(0.008, (0.5, 0.45), (0.5, r[5][1])),
             _ln(0.008, (0.27, 0.7), (0.41, 0.7)), _ln(0.008, (0.59, 0.7), (0.73, 0.7))]
    dots = [(x, y, 0.016) for y in np.linspace(0.5, 0.8, 3) for x in (0.44, 0.56)]
    return dict(fills=[(poly, 0)], seams=seams, dots=dots)


def _g_dress(rng):
    u = rng.uniform
    waist = u(0.36, 0.46)
    right = [(0.56, 0.05), (0.6, 0.05), (0.5 + u(0.14, 0.18), 0.2), (0.5 + u(0.1, 0.13), waist),
             (0.5 + u(0.28, 0.42), u(0.9, 0.96))]
    return dict(fills=[(_sym((0.5, u(0.13, 0.2)), right), 0)], seams=[_hline(0.008, waist, 1 - right[3][0])], folds=1.5)


def _g_skirt(rng):
    u = rng.uniform
    w, hem, flare = u(0.11, 0.15), u(0.8, 0.88), u(0.3, 0.42)
    right = [(0.5 + w, 0.12), (0.5 + w + 0.02, 0.2), (0.5 + flare, hem), (0.5 + flare / 2, hem + 0.04)]
    pleats = [_ln(0.004, (0.5 + t * w, 0.19), (0.5 + t * flare, hem - 0.01)) for t in np.linspace(-0.7, 0.7, 5)]
    seams = [_hline(0.008, 0.18, 0.5 - w)] + pleats
    return dict(fills=[(_sym((0.5, 0.12), right), 0)], seams=seams, folds=1.2, smooth=1)


def _g_trousers(rng):
    u = rng.uniform
    w, ho, hi, cy = u(0.16, 0.21), u(0.18, 0.26), u(0.02, 0.05), u(0.36, 0.44)
    right = [(0.5 + w, 0.04), (0.5 + w + 0.01, 0.3), (0.5 + ho, 0.96), (0.5 + hi, 0.96)]
    poly = _sym((0.5, cy), right[::-1])  # from the crotch down the inner leg, up the outer, across the waist
    creases = [_ln(0.004, (0.5 + s * (w - 0.06), 0.1), (0.5 + s * (ho + hi) / 2, 0.95)) for s in (-1, 1)]
    seams = [_hline(0.008, 0.09, 0.5 - w), (_arc((0.5, 0.09), (0.5, cy - 0.04), 0.0), 0.006)] + creases
    return dict(fills=[(poly, 0)], seams=seams, folds=0.8, smooth=1)


def _g_sneaker(rng):
    u = rng.uniform
    sole = np.array([(0.04, 0.67), (0.95, 0.67), (0.95, 0.78), (0.07, 0.78)])
    upper = np.array([(0.93, 0.7), (0.93, 0.42), (0.86, u(0.34, 0.4)), (0.72, 0.44), (0.62, u(0.28, 0.34)),
                      (0.52, 0.35), (0.3, 0.5), (0.1, 0.57), (0.05, 0.7)])
    laces = [_ln(0.012, (0.58 - 0.06 * k, 0.34 + 0.035 * k), (0.66 - 0.06 * k, 0.4 + 0.035 * k)) for k in range(4)]
    stripe = (_arc((0.45, 0.62), (0.82, 0.48), 0.06), 0.02)
    return dict(fills=[(upper, 0), (sole, u(0.15, 0.3))], seams=laces + [stripe], texture="leather")


def _g_ankle_boot(rng):
    top = rng.uniform(0.06, 0.16)
    upper = np.array([(0.5, top), (0.85, top), (0.87, 0.72), (0.9, 0.85), (0.07, 0.85), (0.08, 0.73), (0.2, 0.62),
                      (0.42, 0.56), (0.5, 0.46)])
    sole = np.array([(0.06, 0.83), (0.91, 0.83), (0.9, 0.97), (0.7, 0.97), (0.68, 0.89), (0.07, 0.89)])
    seams = [_ln(0.01, (0.51, top + 0.05), (0.86, top + 0.05)), (_arc((0.56, top + 0.1), (0.58, 0.6), 0.0), 0.02)]
    return dict(fills=[(upper, 0), (sole, -0.25)], seams=seams, texture="leather", smooth=1)


def _g_sandal(rng):
    u = rng.uniform
    h = u(0.0, 0.18)  # heel height
    sole = np.array([(0.05, 0.8), (0.6, 0.8 - h / 3), (0.95, 0.78 - h), (0.95, 0.86), (0.05, 0.86)])
    w, top = u(0.045, 0.065), u(0.4, 0.5) - h
    straps = [(_arc((0.1, 0.8), (0.42, 0.79 - h / 3), u(0.17, 0.24)), w), _ln(w, (0.42, 0.78 - h / 3), (0.7, top)),
              _ln(w, (0.55, top + 0.02), (0.78, 0.78 - h)), (_arc((0.62, top), (0.92, top - 0.02), 0.04), w),
              _ln(w, (0.92, top - 0.02), (0.93, 0.8 - h))]
    return dict(fills=[(sole, -0.15)], strokes=straps, texture="leather", smooth=1)


def _g_bag(rng):
    u = rng.uniform
    top = u(0.35, 0.45)
    body = np.array([(0.16, top), (0.84, top), (0.92, 0.93), (0.08, 0.93)])
    handle = (_arc((0.3, top + 0.01), (0.7, top + 0.01), u(0.2, 0.3)), u(0.03, 0.05))
    flap = _ln(0.01, (0.14, top + 0.15), (0.5, top + 0.25), (0.86, top + 0.15))
    return dict(fills=[(body, 0)], strokes=[handle], seams=[flap], dots=[(0.5, top + 0.25, 0.025)], texture="leather")


_GARMENTS = {name: globals()[f"_g_{name}"] for name in GARMENT_KINDS}
TEXTURES = ("plain", "knit", "stripes", "denim", "check", "leather")


def _texture(name: str, shape, rng) -> np.ndarray:
    y, x = np.mgrid[0:shape[0], 0:shape[1]] / shape[0]
    f = rng.uniform(14, 30)
    fine = _noise(shape, 0.8, rng)
    return {"plain": 0.015 * fine, "knit": 0.05 * fine, "leather": 0.03 * _noise(shape, 2, rng),
            "stripes": 0.12 * (np.sin(2 * np.pi * f * y) > 0.3),
            "denim": 0.04 * np.sin(2 * np.pi * 60 * (x + y)) + 0.03 * fine,
            "check": 0.07 * ((np.sin(2 * np.pi * f * x) > 0) ^ (np.sin(2 * np.pi * f * y) > 0))}[name]


def _draw_garment(parts: dict, light_bg: bool, texture: str, rng, margins=(0, 0, 0, 0), S: int = 256) -> np.ndarray:
    """The garment drawn in the unit square, on a background ``margins`` (left, right, top, bottom; fractions
    of the square) wider on each side."""
    ml, mr, mt, mb = margins
    H, W = int(S * (1 + mt + mb)), int(S * (1 + ml + mr))

    def px(line):
        return [(float((x + ml) * S), float((y + mt) * S)) for x, y in np.asarray(line, float)]

    layers = {k: Image.new("L", (W, H), 0) for k in ("mask", "tone", "seam")}
    dr = {k: ImageDraw.Draw(v) for k, v in layers.items()}
    base = 128
    for poly, dt in parts.get("fills", []):
        pts = px(_smooth(np.asarray(poly, float), parts.get("smooth", 2)))
        dr["mask"].polygon(pts, fill=255)
        dr["tone"].polygon(pts, fill=int(base + 100 * dt))
    for line, w in parts.get("strokes", []):
        for k, v in (("mask", 255), ("tone", base)):
            dr[k].line(px(line), fill=v, width=max(2, int(w * S)), joint="curve")
    for line, w in parts.get("seams", []):
        dr["seam"].line(px(line), fill=255, width=max(1, int(w * S)), joint="curve")
    for x, y, r in parts.get("dots", []):
        dr["seam"].ellipse(px([(x - r, y - r), (x + r, y + r)]), fill=255)
    mask, seam = (np.asarray(layers[k], np.float32) / 255 for k in ("mask", "seam"))
    offset = (np.asarray(layers["tone"], np.float32) - base) / 100
    seam = ndimage.gaussian_filter(seam, 0.8) * mask
    yy, xx = np.mgrid[0:H, 0:W] / S - 0.5
    a = rng.uniform(0, 2 * np.pi)
    body = 1 - np.exp(-ndimage.distance_transform_edt(mask > 0.5) / (S * rng.uniform(0.02, 0.05)))
    wobble = 1.2 * _noise((H, W), S / 8, rng)
    folds = parts.get("folds", 0.4) * 0.05 * np.sin(2 * np.pi * rng.uniform(3, 7) * xx + wobble)
    shade = 0.72 + 0.28 * body + 0.15 * (np.cos(a) * xx + np.sin(a) * yy) + folds + _texture(texture, (H, W), rng)
    tone = (rng.uniform(0.55, 0.95) if not light_bg else rng.uniform(0.2, 0.7)) * (shade + 0.35 * offset)
    tone -= rng.uniform(0.15, 0.3) * seam
    if light_bg:
        bg = rng.uniform(0.85, 0.98) - 0.06 * (yy + 0.5) + 0.01 * _noise((H, W), 0.8, rng)
        shadow = ndimage.shift(ndimage.gaussian_filter(mask, S * 0.025), (S * 0.02, S * 0.01), order=1)
        bg = bg * (1 - rng.uniform(0.15, 0.35) * shadow)
    else:
        bg = rng.uniform(0.0, 0.1) + 0.01 * _noise((H, W), 0.8, rng)
    soft = ndimage.gaussian_filter(mask, 0.7)
    img = np.clip(bg * (1 - soft) + np.clip(tone, 0, 1) * soft, 0, 1)
    return img[:, ::-1] if rng.random() < 0.5 else img


def garment_pictures(n: int, rng: np.random.Generator) -> tuple[list[bytes], dict[str, np.ndarray]]:
    """``n`` greyscale garment pictures as PNG / JPEG bytes and ``meta`` (``kind``, ``background``,
    ``texture``)."""
    kinds = _even(n, GARMENT_KINDS, rng)
    files, backgrounds, textures = [], [], []
    for kind in kinds:
        parts = _GARMENTS[kind](rng)
        texture = parts.get("texture") or str(rng.choice(["plain", "knit", "stripes", "denim", "check"]))
        light = bool(rng.random() < 0.5)
        img = _draw_garment(parts, light, texture, rng, rng.uniform(0.0, 0.2, 4))
        w, h = _size(rng.uniform(28, 300), img.shape[1] / img.shape[0], 28, 300)
        fmt = str(rng.choice(["PNG", "JPEG"]))
        files.append(_encode(_resize(img, w, h), fmt, int(rng.integers(70, 95))))
        backgrounds.append("light" if light else "dark")
        textures.append(texture)
    return files, {"kind": kinds, "background": np.array(backgrounds), "texture": np.array(textures)}
