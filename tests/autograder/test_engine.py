"""grade_submission end to end: the fixture corpus, bad files, hidden-test feedback, and the experiment.

Every fixture in fixtures/ is named for the outcome it must get (see fixture_builder.py):
full_marks_* earn every autograded point of every function and class; loses_<item>_* lose points on <item>
(and on items its fixture.json declares) and nowhere else; zero_gain_* score zero on the attacked items and full
marks elsewhere; the untouched release earns zero without crashing.
"""
from __future__ import annotations

import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from assignments.convnets import CONVNETS, EXPERIMENT_FILE
from autograder import sandbox
from autograder.engine import grade_submission
from autograder.settings import GradingSettings
from fixture_builder import affected_items, build_fixture, fixture_config, fixture_names, render_course

FUNCTION_ITEMS = {g.name: g.points for g in CONVNETS.graded_items if g.runs_code}
EXPERIMENT_POINTS = CONVNETS.item("experiment").points


@pytest.fixture(scope="module")
def source_notebook(tmp_path_factory):
    return render_course(tmp_path_factory.mktemp("course"))


@pytest.fixture(scope="module")
def settings(source_notebook):
    # Short limits keep the attack fixtures quick; correct answers need a small fraction of them.
    return GradingSettings(source_notebook=source_notebook, test_seconds=2.0, cell_seconds=4.0, memory_mb=1024)


@pytest.fixture(scope="module")
def built(source_notebook, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fixtures")
    return lambda name: build_fixture(name, source_notebook, folder)


@pytest.fixture(scope="module")
def graded(built, settings):
    """Grade a fixture once per module; the corpus tests grade all of them at once, in parallel."""
    cache = {}

    def grade(name, everything=False):
        names = [n for n in (fixture_names() if everything else [name]) if n not in cache]
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # workers are processes: no GIL
            for n, result in zip(names, pool.map(lambda n: grade_submission(built(n), n, settings), names)):
                cache[n] = result
        return cache[name]

    return grade


def _lost(result):
    return {item: got for item, (got, top) in result.item_scores().items() if item in FUNCTION_ITEMS and got < top}


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in fixture_names() if n.startswith("full_marks_")])
def test_correct_styles_earn_full_marks(name, graded):
    result = graded(name, everything=True)
    assert _lost(result) == {}, [t.message for t in result.tests if not t.passed and t.item in FUNCTION_ITEMS]
    assert result.score == sum(FUNCTION_ITEMS.values())  # no experiment file was submitted
    assert result.max_score == CONVNETS.total_autograded_points


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in fixture_names() if n.startswith("loses_")])
def test_each_bug_loses_points_on_its_function_only(name, graded):
    result = graded(name, everything=True)
    lost = _lost(result)
    target = next(g for g in FUNCTION_ITEMS if name.startswith(f"loses_{g}_"))
    assert target in lost
    assert set(lost) <= affected_items(name)
    failed = [t for t in result.tests if not t.passed and t.item == target]
    assert all(t.message and t.hint for t in failed)


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in fixture_names() if n.startswith("zero_gain_")])
def test_each_attack_gains_nothing(name, graded):
    config = fixture_config(name)
    if config.get("needs_namespaces") and not sandbox.namespaces_available():
        pytest.skip("this attack is only stopped by namespace isolation, unavailable here")
    result = graded(name, everything=True)
    scores = result.item_scores()
    attacked = set(config["items"])
    penalised = config.get("penalised_cases")
    if penalised:  # the attack hides a bug: it must earn exactly what the bug earns, the penalty of those cases
        failed = {t.name for t in result.tests if t.item in attacked and not t.passed}
        assert failed and all(any(p in n for p in penalised) for n in failed), failed
        assert all("modified in place" in t.message for t in result.tests if t.name in failed)
    else:
        assert all(scores[item][0] == 0 for item in attacked), {i: scores[i] for i in attacked}
    assert set(_lost(result)) == attacked  # everything else is still graded, at full marks
    assert result.max_score == CONVNETS.total_autograded_points
    assert not any("LEAK" in t.message for t in result.tests)


def test_untouched_release_earns_zero_without_crashing(graded):
    result = graded("release_untouched_earns_zero")
    assert result.score == 0 and result.max_score == CONVNETS.total_autograded_points
    conv = next(t for t in result.tests if t.item == "conv_forward_naive")
    assert "NotImplementedError" in conv.message and "not implemented yet" in conv.hint
    assert result.problems == []
    assert any("isolation level" in line for line in result.log)


def test_tampering_is_reported_and_the_instructors_points_are_used(graded):
    result = graded("zero_gain_tampered_test_cell")
    assert any("'test_conv_forward_naive' was edited" in p for p in result.problems)
    # A cell's points are never read from a submission (an older release's copy differs legitimately): the
    # record's 10 points are used and the student is not told about points (the instructor is: release_points).
    assert not any("points" in p for p in result.problems)
    assert result.item_scores()["conv_forward_naive"] == (0.0, 10.0)


def test_hidden_cases_name_what_they_checked_without_their_data(graded):
    result = graded("loses_conv_forward_naive_square_filter_assumed")
    hidden = [t for t in result.tests if t.item == "conv_forward_naive" and t.visibility == "hidden"]
    failed = [t for t in hidden if not t.passed]
    assert failed and all("filter" in t.name for t in failed)
    assert any("shape (2, 3, 4, 4) instead of (2, 3, 4, 3)" in t.message for t in failed)
    for test in hidden:  # descriptions only: no array of numbers leaks into the feedback
        assert "[[" not in test.message + test.expected + test.got


@pytest.mark.parametrize("content, words", [(b"", "empty"), (b"{not json", "not valid notebook JSON")])
def test_unreadable_notebook_scores_zero_with_a_message(tmp_path, settings, content, words):
    path = tmp_path / CONVNETS.notebook
    path.write_bytes(content)
    result = grade_submission(path, "broken", settings)
    assert result.score == 0 and result.max_score == CONVNETS.total_autograded_points
    assert any(words in p for p in result.problems)
    for test in result.tests:  # each item's zero names it and says how to mend the file
        assert test.message.startswith(f"{test.item}: the notebook could not be read"), test.message
        assert "save it" in test.hint, test.hint


def test_results_serialise_to_plain_json(graded):
    result = graded("release_untouched_earns_zero")
    assert json.loads(json.dumps(result.to_dict()))["max_score"] == CONVNETS.total_autograded_points


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    from reference_impl.tiny_cifar import make_tiny_cifar10
    return make_tiny_cifar10(tmp_path_factory.mktemp("tiny"))


def _save_model(path, tiny_data, epochs):
    from reference_impl.cnn import ThreeLayerConvNet
    from reference_impl.data import get_CIFAR10_data
    from reference_impl.model_io import save_experiment_model
    from reference_impl.solver import Solver
    kwargs = dict(num_filters=8, filter_size=3, hidden_dim=32, weight_scale=1e-2, reg=1e-3)
    model = ThreeLayerConvNet(**kwargs, seed=0)
    if epochs:
        data = get_CIFAR10_data(num_training=1400, num_validation=100, num_test=0, cifar10_dir=str(tiny_data))
        Solver(model, data, num_epochs=epochs, batch_size=50, update_rule="adam", optim_config={"learning_rate": 2e-3},
               verbose=False).train()
    save_experiment_model(path, model, "ThreeLayerConvNet", **kwargs)
    return path


@pytest.mark.slow
def test_reference_with_a_trained_experiment_earns_exactly_full_marks(built, settings, tiny_data, tmp_path):
    from dataclasses import replace
    notebook = built("full_marks_reference")
    model = _save_model(tmp_path / EXPERIMENT_FILE, tiny_data, epochs=1)
    heldout = replace(settings, heldout_dir=tiny_data, heldout_num_training=1400, heldout_num_validation=100)
    result = grade_submission(notebook, "reference", heldout, {EXPERIMENT_FILE: model})
    assert result.score == result.max_score == CONVNETS.total_autograded_points


@pytest.mark.slow
def test_no_worker_process_survives_grading(graded):
    graded("zero_gain_fork_bomb_survivor", everything=True)
    # The fixture's children call setsid() to leave the process group; the PID namespace still ends them.
    survivors = subprocess.run(["pgrep", "-f", "grader-fixture-orphan"], capture_output=True, text=True).stdout.split()
    assert survivors == [] or not sandbox.namespaces_available()


def test_non_array_results_fail_with_a_message_saying_so(graded):
    result = graded("loses_max_pool_forward_naive_returns_nested_lists")
    pool = [t for t in result.tests if t.item == "max_pool_forward_naive"]
    assert all(t.score == 0 and "not a numpy.ndarray" in t.message for t in pool if "unmodified" not in t.name)


@pytest.mark.slow
def test_only_the_notebook_is_taken_from_the_submission_folder(built, settings, tmp_path):
    folder = tmp_path / "submitted" / "mallory" / "convnets"
    folder.mkdir(parents=True)
    notebook = folder / CONVNETS.notebook
    notebook.write_bytes(built("full_marks_reference").read_bytes())
    for shadow in ("numpy.py", "sitecustomize.py", "usercustomize.py", "convkit.py"):
        (folder / shadow).write_text("raise SystemExit('shadowing module imported')\n")
    (folder / "numpy").mkdir()
    (folder / "numpy" / "__init__.py").write_text("raise SystemExit('shadowing package imported')\n")
    result = grade_submission(notebook, "mallory", settings)
    assert result.score == sum(FUNCTION_ITEMS.values())


def test_instructors_can_reveal_hidden_configurations(built, settings):
    from dataclasses import replace
    result = grade_submission(built("loses_conv_forward_naive_square_filter_assumed"), "bug",
                              replace(settings, reveal_hidden=True))
    failed = [t for t in result.tests if t.item == "conv_forward_naive" and not t.passed and t.visibility == "hidden"]
    assert failed and all('configuration: {' in t.hint and '"WW": ' in t.hint for t in failed)



def test_student_text_reaches_a_hidden_cases_feedback_only_as_one_short_line(graded, settings):
    """The fixture's exception message spells out its inputs over many characters and lines: a hidden case shows
    one line of at most ``student_text_chars`` of it, a visible case the longer line it always showed."""
    result = graded("loses_conv_forward_naive_leaks_its_inputs_in_errors")
    conv = [t for t in result.tests if t.item == "conv_forward_naive"]
    hidden = [t for t in conv if t.visibility == "hidden"]
    visible = [t for t in conv if t.visibility == "visible"]
    assert hidden and visible and not any(t.passed for t in conv)
    prefix = "the call to conv_forward_naive failed: "
    for test in hidden:
        assert test.message.startswith(prefix + "ValueError: LEAK"), test.message
        assert len(test.message) <= len(prefix) + settings.student_text_chars and test.message.endswith("...")
        assert len(test.got) <= settings.student_text_chars
        assert "second line" not in test.message + test.got and "LEAK-PRINT" not in test.message + test.got
        assert "\n" not in test.message + test.got
    assert all(len(t.message) > len(prefix) + 2 * settings.student_text_chars for t in visible)


# What happened, in the message, and what to do, in the hint, of every test a limit-breaking or crashing
# fixture loses on its attacked items: the message holds one of the first words, the hint one of the second; a
# test not run because earlier ones ended the process says so, and sends the student to those.
NOT_RUN = ("kept ending", "earlier tests")
LIMIT_AND_CRASH_WORDS = {
    "zero_gain_infinite_loop": (("CPU time", "timed out", NOT_RUN[0]), ("loop", NOT_RUN[1])),
    "zero_gain_sleeps_forever": (("without computing", NOT_RUN[0]), ("sleep", NOT_RUN[1])),
    "zero_gain_os_exit": (("exit", NOT_RUN[0]), ("exit", NOT_RUN[1])),
    "zero_gain_memory_blowup": (("MemoryError", "memory", NOT_RUN[0]), ("array far larger", NOT_RUN[1])),
    "zero_gain_plants_a_fifo_for_an_output": (("refused",), ("remove any code",)),
    "zero_gain_symlinks_an_output": (("refused",), ("remove any code",)),
    "zero_gain_floods_the_status_with_outputs": (("refused",), ("remove any code",)),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(LIMIT_AND_CRASH_WORDS))
def test_limit_and_crash_messages_name_the_item_and_what_to_do(name, graded):
    """Goal 11 of the fairness issue: every such message names its item and says what happened; its hint says
    what the student can do (never the generic "read the error above")."""
    result = graded(name)
    happened, to_do = LIMIT_AND_CRASH_WORDS[name]
    lost = [t for t in result.tests if not t.passed and t.item in affected_items(name) and t.item in FUNCTION_ITEMS]
    assert lost, name
    for test in lost:
        assert test.item in test.message, test.message
        assert any(w in test.message for w in happened) and any(w in test.hint for w in to_do), (test.message,
                                                                                                test.hint)
        assert not test.hint.startswith("read the error above"), (test.message, test.hint)
