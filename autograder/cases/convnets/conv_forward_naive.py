"""conv_forward_naive: the published fixture, then strides, paddings, rectangular filters, batches, dtypes."""
from __future__ import annotations

import numpy as np

from reference_impl.conv_naive import conv_forward_naive

from .. import Case, Prepared, case
from ..ops import call, load_all, output, value, var
from ._shared import (CONV_HINT, FLOAT32_TOL, PUBLISHED_TOL, array_check, cast, conv_config as conv,
                      with_unchanged)

ITEM = "conv_forward_naive"

# Published fixed values (the original assignment's linspace fixtures; see the seed notebooks).
PUBLISHED_OUT = np.array([
    [[[-0.08759809, -0.10987781], [-0.18387192, -0.2109216]],
     [[0.21027089, 0.21661097], [0.22847626, 0.23004637]],
     [[0.50813986, 0.54309974], [0.64082444, 0.67101435]]],
    [[[-0.98053589, -1.03143541], [-1.19128892, -1.24695841]],
     [[0.69108355, 0.66880383], [0.59480972, 0.56776003]],
     [[2.36270298, 2.36904306], [2.38090835, 2.38247847]]]])  # (2, 3, 2, 2)

CASES = (
    case(ITEM, "published fixed values (2x3x4x4 input, three 4x4 filters, stride 2, pad 1)", 2, False,
         published=True, tolerance=PUBLISHED_TOL, **conv(2, 1, 3, 4, 4, N=2, C=3, H=4, W=4)),
    case(ITEM, "stride 1, pad 0, 3x3 filter, batch 2", 1, **conv(1, 0, 2, 3, 3)),
    case(ITEM, "stride 2, pad 1, 3x5 filter", 1.5, **conv(2, 1, 3, 3, 5, H=7, W=7)),
    case(ITEM, "stride 1, pad 2, 5x3 filter", 1.5, **conv(1, 2, 2, 5, 3, H=4, W=6)),
    case(ITEM, "stride 3, pad 1, 2x2 filter, 6x9 input", 1, **conv(3, 1, 2, 2, 2, H=6, W=9)),
    case(ITEM, "batch 3, 4 channels, 5 filters, stride 1, pad 1", 1, **conv(1, 1, 5, 3, 3, N=3, C=4)),
    case(ITEM, "input left unmodified (stride 1, pad 0)", 1, unmodified=True, **conv(1, 0, 2, 3, 3)),
    case(ITEM, "float32 in, float32 out", 1, dtype="float32", tolerance=FLOAT32_TOL, **conv(1, 1, 2, 3, 3)),
)


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    c = case.config
    param = {"stride": c["stride"], "pad": c["pad"]}
    if c.get("published"):
        x = np.linspace(-0.1, 0.5, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
        w = np.linspace(-0.2, 0.3, num=3 * 3 * 4 * 4).reshape(3, 3, 4, 4)
        b = np.linspace(-0.1, 0.2, num=3)
        expected = PUBLISHED_OUT
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
