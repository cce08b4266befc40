"""Grade one submitted notebook: ``grade_submission`` is the whole public interface.

One sandboxed worker process per submission (see ``sandbox``) imports NumPy (and the assignment's
``preload``, its framework) once and forks one child per graded item that runs code (see ``sandbox.untrusted.worker``); each child runs the instructor's setup cell and
the student's code, then every case of that item (``cases``). The parent loads the outputs as plain float64
arrays and judges them with ``checks``. A child that dies takes only its own item with it, and the item is
rerun past the cell or case that killed it. Items graded from a submitted file are scored here, in the parent,
by their case module. Nothing a student does makes ``grade_submission`` raise.
"""
from __future__ import annotations

import functools
import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from collections.abc import Mapping
from pathlib import Path

import numpy as np

import assignments
from assignments import Assignment

from . import cases
from .cases import Case, Prepared
from .cases.ops import with_npy_paths
from .checks import INPUT_PREFIX, Output, inputs_read_back
from .judging import call_failed, judge, stopped
from .intake.notebook_reader import (RESAVE, InstructorNotebook, NotebookError, Submission, neutralise_magics,
                                     read_instructor_notebook, read_submission)
from .intake.submitted_files import advice, private_copies
from .results import GRADING_ERROR, SubmissionResult, TestResult
from .secret import fingerprint, hidden_seed, load_or_create_secret
from .student_text import bounded_line, bounded_outputs
from .sandbox import WorkerLimits, WorkerRun, choose_isolation, run_worker
from .sandbox.launch import jail_spec
from .sandbox.files import Budget, Rejected, install_worker, load_outputs, read_status, write_lib
from .sandbox.readback import Written, load_input, written
from .sandbox.status_check import check_status, expected_outputs
from .sandbox.untrusted import protocol
from .settings import COURSE_ROOT, GradingSettings

MAX_ATTEMPTS = 4
GRADER_ERROR_PAUSE_SECONDS = 1.0
UNREADABLE = "\0unreadable"  # marks a status the parent failed to read (a worker forging it fails only itself)
REJECTED = "\0rejected"     # marks what a worker left that breaks the parent's rules (readback.Rejected)
AUX = protocol.AUX_SUFFIX
VISIBLE_LINE_CHARS = 500  # of an error's last line, what a visible case's feedback shows


def grade_submission(notebook_path: Path, student: str, settings: GradingSettings,
                     files: Mapping[str, Path] | None = None,
                     refused: Mapping[str, str] | None = None) -> SubmissionResult:
    """Grade one student's notebook (and the files it carries) against the instructor's cases.

    Parameters
    ----------
    notebook_path : Path
        The submitted notebook. Only this file (and ``files``) is read from the submission.
    student : str
        Student id, copied into the result; with the grader secret (``settings.secret_file``) it decides the
        hidden cases' inputs (``secret.hidden_seed``), the same at every regrade and different for every student.
    settings : GradingSettings
        The assignment (``settings.assignment``), limits, instructor notebook, held-out data, feedback options.
    files : mapping of file name to Path, optional
        The submitted files that items are graded from (``GradedItem.file``), as found by the intake; an item
        whose file is not in the mapping scores zero saying so. Default: look for them next to the notebook.
    refused : mapping of file name to message, optional
        Submitted files refused before they reached this machine (a link or special file in an upload or on the
        machine that packed a Dask task; ``submitted_files.RefusedFile``'s message): graded exactly as a file
        this machine refuses itself (the items graded from it score zero with the message).

    Returns
    -------
    SubmissionResult
        One TestResult per case of every graded item, problems found in the file, timing and a log recording
        the isolation level and which grader secret drew the hidden inputs.

    Raises
    ------
    FileNotFoundError
        Only for the grader's own configuration: the instructor's source notebook is missing.
    SecretError
        The grader secret is garbled, not a regular file or readable by others (a missing one is created).
    IsolationUnavailable
        The machine cannot isolate student code as ``settings.isolation`` requires (the message says what to
        enable); no student code was run.
    """
    started = time.monotonic()
    assignment = assignments.get(settings.assignment)
    result = SubmissionResult(student=student, assignment=assignment.name)
    key = load_or_create_secret(settings.secret_file)
    seed = hidden_seed(key, assignment.name, student)
    result.log.append(f"hidden inputs drawn for this student from the grader secret {fingerprint(key)}")
    notebook_path = Path(notebook_path)
    if files is None:
        files = {g.file: notebook_path.parent / g.file for g in assignment.graded_items if g.file}
    with tempfile.TemporaryDirectory(prefix="grader-submitted-") as private:
        # Every later step reads the grader's own copies of files verified as regular and single-link.
        copies, refused_here = private_copies(files, Path(private), settings.model_file_mb * 1024 * 1024)
        _grade_into(result, assignment, notebook_path, settings, seed, copies, {**(refused or {}), **refused_here})
    result.seconds = time.monotonic() - started
    return result


def _grade_into(result: SubmissionResult, assignment: Assignment, notebook_path: Path, settings: GradingSettings,
                seed: int, files: Mapping[str, Path], refused: Mapping[str, str]) -> None:
    """The body of ``grade_submission``: fills ``result`` from the notebook and the verified ``files``; an
    item graded from a ``refused`` file scores zero with the refusal's message, nothing of it runs."""
    for name, message in sorted(refused.items()):
        items = ", ".join(g.name for g in assignment.graded_items if g.file == name)
        result.problems.append(f"{items} scored zero, everything else was graded as usual: {message}")
    if not settings.source_notebook.is_file():
        raise FileNotFoundError(f"the instructor's source notebook {settings.source_notebook} does not exist; "
                                "run `make source` first (this is a grader configuration error, not the student's)")
    not_run = tuple(g.name for g in assignment.graded_items if not g.runs_code)
    instructor = _instructor(settings.source_notebook, settings.source_notebook.stat().st_mtime_ns, not_run)
    try:
        submission = read_submission(notebook_path, instructor)
    except NotebookError as error:
        result.problems.append(str(error))
        submission = None
    except Exception as error:  # a malformed file must never stop the class's grading
        result.problems.append(f"{notebook_path.name} could not be read as a notebook ({type(error).__name__}: "
                               f"{error}). What you can do: {RESAVE}")
        submission = None
    result.problems.extend(submission.problems if submission else [])
    graded_tests: dict[str, list[TestResult]] = {}
    for graded in assignment.graded_items:
        if graded.file in refused:
            graded_tests[graded.name] = [_zero(c, f"{c.item} scores zero: {refused[graded.file]}",
                                               advice(refused[graded.file]))
                                         for c in cases.cases_for(assignment, graded.name)]
    in_worker = [g.name for g in assignment.graded_items if cases.runs_in_worker(assignment, g.name)
                 and g.name not in graded_tests]
    if submission is None:
        for name in in_worker:
            graded_tests[name] = _unreadable(assignment, name)
    elif in_worker:
        check_isolation(settings)  # before any student code: refuse rather than run it less isolated
        tests, isolation = _grade_items(assignment, in_worker, submission, instructor, settings, seed, files)
        for test in tests:
            graded_tests.setdefault(test.item, []).append(test)
        result.log.append(f"student code ran with isolation level {isolation}")
        regrade = sorted({t.item for t in tests if t.grading_error})
        if regrade:
            reasons = sorted({t.grading_error for t in tests if t.grading_error})
            result.problems.append(f"{GRADING_ERROR}: the grader could not grade {', '.join(regrade)} "
                                   f"({'; '.join(reasons)}); this is not a score of your work, and those "
                                   "tests will be graded again. Nothing for you to do")
        if isolation.startswith("reduced"):
            result.log.append("note: no Linux namespaces (isolation='reduced'): student code ran as nobody, who "
                              "was checked unable to read the course")
    for graded in assignment.graded_items:
        if graded.name in in_worker or graded.name in graded_tests:
            continue
        if submission is None:
            graded_tests[graded.name] = _unreadable(assignment, graded.name)
        else:
            path = files.get(graded.file) if graded.file else None
            graded_tests[graded.name] = cases.score_file(assignment, graded.name, Path(path) if path else None,
                                                         settings)
    for graded in assignment.graded_items:  # results in the record's item order
        result.tests.extend(graded_tests.get(graded.name, []))


def protected_paths(settings: GradingSettings) -> tuple[Path, ...]:
    """What student code must never reach: the course's source folder and this grader's own repository."""
    return (settings.source_notebook.parent.resolve(), COURSE_ROOT)


def check_isolation(settings: GradingSettings) -> str:
    """The isolation level student code will get; raises ``IsolationUnavailable`` (saying what to enable)
    rather than grade with less. Call before a class is graded, to stop at once with that message."""
    return choose_isolation(settings.isolation, protected_paths(settings))


@functools.lru_cache(maxsize=4)
def _instructor(path: Path, mtime_ns: int, not_run: tuple[str, ...]) -> InstructorNotebook:
    return read_instructor_notebook(path, not_run)


def _unreadable(assignment: Assignment, item: str) -> list[TestResult]:
    """Every case of ``item`` at zero, for a notebook that could not be read (the problems say why)."""
    return [_zero(c, f"{item}: the notebook could not be read (see the problems above)", RESAVE)
            for c in cases.cases_for(assignment, item)]


def _zero(case: Case, message: str, hint: str = "") -> TestResult:
    return TestResult(case.name, case.item, 0.0, case.points, message=message, hint=hint,
                      visibility="visible" if case.visibility == "visible" else "hidden")


# ----------------------------------------------------------------------------------------------- workers

@dataclass
class _CaseOutcome:
    ok: bool
    error: str
    outputs: dict[str, Output]
    hint: str = ""   # set only when the parent refused the item (``_reject``): ``error`` is then the whole message
    by_grader: bool = False  # ``error`` is the grader's own words (else the worker's report: student-controlled)


@dataclass
class _ItemState:
    """What is known about one item across worker attempts."""

    name: str
    cases: list
    prepared: dict
    own_labels: set
    outcomes: dict = field(default_factory=dict)       # case id -> _CaseOutcome
    aux_outputs: dict = field(default_factory=dict)    # case id -> outputs of the forward-pass helpers
    cell_errors: dict = field(default_factory=dict)    # own cell label -> error
    skip_cells: list = field(default_factory=list)
    done: bool = False
    grader_error: str = ""                             # why the last attempt could not run it (not the student)
    budget: Budget | None = None                       # what the parent still loads of this item's outputs

    def jobs(self) -> list[tuple[str, str]]:
        """(job id, case id) still to run: main programs first, then the helper programs."""
        jobs = [(c.case_id, c.case_id) for c in self.cases if c.case_id not in self.outcomes]
        return jobs + [(c.case_id + AUX, c.case_id) for c in self.cases
                       if self.prepared[c.case_id].aux_ops and c.case_id not in self.aux_outputs]


def _grade_items(assignment: Assignment, items: list[str], submission: Submission, instructor: InstructorNotebook,
                 settings: GradingSettings, seed: int, files: Mapping[str, Path] | None = None
                 ) -> tuple[list[TestResult], str]:
    """Grade every item that runs code; one worker child per item, restarted past what killed it.

    An item that names a submitted file gets a copy of it (regular files up to ``settings.file_mb``) in its
    directory; a missing or refused file is simply absent there, and the item's cases say so. The cases of an
    item graded from a file (kind "file" with a ``prepare``) also get the file's path in ``prepare``, so the
    parent checks it before any student code opens it.
    """
    states = []
    submission_budget = Budget(settings.submission_output_mb * 1024 * 1024, "one submission")
    for name in items:
        item_cases = cases.cases_for(assignment, name)
        graded = assignment.item(name)
        path = (files or {}).get(graded.file) if graded.file else None
        path = Path(path) if path else None
        states.append(_ItemState(name, list(item_cases),
                                 {c.case_id: cases.prepare(assignment, c, seed, settings, path) for c in item_cases},
                                 {cell.label for cell in submission.cells if cell.grade_id == name},
                                 budget=Budget(settings.item_output_mb * 1024 * 1024, f"the item {name}")))
    cells = [{"label": c.label, "source": c.source} for c in submission.cells]
    isolation = ""
    killers: list[str] = []  # cells that ended a process at top level: every item's rerun skips them
    for attempt in range(MAX_ATTEMPTS):
        pending = [st for st in states if not st.done and st.jobs()]
        if not pending:
            break
        for state in pending:
            state.skip_cells = [label for label in killers if label not in state.own_labels]
        if any(st.grader_error for st in pending):
            time.sleep(GRADER_ERROR_PAUSE_SECONDS)  # a limit of the machine's may be passing: give it a moment
        try:
            run, started, statuses, endings, outputs = _run_batch(assignment, pending, cells, instructor, settings,
                                                                  files or {}, submission_budget)
        except OSError as error:  # the grader's own files (a full disk, say): nothing the student did
            for state in pending:
                state.grader_error = f"the grader could not prepare the worker ({type(error).__name__}: {error})"
            continue
        isolation = run.isolation
        batch_error = _batch_grader_error(run, started)
        for state in pending:
            ending = endings.get(state.name)
            state.grader_error = batch_error or (ending.get("grader_error", "") if isinstance(ending, dict) else "")
            if state.grader_error:
                continue
            status = statuses.get(state.name, {})
            if REJECTED in status:
                _reject(state, status[REJECTED])
                continue
            try:
                if UNREADABLE in status:
                    raise ValueError(status[UNREADABLE])
                killer = _absorb(state, status, outputs.get(state.name, {}),
                                 _describe_death(ending, run, settings), last=attempt + 1 == MAX_ATTEMPTS)
            except Exception as error:  # what the worker left made the grader fail: that item only
                _reject(state, f"the grader could not read what this item's process left ({error})")
                killer = None
            if killer and killer not in killers:
                killers.append(killer)
    tests = []
    for state in states:
        for case in state.cases:
            if state.grader_error and case.case_id not in state.outcomes:
                tests.append(_grading_error(case, state.grader_error))
                continue
            outcome = state.outcomes.get(case.case_id) or _CaseOutcome(
                False, "not run: earlier tests of this item kept ending the grading process", {}, by_grader=True)
            outcome.outputs = {**state.aux_outputs.get(case.case_id, {}), **outcome.outputs}
            tests.append(_judge(case, state.prepared[case.case_id], outcome, state.cell_errors, settings))
    return tests, isolation


def rejection_message(item: str, reason: str) -> tuple[str, str]:
    """(message, hint) a student reads when the parent refused what an item's process left
    (``readback.Rejected``): what happened, naming the item, and what to do about it."""
    message = (f"{item} scores zero: the grader refused what this item's grading process left behind: {reason}. "
               "The grader reads only plain files its own worker writes, under the names, types and sizes the tests "
               f"asked for; only {item} is affected, every other item is graded as usual")
    hint = ("remove any code that creates, links, replaces or floods files in the working folder, or that changes "
            "how results are saved or reported (patching numpy, json or the grader's own functions); let the "
            "function simply return its result, then run the notebook's own test cell again")
    return message, hint


def _reject(state: _ItemState, reason: str) -> None:
    """Score every case of the item zero, results of earlier attempts included: the item's process broke the
    rules, so none of what it reported is believed."""
    message, hint = rejection_message(state.name, reason)
    state.outcomes = {case.case_id: _CaseOutcome(False, message, {}, hint=hint) for case in state.cases}
    state.aux_outputs.clear()
    state.done = True


def _batch_grader_error(run: WorkerRun, started: bool) -> str:
    """Why a whole worker could not grade anything for a reason of the grader's, or "" (it ran)."""
    last_line = (run.stderr.strip().splitlines() or ["no message"])[-1][:300]
    if run.returncode is None:
        return f"the worker could not be started ({last_line})"
    if not started:
        return f"the worker ended before it could start any item (exit status {run.returncode}: {last_line})"
    return ""


def _grading_error(case: Case, reason: str) -> TestResult:
    return TestResult(case.name, case.item, 0.0, case.points, message=f"{GRADING_ERROR} ({reason})",
                      hint="this is the grader's fault, not yours: your instructor will regrade it",
                      visibility="visible" if case.visibility == "visible" else "hidden", grading_error=reason)


def _absorb(state: _ItemState, status: dict, outputs: dict, death: str, last: bool) -> str | None:
    """Record one attempt's results for an item and decide whether it needs another attempt.

    Returns the label of a cell (not the item's own) that ended the process, so every rerun skips it.
    """
    if not (status.get("cells") or status.get("cases") or status.get("running")) and not last:
        return None  # never started (the process running it ended first): simply try again
    for record in status.get("cells", []):
        if isinstance(record, dict) and not record.get("ok") and str(record.get("label")) in state.own_labels:
            state.cell_errors[str(record["label"])] = str(record.get("error", ""))[-1500:]
    for job_id, case_id in state.jobs():
        record = status.get("cases", {}).get(job_id)
        if not isinstance(record, dict):
            continue
        if job_id.endswith(AUX):
            state.aux_outputs[case_id] = outputs.get(job_id, {})
        else:
            state.outcomes[case_id] = _CaseOutcome(bool(record.get("ok")), str(record.get("error", ""))[-3000:],
                                                   outputs.get(job_id, {}))
    if status.get("finished"):
        state.done = True
        return None
    running = str(status.get("running") or "")
    cell, case_job = protocol.RUNNING_CELL, protocol.RUNNING_CASE
    if running.startswith(cell) and running[len(cell):] not in state.own_labels and not last:
        return running[len(cell):]  # another cell ended the process: rerun without it
    if running.startswith(case_job) and running.endswith(AUX):
        # The submitted forward pass, run only to support numeric-gradient checks, killed the process: those
        # checks become "not applicable"; the main tests had already run.
        for _, case_id in state.jobs():
            state.aux_outputs.setdefault(case_id, {})
    elif running.startswith(case_job):
        state.outcomes[running[len(case_job):]] = _CaseOutcome(False, f"this test ended the grading process: {death}",
                                                               {}, by_grader=True)
    else:
        for case in state.cases:
            state.outcomes.setdefault(case.case_id, _CaseOutcome(
                False, f"the grading process failed before this test ran: {death}", {}, by_grader=True))
        state.done = True
    return None


def _describe_death(ending, run: WorkerRun, settings: GradingSettings) -> str:
    if not isinstance(ending, dict):
        if run.timed_out:
            return "the whole grading process ran past its time limit"
        last = bounded_line(run.stderr, settings.student_text_chars) or "no message"  # student code may write there
        return f"the grading process itself ended ({last})"
    if ending.get("timed_out"):
        limit = ending.get("limit")
        limit = f"{limit:g} s" if isinstance(limit, (int, float)) else "its limit"
        if ending.get("reason") == "cpu":
            return f"it used more than {limit} of CPU time (an infinite loop, or code far too slow)"
        if ending.get("reason") == "awake":
            return (f"it waited for {limit} without computing (a sleep, or waiting for input or a process that "
                    "never comes)")
        return "it ran past the wall-clock backstop (an infinite loop, a sleep, or code far too slow)"
    if "signal" in ending:
        return (f"it was killed by signal {ending['signal']} (a crash, or the {settings.memory_mb} MiB memory / "
                f"{settings.cpu_seconds:.0f} s CPU limit)")
    return f"it exited with status {ending.get('exit')} (sys.exit or os._exit in student code?)"


def _copy_submitted_file(source: Path | None, target: Path, cap_mb: int) -> None:
    """Copy a submitted file for a worker: a regular file (no symlink) up to ``cap_mb`` MiB, else nothing."""
    from .sandbox.files import read_untrusted
    try:
        data = read_untrusted(Path(source), cap_mb * 1024 * 1024) if source else None
    except Rejected:  # a link or special file, or too large: simply absent for the worker
        data = None
    if data is not None and len(data) < cap_mb * 1024 * 1024:
        target.write_bytes(data)


def _run_batch(assignment: Assignment, states: list[_ItemState], cells, instructor, settings, files=None,
               submission_budget: Budget | None = None):
    """One sandboxed zygote run over several items: (WorkerRun, whether the zygote started, child statuses,
    endings, outputs by item).

    What each item's process left is read as hostile (``sandbox.readback``): its status must fit the job sent
    (``check_status``), its outputs are loaded only under the names the job asked for, within the byte budgets
    of the test, the item (``_ItemState.budget``) and the submission; a breach marks the item ``REJECTED``.
    """
    workdir = Path(tempfile.mkdtemp(prefix="grader-worker-"))
    try:
        script = install_worker(workdir)
        write_lib(workdir / "lib_naive", assignment, True, settings.source_notebook.parent)
        write_lib(workdir / "lib_full", assignment, False, settings.source_notebook.parent)
        items: list[protocol.ItemJob] = []
        inputs_written: dict[tuple[str, str, str], Written] = {}  # (item, case id, input name) -> the file written
        total_seconds = settings.startup_seconds
        for state in states:
            item_dir = workdir / "items" / state.name
            item_dir.mkdir(parents=True, exist_ok=True)
            graded_file = assignment.item(state.name).file
            if graded_file:
                _copy_submitted_file((files or {}).get(graded_file), item_dir / graded_file, settings.file_mb)
            job_cases: list[protocol.CaseJob] = []
            for job_id, case_id in state.jobs():
                case_dir = item_dir / protocol.IN_DIR / case_id
                if not case_dir.exists():
                    case_dir.mkdir(parents=True)
                    for name, array in state.prepared[case_id].inputs.items():
                        np.save(case_dir / f"{name}.npy", np.asarray(array), allow_pickle=False)
                        inputs_written[(state.name, case_id, name)] = written(case_dir / f"{name}.npy")
                ops = state.prepared[case_id].aux_ops if job_id.endswith(AUX) else state.prepared[case_id].ops
                job_cases.append({"id": job_id, "ops": with_npy_paths(ops, case_id)})
            wall = settings.worker_wall_seconds(len(cells) + 1, len(job_cases))
            total_seconds += wall
            items.append({"item": state.name, "work": str(item_dir),
                          "lib": str(workdir / ("lib_naive" if state.name in assignment.naive_items else "lib_full")),
                          "wall_seconds": wall, "cpu_seconds": settings.cpu_seconds,
                          "setup_code": neutralise_magics(instructor.setup_code) or "", "cells": cells,
                          "skip_cells": state.skip_cells, "cell_seconds": settings.cell_seconds,
                          "test_seconds": settings.test_seconds, "cases": job_cases,
                          "forbidden": list(assignment.naive_forbidden) if state.name in assignment.naive_items
                          else []})
        limits = WorkerLimits(total_seconds, settings.cpu_seconds * len(states), settings.memory_mb,
                              settings.output_bytes, settings.file_mb)
        # With namespaces every item's process confines itself to a root holding only its own folder and support
        # package (``untrusted.confine``); "reduced" (no namespaces, an explicit opt-in) cannot.
        jail = jail_spec() if check_isolation(settings).startswith("namespaces") else None
        batch: protocol.Batch = {"parallel": settings.item_workers, "preload": list(assignment.preload),
                                 "items": items, "jail": jail}
        (workdir / protocol.JOB_FILE).write_text(json.dumps(batch))
        run = run_worker(workdir, script.relative_to(workdir).as_posix(), [protocol.JOB_FILE], limits,
                         settings.isolation, with_record=True, protected=protected_paths(settings))
        try:
            record = json.loads(run.record) if run.record else {}
        except (json.JSONDecodeError, UnicodeDecodeError):
            record = {}
        record = record if isinstance(record, dict) else {}
        endings = record.get("endings") if isinstance(record.get("endings"), dict) else {}
        started = record.get("started") is True
        statuses, outputs = {}, {}
        for state, job in zip(states, items):
            statuses[state.name], outputs[state.name] = _read_item(workdir, state, job, settings, submission_budget,
                                                                   inputs_written, run.sealed_ns)
        return run, started, statuses, endings, outputs
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _read_item(workdir: Path, state: _ItemState, job: protocol.ItemJob, settings: GradingSettings,
               submission_budget: Budget | None, inputs_written: dict | None = None,
               sealed_ns: int | None = None) -> tuple[dict, dict]:
    """(status, outputs by job id) of one item's process, or ({REJECTED: why}, {}) when what it left breaks the
    parent's rules, or ({UNREADABLE: why}, {}) when the reader itself failed on it.

    The input files that a case's checks judge ("left unmodified": ``checks.inputs_read_back``) are read back
    too, as ``checks.INPUT_PREFIX + name``, and must still be the files the parent wrote (``inputs_written``)."""
    item_dir = workdir / "items" / state.name
    try:
        status = read_status(item_dir / protocol.STATUS_FILE, root=workdir)
        check_status(status, job)
        status.setdefault("cases", {})
        status.setdefault("cells", [])
        expected = expected_outputs(job)
        outputs = {}
        for job_id, case_id in state.jobs():
            record = status["cases"].get(job_id)
            if record is None:
                continue
            case_budget = Budget(settings.case_output_bytes(state.prepared[case_id].reference_bytes),
                                 f"one test ({job_id})")
            budgets = tuple(b for b in (case_budget, state.budget, submission_budget) if b is not None)
            outputs[job_id] = load_outputs(item_dir / protocol.OUT_DIR / job_id, record.get("outputs"),
                                           settings.file_mb, root=workdir, expected=expected[job_id], budgets=budgets)
            if job_id == case_id:  # the case's own program: the inputs it was handed, as files
                for name in sorted(inputs_read_back(state.prepared[case_id].checks)):
                    was = (inputs_written or {}).get((state.name, case_id, name))
                    outputs[job_id][f"{INPUT_PREFIX}{name}"] = load_input(
                        item_dir / protocol.IN_DIR / case_id / f"{name}.npy", was, sealed_ns if was else None,
                        root=workdir, budgets=budgets)
        return status, outputs
    except Rejected as error:
        return {REJECTED: str(error)}, {}
    except Exception as error:  # what this item's process left made the reader fail: that item only
        return {UNREADABLE: f"{type(error).__name__}: {error}"}, {}


def _judge(case: Case, prepared: Prepared, outcome: _CaseOutcome, cell_errors: dict[str, str],
           settings: GradingSettings) -> TestResult:
    """The TestResult of one case: all of its checks must pass for its points."""
    result = _verdict_of(case, prepared, outcome, cell_errors, settings)
    if case.visibility == "hidden" and settings.reveal_hidden:
        configuration = f"configuration: {json.dumps(case.config, default=str)}"
        result.hint = "; ".join(h for h in (result.hint, configuration) if h)
    return result


def _verdict_of(case, prepared, outcome, cell_errors, settings) -> TestResult:
    hidden = case.visibility == "hidden"
    result = TestResult(case.name, case.item, 0.0, case.points, visibility="hidden" if hidden else "visible")
    if not outcome.ok and outcome.hint:
        result.message, result.hint, result.got = outcome.error, outcome.hint, "refused by the grader"
        return result
    # What student code wrote (its exceptions, its cells' errors, what it returned) reaches a hidden case's
    # feedback only as one short line (``student_text``).
    limit = settings.student_text_chars if hidden else VISIBLE_LINE_CHARS
    if not outcome.ok:
        if outcome.by_grader:  # the grader's own words: a limit or an ended process, not the student's text
            return stopped(result, outcome.error)
        shown = bounded_line(outcome.error, limit)
        own_cells = {label: bounded_line(text, limit) for label, text in cell_errors.items()}
        return call_failed(result, outcome.error, own_cells, shown)
    outputs = bounded_outputs(outcome.outputs, limit) if hidden else outcome.outputs
    result = judge(result, prepared.checks, outputs, hidden, settings.reveal_hidden)
    if hidden:
        result.got = bounded_line(result.got, limit)
    return result
