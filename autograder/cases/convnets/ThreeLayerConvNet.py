"""ThreeLayerConvNet: parameter names, shapes, dtypes and initialisation, then loss, gradients and scores with
the reference's parameters loaded into the student's model (so the order of random draws never matters)."""
from __future__ import annotations

import numpy as np

from reference_impl.cnn import ThreeLayerConvNet

from .. import Case, Prepared, case
from ..ops import as_tuple, keys, method, new, np_type, npy, output, setitem, value, var
from ...checks import ArrayCheck, DtypeCheck, FunctionCheck, KeysCheck, NormalSampleCheck, named_test

ITEM = "ThreeLayerConvNet"
NET_PARAMS = ("W1", "b1", "W2", "b2", "W3", "b3")
SMALL_NET = dict(input_dim=[3, 8, 8], num_filters=4, filter_size=3, hidden_dim=10, num_classes=5,
                 weight_scale=0.1, dtype="float64")

CASES = (
    case(ITEM, "parameter names and shapes (default arguments)", 2, False, check="shapes", kwargs={}),
    case(ITEM, "parameter names and shapes (input 3x8x6, 3 filters of 5x5, hidden 7, 4 classes)", 1.5, False,
         check="shapes", kwargs=dict(input_dim=[3, 8, 6], num_filters=3, filter_size=5, hidden_dim=7,
                                     num_classes=4)),
    case(ITEM, "parameters follow the dtype argument (float32 default, float64)", 1.5, False, check="dtype"),
    case(ITEM, "initial weights have std weight_scale and biases are zero", 1.5, False, check="init"),
    case(ITEM, "loss and gradients with the reference's parameters (reg 0, float64)", 2.5, False, check="loss",
         reg=0.0),
    case(ITEM, "loss and gradients with the reference's parameters (reg 0.5, float64)", 2.5, False, check="loss",
         reg=0.5),
    case(ITEM, "scores when y is None", 1.5, False, check="scores"),
    case(ITEM, "regularisation adds 0.5 * reg * sum of squared weights", 1.5, False, check="reg", tags=("reg > 0",)),
    # Hidden: the same rules on other data and sizes.
    case(ITEM, "parameter names and shapes (input 2x6x10, 6 filters of 3x3, hidden 12, 3 classes)", 1.5,
         check="shapes", kwargs=dict(input_dim=[2, 6, 10], num_filters=6, filter_size=3, hidden_dim=12,
                                     num_classes=3)),
    case(ITEM, "loss and gradients with the reference's parameters (reg 0.1, float64)", 2.5, check="loss", reg=0.1),
    case(ITEM, "scores when y is None (other parameters and images)", 1.5, check="scores"),
)


def properties(case: Case) -> set[str]:
    """The rules a case exercises (see ``autograder.cases.properties``): what it checks, with which sizes."""
    c = case.config
    found = {f"checks {c['check']}"}
    if c.get("kwargs"):
        found.add("non-default sizes (non-square input)")
    if c.get("reg"):
        found.add("reg > 0")
        if c["check"] == "loss":
            found.add("gradients with reg > 0")
    return found


def _net_kwargs(kwargs: dict) -> dict:
    specs = {}
    for key, val in kwargs.items():
        if key == "input_dim":
            specs[key] = as_tuple(*(value(v) for v in val))
        elif key == "dtype":
            specs[key] = np_type(val)
        else:
            specs[key] = value(val)
    return specs


def _expected_shapes(input_dim=(3, 32, 32), num_filters=32, filter_size=7, hidden_dim=100, num_classes=10, **_):
    C, H, W = input_dim
    return {"W1": (num_filters, C, filter_size, filter_size), "b1": (num_filters,),
            "W2": (num_filters * (H // 2) * (W // 2), hidden_dim), "b2": (hidden_dim,),
            "W3": (hidden_dim, num_classes), "b3": (num_classes,)}


def _loaded_model(result, kwargs, params_prefix="p"):
    ops = [new(ITEM, _net_kwargs(kwargs), result)]
    ops += [setitem(var(result, ".params"), name, npy(f"{params_prefix}_{name}")) for name in NET_PARAMS]
    return ops


def _structure(check: str, config: dict) -> Prepared:
    ops, checks = [], []
    if check == "shapes":
        kwargs = config["kwargs"]
        shapes = _expected_shapes(**kwargs)
        dtype = kwargs.get("dtype", "float32")
        ops = [new(ITEM, _net_kwargs(kwargs), "m"), keys("names", var("m", ".params"))]
        ops += [output(name, var("m", ".params", name)) for name in NET_PARAMS]
        checks = [KeysCheck("names", list(NET_PARAMS), "parameter names")]
        checks += [DtypeCheck(name, dtype, shapes[name], name) for name in NET_PARAMS]
    elif check == "dtype":
        kwargs = dict(SMALL_NET)
        shapes = _expected_shapes(**kwargs)
        for dtype in ("float32", "float64"):
            kwargs["dtype"] = dtype
            make = {k: v for k, v in kwargs.items() if not (k == "dtype" and v == "float32")}
            ops += [new(ITEM, _net_kwargs(make), dtype)]
            ops += [output(f"{dtype}_{n}", var(dtype, ".params", n)) for n in NET_PARAMS]
            checks += [DtypeCheck(f"{dtype}_{n}", dtype, shapes[n], f"{n} ({dtype} model)") for n in NET_PARAMS]
    else:  # init
        weight_scale = 0.02
        kwargs = dict(input_dim=[3, 16, 16], num_filters=8, filter_size=3, hidden_dim=50, num_classes=10,
                      weight_scale=weight_scale, dtype="float64")
        ops = [new(ITEM, _net_kwargs(kwargs), "m")]
        ops += [output(name, var("m", ".params", name)) for name in NET_PARAMS]
        shapes = _expected_shapes(**kwargs)
        for name in NET_PARAMS:
            if name.startswith("W"):
                checks.append(NormalSampleCheck(name, weight_scale, f"initial {name}", shapes[name],
                                                hint_std="weights are weight_scale * np.random.randn(...)",
                                                hint_mean="weights are weight_scale * np.random.randn(...): "
                                                          "normal draws centred at zero"))
            else:
                checks.append(FunctionCheck(f"initial {name}", [name], named_test("all_zero"), "biases start at zero"))
    return Prepared({}, ops, checks)


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    check = case.config["check"]
    if check in ("shapes", "dtype", "init"):
        return _structure(check, case.config)
    kwargs = dict(SMALL_NET, reg=case.config.get("reg", 0.0))
    reference_kwargs = dict(kwargs, input_dim=tuple(kwargs["input_dim"]), dtype=np.float64)
    model = ThreeLayerConvNet(**reference_kwargs, seed=int(rng.integers(2**31)))
    inputs = {f"p_{name}": model.params[name] for name in NET_PARAMS}
    X = rng.standard_normal((6, *kwargs["input_dim"]))
    y = rng.integers(0, kwargs["num_classes"], size=6)
    inputs.update(X=X, y=y)
    if check == "scores":
        ops = _loaded_model("m", kwargs) + [method("m", "loss", [npy("X")], "r"), output("scores", var("r"))]
        checks = [ArrayCheck("scores", model.loss(X), "scores", case.tolerance, axes=("sample", "class"),
                             hint="with y=None return the scores array alone")]
    elif check == "loss":
        loss, grads = model.loss(X, y)
        ops = _loaded_model("m", kwargs) + [method("m", "loss", [npy("X"), npy("y")], "r"),
                                            output("loss", var("r", 0))]
        ops += [output(f"d{n}", var("r", 1, n)) for n in NET_PARAMS]
        checks = [ArrayCheck("loss", np.float64(loss), "loss", case.tolerance,
                             hint="softmax loss plus 0.5 * reg * (sum(W1**2) + sum(W2**2) + sum(W3**2))")]
        checks += [ArrayCheck(f"d{n}", grads[n], f"grads['{n}']", case.tolerance,
                              hint="backward through affine - relu - affine - conv_relu_pool in reverse order; "
                                   "add reg * W to each weight gradient") for n in NET_PARAMS]
    else:  # reg
        reg = 0.5
        penalty = 0.5 * reg * sum(float(np.sum(model.params[n] ** 2)) for n in ("W1", "W2", "W3"))
        ops = _loaded_model("with_reg", dict(kwargs, reg=reg)) + _loaded_model("without", dict(kwargs, reg=0.0))
        ops += [method(o, "loss", [npy("X"), npy("y")], o + "_r") for o in ("with_reg", "without")]
        ops += [output("loss_reg", var("with_reg_r", 0)), output("loss_plain", var("without_r", 0))]
        checks = [FunctionCheck("loss(reg=0.5) - loss(reg=0)", ["loss_reg", "loss_plain"],
                                named_test("difference_is", target=penalty),
                                "the L2 term is 0.5 * reg * sum of the squared weights (not the biases)")]
    return Prepared(inputs, ops, checks)
