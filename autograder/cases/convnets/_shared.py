"""Helpers the convnets case modules share: tolerances, array checks, unchanged-input and numeric-gradient
checks, and the shape helpers of the case tables."""
from __future__ import annotations

import numpy as np

from assignments import Linspace
from assignments.convnets import CONVNETS

from .. import Case, Prepared
from ..ops import call, load, load_all, output, perturb, value, var
from ...checks import ArrayCheck, NumericGradientCheck, UnchangedCheck

FLOAT32_TOL = 1e-4   # scaled error for float32 results
NUMERIC_TOL = 1e-5   # scaled error between an analytic gradient and centred differences with h = 1e-5
NUMERIC_H = 1e-5
SAMPLES_PER_ARRAY = 6  # coordinates perturbed per input array in numeric-gradient checks
PUBLISHED_TOL = 1e-6  # the published values are rounded to 8 decimals (floor ~2e-8)

CONV_HINT = ("loop over output positions with window x_padded[:, :, i*stride:i*stride+HH, j*stride:j*stride+WW]; "
             "HH and WW may differ")
POOL_HINT = "use pool_height, pool_width and stride separately; windows may overlap or leave rows unused"

# Hints for one output of one item and one kind of localised error (checks.locate), where the generic
# checks.SPECIFIC_HINTS sentence can say more about this function; read by array_check.
ITEM_HINTS = {
    ("conv_forward_naive", "out"): {
        "filter": "only some filters are wrong: output channel f is sum(window * w[f]) + b[f]",
    },
    ("conv_backward_naive", "dx"): {
        "border": "dx is wrong only near the border: accumulate into a padded dx, then keep "
                  "dx_padded[:, :, pad:pad+H, pad:pad+W] (a slice [pad:-pad] is empty when pad is 0)",
        "factor": "dx is off by one factor: each window adds w[f] * dout[n, f, i, j] once, no averaging",
    },
    ("conv_backward_naive", "db"): {
        "factor": "db is off by one factor: sum dout over samples, rows and columns; do not average",
    },
    ("max_pool_backward_naive", "dx"): {
        "factor": "dx is off by one factor: the whole upstream gradient goes to the max of each window, not "
                  "shared over the window",
    },
    ("spatial_batchnorm_forward", "out"): {
        "channel": "only some channels are wrong: reshape to (N*H*W, C) with x.transpose(0, 2, 3, 1), not "
                   "x.reshape(-1, C) directly",
    },
    ("spatial_batchnorm_backward", "dx"): {
        "channel": "only some channels are wrong: transpose to (N, H, W, C) before reshaping to (N*H*W, C), "
                   "and back the same way",
    },
    ("spatial_groupnorm_forward", "out"): {
        "channel": "only some channels are wrong: each group is C // G consecutive channels, normalised over "
                   "(channels of the group, H, W)",
    },
}


def published(item: str, name: str) -> np.ndarray:
    """A published fixed value of the record (``CONVNETS.published``) as a float64 array."""
    value = CONVNETS.published[item][name]
    if isinstance(value, Linspace):
        return np.linspace(value.start, value.stop, num=int(np.prod(value.shape))).reshape(value.shape)
    return np.array(value, dtype=np.float64)


def conv_config(stride, pad, F, HH, WW, N=2, C=3, H=5, W=5, **more) -> dict:
    return dict(stride=stride, pad=pad, N=N, C=C, H=H, W=W, F=F, HH=HH, WW=WW, **more)


def pool_config(ph, pw, stride, N=2, C=3, H=6, W=6, **more) -> dict:
    return dict(pool_height=ph, pool_width=pw, stride=stride, N=N, C=C, H=H, W=W, **more)


def _common_properties(case: Case, N: int, H: int, W: int) -> set[str]:
    """Properties every convnets case has: its dtype, batch size class, image shape, unmodified-input check."""
    found = {f"dtype {dtype_of(case)}"}
    if N != 2:
        found.add("single sample" if N == 1 else "batch of 3 or more")
    if H != W:
        found.add("non-square input")
    if case.config.get("unmodified"):
        found.add("inputs left unmodified")
    return found


def conv_properties(case: Case) -> set[str]:
    """The rules a convolution case exercises (see ``autograder.cases.properties``)."""
    c = case.config
    found = _common_properties(case, c["N"], c["H"], c["W"])
    found.add("stride 1" if c["stride"] == 1 else "stride > 1")
    found.add("no padding" if c["pad"] == 0 else "padding")
    if c["HH"] != c["WW"]:
        found.add("non-square filter")
    if c["HH"] == c["WW"] == 1:
        found.add("1x1 filter")
    if min(c["HH"], c["WW"]) > c["stride"]:
        found.add("overlapping windows")
    if max(c["HH"], c["WW"]) < c["stride"]:
        found.add("windows skip pixels")
    return found


def pool_properties(case: Case) -> set[str]:
    """The rules a max-pool case exercises (see ``autograder.cases.properties``)."""
    c = case.config
    ph, pw, stride = c["pool_height"], c["pool_width"], c["stride"]
    found = _common_properties(case, c["N"], c["H"], c["W"])
    if ph != pw:
        found.add("non-square pool")
    if stride < max(ph, pw):
        found.add("overlapping windows")
    if stride != ph or stride != pw:
        found.add("stride differs from pool size")
    if (c["H"] - ph) % stride or (c["W"] - pw) % stride:
        found.add("windows do not tile the input")
    return found


def norm_properties(case: Case) -> set[str]:
    """The rules a spatial-norm case exercises (see ``autograder.cases.properties``)."""
    c = case.config
    N, C, H, W = c["shape"]
    found = _common_properties(case, N, H, W)
    found.add(f"mode {c['mode']}" if "mode" in c else "train mode")
    if "G" in c:
        found.add("one group" if c["G"] == 1 else "one channel per group" if c["G"] == C else "several groups")
    return found


def dtype_of(case: Case) -> str:
    return case.config.get("dtype", "float64")


def cast(case: Case, *arrays) -> list[np.ndarray]:
    return [np.asarray(a, dtype=dtype_of(case)) for a in arrays]


def array_check(case, name, expected, label, hint="", pad=0, axes=("sample", "channel", "row", "column")):
    float32 = dtype_of(case) == "float32"
    return ArrayCheck(name, expected, label, case.tolerance, mode="scaled" if float32 else "rel",
                      dtype="float32" if float32 else None, hint=hint, pad=pad, axes=axes,
                      hints=ITEM_HINTS.get((case.item, name), {}))


def unchanged(names, inputs):
    """Checks that the named inputs' files are as the parent wrote them after the calls (the case's ``load``
    operations of these names must map the files: see ``with_unchanged``)."""
    return [UnchangedCheck(n, np.array(inputs[n], copy=True), f"input {n}") for n in names]


def with_unchanged(case, inputs, ops, checks, names):
    """For an ``unmodified`` case: its inputs ``names`` loaded as the input files themselves (shared maps), and
    the parent's checks of those files after the run."""
    if case.config.get("unmodified"):
        shared = [load(op["var"], shared=True) if op.get("op") == "load" and op.get("var") in names else op
                  for op in ops]
        return shared, checks + unchanged(names, inputs)
    return ops, checks


def numeric(fn, arg_specs, arrays, dout, rng, forward_expected, grad_names, pick=0):
    """Perturbation ops and checks for each input array of a forward pass (float64 cases only)."""
    ops, checks = [], []
    for position, grad_name in grad_names.items():
        array = arrays[position]
        indices = sorted(rng.choice(array.size, size=min(SAMPLES_PER_ARRAY, array.size), replace=False).tolist())
        name = f"num_{grad_name}"
        ops.append(perturb(fn, arg_specs, position, indices, NUMERIC_H, name, pick))
        checks.append(NumericGradientCheck(grad_name, name, indices, dout, NUMERIC_H,
                                           f"{grad_name} vs numeric gradient of your forward", NUMERIC_TOL,
                                           "fwd", forward_expected))
    return ops, checks


def tie_free(rng, shape):
    """Distinct values far apart compared with the numeric-gradient step, so every max is unique."""
    size = int(np.prod(shape))
    return (rng.permutation(size).reshape(shape) / size * 4.0 - 2.0)


def norm_inputs(case, rng, channels_shape):
    N, C, H, W = case.config["shape"]
    x = 4 * rng.standard_normal((N, C, H, W)) + 10
    gamma = rng.uniform(0.5, 2.0, C).reshape(channels_shape(C))
    beta = rng.standard_normal(C).reshape(channels_shape(C))
    return x, gamma, beta


__all__ = ["FLOAT32_TOL", "ITEM_HINTS", "NUMERIC_H", "NUMERIC_TOL", "PUBLISHED_TOL", "SAMPLES_PER_ARRAY", "array_check",
           "cast", "conv_config", "conv_properties", "dtype_of", "norm_backward", "norm_inputs", "norm_properties",
           "numeric", "pool_config", "pool_properties", "published", "tie_free", "unchanged", "with_unchanged"]


def norm_backward(case, rng, fn_forward, fn_backward, reference_forward, reference_backward, channels_shape,
                  extra_args, fresh_param):
    """A spatial-norm backward case: the cache's layout is the student's own choice, so it comes from the
    submitted forward pass; numeric gradients of that forward pass back the analytic ones up."""
    x, gamma, beta = norm_inputs(case, rng, channels_shape)
    dout = rng.standard_normal(x.shape)
    x, gamma, beta, dout = cast(case, x, gamma, beta, dout)
    as64 = [a.astype(np.float64) for a in (x, gamma, beta)]
    out, cache = reference_forward(*as64, *extra_args, fresh_param())
    dx, dgamma, dbeta = reference_backward(dout.astype(np.float64), cache)
    inputs = {"x": x, "gamma": gamma, "beta": beta, "dout": dout}
    extra_specs = [value(a) for a in extra_args]
    ops, aux, checks = load_all(inputs), [], []
    if dtype_of(case) == "float64" and not case.config.get("unmodified"):
        fwd_args = [var("x", copy=True), var("gamma", copy=True), var("beta", copy=True), *extra_specs,
                    value(fresh_param())]
        num_ops, checks = numeric(fn_forward, fwd_args, [x, gamma, beta], dout, rng, out,
                                  {0: "dx", 1: "dgamma", 2: "dbeta"})
        aux = load_all(inputs) + num_ops
    ops += [call(fn_forward, [var("x"), var("gamma"), var("beta"), *extra_specs, value(fresh_param())], "f"),
            output("fwd", var("f", 0)),
            call(fn_backward, [var("dout"), var("f", 1)], "r")]
    ops += [output(n, var("r", i)) for i, n in enumerate(("dx", "dgamma", "dbeta"))]
    axes = ("sample", "channel", "row", "column")
    checks = [array_check(case, "dx", dx, "dx", "chain rule through the mean and the variance as well"),
              array_check(case, "dgamma", dgamma, "dgamma", axes=axes if dgamma.ndim == 4 else ("channel",)),
              array_check(case, "dbeta", dbeta, "dbeta", axes=axes if dbeta.ndim == 4 else ("channel",))] + checks
    ops, checks = with_unchanged(case, inputs, ops, checks, ["x", "gamma", "beta", "dout"])
    return Prepared(inputs, ops, checks, aux)
