"""Command line: `python -m autograder grade ...` and `python -m autograder demo-class`.

    python -m autograder grade [--student ID] [--jobs N] [--course-dir DIR] [--assignment convnets] [--force]
    python -m autograder demo-class [--dest DIR] [--jobs N]

`grade` with no submissions under <course-dir>/submitted/ is an error once the assignment is released (a
failed collect must not look like success); before any release it grades the built-in demo class instead.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from . import spec
from .course_layout import check_student_id, find_submissions
from .pipeline import CACHE_DIR, GRADES_DIR, grade_course

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
    grade.add_argument("--assignment", default=spec.ASSIGNMENT, help=f"assignment id (default: {spec.ASSIGNMENT})")
    grade.add_argument("--force", action="store_true", help="regrade everyone, ignoring cached results")
    demo = commands.add_parser("demo-class", help="build and grade the built-in demo class")
    demo.add_argument("--dest", type=Path, default=None, help="demo course directory (default: out/demo_class)")
    for sub in (grade, demo):
        sub.add_argument("--jobs", type=_positive_int, default=os.cpu_count() or 1,
                         help="submissions graded in parallel (default: all cores)")
        sub.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def load_settings(course_dir: Path, assignment: str) -> Any:
    """The engine's GradingSettings: `c.GradingSettings` of the course's nbgrader_config.py, pointed at the
    course's instructor notebook of `assignment`."""
    from .settings import GradingSettings
    instructor = Path(course_dir) / "source" / assignment / spec.NOTEBOOK
    overrides = {"source_notebook": instructor.resolve()} if instructor.is_file() else {}
    return GradingSettings.from_nbgrader_config(Path(course_dir), **overrides)


def run_demo(dest: Path | None, jobs: int, progress: bool) -> int:
    """Build the demo class, grade it, and say where to look."""
    from .demo_class import build_demo_class, demo_settings
    try:
        course = build_demo_class(REPO_ROOT, dest)
    except (FileNotFoundError, RuntimeError) as error:
        print(f"cannot build the demo class: {error}", file=sys.stderr)
        return 2
    print(f"Demo class in {course}: the reference solution (with a trained experiment model), a half-done "
          f"notebook, a buggy max-pool backward, a broken file and a wrongly named notebook.")
    started = time.time()
    try:
        run = grade_course(course, demo_settings(load_settings(course, spec.ASSIGNMENT), course), jobs=jobs,
                           progress=progress)
    except KeyboardInterrupt:
        print(interrupted_message(course, started), file=sys.stderr)
        return 130
    print(f"Open {course / 'grades' / 'demo_buggy_pool_backward' / 'feedback.html'} to see a student's feedback.")
    return 1 if run.errors else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status (0 ok, 1 grader errors, 2 usage or setup errors)."""
    args = build_parser().parse_args(argv)
    # nbgrader's gradebook shells out to `alembic`, installed next to this interpreter.
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    progress = not args.no_progress
    if args.command == "demo-class":
        return run_demo(args.dest, args.jobs, progress)
    course = args.course_dir.resolve()
    if not find_submissions(course, args.assignment):
        if args.student:
            print(f"no submissions under {course / 'submitted'}; nothing to regrade for {args.student}",
                  file=sys.stderr)
            return 2
        released = course / "release" / args.assignment
        if released.is_dir():
            # A released assignment with nothing submitted is a failed or forgotten collect, not a demo.
            print(f"error: no submissions for {args.assignment} under {course / 'submitted'}, but the assignment "
                  f"is released ({released}). Collect them first (nbgrader collect {args.assignment}, or put "
                  f"each under submitted/<student>/{args.assignment}/); `make demo` grades the demo class.",
                  file=sys.stderr)
            return 2
        print(f"No submissions under {course / 'submitted'} and no release yet: grading the built-in demo class.")
        return run_demo(None, args.jobs, progress)
    started = time.time()
    try:
        run = grade_course(course, load_settings(course, args.assignment), args.assignment, jobs=args.jobs,
                           student=args.student, force=args.force, progress=progress)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(interrupted_message(course, started), file=sys.stderr)
        return 130
    return 1 if run.errors or run.gradebook_error else 0


def interrupted_message(course: Path, started: float) -> str:
    """The one line printed after Ctrl-C: what this run saved, and how to go on."""
    cache = course / GRADES_DIR / CACHE_DIR
    saved = [p for p in cache.glob("*.json") if p.stat().st_mtime >= started] if cache.is_dir() else []
    return (f"\nInterrupted: {len(saved)} submission(s) graded in this run are saved in {cache} and will not be "
            f"graded again; the gradebook is as before this run or fully updated, never half-written. Run "
            f"`make grade` again to finish.")
