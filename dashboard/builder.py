"""The first start's build, in the background: one per server process and artifact folder, however many
tabs are open. Plain Python (no streamlit): ``resources`` shows its progress and reruns pages when it is done.

Every stage is saved atomically when it finishes, so a server stopped mid-build leaves a cache that the next
start completes (only the unfinished stages run again). At exit (``stop_runners``, via atexit) a runner stops at
its next progress report and the process waits for it, instead of tearing torch down under a running thread.
"""
from __future__ import annotations

import atexit
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

_LOCK = threading.Lock()
_RUNNERS: dict[str, "BackgroundBuild"] = {}
_EXITING = threading.Event()
EXIT_WAIT = 30.0  # seconds the process waits at exit for its runners to stop at their next progress report


class Stopped(Exception):
    """The process is exiting: a runner stops at its next progress report (its finished stages stay saved)."""


def stop_runners(timeout: float = EXIT_WAIT) -> None:
    """At exit: every runner stops at its next progress report, and the process waits for them (at most
    ``timeout`` s). A daemon thread still inside torch when the interpreter tears down aborts the process
    ("terminate called without an active exception", exit code 134)."""
    _EXITING.set()
    with _LOCK:
        threads = [r._thread for r in _RUNNERS.values() if r._thread is not None]
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))


atexit.register(stop_runners)


@dataclass
class StageStatus:
    done: int = 0
    total: int = 1
    message: str = ""


@dataclass
class BackgroundBuild:
    """``uqcore.build.build`` on a daemon thread; ``stages`` holds each stage's latest progress."""

    config: object
    root: Path
    name: str = "build"
    stages: dict[str, StageStatus] = field(default_factory=dict)
    finished: bool = False
    error: str | None = None
    started_at: float = 0.0
    finished_at: float = 0.0
    _thread: threading.Thread | None = None

    @classmethod
    def for_store(cls, config, store, *, build_fn=None, name: str = "build") -> "BackgroundBuild":
        """The one runner of this artifact folder and ``name`` in this process, started on first use (``build_fn``:
        what it runs, called as ``build_fn(config, store=, progress=)``; ``uqcore.build.build`` by default)."""
        key = f"{Path(store.root).resolve()}|{name}"
        with _LOCK:
            runner = _RUNNERS.get(key)
            if runner is None or (runner.finished and runner.error):  # a failed build may be tried again
                runner = _RUNNERS[key] = cls(config, Path(store.root), name=name)
                runner._start(store, build_fn)
            return runner

    def _start(self, store, build_fn) -> None:
        if build_fn is None:
            from uqcore.build import build as build_fn
        self.started_at = time.perf_counter()

        def run() -> None:
            try:
                build_fn(self.config, store=store, progress=self._progress)
            except Stopped:
                self.error = "stopped: the server was exiting"
            except Exception as e:  # noqa: BLE001 - shown to the user on every page instead of a traceback
                from uqcore.store import StoreError

                self.error = str(e) if isinstance(e, StoreError) else f"{type(e).__name__}: {e}"
            finally:
                self.finished_at = time.perf_counter()
                self.finished = True

        self._thread = threading.Thread(target=run, name=f"uqcore-{self.name}", daemon=True)
        self._thread.start()

    def _progress(self, stage: str, done: int, total: int, message: str) -> None:
        if _EXITING.is_set():
            raise Stopped(stage)
        self.stages[stage] = StageStatus(done, max(total, 1), message)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the build ends (tests, the CLI); True when it finished."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.finished

    @property
    def seconds(self) -> float:
        return (self.finished_at if self.finished else time.perf_counter()) - self.started_at


def forget(store, name: str = "build") -> None:
    """Drop a runner of an artifact folder (tests)."""
    with _LOCK:
        _RUNNERS.pop(f"{Path(store.root).resolve()}|{name}", None)


def runner_of(root, name: str = "build") -> BackgroundBuild | None:
    """The runner of an artifact folder and name in this process, if one was started."""
    with _LOCK:
        return _RUNNERS.get(f"{Path(root).resolve()}|{name}")
