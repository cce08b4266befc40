"""Every check of every graded item, one module per item: ``autograder/cases/<assignment>/<item>.py``.

An item module holds its case table, ``CASES`` (plain ``Case`` records built with ``case``), and says how a
case is graded, in one of two ways:

- ``prepare(case, rng) -> Prepared``: the case runs student code in a worker. ``Prepared`` holds the input
  arrays, the worker program (written with ``autograder.cases.ops``, the only module that writes operations)
  and the parent-side checks, whose expected values come from ``reference_impl`` or an independent formula.
- ``score(cases, path, settings) -> list[TestResult]``: the item is graded in the parent from a file the
  submission carries (``GradedItem.file``; ``path`` None when it was not submitted); no student code runs.

Points live only in the assignment record: a case carries a ``weight`` and ``cases_for`` gives it its share of
the item's points (``points * weight / sum of weights``).

Hidden cases vary the data, never the rules: every property a case exercises (``properties``: its own ``tags``
plus what the item module's optional ``properties(case)`` derives from its configuration, such as "dtype
float32" or "non-square filter") must also be exercised by a visible case of the item, which students can run
before submitting (``uncovered_properties`` lists the ones that are not; a test keeps it empty).
"""
from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Literal

import numpy as np

from assignments import Assignment
from . import framework_properties

Visibility = Literal["visible", "hidden"]
FORWARD_TOL = 1e-6   # float64 rel_error between two correct implementations stays far below this


@dataclass(frozen=True)
class Case:
    """One graded check of one item.

    name: "<item>: <what is checked>" (shown to students even for hidden cases).
    weight: the case's share of the item's points, relative to the other cases of the item.
    config: plain data the item module reads (shapes, hyperparameters, the kind of check).
    fixed_seed: seed of the inputs for visible cases; hidden cases draw from the student's hidden seed
        (``autograder.secret.hidden_seed``: the grader secret and the student id).
    points: filled in by ``cases_for`` from the assignment record.
    tags: properties of the case that its configuration does not show (see ``properties``).
    """

    name: str
    item: str
    weight: float
    visibility: Visibility
    config: dict = field(default_factory=dict, hash=False)
    tolerance: float = FORWARD_TOL
    fixed_seed: int | None = None
    points: float = 0.0
    tags: frozenset[str] = frozenset()

    @property
    def case_id(self) -> str:
        return f"{self.item}-{zlib.crc32(self.name.encode()):08x}"


@dataclass
class Prepared:
    """A case made concrete: worker inputs and program, and the parent's checks.

    aux_ops: a second program whose outputs only support checks (the submitted forward pass evaluated for a
    numeric gradient); the worker runs it after every main program, so if the forward pass crashes the
    process, the backward pass has already been graded.
    """

    inputs: dict[str, np.ndarray]
    ops: list[dict]
    checks: list
    aux_ops: list[dict] = field(default_factory=list)
    # Submitted files the cases read, checked by the parent (the engine copies an item's file itself; the
    # notebook's in-process run copies these).
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def reference_bytes(self) -> int:
        """Float64 bytes of the case's inputs and of the arrays and shapes its checks expect: what a correct
        answer's outputs are commensurate with (the parent's budget for loading them is a multiple of it)."""
        total = sum(np.size(a) for a in self.inputs.values())
        for check in self.checks:
            for name, held in vars(check).items():
                if isinstance(held, np.ndarray):
                    total += held.size
                elif name == "shape" and isinstance(held, (tuple, list)) and all(isinstance(n, int) for n in held):
                    total += int(np.prod(held, dtype=np.int64))
        return 8 * int(total)


def case(item: str, what: str, weight: float, hidden: bool = True, tags=(), **config) -> Case:
    """A case of ``item`` checking ``what``; visible cases get a fixed seed derived from ``what``. ``tags``: the
    properties it exercises beyond those its item module derives from ``config`` (see ``properties``)."""
    seed = None if hidden else zlib.crc32(what.encode()) % 2**31
    tolerance = config.pop("tolerance", FORWARD_TOL)
    return Case(f"{item}: {what}", item, weight, "hidden" if hidden else "visible", config, tolerance, seed,
                tags=frozenset(tags))


@functools.lru_cache(maxsize=None)
def item_module(assignment: str, item: str) -> ModuleType:
    """The case module of one item (ModuleNotFoundError naming the expected file if it is missing)."""
    try:
        return importlib.import_module(f"{__name__}.{assignment}.{item}")
    except ModuleNotFoundError as error:
        if error.name and error.name.startswith(f"{__name__}.{assignment}"):
            raise ModuleNotFoundError(f"graded item {item!r} of assignment {assignment!r} has no case module "
                                      f"autograder/cases/{assignment}/{item}.py", name=error.name) from None
        raise


def runs_in_worker(assignment: Assignment, item: str) -> bool:
    """Whether the item's cases run student code in a worker (else the parent scores a submitted file)."""
    return hasattr(item_module(assignment.name, item), "prepare")


def cases_for(assignment: Assignment, item: str) -> tuple[Case, ...]:
    """The cases of one graded item, each with its share of the item's points."""
    graded = assignment.item(item)  # KeyError naming the known items if misspelt
    table = item_module(assignment.name, item).CASES
    total = sum(c.weight for c in table)
    return tuple(dataclasses.replace(c, points=graded.points * c.weight / total) for c in table)


def properties(assignment: Assignment, case: Case) -> frozenset[str]:
    """The rules one case exercises: its ``tags`` and what its item module's ``properties(case)`` (if it has
    one; else the framework assignments' default, ``framework_properties``) derives from the configuration."""
    module = item_module(assignment.name, case.item)
    derive = getattr(module, "properties", None)
    if derive is None and assignment.preload:  # an assignment that preloads a framework (PyTorch, TensorFlow)
        derive = framework_properties.properties
    return frozenset(case.tags) | frozenset(derive(case) if derive else ())


def uncovered_properties(assignment: Assignment, item: str) -> dict[str, frozenset[str]]:
    """Hidden case name -> the properties it exercises that no visible case of the item does (empty when every
    hidden case only varies the data of rules a student can check before submitting)."""
    table = cases_for(assignment, item)
    shown = frozenset().union(*(properties(assignment, c) for c in table if c.visibility == "visible"))
    missing = {c.name: properties(assignment, c) - shown for c in table if c.visibility == "hidden"}
    return {name: left for name, left in missing.items() if left}


def _rng(case: Case, hidden_seed: int) -> np.random.Generator:
    if case.fixed_seed is not None:
        return np.random.default_rng(case.fixed_seed)
    return np.random.default_rng([hidden_seed, zlib.crc32(case.name.encode())])


def prepare(assignment: Assignment, case: Case, hidden_seed: int = 0, settings=None,
            submitted_file: Path | None = None) -> Prepared:
    """Inputs, worker program and checks of one case (hidden inputs drawn from ``hidden_seed``, an integer of any
    size: the grader passes the student's ``secret.hidden_seed``). Expected values are computed here, in the
    parent, by the reference from those very inputs.

    An item module whose ``prepare`` takes a third argument gets the grading ``settings`` (None outside the
    grader), e.g. for its held-out data; one that takes a fourth also gets the path of the item's submitted
    file (None: not submitted), so the parent can check the file before any student code opens it.
    """
    module = item_module(assignment.name, case.item)
    extra = len(inspect.signature(module.prepare).parameters) - 2
    if extra > 0:
        return module.prepare(case, _rng(case, hidden_seed), *(settings, submitted_file)[:extra])
    return module.prepare(case, _rng(case, hidden_seed))


def score_file(assignment: Assignment, item: str, path, settings) -> list:
    """The TestResults of an item graded from a submitted file (``path`` None: not submitted)."""
    return item_module(assignment.name, item).score(cases_for(assignment, item), path, settings)
