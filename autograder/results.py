"""Result records of grading: small dataclasses that every reporter reads.

A failing check is recorded here, never raised: one broken test must not stop the others.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Literal

Visibility = Literal["visible", "hidden", "after_due_date", "after_published"]
GRADING_ERROR = "grading error: regrade"


@dataclass
class TestResult:
    """The outcome of one check of one graded item.

    name: starts with the graded item's name, then what was checked,
        e.g. "conv_backward_naive: stride 2, pad 1, 3x5 filter".
    item: the graded item's name (assignments.GradedItem.name).
    score, max_score: points earned and available.
    passed: True when score == max_score.
    expected, got: short human-readable descriptions (shapes, dtypes, error sizes), never hidden data.
    message: why it scored what it scored, for the student.
    hint: what to look at next (may be empty).
    visibility: Gradescope visibility; hidden tests describe what they checked without their data.
    grading_error: non-empty when the grader itself failed to run this test (a worker that could not start, a
        limit of the machine's, an internal error): the result says nothing about the student's code and is
        to be regraded (``GRADING_ERROR`` starts its message).
    pending: the case could not be scored for lack of instructor data (e.g. no held-out set configured); its
        points are neither given nor taken: score stays 0, and totals count them apart (``pending_points``),
        not in ``max_score``. A pending test is neither passed nor failed (``status``).
    """

    name: str
    item: str
    score: float
    max_score: float
    message: str = ""
    expected: str = ""
    got: str = ""
    hint: str = ""
    visibility: Visibility = "visible"
    grading_error: str = ""
    pending: bool = False

    @property
    def passed(self) -> bool:
        return not self.pending and self.score >= self.max_score

    @property
    def checked(self) -> str:
        """What was checked: the name after "<item>: " (the whole name if it has no such prefix)."""
        prefix = f"{self.item}: "
        return self.name[len(prefix):] if self.name.startswith(prefix) else self.name

    @property
    def status(self) -> Literal["passed", "failed", "pending"]:
        return "pending" if self.pending else "passed" if self.passed else "failed"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SubmissionResult:
    """Everything graded for one student's notebook.

    problems: submission-level issues (unreadable file, tampered cells, ...) shown at the top of the feedback.
    log: notes for the instructor (isolation level used, hidden-test seed); not student feedback.
    """

    student: str
    assignment: str
    tests: list[TestResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    log: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(t.score for t in self.tests)

    @property
    def max_score(self) -> float:
        """Points of the scored tests; pending tests' points are in ``pending_points`` instead."""
        return sum(t.max_score for t in self.tests if not t.pending)

    @property
    def pending_points(self) -> float:
        """Points of the tests that wait for instructor data (neither given nor taken)."""
        return sum(t.max_score for t in self.tests if t.pending)

    @property
    def needs_regrade(self) -> bool:
        """Whether some test could not be run for a reason of the grader's (see ``TestResult.grading_error``)."""
        return any(t.grading_error for t in self.tests)

    def item_scores(self) -> dict[str, tuple[float, float]]:
        """Graded item name -> (score, max score of its scored tests), in test order."""
        totals: dict[str, tuple[float, float]] = {}
        for t in self.tests:
            got, top = totals.get(t.item, (0.0, 0.0))
            totals[t.item] = (got + t.score, top + (0.0 if t.pending else t.max_score))
        return totals

    def item_pending_points(self) -> dict[str, float]:
        """Graded item name -> points of its pending tests (items with none are left out)."""
        pending: dict[str, float] = {}
        for t in self.tests:
            if t.pending:
                pending[t.item] = pending.get(t.item, 0.0) + t.max_score
        return pending

    @classmethod
    def from_dict(cls, document: dict) -> "SubmissionResult":
        """Rebuild a result from ``to_dict()`` output (the cache and class-results format)."""
        names = {f.name for f in fields(TestResult)}
        tests = [TestResult(**{k: v for k, v in t.items() if k in names}) for t in document["tests"]]
        return cls(student=document["student"], assignment=document["assignment"], tests=tests,
                   problems=list(document.get("problems", [])), seconds=float(document.get("seconds", 0)),
                   log=list(document.get("log", [])))

    def to_dict(self) -> dict:
        return {
            "student": self.student,
            "assignment": self.assignment,
            "score": self.score,
            "max_score": self.max_score,
            "pending_points": self.pending_points,
            "seconds": self.seconds,
            "problems": list(self.problems),
            "log": list(self.log),
            "tests": [t.to_dict() for t in self.tests],
        }
