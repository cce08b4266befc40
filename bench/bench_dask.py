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


def timed(course: Path, jobs: int, dask: bool) -> tuple[float, float, dict[str, float], int]:
    """(wall seconds grading, wall seconds including cluster start and stop, student -> score, submissions
    graded) of one full regrade."""
    settings = demo_settings(load_settings(course, CONVNETS.name), course)
    start = time.perf_counter()
    if dask:
        with DaskExecutor("local", workers=jobs) as executor:
            executor.client.wait_for_workers(jobs)
            graded_from = time.perf_counter()
            run = grade_course(course, settings, jobs=jobs, force=True, progress=False, gradebook=False,
                               out=io.StringIO(), executor=executor)
            grading = time.perf_counter() - graded_from
    else:
        run = grade_course(course, settings, jobs=jobs, force=True, progress=False, gradebook=False,
                           out=io.StringIO())
        grading = time.perf_counter() - start
    wall = time.perf_counter() - start
    assert not run.errors, run.errors
    return grading, wall, {r.student: r.score for r in run.results}, len(run.graded)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--copies", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        pool_course = make_class(Path(scratch) / "pool", args.copies)
        dask_course = make_class(Path(scratch) / "dask", args.copies)
        pool, pool_wall, pool_scores, graded = timed(pool_course, args.jobs, dask=False)
        dask, dask_wall, dask_scores, dask_graded = timed(dask_course, args.jobs, dask=True)
    assert graded == dask_graded and pool_scores == dask_scores, "the two runs disagree on a score"
    print(f"{graded} submissions graded ({len(pool_scores)} folders), {args.jobs} worker processes each")
    print(f"{'executor':<22}{'grading s':>11}{'s / submission':>16}{'with cluster start/stop s':>27}")
    print(f"{'local process pool':<22}{pool:>11.1f}{pool / graded:>16.2f}{pool_wall:>27.1f}")
    print(f"{'Dask LocalCluster':<22}{dask:>11.1f}{dask / graded:>16.2f}{dask_wall:>27.1f}")
    print(f"ratio Dask / pool, grading only: {dask / pool:.2f}x; with the cluster's start and stop: "
          f"{dask_wall / pool_wall:.2f}x; scores identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
