"""The one predictions store: every method's outputs on every evaluation set, with the images, labels and
per-set metadata. This is the only module that spells the artifact's keys.

    preds.sets                         # ["test", "val", "letters", ...]
    preds.methods                      # ["mlp", "temperature", "ensemble", ...]
    preds.get("test", "ensemble", "probs")          # (n, 10) float32
    preds.get("test", "laplace", "logits")          # logits, or log-probabilities: preds.logits_are("laplace")
    preds.get("test", "ensemble", "embeddings")     # the features of the network the method reads
    preds.x("test"), preds.images("test", rows), preds.y("test"), preds.meta("ambiguous", "mix_weight")

Every method stores the same fields (``FIELDS``). ``logits`` are real logits for the methods that have them
and the log of the predictive probabilities for the others (``Method.logits_are``). ``embeddings`` are stored
once per network (float16): ``mlp``, ``temperature``, ``mc_dropout`` and ``laplace`` share the single network's.
"""
from __future__ import annotations

import json

import numpy as np

FIELDS = ("probs", "logits", "total", "aleatoric", "epistemic", "ood_score")
PER_METHOD = (*FIELDS, "embeddings")


class Predictions:
    """Typed access to the predictions arrays (``Bundle.predictions``); build one with ``add_set`` and
    ``put``, or wrap a loaded artifact with ``Predictions(arrays)``."""

    def __init__(self, arrays: dict[str, np.ndarray] | None = None):
        self.arrays: dict[str, np.ndarray] = dict(arrays or {})
        self.arrays.setdefault("sets", np.array([], dtype=str))
        self.arrays.setdefault("methods", np.array([], dtype=str))
        self.arrays.setdefault("networks", np.array([], dtype=str))

    # ------------------------------------------------------------------ what is stored
    @property
    def sets(self) -> list[str]:
        return [str(s) for s in self.arrays["sets"]]

    @property
    def methods(self) -> list[str]:
        return [str(m) for m in self.arrays["methods"]]

    def network_of(self, method: str) -> str:
        """Whose features ``method``'s embeddings are (itself where nothing else is said)."""
        pairs = dict(str(p).split(":", 1) for p in self.arrays["networks"])
        return pairs.get(method, method)

    def logits_are(self, method: str) -> str:
        """"logits" or "log-probabilities": what ``get(set, method, "logits")`` holds."""
        return str(self.arrays.get(f"logits_are:{method}", "logits"))

    def has(self, set_name: str, method: str | None = None, field: str = "probs") -> bool:
        if method is None:
            return f"{set_name}/y" in self.arrays
        return self._key(set_name, method, field) in self.arrays

    def _key(self, set_name: str, method: str, field: str) -> str:
        if field not in PER_METHOD:
            raise KeyError(f"unknown field {field!r}; stored per method: {', '.join(PER_METHOD)}.")
        if field == "embeddings":
            return f"{set_name}/net:{self.network_of(method)}/embeddings"
        return f"{set_name}/{method}/{field}"

    # ------------------------------------------------------------------ reading
    def get(self, set_name: str, method: str, field: str) -> np.ndarray:
        key = self._key(set_name, method, field)
        if key not in self.arrays:
            if set_name not in self.sets and not self.has(set_name):
                raise KeyError(f"no set {set_name!r}; stored: {', '.join(self.sets) or 'none'}.")
            have = [m for m in self.methods if self._key(set_name, m, field) in self.arrays]
            raise KeyError(f"no {field} of method {method!r} on set {set_name!r}; available: "
                           f"{', '.join(have) or 'none'}.")
        return self.arrays[key]

    def x(self, set_name: str) -> np.ndarray:
        """(n, 784) uint8 images of the set (0..255)."""
        return self.arrays[f"{set_name}/x"]

    def images(self, set_name: str, rows=None) -> np.ndarray:
        """(n, 28, 28) float32 images in [0, 1] (all rows, or ``rows``)."""
        x = self.x(set_name) if rows is None else self.x(set_name)[np.asarray(rows, dtype=np.int64)]
        return x.reshape(-1, 28, 28).astype(np.float32) / 255.0

    def y(self, set_name: str) -> np.ndarray:
        """(n,) labels; -1 for images with no digit (OOD sets)."""
        return self.arrays[f"{set_name}/y"]

    def n(self, set_name: str) -> int:
        return len(self.y(set_name))

    def info(self, set_name: str) -> dict:
        """{"kind", "description", "n"} of a set."""
        return json.loads(str(self.arrays[f"{set_name}/info"]))

    def meta(self, set_name: str, key: str) -> np.ndarray:
        """One per-image metadata column of a set (e.g. ``"angle"`` of ``rotated``)."""
        return self.arrays[f"{set_name}/meta/{key}"]

    # ------------------------------------------------------------------ writing (the build, tests)
    def add_set(self, name: str, x: np.ndarray, y: np.ndarray, *, kind: str = "", description: str = "",
                meta: dict | None = None) -> None:
        """Images (n, 784: uint8, or floats in [0, 1]), labels and metadata of one set."""
        x = np.asarray(x)
        self.arrays[f"{name}/x"] = x if x.dtype == np.uint8 else np.round(x * 255).astype(np.uint8)
        self.arrays[f"{name}/y"] = np.asarray(y)
        self.arrays[f"{name}/info"] = np.array(json.dumps({"kind": kind, "description": description, "n": len(y)}))
        for k, v in (meta or {}).items():
            self.arrays[f"{name}/meta/{k}"] = np.asarray(v)
        if name not in self.sets:
            self.arrays["sets"] = np.array([*self.sets, name])

    def put(self, set_name: str, method: str, field: str, value: np.ndarray) -> None:
        """One field of one method on one set, as given (``put_prediction`` stores float32 / float16)."""
        self.arrays[self._key(set_name, method, field)] = np.asarray(value)
        if method not in self.methods:
            self.arrays["methods"] = np.array([*self.methods, method])

    def put_prediction(self, set_name: str, method, prediction) -> None:
        """Every field of a ``uqcore.methods.Prediction`` of ``method`` (a ``Method``); the embeddings once
        per network."""
        name = method.name
        self.set_network(name, method.network, method.logits_are)
        for field in FIELDS:
            self.put(set_name, name, field, np.asarray(getattr(prediction, field), np.float32))
        if self._key(set_name, name, "embeddings") not in self.arrays:
            self.put(set_name, name, "embeddings", np.asarray(prediction.embeddings, np.float16))

    def set_network(self, method: str, network: str, logits_are: str = "logits") -> None:
        pairs = dict(str(p).split(":", 1) for p in self.arrays["networks"])
        pairs[method] = network
        self.arrays["networks"] = np.array([f"{m}:{n}" for m, n in pairs.items()])
        self.arrays[f"logits_are:{method}"] = np.array(logits_are)
        if method not in self.methods:
            self.arrays["methods"] = np.array([*self.methods, method])
