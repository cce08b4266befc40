"""A correct helper a student put into an editable provided cell is run (as nbgrader runs it): full marks; what
the grader leaves out of such a cell is reported in that student's feedback."""
from __future__ import annotations

import pytest

from assignments.convnets import CONVNETS
from autograder.engine import grade_submission
from autograder.settings import GradingSettings
from fixture_builder import build_fixture, render_course

FUNCTION_POINTS = sum(g.points for g in CONVNETS.graded_items if g.runs_code)


@pytest.fixture(scope="module")
def grade(tmp_path_factory):
    source = render_course(tmp_path_factory.mktemp("course"))
    settings = GradingSettings(source_notebook=source, test_seconds=2.0, cell_seconds=4.0, memory_mb=1024)
    folder = tmp_path_factory.mktemp("fixtures")
    return lambda name: grade_submission(build_fixture(name, source, folder), name, settings)


@pytest.mark.slow
@pytest.mark.parametrize("name, not_run", [
    ("full_marks_helper_in_provided_cell", '`print("helper ready:"'),
    ("full_marks_helper_in_edited_demo_cell", "`for row in range(2):`"),
])
def test_a_helper_in_a_provided_cell_earns_full_marks_and_the_rest_is_reported(grade, name, not_run):
    result = grade(name)
    assert result.score == FUNCTION_POINTS, [t.message for t in result.tests if not t.passed]
    reported = [p for p in result.problems if "is a provided cell you edited" in p]
    assert len(reported) == 1 and not_run in reported[0] and "was not run when grading" in reported[0]
