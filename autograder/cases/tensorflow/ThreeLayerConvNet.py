"""ThreeLayerConvNet: the Keras subclass, checked through its weights and its scores with the parent's weights."""
from __future__ import annotations

import numpy as np

from .. import Case, Prepared, case
from ..ops import new, value
from ._keras import model_case

ITEM = "ThreeLayerConvNet"

CASES = (
    case(ITEM, "12 and 8 filters, 10 classes, 32x32 images", 2, False, image_hw=(32, 32), channels=(12, 8),
         classes=10, batch=4),
    case(ITEM, "5 and 7 filters, 4 classes, 8x8 images", 1.5, image_hw=(8, 8), channels=(5, 7), classes=4, batch=3),
    case(ITEM, "non-square 6x10 images, 3 and 2 filters, 6 classes", 1.5, False, image_hw=(6, 10), channels=(3, 2),
         classes=6, batch=2),
)


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    c = case.config
    build = [new(ITEM, {"channel_1": value(c["channels"][0]), "channel_2": value(c["channels"][1]),
                        "num_classes": value(c["classes"])}, "m")]
    return model_case(rng, build, c["image_hw"], c["channels"], c["classes"], c["batch"],
                      must_be=[("is_model", "tf.keras.Model")])
