"""Seconds per submission: our pipeline vs `nbgrader autograde`, on the built-in demo class.

    .venv/bin/python bench/bench_grading.py [--jobs N] [--keep DIR]

Builds the demo class twice (one course directory per grader, so neither sees the other's output), grades it
with `python -m autograder`'s pipeline (all submissions, no cache, N parallel processes) and then each student
with `nbgrader autograde` (serial, as nbgrader runs), and prints both side by side. nbgrader executes the whole
notebook in a kernel, so it gets the tiny CIFAR-10 stand-in data set and small splits.
"""
from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assignments.convnets import CONVNETS  # noqa: E402
from autograder.cli import load_settings  # noqa: E402
from autograder.intake.course_layout import find_submissions  # noqa: E402
from autograder.demo_class import build_demo_class, demo_settings  # noqa: E402
from autograder.reports.gradebook import gradebook_location  # noqa: E402
from autograder.pipeline import grade_course  # noqa: E402


def _nbgrader_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ, CIFAR10_DIR=str(data_dir), CONVKIT_SMALL_DATA="1", MPLBACKEND="Agg")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    return env


def time_ours(course: Path, jobs: int) -> tuple[float, dict[str, tuple[float, float]]]:
    """Wall seconds for the whole class, and per student (engine seconds, score)."""
    start = time.perf_counter()
    run = grade_course(course, demo_settings(load_settings(course, CONVNETS.name), course), jobs=jobs, force=True,
                       progress=False,
                       out=io.StringIO())
    wall = time.perf_counter() - start
    return wall, {r.student: (r.seconds, r.score) for r in run.results}


def time_nbgrader(course: Path, data_dir: Path) -> dict[str, tuple[float, float | None]]:
    """Per student: wall seconds of `nbgrader autograde --student`, and the score it recorded (None: failed)."""
    from nbgrader.api import Gradebook, MissingEntry

    timings = {}
    for submission in find_submissions(course, CONVNETS):
        if submission.notebook is None:
            continue  # nbgrader has nothing to grade in a wrongly laid-out folder either
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "nbgrader", "autograde", CONVNETS.name, "--student",
                        submission.student, "--force"], cwd=course, env=_nbgrader_env(data_dir),
                       capture_output=True, text=True)
        seconds = time.perf_counter() - start
        with Gradebook(gradebook_location(course)[0]) as gb:
            try:
                score = gb.find_submission(CONVNETS.name, submission.student).score
            except MissingEntry:
                score = None
        timings[submission.student] = (seconds, score)
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--keep", type=Path, help="build the two course directories here and keep them")
    parser.add_argument("--repo", type=Path, default=REPO,
                        help="repository whose source/ notebook builds the demo class (default: this one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        root = args.keep.resolve() if args.keep else Path(scratch)
        from reference_impl.tiny_cifar import make_tiny_cifar10
        make_tiny_cifar10(root / "data")
        ours_course = build_demo_class(args.repo, root / "ours")
        theirs_course = build_demo_class(args.repo, root / "nbgrader")
        wall, ours = time_ours(ours_course, args.jobs)
        theirs = time_nbgrader(theirs_course, root / "data")

    print(f"{'submission':<28}{'ours s':>9}{'nbgrader s':>12}{'ratio':>8}{'ours pts':>10}{'nbgrader pts':>14}")
    for student in sorted(ours):
        mine, score = ours[student]
        other, other_score = theirs.get(student, (None, None))
        ratio = f"{other / mine:.1f}x" if other and mine else "-"
        print(f"{student:<28}{mine:>9.2f}{(f'{other:.2f}' if other else '-'):>12}{ratio:>8}{score:>10g}"
              f"{('-' if other_score is None else f'{other_score:g}'):>14}")
    graded = [s for s in ours if s in theirs]
    serial_ours = sum(ours[s][0] for s in graded)
    serial_theirs = sum(theirs[s][0] for s in graded)
    print(f"\nSubmissions graded by both: {len(graded)}")
    print(f"Per submission (serial):  ours {serial_ours / len(graded):.2f} s   nbgrader "
          f"{serial_theirs / len(graded):.2f} s   ratio {serial_theirs / serial_ours:.1f}x")
    print(f"Whole demo class ({len(ours)} folders): ours {wall:.1f} s wall with {args.jobs} job(s)   nbgrader "
          f"{serial_theirs:.1f} s serial   ratio {serial_theirs / wall:.1f}x")
    print("nbgrader points are its in-kernel test-cell scores; ours come from the case tables (max "
          f"{CONVNETS.total_autograded_points:g}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
