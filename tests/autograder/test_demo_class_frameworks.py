"""The demo class of each framework assignment, built and graded end to end as `make demo` does: the demo
students' notebooks, the reference open model trained in a child process (this process never imports a
framework), the real sandboxed workers."""
from __future__ import annotations

import importlib.util
import io

import pytest

import assignments
from autograder.demo_class import build_demo_class, demo_settings, half_done_items
from autograder.pipeline import grade_course
from autograder.cli import REPO_ROOT, load_settings

FRAMEWORKS = {"pytorch": "torch", "tensorflow": "tensorflow"}

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", sorted(FRAMEWORKS))
def test_the_framework_demo_class_grades_as_documented(name, tmp_path):
    if importlib.util.find_spec(FRAMEWORKS[name]) is None:
        pytest.skip(f"{FRAMEWORKS[name]} is not installed")
    record = assignments.get(name)
    course = build_demo_class(REPO_ROOT, tmp_path / "demo", only=(name,))
    assert sorted(p.name for p in (course / "submitted").iterdir()) == [
        "demo_broken_file", "demo_half_done", "demo_reference", "demo_wrong_name"]
    run = grade_course(course, demo_settings(load_settings(course, name), course), jobs=2, progress=False,
                       out=io.StringIO())
    assert run.errors == {} and not run.regrade
    results = {r.student: r for r in run.results}
    reference = results["demo_reference"]
    assert reference.score == pytest.approx(record.total_autograded_points), \
        [f"{t.name}: {t.message}" for t in reference.tests if t.score < t.max_score]
    half = results["demo_half_done"].item_scores()
    done = half_done_items(record)
    assert done and all(half[item] == reference.item_scores()[item] for item in done)
    assert sum(half[item][0] for item in half if item not in done) == 0
    assert results["demo_broken_file"].score == 0 and results["demo_broken_file"].problems
    assert results["demo_wrong_name"].score == 0
