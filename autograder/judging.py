"""One case's checks turned into its ``TestResult``: the message, expected/got and hint a student reads.

Shared by the grader (``engine``, on what a worker returned) and the notebook's self-check (``self_check``, on
what the student's own kernel returned), so both say the same thing about the same outputs. Imports only
``checks`` and ``results`` (NumPy and the standard library), because ``make source`` ships a copy of it with
the self-check.
"""
from __future__ import annotations

from .checks import FunctionCheck, Verdict
from .results import TestResult


def judge(result: TestResult, checks, outputs: dict, hidden: bool = False, reveal_hidden: bool = False) -> TestResult:
    """Fill ``result`` from every check's verdict on ``outputs``: all must pass for the points.

    Parameters
    ----------
    result : TestResult
        The case's result with score 0 and its points as ``max_score``; filled in place and returned.
    checks : list
        The case's checks (``autograder.checks``), each with ``evaluate(outputs) -> Verdict``.
    outputs : dict of str to Output
        What the student's code returned, loaded as float64 arrays with their own dtype in the metadata.
    hidden, reveal_hidden : bool
        A hidden case's ``FunctionCheck`` says only "not as expected" unless ``reveal_hidden``.
    """
    verdicts: list[Verdict] = []
    for check in checks:
        try:
            verdict = check.evaluate(outputs)
        except Exception as error:  # a malformed output must not stop grading
            verdict = Verdict(False, getattr(check, "label", "check"), message=f"could not check: {error}")
        if hidden and not reveal_hidden and isinstance(check, FunctionCheck) and not verdict.ok:
            verdict = Verdict(False, verdict.label, message=f"{verdict.label}: not as expected", hint=verdict.hint)
        verdicts.append(verdict)
    failed = [v for v in verdicts if not v.ok]
    if not failed:
        fraction = min([min(max(float(v.fraction), 0.0), 1.0) for v in verdicts] or [1.0])
        # Full points stay exact (a rounded share would not add up to the item's points).
        result.score = result.max_score if fraction == 1.0 else round(result.max_score * fraction, 3)
        result.message = (("passed: " if fraction == 1.0 else f"partial credit ({fraction:.0%}): ")
                          + "; ".join(v.message for v in verdicts))
        result.hint = "; ".join(v.hint for v in verdicts if v.fraction < 1.0 and v.hint)
        result.expected = "; ".join(v.expected for v in verdicts if v.expected)
        result.got = "; ".join(v.got for v in verdicts if v.got)
        return result
    result.message = "; ".join(v.message for v in failed[:3]) + (f"; and {len(failed) - 3} more" if len(failed) > 3
                                                                 else "")
    result.expected, result.got, result.hint = failed[0].expected, failed[0].got, failed[0].hint
    return result


def call_failed(result: TestResult, error: str, cell_errors: dict | None = None,
                shown: str | None = None) -> TestResult:
    """Fill ``result`` for a case whose calls raised ``error`` (a traceback whose last line names it); the
    student's own cells that failed (``cell_errors``: label -> error) are mentioned as the likely cause.
    ``shown``: the line the feedback shows instead of the error's last line (a hidden case's bounded line);
    the hint is still chosen from the whole error. The message names the item; the hint says what to do."""
    line = last_line(error) if shown is None else shown
    own = "; ".join(f"{label} failed: {last_line(text)}" for label, text in (cell_errors or {}).items())
    result.message = (f"the call to {result.item} failed: {line or 'no result'}"
                      + (f" (note: your {own})" if own else ""))
    result.got = line
    result.hint = hint_for_error(error, result.item)
    return result


def stopped(result: TestResult, why: str) -> TestResult:
    """Fill ``result`` for a case the grader stopped or could not run because of the submission's process
    (``why``: the grader's own words, e.g. "it used more than 10 s of CPU time"): the message names the item
    and says what happened, the hint what to change."""
    result.message = f"{result.item}: {why}"
    result.got = "stopped by the grader"
    result.hint = hint_for_error(why, result.item)
    return result


def last_line(text: str) -> str:
    """The last non-empty line of ``text``, stripped and at most 500 characters."""
    lines = [line for line in str(text).strip().splitlines() if line.strip()]
    return lines[-1].strip()[:500] if lines else ""


# (words in the error, hint): the first match wins, so the specific causes come before the general ones.
_HINTS = (
    ("kept ending the grading process", "fix the earlier tests of {item} first: each of them ended the process "
                                        "running your code (their messages say how)"),
    ("of CPU time", "look for a loop that never ends, or one far larger than the input: a correct {item} needs a "
                    "small fraction of the limit"),
    ("without computing", "remove sleeps, input() and waits for other processes or threads from {item} and the "
                          "cells it uses"),
    ("wall-clock backstop", "look for a loop that never ends, a sleep, or code far too slow in {item}"),
    ("killed by signal", "look for an array far larger than the input (the memory limit) or a crash in compiled "
                         "code; run {item}'s test cell in a fresh kernel to reproduce it"),
    ("exited with status", "do not call sys.exit(), exit() or os._exit() in {item} or in the cells it needs"),
    ("process itself ended", "run the notebook from a fresh kernel: something in it ends the Python process"),
    ("ended the grading process", "the process running your code ended: look for os._exit, sys.exit, a crash or "
                                  "runaway memory use"),
    ("NotImplementedError", "{item} is not implemented yet"),
    ("is disabled while the naive layers are graded", "write the loops yourself; the fast layers are only for "
                                                      "the later parts of the notebook"),
    ("is disabled while", "build {item} from the framework's raw operations (tensors and functions), not its "
                          "layers"),
    ("timed out", "look for a loop that never ends, or one far larger than the input"),
    ("time limit", "look for a loop that never ends, or one far larger than the input"),
    ("MemoryError", "an array far larger than the input was allocated"),
    ("is not defined", "make sure the cell that defines it runs without errors, from a fresh kernel"),
    ("SystemExit", "do not call sys.exit() or exit() in your code"),
)


def hint_for_error(error: str, item: str) -> str:
    """What to look at for a call that failed with ``error`` (a traceback or message) in ``item``."""
    for words, hint in _HINTS:
        if words in error:
            return hint.format(item=item)
    return "read the error above; run the notebook's own test cell to reproduce it"
