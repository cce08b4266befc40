"""build_open_model: a new Keras model from no arguments, mapping (N, 32, 32, 3) float32 images to (N, 10) scores
(its accuracy is graded by ``open_model`` from the saved weights)."""
from __future__ import annotations

import numpy as np

from .. import Case, Prepared, case
from ..ops import call, method, value, var
from ._shared import is_instance, returned, shape_check, tensor, true_check

ITEM = "build_open_model"
HINT = "return a new tf.keras.Model; build_open_model() takes no arguments and gives 10 scores per image"

CASES = (
    case(ITEM, "returns a tf.keras.Model giving (N, 10) scores for (N, 32, 32, 3) images", 1, False, batch=3),
)


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    x = rng.standard_normal((case.config["batch"], 32, 32, 3)).astype(np.float32)
    ops = [call(ITEM, [], "m")] + is_instance("is_model", "m", "tf.keras.Model")
    ops += [tensor("x"), method("m", "__call__", [var("x")], "s", kwargs={"training": value(False)})]
    ops += returned("scores", source="s")
    checks = [true_check("is_model", "a tf.keras.Model", HINT),
              shape_check("scores", (len(x), 10), "scores (N, 10), float32")]
    return Prepared({"x": x}, ops, checks)
