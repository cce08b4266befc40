"""Points changed in the record after the release: every report follows the record, the instructor is told the
release is stale, and no student is told they changed anything.

A temporary course is released with the convnets record's points (the small stand-in notebook of
course_fixtures.py), two students submit the release, and then the record changes: one item 10 -> 12, one
written answer 5 -> 7. The grader reads each notebook with the real notebook reader (so its tamper report is
what a student would see) and scores items from the record, as the engine's cases do.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
import shutil
from pathlib import Path
from types import MappingProxyType

import nbformat
import pytest
from nbgrader.api import Gradebook

import assignments
from assignments.convnets import CONVNETS
from autograder.intake.notebook_reader import read_instructor_notebook, read_submission
from autograder.intake.release_points import STALE_RELEASE, notebook_points, record_points, submitted_copies
from autograder.pipeline import grade_course
from autograder.reports.gradebook import gradebook_location
from autograder.results import SubmissionResult
from autograder.results import TestResult as Check
from course_fixtures import MANUAL, run_nbgrader, write_source

FRACTIONS = {"alice": 1.0, "bob": 0.5}
CHANGED_ITEM, CHANGED_MANUAL = "conv_forward_naive", MANUAL


@dataclasses.dataclass(frozen=True)
class ReaderSettings:
    source_notebook: Path
    assignment: str = CONVNETS.name


def reading_grader(notebook_path: Path, student: str, settings: ReaderSettings,
                   files: dict[str, Path] | None = None) -> SubmissionResult:
    """Reads the submission as the engine does (problems shown to the student) and gives each item
    FRACTIONS[student] of the record's current points."""
    record = assignments.get(settings.assignment)
    instructor = read_instructor_notebook(settings.source_notebook, ("experiment",))
    problems = read_submission(notebook_path, instructor).problems
    tests = [Check(f"{g.name}: all cases", g.name, FRACTIONS[student] * g.points, float(g.points))
             for g in record.graded_items]
    return SubmissionResult(student, record.name, tests, problems=problems)


def _changed_record() -> assignments.Assignment:
    items = tuple(dataclasses.replace(g, points=12) if g.name == CHANGED_ITEM else g for g in CONVNETS.graded_items)
    manual = tuple(dataclasses.replace(m, points=7) if m.name == CHANGED_MANUAL else m for m in CONVNETS.manual_items)
    return dataclasses.replace(CONVNETS, graded_items=items, manual_items=manual)


@pytest.fixture
def changed(monkeypatch) -> assignments.Assignment:
    """The registry now holds the changed record (as if assignments/convnets.py had been edited)."""
    record = _changed_record()
    monkeypatch.setattr(assignments, "ASSIGNMENTS", MappingProxyType({**assignments.ASSIGNMENTS, record.name: record}))
    return record


@pytest.fixture
def released(tmp_path) -> Path:
    """A course released with the original points; alice and bob submitted the release notebook."""
    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.db_url = 'sqlite:///gradebook.db'\n")
    write_source(course)
    run_nbgrader(course, "generate_assignment", CONVNETS.name)
    for student in FRACTIONS:
        folder = course / "submitted" / student / CONVNETS.name
        folder.mkdir(parents=True)
        shutil.copy(course / "release" / CONVNETS.name / CONVNETS.notebook, folder / CONVNETS.notebook)
        (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
    return course


def _grade(course: Path):
    out = io.StringIO()
    settings = ReaderSettings(course / "source" / CONVNETS.name / CONVNETS.notebook)
    run = grade_course(course, settings, jobs=1, grader=reading_grader, progress=False, out=out)
    assert not run.errors
    return run, out.getvalue()


def _check_every_report_follows(course: Path, record: assignments.Assignment) -> None:
    auto_total = sum(g.points for g in record.graded_items)
    manual_total = sum(m.points for m in record.manual_items)
    manual_in_notebook = {m.name: m.points for m in record.manual_items}[MANUAL]  # the stand-in has one answer
    expected = {student: fraction * auto_total for student, fraction in FRACTIONS.items()}
    item_points = record.item(CHANGED_ITEM).points
    rows = {r["student"]: r for r in csv.DictReader((course / "grades" / "grades.csv").open())}
    for student, score in expected.items():
        assert float(rows[student]["score"]) == pytest.approx(score)
        assert float(rows[student]["max_score"]) == pytest.approx(auto_total)
        assert float(rows[student][f"convnets:{CHANGED_ITEM}"]) == pytest.approx(FRACTIONS[student] * item_points)
        document = json.loads((course / "grades" / "convnets" / student / "results.json").read_text())
        assert document["score"] == pytest.approx(score)
        assert sum(t["max_score"] for t in document["tests"]) == pytest.approx(auto_total)
        shown = json.dumps(document)
        assert "points" not in shown.replace("pts", ""), f"{student} was told about points: {shown}"
    db_url, _ = gradebook_location(course)
    with Gradebook(db_url) as gb:
        notebook = Path(CONVNETS.notebook).stem
        assert gb.find_grade_cell(f"test_{CHANGED_ITEM}", notebook, CONVNETS.name).max_score == item_points
        assert gb.find_grade_cell(MANUAL, notebook, CONVNETS.name).max_score == manual_in_notebook
        for student, fraction in FRACTIONS.items():
            grade = gb.find_grade(f"test_{CHANGED_ITEM}", notebook, CONVNETS.name, student)
            assert grade.auto_score == pytest.approx(fraction * item_points)
    run_nbgrader(course, "export", "--to", "export.csv")
    exported = {r["student_id"]: r for r in csv.DictReader((course / "export.csv").open())}
    for student, score in expected.items():
        assert float(exported[student]["raw_score"]) == pytest.approx(score)
        assert float(exported[student]["max_score"]) == pytest.approx(auto_total + manual_in_notebook)
    assert manual_total >= manual_in_notebook
    # The autograded notebook (generate_feedback, the formgrader) carries the record's points too.
    autograded = course / "autograded" / "alice" / CONVNETS.name / CONVNETS.notebook
    assert notebook_points(autograded)[f"test_{CHANGED_ITEM}"] == item_points


@pytest.mark.slow
def test_points_changed_after_release_regrade_everyone_in_every_report(released, changed):
    run, printed = _grade(released)
    _check_every_report_follows(released, changed)
    assert f"points: {STALE_RELEASE}" in printed
    assert f"test_{CHANGED_ITEM}: 12 in assignments/convnets.py, 10 in source/convnets/" in printed
    assert any(STALE_RELEASE in note and f"test_{CHANGED_ITEM}" in note for note in run.notes)
    assert all("points" not in problem for result in run.results for problem in result.problems)


@pytest.mark.slow
def test_after_make_release_the_students_old_copies_are_the_instructors_note_only(released, changed):
    write_source(released, changed)  # make source with the new points
    run_nbgrader(released, "generate_assignment", CONVNETS.name, "--force")  # make release
    run, printed = _grade(released)
    _check_every_report_follows(released, changed)
    assert STALE_RELEASE not in printed
    assert (f"test_{CHANGED_ITEM}: 2 student(s) submitted a notebook with 10 points where the record says 12 "
            "(an older release, or edited by hand): alice, bob") in printed
    assert all("points" not in problem for result in run.results for problem in result.problems)


def test_a_submitted_value_of_the_current_release_is_named_so(tmp_path):
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("pass")
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": f"test_{CHANGED_ITEM}", "points": 10}
    notebook.cells.append(cell)
    path = tmp_path / "a.ipynb"
    nbformat.write(notebook, str(path))
    record = _changed_record()
    assert record_points(record)[f"test_{CHANGED_ITEM}"] == 12
    [note] = submitted_copies(record, {"amy": path, "zed": None}, released={f"test_{CHANGED_ITEM}": 10})
    assert "with 10 points where the record says 12 (the current release): amy." in note
    assert submitted_copies(CONVNETS, {"amy": path}) == []
