"""Integrated Gradients and its uncertainty gate (uqcore.explain), on tiny untrained networks."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from uqcore.explain import DECLINE_REASONS, explain_network, integrated_gradients, overlay, should_explain
from uqcore.methods import make_methods
from uqcore.methods.base import Parts
from uqcore.methods.nets import MLP, ModelConfig


def tiny_mlp(seed: int, dropout: float = 0.0, gain: float = 3.0) -> MLP:
    """784-16-8-10, weights scaled by ``gain`` so that logit differences are O(1), not O(0.01): the
    relative completeness error divides by them."""
    torch.manual_seed(seed)
    model = MLP(ModelConfig(hidden=(16, 8), dropout=dropout)).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(gain)
    return model


def images(n: int, seed: int = 0) -> np.ndarray:
    """Digit-like inputs: mostly black, a random blob of bright pixels."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 784)).astype(np.float32)
    return np.where(rng.random((n, 784)) < 0.25, x, 0.0).astype(np.float32)


def riemann_ig(net: nn.Module, x: np.ndarray, target: int, steps: int = 512) -> np.ndarray:
    """Integrated Gradients by hand: midpoint rule on the straight path from black to x."""
    xt = torch.as_tensor(x).reshape(1, 784)
    alphas = ((torch.arange(steps, dtype=torch.float32) + 0.5) / steps).reshape(-1, 1)
    path = (alphas * xt).requires_grad_(True)
    (grads,) = torch.autograd.grad(net(path)[:, target].sum(), path)
    return (xt * grads.mean(0)).double().reshape(28, 28).numpy()


def test_linear_model_known_answer():
    torch.manual_seed(0)
    lin = nn.Linear(784, 10)
    x, base = images(1, seed=1)[0], images(1, seed=2)[0]
    for target in (0, 7):
        e = integrated_gradients(lin, x.reshape(28, 28), target, baseline=base, steps=8)
        want = ((x - base) * lin.weight[target].detach().numpy()).reshape(28, 28)
        assert e.attributions.shape == (28, 28) and e.attributions.dtype == np.float64
        np.testing.assert_allclose(e.attributions, want, atol=1e-5, rtol=0)
        with torch.no_grad():
            f = lin(torch.as_tensor(np.stack([x, base])))[:, target]
        assert e.target == target and e.logit_diff == pytest.approx(float(f[0] - f[1]), abs=1e-5)
        assert e.completeness_error < 1e-4 and abs(e.delta) < 1e-4


def test_completeness_on_a_relu_network():
    net = tiny_mlp(0)
    x = images(6, seed=3)
    with torch.no_grad():
        diffs = net(torch.as_tensor(x)) - net(torch.zeros(1, 784))
    for i in range(len(x)):
        target = int(diffs[i].abs().argmax())
        e = integrated_gradients(net, x[i], target, steps=64)
        assert abs(e.logit_diff) > 0.1, e.logit_diff  # the 5% below is not measured against ~0
        assert abs(e.attributions.sum() - e.logit_diff) <= 0.05 * abs(e.logit_diff)
        assert e.completeness_error <= 0.05
        assert e.delta == pytest.approx(e.attributions.sum() - e.logit_diff, abs=1e-4)


def test_captum_agrees_with_a_hand_written_riemann_sum():
    """Gauss-Legendre at 256 points vs the midpoint rule at 512: within 1% of the map's largest pixel.

    Against a 8192-step reference the two are off by <= 0.35% and <= 0.11%; Captum at 64 points by up
    to 1.6% (the ReLU kinks), which is why this compares at 256."""
    net = tiny_mlp(1)
    for i, x in enumerate(images(3, seed=4)):
        got = integrated_gradients(net, x, i, steps=256).attributions
        want = riemann_ig(net, x, i)
        assert np.abs(got - want).max() <= 0.01 * np.abs(want).max()
        assert np.corrcoef(got.ravel(), want.ravel())[0, 1] > 0.999


@pytest.fixture
def methods():
    """Real Method objects on stand-in parts: tiny untrained nets, left in training mode with dropout
    on, so a wrapper that ran them as they are would be random and a wrapper that fixed them would show."""
    members = [tiny_mlp(10 + k, dropout=0.5).train() for k in range(3)]
    parts = Parts(mlp=tiny_mlp(1, dropout=0.5).train(), members=members, evidential=tiny_mlp(2, dropout=0.5).train(),
                  temperature=2.5, laplace_cov=torch.eye(90), mahalanobis=None)
    return make_methods(parts)


def deterministic(model: MLP, x: torch.Tensor) -> torch.Tensor:
    clone = MLP(model.cfg).eval()
    clone.load_state_dict(model.state_dict())
    return clone(x)


def test_explain_network_stands_for_each_method_and_changes_nothing(methods):
    parts = methods["ensemble"].parts
    models = [parts.mlp, parts.evidential, *parts.members]
    before = [{k: v.clone() for k, v in m.state_dict().items()} for m in models]
    x = torch.as_tensor(images(4, seed=5))
    with torch.no_grad():
        single = deterministic(parts.mlp, x)
        want = {"mlp": single, "temperature": single / 2.5, "laplace": single, "mc_dropout": single,
                "ensemble": torch.stack([deterministic(m, x) for m in parts.members]).mean(0),
                "evidential": deterministic(parts.evidential, x)}
    assert set(want) <= set(methods)
    for name, method in methods.items():  # a method added later: the Parts field its ``network`` names
        net = explain_network(method)
        with torch.no_grad():
            expected = want[name] if name in want else deterministic(getattr(parts, method.network), x)
            torch.testing.assert_close(net(x), expected, msg=name)
            torch.testing.assert_close(net(x), net(x))  # dropout stays off
        integrated_gradients(net, x[0].numpy(), 3, steps=8)
        net.eval().train().requires_grad_(False).double()  # none of it may reach the shared parts
    with pytest.raises(ValueError, match="no network"):
        explain_network(SimpleNamespace(name="x", network="nowhere", parts=parts))
    for m, b in zip(models, before):
        assert m.training
        assert all(p.requires_grad and p.grad is None and p.dtype == torch.float32 for p in m.parameters())
        for k, v in m.state_dict().items():
            assert torch.equal(v, b[k]), k


def test_should_explain_only_a_confident_prediction():
    from uqcore.file_path import KINDS  # the headline kinds the app shows

    assert set(KINDS) == {"confident", *DECLINE_REASONS}
    assert should_explain("confident") == (True, "")
    assert should_explain("ambiguous") == (False, DECLINE_REASONS["ambiguous"])
    assert "unsure between two digits" in DECLINE_REASONS["ambiguous"]
    assert "does not look like the digits" in DECLINE_REASONS["unfamiliar"]
    for kind in ("unfamiliar", "no_digit"):
        ok, reason = should_explain(kind)
        assert not ok and reason == DECLINE_REASONS[kind] and reason.endswith(".")
    with pytest.raises(ValueError, match="unknown kind"):
        should_explain("ood")


def test_overlay_colours_the_attributions_on_the_grey_digit():
    x = np.zeros((28, 28), np.float32)
    x[10:18, 10:18] = 1.0
    attr = np.zeros((28, 28))
    attr[12, 12], attr[15, 15] = 2.0, -2.0
    img = overlay(x, attr, size=112)
    assert img.mode == "RGB" and img.size == (112, 112)
    px = np.asarray(img)
    red, blue, digit, background = px[12 * 4, 12 * 4], px[15 * 4, 15 * 4], px[11 * 4, 11 * 4], px[0, 0]
    assert red[0] > 200 and red[1] < 50 and red[2] < 50
    assert blue[2] > 200 and blue[0] < 50
    assert digit[0] == digit[1] == digit[2] > background[0] == 0
    assert overlay(x.ravel(), np.zeros(784)).size == (224, 224)  # no attribution: no colour, no error
