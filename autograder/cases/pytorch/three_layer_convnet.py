"""three_layer_convnet: the seed's shape test, then several channel counts, batch sizes and non-square images,
compared with the kit's NumPy three-layer net (reference_impl.frameworks.numpy_net)."""
from __future__ import annotations

import numpy as np

from reference_impl.frameworks.numpy_net import three_layer_convnet_scores

from .. import Case, Prepared, case
from ..ops import as_list, call, npy, output, tensor, var
from ._shared import PARAM_NAMES, float32_check, three_layer_params

ITEM = "three_layer_convnet"
HINT = "conv (pad 2) - ReLU - conv (pad 1) - ReLU - flatten - x @ fc_w + fc_b, stride 1 throughout"

CASES = (
    case(ITEM, "the seed's batch of 64 32x32 images, 6 and 9 channels: scores (64, 10)", 2, False,
         N=64, C=3, H=32, W=32, channel_1=6, channel_2=9, classes=10),
    case(ITEM, "batch 3 of non-square 8x12 images", 1, False, N=3, C=3, H=8, W=12, channel_1=4, channel_2=5, classes=7),
    case(ITEM, "batch 1, one input channel, 6x6", 1, False, N=1, C=1, H=6, W=6, channel_1=2, channel_2=3, classes=4),
    case(ITEM, "batch 9 of 10x7 images, 5 classes", 1, N=9, C=2, H=10, W=7, channel_1=3, channel_2=4, classes=5),
)


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    c = case.config
    x = rng.standard_normal((c["N"], c["C"], c["H"], c["W"])).astype(np.float32)
    params = three_layer_params(rng, c["C"], c["H"], c["W"], c["channel_1"], c["channel_2"], c["classes"])
    expected = three_layer_convnet_scores(x.astype(np.float64), [params[n].astype(np.float64) for n in PARAM_NAMES])
    ops = [call(ITEM, [tensor(npy("x")), as_list(*(tensor(npy(n)) for n in PARAM_NAMES))], "r"),
           output("scores", var("r"))]
    return Prepared({"x": x, **params}, ops, [float32_check("scores", expected, "scores", HINT)])
