"""Command line: `python -m autograder grade ...` and `python -m autograder demo-class`.

    python -m autograder grade [--assignment NAME] [--student ID] [--jobs N] [--course-dir DIR] [--force] [--dask ADDR]
    python -m autograder demo-class [--dest DIR] [--jobs N] [--dask ADDR]
    python -m autograder gradescope --assignment NAME [--hidden-visibility after_published] [--dest ZIP]

`grade` grades every assignment of the course whose instructor notebook exists (source/<name>/), or only
`--assignment`. With no submissions under <course-dir>/submitted/ it is an error once an assignment is released
(a failed collect must not look like success); before any release it grades the built-in demo class instead,
so that a fresh clone shows the whole pipeline at work. `--dask local` grades on a Dask LocalCluster of
`--jobs` worker processes, `--dask tcp://host:port` on a running Dask cluster (see autograder/dask_cluster.py).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import assignments

from .gradescope_autograder.build import DEFAULT_HIDDEN_VISIBILITY, VISIBILITIES
from .intake.course_layout import check_student_id, find_submissions
from .pipeline import CACHE_DIR, GRADES_DIR, grade_course
from .sandbox import IsolationUnavailable

REPO_ROOT = Path(__file__).resolve().parent.parent


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of processes, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"--jobs must be at least 1, got {value}")
    return value


def _student_id(text: str) -> str:
    try:
        return check_student_id(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `python -m autograder`."""
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="grade submitted/<student>/<assignment>/ of a course directory")
    grade.add_argument("--student", type=_student_id, help="regrade this student only")
    grade.add_argument("--course-dir", type=Path, default=Path.cwd(), help="nbgrader course root (default: .)")
    grade.add_argument("--assignment", default="", choices=["", *assignments.ASSIGNMENTS],
                       help="grade this assignment only (default: every assignment with a source notebook)")
    grade.add_argument("--force", action="store_true", help="regrade everyone, ignoring cached results")
    gradescope = commands.add_parser("gradescope", help="build dist/gradescope/<assignment>/autograder.zip")
    gradescope.add_argument("--assignment", required=True, choices=list(assignments.ASSIGNMENTS))
    gradescope.add_argument("--hidden-visibility", default=DEFAULT_HIDDEN_VISIBILITY, choices=VISIBILITIES,
                            help="when Gradescope shows hidden cases to students (default: after_published)")
    gradescope.add_argument("--dest", type=Path, default=None, help="the zip to write")
    demo = commands.add_parser("demo-class", help="build and grade the built-in demo class")
    demo.add_argument("--dest", type=Path, default=None, help="demo course directory (default: out/demo_class)")
    demo.add_argument("--assignment", action="append", choices=list(assignments.ASSIGNMENTS), default=None,
                      help="only this assignment (repeatable; default: every installed one)")
    for sub in (grade, demo):
        sub.add_argument("--jobs", type=_positive_int, default=os.cpu_count() or 1,
                         help="submissions graded in parallel (default: all cores)")
        sub.add_argument("--no-progress", action="store_true", help="no progress bar")
        sub.add_argument("--dask", default="", metavar="ADDRESS",
                         help="grade on Dask: 'local' (a LocalCluster of --jobs processes) or a scheduler address")
    return parser


def _executor(address: str, jobs: int) -> contextlib.AbstractContextManager:
    """The Dask executor for `--dask ADDRESS`, or a context that gives None (the local process pool)."""
    if not address:
        return contextlib.nullcontext(None)
    from .dask_cluster import DaskExecutor
    return DaskExecutor(address, workers=jobs)


def load_settings(course_dir: Path, assignment: str) -> Any:
    """The engine's GradingSettings: `c.GradingSettings` of the course's nbgrader_config.py, pointed at the
    course's instructor notebook of `assignment`."""
    from .settings import GradingSettings
    record = assignments.get(assignment)
    instructor = Path(course_dir) / "source" / record.name / record.notebook
    overrides = {"source_notebook": instructor.resolve()} if instructor.is_file() else {}
    return GradingSettings.from_nbgrader_config(Path(course_dir), record.name, **overrides)


def installed(course_dir: Path, name: str = "") -> list[assignments.Assignment]:
    """The assignments to grade: ``name`` only, or every one the course has (its instructor notebook is in
    source/, it is released, or some student submitted it)."""
    if name:
        return [assignments.get(name)]
    course_dir = Path(course_dir)
    return [a for a in assignments.ASSIGNMENTS.values()
            if (course_dir / "source" / a.name / a.notebook).is_file() or (course_dir / "release" / a.name).is_dir()
            or any(p.is_dir() for p in (course_dir / "submitted").glob(f"*/{a.name}"))]


def run_demo(dest: Path | None, jobs: int, progress: bool, dask: str = "",
             only: tuple[str, ...] | None = None) -> int:
    """Build the demo class (of ``only`` the named assignments, default all installed), grade it, and say where
    to look."""
    from .demo_class import build_demo_class, demo_settings
    try:
        course = build_demo_class(REPO_ROOT, dest, only)
    except (FileNotFoundError, RuntimeError, ValueError) as error:
        print(f"cannot build the demo class: {error}", file=sys.stderr)
        return 2
    chosen = [r for r in installed(course) if only is None or r.name in only]
    print(f"Demo class in {course} ({', '.join(a.name for a in chosen)}): the reference solution (with the files "
          f"it is graded from), a half-done notebook, one with a classic bug, a broken file and a wrongly named "
          f"notebook.")
    errors = 0
    started = time.time()
    try:
        with _executor(dask, jobs) as executor:
            for record in chosen:
                print(f"\n== {record.name} ==")
                run = grade_course(course, demo_settings(load_settings(course, record.name), course), jobs=jobs,
                                   progress=progress, executor=executor)
                errors += len(run.errors) + len(run.regrade) + bool(run.gradebook_error)
    except IsolationUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(interrupted_message(course, started), file=sys.stderr)
        return 130
    print(f"\nClass table: {course / 'grades' / 'grades.csv'}; open "
          f"{course / 'grades' / chosen[0].name / 'demo_half_done' / 'feedback.html'} to see a student's feedback.")
    return 1 if errors else 0


def build_gradescope(name: str, hidden_visibility: str, dest: Path | None) -> int:
    """Build the assignment's Gradescope autograder.zip from this repository's instructor notebook and settings."""
    from .gradescope_autograder.build import build_autograder_zip
    try:
        written = build_autograder_zip(REPO_ROOT, load_settings(REPO_ROOT, name), dest, hidden_visibility)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"Gradescope autograder: {written} (upload it as the assignment's autograder; hidden cases are shown "
          f"{hidden_visibility.replace('_', ' ')})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status (0 ok, 1 grader errors, 2 usage or setup errors)."""
    args = build_parser().parse_args(argv)
    # nbgrader's gradebook shells out to `alembic`, installed next to this interpreter.
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    if args.command == "gradescope":
        return build_gradescope(args.assignment, args.hidden_visibility, args.dest)
    progress = not args.no_progress
    from .dask_cluster import ClusterUnavailable
    try:
        if args.command == "demo-class":
            return run_demo(args.dest, args.jobs, progress, args.dask,
                            tuple(args.assignment) if args.assignment else None)
        return _grade(args, progress)
    except ClusterUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _grade(args: argparse.Namespace, progress: bool) -> int:
    course = args.course_dir.resolve()
    chosen = installed(course, args.assignment)
    if not any(find_submissions(course, record) for record in chosen):
        if args.student:
            print(f"no submissions under {course / 'submitted'}; nothing to regrade for {args.student}",
                  file=sys.stderr)
            return 2
        released = [course / "release" / record.name for record in chosen
                    if (course / "release" / record.name).is_dir()]
        if released:
            # A released assignment with nothing submitted is a failed or forgotten collect, not a demo.
            names = ", ".join(path.name for path in released)
            print(f"error: no submissions for {names} under {course / 'submitted'}, but it is released "
                  f"({', '.join(map(str, released))}). Collect them first (nbgrader collect <assignment>, or put "
                  f"each under submitted/<student>/<assignment>/); `make demo` grades the demo class.",
                  file=sys.stderr)
            return 2
        print(f"No submissions under {course / 'submitted'} and no release yet: grading the built-in demo class.")
        return run_demo(None, args.jobs, progress, args.dask)
    errors = 0
    started = time.time()
    try:
        with _executor(args.dask, args.jobs) as executor:
            for record in chosen:
                if len(chosen) > 1:
                    print(f"\n== {record.name} ==")
                run = grade_course(course, load_settings(course, record.name), jobs=args.jobs,
                                   student=args.student, force=args.force, progress=progress, executor=executor)
                errors += len(run.errors) + len(run.regrade) + bool(run.gradebook_error)
    except (ValueError, IsolationUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(interrupted_message(course, started), file=sys.stderr)
        return 130
    return 1 if errors else 0


def interrupted_message(course: Path, started: float) -> str:
    """The one line printed after Ctrl-C: what this run saved, and how to go on."""
    cache = course / GRADES_DIR / CACHE_DIR
    saved = [p for p in cache.rglob("*.json") if p.stat().st_mtime >= started] if cache.is_dir() else []
    return (f"\nInterrupted: {len(saved)} submission(s) graded in this run are saved in {cache} and will not be "
            f"graded again; the gradebook is as before this run or fully updated, never half-written. Run "
            f"`make grade` again to finish.")
