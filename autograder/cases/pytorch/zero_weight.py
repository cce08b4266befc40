"""zero_weight: zeros of the asked shape, float32, tracked by autograd."""
from __future__ import annotations

import numpy as np

from ...checks import ArrayCheck
from .. import Case, Prepared, case
from ..ops import call, output, value, var
from ...framework_checks import TensorCheck

ITEM = "zero_weight"

CASES = (
    case(ITEM, "bias of 10 entries", 1, False, shape=(10,)),
    case(ITEM, "matrix (3, 7)", 1, shape=(3, 7)),
)


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    shape = tuple(case.config["shape"])
    ops = [call(ITEM, [value(list(shape))], "b"), output("b", var("b"))]
    return Prepared({}, ops, [TensorCheck("b", "bias"), ArrayCheck("b", np.zeros(shape), "bias", 0.0,
                                                                   axes=tuple(f"axis {i}" for i in range(len(shape))))])
