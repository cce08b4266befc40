"""The typed record of one assignment: everything the notebook builder and the autograder must agree on.

An assignment is plain data: its name, notebook, graded items (with points), hand-graded items, the files a
submission may carry, what the release leaves out, what is shipped to students, and the grading limits its code
needs. `notebook_builder` writes these facts into the generated notebook; `autograder` grades against them. Both
import this package and neither imports the other.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from types import MappingProxyType
from typing import Any, Literal

# "function" and "class": code the student writes, run by the grader's workers (a "function" item that names
# a file also gets that submitted file, next to its cases, e.g. a framework model's saved weights);
# "file": graded in the parent from a file the submission carries (its solution cell is never run).
ItemKind = Literal["function", "class", "file"]


@dataclass(frozen=True)
class GradedItem:
    """One autograded unit of an assignment.

    name: the function or class the student writes (also the grade id of its solution cell).
    points: the item's autograded points; its cases share them by their weights.
    kind: see ItemKind.
    file: the submitted file (next to the notebook) it is graded from: required for kind "file"; a "function"
        item that names one runs in a worker that finds the file (copied, size-capped) in its directory.
    """

    name: str
    points: float
    kind: ItemKind = "function"
    file: str | None = None

    def __post_init__(self) -> None:
        if not self.points > 0:
            raise ValueError(f"graded item {self.name!r}: points must be positive, got {self.points!r}")
        if self.kind == "file" and self.file is None:
            raise ValueError(f"graded item {self.name!r}: an item of kind 'file' names its file")
        if self.kind == "class" and self.file is not None:
            raise ValueError(f"graded item {self.name!r}: only 'file' and 'function' items read a submitted file")
        if self.file is not None and (not self.file or "/" in self.file or self.file.startswith(".")):
            raise ValueError(f"graded item {self.name!r}: {self.file!r} is not a plain file name")

    @property
    def solution_cell_id(self) -> str:
        return self.name

    @property
    def test_cell_id(self) -> str:
        return f"test_{self.name}"

    @property
    def runs_code(self) -> bool:
        """Whether grading runs the student's code for this item (else it reads ``file``)."""
        return self.kind != "file"


@dataclass(frozen=True)
class ManualItem:
    """A written answer graded by hand in the formgrader."""

    name: str
    points: float


@dataclass(frozen=True)
class GradingLimits:
    """The limits grading needs for this assignment's code (defaults of ``autograder.settings``).

    cpu_seconds: RLIMIT_CPU per graded item's process.
    memory_mb: RLIMIT_AS per worker process, in MiB (a framework's import may reserve gigabytes).
    startup_seconds: wall allowance for the interpreter and its imports, per worker.
    cell_seconds, test_seconds: CPU-time limits per student cell and per test case (see autograder.settings).
    """

    cpu_seconds: float = 120.0
    memory_mb: int = 2048
    startup_seconds: float = 15.0
    cell_seconds: float = 10.0
    test_seconds: float = 5.0


@dataclass(frozen=True)
class SupportPackage:
    """The package of provided code students receive next to the notebook (copies of reference modules).

    name: the package name in the student's folder (e.g. ``convkit``).
    modules: reference modules copied into it, in docs/DESIGN.md's table order. A dotted name
        (``frameworks.prep``) ships ``reference_impl/frameworks/prep.py`` as ``convkit/frameworks/prep.py``, in
        a subpackage of its own: such modules are imported by their full name, never re-exported by
        ``convkit`` (importing ``convkit`` must not import a framework).
    extra_files: other reference files copied as they are (e.g. a Cython source).
    not_reexported: shipped modules importable by name but not re-exported by the package (entry points).
    never_shipped: graded or instructor-only reference modules that must never reach students.
    tripwired: shipped modules replaced by tripwires while the ``naive_items`` are graded.
    self_check: ship the notebook's self-check as ``<name>/selfcheck/`` (``check("<item>")`` runs the item's
        visible cases in the student's kernel and prints what the grader will say; see
        ``autograder.self_check``).
    """

    name: str
    modules: tuple[str, ...]
    extra_files: tuple[str, ...] = ()
    not_reexported: tuple[str, ...] = ()
    never_shipped: tuple[str, ...] = ()
    tripwired: tuple[str, ...] = ()
    self_check: bool = False

    def __post_init__(self) -> None:
        for module in (*self.modules, *self.never_shipped):
            if not all(part.isidentifier() for part in module.split(".")):
                raise ValueError(f"support package {self.name!r}: {module!r} is not a module name")

    @property
    def compiled_tripwired(self) -> tuple[str, ...]:
        """The compiled variants of the ``tripwired`` modules: stems of ``extra_files`` that start with one
        (``im2col_cython`` for ``im2col``); the naive items' workers never get them."""
        stems = (PurePosixPath(extra).stem for extra in self.extra_files)
        return tuple(stem for stem in stems if any(stem.startswith(module) for module in self.tripwired))

    @property
    def subpackages(self) -> tuple[str, ...]:
        """The subpackages (``frameworks``) that dotted shipped modules live in, in first-use order."""
        found: list[str] = []
        for module in self.modules:
            parts = module.split(".")[:-1]
            for depth in range(1, len(parts) + 1):
                name = ".".join(parts[:depth])
                if name not in found:
                    found.append(name)
        return tuple(found)


@dataclass(frozen=True)
class Linspace:
    """A published input array: ``np.linspace(start, stop, num=prod(shape)).reshape(shape)``."""

    start: float
    stop: float
    shape: tuple[int, ...]


@dataclass(frozen=True)
class Assignment:
    """One assignment of the course.

    name: the nbgrader assignment id (folder under source/, release/, submitted/<student>/).
    notebook: file name of the notebook.
    template: the notebook's template, relative to the repository root.
    graded_items: autograded items in notebook order.
    manual_items: written answers graded by hand.
    support: the provided package shipped with the notebook.
    naive_items: items that must be written with loops: graded with ``support.tripwired`` modules disabled.
    release_exclusions: file patterns kept out of the release only (never out of a submission).
    limits: the grading limits this assignment's code needs.
    preload: modules the grading worker imports once, before it forks one process per graded item (a
        framework whose import takes seconds); never student code.
    naive_forbidden: classes, by dotted path (``torch.nn.Module``), whose construction raises while the
        ``naive_items`` are graded: a barebones function that builds the framework's layers earns nothing.
    requirements: names of ``pyproject.toml`` optional-dependency requirements (``torch``) that the release's
        requirements.txt adds to the course's own.
    published: fixed values the notebook's visible tests and the grader's visible cases share, by item:
        {item: {name: value}} with values plain numbers, nested tuples, dicts or ``Linspace``. The builder
        renders them into the test cells (``{{ item.name }}``); the case modules read them from here.
    """

    name: str
    notebook: str
    template: str
    graded_items: tuple[GradedItem, ...]
    manual_items: tuple[ManualItem, ...] = ()
    support: SupportPackage | None = None
    naive_items: tuple[str, ...] = ()
    release_exclusions: tuple[str, ...] = ()
    limits: GradingLimits = field(default_factory=GradingLimits)
    preload: tuple[str, ...] = ()
    naive_forbidden: tuple[str, ...] = ()
    requirements: tuple[str, ...] = ()
    published: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "published", MappingProxyType({k: MappingProxyType(dict(v))
                                                                for k, v in dict(self.published).items()}))
        names = [g.name for g in self.graded_items] + [m.name for m in self.manual_items]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"assignment {self.name!r}: grade ids used twice: {', '.join(repeated)}")
        unknown = sorted(set(self.naive_items) - {g.name for g in self.graded_items})
        if unknown:
            raise ValueError(f"assignment {self.name!r}: naive items {unknown} are not graded items")
        for dotted in (*self.preload, *self.naive_forbidden):
            if not all(part.isidentifier() for part in dotted.split(".")):
                raise ValueError(f"assignment {self.name!r}: {dotted!r} is not a dotted module or class path")
        if self.naive_forbidden and not self.naive_items:
            raise ValueError(f"assignment {self.name!r}: naive_forbidden without naive_items forbids nothing")

    def item(self, name: str) -> GradedItem:
        """The graded item called ``name``; KeyError naming the known items otherwise."""
        for graded in self.graded_items:
            if graded.name == name:
                return graded
        raise KeyError(f"assignment {self.name!r} has no graded item {name!r}; known: "
                       f"{', '.join(g.name for g in self.graded_items)}")

    @property
    def submission_files(self) -> tuple[str, ...]:
        """Every file a submission may carry: the notebook, then the files that items are graded from."""
        return (self.notebook, *(g.file for g in self.graded_items if g.file))

    @property
    def total_autograded_points(self) -> float:
        return sum(g.points for g in self.graded_items)

    @property
    def total_manual_points(self) -> float:
        return sum(m.points for m in self.manual_items)
