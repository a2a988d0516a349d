"""Calibration lab: pure helpers, and the page through AppTest on one quick build (module fixture)."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import grid_captions, open_page
from streamlit.testing.v1 import AppTest

from dashboard.logic.calibration import ViewState, parse_view, slider_temperatures, view_params
from uqcore.analysis.calibration import bin_members, lab_metrics, logits_for, temperature_sweep
from uqcore.metrics.calibration import ece, mce, nll, reliability_bins, softmax
from uqcore.predictions import Predictions

PAGE = "views/calibration_lab.py"
METHODS = ["mlp", "temperature", "ensemble", "mc_dropout", "laplace", "evidential"]
DEFAULT = ViewState("mlp", 1.0, 15, "uniform")


# ----------------------------------------------------------------------------- pure helpers
def _toy(n=500, c=10, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, c)) * 3
    y = np.where(rng.random(n) < 0.7, z.argmax(1), rng.integers(0, c, n))
    return z, y


def test_lab_metrics_match_calibration_module():
    z, y = _toy()
    for strategy in ("uniform", "quantile"):
        for t in (0.4, 1.0, 3.0):
            p = softmax(z, t)
            m = lab_metrics(p, y, n_bins=12, strategy=strategy)
            assert m["ece"] == pytest.approx(ece(p, y, n_bins=12, strategy=strategy), abs=1e-12)
            assert m["mce"] == pytest.approx(mce(p, y, n_bins=12, strategy=strategy), abs=1e-12)
            assert m["nll"] == pytest.approx(nll(p, y))


def test_log_probs_as_logits_is_power_renormalised():
    z, _ = _toy()
    p = softmax(z)
    pred = Predictions()
    pred.put("test", "m", "probs", p)
    logits, real = logits_for(pred, "test", "m")
    assert not real
    q = softmax(logits, 2.0)
    r = p ** 0.5
    np.testing.assert_allclose(q, r / r.sum(1, keepdims=True), rtol=1e-4, atol=1e-6)
    pred.put("test", "m", "logits", z)
    assert logits_for(pred, "test", "m")[1]


def test_sweep_minimum_near_optimal_temperature():
    z, y = _toy(2000)
    temps = np.geomspace(0.2, 5, 40)
    s = temperature_sweep(z, y, temps)
    assert s["ece"].shape == s["nll"].shape == (40,)
    from uqcore.metrics.calibration import optimal_temperature

    t_best = temps[np.argmin(s["nll"])]
    assert abs(np.log(t_best) - np.log(optimal_temperature(z, y))) < 0.1


def test_parse_view_valid_invalid_and_round_trip():
    v, problems = parse_view({"method": "ensemble", "T": "2.5", "bins": "10", "binning": "quantile"},
                             METHODS, DEFAULT)
    assert v == ViewState("ensemble", 2.5, 10, "quantile") and not problems
    assert parse_view(view_params(v), METHODS, DEFAULT)[0] == v
    for bad in ({"method": "nope"}, {"T": "hot"}, {"T": "50"}, {"T": "nan"}, {"bins": "2"}, {"bins": "x"},
                {"binning": "log"}):
        v, problems = parse_view(bad, METHODS, DEFAULT)
        assert v == DEFAULT and len(problems) == 1


def test_slider_options_and_bin_members():
    opts = slider_temperatures(extra=[1.234, 99])
    assert 0.4 in opts and 1.0 in opts and 3.0 in opts and 1.23 in opts and 99 not in opts
    assert opts == sorted(opts) and opts[0] == 0.2 and opts[-1] == 5.0
    z, y = _toy()
    p = softmax(z)
    b = reliability_bins(p, y, n_bins=10)
    k = int(np.argmax(b.count))
    m = bin_members(b, k, p, y, limit=24)
    assert m["total"] == b.count[k] and len(m["index"]) == min(24, b.count[k])
    assert np.all(b.bin_index[m["index"]] == k)
    c = m["correct"]
    assert not np.any(c[:-1] & ~c[1:]), "mistakes come first"


def test_live_states_equal_the_lab_metrics_and_payload_is_json():
    import json

    from dashboard.logic.calibration import live_payload, live_temperatures
    from uqcore.analysis.calibration import temperature_states

    z, y = _toy()
    temps = live_temperatures(extra=[1.234])
    assert len(temps) >= 140 and 1.23 in temps and temps == sorted(temps)
    for strategy in ("uniform", "quantile"):
        s = temperature_states(z, y, temps, n_bins=12, strategy=strategy)
        for i in (0, temps.index(1.0), len(temps) - 1):
            m = lab_metrics(softmax(z, temps[i]), y, n_bins=12, strategy=strategy)
            assert s["ece"][i] == pytest.approx(m["ece"], abs=1e-12) and s["nll"][i] == pytest.approx(m["nll"])
            np.testing.assert_array_equal(s["count"][i], m["bins"].count)
        p = live_payload(s, current=1.23, best=1.9, selected=3, title="x")
        json.dumps(p, allow_nan=False)  # NaN (empty bins) became null
        assert p["temperature"][p["index"]] == 1.23 and p["temperature"][p["ref"]] == 1.0
        assert abs(p["temperature"][p["best"]] - 1.9) < 0.03
        assert p["same_edges"] == (strategy == "uniform")
        assert [label for _, label in p["ticks"]] == ["0.2", "0.5", "1", "2", "5"]
        assert p["best_on"] == "validation"
        assert live_payload(s, current=1.0, best=1.0, selected=0, title="x", best_on="the other half")["best_on"] == \
            "the other half"  # a file's best T (Your predictions) is fitted on half its rows


# ----------------------------------------------------------------------------- the page
@pytest.fixture(scope="module")
def predictions(quick_bundle):
    return quick_bundle.predictions


def open_lab(query: dict | None = None) -> AppTest:
    return open_page(PAGE, query=query)


def shown(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def expected(predictions, method, t, n_bins=15, strategy="uniform") -> dict[str, str]:
    z, _ = logits_for(predictions, "test", method)
    y = predictions.y("test")
    p = softmax(z, t)
    return {"ECE": f"{ece(p, y, n_bins=n_bins, strategy=strategy):.2%}", "NLL": f"{nll(p, y):.4f}"}


def bins_slider(at):
    return next(s for s in at.slider if s.label == "Number of bins")


def lab_default(predictions) -> str:
    return "overconfident" if "overconfident" in predictions.methods else "mlp"


def test_page_opens_with_defaults(predictions):
    at = open_lab()
    assert at.title[0].value.endswith("Calibration lab")
    m = shown(at)
    for label in ("ECE", "MCE", "NLL", "Brier", "Accuracy"):
        assert label in m
    assert all(metric.help for metric in at.metric), "every metric explains itself"
    method = lab_default(predictions)
    assert method == "overconfident", "the quick build has the teaching network, and the lab opens on it"
    want = expected(predictions, method, 1.0)
    assert m["ECE"] == want["ECE"] and m["NLL"] == want["NLL"]
    assert at.get("plotly_chart"), "the ECE / NLL curves over T"
    q = dict(at.query_params)
    assert q.pop("bin").isdigit(), "the bin shown is in the link too"
    assert q == {"method": method, "T": "1", "bins": "15", "binning": "uniform"}
    assert any("Share this view" in c.value and f"calibration_lab?method={method}" in c.value for c in at.caption)
    assert at.selectbox[0].options[-1] and len(at.selectbox[0].options) == len(predictions.methods), \
        "every method can be chosen"


def test_temperature_and_bins_move_the_numbers(predictions):
    method = lab_default(predictions)
    before = shown(open_lab())
    at = open_lab({"T": "3"})  # the live slider sends its T on release; a link is the same path on the server
    assert not at.exception
    after = shown(at)
    assert after["ECE"] != before["ECE"] and after["NLL"] != before["NLL"]
    want = expected(predictions, method, 3.0)
    assert after["ECE"] == want["ECE"] and after["NLL"] == want["NLL"]
    assert at.query_params["T"] == "3"

    bins_slider(at).set_value(25).run()
    assert not at.exception
    assert shown(at)["ECE"] == expected(predictions, method, 3.0, n_bins=25)["ECE"]
    assert shown(at)["NLL"] == after["NLL"], "bins do not change NLL"
    at.radio[0].set_value("quantile").run()
    assert shown(at)["ECE"] == expected(predictions, method, 3.0, n_bins=25, strategy="quantile")["ECE"]
    assert at.query_params["bins"] == "25" and at.query_params["binning"] == "quantile"


def test_presets_set_temperature(predictions):
    method = lab_default(predictions)
    at = open_lab()
    next(b for b in at.button if b.label.startswith("Sharpen")).click().run()
    assert at.query_params["T"] == "0.4"
    assert shown(at)["ECE"] == expected(predictions, method, 0.4)["ECE"]
    next(b for b in at.button if b.label.startswith("Soften")).click().run()
    assert at.query_params["T"] == "3"
    best = next(b for b in at.button if "Optimal T" in b.label)
    best.click().run()
    opt = float(at.query_params["T"])
    assert opt != 3.0 and f"{opt:.2f}" in best.label
    assert shown(at)["ECE"] == expected(predictions, method, opt)["ECE"]
    next(b for b in at.button if "No scaling" in b.label).click().run()
    assert at.query_params["T"] == "1"


def test_shared_link_reopens_the_same_view(predictions):
    at = open_lab({"method": "ensemble", "T": "2.5", "bins": "10", "binning": "quantile"})
    assert not at.warning
    assert at.selectbox[0].value == "ensemble"
    assert bins_slider(at).value == 10
    assert at.radio[0].value == "quantile"
    want = expected(predictions, "ensemble", 2.5, n_bins=10, strategy="quantile")
    assert shown(at)["ECE"] == want["ECE"] and shown(at)["NLL"] == want["NLL"]
    assert at.query_params["method"] == "ensemble" and at.query_params["T"] == "2.5"


def test_invalid_link_warns_and_falls_back(predictions):
    at = open_lab({"method": "nonsense", "T": "abc", "bins": "500", "binning": "log"})
    assert at.warning, "an invalid link should say so"
    assert "nonsense" in at.warning[0].value
    assert at.selectbox[0].value == lab_default(predictions) and bins_slider(at).value == 15
    assert at.query_params["T"] == "1"
    assert shown(at)["ECE"] == expected(predictions, lab_default(predictions), 1.0)["ECE"]
    at2 = open_lab({"T": "0.4"})  # a partly given link keeps the rest at defaults
    assert not at2.warning and at2.query_params["T"] == "0.4"


def test_several_models_on_one_diagram(predictions):
    at = open_lab()
    at.multiselect(key="cal_overlay").set_value(["overconfident", "ensemble", "evidential"]).run()
    assert not at.exception
    fig = next(c for c in at.get("plotly_chart") if "perfectly calibrated" in c.proto.spec)
    assert all(t in fig.proto.spec for t in ("Deep ensemble", "Evidential (Dirichlet)"))
    at.toggle(key="cal_overlay_best").set_value(True).run()
    assert not at.exception


def test_other_calibrators_table(predictions):
    from uqcore.metrics.calibrators import CALIBRATOR_TITLES, CALIBRATORS, TEXTBOOK, compare

    at = open_lab({"method": "mlp"})
    table, textbook = [d.value for d in at.dataframe if "NLL" in d.value.columns]
    assert list(table.index) == [CALIBRATOR_TITLES[k] for k in CALIBRATORS]
    assert list(textbook.index) == [CALIBRATOR_TITLES[k] for k in TEXTBOOK]
    assert all("textbook" in t for t in textbook.index) and not any("textbook" in t for t in table.index)
    zv, _ = logits_for(predictions, "val", "mlp")
    zt, _ = logits_for(predictions, "test", "mlp")
    want = compare(zv, predictions.y("val"), zt, predictions.y("test"))
    assert table.loc["Temperature scaling", "NLL"] == f"{want['temperature']['nll']:.4f}"
    assert table.loc["Uncalibrated", "ECE"] == expected(predictions, "mlp", 1.0)["ECE"]
    plain = compare(zv, predictions.y("val"), zt, predictions.y("test"), which=TEXTBOOK)
    assert textbook.loc["Isotonic regression (textbook form)", "NLL"] == f"{plain['isotonic']['nll']:.4f}"
    assert any("textbook forms" in c.value for c in at.caption)


def test_a_link_to_one_bin_opens_it(predictions):
    at = open_lab({"method": "mlp", "bins": "20", "bin": "20"})
    assert not at.warning
    assert next(s for s in at.selectbox if s.label == "Bin").value == 20
    assert grid_captions(at) and at.query_params["bin"] == "20"


def test_selecting_a_bin_shows_its_images(predictions):
    at = open_lab()
    bin_box = next(s for s in at.selectbox if s.label == "Bin")
    assert grid_captions(at), "the default bin shows its digits"
    options = bin_box.options
    assert len(options) >= 2
    # choose the last bin in the list (the most confident one); options are the shown labels "Bin k: ..."
    last = int(options[-1].split(":")[0].split()[-1])
    bin_box.set_value(last).run()
    assert not at.exception
    assert next(s for s in at.selectbox if s.label == "Bin").value == last
    assert at.query_params["bin"] == str(last)
    images = grid_captions(at)
    assert 1 <= len(images) <= 24
    assert any("digits in this bin" in md.value for md in at.markdown)
