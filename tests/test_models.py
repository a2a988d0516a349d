import torch

from uqcore.methods.nets import MLP, BatchedMLP, ModelConfig


def test_forward_and_embed_shapes():
    model = MLP(ModelConfig()).eval()
    x = torch.rand(7, 784)
    assert model(x).shape == (7, 10)
    assert model.embed(x).shape == (7, 64)
    torch.testing.assert_close(model.head(model.embed(x)), model(x))


def test_dropout_only_in_train_mode():
    model = MLP(ModelConfig(dropout=0.5))
    x = torch.rand(4, 784)
    model.eval()
    torch.testing.assert_close(model(x), model(x))
    model.train()
    assert not torch.allclose(model(x), model(x))


def test_batched_members_equal_plain_mlps():
    cfg = ModelConfig()
    batched = BatchedMLP(cfg, seeds=[3, 4, 5]).eval()
    x = torch.rand(6, 784)
    out = batched(x)
    assert out.shape == (3, 6, 10)
    for m, seed in enumerate([3, 4, 5]):
        torch.manual_seed(seed)
        fresh = MLP(cfg).eval()  # same seed -> same initial weights as member m
        torch.testing.assert_close(out[m], fresh(x))
        torch.testing.assert_close(out[m], batched.member(m)(x))


def test_bad_config_is_refused():
    import pytest

    with pytest.raises(ValueError, match="dropout"):
        ModelConfig(dropout=1.0)
