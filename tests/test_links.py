"""Every page's view survives a shared link (AppTest opens the URL and finds the same view), and a bad value
in a link gives a warning, never an error. The calibration lab's own link tests are in test_calibration_lab."""
import pytest
from conftest import open_page


def link_warnings(at) -> list[str]:
    return [w.value for w in at.warning if w.value.startswith("This link has values")]


def share_caption(at, page: str) -> str:
    return next(c.value for c in at.caption if "Share this view" in c.value and f"{page}?" in c.value)


def test_shift_lab_link(quick_bundle):
    at = open_page("views/shift_lab.py", query={"kind": "fog", "severity": "4", "method": "mc_dropout"})
    assert not link_warnings(at)
    assert at.session_state["shift_kind"] == "fog" and at.session_state["shift_severity"] == 4
    assert at.selectbox(key="shift_kind_picker").value == "fog" and at.select_slider[0].value == 4
    assert at.selectbox(key="shift_method").value == "mc_dropout"
    assert "kind=fog&severity=4&method=mc_dropout" in share_caption(at, "shift_lab")
    bad = open_page("views/shift_lab.py", query={"kind": "earthquake", "severity": "lots"})
    assert link_warnings(bad) and "earthquake" in link_warnings(bad)[0] and "lots" in link_warnings(bad)[0]
    assert bad.session_state["shift_kind"] == "rotation" and bad.session_state["shift_severity"] == 90


def test_active_learning_link(quick_bundle):
    at = open_page("views/active_learning.py", query={"strategy": "margin"})
    assert not link_warnings(at)
    assert at.selectbox(key="al_strategy").value == "margin" and at.session_state["al_run"]["strategy"] == "margin"
    assert "strategy=margin" in share_caption(at, "active_learning")
    bad = open_page("views/active_learning.py", query={"strategy": "psychic"})
    assert link_warnings(bad) and "psychic" in link_warnings(bad)[0]
    assert bad.selectbox(key="al_strategy").value == "bald"


def test_embedding_map_link(quick_bundle):
    at = open_page("views/embedding_map.py", query={"method": "laplace", "colour": "data set", "sets": "test,rotated"})
    assert not link_warnings(at)
    assert at.selectbox(key="map_method").value == "laplace" and at.session_state["map_colour"] == "data set"
    assert at.multiselect(key="map_sets").value == ["test", "rotated"]
    assert "sets=test%2Crotated" in share_caption(at, "embedding_map")
    bad = open_page("views/embedding_map.py", query={"sets": "test,atlantis", "colour": "shoe size"})
    assert link_warnings(bad) and "atlantis" in link_warnings(bad)[0]
    assert bad.multiselect(key="map_sets").value == ["test", "letters", "noise"]
    assert bad.session_state["map_colour"] == "epistemic"


def test_errors_link(quick_bundle):
    at = open_page("views/errors.py", query={"method": "mc_dropout", "list": "confidently wrong", "true": "7",
                                             "conf": "0.75", "cell": "3,5", "show": "48"})
    assert not link_warnings(at)
    assert at.selectbox(key="err_method").value == "mc_dropout" and at.selectbox(key="err_true").value == 7
    assert at.segmented_control(key="err_list").value == "confidently wrong"
    assert at.slider(key="err_conf").value == 0.75
    assert any(m.value.startswith("**True 3, read as 5") for m in at.markdown)
    assert "cell=3%2C5" in share_caption(at, "errors")
    bad = open_page("views/errors.py", query={"list": "worst ones", "cell": "12,3", "true": "eleven"})
    assert link_warnings(bad) and all(w in link_warnings(bad)[0] for w in ("worst ones", "12,3", "eleven"))
    assert bad.segmented_control(key="err_list").value == "misclassified"


def test_compare_link(quick_bundle):
    at = open_page("views/compare.py", query={"score": "ensemble", "images": "arrays", "sets": "letters,noise",
                                              "coverage": "0.8", "method": "laplace"})
    assert not link_warnings(at)
    assert at.selectbox(key="cmp_score").value == "ensemble" and at.radio(key="cmp_images").value == "arrays"
    assert at.multiselect(key="cmp_sets").value == ["letters", "noise"]
    assert at.slider(key="cmp_coverage").value == 0.8 and at.selectbox(key="cmp_method").value == "laplace"
    assert list(at.dataframe[0].value.index) == ["letters", "noise"]
    bad = open_page("views/compare.py", query={"coverage": "2", "score": "astrology"})
    assert link_warnings(bad) and "astrology" in link_warnings(bad)[0]
    assert bad.slider(key="cmp_coverage").value == 0.95


@pytest.mark.parametrize("query, warned", [({"test": "123"}, False), ({"test": "many"}, True),
                                           ({"test": "99999999"}, True)])
def test_try_digit_link_to_a_test_digit(quick_bundle, query, warned):
    at = open_page("views/try_digit.py", query=query)
    assert bool(link_warnings(at)) == warned
    if warned:
        assert any("Draw a digit first" in i.value for i in at.info)
        return
    assert any(c.value == "MNIST test digit (no. 123)" for c in at.caption)
    assert at.session_state["last_digit"].shape == (784,)
    assert "test=123" in share_caption(at, "try_digit")
    next(b for b in at.button if b.label == "Random test digit").click().run()
    assert at.query_params["test"] == str(at.session_state["try_test"]), "a new pick updates the link"
    next(b for b in at.button if b.label == "Random non-digit").click().run()
    assert "test" not in at.query_params, "an input that is no test digit has no link"
