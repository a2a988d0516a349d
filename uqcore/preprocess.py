"""Any user image -> what the model expects: a 28x28 MNIST-style digit, white ink on black.

Pipeline (``to_mnist``): decode safely (``load_image``) -> EXIF orientation -> first frame of an
animation -> composite transparency -> grayscale -> invert if the background is light -> remove the
background level and stretch the contrast -> crop to the ink -> long side to 20 px (LANCZOS) ->
paste in 28x28 with the centre of mass at the centre (``frame_like_mnist``, as the original MNIST).

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
MIN_SIDE = 8  # refuse images smaller than this on either side
BOX = 20  # MNIST digits fit a 20x20 box ...
SIZE = 28  # ... inside a 28x28 image
CENTRE = 14.0  # where MNIST puts the centre of mass (row, column)
INK_THRESHOLD = 0.05  # relative to the brightest pixel: fainter pixels are background
EMPTY_CONTRAST = 0.1  # less contrast than this (on 0..1) means there is nothing drawn

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


# ----------------------------------------------------------------------------- framing


def frame_like_mnist(gray: np.ndarray, *, threshold: float = INK_THRESHOLD) -> np.ndarray:
    """Frame white-on-black ink like MNIST: (H, W) float in [0, 1] -> (28, 28) float32 in [0, 1].

    Pixels fainter than ``threshold`` x the brightest one are set to 0; the image is cropped to the
    remaining ink, scaled (keeping the aspect ratio) so its long side is 20 px, stretched so the
    brightest pixel is 1, and pasted in 28x28 with its centre of mass at (14, 14). No ink -> zeros.
    """
    gray = np.asarray(gray, dtype=np.float32)
    if gray.ndim != 2:
        raise ValueError(f"frame_like_mnist expects a 2-D (H, W) image, got shape {gray.shape}.")
    out = np.zeros((SIZE, SIZE), dtype=np.float32)
    peak = float(gray.max(initial=0.0))
    if not np.isfinite(peak) or peak <= 0:
        return out
    ink = np.where(gray >= threshold * peak, gray, 0.0).astype(np.float32)
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
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
                data = Path(data).read_bytes()
            except OSError:
                raise ImageError(f"Could not read the file {str(data)!r}.") from None
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ImageError(f"Expected an image file, got {type(data).__name__}.")
        data = bytes(data)
        if not data:
            raise ImageError("The file is empty (0 bytes).")
        if _sniff_svg(data):
            raise ImageError("SVG drawings are not supported; export it as PNG first.")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                img = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageError(
                f"The image is too large; the limit is {MAX_PIXELS // 1_000_000} megapixels. "
                "Please upload a smaller picture."
            ) from None
        except UnidentifiedImageError:
            raise ImageError(
                "This file is not an image that can be read. Please upload a PNG, JPEG, GIF, BMP or WebP picture."
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


def _gray_ink(arr: np.ndarray) -> tuple[np.ndarray, bool, bool]:
    """(H, W[, C]) float in [0, 1] -> (white-on-black gray (H, W), inverted, is_empty).

    Transparency is composited onto the background that contrasts with the strokes: white for dark
    or coloured strokes (the usual canvas: they become dark-on-white and are then inverted), black
    for light strokes (white ink on a transparent canvas), so both come out as ink.
    """
    if arr.ndim == 3 and arr.shape[2] == 4:
        rgb, alpha = arr[..., :3], arr[..., 3]
        lum = rgb @ _LUMA
        if alpha.max() <= 0:  # fully transparent canvas
            return np.zeros(alpha.shape, np.float32), False, True
        if alpha.min() < 1:
            stroke = float((lum * alpha).sum() / alpha.sum())
            bg = 1.0 if stroke < 0.5 else 0.0
            gray = lum * alpha + bg * (1 - alpha)
        else:
            gray = lum
    elif arr.ndim == 3:
        gray = arr @ _LUMA
    else:
        gray = arr
    gray = gray.astype(np.float32)
    border = np.concatenate([gray[:2].ravel(), gray[-2:].ravel(), gray[:, :2].ravel(), gray[:, -2:].ravel()])
    inverted = bool(np.median(border) > 0.5)
    if inverted:
        gray, border = 1.0 - gray, 1.0 - border
    gray = gray - float(np.median(border))
    contrast = float(gray.max())
    if contrast < EMPTY_CONTRAST:
        return np.zeros_like(gray), inverted, True
    return np.clip(gray / contrast, 0.0, 1.0), inverted, False


def to_mnist(image: np.ndarray | Image.Image | bytes | str | Path) -> Preprocessed:
    """Preprocess a user image (canvas RGBA array, gray/RGB array, PIL image, bytes or path).

    Returns a ``Preprocessed`` whose ``x`` (784,) is ready for the model; ``is_empty`` is True for
    a blank canvas or a near-uniform image (use ``require_ink`` to refuse those).
    Raises ``ImageError`` for unusable input.
    """
    notes: list[str] = []
    if isinstance(image, np.ndarray):
        arr = _array_to_rgba(image)
    else:
        img, notes = load_image(image)
        arr = np.asarray(img, dtype=np.float32) / 255.0
    gray, inverted, empty = _gray_ink(arr)
    preview = np.zeros((SIZE, SIZE), np.float32) if empty else frame_like_mnist(gray)
    if inverted:
        notes.append("Dark ink on a light background was inverted to white on black, as in MNIST.")
    if empty:
        notes.append("Nothing is drawn in this image.")
    return Preprocessed(x=preview.reshape(-1).copy(), preview=preview, is_empty=empty, inverted=inverted, notes=notes)


def require_ink(p: Preprocessed) -> Preprocessed:
    """Return ``p``, or raise ``ImageError`` if nothing is drawn in it."""
    if p.is_empty:
        raise ImageError("The canvas is empty: draw a digit first.")
    return p
