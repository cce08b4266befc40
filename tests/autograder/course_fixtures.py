"""A small stand-in for the instructor's source notebook, with the real notebook's nbgrader conventions:
a locked `setup` cell, one solution cell per graded item (grade id = item name) and one locked test cell
`test_<item>` with the item's points and a hidden-tests region, and one manually graded answer."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat

from assignments.convnets import CONVNETS

MANUAL = "answer_naive_speed"


def _nbgrader_cell(maker, source, **meta):
    meta = {"grade": False, "solution": False, "locked": False, "schema_version": 3, **meta}
    return maker(source, metadata={"nbgrader": meta})


def instructor_notebook(record=CONVNETS) -> nbformat.NotebookNode:
    """The stand-in notebook with the points of ``record`` (the convnets record, or a changed copy of it)."""
    cells = [_nbgrader_cell(nbformat.v4.new_code_cell, "import math", grade_id="setup", locked=True)]
    for graded in record.graded_items:
        cells.append(_nbgrader_cell(nbformat.v4.new_code_cell,
                                    f"def {graded.name}():\n    total = 0\n    ### BEGIN SOLUTION\n"
                                    "    total += 1\n    ### END SOLUTION\n    return total",
                                    grade_id=graded.name, solution=True))
        cells.append(_nbgrader_cell(nbformat.v4.new_code_cell,
                                    f"assert {graded.name}() == 1\n### BEGIN HIDDEN TESTS\nassert True\n"
                                    "### END HIDDEN TESTS", grade_id=graded.test_cell_id, grade=True, locked=True,
                                    points=graded.points))
    cells.append(_nbgrader_cell(nbformat.v4.new_markdown_cell, "YOUR ANSWER HERE", grade_id=MANUAL, grade=True,
                                solution=True, points={m.name: m.points for m in record.manual_items}[MANUAL]))
    return nbformat.v4.new_notebook(cells=cells)


def write_source(course: Path, record=CONVNETS) -> Path:
    """Write the stand-in (with ``record``'s points) as <course>/source/<assignment>/<notebook>; returns its path."""
    folder = course / "source" / CONVNETS.name
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(instructor_notebook(record), str(folder / CONVNETS.notebook))
    return folder / CONVNETS.notebook


def run_nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    """Run an nbgrader command in `course` with the venv's tools on PATH; fail the test if it fails."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    return done
