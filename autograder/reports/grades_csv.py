"""grades.csv: one row per student, across every assignment of the course.

Columns: ``student``, ``score`` and ``max_score`` (summed over the assignments), then for each assignment (in
the registry's order) its total ``<assignment>`` and one column per graded item ``<assignment>:<item>``, then
``pending`` and ``problems`` (each prefixed with its assignment). ``score`` and ``max_score`` count scored
cases only; cases waiting for instructor data (``TestResult.pending``) are neither given nor taken there:
``pending`` says how many points wait and in which items, e.g. "8 pts: convnets:experiment", so that
``max_score`` plus the pending points is the assignment's total. The rows come from each assignment's latest class results
(``class_results.json``, written by the pipeline after every run), so grading one assignment never loses the
others' columns.
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

CLASS_RESULTS_FILE = "class_results.json"


def csv_header(records: Sequence[Assignment]) -> list[str]:
    """Column names for these assignments (see the module docstring)."""
    columns = ["student", "score", "max_score"]
    for record in records:
        columns += [record.name, *(f"{record.name}:{item.name}" for item in record.graded_items)]
    return columns + ["pending", "problems"]


def _number(value: float) -> str:
    # "10" rather than "10.0", and no binary noise such as 7.000000000000001.
    return f"{round(value, 6):g}"


def grades_csv(results: Mapping[str, Sequence[SubmissionResult]], records: Sequence[Assignment]) -> str:
    """The CSV text: ``results`` maps an assignment name to its students' results; rows sorted by student id.

    A student without a result for an assignment gets empty cells there (and its points count 0 of the
    assignment's total); an item a result has no test for gets 0.
    """
    by_student: dict[str, dict[str, SubmissionResult]] = {}
    for record in records:
        for result in results.get(record.name, ()):
            by_student.setdefault(result.student, {})[record.name] = result
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(csv_header(records))
    for student in sorted(by_student):
        row, score, top, problems, pending, waiting = [], 0.0, 0.0, [], 0.0, []
        for record in records:
            result = by_student[student].get(record.name)
            top += result.max_score if result else record.total_autograded_points
            if result is None:
                row += [""] * (1 + len(record.graded_items))
                continue
            score += result.score
            items = result.item_scores()
            row += [_number(result.score), *(_number(items.get(item.name, (0.0, 0.0))[0])
                                              for item in record.graded_items)]
            problems += [f"{record.name}: {problem}" for problem in result.problems]
            for item, points in result.item_pending_points().items():
                pending += points
                waiting.append(f"{record.name}:{item}")
        marked = f"{_number(pending)} pts: {', '.join(waiting)}" if waiting else ""
        writer.writerow([student, _number(score), _number(top), *row, marked, " | ".join(problems)])
    return buffer.getvalue()


def write_class_results(results: Sequence[SubmissionResult], path: Path) -> None:
    """Store one assignment's latest class results (the input of ``grades.csv``)."""
    atomic_write_json(path, [r.to_dict() for r in sorted(results, key=lambda r: r.student)])


def read_class_results(path: Path) -> list[SubmissionResult]:
    """The results stored by ``write_class_results`` (empty if the file is missing)."""
    if not path.is_file():
        return []
    return [SubmissionResult.from_dict(document) for document in json.loads(path.read_text(encoding="utf-8"))]


def write_grades_csv(grades_dir: Path, records: Sequence[Assignment]) -> dict[str, list[SubmissionResult]]:
    """Write ``grades_dir/grades.csv`` from every assignment's ``grades_dir/<assignment>/class_results.json``;
    returns those results (assignment name -> results, only assignments that have some)."""
    results = {r.name: read_class_results(Path(grades_dir) / r.name / CLASS_RESULTS_FILE) for r in records}
    present = [r for r in records if results[r.name]]
    atomic_write_text(Path(grades_dir) / "grades.csv", grades_csv(results, present))
    return {r.name: results[r.name] for r in present}
