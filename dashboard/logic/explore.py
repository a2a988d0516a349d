"""Logic of the analyst pages (Embedding map, Errors): list descriptions, set names in plain words, image
captions and their key, thumbnails as data URLs, the map component's payload, and the parsing of selections."""
from __future__ import annotations

import base64
import hashlib

import numpy as np

LIST_HELP = {  # the lists of uqcore.analysis.tables.error_list, in plain words
    "misclassified": "Every digit the method reads wrongly, most confident mistakes first.",
    "confidently wrong": "Wrong answers given with at least the chosen confidence: the dangerous mistakes.",
    "most uncertain": "All digits, right or wrong, by total uncertainty, highest first.",
    "most epistemic": "All digits by epistemic uncertainty (the model's lack of experience), highest first.",
}
SET_LABELS = {"test": "MNIST test digits", "letters": "letters (not digits)", "noise": "noise (not digits)",
              "natural": "photo patches (not digits)", "blank": "blank images (not digits)",
              "objects": "drawings of objects (not digits)", "doodles": "doodles (not digits)",
              "photos": "photo crops (not digits)", "sketches": "sketches (not digits)",
              "glyphs": "signs and other scripts (not digits)", "scrawls": "signatures and words (not digits)",
              "diagrams": "hand-drawn diagrams (not digits)", "rotated": "rotated digits",
              "corrupted": "damaged digits",
              "sklearn_digits": "other handwriting", "ambiguous": "blends of two digits"}
SET_NAMES = {"test": "test digits", "val": "validation digits", "letters": "printed letters", "noise": "random noise",
             "natural": "photo patches", "blank": "blank images", "objects": "object drawings", "doodles": "doodles",
             "photos": "photo crops", "sketches": "sketches", "glyphs": "signs and other scripts",
             "scrawls": "signatures and words", "diagrams": "diagrams",
             "rotated": "rotated digits", "corrupted": "damaged digits",
             "sklearn_digits": "other handwriting", "ambiguous": "blended digits"}  # short plain names, for counts
TAE_KEY = ("T = total, A = aleatoric (from the image), E = epistemic (from the model) uncertainty, in nats "
           "(T = A + E).")
CELL_COLUMNS, CELL_IMAGES = 5, 20  # the confusion cell's image grid: 4 rows of 5 beside the matrix
CELL_KEY = "Under each image: how sure the method was, and its epistemic uncertainty (E, nats)."


def set_name(name: str) -> str:
    """A set's short plain name ("letters" -> "printed letters"); unknown sets keep their own name."""
    return SET_NAMES.get(name, SET_LABELS.get(name, name.replace("_", " ")))


def from_line(per_set: dict) -> str:
    """Where a selection's images come from, in plain names: "From: test digits 709, printed letters 149."."""
    return "From: " + ", ".join(f"{set_name(s)} {n:,}" for s, n in per_set.items()) + "."


def cell_caption(confidence: float, epistemic: float) -> str:
    """A confusion-cell image's caption: "79% · E 0.21". Short enough for a narrow column; it breaks only at
    the spaces around the dot (a non-breaking space keeps E with its number), never inside a word."""
    return f"{confidence:.0%} · E\u00a0{epistemic:.2f}"


def no_epistemic_note(title: str, *, file: bool = False) -> str:
    """Why an epistemic list or filter is flat for ``title``: one set of weights, or a file without member
    probabilities (``file``)."""
    if file:
        return (f"{title} has no `member_probs`, so it has no epistemic part: every row's epistemic uncertainty is 0 "
                "and a list by it has no order. Save the members' or MC samples' probabilities in the file to see it.")
    return (f"{title} has a single set of weights, so it has no epistemic part: every digit's epistemic uncertainty "
            "is 0 and a list by it has no order. Pick a deep ensemble, MC dropout, Laplace or evidential model to "
            "see it.")


def data_urls(images) -> list[str]:
    """PNG data URLs of (n, 28, 28) images in [0, 1], for thumbnails in tables."""
    import base64
    import io

    from PIL import Image

    out = []
    for img in np.asarray(images):
        buf = io.BytesIO()
        Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8).reshape(28, 28)).save(buf, format="PNG")
        out.append("data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii"))
    return out


# The map component's colourings (uqcore.plots.COLOUR_BY) and the words on its buttons.
COLOURING_LABELS = {"epistemic": "Epistemic", "aleatoric": "Aleatoric", "total": "Total", "true class": "True digit",
                    "correctness": "Right or wrong", "data set": "Data set"}
COLOURING_HELP = {
    "epistemic": "Epistemic uncertainty: the model lacks experience with images like this one.",
    "aleatoric": "Aleatoric uncertainty: the image itself is unclear (it could be either digit).",
    "total": "Total uncertainty: epistemic plus aleatoric.",
    "true class": "The digit the image really shows (grey: not a digit at all).",
    "correctness": "Whether the method read the image correctly (grey: not a digit, so no right answer).",
    "data set": "Which data set the image comes from."}
KINDS = ("normal", "misclassified", "flagged as unusual")  # the marker shapes' codes 0, 1, 2 in the payload
MAX_SELECTION = 200_000  # ids taken from one selection message (the map holds ~20k points)


def _b64(values, dtype: str) -> str:
    return base64.b64encode(np.ascontiguousarray(values, dtype=dtype).tobytes()).decode("ascii")


def map_payload(frame, *, star=None) -> dict:
    """What the map component (``dashboard/map_canvas.js``) draws, for a ``uqcore.analysis.tables.map_frame``:
    every point's position, set, row, reading and shape, every colouring at once (so switching colours needs no
    server), the digit labels and the ★. Arrays travel as base64 little-endian typed arrays ("<f4" floats,
    "|u1"/"|i1"/"<i4" integers): ~35 bytes a point instead of ~90 as JSON numbers. ``token`` changes exactly
    when something drawn changes; the component redraws from scratch only then."""
    from uqcore.analysis.tables import UNCERTAINTIES, class_centres, marker_kind
    from uqcore.plots import COLOUR_BY, colour_groups

    n = len(frame)
    sets = list(dict.fromkeys(frame["set"])) if n else []
    set_code = np.array([sets.index(v) for v in frame["set"]], dtype=np.uint8) if n else np.zeros(0, np.uint8)
    kinds = marker_kind(frame) if n else np.zeros(0, dtype=object)
    arrays = {
        "x": _b64(frame["x_map"], "<f4") if n else "", "y": _b64(frame["y_map"], "<f4") if n else "",
        "set": _b64(set_code, "|u1"), "row": _b64(frame["row"] if n else [], "<i4"),
        "kind": _b64([KINDS.index(k) for k in kinds], "|u1"),
        "true": _b64(frame["true"] if n else [], "|i1"), "pred": _b64(frame["pred"] if n else [], "|u1"),
        "confidence": _b64(frame["confidence"] if n else [], "<f4"),
    }
    continuous, groups = {}, {}
    for colouring in COLOUR_BY:
        if colouring in UNCERTAINTIES:
            v = frame[colouring].to_numpy(np.float64) if n else np.zeros(0)
            continuous[colouring] = {"values": _b64(v, "<f4"),
                                     "cmax": max(float(np.quantile(v, 0.99)) if n else 0.0, 1e-6)}
        else:
            parts = colour_groups(frame, colouring) if n else []
            code = np.zeros(n, np.uint8)
            for g, (_, mask, _) in enumerate(parts):
                code[mask] = g
            groups[colouring] = {"names": [name for name, _, _ in parts], "colours": [c for _, _, c in parts],
                                 "of": _b64(code, "|u1")}
    centres = class_centres(frame) if n else None
    payload = {"n": n, "sets": sets, "set_names": [set_name(s) for s in sets], **arrays,
               "continuous": continuous, "groups": groups,
               "colourings": [[c, COLOURING_LABELS[c], COLOURING_HELP[c]] for c in COLOUR_BY],
               "centres": [[int(c.digit), float(c.x), float(c.y)] for c in centres.itertuples()] if n else [],
               "star": None if star is None else [float(star[0]), float(star[1])],
               "has_epistemic": bool(n and frame["epistemic"].max() > 0)}
    digest = hashlib.sha1(repr(sorted((k, str(v)) for k, v in payload.items())).encode()).hexdigest()[:16]
    return {**payload, "token": digest}


def selection_ids(value, max_ids: int = MAX_SELECTION) -> list[str]:
    """The point ids ("<set>:<row>") in a selection sent by the map component (``{"ids": [...], "seq": n}``; the
    sequence number makes the same selection sent twice a change): strings only, order kept, duplicates dropped,
    at most ``max_ids``. Anything else (None, a number, a dict without ids) is no selection."""
    if hasattr(value, "get"):
        value = value.get("ids")
    if not isinstance(value, (list, tuple)):
        return []
    return list(dict.fromkeys(v for v in value[:max_ids] if isinstance(v, str)))


def clicked_cell(points, n_classes: int = 10) -> tuple[int, int] | None:
    """(true, predicted) of the first confusion-matrix cell in a Plotly selection (x = predicted, y = true)."""
    for p in points or []:
        try:
            cell = (int(p["y"]), int(p["x"]))
        except (KeyError, TypeError, ValueError):
            continue
        if all(0 <= v < n_classes for v in cell):
            return cell
    return None


def as_cell(value, n_classes: int = 10) -> tuple[int, int] | None:
    """A (true, predicted) pair inside the matrix, or None."""
    try:
        cell = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        return None
    return cell if len(cell) == 2 and all(0 <= v < n_classes for v in cell) else None
