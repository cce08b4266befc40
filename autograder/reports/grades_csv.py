"""grades.csv: one row per student, across every assignment of the course.

Columns: ``student``, ``score`` and ``max_score`` (autograded points, summed over the assignments), then for each
assignment (in the registry's order) its autograded total ``<assignment>``, ``<assignment>:auto`` (the same),
``<assignment>:manual`` (points graders added in the formgrader: written answers, overrides of autograded
cells as their difference, extra credit, read from the gradebook; empty when the gradebook has no such
submission) and ``<assignment>:total`` (auto + manual, what ``nbgrader export`` totals), and one column per
graded item ``<assignment>:<item>``; then ``pending``, ``manual_ungraded`` and ``problems`` (each prefixed with
its assignment). ``manual_ungraded`` lists, per assignment, the cells whose hand grading is not finished (a
written answer without a score, a cell nbgrader flags for review), or "not in the gradebook".
``score`` and ``max_score`` count scored cases only; cases waiting for instructor data (``TestResult.pending``)
are neither given nor taken there: ``pending`` says how many points wait and in which items, e.g. "8 pts:
convnets:experiment", so that ``max_score`` plus the pending points is the assignment's total. The rows come from
each assignment's latest class results (``class_results.json``, written by the pipeline after every run), so
grading one assignment never loses the others' columns.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from assignments import Assignment

from ..atomicio import atomic_write_json, atomic_write_text
from ..results import SubmissionResult
from .gradebook_read import HandGrades

CLASS_RESULTS_FILE = "class_results.json"


def csv_header(records: Sequence[Assignment]) -> list[str]:
    """Column names for these assignments (see the module docstring)."""
    columns = ["student", "score", "max_score"]
    for record in records:
        columns += [record.name, *(f"{record.name}:{part}" for part in ("auto", "manual", "total")),
                    *(f"{record.name}:{item.name}" for item in record.graded_items)]
    return columns + ["pending", "manual_ungraded", "problems"]


def _hand_columns(record: Assignment, auto: float, hand: HandGrades | None) -> tuple[list[str], list[str]]:
    """The manual and total cells of one assignment, and its ``manual_ungraded`` entries."""
    if hand is None:
        return ["", _number(auto)], ([f"{record.name}: not in the gradebook"] if record.manual_items else [])
    waiting = [f"{record.name}:{grade_id}" for grade_id in hand.ungraded]
    return [_number(hand.manual), _number(auto + hand.manual)], waiting


def _number(value: float) -> str:
    # "10" rather than "10.0", and no binary noise such as 7.000000000000001.
    return f"{round(value, 6):g}"


def grades_csv(results: Mapping[str, Sequence[SubmissionResult]], records: Sequence[Assignment],
               hand: Mapping[str, Mapping[str, HandGrades]] | None = None) -> str:
    """The CSV text: ``results`` maps an assignment name to its students' results; rows sorted by student id.

    ``hand`` maps an assignment name to student -> HandGrades read from the gradebook
    (``gradebook_read.hand_grades``); a student missing there is "not in the gradebook".
    A student without a result for an assignment gets empty cells there (and its points count 0 of the
    assignment's total); an item a result has no test for gets 0.
    """
    hand = hand or {}
    by_student: dict[str, dict[str, SubmissionResult]] = {}
    for record in records:
        for result in results.get(record.name, ()):
            by_student.setdefault(result.student, {})[record.name] = result
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(csv_header(records))
    for student in sorted(by_student):
        row, score, top, problems, pending, waiting, ungraded = [], 0.0, 0.0, [], 0.0, [], []
        for record in records:
            result = by_student[student].get(record.name)
            top += result.max_score if result else record.total_autograded_points
            if result is None:
                row += [""] * (4 + len(record.graded_items))
                continue
            score += result.score
            items = result.item_scores()
            by_hand, unfinished = _hand_columns(record, result.score, hand.get(record.name, {}).get(student))
            ungraded += unfinished
            row += [_number(result.score), _number(result.score), *by_hand,
                    *(_number(items.get(item.name, (0.0, 0.0))[0]) for item in record.graded_items)]
            problems += [f"{record.name}: {problem}" for problem in result.problems]
            for item, points in result.item_pending_points().items():
                pending += points
                waiting.append(f"{record.name}:{item}")
        marked = f"{_number(pending)} pts: {', '.join(waiting)}" if waiting else ""
        writer.writerow([student, _number(score), _number(top), *row, marked, ", ".join(ungraded),
                         " | ".join(problems)])
    return buffer.getvalue()


def write_class_results(results: Sequence[SubmissionResult], path: Path) -> None:
    """Store one assignment's latest class results (the input of ``grades.csv``)."""
    atomic_write_json(path, [r.to_dict() for r in sorted(results, key=lambda r: r.student)])


def read_class_results(path: Path) -> list[SubmissionResult]:
    """The results stored by ``write_class_results`` (empty if the file is missing)."""
    if not path.is_file():
        return []
    return [SubmissionResult.from_dict(document) for document in json.loads(path.read_text(encoding="utf-8"))]


def write_grades_csv(grades_dir: Path, records: Sequence[Assignment],
                     hand: Mapping[str, Mapping[str, HandGrades]] | None = None) -> dict[str, list[SubmissionResult]]:
    """Write ``grades_dir/grades.csv`` from every assignment's ``grades_dir/<assignment>/class_results.json``
    and the gradebook's ``hand`` grades (see ``grades_csv``); returns those results (assignment name -> results,
    only assignments that have some)."""
    results = {r.name: read_class_results(Path(grades_dir) / r.name / CLASS_RESULTS_FILE) for r in records}
    present = [r for r in records if results[r.name]]
    atomic_write_text(Path(grades_dir) / "grades.csv", grades_csv(results, present, hand))
    return {r.name: results[r.name] for r in present}
