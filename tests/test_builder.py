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
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "MLP loaded from cache" in done.stderr and "ensemble loaded from cache" in done.stderr
    assert mlp_file.stat().st_mtime_ns == before, "a finished stage was trained again"
    assert not list(tmp_path.glob(".*.tmp")), "no partial file is left behind"


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
