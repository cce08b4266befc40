"""max_pool_forward_naive: the published fixture, then overlapping, non-square and non-tiling windows."""
from __future__ import annotations

import numpy as np

from assignments.convnets import CONVNETS
from reference_impl.pool_naive import max_pool_forward_naive

from .. import Case, Prepared, case
from ..ops import call, load_all, output, value, var
from ._shared import (FLOAT32_TOL, POOL_HINT, PUBLISHED_TOL, array_check, cast, pool_config as pool,
                      pool_properties, published,
                      tie_free, with_unchanged)

ITEM = "max_pool_forward_naive"

_FIXED = CONVNETS.published[ITEM]
_N, _C, _H, _W = _FIXED["x"].shape

CASES = (
    case(ITEM, "published fixed values (2x3x4x4 input, 2x2 pool, stride 2)", 1.5, False, published=True,
         tolerance=PUBLISHED_TOL, **pool(_FIXED["pool_param"]["pool_height"], _FIXED["pool_param"]["pool_width"],
                                         _FIXED["pool_param"]["stride"], N=_N, C=_C, H=_H, W=_W)),
    case(ITEM, "3x3 pool, stride 1 (overlapping windows)", 0.5, False, **pool(3, 3, 1)),
    case(ITEM, "2x3 pool, stride 1 (non-square window)", 0.5, False, **pool(2, 3, 1, H=5, W=7)),
    case(ITEM, "2x2 pool, stride 3, 7x8 input (windows do not tile)", 0.5, False, **pool(2, 2, 3, H=7, W=8)),
    case(ITEM, "3x2 pool, stride 2, 8x7 input, batch 3 (leftover rows)", 0.5, False, **pool(3, 2, 2, N=3, H=8, W=7)),
    case(ITEM, "input left unmodified", 0.5, False, unmodified=True, **pool(2, 2, 2)),
    case(ITEM, "float32 in, float32 out", 0.5, False, dtype="float32", tolerance=FLOAT32_TOL, **pool(2, 2, 2)),
    # Hidden: the same rules on other data and shapes.
    case(ITEM, "3x3 pool, stride 2 (stride differs from pool size)", 1, **pool(3, 3, 2, H=7, W=7)),
    case(ITEM, "3x2 pool, stride 1, 6x9 input, batch 3", 1, **pool(3, 2, 1, N=3, H=6, W=9)),
    case(ITEM, "2x3 pool, stride 2, 9x8 input (overlapping, leftover rows)", 0.5, **pool(2, 3, 2, H=9, W=8)),
    case(ITEM, "input left unmodified (3x2 pool, stride 1)", 0.5, unmodified=True, **pool(3, 2, 1, H=5, W=6)),
    case(ITEM, "float32 in, float32 out (3x3 pool, stride 2, 7x8 input)", 0.5, dtype="float32",
         tolerance=FLOAT32_TOL, **pool(3, 3, 2, H=7, W=8)),
)


properties = pool_properties  # the rules each case exercises (autograder.cases.properties)


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    c = case.config
    param = {k: c[k] for k in ("pool_height", "pool_width", "stride")}
    if c.get("published"):
        x, expected = published(ITEM, "x"), published(ITEM, "out")
    else:
        x = tie_free(rng, (c["N"], c["C"], c["H"], c["W"]))
    (x,) = cast(case, x)
    if not c.get("published"):
        expected = max_pool_forward_naive(x.astype(np.float64), param)[0]
    inputs = {"x": x}
    ops = load_all(inputs) + [call(ITEM, [var("x"), value(param)], "r"), output("out", var("r", 0))]
    checks = [array_check(case, "out", expected, "out", POOL_HINT)]
    ops, checks = with_unchanged(case, inputs, ops, checks, ["x"])
    return Prepared(inputs, ops, checks)
