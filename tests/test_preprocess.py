"""uqcore.preprocess: bad inputs give plain ImageErrors; canvases, uploads and MNIST round-trip."""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image, features

from uqcore.data.preprocess import ImageError, Preprocessed, frame_like_mnist, load_image, require_ink, to_mnist
from uqcore.methods.training import predict_logits


def png_bytes(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def header_only_png(w: int, h: int) -> bytes:
    """A PNG that declares w x h pixels but holds no pixel data (a cheap decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def digit(mnist) -> np.ndarray:
    """One MNIST test digit (a 7: asymmetric), upscaled to 280x280 uint8, white ink on black."""
    i = int(np.flatnonzero(mnist.test.y == 7)[0])
    return upscale(mnist.test.x[i])


def upscale(x784: np.ndarray, side: int = 280) -> np.ndarray:
    img = Image.fromarray((x784.reshape(28, 28) * 255).round().astype(np.uint8))
    return np.asarray(img.resize((side, side), Image.Resampling.BILINEAR))


# ----------------------------------------------------------------------------- bad inputs


def test_not_an_image():
    with pytest.raises(ImageError, match="not an image"):
        load_image(b"hello, this is a text file and not a picture at all")


def test_truncated_file(digit):
    data = png_bytes(Image.fromarray(digit))
    with pytest.raises(ImageError, match="damaged or incomplete"):
        to_mnist(data[: len(data) // 2])


@pytest.mark.parametrize("w,h", [(8000, 6000), (20000, 20000)])  # ours (40 MP) and PIL's own bomb limit
def test_decompression_bomb_refused_from_header(w, h):
    with pytest.raises(ImageError, match="too large"):
        load_image(header_only_png(w, h))


def test_empty_file():
    with pytest.raises(ImageError, match="empty"):
        load_image(b"")


@pytest.mark.parametrize("size", [(1, 1), (5, 40)])
def test_tiny_image(size):
    with pytest.raises(ImageError, match="at least 8 pixels"):
        to_mnist(png_bytes(Image.new("L", size, 255)))
    with pytest.raises(ImageError, match="at least 8 pixels"):
        to_mnist(np.zeros(size[::-1], np.uint8))


@pytest.mark.parametrize("svg", [b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
                                 b'  <svg width="10" height="10"><circle r="4"/></svg>'])
def test_svg_refused(svg):
    with pytest.raises(ImageError, match="SVG drawings are not supported; export it as PNG first"):
        to_mnist(svg)


def test_no_pil_error_escapes_for_garbage():
    for data in (b"\x89PNG\r\n\x1a\n garbage", b"GIF89a\x00", b"\xff\xd8\xff\xe0 broken jpeg"):
        with pytest.raises(ImageError):
            to_mnist(data)


# ----------------------------------------------------------------------------- unusual modes


def test_16_bit_image_converted(digit):
    ref = to_mnist(digit).x
    sixteen = digit.astype(np.uint16) * 257
    for img, fmt in ((Image.fromarray(sixteen), "PNG"), (Image.fromarray(sixteen.astype(np.int32)), "TIFF")):
        assert img.mode in ("I;16", "I")
        out = to_mnist(png_bytes(img, fmt))
        assert not out.is_empty and np.abs(out.x - ref).max() < 0.02
        assert np.abs(to_mnist(img).x - ref).max() < 0.02


def test_cmyk_converted(digit):
    cmyk = Image.fromarray(255 - digit).convert("RGB").convert("CMYK")  # black ink on white paper
    out = to_mnist(png_bytes(cmyk, "JPEG", quality=95))
    assert out.inverted and not out.is_empty
    assert np.corrcoef(out.x, to_mnist(digit).x)[0, 1] > 0.97


def test_palette_with_transparency(digit):
    p = Image.fromarray((digit > 127).astype(np.uint8)).convert("P")
    p.putpalette([255, 255, 255, 0, 0, 0] + [0] * 762)  # 0: white (transparent), 1: black ink
    data = png_bytes(p, transparency=0)
    img, _ = load_image(data)
    assert img.mode == "RGBA"
    out = to_mnist(data)
    assert np.corrcoef(out.x, to_mnist((digit > 127).astype(np.uint8) * 255).x)[0, 1] > 0.99


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animated_uses_first_frame(digit, fmt):
    if fmt == "WEBP" and not features.check("webp"):
        pytest.skip("Pillow built without WebP")
    frames = [Image.fromarray(digit).convert("RGB"), Image.fromarray(np.rot90(digit).copy()).convert("RGB")]
    buf = io.BytesIO()
    frames[0].save(buf, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0,
                   **({"lossless": True} if fmt == "WEBP" else {}))
    out = to_mnist(buf.getvalue())
    assert any("first frame" in n for n in out.notes)
    assert np.abs(out.x - to_mnist(digit).x).max() < 0.05


# ----------------------------------------------------------------------------- orientation, canvases


def test_exif_orientation_respected(digit):
    upright = Image.fromarray(255 - digit).convert("RGB")  # what the user sees: black 7 on white
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what the camera stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display" -> exif_transpose applies ROTATE_270
    out = to_mnist(png_bytes(stored, "JPEG", quality=95, exif=exif))
    want = to_mnist(np.asarray(upright))
    ignored = to_mnist(png_bytes(stored, "JPEG", quality=95))
    assert np.abs(out.x - want.x).mean() < 0.02
    assert np.abs(ignored.x - want.x).mean() > 0.05


@pytest.mark.parametrize("stroke", [(0, 0, 0), (200, 30, 30), (30, 60, 220), (255, 255, 255)])
def test_canvas_rgba_equals_white_on_black(digit, stroke):
    """A transparent canvas with strokes of any colour gives the same digit as white ink on black."""
    canvas = np.zeros((*digit.shape, 4), np.uint8)
    canvas[..., :3] = stroke
    canvas[..., 3] = digit  # stroke coverage is the alpha channel
    out, ref = to_mnist(canvas), to_mnist(digit)
    assert not out.is_empty
    assert np.abs(out.x - ref.x).max() < 0.02
    black_on_white = to_mnist(np.stack([255 - digit] * 3, -1))
    assert black_on_white.inverted and np.abs(black_on_white.x - ref.x).max() < 1e-5


def test_result_shape_and_range(digit):
    out = to_mnist(Image.fromarray(digit))
    assert isinstance(out, Preprocessed)
    assert out.x.shape == (784,) and out.x.dtype == np.float32 and out.preview.shape == (28, 28)
    assert 0.0 <= out.x.min() and out.x.max() == pytest.approx(1.0)
    assert np.array_equal(out.preview.ravel(), out.x)
    r = np.arange(28)
    com = ((out.preview.sum(1) * r).sum() / out.preview.sum(), (out.preview.sum(0) * r).sum() / out.preview.sum())
    assert np.allclose(com, 14.0, atol=0.75)


def test_path_input(tmp_path, digit):
    path = tmp_path / "d.png"
    path.write_bytes(png_bytes(Image.fromarray(digit)))
    assert np.array_equal(to_mnist(path).x, to_mnist(digit).x)
    assert np.array_equal(to_mnist(str(path)).x, to_mnist(digit).x)


@pytest.mark.parametrize(
    "image",
    [np.zeros((280, 280, 4), np.uint8), np.full((280, 280, 3), 255, np.uint8), np.zeros((280, 280), np.uint8),
     (200 + np.random.default_rng(0).integers(-3, 4, (100, 100))).astype(np.uint8)],
    ids=["transparent-canvas", "all-white", "all-black", "near-uniform"],
)
def test_empty_detected(image):
    out = to_mnist(image)
    assert out.is_empty and not out.x.any()
    with pytest.raises(ImageError, match="empty: draw a digit first"):
        require_ink(out)


def test_require_ink_passes_through(digit):
    p = to_mnist(digit)
    assert require_ink(p) is p


def test_frame_like_mnist_no_ink_and_bad_shape():
    assert not frame_like_mnist(np.zeros((40, 30))).any()
    with pytest.raises(ValueError, match="2-D"):
        frame_like_mnist(np.zeros((2, 3, 4)))


def test_frame_box_leaves_out_a_faint_halo():
    """Known answer: a 10x10 square of full ink inside a faint 0.2 ring, 1 px wide, is framed to a 20x20 square
    when the box holds ink >= 0.3, and to 20 px with the ring (the square then 16-17 px) when it holds all ink."""
    img = np.zeros((40, 40), np.float32)
    img[14:26, 14:26] = 0.2
    img[15:25, 15:25] = 1.0
    square = lambda v: int((v >= 0.5).any(0).sum())  # noqa: E731  (the square's side after framing)
    assert square(frame_like_mnist(img, threshold=0.0, box_threshold=0.3)) == 20
    assert square(frame_like_mnist(img, threshold=0.0)) in (16, 17)
    np.testing.assert_array_equal(frame_like_mnist(img), frame_like_mnist(img, box_threshold=0.0))


def test_an_enlarged_digit_is_framed_as_the_digit(mnist, monkeypatch):
    """Test digits enlarged 4x bilinearly (a screenshot) come back closer to themselves with the upload path's box
    than with a box round all the ink (its halo made every digit ~5% smaller)."""
    from uqcore.data import preprocess
    from uqcore.data.preprocess import BOX_THRESHOLD, extract_ink

    monkeypatch.setattr(preprocess, "PEN_THIN", 0.0)  # the box alone (the thinnest 1% of digits are redrawn)

    x = mnist.test.x[:60].reshape(-1, 28, 28)
    big = [np.asarray(Image.fromarray(v).resize((112, 112), Image.Resampling.BILINEAR)) for v in x]
    via_upload = np.stack([to_mnist(b).preview for b in big])
    all_ink = np.stack([frame_like_mnist(extract_ink(b)[0], threshold=0.0) for b in big])
    np.testing.assert_allclose(via_upload, [frame_like_mnist(extract_ink(b)[0], threshold=0.0,
                                                             box_threshold=BOX_THRESHOLD) for b in big])
    err_upload, err_all = np.abs(via_upload - x).mean(), np.abs(all_ink - x).mean()
    assert err_upload < 0.9 * err_all and err_upload < 0.032
    assert abs(via_upload.sum() / x.sum() - 1) < 0.06 < abs(all_ink.sum() / x.sum() - 1)


def test_stroke_width_known_answers():
    """A bar 4 px thick and 100 px long, framed to 20 px long, has strokes 0.8 px wide; soft edges summed across
    measure like hard ones; a 1 px line redrawn with a 7 px pen is 7 px thick with round ends."""
    from uqcore.data.preprocess import redraw_strokes, stroke_width

    bar = np.ones((4, 100), np.float32)
    assert stroke_width(bar) == pytest.approx(0.8, rel=0.05)
    soft = np.pad(bar, ((1, 1), (0, 0)))
    soft[0] = soft[-1] = 0.5  # a 1 px half-bright edge each side: 5 px of ink across
    assert stroke_width(soft) == pytest.approx(1.0, rel=0.05)
    line = np.zeros((9, 60), np.float32)
    line[4, 5:55] = 1
    pen = redraw_strokes(line, 7.0)
    assert pen.shape == (9 + 10, 60 + 10) and pen.max() == 1
    assert pen[:, 30].sum() == 7 and pen[9, :].sum() == 50 + 6  # the line's row (4 + a margin of 5): 3 px more
    assert not pen[5, 35] and pen[6, 35] and pen[12, 35] and not pen[13, 35]  # at each end, 3 px to either side


def test_a_digit_written_with_a_thin_pen_is_redrawn_at_mnists_width(mnist, monkeypatch):
    """A test digit's skeleton drawn 3 px wide at 280 px (a paint program's brush) is redrawn, and comes back
    closer to the digit than without; an MNIST-like drawing is not redrawn."""
    from skimage.morphology import skeletonize

    from uqcore.data import preprocess
    from uqcore.data.preprocess import PEN_THIN, stroke_width

    digit = mnist.test.x[0].reshape(28, 28)
    big = np.asarray(Image.fromarray(digit).resize((280, 280), Image.Resampling.BILINEAR))
    thin = skeletonize(big > 0.5).astype(np.float32)
    thin = np.maximum(thin, np.roll(thin, 1, 0))  # 2 px wide
    out = to_mnist(thin)
    assert out.framing["redrawn"] and out.framing["stroke_width"] < PEN_THIN
    assert any("thinner" in n for n in out.notes)
    seen = np.where(out.preview >= 0.05, out.preview, 0)  # without resampling's ripples, cut to the digit
    seen = seen[np.ix_(seen.any(1), seen.any(0))]
    assert stroke_width(seen) > PEN_THIN  # the model reads strokes as wide as MNIST's
    as_mnist = to_mnist(big)
    assert "redrawn" not in as_mnist.framing and PEN_THIN < as_mnist.framing["stroke_width"] < 4
    monkeypatch.setattr(preprocess, "PEN_THIN", 0.0)
    plain = to_mnist(thin)
    assert np.abs(out.preview - digit).mean() < 0.7 * np.abs(plain.preview - digit).mean()


# ----------------------------------------------------------------------------- round trip


def test_round_trip_accuracy(mnist, tiny_model):
    """500 test digits drawn large (140x140, five times MNIST's side: the full path, a quarter of the canvas's
    pixels to keep the suite fast) in both polarities keep the model's accuracy within 1 point."""
    x, y = mnist.test.x[:500], mnist.test.y[:500]
    white_on_black = np.stack([to_mnist(upscale(d, 140)).x for d in x])
    black_on_white = np.stack([to_mnist(np.stack([255 - upscale(d, 140)] * 3, -1)).x for d in x])

    def acc(v):
        return float((predict_logits(tiny_model, torch.as_tensor(v)).argmax(-1).numpy() == y).mean())

    raw, wob, bow = acc(x), acc(white_on_black), acc(black_on_white)
    print(f"\nround trip accuracy: raw {raw:.3f}, white-on-black {wob:.3f}, black-on-white {bow:.3f}")
    assert abs(wob - raw) <= 0.01 and abs(bow - raw) <= 0.01


# ----------------------------------------------------------------------------- real pictures


def test_png_round_trip_of_a_test_digit_equals_its_array(mnist):
    """A 28x28 MNIST-like file reaches the model as it is: within 1/255 of the array."""
    from uqcore.file_path import png_bytes

    for x in mnist.test.x[:50]:
        out = to_mnist(png_bytes(x))
        assert out.framing["passthrough"] and np.abs(out.x - x).max() <= 1 / 255 + 1e-6


def test_28x28_dark_ink_on_light_is_inverted_not_reframed(mnist):
    x = mnist.test.x[3]
    light = Image.fromarray(((1 - x.reshape(28, 28)) * 255).round().astype(np.uint8))
    out = to_mnist(png_bytes(light))
    assert out.inverted and np.abs(out.x - x).max() <= 1 / 255 + 1e-6


def test_blank_paper_photos_have_no_digit():
    from uqcore.data.families import paper_photos

    for f in paper_photos(6, np.random.default_rng(0)):
        out = to_mnist(f)
        assert out.is_empty and not out.x.any()


def test_digit_photos_come_out_like_the_digit(mnist):
    """A small dark digit on grey, shaded, grainy paper (JPEG) is found, cut out and framed like the
    clean digit: the two 28x28 inputs correlate strongly."""
    from uqcore.data.families import digit_photos

    files, y, meta = digit_photos(8, np.random.default_rng(1))
    for f, k in zip(files, meta["index"]):
        out = to_mnist(f)
        clean = to_mnist(upscale(mnist.test.x[k]))
        assert not out.is_empty and out.inverted
        assert 0.01 <= out.framing["fill"] <= 0.3  # the ink's box: smaller than the 28x28 frame drawn at 5-30%
        assert np.corrcoef(out.x, clean.x)[0, 1] > 0.8


def test_a_photographed_non_digit_comes_out_like_the_picture():
    """``photo_of`` photographs any 28x28 picture as ``digit_photos`` does: a box with a cross in it is found,
    cut out and framed like the picture itself."""
    from uqcore.data.families import photo_of

    pic = np.zeros((28, 28), np.float32)
    pic[5:23, [5, 6, 21, 22]] = pic[[5, 6, 21, 22], 5:23] = 1.0
    idx = np.arange(7, 21)
    pic[idx, idx] = pic[idx, idx + 1] = pic[idx, 27 - idx] = pic[idx, 26 - idx] = 1.0  # a pen as wide as MNIST's
    clean = to_mnist(upscale(pic.ravel()))
    for seed in range(3):
        f, fill = photo_of(pic.ravel(), np.random.default_rng(seed))
        out = to_mnist(f)
        assert f[:2] == b"\xff\xd8" and 0.05 <= fill <= 0.3  # a JPEG; the frame fills 5-30% of the photo
        shifted = [np.roll(out.x.reshape(28, 28), (dy, dx), (0, 1)).ravel() for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
        assert not out.is_empty and max(np.corrcoef(v, clean.x)[0, 1] for v in shifted) > 0.85  # to a pixel


def test_sato_ridges_equal_scikit_images():
    from scipy import ndimage
    from skimage.filters import sato

    from uqcore.data.preprocess import RIDGE_SIGMAS, sato_ridges

    img = ndimage.gaussian_filter(np.random.default_rng(3).random((60, 80)), 1.0).astype(np.float32)
    img[30, 10:70] += 0.5  # and a line
    want = sato(img, sigmas=RIDGE_SIGMAS, black_ridges=False)
    np.testing.assert_allclose(sato_ridges(img), want, atol=1e-6)
    assert sato_ridges(img)[30, 40] > 5 * np.median(want)


def test_a_ballpoint_digit_in_a_photo_is_found_on_ridges_and_redrawn(mnist):
    """A test digit written 2 px wide (a ballpoint) on photographed paper: smoothing loses it in the grain, the
    ridge filter finds it, and it is redrawn at MNIST's width; its input correlates with the clean digit's. The
    same paper without the digit stays blank (no ridge stands out)."""
    from scipy import ndimage
    from skimage.morphology import skeletonize

    from uqcore.data.families import _paper, _photo_bytes

    rng = np.random.default_rng(8)
    found = 0
    for k in range(6):
        digit = mnist.test.x[k].reshape(28, 28)
        side = 200
        big = np.asarray(Image.fromarray(digit).resize((side, side), Image.Resampling.BILINEAR)) > 0.5
        pen = ndimage.distance_transform_edt(~skeletonize(big)) <= 1.0  # 2 px wide
        paper = _paper(rng, 768, 1024)  # reduced 2.56 times to look for the ink: the line is 0.8 px there
        blank = paper.copy()
        paper[300:500, 400:600] *= 1 - 0.45 * ndimage.gaussian_filter(pen.astype(np.float32), 1.0)
        out = to_mnist(_photo_bytes(paper, rng))
        assert to_mnist(_photo_bytes(blank, rng)).is_empty
        if "ridges" not in out.framing:  # smoothing alone found this one
            continue
        found += 1
        assert not out.is_empty and out.framing["redrawn"] and out.framing["ridges"] >= 10
        own, other = (np.corrcoef(out.x, to_mnist(upscale(mnist.test.x[i])).x)[0, 1] for i in (k, k + 1))
        assert own > 0.6 and own > other + 0.3  # 0.69-0.93 against 0.02-0.31 for the next test digit
    assert found >= 3  # most of these thin digits need the ridges


def test_uneven_lighting_is_removed():
    """A strong lighting gradient alone is not ink; a digit on it is still found."""
    from uqcore.data.preprocess import estimate_background

    yy, xx = np.mgrid[0:300, 0:400] / 400
    gradient = (0.2 + 0.5 * xx + 0.2 * yy ** 2).astype(np.float32)
    assert np.abs(estimate_background(gradient) - gradient).max() < 0.01
    assert to_mnist((gradient * 255).astype(np.uint8)).is_empty


def test_block_medians_are_the_median_of_each_block():
    """Known answer: the vectorised block medians equal np.median over each array_split block."""
    from uqcore.data.preprocess import _block_medians

    rng = np.random.default_rng(0)
    for shape, grid in (((600, 800), 16), ((317, 451), 64), ((50, 37), 100), ((3, 500), 16)):
        img = rng.random(shape).astype(np.float32)
        med, rows, cols = _block_medians(img, grid)
        want = [[np.median(img[r[0]:r[-1] + 1, c[0]:c[-1] + 1]) for c in cols] for r in rows]
        np.testing.assert_array_equal(med, np.array(want, np.float32))


def test_only_the_formats_we_mean_to_read_are_decoded(tmp_path):
    """An EPS (Pillow would hand it to Ghostscript) is refused as 'not an image'; TIFF is read."""
    from uqcore.data.preprocess import ImageError, load_image

    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 28 28\nnewpath 0 0 moveto 28 28 lineto stroke\n%%EOF\n"
    with pytest.raises(ImageError, match="not an image that can be read"):
        load_image(eps)
    buf = io.BytesIO()
    Image.new("L", (40, 40), 255).save(buf, "TIFF")
    assert load_image(buf.getvalue())[0].size == (40, 40)


def test_files_over_the_limit_are_refused_before_they_are_read(tmp_path, monkeypatch):
    from uqcore.data import preprocess

    path = tmp_path / "big.png"
    Image.new("L", (64, 64), 128).save(path)
    monkeypatch.setattr(preprocess, "MAX_FILE_BYTES", 50)
    monkeypatch.setattr(type(path), "read_bytes", lambda self: pytest.fail("the file was read"))
    with pytest.raises(preprocess.ImageError, match="the limit is 0 MB"):
        preprocess.load_image(path)
    with pytest.raises(preprocess.ImageError, match="MB; the limit"):
        preprocess.load_image(b"\x89PNG" + b"\0" * 100)


def test_a_large_photo_is_decoded_small_and_still_read():
    """A 12-megapixel JPEG is decoded at reduced scale (JPEG draft) and the digit in it is still found."""
    from uqcore.data.preprocess import DECODE_SIDE, load_image, to_mnist

    a = np.full((3024, 4032), 200, np.uint8)
    a[1000:2000, 1900:2050] = 30  # a dark vertical stroke: a "1"
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "JPEG", quality=90)
    img, _ = load_image(buf.getvalue())
    assert max(img.size) <= 2 * DECODE_SIDE
    p = to_mnist(buf.getvalue())
    assert not p.is_empty and p.x.max() > 0.5


def _ruled(gray: np.ndarray, *, gap: int, tilt: float = 0.0, squared: bool = False) -> np.ndarray:
    """Pale ruled (or squared) lines multiplied into a light photo (H, W) in [0, 1], turned by ``tilt`` degrees."""
    h, w = gray.shape
    yy, xx = np.mgrid[0:h, 0:w]
    t = np.deg2rad(tilt)
    along = yy * np.cos(t) - xx * np.sin(t)  # the distance across the lines, turned
    lines = (along % gap) < 2
    if squared:
        lines |= ((xx * np.cos(t) + yy * np.sin(t)) % gap) < 2
    return np.where(lines, gray * 0.65, gray).astype(np.float32)


def _digit_on_paper(digit28: np.ndarray, rng, h: int = 480, w: int = 640) -> np.ndarray:
    """A dark digit (about 180 px) on light, slightly grainy paper: (H, W) in [0, 1]."""
    paper = 0.8 + rng.normal(0, 0.02, (h, w))
    big = np.asarray(Image.fromarray((digit28.reshape(28, 28) * 255).astype(np.uint8)).resize((180, 180),
                                                                                               Image.BICUBIC)) / 255
    r0, c0 = 150, 260
    paper[r0:r0 + 180, c0:c0 + 180] *= 1 - 0.8 * big
    return np.clip(paper, 0, 1)


@pytest.mark.parametrize("tilt, squared", [(0.0, False), (2.5, False), (-1.5, True)])
def test_ruled_paper_lines_are_taken_out(mnist, tilt, squared):
    """A digit photographed on ruled or squared paper comes out like the same digit on plain paper: the lines
    are found (a Hough transform, scikit-image) and their brightness taken out, so they no longer join the digit
    and stretch the crop across the sheet."""
    rng = np.random.default_rng(3)
    for k in (0, 1, 2):
        plain = _digit_on_paper(mnist.test.x[k], rng)
        ruled = _ruled(plain, gap=30, tilt=tilt, squared=squared)
        a, b = to_mnist((plain * 255).astype(np.uint8)), to_mnist((ruled * 255).astype(np.uint8))
        assert "rules" not in a.framing and b.framing["rules"] >= (20 if squared else 10)
        assert any("ruled or squared paper" in n for n in b.notes) and not any("ruled" in n for n in a.notes)
        assert abs(b.framing["aspect"] - a.framing["aspect"]) < 0.15  # the crop is the digit's, not the sheet's
        # the same strokes, give or take a pixel of centring (a line crossing a stroke dims it a little)
        assert _best_shifted_correlation(a.preview, b.preview) > 0.85


def _best_shifted_correlation(a: np.ndarray, b: np.ndarray, reach: int = 2) -> float:
    return max(np.corrcoef(a.ravel(), np.roll(b, (dy, dx), (0, 1)).ravel())[0, 1]
               for dy in range(-reach, reach + 1) for dx in range(-reach, reach + 1))


def test_ruled_lines_known_answer_and_what_is_not_a_ruling():
    from uqcore.data.preprocess import _ruled_lines

    h, w = 300, 400
    resid = np.zeros((h, w), np.float32)
    for y in (50, 100, 150, 200, 250):
        resid[y:y + 2] = 0.3
    lines = _ruled_lines(resid, cut=0.1)
    assert len(lines) == 5
    assert all(abs(abs(theta) - np.pi / 2) < np.deg2rad(0.3) for theta, _ in lines)  # horizontal: normal vertical
    assert sorted(round(abs(rho)) for _, rho in lines) == [50, 100, 150, 200, 250]  # (or 51: the 2-px line's rows)
    bar = np.zeros((h, w), np.float32)
    bar[100:112, 20:380] = 0.6  # one long stroke (a 7's bar in a close-up) is not a ruling
    assert _ruled_lines(bar, cut=0.1) == []
    noise = np.abs(np.random.default_rng(0).normal(0, 0.05, (h, w))).astype(np.float32)
    assert _ruled_lines(noise, cut=0.075) == []


def test_blank_ruled_paper_has_no_digit():
    rng = np.random.default_rng(4)
    for squared in (False, True):
        sheet = _ruled(np.clip(0.8 + rng.normal(0, 0.02, (480, 640)), 0, 1), gap=28, squared=squared)
        out = to_mnist((sheet * 255).astype(np.uint8))
        assert out.is_empty, out.framing


def test_a_turned_ruling_keeps_the_lines_the_edge_cuts_short(monkeypatch):
    """Turned 3 degrees, the first line enters through the top edge 210 px in: 190 px of it are in the picture,
    less than the span a ruling needs (240). It is found as a parallel of the others (``_cut_by_the_edge``)."""
    from uqcore.data import preprocess

    h, w = 300, 400
    yy, xx = np.mgrid[0:h, 0:w]
    t = np.deg2rad(93.0)  # the normal of a line turned 3 degrees from horizontal
    along = xx * np.cos(t) + yy * np.sin(t)
    resid = np.zeros((h, w), np.float32)
    for rho in (-11, 40, 70, 100, 130, 160, 190, 220):
        resid = np.maximum(resid, 0.3 * np.clip(1 - np.abs(along - rho), 0, 1))
    found = sorted(round(abs(r)) for _, r in preprocess._ruled_lines(resid, cut=0.05))
    assert found == [11, 40, 70, 100, 130, 160, 190, 220]
    monkeypatch.setattr(preprocess, "_cut_by_the_edge", lambda *a, **k: [])  # the long lines alone miss it
    assert sorted(round(abs(r)) for _, r in preprocess._ruled_lines(resid, cut=0.05)) == found[1:]


# ----------------------------------------------------------------------------- several digits in one picture


def test_marks_side_by_side_known_answers():
    from uqcore.data.preprocess import SIDE_GAP, marks_side_by_side

    a = np.zeros((20, 60))
    a[2:18, 3:10] = 1  # two tall marks, 10 empty columns apart (over SIDE_GAP x 16 rows)
    a[2:18, 20:30] = 1
    assert marks_side_by_side(a) == 2
    a[0:3, 40:58] = 1  # a short mark (a dash) beside them does not count
    assert marks_side_by_side(a) == 2
    a[2:18, 45:47] = 1  # under the dash, a tall stroke: a third mark (a 1)
    assert marks_side_by_side(a) == 3
    for empty, marks in ((1, 1), (2, 2)):  # the cut is max(2, ceil(SIDE_GAP x 16)) = 2 empty columns
        assert max(2, int(np.ceil(SIDE_GAP * 16))) == 2
        b = np.zeros((20, 30))
        b[2:18, 3:10] = 1
        b[2:18, 10 + empty:20] = 1
        assert marks_side_by_side(b) == marks, empty
    c = np.zeros((20, 30))
    c[2:10, 3:12] = 1  # a 5's bar beside its body's upper half but over columns the body also uses
    c[8:18, 8:20] = 1
    assert marks_side_by_side(c) == 1
    assert marks_side_by_side(np.zeros((5, 5))) == 0


def test_a_number_of_two_digits_is_said_to_be_several_marks_and_one_digit_is_not(mnist):
    from uqcore.data.preprocess import several_marks

    rng = np.random.default_rng(0)
    for _ in range(3):
        i, j = rng.integers(0, len(mnist.test.y), 2)
        pair = np.concatenate([mnist.test.x[i].reshape(28, 28), mnist.test.x[j].reshape(28, 28)], axis=1)
        img = Image.fromarray((255 - pair * 220).astype(np.uint8)).resize((560, 280), Image.Resampling.BILINEAR)
        out = to_mnist(png_bytes(img))  # dark ink on light paper, two frames edge to edge
        assert out.framing["side_by_side"] == 2 and out.notes[0] == several_marks(2)
        single = to_mnist(png_bytes(Image.fromarray(255 - upscale(mnist.test.x[i]))))
        assert single.framing["side_by_side"] == 1 and not any("side by side" in n for n in single.notes)


# ----------------------------------------------------------------------------- a box or a ring round the digit


def _labelled(*masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = np.zeros(masks[0].shape, np.int32)
    for i, m in enumerate(masks, start=1):
        labels[m] = i
    return labels, np.arange(1, len(masks) + 1)


def test_enclosing_frame_known_answers():
    from uqcore.data.preprocess import enclosing_frame

    box = np.zeros((100, 100), bool)
    box[5:95, 5:95] = True
    box[8:92, 8:92] = False  # a 3 px outline: its ink is 0.13 of the area it holds
    digit = np.zeros_like(box)
    digit[25:75, 40:52] = True  # a 1, 50 of the box's 90 rows tall, clear of the outline
    assert enclosing_frame(*_labelled(box, digit)) == 1
    assert enclosing_frame(*_labelled(digit, box)) == 2  # whichever label it has
    assert enclosing_frame(*_labelled(box)) is None  # nothing inside: an empty box may be a 0
    speck = np.zeros_like(box)
    speck[48:54, 45:51] = True  # 6 of 90 rows: a thin 0 with a speck inside keeps its 0
    assert enclosing_frame(*_labelled(box, speck)) is None
    outside = np.zeros_like(box)
    outside[96:100, 0:40] = True  # ink outside the outline: the outline holds not all of it
    assert enclosing_frame(*_labelled(box, digit, outside)) is None
    thick = np.zeros_like(box)
    thick[5:95, 5:95] = True
    thick[30:70, 30:70] = False  # a 0 of a digit's proportions: its ink is 0.80 of the area it holds
    inner = np.zeros_like(box)
    inner[35:65, 45:50] = True
    assert enclosing_frame(*_labelled(thick, inner)) is None
    open_box = box.copy()
    open_box[5:8, 40:60] = False  # a gap in the top line: not closed, so it holds nothing
    assert enclosing_frame(*_labelled(open_box, digit)) is None
    zero = np.zeros((140, 100), bool)  # a tall thin 0 (ink 0.2 of what it holds) with a stroke inside: a slashed 0
    zero[5:135, 5:95] = True
    zero[9:131, 9:91] = False
    slash = np.zeros_like(zero)
    slash[30:110, 48:53] = True
    assert enclosing_frame(*_labelled(zero, slash)) is None


def test_a_digit_in_a_box_or_a_ring_is_read_as_the_digit(mnist):
    from PIL import ImageDraw

    i = int(np.flatnonzero(mnist.test.y == 4)[0])
    plain = 255 - upscale(mnist.test.x[i], 200)
    clean = to_mnist(png_bytes(Image.fromarray(plain)))
    assert not clean.framing.get("frame") and not any("box or a ring" in n for n in clean.notes)
    for shape in ("rectangle", "ellipse"):
        sheet = Image.new("L", (360, 360), 255)
        sheet.paste(Image.fromarray(plain), (80, 80))
        getattr(ImageDraw.Draw(sheet), shape)((40, 40, 320, 320), outline=0, width=4)
        out = to_mnist(png_bytes(sheet))
        assert out.framing["frame"] and any("A box or a ring drawn round the digit was taken out" in n for n in out.notes)
        assert np.corrcoef(out.x, clean.x)[0, 1] > 0.95, shape
        dotted = sheet.copy()  # marks outside the frame were left out with it; they stay out
        ImageDraw.Draw(dotted).rectangle((5, 5, 15, 12), fill=0)
        ImageDraw.Draw(dotted).rectangle((340, 345, 352, 352), fill=0)
        again = to_mnist(png_bytes(dotted))
        assert again.framing["frame"] and again.framing["fill"] < 0.5
        assert np.corrcoef(again.x, clean.x)[0, 1] > 0.95, shape
        sheet = Image.new("L", (360, 360), 255)  # a box that crosses the digit: one region, left as it is
        sheet.paste(Image.fromarray(plain), (80, 80))
        getattr(ImageDraw.Draw(sheet), shape)((130, 130, 230, 230), outline=0, width=4)
        assert not to_mnist(png_bytes(sheet)).framing.get("frame")


def test_a_photographed_form_field_whose_box_passes_for_a_ruling_is_read_as_the_digit(mnist):
    """A box filling most of a camera photo: its four long lines are found as a ruling and taken out, leaving
    pieces of the box; read again with them in, the box is a frame round the digit."""
    from PIL import ImageDraw

    from uqcore.data.families import _paper, _photo_bytes

    i = int(np.flatnonzero(mnist.test.y == 3)[0])
    rng = np.random.default_rng(5)
    paper = _paper(rng, 600, 800)
    digit = upscale(mnist.test.x[i], 240).astype(np.float32) / 255.0
    ink = np.zeros((600, 800), np.float32)
    ink[180:420, 280:520] = digit
    frame = Image.new("L", (800, 600))
    ImageDraw.Draw(frame).rectangle((120, 40, 680, 560), outline=255, width=5)
    ink = np.maximum(ink, np.asarray(frame, np.float32) / 255.0)
    out = to_mnist(_photo_bytes(paper * (1 - 0.8 * ink), rng))
    clean = to_mnist(upscale(mnist.test.x[i]))
    assert out.framing.get("frame") and "rules" not in out.framing
    assert np.corrcoef(out.x, clean.x)[0, 1] > 0.8


# ----------------------------------------------------------------------------- a sheet that does not fill the photo


def test_off_the_sheet_and_the_sheet_on_a_table_known_answers():
    from uqcore.data.preprocess import _light_background, off_the_sheet

    work = np.full((100, 120), 0.1, np.float32)  # white on black: paper 0.1 ...
    work[:, :30] = 0.7  # ... a table along the left side (bright once inverted) ...
    work[40:70, 60:75] = 0.9  # ... and a stroke on the sheet
    off = off_the_sheet(work)
    assert off[:, :30].all() and not off[40:70, 60:75].any() and not off[:, 40:].any()  # widened by 2 px only
    touching = work.copy()
    touching[:, :30] = 0.1
    touching[80:100, 60:70] = 0.9  # a stroke that meets the bottom over its width (10 of 120 columns)
    assert off_the_sheet(touching) is None
    covered = np.full((100, 120), 0.7, np.float32)
    covered[10:30, 10:30] = 0.1
    assert off_the_sheet(covered) is None  # over 60% of the picture: no sheet to speak of

    photo = np.full((100, 120), 0.2, np.float32)  # dark ink on light paper, before inversion: a dark table on the
    photo[15:85, 20:] = 0.8  # left, top and bottom (most of the border); the sheet (most of the picture) meets the right
    photo[40:70, 60:75] = 0.1
    assert _light_background(photo) and not _light_background(photo, sheet_on_table=False)
    canvas = np.zeros((100, 120), np.float32)  # white on black, a big 0 drawn thick: no table, not inverted
    canvas[10:90, 30:90] = 1.0
    canvas[25:75, 45:75] = 0.0
    assert not _light_background(canvas)
    whole = np.full((100, 120), 0.2, np.float32)  # a sheet lying whole on the table (no edge of it on the border)
    whole[15:85, 20:100] = 0.8
    whole[40:60, 55:62] = 0.1
    whole += np.random.default_rng(0).normal(0, 0.02, whole.shape).astype(np.float32)  # a photo's grain
    assert whole.mean() < 0.5 and _light_background(whole) and not _light_background(whole, sheet_on_table=False)


def test_a_digit_on_a_sheet_that_leaves_the_table_in_the_photo_is_read(mnist):
    from uqcore.data.families import _paper, _photo_bytes

    i = int(np.flatnonzero(mnist.test.y == 5)[0])
    rng = np.random.default_rng(8)
    paper = _paper(rng, 600, 800)
    paper[:, :220] *= 0.3  # the table along the left (up to ~28% of the photo), a straight sheet edge
    paper[:130, :] *= 0.3  # and along the top
    digit = upscale(mnist.test.x[i], 200).astype(np.float32) / 255.0
    paper[300:500, 420:620] *= 1 - 0.8 * digit
    out = to_mnist(_photo_bytes(paper, rng))
    clean = to_mnist(upscale(mnist.test.x[i]))
    assert out.inverted and out.framing.get("off_sheet")
    assert any("dark surface round the sheet" in n for n in out.notes)
    assert np.corrcoef(out.x, clean.x)[0, 1] > 0.8


# ----------------------------------------------------------------------------- cut-outs: tight crops, other styles


def test_noise_sigma_known_answers():
    """Gaussian grain of sigma 0.02 measures 0.02 (within 5%), with or without a smooth ramp and a bold stroke."""
    from uqcore.data.preprocess import noise_sigma

    rng = np.random.default_rng(1)
    grain = rng.normal(0, 0.02, (200, 200))
    ramp = np.linspace(0, 0.5, 200)[None, :] * np.ones((200, 1))
    stroke = np.zeros((200, 200))
    stroke[50:150, 90:110] = 0.8
    for img in (grain, grain + ramp, grain + ramp + stroke):
        assert noise_sigma(img) == pytest.approx(0.02, rel=0.05)
    assert noise_sigma(np.zeros((1, 1))) == 0.0


def test_with_margin_continues_the_paper_and_leaves_the_picture_as_it_was():
    """Known answers: a flat sheet with one dark square gets a flat margin at the paper's level (within a sigma of its
    grain: the darkest of three classes sits a little low) with that grain;
    the picture itself is untouched; the same picture gives the same margin; a uniform picture is left alone."""
    from uqcore.data.preprocess import CROP_MARGIN, with_margin

    rng = np.random.default_rng(0)
    gray = (0.1 + rng.normal(0, 0.01, (40, 60))).astype(np.float32)  # white on black: the paper is dark
    gray[10:30, 20:40] += 0.8  # the ink has the grain too
    out, m = with_margin(gray)
    assert m == int(np.ceil(CROP_MARGIN * 60)) and out.shape == (40 + 2 * m, 60 + 2 * m)
    assert np.array_equal(out[m:m + 40, m:m + 60], gray)
    ring = np.ones(out.shape, bool)
    ring[m:m + 40, m:m + 60] = False
    assert abs(np.median(out[ring]) - 0.1) < 0.01 and 0.008 < out[ring].std() < 0.012
    assert np.array_equal(with_margin(gray)[0], out)
    flat = np.full((40, 60), 0.5, np.float32)
    same, m = with_margin(flat)
    assert m == 0 and np.array_equal(same, flat)


def _styled_files(style: str, n: int, seed: int):
    """``n`` pictures of ``style`` -> (files, labels, the styled ink framed directly as arrays (n, 784))."""
    from uqcore.data import styles

    rng = np.random.default_rng(seed)
    x, y = styles._sources(style, n, rng)
    inks = [styles.styled(d, style, rng) for d in x]
    files = [styles.file_of(ink, rng, ("PNG", "JPEG")[i % 2]) for i, ink in enumerate(inks)]
    return files, y, np.stack([frame_like_mnist(ink).ravel() for ink in inks])


@pytest.mark.parametrize("style", ["tight2", "tight3", "tight4", "thick", "postal", "sklearn"])
def test_a_cut_out_digit_touching_the_edges_is_read_not_blank(style, tiny_model):
    """A digit cut to its ink (touching 2, 3 or 4 edges), bold, or low-resolution and blurred (a postal code's)
    is a digit: never 'no digit found', not taken for a table or a ruling, given its margin back, and read as well
    as the same ink framed directly as an array (within 5 points on 40 pictures with the tiny model)."""
    files, y, direct = _styled_files(style, 40, 5)
    pre = [to_mnist(f) for f in files]
    assert not any(p.is_empty for p in pre)
    assert not any(p.framing.get("rules") or p.framing.get("off_sheet") for p in pre)
    assert all(p.framing.get("margin") for p in pre)
    x = np.stack([p.x for p in pre])

    def acc(v):
        return float((predict_logits(tiny_model, torch.as_tensor(v)).argmax(-1).numpy() == y).mean())

    assert acc(x) >= acc(direct) - 0.05


def test_a_bold_digit_cut_tight_stays_whole(mnist):
    """A bold 0 cut so that it touches all four edges comes out whole (one mark, as its ink framed directly), not
    as broken arcs and dots."""
    from scipy import ndimage

    from uqcore.data import styles

    i = int(np.flatnonzero(mnist.test.y == 0)[0])
    ink = styles.styled(mnist.test.x[i].reshape(28, 28), "thick", np.random.default_rng(0))
    ink = styles._crop(ink, 4, np.random.default_rng(0))
    p = to_mnist(styles.file_of(ink, np.random.default_rng(0), "PNG"))
    assert not p.is_empty
    assert ndimage.label(p.preview > 0.3)[1] == 1
    assert np.corrcoef(p.x, frame_like_mnist(ink).ravel())[0, 1] > 0.9
