"""The method registry on tiny models: shapes, known answers, thread safety, laplace-torch cross-check."""
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
import pytest
import torch

from uqcore.methods import NAMES, REGISTRY, Parts, make_methods
from uqcore.methods.laplace import fit_laplace_covariance, last_layer_glm
from uqcore.methods.mc_dropout import mc_dropout_probs
from uqcore.methods.training import evidence, evidential_loss, train_ensemble, train_evidential
from uqcore.metrics.ood import Mahalanobis


@pytest.fixture(scope="module")
def parts(mnist, tiny_model, tiny_cfg):
    train, val = mnist.train.subset(3000), mnist.val.subset(500)
    members, _ = train_ensemble(mnist.train, val, replace(tiny_cfg, epochs=1, n_train=3000), n_members=2)
    evid, _ = train_evidential(mnist.train, val, replace(tiny_cfg, epochs=2, n_train=3000))
    cov, _ = fit_laplace_covariance(tiny_model, train.x, train.y)
    with torch.no_grad():
        maha = Mahalanobis().fit(tiny_model.embed(torch.as_tensor(train.x)).numpy(), train.y)
    return Parts(mlp=tiny_model, members=members, evidential=evid, temperature=1.7, laplace_cov=cov,
                 mahalanobis=maha, mc_samples=20, laplace_samples=30)


def test_registry_names_are_the_documented_ones():
    assert tuple(REGISTRY) == NAMES == ("mlp", "temperature", "ensemble", "bootstrap", "mc_dropout", "laplace",
                                        "evidential", "swag", "overconfident", "reader")
    assert [n for n in NAMES if REGISTRY[n].teaching] == ["overconfident"]


def test_a_method_whose_part_is_missing_is_left_out(parts):
    assert parts.overconfident is None and "overconfident" not in make_methods(parts)
    assert parts.reader is None and "reader" not in make_methods(parts)
    with_it = make_methods(replace(parts, overconfident=parts.mlp))
    assert list(with_it) == [n for n in NAMES if n not in ("reader", "swag", "bootstrap")]
    np.testing.assert_allclose(with_it["overconfident"].predict(np.zeros((2, 784), np.float32)).probs,
                               with_it["mlp"].predict(np.zeros((2, 784), np.float32)).probs, atol=1e-6)


def test_every_method_answers_the_same_shapes(parts, mnist):
    x = mnist.test.x[:40]
    expected_s = {"mlp": 1, "temperature": 1, "ensemble": 2, "mc_dropout": 20, "laplace": 30, "evidential": 1}
    for name, method in make_methods(parts).items():
        pred = method.predict(x)
        assert pred.member_probs.shape == (expected_s[name], 40, 10), name
        np.testing.assert_allclose(pred.probs.sum(1), 1.0, atol=1e-5)
        for u in (pred.total, pred.aleatoric, pred.epistemic, pred.ood_score):
            assert u.shape == (40,) and np.isfinite(u).all()
        assert (pred.epistemic >= 0).all()
        np.testing.assert_allclose(pred.total, pred.aleatoric + pred.epistemic, atol=1e-5)
        assert pred.embeddings.shape[0] == 40


def test_temperature_divides_the_logits(parts, mnist):
    methods = make_methods(parts)
    x = mnist.test.x[:10]
    raw = methods["mlp"].predict(x).logits
    scaled = methods["temperature"].predict(x)
    expected = torch.softmax(torch.as_tensor(raw) / 1.7, -1).numpy()
    np.testing.assert_allclose(scaled.probs, expected, rtol=1e-5)


def test_unfitted_threshold_says_so(parts):
    with pytest.raises(RuntimeError, match="threshold not fitted"):
        make_methods(parts)["mlp"].is_ood(np.zeros(3))


def test_mc_dropout_never_switches_the_model_to_training(parts, mnist):
    parts.mlp.eval()
    mc_dropout_probs(parts.mlp, torch.as_tensor(mnist.test.x[:5]), 4, seed=0)
    assert not parts.mlp.training


def test_mc_dropout_same_answer_from_eight_threads(parts, mnist):
    x = torch.as_tensor(mnist.test.x[:64])
    single = [mc_dropout_probs(parts.mlp, x, 25, seed=s) for s in range(8)]
    with ThreadPoolExecutor(8) as pool:
        threaded = list(pool.map(lambda s: mc_dropout_probs(parts.mlp, x, 25, seed=s), range(8)))
    for a, b in zip(single, threaded):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.allclose(single[0], single[1]), "different seeds must give different masks"
    assert single[0].std(0).max() > 0, "samples must differ"


def test_mc_dropout_matches_torch_dropout_in_distribution(parts, mnist):
    """The mean over many masks approaches the mean over many torch dropout passes (train mode on a copy)."""
    import copy

    x = torch.as_tensor(mnist.test.x[:20])
    ours = mc_dropout_probs(parts.mlp, x, 2000, seed=1).mean(0)
    clone = copy.deepcopy(parts.mlp).train()
    torch.manual_seed(0)
    with torch.no_grad():
        ref = torch.stack([torch.softmax(clone(x), -1) for _ in range(2000)]).mean(0)
    torch.testing.assert_close(ours, ref, atol=0.02, rtol=0)


def test_laplace_glm_matches_laplace_torch(parts, mnist):
    """Our stored-covariance GLM predictive equals laplace-torch's own on the same fit."""
    from laplace import Laplace
    from torch.utils.data import DataLoader, TensorDataset

    train = mnist.train.subset(3000)
    la = Laplace(parts.mlp, "classification", subset_of_weights="last_layer", hessian_structure="kron")
    la.fit(DataLoader(TensorDataset(torch.as_tensor(train.x), torch.as_tensor(train.y)), batch_size=512),
           progress_bar=False)
    la.prior_precision = torch.tensor([3.0])
    cov = la.posterior_precision.to_matrix(exponent=-1).float()
    x = torch.as_tensor(mnist.test.x[:16])
    f_mu_ref, f_var_ref = la._glm_predictive_distribution(x)
    f_mu, f_var, _ = last_layer_glm(parts.mlp, cov, x)
    torch.testing.assert_close(f_mu, f_mu_ref.float(), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(f_var, f_var_ref.float(), rtol=1e-3, atol=1e-5)


def test_laplace_samples_spread_around_the_map_logits(parts, mnist):
    pred = make_methods(parts)["laplace"].predict(mnist.test.x[:30])
    assert pred.member_probs.std(0).max() > 1e-4
    map_logits, _, _ = last_layer_glm(parts.mlp, parts.laplace_cov, torch.as_tensor(mnist.test.x[:30]))
    assert (pred.label == map_logits.numpy().argmax(1)).mean() > 0.9


class Identity(torch.nn.Module):
    def forward(self, x):
        return x


def test_evidential_loss_known_answers():
    """alpha = 1 everywhere (no evidence), so p = 1/10 and KL = 0: the squared-error loss is
    0.9 + 0.09 * 10 / 11, the log loss log 10, the digamma loss digamma(10) - digamma(1) = H_9."""
    y = torch.tensor([0, 3])
    none = torch.full((2, 10), -40.0)
    for kind in ("exp", "softplus"):
        mse = evidential_loss(Identity(), none, y, epoch=50, loss="mse", evidence_kind=kind)
        assert mse.item() == pytest.approx(0.9 + 0.9 / 11, rel=1e-4)
        log = evidential_loss(Identity(), none, y, epoch=50, loss="log", evidence_kind=kind)
        assert log.item() == pytest.approx(math.log(10), rel=1e-4)
        dig = evidential_loss(Identity(), none, y, epoch=50, loss="digamma", evidence_kind=kind)
        assert dig.item() == pytest.approx(sum(1 / j for j in range(1, 10)), rel=1e-4)
    with pytest.raises(ValueError, match="loss must be"):
        evidential_loss(Identity(), none, y, epoch=0, loss="hinge")
    with pytest.raises(ValueError, match="evidence must be"):
        evidence(none, "relu")


def test_evidence_is_clamped_exp_or_softplus():
    z = torch.tensor([-50.0, 0.0, 2.0, 50.0])
    np.testing.assert_allclose(evidence(z, "exp").numpy(), np.exp(np.clip(z.numpy(), -10, 10)), rtol=1e-6)
    np.testing.assert_allclose(evidence(z, "softplus").numpy(), np.log1p(np.exp(z.numpy().astype(np.float64))),
                               rtol=1e-6)


def test_evidential_kl_grows_with_misleading_evidence_and_is_annealed():
    y = torch.tensor([0])
    wrong = torch.full((1, 10), -40.0)
    wrong[0, 5] = 8.0  # strong evidence for a wrong class
    early = evidential_loss(Identity(), wrong, y, epoch=0)
    late = evidential_loss(Identity(), wrong, y, epoch=10)
    assert late > early + 1.0
    half = evidential_loss(Identity(), wrong, y, epoch=5)
    assert half.item() == pytest.approx((early.item() + late.item()) / 2, rel=1e-5), "linear annealing"


def test_evidential_vacuity_is_k_over_total_evidence(parts, mnist):
    pred = make_methods(parts)["evidential"].predict(mnist.test.x[:10])
    alpha = pred.extra["alpha"]
    np.testing.assert_allclose(pred.extra["vacuity"], 10 / alpha.sum(1), rtol=1e-6)
    np.testing.assert_allclose(pred.ood_score, pred.extra["vacuity"])


def test_bootstrap_indices_resample_with_replacement():
    from uqcore.methods.training import bootstrap_indices

    rows = bootstrap_indices(20000, 3, seed=4)
    assert rows.shape == (3, 20000) and int(rows.min()) >= 0 and int(rows.max()) < 20000
    unique = [len(torch.unique(r)) / 20000 for r in rows]
    assert all(abs(u - (1 - math.exp(-1))) < 0.01 for u in unique), unique  # 63.2% of the rows, some repeated
    assert not torch.equal(rows[0], rows[1]), "each member its own resample"
    assert torch.equal(rows, bootstrap_indices(20000, 3, seed=4)), "seeded"


def test_bootstrap_members_train_on_their_resamples(parts, mnist, tiny_cfg, monkeypatch):
    """The vectorised fit feeds stream m only rows of its resample; the method reads like the ensemble."""
    import uqcore.methods.training as training

    seen = []
    real = training.random_shift

    def spy(xb, shift, gen):
        seen.append(xb.detach().clone())
        return real(xb, shift, gen)

    monkeypatch.setattr(training, "random_shift", spy)
    cfg = replace(tiny_cfg, epochs=1, n_train=600, batch_size=600, shift=0)
    members, _ = train_ensemble(mnist.train, mnist.val.subset(200), cfg, n_members=2, bootstrap=True)
    rows = training.bootstrap_indices(600, 2, cfg.seed)
    x = torch.as_tensor(mnist.train.subset(600).x)
    for m in range(2):  # one batch holds the whole resample, in some order
        got = seen[0][m]
        want = x[rows[m]]
        assert len(got) == len(want)
        torch.testing.assert_close(got.sum(0), want.sum(0), rtol=1e-5, atol=1e-3)
        other = x[rows[1 - m]]
        assert not torch.allclose(got.sum(0), other.sum(0), atol=1e-2), "not the other member's resample"
    with pytest.raises(ValueError, match="vectorised"):
        train_ensemble(mnist.train, mnist.val.subset(200), cfg, n_members=2, bootstrap=True, vectorised=False)
    method = make_methods(replace(parts, bootstrap=members))["bootstrap"]
    pred = method.predict(mnist.test.x[:30])
    assert pred.member_probs.shape == (2, 30, 10) and method.has_spread
    np.testing.assert_allclose(pred.probs, pred.member_probs.mean(0), rtol=1e-6)
