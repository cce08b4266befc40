"""grades.csv: one row per student with the total and the score of every graded item."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from assignments import Assignment

from ..atomicio import atomic_write_text
from ..results import SubmissionResult


def csv_header(assignment: Assignment) -> list[str]:
    """Column names: student, score, max_score, one column per graded item (record order), problems."""
    return ["student", "score", "max_score", *(item.name for item in assignment.graded_items), "problems"]


def _number(value: float) -> str:
    # "10" rather than "10.0", and no binary noise such as 7.000000000000001.
    return f"{round(value, 6):g}"


def grades_csv(results: list[SubmissionResult], assignment: Assignment) -> str:
    """The CSV text for `results`, rows sorted by student id.

    An item a submission has no test for gets 0; submission-level problems are joined with " | ".
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(csv_header(assignment))
    for result in sorted(results, key=lambda r: r.student):
        items = result.item_scores()
        writer.writerow([result.student, _number(result.score), _number(result.max_score),
                         *(_number(items.get(item.name, (0.0, 0.0))[0]) for item in assignment.graded_items),
                         " | ".join(result.problems)])
    return buffer.getvalue()


def write_grades_csv(results: list[SubmissionResult], path: Path, assignment: Assignment) -> None:
    """Write `grades_csv(results, assignment)` to `path` atomically."""
    atomic_write_text(path, grades_csv(results, assignment))
