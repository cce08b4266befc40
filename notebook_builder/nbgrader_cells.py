"""nbgrader cell metadata (schema version 3) for the four kinds of cells the assignment uses."""
from __future__ import annotations

import nbformat

SCHEMA_VERSION = 3


def _nbgrader(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": SCHEMA_VERSION,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return meta


def solution_cell(grade_id: str, source: str) -> nbformat.NotebookNode:
    """Code the student writes: ``### BEGIN SOLUTION`` regions become stubs in the release."""
    return _code(grade_id, source, _nbgrader(grade_id, grade=False, solution=True, locked=False))


def test_cell(grade_id: str, source: str, points: float) -> nbformat.NotebookNode:
    """Locked autograded tests worth ``points``; ``### BEGIN HIDDEN TESTS`` regions vanish from the release."""
    return _code(grade_id, source, _nbgrader(grade_id, grade=True, solution=False, locked=True, points=points))


def readonly_cell(grade_id: str, source: str) -> nbformat.NotebookNode:
    """Provided code that nbgrader restores from the instructor's copy when grading."""
    return _code(grade_id, source, _nbgrader(grade_id, grade=False, solution=False, locked=True))


def answer_cell(grade_id: str, source: str, points: float) -> nbformat.NotebookNode:
    """A written answer graded by hand; its text becomes nbgrader's answer stub in the release."""
    cell = nbformat.v4.new_markdown_cell(source, id=grade_id)
    cell.metadata["nbgrader"] = _nbgrader(grade_id, grade=True, solution=True, locked=False, points=points)
    return cell


def plain_cell(cell_type: str, cell_id: str, source: str) -> nbformat.NotebookNode:
    """A cell nbgrader leaves alone (narrative text, demos the student may tweak)."""
    if cell_type == "markdown":
        return nbformat.v4.new_markdown_cell(source, id=cell_id)
    return nbformat.v4.new_code_cell(source, id=cell_id)


def _code(cell_id: str, source: str, nbgrader_meta: dict) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source, id=cell_id)
    cell.metadata["nbgrader"] = nbgrader_meta
    return cell
