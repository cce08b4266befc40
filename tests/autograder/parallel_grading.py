"""Grade many fixture submissions at once, one fresh process per grading at a time (the framework corpora).

Each grading's wall time is almost all its sandboxed worker (one core: the framework's import, then every item's
child in turn); the parent side is a few percent. So grading ``os.cpu_count()`` submissions at once divides the
corpus's wall time by nearly that much.

Why in processes, and why "spawn": two gradings run from two threads of one process were seen to hang there
(in BLAS computing expected values, or with every thread waiting on a lock). A spawned process is a fresh
interpreter (fork and exec): it shares no lock, no BLAS thread pool and no half-done import with the test
process or with another grading, and the test process itself only waits on the pool's pipes. A grading process
that dies raises ``BrokenProcessPool`` here instead of hanging. This is also how the pipeline grades a class
(``pipeline._run_pool``: one process per submission at a time).
"""
from __future__ import annotations

import multiprocessing
import os
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from autograder.engine import grade_submission
from autograder.results import SubmissionResult
from autograder.settings import GradingSettings


def grade_all(notebooks: Mapping[str, Path], settings: GradingSettings,
              files: Mapping[str, Path] | None = None) -> dict[str, SubmissionResult]:
    """``grade_submission(notebooks[name], name, settings, files)`` for every name, ``os.cpu_count()`` at once.

    Parameters
    ----------
    notebooks : mapping of student name to notebook path
        The submissions, already written (build them here, in the test process, before calling).
    settings : GradingSettings
        The settings every submission is graded with.
    files : mapping of file name to Path, optional
        Passed to every grading as is (``None``: each one looks next to its notebook).

    Returns
    -------
    dict of name to SubmissionResult
        In the order of ``notebooks``; each result exactly as ``grade_submission`` returned it (pickled back).
    """
    names = list(notebooks)
    workers = max(1, min(os.cpu_count() or 1, len(names)))
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(grade_submission, notebooks[name], name, settings, files) for name in names]
        return {name: future.result() for name, future in zip(names, futures)}
