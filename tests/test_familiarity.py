"""New OOD scores (k-NN, relative Mahalanobis), the familiarity score and the three-way headline."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.covariance import EmpiricalCovariance

from uqcore.file_path import headline_kinds
from uqcore.metrics.familiarity import Familiarity, FamiliarityConfig, stratified_bank
from uqcore.metrics.ood import KNN, Mahalanobis, RelativeMahalanobis
from uqcore.verdict import article, headline


@pytest.fixture
def blobs(rng):
    means = np.array([[0.0, 0.0, 0.0], [6.0, 0.0, 1.0], [0.0, 6.0, -1.0]])
    y = np.repeat(np.arange(3), 200)
    x = means[y] + rng.normal(0, [1.0, 0.5, 2.0], (len(y), 3))
    return x, y


def test_knn_training_point_is_at_distance_zero(blobs):
    x, _ = blobs
    knn = KNN(k=1).fit(x)
    assert np.allclose(knn.score(x[:50]), 0.0, atol=1e-5)


def test_knn_equals_brute_force_on_normalised_features(blobs, rng):
    x, _ = blobs
    q = rng.normal(0, 3, (40, 3))
    bank = x / np.linalg.norm(x, axis=1, keepdims=True)
    qn = q / np.linalg.norm(q, axis=1, keepdims=True)
    d = np.sort(np.linalg.norm(qn[:, None] - bank[None], axis=-1), axis=1)
    assert np.allclose(KNN(k=7).fit(x).score(q), d[:, 6], atol=1e-5)
    raw = np.sort(np.linalg.norm(q[:, None] - x[None], axis=-1), axis=1)[:, 2]
    assert np.allclose(KNN(k=3, normalise=False).fit(x).score(q), raw, atol=1e-4)


def test_knn_few_rows_path_equals_scikit_learn(rng):
    """A reading of a few rows skips scikit-learn (``KNN.FEW``): the same distances as its kneighbors, at the
    size of the familiarity banks."""
    from sklearn.neighbors import NearestNeighbors

    bank = rng.random((3000, 256)).astype(np.float32)
    q = np.vstack([rng.random((5, 256)), bank[:2]]).astype(np.float32)  # two sit on the bank
    for normalise in (True, False):
        knn = KNN(k=10, normalise=normalise).fit(bank)
        assert len(q) <= KNN.FEW
        prep = knn._prep(q)
        want = NearestNeighbors(n_neighbors=10, algorithm="brute").fit(knn.bank_).kneighbors(prep)[0][:, -1]
        np.testing.assert_allclose(knn.score(q), want, rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(knn.score(q), np.concatenate([knn.score(np.vstack([q] * 3))[:len(q)]]),
                                   rtol=1e-5, atol=1e-4)  # 21 rows: scikit-learn's path


def test_knn_state_round_trip_and_errors(blobs):
    x, _ = blobs
    knn = KNN(k=5).fit(x)
    again = KNN.from_state(knn.state())
    assert np.allclose(again.score(x[:9] + 0.3), knn.score(x[:9] + 0.3))
    with pytest.raises(ValueError, match="columns"):
        knn.score(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="k must"):
        KNN(k=0)


def test_mahalanobis_class_mean_is_zero_and_matches_sklearn(blobs, rng):
    x, y = blobs
    m = Mahalanobis(ridge=0).fit(x, y)
    assert np.allclose(m.score(m.means_), 0.0, atol=1e-9)
    # tied covariance: sklearn on the class-centred data gives the same precision
    centred = x - m.means_[y]
    ref = EmpiricalCovariance(assume_centered=True).fit(centred)
    q = rng.normal(0, 4, (30, 3))
    want = np.min([ref.mahalanobis(q - mu) for mu in m.means_], axis=0)
    assert np.allclose(m.score(q), want, rtol=1e-6)


def test_relative_mahalanobis_matches_sklearn(blobs, rng):
    x, y = blobs
    r = RelativeMahalanobis(ridge=0).fit(x, y)
    q = rng.normal(0, 4, (30, 3))
    background = EmpiricalCovariance().fit(x).mahalanobis(q)
    assert np.allclose(r.background(q), background, rtol=1e-6)
    assert np.allclose(r.score(q), Mahalanobis(ridge=0).fit(x, y).score(q) - background, rtol=1e-6, atol=1e-9)
    again = RelativeMahalanobis.from_state(r.state())
    assert np.allclose(again.score(q), r.score(q))
    # a point far along a direction every class shares scores lower than one off every class
    assert r.score(np.array([[0.0, 0.0, 9.0]]))[0] < r.score(np.array([[9.0, 9.0, 0.0]]))[0]


def test_stratified_bank_is_balanced():
    y = np.repeat(np.arange(10), [50 + 10 * k for k in range(10)])
    idx = stratified_bank(y, 200, seed=0)
    assert np.array_equal(np.bincount(y[idx]), np.full(10, 20))


def test_familiarity_on_a_tiny_model(mnist, tiny_model):
    cfg = FamiliarityConfig(k=5, bank=2000)
    fam = Familiarity(cfg).fit(tiny_model, mnist.train.x[:5000], mnist.train.y[:5000], mnist.val.x[:2000])
    # 1% of the validation digits are above the threshold, by construction
    assert np.mean(fam.val_scores_ > fam.threshold_) == pytest.approx(0.01, abs=0.002)
    assert fam.band_ is None  # no reader: no band (it was chosen on the reader's probabilities)
    assert Familiarity.from_state(tiny_model, fam.state(), cfg).band_ is None
    digits = fam.score(mnist.test.x[:300])
    noise = fam.score(np.random.default_rng(0).random((100, 784)).astype(np.float32))
    assert np.mean(fam.is_unfamiliar(noise)) == 1.0 and np.mean(fam.is_unfamiliar(digits)) < 0.05
    assert fam.percentile(float(fam.val_scores_.max()) + 1) == 1.0 and fam.percentile(-1e9) == 0.0
    from uqcore.metrics.familiarity import LAYERS

    again = Familiarity.from_state(tiny_model, fam.state(), cfg)
    assert np.allclose(again.score(mnist.test.x[:20]), fam.score(mnist.test.x[:20]))
    assert set(fam.layer_scores(mnist.test.x[:3])) == set(LAYERS)
    from uqcore.verdict import CONFIDENT

    assert fam.terms == LAYERS and fam.confident_ == again.confident_ == CONFIDENT  # no reader: the fixed 90%


# ----------------------------------------------------------------------------- the headline


def test_article():
    assert article(8) == "an 8" and article(7) == "a 7" and article(0) == "a 0" and article(11) == "an 11"


def h(probs, fam=0.0):
    return headline(np.asarray(probs, float), familiarity=fam, familiarity_threshold=1.0, familiar_share=0.5)


def test_headline_three_kinds():
    p = np.full(10, 0.01)
    p[8] = 0.91
    v = h(p)
    assert v.kind == "confident" and v.label == 8 and "an 8" in v.sentence
    blend = np.zeros(10)
    blend[4], blend[9] = 0.62, 0.38
    v = h(blend)
    assert v.kind == "ambiguous" and {v.label, v.runner_up} == {4, 9} and "4 and 9" in v.sentence
    # an unfamiliar image is unfamiliar however sure the probabilities are: one rule, not a vote
    v = headline(p, familiarity=2.0, familiarity_threshold=1.0, familiar_share=0.996)
    assert v.kind == "unfamiliar" and "99.6%" in v.reason and v.evidence["decided_by"] == "familiarity"
    assert set(v.to_json()) >= {"kind", "label", "runner_up", "sentence", "evidence"}


def test_headline_band_known_answers():
    """In the band (above ``band``, not above the threshold) an image is unfamiliar unless its top digit's
    probability with "not a digit" among the answers (top x (1 - not_a_digit)) reaches BAND_CONFIDENT; below the
    band the usual confident cut decides; above the threshold nothing helps."""
    from uqcore.verdict import BAND_CONFIDENT, band_probability, not_a_digit_probability

    def p(top):
        out = np.full(10, (1 - top) / 9)
        out[3] = top
        return out

    def kind(top, fam, nad=0.0):
        return headline(p(top), familiarity=fam, familiarity_threshold=1.0, familiar_share=0.98, confident=0.87,
                        band=0.5, not_a_digit=nad).kind

    assert BAND_CONFIDENT == 0.80
    assert band_probability(0.9, 0.2) == pytest.approx(0.72)
    assert not_a_digit_probability(0.0) == 0.5 and not_a_digit_probability(np.log(3.0)) == pytest.approx(0.75)
    assert kind(0.90, 0.4) == "confident" and kind(0.80, 0.4) == "ambiguous"  # below the band
    assert kind(0.90, 0.4, nad=0.45) == "confident"  # below the band a lean towards 'not a digit' is no call
    assert kind(0.90, 0.4, nad=0.5) == "confident"  # a tie is no veto
    assert kind(0.90, 0.4, nad=0.51) == "unfamiliar"  # the reader's veto: more likely no digit than a digit
    veto = headline(p(0.99), familiarity=0.1, familiarity_threshold=1.0, familiar_share=0.3, band=0.5,
                    not_a_digit=0.6)
    assert veto.kind == "unfamiliar" and veto.evidence["decided_by"] == "not a digit"
    assert "more likely to be no digit at all (60%)" in veto.reason and "would pick a 3" in veto.reason
    assert not veto.prediction_set and veto.evidence["familiarity"]["reader_veto"] == 0.5
    assert kind(0.79, 0.7) == "unfamiliar" and kind(0.90, 0.7) == "confident"  # in it: 80% of one digit
    assert kind(0.99, 0.7, nad=0.25) == "unfamiliar"  # 0.99 x 0.75 = 0.74: sure which digit, not that it is one
    assert kind(0.99, 0.7, nad=0.15) == "confident"  # 0.99 x 0.85 = 0.84
    assert kind(0.99, 1.2) == "unfamiliar"  # above the threshold
    v = headline(p(0.99), familiarity=0.7, familiarity_threshold=1.0, familiar_share=0.98, confident=0.87, band=0.5,
                 not_a_digit=0.3)
    assert v.evidence["decided_by"] == "familiarity and probability"
    f = v.evidence["familiarity"]
    assert f["band"] == 0.5 and f["in_band"] and f["not_a_digit"] == 0.3
    assert f["band_probability"] == pytest.approx(0.693)
    assert "pick a 3 (99%), but it gives 30% to 'not a digit at all'" in v.reason
    assert "leaves at most 69.3% for a 3" in v.reason
    assert "80%" in v.reason and "98.0%" in v.reason and not v.prediction_set  # no guarantee when unfamiliar
    # floored: 79.8% is not rounded up to the 80% it lacks; no 'not a digit' clause when it is ~0
    floored = headline(p(0.798), familiarity=0.7, familiarity_threshold=1.0, familiar_share=0.98, band=0.5).reason
    assert "at most 79.8% sure" in floored and "not a digit at all" not in floored
    lean = {"pixels": 0.1, "hidden1": 0.1, "hidden2": 0.1, "reader": 0.4}  # the reader's term weighs most
    assert "finds it unusual" in headline(p(0.7), familiarity=0.7, familiarity_threshold=1.0, familiar_share=0.98,
                                          band=0.5, terms=lean).reason  # in the band: a lean, not a call
    assert "calls it not a digit" in headline(p(0.9), familiarity=1.5, familiarity_threshold=1.0,
                                              familiar_share=0.999, band=0.5, terms=lean).reason
    below = headline(p(0.9), familiarity=0.3, familiarity_threshold=1.0, familiar_share=0.6, band=0.5)
    assert below.evidence["familiarity"]["in_band"] is False
    sure = headline(p(0.96), familiarity=0.7, familiarity_threshold=1.0, familiar_share=0.98, band=0.5)
    assert "more unusual than most" in sure.reason
    # without a band (an older build) the rule is the two-cut one
    assert headline(p(0.7), familiarity=0.7, familiarity_threshold=1.0, familiar_share=0.98, confident=0.6).kind \
        == "confident"


@pytest.mark.parametrize("band", [None, 0.6])
def test_vectorised_kinds_match_the_rule(rng, band):
    probs = rng.dirichlet(np.full(10, 0.3), 300)
    probs[:60] = rng.dirichlet(np.full(10, 0.02), 60)  # many near-certain rows, so the band's 95% cut matters
    fam = rng.normal(0.5, 0.6, 300)
    empty = rng.random(300) < 0.05
    nad = rng.random(300) * (rng.random(300) < 0.5)  # half of them weigh 'not a digit' too
    kinds = headline_kinds(probs, fam, empty, threshold=1.0, band=band, not_a_digit=nad)
    for i in range(300):
        q = probs[i] / probs[i].sum()
        want = "no_digit" if empty[i] else headline(q, familiarity=fam[i], familiarity_threshold=1.0,
                                                    familiar_share=0.5, band=band, not_a_digit=nad[i]).kind
        assert kinds[i] == want
    if band is not None:
        assert ((fam > band) & (fam <= 1.0) & (kinds == "unfamiliar")).any()
        assert ((fam > band) & (fam <= 1.0) & (kinds == "confident")).any()


def test_file_path_measures_files_and_reuses_only_identical_inputs(quick_bundle, monkeypatch):
    """The PNG view of an array family is its arrays' outputs only when the files gave back exactly the same
    inputs; any difference (here: one pixel of one test digit) makes it run every score and method again."""
    from uqcore import file_path

    b = quick_bundle
    x = b.predictions.images("test")[:200].reshape(-1, 784)
    y = b.predictions.y("test")[:200]
    monkeypatch.setattr(file_path, "_families", lambda predictions, n: ([("test", y, x, None)], {}))
    calls = []
    counted = {name: type("Counted", (), {"predict": lambda self, v, m=m: calls.append(1) or m.predict(v)})()
               for name, m in b.methods.items()}
    exact = file_path.measure(counted, b.familiarity, b.predictions, n_photos=6)
    assert len(calls) == len(b.methods)  # once per method: the PNG view was copied from the arrays view
    for key in ("familiarity", "knn_hidden2", "ensemble/probs", "mlp/ood_score"):
        np.testing.assert_array_equal(exact[f"test/png/{key}"], exact[f"test/arrays/{key}"])
    real = file_path.through_files

    def nudged(files):
        v, empty = real(files)
        v = v.copy()
        v[0, 400] = min(1.0, v[0, 400] + 0.5)
        return v, empty

    monkeypatch.setattr(file_path, "through_files", nudged)
    moved = file_path.measure(counted, b.familiarity, b.predictions, n_photos=6)
    assert len(calls) == 3 * len(b.methods)  # twice more: both views were run
    assert moved["test/png/familiarity"][0] != moved["test/arrays/familiarity"][0]  # measured, not copied
    np.testing.assert_allclose(moved["test/png/familiarity"][1:], moved["test/arrays/familiarity"][1:], atol=1e-5)


def test_score_histograms_draw_the_threshold_and_the_band_edge():
    from uqcore.plots import ood_histograms

    rng = np.random.default_rng(0)
    fig = ood_histograms(rng.normal(0, 1, 500), {"letters": rng.normal(3, 1, 200)}, threshold=2.0, band=1.5)
    lines = {s.x0: s.line.dash for s in fig.layout.shapes}
    assert lines == {2.0: "dash", 1.5: "dot"}
    assert {a.text for a in fig.layout.annotations} == {"threshold", "unsure → unfamiliar"}
    plain = ood_histograms(rng.normal(0, 1, 500), {}, threshold=2.0, band=None)  # a method's score: no band
    assert [s.x0 for s in plain.layout.shapes] == [2.0]


def _band_fp(odds: float) -> dict:
    """A file-path record by hand: one family 'odd' of 4 images in the band, read as a 3 with 99%, whose reader
    gives 'not a digit' the log-odds ``odds``; and 3 clean test digits and 2 blends far below the band."""
    sure = np.full(10, 0.01 / 9)
    sure[3] = 0.99
    fp = {"families": np.array(["test", "odd", "blends"]), "threshold": np.asarray(1.0), "quantile": np.asarray(0.99),
          "confident": np.asarray(0.87), "band": np.asarray(0.5), "source": np.asarray("reader"),
          "test/y": np.array([3, 3, 3]), "odd/y": np.full(4, -1), "blends/y": np.array([3, 3]),
          "blends/label_b": np.array([5, 5])}
    for (fam, n, score, o), view in itertools.product(
            (("test", 3, 0.1, -9.0), ("odd", 4, 0.7, odds), ("blends", 2, 0.1, -9.0)), ("arrays", "png")):
        fp.update({f"{fam}/{view}/empty": np.zeros(n, bool), f"{fam}/{view}/familiarity": np.full(n, score),
                   f"{fam}/{view}/reader/probs": np.tile(sure, (n, 1)), f"{fam}/{view}/reader/ood_score": np.full(n, o),
                   **{f"{fam}/{view}/{s}": np.full(n, score) for s in ("knn_pixels", "knn_hidden1", "knn_hidden2",
                                                                       "rmd_hidden2")}})
    return fp


@pytest.mark.parametrize("odds, want", [(np.log(0.3 / 0.7), "unfamiliar"), (np.log(0.1 / 0.9), "confident")])
def test_the_verdict_matrix_counts_the_readers_not_a_digit_in_the_band(odds, want):
    """0.99 x (1 - 0.3) = 0.69 is under the band's 80%: unfamiliar; 0.99 x 0.9 = 0.89 is not: confident."""
    from uqcore.file_path import blends_naming_both, summary

    out = summary(_band_fp(odds), {"reader": "not-a-digit"})
    assert out["verdict_matrix"]["odd"]["png"][want] == 1.0
    assert out["verdict_matrix"]["test"]["png"]["confident"] == 1.0  # below the band nothing changes
    assert blends_naming_both(_band_fp(odds)) == 0.0  # read as a sure 3, below the band: confident, not ambiguous


def test_headline_for_passes_the_readers_not_a_digit():
    from types import SimpleNamespace

    from uqcore.predict import headline_for

    fam = SimpleNamespace(threshold_=1.0, confident_=0.87, band_=0.5, percentile=lambda s: 0.98,
                          layer_scores=lambda x: {"pixels": np.array([0.2]), "hidden1": np.array([0.2]),
                                                  "hidden2": np.array([0.1]), "reader": np.array([0.2])})
    probs = np.full(10, 0.01 / 9)
    probs[3] = 0.99
    results = {"reader": {"probs": probs, "ood_score": float(np.log(0.3 / 0.7))}, "mlp": {"probs": probs,
                                                                                     "ood_score": 50.0}}
    h = headline_for(fam, results, np.zeros(784, np.float32))
    assert h.kind == "unfamiliar" and h.evidence["familiarity"]["not_a_digit"] == pytest.approx(0.3)
    assert h.evidence["familiarity"]["band_probability"] == pytest.approx(0.693)
    del results["reader"]  # another source has no 'not a digit': its OOD score is not read as one
    h = headline_for(fam, results, np.zeros(784, np.float32))
    assert h.kind == "confident" and "not_a_digit" not in h.evidence["familiarity"]
    assert "reader_veto" not in h.evidence["familiarity"]
