"""The built-in demo class, built from the instructor's source notebook and graded end to end with the real
engine (skipped if `make source` has not produced the notebook)."""
from __future__ import annotations

import io
import json

import nbformat
import pytest

from assignments.convnets import CONVNETS
from autograder.cli import REPO_ROOT, load_settings
from autograder.intake.course_layout import find_submissions
from autograder.demo_class import build_demo_class, demo_settings, half_done_items
from autograder.pipeline import grade_course

HALF_DONE_ITEMS = half_done_items(CONVNETS)
SOURCE = REPO_ROOT / "source" / CONVNETS.name / CONVNETS.notebook
needs_source = pytest.mark.skipif(not SOURCE.is_file(), reason="run `make source` first: no instructor notebook")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    # convnets alone: the framework assignments' demo students train open models (tests/autograder/
    # test_demo_class_frameworks.py grades those)
    return build_demo_class(REPO_ROOT, tmp_path_factory.mktemp("demo"), only=(CONVNETS.name,))


def _solution_cells(path):
    notebook = nbformat.read(str(path), as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in notebook.cells
            if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}


@pytest.mark.slow
@needs_source
def test_the_demo_class_has_the_five_documented_students(demo):
    found = {s.student: s for s in find_submissions(demo, CONVNETS)}
    assert sorted(found) == ["demo_broken_file", "demo_buggy_pool_backward", "demo_half_done", "demo_reference",
                             "demo_wrong_name"]
    assert "wrongly named notebook" in found["demo_wrong_name"].problem
    with pytest.raises(ValueError):
        json.loads(found["demo_broken_file"].notebook.read_text())


@pytest.mark.slow
@needs_source
def test_submissions_differ_from_the_reference_only_where_intended(demo):
    def cells(student):
        return _solution_cells(demo / "submitted" / student / CONVNETS.name / CONVNETS.notebook)
    reference, half, buggy = cells("demo_reference"), cells("demo_half_done"), cells("demo_buggy_pool_backward")
    source = _solution_cells(demo / "source" / CONVNETS.name / CONVNETS.notebook)
    assert all("### BEGIN SOLUTION" not in text for text in reference.values())
    assert set(reference) == set(source)
    assert {k for k in reference if reference[k] != half[k]} == set(reference) - set(HALF_DONE_ITEMS)
    assert {k for k in reference if reference[k] != buggy[k]} == {"max_pool_backward_naive"}


@pytest.mark.slow
@needs_source
def test_building_twice_changes_nothing(demo):
    before = {p: p.read_bytes() for p in (demo / "submitted").rglob("*") if p.is_file()}
    build_demo_class(REPO_ROOT, demo, only=(CONVNETS.name,))
    assert {p: p.read_bytes() for p in (demo / "submitted").rglob("*") if p.is_file()} == before


def test_a_missing_source_notebook_says_to_run_make_source(tmp_path):
    with pytest.raises(FileNotFoundError, match="run `make source` first"):
        build_demo_class(tmp_path)


@pytest.mark.slow
@needs_source
def test_grading_the_demo_class_end_to_end(demo):
    run = grade_course(demo, demo_settings(load_settings(demo, CONVNETS.name), demo), jobs=2, progress=False, out=io.StringIO())
    assert run.errors == {}
    results = {r.student: r for r in run.results}
    assert results["demo_reference"].score == pytest.approx(CONVNETS.total_autograded_points)
    buggy = results["demo_buggy_pool_backward"].item_scores()
    reference = results["demo_reference"].item_scores()
    assert {k for k in reference if buggy[k] != reference[k]} == {"max_pool_backward_naive"}
    half = results["demo_half_done"].item_scores()
    assert all(half[k] == reference[k] for k in HALF_DONE_ITEMS)
    assert sum(half[k][0] for k in half if k not in HALF_DONE_ITEMS) == 0  # no experiment file either
    assert results["demo_broken_file"].score == 0 and results["demo_broken_file"].problems
    assert results["demo_wrong_name"].score == 0
    assert (demo / "autograded" / "demo_reference" / CONVNETS.name / CONVNETS.notebook).is_file()
