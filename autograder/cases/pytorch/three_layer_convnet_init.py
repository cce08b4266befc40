"""three_layer_convnet_init: the six parameters' shapes, float32 leaves tracked by autograd, Kaiming-normal
weights and zero biases, for the seed's sizes and for non-square images."""
from __future__ import annotations

import numpy as np

from ...checks import ArrayCheck
from .. import Case, Prepared, case
from ..ops import call, output, value, var
from ...framework_checks import TensorCheck
from ._shared import PARAM_NAMES, kaiming_check

ITEM = "three_layer_convnet_init"

CASES = (
    case(ITEM, "the notebook's sizes: 3x32x32 images, 32 and 16 filters, 10 classes", 1, False,
         input_dim=(3, 32, 32), channel_1=32, channel_2=16, num_classes=10),
    case(ITEM, "non-square 3x16x24 images, 24 and 20 filters, 7 classes", 1,
         input_dim=(3, 16, 24), channel_1=24, channel_2=20, num_classes=7),
)


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    c = case.config
    C, H, W = c["input_dim"]
    shapes = {"conv_w1": (c["channel_1"], C, 5, 5), "conv_b1": (c["channel_1"],),
              "conv_w2": (c["channel_2"], c["channel_1"], 3, 3), "conv_b2": (c["channel_2"],),
              "fc_w": (c["channel_2"] * H * W, c["num_classes"]), "fc_b": (c["num_classes"],)}
    ops = [call(ITEM, [value(list(c["input_dim"])), value(c["channel_1"]), value(c["channel_2"]),
                       value(c["num_classes"])], "params")]
    checks = []
    for index, name in enumerate(PARAM_NAMES):
        ops.append(output(name, var("params", index)))
        checks.append(TensorCheck(name, name))
        shape = shapes[name]
        if name.endswith(("_w1", "_w2", "_w")):
            fan_in = shape[0] if len(shape) == 2 else int(np.prod(shape[1:]))
            checks.append(kaiming_check(name, shape, fan_in, name))
        else:
            checks.append(ArrayCheck(name, np.zeros(shape), name, 0.0, axes=("entry",)))
    return Prepared({}, ops, checks)
