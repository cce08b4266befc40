"""flatten: each sample's entries in one row, in row-major order, for batches of any size and rank."""
from __future__ import annotations

import numpy as np

from .. import Case, Prepared, case
from ..ops import call, var
from ...checks import ArrayCheck
from ._shared import returned, tensor

ITEM = "flatten"

CASES = (
    case(ITEM, "a (2, 3, 4, 5) batch becomes (2, 60), row-major", 2, False, shape=(2, 3, 4, 5)),
    case(ITEM, "a (1, 7) batch is left as it is", 1, False, shape=(1, 7)),
    case(ITEM, "a (5, 2, 3) batch", 1, False, shape=(5, 2, 3)),
    case(ITEM, "a rank-5 batch (3, 1, 1, 1, 4)", 1, False, shape=(3, 1, 1, 1, 4)),
    case(ITEM, "64 images of 32x32x3", 1, shape=(64, 32, 32, 3)),
)


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    shape = case.config["shape"]
    x = rng.standard_normal(shape).astype(np.float32)
    ops = [tensor("x"), call(ITEM, [var("x")], "r")] + returned("out", source="r")
    check = ArrayCheck("out", x.reshape(shape[0], -1).astype(np.float64), "flattened batch", case.tolerance,
                       hint="tf.reshape(x, (tf.shape(x)[0], -1)) keeps the first axis and merges the rest",
                       axes=("sample", "feature"))
    return Prepared({"x": x}, ops, [check])
