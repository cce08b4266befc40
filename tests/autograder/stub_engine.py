"""A stand-in for autograder.engine.grade_submission, for testing the class-level pipeline on its own.

It never runs student code. Each fixture notebook says in its metadata what the stub should report:
``metadata["stub"] = {"fractions": {item: fraction of points}, "message": text}``. The stub makes two tests per
graded item (a visible one and a hidden one, half the points each) so that reports see both visibilities.
StubSettings.control lets a test count calls across processes, make one student hang, crash the grader, or
kill its process.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from assignments.convnets import CONVNETS, EXPERIMENT_FILE
from autograder.results import GRADING_ERROR, SubmissionResult, TestResult


@dataclass(frozen=True)
class StubSettings:
    """control: a directory steering the stub without changing the settings (and so the cache key).

    control/calls/: each call leaves a file named after the student; a file control/hang_<student>,
    control/crash_<student> or control/die_<student> makes that student's grading hang, raise, or kill its
    process; control/grading_error_<student> marks the student's hidden tests "grading error: regrade". `version` stands for any change of the real grader's settings.
    """

    control: str = ""
    version: int = 1
    assignment: str = "convnets"


def stub_grade_submission(notebook_path: Path, student: str, settings: StubSettings,
                          files: dict[str, Path] | None = None) -> SubmissionResult:
    control = Path(settings.control) if settings.control else None
    if control is not None:
        (control / "calls").mkdir(parents=True, exist_ok=True)
        (control / "calls" / f"{student}.{time.monotonic_ns()}").write_text("called")
        if (control / f"hang_{student}").exists():
            time.sleep(3600)
        if (control / f"crash_{student}").exists():
            raise RuntimeError("stub grader bug")
        if (control / f"die_{student}").exists():
            os._exit(3)
    result = SubmissionResult(student=student, assignment=CONVNETS.name, seconds=1.25)
    try:
        stub = json.loads(Path(notebook_path).read_text(encoding="utf-8"))["metadata"].get("stub", {})
    except (ValueError, KeyError):
        result.problems.append("the notebook is not valid JSON")
        stub = {"fractions": {}}
    message = stub.get("message", "")
    for graded in CONVNETS.graded_items:
        fraction = stub.get("fractions", {}).get(graded.name, 0.0)
        if not graded.runs_code and graded.file in (files or {}):
            fraction = 1.0
        half = graded.points / 2
        result.tests.append(TestResult(
            name=f"{graded.name}: public fixed-value case", item=graded.name, score=half * (fraction >= 0.5),
            max_score=half, message=message, expected="shape (2, 3, 4, 4), max rel error < 1e-7",
            got="shape (2, 3, 4, 4), max rel error 3e-9", hint="check the padding"))
        result.tests.append(TestResult(
            name=f"{graded.name}: stride 2, non-square filter", item=graded.name, score=half * (fraction >= 1.0),
            max_score=half, message="hidden case", visibility="hidden"))
    if control is not None and (control / f"grading_error_{student}").exists():
        for test in result.tests:
            if test.visibility == "hidden":
                test.score, test.grading_error = 0.0, "the worker could not be started (stub)"
                test.message = f"{GRADING_ERROR} ({test.grading_error})"
    return result


def write_submission(course: Path, student: str, fractions: dict[str, float] | None = None, message: str = "",
                     notebook_name: str = CONVNETS.notebook, experiment: bool = False) -> Path:
    """Write submitted/<student>/<assignment>/<notebook_name> carrying the stub's instructions."""
    folder = course / "submitted" / student / CONVNETS.name
    folder.mkdir(parents=True, exist_ok=True)
    notebook = nbformat.v4.new_notebook(metadata={"stub": {"fractions": fractions or {}, "message": message}})
    cell = nbformat.v4.new_code_cell("print('hello')")
    cell.id = "only-cell"
    notebook.cells.append(cell)
    path = folder / notebook_name
    path.write_text(nbformat.writes(notebook), encoding="utf-8")
    if experiment:
        (folder / EXPERIMENT_FILE).write_bytes(b"not really an npz")
    return path


def all_items(fraction: float) -> dict[str, float]:
    """The same fraction for every graded item except the experiment (which needs its npz file)."""
    return {graded.name: fraction for graded in CONVNETS.graded_items if graded.runs_code}
