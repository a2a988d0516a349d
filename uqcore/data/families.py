"""Generated families of pictures that look like what people really bring, all made offline.

Non-digits, framed like MNIST (28 x 28, white on black), as ``(n, 784)`` float32 builders for the
set registry (``uqcore.data.shift``):

- ``objects``: silhouettes and outlines of everyday things (cup, house, tree, car, shoe, bag, shirt,
  key, umbrella, bottle, lamp, fish, heart, star, bell, leaf), some with a texture;
- ``doodles``: handwriting-like non-digits drawn with a pen (scribbles, crosses, arrows, faces,
  spirals, zigzags, hashes, ticks, boxes, waves);
- ``photos``: crops of scikit-image's bundled photographs, shrunk to 28 x 28.

And whole pictures, to go through the upload path (``uqcore.data.preprocess.to_mnist``):

- ``digit_photos(n, rng)``: an MNIST test digit written with a dark pen on grey paper, photographed:
  uneven lighting, a shadow, paper grain, blur, JPEG, the digit filling 5-30% of the picture;
- ``paper_photos(n, rng)``: the same paper with nothing on it.

And the non-digits the headline reader (``uqcore.methods.reader``) is trained to call "not a digit":
``training_outliers(n, rng)``. They are none of the families above or of the registry's OOD sets, so every
family stays a measurement: scrambled digits (a digit cut into 7 x 7 tiles and shuffled), printed symbols
that are neither digits nor Latin letters (``#``, ``&``, ``?``, lower-case Greek...) and thresholded crops of
scikit-image's photographs (the ``photos`` family shows the same photographs raw, so it is not independent
of this training set).
"""
from __future__ import annotations

import functools
import io

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from uqcore.data import blind, load_mnist
from uqcore.data.preprocess import frame_like_mnist

CANVAS = 112
OBJECTS = ("cup", "house", "tree", "car", "shoe", "bag", "shirt", "key", "umbrella", "bottle", "lamp", "fish",
           "heart", "star", "bell", "leaf")
DOODLES = ("scribble", "cross", "plus", "arrow", "face", "spiral", "zigzag", "hash", "tick", "box", "wave", "asterisk")
PHOTOS = ("camera", "astronaut", "coffee", "chelsea", "coins", "rocket", "moon", "page", "text", "grass",
          "gravel", "brick", "clock", "hubble_deep_field", "immunohistochemistry", "retina")


def _frame(img: Image.Image) -> np.ndarray:
    return frame_like_mnist(np.asarray(img, np.float32) / 255.0).ravel()


def _star(cx, cy, r_out, r_in, points=5, phase=-np.pi / 2):
    a = phase + np.arange(2 * points) * np.pi / points
    r = np.where(np.arange(2 * points) % 2 == 0, r_out, r_in)
    return [(cx + ri * np.cos(ai), cy + ri * np.sin(ai)) for ri, ai in zip(r, a)]


class _Boxes:
    """An ImageDraw whose box-shaped calls accept corners in any order (jitter may swap them)."""

    def __init__(self, d: ImageDraw.ImageDraw):
        self._d = d

    def __getattr__(self, name):
        f = getattr(self._d, name)
        if name not in ("rectangle", "ellipse", "arc", "chord", "pieslice"):
            return f

        def boxed(xy, *a, **kw):
            x0, y0, x1, y1 = xy
            return f([min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)], *a, **kw)
        return boxed


def _draw_object(kind: str, d: ImageDraw.ImageDraw, rng: np.random.Generator, fill, width: int) -> None:
    """One object on a 112 x 112 canvas; ``fill`` None draws the outline only (``width`` px)."""
    d = _Boxes(d)
    j = lambda v, s=4: v + rng.uniform(-s, s)  # noqa: E731 - a little hand-made irregularity
    kw = dict(fill=fill, outline=255, width=width)
    if kind == "cup":
        d.rectangle([j(30), j(30), j(70), j(85)], **kw)
        d.arc([j(60), j(40), j(92), j(72)], -90, 90, fill=255, width=max(width, 4))
    elif kind == "house":
        d.rectangle([j(28), j(52), j(84), j(92)], **kw)
        d.polygon([(j(20), j(54)), (j(56), j(18)), (j(92), j(54))], **kw)
    elif kind == "tree":
        d.polygon([(j(56), j(12)), (j(22), j(62)), (j(90), j(62))], **kw)
        d.polygon([(j(56), j(34)), (j(16), j(84)), (j(96), j(84))], **kw)
        d.rectangle([j(50), j(84), j(62), j(102)], **kw)
    elif kind == "car":
        d.rectangle([j(14), j(52), j(98), j(78)], **kw)
        d.polygon([(j(32), j(52)), (j(42), j(32)), (j(72), j(32)), (j(84), j(52))], **kw)
        for cx in (34, 78):
            d.ellipse([j(cx - 10), j(70), j(cx + 10), j(90)], **kw)
    elif kind == "shoe":
        d.polygon([(j(18), j(40)), (j(40), j(40)), (j(50), j(62)), (j(94), j(70)), (j(96), j(86)), (j(18), j(86))], **kw)
    elif kind == "bag":
        d.rectangle([j(22), j(44), j(90), j(96)], **kw)
        d.arc([j(38), j(20), j(74), j(64)], 180, 360, fill=255, width=max(width, 4))
    elif kind == "shirt":
        d.polygon([(j(36), j(18)), (j(76), j(18)), (j(100), j(40)), (j(88), j(52)), (j(80), j(46)), (j(80), j(96)),
                   (j(32), j(96)), (j(32), j(46)), (j(24), j(52)), (j(12), j(40))], **kw)
    elif kind == "key":
        d.ellipse([j(12), j(40), j(44), j(72)], **kw)
        d.rectangle([j(42), j(52), j(98), j(60)], fill=255)
        d.rectangle([j(80), j(58), j(86), j(72)], fill=255)
        d.rectangle([j(90), j(58), j(96), j(68)], fill=255)
    elif kind == "umbrella":
        d.pieslice([j(12), j(20), j(100), j(96)], 180, 360, **kw)
        d.line([(56, 58), (56, 94)], fill=255, width=max(width, 4))
        d.arc([j(44), j(86), j(60), j(102)], 0, 180, fill=255, width=max(width, 4))
    elif kind == "bottle":
        d.rectangle([j(36), j(46), j(76), j(100)], **kw)
        d.polygon([(j(36), j(48)), (j(48), j(30)), (j(64), j(30)), (j(76), j(48))], **kw)
        d.rectangle([j(48), j(12), j(64), j(32)], **kw)
    elif kind == "lamp":
        d.polygon([(j(36), j(16)), (j(76), j(16)), (j(90), j(52)), (j(22), j(52))], **kw)
        d.line([(56, 52), (56, 90)], fill=255, width=max(width, 4))
        d.rectangle([j(34), j(88), j(78), j(98)], **kw)
    elif kind == "fish":
        d.ellipse([j(14), j(36), j(78), j(76)], **kw)
        d.polygon([(j(74), j(56)), (j(100), j(34)), (j(100), j(80))], **kw)
    elif kind == "heart":
        d.ellipse([j(16), j(22), j(58), j(64)], **kw)
        d.ellipse([j(54), j(22), j(96), j(64)], **kw)
        d.polygon([(j(18), j(50)), (j(94), j(50)), (j(56), j(96))], **kw)
    elif kind == "star":
        d.polygon(_star(j(56), j(58), j(44, 3), j(18, 3)), **kw)
    elif kind == "bell":
        d.chord([j(24), j(20), j(88), j(100)], 180, 360, **kw)
        d.rectangle([j(24), j(58), j(88), j(84)], **kw)
        d.ellipse([j(48), j(82), j(64), j(98)], **kw)
    elif kind == "leaf":
        d.chord([j(14), j(14), j(98), j(98)], 200, 340, **kw)
        d.chord([j(14), j(-20), j(98), j(64)], 20, 160, **kw)
        d.line([(j(20), j(60)), (j(96), j(44))], fill=255, width=3)
    else:
        raise ValueError(f"unknown object {kind!r}")


def _texture(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Stripes, dots or grain multiplied into the drawing (a patterned bag, a knitted jumper)."""
    a = np.asarray(img, np.float32) / 255.0
    yy, xx = np.mgrid[0:CANVAS, 0:CANVAS]
    kind = rng.integers(0, 3)
    if kind == 0:
        t = 0.55 + 0.45 * (np.sin((xx * np.cos(rng.uniform(0, np.pi)) + yy) / rng.uniform(2, 5)) > 0)
    elif kind == 1:
        step = int(rng.integers(6, 12))
        t = np.where(((xx % step) < step // 2) & ((yy % step) < step // 2), 0.5, 1.0)
    else:
        t = np.clip(0.6 + 0.4 * ndimage.gaussian_filter(rng.random((CANVAS, CANVAS)), 1.5) * 3 - 0.9, 0.3, 1.0)
    return Image.fromarray((a * t * 255).astype(np.uint8))


def objects(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict]:
    kinds = np.array(OBJECTS)[rng.permutation(np.arange(n) % len(OBJECTS))]
    style = rng.choice(["filled", "outline", "textured"], n)
    angle = rng.uniform(-30, 30, n)
    x = np.empty((n, 784), np.float32)
    for i in range(n):
        img = Image.new("L", (CANVAS, CANVAS))
        filled = style[i] != "outline"
        _draw_object(str(kinds[i]), ImageDraw.Draw(img), rng, 255 if filled else None, int(rng.integers(3, 9)))
        if style[i] == "textured":
            img = _texture(img, rng)
        img = img.rotate(float(angle[i]), resample=Image.Resampling.BILINEAR)
        x[i] = _frame(img)
    return x, np.full(n, -1), {"object": kinds, "style": style, "angle": angle}


def _pen(d: ImageDraw.ImageDraw, pts, width: int) -> None:
    pts = [tuple(map(float, p)) for p in pts]
    d.line(pts, fill=255, width=width, joint="curve")
    r = width / 2
    for px, py in (pts[0], pts[-1]):
        d.ellipse([px - r, py - r, px + r, py + r], fill=255)


def _smooth_path(rng, n_ctrl, n_out=80, spread=36.0):
    ctrl = 56 + rng.uniform(-spread, spread, (n_ctrl, 2))
    t = np.linspace(0, n_ctrl - 1, n_out)
    return np.stack([np.interp(t, np.arange(n_ctrl), ctrl[:, k]) for k in (0, 1)], 1)


def _draw_doodle(kind: str, d: ImageDraw.ImageDraw, rng: np.random.Generator, w: int) -> None:
    j = lambda v, s=6: v + rng.uniform(-s, s)  # noqa: E731
    d = _Boxes(d)
    if kind == "scribble":
        p = _smooth_path(rng, int(rng.integers(6, 12)))
        _pen(d, ndimage.gaussian_filter1d(p, 2.0, axis=0), w)
    elif kind == "cross":
        _pen(d, [(j(20), j(20)), (j(92), j(92))], w)
        _pen(d, [(j(92), j(20)), (j(20), j(92))], w)
    elif kind == "plus":
        _pen(d, [(j(56), j(14)), (j(56), j(98))], w)
        _pen(d, [(j(14), j(56)), (j(98), j(56))], w)
    elif kind == "arrow":
        tip = (j(96), j(56))
        _pen(d, [(j(14), j(56)), tip], w)
        _pen(d, [(j(70), j(32)), tip, (j(70), j(80))], w)
    elif kind == "face":
        d.ellipse([j(14), j(14), j(98), j(98)], outline=255, width=w)
        for ex in (40, 72):
            d.ellipse([j(ex - 5, 3), j(38, 3), j(ex + 5, 3), j(48, 3)], fill=255)
        d.arc([j(34), j(44), j(78), j(80)], 20, 160, fill=255, width=w)
    elif kind == "spiral":
        t = np.linspace(0, rng.uniform(3, 5) * np.pi, 120)
        r = 4 + 40 * t / t.max()
        _pen(d, np.stack([56 + r * np.cos(t), 56 + r * np.sin(t)], 1), w)
    elif kind == "zigzag":
        k = int(rng.integers(3, 7))
        xs = np.linspace(14, 98, 2 * k + 1)
        _pen(d, [(xv, j(30) if i % 2 else j(82)) for i, xv in enumerate(xs)], w)
    elif kind == "hash":
        for a in (38, 74):
            _pen(d, [(j(a), j(14)), (j(a), j(98))], w)
            _pen(d, [(j(14), j(a)), (j(98), j(a))], w)
    elif kind == "tick":
        _pen(d, [(j(16), j(60)), (j(44), j(92)), (j(98), j(18))], w)
    elif kind == "box":
        c = [(j(18), j(18)), (j(94), j(18)), (j(94), j(94)), (j(18), j(94))]
        _pen(d, c + [c[0]], w)
        if rng.random() < 0.5:
            _pen(d, [c[0], c[2]], w)
    elif kind == "wave":
        xs = np.linspace(10, 102, 80)
        _pen(d, np.stack([xs, 56 + rng.uniform(14, 30) * np.sin(xs / rng.uniform(6, 12))], 1), w)
    elif kind == "asterisk":
        for a in np.linspace(0, np.pi, 4, endpoint=False) + rng.uniform(0, 0.4):
            _pen(d, [(56 - 42 * np.cos(a), 56 - 42 * np.sin(a)), (56 + 42 * np.cos(a), 56 + 42 * np.sin(a))], w)
    else:
        raise ValueError(f"unknown doodle {kind!r}")


def doodles(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict]:
    kinds = np.array(DOODLES)[rng.permutation(np.arange(n) % len(DOODLES))]
    angle = rng.uniform(-20, 20, n)
    x = np.empty((n, 784), np.float32)
    for i in range(n):
        img = Image.new("L", (CANVAS, CANVAS))
        _draw_doodle(str(kinds[i]), ImageDraw.Draw(img), rng, int(rng.integers(7, 14)))
        img = img.rotate(float(angle[i]), resample=Image.Resampling.BILINEAR)
        x[i] = _frame(img)
    return x, np.full(n, -1), {"doodle": kinds, "angle": angle}


def _photo_library() -> dict[str, np.ndarray]:
    import skimage.data

    out = {}
    for name in PHOTOS:
        im = np.asarray(getattr(skimage.data, name)())
        if im.ndim == 3:
            im = np.asarray(Image.fromarray(im[..., :3].astype(np.uint8)).convert("L"))
        out[name] = im.astype(np.uint8)
    return out


def photos(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict]:
    lib = _photo_library()
    names = list(lib)
    src = rng.integers(0, len(names), n)
    x = np.empty((n, 784), np.float32)
    side = np.empty(n, np.int64)
    for i in range(n):
        g = lib[names[src[i]]]
        s = side[i] = int(rng.integers(28, min(g.shape) + 1))
        r0, c0 = rng.integers(0, g.shape[0] - s + 1), rng.integers(0, g.shape[1] - s + 1)
        patch = Image.fromarray(g[r0:r0 + s, c0:c0 + s]).resize((28, 28), Image.Resampling.LANCZOS)
        x[i] = np.asarray(patch, np.float32).ravel() / 255.0
    return x, np.full(n, -1), {"source": np.array(names)[src], "crop_side": side}


# ----------------------------------------------------------------------------- whole pictures


def _paper(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Grey paper under a lamp: level, a lighting gradient, a soft shadow, grain and fibres."""
    level = rng.uniform(0.55, 0.92)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = rng.uniform(0, 2 * np.pi)
    ramp = ((xx - w / 2) * np.cos(a) + (yy - h / 2) * np.sin(a)) / max(h, w)
    paper = level * (1 - rng.uniform(0, 0.35) * (ramp + 0.5))
    if rng.random() < 0.6:  # a soft shadow (a hand, a phone) over one side
        b = rng.uniform(0, 2 * np.pi)
        edge = ((xx - w * rng.uniform(0.2, 0.8)) * np.cos(b) + (yy - h * rng.uniform(0.2, 0.8)) * np.sin(b))
        paper *= 1 - rng.uniform(0.1, 0.3) / (1 + np.exp(-edge / (0.05 * max(h, w))))
    fibres = ndimage.gaussian_filter(rng.normal(0, 1, (h, w)), rng.uniform(1.0, 3.0))
    paper += rng.uniform(0.005, 0.02) * fibres / (fibres.std() + 1e-8)
    return paper + rng.normal(0, rng.uniform(0.005, 0.03), (h, w))


def _photo_bytes(gray: np.ndarray, rng: np.random.Generator) -> bytes:
    tint = rng.uniform(0.9, 1.05, 3)  # warm or cool light
    rgb = np.clip(gray[..., None] * tint, 0, 1)
    buf = io.BytesIO()
    Image.fromarray((rgb * 255).round().astype(np.uint8)).save(buf, "JPEG", quality=int(rng.integers(60, 92)))
    return buf.getvalue()


def _size(rng) -> tuple[int, int]:
    w, h = [(800, 600), (640, 480), (1024, 768), (600, 800), (960, 720)][rng.integers(0, 5)]
    return h, w


def digit_photos(n: int, rng: np.random.Generator) -> tuple[list[bytes], np.ndarray, dict]:
    """``n`` JPEG photos of MNIST test digits written on paper -> (files, labels, meta)."""
    test = load_mnist().test
    idx = rng.permutation(len(test))[:n]
    files, fill = [], np.empty(n)
    for i, k in enumerate(idx):
        f, fill[i] = photo_of(test.x[k], rng)
        files.append(f)
    return files, test.y[idx], {"index": idx, "fill": fill}


def photo_of(x784: np.ndarray, rng: np.random.Generator) -> tuple[bytes, float]:
    """A JPEG photo of one 28 x 28 picture (ink bright on black, in [0, 1]) written on grey paper, as
    ``digit_photos`` makes them -> (the file, the share of the photo its 28 x 28 frame fills)."""
    h, w = _size(rng)
    paper = _paper(rng, h, w)
    area = rng.uniform(0.05, 0.30)  # of the picture, the digit's 28 x 28 frame
    side = int(np.sqrt(area * h * w))
    side = min(side, h - 4, w - 4)
    digit = np.asarray(Image.fromarray((np.asarray(x784).reshape(28, 28) * 255).astype(np.uint8))
                       .resize((side, side), Image.Resampling.BICUBIC), np.float32) / 255.0
    digit = ndimage.gaussian_filter(np.clip(digit, 0, 1), rng.uniform(0.3, 1.2))
    r0, c0 = rng.integers(0, h - side), rng.integers(0, w - side)
    ink = rng.uniform(0.6, 0.9)  # how dark the pen is, relative to the paper
    paper[r0:r0 + side, c0:c0 + side] *= 1 - ink * digit
    return _photo_bytes(ndimage.gaussian_filter(paper, rng.uniform(0.3, 1.0)), rng), side * side / (h * w)


def paper_photos(n: int, rng: np.random.Generator) -> list[bytes]:
    """``n`` JPEG photos of blank paper (no digit: the answer must be "no digit found")."""
    return [_photo_bytes(ndimage.gaussian_filter(_paper(rng, *_size(rng)), rng.uniform(0.3, 1.0)), rng)
            for _ in range(n)]


# ----------------------------------------------------------------------------- training outliers

# No glyph a hand could write as a digit: "|", "/", "(", "[", "!" pass for a 1, "o" for a 0.
SYMBOLS = (tuple("#&@%?+=$*<>{}~^") + tuple("αβγδεζηθλμξπρσφψω")
           # printed capitals of other alphabets, none shaped like a Latin letter or a digit (no Б З Ч Э Ь Θ...)
           + tuple("ГДЖИЙЛПФЦШЩЪЫЮЯΔΛΞΣΨΩ"))
# "turned" and "fragments" (below) were measured and not adopted (benchmarks/RESULTS.md)
OUTLIER_KINDS = ("scrambled", "symbols", "crops", "enclosed", "pen", "sketched", "glyphed")
# Training digits turned a quarter (either way) are pen strokes that are no digit. Not 0, 1 or 8: a 0 or an 8
# turned is still one, a turned 1 is a dash a slanted 1 comes close to. Never half a turn (a 6 becomes a 9).
TURNED_CLASSES = (2, 3, 4, 5, 6, 7, 9)
CROP_SOURCES = ("camera", "coins", "moon", "text", "page", "grass", "gravel", "brick")


def _scrambled(n: int, rng: np.random.Generator) -> np.ndarray:
    train = load_mnist().train.x
    tiles = train[rng.integers(0, len(train), n)].reshape(n, 4, 7, 4, 7).transpose(0, 1, 3, 2, 4).reshape(n, 16, 7, 7)
    tiles = np.take_along_axis(tiles, np.argsort(rng.random((n, 16)), 1)[:, :, None, None], 1)
    imgs = tiles.reshape(n, 4, 4, 7, 7).transpose(0, 1, 3, 2, 4).reshape(n, 28, 28)
    return np.stack([frame_like_mnist(v) for v in imgs]).reshape(n, 784)


def _symbols(n: int, rng: np.random.Generator) -> np.ndarray:
    from uqcore.data.shift import _font, font_paths  # shift imports this module

    fonts = ["default", *(str(p) for p in font_paths())]
    out = np.zeros((n, 784), np.float32)
    for i in range(n):
        img = Image.new("L", (CANVAS, CANVAS))
        try:
            ImageDraw.Draw(img).text((int(rng.integers(10, 30)), int(rng.integers(10, 30))),
                                     SYMBOLS[rng.integers(len(SYMBOLS))], fill=255,
                                     font=_font(fonts[rng.integers(len(fonts))], int(rng.integers(24, 61))),
                                     stroke_width=int(rng.integers(0, 3)), stroke_fill=255)
        except (OSError, ValueError):  # a font without this glyph's table: leave the row empty
            continue
        img = img.rotate(float(rng.uniform(-25, 25)), resample=Image.Resampling.BILINEAR)
        out[i] = frame_like_mnist(np.asarray(img, np.float32) / 255.0).ravel()
    return out


def _turned(n: int, rng: np.random.Generator) -> np.ndarray:
    train = load_mnist().train
    pool = np.flatnonzero(np.isin(train.y, TURNED_CLASSES))
    imgs = train.x[rng.choice(pool, n)].reshape(n, 28, 28)
    quarter = rng.choice([1, 3], n)
    return np.stack([frame_like_mnist(np.rot90(v, k)) for v, k in zip(imgs, quarter)]).reshape(n, 784)


FRAGMENT_SIDE = (11, 18)  # the window's side in MNIST pixels
FRAGMENT_MASS = 0.5  # a fragment holds at most this share of its digit's ink
FRAGMENT_ASPECT = 3.0  # ink longer than this times its width is a bar, which a 1 comes close to: dropped


def _fragments(n: int, rng: np.random.Generator) -> np.ndarray:
    """Pieces of training digits (an arc, a corner, a loop with a tail) framed as if whole: pen strokes in the
    digits' own ink that are no digit. A window holding most of its digit's ink, or a bar, is drawn again."""
    train = load_mnist().train.x.reshape(-1, 28, 28)
    out = np.zeros((n, 784), np.float32)
    for i in range(n):
        for _ in range(50):
            img = train[rng.integers(len(train))]
            s = int(rng.integers(FRAGMENT_SIDE[0], FRAGMENT_SIDE[1] + 1))
            r0, c0 = rng.integers(0, 29 - s, 2)
            piece = img[r0:r0 + s, c0:c0 + s]
            ink = piece > 0.3
            if ink.sum() < 20 or piece.sum() > FRAGMENT_MASS * img.sum():
                continue
            spread = np.linalg.eigvalsh(np.cov(np.argwhere(ink).T.astype(float)))  # the ink's principal axes
            if spread[1] > FRAGMENT_ASPECT ** 2 * max(spread[0], 1e-6):
                continue
            out[i] = frame_like_mnist(piece).ravel()
            break
    return out


ENCLOSED_MARKS = (1, 4)  # marks inside an outline, inclusive
NOT_LIKE_A_DIGIT = 0.9  # kept only if further (pixels) from every training digit than this share of real digits are


def _closed(d: ImageDraw.ImageDraw, c: np.ndarray, r: np.ndarray, angles: np.ndarray, w: int) -> None:
    """A closed pen line through the points at ``angles`` on the ellipse of centre ``c`` and radii ``r``."""
    pts = np.stack([c[0] + r[0] * np.cos(angles), c[1] + r[1] * np.sin(angles)], 1)
    _pen(d, np.vstack([pts, pts[:1]]), w)


def _box(c: np.ndarray, r: np.ndarray) -> list[float]:
    return [c[0] - r[0], c[1] - r[1], c[0] + r[0], c[1] + r[1]]


def _nearest_digit_distance(x: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Euclidean distance (pixels in [0, 1]) from each row of ``x`` to its nearest row of ``ref``."""
    ref_sq = (ref ** 2).sum(1)
    out = np.empty(len(x), np.float32)
    for i in range(0, len(x), 1024):
        b = x[i:i + 1024]
        d2 = (b ** 2).sum(1)[:, None] + ref_sq[None] - 2.0 * b @ ref.T
        out[i:i + 1024] = np.sqrt(np.maximum(d2.min(1), 0.0))
    return out


def _draw_enclosed(d: ImageDraw.ImageDraw, rng: np.random.Generator, w: int) -> tuple[str, int]:
    """One outline with marks inside; returns (its shape, how many marks)."""
    c = rng.uniform(46, 66, 2)
    r = rng.uniform(26, 44, 2)
    shape = rng.choice(["ring", "box", "polygon"], p=[0.5, 0.25, 0.25])
    if shape == "ring":
        d.ellipse(_box(c, r), outline=255, width=w)
    else:
        k = 4 if shape == "box" else int(rng.integers(3, 7))
        angles = (np.arange(k) + 0.5) * 2 * np.pi / k + rng.uniform(-0.3, 0.3, k)
        _closed(d, c, r, angles + (0 if shape == "box" else rng.uniform(0, 6)), w)
    least = ENCLOSED_MARKS[0] if shape == "ring" else 0  # an empty ring is a 0; an empty box or polygon is not
    marks = int(rng.integers(least, ENCLOSED_MARKS[1] + 1))
    for _ in range(marks):
        m = c + rng.uniform(-0.55, 0.55, 2) * r
        kind = rng.choice(["dot", "dash", "arc"])
        if kind == "dot":
            s = rng.uniform(0.4, 0.9) * w
            d.ellipse([m[0] - s, m[1] - s, m[0] + s, m[1] + s], fill=255)
        elif kind == "dash":
            v = rng.uniform(-1, 1, 2) * 0.35 * r
            _pen(d, [m - v, m + v], w)
        else:
            box, a0 = _box(m, rng.uniform(0.2, 0.45) * r), rng.uniform(0, 360)
            d.arc(box, a0, a0 + rng.uniform(90, 200), fill=255, width=w)
    return str(shape), marks


PEN_PARTS = ("line", "arc", "ring", "polygon", "dot", "wave")  # what a random pen drawing is made of


def _pen_part(kind: str, d: ImageDraw.ImageDraw, rng: np.random.Generator, w: int) -> None:
    c = rng.uniform(24, 88, 2)
    r = rng.uniform(8, 40, 2)
    box = _box(c, r)
    if kind == "line":
        _pen(d, rng.uniform(12, 100, (2, 2)), w)
    elif kind == "arc":
        a0 = rng.uniform(0, 360)
        d.arc(box, a0, a0 + rng.uniform(60, 270), fill=255, width=w)
    elif kind == "ring":
        d.ellipse(box, outline=255, width=w)
    elif kind == "polygon":
        _closed(d, c, r, np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(3, 7)))), w)
    elif kind == "dot":
        s = rng.uniform(0.4, 1.0) * w
        d.ellipse([c[0] - s, c[1] - s, c[0] + s, c[1] + s], fill=255)
    else:  # wave
        xs = np.linspace(c[0] - r[0], c[0] + r[0], 40)
        _pen(d, np.stack([xs, c[1] + rng.uniform(4, 14) * np.sin(xs / rng.uniform(4, 10))], 1), w)


def _draw_pen(d: ImageDraw.ImageDraw, rng: np.random.Generator, w: int) -> None:
    for kind in rng.choice(PEN_PARTS, int(rng.integers(2, 6))):
        _pen_part(str(kind), d, rng, w)


@functools.cache
def _digit_reference() -> tuple[np.ndarray, float]:
    """The training digits a drawing is compared with (the first 10,000) and the cut: the ``NOT_LIKE_A_DIGIT``
    quantile of 2,000 validation digits' distances to them. Computed once per process for every kind."""
    data = load_mnist()
    ref = data.train.x[:10_000]
    return ref, float(np.quantile(_nearest_digit_distance(data.val.x[:2_000], ref), NOT_LIKE_A_DIGIT))


def _far_from_digits(n: int, rng: np.random.Generator, draw) -> np.ndarray:
    """``n`` pictures from ``draw(ImageDraw, rng, pen width)`` on a 112 px canvas, turned -20..20 degrees and
    framed like MNIST, with a pen as wide as MNIST's, kept as ``_keep_far`` keeps them."""
    def batch(m: int) -> np.ndarray:
        out = np.empty((m, 784), np.float32)
        for i in range(m):
            img = Image.new("L", (CANVAS, CANVAS))
            draw(ImageDraw.Draw(img), rng, int(rng.integers(7, 14)))
            out[i] = _frame(img.rotate(float(rng.uniform(-20, 20)), resample=Image.Resampling.BILINEAR))
        return out

    return _keep_far(n, batch)


def _keep_far(n: int, batch) -> np.ndarray:
    """``n`` pictures from ``batch(m) -> (m, 784)``. One as close (pixels) to some training digit as
    ``NOT_LIKE_A_DIGIT`` of validation digits are to theirs could be read as a digit: it is drawn again."""
    ref, far = _digit_reference()
    kept: list[np.ndarray] = []
    for _ in range(20):
        x = batch(2 * (n - sum(map(len, kept))) + 16)
        kept.append(x[_nearest_digit_distance(x, ref) > far])
        if sum(map(len, kept)) >= n:
            break
    return np.concatenate(kept)[:n]


def _enclosed(n: int, rng: np.random.Generator) -> np.ndarray:
    """An outline (a ring, a box, a polygon) with marks inside it (dots, dashes, small arcs; a ring has at least
    one, else it is a 0): pictures that a digit reader sees as a 0 with something in it."""
    return _far_from_digits(n, rng, _draw_enclosed)


def _pen_drawings(n: int, rng: np.random.Generator) -> np.ndarray:
    """2-5 parts (lines, arcs, rings, polygons, dots, waves) drawn at random: pen strokes that are no digit."""
    return _far_from_digits(n, rng, _draw_pen)


def _from_blind(generate):
    """``n`` pictures from one of ``uqcore.data.blind``'s generators, kept as ``_keep_far`` keeps them."""
    def make(n: int, rng: np.random.Generator) -> np.ndarray:
        return _keep_far(n, lambda m: generate(m, rng)[0])

    return make


# Pen sketches of everyday things (an apple, a tree, a cup, a bicycle...) and handwritten signs and letters of
# other scripts (a psi, a ka, a sigma...), from the generators of the sketches and glyphs families.
_sketched, _glyphed = _from_blind(blind.sketches), _from_blind(blind.glyphs)


def _crops(n: int, rng: np.random.Generator) -> np.ndarray:
    lib = _photo_library()
    out = np.zeros((n, 784), np.float32)
    for i in range(n):
        g = lib[CROP_SOURCES[rng.integers(len(CROP_SOURCES))]].astype(np.float32) / 255.0
        s = int(rng.integers(16, min(g.shape) // 2))
        r0, c0 = rng.integers(0, g.shape[0] - s), rng.integers(0, g.shape[1] - s)
        p = g[r0:r0 + s, c0:c0 + s]
        p = p if rng.random() < 0.5 else 1.0 - p
        lo = np.quantile(p, 0.6)
        out[i] = frame_like_mnist(np.clip((p - lo) / max(1e-3, float(p.max()) - lo), 0, 1)).ravel()
    return out


def training_outliers(n: int, rng: np.random.Generator) -> np.ndarray:
    """About ``n`` non-digits (n, 784) float32, an equal share of each kind in ``OUTLIER_KINDS``; empty pictures
    (a glyph a font lacks, a flat crop) are dropped."""
    per = max(1, n // len(OUTLIER_KINDS))
    make = {"scrambled": _scrambled, "symbols": _symbols, "crops": _crops, "turned": _turned,
            "fragments": _fragments, "enclosed": _enclosed, "pen": _pen_drawings,
            "sketched": _sketched, "glyphed": _glyphed}
    x = np.concatenate([make[kind](per, rng) for kind in OUTLIER_KINDS]).astype(np.float32)
    return x[x.max(1) > 0]
