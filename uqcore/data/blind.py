"""Two blind out-of-distribution families: hand-drawn sketches and handwritten non-digit glyphs.

Both are pictures a newsroom editor might realistically upload to a handwritten-digit reader, and
neither holds a digit:

* ``sketches`` - doodles in the manner of Google's Quick, Draw!: every object (a cat, a sun, a pizza
  slice, a bicycle, a smiley...) drawn as a few wobbly pen polylines.
* ``glyphs`` - handwritten characters of other scripts (Cyrillic, Greek, Hebrew, Devanagari-like,
  Chinese) and handwritten signs (infinity, heart, star, @, %, check mark...). Anything a person could
  read as a digit 0-9 is left out (no O, l, S, Z, B, G, b, q, g, Ч, З, Я, Ю, $, &, ?, ! ...).

Why they exist: they were written blind, held out of every tuned choice, without running any model or detector
on them and without looking at how any model scores them, so they gave an honest held-out measurement of an
out-of-distribution detector (7.4% and 6.3% of them called confident then). They are no longer held out: the
headline reader trains on other drawings
from these generators (``families.OUTLIER_KINDS``: "sketched", "glyphed"), so the two families measure how
it does on kinds it was taught (``uqcore.file_path.TRAINING_KINDS``). ``uqcore.data.blind2`` holds the
held-out pair that replaced them. The reader's artifact key does not read this file: a change to a drawing here
must bump ``READER_TRAINING["outliers_version"]`` (``uqcore.methods.training``), or a cached reader is reused.

The pen model, shared by both: each object is a list of strokes in a unit box ([-1, 1], y down). Per
image it is warped a little (a smooth random displacement, plus noise on the control points), rotated
or slanted, stretched, scaled and placed on a 112 px canvas; every stroke is resampled every 2 px, given
a smooth hand tremor, sometimes an overshoot or a gap at its ends, and drawn with a round pen 5-12 px
wide. The canvas is framed like MNIST (``frame_like_mnist``). Only numpy, scipy and Pillow (no fonts).

Each generator: ``name(n, rng) -> (x, y, meta)``, x (n, 784) float32 in [0, 1], y = -1, meta a dict of
per-image arrays (the category first).
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw
from scipy.ndimage import gaussian_filter1d

from uqcore.data.preprocess import frame_like_mnist

CANVAS = 112  # px, the drawing's side before framing
STEP = 2.0  # px between resampled points of a stroke


# ----------------------------------------------------------------------------- shape helpers (unit box, y down)


def _pl(*xy) -> np.ndarray:
    """A polyline through the given (x, y) points."""
    return np.array(xy, dtype=float).reshape(-1, 2)


def _arc(cx, cy, rx, ry=None, a0=0.0, a1=360.0, rot=0.0) -> np.ndarray:
    """An elliptic arc from angle a0 to a1 (degrees; 0 = right, 90 = down), the ellipse turned by rot."""
    ry = rx if ry is None else ry
    t = np.radians(np.linspace(a0, a1, max(4, int(abs(a1 - a0) / 10) + 1)))
    x, y = rx * np.cos(t), ry * np.sin(t)
    c, s = np.cos(np.radians(rot)), np.sin(np.radians(rot))
    return np.c_[cx + c * x - s * y, cy + s * x + c * y]


def _bez(*ctrl, k: int = 16) -> np.ndarray:
    """A Bezier curve through its control points (de Casteljau)."""
    t = np.linspace(0, 1, k)[:, None, None]
    c = np.broadcast_to(np.array(ctrl, dtype=float), (k, len(ctrl), 2))
    while c.shape[1] > 1:
        c = (1 - t) * c[:, :-1] + t * c[:, 1:]
    return c[:, 0]


def _cat(*parts) -> np.ndarray:
    """Pieces joined into one stroke."""
    return np.vstack(parts)


def _scallop(cx, cy, rx, ry, bumps, depth, flat_bottom=False) -> np.ndarray:
    """A bumpy closed outline (a cloud, a tree's crown)."""
    t = np.linspace(0, 2 * np.pi, 12 * bumps + 1)
    r = 1 + depth * np.abs(np.sin(bumps * t / 2))
    if flat_bottom:
        r = np.where(np.sin(t) > 0.2, 1.0, r)
    return np.c_[cx + rx * r * np.cos(t), cy + ry * r * np.sin(t)]


def _spiral(cx, cy, r0, turns) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi * turns, int(36 * turns))
    r = r0 * (1 - t / t[-1]) + 0.04
    return np.c_[cx + r * np.cos(-t + np.pi / 2), cy + r * np.sin(-t + np.pi / 2)]


def _mirror(s: np.ndarray) -> np.ndarray:
    return s * [-1, 1]


def _petals(cx, cy, k, dist, rx, ry):
    return [_arc(cx + dist * np.cos(a), cy + dist * np.sin(a), rx, ry, rot=np.degrees(a))
            for a in np.linspace(0, 2 * np.pi, k, endpoint=False) - np.pi / 2]


# ----------------------------------------------------------------------------- the sketches

_whisk = [_pl((0.2, 0.25), (0.95, 0.12)), _pl((0.2, 0.32), (0.95, 0.42))]
_ear = _pl((-0.62, -0.15), (-0.5, -0.9), (-0.15, -0.5))
SKETCHES: dict[str, list[np.ndarray]] = {
    "cat": [_arc(0, 0.1, 0.7, 0.6), _ear, _mirror(_ear), _pl((-0.25, -0.05)), _pl((0.25, -0.05)),
            _pl((-0.08, 0.18), (0.08, 0.18), (0, 0.28)), *_whisk, *map(_mirror, _whisk)],
    "fish": [_bez((-0.9, 0), (-0.2, -0.8), (0.5, 0)), _bez((-0.9, 0), (-0.2, 0.8), (0.5, 0)),
             _pl((0.5, 0), (0.95, -0.42), (0.92, 0.42), (0.5, 0)), _pl((-0.55, -0.1)),
             _bez((-0.3, -0.3), (-0.2, 0), (-0.3, 0.3), k=8)],
    "bird": [_arc(0.05, 0.1, 0.6, 0.4), _arc(-0.5, -0.35, 0.27), _pl((-0.74, -0.42), (-1.0, -0.3), (-0.74, -0.25)),
             _pl((-0.55, -0.4)), _bez((-0.15, 0.0), (0.15, 0.35), (0.4, -0.05)),
             _pl((0.62, 0.0), (0.98, -0.25), (0.95, 0.15), (0.6, 0.2)),
             _pl((-0.1, 0.48), (-0.15, 0.88)), _pl((0.2, 0.48), (0.15, 0.88))],
    "snail": [_spiral(0.2, 0.0, 0.55, 2.3), _cat(_pl((0.9, 0.58), (-0.75, 0.58)), _bez((-0.75, 0.58), (-1.0, 0.55),
              (-0.9, 0.15), (-0.55, 0.3))), _pl((-0.82, 0.22), (-0.98, -0.25)), _pl((-0.7, 0.25), (-0.6, -0.22))],
    "sun": [_arc(0, 0, 0.45)] + [_pl((0.6 * np.cos(a), 0.6 * np.sin(a)), (0.95 * np.cos(a), 0.95 * np.sin(a)))
                                 for a in np.linspace(0, 2 * np.pi, 8, endpoint=False) + 0.2],
    "cloud": [_cat(_pl((0.7, 0.37), (-0.7, 0.35)), _arc(-0.7, 0.12, 0.23, a0=90, a1=270),
                   _arc(-0.35, -0.15, 0.3, a0=190, a1=320), _arc(0.15, -0.3, 0.35, a0=200, a1=340),
                   _arc(0.6, -0.05, 0.3, a0=250, a1=360), _arc(0.7, 0.15, 0.22, a0=300, a1=450))],
    "flower": [_arc(0, -0.4, 0.17), *_petals(0, -0.4, 6, 0.38, 0.2, 0.12), _bez((0, -0.05), (0.12, 0.5), (0.02, 0.98)),
               _bez((0.05, 0.6), (0.3, 0.3), (0.5, 0.35)), _bez((0.05, 0.6), (0.35, 0.6), (0.5, 0.35))],
    "tree": [_scallop(0, -0.35, 0.6, 0.5, 8, 0.25), _pl((-0.15, 0.97), (-0.12, 0.18)), _pl((0.15, 0.97), (0.12, 0.18)),
             _pl((-0.4, 0.97), (0.4, 0.97))],
    "moon": [_cat(_arc(0, 0, 0.9, a0=60, a1=300), _arc(0.55, 0, 0.786, a0=262.7, a1=97.3))],
    "lightning": [_pl((-0.1, -1), (0.45, -1), (0.05, -0.2), (0.42, -0.2), (-0.35, 1.0), (-0.05, 0.12), (-0.42, 0.12),
                      (-0.1, -1))],
    "apple": [_cat(_bez((0, -0.4), (-0.35, -0.75), (-0.8, -0.6), (-0.8, -0.1)), _bez((-0.8, -0.1), (-0.8, 0.5),
                   (-0.35, 0.9), (0, 0.8)), _bez((0, 0.8), (0.35, 0.9), (0.8, 0.5), (0.8, -0.1)),
                   _bez((0.8, -0.1), (0.8, -0.6), (0.35, -0.75), (0, -0.4))),
              _bez((0, -0.42), (0.02, -0.7), (0.12, -0.95)), _bez((0.08, -0.7), (0.3, -1.0), (0.55, -0.85)),
              _bez((0.08, -0.7), (0.35, -0.6), (0.55, -0.85))],
    "pizza": [_pl((-0.7, -0.6), (0, 0.95), (0.7, -0.6)), _bez((-0.75, -0.6), (0, -1.0), (0.75, -0.6)),
              _bez((-0.65, -0.45), (0, -0.78), (0.65, -0.45)), _arc(-0.15, -0.2, 0.12), _arc(0.22, -0.12, 0.12),
              _arc(0.0, 0.35, 0.1)],
    "ice_cream": [_pl((-0.45, -0.1), (0, 1.0), (0.45, -0.1)), _pl((-0.3, 0.05), (0.2, 0.5)),
                  _pl((0.3, 0.05), (-0.2, 0.5)),
                  _cat(_arc(0, -0.38, 0.5, a0=165, a1=375), _pl((0.48, -0.1), (0.25, -0.2), (0.05, -0.08),
                       (-0.2, -0.2), (-0.48, -0.1), (-0.49, -0.25))), _arc(0.05, -0.96, 0.1)],
    "house": [_pl((-0.6, -0.1), (0.6, -0.1), (0.6, 0.9), (-0.6, 0.9), (-0.6, -0.1)), _pl((-0.78, -0.08), (0, -0.85),
              (0.78, -0.08)), _pl((-0.15, 0.9), (-0.15, 0.45), (0.15, 0.45), (0.15, 0.9)),
              _pl((0.25, 0.1), (0.48, 0.1), (0.48, 0.32), (0.25, 0.32), (0.25, 0.1)), _pl((0.365, 0.1), (0.365, 0.32))],
    "car": [_pl((-0.7, 0.3), (-0.95, 0.3), (-0.95, 0.0), (-0.55, -0.05), (-0.35, -0.45), (0.35, -0.45), (0.6, -0.05),
                (0.95, 0.0), (0.95, 0.3), (0.72, 0.3)), _pl((0.28, 0.3), (-0.28, 0.3)), _arc(-0.5, 0.33, 0.21),
            _arc(0.5, 0.33, 0.21), _pl((-0.5, -0.05), (0.55, -0.05)), _pl((0.02, -0.45), (0.02, -0.05))],
    "bicycle": [_arc(-0.55, 0.3, 0.4), _arc(0.55, 0.3, 0.4),
                _pl((-0.55, 0.3), (-0.05, 0.3), (-0.25, -0.25), (-0.55, 0.3)),
                _pl((-0.25, -0.25), (0.35, -0.25), (-0.05, 0.3)), _pl((0.55, 0.3), (0.3, -0.45), (0.5, -0.52)),
                _pl((-0.38, -0.35), (-0.12, -0.35))],
    "clock": [_arc(0, 0, 0.9), _pl((0, 0), (0, -0.55)), _pl((0, 0), (0.42, 0.15))]
             + [_pl((0.72 * np.cos(a), 0.72 * np.sin(a)), (0.84 * np.cos(a), 0.84 * np.sin(a)))
                for a in np.linspace(0, 2 * np.pi, 12, endpoint=False)],
    "glasses": [_arc(-0.5, 0, 0.35), _arc(0.5, 0, 0.35), _bez((-0.15, 0), (0, -0.15), (0.15, 0)),
                _pl((-0.85, -0.05), (-1.0, -0.2)), _pl((0.85, -0.05), (1.0, -0.2))],
    "envelope": [_pl((-0.9, -0.55), (0.9, -0.55), (0.9, 0.55), (-0.9, 0.55), (-0.9, -0.55)),
                 _pl((-0.9, -0.55), (0, 0.1), (0.9, -0.55))],
    "light_bulb": [_cat(_pl((-0.22, 0.45), (-0.35, 0.12)), _arc(0, -0.3, 0.55, a0=130, a1=410), _pl((0.22, 0.45))),
                   _pl((-0.22, 0.45), (0.22, 0.45)), _pl((-0.22, 0.65), (0.22, 0.65)),
                   _arc(0, 0.65, 0.2, 0.22, a0=180, a1=0), _pl((-0.1, 0.45), (-0.1, -0.05), (0.1, -0.05), (0.1, 0.45))],
    "key": [_arc(-0.6, 0, 0.32), _pl((-0.28, 0), (0.95, 0)), _pl((0.95, 0), (0.95, 0.28)), _pl((0.72, 0), (0.72, 0.2)),
            _pl((0.5, 0), (0.5, 0.28))],
    "cup": [_pl((-0.55, -0.6), (-0.48, 0.75), (0.48, 0.75), (0.55, -0.6)), _arc(0, -0.6, 0.55, 0.13),
            _arc(0.58, 0.05, 0.3, 0.3, a0=-100, a1=100)],
    "umbrella": [_arc(0, 0, 0.9, 0.7, a0=180, a1=360), _arc(-0.6, 0, 0.3, 0.15, a0=180, a1=360),
                 _arc(0, 0, 0.3, 0.15, a0=180, a1=360), _arc(0.6, 0, 0.3, 0.15, a0=180, a1=360),
                 _cat(_pl((0, -0.02), (0, 0.8)), _arc(0.17, 0.8, 0.17, a0=180, a1=0))],
    "smiley": [_arc(0, 0, 0.9), _pl((-0.3, -0.35), (-0.3, -0.15)), _pl((0.3, -0.35), (0.3, -0.15)),
               _arc(0, 0.05, 0.5, 0.45, a0=20, a1=160)],
    "stick_figure": [_arc(0, -0.72, 0.25), _pl((0, -0.47), (0, 0.3)), _pl((-0.55, -0.35), (0, -0.15), (0.55, -0.35)),
                     _pl((-0.4, 0.95), (0, 0.3), (0.4, 0.95))],
}
SKETCH_KINDS = tuple(SKETCHES)

# ----------------------------------------------------------------------------- the glyphs (name: script, strokes)

_zhe = _pl((-0.9, -0.95), (-0.1, 0), (-0.9, 0.95))
_shin_mid = _bez((-0.05, -0.9), (0.05, 0.1), (-0.45, 0.55))
_t = np.linspace(0, 2 * np.pi, 60)
GLYPHS: dict[str, tuple[str, list[np.ndarray]]] = {
    "zhe": ("cyrillic", [_pl((0, -1), (0, 1)), _zhe, _mirror(_zhe)]),
    "ef": ("cyrillic", [_pl((0, -1), (0, 1)), _arc(0, -0.05, 0.75, 0.45)]),
    "i": ("cyrillic", [_pl((-0.7, -0.95), (-0.7, 0.95), (0.7, -0.95)), _pl((0.7, -0.95), (0.7, 0.95))]),
    "shcha": ("cyrillic", [_pl((-0.8, -0.9), (-0.8, 0.75), (0.7, 0.75)), _pl((-0.05, -0.9), (-0.05, 0.75)),
                           _pl((0.7, -0.9), (0.7, 0.75), (0.92, 0.75), (0.95, 1.0))]),
    "de": ("cyrillic", [_pl((-0.45, 0.55), (-0.3, -0.95), (0.45, -0.95), (0.5, 0.55)),
                        _pl((-0.8, 1.0), (-0.75, 0.55), (0.8, 0.55), (0.85, 1.0))]),
    "el": ("cyrillic", [_pl((-0.85, 0.95), (-0.55, 0.75), (-0.25, -0.95), (0.6, -0.95), (0.65, 0.95))]),
    "tse": ("cyrillic", [_pl((-0.75, -0.9), (-0.75, 0.75), (0.55, 0.75)), _pl((0.55, -0.9), (0.55, 0.75),
                                                                            (0.85, 0.75), (0.88, 1.0))]),
    "lambda": ("greek", [_pl((-0.65, -1), (-0.3, -0.9), (0.85, 0.95)), _pl((0.1, -0.2), (-0.8, 0.95))]),
    "sigma": ("greek", [_pl((0.8, -0.95), (-0.75, -0.95), (0.1, 0.0), (-0.75, 0.95), (0.8, 0.95))]),
    "psi": ("greek", [_pl((0, -1), (0, 1)), _bez((-0.8, -0.8), (-0.75, 0.35), (0.75, 0.35), (0.8, -0.8))]),
    "omega": ("greek", [_cat(_pl((-0.95, 0.85), (-0.4, 0.85)), _arc(0, -0.1, 0.8, a0=120, a1=420),
                             _pl((0.4, 0.85), (0.95, 0.85)))]),
    "pi": ("greek", [_pl((-0.9, -0.6), (0.95, -0.7)), _pl((-0.4, -0.6), (-0.5, 0.9)),
                     _pl((0.4, -0.65), (0.45, 0.7), (0.7, 0.9))]),
    "alef": ("hebrew", [_pl((-0.7, -0.9), (0.75, 0.9)), _pl((0.65, -0.95), (0.62, -0.35), (0.35, 0.0)),
                        _pl((-0.25, -0.3), (-0.45, 0.85)), _pl((-0.75, 0.9), (-0.2, 0.9))]),
    "shin": ("hebrew", [_pl((-0.85, -0.9), (-0.5, 0.85), (0.75, 0.85), (0.85, -0.9)), _shin_mid]),
    "ka": ("devanagari", [_pl((-1, -0.75), (1, -0.75)), _pl((0.1, -0.75), (0.1, 1)),
                          _bez((0.1, -0.05), (-0.8, -0.6), (-0.8, 0.45), (0.1, 0.0)),
                          _bez((0.1, -0.05), (0.8, -0.5), (0.7, 0.4), (0.25, 0.25))]),
    "ma": ("devanagari", [_pl((-1, -0.75), (1, -0.75)), _pl((0.5, -0.75), (0.5, 1)),
                          _cat(_pl((-0.5, -0.75), (-0.5, 0.2)), _bez((-0.5, 0.2), (0, 0.3), (0.5, 0.15))),
                          _arc(-0.72, 0.05, 0.18)]),
    "ren": ("chinese", [_bez((0.05, -1), (0.05, 0.1), (-0.8, 0.9)), _pl((0.0, -0.2), (0.85, 0.9))]),
    "da": ("chinese", [_pl((-0.9, -0.3), (0.9, -0.35)), _bez((0, -1), (0.05, 0.1), (-0.8, 0.9)), _pl((0.05, -0.1),
                                                                                                 (0.85, 0.9))]),
    "mu": ("chinese", [_pl((-0.9, -0.45), (0.9, -0.5)), _pl((0, -1), (0, 1)), _pl((-0.05, -0.4), (-0.85, 0.55)),
                       _pl((0.05, -0.4), (0.85, 0.55))]),
    "shan": ("chinese", [_pl((0, -1), (0, 0.8)), _pl((-0.75, -0.4), (-0.75, 0.8), (0.75, 0.8)), _pl((0.75, -0.4),
                                                                                                    (0.75, 0.8))]),
    "shui": ("chinese", [_pl((0.05, -1), (0.05, 0.9), (-0.15, 0.75)), _pl((-0.8, -0.35), (-0.3, -0.35), (-0.85, 0.6)),
                         _pl((0.75, -0.6), (0.2, -0.1)), _pl((0.2, -0.1), (0.85, 0.85))]),
    "huo": ("chinese", [_pl((-0.6, -0.5), (-0.45, -0.1)), _pl((0.65, -0.6), (0.45, -0.15)),
                        _bez((0, -1), (0.02, 0.1), (-0.8, 0.9)), _pl((0.05, 0.0), (0.85, 0.9))]),
    "tian": ("chinese", [_pl((-0.75, -0.8), (-0.75, 0.85)), _pl((-0.75, -0.8), (0.75, -0.8), (0.75, 0.85)),
                         _pl((0, -0.8), (0, 0.85)), _pl((-0.75, 0.02), (0.75, 0.02)),
                         _pl((-0.75, 0.85), (0.75, 0.85))]),
    "zhong": ("chinese", [_pl((-0.7, -0.5), (-0.7, 0.35)), _pl((-0.7, -0.5), (0.7, -0.5), (0.7, 0.35)),
                          _pl((-0.7, 0.35), (0.7, 0.35)), _pl((0, -1), (0, 1))]),
    "infinity": ("sign", [np.c_[np.cos(_t), 1.2 * np.sin(_t) * np.cos(_t)] / (1 + np.sin(_t)[:, None] ** 2)]),
    "heart": ("sign", [np.c_[16 * np.sin(_t) ** 3, 5 * np.cos(2 * _t) + 2 * np.cos(3 * _t) + np.cos(4 * _t)
                             - 13 * np.cos(_t)] / 16]),
    "star": ("sign", [_pl(*[(np.cos(a), np.sin(a)) for a in np.radians(-90 + 144 * np.arange(6))])]),
    "notes": ("sign", [_arc(-0.55, 0.7, 0.26, 0.17, rot=-20), _arc(0.45, 0.5, 0.26, 0.17, rot=-20),
                       _pl((-0.3, 0.65), (-0.3, -0.75), (0.7, -0.95), (0.7, 0.45)), _pl((-0.3, -0.5), (0.7, -0.7))]),
    "at": ("sign", [_arc(0.0, 0.05, 0.3), _cat(_pl((0.32, -0.25), (0.32, 0.25), (0.5, 0.38), (0.75, 0.3)),
                                               _arc(0, 0, 0.9, a0=10, a1=-290))]),
    "root": ("sign", [_pl((-0.95, 0.1), (-0.7, -0.05), (-0.35, 0.95), (0.15, -0.9), (1.0, -0.9))]),
    "percent": ("sign", [_pl((0.7, -0.95), (-0.7, 0.95)), _arc(-0.55, -0.55, 0.25), _arc(0.55, 0.55, 0.25)]),
    "euro": ("sign", [_arc(0.15, 0, 0.85, a0=315, a1=45), _pl((-0.95, -0.2), (0.35, -0.2)),
                      _pl((-0.95, 0.2), (0.25, 0.2))]),
    "hash": ("sign", [_pl((-0.25, -0.95), (-0.45, 0.95)), _pl((0.45, -0.95), (0.25, 0.95)),
                      _pl((-0.9, -0.35), (0.9, -0.35)), _pl((-0.9, 0.35), (0.9, 0.35))]),
    "arrow": ("sign", [_pl((-0.95, 0), (0.95, 0)), _pl((0.45, -0.45), (0.95, 0), (0.45, 0.45))]),
    "check": ("sign", [_pl((-0.9, 0.0), (-0.35, 0.8), (0.95, -0.9))]),
    "cross": ("sign", [_bez((-0.85, -0.85), (0.1, -0.1), (0.85, 0.85)), _bez((0.85, -0.9), (-0.1, 0.05), (-0.8, 0.9))]),
}
GLYPH_KINDS = tuple(GLYPHS)


# ----------------------------------------------------------------------------- the pen


def _place(strokes, rng, *, angle, slant, aspect, extent, margin, point_sd):
    """Unit-box strokes -> canvas px: a smooth warp and point noise, aspect, slant, rotation, scale, position."""
    k, phase, amp = rng.normal(0, 2.0, (3, 2)), rng.uniform(0, 2 * np.pi, 3), rng.normal(0, 0.035, (3, 2))
    out = []
    for s in strokes:
        sd = point_sd if len(s) <= 8 else point_sd / 4
        out.append(s + np.sin(s @ k.T + phase) @ amp + rng.normal(0, sd, s.shape) + rng.normal(0, 0.02, 2))
    a, t = np.radians(angle), np.tan(np.radians(slant))
    m = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) @ np.array([[1, -t], [0, 1]]) @ np.diag([aspect, 1])
    out = [s @ m.T for s in out]
    pts = np.vstack(out)
    lo, hi = pts.min(0), pts.max(0)
    scale = extent / max(float((hi - lo).max()), 1e-6)
    room = np.maximum(CANVAS - 2 * margin - (hi - lo) * scale, 0)
    shift = margin + rng.uniform(0, 1, 2) * room - lo * scale
    return [s * scale + shift for s in out]


def _densify(pts: np.ndarray) -> np.ndarray:
    """Points every STEP px along the polyline (one point for a dot)."""
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    pts = pts[np.r_[True, seg > 1e-9]]
    s = np.r_[0, np.cumsum(seg[seg > 1e-9])]
    if s[-1] < STEP:
        return pts[:1] if s[-1] < 0.5 else pts[[0, -1]]
    t = np.linspace(0, s[-1], int(s[-1] / STEP) + 1)
    return np.c_[np.interp(t, s, pts[:, 0]), np.interp(t, s, pts[:, 1])]


def _ends(pts: np.ndarray, rng, size: float, p_over: float, p_gap: float) -> np.ndarray:
    """Sometimes run past a stroke's end (overshoot), sometimes stop short of it (a gap)."""
    for _ in range(2):
        r = rng.random()
        if r < p_over:
            d = pts[-1] - pts[max(len(pts) - 4, 0)]
            pts = np.vstack([pts, pts[-1] + d / (np.linalg.norm(d) + 1e-9) * rng.uniform(0.03, 0.1) * size])
        elif r < p_over + p_gap and len(pts) > 8:
            pts = pts[: len(pts) - min(int(rng.uniform(0.02, 0.06) * size / STEP), len(pts) // 4)]
        pts = pts[::-1]
    return pts


def _stroke(draw: ImageDraw.ImageDraw, pts: np.ndarray, width: int, rng, *, size, tremor, p_over, p_gap) -> None:
    """One pen stroke: resampled, a smooth hand tremor, maybe an overshoot or a gap, a round pen."""
    pts = _densify(pts)
    if len(pts) > 2:
        wob = gaussian_filter1d(rng.normal(size=pts.shape), 3.0, axis=0, mode="nearest")
        pts = pts + wob / (wob.std() + 1e-9) * tremor
        pts = _ends(pts, rng, size, p_over, p_gap)
    xy = [tuple(p) for p in pts.tolist()]
    if len(xy) > 1:
        draw.line(xy, fill=255, width=width, joint="curve")
    r = width / 2
    for x, y in (xy[0], xy[-1]):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=255)


def _render(strokes, rng, *, width, angle=0.0, slant=0.0, aspect=1.0, point_sd=0.01, p_over=0.2, p_gap=0.1):
    """Strokes in the unit box -> one framed 28x28 picture, raveled (784,) float32 in [0, 1]."""
    size = rng.uniform(max(60, 6.5 * width), 92)  # the drawing's long side on the canvas (px): fat pens draw big
    placed = _place(strokes, rng, angle=angle, slant=slant, aspect=aspect, extent=size, margin=width / 2 + 3,
                    point_sd=point_sd)
    img = Image.new("L", (CANVAS, CANVAS), 0)
    draw = ImageDraw.Draw(img)
    tremor = size * rng.uniform(0.006, 0.018)
    for s in placed:
        _stroke(draw, s, width, rng, size=size, tremor=tremor, p_over=p_over, p_gap=p_gap)
    return frame_like_mnist(np.asarray(img, dtype=np.float32) / 255.0).ravel()


def _shared(kinds, n: int, rng) -> np.ndarray:
    """n category names, evenly shared, in a random order."""
    return np.array(kinds)[rng.permutation(np.arange(n) % len(kinds))]


# ----------------------------------------------------------------------------- the generators


def sketches(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict]:
    """n Quick, Draw!-style doodles (SKETCH_KINDS, evenly shared): x (n, 784), y = -1, meta."""
    kinds = _shared(SKETCH_KINDS, n, rng)
    width = rng.integers(5, 13, n)
    angle = rng.uniform(-25, 25, n)
    x = np.zeros((n, 784), dtype=np.float32)
    for i in range(n):
        x[i] = _render(SKETCHES[kinds[i]], rng, width=int(width[i]), angle=angle[i],
                       aspect=float(np.exp(rng.uniform(-0.15, 0.15))), point_sd=0.02, p_over=0.3, p_gap=0.15)
    return x, np.full(n, -1), {"sketch": kinds, "pen_px": width, "angle_deg": angle}


def glyphs(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict]:
    """n handwritten non-digit characters and signs (GLYPH_KINDS, evenly shared): x (n, 784), y = -1, meta."""
    kinds = _shared(GLYPH_KINDS, n, rng)
    width = rng.integers(5, 13, n)
    slant = rng.uniform(-20, 20, n)
    aspect = rng.uniform(0.7, 1.3, n)
    x = np.zeros((n, 784), dtype=np.float32)
    for i in range(n):
        x[i] = _render(GLYPHS[kinds[i]][1], rng, width=int(width[i]), angle=rng.uniform(-5, 5), slant=slant[i],
                       aspect=aspect[i], point_sd=0.035, p_over=0.15, p_gap=0.08)
    script = np.array([GLYPHS[k][0] for k in kinds])
    return x, np.full(n, -1), {"glyph": kinds, "script": script, "pen_px": width, "slant_deg": slant,
                               "aspect": aspect}


FAMILIES = {"sketches": sketches, "glyphs": glyphs}
