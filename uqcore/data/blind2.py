"""Two blind out-of-distribution families: handwriting that is not a digit, and hand-drawn diagrams.

``scrawls``: signatures, cursive words, initials, crossed-out words, tildes, dash-dot lines, paraphs ...
``diagrams``: whiteboard / notebook drawings: charts, flowcharts, tables, maps, Venn diagrams, staves ...
Both are what a newsroom editor might upload to a handwritten-digit reader by mistake.

How they were written: blind, from a written brief alone. No model was run, no score or detector output
was seen, nothing was compared with the other OOD sets. A small pen renderer of its own (numpy, scipy,
Pillow) draws every picture: pressure that varies along a stroke, ballpoint / felt marker / pencil /
fountain nib, hooks where the pen lands and lifts, the odd smudge, random rotation, slant, aspect and
smooth warping; some pictures are drawn dark on grainy paper, then inverted, so a faint texture remains.
Each is framed like MNIST (``frame_like_mnist``). Nothing is meant to read as a single digit: words have two
or more connected letters, circles and lines always come with other parts, diagrams carry no labels.

They are a held-out, honest estimate of how well OOD detection rejects such pictures. Tune nothing on them.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from PIL import Image, ImageDraw
from scipy.ndimage import gaussian_filter

from uqcore.data.preprocess import frame_like_mnist

Point = tuple[float, float]
PENS = ("ballpoint", "felt", "pencil", "fountain")
PEN_P = (0.35, 0.25, 0.2, 0.2)
PAPER_P = 0.35  # drawn dark on light paper, then inverted
SMUDGE_P = 0.2
WIDTH_CAP = 0.35  # pen width <= this x the sketch's smallest gap (in px)


class _Sketch:
    """Strokes (dense polylines, y up, any units) and filled shapes of one picture."""

    def __init__(self, feature: float = 0.55) -> None:
        self.strokes: list[np.ndarray] = []
        self.fills: list[np.ndarray] = []
        self.feature = feature  # the smallest gap that must stay open (caps the pen width)

    def add(self, *strokes: np.ndarray) -> "_Sketch":
        self.strokes.extend(np.asarray(s, np.float64) for s in strokes)
        return self

    def extend(self, strokes: list[np.ndarray]) -> "_Sketch":
        return self.add(*strokes)


# ---------------------------------------------------------------- geometry helpers (design units, y up)
def _catmull(ctrl, per: int = 8) -> np.ndarray:
    """Catmull-Rom spline through the control points."""
    p = np.asarray(ctrl, np.float64)
    if len(p) < 3:
        return _lerp(p, per * max(1, len(p) - 1))
    p = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    t = np.linspace(0, 1, per, endpoint=False)[None, :, None]
    p0, p1, p2, p3 = (q[:, None, :] for q in (p[:-3], p[1:-2], p[2:-1], p[3:]))
    out = 0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2 + (3 * p1 - p0 - 3 * p2 + p3) * t**3)
    return np.vstack([out.reshape(-1, 2), p[-2]])


def _lerp(pts, n: int) -> np.ndarray:
    """Straight segments through ``pts``, resampled to about n points."""
    p = np.asarray(pts, np.float64)
    if len(p) == 1:
        return p.copy()
    seg = np.hypot(*np.diff(p, axis=0).T)
    s = np.r_[0, np.cumsum(seg)]
    if s[-1] <= 0:
        return p[:1].copy()
    u = np.linspace(0, s[-1], max(2, n))
    return np.column_stack([np.interp(u, s, p[:, 0]), np.interp(u, s, p[:, 1])])


def _line(a: Point, b: Point, rng: np.random.Generator, *, over: bool = True, bow: float = 0.025) -> np.ndarray:
    """A hand-drawn straight line: a slight bow, a low wobble, small overshoots."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d = b - a
    length = float(np.hypot(*d)) or 1e-6
    nrm = np.array([-d[1], d[0]]) / length
    t0, t1 = (rng.uniform(-0.04, 0.0), rng.uniform(1.0, 1.04)) if over else (0.0, 1.0)
    t = np.linspace(t0, t1, 10)
    tc = np.clip(t, 0, 1)
    off = rng.normal(0, bow) * length * np.sin(np.pi * tc) + 0.006 * length * np.sin(
        2 * np.pi * rng.uniform(1, 2.5) * tc + rng.uniform(0, 6.3)) * np.sin(np.pi * tc)
    return a + t[:, None] * d + off[:, None] * nrm


def _poly(pts, rng: np.random.Generator, *, close: bool = False, bow: float = 0.02) -> np.ndarray:
    """One stroke along straight segments with sharp corners."""
    p = [np.asarray(q, np.float64) for q in pts]
    if close:
        p = p + [p[0]]
    parts = [_line(p[i], p[i + 1], rng, over=False, bow=bow)[(1 if i else 0):] for i in range(len(p) - 1)]
    out = np.vstack(parts)
    if close:  # the pen runs on a little past the start
        out = np.vstack([out, out[-1] + (p[1] - p[0]) * rng.uniform(0.03, 0.15)])
    return out


def _ellipse(c: Point, rx: float, ry: float, rng: np.random.Generator, *, tilt: float = 0.0,
             span: float | None = None, start: float | None = None) -> np.ndarray:
    """A hand-drawn ellipse: wobbling radius, ends that overlap or miss a little."""
    th0 = rng.uniform(0, 2 * np.pi) if start is None else start
    span = 2 * np.pi * rng.uniform(1.0, 1.1) if span is None else span
    sign = 1 if rng.random() < 0.7 else -1
    n = int(np.clip(18 * abs(span) * np.sqrt(max(rx, ry) / 0.3 + 0.2), 16, 160))
    th = th0 + sign * np.linspace(0, span, n)
    u = (th - th0) / (2 * np.pi)
    r = 1 + 0.03 * np.sin(2 * th + rng.uniform(0, 6.3)) + rng.normal(0, 0.03) * u
    x, y = rx * r * np.cos(th), ry * r * np.sin(th)
    ct, st = np.cos(tilt), np.sin(tilt)
    return np.column_stack([c[0] + ct * x - st * y, c[1] + st * x + ct * y])


def _arrow(a: Point, b: Point, rng: np.random.Generator, *, head: float | None = None) -> list[np.ndarray]:
    """A shaft and an open head at b (drawn as one stroke: wing, tip, wing)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d = b - a
    length = float(np.hypot(*d)) or 1e-6
    u = d / length
    h = head if head is not None else min(0.35 * length, 0.18) * rng.uniform(0.8, 1.2)
    ang = rng.uniform(0.35, 0.6)
    rot = [np.array([[np.cos(s), -np.sin(s)], [np.sin(s), np.cos(s)]]) for s in (ang, -ang)]
    w1, w2 = b - h * (rot[0] @ u), b - h * (rot[1] @ u)
    return [_line(a, b, rng, bow=0.015), _poly([w1, b, w2], rng, bow=0.01)]


def _rect(x0: float, y0: float, x1: float, y1: float, rng: np.random.Generator) -> list[np.ndarray]:
    """A box: one closed stroke, or four overshooting lines."""
    c = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    if rng.random() < 0.5:
        k = int(rng.integers(4))
        return [_poly(c[k:] + c[:k], rng, close=True)]
    return [_line(c[i], c[(i + 1) % 4], rng) for i in range(4)]


def _dot(p: Point, rng: np.random.Generator, r: float = 0.012) -> np.ndarray:
    p = np.asarray(p, np.float64)
    return np.vstack([p, p + rng.normal(0, r, 2)])


def _zigzag_fill(x0: float, y0: float, x1: float, y1: float, rng: np.random.Generator, step: float) -> np.ndarray:
    """Back-and-forth scribble filling a box (bar-chart shading)."""
    n = max(2, int(abs(y1 - y0) / step))
    ys = np.linspace(y0, y1, n)
    xs = np.where(np.arange(n) % 2 == 0, x0, x1)
    return _catmull(np.column_stack([xs, ys]) + rng.normal(0, step * 0.08, (n, 2)), per=3)


def _wavy(x0: float, x1: float, y: float, rng: np.random.Generator, amp: float = 0.04) -> np.ndarray:
    """A placeholder 'text' line: a low wave, no letters."""
    x = np.linspace(x0, x1, 24)
    f = rng.uniform(6, 14) / max(x1 - x0, 0.1)
    return np.column_stack([x, y + amp * np.sin(f * x + rng.uniform(0, 6.3)) + rng.normal(0, amp * 0.15, 24)])


# ---------------------------------------------------------------- cursive alphabet (x-height 1, baseline 0)
# Each letter: control points from its entry (near the baseline, left) to its exit (right); extra strokes
# (i-dots, t-bars) in the same frame. Only used in words of two or more connected letters.
_LETTERS: dict[str, tuple[list[Point], list[list[Point]], float]] = {
    "a": ([(0, .1), (.55, .85), (.3, 1), (.05, .6), (.15, .05), (.45, .15), (.6, .9), (.6, .2), (.75, 0), (.95, .2)],
          [], .95),
    "c": ([(0, .1), (.45, .85), (.3, 1), (.05, .6), (.15, .05), (.45, .05), (.7, .25)], [], .7),
    "e": ([(0, .1), (.45, .5), (.5, .85), (.3, 1), (.08, .6), (.2, .05), (.5, .05), (.7, .25)], [], .7),
    "i": ([(0, .1), (.3, .9), (.25, .3), (.35, 0), (.55, .2)], [[(.32, 1.45), (.34, 1.47)]], .55),
    "l": ([(0, .1), (.45, 1.2), (.5, 1.9), (.3, 2), (.2, 1.6), (.3, .5), (.4, 0), (.6, .2)], [], .6),
    "t": ([(0, .1), (.3, 1), (.35, 1.7), (.3, .8), (.3, .2), (.45, 0), (.65, .2)], [[(.05, 1.1), (.6, 1.15)]], .65),
    "n": ([(0, .1), (.2, .9), (.2, 0), (.25, .6), (.5, 1), (.65, .6), (.65, .1), (.8, 0), (1, .2)], [], 1.0),
    "m": ([(0, .1), (.2, .9), (.2, 0), (.25, .6), (.45, 1), (.55, .6), (.55, 0), (.6, .6), (.8, 1), (.95, .6),
           (.95, .1), (1.1, 0), (1.3, .2)], [], 1.3),
    "u": ([(0, .1), (.15, .9), (.15, .25), (.35, 0), (.6, .3), (.65, .9), (.65, .2), (.8, 0), (1, .2)], [], 1.0),
    "r": ([(0, .1), (.25, 1), (.45, .85), (.5, .1), (.7, .2)], [], .7),
    "o": ([(0, .1), (.4, .95), (.15, .85), (.05, .4), (.25, 0), (.5, .3), (.45, .95), (.4, .8), (.7, .8)], [], .75),
    "h": ([(0, .1), (.35, 1.3), (.45, 1.9), (.25, 2), (.15, 1.6), (.15, 0), (.2, .6), (.45, 1), (.6, .6), (.6, .1),
           (.75, 0), (.95, .2)], [], .95),
    "d": ([(0, .1), (.55, .85), (.3, 1), (.05, .6), (.15, .05), (.45, .15), (.6, .9), (.65, 2), (.6, .3), (.75, 0),
           (.95, .2)], [], .95),
    "g": ([(0, .1), (.55, .85), (.3, 1), (.05, .6), (.15, .05), (.45, .15), (.6, .9), (.6, -.6), (.4, -1),
           (.15, -.8), (.4, -.3), (.85, .1)], [], .9),
    "y": ([(0, .1), (.15, .9), (.15, .25), (.35, 0), (.6, .3), (.65, .9), (.6, -.6), (.4, -1), (.15, -.8),
           (.4, -.3), (.85, .1)], [], .9),
    "w": ([(0, .1), (.15, .9), (.15, .25), (.3, 0), (.45, .5), (.55, 0), (.7, .5), (.75, .95), (.7, .8), (.95, .8)],
          [], .95),
    "v": ([(0, .1), (.2, .9), (.3, .3), (.4, 0), (.55, .6), (.6, .95), (.55, .8), (.8, .8)], [], .8),
    "b": ([(0, .1), (.45, 1.2), (.5, 1.9), (.3, 2), (.2, 1.6), (.2, .2), (.35, 0), (.6, .4), (.55, .85), (.35, .7),
           (.7, .75)], [], .7),
    "s": ([(0, .1), (.35, 1), (.55, .35), (.4, .02), (.12, .1), (.4, .05), (.65, .2)], [], .65),
}
_LETTER_KEYS = tuple(_LETTERS)
_LETTER_W = np.array([5, 3, 6, 5, 4, 4, 5, 3, 3, 4, 4, 3, 3, 2, 2, 2, 2, 2, 3], np.float64)

# Print / script capitals (cap height 2.2): strokes of (control points, smooth?)
_CAPS: dict[str, list[tuple[list[Point], bool]]] = {
    "A": [([(0, 0), (.55, 2.2), (1.1, 0)], False), ([(.2, .9), (.95, 1)], False)],
    "E": [([(.95, 2.2), (0, 2.2), (0, 0), (1, 0)], False), ([(0, 1.1), (.75, 1.1)], False)],
    "F": [([(1, 2.2), (0, 2.2), (0, 0)], False), ([(0, 1.2), (.75, 1.2)], False)],
    "H": [([(0, 2.2), (0, 0)], False), ([(1, 2.2), (1, 0)], False), ([(0, 1.1), (1, 1.15)], False)],
    "K": [([(0, 2.2), (0, 0)], False), ([(.95, 2.2), (.05, 1), (1, 0)], False)],
    "M": [([(0, 0), (.15, 2.2), (.65, .7), (1.15, 2.2), (1.3, 0)], False)],
    "N": [([(0, 0), (.05, 2.2), (.95, 0), (1, 2.2)], False)],
    "R": [([(0, 0), (0, 2.2)], False), ([(0, 2.1), (.6, 2.2), (.9, 1.8), (.6, 1.25), (.05, 1.15)], True),
          ([(.3, 1.2), (1, 0)], False)],
    "T": [([(-.2, 2.2), (1.2, 2.25)], False), ([(.5, 2.2), (.45, 0)], False)],
    "W": [([(0, 2.2), (.3, 0), (.65, 1.5), (1, 0), (1.3, 2.2)], False)],
    "L": [([(.7, 1.6), (.9, 2.1), (.6, 2.25), (.35, 1.7), (.3, .6), (.1, 0), (-.1, .3), (.5, .2), (1.1, .05)], True)],
    "J": [([(0, 2.2), (1.2, 2.2)], False), ([(.8, 2.2), (.7, .2), (.3, -.3), (-.05, .2)], True)],
    "D": [([(0, 0), (0, 2.2)], False), ([(-.15, 2.1), (.6, 2.15), (1.1, 1.3), (.8, .2), (0, 0)], True)],
}
_CAP_KEYS = tuple(_CAPS)


def _word(rng: np.random.Generator, n: int, x0: float = 0.0, y0: float = 0.0, *, h: float = 1.0,
          lazy: float = 0.0) -> tuple[list[np.ndarray], float]:
    """A connected cursive word of n >= 2 letters; lazy > 0 flattens and blurs the letters. -> strokes, end x."""
    n = max(2, n)
    keys = rng.choice(len(_LETTER_KEYS), size=n, p=_LETTER_W / _LETTER_W.sum())
    ctrl, extra, x = [], [], x0
    for j, k in enumerate(keys):
        pts, more, w = _LETTERS[_LETTER_KEYS[k]]
        sx = rng.uniform(0.85, 1.15) * (1 - 0.35 * lazy * rng.random())
        sy = rng.uniform(0.9, 1.1) * (1 - 0.6 * lazy * rng.random())
        p = np.asarray(pts, np.float64) * [sx, sy] + rng.normal(0, 0.035 + 0.05 * lazy, (len(pts), 2))
        p = p * h + [x, y0]
        ctrl.append(p if j == 0 else p[1:])
        if lazy < 0.5 or rng.random() < 0.3:
            extra += [np.asarray(q, np.float64) * [sx, sy] * h + [x, y0] + rng.normal(0, .04, 2) for q in more]
        x += w * sx * h
    main = _catmull(np.vstack(ctrl), per=6)
    out = [main]
    for q in extra:
        out.append(_dot(q[0], rng) if np.hypot(*(q[1] - q[0])) < 0.1 else _line(q[0], q[1], rng))
    return out, x


def _capital(rng: np.random.Generator, x0: float, y0: float = 0.0, h: float = 1.0) -> tuple[list[np.ndarray], float]:
    """A capital letter (only ever drawn with other letters). -> strokes, end x."""
    key = _CAP_KEYS[int(rng.integers(len(_CAP_KEYS)))]
    sx = rng.uniform(0.85, 1.2)
    out = []
    for pts, smooth in _CAPS[key]:
        p = (np.asarray(pts, np.float64) * [sx, 1] + rng.normal(0, 0.04, (len(pts), 2))) * h + [x0, y0]
        out.append(_catmull(p, per=8) if smooth else _poly(p, rng, bow=0.03))
    width = max(float(np.max(s[:, 0])) for s in out) - x0
    return out, x0 + width


# ---------------------------------------------------------------- scrawls
def _s_signature(rng):
    sk = _Sketch()
    strokes, x = _capital(rng, 0.0, 0.0, rng.uniform(1.0, 1.3))
    sk.extend(strokes)
    w, x = _word(rng, int(rng.integers(3, 7)), x + 0.15, 0.0, lazy=rng.uniform(0.2, 0.6))
    sk.extend(w)
    if rng.random() < 0.4:
        c, x2 = _capital(rng, x + 0.5, 0.0, rng.uniform(0.9, 1.2))
        w2, x = _word(rng, int(rng.integers(2, 6)), x2 + 0.15, 0.0, lazy=rng.uniform(0.2, 0.7))
        sk.extend(c + w2)
    end = sk.strokes[-1][-1] if len(sk.strokes[-1]) else np.array([x, 0])
    y_u = -rng.uniform(0.4, 0.8)
    swash = [end, (x + 0.5, y_u + 0.2), (x * 0.5, y_u - 0.1), (-0.3, y_u), (-0.5, y_u + 0.25)]
    if rng.random() < 0.5:
        sk.add(_catmull(np.asarray(swash) + rng.normal(0, 0.05, (5, 2)), per=10))
    else:
        sk.add(_line((-0.2, y_u), (x + 0.3, y_u + rng.normal(0, 0.1)), rng, bow=0.04))
    return sk


def _s_lazy_signature(rng):
    sk = _Sketch()
    strokes, x = _capital(rng, 0.0, 0.0, rng.uniform(0.9, 1.2))
    sk.extend(strokes)
    n = int(rng.integers(6, 12))
    xs = x + np.cumsum(rng.uniform(0.2, 0.45, 2 * n))
    ys = np.where(np.arange(2 * n) % 2 == 0, 0.0, 1.0) * rng.uniform(0.3, 1.2, 2 * n) * np.linspace(1, 0.4, 2 * n)
    loops = rng.choice(2 * n, size=2, replace=False)
    ys[loops[0]] += rng.uniform(0.8, 1.4)
    ys[loops[1]] -= rng.uniform(0.6, 1.0) if loops[1] % 2 == 0 else 0
    tail = [(xs[-1] + 1.0, 0.2 + rng.normal(0, 0.2)), (xs[-1] + 1.8, rng.normal(0.3, 0.3))]
    sk.add(_catmull(np.vstack([np.column_stack([xs, ys]), tail]), per=6))
    if rng.random() < 0.6:
        y_u = -rng.uniform(0.3, 0.6)
        sk.add(_line((x - 0.2, y_u), (xs[-1] + 1.2, y_u + rng.normal(0, 0.1)), rng, bow=0.03))
    return sk


def _s_cursive_word(rng):
    return _Sketch().extend(_word(rng, int(rng.integers(3, 7)), lazy=rng.uniform(0, 0.3))[0])


def _s_two_words(rng):
    w1, x = _word(rng, int(rng.integers(2, 5)), lazy=rng.uniform(0, 0.3))
    w2, _ = _word(rng, int(rng.integers(2, 5)), x + rng.uniform(0.6, 1.0), lazy=rng.uniform(0, 0.3))
    return _Sketch().extend(w1 + w2)


def _s_two_line_note(rng):
    sk, lead = _Sketch(), rng.uniform(2.6, 3.2)
    for row in range(2):
        x = rng.normal(0, 0.2)
        for _ in range(int(rng.integers(1, 3))):
            w, x = _word(rng, int(rng.integers(3, 6)), x, -row * lead, lazy=rng.uniform(0, 0.5))
            sk.extend(w)
            x += rng.uniform(0.6, 0.9)
    return sk


def _s_bullet_list(rng):
    sk, lead = _Sketch(), rng.uniform(2.0, 2.4)
    for row in range(3):
        y = -row * lead
        if rng.random() < 0.5:
            sk.add(_line((0, y + 0.45), (0.45, y + 0.5), rng))
        else:
            sk.add(_dot((0.25, y + 0.5), rng, 0.05))
        sk.extend(_word(rng, int(rng.integers(4, 7)), 0.8, y, lazy=rng.uniform(0.2, 0.6))[0])
    return sk


def _s_initials(rng):
    sk, x = _Sketch(), 0.0
    for _ in range(int(rng.integers(2, 4))):
        s, x = _capital(rng, x, 0.0, rng.uniform(0.9, 1.2))
        sk.extend(s)
        if rng.random() < 0.6:
            sk.add(_dot((x + 0.2, 0.05), rng, 0.05))
        x += rng.uniform(0.45, 0.8)
    if rng.random() < 0.5:  # swash under and around
        sk.add(_catmull([(x, 0.3), (x + 0.3, -0.4), (x * 0.5, -0.9), (-0.5, -0.5), (-0.3, 0.2), (0.2, 0.0)]
                        + rng.normal(0, 0.06, (6, 2)), per=10))
    else:
        sk.add(_ellipse((x / 2 - 0.2, 1.0), x / 2 + 0.5, 1.7, rng, tilt=rng.normal(0, 0.1),
                        span=2 * np.pi * rng.uniform(1.05, 1.25)))
    return sk


def _s_crossed_out(rng):
    w, x = _word(rng, int(rng.integers(3, 7)), lazy=rng.uniform(0, 0.4))
    n = int(rng.integers(5, 12))
    xs = np.linspace(-0.2, x + 0.1, n) + rng.normal(0, 0.05, n)
    ys = np.where(np.arange(n) % 2 == 0, rng.uniform(-0.1, 0.2, n), rng.uniform(0.9, 1.4, n))
    return _Sketch().extend(w).add(_poly(np.column_stack([xs, ys]), rng, bow=0.01))


def _s_struck_through(rng):
    w, x = _word(rng, int(rng.integers(3, 7)), lazy=rng.uniform(0, 0.3))
    sk = _Sketch().extend(w)
    for k in range(int(rng.integers(1, 3))):
        y = 0.5 + 0.3 * k + rng.normal(0, 0.05)
        sk.add(_line((-0.2, y), (x + 0.2, y + rng.normal(0, 0.08)), rng))
    return sk


def _s_underlined(rng):
    w, x = _word(rng, int(rng.integers(3, 7)), lazy=rng.uniform(0, 0.3))
    sk = _Sketch().extend(w)
    if rng.random() < 0.5:
        for k in range(2):
            sk.add(_line((-0.1, -0.45 - 0.3 * k), (x + rng.uniform(-0.1, 0.3), -0.4 - 0.3 * k), rng))
    else:
        sk.add(_wavy(-0.1, x + 0.2, -0.55, rng, amp=0.12))
    return sk


def _s_tildes(rng):
    sk = _Sketch(0.6)
    for row in range(int(rng.integers(2, 4))):  # stacked rows: a lone row is just a line at 28x28
        x = rng.normal(0, 0.3)
        for _ in range(int(rng.integers(2, 4))):  # groups of two or more waves, never a lone one
            k = int(rng.integers(2, 4))
            t = np.linspace(0, 2 * np.pi * k, 20 * k)
            w, amp = rng.uniform(0.6, 0.9), 0.3 * rng.uniform(0.7, 1.1)
            sk.add(np.column_stack([x + w * t / (2 * np.pi), amp * np.sin(t + rng.normal(0, .2)) - 1.2 * row]))
            x += w * k + rng.uniform(0.4, 0.8)
    return sk


def _s_dash_dots(rng):
    sk, lead = _Sketch(0.9), rng.uniform(0.9, 1.2)
    for row in range(int(rng.integers(2, 5))):  # stacked rows: a lone row is just a line at 28x28
        x, y = rng.normal(0, 0.2), -row * lead
        for _ in range(int(rng.integers(2, 5))):
            ln = rng.uniform(0.5, 0.8)
            sk.add(_line((x, y), (x + ln, y + rng.normal(0, 0.03)), rng))
            x += ln + 0.3
            sk.add(_dot((x, y + rng.normal(0, 0.02)), rng, 0.04))
            x += 0.3
        sk.add(_line((x, y), (x + rng.uniform(0.5, 0.8), y + rng.normal(0, 0.03)), rng))
    return sk


def _s_dashes_ellipsis(rng):
    sk, words = _Sketch(0.7), rng.random() < 0.5
    lead = rng.uniform(2.0, 2.4) if words else rng.uniform(1.0, 1.3)
    for row in range(int(rng.integers(2, 4))):
        x, y = rng.normal(0, 0.2), -row * lead
        if words:
            w, x = _word(rng, int(rng.integers(3, 6)), x, y, lazy=rng.uniform(0, 0.4))
            sk.extend(w)
            x += 0.3
        for _ in range(int(rng.integers(1, 4))):
            ln = rng.uniform(0.5, 1.0)
            sk.add(_line((x, y + 0.3), (x + ln, y + 0.3 + rng.normal(0, 0.04)), rng))
            x += ln + rng.uniform(0.3, 0.5)
        for _ in range(3):
            sk.add(_dot((x, y), rng, 0.05))
            x += rng.uniform(0.3, 0.45)
    return sk


def _s_paraph(rng):
    n = int(rng.integers(3, 7))
    t = np.linspace(0, 2 * np.pi * n, 40 * n)
    r = rng.uniform(0.6, 0.9) * np.linspace(1, rng.uniform(0.5, 1), t.size)
    a = rng.uniform(0.12, 0.22)
    loops = np.column_stack([a * t - r * np.sin(t), r * np.cos(t) * rng.uniform(1.2, 1.8)])
    end, x1 = loops[-1], loops[-1, 0]
    tail = _catmull([end, end + (0.6, -0.9), (x1 * 0.5, -2.0), (-0.6, -1.7), (-0.9, -1.1)]
                    + rng.normal(0, 0.08, (5, 2)), per=12)
    sk = _Sketch().add(np.vstack([loops, tail]))
    if rng.random() < 0.5:
        sk.add(_line((-0.5, 0.9), (end[0] + 0.5, 0.9 + rng.normal(0, 0.1)), rng))
    return sk


def _s_loop_row(rng):
    sk = _Sketch()
    tall = rng.random() < 0.5
    for row in range(int(rng.integers(1, 3))):
        n = int(rng.integers(4, 9))
        ctrl = [(0, 0.1)]
        for j in range(n):
            x = j * (0.7 if tall else 0.6)
            if tall:
                ctrl += [(x + .45, 1.2), (x + .5, 1.9), (x + .3, 2), (x + .2, 1.6), (x + .3, .5), (x + .45, 0)]
            else:
                ctrl += [(x + .4, .45), (x + .45, .85), (x + .25, 1), (x + .05, .6), (x + .15, .05), (x + .45, .02)]
        p = np.asarray(ctrl) + rng.normal(0, 0.04, (len(ctrl), 2)) + [0, -row * 2.6]
        sk.add(_catmull(p, per=6))
    return sk


SCRAWL_KINDS = ("signature", "lazy_signature", "cursive_word", "two_words", "two_line_note", "bullet_list",
                "initials", "crossed_out", "struck_through", "underlined_word", "tildes", "dash_dots",
                "dashes_ellipsis", "paraph", "loop_row")
_SCRAWL_FN: dict[str, Callable[[np.random.Generator], _Sketch]] = dict(zip(SCRAWL_KINDS, (
    _s_signature, _s_lazy_signature, _s_cursive_word, _s_two_words, _s_two_line_note, _s_bullet_list,
    _s_initials, _s_crossed_out, _s_struck_through, _s_underlined, _s_tildes, _s_dash_dots,
    _s_dashes_ellipsis, _s_paraph, _s_loop_row)))


# ---------------------------------------------------------------- diagrams (about -1..1 per side)
def _axes(rng, x0=-1.0, y0=-1.0, x1=1.0, y1=1.0, arrows=None) -> list[np.ndarray]:
    arrows = rng.random() < 0.5 if arrows is None else arrows
    if arrows:
        return _arrow((x0, y0), (x0, y1), rng, head=0.12) + _arrow((x0, y0), (x1, y0), rng, head=0.12)
    if rng.random() < 0.5:
        return [_poly([(x0, y1), (x0, y0), (x1, y0)], rng)]
    return [_line((x0, y0), (x0, y1), rng), _line((x0, y0), (x1, y0), rng)]


def _d_bar_chart(rng):
    sk = _Sketch(0.25).extend(_axes(rng))
    n = int(rng.integers(3, 7))
    w = 1.6 / n
    fill = rng.random() < 0.4
    for j in range(n):
        x0 = -0.85 + j * w + w * 0.15
        x1 = x0 + w * 0.7
        h = -1 + rng.uniform(0.4, 1.75)
        sk.add(_poly([(x0, -1), (x0, h), (x1, h), (x1, -1)], rng))
        if fill and rng.random() < 0.7:
            sk.add(_zigzag_fill(x0 + 0.03, -0.97, x1 - 0.03, h - 0.03, rng, 0.12))
    for k in range(int(rng.integers(0, 4))):
        y = -1 + 0.45 * (k + 1)
        sk.add(_line((-1.06, y), (-0.96, y), rng, over=False))
    return sk


def _d_line_graph(rng):
    sk = _Sketch(0.3).extend(_axes(rng))
    for series in range(1 if rng.random() < 0.5 else 2):
        n = int(rng.integers(4, 9))
        xs = np.linspace(-0.85, 0.85, n)
        ys = np.clip(np.cumsum(rng.normal(0, 0.45, n)) * 0.5 + rng.uniform(-0.1, 0.4), -0.5, 0.85)
        pts = np.column_stack([xs, ys])
        if series and rng.random() < 0.5:  # dashed second series
            dense = _lerp(pts, 60)
            sk.extend([dense[i:i + 4] for i in range(0, 56, 7)])
        else:
            sk.add(_poly(pts, rng, bow=0.015))
        marker = int(rng.integers(3))
        for p in pts:
            if marker == 0:
                sk.add(_dot(p, rng, 0.03))
            elif marker == 1:
                sk.add(_line(p - 0.07, p + 0.07, rng), _line(p + (-0.07, 0.07), p + (0.07, -0.07), rng))
            else:
                sk.add(_ellipse(p, 0.07, 0.07, rng))
    for k in range(int(rng.integers(2, 5))):  # ticks on both axes
        t = -1 + 0.45 * (k + 1)
        sk.add(_line((-1.06, t), (-0.95, t), rng, over=False), _line((t, -1.06), (t, -0.95), rng, over=False))
    return sk


def _d_pie_chart(rng):
    c = np.zeros(2)
    sk = _Sketch(0.45).add(_ellipse(c, 1, rng.uniform(0.9, 1.05), rng))
    n = int(rng.integers(3, 7))  # slices of at least ~0.5 rad: never fewer than three radii
    share = 0.5 + (2 * np.pi - 0.5 * n) * rng.dirichlet(np.ones(n))
    cuts = rng.uniform(0, 2 * np.pi) + np.r_[0, np.cumsum(share)[:-1]]
    for a in cuts:
        sk.add(_line(c, (np.cos(a), np.sin(a)), rng, over=False, bow=0.01))
    if rng.random() < 0.5:  # shade one slice with strokes
        a0, a1 = cuts[0], cuts[1]
        for a in np.linspace(a0 + 0.12, a1 - 0.12, max(2, int((a1 - a0) / 0.18))):
            sk.add(_line((0.3 * np.cos(a), 0.3 * np.sin(a)), (0.85 * np.cos(a), 0.85 * np.sin(a)), rng))
    return sk


def _box_shape(rng, c, w, h, shape) -> list[np.ndarray]:
    x, y = c
    if shape == 0:
        return _rect(x - w, y - h, x + w, y + h, rng)
    if shape == 1:
        return [_poly([(x - w, y), (x, y + h * 1.2), (x + w, y), (x, y - h * 1.2)], rng, close=True)]
    return [_ellipse(c, w, h, rng)]


def _d_flowchart(rng):
    sk = _Sketch(0.3)
    layout = int(rng.integers(3))
    if layout == 0:  # a row of 2-3 boxes
        n = int(rng.integers(2, 4))
        cs = [((n - 1) * (-0.65 + 1.3 * j / (n - 1)), rng.normal(0, 0.05)) for j in range(n)]
        links = [(j - 1, j) for j in range(1, n)]
    elif layout == 1:  # round a corner
        cs = [(-0.7, 0.6), (0.7, 0.6), (0.7, -0.6)]
        links = [(0, 1), (1, 2)]
    else:  # a decision that branches in two
        cs = [(0, 0.6), (-0.75, -0.6), (0.75, -0.6)]
        links = [(0, 1), (0, 2)]
    w, h = 0.36, 0.22
    for j, c in enumerate(cs):
        shape = 0 if rng.random() < 0.6 else int(rng.integers(1, 3))
        sk.extend(_box_shape(rng, c, w, h, shape))
        if rng.random() < 0.5:
            for k in range(int(rng.integers(1, 3))):
                sk.add(_line((c[0] - w * 0.5, c[1] + h * (0.3 - 0.5 * k)), (c[0] + w * rng.uniform(0.1, 0.5),
                                                                            c[1] + h * (0.3 - 0.5 * k)), rng))
    for i, j in links:
        a, b = np.asarray(cs[i], float), np.asarray(cs[j], float)
        d = (b - a) / np.hypot(*(b - a))
        gap = min(w / (abs(d[0]) + 1e-9), h * 1.25 / (abs(d[1]) + 1e-9)) + 0.06
        sk.extend(_arrow(a + d * gap, b - d * gap, rng, head=0.12))
    return sk


def _d_table(rng):
    rows, cols = (2, 3) if rng.random() < 0.6 else (3, 2)
    w, h = (1.0, 0.6) if cols == 3 else (0.8, 0.9)
    sk = _Sketch(0.45).extend(_rect(-w, -h, w, h, rng))
    for r in range(1, rows):
        y = -h + 2 * h * r / rows
        sk.add(_line((-w, y), (w, y), rng))
    for c in range(1, cols):
        x = -w + 2 * w * c / cols
        sk.add(_line((x, -h), (x, h), rng))
    if rng.random() < 0.4:  # header rule
        y = h - 2 * h / rows + 0.06
        sk.add(_line((-w, y), (w, y), rng))
    cw, ch = 2 * w / cols, 2 * h / rows
    for r in range(rows):
        for c in range(cols):
            if rng.random() < 0.35:
                x0, y0 = -w + c * cw, -h + r * ch
                sk.add(_line((x0 + .25 * cw, y0 + .5 * ch), (x0 + rng.uniform(.5, .75) * cw, y0 + .5 * ch), rng))
    return sk


def _d_tree(rng):
    sk = _Sketch(0.3)
    circle = rng.random() < 0.4
    s = 0.16

    def node(p):
        return [_ellipse(p, s, s, rng)] if circle else _rect(p[0] - s * 1.4, p[1] - s, p[0] + s * 1.4, p[1] + s, rng)

    root = np.array([0.0, 0.9])
    sk.extend(node(root))
    k = int(rng.integers(2, 4))
    kids = [np.array([x, 0.0]) for x in np.linspace(-0.8, 0.8, k)]
    elbow = not circle and rng.random() < 0.6
    deep = [j for j in range(k) if rng.random() < 0.5]
    for j, kid in enumerate(kids):
        sk.extend(node(kid))
        if elbow:
            sk.add(_line((kid[0], kid[1] + s), (kid[0], 0.45), rng))
        else:
            sk.add(_line(root + (0, -s), kid + (0, s), rng, over=False))
        if j in deep:
            for g in ((-0.25, -0.9), (0.25, -0.9))[: int(rng.integers(1, 3))]:
                gp = kid + g
                sk.extend(node(gp))
                sk.add(_line(kid + (0, -s), gp + (0, s), rng, over=False))
    if elbow:
        sk.add(_line((0, 0.9 - s), (0, 0.45), rng), _line((-0.8, 0.45), (0.8, 0.45), rng))
    return sk


def _d_map(rng):
    sk = _Sketch(0.3)
    framed = rng.random() < 0.75
    if framed:  # the edge of the sheet / map frame
        sk.extend(_rect(-1.1, -1.1, 1.1, 1.1, rng))
    for _ in range(int(rng.integers(2, 4)) if framed else 3):
        a = rng.uniform(0, np.pi)
        d = np.array([np.cos(a), np.sin(a)])
        nrm = np.array([-d[1], d[0]])
        off = rng.uniform(-0.5, 0.5)
        ctrl = np.array([off * nrm + t * d + rng.normal(0, 0.12, 2) for t in (-1.1, -0.4, 0.4, 1.1)])
        road = _catmull(ctrl, per=10)
        sk.add(road)
        if rng.random() < 0.4:  # two-lane road
            tang = np.gradient(road, axis=0)
            tang /= np.hypot(*tang.T)[:, None] + 1e-9
            sk.add(road + 0.09 * np.column_stack([-tang[:, 1], tang[:, 0]]))
    if rng.random() < 0.5 or not framed:  # river
        x = np.linspace(-1, 1, 40)
        sk.add(np.column_stack([x, 0.15 * np.sin(x * rng.uniform(4, 7)) + rng.uniform(-0.7, 0.7)]).dot(
            [[0, 1], [1, 0]] if rng.random() < 0.5 else [[1, 0], [0, 1]]))
    px = rng.uniform(-0.6, 0.6, 2)
    r = 0.17
    sk.add(_line(px - r, px + r, rng), _line(px + (-r, r), px + (r, -r), rng))
    if rng.random() < 0.6:  # dashed trail to the X
        start = rng.uniform(-1, 1, 2)
        trail = _catmull([start, (start + px) / 2 + rng.normal(0, 0.25, 2), px - 0.15 * np.sign(px - start)], per=20)
        sk.extend([trail[i:i + 3] for i in range(0, len(trail) - 3, 6)])
    for _ in range(int(rng.integers(0, 3)) if framed else int(rng.integers(2, 4))):  # houses
        q = rng.uniform(-0.9, 0.9, 2)
        sk.extend(_rect(q[0], q[1], q[0] + 0.15, q[1] + 0.12, rng))
    return sk


def _d_venn(rng):
    sk = _Sketch(0.35)
    r = rng.uniform(0.5, 0.6)
    if rng.random() < 0.5:
        cs = [(-0.42, 0), (0.42, 0)]
    else:
        cs = [(-0.33, 0.2), (0.33, 0.2), (0, -0.32)]
    for c in cs:
        sk.add(_ellipse(c, r * rng.uniform(0.95, 1.05), r * rng.uniform(0.9, 1.05), rng))
    if rng.random() < 0.6:
        sk.extend(_rect(-1.15, -1.0 if len(cs) == 3 else -0.85, 1.15, 0.95, rng))
    return sk


def _hexagon(rng, c, r, rot) -> tuple[list[np.ndarray], list[np.ndarray]]:
    v = [c + r * np.array([np.cos(rot + k * np.pi / 3), np.sin(rot + k * np.pi / 3)]) for k in range(6)]
    out = [_poly(v, rng, close=True, bow=0.01)]
    if rng.random() < 0.25:
        out.append(_ellipse(c, r * 0.55, r * 0.55, rng))
    else:
        for k in range(int(rng.integers(0, 2)), 6, 2):
            a, b = v[k], v[(k + 1) % 6]
            out.append(_line(c + 0.75 * (a - c) + 0.12 * (b - a), c + 0.75 * (b - c) - 0.12 * (b - a), rng,
                             over=False))
    return out, v


def _d_hexagon_ring(rng):
    sk = _Sketch(0.35)
    fused = rng.random() < 0.25
    rot = np.pi / 6 if fused or rng.random() < 0.5 else 0.0
    r, c1 = 0.55, np.zeros(2)
    ring, v = _hexagon(rng, c1, r, rot)
    sk.extend(ring)
    if fused:  # a second ring sharing the right-hand edge; tails at both far ends keep it long and flat
        c2 = v[5] + v[0]
        ring2, v2 = _hexagon(rng, c2, r, rot)
        sk.extend(ring2)
        subs = [(v[int(rng.choice([2, 3]))], c1), (v2[int(rng.choice([0, 5]))], c2)]
    else:  # opposite (para), alternate (meta) or three alternate vertices
        k0 = int(rng.choice([k for k in range(6) if abs(np.sin(rot + k * np.pi / 3)) < 0.9]))  # no vertical axis
        ks = [k0, (k0 + 3) % 6] if rng.random() < 0.5 else [k0, (k0 + 2) % 6, (k0 + 4) % 6][: int(rng.integers(2, 4))]
        subs = [(v[k], c1) for k in ks]
    for p, c in subs:  # never a single tail: a ring with one tail looks like a 6 or a 9
        d = (p - c) / np.hypot(*(p - c))
        end = p + d * 0.45
        sk.add(_line(p, end, rng, over=False))
        if rng.random() < 0.4:  # zig-zag chain
            turn = np.array([[np.cos(1), -np.sin(1)], [np.sin(1), np.cos(1)]]) @ d
            sk.add(_poly([end, end + turn * 0.4, end + turn * 0.4 + d * 0.4], rng))
    return sk


def _d_music_staff(rng):
    s = 0.25
    sk = _Sketch(s * 0.8)
    w = rng.uniform(1.6, 2.2)
    for k in range(5):
        sk.add(_line((-w / 2, k * s), (w / 2, k * s + rng.normal(0, 0.01)), rng, bow=0.008))
    sk.add(_line((w / 2, 0), (w / 2, 4 * s), rng, over=False))
    n = int(rng.integers(2, 5))
    xs = np.linspace(-w / 2 + 0.25, w / 2 - 0.25, n)
    stems = []
    for x in xs:
        y = s * int(rng.integers(-1, 9)) / 2
        filled = rng.random() < 0.75
        head = _ellipse((x, y), s * 0.62, s * 0.42, rng, tilt=0.4, span=2 * np.pi)
        sk.add(head)
        if filled:
            sk.fills.append(head)
        up = y < 2 * s
        sx = x + (s * 0.58 if up else -s * 0.58)
        top = y + (2.8 * s if up else -2.8 * s)
        sk.add(_line((sx, y), (sx, top), rng, over=False, bow=0.005))
        stems.append((sx, top, up))
    if rng.random() < 0.5 and n >= 2 and stems[0][2] == stems[1][2]:  # beam the first pair
        (x0, t0, up), (x1, t1, _) = stems[0], stems[1]
        t = max(t0, t1) if up else min(t0, t1)
        sk.fills.append(np.array([(x0, t), (x1, t), (x1, t - 0.07), (x0, t - 0.07)]))
    return sk


def _stick_figure(rng, x, y, h) -> list[np.ndarray]:
    r = 0.18 * h
    head = (x, y + h - r)
    neck, hip = np.array([x, y + h - 2 * r]), np.array([x, y + 0.45 * h])
    arm = neck + (0, -0.12 * h)
    out = [_ellipse(head, r, r * 1.05, rng), _line(neck, hip, rng, over=False)]
    for side in (-1, 1):
        out.append(_line(arm, arm + (side * 0.3 * h, rng.uniform(-0.3, 0.25) * h), rng, over=False))
        out.append(_line(hip, (x + side * rng.uniform(0.12, 0.25) * h, y), rng, over=False))
    return out


def _d_stick_scene(rng):
    sk = _Sketch(0.3)
    sk.add(_line((-1.1, -1), (1.1, -1), rng, bow=0.02))
    xs = [-0.45] if rng.random() < 0.5 else [-0.7, -0.25]
    for x in xs:
        sk.extend(_stick_figure(rng, x + rng.normal(0, 0.05), -1, rng.uniform(0.9, 1.2)))
    extra = int(rng.integers(3))
    if extra == 0:  # sun
        c = np.array([0.65, 0.65])
        sk.add(_ellipse(c, 0.2, 0.2, rng))
        for a in np.linspace(0, 2 * np.pi, int(rng.integers(6, 10)), endpoint=False):
            d = np.array([np.cos(a), np.sin(a)])
            sk.add(_line(c + 0.28 * d, c + 0.42 * d, rng, over=False))
    elif extra == 1:  # tree
        sk.add(_line((0.55, -1), (0.57, -0.25), rng), _line((0.75, -1), (0.73, -0.25), rng))
        t = np.linspace(0, 2 * np.pi, 60)
        rr = 0.45 + 0.06 * np.sin(7 * t + rng.uniform(0, 6))
        sk.add(np.column_stack([0.65 + rr * np.cos(t), 0.15 + 0.9 * rr * np.sin(t)]))
    else:  # house
        sk.extend(_rect(0.25, -1, 1.0, -0.3, rng))
        sk.add(_poly([(0.15, -0.3), (0.625, 0.25), (1.1, -0.3)], rng))
        sk.add(_poly([(0.55, -1), (0.55, -0.65), (0.72, -0.65), (0.72, -1)], rng))
    return sk


def _d_sine_axes(rng):
    sk = _Sketch(0.35)
    amp = rng.uniform(0.3, 0.45)
    sk.extend(_arrow((-1, 0), (1.1, 0), rng, head=0.12))
    sk.extend(_arrow((-0.9, -amp - 0.25), (-0.9, amp + 0.3), rng, head=0.12))
    periods = rng.uniform(1.5, 2.5)
    x = np.linspace(-0.9, 0.95, 90)
    ph = 0.0 if rng.random() < 0.6 else np.pi / 2
    y = amp * np.sin(2 * np.pi * periods * (x + 0.9) / 1.85 + ph) * (1 + rng.normal(0, 0.04))
    sk.add(np.column_stack([x, y + 0.02 * np.sin(x * 9 + rng.uniform(0, 6))]))
    if rng.random() < 0.5:
        for xt in np.linspace(-0.9, 0.95, int(rng.integers(4, 8)))[1:]:
            sk.add(_line((xt, -0.05), (xt, 0.05), rng, over=False))
    if rng.random() < 0.3:  # dashed amplitude guide
        sk.extend([_line((x0, amp), (x0 + 0.08, amp), rng, over=False) for x0 in np.arange(-0.85, 0.9, 0.16)])
    return sk


def _d_bullseye(rng):
    k = int(rng.integers(3, 5))
    sk = _Sketch(0.8 / k)
    for j in range(k):
        r = 1.0 * (k - j) / k
        sk.add(_ellipse((0, 0), r, r * rng.uniform(0.95, 1.05), rng))
    sk.add(_dot((0, 0), rng, 0.04))
    # the arrow comes in from a side, never straight up or down (a ring on a vertical stick reads as 6 or 9)
    a = rng.uniform(-0.9, 0.9) + (np.pi if rng.random() < 0.5 else 0.0)
    d = np.array([np.cos(a), np.sin(a)])
    tip = rng.normal(0, 0.1, 2)
    tail = tip + d * rng.uniform(1.4, 1.8)
    sk.add(_line(tail, tip, rng, over=False))
    nrm = np.array([-d[1], d[0]])
    for f in (0.0, 0.15, 0.3)[: int(rng.integers(2, 4))]:  # fletching
        base = tail - d * f
        sk.add(_poly([base + 0.18 * d + 0.16 * nrm, base, base + 0.18 * d - 0.16 * nrm], rng))
    return sk


def _d_calendar(rng):
    rows, cols = int(rng.integers(3, 5)), int(rng.choice([5, 7]))
    w, h = 1.1, 0.2 * rows + 0.3
    sk = _Sketch(0.18).extend(_rect(-w, -h, w, h, rng))
    head = h - 0.32
    sk.add(_line((-w, head), (w, head), rng))
    if rng.random() < 0.5:
        sk.add(_zigzag_fill(-w + 0.05, head + 0.04, w - 0.05, h - 0.04, rng, 0.08))
    ch = (head + h) / rows
    for r in range(1, rows):
        sk.add(_line((-w, head - r * ch), (w, head - r * ch), rng, bow=0.01))
    cw = 2 * w / cols
    for c in range(1, cols):
        sk.add(_line((-w + c * cw, head), (-w + c * cw, -h), rng, bow=0.01))
    for _ in range(int(rng.integers(1, 4))):
        r, c = int(rng.integers(rows)), int(rng.integers(cols))
        cx, cy = -w + (c + 0.5) * cw, head - (r + 0.5) * ch
        if rng.random() < 0.5:
            e = 0.35 * min(cw, ch)
            sk.add(_line((cx - e, cy - e), (cx + e, cy + e), rng), _line((cx - e, cy + e), (cx + e, cy - e), rng))
        else:
            sk.add(_ellipse((cx, cy), cw * 0.55, ch * 0.55, rng))
    return sk


def _d_checklist(rng):
    sk = _Sketch(0.3)
    n = int(rng.integers(3, 6))
    b = 0.22
    for r in range(n):
        y = 1 - r * 0.62
        sk.extend(_rect(-1, y - b, -1 + 2 * b, y + b, rng) if rng.random() < 0.5 else
                  [_poly([(-1, y - b), (-1 + 2 * b, y - b), (-1 + 2 * b, y + b), (-1, y + b)], rng, close=True)])
        mark = rng.random()
        if mark < 0.5:
            sk.add(_poly([(-0.97, y), (-0.85, y - 0.2), (-0.45, y + 0.4)], rng, bow=0.02))
        elif mark < 0.65:
            sk.add(_line((-0.95, y - 0.17), (-0.6, y + 0.17), rng), _line((-0.95, y + 0.17), (-0.6, y - 0.17), rng))
        sk.add(_wavy(-0.35, rng.uniform(0.3, 1.1), y - 0.05, rng, amp=0.05))
    return sk


DIAGRAM_KINDS = ("bar_chart", "line_graph", "pie_chart", "flowchart", "table", "tree", "map", "venn",
                 "hexagon_ring", "music_staff", "stick_scene", "sine_axes", "bullseye", "calendar", "checklist")
_DIAGRAM_FN: dict[str, Callable[[np.random.Generator], _Sketch]] = dict(zip(DIAGRAM_KINDS, (
    _d_bar_chart, _d_line_graph, _d_pie_chart, _d_flowchart, _d_table, _d_tree, _d_map, _d_venn,
    _d_hexagon_ring, _d_music_staff, _d_stick_scene, _d_sine_axes, _d_bullseye, _d_calendar, _d_checklist)))
_BUSY = {"table": 0.8, "map": 0.8, "music_staff": 0.7, "calendar": 0.6, "checklist": 0.8, "bar_chart": 0.85,
         "line_graph": 0.85, "tree": 0.8, "flowchart": 0.85, "hexagon_ring": 0.9}


# ---------------------------------------------------------------- the pen
def _warp(pts: np.ndarray, rng: np.random.Generator, *, slant: float, twist: float) -> tuple[np.ndarray, float]:
    """Scale to +-1, smooth warp, aspect, slant, rotation (one draw per picture) -> points, scale used."""
    lo, hi = pts.min(0), pts.max(0)
    scale = 2 / max(float((hi - lo).max()), 1e-6)
    p = (pts - (lo + hi) / 2) * scale
    for _ in range(2):
        f = rng.normal(0, 1.8, 2)
        p += rng.uniform(0, 0.035) * np.sin(p @ f + rng.uniform(0, 6.3))[:, None] * rng.normal(0, 1, 2)
    p *= np.exp(rng.normal(0, 0.1, 2))
    p[:, 0] += np.tan(rng.uniform(-slant, slant)) * p[:, 1]
    a = np.deg2rad(rng.uniform(-twist, twist))
    return p @ np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]]), scale


def _resample(p: np.ndarray, step: float) -> np.ndarray:
    seg = np.hypot(*np.diff(p, axis=0).T)
    s = np.r_[0, np.cumsum(seg)]
    if s[-1] < step:
        return p[[0, -1]] if len(p) > 1 else p
    u = np.linspace(0, s[-1], int(s[-1] / step) + 1)
    return np.column_stack([np.interp(u, s, p[:, 0]), np.interp(u, s, p[:, 1])])


def _hook(p: np.ndarray, rng: np.random.Generator, size: float, at_end: bool) -> np.ndarray:
    """A small curl where the pen lands (or lifts)."""
    q = p[::-1] if at_end else p
    d = q[min(4, len(q) - 1)] - q[0]
    d = d / (np.hypot(*d) + 1e-9)
    n = np.array([-d[1], d[0]]) * rng.choice([-1, 1])
    h = size * rng.uniform(0.6, 1.2)
    curl = _catmull([q[0] + h * (0.2 * d + 1.0 * n), q[0] + h * (-0.35 * d + 0.45 * n), q[0]], per=5)[:-1]
    q = np.vstack([curl, q])
    return q[::-1] if at_end else q


def _pen_profile(p: np.ndarray, pen: str, w0: float, rng: np.random.Generator, nib: float) -> tuple[np.ndarray, ...]:
    """Width and darkness along a stroke: pressure waves, tapered ends, nib angle, pencil breaks."""
    s = np.r_[0, np.cumsum(np.hypot(*np.diff(p, axis=0).T))]
    total = s[-1] + 1e-6
    press = 1 + 0.25 * np.sin(2 * np.pi * s / rng.uniform(25, 80) + rng.uniform(0, 6.3)) \
        + 0.12 * np.sin(2 * np.pi * s / rng.uniform(8, 20) + rng.uniform(0, 6.3))
    ramp = rng.uniform(2, 6) if pen in ("ballpoint", "pencil") else rng.uniform(5, 14)
    taper = np.clip(np.minimum(s, total - s) / ramp, 0, 1) ** 0.7 * 0.6 + 0.4
    v = np.ones_like(s)
    if pen == "ballpoint":
        w = w0 * (0.8 + 0.2 * press) * (0.75 + 0.25 * taper)
        v = np.clip(0.65 + 0.3 * press, 0.3, 1)
        if rng.random() < 0.3:  # skips where the ball runs dry
            v[np.sin(s / rng.uniform(3, 6) + rng.uniform(0, 6)) > 0.93] *= 0.35
    elif pen == "felt":
        w = w0 * (0.9 + 0.1 * press) * (0.8 + 0.2 * taper)
    elif pen == "pencil":
        w = w0 * (0.8 + 0.2 * press)
        v = np.clip(0.5 + 0.35 * press, 0.2, 1) * taper
        for _ in range(rng.poisson(total / 120)):  # broken line where the lead skips
            c = rng.uniform(0, total)
            v[np.abs(s - c) < rng.uniform(1, 3)] *= 0.15
    else:  # fountain pen: broad along one direction, hairline across it
        d = np.gradient(p, axis=0)
        ang = np.arctan2(d[:, 1], d[:, 0])
        w = w0 * (0.3 + 0.7 * np.abs(np.sin(ang - nib))) * (0.85 + 0.15 * press) * taper
    return np.maximum(w, 1.5), v


def _render(sk: _Sketch, rng: np.random.Generator, *, detail: float, slant: float,
            hooks: float) -> tuple[np.ndarray, str, bool]:
    """Draw a sketch as a real pen on a 112-128 px canvas -> (H, W) ink-on-black in [0, 1], pen, paper?"""
    pen = PENS[int(rng.choice(len(PENS), p=PEN_P))]
    w0 = {"ballpoint": (3, 5.5), "felt": (6, 14), "pencil": (3, 6), "fountain": (5, 13)}[pen]
    w0 = max(2.5, rng.uniform(*w0) * detail)
    size = int(rng.integers(112, 129))
    lens = [len(s) for s in sk.strokes]
    allp = np.vstack(sk.strokes + sk.fills)
    warped, scale = _warp(allp, rng, slant=slant, twist=20)
    lo, hi = warped.min(0), warped.max(0)
    k = (size - 2 * 8) / max(float((hi - lo).max()), 1e-6)
    w0 = min(w0, max(2.5, WIDTH_CAP * sk.feature * scale * k))
    margin = w0 + 8
    k = (size - 2 * margin) / max(float((hi - lo).max()), 1e-6)
    canvas = (warped - (lo + hi) / 2) * [k, -k] + size / 2  # y down
    parts = np.split(canvas, np.cumsum(lens + [len(f) for f in sk.fills])[:-1])
    strokes, fills = parts[: len(lens)], parts[len(lens):]
    img = Image.new("F", (size, size), 0.0)
    draw = ImageDraw.Draw(img)
    nib = rng.uniform(0, np.pi)
    ink = rng.uniform(0.85, 1.0)
    for f in fills:
        draw.polygon([tuple(q) for q in f], fill=float(ink * (0.6 if pen == "pencil" else 1)))
    for st in strokes:
        p = _resample(st, 1.0)
        if len(p) > 12:
            if rng.random() < hooks:
                p = _hook(p, rng, min(6.0, 0.12 * len(p)), at_end=False)
            if rng.random() < hooks:
                p = _hook(p, rng, min(6.0, 0.12 * len(p)), at_end=True)
            p = _resample(p, 1.0)
        w, v = _pen_profile(p, pen, w0, rng, nib)
        r = w / 2
        v = (v * ink).astype(float)
        for (x, y), rr, vv in zip(p.tolist(), r.tolist(), v.tolist()):
            draw.ellipse((x - rr, y - rr, x + rr, y + rr), fill=vv)
    a = np.asarray(img, np.float32).copy()
    if pen == "pencil":
        grain = gaussian_filter(rng.random(a.shape), 0.7)
        a *= np.clip((grain - grain.mean()) / (grain.std() + 1e-6) * 0.22 + 0.85, 0.3, 1)
        a = gaussian_filter(a, 0.5)
    elif pen == "felt":
        a = np.clip(gaussian_filter(a, rng.uniform(0.7, 1.2)) * 1.15, 0, 1)
    else:
        a = gaussian_filter(a, 0.6)
    if rng.random() < SMUDGE_P:
        lit = np.argwhere(a > 0.5)
        if len(lit):
            cy, cx = lit[int(rng.integers(len(lit)))]
            yy, xx = np.mgrid[:size, :size]
            rad = rng.uniform(8, 20)
            win = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * rad**2))
            shift = rng.integers(-7, 8, 2)
            smear = np.roll(gaussian_filter(a, rng.uniform(1.5, 3)), tuple(shift), axis=(0, 1))
            a = np.maximum(a, smear * win * rng.uniform(0.3, 0.6))
    paper = rng.random() < PAPER_P
    if paper:  # dark ink on grainy, unevenly lit paper, photographed and inverted
        yy, xx = np.mgrid[:size, :size] / size
        light = rng.uniform(0.85, 0.97) + rng.normal(0, 0.015) * (yy - 0.5) + rng.normal(0, 0.015) * (xx - 0.5)
        sheet = np.clip(light + gaussian_filter(rng.normal(0, rng.uniform(0.01, 0.03), a.shape), 0.8), 0, 1)
        photo = sheet * (1 - rng.uniform(0.7, 0.9) * a)
        a = 1 - photo
        a = np.clip(a - np.median(a) * rng.uniform(0.7, 1.0), 0, None)
    return a.astype(np.float32), pen, paper


def _make(n: int, rng: np.random.Generator, kinds: tuple[str, ...], fns, key: str, *, slant: float,
          hooks: float, detail: dict[str, float]) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    order = rng.permutation(np.arange(n) % len(kinds))
    x = np.zeros((n, 784), np.float32)
    pens, papers = [], np.zeros(n, bool)
    for i, k in enumerate(order):
        name = kinds[k]
        gray, pen, paper = _render(fns[name](rng), rng, detail=detail.get(name, 1.0), slant=slant, hooks=hooks)
        x[i] = frame_like_mnist(gray, box_threshold=0.3 if paper else 0.0).reshape(-1)
        pens.append(pen)
        papers[i] = paper
    meta = {key: np.array([kinds[k] for k in order], dtype=str), "pen": np.array(pens, dtype=str), "paper": papers}
    return x, np.full(n, -1, np.int64), meta


def scrawls(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """n handwritten non-digits (signatures, words, initials, crossings-out, dashes, paraphs); y = -1.

    meta: "scrawl" (the kind, ``SCRAWL_KINDS``, evenly), "pen", "paper" (drawn dark on paper, inverted).
    """
    return _make(n, rng, SCRAWL_KINDS, _SCRAWL_FN, "scrawl", slant=0.35, hooks=0.3, detail={})


def diagrams(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """n hand-drawn whiteboard / notebook diagrams (charts, flowcharts, tables, maps, staves ...); y = -1.

    meta: "diagram" (the kind, ``DIAGRAM_KINDS``, evenly), "pen", "paper" (drawn dark on paper, inverted).
    """
    return _make(n, rng, DIAGRAM_KINDS, _DIAGRAM_FN, "diagram", slant=0.12, hooks=0.15, detail=_BUSY)


FAMILIES = {"scrawls": scrawls, "diagrams": diagrams}
