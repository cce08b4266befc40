"""three_layer_convnet_sequential: a tf.keras.Sequential with 16 and 32 filters, checked like the subclass."""
from __future__ import annotations

import numpy as np

from .. import Case, Prepared, case
from ..ops import call, value
from ._keras import model_case

ITEM = "three_layer_convnet_sequential"
CHANNELS = (16, 32)  # fixed by the assignment

CASES = (
    case(ITEM, "32x32x3 images, 10 classes", 2, False, image_hw=(32, 32), classes=10, batch=3),
    case(ITEM, "8x8x3 images, 5 classes", 1, image_hw=(8, 8), classes=5, batch=4),
    case(ITEM, "non-square 6x9x3 images, 3 classes", 1, False, image_hw=(6, 9), classes=3, batch=2),
)


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    c = case.config
    build = [call(ITEM, [value((*c["image_hw"], 3)), value(c["classes"])], "m")]
    return model_case(rng, build, c["image_hw"], CHANNELS, c["classes"], c["batch"],
                      must_be=[("is_sequential", "tf.keras.Sequential")])
