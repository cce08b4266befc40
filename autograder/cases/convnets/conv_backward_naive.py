"""conv_backward_naive: gradients against the reference and against centred differences of the student's own
forward pass; the cache layout (x, w, b, conv_param) is fixed by the template, so the backward pass is tested on
its own, whatever the submitted forward pass does."""
from __future__ import annotations

import numpy as np

from reference_impl.conv_naive import conv_backward_naive, conv_forward_naive

from .. import Case, Prepared, case
from ..ops import as_tuple, call, load_all, output, value, var
from ._shared import (CONV_HINT, FLOAT32_TOL, array_check, cast, conv_config as conv, conv_properties, dtype_of,
                      numeric,
                      with_unchanged)

ITEM = "conv_backward_naive"

CASES = (
    case(ITEM, "4x3x5x5 input, two 3x3 filters, stride 1, pad 1", 3, False, **conv(1, 1, 2, 3, 3, N=4)),
    case(ITEM, "stride 1, pad 2, 5x3 filter, 4x6 input", 1.5, False, **conv(1, 2, 2, 5, 3, H=4, W=6)),
    case(ITEM, "stride 3, pad 1, 2x2 filter, 6x9 input", 1, False, **conv(3, 1, 2, 2, 2, H=6, W=9)),
    case(ITEM, "batch 3, 1x1 filter, stride 2, pad 0", 1.5, False, **conv(2, 0, 4, 1, 1, N=3)),
    case(ITEM, "inputs left unmodified", 0.5, False, unmodified=True, **conv(1, 1, 2, 3, 3)),
    case(ITEM, "float32 in, float32 out", 1, False, dtype="float32", tolerance=FLOAT32_TOL, **conv(1, 1, 2, 3, 3)),
    # Hidden: the same rules on other data and shapes.
    case(ITEM, "stride 2, pad 1, 3x5 filter", 2, **conv(2, 1, 3, 3, 5, H=7, W=7)),
    case(ITEM, "stride 2, pad 2, 5x3 filter, 7x9 input, batch 3", 2, **conv(2, 2, 2, 5, 3, N=3, H=7, W=9)),
    case(ITEM, "stride 3, pad 0, 1x2 filter, 7x8 input", 1, **conv(3, 0, 3, 1, 2, H=7, W=8)),
    case(ITEM, "inputs left unmodified (stride 2, pad 1, 3x5 filter)", 0.5, unmodified=True,
         **conv(2, 1, 2, 3, 5, H=7, W=7)),
    case(ITEM, "float32 in, float32 out (stride 2, pad 1, 3x5 filter, batch 3)", 1, dtype="float32",
         tolerance=FLOAT32_TOL, **conv(2, 1, 3, 3, 5, N=3, H=7, W=7)),
)


properties = conv_properties  # the rules each case exercises (autograder.cases.properties)


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    c = case.config
    param = {"stride": c["stride"], "pad": c["pad"]}
    x = rng.standard_normal((c["N"], c["C"], c["H"], c["W"]))
    w = rng.standard_normal((c["F"], c["C"], c["HH"], c["WW"]))
    b = rng.standard_normal(c["F"])
    out, cache = conv_forward_naive(x, w, b, param)
    dout = rng.standard_normal(out.shape)
    x, w, b, dout = cast(case, x, w, b, dout)
    out, cache = conv_forward_naive(*(a.astype(np.float64) for a in (x, w, b)), param)
    dx, dw, db = conv_backward_naive(dout.astype(np.float64), cache)
    inputs = {"x": x, "w": w, "b": b, "dout": dout}
    ops, aux, checks = load_all(inputs), [], []
    if dtype_of(case) == "float64" and not c.get("unmodified"):
        fwd_args = [var("x", copy=True), var("w", copy=True), var("b", copy=True), value(param)]
        aux = load_all(inputs) + [call("conv_forward_naive", fwd_args, "f", optional=True),
                                  output("fwd", var("f", 0))]
        num_ops, checks = numeric("conv_forward_naive", fwd_args, [x, w, b], dout, rng, out,
                                  {0: "dx", 1: "dw", 2: "db"})
        aux += num_ops
    ops += [call(ITEM, [var("dout"), as_tuple(var("x"), var("w"), var("b"), value(param))], "r")]
    ops += [output(n, var("r", i)) for i, n in enumerate(("dx", "dw", "db"))]
    checks = [array_check(case, "dx", dx, "dx", "overlapping windows add into dx; drop the padding at the end",
                          pad=c["pad"]),
              array_check(case, "dw", dw, "dw", CONV_HINT, axes=("filter", "channel", "row", "column")),
              array_check(case, "db", db, "db", "db sums dout over samples and positions", axes=("filter",))] + checks
    ops, checks = with_unchanged(case, inputs, ops, checks, ["x", "w", "b", "dout"])
    return Prepared(inputs, ops, checks, aux)
