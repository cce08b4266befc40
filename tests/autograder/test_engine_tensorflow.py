"""grade_submission end to end for the TensorFlow assignment: its fixture corpus (fixtures_tensorflow/).

Named like the convnets corpus (see fixture_builder.py): full_marks_* earn every autograded point;
loses_<item>_* lose points on <item> (and on what fixture.json's also_affects names) and nowhere else;
zero_gain_* score zero on the attacked items (fixture.json's items) and full marks elsewhere; the untouched
release earns zero. A fixture's fixture.json "weights" names the weights file it carries (default: the
reference's trained weights; made by
tf_weights_files.py in a subprocess: this process never imports TensorFlow).

Every grading imports TensorFlow in its worker (seconds), so the corpus is graded once per module, a core per
grading (parallel_grading).
"""
from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assignments.tensorflow import OPEN_MODEL_FILE, TENSORFLOW
from autograder.settings import GradingSettings
from fixture_builder import (affected_items, build_fixture, fixture_config, fixture_names, own_items, render_course,
                             unpack_tiny_cifar)
from parallel_grading import grade_all

FIXTURES = Path(__file__).with_name("fixtures_tensorflow")
CODE_ITEMS = {g.name: g.points for g in TENSORFLOW.graded_items}
NAMES = fixture_names(FIXTURES)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The source notebook, the tiny data set unpacked, and the fixtures' weights files."""
    folder = tmp_path_factory.mktemp("tf_course")
    notebook = render_course(folder, TENSORFLOW)
    tiny = unpack_tiny_cifar(notebook.parent / "convkit" / "tiny_cifar10.zip", folder / "tiny")
    weights = folder / "weights"
    done = subprocess.run([sys.executable, str(Path(__file__).with_name("tf_weights_files.py")), str(weights),
                           str(tiny)], capture_output=True, text=True, timeout=900,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr[-3000:]
    return notebook, tiny, weights, json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    notebook, tiny, weights, _ = course
    settings = GradingSettings(**dataclasses.asdict(TENSORFLOW.limits), assignment=TENSORFLOW.name,
                               source_notebook=notebook, heldout_dir=tiny, heldout_num_training=1350,
                               heldout_num_validation=150)
    out = tmp_path_factory.mktemp("tf_fixtures")
    notebooks = {}
    for name in NAMES:
        notebooks[name] = build_fixture(name, notebook, out, TENSORFLOW, FIXTURES)
        config = fixture_config(name, FIXTURES)
        # Every submission carries the reference's trained weights unless its fixture.json says otherwise.
        kind = config.get("weights", None if config.get("base") == "release" else "trained")
        if kind:
            shutil.copyfile(weights / f"{kind}.weights.h5", notebooks[name].parent / OPEN_MODEL_FILE)
    # A core per grading, each in its own spawned process (parallel_grading says why that cannot hang).
    return grade_all(notebooks, settings)


def _scores(result):
    return {item: got for item, (got, top) in result.item_scores().items() if item in CODE_ITEMS}


def _describe(result):
    return "\n".join(f"{t.name}: {t.score}/{t.max_score} {t.message[:300]}" for t in result.tests
                     if t.score < t.max_score)


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith("full_marks_")])
def test_correct_styles_earn_full_marks(name, graded):
    result = graded[name]
    assert _scores(result) == pytest.approx(CODE_ITEMS), _describe(result)


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith("loses_")])
def test_each_bug_loses_points_on_its_item_only(name, graded):
    result, allowed = graded[name], affected_items(name, TENSORFLOW, FIXTURES)
    scores = _scores(result)
    lost = {item for item, got in scores.items() if got < CODE_ITEMS[item] - 1e-9}
    own = own_items(name, TENSORFLOW, FIXTURES)
    assert own and own <= lost, f"{name} lost nothing on {own}:\n{_describe(result)}"
    assert lost <= allowed, f"{name} also lost points on {sorted(lost - allowed)}:\n{_describe(result)}"


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith("zero_gain_")])
def test_each_attack_gains_nothing(name, graded):
    result, config = graded[name], fixture_config(name, FIXTURES)
    scores = _scores(result)
    for item in config["items"]:
        assert scores[item] == 0, f"{name} earned {scores[item]} on {item}:\n{_describe(result)}"
    others = set(CODE_ITEMS) - affected_items(name, TENSORFLOW, FIXTURES)
    assert {i: scores[i] for i in others} == pytest.approx({i: CODE_ITEMS[i] for i in others}), _describe(result)


def test_untouched_release_earns_zero(graded):
    result = graded["release_untouched_earns_zero"]
    assert sum(_scores(result).values()) == 0, _describe(result)
    assert all(t.message for t in result.tests)


def test_reference_reaches_full_credit_accuracy_on_the_tiny_set(course, graded):
    *_, history = course
    accuracy_tests = [t for t in graded["full_marks_reference"].tests if "accuracy" in t.name]
    assert accuracy_tests and all(t.score == t.max_score for t in accuracy_tests), history


def test_the_parent_side_of_every_tensorflow_case_never_imports_tensorflow(course):
    notebook, tiny, weights, _ = course
    script = f"""
import sys
from pathlib import Path
import assignments
from autograder import cases, engine
from autograder.settings import GradingSettings
record = assignments.get("tensorflow")
settings = GradingSettings(assignment="tensorflow", heldout_dir={str(tiny)!r}, heldout_num_training=1350,
                           heldout_num_validation=150)
for graded in record.graded_items:
    for case in cases.cases_for(record, graded.name):
        prepared = cases.prepare(record, case, 3, settings, Path({str(weights / "trained.weights.h5")!r}))
        for check in prepared.checks:
            check.evaluate({{}})
print("tensorflow" in sys.modules, "keras" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[2],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False False"
