"""grades_canvas.csv: the class's autograded totals in the layout Canvas's gradebook imports.

Canvas (Grades > Import) reads a CSV whose first columns are ``Student``, ``ID``, ``SIS User ID``,
``SIS Login ID`` and ``Section``, followed by one column per assignment; a second row whose first cell is
``Points Possible`` gives each assignment's maximum (Canvas writes it in its own exports and skips it on
import). Canvas matches students on ``ID`` (its user id), else ``SIS User ID``, else ``SIS Login ID``, and an
assignment column on its header: ``Name (assignment id)`` updates that existing assignment, a new name creates
one.

Canvas ids are not known to nbgrader: if the course directory holds ``canvas_roster.csv`` (a Canvas gradebook
export, Grades > Export), each student's row takes ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID`` and
``Section`` from the roster row whose SIS Login ID, SIS User ID or ID equals the nbgrader student id, and an
assignment whose roster column is ``<assignment> (<id>)`` keeps that header. Without a roster, ``Student`` and
``SIS Login ID`` are the nbgrader id. A student without a result for an assignment gets an empty cell there,
which Canvas leaves unchanged.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from assignments import Assignment

from ..atomicio import atomic_write_text
from ..results import SubmissionResult

CANVAS_FILE = "grades_canvas.csv"
ROSTER_FILE = "canvas_roster.csv"
IDENTITY_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
POINTS_ROW = "Points Possible"
# The roster columns compared with the nbgrader student id, in order of preference.
_MATCH_COLUMNS = ("SIS Login ID", "SIS User ID", "ID")


def _number(value: float) -> str:
    return f"{round(value, 6):g}"


def read_roster(path: Path) -> tuple[dict[str, dict[str, str]], list[str]]:
    """A Canvas gradebook export: (nbgrader-id candidates -> identity columns, the export's header).

    Raises
    ------
    ValueError
        If the file lacks one of the identity columns (it is then not a Canvas export).
    """
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        missing = [c for c in IDENTITY_COLUMNS if c not in header]
        if missing:
            raise ValueError(f"{path} is not a Canvas gradebook export: no column(s) {', '.join(missing)}")
        people: dict[str, dict[str, str]] = {}
        for row in reader:
            if (row.get("Student") or "").strip() == POINTS_ROW or not any(row.get(c) for c in _MATCH_COLUMNS):
                continue
            identity = {c: (row.get(c) or "").strip() for c in IDENTITY_COLUMNS}
            for column in reversed(_MATCH_COLUMNS):  # the preferred column wins a clash
                if identity[column]:
                    people[identity[column]] = identity
    return people, header


def _assignment_header(record: Assignment, roster_header: Sequence[str]) -> str:
    pattern = re.compile(rf"^{re.escape(record.name)} \(\d+\)$")
    return next((column for column in roster_header if pattern.match(column)), record.name)


def canvas_csv(results: Mapping[str, Sequence[SubmissionResult]], records: Sequence[Assignment],
               roster: Mapping[str, Mapping[str, str]] | None = None, roster_header: Sequence[str] = ()) -> str:
    """The CSV text (see the module docstring).

    Parameters
    ----------
    results : mapping of assignment name -> that assignment's results
    records : the assignments, one column each, in this order
    roster : nbgrader id -> identity columns (from `read_roster`), optional
    roster_header : the roster's header, for existing assignments' column names

    Returns
    -------
    str
        Header row, the ``Points Possible`` row, then one row per student sorted by nbgrader id.
    """
    roster = roster or {}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*IDENTITY_COLUMNS, *(_assignment_header(r, roster_header) for r in records)])
    writer.writerow([POINTS_ROW, "", "", "", "", *(_number(r.total_autograded_points) for r in records)])
    by_student: dict[str, dict[str, SubmissionResult]] = {}
    for record in records:
        for result in results.get(record.name, ()):
            by_student.setdefault(result.student, {})[record.name] = result
    for student in sorted(by_student):
        identity = roster.get(student) or {"Student": student, "SIS Login ID": student}
        scores = [_number(by_student[student][r.name].score) if r.name in by_student[student] else ""
                  for r in records]
        writer.writerow([identity.get(c, "") for c in IDENTITY_COLUMNS] + scores)
    return buffer.getvalue()


def write_canvas_csv(course_dir: Path, grades_dir: Path, results: Mapping[str, Sequence[SubmissionResult]],
                     records: Sequence[Assignment]) -> Path:
    """Write ``grades_dir/grades_canvas.csv`` (with ``course_dir/canvas_roster.csv`` if present); returns it."""
    roster_path = Path(course_dir) / ROSTER_FILE
    roster, header = read_roster(roster_path) if roster_path.is_file() else ({}, [])
    target = Path(grades_dir) / CANVAS_FILE
    atomic_write_text(target, canvas_csv(results, records, roster, header))
    return target
