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
STALE_TMP_SECONDS = 600  # a temporary file this old belongs to no running write: it is removed
META_FIELDS = {"key": str, "format": int, "payload": str, "sha256": str, "bytes": int}  # checked on every load
MIN_FREE_BYTES = 200 << 20  # a stage needs at most ~100 MB; refuse to start one below this


class StoreError(RuntimeError):
    """The artifacts folder cannot be used (read-only, full, no permission): the message says what to do."""


def environment_message(err: OSError, root: Path) -> str:
    """One plain sentence for an OSError met while writing artifacts."""
    import errno

    if err.errno == errno.ENOSPC:
        return (f"the disk holding {root} is full; free some space (a full build needs about 400 MB) or point "
                "UQCORE_ARTIFACTS (or --artifacts) at another folder, then run again.")
    if err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return (f"cannot write to {root} ({os.strerror(err.errno).lower()}); point UQCORE_ARTIFACTS (or --artifacts) "
                "at a folder you can write to, then run again.")
    return f"cannot write the artifacts in {root}: {err.strerror or err}. Nothing half-written was kept."


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
        self.remove_stale_temporaries()

    def remove_stale_temporaries(self, older_than: float = STALE_TMP_SECONDS) -> int:
        """Delete ``.<name>.<random>.tmp`` files left by a write that was killed; returns how many went."""
        n, now = 0, time.time()
        try:
            leftovers = list(self.root.glob(".*.tmp"))
        except OSError:
            return 0
        for p in leftovers:
            try:
                if now - p.stat().st_mtime > older_than:
                    p.unlink()
                    n += 1
            except OSError:
                continue
        if n:
            self.log(f"removed {n} temporary file(s) left by an interrupted write in {self.root}.")
        return n

    def check_writable(self, need: int = MIN_FREE_BYTES) -> None:
        """Raise ``StoreError`` (a plain sentence) unless the folder can be created, written and has ``need``
        bytes free: called before a stage is built, so a doomed build does not start."""
        import shutil

        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(dir=self.root, prefix=".probe.", suffix=".tmp")
            os.close(fd)
            os.unlink(probe)
        except OSError as e:
            raise StoreError(environment_message(e, self.root)) from e
        free = shutil.disk_usage(self.root).free
        if free < need:
            import errno

            raise StoreError(environment_message(OSError(errno.ENOSPC, "No space left"), self.root))

    def key(self, name: str, config: Any) -> str:
        return f"{name}-{config_hash(name, config)}"

    def _paths(self, key: str, suffix: str) -> tuple[Path, Path]:
        return self.root / f"{key}{suffix}", self.root / f"{key}.json"

    def _write_temp(self, target: Path, write: Callable[[Path], None]) -> Path:
        """``write`` into a fsynced temporary file beside ``target``; on failure nothing is left behind and
        environment faults (read-only, full disk, permission) become ``StoreError``."""
        tmp_path = None
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.root, prefix=f".{target.name}.", suffix=".tmp")
            os.close(fd)
            tmp_path = Path(tmp)
            write(tmp_path)
            with open(tmp_path, "rb+") as f:
                os.fsync(f.fileno())
            return tmp_path
        except BaseException as e:
            if tmp_path is not None:
                try:
                    tmp_path.unlink(missing_ok=True)
                except OSError:
                    pass
            if isinstance(e, OSError):
                raise StoreError(environment_message(e, self.root)) from e
            if isinstance(e, RuntimeError) and ("unexpected pos" in str(e) or "No space left" in str(e)):
                import errno  # torch.save reports a full disk as "unexpected pos" from its zip writer

                raise StoreError(environment_message(OSError(errno.ENOSPC, "No space left"), self.root)) from e
            raise

    def _replace(self, tmp: Path, target: Path) -> None:
        try:
            os.replace(tmp, target)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise StoreError(environment_message(e, self.root)) from e

    def _atomic_write(self, target: Path, write: Callable[[Path], None]) -> None:
        """Write through a temporary file renamed into place (atomic on POSIX)."""
        self._replace(self._write_temp(target, write), target)

    def _save(self, key: str, suffix: str, write: Callable[[Path], None], meta: dict | None) -> Path:
        """The payload first (to a temporary file: if that fails, the previous artifact stays whole), then the
        old metadata goes (it must not vouch for the new payload), the payload is renamed into place and the
        new metadata, with the payload's checksum, is written last."""
        payload, meta_path = self._paths(key, suffix)
        tmp = self._write_temp(payload, write)
        try:
            meta_path.unlink(missing_ok=True)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise StoreError(environment_message(e, self.root)) from e
        self._replace(tmp, payload)
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

    def _check(self, key: str, suffix: str, *, quiet: bool = False) -> tuple[Path, dict] | None:
        say = (lambda m: None) if quiet else self.log
        payload, meta_path = self._paths(key, suffix)
        if not meta_path.exists():
            if payload.exists():
                say(f"{payload.name} has no metadata (an interrupted write?); rebuilding it.")
            return None
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            say(f"{meta_path.name} is unreadable; rebuilding {key}.")
            return None
        bad = [f for f, t in META_FIELDS.items() if not isinstance(meta, dict) or not isinstance(meta.get(f), t)]
        if bad:
            say(f"{meta_path.name} is not valid metadata (missing or wrong: {', '.join(bad)}); rebuilding {key}.")
            return None
        if meta["key"] != key or meta["payload"] != payload.name:
            say(f"{meta_path.name} describes another artifact ({meta['key']}); rebuilding {key}.")
            return None
        if meta.get("format") != FORMAT_VERSION:
            say(f"{key} was written by format {meta.get('format')}, this is {FORMAT_VERSION}; rebuilding it.")
            return None
        if not payload.exists():
            say(f"{payload.name} is missing; rebuilding it.")
            return None
        if _sha256(payload) != meta.get("sha256"):
            say(f"{payload.name} is corrupt (checksum mismatch, e.g. truncated); rebuilding it.")
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

    # records (a computed result as JSON: an evaluation) -----------------------------------
    def save_record(self, key: str, record: dict, meta: dict | None = None) -> Path:
        text = json.dumps(record, default=_json_default)
        return self._save(key, ".record.json", lambda p: p.write_text(text), meta)

    def load_record(self, key: str) -> tuple[dict, dict] | None:
        found = self._check(key, ".record.json")
        if found is None:
            return None
        payload, meta = found
        try:
            record = json.loads(payload.read_text())
        except (OSError, ValueError) as e:
            self.log(f"{payload.name} cannot be loaded ({type(e).__name__}); rebuilding it.")
            return None
        return (record, meta) if isinstance(record, dict) else None

    def verified(self, key: str) -> dict | None:
        """The metadata of ``key`` when its payload is there and matches its checksum (all that a load checks, without
        loading it), else None, silently: the load that follows says why."""
        meta = self.metadata(key)
        found = None if meta is None else self._check(key, Path(meta["payload"]).suffix, quiet=True)
        return None if found is None else found[1]

    def metadata(self, key: str) -> dict | None:
        """The metadata of ``key`` when it is valid (a dict with the fields every artifact has), else None."""
        path = self.root / f"{key}.json"
        try:
            meta = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or any(not isinstance(meta.get(f), t) for f, t in META_FIELDS.items()):
            return None
        return meta

    def prune(self, keep: set[str], *, dry_run: bool = False) -> tuple[list[Path], int]:
        """Delete every artifact file whose key is not in ``keep`` (not the README, not a write in progress):
        what earlier configurations left behind. Returns the files (deleted, or that would be with ``dry_run``)
        and their bytes."""
        gone, size = [], 0
        if not self.root.is_dir():
            return gone, size
        for p in sorted(self.root.iterdir()):
            if not p.is_file() or p.name == "README.md" or p.name.startswith(".") or p.name.split(".")[0] in keep:
                continue
            try:
                n = p.stat().st_size
                if not dry_run:
                    p.unlink()
            except OSError:
                continue
            gone.append(p)
            size += n
        return gone, size

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
