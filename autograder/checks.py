"""Comparisons done in the grader's own process, on float64 copies of what a worker wrote.

Every check returns a ``Verdict`` (never raises for anything a student produced) with short human-readable
``expected``/``got`` descriptions, a message and a hint; when shapes agree but values do not, ``localise``
says where the error sits (only at the padded border, one channel, a constant factor, transposed, ...), and the
hint follows what it found (``SPECIFIC_HINTS``, overridable per output); the check's own hint is the fallback.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .stats import TEST_ALPHA, normal_sample_bounds

AXES_4D = ("sample", "channel", "row", "column")


def rel_error(x, y) -> float:
    """Largest elementwise relative error, as in the assignment: max |x-y| / max(1e-8, |x|+|y|)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.size == 0:
        return 0.0
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def scaled_error(got, expected) -> float:
    """Largest absolute difference relative to the largest expected magnitude (robust near zero)."""
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if expected.size == 0:
        return 0.0
    return float(np.max(np.abs(got - expected)) / max(float(np.max(np.abs(expected))), 1e-12))


@dataclass
class Output:
    """One value a worker returned: the loaded float64 array (None when unusable) and its metadata."""

    array: np.ndarray | None
    meta: dict = field(default_factory=dict)


@dataclass
class Verdict:
    """One check's judgement. ``fraction``: the share of the case's points a passing check allows (below 1 for
    partial credit, such as an accuracy between chance and the full-credit mark)."""

    ok: bool
    label: str
    expected: str = ""
    got: str = ""
    message: str = ""
    hint: str = ""
    fraction: float = 1.0


def _shape(shape) -> str:
    return "(" + ", ".join(str(int(n)) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def describe(output: Output | None) -> str:
    if output is None:
        return "nothing"
    meta = output.meta
    if output.array is None:
        return meta.get("type", "nothing")
    kind = "scalar" if meta.get("scalar") else "array"
    return f"{kind} of shape {_shape(output.array.shape)}, dtype {meta.get('dtype', '?')}"


def usable(output: Output | None, label: str) -> Verdict | None:
    """A failing verdict when the output cannot be compared at all (missing, wrong type, NaN/Inf)."""
    if output is None:
        return Verdict(False, label, got="nothing", message=f"{label}: no value was returned (the call failed "
                                                            "before producing it)")
    meta = output.meta
    if meta.get("error"):
        return Verdict(False, label, got=meta.get("type", "?"), message=f"{label}: {meta['error']}",
                       hint="return numpy arrays (np.ndarray), as the docstring says")
    if meta.get("subclass"):
        return Verdict(False, label, expected="numpy.ndarray", got=meta.get("type", "?"),
                       message=f"{label}: returned a {meta.get('type')} (an ndarray subclass), not a plain "
                               "numpy.ndarray", hint="return a plain np.ndarray")
    if output.array is None:
        return Verdict(False, label, got="nothing", message=f"{label}: the value could not be read")
    if not np.all(np.isfinite(output.array)):
        bad = int(np.size(output.array) - np.count_nonzero(np.isfinite(output.array)))
        return Verdict(False, label, got=f"{bad} NaN/Inf entries", message=f"{label}: contains NaN or Inf "
                       f"({bad} of {output.array.size} entries)", hint="look for divisions by zero, log(0) "
                       "or uninitialised arrays (np.empty)")
    return None


@dataclass(frozen=True)
class Finding:
    """One thing ``locate`` learnt about a wrong answer: a ``kind`` that selects a hint and words for the student.

    kind: "sign", "factor", "offset", "transpose" (the whole array, one simple relation), "count" (how many entries
    differ; no hint of its own), "border" (only near the padding) or an axis name from ``axes`` such as
    "channel" (only some indices along it).
    """

    kind: str
    text: str


# What to look at for each kind of localised error, whatever the function; a case may override any of them for
# one output (ArrayCheck.hints). The per-function ArrayCheck.hint is the fallback when nothing specific was found.
SPECIFIC_HINTS = {
    "sign": "the sign is flipped everywhere: check the order of a subtraction (a - b vs b - a) and the sign of "
            "each term of the chain rule",
    "factor": "one constant factor is off: look for a division by a count (N, N*H*W, the group size) that is "
              "missing, doubled or over the wrong axes, or a term added twice",
    "offset": "every entry is shifted by one constant: a bias (b, beta) added the wrong number of times, or a mean "
              "that is not subtracted",
    "transpose": "rows and columns are swapped: check the axis order of every reshape/transpose and [i, j] vs "
                 "[j, i] indexing",
    "border": "only the entries near the border are wrong, where the zero padding is: pad rows and columns only, "
              "with zeros, by pad on each side, and remove exactly pad from each side at the end",
    "channel": "only some channels are wrong: check the loop or slice over channels (a range that stops early, "
               "a hard-coded index) and which channel each statistic or weight belongs to",
    "filter": "only some filters are wrong: check the loop over filters and that filter f uses w[f] and b[f]",
    "sample": "only some samples are wrong: check the loop over the batch (range(N)) and that each sample reads "
              "its own input",
}
_LOCAL_PRIORITY = ("border", "channel", "filter", "sample")  # the most telling local finding picks the hint


def locate(got: np.ndarray, expected: np.ndarray, tol: float, axes: tuple[str, ...] = AXES_4D,
           pad: int = 0) -> list[Finding]:
    """Where a same-shaped wrong answer differs from the expected one (empty when shapes differ).

    A whole-array relation (sign, factor, constant offset, transpose) is returned alone; otherwise the count of
    differing entries, then "border" when every difference lies within ``pad`` pixels of the border (and some
    interior exists), then one finding per sample/channel/filter axis along which only some indices differ.
    """
    if expected.size == 0 or got.shape != expected.shape:
        return []
    scale = max(float(np.max(np.abs(expected))), 1e-12)
    close = lambda a, b: float(np.max(np.abs(a - b))) <= max(tol, 1e-9) * scale  # noqa: E731
    if close(got, -expected):
        return [Finding("sign", "the sign is flipped everywhere")]
    if np.any(expected):
        factor = float(np.sum(got * expected) / np.sum(expected * expected))
        if abs(factor - 1) > 1e-3 and close(got, factor * expected):
            return [Finding("factor", f"every entry is off by the same factor (about {factor:.4g})")]
    offset = float(np.mean(got - expected))
    if abs(offset) > tol * scale and close(got - offset, expected):
        return [Finding("offset", f"every entry is off by the same constant (about {offset:.4g})")]
    if got.ndim >= 2 and got.shape[-1] == got.shape[-2] and close(got, np.swapaxes(expected, -1, -2)):
        return [Finding("transpose", "rows and columns are swapped (transposed)")]
    wrong = np.abs(got - expected) > tol * scale
    count = int(np.count_nonzero(wrong))
    findings = [Finding("count", f"{count} of {got.size} entries differ")]
    if pad and got.ndim == 4:
        border = np.ones(got.shape[-2:], dtype=bool)
        border[pad:-pad or None, pad:-pad or None] = False
        if count and np.any(~border) and not np.any(wrong[..., ~border]):
            findings.append(Finding("border", f"only within {pad} pixel(s) of the border, where the padding is"))
    for axis in range(min(got.ndim, len(axes)) if got.ndim >= 2 else 0):
        bad = np.flatnonzero(np.any(np.moveaxis(wrong, axis, 0).reshape(got.shape[axis], -1), axis=1))
        if 0 < bad.size < got.shape[axis] and axes[axis] in ("sample", "channel", "filter"):
            which = ", ".join(str(i) for i in bad[:5]) + (", ..." if bad.size > 5 else "")
            findings.append(Finding(axes[axis], f"only {axes[axis]}(s) {which}"))
    return findings


def localise(got: np.ndarray, expected: np.ndarray, tol: float, axes: tuple[str, ...] = AXES_4D,
             pad: int = 0) -> str:
    """``locate``'s findings in a few words, joined with "; " (empty when nothing was found)."""
    return "; ".join(f.text for f in locate(got, expected, tol, axes, pad))


def specific_hint(findings: list[Finding], overrides: dict[str, str] | None = None) -> str:
    """The hint for the most telling finding (a whole-array relation, else border > channel > filter > sample):
    the case's own override for that kind, else ``SPECIFIC_HINTS``; empty when no finding has one."""
    kinds = [f.kind for f in findings]
    ordered = [k for k in kinds if k not in _LOCAL_PRIORITY] + [k for k in _LOCAL_PRIORITY if k in kinds]
    for kind in ordered:
        hint = (overrides or {}).get(kind) or SPECIFIC_HINTS.get(kind)
        if hint:
            return hint
    return ""


@dataclass
class ArrayCheck:
    """Compare one output with an expected array (shape, optional dtype, error below ``tol``).

    mode: "rel" uses the assignment's rel_error; "scaled" divides by the largest expected magnitude.
    hint: the fallback hint for wrong values; ``hints`` overrides ``SPECIFIC_HINTS`` per finding kind, and the
    hint of the most telling finding (``specific_hint``) is used whenever ``locate`` finds one.
    """

    output: str
    expected: np.ndarray
    label: str
    tol: float
    mode: str = "rel"
    dtype: str | None = None
    hint: str = ""
    axes: tuple[str, ...] = AXES_4D
    pad: int = 0
    hints: dict[str, str] = field(default_factory=dict)  # finding kind -> hint for this output (see locate)

    def evaluate(self, outputs: dict[str, Output]) -> Verdict:
        found = outputs.get(self.output)
        problem = usable(found, self.label)
        if problem:
            if found is not None and "could not find" in str(found.meta.get("error", "")) and self.hint:
                problem.hint = self.hint  # e.g. a running statistic never written back
            return problem
        got, expected = found.array, np.asarray(self.expected, dtype=np.float64)
        want = f"shape {_shape(expected.shape)}" + (f", dtype {self.dtype}" if self.dtype else "")
        if got.shape != expected.shape:
            return Verdict(False, self.label, want, describe(found),
                           f"{self.label}: shape {_shape(got.shape)} instead of {_shape(expected.shape)}",
                           "check the output-size formula in the docstring" if got.ndim == expected.ndim
                           else "check the number of dimensions you return")
        if self.dtype and found.meta.get("dtype") != self.dtype:
            return Verdict(False, self.label, want, describe(found),
                           f"{self.label}: dtype {found.meta.get('dtype')} instead of {self.dtype}",
                           "allocate outputs with the input's dtype (e.g. np.zeros_like(x) or dtype=x.dtype)")
        error = rel_error(got, expected) if self.mode == "rel" else scaled_error(got, expected)
        if error <= self.tol:
            return Verdict(True, self.label, want, f"{describe(found)}, error {error:.2e}",
                           f"{self.label}: matches (error {error:.2e} <= {self.tol:.0e})")
        findings = locate(got, expected, self.tol, self.axes, self.pad)
        where = "; ".join(f.text for f in findings)
        return Verdict(False, self.label, f"{want}, error <= {self.tol:.0e}", f"{describe(found)}, error {error:.2e}",
                       f"{self.label}: wrong values (error {error:.2e} > {self.tol:.0e})" + (f"; {where}" if where
                                                                                               else ""),
                       specific_hint(findings, self.hints) or self.hint)


INPUT_PREFIX = "in:"  # outputs[INPUT_PREFIX + name]: the parent's read-back of the input file ``name`` itself


@dataclass
class UnchangedCheck:
    """An input the function must not modify still holds its original values (and dtype) after the call.

    ``original`` is the parent's own copy of the array it wrote for the worker. The worker hands the function
    that very file, mapped into memory (``ops.load(name, shared=True)``), so whatever the call writes into its
    argument lands in the file; the parent reads the file back itself after the worker has ended
    (``readback.load_input``: the same file it wrote, not replaced, not written to since, dtype and shape from
    its header) and compares it here with ``original``. Nothing the worker reports about the input is used.
    """

    input: str
    original: np.ndarray
    label: str

    @property
    def output(self) -> str:
        """The key under which the engine puts the read-back input file (``INPUT_PREFIX + input``)."""
        return INPUT_PREFIX + self.input

    def evaluate(self, outputs: dict[str, Output]) -> Verdict:
        found = outputs.get(self.output)
        if found is None or (found.array is None and not found.meta.get("written")):
            why = found.meta.get("error", "") if found is not None else ""
            return Verdict(False, self.label, "unchanged", "unreadable",
                           f"{self.label}: its file could not be read back{f' ({why})' if why else ''}")
        original = np.asarray(self.original)
        same = (not found.meta.get("written") and found.meta.get("dtype") == str(original.dtype)
                and found.array.shape == original.shape and np.array_equal(found.array, original))
        if same:
            return Verdict(True, self.label, "unchanged", "unchanged", f"{self.label}: left unmodified")
        return Verdict(False, self.label, "unchanged", "modified", f"{self.label}: was modified in place by the call",
                       "work on a copy (np.pad returns a new array; x = x + 1 rebinds, x += 1 writes into the caller's "
                       "array)")


def inputs_read_back(checks) -> set[str]:
    """The names of the input files the parent must read back for these checks (``UnchangedCheck``)."""
    return {check.input for check in checks if isinstance(check, UnchangedCheck)}


@dataclass
class NumericGradientCheck:
    """An analytic gradient agrees with centred differences of the SUBMITTED forward pass.

    The worker evaluated the student's forward at x +/- h e_i for the sampled flat ``indices`` (outputs
    ``<perturb>_plus`` and ``<perturb>_minus``, stacked); here the differences are formed and contracted with
    ``dout``. When the student's forward itself is wrong on this input (``forward_output`` vs
    ``forward_expected``), its numeric gradient proves nothing about the backward pass, so the check is
    reported as not applicable and passes.
    """

    analytic: str
    perturb: str
    indices: list[int]
    dout: np.ndarray
    h: float
    label: str
    tol: float
    forward_output: str
    forward_expected: np.ndarray
    forward_tol: float = 1e-6

    def evaluate(self, outputs: dict[str, Output]) -> Verdict:
        forward = outputs.get(self.forward_output)
        if usable(forward, self.label) or forward.array.shape != self.forward_expected.shape or \
                rel_error(forward.array, self.forward_expected) > self.forward_tol:
            return Verdict(True, self.label, message=f"{self.label}: not applicable (your forward pass is wrong on "
                                                     "this input, so its numeric gradient proves nothing)")
        analytic = outputs.get(self.analytic)
        plus, minus = outputs.get(self.perturb + "_plus"), outputs.get(self.perturb + "_minus")
        for found, what in ((analytic, self.label), (plus, f"{self.label} (forward at x+h)"),
                            (minus, f"{self.label} (forward at x-h)")):
            problem = usable(found, what)
            if problem:
                return problem
        stacked_shape = (len(self.indices), *self.dout.shape)
        if plus.array.shape != stacked_shape or minus.array.shape != stacked_shape:
            return Verdict(False, self.label, message=f"{self.label}: the perturbed forward passes returned "
                                                      "inconsistent shapes")
        if analytic.array.size <= max(self.indices):
            return Verdict(False, self.label, message=f"{self.label}: gradient of shape "
                                                      f"{_shape(analytic.array.shape)} is too small")
        numeric = np.sum((plus.array - minus.array) * self.dout, axis=tuple(range(1, plus.array.ndim))) / (2 * self.h)
        sampled = analytic.array.reshape(-1)[self.indices]
        error = scaled_error(sampled, numeric)
        if error <= self.tol:
            return Verdict(True, self.label, f"error <= {self.tol:.0e}", f"error {error:.2e}",
                           f"{self.label}: agrees with the numeric gradient of your forward pass ({error:.2e})")
        return Verdict(False, self.label, f"error <= {self.tol:.0e}", f"error {error:.2e}",
                       f"{self.label}: disagrees with the numeric gradient of your own forward pass "
                       f"(error {error:.2e} at {len(self.indices)} sampled entries)",
                       "differentiate exactly what your forward pass computes; check each term of the chain rule")


@dataclass
class KeysCheck:
    """A dict-valued output has exactly the expected keys (the worker records them as metadata)."""

    output: str
    expected: list[str]
    label: str

    def evaluate(self, outputs: dict[str, Output]) -> Verdict:
        found = outputs.get(self.output)
        keys = sorted(found.meta.get("keys", [])) if found and isinstance(found.meta.get("keys"), list) else None
        want = ", ".join(sorted(self.expected))
        if keys is None:
            return Verdict(False, self.label, want, "no dict", f"{self.label}: self.params is not a dict")
        if keys == sorted(self.expected):
            return Verdict(True, self.label, want, ", ".join(keys), f"{self.label}: {want}")
        missing, extra = sorted(set(self.expected) - set(keys)), sorted(set(keys) - set(self.expected))
        return Verdict(False, self.label, want, ", ".join(map(str, keys))[:200],
                       f"{self.label}: " + "; ".join(p for p in (f"missing {missing}" if missing else "",
                                                                 f"unexpected {extra}" if extra else "") if p),
                       "name the parameters W1, b1, W2, b2, W3, b3 as the docstring says")


@dataclass
class DtypeCheck:
    """An output has the expected dtype and shape (values are not compared)."""

    output: str
    dtype: str
    shape: tuple[int, ...]
    label: str

    def evaluate(self, outputs: dict[str, Output]) -> Verdict:
        found = outputs.get(self.output)
        problem = usable(found, self.label)
        if problem:
            return problem
        want = f"shape {_shape(self.shape)}, dtype {self.dtype}"
        if found.array.shape != tuple(self.shape):
            return Verdict(False, self.label, want, describe(found),
                           f"{self.label}: shape {_shape(found.array.shape)} instead of {_shape(self.shape)}",
                           "derive every shape from input_dim, num_filters, filter_size, hidden_dim, num_classes")
        if found.meta.get("dtype") != self.dtype:
            return Verdict(False, self.label, want, describe(found),
                           f"{self.label}: dtype {found.meta.get('dtype')} instead of {self.dtype}",
                           "cast every parameter to the dtype argument")
        return Verdict(True, self.label, want, describe(found), f"{self.label}: {want}")


@dataclass
class FunctionCheck:
    """A property computed from the outputs by an independent formula (e.g. per-channel means)."""

    label: str
    outputs: list[str]
    test: Callable[..., tuple[bool, str, str]]  # arrays -> (ok, expected, got)
    hint: str = ""

    def evaluate(self, outputs: dict[str, Output]) -> Verdict:
        arrays = []
        for name in self.outputs:
            problem = usable(outputs.get(name), self.label)
            if problem:
                return problem
            arrays.append(outputs[name].array)
        try:
            ok, expected, got = self.test(*arrays)
        except (ValueError, IndexError, TypeError) as error:
            return Verdict(False, self.label, message=f"{self.label}: unexpected output ({error})", hint=self.hint)
        return Verdict(bool(ok), self.label, expected, got, f"{self.label}: " + ("as expected" if ok else
                                                                                  f"expected {expected}, got {got}"),
                       "" if ok else self.hint)


# Tests of ``FunctionCheck`` that a case can name (``functools.partial(<one of these>, ...)``) instead of writing a
# closure: a check built from them can be written to the public-cases file of the notebook's self-check
# (``autograder.public_cases``) and rebuilt there. Each takes the outputs' arrays, then its parameters, and returns
# (ok, expected, got).

def per_channel_stats(out, target_mean, target_std) -> tuple[bool, str, str]:
    """Means and standard deviations of ``out`` (N, C, H, W) over (N, H, W) are the targets (1e-3)."""
    target_mean, target_std = np.asarray(target_mean), np.asarray(target_std)
    means, stds = out.mean(axis=(0, 2, 3)), out.std(axis=(0, 2, 3))
    ok = bool(np.allclose(means, target_mean, atol=1e-3) and np.allclose(stds, target_std, rtol=1e-3))
    return ok, f"means {np.round(target_mean, 3).tolist()}, stds {np.round(target_std, 3).tolist()}", \
        f"means {np.round(means, 3).tolist()}, stds {np.round(stds, 3).tolist()}"


def all_zero(a) -> tuple[bool, str, str]:
    """Every entry is zero."""
    return not np.any(a), "all zeros", f"largest |entry| {np.max(np.abs(a)) if a.size else 0:.3g}"


def difference_is(a, b, target) -> tuple[bool, str, str]:
    """``a - b`` equals ``target`` to 1e-6 (relative to max(1, target))."""
    difference = float(np.asarray(a - b).reshape(-1)[0]) if np.size(a - b) == 1 else float("nan")
    return abs(difference - target) <= 1e-6 * max(1.0, abs(target)), f"{target:.6g}", f"{difference:.6g}"


NAMED_TESTS: dict[str, Callable[..., tuple[bool, str, str]]] = {
    f.__name__: f for f in (per_channel_stats, all_zero, difference_is)}


def named_test(name: str, **parameters) -> functools.partial:
    """A ``FunctionCheck`` test by name, with its parameters (``NAMED_TESTS``)."""
    return functools.partial(NAMED_TESTS[name], **parameters)


@dataclass
class NormalSampleCheck:
    """An output looks like independent N(0, std^2) draws (a weight initialisation): the right shape, the sample
    std (ddof 1) within the exact chi-square bounds for its size, then the mean within the exact normal bound.

    Each of the two tests fails a correct sample with probability ``alpha`` (``stats.TEST_ALPHA``, sized so that
    a whole grading fails correct code by chance less than once in a million); a wrong std such as 2x or 0.5x
    lies far outside the bounds for any sample of a few hundred entries. The std is tested first, so a wrong
    scale is reported as a wrong std rather than as a wrong mean.
    """

    output: str
    std: float
    label: str
    shape: tuple[int, ...] | None = None
    hint_std: str = ""
    hint_mean: str = "draw from a normal distribution centred at zero"
    alpha: float = TEST_ALPHA

    def evaluate(self, outputs: dict[str, Output]) -> Verdict:
        found = outputs.get(self.output)
        problem = usable(found, self.label)
        if problem:
            return problem
        sample = found.array
        if self.shape is not None and tuple(sample.shape) != tuple(self.shape):
            return Verdict(False, self.label, f"shape {_shape(self.shape)}", describe(found),
                           f"{self.label}: shape {_shape(sample.shape)} instead of {_shape(self.shape)}")
        n = int(sample.size)
        if n < 2:
            return Verdict(False, self.label, "at least 2 entries", describe(found),
                           f"{self.label}: {n} entries, too few to measure a std")
        bounds = normal_sample_bounds(n, float(self.std), self.alpha)
        mean, spread = float(np.mean(sample)), float(np.std(sample, ddof=1))
        want = (f"mean 0 and std {self.std:.4g}: over {n} entries the sample std lies in "
                f"({bounds.std_low:.4g}, {bounds.std_high:.4g}) and |mean| below {bounds.mean_bound:.3g}")
        got = f"std {spread:.4g}, mean {mean:.3g} over {n} entries"
        if not bounds.std_low < spread < bounds.std_high:
            return Verdict(False, self.label, want, got, f"{self.label}: std {spread:.4g} instead of {self.std:.4g} "
                           f"(a correct initialisation of {n} entries gives a std in ({bounds.std_low:.4g}, "
                           f"{bounds.std_high:.4g}))", self.hint_std)
        if not abs(mean) < bounds.mean_bound:
            return Verdict(False, self.label, want, got, f"{self.label}: mean {mean:.3g} is not 0 (a correct "
                           f"initialisation of {n} entries gives |mean| < {bounds.mean_bound:.3g})", self.hint_mean)
        return Verdict(True, self.label, want, got, f"{self.label}: {got}")
