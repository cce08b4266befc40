"""``grades/gradebook_marks.json``: the auto scores the kit last wrote into the gradebook, to notice another writer.

`make grade` (and `nbgrader autograde` through the kit's hook, ``autograder/nbgrader_hooks.py``) record here,
per assignment and student, the auto score of every ``test_<item>`` cell they wrote. Before the next write
`make grade` compares the gradebook with these marks: a different score, or a student the kit never wrote,
means some other tool wrote the gradebook since (e.g. nbgrader's own autograde without this course's
nbgrader_config.py), and the instructor is told which students and cells before the kit's scores replace them.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from ..atomicio import atomic_write_json

MARKS_FILE = "gradebook_marks.json"
TOLERANCE = 1e-6

Scores = Mapping[str, Mapping[str, "float | None"]]  # student -> grade id -> auto score


def read_marks(grades_dir: Path) -> dict[str, dict[str, dict[str, float | None]]]:
    """Assignment -> student -> grade id -> the auto score the kit wrote; empty if there is no readable file."""
    try:
        marks = json.loads((Path(grades_dir) / MARKS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return marks if isinstance(marks, dict) else {}


def update_marks(grades_dir: Path, assignment: str, written: Scores) -> None:
    """Record that the kit wrote ``written`` (student -> grade id -> auto score) for ``assignment``; other
    students and assignments keep their marks."""
    marks = read_marks(grades_dir)
    marks.setdefault(assignment, {}).update({student: dict(scores) for student, scores in written.items()})
    atomic_write_json(Path(grades_dir) / MARKS_FILE, marks)


def _differs(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return (a is None) != (b is None)
    return abs(a - b) > TOLERANCE


def _text(value: float | None) -> str:
    return "none" if value is None else f"{value:g}"


def foreign_writes(marks: Scores, current: Scores) -> dict[str, list[str]]:
    """Student -> descriptions of the cells whose gradebook auto score is not what the kit wrote.

    Only students with an auto score in ``current`` count; one the kit never wrote for is reported whole
    ("not written by the kit"), provided the kit has written marks for this assignment at all.
    """
    found: dict[str, list[str]] = {}
    for student, scores in sorted(current.items()):
        if all(value is None for value in scores.values()):
            continue
        if student not in marks:
            if marks:
                found[student] = ["auto scores not written by the kit"]
            continue
        changed = [f"{cell}: {_text(value)} in the gradebook, {_text(marks[student].get(cell))} written by the kit"
                   for cell, value in sorted(scores.items()) if _differs(value, marks[student].get(cell))]
        if changed:
            found[student] = changed
    return found


def foreign_writes_message(assignment: str, found: Mapping[str, list[str]]) -> str:
    """The instructor's note for ``foreign_writes`` output (empty string when nothing was found)."""
    if not found:
        return ""
    listed = "; ".join(f"{student} ({', '.join(cells)})" for student, cells in found.items())
    return (f"the gradebook's auto scores of {assignment} were written by another tool since the kit last wrote "
            f"them ({MARKS_FILE}): {listed}. nbgrader autograde with this course's nbgrader_config.py writes the kit's "
            f"scores; this run writes them again for every student it records.")
