"""create_matrix_with_kaiming_normal: shape, float32, and N(0, 2 / fan_in) statistics (not truncated)."""
from __future__ import annotations

import numpy as np

from .. import Case, Prepared, case
from ..ops import call, value
from ._shared import kaiming_check, returned, shape_check

ITEM = "create_matrix_with_kaiming_normal"

CASES = (
    case(ITEM, "a (4096, 10) fully connected matrix", 1, False, shape=(4096, 10)),
    case(ITEM, "a (5, 5, 3, 200) convolution kernel", 1, False, shape=(5, 5, 3, 200)),
    case(ITEM, "a (3, 3, 16, 64) convolution kernel", 1, shape=(3, 3, 16, 64)),
    case(ITEM, "a (2048, 100) fully connected matrix", 1, shape=(2048, 100)),
)


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    shape = tuple(case.config["shape"])
    ops = [call(ITEM, [value(shape)], "r")] + returned("w")
    checks = [shape_check("w", shape, f"weights {shape}, float32"),
              kaiming_check("w", shape, "Kaiming normal statistics")]
    return Prepared({}, ops, checks)
