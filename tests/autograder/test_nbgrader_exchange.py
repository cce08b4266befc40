"""The instructor's nbgrader path end to end, with nbgrader's real exchange in a temporary directory.

The course uses this repository's own nbgrader_config.py. Two students fetch the released assignment, each
saves a different experiment model beside the notebook and submits; the instructor collects, grades with the
pipeline (`make grade`) and with `nbgrader autograde`. Each student's experiment file must arrive byte for byte
in submitted/ and autograded/, be scored exactly as the file the student wrote scores on its own, and never be
replaced by the instructor's own copy left in source/.
"""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from assignments.convnets import CONVNETS, EXPERIMENT_FILE
from autograder.cases import score_file
from autograder.reports.gradebook import gradebook_location
from autograder.pipeline import grade_course
from autograder.results import SubmissionResult
from autograder.results import TestResult as Check
from autograder.settings import GradingSettings
from course_fixtures import write_source

REPO_ROOT = Path(__file__).resolve().parents[2]
COURSE_ID = "cs231n-convnets"
STUDENTS = ("alice", "bob")
EXPERIMENT = next(g for g in CONVNETS.graded_items if g.file == EXPERIMENT_FILE)


def _nbgrader(cwd: Path, exchange: Path, *args: str) -> subprocess.CompletedProcess:
    """One nbgrader command run in `cwd` against the exchange; HOME is `cwd`, so no personal config leaks in."""
    env = dict(os.environ, HOME=str(cwd), PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args, f"--Exchange.root={exchange}",
                           f"--CourseDirectory.course_id={COURSE_ID}"], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stdout}{done.stderr}"
    return done


def _save_model(path: Path, hidden_dim: int, seed: int) -> bytes:
    """An (untrained) ThreeLayerConvNet saved the way the notebook saves it; returns the file's bytes."""
    from reference_impl.cnn import ThreeLayerConvNet
    from reference_impl.model_io import save_experiment_model
    kwargs = dict(num_filters=4, filter_size=3, hidden_dim=hidden_dim, weight_scale=1e-2, reg=0.0)
    model = ThreeLayerConvNet(**kwargs, seed=seed)
    save_experiment_model(path, model, "ThreeLayerConvNet", **kwargs)
    return path.read_bytes()


@dataclass(frozen=True)
class ExperimentOnlySettings:
    heldout_dir: str
    assignment: str = CONVNETS.name


def _score_experiment(path: Path | None, heldout_dir: Path) -> list[Check]:
    """The experiment item's own scoring (autograder/cases/convnets/experiment.py) on the tiny held-out split."""
    grading = GradingSettings(heldout_dir=Path(heldout_dir), heldout_num_training=1400, heldout_num_validation=100)
    return score_file(CONVNETS, EXPERIMENT.name, path, grading)


def experiment_only_grader(notebook_path: Path, student: str, settings: ExperimentOnlySettings,
                           files: dict[str, Path] | None = None) -> SubmissionResult:
    """The engine's experiment scoring as it is; every code item zero (the stand-in notebook has no real code).

    The real engine would need the real instructor notebook; what this test is about is the file beside it.
    """
    tests = [Check(f"{g.name}: not graded here", g.name, 0.0, float(g.points))
             for g in CONVNETS.graded_items if g.runs_code]
    tests += _score_experiment((files or {}).get(EXPERIMENT_FILE), Path(settings.heldout_dir))
    return SubmissionResult(student, CONVNETS.name, tests)


@pytest.mark.slow
def test_each_students_experiment_file_travels_from_submit_to_both_graders(tmp_path):
    from reference_impl.tiny_cifar import make_tiny_cifar10

    course, exchange = tmp_path / "course", tmp_path / "exchange"
    course.mkdir()
    shutil.copy(REPO_ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    write_source(course)
    instructor_copy = _save_model(course / "source" / CONVNETS.name / EXPERIMENT_FILE, 7, seed=99)
    from notebook_builder.release import generate_assignment
    generate_assignment(course, CONVNETS.name)
    assert not (course / "release" / CONVNETS.name / EXPERIMENT_FILE).exists(), \
        "the instructor's experiment file must not be released"
    # As if the instructor had also tried the student notebook: release_assignment must leave that copy out.
    (course / "release" / CONVNETS.name / EXPERIMENT_FILE).write_bytes(instructor_copy)
    _nbgrader(course, exchange, "release_assignment", CONVNETS.name)

    wrote = {}
    for number, student in enumerate(STUDENTS):
        home = tmp_path / student
        home.mkdir()
        _nbgrader(home, exchange, "fetch_assignment", CONVNETS.name)
        folder = home / CONVNETS.name
        assert (folder / CONVNETS.notebook).is_file() and not (folder / EXPERIMENT_FILE).exists()
        # Different architectures and seeds: two different files, two different accuracies.
        wrote[student] = _save_model(folder / EXPERIMENT_FILE, 16 + 8 * number, seed=number)
        _nbgrader(home, exchange, "submit", CONVNETS.name, f"--student={student}")
    assert wrote["alice"] != wrote["bob"] != instructor_copy

    _nbgrader(course, exchange, "collect", CONVNETS.name)
    for student in STUDENTS:
        submitted = course / "submitted" / student / CONVNETS.name
        assert (submitted / CONVNETS.notebook).is_file()
        assert (submitted / EXPERIMENT_FILE).read_bytes() == wrote[student]

    # `make grade`: the pipeline with the engine's experiment scorer.
    tiny = make_tiny_cifar10(tmp_path / "tiny")
    run = grade_course(course, ExperimentOnlySettings(str(tiny)), jobs=1, grader=experiment_only_grader,
                       progress=False, out=io.StringIO())
    assert not run.errors
    scores = {r.student: r.item_scores()["experiment"][0] for r in run.results}
    for student in STUDENTS:
        # Independent of the exchange: the file as the student wrote it, scored on its own.
        alone = tmp_path / f"{student}-alone.npz"
        alone.write_bytes(wrote[student])
        expected = sum(t.score for t in _score_experiment(alone, tiny))
        assert scores[student] == pytest.approx(expected)
        file_check = EXPERIMENT.points / 5  # the file-validity share (autograder/cases/convnets/experiment.py)
        assert scores[student] >= file_check, f"{student}'s file was not found or not readable"
        autograded = course / "autograded" / student / CONVNETS.name
        assert (autograded / EXPERIMENT_FILE).read_bytes() == wrote[student]
    db_url, course_id = gradebook_location(course)
    with Gradebook(db_url, course_id) as gb:
        for student in STUDENTS:
            grades = gb.find_submission_notebook(Path(CONVNETS.notebook).stem, CONVNETS.name, student).grades
            experiment = next(g for g in grades if g.name == EXPERIMENT.test_cell_id)
            assert experiment.auto_score == pytest.approx(scores[student])

    # nbgrader's own autograde keeps each student's file, not the instructor's copy from source/.
    _nbgrader(course, exchange, "autograde", CONVNETS.name, "--force")
    for student in STUDENTS:
        autograded = course / "autograded" / student / CONVNETS.name
        assert (autograded / EXPERIMENT_FILE).read_bytes() == wrote[student]


def test_the_files_students_submit_are_excluded_from_the_release_only():
    """nbgrader_config.py names the submitted files per assignment; the autograder names the experiment file."""
    from traitlets.config.loader import PyFileConfigLoader
    config = PyFileConfigLoader("nbgrader_config.py", path=str(REPO_ROOT)).load_config()
    submitted = config.Autograde.exclude_overwriting[CONVNETS.name]
    assert EXPERIMENT_FILE in submitted
    assert not set(submitted) & set(config.CourseDirectory.ignore)
    for app in ("GenerateAssignmentApp", "ReleaseAssignmentApp"):
        assert set(submitted) <= set(config[app].CourseDirectory.ignore)
