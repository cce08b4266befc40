"""One grader: nbgrader's own `autograde`, configured by this course's nbgrader_config.py, writes the kit's
partial-credit scores, the same as `make grade`, on the built-in demo class (real nbgrader, real engine)."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook
from traitlets.config.loader import PyFileConfigLoader

from assignments.convnets import CONVNETS
from autograder.cli import REPO_ROOT, load_settings
from autograder.demo_class import build_demo_class, demo_settings, half_done_items
from autograder.nbgrader_hooks import scored_outputs
from autograder.pipeline import grade_course
from autograder.reports.gradebook import gradebook_location
from autograder.reports.gradebook_read import auto_scores

SOURCE = REPO_ROOT / "source" / CONVNETS.name / CONVNETS.notebook
STUDENTS = ("demo_reference", "demo_half_done", "demo_buggy_pool_backward")


def _gradebook_totals(course: Path) -> dict[str, dict[str, float]]:
    scores = auto_scores(*gradebook_location(course), CONVNETS)
    return {student: scores[student] for student in STUDENTS}


def test_the_course_config_replaces_nbgraders_execute_with_the_kits_grader():
    config = PyFileConfigLoader("nbgrader_config.py", path=str(REPO_ROOT)).load_config()
    steps = [step.__name__ for step in config.Autograde.autograde_preprocessors]
    assert "Execute" not in steps and steps.index("KitGrades") < steps.index("SaveAutoGrades")


def test_a_test_cells_outputs_are_read_by_nbgrader_as_partial_credit():
    import nbformat
    from nbgrader.utils import determine_grade
    cell = nbformat.v4.new_code_cell("pass", metadata={"nbgrader": {"grade": True, "solution": False,
                                                                     "grade_id": "test_x", "points": 10}})
    cell.outputs = scored_outputs("report\n", 2.5)
    assert determine_grade(cell) == (2.5, 10.0)


def test_an_assignment_the_kit_does_not_know_is_refused_by_name():
    import nbformat
    from autograder.nbgrader_hooks import KitGrades, KitGradingFailed
    with pytest.raises(KitGradingFailed, match="'essay' is not an assignment of this course's kit"):
        KitGrades().preprocess(nbformat.v4.new_notebook(), {"nbgrader": {"student": "amy", "assignment": "essay"}})


@pytest.mark.slow
@pytest.mark.skipif(not SOURCE.is_file(), reason="run `make source` first: no instructor notebook")
def test_nbgrader_autograde_gives_make_grades_partial_credit_on_the_demo_class(tmp_path):
    course = build_demo_class(REPO_ROOT, tmp_path / "demo", only=(CONVNETS.name,))
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]), HOME=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", CONVNETS.name], cwd=course, env=env,
                          capture_output=True, text=True, timeout=900)
    by_autograde = _gradebook_totals(course)
    assert all(by_autograde[s] and None not in by_autograde[s].values() for s in STUDENTS), done.stderr[-3000:]
    autograded = course / "autograded" / "demo_buggy_pool_backward" / CONVNETS.name / CONVNETS.notebook
    assert "Autograder (outside this notebook): max_pool_backward_naive" in autograded.read_text()

    # `make grade`, grading everything again itself (not from the cache the hook filled).
    run = grade_course(course, demo_settings(load_settings(course, CONVNETS.name), course), jobs=1, force=True,
                       progress=False, out=io.StringIO())
    assert not run.errors and not any("another tool" in note for note in run.notes)
    by_make_grade = _gradebook_totals(course)
    for student in STUDENTS:
        assert by_autograde[student] == pytest.approx(by_make_grade[student]), student
    results = {r.student: r for r in run.results}
    for student in STUDENTS:
        assert sum(by_autograde[student].values()) == pytest.approx(results[student].score)

    points = {g.test_cell_id: g.points for g in CONVNETS.graded_items}
    assert by_autograde["demo_reference"] == pytest.approx(points)
    half = {g.test_cell_id for g in CONVNETS.graded_items if g.name in half_done_items(CONVNETS)}
    assert by_autograde["demo_half_done"] == pytest.approx({cell: points[cell] if cell in half else 0.0
                                                           for cell in points})
    buggy = by_autograde["demo_buggy_pool_backward"]
    pool = "test_max_pool_backward_naive"
    assert 0 < buggy[pool] < points[pool], "partial credit, where all-or-nothing cells would give 0"
    assert {c: v for c, v in buggy.items() if c != pool} == pytest.approx({c: v for c, v in points.items() if c != pool})

    with Gradebook(gradebook_location(course)[0]) as gb:
        assert gb.find_submission(CONVNETS.name, "demo_reference").score == pytest.approx(
            CONVNETS.total_autograded_points)
