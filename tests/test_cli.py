"""The CLI's --quick path end to end, in a temporary artifact folder."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args, artifacts):
    env = {**os.environ, "UQCORE_ARTIFACTS": str(artifacts), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "uqcore", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def quick_artifacts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("artifacts")
    first = run_cli("train", "--quick", artifacts=folder)
    assert first.returncode == 0, first.stderr
    return folder, first


def test_train_quick_then_cache_hit(quick_artifacts):
    folder, first = quick_artifacts
    assert f"artifacts: {folder}" in first.stdout
    assert "test accuracy" in first.stdout
    assert any(p.suffix == ".pt" for p in folder.iterdir())
    second = run_cli("train", "--quick", artifacts=folder)
    assert second.returncode == 0, second.stderr
    assert "loaded from cache" in second.stderr


def test_truncated_artifact_is_rebuilt(quick_artifacts):
    folder, _ = quick_artifacts
    pt = next(p for p in folder.iterdir() if p.suffix == ".pt")
    pt.write_bytes(pt.read_bytes()[:100])
    rerun = run_cli("train", "--quick", artifacts=folder)
    assert rerun.returncode == 0, rerun.stderr
    assert "corrupt" in rerun.stderr
    ok = run_cli("train", "--quick", artifacts=folder)
    assert "corrupt" not in ok.stderr


def test_unknown_command_exits_with_usage(tmp_path):
    r = run_cli("fly", artifacts=tmp_path)
    assert r.returncode == 2 and "invalid choice" in r.stderr
