"""Read the release notebook and the submitted notebooks: which code cells are the student's own.

Nothing here executes notebook content. Solution cells are found by the grade ids that the RELEASE notebook's
nbgrader metadata gives its solution cells; a submission's cell with one of those grade ids is compared with
the release's version of that cell. Code cells the student added count as their own code too; cells that the
release provides (same cell id, or the same source) are left out.
"""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

MAX_NOTEBOOK_BYTES = 200 * 1024 * 1024


class NotebookProblem(ValueError):
    """A notebook that cannot be used; the message names the file and says why."""


@dataclass(frozen=True)
class CodeCell:
    """One code cell: a label for the report, its nbgrader grade id (or None), its cell id and source, and
    whether its nbgrader metadata marks it as a solution cell (trusted only in the release)."""

    label: str
    grade_id: str | None
    cell_id: str | None
    source: str
    solution: bool = False


@dataclass
class ReleaseNotebook:
    """What the comparison needs from the release notebook.

    solutions: grade id -> the release's source of that solution code cell (stubs, docstrings, checks).
    provided: every other code cell's source, keyed by cell id (None for cells without an id).
    """

    path: Path
    solutions: dict[str, str]
    provided: dict[str | None, list[str]] = field(default_factory=dict)

    def all_code(self) -> list[str]:
        """Every code cell's source in the release (solution stubs included)."""
        return list(self.solutions.values()) + [s for sources in self.provided.values() for s in sources]


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def read_code_cells(path: Path) -> list[CodeCell]:
    """The code cells of a notebook file, in order (outputs are never looked at).

    Raises
    ------
    NotebookProblem
        Missing, a symbolic link, empty, too large, not JSON, or not a notebook nbformat can read.
    """
    path = Path(path)
    if path.is_symlink():
        raise NotebookProblem(f"{path} is a symbolic link, not a notebook file; it was not read")
    if not path.is_file():
        raise NotebookProblem(f"{path} does not exist")
    size = path.stat().st_size
    if size == 0:
        raise NotebookProblem(f"{path} is empty (0 bytes)")
    if size > MAX_NOTEBOOK_BYTES:
        raise NotebookProblem(f"{path} is {size / 2**20:.0f} MiB, above the {MAX_NOTEBOOK_BYTES // 2**20} MiB "
                              "limit for a notebook")
    try:
        raw = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NotebookProblem(f"{path} is not valid notebook JSON ({error})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("nbformat"), int):
        raise NotebookProblem(f"{path} is JSON but not a Jupyter notebook (no 'nbformat' version field)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # old or slightly invalid files still give their cells
            notebook = nbformat.reads(json.dumps(raw), as_version=4)
    except Exception as error:  # nbformat raises many exception types for malformed notebooks
        raise NotebookProblem(f"{path} could not be read as a notebook: {error}") from None
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        raise NotebookProblem(f"{path} has no list of cells")
    found = []
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        metadata = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        nbgrader = metadata.get("nbgrader") if isinstance(metadata.get("nbgrader"), dict) else {}
        grade_id = nbgrader.get("grade_id") if isinstance(nbgrader.get("grade_id"), str) else None
        cell_id = cell.get("id") if isinstance(cell.get("id"), str) else None
        label = f"cell {index + 1}" + (f" ({grade_id})" if grade_id else "")
        found.append(CodeCell(label, grade_id, cell_id, _text(cell.get("source")), bool(nbgrader.get("solution"))))
    return found


def read_release(path: Path) -> ReleaseNotebook:
    """Parse the release notebook (trusted): its solution code cells by grade id, and the provided cells.

    Raises
    ------
    NotebookProblem
        If it cannot be read, or has no solution code cell (then nothing could be compared).
    """
    path = Path(path)
    release = ReleaseNotebook(path, {})
    for cell in read_code_cells(path):
        if cell.grade_id is not None and cell.solution:
            release.solutions[cell.grade_id] = cell.source
        else:
            release.provided.setdefault(cell.cell_id, []).append(cell.source)
    if not release.solutions:
        raise NotebookProblem(f"the release notebook {path} has no solution code cell (nbgrader metadata "
                              "'solution': true); is it the notebook nbgrader released?")
    return release


def own_cells(cells: list[CodeCell], release: ReleaseNotebook) -> list[CodeCell]:
    """The cells holding the student's own code: solution cells (by the release's grade ids) and added cells.

    A cell with a release cell's id, or with exactly a provided cell's source, is the release's and left out.
    """
    provided_sources = {s.strip() for sources in release.provided.values() for s in sources}
    own = []
    for cell in cells:
        if cell.grade_id in release.solutions:
            own.append(cell)
        elif cell.cell_id in release.provided and cell.cell_id is not None:
            continue
        elif cell.grade_id is None and cell.source.strip() and cell.source.strip() not in provided_sources:
            own.append(cell)
    return own


def find_notebooks(course: Path, assignment: str, notebook: str) -> tuple[list[tuple[str, Path]], dict[str, str]]:
    """Every ``<course>/submitted/<student>/<assignment>/<notebook>``, sorted by student id.

    Returns
    -------
    found : list of (student, notebook path)
    problems : dict student -> why that student's folder gives nothing to compare (names the path)

    Raises
    ------
    NotebookProblem
        If ``<course>/submitted/`` does not exist.
    """
    root = Path(course) / "submitted"
    if not root.is_dir():
        raise NotebookProblem(f"no folder {root}: the course directory has no submissions "
                              "(expected submitted/<student>/<assignment>/<notebook>)")
    found, problems = [], {}
    for student_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        student, folder = student_dir.name, student_dir / assignment
        path = folder / notebook
        if not folder.is_dir():
            problems[student] = f"no folder {folder}"
        elif path.is_file() and not path.is_symlink():
            found.append((student, path))
        elif path.is_symlink():
            problems[student] = f"{path} is a symbolic link, not a notebook file"
        else:
            others = sorted(p.name for p in folder.glob("*.ipynb"))
            problems[student] = f"no notebook {path}" + (f" (found {', '.join(others)})" if others else "")
    return found, problems
