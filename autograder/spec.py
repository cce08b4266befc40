"""What the assignment grades: one typed record per graded item, shared by notebook generation and grading.

This is the single place where grade ids and points live. `make source` writes them into the nbgrader
metadata of the generated notebook; the autograder scores against them and never against what a submitted
notebook's metadata claims.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ASSIGNMENT = "convnets"
NOTEBOOK = "ConvolutionalNetworks.ipynb"
# Data file the experiment section writes next to the notebook; the only non-notebook file the grader reads
# from a submission, and only with np.load(allow_pickle=False).
EXPERIMENT_FILE = "experiment_model.npz"


@dataclass(frozen=True)
class GradedItem:
    """One graded unit of the assignment.

    name: the function or class the student writes (also the grade id of its solution cell).
    points: autograded points for the item.
    kind: "function" (a pure layer function), "class" (a model class) or "experiment" (saved parameters).
    """

    name: str
    points: float
    kind: Literal["function", "class", "experiment"] = "function"

    @property
    def solution_cell_id(self) -> str:
        return self.name

    @property
    def test_cell_id(self) -> str:
        return f"test_{self.name}"


GRADED_ITEMS: tuple[GradedItem, ...] = (
    GradedItem("conv_forward_naive", 10),
    GradedItem("conv_backward_naive", 15),
    GradedItem("max_pool_forward_naive", 8),
    GradedItem("max_pool_backward_naive", 10),
    GradedItem("ThreeLayerConvNet", 20, kind="class"),
    GradedItem("spatial_batchnorm_forward", 10),
    GradedItem("spatial_batchnorm_backward", 10),
    GradedItem("spatial_groupnorm_forward", 7),
    GradedItem("spatial_groupnorm_backward", 10),
    GradedItem("experiment", 10, kind="experiment"),
)

# Written questions graded by hand in the formgrader: grade id -> points.
MANUAL_ITEMS: dict[str, float] = {
    "answer_naive_speed": 5,
    "answer_filters": 5,
}

# Validation accuracy of the experiment model that earns full credit (partial credit scales below it).
EXPERIMENT_FULL_CREDIT_ACCURACY = 0.65


def item(name: str) -> GradedItem:
    """Look up a graded item by name; raises KeyError naming the known items."""
    for graded in GRADED_ITEMS:
        if graded.name == name:
            return graded
    raise KeyError(f"no graded item {name!r}; known: {', '.join(g.name for g in GRADED_ITEMS)}")


def total_autograded_points() -> float:
    return sum(g.points for g in GRADED_ITEMS)
