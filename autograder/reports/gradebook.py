"""Write our grades into the nbgrader gradebook, so nbgrader's own tools keep working after `make grade`.

What nbgrader's `autograde` leaves behind, and therefore what this module reproduces (see nbgrader's
converters/autograde.py and preprocessors/saveautogrades.py, overwritecells.py):
- a student row and a submission (with the timestamp from timestamp.txt), which creates one Grade row per
  grade cell of the assignment;
- `auto_score` of every autograded test cell (grade id ``test_<item>``), with `needs_manual_grade` set only if a
  grader had already entered a manual score that overrides an auto score which changed; manually graded answers
  are left for the formgrader;
- ``autograded/<student>/<assignment>/<notebook>.ipynb``: the submitted notebook with the instructor's
  nbgrader metadata and locked cells restored (extra or duplicated graded cells lose their metadata, missing
  ones are put back), so `nbgrader generate_feedback` and the formgrader can render it. Each test cell's output
  is replaced by our result lines, because the notebook itself is never executed here. The experiment file
  graded beside the notebook is copied along, as autograde copies a submission's other files.
The assignment's cells come from `nbgrader generate_assignment` (`make release`); without them this module
explains what to run instead of inventing cells.
"""
from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Iterable

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import ClearHiddenTests
from nbgrader.utils import parse_utc
from sqlalchemy.exc import SAWarning
from traitlets.config.loader import PyFileConfigLoader

from assignments import Assignment

from ..atomicio import atomic_write_bytes, atomic_write_text
from ..intake.course_layout import TIMESTAMP_FILE, Submission
from ..intake.submitted_files import RefusedFile, read_submitted
from ..intake.release_points import STALE_RELEASE, record_points
from ..results import SubmissionResult

CONFIG_FILE = "nbgrader_config.py"
AUTOGRADED_DIR = "autograded"
# Outputs of a single cell beyond this many characters (as JSON) are dropped from the autograded copy.
MAX_CELL_OUTPUT_CHARS = 200_000
_NOTE_ID = "autograder-note"
_INERT_MIME_TYPES = ("text/plain", "image/png", "image/jpeg")


class GradebookUnavailable(RuntimeError):
    """The gradebook or the assignment's cells in it are missing; the message says what to run."""


def gradebook_location(course_dir: Path) -> tuple[str, str]:
    """The gradebook's database URL and course id, as nbgrader would resolve them from `course_dir`.

    Reads ``<course_dir>/nbgrader_config.py`` if present. A relative SQLite path is taken relative to the course
    directory (where `make` runs nbgrader). Default: ``sqlite:///<course_dir>/gradebook.db``.
    """
    course_dir = Path(course_dir).resolve()
    config = None
    if (course_dir / CONFIG_FILE).is_file():
        config = PyFileConfigLoader(CONFIG_FILE, path=str(course_dir)).load_config()
    coursedir = CourseDirectory(config=config) if config is not None else CourseDirectory()
    root = Path(coursedir.root) if config is not None and "root" in config.CourseDirectory else course_dir
    if not root.is_absolute():
        root = course_dir / root
    coursedir.root = str(root)
    db_url = coursedir.db_url
    prefix = "sqlite:///"
    if db_url.startswith(prefix) and not Path(db_url[len(prefix):]).is_absolute():
        db_url = prefix + str(course_dir / db_url[len(prefix):])
    return db_url, coursedir.course_id


def _safe_cell_id(text: str) -> str:
    # nbformat 4.5 cell ids: 1-64 characters from [a-zA-Z0-9-_].
    return re.sub(r"[^A-Za-z0-9_-]", "-", text)[:64] or "cell"


def item_report(result: SubmissionResult, item: str) -> str:
    """The text shown as the output of ``item``'s test cell: one line per test, then the pending points."""
    lines = [f"Autograder (outside this notebook): {item}"]
    for test in result.tests:
        if test.item == item:
            status = {"passed": "passed", "failed": "FAILED", "pending": "PENDING"}[test.status]
            lines.append(f"[{status}] {test.name}: {test.score:g}/{test.max_score:g}"
                         + (f" - {test.message}" if test.message and not test.passed else ""))
    waiting = result.item_pending_points().get(item)
    if waiting:
        lines.append(f"Pending: {waiting:g} points wait for instructor data and are not in this cell's score")
    return "\n".join(lines) + "\n"


def _instructor_cell(source_cell, grade_cell, is_solution: bool, cell_id: str) -> nbformat.NotebookNode:
    """A fresh cell carrying the instructor's source and nbgrader metadata for `source_cell`."""
    metadata = {"grade": grade_cell is not None, "grade_id": source_cell.name, "locked": bool(source_cell.locked),
                "solution": is_solution, "schema_version": 3, "task": False}
    if source_cell.checksum:
        metadata["checksum"] = source_cell.checksum
    if grade_cell is not None:
        metadata["points"] = grade_cell.max_score
    maker = nbformat.v4.new_code_cell if source_cell.cell_type == "code" else nbformat.v4.new_markdown_cell
    cell = maker(source=source_cell.source or "", metadata={"nbgrader": metadata})
    cell.id = cell_id
    if source_cell.locked:
        cell.metadata.update({"deletable": False, "editable": False})
    return cell


def _read_submitted(path: Path | None, result: SubmissionResult) -> nbformat.NotebookNode:
    """The submitted notebook as nbformat 4.5, or a one-cell notebook explaining why it could not be read."""
    if path is not None:
        try:
            notebook = nbformat.reads(read_submitted(path, 1 << 40).decode("utf-8"), as_version=4)
            notebook.nbformat_minor = max(notebook.get("nbformat_minor", 0), 5)
            return notebook
        except Exception:  # any unreadable file: the reason is already in the result's problems
            pass
    reason = "; ".join(result.problems) or "the submitted notebook could not be read"
    notebook = nbformat.v4.new_notebook()
    note = nbformat.v4.new_markdown_cell(f"**The autograder could not use this submission:** {reason}\n\n"
                                         "The assignment's graded cells below are restored from the release.")
    note.id = _NOTE_ID
    notebook.cells.append(note)
    return notebook


def autograded_notebook(submitted: Path | None, result: SubmissionResult, db_notebook,
                        keep_hidden_tests: bool = False) -> nbformat.NotebookNode:
    """The notebook to store under autograded/: the submission with the instructor's cells and metadata.

    Parameters
    ----------
    submitted : Path or None
        The submitted notebook (None when the folder had none).
    result : SubmissionResult
        Our grading of it; written as the output of each test cell.
    db_notebook : nbgrader.api.Notebook
        The assignment's notebook in the gradebook (source, grade and solution cells).
    keep_hidden_tests : bool
        Keep the hidden-test regions of the restored test cells. By default they are removed (as in the
        release), because `nbgrader generate_feedback` shows this notebook to the student.

    Returns
    -------
    nbformat.NotebookNode
    """
    sources = {c.name: c for c in db_notebook.source_cells}
    grades = {c.name: c for c in db_notebook.grade_cells}
    solutions = {c.name for c in db_notebook.solution_cells}
    notebook = _read_submitted(submitted, result)
    kept, seen_ids, seen_cells = [], set(), set()
    for index, cell in enumerate(notebook.cells):
        cell_id = cell.get("id")
        if not isinstance(cell_id, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", cell_id) or cell_id in seen_ids:
            cell_id = f"cell-{index}"  # deterministic, so re-runs write identical files
        meta = cell.metadata.get("nbgrader")
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        if meta is not None and (grade_id not in sources or grade_id in seen_cells):
            del cell.metadata["nbgrader"]  # an extra or duplicated graded cell must not count in nbgrader
        elif grade_id is not None:
            seen_cells.add(grade_id)
            source = sources[grade_id]
            fresh = _instructor_cell(source, grades.get(grade_id), grade_id in solutions, cell_id)
            if not source.locked:  # the student's answer stays; only its metadata is the instructor's
                fresh.source = cell.source if cell.cell_type == source.cell_type else fresh.source
                if fresh.cell_type == "code" and cell.cell_type == "code":
                    fresh.outputs = cell.get("outputs", [])
            cell = fresh
        cell.id = cell_id
        seen_ids.add(cell_id)
        kept.append(cell)
    # Put back missing instructor cells after the cell that precedes them in the release.
    order = [c.name for c in db_notebook.source_cells]
    for position, name in enumerate(order):
        if name in seen_cells:
            continue
        restored = _instructor_cell(sources[name], grades.get(name), name in solutions,
                                    _safe_cell_id(f"restored-{name}"))
        previous = order[position - 1] if position else None
        anchor = next((i for i, c in enumerate(kept) if previous is not None
                       and c.metadata.get("nbgrader", {}).get("grade_id") == previous),
                      -1 if previous is None else len(kept) - 1)
        kept.insert(anchor + 1, restored)
        seen_cells.add(name)
    # The explanation of an unreadable file stays the first thing a grader sees.
    kept.sort(key=lambda c: c.id != _NOTE_ID)
    hidden_tests = ClearHiddenTests()
    for index, cell in enumerate(kept):
        if cell.cell_type != "code":
            continue
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if not keep_hidden_tests and cell.metadata.get("nbgrader", {}).get("grade"):
            hidden_tests.preprocess_cell(cell, {}, index)
        cell.outputs = _inert_outputs(cell.get("outputs", []))
        if grade_id.startswith("test_") and grade_id[len("test_"):] in result.item_scores():
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                                   text=item_report(result, grade_id[len("test_"):]))]
        elif len(nbformat.writes(nbformat.v4.new_notebook(cells=[cell]))) > MAX_CELL_OUTPUT_CHARS:
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                                   text="[output removed by the autograder: too large]\n")]
        cell.execution_count = None
    notebook.cells = kept
    return notebook


def _inert_outputs(outputs: list) -> list:
    """The student's saved outputs minus anything a browser would run or interpret as markup.

    These outputs were never produced by the grader (the notebook is not executed here), and the formgrader and
    generate_feedback render them as HTML in the instructor's and the student's browser: only text and
    bitmap images are kept.
    """
    kept = []
    for output in outputs:
        if output.get("output_type") in ("display_data", "execute_result"):
            data = {k: v for k, v in output.get("data", {}).items() if k in _INERT_MIME_TYPES}
            if not data:
                continue
            output = nbformat.from_dict({**output, "data": data})
        kept.append(output)
    return kept


def grade_scores(result: SubmissionResult) -> dict[str, float]:
    """Grade id test_<item> -> fraction of the item's points earned (pending points count as not earned yet, so
    a pending case gives nothing; the instructor adds them by hand)."""
    pending = result.item_pending_points()
    return {f"test_{name}": (got / (top + pending.get(name, 0.0)) if top + pending.get(name, 0.0) else 0.0)
            for name, (got, top) in result.item_scores().items()}


def _take_record_points(gb: Gradebook, record: Assignment, cells: dict) -> list[str]:
    """Give every grade cell of the assignment the record's points (as `make release` would write them), so that
    the gradebook, `nbgrader export` and the formgrader total what grades.csv and results.json total; returns
    one note per cell that was stale."""
    notes = []
    for grade_id, points in record_points(record).items():
        cell = cells.get(grade_id)
        if cell is not None and cell.max_score != points:
            notes.append(f"grade cell {grade_id} was worth {cell.max_score:g} points in the gradebook, "
                         f"{points:g} in assignments/{record.name}.py: the gradebook now has the record's "
                         f"{points:g} ({STALE_RELEASE})")
            cell.max_score = points
    if notes:
        gb.db.commit()
    return notes


def write_gradebook(course_dir: Path, assignment: Assignment, results: Iterable[SubmissionResult],
                    submissions: dict[str, Submission], keep_hidden_tests: bool = False) -> list[str]:
    """Record `results` in the gradebook and write the autograded notebooks.

    Parameters
    ----------
    course_dir : Path
        nbgrader course root.
    assignment : Assignment
        The assignment's record; it and its notebook must already be in the gradebook (`make release`).
    results : iterable of SubmissionResult
        One per student to record.
    submissions : dict
        Student id -> Submission (notebook path and timestamp), from `find_submissions`.
    keep_hidden_tests : bool
        Leave hidden tests in the autograded notebooks (shown by generate_feedback); see autograded_notebook.

    Returns
    -------
    list of str
        Warnings for the instructor (e.g. a graded item without a test cell in the gradebook).

    Raises
    ------
    GradebookUnavailable
        If the gradebook, the assignment or its notebook is missing.
    """
    course_dir = Path(course_dir).resolve()
    db_url, course_id = gradebook_location(course_dir)
    if db_url.startswith("sqlite:///") and not Path(db_url[len("sqlite:///"):]).is_file():
        raise GradebookUnavailable(
            f"no gradebook at {db_url[len('sqlite:///'):]}. Run `make release` first: `nbgrader generate_assignment`"
            f" records the assignment's cells there. Grades were still written to grades/.")
    notebook_name = assignment.notebook
    notebook_id = Path(notebook_name).stem
    with warnings.catch_warnings():
        # nbgrader's own add_submission trips SQLAlchemy 2's autoflush warnings; they are harmless noise.
        warnings.simplefilter("ignore", SAWarning)
        return _write_gradebook(course_dir, db_url, course_id, assignment, notebook_id, notebook_name, results,
                                submissions, keep_hidden_tests)


def _write_gradebook(course_dir: Path, db_url: str, course_id: str, record: Assignment, notebook_id: str,
                     notebook_name: str, results: Iterable[SubmissionResult], submissions: dict[str, Submission],
                     keep_hidden_tests: bool) -> list[str]:
    notes = []
    assignment = record.name
    with Gradebook(db_url, course_id) as gb:
        try:
            db_notebook = gb.find_notebook(notebook_id, assignment)
        except MissingEntry:
            raise GradebookUnavailable(
                f"the gradebook {db_url} has no notebook {notebook_id!r} in assignment {assignment!r}. Run "
                f"`make release` (nbgrader generate_assignment {assignment}) first. Grades were still written "
                f"to grades/.") from None
        cells = {c.name: c for c in db_notebook.grade_cells}
        missing = [i.test_cell_id for i in record.graded_items if i.test_cell_id not in cells]
        if missing:
            notes.append(f"the gradebook has no grade cell for {', '.join(missing)}; those scores are only in "
                         f"grades/")
        notes += _take_record_points(gb, record, cells)
        for result in results:
            submission = submissions.get(result.student)
            timestamp = None
            if submission is not None and submission.timestamp:
                try:
                    timestamp = parse_utc(submission.timestamp)
                except (ValueError, OverflowError):
                    notes.append(f"{result.student}: unreadable {TIMESTAMP_FILE} ignored")
            gb.update_or_create_student(result.student)
            gb.update_or_create_submission(assignment, result.student,
                                           **({"timestamp": timestamp} if timestamp else {}))
            fractions = grade_scores(result)
            for grade in gb.find_submission_notebook(notebook_id, assignment, result.student).grades:
                if grade.name in fractions:
                    score = round(fractions[grade.name] * grade.max_score, 6)
                    changed = grade.auto_score is None or abs(grade.auto_score - score) > 1e-9
                    grade.auto_score = score
                    # As nbgrader does, a manual score already given must be reviewed again, but only when the
                    # auto score it overrides changed (a re-run that reuses cached results asks nothing again).
                    if grade.manual_score is None:
                        grade.needs_manual_grade = False
                    elif changed:
                        grade.needs_manual_grade = True
            gb.db.commit()
            notebook = autograded_notebook(submission.notebook if submission else None, result, db_notebook,
                                           keep_hidden_tests)
            destination = course_dir / AUTOGRADED_DIR / result.student / assignment
            atomic_write_text(destination / notebook_name, nbformat.writes(notebook))
            if timestamp is not None:
                atomic_write_text(destination / TIMESTAMP_FILE, submission.timestamp + "\n")
            # As nbgrader's autograde does: the files graded beside the notebook go along with it.
            # Only regular single-link files: a refused link is never read through, and not copied.
            for name, path in (submission.files.items() if submission is not None else ()):
                try:
                    data = read_submitted(path, 1 << 40)
                except RefusedFile:
                    data = None
                if data is not None:
                    atomic_write_bytes(destination / name, data)
    return notes
