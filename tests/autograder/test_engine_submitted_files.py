"""A submission's graded files are read as regular files of their own: a linked one costs only its items."""
from __future__ import annotations

import os

import pytest

from assignments.convnets import CONVNETS, EXPERIMENT_FILE
from autograder.engine import grade_submission
from autograder.settings import GradingSettings
from fixture_builder import build_fixture, render_course, save_small_experiment_model

FUNCTION_POINTS = sum(g.points for g in CONVNETS.graded_items if g.runs_code)



@pytest.mark.slow
def test_a_hard_linked_experiment_file_scores_zero_on_the_experiment_only(tmp_path):
    source = render_course(tmp_path / "course")
    settings = GradingSettings(source_notebook=source, test_seconds=2.0, cell_seconds=4.0, memory_mb=1024)
    notebook = build_fixture("full_marks_reference", source, tmp_path / "mallory")
    theirs = save_small_experiment_model(tmp_path / "alice_experiment_model.npz")  # another student's good file
    os.link(theirs, notebook.parent / EXPERIMENT_FILE)
    result = grade_submission(notebook, "mallory", settings, {EXPERIMENT_FILE: notebook.parent / EXPERIMENT_FILE})
    experiment = [t for t in result.tests if t.item == "experiment"]
    assert experiment and all(t.score == 0 and not t.pending for t in experiment)
    assert all(f"{EXPERIMENT_FILE} was refused: {EXPERIMENT_FILE} is a hard link (2 names for one file)" in t.message
               for t in experiment)
    assert any(EXPERIMENT_FILE in p and "experiment scored zero" in p for p in result.problems)
    assert result.score == FUNCTION_POINTS  # every other item graded as usual, at full marks
