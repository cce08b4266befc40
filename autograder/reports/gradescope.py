"""Gradescope's `results.json` for one student.

Field names follow Gradescope's autograder specification: top level `score`, `execution_time`, `output`,
`visibility`, `stdout_visibility`, `tests`; each test `name`, `score`, `max_score`, `status`, `output`, `tags`,
`visibility`, `number`. A hidden case is hidden in its data, not in its existence: its text names only what it
checked, so by default Gradescope shows it (Gradescope's own "hidden" would hide the test whole, name included)
with the tag "hidden case". The Gradescope autograder passes ``hidden_visibility`` (default there:
"after_published") to show hidden cases only once the instructor publishes the grades. Other visibilities
pass through.

Gradescope knows only passed and failed tests, so a pending test (not scorable for lack of instructor data)
is written with score 0 and max_score 0, so that it neither gives nor takes points, no ``status``, the tag
"pending", a name ending in "(pending, <points> pts)", and an output that starts with "Pending"; the top-level
output adds "pending <points> pts".
"""
from __future__ import annotations

from pathlib import Path

from ..atomicio import atomic_write_json
from ..results import SubmissionResult, TestResult


def _test_output(test: TestResult) -> str:
    lines = [test.message]
    if test.expected or test.got:
        lines.append(f"Expected: {test.expected}")
        lines.append(f"Got: {test.got}")
    if test.hint:
        lines.append(f"Hint: {test.hint}")
    return "\n".join(line for line in lines if line)


def _test_numbers(result: SubmissionResult) -> list[str]:
    """Gradescope's `number` per test: "<item index>.<test index within the item>", both from 1."""
    items: dict[str, int] = {}
    counts: dict[str, int] = {}
    numbers = []
    for test in result.tests:
        items.setdefault(test.item, len(items) + 1)
        counts[test.item] = counts.get(test.item, 0) + 1
        numbers.append(f"{items[test.item]}.{counts[test.item]}")
    return numbers


def _test_entry(test: TestResult, number: str, hidden_visibility: str) -> dict:
    entry = {
        "name": test.name,
        "number": number,
        "score": test.score,
        "max_score": test.max_score,
        "status": test.status,
        "output": _test_output(test),
        "tags": [test.item, "hidden case"] if test.visibility == "hidden" else [test.item],
        "visibility": hidden_visibility if test.visibility == "hidden" else test.visibility,
    }
    if test.pending:
        del entry["status"]
        entry.update(name=f"{test.name} (pending, {test.max_score:g} pts)", score=0.0, max_score=0.0,
                     output="Pending: not scored yet.\n" + entry["output"], tags=[*entry["tags"], "pending"])
    return entry


def gradescope_results(result: SubmissionResult, hidden_visibility: str = "visible") -> dict:
    """Build the results.json document of one student.

    Parameters
    ----------
    result : SubmissionResult
        The graded submission.
    hidden_visibility : str
        Gradescope visibility given to hidden cases ("visible", "after_published", "after_due_date", "hidden").

    Returns
    -------
    dict
        JSON-ready: `score` (sum of test scores; pending tests add nothing), `execution_time` (seconds, int), `output` (summary and
        submission problems), `visibility`, `stdout_visibility`, and `tests` (one entry per TestResult).
    """
    summary = [f"Autograded score: {result.score:g} / {result.max_score:g}"
               + (f" (pending {result.pending_points:g} pts, not scored yet)" if result.pending_points else "")]
    if result.problems:
        summary.append("Problems with this submission:")
        summary.extend(f"- {problem}" for problem in result.problems)
    tests = [_test_entry(test, number, hidden_visibility)
             for test, number in zip(result.tests, _test_numbers(result))]
    return {
        "score": result.score,
        "execution_time": int(round(result.seconds)),
        "output": "\n".join(summary),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def write_gradescope_results(result: SubmissionResult, path: Path) -> None:
    """Write `gradescope_results(result)` to `path` atomically."""
    atomic_write_json(path, gradescope_results(result))
