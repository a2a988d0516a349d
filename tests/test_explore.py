"""Embedding map and Errors: the tables in uqcore.explore on hand-made data (known answers, sklearn
cross-checks), the map figure's id bookkeeping, the map component's payload, and both pages through AppTest on
the quick build."""
from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from conftest import grid_captions, open_page
from test_links import share_caption
from PIL import Image
from sklearn.metrics import confusion_matrix as sk_confusion
from sklearn.metrics import precision_score, recall_score

from dashboard.logic.explore import CELL_IMAGES, KINDS, TAE_KEY, cell_caption, data_urls, from_line, map_payload
from uqcore.analysis.tables import (
    class_centres,
    confusion,
    confusion_cell,
    error_list,
    images_of,
    map_frame,
    marker_kind,
    most_confused,
    per_class,
    prediction_frame,
    selection_summary,
)
from uqcore.metrics.calibration import classwise_ece
from uqcore.plots import COLOUR_BY, colour_groups, embedding_map
from uqcore.predictions import Predictions


def toy_predictions(n=60, seed=0):
    """A test split of n digits and an OOD set of 5 (label -1), one method "m", with known wrong rows."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    logits = rng.normal(size=(n, 10))
    logits[np.arange(n), y] += 3.0
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    pred = Predictions()
    pred.add_set("test", rng.integers(0, 256, (n, 784), dtype=np.uint8), y)
    pred.put("test", "m", "probs", p)
    for f in ("total", "aleatoric", "epistemic", "ood_score"):
        pred.put("test", "m", f, rng.random(n))
    q = rng.dirichlet(np.ones(10), 5)
    pred.add_set("noise", np.zeros((5, 784), np.uint8), np.full(5, -1))
    pred.put("noise", "m", "probs", q)
    for f in ("total", "aleatoric", "epistemic"):
        pred.put("noise", "m", f, np.full(5, 1.5))
    pred.put("noise", "m", "ood_score", np.array([0.1, 0.9, 2.0, 3.0, 0.5]))
    emb = {"test/xy": rng.normal(size=(n, 2)).astype(np.float32), "test/idx": np.arange(n),
           "noise/xy": np.array([[9, 9], [8, 8], [7, 7]], np.float32), "noise/idx": np.array([0, 2, 3])}
    return pred, emb


# ----------------------------------------------------------------------------- pure tables
def test_prediction_frame_marks_right_wrong_and_unlabelled():
    pred, _ = toy_predictions()
    f = prediction_frame(pred, "m")
    assert len(f) == 60 and list(f.index) == list(range(60))
    assert (f["correct"] == (pred.get("test", "m", "probs").argmax(1) == pred.y("test"))).all()
    g = prediction_frame(pred, "m", "noise")
    assert not g["correct"].any() and not g["labelled"].any()  # no right answer for OOD images
    with pytest.raises(KeyError, match="available: m"):
        prediction_frame(pred, "ensemble")


def test_error_lists_filter_and_sort():
    pred, _ = toy_predictions()
    f = prediction_frame(pred, "m")
    wrong = f.index[~f["correct"]]
    mis = error_list(f, "misclassified")
    assert set(mis.index) == set(wrong) and len(mis) > 3
    assert np.all(np.diff(mis["confidence"].to_numpy()) <= 0)
    cw = error_list(f, "confidently wrong", min_confidence=0.5)
    assert set(cw.index) == set(wrong[f.loc[wrong, "confidence"] >= 0.5])
    unc = error_list(f, "most uncertain")
    assert len(unc) == 60 and unc.index[0] == f["total"].idxmax()
    epi = error_list(f, "most epistemic")
    assert epi.index[0] == f["epistemic"].idxmax()
    sub = error_list(f, "most uncertain", true=3, pred=3, uncertainty="aleatoric", low=0.2, high=0.8)
    expected = f[(f.true == 3) & (f.pred == 3) & (f.aleatoric >= 0.2) & (f.aleatoric <= 0.8)]
    assert set(sub.index) == set(expected.index)
    with pytest.raises(ValueError, match="unknown list"):
        error_list(f, "worst")
    with pytest.raises(ValueError, match="range is empty"):
        error_list(f, "misclassified", low=1.0, high=0.5)


def test_per_class_matches_sklearn_and_classwise_ece():
    pred, _ = toy_predictions(n=400, seed=1)
    p, y = pred.get("test", "m", "probs"), pred.y("test")
    t = per_class(p, y)
    labels = list(range(10))
    np.testing.assert_allclose(t["accuracy"], recall_score(y, p.argmax(1), labels=labels, average=None))
    np.testing.assert_allclose(t["precision"], precision_score(y, p.argmax(1), labels=labels, average=None))
    assert t["ece"].mean() == pytest.approx(classwise_ece(p, y))
    assert t["images"].sum() == 400
    np.testing.assert_array_equal(confusion(p, y), sk_confusion(y, p.argmax(1), labels=labels))


def test_most_confused_and_a_cell():
    counts = np.diag([50, 40, 30]) + np.array([[0, 2, 0], [0, 0, 7], [3, 0, 0]])
    assert most_confused(counts) == (1, 2)  # the diagonal (right answers) never counts
    pred, _ = toy_predictions(n=300, seed=2)
    f = prediction_frame(pred, "m")
    t, p = most_confused(confusion(pred.get("test", "m", "probs"), pred.y("test")))
    cell = confusion_cell(f, t, p)
    assert len(cell) == confusion(pred.get("test", "m", "probs"), pred.y("test"))[t, p] > 0
    assert (cell["true"] == t).all() and (cell["pred"] == p).all()
    assert np.all(np.diff(cell["confidence"].to_numpy()) <= 0)


def test_map_frame_ids_flags_and_summary():
    pred, emb = toy_predictions()
    f = map_frame(pred, emb, "m", ["test", "noise"], threshold=1.0)
    assert len(f) == 63
    assert list(f.index[-3:]) == ["noise:0", "noise:2", "noise:3"]
    assert f.loc["noise:2", "x_map"] == 8 and f.loc["noise:3", "y_map"] == 7
    assert list(f.loc[["noise:0", "noise:2", "noise:3"], "flagged"]) == [False, True, True]
    kinds = dict(zip(f.index, marker_kind(f)))
    assert kinds["noise:2"] == "flagged as unusual" and kinds["noise:0"] == "normal"
    s = selection_summary(f.loc[["noise:0", "noise:2", "noise:3"]])
    assert s["n"] == 3 and np.isnan(s["accuracy"]) and s["flagged"] == pytest.approx(2 / 3)
    assert s["mean_total"] == pytest.approx(1.5)
    right = f.index[f["correct"]][:3].tolist()
    wrong = f.index[f["mistake"]][:1].tolist()
    s2 = selection_summary(f.loc[right + wrong])
    assert s2["accuracy"] == pytest.approx(0.75) and s2["per_set"] == {"test": 4}
    with pytest.raises(KeyError, match="no map positions"):
        map_frame(pred, emb, "m", ["letters"])


@pytest.mark.parametrize("colour_by", ["epistemic", "true class", "correctness", "data set"])
def test_map_figure_maps_every_trace_point_back_to_its_row(colour_by):
    pred, emb = toy_predictions()
    f = map_frame(pred, emb, "m", ["test", "noise"], threshold=1.0)
    fig, ids = embedding_map(f, colour_by, star=(0.5, 0.5))
    assert len(ids) == len(fig.data)
    seen = []
    for trace, trace_ids in zip(fig.data, ids):
        if trace_ids is None:
            continue
        assert [row[0] for row in trace.customdata] == trace_ids  # the id leads each point's customdata
        for x, y, i in zip(trace.x, trace.y, trace_ids):  # positions belong to the ids they carry
            assert (x, y) == (f.loc[i, "x_map"], f.loc[i, "y_map"])
        seen += trace_ids
    assert sorted(seen) == sorted(f.index)  # every point exactly once
    assert fig.data[-1].name == "your last digit" and fig.data[-1].marker.symbol == "star"
    with pytest.raises(ValueError, match="colour_by"):
        embedding_map(f, "shoe size")


def test_digit_labels_sit_at_the_median_of_each_class_of_test_points():
    pred, emb = toy_predictions()
    f = map_frame(pred, emb, "m", ["test", "noise"], threshold=1.0)
    centres = class_centres(f).set_index("digit")
    test = f[f["set"] == "test"]
    for d, row in centres.iterrows():
        mine = test[test["true"] == d]
        assert (row["x"], row["y"], row["n"]) == (mine["x_map"].median(), mine["y_map"].median(), len(mine))
    assert sorted(centres.index) == sorted(test["true"].unique()), "one label per digit present, none for OOD"
    fig, ids = embedding_map(f, "total", star=(0.5, 0.5))
    notes = {a.text: (a.x, a.y) for a in fig.layout.annotations}
    assert notes == {f"<b>{d}</b>": (r["x"], r["y"]) for d, r in centres.iterrows()}
    toggle = fig.layout.updatemenus[0].buttons[0]
    assert toggle.args[0] == {f"annotations[{i}].visible": False for i in range(len(notes))}, "one click hides them"
    assert set(toggle.args2[0].values()) == {True}, "the next shows them again"
    assert len(ids) == len(fig.data), "labels are no trace: selections still map back"
    only_noise, _ = embedding_map(f[f["set"] == "noise"], "total")
    assert not only_noise.layout.annotations and not only_noise.layout.updatemenus
    assert not embedding_map(f, "total", labels=False)[0].layout.annotations


def _decode(b64: str, dtype: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), dtype=dtype)


def test_map_payload_carries_every_point_and_every_colouring():
    pred, emb = toy_predictions()
    f = map_frame(pred, emb, "m", ["test", "noise"], threshold=1.0)
    p = map_payload(f, star=(0.5, 0.25))
    json.dumps(p)  # it travels as JSON
    assert p["n"] == len(f) and p["sets"] == ["test", "noise"] and p["set_names"] == ["test digits", "random noise"]
    ids = [f"{p['sets'][s]}:{r}" for s, r in zip(_decode(p["set"], "u1"), _decode(p["row"], "<i4"))]
    assert ids == list(f.index), "the ids the component sends back are the frame's own"
    np.testing.assert_array_equal(_decode(p["x"], "<f4"), f["x_map"].to_numpy(np.float32))
    np.testing.assert_array_equal(_decode(p["y"], "<f4"), f["y_map"].to_numpy(np.float32))
    np.testing.assert_array_equal(_decode(p["true"], "i1"), f["true"].to_numpy())
    np.testing.assert_array_equal(_decode(p["pred"], "u1"), f["pred"].to_numpy())
    assert [KINDS[k] for k in _decode(p["kind"], "u1")] == list(marker_kind(f))
    assert set(p["continuous"]) | set(p["groups"]) == set(COLOUR_BY) == {c for c, _, _ in p["colourings"]}
    for name, c in p["continuous"].items():
        np.testing.assert_allclose(_decode(c["values"], "<f4"), f[name].to_numpy(), rtol=1e-6)
        assert c["cmax"] == pytest.approx(max(np.quantile(f[name], 0.99), 1e-6))
    for name, g in p["groups"].items():
        code = _decode(g["of"], "u1")
        for k, (group, mask, colour) in enumerate(colour_groups(f, name)):
            assert (g["names"][k], g["colours"][k]) == (group, colour)
            np.testing.assert_array_equal(code == k, mask)
    assert p["groups"]["true class"]["names"][0] == "no label (OOD)", "OOD drawn first, underneath"
    centres = class_centres(f)
    assert p["centres"] == [[int(c.digit), float(c.x), float(c.y)] for c in centres.itertuples()]
    assert p["star"] == [0.5, 0.25] and p["has_epistemic"] == bool(f["epistemic"].max() > 0)
    # the token changes exactly when something drawn changes
    assert map_payload(f, star=(0.5, 0.25))["token"] == p["token"]
    assert map_payload(f, star=None)["token"] != p["token"]
    assert map_payload(f.iloc[:-1], star=(0.5, 0.25))["token"] != p["token"]
    empty = map_payload(f.iloc[:0])
    assert empty["n"] == 0 and empty["centres"] == [] and not empty["has_epistemic"]


def test_map_payload_is_smaller_than_the_plotly_figure():
    """The point of the component: the map travels in far fewer bytes than the Plotly figure did."""
    pred, emb = toy_predictions(n=2000)
    f = map_frame(pred, emb, "m", ["test", "noise"], threshold=1.0)
    fig, _ = embedding_map(f, "epistemic")
    assert len(json.dumps(map_payload(f))) < 0.6 * len(fig.to_json())


def test_images_and_data_urls_round_trip():
    pred, _ = toy_predictions()
    imgs = images_of(pred, ["test:4", "noise:1"])
    np.testing.assert_allclose(imgs[0].ravel(), pred.x("test")[4] / 255.0, atol=1e-7)
    url = data_urls(imgs[:1])[0]
    back = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))
    np.testing.assert_array_equal(back.ravel(), pred.x("test")[4])


# ----------------------------------------------------------------------------- pages (AppTest, quick build)
@pytest.fixture(scope="module")
def bundle(quick_bundle):
    return quick_bundle


def count_line(at) -> int:
    line = next(m.value for m in at.markdown if "of the 10,000 test digits match" in m.value)
    return int(line.split("**")[1].replace(",", ""))


def test_errors_filters_change_the_list_and_match_uqcore(bundle):
    pred = bundle.predictions
    at = open_page("views/errors.py")
    f = prediction_frame(pred, "ensemble")  # the default: it has an epistemic part
    assert count_line(at) == int((~f["correct"]).sum())  # default: misclassified, no filters
    at.selectbox(key="err_method").set_value("mlp").run()
    h = prediction_frame(pred, "mlp")
    assert count_line(at) == int((~h["correct"]).sum())
    at.selectbox(key="err_true").set_value(4).run()
    assert count_line(at) == len(error_list(h, "misclassified", true=4))
    at.selectbox(key="err_method").set_value("ensemble").run()
    g = prediction_frame(pred, "ensemble")
    assert count_line(at) == len(error_list(g, "misclassified", true=4))
    at.selectbox(key="err_true").set_value("any").run()
    at.segmented_control(key="err_list").set_value("most uncertain").run()
    assert count_line(at) == 10_000
    at.slider(key="err_range").set_value((0.5, 1.0)).run()
    n = count_line(at)
    assert n == len(error_list(g, "most uncertain", low=0.5, high=1.0)) and 0 < n < 10_000
    at.segmented_control(key="err_list").set_value("confidently wrong").run()
    at.selectbox(key="err_unc").set_value("epistemic").run()  # a new scale resets the range to all
    at.slider(key="err_conf").set_value(0.8).run()
    assert count_line(at) == len(error_list(g, "confidently wrong", min_confidence=0.8, uncertainty="epistemic"))
    assert not at.exception
    # the grid's first caption is the top of the list
    top = error_list(g, "confidently wrong", min_confidence=0.8, uncertainty="epistemic").iloc[0]
    captions = [c.replace("\u00a0", " ") for c in grid_captions(at)]
    assert captions and f"said {int(top.pred)} · {top.confidence:.0%} sure" in captions[0]
    [download] = at.get("download_button")  # the whole list, not only the 500 rows of the table
    assert download.proto.label == f"Download all {count_line(at):,} rows of this list (CSV)"


def test_errors_per_class_and_confusion_cell(bundle):
    pred = bundle.predictions
    at = open_page("views/errors.py", state={"err_method": "ensemble", "err_cell": (7, 2)})
    t = per_class(pred.get("test", "ensemble", "probs"), pred.y("test"))
    table = at.dataframe[-1].value
    np.testing.assert_allclose(table["accuracy"].to_numpy(), t["accuracy"].to_numpy())
    np.testing.assert_allclose(table["ece"].to_numpy(), t["ece"].to_numpy())
    cm = confusion(pred.get("test", "ensemble", "probs"), pred.y("test"))
    head = next(m.value for m in at.markdown if m.value.startswith("**True 7, read as 2"))
    assert f"{cm[7, 2]:,} image" in head
    top = confusion_cell(prediction_frame(pred, "ensemble"), 7, 2).head(CELL_IMAGES)
    captions = grid_captions(at)
    assert sorted(captions[len(captions) - len(top):]) == sorted(cell_caption(r.confidence, r.epistemic)
                                                                for r in top.itertuples())  # grid order: by column
    at.session_state["err_cell"] = (3, 3)
    at.run()
    assert any(m.value.startswith(f"**True 3, read correctly: {cm[3, 3]:,} images") for m in at.markdown)


def test_map_selection_shows_those_images_and_numbers(bundle):
    pred = bundle.predictions
    wrong = np.flatnonzero(pred.get("test", "ensemble", "probs").argmax(1) != pred.y("test"))[:3]
    chosen = [f"test:{i}" for i in wrong] + ["test:0", "noise:1", "not-a-point:7"]
    at = open_page("views/embedding_map.py", state={"map_method": "ensemble", "map_sets": ["test", "noise"],
                                              "map_selection": chosen})
    frame = map_frame(pred, bundle.embedding, "ensemble", ["test", "noise"],
                      threshold=bundle.methods["ensemble"].threshold_)
    valid = [c for c in chosen if c in frame.index]
    s = selection_summary(frame.loc[valid])
    shown = {m.label: m.value for m in at.metric}
    assert shown["Accuracy"] == f"{s['accuracy']:.1%}"
    assert shown["Flagged as unusual"] == f"{s['flagged']:.0%}"
    assert shown["Mean epistemic"] == f"{s['mean_epistemic']:.3f}"
    assert any(h.value == f"{len(valid)} images selected" for h in at.subheader)
    assert len(grid_captions(at)) == len(valid)  # one image per selected point
    captions = [c.value for c in at.caption]
    assert from_line(s["per_set"]) in captions and "From: test digits 4, random noise 1." in captions, "plain set names"
    assert TAE_KEY in captions, "the key to T / A / E beside the grid"
    [download] = at.get("download_button")  # the selection as CSV
    assert download.proto.label.startswith(f"Download the {len(valid)} selected images")
    # another method reads the same points differently
    at.selectbox(key="map_method").set_value("mc_dropout").run()
    s2 = selection_summary(map_frame(pred, bundle.embedding, "mc_dropout", ["test", "noise"],
                                     threshold=bundle.methods["mc_dropout"].threshold_).loc[valid])
    assert {m.label: m.value for m in at.metric}["Mean epistemic"] == f"{s2['mean_epistemic']:.3f}"
    next(b for b in at.button if b.label == "Clear selection").click().run()
    assert not at.metric and any("Draw a loop around a region" in i.value for i in at.info)


def map_data(at) -> dict:
    """What the page handed the map component (``dashboard.map_canvas``) on its last run."""
    [element] = at.get("bidi_component")
    return json.loads(element.proto.json)


def test_map_shows_the_last_drawn_digit_as_a_star(bundle):
    x = bundle.predictions.x("test")[0] / 255.0
    at = open_page("views/embedding_map.py", state={"last_digit": x.astype(np.float32)})
    star = map_data(at)["star"]
    assert star is not None and np.all(np.isfinite(star))
    assert any("the digit you last drew" in c.value for c in at.caption)
    at2 = open_page("views/embedding_map.py")
    assert map_data(at2)["star"] is None


def test_map_with_no_set_says_what_to_do(bundle):
    at = open_page("views/embedding_map.py", state={"map_sets": []})
    assert any("Pick at least one data set" in i.value for i in at.info)
    assert not at.get("bidi_component")


def test_map_colour_sets_and_selection_reach_the_component(bundle):
    at = open_page("views/embedding_map.py", state={"map_sets": ["test", "letters", "rotated"],
                                                   "map_selection": ["letters:0", "test:99999", "test:3"]})
    n = {s: len(bundle.embedding[f"{s}/idx"]) for s in ("test", "letters", "rotated")}
    d = map_data(at)
    assert d["n"] == sum(n.values()) and d["sets"] == ["test", "letters", "rotated"]
    assert d["colour"] == "epistemic" and d["selected"] == ["letters:0", "test:3"], "unknown ids are dropped"
    assert "colour=epistemic" in share_caption(at, "embedding_map")
    at.session_state["map_colour"] = "true class"  # what the component's colour button does (dashboard.map_canvas)
    at.run()
    d2 = map_data(at)
    assert d2["colour"] == "true class" and d2["token"] == d["token"], "a colour change redraws nothing else"
    assert "colour=true+class" in share_caption(at, "embedding_map")
    y = bundle.predictions.y("test")
    names, code = d2["groups"]["true class"]["names"], _decode(d2["groups"]["true class"]["of"], "u1")
    rotated_3 = int((bundle.predictions.y("rotated")[bundle.embedding["rotated/idx"]] == 3).sum())
    assert int((code == names.index("digit 3")).sum()) == int((y == 3).sum()) + rotated_3
    assert int((code == names.index("no label (OOD)")).sum()) == n["letters"]
    at.multiselect(key="map_sets").set_value(["noise"]).run()
    d3 = map_data(at)
    assert d3["sets"] == ["noise"] and d3["token"] != d["token"] and d3["centres"] == []


def test_controls_survive_a_visit_to_another_page(bundle):
    at = open_page("views/embedding_map.py")
    at.selectbox(key="map_method").set_value("laplace").run()
    at.session_state["map_colour"] = "data set"  # the component's colour buttons set it
    at.multiselect(key="map_sets").set_value(["test", "rotated"]).run()
    at.switch_page("views/errors.py").run()
    at.selectbox(key="err_method").set_value("mc_dropout").run()
    at.selectbox(key="err_true").set_value(7).run()
    at.segmented_control(key="err_list").set_value("confidently wrong").run()
    at.slider(key="err_conf").set_value(0.75).run()
    at.segmented_control(key="err_list").set_value("most uncertain").run()  # the confidence slider goes away
    at.segmented_control(key="err_list").set_value("confidently wrong").run()  # ... and comes back as it was
    assert at.slider(key="err_conf").value == 0.75
    at.switch_page("views/embedding_map.py").run()
    assert (at.selectbox(key="map_method").value, map_data(at)["colour"]) == ("laplace", "data set")
    assert at.multiselect(key="map_sets").value == ["test", "rotated"]
    at.switch_page("views/errors.py").run()
    assert not at.exception
    assert (at.selectbox(key="err_method").value, at.selectbox(key="err_true").value) == ("mc_dropout", 7)
    assert at.segmented_control(key="err_list").value == "confidently wrong" and at.slider(key="err_conf").value == 0.75


@pytest.mark.parametrize("state", [
    {"err_conf": 0.3, "err_list": "confidently wrong"}, {"err_cell": None}, {"err_cell": "3,5"}, {"err_cell": (12, 3)},
    {"err_list": "worst ones", "err_true": 11, "err_unc": "vibes", "err_range": "all", "err_show": 7},
])
def test_errors_page_replaces_bad_state_with_defaults(bundle, state):
    at = open_page("views/errors.py", state=state)  # open_page asserts there is no exception
    assert not at.error
    assert any(m.value.startswith("**True ") for m in at.markdown)  # the confusion cell still shows
    assert not any("True 12" in m.value for m in at.markdown)


def test_map_page_replaces_bad_state_with_defaults(bundle):
    at = open_page("views/embedding_map.py", state={"map_method": "oracle", "map_colour": "shoe size",
                                                   "map_sets": ["test", "atlantis"], "map_selection": "test:1"})
    assert at.selectbox(key="map_method").value == "ensemble"
    assert at.multiselect(key="map_sets").value == ["test"]


def test_html_probability_bars_show_every_digit_with_its_value():
    from uqcore.plots import BARS_CSS, probability_bars_html

    p = np.array([0.02, 0.0, 0.0, 0.0, 0.9, 0.0, 0.0, 0.0, 0.0, 0.08])
    html = probability_bars_html(p, np.full(10, 0.05), highlight=4)
    assert html.count('title="digit ') == 10 and 'title="digit 4: 90.0%"' in html and 'title="digit 9: 8.0%"' in html
    assert ">90%<" in html and html.count("%<") == 1, "only the read digit is labelled"
    assert html.count('class="w"') == 10, "a whisker on every bar when spreads are given"
    assert 'class="w"' not in probability_bars_html(p, None, highlight=4)
    assert html.count('class="hi"') == 1 and html.index('class="hi"') > html.index('title="digit 4')
    assert html.startswith(BARS_CSS) and not probability_bars_html(p, highlight=4, css=False).startswith("<style")
