"""max_pool_forward_naive: the published fixture, then overlapping, non-square and non-tiling windows."""
from __future__ import annotations

import numpy as np

from reference_impl.pool_naive import max_pool_forward_naive

from .. import Case, Prepared, case
from ..ops import call, load_all, output, value, var
from ._shared import FLOAT32_TOL, POOL_HINT, PUBLISHED_TOL, array_check, cast, pool_config as pool, tie_free, \
    with_unchanged

ITEM = "max_pool_forward_naive"

PUBLISHED_OUT = np.array([
    [[[-0.26315789, -0.24842105], [-0.20421053, -0.18947368]],
     [[-0.14526316, -0.13052632], [-0.08631579, -0.07157895]],
     [[-0.02736842, -0.01263158], [0.03157895, 0.04631579]]],
    [[[0.09052632, 0.10526316], [0.14947368, 0.16421053]],
     [[0.20842105, 0.22315789], [0.26736842, 0.28210526]],
     [[0.32631579, 0.34105263], [0.38526316, 0.4]]]])  # (2, 3, 2, 2)

CASES = (
    case(ITEM, "published fixed values (2x3x4x4 input, 2x2 pool, stride 2)", 2, False, published=True,
         tolerance=PUBLISHED_TOL, **pool(2, 2, 2, H=4, W=4)),
    case(ITEM, "3x3 pool, stride 1 (overlapping windows)", 1, **pool(3, 3, 1)),
    case(ITEM, "2x3 pool, stride 1 (non-square window)", 1, **pool(2, 3, 1, H=5, W=7)),
    case(ITEM, "3x3 pool, stride 2 (stride differs from pool size)", 1, **pool(3, 3, 2, H=7, W=7)),
    case(ITEM, "2x2 pool, stride 3, 7x8 input (windows do not tile)", 1, **pool(2, 2, 3, H=7, W=8)),
    case(ITEM, "3x2 pool, stride 2, 8x7 input, batch 3 (leftover rows)", 1, **pool(3, 2, 2, N=3, H=8, W=7)),
    case(ITEM, "input left unmodified", 0.5, unmodified=True, **pool(2, 2, 2)),
    case(ITEM, "float32 in, float32 out", 0.5, dtype="float32", tolerance=FLOAT32_TOL, **pool(2, 2, 2)),
)


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    c = case.config
    param = {k: c[k] for k in ("pool_height", "pool_width", "stride")}
    if c.get("published"):
        x = np.linspace(-0.3, 0.4, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
        expected = PUBLISHED_OUT
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
