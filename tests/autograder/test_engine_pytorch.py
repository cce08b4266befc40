"""grade_submission on the PyTorch assignment: its fixture corpus (tests/autograder/fixtures_pytorch/, named
for the outcome each must get), the open model's weights file, and the framework boundaries (the parent never
imports torch; a pickled weights file earns nothing)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import importlib.util

import pytest

if importlib.util.find_spec("torch") is None:  # not imported here: see the parent-side test below
    pytest.skip("torch is not installed", allow_module_level=True)

from assignments.pytorch import OPEN_MODEL_FILE, PYTORCH  # noqa: E402
from autograder.cases.pytorch.open_model import train_reference_weights  # noqa: E402
from autograder.engine import grade_submission  # noqa: E402
from autograder.settings import GradingSettings  # noqa: E402
from fixture_builder import affected_items, build_fixture, fixture_names, own_items  # noqa: E402
from parallel_grading import grade_all  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).with_name("fixtures_pytorch")
SOURCE = REPO / "source" / "pytorch" / PYTORCH.notebook
CODE_ITEMS = {g.name: g.points for g in PYTORCH.graded_items if g.file is None}
NAMES = fixture_names(FIXTURES)

pytestmark = pytest.mark.slow


def build(name: str, out_dir: Path) -> Path:
    """Fixture ``name`` as a notebook: the reference (or release) with the fixture's cells replaced/added."""
    return build_fixture(name, SOURCE, out_dir, PYTORCH, FIXTURES)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    from reference_impl.tiny_cifar import make_tiny_cifar10
    return make_tiny_cifar10(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def settings(tiny_data):
    limits = PYTORCH.limits
    return GradingSettings(assignment="pytorch", source_notebook=SOURCE, heldout_dir=tiny_data,
                           heldout_num_training=1400, heldout_num_validation=100, cpu_seconds=limits.cpu_seconds,
                           memory_mb=limits.memory_mb, startup_seconds=limits.startup_seconds,
                           cell_seconds=limits.cell_seconds, test_seconds=limits.test_seconds)


@pytest.fixture(scope="module")
def graded(settings, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fixtures")
    # A core per grading, each in its own spawned process, not a thread of this one (grading from two threads
    # of this process hung twice here, every thread waiting on a lock): parallel_grading says why it cannot hang.
    return grade_all({name: build(name, folder) for name in NAMES}, settings, files={})


def _scores(result):
    return {item: got for item, (got, top) in result.item_scores().items()}


def test_every_code_item_has_a_realistic_bug_fixture():
    assert {g for g in CODE_ITEMS if any(n.startswith(f"loses_{g}_") for n in NAMES)} == set(CODE_ITEMS)


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith("full_marks_")])
def test_correct_styles_earn_full_marks_on_every_code_item(name, graded):
    scores = _scores(graded[name])
    lost = {item: scores[item] for item, points in CODE_ITEMS.items() if scores[item] != points}
    assert lost == {}, [t.message for t in graded[name].tests if t.score < t.max_score][:5]


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith("loses_")])
def test_each_bug_loses_points_on_its_item_only(name, graded):
    scores, items = _scores(graded[name]), own_items(name, PYTORCH, FIXTURES)
    assert items, f"{name} names no item"
    assert all(scores[item] < PYTORCH.item(item).points for item in items), scores
    allowed = affected_items(name, PYTORCH, FIXTURES)
    others = {item: scores[item] for item, points in CODE_ITEMS.items() if item not in allowed and scores[item] != points}
    assert others == {}


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith("zero_gain_")])
def test_each_attack_earns_nothing_on_the_attacked_items(name, graded):
    scores = _scores(graded[name])
    items = own_items(name, PYTORCH, FIXTURES)
    assert items and {item: scores[item] for item in items} == {item: 0.0 for item in items}


def test_nn_layers_in_a_barebones_function_fail_with_the_tripwire_message(graded):
    messages = " ".join(t.message for t in graded["zero_gain_nn_layers_in_barebones"].tests
                        if t.item == "three_layer_convnet")
    assert "torch.nn.Module (and its subclasses) is disabled" in messages


def test_untouched_release_earns_zero(graded):
    assert graded["release_untouched_earns_zero"].score == 0.0


def test_reference_with_a_trained_open_model_earns_exactly_full_marks(settings, tiny_data, tmp_path):
    weights = tmp_path / OPEN_MODEL_FILE
    accuracy, _ = train_reference_weights(weights, tiny_data)
    assert accuracy >= 0.70, f"the reference open model reaches only {accuracy:.0%} on the tiny data"
    result = grade_submission(build("full_marks_reference", tmp_path), "reference", settings, {OPEN_MODEL_FILE: weights})
    assert result.score == result.max_score == PYTORCH.total_autograded_points, \
        [t.message for t in result.tests if t.score < t.max_score]


def test_the_parent_side_of_every_pytorch_case_never_imports_torch(tiny_data):
    script = f"""
import sys
import assignments
from autograder import cases, engine
from autograder.settings import GradingSettings
record = assignments.get("pytorch")
settings = GradingSettings(assignment="pytorch", heldout_dir={str(tiny_data)!r}, heldout_num_training=1400,
                           heldout_num_validation=100)
for graded in record.graded_items:
    for case in cases.cases_for(record, graded.name):
        prepared = cases.prepare(record, case, 3, settings)
        for check in prepared.checks:
            check.evaluate({{}})
print("torch" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_a_weights_file_with_pickled_code_earns_nothing_and_its_code_never_runs(settings, tmp_path):
    marker = tmp_path / "payload-ran"
    script = f"""
import os, torch
class Payload:
    def __reduce__(self):
        return (os.system, ("touch {marker}",))
torch.save({{"0.weight": Payload()}}, {str(tmp_path / OPEN_MODEL_FILE)!r})
"""
    subprocess.run([sys.executable, "-c", script], check=True)
    result = grade_submission(build("full_marks_reference", tmp_path), "pickled", settings,
                              {OPEN_MODEL_FILE: tmp_path / OPEN_MODEL_FILE})
    open_model = [t for t in result.tests if t.item == "open_model"]
    assert open_model and all(t.score == 0.0 for t in open_model)
    assert "Weights only load failed" in " ".join(t.message for t in open_model) or \
        "UnpicklingError" in " ".join(t.message for t in open_model), [t.message for t in open_model]
    assert not marker.exists()
