"""train_step: two plain SGD steps in a row from given parameters, compared with the kit's NumPy net
(numpy_net.three_layer_convnet_sgd_step): the losses, and the updates (new - old) / learning_rate, which must
equal the gradients. The second step catches gradients that are not reset between steps.

The forward pass used is the submission's own ``three_layer_convnet`` (as in the notebook), so a wrong forward
pass fails these cases too; the forward pass's own cases locate such a bug.
"""
from __future__ import annotations

import numpy as np

from reference_impl.frameworks.numpy_net import three_layer_convnet_sgd_step

from .. import Case, Prepared, case
from ..ops import as_list, assign, call, get, npy, output, tensor, var
from ...framework_checks import UpdateCheck
from ._shared import FLOAT32_TOL, PARAM_NAMES, float32_check, three_layer_params

ITEM = "train_step"
HINT = ("loss = F.cross_entropy(model_fn(x, params), y); loss.backward(); then, inside torch.no_grad(), "
        "p -= learning_rate * p.grad and reset every p.grad")

CASES = (
    case(ITEM, "two steps, batch 8 of 3x8x8 images, learning rate 1", 1, False,
         N=8, C=3, H=8, W=8, channel_1=4, channel_2=5, classes=6, learning_rate=1.0),
    case(ITEM, "two steps, batch 5 of non-square 2x6x10 images, learning rate 0.5", 1, False,
         N=5, C=2, H=6, W=10, channel_1=3, channel_2=4, classes=4, learning_rate=0.5),
    case(ITEM, "two steps, batch 6 of 3x7x7 images, learning rate 0.2", 1,
         N=6, C=3, H=7, W=7, channel_1=5, channel_2=3, classes=5, learning_rate=0.2),
)


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    c = case.config
    lr = float(c["learning_rate"])
    x = rng.standard_normal((c["N"], c["C"], c["H"], c["W"])).astype(np.float32)
    y = rng.integers(0, c["classes"], size=c["N"]).astype(np.int64)
    params = three_layer_params(rng, c["C"], c["H"], c["W"], c["channel_1"], c["channel_2"], c["classes"])
    step0 = [params[n].astype(np.float64) for n in PARAM_NAMES]
    loss1, step1 = three_layer_convnet_sgd_step(x.astype(np.float64), y, step0, lr)
    loss2, step2 = three_layer_convnet_sgd_step(x.astype(np.float64), y, step1, lr)
    ops = [get("three_layer_convnet", "model_fn"),
           assign("params", as_list(*(tensor(npy(n), requires_grad=True) for n in PARAM_NAMES))),
           assign("x", tensor(npy("x"))), assign("y", tensor(npy("y"), dtype="int64"))]
    checks = []
    for step, (loss, before, after) in enumerate(((loss1, step0, step1), (loss2, step1, step2)), start=1):
        ops.append(call(ITEM, [var("model_fn"), var("params"), var("x"), var("y"), {"value": lr}], f"loss{step}"))
        ops.append(output(f"loss{step}", var(f"loss{step}")))
        checks.append(float32_check(f"loss{step}", np.float64(loss), f"loss of step {step}", HINT))
        for index, name in enumerate(PARAM_NAMES):
            ops.append(output(f"{name}_{step}", var("params", index)))
            checks.append(UpdateCheck(f"{name}_{step}", before[index], after[index], lr,
                                      f"{name} after step {step}", FLOAT32_TOL, HINT))
    return Prepared({"x": x, "y": y, **params}, ops, checks)
