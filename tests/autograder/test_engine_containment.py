"""A failure of the grader's own reader that one item's process provokes costs only that item: never the whole
submission, and never a "grading error: regrade" (a regrade would provoke it again)."""
from __future__ import annotations

import pytest

from assignments.convnets import CONVNETS
from autograder import engine
from autograder.engine import grade_submission
from autograder.settings import GradingSettings
from fixture_builder import build_fixture, render_course

FUNCTION_ITEMS = {g.name: g.points for g in CONVNETS.graded_items if g.runs_code}


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    source = render_course(tmp_path_factory.mktemp("course"))
    return GradingSettings(source_notebook=source, test_seconds=2.0, cell_seconds=4.0, memory_mb=1024)


def _lost(result):
    return {item for item, (got, top) in result.item_scores().items() if item in FUNCTION_ITEMS and got < top}


@pytest.mark.slow
def test_a_reader_failure_on_one_item_costs_only_that_item(tmp_path, settings, monkeypatch):
    real = engine.load_outputs

    def fragile(folder, *args, **kwargs):
        if "max_pool_backward_naive" in str(folder):
            raise ValueError("a header the reader cannot parse")
        return real(folder, *args, **kwargs)

    monkeypatch.setattr(engine, "load_outputs", fragile)
    result = grade_submission(build_fixture("full_marks_reference", settings.source_notebook, tmp_path), "x", settings)
    assert _lost(result) == {"max_pool_backward_naive"}
    assert result.item_scores()["max_pool_backward_naive"][0] == 0
    failed = [t for t in result.tests if t.item == "max_pool_backward_naive"]
    assert all("could not read what this item's process left" in t.message for t in failed)
    assert not result.needs_regrade


@pytest.mark.slow
def test_a_huge_output_costs_its_item_and_is_never_loaded(tmp_path, settings):
    """The parent's own allocations (traced by tracemalloc, which sees NumPy's buffers too) stay below the size
    of the 24 MiB output the fixture's worker wrote, which reading it would take on its own (and its float64
    copy as much again): the file is refused on its size, before any of it is read."""
    import tracemalloc

    notebook = build_fixture("zero_gain_writes_a_huge_output_file", settings.source_notebook, tmp_path)
    tracemalloc.start()
    try:
        result = grade_submission(notebook, "x", settings)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert _lost(result) == {"conv_backward_naive"}
    assert result.item_scores()["conv_backward_naive"][0] == 0
    assert peak < 24 * 1024 * 1024, f"the parent allocated up to {peak / 2**20:.1f} MiB"
    failed = [t for t in result.tests if t.item == "conv_backward_naive"]
    assert all(t.message.startswith("conv_backward_naive scores zero") and "MiB" in t.message and t.hint
               for t in failed)
    assert not result.needs_regrade

