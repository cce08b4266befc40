"""Read scores back from the nbgrader gradebook: the auto scores of the graded items, and what graders added.

nbgrader scores a grade cell as its manual score if a grader gave one, else its auto score, plus any extra
credit; `nbgrader export` sums that. Here, per student of one assignment:
- ``auto_scores``: the auto score of every autograded cell (``test_<item>``), to compare with what `make grade`
  wrote (``gradebook_marks``);
- ``hand_grades``: the points graders added by hand (the written answers' scores, overrides of autograded cells
  as their difference from the auto score, extra credit), and the cells whose hand grading is not finished.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning

from assignments import Assignment


@dataclass(frozen=True)
class HandGrades:
    """What graders added to one student's assignment in the formgrader.

    manual: points added by hand (written answers, overrides' differences, extra credit); with the autograded
        points it makes nbgrader export's score.
    ungraded: grade ids still waiting for a grader: a written answer with no score yet, or any cell nbgrader
        flags ``needs_manual_grade`` (an override to review after a regrade).
    """

    manual: float
    ungraded: tuple[str, ...]


def _grades(db_url: str, course_id: str, record: Assignment):
    """(student id, grades of the assignment's notebook) for every submission in the gradebook."""
    notebook_id = Path(record.notebook).stem
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        with Gradebook(db_url, course_id) as gb:
            try:
                assignment = gb.find_assignment(record.name)
            except MissingEntry:
                return []
            found = []
            for submission in assignment.submissions:
                for notebook in submission.notebooks:
                    if notebook.name == notebook_id:
                        found.append((submission.student.id,
                                      [(g.name, g.auto_score, g.manual_score, g.extra_credit, g.needs_manual_grade)
                                       for g in notebook.grades]))
            return found


def auto_scores(db_url: str, course_id: str, record: Assignment) -> dict[str, dict[str, float | None]]:
    """Student id -> {``test_<item>``: auto score (None if never autograded)} of every submission in the gradebook."""
    autograded = {item.test_cell_id for item in record.graded_items}
    return {student: {name: auto for name, auto, *_ in grades if name in autograded}
            for student, grades in _grades(db_url, course_id, record)}


def hand_grades(db_url: str, course_id: str, record: Assignment) -> dict[str, HandGrades]:
    """Student id -> HandGrades of every submission of the assignment in the gradebook (empty if it has none)."""
    written = {item.name for item in record.manual_items}
    found = {}
    for student, grades in _grades(db_url, course_id, record):
        manual, ungraded = 0.0, []
        for name, auto, by_hand, extra, flagged in grades:
            score = (by_hand if by_hand is not None else (auto or 0.0)) + (extra or 0.0)
            manual += score if name in written else score - (auto or 0.0)
            if flagged or (name in written and by_hand is None and auto is None):
                ungraded.append(name)
        found[student] = HandGrades(manual, tuple(sorted(ungraded)))
    return found
