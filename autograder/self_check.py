"""The notebook's self-check: ``check("conv_forward_naive")`` runs that item's public cases in the student's own
kernel and prints, for every case, the lines its row of ``feedback.html`` would show.

`make source` ships this module, with copies of the grader's own ``checks``, ``judging``, ``results``,
``feedback_text``, ``public_cases`` and the worker's ``interpreter`` and ``tripwire``, as
``<package>/selfcheck/`` next to the notebook, together with the public cases (``public_cases``: the visible
cases only, prepared from the reference). The cases run through the same programs and are judged by the same
code as in ``make grade``, so a visible case says here exactly what the grader will say about it. It is
informative only: the grade is computed by ``make grade``, outside the student's process, with the hidden cases
as well.
"""
from __future__ import annotations

import inspect
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import public_cases
from .checks import INPUT_PREFIX, Output, inputs_read_back
from .feedback_text import case_lines, format_points
from .judging import call_failed, judge
from .results import TestResult
from .sandbox.untrusted.interpreter import describe_error, run_ops
from .sandbox.untrusted.tripwire import disable_modules, forbid_classes

HERE = Path(__file__).resolve().parent


@dataclass
class SelfCheck:
    """The results of one ``check`` call: one ``TestResult`` per public case of ``item``."""

    item: str
    results: list[TestResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Every public case passed (hidden cases, run only by the grader, may still fail)."""
        return bool(self.results) and all(r.passed for r in self.results)

    @property
    def failed(self) -> list[TestResult]:
        return [r for r in self.results if not r.passed]

    def report(self) -> str:
        """What ``check`` prints: a heading, every case's lines, and a summary."""
        earned = sum(r.score for r in self.results)
        possible = sum(r.max_score for r in self.results)
        lines = [f"{self.item}: {len(self.results)} public case(s), the visible cases of the grader "
                 "(it also runs hidden cases: the same rules on other data)"]
        for result in self.results:
            lines += case_lines(result)
        lines.append(f"{self.item}: {len(self.results) - len(self.failed)} of {len(self.results)} public cases "
                     f"passed ({format_points(earned)} / {format_points(possible)} pts of the visible cases)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"SelfCheck({self.item!r}: {len(self.results) - len(self.failed)} of {len(self.results)} passed)"


def _read_npy(path: Path, meta: dict) -> Output:
    """One array file as the grader reads it: a float64 array, its own dtype and shape added to ``meta``."""
    loaded = np.load(path, allow_pickle=False)
    return Output(loaded.astype(np.float64), {**meta, "dtype": str(loaded.dtype), "shape": list(loaded.shape)})


def _load_outputs(folder: Path, metadata: dict) -> dict[str, Output]:
    """What the programs wrote, as the grader reads it: float64 arrays, dtype and shape from each file."""
    outputs = {}
    for name, meta in metadata.items():
        path = folder / f"{name}.npy"
        if not meta.get("error") and "keys" not in meta and path.is_file():
            outputs[name] = _read_npy(path, meta)
        else:
            outputs[name] = Output(None, dict(meta))
    return outputs


def run_case(case: public_cases.PublicCase, namespace: dict) -> TestResult:
    """One public case run against ``namespace`` (the notebook's globals) and judged as the grader judges it."""
    result = TestResult(case.name, case.item, 0.0, case.points, visibility="visible")
    previous = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="selfcheck-") as scratch:
        folder = Path(scratch)
        inputs = folder / "in" / case.case_id
        inputs.mkdir(parents=True)
        for name, array in case.inputs.items():
            np.save(inputs / f"{name}.npy", array, allow_pickle=False)
        (folder / "out").mkdir()
        metadata: dict = {}
        try:  # the grader's tripwires for a barebones or naive item, removed again after the case
            restore_classes = forbid_classes(case.forbidden, case.item)
        except Exception as error:  # the framework itself cannot be imported: nothing can be checked
            return call_failed(result, "could not install the tripwire: " + describe_error(error))
        restore_modules = disable_modules(case.disabled_modules, namespace)
        os.chdir(folder)
        try:
            for ops in (case.ops, case.aux_ops):
                try:
                    run_ops(ops, namespace, {}, "out", metadata)
                except Exception as error:  # the student's code failing is this case's result
                    if ops is case.ops:
                        return call_failed(result, describe_error(error))
        finally:
            os.chdir(previous)
            restore_modules()
            restore_classes()
        outputs = _load_outputs(folder / "out", metadata)
        for name in inputs_read_back(case.checks):  # the input files the calls were handed, as they are now
            outputs[INPUT_PREFIX + name] = _read_npy(inputs / f"{name}.npy", {})
    return judge(result, case.checks, outputs)


def check(item: str, namespace: dict | None = None, folder: str | Path | None = None,
          quiet: bool = False) -> SelfCheck:
    """Run the public cases of ``item`` on your own code and print what the grader would say about each.

    Parameters
    ----------
    item : str
        A graded function or class of the notebook, e.g. ``"conv_forward_naive"``.
    namespace : dict, optional
        Where your definitions live (default: the globals of the caller, i.e. the notebook).
    folder : str or Path, optional
        The folder holding ``public_cases.json`` and ``.npz`` (default: this package).
    quiet : bool
        Do not print; only return the results.

    Returns
    -------
    SelfCheck
        One ``TestResult`` per public case; ``.passed`` is True when every one passed.

    Raises
    ------
    KeyError
        ``item`` has no public cases (the message lists the items that have).
    """
    if namespace is None:
        namespace = inspect.currentframe().f_back.f_globals
    folder = Path(folder) if folder is not None else HERE
    cases = public_cases.load(folder, item)
    if not cases:
        raise KeyError(f"no public cases for {item!r}; the self-check knows: {', '.join(public_cases.items(folder))}")
    outcome = SelfCheck(item, [run_case(case, namespace) for case in cases])
    if not quiet:
        print(outcome.report())
    return outcome
