"""dashboard.logic without AppTest: URL views, chart-event parsing, the calibration lab's helpers."""
import pytest

from dashboard.logic import view as urlview
from dashboard.logic.explore import as_cell, clicked_cell, selection_ids

SPECS = (urlview.choice("method", ["mlp", "ensemble"], "ensemble"),
         urlview.number("T", 1.0, 0.2, 5.0, digits=2, what="temperature"),
         urlview.integer("bins", 15, 5, 30),
         urlview.pair("range", (0.0, 2.31), 0.0, 2.31),
         urlview.pair("cell", (-1, -1), -1, 9, whole=True),
         urlview.subset("sets", ["test", "letters", "noise"], ["test"]),
         urlview.choice("true", ["any", *range(10)], "any"),
         urlview.integer("test", -1, -1, 99, optional=True))


def test_a_view_survives_the_url_round_trip():
    view = {"method": "mlp", "T": 2.5, "bins": 10, "range": (0.25, 1.5), "cell": (7, 2),
            "sets": ["noise", "test"], "true": 7, "test": 42}
    params = urlview.to_params(view, SPECS)
    assert all(isinstance(v, str) for v in params.values())
    assert params["sets"] == "noise,test" and params["cell"] == "7,2" and params["T"] == "2.5"
    back, problems = urlview.read(params, SPECS)
    assert back == view and problems == []


def test_missing_values_take_defaults_silently_and_optional_ones_stay_out_of_the_url():
    view, problems = urlview.read({}, SPECS)
    assert problems == [] and view == {s.name: s.default for s in SPECS}
    assert "test" not in urlview.to_params(view, SPECS), "an optional value at its default is left out"
    assert urlview.to_params(view, SPECS)["method"] == "ensemble", "other defaults are written"


@pytest.mark.parametrize("params, name", [
    ({"method": "oracle"}, "method"), ({"T": "hot"}, "T"), ({"T": "nan"}, "T"), ({"T": "50"}, "T"),
    ({"bins": "2.5"}, "bins"), ({"bins": "99"}, "bins"), ({"range": "2,1"}, "range"), ({"range": "a,b"}, "range"),
    ({"range": "0.1"}, "range"), ({"cell": "12,3"}, "cell"), ({"sets": "test,atlantis"}, "sets"),
    ({"true": "11"}, "true"), ({"test": "-5"}, "test"),
])
def test_each_bad_value_gives_one_problem_naming_it_and_its_default(params, name):
    view, problems = urlview.read(params, SPECS)
    spec = next(s for s in SPECS if s.name == name)
    assert view[name] == spec.default
    assert len(problems) == 1 and repr(params[name]) in problems[0]
    assert urlview.warning_text(problems).startswith("This link has values")


def test_subset_cleaning_drops_unknown_and_repeated_names():
    sets = next(s for s in SPECS if s.name == "sets")
    assert sets.clean(["test", "atlantis", "test", "noise"]) == ["test", "noise"]
    assert urlview.read({"sets": ""}, SPECS)[0]["sets"] == []


def test_clicked_cell_from_chart_events():
    assert clicked_cell([{"x": 2, "y": 7}]) == (7, 2)
    assert clicked_cell([{"x": "a"}, {"x": 12, "y": 1}, {"x": 3, "y": 3}]) == (3, 3)
    assert clicked_cell([]) is None and clicked_cell(None) is None
    assert as_cell((3, 5)) == (3, 5) and as_cell("3,5") is None and as_cell((12, 3)) is None and as_cell(None) is None


def test_selection_ids_from_the_map_component():
    assert selection_ids(["test:3", "noise:7", "test:3", 5, None, {"id": 1}]) == ["test:3", "noise:7"]
    assert selection_ids(None) == [] and selection_ids("test:3") == [] and selection_ids({"a": 1}) == []
    assert selection_ids([f"test:{i}" for i in range(10)], max_ids=4) == ["test:0", "test:1", "test:2", "test:3"]
    assert selection_ids({"ids": ["test:3", "test:3", 7], "seq": 2}) == ["test:3"], "the component's message"
    assert selection_ids({"seq": 2}) == [] and selection_ids({"ids": "test:3"}) == []


# ----------------------------------------------------------------------------- Compare: the metrics table, the chart
def _result(**over):
    """evaluate()-shaped numbers for three methods; ``over`` replaces one metric per method: {key: (a, b, c)}."""
    base = {"accuracy": (0.9843, 0.98431, 0.9702), "nll": (0.0475, 0.0395, 0.31), "brier": (0.024, 0.0198, 0.09),
            "ece": (0.0029, 0.0071, 0.1743), "aurc": (0.000518, 0.000336, 0.0015)} | over
    ood = {"letters": (0.99996, 1.0, 0.7), "noise": (0.5, 0.7, 0.9)}
    return {"methods": {m: {**{k: v[i] for k, v in base.items()}, "ood": {s: {"auroc": a[i]} for s, a in ood.items()}}
                        for i, m in enumerate("abc")}}


def _cells(styler):
    """The shown text of a metrics table and whether each cell is shaded."""
    import re

    html = styler.to_html()
    shaded = [cell for selectors, props in re.findall(r"([^{}]+)\{([^}]*)\}", html) if "background-color" in props
              for cell in re.findall(r"_row\d+_col\d+", selectors)]
    return styler.data, html, shaded


def test_best_mask_stars_every_value_that_ties_the_best_as_shown():
    from dashboard.logic.compare import best_mask

    assert best_mask([0.99996, 1.0, 0.9], decimals=4).tolist() == [True, True, False], "1.0000 and 1.0000 tie"
    assert best_mask([0.99996, 1.0, 0.9], decimals=5).tolist() == [False, True, False]
    assert best_mask([0.000518, 0.000336, 0.00034], scale=1000, decimals=2, lower=True).tolist() == [False, True, True]
    assert best_mask([float("nan"), 0.5], decimals=2).tolist() == [False, True], "NaN is never best"


def test_metrics_table_shows_ece_in_percent_aurc_in_per_mille_and_every_tie_starred():
    from dashboard.logic.compare import COLUMN_HELP, metrics_table, percent

    titles = {"a": "Alpha", "b": "Beta", "c": "Gamma"}
    test, html, shaded = _cells(metrics_table(_result(), titles, "test"))
    assert list(test.columns) == ["Accuracy", "NLL", "Brier", "ECE", "AURC (‰)"]
    assert list(test.index) == list(titles.values())
    assert test.loc["Alpha", "ECE"] == "0.29% ★" == percent(0.0029) + " ★" and test.loc["Gamma", "ECE"] == "17.43%"
    assert test.loc["Alpha", "AURC (‰)"] == "0.52" and test.loc["Beta", "AURC (‰)"] == "0.34 ★"
    assert test.loc["Alpha", "Accuracy"] == test.loc["Beta", "Accuracy"] == "98.43% ★", "ties as shown share the ★"
    stars = int(test.map(lambda t: t.endswith("★")).to_numpy().sum())
    assert stars == len(shaded) == 6, "every starred cell is shaded, and only those"
    assert all(f'title="{h}"' in html.replace("&#x27;", "'") for h in COLUMN_HELP.values()), "headers carry their help"
    ood, _, _ = _cells(metrics_table(_result(), titles, "ood"))
    assert list(ood.columns) == ["letters", "noise"]
    assert ood["letters"].tolist() == ["1.000 ★", "1.000 ★", "0.700"]
    assert ood["noise"].tolist() == ["0.500", "0.700", "0.900 ★"]
    with pytest.raises(ValueError, match="part"):
        metrics_table(_result(), titles, "shift")


def test_risk_coverage_chart_opens_where_the_curves_differ_and_keeps_the_marker():
    import numpy as np

    from uqcore.plots import risk_coverage_curves

    n = 1000
    coverage = np.arange(1, n + 1) / n
    good = np.where(coverage > 0.9, (coverage - 0.9) * 0.2, 0.0)  # risk leaves 0 at 90%
    bad = np.where(coverage > 0.83, (coverage - 0.83) * 0.2, 0.0)  # ... and above 0.1% from 83.5%
    fig = risk_coverage_curves({"good": (coverage, good), "bad": (coverage, bad)}, marker=0.95)
    assert tuple(fig.layout.xaxis.range) == (0.8, 1.005), "down to 5% below the first risk above 0.1%"
    assert fig.layout.yaxis.range[1] == pytest.approx(bad.max() * 1.08)
    assert any(s.x0 == 0.95 for s in fig.layout.shapes), "the selected coverage is still marked"
    zoom, full = fig.layout.updatemenus[0].buttons
    assert zoom.args[0]["xaxis.range"] == [0.8, 1.005] and full.args[0]["xaxis.autorange"] is True
    assert all(t.x[-1] == 1.0 and (t.x >= 0.8).sum() > 100 for t in fig.data), "dense where the chart looks"
    low = risk_coverage_curves({"good": (coverage, good)}, marker=0.62)
    assert low.layout.xaxis.range[0] == 0.6, "a marker left of the zoom widens it"


# ----------------------------------------------------------------------------- Embedding map, Errors: plain words
def test_from_line_names_sets_in_plain_words():
    from dashboard.logic.explore import SET_LABELS, from_line, set_name

    assert from_line({"test": 709, "letters": 149}) == "From: test digits 709, printed letters 149."
    assert from_line({"sklearn_digits": 1200}) == "From: other handwriting 1,200."
    assert set_name("my_new_set") == "my new set", "an unknown set keeps its own name, in words"
    same = ("doodles", "sketches", "diagrams")  # already plain words
    assert all(set_name(s) != s or s in same for s in SET_LABELS), "every known set has a plain name"


def test_confusion_cell_captions_break_between_items_only():
    from dashboard.logic.explore import cell_caption

    c = cell_caption(0.789, 0.2134)
    assert c == "79% · E\u00a00.21"
    assert all(len(word) <= 6 for word in c.split(" ")), "each unbreakable piece fits a narrow column"


def test_metrics_csv_has_every_number_at_full_precision():
    import io

    import pandas as pd

    from dashboard.logic.compare import metrics_csv

    result = {"methods": {
        "mlp": {"accuracy": 0.9843, "nll": 0.04751234, "ece": 0.0035, "aurc": 0.00052,
                "ood": {"noise": {"auroc": 0.99987, "aupr": 0.9991, "fpr95": 0.0012}}},
        "ensemble": {"accuracy": 0.9877, "nll": 0.0395, "ece": 0.0071, "aurc": 0.00034,
                     "ood": {"noise": {"auroc": 0.998, "aupr": 0.99, "fpr95": 0.01}}}}}
    frame = pd.read_csv(io.StringIO(metrics_csv(result, {"mlp": "Single network", "ensemble": "Deep ensemble"})))
    assert list(frame["method"]) == ["mlp", "ensemble"] and frame.loc[0, "title"] == "Single network"
    assert frame.loc[0, "nll"] == 0.0475123 and frame.loc[0, "noise_auroc"] == 0.99987  # 6 significant digits
    assert frame.loc[1, "noise_fpr95"] == 0.01 and "f1_macro" not in frame  # only the keys the result has


# ----------------------------------------------------------------------------- Try a digit: the drawing pad's value
def test_drawing_pad_value_gives_png_bytes_or_none():
    import base64
    import io

    from PIL import Image

    from dashboard.draw_canvas import MAX_BYTES, png_of, rgba_of

    img = Image.new("RGB", (280, 280), "black")
    img.paste((255, 255, 255), (130, 40, 150, 240))  # a white bar: a "1"
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    other = io.BytesIO()
    Image.new("L", (4000, 4000)).save(other, format="PNG")  # a few kB that would decode to 16 MP
    big = other.getvalue()
    png = png_of({"drawing": {"data": url, "strokes": 1}})
    assert png == buf.getvalue()
    rgba = rgba_of(png)
    assert rgba.shape == (280, 280, 4) and rgba[100, 140, 0] == 255 and rgba[100, 20, 0] == 0
    for bad in (None, {}, {"drawing": None}, {"drawing": {"data": 3}},
                {"drawing": {"data": "data:image/jpeg;base64,AA"}},
                {"drawing": {"data": "data:image/png;base64,not base64!"}}, "a string", [1, 2],
                {"drawing": {"data": "data:image/png;base64," + "A" * MAX_BYTES}},
                {"drawing": {"data": "data:image/png;base64,AAAA"}},  # decodes, but is no PNG
                {"drawing": {"data": "data:image/png;base64," + base64.b64encode(buf.getvalue()[:60]).decode()}},
                {"drawing": {"data": "data:image/png;base64," + base64.b64encode(big).decode()}}):  # not the pad's size
        assert png_of(bad) is None, bad


def test_method_card_html_escapes_and_says_right_wrong_and_flag():
    from dashboard.logic.try_digit import card_html, cards_html

    tips = {"total": "**Total** help", "aleatoric": "a", "epistemic": "e", "ood": "o", "set": "s"}
    card = {"name": "mlp", "title": "Net <one>", "description": 'say "hi"', "label": 7, "confidence": 0.934,
            "set_phrase": "one of 1 or 7", "true_label": 1, "total": 0.25, "aleatoric": 0.2, "epistemic": 0.05,
            "is_ood": True, "quantile": 0.95, "where": "score 3.1 vs threshold 2, maha", "has_spread": False,
            "meaning_sentence": "Of the test digits this model was 90–95% sure about, 93.1% were right (12 images).",
            "lab_link": "calibration_lab?method=mlp&T=1&bins=10&binning=uniform&bin=10"}
    body = card_html(card, tips, "<div>bars</div>")
    assert "Net &lt;one&gt;" in body and 'title="say &quot;hi&quot;"' in body  # escaped, tooltip in plain words
    assert 'title="Total help"' in body  # markdown emphasis out of the tooltip
    assert "✗ <b>wrong</b><br>true digit: 1" in body and "its reading, 93.4% sure" in body
    assert "Flagged as unusual" in body and "more unusual than 95% of clean" in body and "Looks like" not in body
    assert 'href="calibration_lab?method=mlp&amp;T=1&amp;bins=10&amp;binning=uniform&amp;bin=10"' in body
    assert "Whiskers" not in body and "<div>bars</div>" in body
    calm = card_html({**card, "is_ood": False, "true_label": 7, "has_spread": True}, tips, "")
    assert "✓ <b>right</b>" in calm and "Looks like a typical digit" in calm and "Whiskers" in calm
    assert "not a digit" not in body  # only the headline reader answers that
    reader = card_html({**card, "name": "reader", "not_a_digit": 0.536}, tips, "")
    assert 'its reading, 93.4% sure among the digits; "not a digit": 54%' in reader
    assert "Guaranteed answer: <b>none</b>" in reader and "one of 1 or 7" not in reader  # no promise for a non-digit
    unsure = card_html({**card, "name": "reader", "not_a_digit": 0.3}, tips, "")
    assert "Guaranteed answer: <b>one of 1 or 7</b>" in unsure  # under the reader's veto its set stands
    both = cards_html([body, calm])
    assert both.count('class="uq-card"') == 2 and "grid-template-columns:repeat(3" in both
    assert both.count(".uq-bars{") == 1  # the bars' style once for every card


def test_active_learning_sentences():
    from dashboard.logic.active import progress_text, round_sentence, table_rows, verdict

    s = {"random": {"mean": 0.897, "min": 0.89, "max": 0.906}, "entropy": {"mean": 0.931, "min": 0.929, "max": 0.934},
         "margin": {"mean": 0.94, "min": 0.939, "max": 0.941}, "bald": {"mean": 0.934, "min": 0.932, "max": 0.935}}
    text = verdict(s, 1000, 3)
    assert "**Margin (top two closest)** reads 94.0%" in text
    assert "89.7% for random picks (+4.3 points; mean of 3 runs" in text
    worse = {k: dict(v, mean=0.8) for k, v in s.items() if k != "random"} | {"random": s["random"]}
    assert verdict(worse, 1000, 1).startswith("With 1,000 labels no strategy beat random picks") and "one run" in \
        verdict(worse, 1000, 1)
    rows = table_rows(s)
    assert [r["vs random"] for r in rows] == ["–", "+3.4 points", "+4.3 points", "+3.7 points"]
    first = {"history": [[100, 0.72]], "mislabelled": 0}
    assert round_sentence(first) == "With **100 labels** the model reads **72.0%** of the test digits right."
    later = {"history": [[100, 0.72], [108, 0.735]], "mislabelled": 2}
    assert "(+1.5 points since the last round)." in round_sentence(later) and "2 of your labels differ" in \
        round_sentence(later)
    assert progress_text({}) == "starting…"


def test_held_out_mark_tells_held_out_from_development_sets():
    from dashboard.logic.compare import held_out_mark

    summary = {"held_out": ["sketches", "glyphs"], "development": ["objects", "doodles"]}
    assert [held_out_mark(f, summary) for f in ("letters", "objects", "sketches")] == ["", "development", "yes"]
    assert held_out_mark("objects", {"held_out": ["objects"]}) == "yes"  # an older summary that marked objects held out
    later = {"held_out": ["scrawls"], "development": ["objects"], "training_kinds": ["sketches", "glyphs"]}
    marks = [held_out_mark(f, later) for f in ("glyphs", "scrawls", "objects")]
    assert marks == ["training kinds", "yes", "development"]
