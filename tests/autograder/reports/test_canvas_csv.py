"""grades/grades_canvas.csv written by the pipeline: Canvas's import layout, the totals, a roster's ids."""
from __future__ import annotations

import csv
import io

from assignments.convnets import CONVNETS
from autograder.pipeline import grade_course
from stub_engine import StubSettings, all_items, stub_grade_submission, write_submission

# The columns Canvas's gradebook import expects before the assignment columns (Canvas guides, "How do I import
# grades in the Gradebook?"), written out here independently of the module under test.
CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def _grade(course, out=None):
    return grade_course(course, StubSettings(), grader=stub_grade_submission, jobs=1, progress=False,
                        gradebook=False, out=out or io.StringIO())


def _rows(course):
    with open(course / "grades" / "grades_canvas.csv", newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _class(course):
    write_submission(course, "alice", all_items(1.0))
    write_submission(course, "bob", all_items(0.5))


def test_canvas_export_has_the_import_layout_and_the_totals(tmp_path):
    _class(tmp_path)
    _grade(tmp_path)
    header, points, *students = _rows(tmp_path)
    assert header == CANVAS_IDENTITY + ["convnets"]
    code_points = sum(g.points for g in CONVNETS.graded_items if g.runs_code)
    assert points == ["Points Possible", "", "", "", "", f"{CONVNETS.total_autograded_points:g}"]
    # Stub rule: fraction 1 earns every code item's points, 0.5 the visible half; no experiment file.
    assert students == [["alice", "", "", "alice", "", f"{code_points:g}"],
                        ["bob", "", "", "bob", "", f"{code_points / 2:g}"]]


def test_a_canvas_roster_supplies_ids_sections_and_the_existing_assignment_column(tmp_path):
    _class(tmp_path)
    (tmp_path / "canvas_roster.csv").write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,convnets (4411),Current Score\n"
        "    Points Possible,,,,,100,(read only)\n"
        '"Liddell, Alice",1001,S-1,alice,Lab A,,\n'
        '"Builder, Bob",1002,bob,b.builder,Lab B,,\n', encoding="utf-8")
    _grade(tmp_path)
    header, _, alice, bob = _rows(tmp_path)
    assert header == CANVAS_IDENTITY + ["convnets (4411)"]
    assert alice[:5] == ["Liddell, Alice", "1001", "S-1", "alice", "Lab A"]  # matched on SIS Login ID
    assert bob[:5] == ["Builder, Bob", "1002", "bob", "b.builder", "Lab B"]  # matched on SIS User ID


def test_a_file_that_is_not_a_canvas_export_is_reported_and_the_other_reports_still_written(tmp_path):
    _class(tmp_path)
    (tmp_path / "canvas_roster.csv").write_text("name,email\nalice,a@example.org\n", encoding="utf-8")
    out = io.StringIO()
    run = _grade(tmp_path, out)
    assert "Canvas export not written" in out.getvalue() and "SIS Login ID" in out.getvalue()
    assert (tmp_path / "grades" / "grades.csv").is_file() and len(run.results) == 2
    assert not (tmp_path / "grades" / "grades_canvas.csv").exists()
