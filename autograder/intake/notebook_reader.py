"""Read a submitted notebook safely and compare it with the instructor's source notebook.

Nothing here executes notebook content. Outputs are dropped before anything else looks at the notebook.
Cells are found by the INSTRUCTOR's grade ids; whatever the submission's metadata claims about points or
grading is only compared with the instructor's copy and reported, never trusted.
"""
from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .magics import neutralise_magics
from .provided_cells import not_run_message, split_provided_cell
from .submitted_files import RefusedFile, read_submitted

MAX_NOTEBOOK_BYTES = 200 * 1024 * 1024
# Metadata keys whose change would alter grading in nbgrader's own tools.
LOCKED_METADATA_KEYS = ("grade", "solution", "locked", "points", "task", "grade_id")
# The keys whose change is the student's doing. A cell's points are not among them: no grader reads them from a
# submission (`make grade` takes the record's, nbgrader restores the gradebook's), and after the instructor
# changes an item's points every notebook fetched from the older release differs. The instructor is told
# instead (autograder/intake/release_points.py).
STUDENT_METADATA_KEYS = tuple(key for key in LOCKED_METADATA_KEYS if key != "points")
HIDDEN_TESTS = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?", re.S | re.M)


# What a student can do about a notebook file that cannot be read.
RESAVE = ("open the notebook in Jupyter, save it (File > Save) and submit that file; do not edit the .ipynb file by "
          "hand")


class NotebookError(ValueError):
    """The file cannot be graded at all (the message is shown to the student)."""


@dataclass
class StudentCell:
    """A code cell whose code runs when grading: a solution cell, a cell the student added, or the definitions of a
    provided cell (``provided_cells``)."""

    label: str
    source: str
    grade_id: str | None = None


@dataclass
class Submission:
    """What grading needs from one submitted notebook.

    cells: code to run, in notebook order: solution cells, the student's own extra cells, and the definitions of
        provided cells (def, class, import, constants; the rest of a provided cell never runs).
    solution_ids: grade ids of the instructor's solution cells that were found.
    problems: repairs and tampering found while reading (shown to the student; none of them stops grading).
    """

    cells: list[StudentCell] = field(default_factory=list)
    solution_ids: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def _grade_meta(cell) -> dict:
    """The cell's nbgrader metadata as a dict whose grade_id is a string or None (whatever the file holds)."""
    metadata = cell.get("metadata", {})
    meta = metadata.get("nbgrader", {}) if isinstance(metadata, dict) else {}
    if not isinstance(meta, dict):
        return {}
    if not isinstance(meta.get("grade_id"), str):
        meta = {**meta, "grade_id": None}
    return meta


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def read_notebook(path: Path, expected_name: str | None = None,
                  trusted: bool = False) -> tuple[nbformat.NotebookNode, list[str]]:
    """Load a notebook as nbformat v4 with outputs removed (``expected_name``: note it if the file differs).

    A submitted notebook (``trusted`` False) is read only as a regular file of its own (``submitted_files``: no
    symbolic or hard link, no FIFO); the instructor's (``trusted``) is read as it is.

    Returns
    -------
    notebook : NotebookNode
        The notebook, upgraded to v4 when it was older, outputs and execution counts cleared.
    notes : list of str
        Repairs made (upgrade, ignored outputs, missing or duplicated cell ids).

    Raises
    ------
    NotebookError
        The file is missing, a link or special file, empty, too large, not JSON, or not a notebook nbformat
        can read.
    """
    path = Path(path)
    notes: list[str] = []
    if trusted:
        content = path.read_bytes() if path.is_file() else None
    else:
        try:
            content = read_submitted(path, MAX_NOTEBOOK_BYTES, too_large=_too_large)
        except RefusedFile as refused:
            raise NotebookError(str(refused)) from None
    if content is None:
        raise NotebookError(f"no notebook at {path.name}. What you can do: submit your notebook under the name "
                            f"{expected_name or path.name!r}")
    size = len(content)
    if size == 0:
        raise NotebookError(f"{path.name} is empty (0 bytes): nothing could be graded. What you can do: {RESAVE}")
    if size > MAX_NOTEBOOK_BYTES:
        raise NotebookError(_too_large(path.name, size))
    if expected_name is not None and path.name != expected_name:
        notes.append(f"the notebook is named {path.name!r} instead of {expected_name!r}; it was graded anyway. "
                     "What you can do: keep the original name next time")
    try:
        raw = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NotebookError(f"{path.name} is not valid notebook JSON ({error}); was it saved completely? What you "
                            f"can do: {RESAVE}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("nbformat"), int):
        raise NotebookError(f"{path.name} is JSON but not a Jupyter notebook (no 'nbformat' version field). What "
                            f"you can do: {RESAVE}")
    output_bytes = _strip_outputs(raw)
    if output_bytes > 1_000_000:
        notes.append(f"the notebook's outputs ({output_bytes / 2**20:.1f} MiB) were ignored; grading never "
                     "uses outputs. Nothing for you to do")
    version = (raw.get("nbformat"), raw.get("nbformat_minor", 0))
    if version >= (4, 5) and isinstance(raw.get("cells"), list):
        notes.extend(_cell_id_problems([c for c in raw["cells"] if isinstance(c, dict)]))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            notebook = nbformat.reads(json.dumps(raw), as_version=4)
    except Exception as error:  # nbformat raises many types for malformed notebooks
        raise NotebookError(f"{path.name} could not be read as a notebook: {error}. What you can do: {RESAVE}") \
            from None
    if version[0] != 4:
        notes.append(f"the notebook used the old format version {version[0]}.{version[1]}; it was upgraded to "
                     "version 4 for grading. Nothing for you to do")
    if not isinstance(notebook.get("cells"), list):
        raise NotebookError(f"{path.name} has no list of cells. What you can do: {RESAVE}")
    _repair_cell_ids(notebook)
    return notebook, notes


def _too_large(name: str, size: int) -> str:
    return (f"{name} is {size / 2**20:.0f} MiB, above the {MAX_NOTEBOOK_BYTES // 2**20} MiB limit. What you can "
            "do: clear the outputs (Kernel > Restart & Clear Output), save and resubmit")


def _strip_outputs(raw: dict) -> int:
    """Remove outputs in place (all format versions); returns roughly how many bytes they took."""
    removed = 0
    cell_lists = [raw.get("cells")] + [ws.get("cells") for ws in raw.get("worksheets", []) or []
                                       if isinstance(ws, dict)]
    for cells in cell_lists:
        for cell in cells if isinstance(cells, list) else []:
            if isinstance(cell, dict) and "outputs" in cell:
                removed += len(json.dumps(cell["outputs"], default=str))
                cell["outputs"] = []
                if "execution_count" in cell:
                    cell["execution_count"] = None
                if "prompt_number" in cell:
                    cell["prompt_number"] = None
    return removed


def _cell_id_problems(cells: list[dict]) -> list[str]:
    """Missing or repeated cell ids in the file as submitted (nbformat >= 4.5 requires unique ids)."""
    ids = [c.get("id") for c in cells]
    missing = sum(1 for i in ids if not isinstance(i, str) or not i)
    present = [i for i in ids if isinstance(i, str) and i]
    duplicated = len(present) - len(set(present))
    notes = []
    if missing:
        notes.append(f"{missing} cell(s) had no cell id; ids were added (cells are found by their grade ids). "
                     "Nothing for you to do")
    if duplicated:
        notes.append(f"{duplicated} cell(s) repeated another cell's id; the repeats were renamed. Nothing for "
                     "you to do")
    return notes


def _repair_cell_ids(notebook) -> None:
    """Give every cell a unique id (grading finds cells by grade id; ids only tell provided cells apart)."""
    seen: set[str] = set()
    for index, cell in enumerate(notebook.cells):
        cell_id = cell.get("id")
        if not isinstance(cell_id, str) or not cell_id:
            cell_id = f"grader-added-{index}"
        elif cell_id in seen:
            cell_id = f"{cell_id}-grader-dup-{index}"
        cell["id"] = cell_id
        seen.add(cell_id)


def strip_hidden_tests(source: str) -> str:
    """The release version of a test cell: nbgrader removes the hidden-tests region with its markers."""
    return HIDDEN_TESTS.sub("", source)


def _normalised(source: str) -> list[str]:
    lines = [line.rstrip() for line in source.strip().splitlines()]
    return [line for line in lines if line]


@dataclass
class InstructorNotebook:
    """The parts of the instructor's source notebook that grading relies on."""

    setup_code: str
    locked_cells: dict[str, tuple[str, str, dict]]  # grade id -> (cell type, release source, nbgrader meta)
    solution_ids: list[str]  # code cells the student writes (graded functions and classes)
    cell_ids: set[str]
    provided_sources: set[str]
    skipped_ids: set[str] = field(default_factory=set)  # written answers and items graded from files: never run
    notebook_name: str | None = None  # the file name submissions are expected to carry
    provided_by_id: dict[str, str] = field(default_factory=dict)  # cell id -> an ungraded code cell's source


def read_instructor_notebook(path: Path, not_run: tuple[str, ...] = ()) -> InstructorNotebook:
    """Parse the instructor's source notebook (trusted); ``not_run``: grade ids of solution cells that grading
    never runs (items graded from a submitted file, whose cells may train for minutes).

    Raises
    ------
    NotebookError
        If it cannot be read or has no setup cell (grade id ``setup``).
    """
    notebook, _ = read_notebook(path, trusted=True)
    setup = None
    locked: dict[str, tuple[str, str, dict]] = {}
    solutions: list[str] = []
    provided: set[str] = set()
    provided_by_id: dict[str, str] = {}
    skipped: set[str] = set()
    never_run = set(not_run)
    for cell in notebook.cells:
        meta = _grade_meta(cell)
        grade_id = meta.get("grade_id")
        if grade_id == "setup":
            setup = _source(cell)
        if grade_id and meta.get("solution") and (cell.cell_type != "code" or grade_id in never_run):
            skipped.add(grade_id)  # manual answers, and items graded from the file they save
        elif grade_id and meta.get("solution"):
            solutions.append(grade_id)
        elif grade_id and (meta.get("grade") or meta.get("locked")):
            locked[grade_id] = (cell.cell_type, strip_hidden_tests(_source(cell)),
                                {k: meta.get(k) for k in LOCKED_METADATA_KEYS})
        elif cell.cell_type == "code":
            provided.add("\n".join(_normalised(_source(cell))))
            provided_by_id[cell.get("id")] = _source(cell)
    if setup is None:
        raise NotebookError(f"the instructor notebook {path} has no cell with grade id 'setup'")
    return InstructorNotebook(setup, locked, solutions, {c.get("id") for c in notebook.cells}, provided, skipped,
                              Path(path).name, provided_by_id)


def read_submission(path: Path, instructor: InstructorNotebook) -> Submission:
    """Find the student's code and report tampering, comparing with the instructor's notebook.

    Raises
    ------
    NotebookError
        If the file cannot be read at all.
    """
    notebook, notes = read_notebook(path, instructor.notebook_name)
    result = Submission(problems=list(notes))
    seen_locked: set[str] = set()
    for index, cell in enumerate(notebook.cells):
        meta = _grade_meta(cell)
        grade_id = meta.get("grade_id")
        label = f"cell {index + 1}" + (f" ({grade_id})" if grade_id else "")
        if grade_id in instructor.skipped_ids:
            continue
        if grade_id in instructor.locked_cells:
            seen_locked.add(grade_id)
            result.problems.extend(_compare_locked(cell, grade_id, instructor.locked_cells[grade_id]))
            continue
        if grade_id in instructor.solution_ids:
            if grade_id in result.solution_ids:
                result.problems.append(f"the solution cell {grade_id!r} appears more than once; all copies ran "
                                       "in notebook order, so the last definition counts. What you can do: "
                                       "delete the copies you do not want graded")
            if cell.cell_type != "code":
                result.problems.append(f"the solution cell {grade_id!r} was changed into a {cell.cell_type} "
                                       "cell; its code was not run. What you can do: change it back to a code "
                                       "cell (Cell Type: Code) and submit again")
                continue
            result.solution_ids.add(grade_id)
        elif grade_id and (meta.get("grade") or meta.get("solution") or meta.get("locked")):
            result.problems.append(f"{label} carries nbgrader grading metadata that is not in the instructor's "
                                   "notebook (an extra graded cell); it was ignored for scoring, and its code "
                                   "ran as an ordinary cell. Nothing for you to do (copying cells from another "
                                   "notebook is the usual cause)")
        if cell.cell_type != "code":
            continue
        if grade_id not in instructor.solution_ids and _is_provided(cell, instructor):
            _add_provided_definitions(result, cell, label, instructor)
            continue
        source = neutralise_magics(_source(cell))
        if source is not None and source.strip():
            result.cells.append(StudentCell(label, source, grade_id if grade_id in instructor.solution_ids
                                            else None))
    for grade_id in sorted(set(instructor.locked_cells) - seen_locked):
        result.problems.append(f"the locked cell {grade_id!r} is missing (deleted or its metadata removed); "
                               "grading used the instructor's tests anyway. Nothing for you to do for this "
                               "grade; to run those tests yourself, copy the cell from a fresh copy of the "
                               "released notebook")
    for grade_id in instructor.solution_ids:
        if grade_id not in result.solution_ids:
            result.problems.append(f"no solution cell with grade id {grade_id!r} was found; any definition of it "
                                   "in other cells was still graded. Nothing for you to do if your answer is in "
                                   "another cell; next time keep it in the marked cell of the released notebook")
    return result


def _add_provided_definitions(result: Submission, cell, label: str, instructor: InstructorNotebook) -> None:
    """Queue the definitions of a provided cell to run, as nbgrader would have them defined; report what the
    student wrote there that does not run (``provided_cells``)."""
    source = neutralise_magics(_source(cell))
    if source is None or not source.strip():
        return
    original = instructor.provided_by_id.get(cell.get("id"), _source(cell))
    split = split_provided_cell(source, neutralise_magics(original) or "")
    if split.code.strip():
        result.cells.append(StudentCell(f"{label} (provided cell: its definitions)", split.code))
    if split.not_run or (split.syntax_error and "\n".join(_normalised(_source(cell)))
                         not in instructor.provided_sources):
        result.problems.append(not_run_message(label, split))


def _is_provided(cell, instructor: InstructorNotebook) -> bool:
    """An instructor-provided code cell (demo, plot, training): not the student's to run at grading."""
    if cell.get("id") in instructor.cell_ids and not str(cell.get("id")).startswith("grader-"):
        return True
    return "\n".join(_normalised(_source(cell))) in instructor.provided_sources


# Whatever the student did to a locked cell, the grader used the instructor's cell: the score is unaffected.
_LOCKED_ADVICE = ("Nothing for you to do: your score is not affected; to see in your own notebook what the grader "
                  "checks, copy the cell back from a fresh copy of the released notebook")


def _compare_locked(cell, grade_id: str, expected: tuple[str, str, dict]) -> list[str]:
    cell_type, source, meta = expected
    problems = []
    if cell.cell_type != cell_type:
        problems.append(f"the locked cell {grade_id!r} was changed from {cell_type} to {cell.cell_type}; "
                        f"grading used the instructor's version. {_LOCKED_ADVICE}")
    if _normalised(_source(cell)) != _normalised(source):
        problems.append(f"the locked cell {grade_id!r} was edited; grading used the instructor's version. "
                        f"{_LOCKED_ADVICE}")
    submitted = _grade_meta(cell)
    for key in STUDENT_METADATA_KEYS:
        if submitted.get(key) != meta.get(key):
            problems.append(f"the nbgrader metadata {key!r} of cell {grade_id!r} was changed from "
                            f"{meta.get(key)!r} to {submitted.get(key)!r}; the instructor's value was used. "
                            "Nothing for you to do: your score is not affected")
    return problems
