"""Command line: `python -m autograder grade ...` and `python -m autograder demo-class`.

    python -m autograder grade [--assignment NAME] [--student ID] [--jobs N] [--course-dir DIR] [--force]
    python -m autograder demo-class [--dest DIR] [--jobs N]

`grade` grades every assignment of the course whose instructor notebook exists (source/<name>/), or only
`--assignment`; with no submissions under <course-dir>/submitted/ it grades the built-in demo class instead,
so that a fresh clone shows the whole pipeline at work.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Sequence

import assignments

from .intake.course_layout import check_student_id, find_submissions
from .pipeline import grade_course
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
    record = assignments.get(assignment)
    instructor = Path(course_dir) / "source" / record.name / record.notebook
    overrides = {"source_notebook": instructor.resolve()} if instructor.is_file() else {}
    return GradingSettings.from_nbgrader_config(Path(course_dir), record.name, **overrides)


def installed(course_dir: Path, name: str = "") -> list[assignments.Assignment]:
    """The assignments to grade: ``name`` only, or every one the course has (its instructor notebook is in
    source/, or some student submitted it)."""
    if name:
        return [assignments.get(name)]
    course_dir = Path(course_dir)
    return [a for a in assignments.ASSIGNMENTS.values()
            if (course_dir / "source" / a.name / a.notebook).is_file()
            or any(p.is_dir() for p in (course_dir / "submitted").glob(f"*/{a.name}"))]


def run_demo(dest: Path | None, jobs: int, progress: bool) -> int:
    """Build the demo class, grade it, and say where to look."""
    from .demo_class import build_demo_class, demo_settings
    try:
        course = build_demo_class(REPO_ROOT, dest)
    except (FileNotFoundError, RuntimeError) as error:
        print(f"cannot build the demo class: {error}", file=sys.stderr)
        return 2
    chosen = installed(course)
    print(f"Demo class in {course} ({', '.join(a.name for a in chosen)}): the reference solution (with the files "
          f"it is graded from), a half-done notebook, one with a classic bug, a broken file and a wrongly named "
          f"notebook.")
    errors = 0
    for record in chosen:
        print(f"\n== {record.name} ==")
        try:
            run = grade_course(course, demo_settings(load_settings(course, record.name), course), jobs=jobs,
                               progress=progress)
        except IsolationUnavailable as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        errors += len(run.errors) + len(run.regrade)
    print(f"\nClass table: {course / 'grades' / 'grades.csv'}; open "
          f"{course / 'grades' / chosen[0].name / 'demo_half_done' / 'feedback.html'} to see a student's feedback.")
    return 1 if errors else 0


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
    chosen = installed(course, args.assignment)
    if not any(find_submissions(course, record) for record in chosen):
        if args.student:
            print(f"no submissions under {course / 'submitted'}; nothing to regrade for {args.student}",
                  file=sys.stderr)
            return 2
        print(f"No submissions under {course / 'submitted'}: grading the built-in demo class instead.")
        return run_demo(None, args.jobs, progress)
    errors = 0
    for record in chosen:
        if len(chosen) > 1:
            print(f"\n== {record.name} ==")
        try:
            run = grade_course(course, load_settings(course, record.name), jobs=args.jobs,
                               student=args.student, force=args.force, progress=progress)
        except (ValueError, IsolationUnavailable) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        errors += len(run.errors) + len(run.regrade)
    return 1 if errors else 0
