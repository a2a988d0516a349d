import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from uqcore.store import FORMAT_VERSION, Store


@pytest.fixture
def store(tmp_path):
    messages = []
    s = Store(tmp_path / "art", log=messages.append)
    s.messages = messages
    return s


def test_tensor_round_trip_with_metadata(store):
    key = store.key("mlp", {"epochs": 3})
    state = {"w": torch.randn(3, 4), "b": torch.arange(4)}
    store.save_tensors(key, state, {"test_accuracy": 0.9})
    loaded, meta = store.load_tensors(key)
    torch.testing.assert_close(loaded["w"], state["w"])
    assert meta["test_accuracy"] == 0.9 and meta["format"] == FORMAT_VERSION
    assert {"sha256", "versions", "created"} <= set(meta)


def test_array_round_trip(store):
    key = store.key("preds", {"a": 1})
    store.save_arrays(key, {"probs": np.eye(3, dtype=np.float32), "y": np.arange(3)})
    arrays, _ = store.load_arrays(key)
    np.testing.assert_array_equal(arrays["probs"], np.eye(3))


def test_keys_depend_on_config_and_name(store):
    assert store.key("mlp", {"e": 1}) != store.key("mlp", {"e": 2})
    assert store.key("mlp", {"e": 1}) != store.key("ens", {"e": 1})
    assert store.key("mlp", {"e": 1}) == store.key("mlp", {"e": 1})


def test_missing_is_none(store):
    assert store.load_tensors("nothing-here") is None
    assert store.load_arrays("nothing-here") is None


def test_truncated_payload_is_detected(store):
    key = store.key("mlp", {})
    path = store.save_tensors(key, {"w": torch.randn(100, 100)})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert store.load_tensors(key) is None
    assert any("corrupt" in m for m in store.messages)


def test_flipped_byte_in_arrays_is_detected(store):
    key = store.key("a", {})
    path = store.save_arrays(key, {"x": np.zeros(1000)})
    data = bytearray(path.read_bytes())
    data[-20] ^= 0xFF
    path.write_bytes(bytes(data))
    assert store.load_arrays(key) is None


def test_payload_without_metadata_is_not_loaded(store):
    """The metadata is written last: a payload alone is an interrupted write."""
    key = store.key("mlp", {})
    store.save_tensors(key, {"w": torch.ones(2)})
    (store.root / f"{key}.json").unlink()
    assert store.load_tensors(key) is None
    assert any("no metadata" in m for m in store.messages)


def test_other_format_version_is_stale(store):
    key = store.key("mlp", {})
    store.save_tensors(key, {"w": torch.ones(2)})
    meta_path = store.root / f"{key}.json"
    meta = json.loads(meta_path.read_text())
    meta["format"] = FORMAT_VERSION - 1
    meta_path.write_text(json.dumps(meta))
    assert store.load_tensors(key) is None


def test_pickled_objects_are_refused(store):
    """weights_only=True: a payload holding an arbitrary object is not unpickled."""
    key = store.key("evil", {})
    store.save_tensors(key, {"w": torch.ones(1)})
    path = store.root / f"{key}.pt"
    torch.save({"w": object()}, path)  # swap the payload, then re-vouch for it
    meta_path = store.root / f"{key}.json"
    import hashlib

    meta = json.loads(meta_path.read_text())
    meta["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    meta_path.write_text(json.dumps(meta))
    assert store.load_tensors(key) is None
    assert any("cannot be loaded" in m for m in store.messages)


def test_write_killed_midway_leaves_nothing_loadable(tmp_path):
    """A process killed while writing a payload leaves at most a temporary file, never a loadable artifact."""
    root = tmp_path / "art"
    script = textwrap.dedent(f"""
        import os, torch
        from uqcore.store import Store
        s = Store({str(root)!r})
        real_save = torch.save
        def dying_save(obj, f):
            with open(f, "wb") as fh:
                fh.write(b"partial")
                fh.flush()
            os._exit(9)  # killed mid-write
        torch.save = dying_save
        s.save_tensors(s.key("mlp", {{}}), {{"w": torch.ones(3)}})
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=os.getcwd())
    assert proc.returncode == 9
    s = Store(root)
    assert s.load_tensors(s.key("mlp", {})) is None
    assert not (root / f"{s.key('mlp', {})}.pt").exists()


def test_clear_keeps_readme(store):
    store.save_arrays("k", {"x": np.zeros(2)})
    (store.root / "README.md").write_text("keep")
    assert store.clear() == 2
    assert (store.root / "README.md").exists()


def test_prune_removes_only_what_is_not_kept(store):
    store.save_arrays("old-1", {"x": np.zeros(1000)})
    store.save_record("old-2", {"a": 1})
    store.save_arrays("new-1", {"x": np.zeros(2)})
    (store.root / "README.md").write_text("keep")
    (store.root / ".new-1.abc.tmp").write_text("a write in progress")
    gone, size = store.prune({"new-1"}, dry_run=True)
    assert sorted(p.name for p in gone) == ["old-1.json", "old-1.npz", "old-2.json", "old-2.record.json"]
    assert size == sum(p.stat().st_size for p in gone) and all(p.exists() for p in gone)  # a dry run removes nothing
    assert store.prune({"new-1"}) == (gone, size)
    assert not any(p.exists() for p in gone)
    assert sorted(p.name for p in store.root.iterdir()) == [".new-1.abc.tmp", "README.md", "new-1.json", "new-1.npz"]
    assert store.load_arrays("new-1") is not None
    assert store.prune({"new-1"}) == ([], 0)


# ----------------------------------------------------------------------------- trust nothing unverified
@pytest.mark.parametrize("bad", [[1, 2, 3], {"key": "x"}, "just text", {"sha256": 5}])
def test_invalid_metadata_means_rebuild(store, bad):
    key = store.key("arr", {"n": 1})
    store.save_arrays(key, {"a": np.arange(3)})
    (store.root / f"{key}.json").write_text(json.dumps(bad))
    assert store.load_arrays(key) is None and store.metadata(key) is None
    assert any("not valid metadata" in m for m in store.messages)


def test_metadata_of_another_artifact_is_not_trusted(store):
    a, b = store.key("arr", {"n": 1}), store.key("arr", {"n": 2})
    store.save_arrays(a, {"a": np.arange(3)})
    store.save_arrays(b, {"a": np.arange(4)})
    (store.root / f"{a}.json").write_text((store.root / f"{b}.json").read_text())
    assert store.load_arrays(a) is None and any("describes another artifact" in m for m in store.messages)


def test_stale_temporary_files_are_removed(tmp_path):
    tmp_path.mkdir(exist_ok=True)
    old, fresh = tmp_path / ".mlp-1.pt.abc123.tmp", tmp_path / ".mlp-2.pt.def456.tmp"
    old.write_bytes(b"x" * 100)
    fresh.write_bytes(b"y")
    os.utime(old, (1e9, 1e9))  # long ago
    Store(tmp_path)
    assert not old.exists() and fresh.exists(), "only a leftover no running write can own goes"


@pytest.mark.parametrize("errno_, words", [(28, "is full"), (30, "cannot write"), (13, "cannot write")])
def test_a_failed_write_keeps_the_previous_artifact_and_says_what_to_do(store, errno_, words):
    from uqcore.store import StoreError

    key = store.key("arr", {"n": 1})
    store.save_arrays(key, {"a": np.arange(3)})

    def failing(path):
        path.write_bytes(b"partial")
        raise OSError(errno_, os.strerror(errno_))

    with pytest.raises(StoreError, match=words):
        store._save(key, ".npz", failing, {})
    arrays, _ = store.load_arrays(key)  # the previous good artifact is whole
    np.testing.assert_array_equal(arrays["a"], np.arange(3))
    assert not list(store.root.glob(".*.tmp")), "no partial file is left"


def test_the_cli_turns_an_unwritable_folder_into_one_sentence(tmp_path, monkeypatch, capsys):
    import errno

    from uqcore import store as store_module
    from uqcore.cli import main

    def refuse(*a, **k):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(store_module.tempfile, "mkstemp", refuse)
    assert main(["--artifacts", str(tmp_path / "ro"), "--device", "cpu", "train", "--quick"]) == 2
    err = capsys.readouterr().err
    assert "cannot write to" in err and "UQCORE_ARTIFACTS" in err and "Traceback" not in err


def test_tensors_that_do_not_fit_the_model_are_rebuilt(tmp_path):
    """A checksum-valid payload holding other tensors, or valid tensors whose metadata lost a key the stage
    reads, is 'does not fit', and the stage trains again."""
    from uqcore.build import BuildConfig, mlp_stage, stage_keys

    messages = []
    store = Store(tmp_path, log=messages.append)
    config = BuildConfig(quick=True).resolved()
    key = stage_keys(store, config)["mlp"]
    store.save_tensors(key, {"w": torch.zeros(2)}, {"test_accuracy": 0.5})
    model, meta = mlp_stage(store, key, config.mlp, force=False, progress=lambda *a: None)
    assert any("does not fit" in m for m in messages) and meta["test_accuracy"] > 0.5
    # the right tensors, but metadata with a renamed key (checksum still valid): rebuilt too, never a KeyError
    path = tmp_path / f"{key}.json"
    record = json.loads(path.read_text())
    record["test_acc"] = record.pop("test_accuracy")
    path.write_text(json.dumps(record))
    messages.clear()
    _, meta = mlp_stage(store, key, config.mlp, force=False, progress=lambda *a: None)
    assert any("rebuilding" in m for m in messages) and meta["test_accuracy"] > 0.5


def test_a_partial_rebuild_says_which_stages_rerun_and_about_how_long(tmp_path):
    from uqcore.build import BuildConfig, rebuild_plan, stage_keys

    store = Store(tmp_path)
    config = BuildConfig(quick=True).resolved()
    keys = stage_keys(store, config)
    for stage, key in keys.items():  # a finished build, each stage taking 10 s
        store.save_arrays(key, {"a": np.zeros(1)}, {"seconds": 10.0})
    assert rebuild_plan(store, config) == ([], None)
    for stage, seconds in (("file_path", 40.0), ("embedding", 20.0)):  # older artifacts of two stages ...
        old = store.key(stage, {"an": "older config"})
        store.save_arrays(old, {"a": np.zeros(1)}, {"seconds": seconds})
        (store.root / f"{keys[stage]}.json").unlink()  # ... whose current ones are gone
    assert rebuild_plan(store, config) == (["file_path", "embedding"], 60.0)
    for p in store.root.glob("embedding-*.json"):
        p.unlink()
    assert rebuild_plan(store, config) == (["file_path", "embedding"], None), "no record: unknown, not a guess"


def test_verified_checks_the_payload_without_loading_it(store):
    """``verified``: the metadata of an intact artifact; None, silently, for a truncated, missing or unknown one
    (the load that follows says why)."""
    store.save_arrays("a-1", {"x": np.arange(1000)}, {"stage": "a"})
    assert store.verified("a-1")["stage"] == "a"
    payload = store.root / "a-1.npz"
    payload.write_bytes(payload.read_bytes()[:100])
    assert store.verified("a-1") is None and store.metadata("a-1") is not None
    payload.unlink()
    assert store.verified("a-1") is None and store.verified("never-1") is None
    assert store.messages == []
