"""A ``TestResult`` as plain-text lines: the fields of its row in ``feedback.html``, for the notebook's
self-check (``self_check.check``) to print. Imports only ``results``: `make source` ships a copy of it."""
from __future__ import annotations

from .results import TestResult


def format_points(value: float) -> str:
    """Points as feedback.html shows them: at most six decimals, no trailing zeros."""
    return f"{round(value, 6):g}"


def case_lines(test: TestResult) -> list[str]:
    """One case: status, what was checked and the points, then expected, got, the message and the hint
    (each line only when the result has it), as in its row of ``feedback.html``."""
    points = (f"pending {format_points(test.max_score)}" if test.pending
              else f"{format_points(test.score)} / {format_points(test.max_score)}")
    lines = [f"[{test.status}] {test.checked} ({points} pts)"]
    for label, text in (("expected", test.expected), ("got", test.got), ("", test.message), ("Hint", test.hint)):
        if text:
            lines.append(f"    {label + ': ' if label else ''}{text}")
    return lines
