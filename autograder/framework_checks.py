"""Checks of the framework assignments (PyTorch, TensorFlow) that ``checks`` does not have, as plain dataclasses
and named tests, so that their visible cases can be written to the notebook's self-check like any other.

Nothing here imports a framework: a framework tensor reaches the parent (or the self-check) as a float64 array
with metadata (``interpreter.framework_array``: the framework, its dtype name, the autograd flag), and these
checks read that. `make source` ships a copy of this module with the self-check (``self_check_export``).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .checks import ArrayCheck, Output, Verdict, usable


@dataclass
class TensorCheck:
    """A returned framework tensor's metadata: its torch dtype and whether autograd tracks it."""

    output: str
    label: str
    dtype: str = "torch.float32"
    requires_grad: bool | None = True

    def evaluate(self, outputs: dict[str, Output]) -> Verdict:
        found = outputs.get(self.output)
        problem = usable(found, self.label)
        if problem:
            return problem
        meta = found.meta
        want = f"a torch tensor of dtype {self.dtype}" + ("" if self.requires_grad is None else
                                                         f", requires_grad={self.requires_grad}")
        got = f"{meta.get('type')} of dtype {meta.get('framework_dtype')}, requires_grad={meta.get('requires_grad')}"
        if meta.get("framework") != "torch":
            return Verdict(False, self.label, want, got, f"{self.label}: not a torch tensor but {meta.get('type')}",
                           "return a torch.Tensor")
        if meta.get("framework_dtype") != self.dtype:
            return Verdict(False, self.label, want, got, f"{self.label}: dtype {meta.get('framework_dtype')} "
                           f"instead of {self.dtype}", "pass dtype=... when you create the tensor")
        if self.requires_grad is not None and bool(meta.get("requires_grad")) != self.requires_grad:
            return Verdict(False, self.label, want, got, f"{self.label}: requires_grad is "
                           f"{meta.get('requires_grad')}", "create it with requires_grad=True (or call "
                           ".requires_grad_() on it) so autograd tracks it")
        return Verdict(True, self.label, want, got, f"{self.label}: {self.dtype}, requires_grad ok")


@dataclass
class ScoresShapeCheck:
    """Scores of the expected shape (their values are the student's own design, so they are not compared)."""

    output: str
    shape: tuple[int, ...]
    label: str = "scores"
    hint: str = "end the network with a layer giving 10 scores per image"

    def evaluate(self, outputs: dict[str, Output]) -> Verdict:
        found = outputs.get(self.output)
        problem = usable(found, self.label)
        if problem:
            return problem
        shape = tuple(int(n) for n in self.shape)
        if tuple(found.array.shape) != shape:
            return Verdict(False, self.label, f"shape {shape}", f"shape {tuple(found.array.shape)}",
                           f"{self.label}: shape {tuple(found.array.shape)} instead of {shape}", self.hint)
        return Verdict(True, self.label, f"shape {shape}", f"shape {shape}",
                       f"{self.label}: shape (N, {shape[-1]}), finite")


@dataclass
class UpdateCheck:
    """A parameter after one gradient-descent step, judged by its update: (got - before) / learning_rate must
    equal the reference gradient (after - before) / learning_rate, to ``tol`` of its largest entry."""

    output: str
    before: np.ndarray
    after: np.ndarray
    learning_rate: float
    label: str
    tol: float
    hint: str = ""

    def _as_check(self, expected: np.ndarray, label: str) -> ArrayCheck:
        return ArrayCheck(self.output, np.asarray(expected, dtype=np.float64), label, self.tol, mode="scaled",
                          hint=self.hint, axes=tuple(f"axis {i}" for i in range(np.ndim(expected))))

    def evaluate(self, outputs: dict[str, Output]) -> Verdict:
        found = outputs.get(self.output)
        if found is None or found.array is None or found.array.shape != np.shape(self.after):
            return self._as_check(self.after, self.label).evaluate(outputs)
        gradient = (np.asarray(self.after) - self.before) / self.learning_rate
        update = dict(outputs)
        update[self.output] = Output((found.array - self.before) / self.learning_rate, found.meta)
        return self._as_check(gradient, f"{self.label} (its update / learning rate)").evaluate(update)


# Named tests of ``checks.FunctionCheck`` for the framework cases (see ``checks.NAMED_TESTS``): each takes the
# outputs' arrays, then its parameters, and returns (ok, expected, got).

def _scalar(value) -> float:
    return float(np.ravel(value)[0]) if np.size(value) == 1 else float("nan")


def is_flag(value, want: bool = True) -> tuple[bool, str, str]:
    """The 0/1 output is 1 (``want`` False: is 0)."""
    got = bool(np.size(value) == 1 and _scalar(value) == 1.0)
    return got == want, "yes" if want else "no", "yes" if got else "no"


def scalar_near(value, target: float, tol: float, scale_floor: float = 0.0, digits: int = 0
                ) -> tuple[bool, str, str]:
    """One number within ``tol * max(scale_floor, |target|)`` of ``target`` (``scale_floor`` 0: relative to the
    target alone); shown with ``digits`` decimals (0: as %g)."""
    got = _scalar(value)
    shown = (lambda v: f"{v:.{digits}f}") if digits else (lambda v: f"{v:g}")
    return abs(got - target) <= tol * max(scale_floor, abs(target)), shown(target), shown(got)


def update_near(got, start, expected, tol: float) -> tuple[bool, str, str]:
    """``got - start`` equals ``expected - start`` to ``tol`` of its largest entry (an in-place update)."""
    start, expected = np.asarray(start, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if got.shape != start.shape:
        return False, f"shape {start.shape}", f"shape {got.shape}"
    step = expected - start
    error = float(np.abs((got - start) - step).max() / max(np.abs(step).max(), 1e-12))
    return error < tol, f"the gradient-descent update (error < {tol:g} of its largest entry)", f"error {error:.2e}"


NAMED_TESTS: dict[str, Callable[..., tuple[bool, str, str]]] = {
    f.__name__: f for f in (is_flag, scalar_near, update_near)}
CHECK_CLASSES = (TensorCheck, ScoresShapeCheck, UpdateCheck)


def named_test(name: str, **parameters) -> functools.partial:
    """A ``FunctionCheck`` test of this module by name, with its parameters (``NAMED_TESTS``)."""
    return functools.partial(NAMED_TESTS[name], **parameters)
