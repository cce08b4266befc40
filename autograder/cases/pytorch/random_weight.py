"""random_weight: Kaiming-normal statistics (std sqrt(2 / fan_in)) for matrices and filter banks, float32
leaves that autograd tracks."""
from __future__ import annotations

import numpy as np

from .. import Case, Prepared, case
from ..ops import call, output, value, var
from ...framework_checks import TensorCheck
from ._shared import kaiming_check

ITEM = "random_weight"

CASES = (
    case(ITEM, "fully connected (3000, 10): std sqrt(2 / 3000)", 1, False, shape=(3000, 10)),
    case(ITEM, "filter bank (64, 16, 5, 5): fan_in 16 * 5 * 5", 1, False, shape=(64, 16, 5, 5)),
    case(ITEM, "non-square filters (40, 8, 3, 5): fan_in 120", 1, shape=(40, 8, 3, 5)),
    case(ITEM, "wide matrix (500, 40): fan_in is shape[0]", 1, shape=(500, 40)),
)


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    shape = tuple(case.config["shape"])
    fan_in = shape[0] if len(shape) == 2 else int(np.prod(shape[1:]))
    ops = [call(ITEM, [value(list(shape))], "w"), output("w", var("w"))]
    return Prepared({}, ops, [TensorCheck("w", "weight"), kaiming_check("w", shape, fan_in, "weight")])
