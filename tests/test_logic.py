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


def test_selection_ids_from_customdata_or_trace_positions():
    points = [{"customdata": ["test:3", 0.1]}, {"curve_number": 1, "point_index": 0}, {"curve_number": 5},
              {"customdata": ["test:3"]}]
    assert selection_ids(points, [None, ["noise:7"]]) == ["test:3", "noise:7"]
