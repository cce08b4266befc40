"""ThreeLayerConvNet (nn.Module): given the reference's weights (through ``load_state_dict``, strict: names
conv1/conv2/fc and shapes must match), its scores equal the kit's NumPy net's; a fresh model's weights are
Kaiming normal and its biases zero."""
from __future__ import annotations

import numpy as np

from reference_impl.frameworks.numpy_net import three_layer_convnet_scores

from ...checks import ArrayCheck
from .. import Case, Prepared, case
from ..ops import as_dict, method, new, npy, output, tensor, value, var
from ._shared import PARAM_NAMES, kaiming_check, float32_check, three_layer_params

ITEM = "ThreeLayerConvNet"
HINT = "conv1 (5x5, pad 2) - ReLU - conv2 (3x3, pad 1) - ReLU - flatten - fc, with layers named as the docstring says"
# The state_dict name of each barebones parameter (nn.Linear keeps its weight as (classes, D), fc_w transposed).
STATE_NAMES = {"conv_w1": "conv1.weight", "conv_b1": "conv1.bias", "conv_w2": "conv2.weight",
               "conv_b2": "conv2.bias", "fc_w": "fc.weight", "fc_b": "fc.bias"}

CASES = (
    case(ITEM, "given weights: batch 4 of 3x32x32 images, 8 and 6 filters, 10 classes", 2, False,
         N=4, C=3, H=32, W=32, channel_1=8, channel_2=6, classes=10),
    case(ITEM, "given weights: batch 3 of non-square 2x10x14 images, 5 classes", 2, False,
         N=3, C=2, H=10, W=14, channel_1=4, channel_2=3, classes=5),
    case(ITEM, "fresh model: Kaiming-normal weights and zero biases", 1, False, fresh=True,
         C=3, H=16, W=16, channel_1=40, channel_2=32, classes=10),
    case(ITEM, "given weights: batch 5 of 3x12x12 images, 6 and 4 filters, 4 classes", 2,
         N=5, C=3, H=12, W=12, channel_1=6, channel_2=4, classes=4),
)


def _kwargs(c):
    return {"in_channel": value(c["C"]), "channel_1": value(c["channel_1"]), "channel_2": value(c["channel_2"]),
            "num_classes": value(c["classes"]), "image_size": value([c["H"], c["W"]])}


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    c = case.config
    ops = [new(ITEM, _kwargs(c), "model")]
    if c.get("fresh"):
        shapes = {"conv1": (c["channel_1"], c["C"], 5, 5), "conv2": (c["channel_2"], c["channel_1"], 3, 3),
                  "fc": (c["classes"], c["channel_2"] * c["H"] * c["W"])}
        checks = []
        for layer, shape in shapes.items():
            ops += [output(f"{layer}_w", var("model", f".{layer}", ".weight")),
                    output(f"{layer}_b", var("model", f".{layer}", ".bias"))]
            fan_in = int(np.prod(shape[1:]))
            checks += [kaiming_check(f"{layer}_w", shape, fan_in, f"{layer}.weight"),
                       ArrayCheck(f"{layer}_b", np.zeros(shape[0]), f"{layer}.bias", 0.0, axes=("entry",))]
        return Prepared({}, ops, checks)
    x = rng.standard_normal((c["N"], c["C"], c["H"], c["W"])).astype(np.float32)
    params = three_layer_params(rng, c["C"], c["H"], c["W"], c["channel_1"], c["channel_2"], c["classes"])
    expected = three_layer_convnet_scores(x.astype(np.float64), [params[n].astype(np.float64) for n in PARAM_NAMES])
    inputs = {"x": x, **{n: (params[n].T.copy() if n == "fc_w" else params[n]) for n in PARAM_NAMES}}
    state = as_dict(**{STATE_NAMES[n]: tensor(npy(n)) for n in PARAM_NAMES})
    ops += [method("model", "load_state_dict", [state], "loaded"),
            method("model", "__call__", [tensor(npy("x"))], "scores"), output("scores", var("scores"))]
    return Prepared(inputs, ops, [float32_check("scores", expected, "scores", HINT)])
