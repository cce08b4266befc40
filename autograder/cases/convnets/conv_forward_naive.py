"""conv_forward_naive: the published fixture, then strides, paddings, rectangular filters, batches, dtypes."""
from __future__ import annotations

import numpy as np

from assignments.convnets import CONVNETS
from reference_impl.conv_naive import conv_forward_naive

from .. import Case, Prepared, case
from ..ops import call, load_all, output, value, var
from ._shared import (CONV_HINT, FLOAT32_TOL, PUBLISHED_TOL, array_check, cast, conv_config as conv,
                      conv_properties, published,
                      with_unchanged)

ITEM = "conv_forward_naive"

_FIXED = CONVNETS.published[ITEM]
_N, _C, _H, _W = _FIXED["x"].shape
_F, _, _HH, _WW = _FIXED["w"].shape

CASES = (
    case(ITEM, "published fixed values (2x3x4x4 input, three 4x4 filters, stride 2, pad 1)", 2, False,
         published=True, tolerance=PUBLISHED_TOL, **conv(_FIXED["conv_param"]["stride"], _FIXED["conv_param"]["pad"],
                                                          _F, _HH, _WW, N=_N, C=_C, H=_H, W=_W)),
    case(ITEM, "stride 1, pad 0, 3x3 filter, batch 2", 0.5, False, **conv(1, 0, 2, 3, 3)),
    case(ITEM, "stride 1, pad 2, 5x3 filter, 4x6 input", 1, False, **conv(1, 2, 2, 5, 3, H=4, W=6)),
    case(ITEM, "stride 3, pad 1, 2x2 filter, 6x9 input", 0.5, False, **conv(3, 1, 2, 2, 2, H=6, W=9)),
    case(ITEM, "batch 3, 4 channels, 5 filters, stride 1, pad 1", 0.5, False, **conv(1, 1, 5, 3, 3, N=3, C=4)),
    case(ITEM, "input left unmodified (stride 1, pad 0)", 0.5, False, unmodified=True, **conv(1, 0, 2, 3, 3)),
    case(ITEM, "float32 in, float32 out", 1, False, dtype="float32", tolerance=FLOAT32_TOL, **conv(1, 1, 2, 3, 3)),
    # Hidden: the same rules on other data and shapes.
    case(ITEM, "stride 2, pad 1, 3x5 filter", 1, **conv(2, 1, 3, 3, 5, H=7, W=7)),
    case(ITEM, "stride 2, pad 0, 5x3 filter, 9x7 input, batch 3", 1, **conv(2, 0, 2, 5, 3, N=3, H=9, W=7)),
    case(ITEM, "stride 3, pad 2, 1x2 filter, 6x7 input", 0.5, **conv(3, 2, 3, 1, 2, H=6, W=7)),
    case(ITEM, "input left unmodified (stride 2, pad 1, 3x5 filter)", 0.5, unmodified=True,
         **conv(2, 1, 2, 3, 5, H=7, W=7)),
    case(ITEM, "float32 in, float32 out (stride 2, pad 2, 5x3 filter, batch 3)", 1, dtype="float32",
         tolerance=FLOAT32_TOL, **conv(2, 2, 3, 5, 3, N=3, H=7, W=9)),
)


properties = conv_properties  # the rules each case exercises (autograder.cases.properties)


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    c = case.config
    param = {"stride": c["stride"], "pad": c["pad"]}
    if c.get("published"):
        x, w, b, expected = (published(ITEM, name) for name in ("x", "w", "b", "out"))
    else:
        x = rng.standard_normal((c["N"], c["C"], c["H"], c["W"]))
        w = rng.standard_normal((c["F"], c["C"], c["HH"], c["WW"]))
        b = rng.standard_normal(c["F"])
    x, w, b = cast(case, x, w, b)
    if not c.get("published"):
        expected = conv_forward_naive(*(a.astype(np.float64) for a in (x, w, b)), param)[0]
    inputs = {"x": x, "w": w, "b": b}
    ops = load_all(inputs) + [call(ITEM, [var("x"), var("w"), var("b"), value(param)], "r"),
                              output("out", var("r", 0))]
    checks = [array_check(case, "out", expected, "out", CONV_HINT, axes=("sample", "filter", "row", "column"))]
    ops, checks = with_unchanged(case, inputs, ops, checks, ["x", "w", "b"])
    return Prepared(inputs, ops, checks)
