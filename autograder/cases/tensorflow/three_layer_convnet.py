"""three_layer_convnet: the barebones forward pass against the kit's NumPy network (NCHW, converted layouts)."""
from __future__ import annotations

import numpy as np

from .. import Case, Prepared, case
from ..ops import call, var
from ._shared import expected_scores, params_tuple, random_params, returned, scores_check, shape_check, tensor

ITEM = "three_layer_convnet"
HINT = ("tf.nn.conv2d(x, w, strides=1, padding=[[0, 0], [2, 2], [2, 2], [0, 0]]) for the first convolution, "
        "pad 1 for the second, ReLU after each, then flatten and tf.matmul")


def net(image_hw, kernel_1=(5, 5), kernel_2=(3, 3), channels=(4, 5), classes=10, batch=2, **more):
    return dict(image_hw=image_hw, kernel_1=kernel_1, kernel_2=kernel_2, channels=channels, classes=classes,
                batch=batch, **more)


CASES = (
    # The original assignment's shape check alone would pay for a function returning zeros; the case also runs
    # the same network on random images and weights.
    case(ITEM, "the original assignment's shape check (64 zero images 32x32x3, zero weights, 6 and 9 filters), "
         "then random values", 1, False, zeros=True, **net((32, 32), channels=(6, 9), batch=64)),
    case(ITEM, "random images and weights, 8x8 images, 4 and 5 filters", 2, False, **net((8, 8))),
    case(ITEM, "non-square 6x9 images, 3x5 and 2x3 kernels, 7 classes", 2, False,
         **net((6, 9), (3, 5), (2, 3), (4, 3), 7, 3)),
    case(ITEM, "32x32 images, 5x5 and 3x3 kernels, one image", 1.5, False, **net((32, 32), channels=(8, 6), batch=1)),
    case(ITEM, "a batch of 7 4x4 images, 3 classes", 1.5, **net((4, 4), channels=(3, 2), classes=3, batch=7)),
)


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    c = case.config
    params = random_params(rng, c["image_hw"], c["kernel_1"], c["kernel_2"], c["channels"], c["classes"])
    x = rng.standard_normal((c["batch"], *c["image_hw"], 3)).astype(np.float32)
    inputs = {"x": x, **{f"p{i}": p for i, p in enumerate(params)}}
    ops = [tensor(name) for name in inputs] + [call(ITEM, [var("x"), params_tuple()], "r")] + returned("scores")
    checks = [shape_check("scores", (c["batch"], c["classes"]), "scores (N, K), float32"),
              scores_check("scores", expected_scores(x, params, c["image_hw"]), "scores", HINT)]
    if c.get("zeros"):
        inputs.update({"zero_x": np.zeros_like(x), **{f"zero_p{i}": np.zeros_like(p) for i, p in enumerate(params)}})
        ops = [tensor(name) for name in inputs if name.startswith("zero_")] + [
            call(ITEM, [var("zero_x"), params_tuple(prefix="zero_p")], "zero_r")] + returned(
            "zero_scores", source="zero_r") + ops
        checks.insert(0, shape_check("zero_scores", (c["batch"], c["classes"]), "scores of the zero inputs (64, 10)"))
    return Prepared(inputs, ops, checks)
