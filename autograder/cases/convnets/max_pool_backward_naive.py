"""max_pool_backward_naive: routing to the window maxima (tie-free inputs), accumulation where windows overlap."""
from __future__ import annotations

import numpy as np

from reference_impl.pool_naive import max_pool_backward_naive, max_pool_forward_naive

from .. import Case, Prepared, case
from ..ops import as_tuple, call, load_all, output, value, var
from ._shared import (FLOAT32_TOL, array_check, cast, dtype_of, numeric, pool_config as pool, pool_properties,
                      tie_free, with_unchanged)

ITEM = "max_pool_backward_naive"

CASES = (
    case(ITEM, "3x2x8x8 input, 2x2 pool, stride 2", 2, False, **pool(2, 2, 2, N=3, C=2, H=8, W=8)),
    case(ITEM, "3x3 pool, stride 1 (overlapping windows accumulate)", 1, False, **pool(3, 3, 1)),
    case(ITEM, "2x3 pool, stride 2 (non-square, overlapping columns)", 1, False, **pool(2, 3, 2, H=6, W=7)),
    case(ITEM, "2x2 pool, stride 3, 7x8 input (windows do not tile)", 1, False, **pool(2, 2, 3, H=7, W=8)),
    case(ITEM, "inputs left unmodified", 0.5, False, unmodified=True, **pool(2, 2, 2)),
    case(ITEM, "float32 in, float32 out", 0.5, False, dtype="float32", tolerance=FLOAT32_TOL, **pool(2, 2, 2)),
    # Hidden: the same rules on other data and shapes.
    case(ITEM, "3x2 pool, stride 1, batch 3", 1, **pool(3, 2, 1, N=3, H=5, W=5)),
    case(ITEM, "3x3 pool, stride 2, 9x8 input (overlapping, leftover columns)", 1, **pool(3, 3, 2, H=9, W=8)),
    case(ITEM, "2x3 pool, stride 1, batch 3, 5x6 input", 1, **pool(2, 3, 1, N=3, H=5, W=6)),
    case(ITEM, "inputs left unmodified (3x2 pool, stride 1)", 0.5, unmodified=True, **pool(3, 2, 1, H=5, W=6)),
    case(ITEM, "float32 in, float32 out (3x3 pool, stride 1)", 0.5, dtype="float32", tolerance=FLOAT32_TOL,
         **pool(3, 3, 1, H=5, W=6)),
)


properties = pool_properties  # the rules each case exercises (autograder.cases.properties)


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    c = case.config
    param = {k: c[k] for k in ("pool_height", "pool_width", "stride")}
    x = tie_free(rng, (c["N"], c["C"], c["H"], c["W"]))
    out, _ = max_pool_forward_naive(x, param)
    dout = rng.standard_normal(out.shape)
    x, dout = cast(case, x, dout)
    out, cache = max_pool_forward_naive(x.astype(np.float64), param)
    dx = max_pool_backward_naive(dout.astype(np.float64), cache)
    inputs = {"x": x, "dout": dout}
    ops, aux, checks = load_all(inputs), [], []
    if dtype_of(case) == "float64" and not c.get("unmodified"):
        fwd_args = [var("x", copy=True), value(param)]
        aux = load_all(inputs) + [call("max_pool_forward_naive", fwd_args, "f", optional=True),
                                  output("fwd", var("f", 0))]
        num_ops, checks = numeric("max_pool_forward_naive", fwd_args, [x], dout, rng, out, {0: "dx"})
        aux += num_ops
    ops += [call(ITEM, [var("dout"), as_tuple(var("x"), value(param))], "r"), output("dx", var("r"))]
    checks = [array_check(case, "dx", dx, "dx", "route each window's gradient to its max and ADD (+=): "
                                                "overlapping windows can share a max")] + checks
    ops, checks = with_unchanged(case, inputs, ops, checks, ["x", "dout"])
    return Prepared(inputs, ops, checks, aux)


# The demo class's buggy student (see autograder.demo_class): the classic max-pool backward bug.
DEMO_BUG_STUDENT = "demo_buggy_pool_backward"


def demo_bug(code: str) -> str:
    """Assign instead of accumulate: the first `+=` on a code line (not a comment) becomes `=`."""
    lines = code.splitlines()
    for number, line in enumerate(lines):
        if "+=" in line.split("#", 1)[0]:
            lines[number] = line.replace("+=", "=", 1)
            return "\n".join(lines)
    raise RuntimeError("the reference max_pool_backward_naive has no '+=' line to turn into the demo's bug")
