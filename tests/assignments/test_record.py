"""The assignment records: the registry, and records that refuse to hold contradictory facts."""
from __future__ import annotations

import pytest

import assignments
from assignments import Assignment, GradedItem, ManualItem, SupportPackage
from assignments.convnets import CONVNETS, EXPERIMENT_FILE


def test_the_registry_finds_assignments_by_name_and_names_the_known_ones():
    assert assignments.get("convnets") is CONVNETS
    assert assignments.select(None) == list(assignments.ASSIGNMENTS.values())
    assert assignments.select("convnets") == [CONVNETS]
    with pytest.raises(KeyError, match="no assignment 'nope'; known: convnets"):
        assignments.get("nope")


def test_submission_files_are_the_notebook_and_the_files_items_are_graded_from():
    assert CONVNETS.submission_files == (CONVNETS.notebook, EXPERIMENT_FILE)
    assert [g.name for g in CONVNETS.graded_items if not g.runs_code] == ["experiment"]


def test_convnets_points_add_up_to_the_published_totals():
    # 100 autograded points of code and experiment, plus 10 by hand: the split the notebook announces.
    assert CONVNETS.total_autograded_points == 110
    assert CONVNETS.total_manual_points == 10


@pytest.mark.parametrize("make, words", [
    (lambda: GradedItem("f", 0), "points must be positive"),
    (lambda: GradedItem("f", 1, kind="file"), "names its file"),
    (lambda: GradedItem("f", 1, kind="class", file="x.npz"), "only 'file' and 'function' items"),
    (lambda: GradedItem("f", 1, file="../x.npz"), "not a plain file name"),
    (lambda: Assignment("a", "A.ipynb", "t.py", (GradedItem("f", 1),), naive_forbidden=("torch.nn.Module",)),
     "forbids nothing"),
    (lambda: Assignment("a", "A.ipynb", "t.py", (GradedItem("f", 1),), preload=("torch nn",)), "dotted"),
    (lambda: SupportPackage("k", ("frameworks..prep",)), "not a module name"),
    (lambda: Assignment("a", "A.ipynb", "t.py", (GradedItem("f", 1),), (ManualItem("f", 2),)), "used twice: f"),
    (lambda: Assignment("a", "A.ipynb", "t.py", (GradedItem("f", 1),), naive_items=("g",)), "not graded items"),
])
def test_contradictory_records_are_refused(make, words):
    with pytest.raises(ValueError, match=words):
        make()


def test_an_unknown_item_is_a_key_error_naming_the_known_ones():
    with pytest.raises(KeyError, match="known: conv_forward_naive"):
        CONVNETS.item("conv_forward_fast")
