"""Artifacts on disk: a cache of what the build computes.

Every artifact is a payload file (``<key>.pt`` for tensors, ``<key>.npz`` for arrays) and a
metadata file ``<key>.json`` written *after* the payload. The key is the artifact's name plus a
hash of its config and of ``FORMAT_VERSION``, so a changed config or format is a different key
(stale artifacts are simply never looked up). The metadata holds the payload's SHA-256; a load
checks it, so a truncated or half-written payload is never used. Writes go to a temporary file in
the same folder and are renamed into place (atomic on POSIX). Loads never unpickle arbitrary
objects: ``torch.load(weights_only=True)`` and ``np.load(allow_pickle=False)``.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

FORMAT_VERSION = 1
DEFAULT_ROOT = Path(__file__).resolve().parent.parent / "artifacts"


def default_root() -> Path:
    """``$UQCORE_ARTIFACTS`` if set, else ``artifacts/`` beside the ``uqcore`` package."""
    env = os.environ.get("UQCORE_ARTIFACTS")
    return Path(env) if env else DEFAULT_ROOT


def config_hash(name: str, config: Any) -> str:
    blob = json.dumps({"format": FORMAT_VERSION, "name": name, "config": config}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def library_versions() -> dict[str, str]:
    import sklearn

    return {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
            "scikit-learn": sklearn.__version__}


class Store:
    """A folder of artifacts. ``log`` receives one-line messages (rebuilds, corrupt files)."""

    def __init__(self, root: str | Path | None = None, *, log: Callable[[str], None] | None = None):
        self.root = Path(root) if root is not None else default_root()
        self.log = log or (lambda msg: None)

    def key(self, name: str, config: Any) -> str:
        return f"{name}-{config_hash(name, config)}"

    def _paths(self, key: str, suffix: str) -> tuple[Path, Path]:
        return self.root / f"{key}{suffix}", self.root / f"{key}.json"

    def _atomic_write(self, target: Path, write: Callable[[Path], None]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=f".{target.name}.", suffix=".tmp")
        os.close(fd)
        tmp_path = Path(tmp)
        try:
            write(tmp_path)
            with open(tmp_path, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(tmp_path, target)
        finally:
            tmp_path.unlink(missing_ok=True)

    def _save(self, key: str, suffix: str, write: Callable[[Path], None], meta: dict | None) -> Path:
        payload, meta_path = self._paths(key, suffix)
        meta_path.unlink(missing_ok=True)  # the old metadata must not vouch for the new payload
        self._atomic_write(payload, write)
        record = {
            "key": key,
            "format": FORMAT_VERSION,
            "payload": payload.name,
            "sha256": _sha256(payload),
            "bytes": payload.stat().st_size,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "versions": library_versions(),
            **(meta or {}),
        }
        text = json.dumps(record, indent=2, sort_keys=True, default=_json_default)
        self._atomic_write(meta_path, lambda p: p.write_text(text))
        return payload

    def _check(self, key: str, suffix: str) -> tuple[Path, dict] | None:
        payload, meta_path = self._paths(key, suffix)
        if not meta_path.exists():
            if payload.exists():
                self.log(f"{payload.name} has no metadata (an interrupted write?); rebuilding it.")
            return None
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            self.log(f"{meta_path.name} is unreadable; rebuilding {key}.")
            return None
        if meta.get("format") != FORMAT_VERSION:
            self.log(f"{key} was written by format {meta.get('format')}, this is {FORMAT_VERSION}; rebuilding it.")
            return None
        if not payload.exists():
            self.log(f"{payload.name} is missing; rebuilding it.")
            return None
        if _sha256(payload) != meta.get("sha256"):
            self.log(f"{payload.name} is corrupt (checksum mismatch, e.g. truncated); rebuilding it.")
            return None
        return payload, meta

    # tensors (model weights) -------------------------------------------------------------
    def save_tensors(self, key: str, tensors: dict[str, torch.Tensor], meta: dict | None = None) -> Path:
        clean = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
        return self._save(key, ".pt", lambda p: torch.save(clean, p), meta)

    def load_tensors(self, key: str) -> tuple[dict[str, torch.Tensor], dict] | None:
        found = self._check(key, ".pt")
        if found is None:
            return None
        payload, meta = found
        try:
            return torch.load(payload, map_location="cpu", weights_only=True), meta
        except Exception as e:  # the checksum matched, so this is an incompatible payload
            self.log(f"{payload.name} cannot be loaded ({type(e).__name__}); rebuilding it.")
            return None

    # arrays (predictions, coordinates, statistics) ---------------------------------------
    def save_arrays(self, key: str, arrays: dict[str, np.ndarray], meta: dict | None = None) -> Path:
        def write(p: Path) -> None:
            with open(p, "wb") as f:
                np.savez(f, **{k: np.asarray(v) for k, v in arrays.items()})

        return self._save(key, ".npz", write, meta)

    def load_arrays(self, key: str) -> tuple[dict[str, np.ndarray], dict] | None:
        found = self._check(key, ".npz")
        if found is None:
            return None
        payload, meta = found
        try:
            with np.load(payload, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}, meta
        except Exception as e:
            self.log(f"{payload.name} cannot be loaded ({type(e).__name__}); rebuilding it.")
            return None

    def metadata(self, key: str) -> dict | None:
        path = self.root / f"{key}.json"
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None

    def clear(self) -> int:
        """Delete every artifact file (not the README); return how many files went."""
        n = 0
        if self.root.exists():
            for p in self.root.iterdir():
                if p.is_file() and p.name != "README.md":
                    p.unlink()
                    n += 1
        return n


def _json_default(o: Any):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
