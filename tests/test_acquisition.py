"""Active learning (uqcore.acquisition): known answers for each acquisition score, a cross-check against
scipy, reproducibility, the curves' shape and the interactive mode. Tiny pools and a few training steps."""
from __future__ import annotations

import math
import threading
from dataclasses import replace

import numpy as np
import pytest
import torch
from scipy.stats import entropy as scipy_entropy

from uqcore.acquisition import (ASK, STRATEGIES, ActiveConfig, acquire, curves, curves_stage, forward,
                                    load_curves, prepare, scores, start_session, summary, teach, train)
from uqcore.store import Store

TINY = ActiveConfig(start=20, batch=20, budget=60, pool=300, seeds=(0, 1), features=16, hidden=32, steps=30,
                    mc_samples=4)


@pytest.fixture(scope="module")
def data(mnist):
    return prepare(TINY, mnist.train.x[:2000], mnist.train.y[:2000], mnist.test.x[:500], mnist.test.y[:500])


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_scores_known_answers():
    c = 10
    uniform = torch.full((3, 1, c), 1.0 / c)
    assert scores("entropy", uniform, 1, gen()).item() == pytest.approx(math.log(c))
    assert scores("bald", uniform, 1, gen()).item() == pytest.approx(0.0, abs=1e-9)  # samples agree: no BALD
    # two confident samples that disagree: mean (0.5, 0.5), each sample's entropy 0, so BALD = log 2
    split = torch.zeros(2, 1, c)
    split[0, 0, 3], split[1, 0, 8] = 1.0, 1.0
    assert scores("bald", split, 1, gen()).item() == pytest.approx(math.log(2))
    assert scores("margin", split, 1, gen()).item() == pytest.approx(0.0)  # top two tie
    sure = torch.zeros(1, 1, c)
    sure[0, 0, 5] = 1.0
    assert scores("margin", sure, 1, gen()).item() == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="unknown strategy"):
        scores("least-confident", sure, 1, gen())


def test_entropy_and_bald_match_scipy(rng):
    p = rng.dirichlet(np.ones(10) * 0.5, size=(6, 40))  # 6 samples, 40 images
    t = torch.as_tensor(p)
    mean = p.mean(0)
    want_h = scipy_entropy(mean, axis=1)
    want_bald = want_h - scipy_entropy(p, axis=2).mean(0)
    np.testing.assert_allclose(scores("entropy", t, 40, gen()).numpy(), want_h, rtol=1e-9)
    np.testing.assert_allclose(scores("bald", t, 40, gen()).numpy(), want_bald, rtol=1e-9, atol=1e-12)
    top2 = np.sort(mean, axis=1)[:, -2:]
    np.testing.assert_allclose(scores("margin", t, 40, gen()).numpy(), top2[:, 0] - top2[:, 1], rtol=1e-9)


def test_dropout_off_is_deterministic_and_on_is_seeded(data):
    params = train(data.pool_x[:40], data.pool_y[:40], TINY, seed=3)
    x = data.pool_x[:5]
    assert torch.equal(forward(params, x), forward(params, x))
    a, b = forward(params, x, 0.5, gen(1)), forward(params, x, 0.5, gen(1))
    assert torch.equal(a, b) and not torch.equal(a, forward(params, x, 0.5, gen(2)))


def test_training_is_reproducible_in_any_thread(data):
    x, y = data.pool_x[:40], data.pool_y[:40]
    here = train(x, y, TINY, seed=5)
    there = {}
    t = threading.Thread(target=lambda: there.update(p=train(x, y, TINY, seed=5)))
    t.start()
    t.join()
    assert all(torch.equal(a, b) for a, b in zip(here, there["p"]))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_acquire_asks_only_about_unlabelled_digits(data, strategy):
    labelled = np.arange(0, 300, 3)
    params = train(data.pool_x[labelled], data.pool_y[labelled], TINY, seed=0)
    asked = acquire(params, data, labelled, strategy, 25, TINY, gen())
    assert len(set(asked.tolist())) == 25 and not set(asked.tolist()) & set(labelled.tolist())


def test_entropy_asks_about_the_least_sure_digits(data):
    params = train(data.pool_x[:60], data.pool_y[:60], TINY, seed=0)
    cfg = replace(TINY, mc_samples=8)
    asked = acquire(params, data, np.arange(60), "entropy", 10, cfg, gen(4))
    g = gen(4)  # the same dropout masks acquire draws
    h = scores("entropy", torch.stack([torch.softmax(forward(params, data.pool_x, cfg.dropout, g), 1)
                                       for _ in range(cfg.mc_samples)]), 300, gen()).numpy()
    h[:60] = -np.inf
    assert set(asked.tolist()) == set(np.argsort(-h)[:10].tolist())


def test_curves_shape_and_shared_start(data):
    out = curves(data, TINY)
    assert out["sizes"].tolist() == [20, 40, 60]
    for s in STRATEGIES:
        acc = out[f"{s}/accuracy"]
        assert acc.shape == (2, 3) and np.all((acc > 0.1) & (acc <= 1))  # better than chance on 10 digits
    firsts = {tuple(out[f"{s}/accuracy"][:, 0]) for s in STRATEGIES}
    assert len(firsts) == 1  # every strategy starts from the same digits and network
    assert set(summary(out)) == set(STRATEGIES)


def test_curves_stage_caches(tmp_path, monkeypatch, data):
    import uqcore.acquisition as al

    calls = []
    monkeypatch.setattr(al, "load_data", lambda cfg: calls.append(cfg) or data)
    store = Store(tmp_path)
    arrays, meta = curves_stage(store, TINY)
    assert len(calls) == 1
    assert meta["summary"]["random"]["mean"] == pytest.approx(arrays["random/accuracy"][:, -1].mean())
    again, _ = curves_stage(store, TINY)
    assert len(calls) == 1 and np.array_equal(again["bald/accuracy"], arrays["bald/accuracy"])
    assert load_curves(store, TINY) is not None and load_curves(store, ActiveConfig(quick=True)) is None


def test_interactive_session_grows_and_counts_wrong_labels(data):
    run = start_session(data, TINY, "margin")
    assert len(run["labelled"]) == TINY.start and len(run["queries"]) == ASK and len(run["history"]) == 1
    truth = data.pool_y[run["queries"]].tolist()
    wrong = [(v + 1) % 10 for v in truth[:3]] + truth[3:]
    nxt = teach(data, TINY, run, wrong)
    assert [n for n, _ in nxt["history"]] == [TINY.start, TINY.start + ASK]
    assert nxt["mislabelled"] == 3 and not set(nxt["queries"]) & set(nxt["labelled"])
    assert run["history"] == [run["history"][0]]  # the old run is not changed
    with pytest.raises(ValueError, match="one label per asked digit"):
        teach(data, TINY, run, truth[:3])
    with pytest.raises(ValueError, match="digits 0-9"):
        teach(data, TINY, run, [12] * ASK)


def test_config_checks(mnist):
    with pytest.raises(ValueError, match="larger than the pool"):
        prepare(ActiveConfig(pool=50, budget=100), mnist.train.x[:100], mnist.train.y[:100], mnist.test.x[:10],
                mnist.test.y[:10])


# ----------------------------------------------------------------------------- the page (quick build)
PAGE = "views/active_learning.py"


def test_page_labels_teaches_and_shows_the_curves(quick_bundle, quick_app_env):
    from conftest import open_page, wait_for_first_start

    at = open_page(PAGE)
    wait_for_first_start(quick_app_env, name="active")  # the page started the curves' stage
    at.run()
    assert not at.exception
    assert any("labels" in m.value and "random picks" in m.value for m in at.info), [i.value for i in at.info]
    assert len(at.get("plotly_chart")) == 1
    teach_button = next(b for b in at.button if b.label.startswith("Teach the model"))
    assert teach_button.disabled  # nothing labelled yet
    before = next(m.value for m in at.markdown if m.value.startswith("With **"))
    next(b for b in at.button if b.label.startswith("Fill in")).click().run()
    assert [s.value for s in at.selectbox][1:] != [None] * ASK
    next(b for b in at.button if b.label.startswith("Teach the model")).click().run()
    assert not at.exception
    run = at.session_state["al_run"]
    cfg = ActiveConfig(quick=True).resolved()
    assert [n for n, _ in run["history"]] == [cfg.start, cfg.start + ASK] and run["mislabelled"] == 0
    assert [s.value for s in at.selectbox][1:] == [None] * ASK  # fresh boxes for the new round
    after = next(m.value for m in at.markdown if m.value.startswith("With **"))
    assert after != before and f"{cfg.start + ASK:,} labels" in after and "since the last round" in after


def test_page_says_when_the_curves_are_still_being_computed(quick_bundle, quick_app_env, monkeypatch):
    from conftest import open_page

    from dashboard import builder, resources

    class Running:
        finished, error = False, None
        stages = {"active": builder.StageStatus(3, 13, "active learning: seed 0, entropy, 150 labels")}

    monkeypatch.setattr(resources, "active_curves", lambda: Running())
    at = open_page(PAGE)
    assert any("still being computed" in i.value for i in at.info)
    assert any("3 of 13 trainings" in c.value for c in at.caption)
    assert any(b.label.startswith("Teach the model") for b in at.button)  # labelling works already
