
import numpy as np
import torch

from uqcore.methods.nets import TrainConfig
from uqcore.methods.training import predict_logits, random_shift, train_ensemble, train_mlp


def test_tiny_run_learns(mnist):
    """3k training images, 1k held-out test images: > 90% (2k images top out near 89% for this MLP)."""
    cfg = TrainConfig(epochs=10, batch_size=32, n_train=3000, shift=1, seed=1)
    calls = []
    model, history = train_mlp(mnist.train, mnist.val.subset(1000), cfg, progress=lambda d, t, m: calls.append((d, t)))
    acc = (predict_logits(model, mnist.test.x[:1000]).argmax(1).numpy() == mnist.test.y[:1000]).mean()
    assert acc > 0.90, acc
    assert [h["epoch"] for h in history] == list(range(1, 11))
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert set(history[0]) >= {"train_loss", "val_loss", "val_acc", "seconds"}
    assert calls[0] == (0, 10) and calls[-1] == (10, 10)


def test_same_seed_same_model(mnist):
    cfg = TrainConfig(epochs=1, n_train=500, seed=7)
    a, _ = train_mlp(mnist.train, mnist.val.subset(100), cfg)
    b, _ = train_mlp(mnist.train, mnist.val.subset(100), cfg)
    for pa, pb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(pa, pb)


def test_vectorised_and_sequential_ensembles_both_learn(mnist):
    cfg = TrainConfig(epochs=4, batch_size=32, lr=2e-3, n_train=2000)
    val = mnist.val.subset(500)
    x, y = mnist.test.x[:1000], mnist.test.y[:1000]
    for vectorised in (True, False):
        members, history = train_ensemble(mnist.train, val, cfg, n_members=3, vectorised=vectorised)
        assert len(members) == 3
        accs = [(predict_logits(m, x).argmax(1).numpy() == y).mean() for m in members]
        assert min(accs) > 0.85, (vectorised, accs)
        preds = np.stack([predict_logits(m, x).argmax(1).numpy() for m in members])
        assert (preds[0] != preds[1]).any(), "members with different seeds should differ"


def test_random_shift_moves_ink_without_losing_it():
    gen = torch.Generator().manual_seed(0)
    img = torch.zeros(5, 784)
    img.view(5, 28, 28)[:, 10:18, 10:18] = 1.0
    out = random_shift(img, 2, gen)
    assert out.shape == img.shape
    torch.testing.assert_close(out.sum(1), img.sum(1))  # a 2-px shift keeps a centred square whole
    assert random_shift(img, 0, gen) is img
