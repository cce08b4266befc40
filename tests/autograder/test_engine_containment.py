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

    def fragile(folder, metadata, file_mb):
        if "max_pool_backward_naive" in str(folder):
            raise ValueError("a header the reader cannot parse")
        return real(folder, metadata, file_mb)

    monkeypatch.setattr(engine, "load_outputs", fragile)
    result = grade_submission(build_fixture("full_marks_reference", settings.source_notebook, tmp_path), "x", settings)
    assert _lost(result) == {"max_pool_backward_naive"}
    assert result.item_scores()["max_pool_backward_naive"][0] == 0
    failed = [t for t in result.tests if t.item == "max_pool_backward_naive"]
    assert all("could not read what this item's process left" in t.message for t in failed)
    assert not result.needs_regrade
