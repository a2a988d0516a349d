"""AppTests: the app runs from its entry file on a quick build in a temporary artifact folder.

The first test builds the quick artifacts through the app itself (first start); the others reuse
them through the session fixture ``quick_app_env``.
"""
import base64
import gc
import io
import re
import sys
import threading

import numpy as np
import pytest
from conftest import ENTRY, open_page, wait_for_first_start
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from uqcore.methods import REGISTRY

N_METHODS = sum(not m.teaching for m in REGISTRY.values())  # every method that reads pictures: 9


def start(page: str | None = None) -> AppTest:
    return open_page(page)


def card_bodies(at: AppTest) -> list[str]:
    """The HTML of each method card (``widgets.method_cards`` draws them all in one element)."""
    import html
    import re

    return [html.unescape(c) for el in at.get("html") if 'class="uq-cards"' in el.proto.body
            for c in re.findall(r'<div class="uq-card" .*?(?=<div class="uq-card" |$)', el.proto.body, re.S)]


def method_cards(at: AppTest) -> list[str]:
    """The titles of the method cards, in order."""
    import re

    return [re.search(r'<p class="uq-title">(.*?)<span', c).group(1) for c in card_bodies(at)]


def verdicts(at: AppTest) -> list[str]:
    return [b.body for kind in ("success", "warning", "error") for b in getattr(at, kind)
            if b.body.startswith("#### ")]


def png_bytes(draw) -> bytes:
    img = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    draw(ImageDraw.Draw(img))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def a_one(d):  # a thick vertical stroke, white on black, as the canvas sends it
    d.line([(140, 50), (140, 230)], fill=(255, 255, 255, 255), width=18)


def test_first_start_builds_then_home_shows_status(quick_app_env):
    at = start()
    if any("First start" in i.value for i in at.info):  # the build runs in the background; the page waits
        assert any("training the models" in i.value for i in at.info) and at.get("progress")
        wait_for_first_start(quick_app_env)
        at.run()
    assert at.title[0].value == "How sure is the model?"
    labels = [m.label for m in at.metric]
    assert "Test accuracy" in labels and "Training time" in labels
    assert at.get("plotly_chart"), "learning curves missing"
    assert any("Quick build" in i.value for i in at.info)
    # second run: the cache is warm, no training status box
    at2 = AppTest.from_file(ENTRY, default_timeout=60).run()
    assert not at2.exception
    assert not at2.status and not any("First start" in i.value for i in at2.info)


def test_home_has_doors_and_sidebar_glossary(quick_app_env):
    at = start()
    labels = {el.proto.label for el in at.get("page_link")}
    assert {"Try a digit", "Calibration lab", "Compare methods", "Embedding map", "Errors", "Shift lab"} <= labels, labels
    sidebar_text = " ".join(m.value for m in at.sidebar.markdown)
    for term in ("Aleatoric uncertainty", "Epistemic uncertainty", "ECE", "Temperature", "OOD"):
        assert term in sidebar_text


@pytest.mark.parametrize("page,title", [("views/try_digit.py", "Try a digit"),
                                        ("views/calibration_lab.py", "Calibration lab"),
                                        ("views/embedding_map.py", "Embedding map"),
                                        ("views/errors.py", "Errors"),
                                        ("views/compare.py", "Compare methods"),
                                        ("views/shift_lab.py", "Shift lab"),
                                        ("views/active_learning.py", "Active learning lab"),
                                        ("views/your_predictions.py", "Your predictions"),
                                        ("views/about.py", "How it works")])
def test_every_page_runs(quick_app_env, page, title):
    at = start(page)
    assert at.title[0].value == title


def test_about_shows_the_full_glossary(quick_app_env):
    at = start("views/about.py")
    headings = [m.value for m in at.markdown if m.value.startswith("#### ")]
    assert len(headings) == 8  # the headline reader is the eighth term
    assert any("Calibration" in h for h in headings) and any("Headline reader" in h for h in headings)


def test_try_digit_starts_with_a_gentle_prompt(quick_app_env):
    at = start("views/try_digit.py")
    assert any("Draw a digit first" in i.value for i in at.info)
    assert not at.error
    assert not method_cards(at)
    # the cards' style sheet is on the page before any stroke (it makes the browser load st.html's code)
    assert any(".uq-bars{" in h.proto.body and "uq-warm" in h.proto.body for h in at.get("html"))


def test_random_test_digit_shows_every_card_and_a_verdict(quick_app_env):
    at = start("views/try_digit.py")
    next(b for b in at.button if b.label == "Random test digit").click().run()
    assert not at.exception, at.exception
    assert N_METHODS == 9 and len(method_cards(at)) == N_METHODS
    assert len(verdicts(at)) == 1
    bars = [c for c in card_bodies(at) if 'aria-label="probability of each digit"' in c]
    assert len(bars) == N_METHODS  # one probability chart per card (plain HTML bars: they draw at once)
    assert len([h for h in at.get("html") if 'class="uq-cards"' in h.proto.body]) == 1  # all cards, one element
    assert any(re.search(r"answered in \d+ ms", c.value) for c in at.caption)
    assert at.session_state["last_digit"].shape == (784,)
    assert all(("✓ <b>right</b>" in c) != ("✗ <b>wrong</b>" in c) for c in card_bodies(at))  # right or wrong, once


@pytest.mark.parametrize("button", ["Random non-digit", "Ambiguous blend"])
def test_other_picks(quick_app_env, button):
    at = start("views/try_digit.py")
    next(b for b in at.button if b.label == button).click().run()
    assert not at.exception, at.exception
    assert len(method_cards(at)) == N_METHODS and len(verdicts(at)) == 1


def test_upload_a_digit_and_a_broken_file(quick_app_env):
    at = start("views/try_digit.py")
    at.file_uploader[0].upload("one.png", png_bytes(a_one), "image/png").run()
    assert not at.exception, at.exception
    assert len(method_cards(at)) == N_METHODS
    assert any("Uploaded picture 'one.png'" in c.value for c in at.caption)
    at.file_uploader[0].upload("broken.png", b"not an image at all", "image/png").run()
    assert not at.exception, at.exception
    assert at.error and "cannot be used" in at.error[0].value


def eleven(d):  # two strokes side by side: "11"
    for x in (80, 200):
        d.line([(x, 50), (x, 230)], fill=(255, 255, 255, 255), width=18)


def test_a_number_of_several_digits_gets_the_hint_beside_the_headline(quick_app_env):
    from uqcore.data.preprocess import several_marks

    at = start("views/try_digit.py")
    at.file_uploader[0].upload("eleven.png", png_bytes(eleven), "image/png").run()
    assert not at.exception, at.exception
    assert len(method_cards(at)) == N_METHODS and len(verdicts(at)) == 1
    assert [i.value for i in at.info if "side by side" in i.value] == [several_marks(2)]
    assert not any("side by side" in c.value for c in at.caption)  # said once, beside the headline
    at.file_uploader[0].upload("one.png", png_bytes(a_one), "image/png").run()
    assert not at.exception, at.exception
    assert len(verdicts(at)) == 1 and not any("side by side" in i.value for i in at.info)


def test_simulated_canvas_drawing(quick_app_env):
    at = start("views/try_digit.py")
    data = "data:image/png;base64," + base64.b64encode(png_bytes(a_one)).decode()
    at.session_state["canvas_0"] = {"drawing": {"raw": {"objects": [{"type": "path"}]}, "data": data},
                                    "backgroundFit": None}
    at.run()
    assert not at.exception, at.exception
    assert len(method_cards(at)) == N_METHODS
    assert any(c.value == "Your drawing" for c in at.caption)
    x = at.session_state["last_digit"]
    assert x.shape == (784,) and x.max() > 0.5
    # every module loaded by then is frozen (dashboard.resources.settle_heap): Streamlit's collection after each
    # stroke does not walk them
    tracked = {id(o) for o in gc.get_objects()}
    libraries = ("uqcore", "dashboard", "torch", "captum", "streamlit", "numpy", "scipy", "sklearn", "PIL", "pandas")
    loaded = [(name, m) for name, m in list(sys.modules.items()) if name.split(".")[0] in libraries]
    assert len(loaded) > 500 and [name for name, m in loaded if id(getattr(m, "__dict__", None)) in tracked] == []


def test_settle_heap_freezes_newly_imported_modules_once(tmp_path, monkeypatch):
    from dashboard.resources import settle_heap

    settle_heap()
    (tmp_path / "uq_fresh_module.py").write_text("TABLE = {'a': [1, 2, 3]}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import uq_fresh_module

    assert any(o is uq_fresh_module.TABLE for o in gc.get_objects())  # tracked: a full collection walks it
    assert settle_heap() is True
    assert not any(o is uq_fresh_module.TABLE for o in gc.get_objects())  # frozen
    assert settle_heap() is False  # nothing new imported: nothing to do


def test_warm_first_reading_reads_a_stroke_and_explains_once(quick_bundle, monkeypatch):
    """The server's warm-up: the pad's stroke through to_mnist and every method, then a test digit with its
    explanation, on a background thread; started by the first get_bundle, once per server."""
    from dashboard import resources
    from dashboard.logic import try_digit

    start("views/home.py")  # a page's get_bundle starts the warm-up once
    assert isinstance(resources._WARM.get("thread"), threading.Thread) and "warm" in resources._FOLLOWUPS
    resources._WARM["thread"].join(60)
    assert "error" not in resources._WARM and resources._WARM["seconds"] > 0
    first = resources._WARM["thread"]
    start("views/home.py")
    assert resources._WARM["thread"] is first  # not started again
    calls = []
    real_read, real_explain = try_digit.read_input, try_digit.explain
    monkeypatch.setattr(try_digit, "read_input", lambda *a, **k: calls.append(k["source"]) or real_read(*a, **k))
    monkeypatch.setattr(try_digit, "explain", lambda b, r: calls.append("explain") or real_explain(b, r))
    thread = resources.warm_first_reading(quick_bundle)
    thread.join(60)
    assert not thread.is_alive() and calls == ["warm-up", "warm-up", "explain"] and "error" not in resources._WARM


def test_empty_canvas_is_not_an_error(quick_app_env):
    at = start("views/try_digit.py")
    data = "data:image/png;base64," + base64.b64encode(png_bytes(lambda d: None)).decode()
    at.session_state["canvas_0"] = {"drawing": {"raw": {"objects": []}, "data": data}, "backgroundFit": None}
    at.run()
    assert not at.exception and not at.error
    assert any("Draw a digit first" in i.value for i in at.info)


def test_compare_table_slider_and_scatter(quick_bundle, quick_app_env):
    from uqcore.build import BuildConfig, build
    from uqcore.metrics.selective import accuracy_at_coverage

    at = start("views/compare.py")
    html = " ".join(h.proto.body for h in at.get("html"))  # the test-digit table, then OOD AUROC per set
    assert "★" in html and ">ECE<" in html and "AURC (‰)" in html and "OOD AUROC" in html and ">letters<" in html
    # OOD score histograms, risk-coverage curves, conformal coverage and the aleatoric/epistemic scatter
    assert len(at.get("plotly_chart")) == 4
    assert [d.proto.label for d in at.get("download_button")] == ["Download both tables (CSV, full precision)"]
    sets_shown = at.dataframe[1].value
    assert "test: right digit in set" in sets_shown.columns and "rotated: digits per set" in sets_shown.columns
    at.radio(key="cmp_conformal").set_value("lac").run()
    assert not at.exception and at.query_params["conformal"] == "lac"
    shown = at.dataframe[0].value
    assert list(shown.index) == ["letters", "doodles", "scrawls"]
    assert list(shown["held out"]) == ["", "development", "yes"]
    from uqcore.metrics.ood import ood_metrics
    from uqcore.store import Store as _Store

    fp = build(BuildConfig(quick=True), store=_Store(quick_app_env)).file_path
    want = ood_metrics(fp["test/png/familiarity"], fp["letters/png/familiarity"])["auroc"]
    assert shown.loc["letters", "AUROC"] == f"{want:.3f}"

    def readout():
        return [m.value for m in at.markdown if "abstain on" in m.value]

    before = readout()
    at.slider(key="cmp_coverage").set_value(0.80).run()
    assert not at.exception, at.exception
    after = readout()
    assert after != before
    bundle = build(BuildConfig(quick=True))
    pred = bundle.predictions
    m = bundle.methods["ensemble"]
    correct = pred.get("test", "ensemble", "probs").argmax(1) == pred.y("test")
    expected = accuracy_at_coverage(pred.get("test", "ensemble", "total"), correct, 0.80)
    assert len(after) == len(bundle.methods) == 10  # the nine readers and the teaching network
    assert f"**{m.title}**  \nabstain on 20% → accuracy **{expected:.2%}**" in after


def _first_confident_test_digit(bundle, limit: int = 200) -> int:
    from dashboard.logic.try_digit import test_digit

    for i in range(limit):
        if test_digit(bundle, i)["verdict"].kind == "confident":
            return i
    pytest.skip("no confident test digit in the quick build's first digits")


def test_explanation_only_for_a_confident_reading(quick_app_env):
    """Integrated gradients for a confident test digit (its shares add up to the logit change within 5%);
    withheld, with the reason, for random static and for a 50/50 blend of two digits."""
    from dashboard.logic.try_digit import explain, test_digit
    from uqcore.build import BuildConfig, build
    from uqcore.store import Store

    bundle = build(BuildConfig(quick=True), store=Store(quick_app_env))
    i = _first_confident_test_digit(bundle)
    record = test_digit(bundle, i)
    e = explain(bundle, record)
    assert e["shown"] and e["completeness_error"] <= 0.05 and e["attributions"].shape == (28, 28)
    at = open_page("views/try_digit.py", query={"test": str(i)})
    assert not at.exception, at.exception
    assert any(s.value.startswith(f"Why {record['verdict'].label}? Which pixels decided") for s in at.subheader)
    assert not any(s.value == "Why no explanation is shown" for s in at.subheader)
    cards = card_bodies(at)
    assert any("Guaranteed answer:" in c for c in cards), "each card shows its prediction set"
    assert any("What " in c and "sure about" in c and "calibration_lab?method=" in c for c in cards), \
        "and what its confidence means, with a link to the lab"

    rng = np.random.default_rng(0)
    noise = Image.fromarray((rng.random((28, 28)) * 255).astype(np.uint8)).convert("RGBA")  # MNIST-sized static
    x = bundle.predictions.images("test", [0, 1])
    blend = Image.fromarray((255 * (0.5 * x[0] + 0.5 * x[1])).reshape(28, 28).astype(np.uint8)).convert("RGBA")
    for name, img in (("static.png", noise), ("blend.png", blend)):
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        at = start("views/try_digit.py")
        at.file_uploader[0].upload(name, buf.getvalue(), "image/png").run()
        assert not at.exception, at.exception
        assert at.session_state["current_input"] is not None, f"{name} was not read at all"
        kind = at.session_state["current_input"]["verdict"].kind
        if kind == "confident":
            pytest.fail(f"{name} was read as confident by the quick build; the gate cannot be checked on it")
        assert any(s.value == "Why no explanation is shown" for s in at.subheader), name
        from uqcore.explain import DECLINE_REASONS

        assert any(DECLINE_REASONS[kind] in b.body for b in at.info), name


def test_first_start_reads_with_the_early_network_while_the_rest_trains(tmp_path, monkeypatch, tiny_model):
    """An artifact folder holding only the single network's early snapshot, the build still running: Try a digit
    reads the drawing with that network and says what it is waiting for (no method cards, no verdict yet)."""
    from dashboard.builder import BackgroundBuild, StageStatus
    from dashboard.logic.try_digit import first_reading
    from uqcore.build import BuildConfig, early_key
    from uqcore.data.preprocess import to_mnist
    from uqcore.store import Store

    monkeypatch.setenv("UQCORE_ARTIFACTS", str(tmp_path))
    store = Store(tmp_path)
    store.save_tensors(early_key(store, BuildConfig(quick=True)), tiny_model.state_dict(),
                       {"epochs": 2, "of": 3, "test_accuracy": 0.9, "config": {}})
    running = BackgroundBuild(BuildConfig(quick=True), tmp_path, stages={"mlp": StageStatus(2, 3, "MLP: epoch 2/3")})
    monkeypatch.setattr(BackgroundBuild, "for_store", classmethod(lambda cls, config, store, **kw: running))
    at = AppTest.from_file(ENTRY, default_timeout=120)
    at.switch_page("views/try_digit.py")
    at.run()
    assert not at.exception, at.exception
    assert any("Draw a digit: a first network reads it" in i.value for i in at.info)
    png = png_bytes(a_one)
    at.session_state["canvas_0"] = {"drawing": {"data": "data:image/png;base64," + base64.b64encode(png).decode()}}
    at.run()
    assert not at.exception, at.exception
    [metric] = [m for m in at.metric if m.label == "First network reads"]
    from dashboard.draw_canvas import rgba_of

    probs = first_reading(tiny_model, to_mnist(rgba_of(png)).x)
    assert metric.value == str(int(probs.argmax())) and metric.delta == f"{probs.max():.0%} sure"
    assert any("Still training the other methods" in i.value and "2 of its 3 training epochs" in i.value
               for i in at.info)
    assert any("First start: training the models" in i.value for i in at.info), "the build's progress below"
    assert not method_cards(at) and not verdicts(at)


def test_the_build_saves_the_early_snapshot_where_the_app_looks(quick_bundle, quick_app_env):
    """The quick build wrote the single network's early snapshot under the key the app derives from its own
    (unresolved) config; it reads digits."""
    from uqcore.build import EARLY_EPOCHS, BuildConfig, early_key
    from uqcore.methods.nets import MLP
    from uqcore.store import Store

    store = Store(quick_app_env)
    config = BuildConfig(quick=True)
    assert early_key(store, config) == early_key(store, config.resolved())
    state, meta = store.load_tensors(early_key(store, config))
    assert meta["epochs"] == EARLY_EPOCHS and meta["of"] == config.resolved().mlp.epochs
    net = MLP(config.resolved().mlp.model)
    net.load_state_dict(state)
    assert meta["test_accuracy"] > 0.5


def test_the_first_starts_background_turn_computes_the_evaluation_after_the_curves(tmp_path, monkeypatch):
    """``resources._run_active`` (the active-learning runner): the curves, then the bundle's evaluation; a failing
    evaluation is kept aside and does not fail the curves; without a bundle (a page asked first), no evaluation."""
    from dashboard import resources
    from uqcore import acquisition
    from uqcore import evaluate as ev

    calls = []
    monkeypatch.setattr(acquisition, "curves_stage", lambda store, config, progress: calls.append("curves") or "c")
    monkeypatch.setattr(ev, "evaluate_cached", lambda bundle: calls.append(("evaluation", bundle)))
    assert resources._run_active("cfg", store="store", progress=None, bundle="b") == "c"
    assert calls == ["curves", ("evaluation", "b")]
    calls.clear()
    resources._run_active("cfg", store="store", progress=None)
    assert calls == ["curves"]

    def broken(bundle):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(ev, "evaluate_cached", broken)
    monkeypatch.setitem(resources._WARM, "evaluation_error", None)
    assert resources._run_active("cfg", store="store", progress=None, bundle="b") == "c"
    assert "disk on fire" in str(resources._WARM["evaluation_error"])
