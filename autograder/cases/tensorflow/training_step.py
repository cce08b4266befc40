"""training_step: one step of plain gradient descent from given parameters, against the kit's NumPy network.

The forward pass handed to ``training_step`` is the student's own ``three_layer_convnet`` (as in the notebook);
its loss and updates are compared with ``numpy_net.three_layer_convnet_sgd_step`` in the parent.
"""
from __future__ import annotations

import numpy as np

from reference_impl.frameworks.layouts import (nhwc_to_nchw, three_layer_params_numpy_to_tf,
                                               three_layer_params_tf_to_numpy)
from reference_impl.frameworks.numpy_net import PARAM_NAMES, three_layer_convnet_sgd_step

from .. import Case, Prepared, case
from ..ops import call, get, value, var
from ...checks import FunctionCheck
from ...framework_checks import named_test
from ._shared import params_tuple, random_params, returned, tensor, variable

ITEM = "training_step"
UPDATE_TOL = 1e-3  # relative to the update's largest entry: float32 rounding swamps its tiniest entries
LOSS_TOL = 1e-4

CASES = (
    case(ITEM, "one step on 4 images 7x6, 6 classes, learning rate 0.05", 2, False,
         image_hw=(7, 6), channels=(4, 5), classes=6, batch=4, learning_rate=0.05),
    case(ITEM, "one step on 8 images 8x8, 10 classes, learning rate 0.01", 2,
         image_hw=(8, 8), channels=(6, 4), classes=10, batch=8, learning_rate=0.01),
    case(ITEM, "one step on 3 images 5x9, 3 classes, learning rate 0.1", 1,
         image_hw=(5, 9), channels=(3, 3), classes=3, batch=3, learning_rate=0.1),
)


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    c = case.config
    hw, lr = c["image_hw"], c["learning_rate"]
    params = random_params(rng, hw, (5, 5), (3, 3), c["channels"], c["classes"], scale=0.2)
    x = rng.standard_normal((c["batch"], *hw, 3)).astype(np.float32)
    y = rng.integers(0, c["classes"], c["batch"]).astype(np.int64)
    inputs = {"x": x, "y": y, **{f"p{i}": p for i, p in enumerate(params)}}
    ops = [tensor("x"), tensor("y", "int64")] + [variable(f"p{i}") for i in range(len(params))]
    ops += [get("three_layer_convnet", "model_fn"),
            call(ITEM, [var("model_fn"), var("x"), var("y"), params_tuple(), value(lr)], "loss")]
    ops += returned("loss", source="loss")
    for i, name in enumerate(PARAM_NAMES):
        ops += returned(name, source=f"p{i}")
    before = [np.asarray(p, dtype=np.float64) for p in three_layer_params_tf_to_numpy(params, hw)]
    loss, after = three_layer_convnet_sgd_step(nhwc_to_nchw(x.astype(np.float64)), y, before, lr)
    expected_tf = [np.asarray(p, dtype=np.float64) for p in three_layer_params_numpy_to_tf(after, hw)]
    checks = [FunctionCheck("loss before the step", ["loss"],
                            named_test("scalar_near", target=float(loss), tol=LOSS_TOL, scale_floor=1.0, digits=6),
                            "the mean of tf.nn.sparse_softmax_cross_entropy_with_logits over the batch")]
    for i, name in enumerate(PARAM_NAMES):
        checks.append(FunctionCheck(f"{name} after the step", [name], named_test("update_near", start=params[i],
                                                                           expected=expected_tf[i], tol=UPDATE_TOL),
                                    "p.assign_sub(learning_rate * gradient) for every parameter, in place"))
    return Prepared(inputs, ops, checks)
