"""Build classes of submissions for the similarity tests and benchmark.

A style submission is the release (stubs) with the cells of one fixture folder filled in: only the cells that
style rewrites are the student's own code, so two styles share no code unless they wrote it alike. The
reference submission is the release with every reference solution filled in.
"""
from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from fixture_builder import EXTRA, FIXTURES, release_and_reference

REPO = Path(__file__).resolve().parents[3]
SOURCE_NOTEBOOK = REPO / "source" / "convnets" / "ConvolutionalNetworks.ipynb"
ASSIGNMENT, NOTEBOOK = "convnets", "ConvolutionalNetworks.ipynb"
OWN_FIXTURES = Path(__file__).with_name("fixtures")
# The correct solutions of the grading fixtures, each in its own style.
STYLE_FOLDERS = {"loops": FIXTURES / "full_marks_loops", "vectorised": FIXTURES / "full_marks_vectorised",
                 "helpers": FIXTURES / "full_marks_extra_helper_cells",
                 "original_with_helpers": OWN_FIXTURES / "original_with_helpers"}


def release_and_reference_notebooks() -> tuple[nbformat.NotebookNode, nbformat.NotebookNode]:
    return release_and_reference(SOURCE_NOTEBOOK)


def style_cells(folder: Path) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """A fixture folder's replaced cells (grade id -> source) and added cells ((after grade id, source))."""
    replaced = {p.stem: p.read_text() for p in sorted(folder.glob("*.py")) if not EXTRA.match(p.name)}
    extras = sorted((int(m.group(1)), m.group(2), p.read_text())
                    for p in folder.glob("extra_*.py") if (m := EXTRA.match(p.name)))
    return replaced, [(after, text) for _, after, text in extras]


def grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def notebook_with(base: nbformat.NotebookNode, replaced: dict[str, str],
                  extras: list[tuple[str, str]]) -> nbformat.NotebookNode:
    """``base`` with solution cells replaced by grade id and student cells added after the named cells."""
    notebook = copy.deepcopy(base)
    for cell in notebook.cells:
        if grade_id(cell) in replaced:
            cell.source = replaced[grade_id(cell)]
    for number, (after, text) in reversed(list(enumerate(extras))):
        position = next(i for i, c in enumerate(notebook.cells) if grade_id(c) == after) + 1
        notebook.cells.insert(position, nbformat.v4.new_code_cell(text, id=f"student-extra-{number}"))
    return notebook


def solution_sources(notebook: nbformat.NotebookNode, release: nbformat.NotebookNode) -> dict[str, str]:
    """Grade id -> source of every solution code cell that differs from the release."""
    given = {grade_id(c): c.source for c in release.cells if c.cell_type == "code"}
    return {grade_id(c): c.source for c in notebook.cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
            and c.source != given.get(grade_id(c))}


def write_course(root: Path, release: nbformat.NotebookNode, students: dict[str, nbformat.NotebookNode]) -> Path:
    """``root/release/convnets/<notebook>`` and ``root/submitted/<student>/convnets/<notebook>``."""
    target = root / "release" / ASSIGNMENT / NOTEBOOK
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(release, target)
    for student, notebook in students.items():
        path = root / "submitted" / student / ASSIGNMENT / NOTEBOOK
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, path)
    return root
