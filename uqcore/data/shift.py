"""Named, deterministic out-of-distribution (OOD) and distribution-shift sets.

``make(name, n=..., seed=...)`` builds a ``ShiftSet`` from what ships offline: MNIST *test* digits
(never training ones), Pillow's and the system's TrueType fonts, and scikit-learn's bundled images.
OOD sets have label -1; shift sets keep the digit's label. Same name, seed and n -> same arrays.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from uqcore.data import N_CLASSES, blind, blind2, families, load_mnist
from uqcore.data.preprocess import frame_like_mnist

ANGLES = tuple(range(0, 181, 15))  # rotated: 0..180 degrees in 15-degree steps
MIX_WEIGHTS = (0.5, 0.6, 0.7)  # ambiguous: weight of the dominant digit
BLANK_LEVELS = tuple(np.round(np.linspace(0.0, 1.0, 11), 2))
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class SetSpec:
    name: str
    kind: str  # "ood" (not digits, label -1) or "shift" (digits, labelled, but unlike the training data)
    description: str  # one plain-English line for the UI
    seed: int
    size: int  # default number of images


@dataclass
class ShiftSet:
    name: str
    kind: str
    x: np.ndarray  # (n, 784) float32 in [0, 1]
    y: np.ndarray  # (n,) int64, -1 for OOD sets
    meta: dict[str, np.ndarray] = field(default_factory=dict)  # per-image arrays of length n

    def __len__(self) -> int:
        return len(self.y)


# ----------------------------------------------------------------------------- helpers


def _test_digits(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n random MNIST test digits -> (images (n, 28, 28), labels (n,), test indices (n,))."""
    test = load_mnist().test
    idx = rng.permutation(len(test))[:n] if n <= len(test) else rng.integers(0, len(test), n)
    return test.x[idx].reshape(-1, 28, 28), test.y[idx], idx.astype(np.int64)


def _affine(imgs: np.ndarray, matrices: np.ndarray, offsets: np.ndarray | None = None) -> np.ndarray:
    """Apply a 2x2 matrix (per image, about the centre) to (n, 28, 28) images, bilinear, zero fill.

    ``matrices`` (n, 2, 2) map output coordinates to input ones; ``offsets`` (n, 2) add a shift.
    """
    c = np.array([13.5, 13.5])
    out = np.empty_like(imgs)
    for i, (img, m) in enumerate(zip(imgs, matrices)):
        off = c - m @ c - (0 if offsets is None else offsets[i])
        out[i] = ndimage.affine_transform(img, m, offset=off, order=1, mode="constant", cval=0.0)
    return np.clip(out, 0.0, 1.0)


def _rotation(deg: np.ndarray) -> np.ndarray:
    t = np.deg2rad(deg)
    return np.stack([np.stack([np.cos(t), -np.sin(t)], -1), np.stack([np.sin(t), np.cos(t)], -1)], -2)


# ----------------------------------------------------------------------------- corruptions
# Each takes (n, 28, 28) float images, a severity 1..5 and a Generator; returns (n, 28, 28).


def _shot_noise(x, s, rng):
    lam = (60, 25, 12, 5, 3)[s - 1]
    return rng.poisson(x * lam) / lam


def _impulse_noise(x, s, rng):
    amount = (0.03, 0.06, 0.09, 0.17, 0.27)[s - 1]
    u = rng.random(x.shape)
    return np.where(u < amount / 2, 0.0, np.where(u > 1 - amount / 2, 1.0, x))


def _gaussian_blur(x, s, rng):
    return ndimage.gaussian_filter(x, sigma=(0, *(2 * [(0.6, 0.9, 1.2, 1.6, 2.0)[s - 1]])))


def _motion_blur(x, s, rng):
    length = (3, 5, 7, 9, 11)[s - 1]
    out = np.empty_like(x)
    for i, img in enumerate(x):
        k = Image.new("L", (length, length))
        a = rng.uniform(0, np.pi)
        r = (length - 1) / 2
        ImageDraw.Draw(k).line([(r - r * np.cos(a), r - r * np.sin(a)), (r + r * np.cos(a), r + r * np.sin(a))], fill=255)
        k = np.asarray(k, np.float64)
        out[i] = ndimage.convolve(img, k / k.sum(), mode="constant")
    return out


def _shear(x, s, rng):
    f = (0.15, 0.3, 0.45, 0.6, 0.75)[s - 1] * rng.choice([-1, 1], len(x))
    m = np.zeros((len(x), 2, 2))
    m[:, 0, 0] = m[:, 1, 1] = 1
    m[:, 1, 0] = f  # column shifts with row
    return _affine(x, m)


def _scale(x, s, rng):
    f = (0.85, 0.7, 0.6, 0.5, 0.4)[s - 1]
    return _affine(x, np.tile(np.eye(2) / f, (len(x), 1, 1)))


def _translate(x, s, rng):
    d = (2, 3, 4, 5, 6)[s - 1]
    a = rng.uniform(0, 2 * np.pi, len(x))
    return _affine(x, np.tile(np.eye(2), (len(x), 1, 1)), np.stack([d * np.sin(a), d * np.cos(a)], -1))


def _brightness(x, s, rng):
    return x + (0.15, 0.25, 0.35, 0.45, 0.55)[s - 1]


def _contrast(x, s, rng):
    c = (0.7, 0.55, 0.4, 0.3, 0.2)[s - 1]
    return (x - 0.5) * c + 0.5


def _stripe(x, s, rng):
    width = (2, 4, 6, 8, 10)[s - 1]
    out = x.copy()
    for i, start in enumerate(rng.integers(4, 24 - width, len(x))):
        out[i, :, start : start + width] = 1.0 - out[i, :, start : start + width]
    return out


def _lines(x, s, rng, *, zigzag: bool):
    n_lines = s
    out = np.empty_like(x)
    for i, img in enumerate(x):
        layer = Image.new("L", (28, 28))
        draw = ImageDraw.Draw(layer)
        for _ in range(n_lines):
            if zigzag:
                xs = np.linspace(rng.uniform(0, 6), rng.uniform(22, 28), rng.integers(4, 8))
                ys = rng.uniform(4, 24) + rng.choice([-1, 1]) * rng.uniform(2, 5) * (np.arange(len(xs)) % 2)
                pts = list(zip(xs, ys)) if rng.random() < 0.5 else list(zip(ys, xs))
                draw.line(pts, fill=255, width=1)
            else:
                p0, p1 = rng.uniform(0, 28, 2), rng.uniform(0, 28, 2)
                for t in np.linspace(0, 1, 12):
                    px, py = p0 + t * (p1 - p0)
                    draw.point((px, py), fill=255)
        out[i] = np.maximum(img, np.asarray(layer, np.float64) / 255.0)
    return out


def _fog(x, s, rng):
    strength = (0.2, 0.3, 0.4, 0.5, 0.6)[s - 1]
    field_ = ndimage.gaussian_filter(rng.random(x.shape), sigma=(0, 4, 4))
    lo = field_.min((1, 2), keepdims=True)
    hi = field_.max((1, 2), keepdims=True)
    return x + strength * (field_ - lo) / np.maximum(hi - lo, 1e-8)


def _inverse(x, s, rng):
    a = (0.2, 0.4, 0.6, 0.8, 1.0)[s - 1]
    return (1 - a) * x + a * (1 - x)


def _pixelate(x, s, rng):
    side = (20, 14, 11, 9, 7)[s - 1]
    out = np.empty_like(x)
    for i, img in enumerate(x):
        im = Image.fromarray(img.astype(np.float32)).resize((side, side), Image.Resampling.BOX)
        out[i] = np.asarray(im.resize((28, 28), Image.Resampling.NEAREST))
    return out


_CORRUPT: dict[str, Callable] = {
    "shot_noise": _shot_noise,
    "impulse_noise": _impulse_noise,
    "gaussian_blur": _gaussian_blur,
    "motion_blur": _motion_blur,
    "shear": _shear,
    "scale": _scale,
    "translate": _translate,
    "brightness": _brightness,
    "contrast": _contrast,
    "stripe": _stripe,
    "zigzag": functools.partial(_lines, zigzag=True),
    "dotted_line": functools.partial(_lines, zigzag=False),
    "fog": _fog,
    "inverse": _inverse,
    "pixelate": _pixelate,
}
CORRUPTIONS: tuple[str, ...] = tuple(_CORRUPT)
SEVERITIES = (1, 2, 3, 4, 5)


def corrupt(x: np.ndarray, name: str, severity: int, rng: np.random.Generator) -> np.ndarray:
    """MNIST-C-style corruption (Mu & Gilmer 2019) of images ``x`` (..., 784) or (..., 28, 28).

    Returns float32 in [0, 1] of the same shape. ``severity`` is 1 (mild) .. 5 (strong).
    """
    if name not in _CORRUPT:
        raise ValueError(f"unknown corruption {name!r}; valid: {', '.join(CORRUPTIONS)}.")
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {SEVERITIES}, got {severity!r}.")
    x = np.asarray(x, dtype=np.float64)
    shape = x.shape
    if shape[-1] != 784 and shape[-2:] != (28, 28):
        raise ValueError(f"expected images of shape (..., 784) or (..., 28, 28), got {shape}.")
    imgs = x.reshape(-1, 28, 28)
    out = _CORRUPT[name](imgs, severity, rng)
    return np.clip(out, 0.0, 1.0).astype(np.float32).reshape(shape)


# ----------------------------------------------------------------------------- fonts (letters)


def generator_inputs() -> dict:
    """What the generated sets are made from besides their seeds: the fonts found (letters) and the versions of
    the packages that draw, filter and ship the images. Part of the predictions' artifact key, so installing a
    font or upgrading Pillow rebuilds the sets instead of silently changing them under the same key. The versions
    are read from the installed distributions: importing scikit-learn only to ask would cost a cached start 1.6 s."""
    from importlib.metadata import version

    return {"fonts": sorted(p.name for p in font_paths()), "pillow": version("pillow"), "scipy": version("scipy"),
            "scikit-image": version("scikit-image"), "scikit-learn": version("scikit-learn")}


def font_paths() -> list[Path]:
    """DejaVu*/Liberation* TrueType files found offline (matplotlib's data dir, /usr/share/fonts)."""
    roots = []
    try:
        import matplotlib

        roots.append(Path(matplotlib.get_data_path()) / "fonts" / "ttf")
    except Exception:  # matplotlib missing or broken: not needed
        pass
    roots.append(Path("/usr/share/fonts"))
    found: dict[str, Path] = {}  # one file per font name: matplotlib ships copies of the system's DejaVu fonts
    for root in roots:
        if root.is_dir():
            for p in sorted(root.rglob("*.ttf")):
                if p.name.startswith(("DejaVu", "Liberation")):
                    found.setdefault(p.name, p)
    return [found[name] for name in sorted(found)]


@functools.lru_cache(maxsize=None)
def _font(path: str, size: int):
    return ImageFont.load_default(size=size) if path == "default" else ImageFont.truetype(path, size)


def _draws_letters(path: str) -> bool:
    """Whether the font draws a capital letter at all (DejaVu's "Display" fonts draw nothing: a letter set in
    them was a blank image, which the upload path calls "no digit found", counted as caught)."""
    img = Image.new("L", (80, 80))
    ImageDraw.Draw(img).text((10, 10), "A", fill=255, font=_font(path, 40))
    return bool(np.asarray(img).max() > 0)


def letter_fonts() -> list[str]:
    """Pillow's built-in font ("default") and every font of ``font_paths`` that draws letters."""
    return ["default", *(str(p) for p in font_paths() if _draws_letters(str(p)))]


def _letters(n, rng):
    fonts = letter_fonts()
    names = np.array([f if f == "default" else Path(f).stem for f in fonts])
    letter = rng.integers(0, 26, n)
    font = rng.permutation(np.arange(n) % len(fonts))  # every font used once n >= number of fonts
    size = rng.integers(24, 61, n)
    stroke = rng.integers(0, 3, n)
    angle = rng.uniform(-25, 25, n)
    pos = rng.integers(0, 20, (n, 2))
    x = np.empty((n, 784), np.float32)
    for i in range(n):
        img = Image.new("L", (112, 112))
        ImageDraw.Draw(img).text(
            tuple(int(v) for v in pos[i] + 10), LETTERS[letter[i]], fill=255,
            font=_font(fonts[font[i]], int(size[i])), stroke_width=int(stroke[i]), stroke_fill=255,
        )
        img = img.rotate(float(angle[i]), resample=Image.Resampling.BILINEAR)
        x[i] = frame_like_mnist(np.asarray(img, np.float32) / 255.0).ravel()
    meta = {"letter": np.array(list(LETTERS))[letter], "font": names[font], "size": size,
            "stroke_width": stroke, "angle": angle}
    return x, np.full(n, -1), meta


# ----------------------------------------------------------------------------- builders


def _noise(n, rng):
    """Dense static at MNIST-like contrast. (Faint or sparse noise, e.g. 5% white specks, is a
    different, much harder case: it looks like a nearly blank image to the network.)"""
    variant = np.array(["uniform", "gaussian", "salt_and_pepper"])[np.arange(n) % 3]
    x = rng.random((n, 784))
    g = variant == "gaussian"
    x[g] = rng.normal(rng.uniform(0.4, 0.6, (g.sum(), 1)), rng.uniform(0.2, 0.35, (g.sum(), 1)), (g.sum(), 784))
    sp = variant == "salt_and_pepper"
    x[sp] = (rng.random((sp.sum(), 784)) < rng.uniform(0.35, 0.65, (sp.sum(), 1))).astype(float)
    return np.clip(x, 0, 1), np.full(n, -1), {"variant": variant}


def _natural(n, rng):
    from sklearn.datasets import load_sample_images

    sample = load_sample_images()
    grays = [np.asarray(Image.fromarray(im).convert("L")) for im in sample.images]
    names = np.array([Path(f).stem for f in sample.filenames])
    src = rng.integers(0, len(grays), n)
    side = rng.integers(28, 201, n)
    x = np.empty((n, 784), np.float32)
    for i in range(n):
        g = grays[src[i]]
        r0 = rng.integers(0, g.shape[0] - side[i] + 1)
        c0 = rng.integers(0, g.shape[1] - side[i] + 1)
        patch = Image.fromarray(g[r0 : r0 + side[i], c0 : c0 + side[i]])
        x[i] = np.asarray(patch.resize((28, 28), Image.Resampling.LANCZOS), np.float32).ravel() / 255.0
    return x, np.full(n, -1), {"source": names[src], "crop_side": side}


def _blank(n, rng):
    level = np.array(BLANK_LEVELS, np.float32)[np.arange(n) % len(BLANK_LEVELS)]
    return np.repeat(level[:, None], 784, 1), np.full(n, -1), {"intensity": level}


def _rotated(n, rng):
    per = -(-n // len(ANGLES))
    imgs, labels, idx = _test_digits(per, rng)
    d = np.arange(n) // len(ANGLES)
    angle = np.array(ANGLES)[np.arange(n) % len(ANGLES)]
    x = imgs[d].copy()
    turn = angle != 0
    x[turn] = _affine(imgs[d[turn]], _rotation(angle[turn].astype(float)))
    return x.reshape(n, 784), labels[d], {"angle": angle, "index": idx[d]}


def _corrupted(n, rng):
    imgs, labels, idx = _test_digits(n, rng)
    cell = np.arange(n) % (len(CORRUPTIONS) * len(SEVERITIES))
    variant = np.array(CORRUPTIONS)[cell // len(SEVERITIES)]
    severity = cell % len(SEVERITIES) + 1
    x = np.empty((n, 784), np.float32)
    for c in range(len(CORRUPTIONS) * len(SEVERITIES)):
        rows = cell == c
        if rows.any():
            x[rows] = corrupt(imgs[rows], CORRUPTIONS[c // 5], c % 5 + 1, rng).reshape(-1, 784)
    return x, labels, {"variant": variant, "severity": severity, "index": idx}


def _sklearn_digits(n, rng):
    from sklearn.datasets import load_digits

    d = load_digits()
    idx = rng.choice(len(d.target), n, replace=n > len(d.target))
    x = np.stack([frame_like_mnist(d.images[i] / 16.0).ravel() for i in idx])
    return x, d.target[idx], {"index": idx.astype(np.int64)}


def _ambiguous(n, rng):
    a, ya, ia = _test_digits(n, rng)
    test = load_mnist().test
    ib = rng.integers(0, len(test), n)
    for _ in range(100):  # redraw partners of the same class
        same = test.y[ib] == ya
        if not same.any():
            break
        ib[same] = rng.integers(0, len(test), same.sum())
    b = test.x[ib].reshape(-1, 28, 28)
    w = np.array(MIX_WEIGHTS)[rng.integers(0, len(MIX_WEIGHTS), n)]
    mix = w[:, None, None] * a + (1 - w[:, None, None]) * b  # float64
    mix = mix / np.maximum(mix.max((1, 2), keepdims=True), 1e-8)  # brightest stroke -> 1, as in MNIST
    meta = {"label_b": test.y[ib].astype(np.int64), "mix_weight": w, "index": ia, "index_b": ib.astype(np.int64)}
    return np.clip(mix, 0, 1).reshape(n, 784), ya, meta


def true_distribution(s: ShiftSet) -> np.ndarray:
    """(n, 10) label distribution of an ``ambiguous`` set: w on the dominant label, 1 - w on label_b."""
    if "mix_weight" not in s.meta or "label_b" not in s.meta:
        raise ValueError(f"set {s.name!r} has no mixing weights; true_distribution needs the 'ambiguous' set.")
    n = len(s.y)
    p = np.zeros((n, N_CLASSES), np.float64)
    w = s.meta["mix_weight"].astype(np.float64)
    p[np.arange(n), s.y] += w
    p[np.arange(n), s.meta["label_b"]] += 1 - w
    return p


# ----------------------------------------------------------------------------- registry

_SPECS = [
    (SetSpec("letters", "ood", "Capital letters A-Z in many fonts, sizes and slants, drawn like digits.", 101, 1000), _letters),
    (SetSpec("noise", "ood", "Random static: uniform, Gaussian and salt-and-pepper noise.", 102, 999), _noise),
    (SetSpec("natural", "ood", "Small grayscale patches cut from ordinary photos.", 103, 1000), _natural),
    (SetSpec("blank", "ood", "Plain images of a single shade, from black to white.", 104, 220), _blank),
    (SetSpec("objects", "ood", "Silhouettes and outlines of everyday things: cups, houses, shoes, bags, keys, fish.",
             105, 1000), families.objects),
    (SetSpec("doodles", "ood", "Pen doodles that are not digits: scribbles, crosses, arrows, faces, spirals, ticks.",
             106, 1000), families.doodles),
    (SetSpec("photos", "ood", "Small patches of scikit-image's bundled photographs (a camera man, coins, a cat, text).",
             107, 1000), families.photos),
    # Written blind (uqcore.data.blind); the headline reader trains on other drawings of theirs
    # (uqcore.file_path.TRAINING_KINDS).
    (SetSpec("sketches", "ood", "Quick-Draw-style pen sketches: a cat, a sun, a bicycle, a smiley, a cup, a house.",
             108, 1000), blind.sketches),
    (SetSpec("glyphs", "ood", "Handwritten signs and letters of other scripts that are no digit: Ж, λ, 大, ∞, ♥, @, ✓.",
             109, 1000), blind.glyphs),
    # Written blind (uqcore.data.blind2): held out of every tuned choice, looked at only in aggregate.
    (SetSpec("scrawls", "ood", "Handwriting that is no digit: signatures, cursive words, initials, crossed-out words.",
             110, 1000), blind2.scrawls),
    (SetSpec("diagrams", "ood", "Hand-drawn diagrams: bar charts, flowcharts, tables, maps, Venn diagrams, staves.",
             111, 1000), blind2.diagrams),
    (SetSpec("rotated", "shift", "Test digits turned by 0 to 180 degrees in 15-degree steps.", 201, len(ANGLES) * 200), _rotated),
    (SetSpec("corrupted", "shift", "Test digits damaged by noise, blur, shear, lines, fog and more, at 5 strengths.",
             202, len(CORRUPTIONS) * len(SEVERITIES) * 100), _corrupted),
    (SetSpec("sklearn_digits", "shift", "Digits from a different, low-resolution (8x8) handwriting collection.", 203, 1797), _sklearn_digits),
    (SetSpec("ambiguous", "shift", "Two different test digits blended into one image.", 204, 1500), _ambiguous),
]
REGISTRY: dict[str, SetSpec] = {spec.name: spec for spec, _ in _SPECS}
_BUILDERS: dict[str, Callable] = {spec.name: build for spec, build in _SPECS}


def list_sets(kind: str | None = None) -> list[SetSpec]:
    """Registered sets, optionally only those of ``kind`` ("ood" or "shift")."""
    if kind not in (None, "ood", "shift"):
        raise ValueError(f"kind must be None, 'ood' or 'shift', got {kind!r}.")
    return [s for s in REGISTRY.values() if kind is None or s.kind == kind]


def make(name: str, *, n: int | None = None, seed: int | None = None) -> ShiftSet:
    """Build the set ``name``: ``n`` images (default ``REGISTRY[name].size``) from ``seed`` (default: the spec's)."""
    if name not in REGISTRY:
        raise ValueError(f"unknown set {name!r}; valid names: {', '.join(REGISTRY)}.")
    spec = REGISTRY[name]
    n = spec.size if n is None else n
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}.")
    rng = np.random.default_rng(spec.seed if seed is None else seed)
    x, y, meta = _BUILDERS[name](int(n), rng)
    x = np.ascontiguousarray(np.clip(x, 0.0, 1.0), dtype=np.float32)
    return ShiftSet(name=name, kind=spec.kind, x=x, y=np.asarray(y, np.int64), meta={k: np.asarray(v) for k, v in meta.items()})
