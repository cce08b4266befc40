"""build_open_model: takes no arguments and returns a module mapping (N, 3, 32, 32) images to (N, 10) scores.
Its accuracy is graded by ``open_model`` from the saved weights."""
from __future__ import annotations

import numpy as np

from ...framework_checks import ScoresShapeCheck
from .. import Case, Prepared, case
from ..ops import call, method, npy, output, tensor, var

ITEM = "build_open_model"

CASES = (
    case(ITEM, "scores of shape (N, 10) for N = 3 images of 3x32x32, in eval mode", 1, False, N=3),
)


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    n = case.config["N"]
    x = rng.standard_normal((n, 3, 32, 32)).astype(np.float32)
    ops = [call(ITEM, [], "model"), method("model", "eval", [], "model_eval"),
           method("model", "__call__", [tensor(npy("x"))], "scores"), output("scores", var("scores"))]
    return Prepared({"x": x}, ops, [ScoresShapeCheck("scores", (n, 10))])
