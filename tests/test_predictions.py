"""uqcore.predictions: the one store of every method's outputs."""
import numpy as np
import pytest

from uqcore.predictions import FIELDS, Predictions
from uqcore.store import Store


class FakeMethod:
    def __init__(self, name, network, logits_are="logits"):
        self.name, self.network, self.logits_are = name, network, logits_are


class FakePrediction:
    def __init__(self, n, d, seed):
        rng = np.random.default_rng(seed)
        self.probs = rng.dirichlet(np.ones(10), n)
        self.logits = np.log(self.probs)
        self.total, self.aleatoric, self.epistemic, self.ood_score = rng.random((4, n))
        self.embeddings = rng.normal(size=(n, d))


def test_put_and_get_every_field_and_share_embeddings_by_network(tmp_path):
    p = Predictions()
    x = np.random.default_rng(0).random((5, 784))
    p.add_set("test", x, np.arange(5), kind="clean", description="five", meta={"angle": np.arange(5) * 15})
    a, b, c = FakeMethod("mlp", "mlp"), FakeMethod("temperature", "mlp"), FakeMethod("ensemble", "members", "log-probabilities")
    pa, pb, pc = FakePrediction(5, 4, 1), FakePrediction(5, 4, 2), FakePrediction(5, 8, 3)
    for m, pr in ((a, pa), (b, pb), (c, pc)):
        p.put_prediction("test", m, pr)
    assert p.sets == ["test"] and p.methods == ["mlp", "temperature", "ensemble"]
    for f in FIELDS:
        np.testing.assert_allclose(p.get("test", "ensemble", f), getattr(pc, f), rtol=1e-6)
        assert p.get("test", "ensemble", f).dtype == np.float32
    # temperature reads the single network: its embeddings are the mlp's, stored once
    np.testing.assert_array_equal(p.get("test", "temperature", "embeddings"), p.get("test", "mlp", "embeddings"))
    np.testing.assert_allclose(p.get("test", "mlp", "embeddings"), pa.embeddings, atol=2e-3)
    assert p.get("test", "ensemble", "embeddings").shape == (5, 8)
    assert p.logits_are("ensemble") == "log-probabilities" and p.logits_are("mlp") == "logits"
    np.testing.assert_array_equal(p.x("test"), np.round(x * 255).astype(np.uint8))
    np.testing.assert_allclose(p.images("test", [1, 3]).reshape(2, -1), x[[1, 3]], atol=0.5 / 255 + 1e-7)
    assert p.info("test") == {"kind": "clean", "description": "five", "n": 5}
    np.testing.assert_array_equal(p.meta("test", "angle"), np.arange(5) * 15)
    assert p.has("test") and p.has("test", "mlp") and not p.has("test", "laplace") and not p.has("val")
    # the artifact round trip keeps everything
    store = Store(tmp_path)
    key = store.key("predictions", {"t": 1})
    store.save_arrays(key, p.arrays)
    q = Predictions(store.load_arrays(key)[0])
    assert q.methods == p.methods and q.network_of("temperature") == "mlp"
    np.testing.assert_array_equal(q.get("test", "ensemble", "probs"), p.get("test", "ensemble", "probs"))


def test_missing_entries_say_what_is_there():
    p = Predictions()
    p.add_set("test", np.zeros((2, 784), np.uint8), np.zeros(2))
    p.put("test", "mlp", "probs", np.full((2, 10), 0.1))
    with pytest.raises(KeyError, match="available: mlp"):
        p.get("test", "ensemble", "probs")
    with pytest.raises(KeyError, match="no set 'val'"):
        p.get("val", "mlp", "probs")
    with pytest.raises(KeyError, match="unknown field"):
        p.get("test", "mlp", "colour")
