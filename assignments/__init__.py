"""The course's assignments: one typed record each (see ``record``), and the registry that lists them.

Adding an assignment = a module here defining its ``Assignment`` record (and listing it below), its notebook
template under templates/<name>/, and its case modules under autograder/cases/<name>/.
"""
from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from .convnets import CONVNETS
from .pytorch import PYTORCH
from .record import Assignment, GradedItem, GradingLimits, Linspace, ManualItem, SupportPackage
from .tensorflow import TENSORFLOW

ASSIGNMENTS: Mapping[str, Assignment] = MappingProxyType({a.name: a for a in (CONVNETS, PYTORCH, TENSORFLOW)})
# The instructor's grader secret at the course root (``autograder.secret``): every student's hidden inputs derive
# from it, so the builder, nbgrader's ignore lists and the Gradescope build all keep a file of this name out.
GRADER_SECRET_FILE = ".grader_secret"


def get(name: str) -> Assignment:
    """The record of assignment ``name``.

    Raises
    ------
    KeyError
        No such assignment; the message names the known ones.
    """
    try:
        return ASSIGNMENTS[name]
    except KeyError:
        raise KeyError(f"no assignment {name!r}; known: {', '.join(ASSIGNMENTS)}") from None


def select(name: str | None) -> list[Assignment]:
    """Every assignment (``name`` None or empty), or just the one called ``name`` (KeyError if unknown)."""
    return list(ASSIGNMENTS.values()) if not name else [get(name)]


__all__ = ["ASSIGNMENTS", "GRADER_SECRET_FILE", "Assignment", "GradedItem", "GradingLimits", "Linspace", "ManualItem", "SupportPackage",
           "get", "select"]
