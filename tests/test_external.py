"""Bring your own predictions (uqcore.data.external, evaluate --predictions): loading, every bad-file case's
message, metrics cross-checked against scikit-learn and scipy, and the CLI."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.metrics import accuracy_score, log_loss

from uqcore.data import external
from uqcore.data.external import PredictionsError, from_arrays, load_predictions
from uqcore.evaluate import evaluate_external

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def model_outputs(rng):
    """3000 rows of a calibrated 4-class model: labels drawn from its own probabilities."""
    logits = rng.normal(0, 2, (3000, 4))
    probs = softmax(logits, axis=1)
    y = np.array([rng.choice(4, p=p) for p in probs])
    return y, logits, probs


def test_npz_with_probs_matches_sklearn(tmp_path, model_outputs):
    y, _, probs = model_outputs
    f = tmp_path / "mine.npz"
    np.savez(f, y_true=y, probs=probs.astype(np.float32))
    ext = load_predictions(f)
    assert (ext.n, ext.n_classes, ext.logits, ext.source) == (3000, 4, None, "mine.npz")
    m = evaluate_external(ext)["metrics"]
    assert m["accuracy"] == pytest.approx(accuracy_score(y, probs.argmax(1)))
    assert m["nll"] == pytest.approx(log_loss(y, probs, labels=range(4)), rel=1e-4)
    # a calibrated model: LAC sets at alpha 0.05 cover about 95% of the held-out half
    assert abs(m["conformal"]["lac"]["0.05"]["coverage"] - 0.95) < 0.02
    assert m["ece"] < 0.03 and set(m["calibrators"]) >= {"none", "temperature", "isotonic_mixed"}
    assert set(m["calibrators_textbook"]) == {"histogram", "isotonic"}


def test_logits_and_members(tmp_path, model_outputs, rng):
    y, logits, probs = model_outputs
    members = np.stack([softmax(logits + rng.normal(0, 0.5, logits.shape), axis=1) for _ in range(3)])
    f = tmp_path / "ens.npz"
    np.savez(f, y_true=y, logits=logits, member_probs=members, images=rng.integers(0, 256, (3000, 28, 28)))
    ext = load_predictions(f)
    np.testing.assert_allclose(ext.probs, probs, atol=1e-12)
    assert ext.images.shape == (3000, 784) and ext.images.max() <= 1.0
    u = evaluate_external(ext)["metrics"]["uncertainty"]
    assert u["members"] == 3 and u["epistemic"] > 0 and u["total"] == pytest.approx(u["aleatoric"] + u["epistemic"])


def test_csv_with_probability_or_logit_columns(tmp_path, model_outputs):
    y, logits, probs = model_outputs
    for prefix, values in (("p", probs), ("logit", logits)):
        f = tmp_path / f"{prefix}.csv"
        cols = [f"{prefix}{i}" for i in (2, 0, 3, 1)]  # any column order
        lines = ["y_true," + ",".join(cols)] + [
            f"{yi}," + ",".join(f"{row[int(c[len(prefix):])]:.10f}" for c in cols) for yi, row in zip(y, values)]
        f.write_text("\n".join(lines) + "\n")
        ext = load_predictions(f)
        np.testing.assert_allclose(ext.probs, probs, atol=1e-6)
        assert (ext.logits is not None) == (prefix == "logit")


def _bad(**arrays):
    base = {"y_true": np.zeros(30, int), "probs": np.full((30, 3), 1 / 3)}
    base.update(arrays)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize("arrays, message", [
    (_bad(y_true=None), "no 'y_true'"),
    (_bad(probs=None), "neither 'probs'"),
    (_bad(probs=np.full(30, 0.5)), "shape (n, C)"),
    (_bad(y_true=np.zeros((30, 2))), "one label per row"),
    (_bad(y_true=np.zeros(29, int)), "29 labels but 'probs' has 30 rows"),
    (_bad(probs=np.where(np.eye(30, 3, dtype=bool), np.nan, 1 / 3)), "NaN or infinite"),
    (_bad(probs=np.tile([1.2, -0.2, 0.0], (30, 1))), "negative values"),
    (_bad(probs=np.full((30, 3), 0.5)), "do not sum to 1"),
    (_bad(y_true=np.full(30, 3)), "whole class numbers 0..2"),
    (_bad(y_true=np.full(30, 0.5)), "whole class numbers"),
    (_bad(y_true=np.zeros(5, int), probs=np.full((5, 3), 1 / 3)), "at least 20"),
    (_bad(probs=np.ones((30, 1))), "at least 2 are needed"),
    (_bad(member_probs=np.full((2, 29, 3), 1 / 3)), "'member_probs' must have shape (S, 30, 3)"),
    (_bad(images=np.zeros((30, 100))), "'images' must have shape (30, 784)"),
    (_bad(probs=np.array([["a", "b", "c"]] * 30)), "must be numbers"),
])
def test_every_bad_array_gets_its_message(arrays, message):
    with pytest.raises(PredictionsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        from_arrays(arrays)


def test_more_than_the_row_limit(monkeypatch):
    monkeypatch.setattr(external, "MAX_ROWS", 25)
    with pytest.raises(PredictionsError, match="more than 25"):
        from_arrays(_bad())


@pytest.mark.parametrize("name, content, message", [
    ("missing.npz", None, "no such file"),
    ("notes.txt", b"hello", "expected an .npz or a .csv"),
    ("broken.npz", b"PK\x03\x04 not really a zip", "not a readable .npz"),
    ("noheader.csv", b"1,0.5,0.5\n", "needs a 'y_true' column"),
    ("nocols.csv", b"y_true,a,b\n1,0.5,0.5\n", "no class columns"),
    ("gap.csv", b"y_true,p0,p2\n1,0.5,0.5\n", "without gaps"),
    ("word.csv", b"y_true,p0,p1\n1,half,0.5\n", "not a number"),
    ("short.csv", b"y_true,p0,p1\n1,0.5\n", "line 2: 2 values for 3 columns"),
])
def test_every_bad_file_gets_its_message(tmp_path, name, content, message):
    f = tmp_path / name
    if content is not None:
        f.write_bytes(content)
    with pytest.raises(PredictionsError, match=message):
        load_predictions(f)


def test_an_npz_of_python_objects_is_not_unpickled(tmp_path):
    f = tmp_path / "objects.npz"
    np.savez(f, y_true=np.array([{"a": 1}] * 30, dtype=object), probs=np.full((30, 2), 0.5))
    with pytest.raises(PredictionsError, match="no unpickling"):
        load_predictions(f)


def test_cli_evaluates_a_file_and_explains_a_bad_one(tmp_path, model_outputs):
    y, _, probs = model_outputs
    good = tmp_path / "mine.npz"
    np.savez(good, y_true=y, probs=probs)
    run = lambda *a: subprocess.run([sys.executable, "-m", "uqcore", "evaluate", *a], cwd=ROOT,  # noqa: E731
                                    capture_output=True, text=True, timeout=120)
    r = run("--predictions", str(good), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["n"] == 3000 and out["metrics"]["accuracy"] == pytest.approx(accuracy_score(y, probs.argmax(1)))
    bad = tmp_path / "bad.npz"
    np.savez(bad, y_true=y, probs=probs * 2)
    r = run("--predictions", str(bad))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.startswith("error: bad.npz:") and "do not sum to 1" in r.stderr


def test_a_file_over_the_size_limit(tmp_path, monkeypatch):
    f = tmp_path / "huge.npz"
    np.savez(f, y_true=np.zeros(30, int), probs=np.full((30, 2), 0.5))
    monkeypatch.setattr(external, "MAX_BYTES", 10)
    with pytest.raises(PredictionsError, match="huge.npz: over 2 GB"):
        load_predictions(f)


def _npz(tmp_path, name="odd.npz", **arrays):
    f = tmp_path / name
    np.savez(f, **{"y_true": np.zeros(30, int), "probs": np.full((30, 2), 0.5), **arrays})
    return f


@pytest.mark.parametrize("make, message", [
    (lambda t: _npz(t, member_probs=np.zeros((0, 30, 2))), "with S >= 1"),
    (lambda t: _npz(t, images=np.array(3.0)), "'images' must have shape"),
    (lambda t: (np.save(t / "one.npy", np.zeros(3)), (t / "one.npy").rename(t / "one.npz"))[1], "holds one array"),
    (lambda t: (t / "wide.csv").write_text("y_true,p0,p1\n1," + "9" * 140_000 + ",0\n") and t / "wide.csv",
     "not a readable CSV"),
    (lambda t: (t / "sup.csv").write_text("y_true,p²,p³\n1,0.5,0.5\n") and t / "sup.csv", "no class columns"),
])
def test_odd_files_get_a_message_not_a_traceback(tmp_path, make, message):
    with pytest.raises(PredictionsError, match=message):
        load_predictions(make(tmp_path))


@pytest.mark.parametrize("path, message", [("~nosuchuser_xyz/x.npz", "cannot be opened"),
                                           ("/tmp/" + "x" * 300 + ".npz", "cannot be opened"),
                                           ("/tmp", "it is a folder")])
def test_odd_paths_get_a_message(path, message):
    with pytest.raises(PredictionsError, match=message):
        load_predictions(path)
