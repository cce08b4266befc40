"""Find the submissions in an nbgrader course directory and say clearly what is wrong with a bad one.

Layout (what `nbgrader collect` and `nbgrader zip_collect` produce):
``<course>/submitted/<student>/<assignment>/<notebook>.ipynb``, optionally with the files the assignment's
items are graded from (``Assignment.submission_files``) and nbgrader's ``timestamp.txt`` beside it. Nothing
else in a submission folder is ever used: a submitted ``numpy.py`` or compiled extension stays where it is.
Only regular files of their own are read (``submitted_files``): a linked notebook is a problem stated for the
student; a linked graded file is refused when it is read, costing only the items graded from it.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from assignments import Assignment

from ..results import SubmissionResult, TestResult
from .submitted_files import RefusedFile, read_submitted

SUBMITTED_DIR = "submitted"
TIMESTAMP_FILE = "timestamp.txt"
# nbgrader writes one ISO timestamp line; anything longer is not a timestamp.
_MAX_TIMESTAMP_BYTES = 200


@dataclass(frozen=True)
class Submission:
    """One student's folder, as found on disk.

    student: the folder name under submitted/ (nbgrader's student id).
    notebook: the notebook to grade, or None when the layout is wrong (then `problem` says why).
    files: the other files the assignment grades (file name -> path) that exist in the folder, links and special
        files included: they are verified when read (``submitted_files``), and a refused one costs its items.
    timestamp: the content of nbgrader's timestamp.txt, if any (used only for the gradebook).
    """

    student: str
    notebook: Path | None
    files: dict[str, Path] = field(default_factory=dict)
    timestamp: str | None = None
    problem: str | None = None


def check_student_id(student: str) -> str:
    """Return `student` if it can name a folder under submitted/, else raise ValueError saying why."""
    if not student or student in {".", ".."} or "/" in student or "\\" in student or student.startswith("."):
        raise ValueError(f"invalid student id {student!r}: it must be a plain folder name under submitted/")
    return student


def _read_timestamp(folder: Path) -> str | None:
    try:
        data = read_submitted(folder / TIMESTAMP_FILE, _MAX_TIMESTAMP_BYTES)
    except RefusedFile:  # a link or an oversized file is no timestamp nbgrader wrote
        return None
    text = data.decode("utf-8", errors="replace").strip() if data else ""
    return text or None


def notebook_problem(path: Path, shown: str) -> str | None:
    """Why the notebook entry ``path`` cannot be graded as a file of its own (None: it is one, or is absent)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode):
        return f"{shown} is a symbolic link, not a file; the grader does not follow links. Submit the notebook itself."
    if not stat.S_ISREG(info.st_mode):
        return f"{shown} is not a regular file (a folder, pipe or device); submit the notebook itself."
    if info.st_nlink != 1:
        return (f"{shown} is a hard link ({info.st_nlink} names for one file), so it may be someone else's file; "
                "the grader reads only a file of your own. Submit a copy of your notebook.")
    return None


def inspect_submission(course_dir: Path, student: str, assignment: Assignment) -> Submission:
    """Look at one student's folder and return what can be graded from it.

    Parameters
    ----------
    course_dir : Path
        The nbgrader course root (holding submitted/).
    student : str
        Folder name under submitted/.
    assignment : Assignment
        The assignment's record: its folder name, notebook and the files its items are graded from.

    Returns
    -------
    Submission
        With `notebook` set, or with `notebook` None and `problem` a message for the student.
    """
    notebook_name = assignment.notebook
    student_dir = Path(course_dir) / SUBMITTED_DIR / check_student_id(student)
    if not student_dir.is_dir() or student_dir.is_symlink():
        return Submission(student, None, problem=f"no folder {SUBMITTED_DIR}/{student}/ in the course directory")
    folder = student_dir / assignment.name
    if not folder.is_dir() or folder.is_symlink():
        found = sorted(p.name for p in student_dir.iterdir() if not p.name.startswith("."))
        return Submission(student, None, problem=(
            f"no assignment folder '{assignment.name}/' in the submission; found: {', '.join(found) or 'nothing'}. "
            f"The notebook must be submitted as {assignment.name}/{notebook_name}."))
    timestamp = _read_timestamp(folder)
    notebook = folder / notebook_name
    problem = notebook_problem(notebook, f"{assignment.name}/{notebook_name}")
    if problem:
        return Submission(student, None, timestamp=timestamp, problem=problem)
    if not notebook.is_file():
        others = sorted(p.name for p in folder.glob("*.ipynb"))
        if others:
            problem = (f"wrongly named notebook: found {', '.join(repr(n) for n in others)} but the assignment "
                       f"expects '{notebook_name}'. Rename the file and submit again.")
        else:
            problem = (f"no notebook in {assignment.name}/: expected '{notebook_name}'. Submit your notebook as "
                       f"{assignment.name}/{notebook_name}.")
        return Submission(student, None, timestamp=timestamp, problem=problem)
    files = {name: folder / name for name in assignment.submission_files[1:] if os.path.lexists(folder / name)}
    return Submission(student, notebook, files, timestamp)


def extra_notebooks(submission: Submission) -> list[str]:
    """Names of the other notebooks beside the graded one (e.g. a Jupyter "-Copy1"), which are never graded."""
    if submission.notebook is None:
        return []
    return sorted(p.name for p in submission.notebook.parent.glob("*.ipynb")
                  if p.name != submission.notebook.name and not p.name.startswith("."))


def find_submissions(course_dir: Path, assignment: Assignment) -> list[Submission]:
    """What every student folder under ``<course_dir>/submitted/`` holds for ``assignment``, sorted by student
    id (empty if there are none); a student without the assignment's folder gets a Submission saying so."""
    root = Path(course_dir) / SUBMITTED_DIR
    if not root.is_dir():
        return []
    students = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    return [inspect_submission(course_dir, s, assignment) for s in students]


def ungraded_result(student: str, assignment: Assignment, problem: str) -> SubmissionResult:
    """A zero for every graded item, each carrying `problem` as its message, for a folder that can't be graded.

    One record per item keeps the CSV columns and the gradebook identical for every student.
    """
    tests = [TestResult(name=f"{item.name}: not graded", item=item.name, score=0.0, max_score=float(item.points),
                        message=problem, hint="Fix the submission as described above and submit again.")
             for item in assignment.graded_items]
    return SubmissionResult(student=student, assignment=assignment.name, tests=tests, problems=[problem])
