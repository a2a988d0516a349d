"""The CLI's --quick path end to end, in a temporary artifact folder."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args, artifacts):
    env = {**os.environ, "UQCORE_ARTIFACTS": str(artifacts), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "uqcore", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def quick_artifacts(tmp_path_factory, quick_bundle, quick_app_env):
    """A copy of the session's quick build (made once, by the app's first start: tests/test_app.py), so the CLI
    tests can damage their own folder; `train` on it is a cache hit through the real command line."""
    import shutil

    folder = tmp_path_factory.mktemp("artifacts")
    shutil.copytree(quick_app_env, folder, dirs_exist_ok=True)
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
    assert "training" not in second.stderr.lower() or "epoch" not in second.stderr


def test_truncated_artifact_is_rebuilt(quick_artifacts):
    folder, _ = quick_artifacts
    pt = next(p for p in folder.iterdir() if p.suffix == ".pt")
    pt.write_bytes(pt.read_bytes()[:100])
    rerun = run_cli("train", "--quick", artifacts=folder)
    assert rerun.returncode == 0, rerun.stderr
    assert "corrupt" in rerun.stderr
    ok = run_cli("train", "--quick", artifacts=folder)
    assert "corrupt" not in ok.stderr


def test_evaluate_json_has_the_documented_keys(quick_artifacts):
    import json

    folder, _ = quick_artifacts
    r = run_cli("evaluate", "--quick", "--json", artifacts=folder)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["n_test"] == 10000
    assert set(result["methods"]) == {"mlp", "temperature", "ensemble", "bootstrap", "mc_dropout", "laplace",
                                      "evidential", "swag", "overconfident", "reader"}
    for name, row in result["methods"].items():
        c = row["conformal"]
        for score in ("lac", "aps", "raps"):
            assert set(c[score]) == {"0.01", "0.05", "0.1"}
            for a, m in c[score].items():
                assert 0 <= m["coverage"] <= 1 and m["mean_size"] >= 0
                if score != "lac":
                    assert m["empty"] == 0, "APS / RAPS sets are never empty"
        assert set(c["shift"]) == {"rotated", "corrupted"} and c["shift_score"] == "raps"
        assert {"accuracy", "f1_macro", "nll", "brier", "ece", "mce", "adaptive_ece", "classwise_ece", "aurc",
                "temperature", "ood"} <= set(row)
        assert (row["temperature"] is None) == (name != "temperature")
        assert {"noise", "letters", "natural", "blank"} <= set(row["ood"])
        for m in row["ood"].values():
            assert set(m) == {"auroc", "aupr", "fpr95", "score"} and 0 <= m["auroc"] <= 1
        assert 0.5 < row["accuracy"] <= 1
    assert result["methods"]["mlp"]["ood"]["noise"]["score"] == "mahalanobis"
    text = run_cli("evaluate", "--quick", artifacts=folder)
    assert "OOD detection" in text.stdout and "Shifted sets" in text.stdout


def test_predict_answers_good_files_and_reports_bad_ones(quick_artifacts, tmp_path, mnist):
    import json

    from PIL import Image

    folder, _ = quick_artifacts
    img = Image.fromarray((255 - mnist.test.x[0].reshape(28, 28) * 255).astype("uint8")).resize((200, 200))
    good = tmp_path / "seven.png"
    img.save(good)
    bad = tmp_path / "notes.png"
    bad.write_bytes(b"this is not an image")
    r = run_cli("predict", str(good), str(bad), str(tmp_path / "missing.png"), "--quick", "--json", artifacts=folder)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [x["path"] for x in out["results"]] == [str(good)]
    methods = out["results"][0]["methods"]
    assert len(methods) == 9  # every method but the teaching network, the headline reader among them
    assert out["results"][0]["headline"]["evidence"]["probabilities"]["source"] == "reader"
    for m in methods.values():
        assert {"label", "probs", "confidence", "total", "aleatoric", "epistemic", "ood_score", "is_ood",
                "verdict"} <= set(m)
        assert len(m["probs"]) == 10 and abs(sum(m["probs"]) - 1) < 1e-4
        assert isinstance(m["verdict"], str) and m["verdict"].endswith(".")
    errors = {e["path"]: e["error"] for e in out["errors"]}
    assert "Traceback" not in r.stderr
    assert "not an image" in errors[str(bad)].lower() or "cannot" in errors[str(bad)].lower()
    assert errors[str(tmp_path / "missing.png")] == "No such file or folder."
    h = out["results"][0]["headline"]
    assert h["kind"] in ("confident", "ambiguous", "unfamiliar") and h["sentence"].endswith(".")
    assert {"label", "runner_up", "evidence"} <= set(h)
    assert h["evidence"]["decided_by"] in ("familiarity", "familiarity and probability", "not a digit", "probability")
    for m in methods.values():  # each method's prediction set and what its confidence means
        assert m["set"] and m["set"][0] == m["label"] and m["set_phrase"]
        assert "sure about" in m["meaning"]["sentence"] or "no record" in m["meaning"]["sentence"]
    if h["kind"] != "unfamiliar":
        assert h["prediction_set"]["digits"] == methods["ensemble"]["set"]
        assert h["prediction_set"]["alpha"] == 0.05 and "95 times in 100" in h["prediction_set"]["sentence"]
    assert "explanation" not in out["results"][0]
    r = run_cli("predict", str(good), "--quick", "--json", "--explain", artifacts=folder)
    e = json.loads(r.stdout)["results"][0]["explanation"]
    kind = json.loads(r.stdout)["results"][0]["headline"]["kind"]
    assert e["shown"] == (kind == "confident")
    if e["shown"]:
        a = np.asarray(e["attributions"])
        assert a.shape == (28, 28) and e["completeness_error"] <= 0.05 and e["target"] == h["label"]
    else:
        assert e["reason"] and "attributions" not in e


def test_predict_says_when_a_picture_holds_several_marks_side_by_side(quick_artifacts, tmp_path, mnist):
    import json

    from PIL import Image

    from uqcore.data.preprocess import several_marks

    pair = np.concatenate([mnist.test.x[0].reshape(28, 28), mnist.test.x[1].reshape(28, 28)], axis=1)
    number = tmp_path / "number.png"
    Image.fromarray((255 - pair * 255).astype("uint8")).resize((400, 200)).save(number)
    r = run_cli("predict", str(number), "--quick", "--json", artifacts=quick_artifacts[0])
    row = json.loads(r.stdout)["results"][0]
    assert row["framing"]["side_by_side"] == 2 and row["notes"][0] == several_marks(2)
    text = run_cli("predict", str(number), "--quick", artifacts=quick_artifacts[0]).stdout
    assert f"  note: {several_marks(2)}" in text.splitlines()


def test_predict_blank_paper_photo_is_no_digit_found(quick_artifacts, tmp_path):
    import json

    import numpy as np

    from uqcore.data.families import paper_photos

    paper = tmp_path / "paper.jpg"
    paper.write_bytes(paper_photos(1, np.random.default_rng(3))[0])
    r = run_cli("predict", str(paper), "--quick", "--json", artifacts=quick_artifacts[0])
    out = json.loads(r.stdout)
    assert out["results"] == [] and out["errors"][0]["error"].startswith("No digit found")


def test_unknown_command_exits_with_usage(tmp_path):
    r = run_cli("fly", artifacts=tmp_path)
    assert r.returncode == 2 and "invalid choice" in r.stderr


FULL_DISK = """
import errno, os, sys
def full(fd):
    raise OSError(errno.ENOSPC, "No space left on device")
os.fsync = full  # every artifact write now fails as on a full disk (the data reaches the disk at fsync)
from uqcore.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_full_disk_mid_build_then_freed_space_completes_like_an_intact_build(quick_artifacts, tmp_path):
    """The disk is full when the last stage (the map) is written: one sentence, exit code 2, no traceback, the
    finished artifacts kept and no partial file; with space again `train` completes, with the same artifacts as
    the intact build and the same arrays in the rebuilt one (so `evaluate` reads the same)."""
    import shutil

    from uqcore.store import Store

    folder, _ = quick_artifacts
    work = tmp_path / "artifacts"
    shutil.copytree(folder, work)
    [gone] = [p.name for p in work.glob("embedding-*.json")]
    for p in work.glob("embedding-*"):
        p.unlink()
    kept = sorted(p.name for p in work.iterdir())
    env = {**os.environ, "UQCORE_ARTIFACTS": str(work), "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-c", FULL_DISK, "train", "--quick"], capture_output=True, text=True, env=env,
                       cwd=ROOT, timeout=600)
    assert r.returncode == 2, r.stderr
    assert "is full" in r.stderr and "Traceback" not in r.stderr
    assert sorted(p.name for p in work.iterdir()) == kept, "the finished artifacts stay, nothing partial is added"
    again = run_cli("train", "--quick", artifacts=work)
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in work.iterdir()) == sorted(p.name for p in folder.iterdir())
    key = gone.removesuffix(".json")
    rebuilt, _ = Store(work).load_arrays(key)
    original, _ = Store(folder).load_arrays(key)
    assert rebuilt.keys() == original.keys()
    for name in original:
        np.testing.assert_array_equal(rebuilt[name], original[name])


MEASURED_PREDICT = """
import resource, sys
from uqcore.cli import main
code = main(sys.argv[1:])
print(f"maxrss_kb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}", file=sys.stderr)
sys.exit(code)
"""


def test_predict_refuses_a_3_gb_file_without_reading_it(quick_artifacts, tmp_path, mnist):
    """A 3 GB "photo" (a sparse file: no disk used) beside a good one: one error line for it, the good one answered,
    and the process's peak memory no higher than answering the good one alone (reading it whole took 3.6 GB)."""
    import json
    import re

    from PIL import Image

    folder, _ = quick_artifacts
    good = tmp_path / "seven.png"
    Image.fromarray((255 - mnist.test.x[0].reshape(28, 28) * 255).astype("uint8")).resize((200, 200)).save(good)
    huge = tmp_path / "huge.png"
    with open(huge, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.truncate(3 * 2**30)
    env = {**os.environ, "UQCORE_ARTIFACTS": str(folder), "PYTHONPATH": str(ROOT)}

    def predict(*paths):
        r = subprocess.run([sys.executable, "-c", MEASURED_PREDICT, "predict", *map(str, paths), "--quick", "--json"],
                           capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
        assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
        return json.loads(r.stdout), int(re.search(r"maxrss_kb=(\d+)", r.stderr).group(1)) / 1024

    alone, peak_alone = predict(good)
    both, peak_both = predict(good, huge)
    assert [x["path"] for x in both["results"]] == [str(good)]
    assert "MB; the limit" in {e["path"]: e["error"] for e in both["errors"]}[str(huge)]
    assert peak_both < peak_alone + 100, f"peak memory {peak_both:.0f} MB with the 3 GB file, {peak_alone:.0f} without"


def test_the_evaluation_is_computed_once_per_build_and_rebuilt_when_damaged(quick_bundle, tmp_path, monkeypatch):
    """``evaluate_cached`` keeps the evaluation in the build's store: a second call loads it (no new computing),
    a damaged record is computed again, another build gets its own. ``evaluate`` itself is stubbed: this is
    about the cache, the metrics have their own tests."""
    import dataclasses

    from uqcore import evaluate as ev
    from uqcore.store import Store

    calls = []
    monkeypatch.setattr(ev, "evaluate", lambda bundle: calls.append(1) or {"n_test": 3, "methods": {"m": (1, 2)}})
    bundle = dataclasses.replace(quick_bundle, store=Store(tmp_path))
    first = ev.evaluate_cached(bundle)
    assert first == {"n_test": 3, "methods": {"m": [1, 2]}} and len(calls) == 1  # as a load gives it
    assert ev.evaluate_cached(bundle) == first and len(calls) == 1
    (record,) = tmp_path.glob("evaluation-*.record.json")
    record.write_text(record.read_text()[:-5])  # truncated
    assert ev.evaluate_cached(bundle) == first and len(calls) == 2
    other = dataclasses.replace(bundle, config=dataclasses.replace(bundle.config, swag_samples=7))
    ev.evaluate_cached(other)
    assert len(calls) == 3 and len(list(tmp_path.glob("evaluation-*.record.json"))) == 2


def test_clean_removes_what_earlier_versions_left_and_keeps_the_current_builds(tmp_path):
    """`clean` keeps every key the current full and quick builds use (their stages, the early snapshot, the
    evaluation, the active-learning curves) and removes the rest; `--dry-run` removes nothing; `--all` everything."""
    from uqcore.build import current_keys
    from uqcore.store import Store

    keys = current_keys(Store(tmp_path))
    assert {k.split("-")[0] for k in keys} >= {"mlp", "reader", "predictions", "file_path", "familiarity", "embedding",
                                               "mlp_early", "evaluation", "active"}
    for k in keys:
        (tmp_path / f"{k}.json").write_text("{}")
    stale = ["reader-0123456789ab.pt", "reader-0123456789ab.json", "predictions-0123456789ab.npz"]
    for name in stale:
        (tmp_path / name).write_bytes(b"x" * 1000)
    (tmp_path / "README.md").write_text("keep")

    dry = run_cli("clean", "--dry-run", artifacts=tmp_path)
    assert dry.returncode == 0 and "would remove 3 files" in dry.stdout and all(n in dry.stdout for n in stale)
    assert all((tmp_path / n).exists() for n in stale)
    done = run_cli("clean", artifacts=tmp_path)
    assert done.returncode == 0 and "removed 3 files (0.0 MB)" in done.stdout, done.stdout
    assert not any((tmp_path / n).exists() for n in stale)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*(f"{k}.json" for k in keys), "README.md"])
    everything = run_cli("clean", "--all", artifacts=tmp_path)
    assert everything.returncode == 0 and f"removed every artifact: {len(keys)} files" in everything.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["README.md"]
