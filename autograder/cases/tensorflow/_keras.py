"""The checks the three Keras models share: weight shapes, and scores equal to the NumPy network's when the
model is given the parent's weights (``set_weights`` in ``get_weights`` order)."""
from __future__ import annotations

import numpy as np

from .. import Prepared
from ..ops import load, method, var
from ._shared import (expected_scores, feature_map_hw, is_instance, params_tuple, random_params, returned,
                      scores_check, shape_check, tensor, true_check)

KERAS_HINT = ("5x5 then 3x3 convolutions with padding='same' and ReLU, then Flatten and Dense(num_classes) without "
              "an activation; layers created in the order they are used")


def model_case(rng, build_ops, image_hw, channels, classes, batch, must_be=(), must_not_be=()) -> Prepared:
    """Build the model (``build_ops`` leave it in the variable ``m``), call it once, check its weights' shapes,
    load the parent's weights and compare the scores with the NumPy network's."""
    params = random_params(rng, image_hw, (5, 5), (3, 3), channels, classes)
    x = rng.standard_normal((batch, *image_hw, 3)).astype(np.float32)
    inputs = {"x": x, **{f"p{i}": p for i, p in enumerate(params)}}
    ops = list(build_ops) + [tensor("x"), method("m", "__call__", [var("x")], "first"), method("m", "get_weights", [], "w")]
    checks = []
    for label, cls in must_be:
        ops += is_instance(label, "m", cls)
        checks.append(true_check(label, f"the model is a {cls}", KERAS_HINT))
    for label, cls in must_not_be:
        ops += is_instance(label, "m", cls)
        checks.append(true_check(label, f"the model is not a {cls}", KERAS_HINT, want=False))
    for i, p in enumerate(params):
        ops += returned(f"w{i}", i, source="w")
        checks.append(shape_check(f"w{i}", p.shape, f"weight {i} in get_weights() order {p.shape}"))
    ops += [load(f"p{i}") for i in range(len(params))]
    ops += [method("m", "set_weights", [params_tuple()], "_"), method("m", "__call__", [var("x")], "s")]
    ops += returned("scores", source="s")
    checks.append(scores_check("scores", expected_scores(x, params, image_hw), "scores with the given weights",
                               KERAS_HINT))
    return Prepared(inputs, ops, checks)


__all__ = ["KERAS_HINT", "feature_map_hw", "model_case"]
