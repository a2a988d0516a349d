"""The headline reader (uqcore.methods.reader): its training outliers, its loss, its method, and the
familiarity term and confident cut it adds to the headline."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from uqcore.data.families import OUTLIER_KINDS, SYMBOLS, training_outliers
from uqcore.methods import make_methods
from uqcore.methods.base import Parts
from uqcore.methods.nets import MLP, ModelConfig, TrainConfig
from uqcore.methods.reader import NOT_A_DIGIT, reader_outputs
from uqcore.methods.training import reader_loss, train_reader
from uqcore.metrics.familiarity import Familiarity, FamiliarityConfig
from uqcore.verdict import CONFIDENT_FLOOR, CONFIDENT_SHARE, headline


@pytest.fixture(scope="module")
def reader(mnist):
    cfg = TrainConfig(epochs=3, n_train=5000, shift=1, seed=3, onecycle=3e-3,
                      model=ModelConfig(dropout=0.1, n_classes=11))
    model, _ = train_reader(mnist.train, mnist.val.subset(500), cfg)
    return model


def test_training_outliers_are_seeded_framed_non_digits():
    a = training_outliers(60, np.random.default_rng(5))
    b = training_outliers(60, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    assert a.shape[1] == 784 and 40 <= len(a) <= 60 and a.dtype == np.float32
    assert (a.min() >= 0) and (a.max() <= 1) and (a.max(1) > 0).all()  # empty pictures are dropped
    assert OUTLIER_KINDS == ("scrambled", "symbols", "crops", "enclosed", "pen", "sketched", "glyphed")
    assert not set(SYMBOLS) & set("0123456789|/\\()[]!lIoO")  # nothing a hand could write as a digit


class _Recorder(torch.nn.Module):
    """Returns fixed logits and keeps what it was shown."""

    def __init__(self):
        super().__init__()
        self.cfg = ModelConfig(n_classes=11)
        self.bias = torch.nn.Parameter(torch.zeros(11))

    def forward(self, x):
        self.seen = x.detach().clone()
        return self.bias.expand(len(x), 11)


def test_reader_loss_without_extras_is_cross_entropy(mnist):
    model = MLP(ModelConfig(n_classes=11))
    x, y = torch.as_tensor(mnist.train.x[:64]), torch.as_tensor(mnist.train.y[:64])
    loss = reader_loss(torch.zeros(0, 784), blend_share=0.0, outlier_share=0.0)(model, x, y, 0)
    torch.testing.assert_close(loss, F.cross_entropy(model(x), y))


def test_reader_loss_blends_are_renormalised_and_outliers_are_not_digits(mnist):
    x, y = torch.as_tensor(mnist.train.x[:40]), torch.as_tensor(mnist.train.y[:40])
    outliers = torch.full((5, 784), 0.5)
    model = _Recorder()
    loss = reader_loss(outliers, blend_share=0.5, outlier_share=0.25, shift=0, seed=1)(model, x, y, 0)
    seen = model.seen
    assert len(seen) == 40 + 10  # 25% of the batch added as non-digits
    blends = seen[:20]
    mixed = (blends != x[:20]).any(1)
    assert mixed.sum() >= 15  # pairs of the same digit stay as they are
    assert torch.allclose(blends[mixed].amax(1), torch.ones(int(mixed.sum())))  # brightest stroke back to 1
    torch.testing.assert_close(seen[20:40], x[20:40])  # the rest untouched
    torch.testing.assert_close(seen[40:], outliers[:1].expand(10, 784))
    # with uniform logits, the soft cross-entropy is log(11) whatever the (normalised) targets
    torch.testing.assert_close(loss, torch.tensor(np.log(11.0), dtype=loss.dtype))


def test_reader_learns_digits_and_calls_outliers_not_digits(reader, mnist):
    logits, odds, z = reader_outputs(reader, mnist.test.x[:500])
    assert logits.shape == (500, 10) and z.shape == (500, 64)
    assert (logits.argmax(1) == mnist.test.y[:500]).mean() > 0.85
    out = training_outliers(300, np.random.default_rng(99))  # not the ones it was trained on
    _, odds_out, _ = reader_outputs(reader, out)
    assert np.median(odds_out) > np.quantile(odds, 0.9)
    # known answer: the log-odds of the eleventh output against the ten digits
    with torch.no_grad():
        raw = reader(torch.as_tensor(mnist.test.x[:5]))
    want = raw[:, NOT_A_DIGIT] - torch.logsumexp(raw[:, :NOT_A_DIGIT], -1)
    np.testing.assert_allclose(odds[:5], want.numpy(), rtol=1e-5, atol=1e-5)


def test_reader_method_reads_digits_with_its_temperature(reader, tiny_model, mnist):
    parts = Parts(mlp=tiny_model, members=[tiny_model], evidential=tiny_model, temperature=1.0,
                  laplace_cov=torch.eye(650), mahalanobis=None, reader=reader, reader_temperature=2.0)
    method = make_methods(parts)["reader"]
    pred = method.predict(mnist.test.x[:20])
    logits, odds, _ = reader_outputs(reader, mnist.test.x[:20])
    np.testing.assert_allclose(pred.probs, torch.softmax(torch.as_tensor(logits / 2.0), -1).numpy(), atol=1e-6)
    np.testing.assert_allclose(pred.ood_score, odds, atol=1e-6)
    assert pred.probs.shape == (20, 10) and np.allclose(pred.probs.sum(1), 1, atol=1e-5)


def test_familiarity_with_a_reader(reader, tiny_model, mnist):
    cfg = FamiliarityConfig(bank=1000)
    x_val = mnist.val.x[:1500]
    fam = Familiarity(cfg).fit(tiny_model, mnist.train.x[:5000], mnist.train.y[:5000], x_val, reader=reader)
    assert fam.terms == ("pixels", "hidden1", "hidden2", "reader")
    terms = fam.layer_scores(x_val)
    np.testing.assert_allclose(sum(terms.values()), fam.score(x_val))
    # every term is on the validation digits' scale: median 0, 99th percentile 1 (the reader's: its weight)
    for name, t in terms.items():
        top = cfg.reader_weight if name == "reader" else 1.0
        assert abs(np.median(t)) < 1e-9 and abs(np.quantile(t, 0.99) - top) < 1e-9
    # the confident cut: CONFIDENT_SHARE of the familiar validation digits reach it, but never below the floor
    s = fam.score(x_val)
    top = torch.softmax(torch.as_tensor(reader_outputs(reader, x_val)[0]), -1).numpy().max(1)[s <= fam.threshold_]
    cut = np.quantile(top, 1 - CONFIDENT_SHARE)
    assert fam.confident_ == pytest.approx(max(CONFIDENT_FLOOR, cut))
    assert abs((top >= cut).mean() - CONFIDENT_SHARE) < 0.005
    # the stored state gives the same scores, and a state without the reader's term is refused
    # the band's edge: band_quantile of the validation digits' scores, below the threshold
    assert np.mean(fam.val_scores_ > fam.band_) == pytest.approx(1 - cfg.band_quantile, abs=0.002)
    assert fam.band_ < fam.threshold_
    again = Familiarity.from_state(tiny_model, fam.state(), cfg, reader=reader)
    np.testing.assert_allclose(again.score(x_val[:50]), fam.score(x_val[:50]))
    assert again.confident_ == fam.confident_ and again.band_ == fam.band_
    with pytest.raises(ValueError, match="terms"):
        Familiarity.from_state(tiny_model, fam.state(), cfg)


def test_unfamiliar_reason_names_the_evidence_that_weighed_most():
    p = np.full(10, 0.1)
    common = dict(familiarity=3.0, familiarity_threshold=1.0, familiar_share=0.999)
    by_reader = headline(p, terms={"pixels": 0.5, "hidden1": 0.2, "hidden2": 0.3, "reader": 2.0}, **common)
    by_distance = headline(p, terms={"pixels": 1.5, "hidden1": 0.5, "hidden2": 0.5, "reader": 0.5}, **common)
    assert by_reader.kind == by_distance.kind == "unfamiliar"
    assert "not a digit" in by_reader.reason and "further from every digit" in by_distance.reason
    assert by_reader.evidence["familiarity"]["terms"]["reader"] == 2.0


def test_a_build_without_a_reader_reads_the_ensemble():
    from uqcore.predict import headline_source

    assert headline_source({"mlp": 0, "ensemble": 0, "reader": 0}) == "reader"
    assert headline_source({"mlp": 0, "ensemble": 0}) == "ensemble"
    assert headline_source({"mlp": 0}) == "mlp"


def test_posthoc_without_a_reader_keeps_the_other_thresholds(tmp_path, tiny_model, mnist, monkeypatch):
    """A build whose Parts lack the reader (and the teaching network) stores nan for them, and loads back the
    others: the fallback to the ensemble is reachable, not a KeyError."""
    from uqcore import build as build_module
    from uqcore.store import Store

    small = build_module.BuildConfig(quick=True).resolved()
    monkeypatch.setattr(build_module, "load_mnist", lambda: type(mnist)(
        train=mnist.train.subset(2000), val=mnist.val.subset(1000), test=mnist.test.subset(500)))
    store = Store(tmp_path)
    args = (store, small, "posthoc-test", tiny_model, [tiny_model, tiny_model], tiny_model)
    parts, thresholds, _ = build_module.posthoc_stage(*args, force=False, progress=lambda *a: None)
    assert parts.reader is None and "reader" not in thresholds and "overconfident" not in thresholds
    again, loaded, _ = build_module.posthoc_stage(*args, force=False, progress=lambda *a: None)
    assert loaded == pytest.approx(thresholds) and set(loaded) == set(make_methods(again))


def test_turned_outliers_are_training_digits_turned_a_quarter(mnist):
    from uqcore.data.families import TURNED_CLASSES, _turned
    from uqcore.data.preprocess import frame_like_mnist

    got = _turned(6, np.random.default_rng(3))
    rng = np.random.default_rng(3)  # the same draws, by hand
    pool = np.flatnonzero(np.isin(mnist.train.y, TURNED_CLASSES))
    idx, quarter = rng.choice(pool, 6), rng.choice([1, 3], 6)
    assert set(mnist.train.y[idx]) <= set(TURNED_CLASSES) and not {0, 1, 8} & set(TURNED_CLASSES)
    want = np.stack([frame_like_mnist(np.rot90(mnist.train.x[i].reshape(28, 28), k)) for i, k in zip(idx, quarter)])
    np.testing.assert_allclose(got, want.reshape(6, 784), atol=1e-6)
    assert not np.allclose(got, mnist.train.x[idx], atol=0.1)  # turned, not the digits as they are


def test_fragments_are_seeded_pieces_that_are_not_bars(mnist):
    from uqcore.data.families import FRAGMENT_ASPECT, _fragments

    got = _fragments(40, np.random.default_rng(4))
    np.testing.assert_array_equal(got, _fragments(40, np.random.default_rng(4)))
    assert (got.max(1) == pytest.approx(1.0)) and got.shape == (40, 784)  # framed: stretched to 1, as MNIST
    for v in got.reshape(-1, 28, 28):
        lo, hi = np.linalg.eigvalsh(np.cov(np.argwhere(v > 0.3).T.astype(float)))
        assert hi <= (1.2 * FRAGMENT_ASPECT) ** 2 * lo  # framing scales both axes alike: no bar slips in
    whole = mnist.train.x[:2000]
    assert np.abs(got[:, None] - whole[None]).mean(2).min() > 0.02  # pieces, not training digits as they are


def test_nearest_digit_distance_equals_scikit_learns():
    from sklearn.neighbors import NearestNeighbors

    from uqcore.data.families import _nearest_digit_distance

    rng = np.random.default_rng(0)
    ref, x = rng.random((300, 784), dtype=np.float32), rng.random((2100, 784), dtype=np.float32)  # > 1 chunk
    want = NearestNeighbors(n_neighbors=1).fit(ref).kneighbors(x)[0][:, 0]
    np.testing.assert_allclose(_nearest_digit_distance(x, ref), want, rtol=1e-4)
    assert np.allclose(_nearest_digit_distance(ref[:5], ref), 0.0, atol=2e-3)  # known answer: itself, at 0


def test_enclosed_outlines_are_seeded_and_further_from_every_digit_than_most_digits(mnist):
    from uqcore.data.families import NOT_LIKE_A_DIGIT, _enclosed, _nearest_digit_distance, _pen_drawings

    got = _enclosed(30, np.random.default_rng(2))
    np.testing.assert_array_equal(got, _enclosed(30, np.random.default_rng(2)))
    assert got.shape == (30, 784) and (got.max(1) == pytest.approx(1.0))  # framed like MNIST
    ref = mnist.train.x[:10_000]
    far = np.quantile(_nearest_digit_distance(mnist.val.x[:2_000], ref), NOT_LIKE_A_DIGIT)
    assert (_nearest_digit_distance(got, ref) > far).all()  # none as close to a digit as most digits are
    pen = _pen_drawings(30, np.random.default_rng(2))
    np.testing.assert_array_equal(pen, _pen_drawings(30, np.random.default_rng(2)))
    assert pen.shape == (30, 784) and (_nearest_digit_distance(pen, ref) > far).all()


def test_an_empty_ring_is_never_an_outline_with_marks():
    """The rule "an empty ring is a 0": every ring gets a mark, boxes and polygons may stay empty."""
    from PIL import Image, ImageDraw

    from uqcore.data.families import ENCLOSED_MARKS, _draw_enclosed

    rng = np.random.default_rng(0)
    drawn = [_draw_enclosed(ImageDraw.Draw(Image.new("L", (112, 112))), rng, 9) for _ in range(300)]
    rings = [m for shape, m in drawn if shape == "ring"]
    others = [m for shape, m in drawn if shape != "ring"]
    assert rings and min(rings) >= 1 and max(rings) <= ENCLOSED_MARKS[1]
    assert 0 in others and {shape for shape, _ in drawn} == {"ring", "box", "polygon"}


def test_the_filter_drops_a_drawn_zero_and_keeps_a_drawn_face(mnist):
    """Known answers for ``_far_from_digits``: a plain ring drawn with MNIST's pen is a 0 and is (almost) never
    kept; the same ring with two eyes and a smile is further from every training digit than 90% of real digits
    are from theirs, most of the time."""
    from uqcore.data.families import _far_from_digits

    def ring(d, rng, w):
        c, r = rng.uniform(50, 62, 2), rng.uniform(28, 40, 2)
        d.ellipse([c[0] - r[0], c[1] - r[1], c[0] + r[0], c[1] + r[1]], outline=255, width=w)

    def face(d, rng, w):
        ring(d, rng, w)
        for cx in (42, 70):
            d.ellipse([cx - 6, 44, cx + 6, 56], fill=255)
        d.arc([36, 48, 76, 80], 20, 160, fill=255, width=w)

    # 20 rounds of candidates, ~1,100 rings in all: 1 is kept with this seed (a ring the turn and framing stretched)
    assert len(_far_from_digits(20, np.random.default_rng(0), ring)) <= 2
    assert len(_far_from_digits(20, np.random.default_rng(0), face)) == 20
