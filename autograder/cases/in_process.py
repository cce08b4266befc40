"""Run an item's cases in the calling process, against a namespace: the notebook's hidden-test regions.

`make source` renders each code item's ``### BEGIN HIDDEN TESTS`` region as a call to ``check_item``, so the
hidden tests of the instructor's notebook (run by `nbgrader validate` and `nbgrader autograde`) are the very
cases `make grade` runs, from the same tables and with the same checks. What differs is where the code runs:
here, in the notebook's own kernel with no sandbox and no tripwires on the provided fast layers, and which
inputs the hidden cases get: here those of hidden seed 0, since the student's own code shares this kernel and
must never see the grader secret; `make grade` draws each student's own (``autograder.secret``) and remains the
grader of record.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

import assignments

from . import Case, cases_for, prepare
from ..checks import INPUT_PREFIX, Verdict, inputs_read_back
from .ops import with_npy_paths

MAX_OUTPUT_MB = 64


def run_case(assignment: assignments.Assignment, case: Case, namespace: dict,
             hidden_seed: int = 0, settings=None, submitted_file: Path | None = None) -> tuple[bool, str]:
    """Run one case's programs against ``namespace`` and judge the outputs: (passed, why). ``settings`` and
    ``submitted_file``: as the grader would pass them to the item's ``prepare`` (held-out data, the file)."""
    failed = failed_verdicts(assignment, case, namespace, hidden_seed, settings, submitted_file)
    return not failed, "; ".join(v.message for v in failed) or "passed"


def failed_verdicts(assignment: assignments.Assignment, case: Case, namespace: dict, hidden_seed: int = 0,
                    settings=None, submitted_file: Path | None = None) -> list[Verdict]:
    """The failing verdicts (message and hint) of one case run against ``namespace``; empty when it passes."""
    from ..sandbox.files import load_outputs
    from ..sandbox.readback import load_input
    from ..sandbox.untrusted.interpreter import run_ops

    prepared = prepare(assignment, case, hidden_seed, settings, submitted_file)
    with tempfile.TemporaryDirectory(prefix="grader-case-") as scratch:
        folder = Path(scratch)
        for file_name, source in prepared.files.items():
            shutil.copyfile(source, folder / file_name)
        inputs = folder / "in" / case.case_id
        inputs.mkdir(parents=True)
        for name, array in prepared.inputs.items():
            np.save(inputs / f"{name}.npy", np.asarray(array), allow_pickle=False)
        metadata: dict = {}
        previous = os.getcwd()
        os.chdir(folder)
        try:
            for ops in (prepared.ops, prepared.aux_ops):
                os.makedirs("out", exist_ok=True)
                try:
                    run_ops(with_npy_paths(ops, case.case_id), namespace, {}, "out", metadata)
                except Exception as error:  # the student's code failing is this case's result
                    if ops is prepared.ops:
                        return [Verdict(False, case.name, message=f"the call failed: {type(error).__name__}: "
                                                                  f"{error}")]
        finally:
            os.chdir(previous)
        outputs = load_outputs(folder / "out", metadata, MAX_OUTPUT_MB)
        for name in inputs_read_back(prepared.checks):  # the input files the calls were handed, as they are now
            outputs[INPUT_PREFIX + name] = load_input(inputs / f"{name}.npy", None, None)
    return [v for v in (check.evaluate(outputs) for check in prepared.checks) if not v.ok]


def check_item(assignment: str, item: str, namespace: dict, hidden_seed: int = 0) -> float:
    """Run every case of ``item`` against ``namespace``; print one line per case and return the points earned.

    Raises
    ------
    AssertionError
        Some case failed (the message names each failed case and why), so the test cell fails.
    """
    record = assignments.get(assignment)
    earned, failures = 0.0, []
    for case in cases_for(record, item):
        passed, why = run_case(record, case, namespace, hidden_seed)
        earned += case.points if passed else 0.0
        print(f"[{'passed' if passed else 'FAILED'}] {case.name} ({case.points:g} points)"
              + ("" if passed else f": {why}"))
        if not passed:
            failures.append(f"{case.name}: {why}")
    assert not failures, f"{len(failures)} of the grader's cases failed:\n" + "\n".join(failures)
    return earned
