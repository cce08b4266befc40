"""sgd_nesterov_optimizer: a Keras SGD optimizer whose updates are those of Nesterov momentum 0.9.

Two updates of a variable with given gradients are compared with Keras' documented rule, computed here:
v <- 0.9 v - lr g;  w <- w + 0.9 v - lr g. The configuration is checked too (what the notebook asks for).
"""
from __future__ import annotations

import numpy as np

from .. import Case, Prepared, case
from ..ops import as_tuple, call, method, value, var
from ._shared import flag, is_instance, returned, tensor, true_check, variable
from ...checks import ArrayCheck, FunctionCheck
from ...framework_checks import named_test

ITEM = "sgd_nesterov_optimizer"
MOMENTUM = 0.9
HINT = "tf.keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9, nesterov=True)"

CASES = (
    case(ITEM, "learning rate 5e-4: SGD, momentum 0.9, Nesterov", 1, False, learning_rate=5e-4, check="config"),
    case(ITEM, "learning rate 0.1: two updates follow Nesterov momentum 0.9", 2, False, learning_rate=0.1,
         check="updates"),
    case(ITEM, "learning rate 0.02: two updates follow Nesterov momentum 0.9", 2, learning_rate=0.02,
         check="updates"),
)


def nesterov_updates(w, gradients, learning_rate, momentum=MOMENTUM):
    """The weights after each update of Keras' SGD with Nesterov momentum (float64)."""
    w, velocity, out = np.array(w, dtype=np.float64), np.zeros_like(w, dtype=np.float64), []
    for g in gradients:
        velocity = momentum * velocity - learning_rate * g
        w = w + momentum * velocity - learning_rate * g
        out.append(w.copy())
    return out


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    lr = case.config["learning_rate"]
    ops = [call(ITEM, [value(lr)], "opt")] + is_instance("is_sgd", "opt", "tf.keras.optimizers.SGD")
    checks = [true_check("is_sgd", "the optimizer is a tf.keras.optimizers.SGD", HINT)]
    inputs = {}
    if case.config["check"] == "config":
        ops += [method("opt", "get_config", [], "cfg")]
        ops += flag("nesterov", var("cfg", "nesterov"))
        ops += [call("np.float64", [var("cfg", "momentum")], "momentum"), *returned("momentum_out", source="momentum"),
                call("np.float64", [var("cfg", "learning_rate")], "lr"), *returned("lr_out", source="lr")]
        checks += [true_check("nesterov", "nesterov=True", HINT),
                   FunctionCheck("momentum 0.9", ["momentum_out"],
                                 named_test("scalar_near", target=MOMENTUM, tol=1e-7, scale_floor=1.0), HINT),
                   FunctionCheck("the learning_rate argument is used", ["lr_out"],
                                 named_test("scalar_near", target=lr, tol=1e-6), HINT)]
        return Prepared(inputs, ops, checks)
    w = rng.standard_normal(6).astype(np.float32)
    g1, g2 = (rng.standard_normal(6).astype(np.float32) for _ in range(2))
    inputs = {"w": w, "g1": g1, "g2": g2}
    ops += [variable("w"), tensor("g1"), tensor("g2")]
    for number, g in ((1, "g1"), (2, "g2")):
        ops += [method("opt", "apply_gradients", [as_tuple(as_tuple(var(g), var("w")))], f"_{number}")]
        ops += returned(f"w{number}", source="w")
    expected = nesterov_updates(w, [g1.astype(np.float64), g2.astype(np.float64)], lr)
    for number, want in enumerate(expected, start=1):
        checks.append(ArrayCheck(f"w{number}", want, f"weights after update {number}", 1e-5, mode="scaled",
                                 hint=HINT, axes=("entry",)))
    return Prepared(inputs, ops, checks)
