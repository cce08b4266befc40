"""nesterov_sgd: three optimiser steps on one parameter with given gradients, against the Nesterov-momentum
update written out from PyTorch's documentation (momentum 0.9, no dampening, no weight decay):
v <- 0.9 v + g (v = g on the first step); p <- p - lr (g + 0.9 v)."""
from __future__ import annotations

import numpy as np

from .. import Case, Prepared, case
from ..ops import as_list, assign, call, each, method, npy, output, repeat, set_attribute, tensor, value, var
from ._shared import float32_check

ITEM = "nesterov_sgd"
MOMENTUM = 0.9

CASES = (
    case(ITEM, "three steps on a (4, 3) parameter, learning rate 0.1", 1, False, shape=(4, 3), learning_rate=0.1,
         steps=3),
    case(ITEM, "four steps on a (2, 3, 2, 2) parameter, learning rate 0.01", 1, shape=(2, 3, 2, 2),
         learning_rate=0.01, steps=4),
)


def expected_parameter(p, gradients, lr):
    velocity = None
    for g in gradients:
        velocity = g.copy() if velocity is None else MOMENTUM * velocity + g
        p = p - lr * (g + MOMENTUM * velocity)
    return p


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    c = case.config
    p = rng.standard_normal(c["shape"]).astype(np.float32)
    gradients = rng.standard_normal((c["steps"], *c["shape"])).astype(np.float32)
    expected = expected_parameter(p.astype(np.float64), gradients.astype(np.float64), c["learning_rate"])
    ops = [assign("p", tensor(npy("p"), requires_grad=True)), assign("gradients", npy("gradients")),
           call(ITEM, [as_list(var("p")), value(c["learning_rate"])], "optimizer"),
           repeat(c["steps"], [set_attribute(var("p"), "grad", tensor(each("gradients"))),
                               method("optimizer", "step", [], "ignored")]),
           output("p", var("p"))]
    return Prepared({"p": p, "gradients": gradients}, ops, [float32_check(
        "p", expected, "parameter after the steps", "torch.optim.SGD(parameters, lr=..., momentum=0.9, nesterov=True)")])
