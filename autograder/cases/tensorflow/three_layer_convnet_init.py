"""three_layer_convnet_init: six trainable float32 variables of the right shapes, Kaiming weights, zero biases."""
from __future__ import annotations

import numpy as np

from reference_impl.frameworks.numpy_net import PARAM_NAMES

from .. import Case, Prepared, case
from ..ops import call, var
from ...checks import FunctionCheck, named_test
from ._shared import flag, kaiming_check, returned, shape_check, true_check

ITEM = "three_layer_convnet_init"
SHAPES = ((5, 5, 3, 32), (32,), (3, 3, 32, 16), (16,), (32 * 32 * 16, 10), (10,))

CASES = (
    case(ITEM, "six float32 parameters of the shapes for 32 and 16 filters on 32x32x3 images", 2, False,
         check="shapes"),
    case(ITEM, "every parameter is a trainable tf.Variable", 1, False, check="variables"),
    case(ITEM, "the biases are zero", 1, False, check="biases"),
    case(ITEM, "the weights have Kaiming normal statistics", 2, False, check="kaiming"),
)


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    kind = case.config["check"]
    ops, checks = [call(ITEM, [], "r")], []
    for i, (name, shape) in enumerate(zip(PARAM_NAMES, SHAPES)):
        if kind == "variables":
            ops += flag(name, var("r", i, ".trainable"))
            checks.append(true_check(name, f"{name} is a trainable tf.Variable", "wrap each tensor in tf.Variable"))
            continue
        ops += returned(name, i)
        if kind == "shapes":
            checks.append(shape_check(name, shape, f"{name} {shape}, float32"))
        elif kind == "biases" and len(shape) == 1:
            checks.append(shape_check(name, shape, f"{name} {shape}"))
            checks.append(_zero_check(name))
        elif kind == "kaiming" and len(shape) > 1:
            checks.append(kaiming_check(name, shape, f"{name}: Kaiming normal statistics"))
    return Prepared({}, ops, checks)


def _zero_check(name):
    return FunctionCheck(f"{name} is zero", [name], named_test("all_zero"),
                         "biases start at zero: tf.Variable(tf.zeros(...))")
