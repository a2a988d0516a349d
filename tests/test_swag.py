"""SWAG (uqcore.methods.swag) on tiny models: the collected moments, sampling known answers, the method."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from uqcore.methods import make_methods
from uqcore.methods.base import Parts
from uqcore.methods.swag import (SwagCollector, SwagConfig, SwagPosterior, draw_weights, fit_swag, mean_network,
                                 swag_probs, stacked_parameters)


def test_collector_mean_is_the_average_of_the_collected_weights():
    rng = np.random.default_rng(0)
    snaps = [torch.as_tensor(rng.normal(size=7), dtype=torch.float32) for _ in range(6)]
    c = SwagCollector(rank=4)
    for w in snaps:
        c.collect(w)
    stack = torch.stack(snaps)
    post = c.posterior()
    torch.testing.assert_close(post.mean, stack.mean(0), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(post.sq_mean, (stack ** 2).mean(0), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(post.variance, stack.var(0, unbiased=False), rtol=1e-4, atol=1e-6)
    assert post.deviations.shape == (4, 7), "only the last `rank` deviations are kept"
    running = stack[:6].mean(0)  # the last deviation is from the mean of all six
    torch.testing.assert_close(post.deviations[-1], snaps[-1] - running, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="no weights"):
        SwagCollector(rank=2).posterior()


def test_sampling_with_zero_covariance_returns_the_mean():
    mean = torch.tensor([0.5, -2.0, 3.0])
    post = SwagPosterior(mean, mean ** 2, torch.zeros(5, 3), scale=0.5)
    gen = torch.Generator().manual_seed(0)
    for _ in range(5):
        torch.testing.assert_close(post.sample(gen), mean, rtol=0, atol=1e-9)


def test_sample_covariance_is_the_swag_formula():
    """Cov = scale / 2 x (diag(var) + D^T D / (K - 1)), checked by Monte Carlo."""
    mean = torch.tensor([1.0, -1.0, 0.0], dtype=torch.float64)
    var = torch.tensor([0.04, 0.25, 1.0], dtype=torch.float64)
    dev = torch.tensor([[1.0, 0.0, 0.5], [-1.0, 2.0, 0.0], [0.0, -1.0, 1.0]], dtype=torch.float64)
    post = SwagPosterior(mean, var + mean ** 2, dev, scale=0.5)
    gen = torch.Generator().manual_seed(1)
    draws = torch.stack([post.sample(gen) for _ in range(40000)])
    want = 0.5 / 2 * (torch.diag(var) + dev.T @ dev / (len(dev) - 1))
    np.testing.assert_allclose(draws.mean(0).numpy(), mean.numpy(), atol=0.02)
    np.testing.assert_allclose(np.cov(draws.numpy().T), want.numpy(), atol=0.02)


def test_state_round_trips_and_wrong_shapes_are_refused():
    post = SwagPosterior(torch.ones(4), torch.ones(4) * 2, torch.zeros(3, 4), scale=0.25)
    back = SwagPosterior.from_state(post.state(), 4)
    torch.testing.assert_close(back.mean, post.mean)
    assert back.scale == 0.25
    with pytest.raises(ValueError, match="does not fit"):
        SwagPosterior.from_state(post.state(), 5)


@pytest.fixture(scope="module")
def swag(mnist, tiny_model):
    before = copy.deepcopy(parameters_to_vector(tiny_model.parameters()).detach())
    cfg = SwagConfig(epochs=2, collect_per_epoch=3, rank=4, batch_size=256)
    post, info = fit_swag(tiny_model, mnist.train.subset(3000), cfg)
    torch.testing.assert_close(parameters_to_vector(tiny_model.parameters()).detach(), before), "mlp untouched"
    return post, info, cfg


def test_fit_swag_collects_and_its_mean_network_reads_digits(swag, mnist, tiny_model):
    post, info, cfg = swag
    assert info["snapshots"] == cfg.epochs * cfg.collect_per_epoch
    assert post.deviations.shape == (cfg.rank, sum(p.numel() for p in tiny_model.parameters()))
    assert float(post.variance.max()) > 0, "SGD moved the weights: the posterior has width"
    net = mean_network(tiny_model, post)
    torch.testing.assert_close(parameters_to_vector(net.parameters()).detach(), post.mean)
    x = torch.as_tensor(mnist.test.x[:500])
    probs = swag_probs(net, post, x, 10, seed=3)
    assert probs.shape == (10, 500, 10)
    torch.testing.assert_close(probs, swag_probs(net, post, x, 10, seed=3)), "the same draws for the same seed"
    assert float((probs.mean(0).argmax(1).numpy() == mnist.test.y[:500]).mean()) > 0.8
    assert float(probs.std(0).max()) > 1e-4, "the draws differ"


def test_swag_method_predicts_like_the_others(swag, mnist, tiny_model):
    post, _, _ = swag
    parts = Parts(mlp=tiny_model, members=[tiny_model], evidential=tiny_model, temperature=1.0,
                  laplace_cov=torch.eye(650), mahalanobis=None, swag=mean_network(tiny_model, post),
                  swag_posterior=post, swag_samples=12)
    method = make_methods(parts)["swag"]
    pred = method.predict(mnist.test.x[:40])
    assert pred.member_probs.shape == (12, 40, 10) and pred.embeddings.shape == (40, 64)
    np.testing.assert_allclose(pred.probs.sum(1), 1.0, atol=1e-5)
    np.testing.assert_allclose(pred.total, pred.aleatoric + pred.epistemic, atol=1e-6)
    np.testing.assert_allclose(pred.ood_score, pred.epistemic, atol=1e-6)  # mutual information
    np.testing.assert_array_equal(method.predict(mnist.test.x[:40]).probs, pred.probs)
    # the draws are made once and kept: the same numbers as drawing them afresh for this input
    fresh = swag_probs(parts.swag, post, torch.as_tensor(mnist.test.x[:40]), 12, parts.seed).numpy()
    np.testing.assert_allclose(pred.member_probs, fresh, rtol=0, atol=1e-7)
    loop = []  # the draws loaded into the network one at a time, as the SWAG paper's code does
    work = copy.deepcopy(parts.swag).eval()
    for w in draw_weights(post, 12, parts.seed):
        vector_to_parameters(w, work.parameters())
        with torch.no_grad():
            loop.append(torch.softmax(work(torch.as_tensor(mnist.test.x[:40])), -1).numpy())
    np.testing.assert_allclose(pred.member_probs, np.stack(loop), rtol=0, atol=1e-6)
    one = method.predict(mnist.test.x[5:6])  # one image at a time reads like the batch
    np.testing.assert_allclose(one.member_probs[:, 0], pred.member_probs[:, 5], atol=1e-6)
    assert "swag" not in make_methods(Parts(mlp=tiny_model, members=[tiny_model], evidential=tiny_model,
                                            temperature=1.0, laplace_cov=torch.eye(650), mahalanobis=None))


def test_swag_reads_the_same_in_many_threads_at_once(swag, mnist, tiny_model):
    """Server sessions read at the same time: each thread gets the single-threaded answer (with torch.func.vmap,
    8 threads x 200 readings raised "your tensor may have escaped from vmap" or returned other numbers)."""
    import threading

    post, _, _ = swag
    net = mean_network(tiny_model, post)
    stacked = stacked_parameters(net, draw_weights(post, 12, 0))
    x = torch.as_tensor(mnist.test.x[:3])
    want = swag_probs(net, post, x, 12, 0, stacked=stacked)
    bad: list = []

    def read():
        for _ in range(60):
            try:
                if not torch.equal(swag_probs(net, post, x, 12, 0, stacked=stacked), want):
                    bad.append("other numbers")
            except RuntimeError as e:  # noqa: PERF203 - what a thread hit is the finding
                bad.append(str(e)[:80])

    threads = [threading.Thread(target=read) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert bad == []


def test_stacked_parameters_split_the_vector_like_vector_to_parameters(tiny_model):
    weights = torch.stack([parameters_to_vector(tiny_model.parameters()) * k for k in (1.0, 2.0)])
    stacked = stacked_parameters(tiny_model, weights)
    for name, p in tiny_model.named_parameters():
        torch.testing.assert_close(stacked[name][0], p.detach())
        torch.testing.assert_close(stacked[name][1], 2 * p.detach())
    with pytest.raises(ValueError, match="parameters"):
        stacked_parameters(tiny_model, weights[:, :-1])
