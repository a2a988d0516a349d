"""Logic of the analyst pages (Embedding map, Errors): list descriptions, set names in plain words,
thumbnails as data URLs, and the parsing of Plotly selection events."""
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
