"""Grade a whole class: submissions in parallel, a result cache per student, then every report.

The cache makes runs idempotent and resumable: a student's result is stored (atomically) as soon as it is
graded, under a key that hashes the submitted notebook, the other files it carries and the grader itself (its
grading code and settings). A re-run reuses every entry whose key still matches, so a run killed half-way finishes
where it stopped, an unchanged class is not graded twice, and any change to a submission or to the grader
regrades exactly what it affects.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TextIO

from tqdm import tqdm

import assignments
from assignments import Assignment

from .atomicio import atomic_write_json
from .intake.course_layout import (Submission, extra_notebooks, find_submissions, inspect_submission,
                                   ungraded_result)
from .intake.submitted_files import submitted_digest
from .intake.release_points import points_notes
from .results import SubmissionResult
from .sandbox import IsolationUnavailable
from .secret import load_or_create_secret

# The engine's entry point: (notebook_path, student, settings, files[, refused]) -> SubmissionResult.
Grader = Callable[..., SubmissionResult]
GRADES_DIR = "grades"
# What the cache key hashes of one submitted file at most (the engine refuses larger files itself).
_KEY_FILE_CAP = 1 << 40
CACHE_DIR = ".cache"
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent
# Code whose change must invalidate every cached result: the assignment records, the grading code and the
# reference it compares with. The folder layout decides: autograder/reports/ and the orchestrating modules at
# the top of autograder/ (this one, the command line, the demo class) never change a result.
_GRADER_SOURCES = ("assignments/**/*.py", "autograder/cases/**/*.py", "autograder/sandbox/**/*.py",
                   "autograder/intake/**/*.py", "autograder/*.py", "reference_impl/*.py", "reference_impl/*.pyx")
_ORCHESTRATION = {"__main__.py", "atomicio.py", "cli.py", "demo_class.py", "nbgrader_hooks.py", "pipeline.py"}


def default_grader(notebook_path: Path, student: str, settings: Any, files: dict[str, Path] | None = None,
                   refused: dict[str, str] | None = None) -> SubmissionResult:
    """The production grader, imported lazily so that the pipeline loads without the engine."""
    from .engine import grade_submission
    return grade_submission(notebook_path, student, settings, files, refused)


def grader_fingerprint(settings: Any) -> str:
    """Hash of the grader's source files, its settings, and any file a settings field points to."""
    digest = hashlib.sha256()
    for pattern in _GRADER_SOURCES:
        for path in sorted(_PACKAGE_ROOT.glob(pattern)):
            if pattern == "autograder/*.py" and path.name in _ORCHESTRATION:
                continue
            digest.update(path.relative_to(_PACKAGE_ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    digest.update(repr(settings).encode())
    if dataclasses.is_dataclass(settings):
        for value in (getattr(settings, f.name) for f in dataclasses.fields(settings)):
            if isinstance(value, (str, Path)) and Path(value).is_file():
                # e.g. the instructor's source notebook: new tests or points must regrade everyone.
                digest.update(Path(value).read_bytes())
    return digest.hexdigest()


def submission_key(submission: Submission, fingerprint: str) -> str:
    """Cache key of one submission: its notebook's and other files' bytes and the grader fingerprint.

    Files are read only through verified descriptors (``intake.submitted_files``): a link is hashed as its
    refusal, never followed."""
    digest = hashlib.sha256(fingerprint.encode())
    digest.update(b"\0" if submission.notebook is None else submitted_digest(submission.notebook, _KEY_FILE_CAP))
    for name, path in sorted(submission.files.items()):
        digest.update(name.encode() + b"\0" + submitted_digest(path, _KEY_FILE_CAP))
    return digest.hexdigest()


def result_from_dict(document: dict) -> SubmissionResult:
    """Rebuild a SubmissionResult from `SubmissionResult.to_dict()` output (the cache format)."""
    return SubmissionResult.from_dict(document)


def _cache_path(cache_dir: Path, student: str) -> Path:
    return cache_dir / f"{student}.json"


def load_cached(cache_dir: Path, student: str, key: str) -> SubmissionResult | None:
    """The cached result of `student` if its key matches `key`, else None (missing, stale or unreadable)."""
    try:
        document = json.loads(_cache_path(cache_dir, student).read_text(encoding="utf-8"))
        if document.get("key") != key:
            return None
        return result_from_dict(document["result"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _grade_and_cache(grader: Grader, submission: Submission, settings: Any, key: str,
                     cache_dir: Path) -> dict:
    """Worker-process task: grade one submission and store it in the cache before reporting back."""
    result = grader(submission.notebook, submission.student, settings, dict(submission.files))
    document = result.to_dict()
    atomic_write_json(_cache_path(cache_dir, submission.student), {"key": key, "result": document})
    return document


@dataclass
class GradingRun:
    """What one run produced.

    results: one result per student that has one (fresh or cached), sorted by student id.
    graded: students graded in this run; cached: students whose cached result was reused.
    errors: student -> internal grader error (a bug in the grader, not the student's fault; nothing recorded).
    gradebook_error: why the gradebook write failed (it was then restored from its backup), else None.
    regrade: students whose result still holds a "grading error: regrade" test (``TestResult.grading_error``):
        recorded, but regraded first by the next run, whose cache never counts such a result as done.
    notes: what the instructor was told besides the summary (stale points, a gradebook written by another tool,
        the gradebook writer's warnings), each also printed.
    """

    results: list[SubmissionResult] = field(default_factory=list)
    graded: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    gradebook_error: str | None = None
    regrade: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _run_pool(tasks: list[tuple[Submission, str]], grader: Grader, settings: Any, cache_dir: Path, jobs: int,
              bar: tqdm, done: dict[str, SubmissionResult], errors: dict[str, str]) -> list[tuple[Submission, str]]:
    """Grade `tasks` on `jobs` processes; return the tasks lost to a crashed worker process."""
    lost = []
    with ProcessPoolExecutor(max_workers=jobs, initializer=_quiet_on_interrupt) as pool:
        futures = {pool.submit(_grade_and_cache, grader, sub, settings, key, cache_dir): (sub, key)
                   for sub, key in tasks}
        for future in as_completed(futures):
            sub, key = futures[future]
            try:
                done[sub.student] = result_from_dict(future.result())
                bar.update(1)
            except BrokenProcessPool:
                lost.append((sub, key))
            except IsolationUnavailable:  # the machine, not this student: stop the whole run, saying why
                raise
            except Exception as error:  # a grader bug: report it, never cache it
                errors[sub.student] = f"{type(error).__name__}: {error}"
                bar.update(1)
    return lost


def _quiet_on_interrupt() -> None:
    """Pool-process initializer: Ctrl-C ends the process at once and silently; the parent says what was saved."""
    signal.signal(signal.SIGINT, lambda signum, frame: os._exit(130))


def _run_executor(tasks: list[tuple[Submission, str]], grader: Grader, settings: Any, cache_dir: Path,
                  executor: Any, bar: tqdm, done: dict[str, SubmissionResult], errors: dict[str, str]) -> None:
    """Grade `tasks` on `executor` (e.g. `dask_cluster.DaskExecutor`); results are cached here as they arrive."""
    for sub, key, outcome in executor.grade(tasks, grader, settings):
        if isinstance(outcome, BaseException):
            errors[sub.student] = f"{type(outcome).__name__}: {outcome}"
        else:
            atomic_write_json(_cache_path(cache_dir, sub.student), {"key": key, "result": outcome})
            done[sub.student] = result_from_dict(outcome)
        bar.update(1)


def grade_submissions(submissions: list[Submission], settings: Any, cache_dir: Path, jobs: int | None = None,
                      force: bool = False, grader: Grader = default_grader, progress: bool = True,
                      assignment: Assignment | None = None, executor: Any = None) -> GradingRun:
    """Grade every submission that has no valid cached result, `jobs` at a time.

    Parameters
    ----------
    submissions : list of Submission
        From `find_submissions`; folders with a layout problem get a zero without running the grader.
    settings : GradingSettings
        Passed through to the grader (must be picklable) and hashed into the cache key.
    cache_dir : Path
        Where results are cached, one JSON file per student.
    jobs : int, optional
        Parallel grading processes; default `os.cpu_count()`. With 1, grading runs in this process.
    force : bool
        Ignore cached results (they are still overwritten with the new ones).
    grader : callable
        `grader(notebook_path, student, settings, files) -> SubmissionResult`; module-level, so that it can be
        sent to worker processes.
    progress : bool
        Show a tqdm progress bar on stderr.
    assignment : Assignment, optional
        The record used for the zero results of folders that cannot be graded (default: settings.assignment).
    executor : optional
        Grades elsewhere instead of the local process pool: an object whose ``grade(tasks, grader, settings)``
        yields ``(submission, key, result document or exception)`` (``dask_cluster.DaskExecutor``); `jobs` is
        then unused.

    Returns
    -------
    GradingRun

    Raises
    ------
    SecretError
        The grader secret (``settings.secret_file``, created here on first use) is garbled or readable by others.
    """
    jobs = (os.cpu_count() or 1) if jobs is None else jobs
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    assignment = assignment or assignments.get(settings.assignment)
    run = GradingRun()
    done: dict[str, SubmissionResult] = {}
    if getattr(settings, "secret_file", None) is not None:
        # First use creates the grader secret, before the cache key reads it; a damaged one stops the run here.
        load_or_create_secret(settings.secret_file)
    fingerprint = grader_fingerprint(settings)
    todo = []
    for sub in submissions:
        if sub.notebook is None:
            done[sub.student] = ungraded_result(sub.student, assignment, sub.problem or "nothing to grade")
            continue
        key = submission_key(sub, fingerprint)
        cached = None if force else load_cached(cache_dir, sub.student, key)
        if cached is not None and not cached.needs_regrade:
            done[sub.student] = cached
            run.cached.append(sub.student)
        else:
            todo.append((sub, key))
    # Results the grader itself failed to produce last time go first: they are owed to their students.
    todo.sort(key=lambda task: _had_grading_error(cache_dir, task[0].student), reverse=True)
    with tqdm(total=len(todo), unit="submission", desc="grading", disable=not progress or not todo,
              file=sys.stderr) as bar:
        if executor is not None and todo:
            _run_executor(todo, grader, settings, cache_dir, executor, bar, done, run.errors)
        elif jobs == 1 or len(todo) <= 1:
            for sub, key in todo:
                try:
                    done[sub.student] = result_from_dict(_grade_and_cache(grader, sub, settings, key, cache_dir))
                except IsolationUnavailable:
                    raise
                except Exception as error:
                    run.errors[sub.student] = f"{type(error).__name__}: {error}"
                bar.update(1)
        else:
            lost = _run_pool(todo, grader, settings, cache_dir, jobs, bar, done, run.errors)
            # A dead worker process takes every pending task down with it: retry those one at a time, so
            # that only the submission that really kills its process ends up without a result.
            for task in lost:
                if _run_pool([task], grader, settings, cache_dir, 1, bar, done, run.errors):
                    run.errors[task[0].student] = "the grading process died (killed or crashed)"
                    bar.update(1)
    run.graded = sorted(sub.student for sub, _ in todo if sub.student in done)
    run.results = [done[s] for s in sorted(done)]
    run.regrade = [r.student for r in run.results if r.needs_regrade]
    return run


def _had_grading_error(cache_dir: Path, student: str) -> bool:
    """Whether the cached result of ``student`` (whatever its key) holds a grading error."""
    try:
        document = json.loads(_cache_path(cache_dir, student).read_text(encoding="utf-8"))
        return any(t.get("grading_error") for t in document["result"]["tests"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def grade_course(course_dir: Path, settings: Any, assignment: str | None = None, jobs: int | None = None,
                 student: str | None = None, force: bool = False, grader: Grader | None = None,
                 progress: bool = True, gradebook: bool = True, out: TextIO | None = None,
                 executor: Any = None) -> GradingRun:
    """Grade a course directory and write every report; the body of `python -m autograder grade`.

    Parameters
    ----------
    course_dir : Path
        nbgrader course root with submitted/<student>/<assignment>/<notebook>.ipynb.
    settings : GradingSettings
        The engine's settings.
    assignment : str, optional
        Assignment name (default: settings.assignment).
    jobs : int, optional
        Parallel grading processes (default: all cores).
    student : str, optional
        Regrade this student only (ignoring the cache); the class-wide reports are rebuilt from the cache.
    force : bool
        Regrade everyone, ignoring the cache.
    grader : callable, optional
        The single-submission grader; default `default_grader` (the engine). Tests pass a stub.
    progress : bool
        Show the progress bar.
    gradebook : bool
        Also write the nbgrader gradebook and autograded/ notebooks.
    out : text stream, optional
        Where the closing summary is printed (default: standard output).
    executor : optional
        Where submissions are graded instead of local processes (see `grade_submissions`), e.g. a Dask cluster.

    Returns
    -------
    GradingRun

    Raises
    ------
    IsolationUnavailable
        This machine cannot isolate student code as the settings require; nothing was recorded for the
        students not yet graded, and the message says what to enable.
    SecretError
        The grader secret (created here on first use, saying so) is garbled or readable by others.

    Writes, under ``<course_dir>/grades/<assignment>/``: ``<student>/results.json`` (Gradescope),
    ``<student>/feedback.html``, ``summary.txt``, ``score_histogram.png`` and ``class_results.json``; then the
    course-wide ``grades/grades.csv`` (every assignment's latest results) and ``grades/grades_canvas.csv`` (the
    same totals in Canvas's gradebook import layout); and the gradebook + ``autograded/``.
    """
    from .reports import gradebook as gradebook_writer
    from .reports.canvas_csv import write_canvas_csv
    from .reports.feedback_html import write_feedback_page
    from .reports.gradebook_safety import backed_up, check_gradebook, sqlite_file
    from .reports.grades_csv import CLASS_RESULTS_FILE, write_class_results, write_grades_csv
    from .reports.gradescope import write_gradescope_results
    from .reports.permissions import share_reports
    from .reports.summary import write_class_summary

    grader = default_grader if grader is None else grader
    out = sys.stdout if out is None else out
    course_dir = Path(course_dir).resolve()
    if assignment is not None and assignment != settings.assignment:
        raise ValueError(f"the settings are for assignment {settings.assignment!r}, not {assignment!r}")
    assignment = assignments.get(settings.assignment)
    secret_file = getattr(settings, "secret_file", None)
    if secret_file is not None and not os.path.lexists(secret_file):
        load_or_create_secret(secret_file)
        print(f"Created the grader secret {secret_file} (mode 0600): every student's hidden test inputs derive "
              "from it. Keep a private copy; never commit, release or share it.", file=out)
    grades_dir = course_dir / GRADES_DIR / assignment.name
    cache_dir = course_dir / GRADES_DIR / CACHE_DIR / assignment.name
    db_path = sqlite_file(gradebook_writer.gradebook_location(course_dir)[0]) if gradebook else None
    if db_path is not None:
        check_gradebook(db_path)  # a damaged gradebook stops the run here, before anything is written
    everyone = find_submissions(course_dir, assignment)
    notes = points_notes(course_dir, assignment, [(s.student, s.notebook) for s in everyone])
    for note in notes:
        print(f"points: {note}", file=out)
    if student is not None:
        if not (course_dir / "submitted" / student).is_dir():
            known = ", ".join(s.student for s in everyone) or "none"
            raise ValueError(f"no submission for student {student!r} under {course_dir / 'submitted'}; "
                             f"students found: {known}")
        chosen = [inspect_submission(course_dir, student, assignment)]
        run = grade_submissions(chosen, settings, cache_dir, jobs, True, grader, progress, assignment, executor)
        # The class-wide reports need everyone else too: take their still-valid cached results.
        others = [s for s in everyone if s.student != student]
        rest = grade_submissions(others, settings, cache_dir, 1, False, _refuse_to_grade, False, assignment)
        missing = sorted(rest.errors)
        if missing:
            print(f"note: {len(missing)} other student(s) have no up-to-date result yet and are left out of the "
                  f"class reports: {', '.join(missing)}. Run `make grade` to grade them.", file=out)
        run.results = sorted(run.results + rest.results, key=lambda r: r.student)
    else:
        run = grade_submissions(everyone, settings, cache_dir, jobs, force, grader, progress, assignment, executor)
    run.notes += notes

    written = {r.student for r in run.results} if student is None else {student}
    inputs = {s.student: s for s in everyone}
    for result in run.results:
        extras = extra_notebooks(inputs[result.student]) if result.student in inputs else []
        if extras:
            result.problems.append(f"only {inputs[result.student].notebook.name} was graded; also found "
                                   f"{', '.join(extras)} beside it, which nobody grades. What you can do: if your "
                                   f"work is in one of those, copy it into {inputs[result.student].notebook.name} and submit again.")
        if result.student in written:
            write_gradescope_results(result, grades_dir / result.student / "results.json")
            write_feedback_page(result, grades_dir / result.student / "feedback.html")
    write_class_results(run.results, grades_dir / CLASS_RESULTS_FILE)
    readable = gradebook and (db_path is None or db_path.is_file())
    if readable:
        foreign = _gradebook_written_elsewhere(course_dir, assignment)
        if foreign:
            print(f"gradebook: {foreign}", file=out)
            run.notes.append(foreign)
    if gradebook:
        backup = None
        try:
            with backed_up(db_path, getattr(settings, "gradebook_backups", 5)) as backup:
                for warning in gradebook_writer.write_gradebook(
                        course_dir, assignment, [r for r in run.results if r.student in written], inputs,
                        keep_hidden_tests=bool(getattr(settings, "reveal_hidden", False))):
                    print(f"gradebook: {warning}", file=out)
                    run.notes.append(warning)
                _mark_gradebook(course_dir, assignment, written)
        except gradebook_writer.GradebookUnavailable as problem:
            print(f"gradebook not updated: {problem}", file=out)
        except Exception as error:  # the database or the disk failed mid-write: put the copy back, go on
            run.gradebook_error = f"{type(error).__name__}: {error}"
            kept = f"it was restored from {backup}, the copy made just before" if backup else "it was not changed"
            print(f"gradebook NOT updated: writing it failed ({run.gradebook_error}); {kept}. The grades/ reports "
                  f"are complete.", file=out)
    records = list(assignments.ASSIGNMENTS.values())
    hand = _hand_grades(course_dir, records) if readable else {}
    course_results = write_grades_csv(course_dir / GRADES_DIR, records, hand)
    try:
        write_canvas_csv(course_dir, course_dir / GRADES_DIR, course_results,
                         [assignments.get(name) for name in course_results])
    except (OSError, ValueError, UnicodeDecodeError) as problem:  # a bad roster must not stop the other reports
        print(f"Canvas export not written: {problem}", file=out)
    write_class_summary(run, grades_dir, out)
    share_reports(course_dir / GRADES_DIR, getattr(settings, "report_mode", 0o640))
    return run


def _gradebook_written_elsewhere(course_dir: Path, record: Assignment) -> str:
    """The note saying whose gradebook auto scores of ``record`` differ from what the kit last wrote ("" if none,
    or if the gradebook cannot be read: the write that follows reports that)."""
    from .reports.gradebook import gradebook_location
    from .reports.gradebook_marks import foreign_writes, foreign_writes_message, read_marks
    from .reports.gradebook_read import auto_scores
    try:
        current = auto_scores(*gradebook_location(course_dir), record)
    except Exception:  # a gradebook nbgrader cannot open: the write below says so, with what to do
        return ""
    marks = read_marks(course_dir / GRADES_DIR).get(record.name, {})
    return foreign_writes_message(record.name, foreign_writes(marks, current))


def _mark_gradebook(course_dir: Path, record: Assignment, written: set[str]) -> None:
    """Record in grades/gradebook_marks.json the auto scores now in the gradebook for the students just written."""
    from .reports.gradebook import gradebook_location
    from .reports.gradebook_marks import update_marks
    from .reports.gradebook_read import auto_scores
    current = auto_scores(*gradebook_location(course_dir), record)
    update_marks(course_dir / GRADES_DIR, record.name, {s: current[s] for s in sorted(written) if s in current})


def _hand_grades(course_dir: Path, records: list[Assignment]) -> dict:
    """Assignment -> student -> HandGrades read from the gradebook (an assignment it lacks maps to {})."""
    from .reports.gradebook import gradebook_location
    from .reports.gradebook_read import hand_grades
    location = gradebook_location(course_dir)
    try:
        return {record.name: hand_grades(*location, record) for record in records}
    except Exception:  # unreadable: grades.csv then marks the hand-graded columns as unknown
        return {}


def _refuse_to_grade(notebook_path: Path, student: str, settings: Any,
                     files: dict[str, Path] | None = None) -> SubmissionResult:
    """Stand-in grader for "use the cache only": a submission without a valid cache entry is reported."""
    raise LookupError(f"{student} has no up-to-date cached result")
