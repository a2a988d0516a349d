"""The first start's background build: one per folder however many tabs ask, errors kept for the pages,
and a build stopped mid-way resumes from its finished stages."""
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from dashboard.builder import BackgroundBuild, forget
from uqcore.devices import DeviceError, resolve_device
from uqcore.store import Store

ROOT = Path(__file__).resolve().parent.parent


def test_two_tabs_start_one_build(tmp_path):
    calls, release = [], threading.Event()

    def fake_build(config, *, store, progress):
        calls.append(store.root)
        progress("mlp", 1, 2, "mlp: epoch 1/2")
        release.wait(5)

    store = Store(tmp_path)
    try:
        first = BackgroundBuild.for_store("config", store, build_fn=fake_build)
        second = BackgroundBuild.for_store("config", Store(tmp_path), build_fn=fake_build)  # another tab
        assert second is first
        time.sleep(0.2)
        assert len(calls) == 1 and first.stages["mlp"].done == 1 and not first.finished
        release.set()
        assert first.wait(5) and first.error is None
    finally:
        forget(store)


def test_a_failed_build_is_reported_and_tried_again(tmp_path):
    def broken(config, *, store, progress):
        raise OSError(28, "No space left on device")

    store = Store(tmp_path)
    try:
        runner = BackgroundBuild.for_store("config", store, build_fn=broken)
        assert runner.wait(5) and "No space left on device" in runner.error
        again = BackgroundBuild.for_store("config", store, build_fn=lambda config, *, store, progress: None)
        assert again is not runner and again.wait(5) and again.error is None
    finally:
        forget(store)


def test_a_build_stopped_mid_way_resumes_from_its_finished_stages(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "uqcore", "--artifacts", str(tmp_path), "--device", "cpu", "train", "--quick"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 240
    while time.time() < deadline and not list(tmp_path.glob("ensemble-*.json")):
        time.sleep(0.2)
    assert list(tmp_path.glob("mlp-*.json")), "the first stages never finished"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    mlp_file = next(tmp_path.glob("mlp-*.pt"))
    before = mlp_file.stat().st_mtime_ns
    # Resume: the build's first stages, as `train` runs them, in this process (the rest of a quick build is
    # covered by the CLI and app tests; running it again here cost ~40 s of the suite).
    from uqcore.build import BuildConfig, ensemble_stage, mlp_stage, stage_keys

    config, store, said = BuildConfig(quick=True).resolved(), Store(tmp_path), []
    keys = stage_keys(store, config)
    progress = lambda stage, done, total, message: said.append(message)  # noqa: E731
    mlp, _ = mlp_stage(store, keys["mlp"], config.mlp, force=False, progress=progress)
    members, _ = ensemble_stage(store, keys["ensemble"], config.ensemble, config.n_members, force=False,
                                progress=progress)
    assert any("MLP loaded from cache" in m for m in said) and any("ensemble loaded from cache" in m for m in said)
    assert len(members) == config.n_members
    assert mlp_file.stat().st_mtime_ns == before, "a finished stage was trained again"


def test_device_choice():
    import torch

    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(DeviceError, match="choose one of"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="no CUDA GPU"):
            resolve_device("cuda")
        from uqcore.cli import main

        assert main(["--device", "cuda", "train", "--quick"]) == 2


def test_at_exit_a_runner_stops_at_its_next_progress_report(tmp_path, monkeypatch):
    """``stop_runners`` (registered with atexit): a running build stops at its next progress report and the call
    returns once its thread has ended, well before the build would have; a daemon thread left inside torch at
    the interpreter's teardown aborts the process (exit code 134)."""
    from dashboard import builder

    monkeypatch.setattr(builder, "_EXITING", threading.Event())  # this process goes on after the test
    reports = []

    def endless_build(config, *, store, progress):
        for epoch in range(10_000):
            progress("mlp", epoch, 10_000, f"epoch {epoch}")
            reports.append(epoch)
            time.sleep(0.01)

    store = Store(tmp_path)
    try:
        runner = BackgroundBuild.for_store("config", store, build_fn=endless_build)
        while len(reports) < 3:
            time.sleep(0.01)
        t0 = time.perf_counter()
        builder.stop_runners(timeout=10)
        assert time.perf_counter() - t0 < 5 and runner.finished and not runner._thread.is_alive()
        assert runner.error == "stopped: the server was exiting" and len(reports) < 10_000
    finally:
        forget(store)
