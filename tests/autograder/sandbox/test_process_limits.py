"""Per-worker limits and grader-side failures: one worker's process count is its own, and a failure of the
grader's (a worker that cannot start) is a "grading error: regrade", never the student's zero."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from assignments.convnets import CONVNETS
from autograder import engine
from autograder.engine import grade_submission
from autograder.results import GRADING_ERROR
from autograder.sandbox import launch
from autograder.sandbox.launch import WorkerLimits, WorkerRun, run_worker
from autograder.settings import GradingSettings
from fixture_builder import build_fixture, render_course

FUNCTION_POINTS = sum(g.points for g in CONVNETS.graded_items if g.runs_code)

# Forks sleeping processes until the kernel refuses (its own RLIMIT_NPROC), says so, and holds them until told.
HOG = """
import json, os, time
children = 0
try:
    while children < 100000:
        if os.fork() == 0:
            time.sleep(120)
            os._exit(0)
        children += 1
    refused = None
except OSError as error:
    refused = type(error).__name__
json.dump({"children": children, "refused": refused}, open("exhausted.tmp", "w"))
os.replace("exhausted.tmp", "exhausted.json")
while not os.path.exists("stop"):
    time.sleep(0.1)
"""


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    source = render_course(tmp_path_factory.mktemp("course"))
    return GradingSettings(source_notebook=source, test_seconds=2.0, cell_seconds=4.0, memory_mb=1024)


@pytest.mark.slow
@pytest.mark.skipif(not launch.namespaces_available(), reason="needs user namespaces (unshare) on this machine")
def test_grading_beside_a_job_that_exhausts_its_process_limit_is_unaffected(tmp_path, settings):
    hog_dir = tmp_path / "hog"
    hog_dir.mkdir()
    (hog_dir / "hog.py").write_text(HOG)
    limits = WorkerLimits(wall_seconds=300, cpu_seconds=60, memory_mb=1024)  # the same process limit graders get
    hog = threading.Thread(target=run_worker, args=(hog_dir, "hog.py", [], limits))
    hog.start()
    try:
        deadline = time.monotonic() + 240
        while not (hog_dir / "exhausted.json").exists():
            assert hog.is_alive() and time.monotonic() < deadline, "the neighbour never reached its limit"
            time.sleep(0.2)
        exhausted = json.loads((hog_dir / "exhausted.json").read_text())
        assert exhausted["refused"] == "BlockingIOError"  # its own limit, fully used
        assert exhausted["children"] >= limits.max_processes - 8
        result = grade_submission(build_fixture("full_marks_reference", settings.source_notebook, tmp_path / "fx"),
                                  "beside-a-hog", settings)
    finally:
        (hog_dir / "stop").touch()
        hog.join()
    assert not result.needs_regrade, result.problems
    assert result.score == FUNCTION_POINTS, [t.message for t in result.tests if not t.passed]


def test_a_worker_that_cannot_start_is_a_grading_error_not_a_zero(tmp_path, settings, monkeypatch):
    def cannot_start(*args, **kwargs):
        return WorkerRun(None, False, "", "could not start the worker: [Errno 11] Resource temporarily unavailable",
                         "namespaces+nobody", 0.0)

    monkeypatch.setattr(engine, "run_worker", cannot_start)
    monkeypatch.setattr(engine, "GRADER_ERROR_PAUSE_SECONDS", 0.0)
    result = grade_submission(build_fixture("full_marks_reference", settings.source_notebook, tmp_path),
                              "unlucky", settings)
    in_worker = [t for t in result.tests if CONVNETS.item(t.item).runs_code]
    assert in_worker and all(t.grading_error and t.message.startswith(GRADING_ERROR) for t in in_worker)
    assert all("Resource temporarily unavailable" in t.grading_error for t in in_worker)
    assert result.needs_regrade
    assert any(p.startswith(GRADING_ERROR) and "conv_forward_naive" in p for p in result.problems)
    assert not any(t.grading_error for t in result.tests if not CONVNETS.item(t.item).runs_code)


def test_a_worker_that_ends_before_its_first_item_is_a_grading_error(tmp_path, settings, monkeypatch):
    def dies_at_once(workdir: Path, script, args, limits, isolation="auto", **options):
        return WorkerRun(1, False, "", "unshare: mount failed: Permission denied", "namespaces+nobody", 0.1, b"")

    monkeypatch.setattr(engine, "run_worker", dies_at_once)
    monkeypatch.setattr(engine, "GRADER_ERROR_PAUSE_SECONDS", 0.0)
    result = grade_submission(build_fixture("full_marks_reference", settings.source_notebook, tmp_path),
                              "unlucky", settings)
    assert result.needs_regrade
    assert all("mount failed" in t.grading_error for t in result.tests if CONVNETS.item(t.item).runs_code)
