"""sequential_convnet (nn.Sequential): given the reference's weights (state_dict names 0, 2 and 5, strict),
its scores equal the kit's NumPy net's; a fresh model's weights are Kaiming normal and its biases zero."""
from __future__ import annotations

import numpy as np

from reference_impl.frameworks.numpy_net import three_layer_convnet_scores

from ...checks import ArrayCheck
from .. import Case, Prepared, case
from ..ops import as_dict, call, method, npy, output, tensor, value, var
from ._shared import PARAM_NAMES, kaiming_check, float32_check, three_layer_params

ITEM = "sequential_convnet"
HINT = "Conv2d(5x5, pad 2), ReLU, Conv2d(3x3, pad 1), ReLU, Flatten, Linear: indices 0 to 5"
STATE_NAMES = {"conv_w1": "0.weight", "conv_b1": "0.bias", "conv_w2": "2.weight", "conv_b2": "2.bias",
               "fc_w": "5.weight", "fc_b": "5.bias"}

CASES = (
    case(ITEM, "given weights: batch 4 of 3x32x32 images, the seed's 16 and 32 filters", 2, False,
         N=4, C=3, H=32, W=32, channel_1=16, channel_2=32, classes=10),
    case(ITEM, "given weights: batch 2 of non-square 3x12x8 images, 7 classes", 2, False,
         N=2, C=3, H=12, W=8, channel_1=5, channel_2=6, classes=7),
    case(ITEM, "fresh model: Kaiming-normal weights and zero biases", 1, False, fresh=True,
         C=3, H=16, W=16, channel_1=40, channel_2=32, classes=10),
    case(ITEM, "given weights: batch 3 of 3x16x16 images, 7 classes", 2,
         N=3, C=3, H=16, W=16, channel_1=6, channel_2=5, classes=7),
)


def _args(c):
    return [value(c["C"]), value(c["channel_1"]), value(c["channel_2"]), value(c["classes"]),
            value([c["H"], c["W"]])]


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    c = case.config
    ops = [call(ITEM, _args(c), "model")]
    if c.get("fresh"):
        shapes = {0: (c["channel_1"], c["C"], 5, 5), 2: (c["channel_2"], c["channel_1"], 3, 3),
                  5: (c["classes"], c["channel_2"] * c["H"] * c["W"])}
        checks = []
        for index, shape in shapes.items():
            ops += [output(f"layer{index}_w", var("model", index, ".weight")),
                    output(f"layer{index}_b", var("model", index, ".bias"))]
            checks += [kaiming_check(f"layer{index}_w", shape, int(np.prod(shape[1:])), f"layer {index} weight"),
                       ArrayCheck(f"layer{index}_b", np.zeros(shape[0]), f"layer {index} bias", 0.0, axes=("entry",))]
        return Prepared({}, ops, checks)
    x = rng.standard_normal((c["N"], c["C"], c["H"], c["W"])).astype(np.float32)
    params = three_layer_params(rng, c["C"], c["H"], c["W"], c["channel_1"], c["channel_2"], c["classes"])
    expected = three_layer_convnet_scores(x.astype(np.float64), [params[n].astype(np.float64) for n in PARAM_NAMES])
    inputs = {"x": x, **{n: (params[n].T.copy() if n == "fc_w" else params[n]) for n in PARAM_NAMES}}
    state = as_dict(**{STATE_NAMES[n]: tensor(npy(n)) for n in PARAM_NAMES})
    ops += [method("model", "load_state_dict", [state], "loaded"),
            method("model", "__call__", [tensor(npy("x"))], "scores"), output("scores", var("scores"))]
    return Prepared(inputs, ops, [float32_check("scores", expected, "scores", HINT)])
