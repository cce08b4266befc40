"""flatten: several ranks, batch sizes and non-square images, compared with NumPy's row-major reshape."""
from __future__ import annotations

import numpy as np

from .. import Case, Prepared, case
from ..ops import call, output, npy, tensor, var
from ._shared import float32_check

ITEM = "flatten"

CASES = (
    case(ITEM, "the notebook's example: (2, 3, 4, 4) batch", 1, False, shape=(2, 3, 4, 4)),
    case(ITEM, "batch 5 of non-square 3x6x9 images", 1, shape=(5, 3, 6, 9)),
    case(ITEM, "batch 1 of rank-3 samples (1, 7, 2)", 1, False, shape=(1, 7, 2)),
    case(ITEM, "batch 4 of vectors (4, 6): unchanged", 1, False, shape=(4, 6)),
)


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    x = rng.standard_normal(case.config["shape"]).astype(np.float32)
    expected = x.reshape(x.shape[0], -1)  # (N, d_1, ..., d_k) -> (N, d_1 * ... * d_k), row-major
    ops = [call(ITEM, [tensor(npy("x"))], "r"), output("out", var("r"))]
    return Prepared({"x": x}, ops, [float32_check("out", expected, "flattened batch",
                                                  "keep the batch dimension and flatten the rest in row-major order")])
