"""The Your predictions page: another model's file read from a path, its figures equal uqcore's on the scored
half, the temperature slider, a bad file's message, the CSV export; and the page's logic."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import open_page
from scipy.special import softmax

from dashboard.logic.your_predictions import confident_mistakes, metrics_at, rows_csv, uncertainties
from uqcore.data.external import from_arrays, halves, load_predictions
from uqcore.metrics.calibration import ece

PAGE = "views/your_predictions.py"


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 2.5, (2000, 10))
    y = np.array([rng.choice(10, p=p) for p in softmax(logits / 1.6, axis=1)])  # overconfident by T = 1.6
    members = np.stack([softmax(logits + rng.normal(0, 0.6, logits.shape), axis=1) for _ in range(3)])
    f = tmp_path_factory.mktemp("yours") / "model.npz"
    np.savez(f, y_true=y, logits=logits, member_probs=members, images=rng.random((2000, 784)))
    return f


def test_logic_on_a_known_file(model_file):
    ext = load_predictions(model_file)
    fit, rows = halves(ext.n)
    assert len(fit) == len(rows) == 1000 and not set(fit) & set(rows)
    m = metrics_at(ext, rows, 1.6)
    assert m["ece"] == pytest.approx(ece(softmax(ext.logits[rows] / 1.6, axis=1), ext.y[rows], n_bins=15))
    assert m["ece"] < metrics_at(ext, rows, 1.0)["ece"]  # the file is overconfident by construction
    worst = confident_mistakes(ext, 5)
    conf = ext.probs[worst].max(1)
    assert (ext.probs[worst].argmax(1) != ext.y[worst]).all() and (np.diff(conf) <= 0).all()
    u = uncertainties(ext)
    np.testing.assert_allclose(u["total"], u["aleatoric"] + u["epistemic"], atol=1e-9)
    lines = rows_csv(ext, 1.0).splitlines()
    assert lines[0] == "index,y_true,predicted,confidence,correct,total,aleatoric,epistemic" and len(lines) == 2001
    first = lines[1].split(",")
    assert int(first[2]) == ext.probs[0].argmax() and float(first[3]) == pytest.approx(ext.probs[0].max(), abs=1e-6)


def test_without_logits_the_same_softmax():
    probs = softmax(np.random.default_rng(0).normal(size=(50, 4)), axis=1)
    ext = from_arrays({"y_true": np.zeros(50, int), "probs": probs})
    np.testing.assert_allclose(metrics_at(ext, np.arange(50), 1.0)["nll"], -np.log(probs[:, 0]).mean(), rtol=1e-6)


def test_page_reads_a_path_and_follows_the_temperature(model_file):
    at = open_page(PAGE)
    assert any("Upload a file" in i.value for i in at.info)  # nothing yet, no build needed
    at.text_input(key="yours_path").input(str(model_file)).run()
    assert not at.exception, at.exception
    assert any("2,000 rows, 10 classes, logits" in s.value for s in at.success)
    ext = load_predictions(model_file)
    _, rows = halves(ext.n)
    shown = {m.label: m.value for m in at.metric}
    assert shown["ECE"] == f"{metrics_at(ext, rows, 1.0)['ece']:.2%}"
    at.slider(key="yours_T").set_value(1.6).run()
    shown = {m.label: m.value for m in at.metric}
    assert shown["ECE"] == f"{metrics_at(ext, rows, 1.6)['ece']:.2%}"
    assert any(s.value == "Two kinds of doubt" for s in at.subheader)  # member probabilities were given
    assert any(s.value == "Sure and wrong" for s in at.subheader)  # and images


def test_page_fits_the_offered_calibrators_and_shows_the_textbook_forms_apart(model_file):
    from uqcore.evaluate import evaluate_external
    from uqcore.metrics.calibrators import CALIBRATOR_TITLES, CALIBRATORS, TEXTBOOK

    at = open_page(PAGE)
    at.text_input(key="yours_path").input(str(model_file)).run()
    at.toggle(key="yours_report").set_value(True).run()
    assert not at.exception, at.exception
    offered, textbook = [d.value for d in at.dataframe if "NLL" in d.value.index][:2]
    assert list(offered.columns) == [CALIBRATOR_TITLES[k] for k in CALIBRATORS]
    assert list(textbook.columns) == [CALIBRATOR_TITLES[k] for k in TEXTBOOK]
    want = evaluate_external(load_predictions(model_file))["metrics"]
    assert textbook.loc["NLL", CALIBRATOR_TITLES["histogram"]] == f"{want['calibrators_textbook']['histogram']['nll']:.4f}"
    assert any("textbook forms" in c.value for c in at.caption)


def test_page_explains_a_bad_file(tmp_path):
    bad = tmp_path / "bad.npz"
    np.savez(bad, y_true=np.zeros(30, int), probs=np.full((30, 3), 0.5))
    at = open_page(PAGE)
    at.text_input(key="yours_path").input(str(bad)).run()
    assert not at.exception, at.exception
    assert any("cannot be used" in e.value and "do not sum to 1" in e.value for e in at.error)
    at.text_input(key="yours_path").input(str(tmp_path / "gone.npz")).run()
    assert any("no such file" in e.value for e in at.error)


def test_page_reads_an_upload_and_the_best_temperature_button_moves_the_slider(model_file):
    at = open_page(PAGE)
    at.file_uploader(key="yours_upload").upload("model.npz", model_file.read_bytes(), "application/octet-stream").run()
    assert not at.exception, at.exception
    assert any("model.npz" in s.value and "2,000 rows" in s.value for s in at.success)
    button = next(b for b in at.button if b.label.startswith("Best T = "))
    best = float(button.label.split("= ")[1].split()[0])
    assert 1.2 < best < 2.1  # the file is overconfident by T = 1.6
    button.click().run()
    assert not at.exception and at.slider(key="yours_T").value == pytest.approx(best)


def test_page_explains_an_odd_path():
    at = open_page(PAGE)
    at.text_input(key="yours_path").input("~nosuchuser_xyz/model.npz").run()
    assert not at.exception, at.exception
    assert any("cannot be opened" in e.value for e in at.error)


def test_the_file_is_offered_in_the_lab_compare_and_errors(model_file, quick_bundle):
    """Loaded once on Your predictions, the file is a model in the Calibration lab, Compare and Errors of the same
    session, and their figures are uqcore's on the file's rows (the scored half where the lab and Errors say so)."""
    from uqcore.analysis.calibration import lab_metrics
    from uqcore.metrics.calibration import optimal_temperature

    ext = load_predictions(model_file)
    fit, rows = halves(ext.n)
    at = open_page(PAGE)
    at.text_input(key="yours_path").input(str(model_file)).run()
    assert not at.exception, at.exception
    key = "yours:" + ext.digest

    at.switch_page("views/calibration_lab.py").run()
    assert not at.exception, at.exception
    assert any(o.startswith("Your predictions (model.npz") for o in at.selectbox(key="cal_method").options)
    at.selectbox(key="cal_method").set_value(key).run()
    assert not at.exception, at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["ECE"] == f"{lab_metrics(ext.probs[rows], ext.y[rows], n_bins=15)['ece']:.2%}"
    t_fit = round(float(optimal_temperature(ext.logits[fit], ext.y[fit])), 2)
    assert any(b.label == f"Optimal T ({t_fit:.2f})" for b in at.button)
    assert any("scored rows (half of your file)" in c.value for c in at.caption)

    at.switch_page("views/errors.py").run()
    at.selectbox(key="err_method").set_value(key).run()
    assert not at.exception, at.exception
    wrong = int((ext.probs[rows].argmax(1) != ext.y[rows]).sum())
    assert any("of the 1,000 scored rows (half of your file) match" in m.value and f"{wrong:,} of them wrongly" in m.value
               for m in at.markdown)

    at.switch_page("views/compare.py").run()
    assert not at.exception, at.exception
    [table] = [d.value for d in at.dataframe if "Your predictions" in d.value.index]
    correct = ext.probs.argmax(1) == ext.y
    assert table.loc["Your predictions", "Accuracy"] == f"{correct.mean() * 100:.2f}%"  # all rows
    assert "Your predictions (on its own rows)" in at.selectbox(key="cmp_method").options  # the split offers it too
    at.selectbox(key="cmp_method").set_value(key).run()
    assert not at.exception, at.exception
    from uqcore.metrics.uncertainty import decompose, spearman

    d = decompose(ext.member_probs)
    shown = {m.label: m.value for m in at.metric}
    assert shown["Spearman rank correlation (all rows of your file)"] == f"{spearman(d.aleatoric, d.epistemic):.3f}"
    [share] = [c.value for c in at.caption if "Share this view" in c.value]
    assert "yours" not in share and "your predictions file stays on this computer" in share  # no key in the link


def test_a_file_without_images_or_members_in_the_lab_and_errors(tmp_path, quick_bundle):
    """Three classes, probabilities only: the lab has no pictures to show, Errors says why its epistemic list is flat."""
    rng = np.random.default_rng(5)
    probs = softmax(rng.normal(0, 2, (300, 3)), axis=1)
    y = np.array([rng.choice(3, p=p) for p in probs])
    f = tmp_path / "three.csv"
    np.savetxt(f, np.column_stack([y, probs]), delimiter=",", header="y_true,p0,p1,p2", comments="", fmt="%.8g")
    at = open_page(PAGE)
    at.text_input(key="yours_path").input(str(f)).run()
    assert not at.exception, at.exception
    ext = load_predictions(f)
    key = "yours:" + ext.digest
    at.switch_page("views/calibration_lab.py").run()
    at.selectbox(key="cal_method").set_value(key).run()
    assert not at.exception, at.exception
    assert any("no `images` array" in c.value for c in at.caption)
    at.switch_page("views/errors.py").run()
    at.selectbox(key="err_method").set_value(key).run()
    at.selectbox(key="err_unc").set_value("epistemic").run()
    assert not at.exception, at.exception
    assert any("has no `member_probs`" in i.value for i in at.info)
    at.switch_page("views/compare.py").run()
    at.selectbox(key="cmp_method").set_value(key).run()
    assert not at.exception, at.exception
    assert any("Your file has no member probabilities" in i.value for i in at.info)  # epistemic is zero throughout


def test_frame_of_arrays_reads_like_a_method():
    """An analyst's rows become the Errors page's table: known answers for three rows."""
    from uqcore.analysis.tables import error_list, frame_of

    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
    total = -(probs * np.log(probs)).sum(1)
    f = frame_of(probs, [0, 2, 2], {"total": total, "aleatoric": total, "epistemic": np.zeros(3)}, index=[5, 9, 11])
    assert list(f.index) == [5, 9, 11] and list(f["pred"]) == [0, 1, 2] and list(f["correct"]) == [True, False, True]
    assert f["confidence"].tolist() == [0.7, 0.8, 0.4] and f["ood_score"].isna().all()
    assert list(error_list(f, "misclassified").index) == [9]
    assert list(error_list(f, "most uncertain").index)[0] == 11  # the flattest row
