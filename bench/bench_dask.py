"""Seconds per submission: the local process pool against a Dask LocalCluster, side by side on the same class.

    .venv/bin/python bench/bench_dask.py [--jobs N] [--copies K]

Builds the demo class, copies every gradable student K times (so the class is large enough to keep N workers
busy), and grades the same class twice from scratch (no cache): once with `make grade`'s process pool of N
processes, once with `make grade DASK=local` (a LocalCluster of N worker processes, cluster start included),
each in its own course directory. Prints wall seconds per submission for both, their ratio, and checks that
both runs gave every student the same score.
"""
from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assignments.convnets import CONVNETS  # noqa: E402
from autograder.cli import load_settings  # noqa: E402
from autograder.dask_cluster import DaskExecutor  # noqa: E402
from autograder.demo_class import build_demo_class, demo_settings  # noqa: E402
from autograder.pipeline import grade_course  # noqa: E402


def make_class(root: Path, copies: int) -> Path:
    """The demo class with each gradable student repeated `copies` times (demo_reference_2, ...)."""
    course = build_demo_class(REPO, root)
    submitted = course / "submitted"
    for student in sorted(p.name for p in submitted.iterdir()):
        for copy in range(2, copies + 1):
            shutil.copytree(submitted / student, submitted / f"{student}_{copy}")
    return course


def timed(course: Path, jobs: int, dask: bool) -> tuple[float, dict[str, float], int]:
    """(wall seconds, student -> score, submissions graded) of one full regrade."""
    settings = demo_settings(load_settings(course, CONVNETS.name), course)
    start = time.perf_counter()
    if dask:
        with DaskExecutor("local", workers=jobs) as executor:
            run = grade_course(course, settings, jobs=jobs, force=True, progress=False, gradebook=False,
                               out=io.StringIO(), executor=executor)
    else:
        run = grade_course(course, settings, jobs=jobs, force=True, progress=False, gradebook=False,
                           out=io.StringIO())
    wall = time.perf_counter() - start
    assert not run.errors, run.errors
    return wall, {r.student: r.score for r in run.results}, len(run.graded)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--copies", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        pool_course = make_class(Path(scratch) / "pool", args.copies)
        dask_course = make_class(Path(scratch) / "dask", args.copies)
        pool_wall, pool_scores, graded = timed(pool_course, args.jobs, dask=False)
        dask_wall, dask_scores, dask_graded = timed(dask_course, args.jobs, dask=True)
    assert graded == dask_graded and pool_scores == dask_scores, "the two runs disagree on a score"
    print(f"{graded} submissions graded ({len(pool_scores)} folders), {args.jobs} worker processes each")
    print(f"{'executor':<28}{'wall s':>9}{'s / submission':>16}")
    print(f"{'local process pool':<28}{pool_wall:>9.1f}{pool_wall / graded:>16.2f}")
    print(f"{'Dask LocalCluster':<28}{dask_wall:>9.1f}{dask_wall / graded:>16.2f}")
    print(f"ratio Dask / pool: {dask_wall / pool_wall:.2f}x (cluster start-up included); scores identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
