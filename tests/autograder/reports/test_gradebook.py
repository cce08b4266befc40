"""Gradebook writing against real nbgrader: a small instructor notebook is released with
`nbgrader generate_assignment`, our scores are written with nbgrader's API, and nbgrader's own
`export` and `generate_feedback` must read them back."""
from __future__ import annotations

import csv
import json
import os
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from assignments.convnets import CONVNETS
from autograder.intake.course_layout import find_submissions, ungraded_result
from autograder.reports.gradebook import GradebookUnavailable, gradebook_location, write_gradebook
from autograder.results import SubmissionResult
from autograder.results import TestResult as Check
from course_fixtures import MANUAL, write_source
from course_fixtures import run_nbgrader as _nbgrader

@pytest.fixture(scope="module")
def released_course(tmp_path_factory) -> Path:
    """A course whose gradebook knows the assignment, released once for the module."""
    course = tmp_path_factory.mktemp("released")
    (course / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.db_url = 'sqlite:///gradebook.db'\n")
    write_source(course)
    _nbgrader(course, "generate_assignment", CONVNETS.name)
    return course


@pytest.fixture
def course(released_course, tmp_path) -> Path:
    """A fresh copy of the released course for each test."""
    copy = tmp_path / "course"
    shutil.copytree(released_course, copy)
    return copy


def _submit(course: Path, student: str, notebook: nbformat.NotebookNode | str) -> None:
    folder = course / "submitted" / student / CONVNETS.name
    folder.mkdir(parents=True)
    text = notebook if isinstance(notebook, str) else nbformat.writes(notebook)
    (folder / CONVNETS.notebook).write_text(text)
    (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")


def _released(course: Path) -> nbformat.NotebookNode:
    return nbformat.read(str(course / "release" / CONVNETS.name / CONVNETS.notebook), as_version=4)


def _result(student: str, fraction: float) -> SubmissionResult:
    """Every item earns `fraction` of its points, in two tests (so item scores must be summed)."""
    tests = []
    for graded in CONVNETS.graded_items:
        half = graded.points / 2
        tests += [Check(f"{graded.name}: public", graded.name, half * fraction, half, message="<b>bold</b>"),
                  Check(f"{graded.name}: hidden", graded.name, half * fraction, half, visibility="hidden")]
    return SubmissionResult(student, CONVNETS.name, tests)


def _write(course: Path, results: list[SubmissionResult]) -> list[str]:
    inputs = {s.student: s for s in find_submissions(course, CONVNETS)}
    return write_gradebook(course, CONVNETS, results, inputs)


@pytest.mark.slow
def test_scores_are_readable_by_nbgrader_export(course):
    _submit(course, "alice", _released(course))
    _submit(course, "bob", _released(course))
    assert _write(course, [_result("alice", 1.0), _result("bob", 0.5)]) == []
    _nbgrader(course, "export", "--to", "export.csv")
    rows = {row["student_id"]: row for row in csv.DictReader((course / "export.csv").open())}
    autograded = CONVNETS.total_autograded_points
    assert float(rows["alice"]["raw_score"]) == autograded
    assert float(rows["bob"]["raw_score"]) == autograded / 2
    assert float(rows["alice"]["max_score"]) == autograded + {m.name: m.points for m in CONVNETS.manual_items}[MANUAL]
    assert rows["alice"]["timestamp"].startswith("2026-11-20 10:00:00")


@pytest.mark.slow
def test_regrading_keeps_manual_grades_and_generate_feedback_works(course):
    _submit(course, "alice", _released(course))
    _write(course, [_result("alice", 0.5)])
    db_url, _ = gradebook_location(course)
    with Gradebook(db_url) as gb:
        answer = gb.find_grade(MANUAL, Path(CONVNETS.notebook).stem, CONVNETS.name, "alice")
        assert answer.auto_score is None and answer.needs_manual_grade
        answer.manual_score = 4
        gb.db.commit()
    _write(course, [_result("alice", 1.0)])
    with Gradebook(db_url) as gb:
        submission = gb.find_submission(CONVNETS.name, "alice")
        assert submission.score == CONVNETS.total_autograded_points + 4
        conv = gb.find_grade("test_conv_forward_naive", Path(CONVNETS.notebook).stem, CONVNETS.name, "alice")
        assert conv.auto_score == 10 and not conv.needs_manual_grade
    _nbgrader(course, "generate_feedback", CONVNETS.name)
    page = (course / "feedback" / "alice" / CONVNETS.name / "ConvolutionalNetworks.html").read_text()
    assert "Autograder (outside this notebook): conv_forward_naive" in page
    assert "<b>bold</b>" not in page
    assert "HIDDEN TESTS" not in page


@pytest.mark.slow
def test_autograded_copy_carries_the_instructors_cells_not_the_students_tampering(course):
    notebook = _released(course)
    by_id = {c.metadata["nbgrader"]["grade_id"]: c for c in notebook.cells if "nbgrader" in c.metadata}
    by_id["test_conv_forward_naive"].metadata["nbgrader"]["points"] = 1000
    by_id["test_conv_forward_naive"].source = "pass  # tests removed"
    by_id["conv_forward_naive"].source = "def conv_forward_naive():\n    return 2"
    notebook.cells.remove(by_id["test_max_pool_forward_naive"])
    extra = nbformat.v4.new_code_cell("print('free points')", metadata={"nbgrader": {
        "grade": True, "grade_id": "test_bonus", "points": 50, "locked": False, "solution": False}})
    notebook.cells.append(extra)
    duplicate = nbformat.from_dict(json.loads(json.dumps(by_id["test_conv_forward_naive"])))
    duplicate.source, duplicate.id = "print('counted twice?')", "duplicate"
    notebook.cells.append(duplicate)
    by_id["conv_forward_naive"].outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": "<script>steal()</script>", "text/plain": "hi"}),
        nbformat.v4.new_output("display_data", data={"application/javascript": "steal()"})]
    _submit(course, "mallory", notebook)
    _write(course, [_result("mallory", 0.0)])
    graded = nbformat.read(str(course / "autograded" / "mallory" / CONVNETS.name / CONVNETS.notebook), as_version=4)
    nbformat.validate(graded)
    cells = {c.metadata["nbgrader"]["grade_id"]: c for c in graded.cells if "nbgrader" in c.metadata}
    assert "test_bonus" not in cells
    assert "print('counted twice?')" in [c.source for c in graded.cells if "nbgrader" not in c.metadata]
    assert cells["test_conv_forward_naive"].metadata["nbgrader"]["points"] == 10
    assert cells["test_conv_forward_naive"].source == "assert conv_forward_naive() == 1"  # hidden tests removed
    assert cells["conv_forward_naive"].source == "def conv_forward_naive():\n    return 2"  # the answer stays
    assert "test_max_pool_forward_naive" in cells  # restored
    # Saved outputs are shown in browsers by the formgrader: only inert ones survive.
    assert [o["data"] for o in cells["conv_forward_naive"].outputs] == [{"text/plain": "hi"}]
    ids = [c.id for c in graded.cells]
    assert len(ids) == len(set(ids))
    assert cells["test_conv_forward_naive"].outputs[0]["text"].startswith(
        "Autograder (outside this notebook): conv_forward_naive\n[FAILED] conv_forward_naive: public: 0/5")


@pytest.mark.slow
def test_unreadable_or_missing_notebooks_still_get_a_gradebook_entry(course):
    _submit(course, "broken", '{"cells": [')
    (course / "submitted" / "absent").mkdir(parents=True)
    results = [ungraded_result("broken", CONVNETS, "the notebook is not valid JSON"),
               ungraded_result("absent", CONVNETS, "no assignment folder")]
    _write(course, results)
    _write(course, results)  # idempotent
    graded = nbformat.read(str(course / "autograded" / "broken" / CONVNETS.name / CONVNETS.notebook), as_version=4)
    assert "the notebook is not valid JSON" in graded.cells[0].source
    grade_ids = {c.metadata["nbgrader"]["grade_id"] for c in graded.cells if "nbgrader" in c.metadata}
    assert {g.test_cell_id for g in CONVNETS.graded_items} <= grade_ids
    with Gradebook(gradebook_location(course)[0]) as gb:
        for student in ("broken", "absent"):
            assert gb.find_submission(CONVNETS.name, student).score == 0


def test_gradebook_location_follows_nbgrader_config(tmp_path):
    # nbgrader's own defaults: the course root's gradebook.db and an empty course id.
    assert gradebook_location(tmp_path) == (f"sqlite:///{tmp_path.resolve() / 'gradebook.db'}", "")
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.db_url = 'sqlite:///db/grades.sqlite'\n"
        "c.CourseDirectory.course_id = 'cs231n'\n")
    assert gradebook_location(tmp_path) == (f"sqlite:///{tmp_path.resolve() / 'db' / 'grades.sqlite'}", "cs231n")


@pytest.mark.slow
def test_a_missing_gradebook_or_assignment_says_to_release_first(tmp_path, monkeypatch):
    # Creating a gradebook runs nbgrader's `alembic` from the virtual environment.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(GradebookUnavailable, match="no gradebook at .*Run `make release` first"):
        write_gradebook(tmp_path, CONVNETS, [], {})
    with Gradebook(gradebook_location(tmp_path)[0]) as gb:
        gb.add_assignment("other")
    with pytest.raises(GradebookUnavailable, match="no notebook 'ConvolutionalNetworks' in assignment 'convnets'"):
        write_gradebook(tmp_path, CONVNETS, [], {})


@pytest.mark.slow
def test_the_pipeline_gradebook_agrees_with_grades_csv(course):
    import io

    from autograder.pipeline import grade_course
    from stub_engine import StubSettings, all_items, stub_grade_submission, write_submission

    write_submission(course, "alice", all_items(1.0))
    write_submission(course, "bob", all_items(0.5), experiment=True)
    grade_course(course, StubSettings(), jobs=1, grader=stub_grade_submission, progress=False, out=io.StringIO())
    ours = {row["student"]: float(row["score"]) for row in csv.DictReader((course / "grades" / "grades.csv").open())}
    _nbgrader(course, "export", "--to", "export.csv")
    exported = {row["student_id"]: float(row["raw_score"]) for row in csv.DictReader((course / "export.csv").open())}
    assert exported == ours and ours["alice"] > ours["bob"] > 0


@pytest.mark.slow
def test_points_that_disagree_with_the_spec_are_reported(course):
    db_url, _ = gradebook_location(course)
    with Gradebook(db_url) as gb:
        gb.find_grade_cell("test_experiment", Path(CONVNETS.notebook).stem, CONVNETS.name).max_score = 0
        gb.db.commit()
    _submit(course, "alice", _released(course))
    [note] = _write(course, [_result("alice", 1.0)])
    assert note.startswith("grade cell test_experiment was worth 0 points in the gradebook, 10 in")
    assert "rerun make release" in note
    with Gradebook(db_url) as gb:  # the record's points, and alice's full marks of them
        assert gb.find_grade_cell("test_experiment", Path(CONVNETS.notebook).stem, CONVNETS.name).max_score == 10
        assert gb.find_grade("test_experiment", Path(CONVNETS.notebook).stem, CONVNETS.name, "alice").score == 10


def test_a_pending_case_gives_no_points_in_the_gradebook():
    from autograder.reports.gradebook import grade_scores
    result = SubmissionResult("amy", CONVNETS.name, [
        Check("experiment: saved model loads", "experiment", 2, 2),
        Check("experiment: validation accuracy", "experiment", 0, 8, pending=True)])
    assert grade_scores(result) == {"test_experiment": pytest.approx(0.2)}  # 2 of 10, not 2 of 2
