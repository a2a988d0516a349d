"""Shift lab: pure helpers on a hand-made predictions dict, and the page through AppTest on the quick build."""
from __future__ import annotations

import json
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from conftest import grid_captions, open_page
from streamlit.testing.v1 import AppTest

from dashboard.logic.shift import (
    DESCRIPTIONS,
    METRIC_LABELS,
    as_shown,
    best_methods,
    convert_severity,
    reading,
    severity_figure,
    severity_label,
    shift_label,
    snap_severity,
)
from uqcore.analysis.shift import (
    ALL_CORRUPTIONS,
    METRICS,
    ROTATION,
    SHIFT_KINDS,
    cell_metrics,
    examples,
    select,
    severities,
    severity_curves,
)
from uqcore.data.shift import ANGLES, CORRUPTIONS
from uqcore.metrics.calibration import accuracy, ece
from uqcore.predictions import Predictions

PAGE = "views/shift_lab.py"


# ----------------------------------------------------------------------------- a tiny hand-made build
def _probs(said, confidence, n_classes=10):
    """Rows with ``confidence`` on the said digit and the rest spread evenly."""
    said = np.asarray(said)
    conf = np.broadcast_to(np.asarray(confidence, float), said.shape)
    p = np.repeat(((1 - conf) / (n_classes - 1))[:, None], n_classes, 1)
    p[np.arange(len(said)), said] = conf
    return p.astype(np.float32)


def _set(pred, name, y, said_a, conf_a, said_b, conf_b, *, epistemic_a, score_a, score_b, meta=None):
    n = len(y)
    pred.add_set(name, np.tile(np.arange(n, dtype=np.uint8)[:, None] * 50, (1, 784)), y, meta=meta)
    pred.put(name, "a", "probs", _probs(said_a, conf_a))
    pred.put(name, "b", "probs", _probs(said_b, conf_b))
    pred.put(name, "a", "epistemic", np.asarray(epistemic_a, float))
    pred.put(name, "b", "epistemic", np.zeros(n))
    pred.put(name, "a", "ood_score", np.asarray(score_a, float))
    pred.put(name, "b", "ood_score", np.asarray(score_b, float))


@pytest.fixture
def tiny():
    """Two methods: ``a`` (threshold 0.5) and ``b`` (no threshold); a 4-image test split, a rotated set
    with images only at 0° and 15°, and a corrupted set with fog and gaussian_blur rows."""
    pred = Predictions()
    # test: a reads 2 of 4 right at 90% each; b reads all 4 right at 60%.
    _set(pred, "test", [0, 1, 2, 3], [0, 1, 5, 5], 0.9, [0, 1, 2, 3], 0.6,
         epistemic_a=[0.0, 0.1, 0.2, 0.3], score_a=[0.1, 0.5, 0.9, 2.0], score_b=[9, 9, 9, 9])
    # rotated: two images at 0° (both right), three at 15° (a: one right).
    _set(pred, "rotated", [4, 5, 6, 7, 8], [4, 5, 6, 0, 0], 0.8, [4, 5, 6, 7, 8], 0.7,
         epistemic_a=[0.0, 0.0, 0.3, 0.6, 0.9], score_a=[0, 0, 1, 1, 0], score_b=[0] * 5,
         meta={"angle": np.array([0, 0, 15, 15, 15])})
    # corrupted: fog 1, fog 2, fog 2, gaussian_blur 2, gaussian_blur 5; a is right on rows 0, 1, 3.
    _set(pred, "corrupted", [1, 2, 3, 4, 5], [1, 2, 0, 4, 0], 0.7, [1, 2, 3, 4, 5], 0.5,
         epistemic_a=[0.1, 0.2, 0.4, 0.6, 1.0], score_a=[0, 1, 1, 0, 1], score_b=[0] * 5,
         meta={"variant": np.array(["fog", "fog", "fog", "gaussian_blur", "gaussian_blur"]),
               "severity": np.array([1, 2, 2, 2, 5])})
    return pred


THRESHOLDS = {"a": 0.5, "b": None}


def metrics(pred, kind, severity):
    return cell_metrics(pred, kind, severity, methods=["a", "b"], thresholds=THRESHOLDS)


# ----------------------------------------------------------------------------- pure helpers
def test_labels_steps_and_descriptions():
    assert shift_label("gaussian_blur") == "Gaussian blur" and shift_label(ROTATION) == "Rotation"
    assert shift_label(ALL_CORRUPTIONS) == "All corruptions (pooled)"
    assert "pooled" in DESCRIPTIONS[ALL_CORRUPTIONS] and "average" not in shift_label(ALL_CORRUPTIONS)
    assert SHIFT_KINDS[:2] == (ROTATION, ALL_CORRUPTIONS) and set(SHIFT_KINDS[2:]) == set(CORRUPTIONS)
    assert all(k in DESCRIPTIONS for k in SHIFT_KINDS)
    assert severities(ROTATION) == tuple(ANGLES) and severities("fog") == (0, 1, 2, 3, 4, 5)
    assert severity_label(ROTATION, 90) == "90°" and severity_label("fog", 0) == "0 (clean)"
    with pytest.raises(ValueError, match="unknown shift 'sepia'"):
        shift_label("sepia")


def test_snap_and_carry_severity_between_scales():
    assert snap_severity(ROTATION, 100) == 105 and snap_severity("fog", 7) == 5 and snap_severity("fog", "x") == 0
    assert convert_severity(180, ROTATION, "fog") == 5 and convert_severity(90, ROTATION, "fog") == 2  # 2.5 -> 2
    assert convert_severity(3, "fog", ROTATION) == 105 and convert_severity(0, "fog", ROTATION) == 0
    assert convert_severity(4, "fog", ALL_CORRUPTIONS) == 4  # same scale: kept


def test_severity_zero_of_a_corruption_is_the_clean_test_split(tiny):
    name, idx = select(tiny, "fog", 0)
    assert name == "test" and idx.tolist() == [0, 1, 2, 3]
    m = metrics(tiny, "fog", 0)
    assert m.loc["a", "accuracy"] == 0.5 and m.loc["b", "accuracy"] == 1.0
    assert m.loc["a", "ece"] == pytest.approx(0.4, abs=1e-6)  # one bin: confidence 0.9, accuracy 0.5
    assert m.loc["b", "ece"] == pytest.approx(0.4, abs=1e-6)  # one bin: confidence 0.6, accuracy 1.0
    assert m.loc["a", "epistemic"] == pytest.approx(0.15)
    assert m.loc["a", "flag_rate"] == 0.5, "flagged when strictly above 0.5: 0.9 and 2.0"
    assert np.isnan(m.loc["b", "flag_rate"]), "no threshold, no flag rate"
    assert m.loc["a", "n"] == m.loc["b", "n"] == 4
    assert metrics(tiny, ALL_CORRUPTIONS, 0).equals(m)


def test_a_corruption_selects_its_variant_and_all_pools_every_variant(tiny):
    assert select(tiny, "fog", 2) == ("corrupted", pytest.approx(np.array([1, 2])))
    fog = metrics(tiny, "fog", 2)
    assert fog.loc["a", "n"] == 2 and fog.loc["a", "accuracy"] == 0.5 and fog.loc["a", "flag_rate"] == 1.0
    assert fog.loc["a", "epistemic"] == pytest.approx(0.3)
    pooled = metrics(tiny, ALL_CORRUPTIONS, 2)  # fog 2, fog 2 and gaussian_blur 2
    assert pooled.loc["a", "n"] == 3
    assert pooled.loc["a", "accuracy"] == pytest.approx(2 / 3) and pooled.loc["a", "flag_rate"] == pytest.approx(2 / 3)
    assert metrics(tiny, "gaussian_blur", 5).loc["a", "accuracy"] == 0.0
    empty = metrics(tiny, "fog", 5)
    assert empty.loc["a", "n"] == 0 and empty[list(METRICS)].isna().all().all()


def test_rotation_selects_by_angle(tiny):
    assert select(tiny, ROTATION, 15)[1].tolist() == [2, 3, 4]
    m = metrics(tiny, ROTATION, 15)
    assert m.loc["a", "accuracy"] == pytest.approx(1 / 3) and m.loc["b", "accuracy"] == 1.0
    assert m.loc["a", "flag_rate"] == pytest.approx(2 / 3) and m.loc["a", "epistemic"] == pytest.approx(0.6)
    assert metrics(tiny, ROTATION, 0).loc["a", "accuracy"] == 1.0
    with pytest.raises(ValueError, match="severity 20"):
        select(tiny, ROTATION, 20)
    with pytest.raises(ValueError, match="severity 6"):
        select(tiny, "fog", 6)


def test_ece_and_accuracy_agree_with_the_calibration_module():
    rng = np.random.default_rng(0)
    n = 300
    logits = rng.normal(size=(n, 10)) * 3
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    y = np.where(rng.random(n) < 0.6, p.argmax(1), rng.integers(0, 10, n))
    variant = rng.choice(["fog", "shear"], n)
    severity = rng.integers(1, 6, n)
    pred = Predictions()
    pred.add_set("corrupted", np.zeros((n, 784), np.uint8), y, meta={"variant": variant, "severity": severity})
    pred.put("corrupted", "m", "probs", p)
    pred.put("corrupted", "m", "epistemic", np.zeros(n))
    pred.put("corrupted", "m", "ood_score", rng.random(n))
    for kind in ("fog", ALL_CORRUPTIONS):
        rows = (severity == 3) & ((variant == "fog") | (kind == ALL_CORRUPTIONS))
        m = cell_metrics(pred, kind, 3, methods=["m"], thresholds={"m": 0.7})
        assert m.loc["m", "ece"] == pytest.approx(ece(p[rows], y[rows], n_bins=15), abs=1e-12)
        assert m.loc["m", "accuracy"] == accuracy(p[rows], y[rows])
        assert m.loc["m", "flag_rate"] == pytest.approx(np.mean(pred.get("corrupted", "m", "ood_score")[rows] > 0.7))


def test_curves_are_cell_metrics_at_every_severity(tiny):
    c = severity_curves(tiny, "fog", methods=["a", "b"], thresholds=THRESHOLDS)
    assert c["severity"].unique().tolist() == [0, 1, 2, 3, 4, 5] and len(c) == 12
    for s in range(6):
        got = c[c["severity"] == s].set_index("method")[[*METRICS, "n"]]
        assert got.equals(metrics(tiny, "fog", s)), s
    r = severity_curves(tiny, ROTATION, methods=["a", "b"], thresholds=THRESHOLDS)
    assert r["severity"].unique().tolist() == list(ANGLES)


def test_best_methods_and_reading(tiny):
    c = severity_curves(tiny, "fog", methods=["a", "b"], thresholds=THRESHOLDS)
    here = c[c["severity"] == 2].set_index("method")
    # fog 2: a is right on 1 of 2 at 70% (ECE 0.2); b on 2 of 2 at 50% (ECE 0.5).
    assert best_methods(here) == {"accuracy": ["b"], "ece": ["a"]}
    text = reading(c, "fog", 2, {"a": "Method A"})
    assert text.startswith("At severity 2 of fog the best-calibrated method is **Method A** (ECE 20.00%)")
    assert "fell from 50.0% on the clean digits to 50.0%" not in text  # equal accuracy: no fall
    assert "stayed at 50.0%" in text and "flags 100% of the images" in text and "(vs 50% on the clean digits)" in text
    rot = severity_curves(tiny, ROTATION, methods=["a", "b"], thresholds=THRESHOLDS)
    text = reading(rot, ROTATION, 15)
    # 15°: a is right on 1 of 3 at 80% (ECE 0.467); b on 3 of 3 at 70% (ECE 0.3) and has no threshold.
    assert text == ("At 15° of rotation the best-calibrated method is **b** (ECE 30.00%); "
                    "its accuracy stayed at 100.0%, as on 0°.")
    blur = severity_curves(tiny, "gaussian_blur", methods=["a"], thresholds=THRESHOLDS)
    assert reading(blur, "gaussian_blur", 5) == (  # one image, read wrongly at 70%, flagged
        "At severity 5 of gaussian blur the best-calibrated method is **a** (ECE 70.00%); its accuracy fell from "
        "50.0% on the clean digits to 0.0%, and it flags 100% of the images as unfamiliar "
        "(vs 50% on the clean digits).")
    assert "no images" in reading(c, "fog", 5)
    assert best_methods(c[c["severity"] == 5].set_index("method")) == {"accuracy": [], "ece": []}


def test_as_shown_rounds_like_the_page_prints():
    rng = np.random.default_rng(1)
    values = [*rng.random(2000), 0.01549, 0.01451, 0.0155, 0.0145, 0.00049, 0.99951, 0.0, 1.0]
    for v in values:
        assert f"{as_shown(v):.1f}%" == f"{v:.1%}", v
        assert f"{as_shown(v, 2):.2f}%" == f"{v:.2%}", v


def _tie_curves():
    """Hand-made severity_curves at 0° and 90°: at 0° a and b both print ECE 1.45% (0.014549 vs 0.014451) and
    accuracy 98.0%; c prints 1.62% (0.0162) and 98.1%; d has no images' worth of numbers (nan)."""
    rows = [
        # severity, method, accuracy, ece, epistemic, flag_rate
        (0, "a", 0.9804, 0.014549, 0.0, 0.055),
        (0, "b", 0.9796, 0.014451, 0.01, 0.04),
        (0, "c", 0.9810, 0.0162, 0.02, np.nan),
        (0, "d", np.nan, np.nan, np.nan, np.nan),
        (90, "a", 0.50, 0.20004, 0.0, 0.30),
        (90, "b", 0.60, 0.19996, 0.2, 0.45),
        (90, "c", 0.55, 0.2100, 0.3, np.nan),
        (90, "d", np.nan, np.nan, np.nan, np.nan),
    ]
    return pd.DataFrame(rows, columns=["severity", "method", *METRICS]).assign(n=200)


def test_ties_as_shown_share_the_best_and_the_reading():
    c = _tie_curves()
    zero = c[c["severity"] == 0].set_index("method")
    # raw values: a has the higher accuracy, b the lower ECE; as shown (98.0%, 1.45%) they tie.
    assert best_methods(zero)["ece"] == ["a", "b"]
    assert best_methods(zero)["accuracy"] == ["c"], "98.1% beats two 98.0%"
    assert best_methods(zero.drop(index="c"))["accuracy"] == ["a", "b"]
    labels = {"a": "Single network", "b": "Deep ensemble", "c": "Laplace"}
    assert reading(c, ROTATION, 0, labels) == (
        "Without rotation the best-calibrated methods are **Single network** and **Deep ensemble** (ECE 1.45%), "
        "with accuracy 98.0%; they flag 6% and 4% of the images as unfamiliar (about 5% by design).")
    assert reading(c, ROTATION, 90, labels) == (
        "At 90° of rotation the best-calibrated methods are **Single network** and **Deep ensemble** "
        "(ECE 20.00%); their accuracy fell from 98.0% on 0° to 50.0% and 60.0%, and they flag 30% and 45% "
        "of the images as unfamiliar (vs 6% and 4% on 0°).")
    three = c.assign(ece=np.where(c["method"] == "c", c["ece"] - 0.00168, c["ece"]))  # c: 0.01452 -> 1.45%
    assert best_methods(three[three["severity"] == 0].set_index("method"))["ece"] == ["a", "b", "c"]
    assert reading(three, ROTATION, 0, labels).startswith(
        "Without rotation the best-calibrated methods are **Single network**, **Deep ensemble** and **Laplace** "
        "(ECE 1.45%), with accuracy 98.0%, 98.0% and 98.1%; Single network and Deep ensemble flag 6% and 4% ")


def test_examples_are_the_cells_images_with_the_methods_reading(tiny):
    ex = examples(tiny, ALL_CORRUPTIONS, 2, "a", k=10)
    assert ex["set"] == "corrupted" and ex["index"].tolist() == [1, 2, 3]
    assert ex["x"].shape == (3, 28, 28) and ex["x"].min() >= 0 and ex["x"].max() <= 1
    assert ex["x"][0, 0, 0] == pytest.approx(50 / 255)
    assert ex["true"].tolist() == [2, 3, 4] and ex["pred"].tolist() == [2, 0, 4]
    assert ex["confidence"] == pytest.approx([0.7] * 3) and ex["variant"].tolist() == ["fog", "fog", "gaussian_blur"]
    assert len(examples(tiny, "fog", 0, "b", k=3)["index"]) == 3
    assert len(examples(tiny, "fog", 5, "b")["index"]) == 0


def test_figure_holds_the_curves(tiny):
    c = severity_curves(tiny, "fog", methods=["a", "b"], thresholds=THRESHOLDS)
    fig = severity_figure(c, "fog", current=3, labels={"a": "Method A", "b": "Method B"})
    assert len(fig.data) == 2 * len(METRICS)
    assert [t.name for t in fig.data if t.showlegend] == ["Method A", "Method B"]
    titles = [a.text for a in fig.layout.annotations if a.text in METRIC_LABELS.values()]
    assert titles == [METRIC_LABELS[m] for m in METRICS]  # panels in METRICS order: x, x2, x3, x4
    for j, metric in enumerate(METRICS):
        panel = [t for t in fig.data if t.xaxis == ("x" if j == 0 else f"x{j + 1}")]
        assert [t.name for t in panel] == ["Method A", "Method B"], metric  # one trace per method
        for t, m in zip(panel, ["a", "b"]):
            assert list(t.x) == [0, 1, 2, 3, 4, 5]
            np.testing.assert_allclose(np.array(t.y, float), c[c["method"] == m][metric].to_numpy(),
                                       equal_nan=True, err_msg=f"{m} {metric}")
    verticals = [s for s in fig.layout.shapes if s.x0 == s.x1]
    assert len(verticals) == 4 and all(s.x0 == 3 for s in verticals)
    design = [s for s in fig.layout.shapes if s.y0 == s.y1]
    assert len(design) == 1 and design[0].y0 == 0.05 and design[0].yref == "y4", "the 5% line: flag-rate panel"


# ----------------------------------------------------------------------------- the page
@pytest.fixture(scope="module")
def bundle(quick_bundle):
    return quick_bundle


def expected(bundle, kind, severity):
    thresholds = {m: meth.threshold_ for m, meth in bundle.methods.items()}
    return severity_curves(bundle.predictions, kind, methods=list(bundle.methods), thresholds=thresholds)


def open_lab(state: dict | None = None) -> AppTest:
    return open_page(PAGE, state=state)


def shown(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


class _Cells(HTMLParser):
    """The text of every <th>/<td>, row by row (stdlib only: lxml and bs4 are not dependencies)."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(self._cell.strip())
            self._cell = None


def table_rows(html: str) -> dict[str, dict[str, str]]:
    """The rendered table as {row label: {column: text}}."""
    parser = _Cells()
    parser.feed(html)
    head, *body = parser.rows
    assert all(len(r) == len(head) for r in body), parser.rows
    return {r[0]: dict(zip(head[1:], r[1:])) for r in body}


def as_printed(v: float, best: bool = False, decimals: int = 1) -> str:
    return "n/a" if not np.isfinite(v) else f"{v:.{decimals}%}{' ★' if best else ''}"


def starred(values: pd.Series, pick, decimals: int = 1) -> set:
    """Independent oracle: the methods whose printed value (e.g. "1.5%") is the best printed value."""
    printed = {m: float(f"{v:.{decimals}%}"[:-1]) for m, v in values.items() if np.isfinite(v)}
    return {m for m, v in printed.items() if v == pick(printed.values())}


def check_numbers(at, bundle, kind, severity, method="ensemble", curves=None):
    """The headline metrics, the table (row by row), the reading and the chart's marker match the pure functions."""
    curves = expected(bundle, kind, severity) if curves is None else curves
    row = curves[(curves["severity"] == severity)].set_index("method")
    r = row.loc[method]
    m = shown(at)
    assert m["Accuracy"] == f"{r['accuracy']:.1%}" and m["ECE"] == f"{r['ece']:.2%}", "ECE as on every page: 0.28%"
    assert m["Mean epistemic"] == ("0 (one network)" if r["epistemic"] == 0 else f"{r['epistemic']:.3f} nats")
    assert m["OOD-flag rate"] == f"{r['flag_rate']:.1%}"
    cells = table_rows(next(h.proto.body for h in at.get("html") if "<table" in h.proto.body))
    titles = {n: mm.title for n, mm in bundle.methods.items()}
    assert list(cells) == [titles[n] for n in row.index]
    best_acc, best_ece = starred(row["accuracy"], max), starred(row["ece"], min, decimals=2)
    assert best_ece, "some method is best-calibrated"
    for name, x in row.iterrows():
        got = cells[titles[name]]
        assert got == {
            "Accuracy": as_printed(x["accuracy"], name in best_acc),
            "ECE": as_printed(x["ece"], name in best_ece, decimals=2),
            "Mean epistemic (nats)": "0 (one network)" if x["epistemic"] == 0 else f"{x['epistemic']:.3f}",
            "OOD-flag rate": as_printed(x["flag_rate"]),
            "Images": f"{int(x['n']):,}",
        }, name
    text = at.info[0].body
    assert text == reading(curves, kind, severity, titles)
    assert all(f"**{titles[n]}**" in text for n in best_ece), "the reading names every tied method"
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert {s["x0"] for s in spec["layout"]["shapes"] if s["x0"] == s["x1"]} == {severity}
    return m


def image_captions(at: AppTest) -> list[str]:
    return grid_captions(at)


def test_page_opens_on_rotation(bundle):
    at = open_lab()
    assert at.title[0].value.endswith("Shift lab")
    assert at.session_state["shift_kind"] == ROTATION and at.session_state["shift_severity"] == 90
    assert at.select_slider[0].label == "Rotation angle" and at.select_slider[0].value == 90
    assert all(metric.help for metric in at.metric), "every metric explains itself"
    assert all("pp = percentage points" in at.metric[i].help for i in (0, 1, 3)), "the deltas' unit is explained"
    check_numbers(at, bundle, ROTATION, 90)
    n = int((bundle.predictions.meta("rotated", "angle") == 90).sum())
    assert len(image_captions(at)) == min(10, n)
    ex = examples(bundle.predictions, ROTATION, 90, "ensemble", k=10)
    nb = "\u00a0"
    assert image_captions(at) == [  # "✓ true Y · said X · NN% sure", as in widgets.reading_caption
        f"{'✓' if t == p else '✗'}{nb}true{nb}{t} · said{nb}{p} · {c:.0%}{nb}sure"
        for t, p, c in zip(ex["true"], ex["pred"], ex["confidence"])]
    assert any(f"{n:,} rotated test digits at 90°" in c.value for c in at.caption)
    assert any("noisy" in c.value for c in at.caption) == (n < 20)


def test_slider_and_picker_move_the_numbers(bundle):
    at = open_lab()
    before = shown(at)
    at.select_slider(key="shift_severity_slider").set_value(0).run()
    assert not at.exception and at.session_state["shift_severity"] == 0
    after = check_numbers(at, bundle, ROTATION, 0)
    assert after["Accuracy"] != before["Accuracy"] or after["ECE"] != before["ECE"]

    at.select_slider(key="shift_severity_slider").set_value(180).run()
    at.selectbox(key="shift_kind_picker").set_value("fog").run()  # 180° carries over to severity 5
    assert not at.exception
    assert at.session_state["shift_kind"] == "fog" and at.session_state["shift_severity"] == 5
    assert at.select_slider[0].options == ["0 (clean)", "1", "2", "3", "4", "5"]
    fog5 = check_numbers(at, bundle, "fog", 5)
    n = int(((bundle.predictions.meta("corrupted", "variant") == "fog")
             & (bundle.predictions.meta("corrupted", "severity") == 5)).sum())
    assert len(image_captions(at)) == n and n < 20 and any("noisy" in c.value for c in at.caption)

    at.select_slider(key="shift_severity_slider").set_value(0).run()
    clean = check_numbers(at, bundle, "fog", 0)  # severity 0 = the clean test split
    y, p = bundle.predictions.y("test"), bundle.predictions.get("test", "ensemble", "probs")
    assert clean["Accuracy"] == f"{accuracy(p, y):.1%}" and clean["ECE"] == f"{ece(p, y):.2%}"
    assert clean != fog5
    assert any(f"{len(y):,} clean test digits" in c.value for c in at.caption)


def test_session_state_sets_the_view_and_the_method(bundle):
    at = open_lab({"shift_kind": ALL_CORRUPTIONS, "shift_severity": 4, "shift_method": "mc_dropout"})
    assert at.select_slider[0].value == 4 and at.selectbox(key="shift_kind_picker").value == ALL_CORRUPTIONS
    check_numbers(at, bundle, ALL_CORRUPTIONS, 4, method="mc_dropout")
    n = int((bundle.predictions.meta("corrupted", "severity") == 4).sum())
    assert any(f"{n:,} damaged test digits at severity 4" in c.value for c in at.caption)
    at.session_state["shift_kind"] = ROTATION
    at.session_state["shift_severity"] = 45
    at.run()
    assert not at.exception and at.select_slider[0].value == 45
    check_numbers(at, bundle, ROTATION, 45, method="mc_dropout")


def test_ties_as_shown_share_the_star_on_the_page(bundle, monkeypatch):
    """Known answer on the page: the build's 0° numbers with ECE set so that two methods print 1.45% (raw
    0.014549 and 0.014451), one 1.62% and the rest more; both 1.45% rows get the star and the reading names both."""
    from dashboard import resources

    curves = expected(bundle, ROTATION, 0)
    methods = list(bundle.methods)
    fake = {methods[0]: 0.014549, methods[1]: 0.014451, methods[2]: 0.0162}
    zero = curves["severity"] == 0
    curves.loc[zero, "ece"] = [fake.get(m, 0.05 + 0.01 * i) for i, m in enumerate(curves.loc[zero, "method"])]
    monkeypatch.setattr(resources, "shift_curves", lambda kind: curves)
    at = open_lab({"shift_kind": ROTATION, "shift_severity": 0, "shift_method": "mlp"})
    check_numbers(at, bundle, ROTATION, 0, method="mlp", curves=curves)
    cells = table_rows(next(h.proto.body for h in at.get("html") if "<table" in h.proto.body))
    titles = [bundle.methods[m].title for m in methods]
    assert [cells[t]["ECE"] for t in titles[:3]] == ["1.45% ★", "1.45% ★", "1.62%"]
    assert sum("★" in c["ECE"] for c in cells.values()) == 2
    assert at.info[0].body.startswith(
        f"Without rotation the best-calibrated methods are **{titles[0]}** and **{titles[1]}** (ECE 1.45%), ")
    assert shown(at)["Mean epistemic"] == "0 (one network)", "the single network has no epistemic part"
    assert "always 0" in at.metric[2].help
