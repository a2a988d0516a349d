"""Any user image -> what the model expects: a 28x28 MNIST-style digit, white ink on black.

Pipeline (``to_mnist``): decode safely (``load_image``) -> EXIF orientation -> first frame of an
animation -> composite transparency -> grayscale -> invert if the background is light. A 28x28
image then reaches the model as it is (MNIST's own format). Anything else: ``extract_ink`` (remove
the paper's level and lighting, measure its grain, keep the ink that rises clearly above it) ->
long side to 20 px (LANCZOS) -> paste in 28x28 with the centre of mass at the centre
(``frame_like_mnist``, as the original MNIST). Nothing standing out of the paper: no digit found.

Every failure reaches the user as an ``ImageError`` with a plain message, never a PIL traceback.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 40_000_000  # refuse larger images before decoding them
MAX_FILE_BYTES = 20 << 20  # refuse larger files before reading them (the app's upload limit too)
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")  # the only decoders Pillow may use (no EPS, PDF, ...)
DECODE_SIDE = 1600  # a large picture is decoded (JPEG draft) or reduced to about this long side at once
MIN_SIDE = 8  # refuse images smaller than this on either side
BOX = 20  # MNIST digits fit a 20x20 box ...
SIZE = 28  # ... inside a 28x28 image
CENTRE = 14.0  # where MNIST puts the centre of mass (row, column)
INK_THRESHOLD = 0.05  # relative to the brightest pixel: fainter pixels are background
EMPTY_CONTRAST = 0.1  # less contrast than this (on 0..1) means there is nothing drawn
# An enlarged picture (a screenshot, a smoothly resized file) has a faint halo around its strokes that MNIST's
# own 20 px box never held: measured from 0 to 0.5 of the brightest pixel on 300 training digits enlarged 2, 4
# and 10 times (nearest, bilinear, bicubic, Lanczos) and framed again, 0.25-0.4 gave the inputs closest to the
# digits themselves (benchmarks/history/, "The same digit, enlarged").
BOX_THRESHOLD = 0.3  # the upload path's box holds the ink at least this bright (x the brightest pixel)
# A pen far thinner than MNIST's (a paint program's 1 px brush, a ballpoint in a photo) writes strokes the model
# never saw. Stroke width = ink per pixel of its skeleton, in framed (28 x 28) pixels; on 1,000 training digits
# enlarged to 280 px and cut out by this path its 1st / 50th / 99th percentiles are 1.41 / 2.56 / 4.72. Under
# the 1st the skeleton is drawn again with a round pen that gives the median. Markers (over the 99th) are left
# as they are: redrawn, their filled loops read worse (benchmarks/history/, "Thin pens"). So are photos of
# ruled paper.
PEN_THIN = 1.41
PEN_DIAMETER = 2.1  # in framed pixels: a round pen this wide measures 2.56 (MNIST's median) by the rule above
SNR_MIN = 12.0  # ink must rise this many grain sigmas above the paper, or no digit is found
PHOTO_GRAIN = 2.0 / 255  # grain above this (before smoothing) means a camera photo, not a canvas or a scan
RIDGE_SIGMAS = (1.0, 2.0)  # the ridge filter's scales (work pixels) for thin pens in photos
# A ridge must stand this many robust sigmas above the paper's: on 200 blank paper photos (not the build's seed)
# the highest stands 5.1 (median) to 6.9 (max); thin digits that smoothing loses stand 12.8 or more.
RIDGE_SNR = 10.0
WORK_SIDE = 400  # large photos are reduced to this long side before the ink is looked for
RULE_SPAN = 0.6  # a ruled line (notebook paper) is straight and crosses at least this share of the photo ...
RULE_MIN_LINES = 2  # ... and comes with at least one more parallel to it (one long stroke is a 7's bar, not ruling)
RULE_TILT = 8.0  # degrees either side of horizontal and vertical that a photographed ruling may lean
RULE_HALF_WIDTH = 3  # px (at the working size) either side of a ruled line that its brightness is taken from
EDGE_RUN = 0.25  # bright beyond Otsu's cut along this share of one side of the picture: the surface round the sheet
SHEET_STEP = 0.2  # a sheet on a table: the border this much darker than the picture's median (the sheet) ...
SHEET_BORDER = 0.1  # ... and this share of the border as light as the sheet (it reaches the edge somewhere)
SHEET_MIN = 0.15  # ... or a sheet lying whole on the table: the light region at least this share of the picture ...
SHEET_SOLID = 0.7  # ... filling at least this share of its bounding box
OFF_SHEET_MAX = 0.6  # ... unless it covers more than this share of the picture (then there is no sheet to speak of)
# A picture no larger than this on its long side is a cut-out of one digit (a scan, a crop, a form's field), not a
# photo of a sheet (a phone's photos are 640 px and more): it is given back a margin of paper ``CROP_MARGIN`` x its
# long side on every side before the ink is looked for, so that ink the crop made touch the edges is not taken for
# a table, a ruling or the paper itself (``with_margin``).
CROP_SIDE = 512
CROP_MARGIN = 0.25

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


class ImageError(ValueError):
    """The image cannot be used; ``str(err)`` is a plain message fit to show the user."""


@dataclass
class Preprocessed:
    x: np.ndarray  # (784,) float32 in [0, 1], the model input
    preview: np.ndarray  # (28, 28) float32 in [0, 1]: "what the model sees"
    is_empty: bool  # nothing drawn (uniform image / transparent canvas)
    inverted: bool  # the input was dark ink on a light background and was inverted
    notes: list[str] = field(default_factory=list)  # plain-English remarks for the user
    framing: dict = field(default_factory=dict)  # what framing removed: fill, aspect, stretch, grain, ...


# ----------------------------------------------------------------------------- framing


def frame_like_mnist(gray: np.ndarray, *, threshold: float = INK_THRESHOLD, box_threshold: float = 0.0) -> np.ndarray:
    """Frame white-on-black ink like MNIST: (H, W) float in [0, 1] -> (28, 28) float32 in [0, 1].

    Pixels fainter than ``threshold`` x the brightest one are set to 0; the image is cropped to the
    ink at least ``box_threshold`` x the brightest pixel (0: to all remaining ink), scaled (keeping the aspect
    ratio) so its long side is 20 px, stretched so the brightest pixel is 1, and pasted in 28x28 with its
    centre of mass at (14, 14). No ink -> zeros.
    """
    gray = np.asarray(gray, dtype=np.float32)
    if gray.ndim != 2:
        raise ValueError(f"frame_like_mnist expects a 2-D (H, W) image, got shape {gray.shape}.")
    out = np.zeros((SIZE, SIZE), dtype=np.float32)
    peak = float(gray.max(initial=0.0))
    if not np.isfinite(peak) or peak <= 0:
        return out
    ink = np.where(gray >= threshold * peak, gray, 0.0).astype(np.float32)
    boxed = ink >= max(box_threshold * peak, np.finfo(np.float32).tiny)
    rows, cols = np.flatnonzero(boxed.any(1)), np.flatnonzero(boxed.any(0))
    ink = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = ink.shape
    scale = BOX / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    small = np.asarray(Image.fromarray(ink).resize((new_w, new_h), Image.Resampling.LANCZOS))
    small = np.clip(small, 0.0, None)
    if small.max() <= 0:
        return out
    small = np.clip(small / small.max(), 0.0, 1.0)
    mass = small.sum()
    com_r = (small.sum(1) * np.arange(new_h)).sum() / mass
    com_c = (small.sum(0) * np.arange(new_w)).sum() / mass
    top = int(np.clip(round(CENTRE - com_r), 0, SIZE - new_h))
    left = int(np.clip(round(CENTRE - com_c), 0, SIZE - new_w))
    out[top : top + new_h, left : left + new_w] = small
    return out


# ----------------------------------------------------------------------------- decoding


def stroke_width(ink: np.ndarray) -> float:
    """The strokes' width in framed (28 x 28) pixels: the ink (in [0, 1], cropped to the digit) per pixel of
    its skeleton, times the framing's scale. Soft and hard edges measure alike (the ink is summed across)."""
    from skimage.morphology import skeletonize

    length = int(skeletonize(np.pad(ink > 0, 1)).sum())
    return float(ink.sum()) / max(length, 1) * BOX / max(ink.shape)


def redraw_strokes(ink: np.ndarray, diameter: float) -> np.ndarray:
    """The ink's skeleton drawn again with a round pen ``diameter`` px wide (at the ink's own size): (h, w) ->
    (h + 2m, w + 2m) with a margin m for the pen, full ink inside the pen's reach and none outside."""
    from scipy import ndimage
    from skimage.morphology import skeletonize

    m = int(np.ceil(diameter / 2)) + 1
    skeleton = skeletonize(np.pad(ink > 0, m))
    return (ndimage.distance_transform_edt(~skeleton) <= diameter / 2).astype(np.float32)


def _sniff_svg(data: bytes) -> bool:
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(b"<?xml") or head.startswith(b"<svg") or b"<svg" in head


def _normalise_mode(img: Image.Image) -> Image.Image:
    """Any PIL mode -> "L", "RGB" or "RGBA" (16/32-bit and float scaled to 8 bits, CMYK to RGB)."""
    mode = img.mode
    if mode in ("L", "RGB", "RGBA"):
        return img
    if mode == "P" or mode == "PA":
        return img.convert("RGBA" if ("transparency" in img.info or mode == "PA") else "RGB")
    if mode in ("LA", "La", "RGBa", "RGBX"):
        return img.convert("RGBA" if mode != "RGBX" else "RGB")
    if mode == "1":
        return img.convert("L")
    if mode.startswith("I") or mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        if mode.startswith("I;16") or (mode == "I" and arr.max(initial=0) <= 65535 and arr.max(initial=0) > 255):
            arr = arr / 65535.0
        elif mode == "F" and arr.max(initial=0) <= 1.0:
            pass
        else:
            lo, hi = arr.min(initial=0), arr.max(initial=0)
            arr = (arr - lo) / (hi - lo) if hi > lo else np.zeros_like(arr)
        return Image.fromarray((np.clip(arr, 0, 1) * 255).round().astype(np.uint8))
    return img.convert("RGB")  # CMYK, YCbCr, LAB, HSV, ...


def _check_size(w: int, h: int) -> None:
    if w * h > MAX_PIXELS:
        raise ImageError(
            f"The image is too large ({w} x {h} pixels); the limit is {MAX_PIXELS // 1_000_000} megapixels. "
            "Please upload a smaller picture."
        )
    if w < MIN_SIDE or h < MIN_SIDE:
        raise ImageError(
            f"The image is only {w} x {h} pixels; it needs at least {MIN_SIDE} pixels on each side."
        )


def _too_big(n: int) -> str:
    return (f"The file is {n / (1 << 20):.0f} MB; the limit is {MAX_FILE_BYTES >> 20} MB. A photo of a digit needs "
            "far less: please send a smaller picture.")


def load_image(data: bytes | str | Path | Image.Image) -> tuple[Image.Image, list[str]]:
    """Decode ``data`` safely -> (image in mode "L", "RGB" or "RGBA", notes for the user).

    Checks the size from the header before decoding; uses the first frame of animations; applies
    the EXIF orientation. Raises ``ImageError`` with a plain message for anything unusable.
    """
    notes: list[str] = []
    if isinstance(data, Image.Image):
        img = data
    else:
        if isinstance(data, (str, Path)):
            try:
                size = Path(data).stat().st_size
                if size > MAX_FILE_BYTES:
                    raise ImageError(_too_big(size))
                data = Path(data).read_bytes()
            except OSError:
                raise ImageError(f"Could not read the file {str(data)!r}.") from None
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ImageError(f"Expected an image file, got {type(data).__name__}.")
        data = bytes(data)
        if not data:
            raise ImageError("The file is empty (0 bytes).")
        if len(data) > MAX_FILE_BYTES:
            raise ImageError(_too_big(len(data)))
        if _sniff_svg(data):
            raise ImageError("SVG drawings are not supported; export it as PNG first.")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                img = Image.open(io.BytesIO(data), formats=FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageError(
                f"The image is too large; the limit is {MAX_PIXELS // 1_000_000} megapixels. "
                "Please upload a smaller picture."
            ) from None
        except UnidentifiedImageError:
            raise ImageError(
                "This file is not an image that can be read. Please upload a PNG, JPEG, GIF, BMP, WebP or TIFF "
                "picture."
            ) from None
        except Exception:
            raise ImageError("The image file could not be opened; it may be damaged.") from None
    _check_size(*img.size)
    if getattr(img, "n_frames", 1) > 1:
        try:
            img.seek(0)
        except Exception:
            raise ImageError("The animated image could not be read; it may be damaged.") from None
        notes.append("Used the first frame of an animated image.")
    if img.format == "JPEG" and max(img.size) > 2 * DECODE_SIDE:
        img.draft(img.mode, (DECODE_SIDE, DECODE_SIDE))  # decode at 1/2, 1/4 or 1/8 scale: far less memory
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError("The image is too large to process safely. Please upload a smaller picture.") from None
    except Exception:
        raise ImageError(
            "The image file is damaged or incomplete (truncated); please save or export it again."
        ) from None
    if max(img.size) > 2 * DECODE_SIDE:  # other formats: reduce before any full-size array copy is made
        try:
            img = img.reduce(max(img.size) // DECODE_SIDE)
        except (ValueError, NotImplementedError):  # a mode reduce() does not know: processed at full size
            pass
    try:
        img = ImageOps.exif_transpose(img)
    except Exception:
        notes.append("The photo's orientation tag could not be read; it was used as stored.")
    try:
        img = _normalise_mode(img)
    except Exception:
        raise ImageError(f"Images of type {img.mode!r} are not supported; please convert it to PNG.") from None
    _check_size(*img.size)
    return img, notes


# ----------------------------------------------------------------------------- to MNIST


def _array_to_rgba(arr: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 1), (H, W, 3) or (H, W, 4), uint8 or float in [0, 1] -> (H, W, C) float32 in [0, 1]."""
    arr = np.asarray(arr)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ImageError(f"Expected an image array of shape (H, W), (H, W, 3) or (H, W, 4); got {arr.shape}.")
    if arr.dtype == bool:
        arr = arr.astype(np.float32)
    elif np.issubdtype(arr.dtype, np.integer):
        arr = arr.astype(np.float32) / (255.0 if arr.max(initial=0) <= 255 else 65535.0)
    else:
        arr = arr.astype(np.float32)
        if not np.isfinite(arr).all():
            raise ImageError("The image contains invalid (NaN or infinite) values.")
        if arr.max(initial=0) > 1.0:
            arr = arr / 255.0
    _check_size(arr.shape[1], arr.shape[0])
    return np.clip(arr, 0.0, 1.0)


def _gray(arr: np.ndarray) -> tuple[np.ndarray, bool]:
    """(H, W[, C]) float in [0, 1] -> (gray (H, W) float32, fully transparent).

    Transparency is composited onto the background that contrasts with the strokes: white for dark
    or coloured strokes (the usual canvas: they become dark-on-white and are then inverted), black
    for light strokes (white ink on a transparent canvas), so both come out as ink.
    """
    if arr.ndim == 3 and arr.shape[2] == 4:
        rgb, alpha = arr[..., :3], arr[..., 3]
        lum = rgb @ _LUMA
        if alpha.max() <= 0:  # fully transparent canvas
            return np.zeros(alpha.shape, np.float32), True
        if alpha.min() < 1:
            stroke = float((lum * alpha).sum() / alpha.sum())
            bg = 1.0 if stroke < 0.5 else 0.0
            return (lum * alpha + bg * (1 - alpha)).astype(np.float32), False
        return lum.astype(np.float32), False
    if arr.ndim == 3:
        return (arr @ _LUMA).astype(np.float32), False
    return arr.astype(np.float32), False


def _light_background(gray: np.ndarray, sheet_on_table: bool = True) -> bool:
    """Dark ink on light paper? A clearly light border decides. A darker one is a table round a sheet when it is
    ``SHEET_STEP`` darker than the picture's median and ``SHEET_BORDER`` of it is nearer that median (the sheet reaches
    the edge somewhere), or when ``_solid_sheet`` finds the sheet lying whole on it (not when ``sheet_on_table`` is
    False); else a clearly dark border decides; otherwise the longer tail of the histogram is the ink (ink is the
    minority of the pixels)."""
    border = np.concatenate([gray[:2].ravel(), gray[-2:].ravel(), gray[:, :2].ravel(), gray[:, -2:].ravel()])
    b = float(np.median(border))
    if b >= 0.6:
        return True
    med = float(np.median(gray))
    if sheet_on_table and ((med - b >= SHEET_STEP and np.mean(border >= (b + med) / 2) >= SHEET_BORDER)
                           or _solid_sheet(gray, b)):
        return True  # a light sheet on a dark table: the table holds most of the border, the sheet much of the picture
    if b <= 0.4:
        return False
    lo, med, hi = np.percentile(gray, [0.5, 50, 99.5])
    return (med - lo) > (hi - med)


def _solid_sheet(gray: np.ndarray, border: float) -> bool:
    """Is the largest region brighter than Otsu's cut a sheet lying on a darker table: ``SHEET_STEP`` brighter than
    the ``border``'s median, at least ``SHEET_MIN`` of the picture and at least ``SHEET_SOLID`` of its bounding box
    (the ink on it a small part)? Strokes and outlines, however bright and thick, leave most of their box empty."""
    from scipy import ndimage
    from skimage.filters import threshold_otsu

    work = _working_copy(gray)
    if float(work.max() - work.min()) < EMPTY_CONTRAST:
        return False
    labels, n = ndimage.label(work > threshold_otsu(work))
    if n == 0:
        return False
    big = int(np.argmax(np.bincount(labels.ravel())[1:])) + 1
    sl = ndimage.find_objects(labels)[big - 1]
    region = labels[sl] == big  # not filled: an outline filled would be solid too; a sheet's ink is a small part
    return (float(np.median(work[labels == big])) - border >= SHEET_STEP and region.sum() >= SHEET_MIN * work.size
            and region.mean() >= SHEET_SOLID)


def _working_copy(gray: np.ndarray) -> np.ndarray:
    """Large photos are reduced (area averaging) to at most WORK_SIDE on the long side."""
    h, w = gray.shape
    f = WORK_SIDE / max(h, w)
    if f >= 1:
        return gray
    size = (max(1, round(w * f)), max(1, round(h * f)))
    return np.asarray(Image.fromarray(gray).resize(size, Image.Resampling.BOX), np.float32)


def _block_medians(img: np.ndarray, grid: int) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """Medians of ``img`` over a ``grid`` x ``grid`` raster of blocks -> (medians, row blocks, column blocks)."""
    h, w = img.shape
    rows, cols = np.array_split(np.arange(h), min(grid, h)), np.array_split(np.arange(w), min(grid, w))
    med = np.empty((len(rows), len(cols)), np.float32)
    r_len, c_len = np.array([len(r) for r in rows]), np.array([len(c) for c in cols])
    for rl in np.unique(r_len):  # array_split's blocks come in at most two sizes per axis: one gather per pair
        ri = np.flatnonzero(r_len == rl)
        rr = np.stack([rows[i] for i in ri])
        for cl in np.unique(c_len):
            ci = np.flatnonzero(c_len == cl)
            cc = np.stack([cols[j] for j in ci])
            blocks = img[rr[:, None, :, None], cc[None, :, None, :]].reshape(len(ri), len(ci), -1)
            med[np.ix_(ri, ci)] = np.median(blocks, axis=-1)
    return med, rows, cols


def estimate_background(gray: np.ndarray, *, grid: int = 16, rounds: int = 4) -> np.ndarray:
    """A smooth background (paper and its lighting) under bright ink: (H, W) -> (H, W).

    Block medians on a ``grid`` x ``grid`` raster are fitted by a quadratic surface; blocks far
    above the fit (ink, or a filled object) are dropped and the fit repeated. A flat background
    (a canvas, a scan) comes out flat; a shadow or a lighting gradient comes out as that gradient.
    """
    h, w = gray.shape
    med, rows, cols = _block_medians(gray, grid)
    cy = np.array([r.mean() for r in rows]) / max(h - 1, 1)
    cx = np.array([c.mean() for c in cols]) / max(w - 1, 1)
    yy, xx = np.meshgrid(cy, cx, indexing="ij")

    def design(y, x):
        return np.stack([np.ones_like(y), y, x, y * y, x * x, x * y], -1)

    a, z = design(yy.ravel(), xx.ravel()), med.ravel()
    keep = z <= np.median(z)  # ink is bright: start from the darker half of the blocks
    coef = np.zeros(6)
    for _ in range(rounds):
        coef, *_ = np.linalg.lstsq(a[keep], z[keep], rcond=None)
        resid = z - a @ coef
        spread = 1.4826 * np.median(np.abs(resid[keep] - np.median(resid[keep]))) + 1e-3
        new = resid < 2.5 * spread  # only bright outliers are ink
        if new.sum() < 6 or np.array_equal(new, keep):
            break
        keep = new
    fy, fx = np.meshgrid(np.arange(h) / max(h - 1, 1), np.arange(w) / max(w - 1, 1), indexing="ij")
    return (design(fy, fx) @ coef).astype(np.float32)


def _grain(img: np.ndarray) -> float:
    """Robust sigma of the background's noise from the lower half of the histogram (ink is bright)."""
    centre = float(np.median(img))
    return max((centre - float(np.percentile(img, 25))) / 0.6745, 0.5 / 255)


def _local_level(resid: np.ndarray, grid: int = 16) -> np.ndarray:
    """The paper's local level left after the smooth fit (a shadow's edge): block medians on a
    ``grid`` raster, median-filtered 5 x 5 across blocks (so blocks full of ink do not count), then
    bilinear back to full size. Pen strokes cover less than half of a block, so they stay."""
    from scipy import ndimage

    med = ndimage.median_filter(_block_medians(resid, grid)[0], size=5, mode="nearest")
    return np.asarray(Image.fromarray(med).resize(resid.shape[::-1], Image.Resampling.BILINEAR), np.float32)


def _ruled_lines(resid: np.ndarray, *, cut: float) -> list[tuple[float, float]]:
    """The lines of ruled or squared paper in a white-on-black residual, as ``(theta, rho)``: the line
    ``x cos(theta) + y sin(theta) = rho`` (``_take_out_line`` removes it); [] when there is no ruling.

    Straight lines are found by a Hough transform (scikit-image) of the pixels above ``cut``, leaning at most
    ``RULE_TILT`` degrees from horizontal or vertical. A line counts when it crosses at least ``RULE_SPAN`` of
    the picture, and a direction counts only with ``RULE_MIN_LINES`` such lines at least 8 px apart (one long
    stroke, a 7's bar in a close-up, is not a ruling)."""
    from skimage.transform import hough_line, hough_line_peaks

    h, w = resid.shape
    mask = resid > cut
    if mask.mean() < 0.002:
        return []
    tilt = np.arange(-RULE_TILT, RULE_TILT + 1e-9, 0.25)
    lines = []
    for normal, length in ((90.0, w), (0.0, h)):  # a horizontal line's normal is vertical, and the other way
        angles = np.deg2rad(normal + tilt)
        angles = np.where(angles > np.pi / 2, angles - np.pi, angles)  # scikit-image's range (-pi/2, pi/2]
        acc, theta, rho = hough_line(mask, theta=np.sort(angles))
        votes, th, rh = hough_line_peaks(acc, theta, rho, min_distance=8, min_angle=4,
                                         threshold=RULE_SPAN * length, num_peaks=64)
        thin = [(float(t), float(r)) for t, r in zip(th, rh) if _is_thin(resid, t, r)]
        if len(thin) >= RULE_MIN_LINES:
            lines += thin + _cut_by_the_edge(resid, acc, theta, rho, thin)
    return lines


def _cut_by_the_edge(resid: np.ndarray, acc: np.ndarray, theta: np.ndarray, rho: np.ndarray,
                     found: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """More lines of a ruling already ``found``: parallel to its strongest line and crossing ``RULE_SPAN`` of
    their own stretch inside the picture, however short that is (a turned ruling's lines leave through the top
    or bottom edge), at least 30 px; thin, and 8 px from every line kept."""
    j = int(np.argmin(np.abs(theta - found[0][0])))
    votes = acc[:, j].astype(np.int64)  # the accumulator is unsigned: -votes would wrap
    kept = [r if abs(t - theta[j]) < np.pi / 2 else -r for t, r in found]  # in this column's sign of rho
    more = []
    for i in np.argsort(-votes):
        if votes[i] < 30:
            break
        if min(abs(rho[i] - k) for k in kept) < 8:
            continue
        chord = len(_line_pixels(resid.shape, float(theta[j]), float(rho[i]))[0])
        if chord >= 30 and votes[i] >= RULE_SPAN * chord and _is_thin(resid, float(theta[j]), float(rho[i])):
            kept.append(float(rho[i]))
            more.append((float(theta[j]), float(rho[i])))
    return more


def sato_ridges(img: np.ndarray, sigmas=RIDGE_SIGMAS) -> np.ndarray:
    """Bright ridges: the Sato tubeness of 2-D ``img``, max over ``sigmas`` of sigma^2 x max(0, -lowest Hessian
    eigenvalue). Equal to ``skimage.filters.sato(img, sigmas, black_ridges=False)`` (a test checks it), computed
    the same way (two first-order Gaussian derivatives at sigma / sqrt 2) with kernels cut at 8 sigmas instead of
    scikit-image's 100 at sigma <= 1, which adds nothing but time: 14 instead of 100 ms on 400 x 300."""
    from scipy import ndimage

    img = np.asarray(img, np.float32)
    out = np.zeros(img.shape, np.float32)
    for s in sigmas:
        def d(a, order, s=s):
            return ndimage.gaussian_filter(a, s / np.sqrt(2), order=order, mode="reflect", truncate=8)

        gr, gc = d(img, (1, 0)), d(img, (0, 1))
        hrr, hrc, hcc = d(gr, (1, 0)), d(gr, (0, 1)), d(gc, (0, 1))
        lowest = (hrr + hcc) / 2 - np.sqrt(((hrr - hcc) / 2) ** 2 + hrc ** 2)
        out = np.maximum(out, np.maximum(-lowest, 0) * s * s)
    return out


def _line_pixels(shape: tuple[int, int], theta: float, rho: float) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of the pixels on the line ``x cos(theta) + y sin(theta) = rho`` inside a picture of
    ``shape``, one per pixel of its length."""
    h, w = shape
    t = np.arange(-np.hypot(h, w), np.hypot(h, w), 1.0)
    x = np.rint(rho * np.cos(theta) - t * np.sin(theta)).astype(int)
    y = np.rint(rho * np.sin(theta) + t * np.cos(theta)).astype(int)
    inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    return y[inside], x[inside]


def _is_thin(resid: np.ndarray, theta: float, rho: float, offset: float = 5.0) -> bool:
    """Is the line ``x cos(theta) + y sin(theta) = rho`` a thin bright line of ``resid`` (its median brightness
    along it at least twice that ``offset`` px to either side), not the edge or the body of a thick stroke?"""

    def level(r: float) -> float:
        rows, cols = _line_pixels(resid.shape, theta, r)
        return float(np.median(resid[rows, cols])) if rows.size > 10 else 0.0

    on = max(level(rho - 1), level(rho), level(rho + 1))
    return on > 0 and max(level(rho - offset), level(rho + offset)) < 0.5 * on


def _take_out_line(images, theta: float, rho: float, centre: float) -> np.ndarray:
    """Subtract one ruled line (``x cos(theta) + y sin(theta) = rho``) from each of ``images`` in place: within
    ``RULE_HALF_WIDTH`` px of it, at each half-pixel distance, the median brightness above ``centre`` along the
    whole line (a digit covers little of it, so the median is the line's); ink crossing the line keeps what rises
    above that. (Medians over stretches of the line, to follow the light along it, were tried: a digit crossing a
    stretch made its median the digit's, and readings got worse.) Returns the flat indices of the band."""
    h, w = images[0].shape
    yy, xx = np.mgrid[0:h, 0:w]
    dist = np.abs(xx * np.cos(theta) + yy * np.sin(theta) - rho).ravel()
    idx = np.flatnonzero(dist < RULE_HALF_WIDTH + 0.5)
    if idx.size == 0:
        return idx
    group = (dist[idx] * 2).astype(int)
    order = np.argsort(group, kind="stable")
    bounds = np.flatnonzero(np.diff(group[order])) + 1
    for img in images:
        flat = img.reshape(-1)
        vals = flat[idx[order]] - centre
        for part in np.split(np.arange(order.size), bounds):
            level = max(float(np.median(vals[part])), 0.0)
            vals[part] -= np.clip(vals[part], 0.0, level)
        flat[idx[order]] = vals + centre
    return idx


# A frame round a digit: a closed outline whose ink is at most this share of the area it holds (a ring t thick and
# D wide holds ~4t/D: a marker's ring 12 px on 300 px is 0.16). Set from the digits' side: no region of 612
# photographed test digits is under 0.45. A 0 drawn large with a thin pen holds less (0.32 for an 18 px pen on a
# 180 x 240 ring), so a frame must also be less tall for its width than a 0 (FRAME_TALL) ...
FRAME_INK = 0.4
FRAME_TALL = 1.3  # ... and is less than this x as tall as it is wide: a taller outline may be a 0 (a slashed 0, Ø)
FRAME_GAP = 4  # gaps in its line up to about twice this many pixels are closed
FRAME_CONTENT = 0.3  # ... holding all the other ink, at least this x the frame's height tall


def enclosing_frame(labels: np.ndarray, keep: np.ndarray) -> int | None:
    """The label (of ``labels``, among ``keep``) of a frame round the rest of the ink: a box or a ring drawn round a
    digit, as on a form or by a teacher. It is a closed, thin outline (its ink at most ``FRAME_INK`` of the area it
    encloses) whose inside holds every other kept region, without touching it (they are separate regions), and
    that ink is at least ``FRAME_CONTENT`` x the outline's height tall, so that a thin 0 with a speck inside keeps
    its 0; an outline ``FRAME_TALL`` x as tall as wide or more is left alone (a 0 with a stroke inside). None when
    there is no such outline."""
    from scipy import ndimage

    if keep.size < 2:
        return None
    boxes = ndimage.find_objects(labels)
    for r in keep:
        sl = boxes[r - 1]
        if any(not (sl[0].start < boxes[o - 1][0].start and boxes[o - 1][0].stop < sl[0].stop
                    and sl[1].start < boxes[o - 1][1].start and boxes[o - 1][1].stop < sl[1].stop)
               for o in keep if o != r):  # some other ink reaches out of its box: it holds not all of it
            continue
        region = labels[sl] == r
        if region.shape[0] >= FRAME_TALL * region.shape[1]:  # as tall for its width as a 0 is: maybe a 0
            continue
        # closed over gaps of a few pixels: a thin line broken by the photo's blur and grain still holds its inside
        filled = ndimage.binary_fill_holes(ndimage.binary_closing(np.pad(region, FRAME_GAP), iterations=FRAME_GAP))
        filled = filled[FRAME_GAP:-FRAME_GAP, FRAME_GAP:-FRAME_GAP]
        inside = filled & ~region
        if not inside.any() or region.sum() > FRAME_INK * filled.sum():
            continue
        others = np.isin(labels, keep[keep != r])
        if np.count_nonzero(others[sl] & inside) < np.count_nonzero(others):
            continue
        rows = np.flatnonzero(others.any(1))
        if rows[-1] - rows[0] + 1 >= FRAME_CONTENT * region.shape[0]:
            return int(r)
    return None


def noise_sigma(img: np.ndarray) -> float:
    """The grain's sigma from the finest diagonal Haar details: the median absolute detail / 0.6745 (Donoho's
    estimate, the one ``skimage.restoration.estimate_sigma`` makes with PyWavelets, which is not a dependency here;
    a known-answer test checks it). Strokes, edges and smooth lighting add little to that median."""
    a = np.asarray(img, np.float64)
    a = a[: a.shape[0] // 2 * 2, : a.shape[1] // 2 * 2]
    d = (a[0::2, 0::2] - a[0::2, 1::2] - a[1::2, 0::2] + a[1::2, 1::2]) / 2
    return float(np.median(np.abs(d)) / 0.6745) if d.size else 0.0


def with_margin(gray: np.ndarray) -> tuple[np.ndarray, int]:
    """A cut-out picture (white-on-black gray (H, W)) with a margin of paper round it -> (padded, margin in px).

    The margin continues the paper's smooth level (``estimate_background``, its values at the picture's edge carried
    outwards; a flat level where that fit climbed onto ink touching an edge), raised to the darkest of three classes
    of what is left (multi-Otsu: paper, the strokes' soft edges, ink), with the picture's grain (``noise_sigma``)
    drawn from a fixed seed: the same picture gives the same answer, a scan stays a scan, and uneven lighting stays
    smooth. A picture with less contrast than ``EMPTY_CONTRAST`` has no paper to tell: returned unchanged, margin 0.
    """
    from skimage.filters import threshold_multiotsu, threshold_otsu

    gray = np.asarray(gray, np.float32)
    if float(gray.max() - gray.min()) < EMPTY_CONTRAST:
        return gray, 0
    cut = threshold_otsu(gray)
    background = estimate_background(gray)
    edge = np.concatenate([background[0], background[-1], background[:, 0], background[:, -1]])
    if edge.max() >= cut and float((gray - background).max()) >= EMPTY_CONTRAST:  # the fit followed ink that the
        # crop made touch the edges (not a blank sheet's lighting, which the fit takes away whole): the paper is flat
        background = np.full(gray.shape, np.median(gray[gray <= cut]), np.float32)
    resid = gray - background
    try:
        paper = resid[resid <= threshold_multiotsu(resid, classes=3)[0]]  # below the strokes' soft edges, too
    except ValueError:  # two grey levels only (a hard-edged drawing): the darker one is the paper
        paper = resid[resid <= threshold_otsu(resid)]
    level = float(np.median(paper))
    spread = noise_sigma(gray)
    h, w = gray.shape
    m = int(np.ceil(CROP_MARGIN * max(h, w)))
    out = np.pad(background + level, m, mode="edge")
    out += spread * np.random.default_rng(0).standard_normal(out.shape).astype(np.float32)
    out[m:m + h, m:m + w] = gray
    return np.clip(out, 0.0, 1.0), m


def off_the_sheet(work: np.ndarray) -> np.ndarray | None:
    """Where the picture shows the table (or the shadow) round a sheet of paper that does not fill the photo: what is
    brighter than Otsu's cut (dark, before dark-on-light was inverted) and runs along a side of the picture for at
    least ``EDGE_RUN`` of its length, widened by 1% of the picture so that the sheet's own edge goes with it. A
    stroke that reaches the edge meets it over its width only. None when there is none, or when it would cover over
    ``OFF_SHEET_MAX`` of the picture."""
    from scipy import ndimage
    from skimage.filters import threshold_otsu

    if float(work.max() - work.min()) < EMPTY_CONTRAST:
        return None
    labels, _ = ndimage.label(work > threshold_otsu(work))
    sides = (labels[0], labels[-1], labels[:, 0], labels[:, -1])
    runs = {int(r) for side in sides for r, n in zip(*np.unique(side, return_counts=True))
            if r and n >= EDGE_RUN * side.size}
    if not runs:
        return None
    off = ndimage.binary_dilation(np.isin(labels, list(runs)), iterations=max(2, round(0.01 * max(work.shape))))
    return off if off.mean() <= OFF_SHEET_MAX else None


SIDE_GAP = 0.06  # marks side by side: an empty column band at least this x the ink's height apart ...
SIDE_TALL = 0.5  # ... each at least this x the ink's height tall


def several_marks(n: int) -> str:
    """What the upload path says of ``n`` (>= 2) marks side by side."""
    return (f"We found {n} separate marks side by side: perhaps a number of several digits. The models read one "
            "digit at a time, so every answer below is about the whole picture; crop it to one digit for a reading.")


def marks_side_by_side(ink: np.ndarray) -> int:
    """How many marks stand side by side in an ink crop (h, w): runs of inked columns split by an empty band at
    least ``SIDE_GAP`` x the crop's height wide, each run at least ``SIDE_TALL`` x that height tall. A number
    written as digits with a space between them gives one per digit; a single digit gives 1 (its strokes overlap
    in columns), and so do digits that touch. 0 for an empty crop, or when no run is that tall."""
    on = np.asarray(ink) > 0
    cols = np.flatnonzero(on.any(0))
    if cols.size == 0:
        return 0
    height = np.ptp(np.flatnonzero(on.any(1))) + 1
    gap = max(2, int(np.ceil(SIDE_GAP * height)))
    splits = np.flatnonzero(np.diff(cols) > gap)  # an empty band of at least ``gap`` columns
    count = 0
    for run in np.split(cols, splits + 1):
        rows = np.flatnonzero(on[:, run[0]:run[-1] + 1].any(1))
        count += int(np.ptp(rows) + 1 >= SIDE_TALL * height)
    return count


def extract_ink(gray: np.ndarray) -> tuple[np.ndarray | None, dict]:
    """White-on-black gray (H, W) -> (ink image (h, w) in [0, 1] cropped to the digit, framing facts),
    or (None, facts) when no digit stands out of the paper.

    The background (``estimate_background``) is removed, the paper's grain is measured (robust
    sigma), and ink is what rises clearly above it: connected regions above a low threshold that
    reach a high one (hysteresis), keeping regions of at least 3% of the largest one. In a camera photo
    where nothing rises clearly enough after smoothing (and no ruling was found), the regions are looked for
    on the picture's ridges instead (``sato_ridges``: a thin pen's line), dropping any that spans most of it.
    A cut-out (at most ``CROP_SIDE`` on its long side) first gets its margin back (``with_margin``), and no ruling
    or shadow edge is looked for in it.
    """
    from scipy import ndimage

    area = gray.size  # the picture's own, before a margin is given back
    margin = 0
    if max(gray.shape) <= CROP_SIDE:
        gray, margin = with_margin(gray)
    work = _working_copy(gray)
    off = off_the_sheet(work)  # the table round a sheet that does not fill the photo
    resid = work - estimate_background(work)
    photo = _grain(resid) > PHOTO_GRAIN
    if photo and not margin:  # a camera photo: follow shadows the smooth surface cannot
        resid = resid - _local_level(resid)
    smooth = ndimage.gaussian_filter(resid, max(0.7, 0.004 * max(work.shape)))
    centre, sigma = float(np.median(smooth)), _grain(smooth)
    peak = float(smooth.max()) - float(centre)
    facts = {"grain": sigma, "contrast": max(peak, 0.0)}
    if margin:
        facts["margin"] = margin
    on_rule = None  # where ruled lines were taken out
    unruled = (smooth.copy(), resid.copy(), peak)  # as they were before any ruling was taken out
    if photo and peak > 0 and not margin:  # ruled or squared paper (a photo of a sheet, not a cut-out): its lines would join the digit and stretch the crop
        # a low cut: a line is found by the votes of its whole length, so faint rulings count and grain does not
        rules = _ruled_lines(smooth - centre, cut=1.5 * sigma)
        if rules:
            on_rule = np.zeros(smooth.size, bool)
            for theta, rho in rules:
                on_rule[_take_out_line((smooth, resid), theta, rho, centre)] = True
            on_rule = on_rule.reshape(smooth.shape)
            peak = float(smooth.max()) - float(centre)
            facts.update(rules=len(rules), contrast=max(peak, 0.0))
    level_of, on_ridges = centre, False  # the paper's level in ``resid``; whether thin lines were looked for
    if peak < max(EMPTY_CONTRAST, SNR_MIN * sigma):
        if not photo or on_rule is not None:  # a ruling's remains are thin lines too
            return None, facts
        # a thin pen (a ballpoint) in a photo: smoothing spreads its line into the grain, where a ridge filter
        # adds the line up along its length; the digit's region is then found on the ridges
        smooth = sato_ridges(resid)
        centre = float(np.median(smooth))
        sigma = max(1.4826 * float(np.median(np.abs(smooth - centre))), 1e-6)  # the paper's ridges, robustly
        peak = float(smooth.max()) - centre
        facts.update(ridges=peak / sigma)
        if peak < RIDGE_SNR * sigma:
            return None, facts
        level_of, on_ridges = float(np.median(resid)), True

    def regions(smooth: np.ndarray, peak: float, on_rule: np.ndarray | None):
        """The ink's regions: (labels, the strong ones, their areas, those kept, a frame round the rest or None)."""
        high = centre + max(0.25 * peak, 6 * sigma)
        low = centre + max(INK_THRESHOLD * peak, 3 * sigma)
        grow = smooth > low
        if on_rule is not None:  # where a line ran, only ink as strong as a stroke's core counts: a line's faint
            grow &= ~on_rule | (smooth > high)  # remains there would lead the digit's region along the line
        labels, _ = ndimage.label(grow)
        strong = np.unique(labels[(smooth > high) & (labels > 0)])
        if on_ridges and strong.size:  # a ruling too faint for the Hough transform: lines across the sheet
            boxes = ndimage.find_objects(labels)
            span = lambda i: max((boxes[i - 1][0].stop - boxes[i - 1][0].start) / labels.shape[0],  # noqa: E731
                                 (boxes[i - 1][1].stop - boxes[i - 1][1].start) / labels.shape[1])
            strong = np.array([i for i in strong if span(i) < RULE_SPAN], dtype=strong.dtype)
        areas = ndimage.sum_labels(np.ones_like(labels), labels, strong) if strong.size else np.zeros(0)
        keep = strong[areas >= 0.03 * areas.max()] if strong.size else strong
        left_out = False
        if off is not None and keep.size > 1:  # the surface round the sheet: the ink is what lies on the sheet
            on = ndimage.mean(off, labels, strong) < 0.5  # of each strong region, the share off the sheet
            if 0 < np.count_nonzero(~on[np.isin(strong, keep)]) < keep.size:
                strong, areas = strong[on], areas[on]
                keep, left_out = strong[areas >= 0.03 * areas.max()], True
        # a box or ring drawn round the digit: the digit is what it holds (not on ridges, where a thick stroke's
        # two edges can make one ring inside another)
        return labels, strong, areas, keep, None if on_ridges else enclosing_frame(labels, keep), left_out

    labels, strong, areas, keep, frame, left_out = regions(smooth, peak, on_rule)
    if not strong.size:
        return None, facts
    if frame is None and on_rule is not None:  # a box's four lines can pass for a ruling: with them left in,
        again = regions(unruled[0], unruled[2], None)  # is there a frame round the rest?
        if again[4] is not None:
            (smooth, resid, peak), (labels, strong, areas, keep, frame, left_out) = unruled, again
            del facts["rules"]
            facts["contrast"] = max(peak, 0.0)
    if left_out:
        facts["off_sheet"] = True
    if frame is not None:  # what the frame holds, and nothing else
        keep = keep[keep != frame]
        facts["frame"] = True
    mask = np.isin(labels, keep)
    # a pen's stroke is evenly dark; in a photo, light and blur make it uneven: its typical
    # darkness (90th percentile inside the mask), not its darkest pixel, becomes full ink
    level = float(np.percentile(resid[mask] - level_of, 90)) if photo else peak
    ink = np.where(mask, np.clip((resid - level_of) / max(level, 1e-6), 0.0, 1.0), 0.0).astype(np.float32)
    rr, cc = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    box_h, box_w = rr[-1] - rr[0] + 1, cc[-1] + 1 - cc[0]
    facts.update(fill=min(1.0, float(box_h * box_w / mask.size * gray.size / area)), aspect=float(box_h / box_w), stretch=float(1.0 / max(level, 1e-6)),
                 ink_share=float(mask.sum() / (box_h * box_w)), regions=int(keep.size),
                 side_by_side=marks_side_by_side(mask[rr[0]:rr[-1] + 1, cc[0]:cc[-1] + 1]))
    return ink[rr[0]:rr[-1] + 1, cc[0]:cc[-1] + 1], facts


def to_mnist(image: np.ndarray | Image.Image | bytes | str | Path) -> Preprocessed:
    """Preprocess a user image (canvas RGBA array, gray/RGB array, PIL image, bytes or path).

    Dark ink on light paper is inverted. An image that already is 28x28 reaches the model as it
    is (MNIST's own format: nothing to crop or rescale). Anything else goes through
    ``extract_ink`` (background, grain, ink mask), has its strokes redrawn at MNIST's width when they are far
    thinner (``stroke_width`` under ``PEN_THIN``, not on ruled paper) and goes through ``frame_like_mnist``
    (the box round ink at least ``BOX_THRESHOLD`` x the brightest). ``framing`` records what
    framing removed (how much of the picture the digit filled, its aspect, the contrast stretch).
    ``is_empty`` is True when no digit was found: a blank canvas, blank paper, a near-uniform image
    (use ``require_ink`` to refuse those). Raises ``ImageError`` for unusable input.
    """
    notes: list[str] = []
    if isinstance(image, np.ndarray):
        arr = _array_to_rgba(image)
    else:
        img, notes = load_image(image)
        arr = np.asarray(img, dtype=np.float32) / 255.0
    gray, transparent = _gray(arr)
    inverted = not transparent and _light_background(gray)
    if inverted:
        gray = 1.0 - gray
        notes.append("Dark ink on a light background was inverted to white on black, as in MNIST.")
    framing: dict = {"source_size": [int(gray.shape[1]), int(gray.shape[0])]}
    preview = np.zeros((SIZE, SIZE), np.float32)
    if transparent:
        empty = True
    elif gray.shape == (SIZE, SIZE):
        empty = float(gray.max() - gray.min()) < EMPTY_CONTRAST
        framing.update(passthrough=True)
        if not empty:
            preview = np.clip(gray, 0.0, 1.0).astype(np.float32)
    else:
        ink, facts = extract_ink(gray)
        framing.update(passthrough=False, **facts)
        empty = ink is None
        if not empty:
            width = framing["stroke_width"] = stroke_width(ink)
            if width < PEN_THIN and not facts.get("rules"):  # taking out a ruling thins the digit where
                # the lines cross it, so there the width says little of the pen
                ink = redraw_strokes(ink, PEN_DIAMETER * max(ink.shape) / BOX)
                framing["redrawn"] = True
                notes.append("The pen was much thinner than in the handwriting the model learned from; its strokes "
                             "were drawn again at that width.")
            preview = frame_like_mnist(ink, threshold=0.0, box_threshold=BOX_THRESHOLD)
            if facts.get("rules"):
                notes.append("The lines of the ruled or squared paper were taken out before the digit was cut out.")
            if facts.get("frame"):
                notes.append("A box or a ring drawn round the digit was taken out before the digit was cut out.")
            if facts.get("off_sheet"):
                notes.append("The dark surface round the sheet (a table, a shadow) was left out: the digit is what "
                             "lies on the sheet.")
            if facts["side_by_side"] >= 2:
                notes.insert(0, several_marks(facts["side_by_side"]))
            if max(gray.shape) > 4 * SIZE and facts["fill"] < 0.5:
                what = "The marks" if facts["side_by_side"] >= 2 else "The digit"
                notes.append(f"{what} filled {facts['fill']:.0%} of the picture; it was cut out and scaled to "
                             "fit, as MNIST digits are.")
    if empty:
        notes.append("No digit was found in this image.")
    return Preprocessed(x=preview.reshape(-1).copy(), preview=preview, is_empty=empty, inverted=inverted,
                        notes=notes, framing=framing)


def require_ink(p: Preprocessed) -> Preprocessed:
    """Return ``p``, or raise ``ImageError`` if nothing is drawn in it."""
    if p.is_empty:
        raise ImageError("The canvas is empty: draw a digit first.")
    return p
