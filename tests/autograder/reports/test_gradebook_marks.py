"""What the kit wrote into the gradebook, and what graders added: a gradebook written by another tool is
reported, and grades.csv's auto / manual / total columns agree with `nbgrader export` (real nbgrader, stub
grader)."""
from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from assignments.convnets import CONVNETS
from autograder.pipeline import grade_course
from autograder.reports.gradebook import gradebook_location
from autograder.reports.gradebook_marks import MARKS_FILE, foreign_writes, foreign_writes_message
from course_fixtures import MANUAL, run_nbgrader, write_source
from stub_engine import StubSettings, all_items, stub_grade_submission, write_submission

NOTEBOOK = Path(CONVNETS.notebook).stem


@pytest.fixture(scope="module")
def released_course(tmp_path_factory) -> Path:
    course = tmp_path_factory.mktemp("released")
    (course / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.db_url = 'sqlite:///gradebook.db'\n")
    write_source(course)
    run_nbgrader(course, "generate_assignment", CONVNETS.name)
    return course


@pytest.fixture
def course(released_course, tmp_path) -> Path:
    copy = tmp_path / "course"
    shutil.copytree(released_course, copy)
    write_submission(copy, "alice", all_items(1.0))
    write_submission(copy, "bob", all_items(0.5))
    return copy


def _grade(course: Path):
    out = io.StringIO()
    run = grade_course(course, StubSettings(), jobs=1, grader=stub_grade_submission, progress=False, out=out)
    return run, out.getvalue()


def _rows(course: Path) -> dict[str, dict]:
    return {row["student"]: row for row in csv.DictReader((course / "grades" / "grades.csv").open())}


@pytest.mark.slow
def test_a_gradebook_changed_by_another_tool_is_reported_then_rewritten(course):
    run, printed = _grade(course)
    assert "another tool" not in printed
    marks = json.loads((course / "grades" / MARKS_FILE).read_text())
    alice_auto = float(_rows(course)["alice"]["convnets"])
    assert sum(marks[CONVNETS.name]["alice"].values()) == pytest.approx(alice_auto)
    db_url, _ = gradebook_location(course)
    with Gradebook(db_url) as gb:  # another tool (nbgrader's own all-or-nothing autograde) writes bob's cell
        grade = gb.find_grade("test_conv_forward_naive", NOTEBOOK, CONVNETS.name, "bob")
        grade.auto_score = 0.0
        gb.db.commit()
    run, printed = _grade(course)
    assert "another tool" in printed and "bob (test_conv_forward_naive: 0 in the gradebook" in printed
    assert "alice" not in printed.split("another tool")[1].split("\n")[0]
    assert any("another tool" in note for note in run.notes)
    with Gradebook(db_url) as gb:  # make grade wrote its own score again
        assert gb.find_grade("test_conv_forward_naive", NOTEBOOK, CONVNETS.name, "bob").auto_score > 0
    _, printed = _grade(course)
    assert "another tool" not in printed


@pytest.mark.slow
def test_grades_csv_carries_auto_manual_and_total_as_nbgrader_export_does(course):
    _grade(course)
    rows = _rows(course)
    assert rows["alice"]["manual_ungraded"] == f"convnets:{MANUAL}"  # nobody has graded the written answer
    assert rows["alice"]["convnets:manual"] == "0"
    db_url, _ = gradebook_location(course)
    with Gradebook(db_url) as gb:  # a TA grades alice's answer and overrides one of bob's autograded cells,
        answer = gb.find_grade(MANUAL, NOTEBOOK, CONVNETS.name, "alice")  # as the formgrader saves them
        answer.manual_score, answer.needs_manual_grade = 4, False
        override = gb.find_grade("test_conv_forward_naive", NOTEBOOK, CONVNETS.name, "bob")
        override.manual_score, override.needs_manual_grade = override.auto_score + 1.5, False
        gb.db.commit()
    _grade(course)  # bob's results are unchanged (cached): his override is not asked for review again
    rows = _rows(course)
    assert (rows["alice"]["convnets:manual"], rows["alice"]["manual_ungraded"]) == ("4", "")
    assert float(rows["bob"]["convnets:manual"]) == 1.5
    assert rows["bob"]["manual_ungraded"] == f"convnets:{MANUAL}"
    run_nbgrader(course, "export", "--to", "export.csv")
    exported = {row["student_id"]: float(row["raw_score"]) for row in csv.DictReader((course / "export.csv").open())}
    for student in ("alice", "bob"):
        assert float(rows[student]["convnets:total"]) == pytest.approx(exported[student])
        assert float(rows[student]["convnets:total"]) == pytest.approx(
            float(rows[student]["convnets:auto"]) + float(rows[student]["convnets:manual"]))
    write_submission(course, "bob", all_items(1.0))  # bob resubmits: his overridden cell's auto score changes
    _grade(course)
    assert "convnets:test_conv_forward_naive" in _rows(course)["bob"]["manual_ungraded"]


def test_foreign_writes_name_each_changed_cell_and_unknown_students():
    marks = {"amy": {"test_a": 1.0, "test_b": None}}
    assert foreign_writes(marks, {"amy": {"test_a": 1.0000001, "test_b": None}}) == {}
    found = foreign_writes(marks, {"amy": {"test_a": 0.0, "test_b": 2.0}, "zed": {"test_a": 3.0},
                                   "new": {"test_a": None}})
    assert found == {"amy": ["test_a: 0 in the gradebook, 1 written by the kit",
                             "test_b: 2 in the gradebook, none written by the kit"],
                     "zed": ["auto scores not written by the kit"]}
    assert "amy (test_a: 0 in the gradebook" in foreign_writes_message("convnets", found)
    assert foreign_writes({}, {"zed": {"test_a": 3.0}}) == {}  # the kit never wrote this gradebook: no claim
    assert foreign_writes_message("convnets", {}) == ""
