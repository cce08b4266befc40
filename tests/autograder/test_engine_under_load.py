"""Grading on a busy machine: every core runs a busy loop (started and stopped here) and twice as many
submissions as cores are graded at once. Correct answers still earn exactly full marks, and runaway code (a busy
loop, a loop that swallows the timeout, a sleep) still loses only its own items: the limits measure the
submission's CPU time and the time it is awake, not how long the machine makes it wait.
"""
from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from assignments.convnets import CONVNETS
from autograder.engine import grade_submission
from autograder.settings import GradingSettings
from fixture_builder import affected_items, build_fixture, fixture_names, render_course

FUNCTION_ITEMS = {g.name: g.points for g in CONVNETS.graded_items if g.runs_code}
CORES = os.cpu_count() or 1
CORRECT = [n for n in fixture_names() if n.startswith("full_marks_")]
RUNAWAY = ["zero_gain_sys_exit", "zero_gain_infinite_loop", "zero_gain_swallows_the_time_limit",
           "zero_gain_sleeps_forever"]


@pytest.fixture(scope="module")
def busy_machine():
    """One busy loop per core for as long as the module's tests run."""
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(CORES)]
    try:
        yield loops
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()


@pytest.fixture(scope="module")
def graded_under_load(tmp_path_factory, busy_machine):
    source = render_course(tmp_path_factory.mktemp("course"))
    folder = tmp_path_factory.mktemp("fixtures")
    # The same short limits as test_engine: correct answers need a small fraction of them when run alone.
    settings = GradingSettings(source_notebook=source, test_seconds=2.0, cell_seconds=4.0, memory_mb=1024)
    names = CORRECT + RUNAWAY
    with ThreadPoolExecutor(max_workers=2 * CORES) as pool:  # JOBS at twice the core count
        results = pool.map(lambda n: grade_submission(build_fixture(n, source, folder), n, settings), names)
        graded = dict(zip(names, results))
    assert all(loop.poll() is None for loop in busy_machine), "the busy loops must run throughout"
    return graded


def _lost(result):
    return {item: got for item, (got, top) in result.item_scores().items() if item in FUNCTION_ITEMS and got < top}


@pytest.mark.slow
@pytest.mark.parametrize("name", CORRECT)
def test_correct_answers_earn_full_marks_on_a_busy_machine(graded_under_load, name):
    result = graded_under_load[name]
    assert _lost(result) == {}, [t.message for t in result.tests if not t.passed and t.item in FUNCTION_ITEMS]
    assert result.score == sum(FUNCTION_ITEMS.values())


@pytest.mark.slow
@pytest.mark.parametrize("name", RUNAWAY)
def test_runaway_code_loses_only_its_own_items_on_a_busy_machine(graded_under_load, name):
    result = graded_under_load[name]
    scores = result.item_scores()
    attacked = affected_items(name)
    assert all(scores[item][0] == 0 for item in attacked), {i: scores[i] for i in attacked}
    assert set(_lost(result)) == attacked


@pytest.mark.slow
def test_a_sleeper_is_ended_by_the_awake_clock_and_told_so(graded_under_load):
    result = graded_under_load["zero_gain_sleeps_forever"]
    failed = [t for t in result.tests if t.item == "max_pool_forward_naive" and not t.passed]
    assert failed and any("without computing" in t.message for t in failed), [t.message for t in failed]


@pytest.mark.slow
def test_a_swallowed_timeout_is_ended_by_the_cpu_clock_and_told_so(graded_under_load):
    result = graded_under_load["zero_gain_swallows_the_time_limit"]
    failed = [t for t in result.tests if t.item == "conv_forward_naive" and not t.passed]
    assert failed and any("of CPU time" in t.message for t in failed), [t.message for t in failed]
