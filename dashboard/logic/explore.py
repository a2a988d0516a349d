"""Logic of the analyst pages (Embedding map, Errors): list descriptions, set names in plain words, image
captions and their key, thumbnails as data URLs, and the parsing of Plotly selection events."""
from __future__ import annotations

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
              "photos": "photo crops (not digits)", "rotated": "rotated digits", "corrupted": "damaged digits",
              "sklearn_digits": "other handwriting", "ambiguous": "blends of two digits"}
SET_NAMES = {"test": "test digits", "val": "validation digits", "letters": "printed letters", "noise": "random noise",
             "natural": "photo patches", "blank": "blank images", "objects": "object drawings", "doodles": "doodles",
             "photos": "photo crops", "rotated": "rotated digits", "corrupted": "damaged digits",
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


def selection_ids(points, trace_ids) -> list[str]:
    """Map ids of the points in a plotly selection event (``event["selection"]["points"]``).

    Each map point carries ``[id, ...]`` as customdata; when an event lacks it, the point's
    (``curve_number``, ``point_index``) is looked up in ``trace_ids`` (per trace, its ids in order, None for
    legend-only traces). Unknown points are skipped; the order is kept, duplicates dropped."""
    chosen = []
    for p in points or []:
        data = p.get("customdata")
        if isinstance(data, (list, tuple)) and data and isinstance(data[0], str):
            chosen.append(data[0])
            continue
        k, i = p.get("curve_number"), p.get("point_index")
        if (isinstance(k, int) and isinstance(i, int) and 0 <= k < len(trace_ids) and trace_ids[k] is not None
                and 0 <= i < len(trace_ids[k])):
            chosen.append(trace_ids[k][i])
    return list(dict.fromkeys(chosen))


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
