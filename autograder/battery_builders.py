"""Builders that turn a battery ``Case`` into worker inputs, a worker program and parent-side checks.

Expected values come from ``reference_impl`` (computed here, in the grader's process, never shipped to the
worker) or from a closed form (published fixtures, per-channel statistics, running-average formula, L2 term).
Worker programs are lists of plain-data operations interpreted by ``autograder.worker.run_ops``; input
arrays are referred to by bare names (``{"npy": "x"}``) that the engine maps to files.
"""
from __future__ import annotations

import numpy as np

from reference_impl.cnn import ThreeLayerConvNet
from reference_impl.conv_naive import conv_backward_naive, conv_forward_naive
from reference_impl.pool_naive import max_pool_backward_naive, max_pool_forward_naive
from reference_impl.spatial_norm import (spatial_batchnorm_backward, spatial_batchnorm_forward,
                                         spatial_groupnorm_backward, spatial_groupnorm_forward)

from .battery import (NUMERIC_H, NUMERIC_TOL, PUBLISHED_CONV_OUT, PUBLISHED_POOL_OUT,
                      SAMPLES_PER_ARRAY, Case, Prepared)
from .checks import (ArrayCheck, DtypeCheck, FunctionCheck, KeysCheck, NumericGradientCheck, UnchangedCheck)

NET_PARAMS = ("W1", "b1", "W2", "b2", "W3", "b3")


def var(name, *path, copy=False):
    spec = {"var": name, "path": list(path)}
    return dict(spec, copy=True) if copy else spec


def value(v):
    return {"value": v}


def load_all(names):
    return [{"op": "load", "var": n, "npy": n} for n in names]


def call(fn, args, result, optional=False):
    return {"op": "call", "fn": fn, "args": args, "result": result, "optional": optional}


def output(name, spec):
    return {"op": "output", "name": name, "value": spec}


def _dtype(case: Case) -> str:
    return case.config.get("dtype", "float64")


def _array_check(case, name, expected, label, hint="", pad=0, axes=("sample", "channel", "row", "column")):
    float32 = _dtype(case) == "float32"
    return ArrayCheck(name, expected, label, case.tolerance, mode="scaled" if float32 else "rel",
                      dtype="float32" if float32 else None, hint=hint, pad=pad, axes=axes)


def _unchanged(names, inputs):
    ops = [output(f"{n}_after", var(n)) for n in names]
    checks = [UnchangedCheck(f"{n}_after", np.asarray(inputs[n], dtype=np.float64), f"input {n}") for n in names]
    return ops, checks


def _numeric(fn, arg_specs, arrays, dout, rng, forward_expected, grad_names, pick=0):
    """Perturbation ops and checks for each input array of a forward pass (float64 cases only)."""
    ops, checks = [], []
    for position, grad_name in grad_names.items():
        array = arrays[position]
        indices = sorted(rng.choice(array.size, size=min(SAMPLES_PER_ARRAY, array.size), replace=False).tolist())
        name = f"num_{grad_name}"
        ops.append({"op": "perturb", "fn": fn, "args": arg_specs, "arg": position, "indices": indices,
                    "h": NUMERIC_H, "pick": pick, "name": name, "optional": True})
        checks.append(NumericGradientCheck(grad_name, name, indices, dout, NUMERIC_H,
                                           f"{grad_name} vs numeric gradient of your forward", NUMERIC_TOL,
                                           "fwd", forward_expected))
    return ops, checks


def _cast(case, *arrays):
    return [np.asarray(a, dtype=_dtype(case)) for a in arrays]


CONV_HINT = ("loop over output positions with window x_padded[:, :, i*stride:i*stride+HH, j*stride:j*stride+WW]; "
             "HH and WW may differ")
POOL_HINT = "use pool_height, pool_width and stride separately; windows may overlap or leave rows unused"


def conv_forward(case: Case, rng: np.random.Generator) -> Prepared:
    c = case.config
    param = {"stride": c["stride"], "pad": c["pad"]}
    if c.get("published"):
        x = np.linspace(-0.1, 0.5, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
        w = np.linspace(-0.2, 0.3, num=3 * 3 * 4 * 4).reshape(3, 3, 4, 4)
        b = np.linspace(-0.1, 0.2, num=3)
        expected = PUBLISHED_CONV_OUT
    else:
        x = rng.standard_normal((c["N"], c["C"], c["H"], c["W"]))
        w = rng.standard_normal((c["F"], c["C"], c["HH"], c["WW"]))
        b = rng.standard_normal(c["F"])
    x, w, b = _cast(case, x, w, b)
    if not c.get("published"):
        expected = conv_forward_naive(*(a.astype(np.float64) for a in (x, w, b)), param)[0]
    inputs = {"x": x, "w": w, "b": b}
    ops = load_all(inputs) + [call("conv_forward_naive", [var("x"), var("w"), var("b"), value(param)], "r"),
                              output("out", var("r", 0))]
    checks = [_array_check(case, "out", expected, "out", CONV_HINT, axes=("sample", "filter", "row", "column"))]
    if c.get("unmodified"):
        more_ops, more_checks = _unchanged(["x", "w", "b"], inputs)
        ops, checks = ops + more_ops, checks + more_checks
    return Prepared(inputs, ops, checks)


def conv_backward(case: Case, rng: np.random.Generator) -> Prepared:
    c = case.config
    param = {"stride": c["stride"], "pad": c["pad"]}
    x = rng.standard_normal((c["N"], c["C"], c["H"], c["W"]))
    w = rng.standard_normal((c["F"], c["C"], c["HH"], c["WW"]))
    b = rng.standard_normal(c["F"])
    out, cache = conv_forward_naive(x, w, b, param)
    dout = rng.standard_normal(out.shape)
    x, w, b, dout = _cast(case, x, w, b, dout)
    out, cache = conv_forward_naive(*(a.astype(np.float64) for a in (x, w, b)), param)
    dx, dw, db = conv_backward_naive(dout.astype(np.float64), cache)
    inputs = {"x": x, "w": w, "b": b, "dout": dout}
    ops, aux, checks = load_all(inputs), [], []
    if _dtype(case) == "float64" and not c.get("unmodified"):
        fwd_args = [var("x", copy=True), var("w", copy=True), var("b", copy=True), value(param)]
        aux = load_all(inputs) + [call("conv_forward_naive", fwd_args, "f", optional=True),
                                  output("fwd", var("f", 0))]
        num_ops, checks = _numeric("conv_forward_naive", fwd_args, [x, w, b], dout, rng, out,
                                   {0: "dx", 1: "dw", 2: "db"})
        aux += num_ops
    # The cache layout (x, w, b, conv_param) is fixed by the template, so the backward pass is tested on
    # its own, whatever the submitted forward pass does.
    cache_spec = {"tuple": [var("x"), var("w"), var("b"), value(param)]}
    ops += [call("conv_backward_naive", [var("dout"), cache_spec], "r")]
    ops += [output(n, var("r", i)) for i, n in enumerate(("dx", "dw", "db"))]
    checks = [_array_check(case, "dx", dx, "dx", "overlapping windows add into dx; drop the padding at the end",
                           pad=c["pad"]),
              _array_check(case, "dw", dw, "dw", CONV_HINT, axes=("filter", "channel", "row", "column")),
              _array_check(case, "db", db, "db", "db sums dout over samples and positions", axes=("filter",))] + checks
    if c.get("unmodified"):
        more_ops, more_checks = _unchanged(["x", "w", "b", "dout"], inputs)
        ops, checks = ops + more_ops, checks + more_checks
    return Prepared(inputs, ops, checks, aux)


def _tie_free(rng, shape):
    """Distinct values far apart compared with the numeric-gradient step, so every max is unique."""
    size = int(np.prod(shape))
    return (rng.permutation(size).reshape(shape) / size * 4.0 - 2.0)


def pool_forward(case: Case, rng: np.random.Generator) -> Prepared:
    c = case.config
    param = {k: c[k] for k in ("pool_height", "pool_width", "stride")}
    if c.get("published"):
        x = np.linspace(-0.3, 0.4, num=2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
        expected = PUBLISHED_POOL_OUT
    else:
        x = _tie_free(rng, (c["N"], c["C"], c["H"], c["W"]))
    (x,) = _cast(case, x)
    if not c.get("published"):
        expected = max_pool_forward_naive(x.astype(np.float64), param)[0]
    inputs = {"x": x}
    ops = load_all(inputs) + [call("max_pool_forward_naive", [var("x"), value(param)], "r"),
                              output("out", var("r", 0))]
    checks = [_array_check(case, "out", expected, "out", POOL_HINT)]
    if c.get("unmodified"):
        more_ops, more_checks = _unchanged(["x"], inputs)
        ops, checks = ops + more_ops, checks + more_checks
    return Prepared(inputs, ops, checks)


def pool_backward(case: Case, rng: np.random.Generator) -> Prepared:
    c = case.config
    param = {k: c[k] for k in ("pool_height", "pool_width", "stride")}
    x = _tie_free(rng, (c["N"], c["C"], c["H"], c["W"]))
    out, _ = max_pool_forward_naive(x, param)
    dout = rng.standard_normal(out.shape)
    x, dout = _cast(case, x, dout)
    out, cache = max_pool_forward_naive(x.astype(np.float64), param)
    dx = max_pool_backward_naive(dout.astype(np.float64), cache)
    inputs = {"x": x, "dout": dout}
    ops, aux, checks = load_all(inputs), [], []
    if _dtype(case) == "float64" and not c.get("unmodified"):
        fwd_args = [var("x", copy=True), value(param)]
        aux = load_all(inputs) + [call("max_pool_forward_naive", fwd_args, "f", optional=True),
                                  output("fwd", var("f", 0))]
        num_ops, checks = _numeric("max_pool_forward_naive", fwd_args, [x], dout, rng, out, {0: "dx"})
        aux += num_ops
    ops += [call("max_pool_backward_naive", [var("dout"), {"tuple": [var("x"), value(param)]}], "r"),
            output("dx", var("r"))]
    checks = [_array_check(case, "dx", dx, "dx", "route each window's gradient to its max and ADD (+=): "
                                                 "overlapping windows can share a max")] + checks
    if c.get("unmodified"):
        more_ops, more_checks = _unchanged(["x", "dout"], inputs)
        ops, checks = ops + more_ops, checks + more_checks
    return Prepared(inputs, ops, checks, aux)


def _norm_inputs(case, rng, channels_shape):
    N, C, H, W = case.config["shape"]
    x = 4 * rng.standard_normal((N, C, H, W)) + 10
    gamma = rng.uniform(0.5, 2.0, C).reshape(channels_shape(C))
    beta = rng.standard_normal(C).reshape(channels_shape(C))
    return x, gamma, beta


def _channel_stats(target_mean, target_std):
    def test(out):
        means, stds = out.mean(axis=(0, 2, 3)), out.std(axis=(0, 2, 3))
        ok = np.allclose(means, target_mean, atol=1e-3) and np.allclose(stds, target_std, rtol=1e-3)
        return ok, f"means {np.round(target_mean, 3).tolist()}, stds {np.round(target_std, 3).tolist()}", \
            f"means {np.round(means, 3).tolist()}, stds {np.round(stds, 3).tolist()}"
    return test


BN_HINT = ("move channels last before flattening: x.transpose(0, 2, 3, 1).reshape(-1, C), and undo both "
           "afterwards")


def batchnorm_forward(case: Case, rng: np.random.Generator) -> Prepared:
    c = case.config
    x, gamma, beta = _norm_inputs(case, rng, lambda C: (C,))
    if c.get("unit_affine"):
        gamma, beta = np.ones(3), np.zeros(3)
    if c.get("published_affine"):
        gamma, beta = np.array([3.0, 4.0, 5.0]), np.array([6.0, 7.0, 8.0])
    x, gamma, beta = _cast(case, x, gamma, beta)
    inputs = {"x": x, "gamma": gamma, "beta": beta}
    as64 = [a.astype(np.float64) for a in (x, gamma, beta)]
    fn = "spatial_batchnorm_forward"
    ops = load_all(inputs)
    checks = []
    if c["mode"] == "warmup":
        batches = 2 * rng.standard_normal((50, *x.shape)) + 5
        inputs["batches"] = batches
        ops += [{"op": "load", "var": "batches", "npy": "batches"},
                {"op": "set", "var": "bn", "value": {"dict": {"mode": value("train")}}},
                {"op": "repeat", "times": len(batches),
                 "body": [call(fn, [{"var": "batches", "iter": True}, var("gamma"), var("beta"), var("bn")], "_")]},
                {"op": "setitem", "obj": var("bn"), "key": "mode", "value": value("test")},
                call(fn, [var("x"), var("gamma"), var("beta"), var("bn")], "r"), output("out", var("r", 0))]
        reference_param = {"mode": "train"}
        for batch in batches:
            spatial_batchnorm_forward(batch, *as64[1:], reference_param)
        reference_param["mode"] = "test"
        expected = spatial_batchnorm_forward(as64[0], *as64[1:], reference_param)[0]
        checks.append(_array_check(case, "out", expected, "test-mode output",
                                   "in test mode normalise with bn_param's running_mean and running_var"))
    else:
        ops += [{"op": "set", "var": "bn", "value": {"dict": {"mode": value("train")}}},
                call(fn, [var("x"), var("gamma"), var("beta"), var("bn")], "r"), output("out", var("r", 0))]
        expected = spatial_batchnorm_forward(*as64, {"mode": "train"})[0]
        checks.append(_array_check(case, "out", expected, "out", BN_HINT))
        if c.get("unit_affine") or c.get("published_affine"):
            checks.append(FunctionCheck("per-channel mean and std of out", ["out"], _channel_stats(beta, gamma),
                                        BN_HINT))
    if c["mode"] == "running":
        # Independent closed form: from zero running statistics, one pass gives (1 - momentum) * batch stats.
        batch_mean, batch_var = as64[0].mean(axis=(0, 2, 3)), as64[0].var(axis=(0, 2, 3))
        ops += [output("running_mean", var("bn", "running_mean")), output("running_var", var("bn", "running_var"))]
        hint = "pass bn_param itself (not a copy) so the running statistics are written back"
        checks += [_array_check(case, "running_mean", 0.1 * batch_mean, "bn_param['running_mean']", hint,
                                axes=("channel",)),
                   _array_check(case, "running_var", 0.1 * batch_var, "bn_param['running_var']", hint,
                                axes=("channel",))]
    if c.get("unmodified"):
        more_ops, more_checks = _unchanged(["x"], inputs)
        ops, checks = ops + more_ops, checks + more_checks
    return Prepared(inputs, ops, checks)


def _norm_backward(case, rng, fn_forward, fn_backward, reference_forward, reference_backward, channels_shape,
                   extra_args, fresh_param):
    x, gamma, beta = _norm_inputs(case, rng, channels_shape)
    dout = rng.standard_normal(x.shape)
    x, gamma, beta, dout = _cast(case, x, gamma, beta, dout)
    as64 = [a.astype(np.float64) for a in (x, gamma, beta)]
    out, cache = reference_forward(*as64, *extra_args, fresh_param())
    dx, dgamma, dbeta = reference_backward(dout.astype(np.float64), cache)
    inputs = {"x": x, "gamma": gamma, "beta": beta, "dout": dout}
    extra_specs = [value(a) for a in extra_args]
    ops, aux, checks = load_all(inputs), [], []
    if _dtype(case) == "float64" and not case.config.get("unmodified"):
        fwd_args = [var("x", copy=True), var("gamma", copy=True), var("beta", copy=True), *extra_specs,
                    value(fresh_param())]
        num_ops, checks = _numeric(fn_forward, fwd_args, [x, gamma, beta], dout, rng, out,
                                   {0: "dx", 1: "dgamma", 2: "dbeta"})
        aux = load_all(inputs) + num_ops
    # The cache's layout is the student's own choice, so it must come from the submitted forward pass.
    ops += [call(fn_forward, [var("x"), var("gamma"), var("beta"), *extra_specs, value(fresh_param())], "f"),
            output("fwd", var("f", 0)),
            call(fn_backward, [var("dout"), var("f", 1)], "r")]
    ops += [output(n, var("r", i)) for i, n in enumerate(("dx", "dgamma", "dbeta"))]
    axes = ("sample", "channel", "row", "column")
    checks = [_array_check(case, "dx", dx, "dx", "chain rule through the mean and the variance as well"),
              _array_check(case, "dgamma", dgamma, "dgamma", axes=axes if dgamma.ndim == 4 else ("channel",)),
              _array_check(case, "dbeta", dbeta, "dbeta", axes=axes if dbeta.ndim == 4 else ("channel",))] + checks
    if case.config.get("unmodified"):
        more_ops, more_checks = _unchanged(["x", "gamma", "beta", "dout"], inputs)
        ops, checks = ops + more_ops, checks + more_checks
    return Prepared(inputs, ops, checks, aux)


def batchnorm_backward(case: Case, rng: np.random.Generator) -> Prepared:
    return _norm_backward(case, rng, "spatial_batchnorm_forward", "spatial_batchnorm_backward",
                          spatial_batchnorm_forward, spatial_batchnorm_backward, lambda C: (C,), (),
                          lambda: {"mode": "train"})


def groupnorm_forward(case: Case, rng: np.random.Generator) -> Prepared:
    G = case.config["G"]
    x, gamma, beta = _norm_inputs(case, rng, lambda C: (1, C, 1, 1))
    x, gamma, beta = _cast(case, x, gamma, beta)
    inputs = {"x": x, "gamma": gamma, "beta": beta}
    expected = spatial_groupnorm_forward(*(a.astype(np.float64) for a in (x, gamma, beta)), G, {})[0]
    ops = load_all(inputs) + [
        call("spatial_groupnorm_forward", [var("x"), var("gamma"), var("beta"), value(G), value({})], "r"),
        output("out", var("r", 0))]
    checks = [_array_check(case, "out", expected, "out", "split each sample's channels into G consecutive groups: "
                                                         "x.reshape(N, G, -1), statistics over the last axis")]
    if case.config.get("unmodified"):
        more_ops, more_checks = _unchanged(["x"], inputs)
        ops, checks = ops + more_ops, checks + more_checks
    return Prepared(inputs, ops, checks)


def groupnorm_backward(case: Case, rng: np.random.Generator) -> Prepared:
    return _norm_backward(case, rng, "spatial_groupnorm_forward", "spatial_groupnorm_backward",
                          spatial_groupnorm_forward, spatial_groupnorm_backward, lambda C: (1, C, 1, 1),
                          (case.config["G"],), dict)


def _net_kwargs(kwargs: dict) -> dict:
    specs = {}
    for key, val in kwargs.items():
        if key == "input_dim":
            specs[key] = {"tuple": [value(v) for v in val]}
        elif key == "dtype":
            specs[key] = {"np_type": val}
        else:
            specs[key] = value(val)
    return specs


def _expected_shapes(input_dim=(3, 32, 32), num_filters=32, filter_size=7, hidden_dim=100, num_classes=10, **_):
    C, H, W = input_dim
    return {"W1": (num_filters, C, filter_size, filter_size), "b1": (num_filters,),
            "W2": (num_filters * (H // 2) * (W // 2), hidden_dim), "b2": (hidden_dim,),
            "W3": (hidden_dim, num_classes), "b3": (num_classes,)}


SMALL_NET = dict(input_dim=[3, 8, 8], num_filters=4, filter_size=3, hidden_dim=10, num_classes=5,
                 weight_scale=0.1, dtype="float64")


def _loaded_model(result, kwargs, params_prefix="p"):
    ops = [{"op": "new", "cls": "ThreeLayerConvNet", "kwargs": _net_kwargs(kwargs), "result": result}]
    ops += [{"op": "setitem", "obj": var(result, ".params"), "key": name, "value": {"npy": f"{params_prefix}_{name}"}}
            for name in NET_PARAMS]
    return ops


def three_layer_net(case: Case, rng: np.random.Generator) -> Prepared:
    check = case.config["check"]
    inputs, ops, checks = {}, [], []
    if check == "shapes":
        kwargs = case.config["kwargs"]
        shapes = _expected_shapes(**kwargs)
        dtype = kwargs.get("dtype", "float32")
        ops = [{"op": "new", "cls": "ThreeLayerConvNet", "kwargs": _net_kwargs(kwargs), "result": "m"},
               {"op": "keys", "name": "names", "value": var("m", ".params")}]
        ops += [output(name, var("m", ".params", name)) for name in NET_PARAMS]
        checks = [KeysCheck("names", list(NET_PARAMS), "parameter names")]
        checks += [DtypeCheck(name, dtype, shapes[name], name) for name in NET_PARAMS]
        return Prepared(inputs, ops, checks)
    if check == "dtype":
        kwargs = dict(SMALL_NET)
        shapes = _expected_shapes(**kwargs)
        for dtype in ("float32", "float64"):
            kwargs["dtype"] = dtype
            make = {k: v for k, v in kwargs.items() if not (k == "dtype" and v == "float32")}
            ops += [{"op": "new", "cls": "ThreeLayerConvNet", "kwargs": _net_kwargs(make), "result": dtype}]
            ops += [output(f"{dtype}_{n}", var(dtype, ".params", n)) for n in NET_PARAMS]
            checks += [DtypeCheck(f"{dtype}_{n}", dtype, shapes[n], f"{n} ({dtype} model)") for n in NET_PARAMS]
        return Prepared(inputs, ops, checks)
    if check == "init":
        weight_scale = 0.02
        kwargs = dict(input_dim=[3, 16, 16], num_filters=8, filter_size=3, hidden_dim=50, num_classes=10,
                      weight_scale=weight_scale, dtype="float64")
        ops = [{"op": "new", "cls": "ThreeLayerConvNet", "kwargs": _net_kwargs(kwargs), "result": "m"}]
        ops += [output(name, var("m", ".params", name)) for name in NET_PARAMS]
        for name in NET_PARAMS:
            if name.startswith("W"):
                test = (lambda a: (abs(a.std() / weight_scale - 1) < 0.15 and abs(a.mean()) < weight_scale / 4,
                                   f"std about {weight_scale}, mean about 0",
                                   f"std {a.std():.3g}, mean {a.mean():.2g}"))
                hint = "weights are weight_scale * np.random.randn(...)"
            else:
                test = (lambda a: (not np.any(a), "all zeros",
                                   f"largest |entry| {np.max(np.abs(a)) if a.size else 0:.3g}"))
                hint = "biases start at zero"
            checks.append(FunctionCheck(f"initial {name}", [name], test, hint))
        return Prepared(inputs, ops, checks)
    # The remaining checks load the reference's parameters into the student's model, so the order in which
    # the student draws random weights never matters.
    kwargs = dict(SMALL_NET, reg=case.config.get("reg", 0.0))
    reference_kwargs = dict(kwargs, input_dim=tuple(kwargs["input_dim"]), dtype=np.float64)
    model = ThreeLayerConvNet(**reference_kwargs, seed=int(rng.integers(2**31)))
    for name in NET_PARAMS:
        inputs[f"p_{name}"] = model.params[name]
    X = rng.standard_normal((6, *kwargs["input_dim"]))
    y = rng.integers(0, kwargs["num_classes"], size=6)
    inputs.update(X=X, y=y)
    if check == "scores":
        ops = _loaded_model("m", kwargs) + [
            {"op": "method", "obj": "m", "method": "loss", "args": [{"npy": "X"}], "result": "r"},
            output("scores", var("r"))]
        checks = [ArrayCheck("scores", model.loss(X), "scores", case.tolerance, axes=("sample", "class"),
                             hint="with y=None return the scores array alone")]
    elif check == "loss":
        loss, grads = model.loss(X, y)
        ops = _loaded_model("m", kwargs) + [
            {"op": "method", "obj": "m", "method": "loss", "args": [{"npy": "X"}, {"npy": "y"}], "result": "r"},
            output("loss", var("r", 0))] + [output(f"d{n}", var("r", 1, n)) for n in NET_PARAMS]
        checks = [ArrayCheck("loss", np.float64(loss), "loss", case.tolerance,
                             hint="softmax loss plus 0.5 * reg * (sum(W1**2) + sum(W2**2) + sum(W3**2))")]
        checks += [ArrayCheck(f"d{n}", grads[n], f"grads['{n}']", case.tolerance,
                              hint="backward through affine - relu - affine - conv_relu_pool in reverse order; "
                                   "add reg * W to each weight gradient") for n in NET_PARAMS]
    elif check == "reg":
        reg = 0.5
        penalty = 0.5 * reg * sum(float(np.sum(model.params[n] ** 2)) for n in ("W1", "W2", "W3"))
        ops = (_loaded_model("with_reg", dict(kwargs, reg=reg)) + _loaded_model("without", dict(kwargs, reg=0.0)) +
               [{"op": "method", "obj": o, "method": "loss", "args": [{"npy": "X"}, {"npy": "y"}], "result": o + "_r"}
                for o in ("with_reg", "without")] +
               [output("loss_reg", var("with_reg_r", 0)), output("loss_plain", var("without_r", 0))])
        checks = [FunctionCheck("loss(reg=0.5) - loss(reg=0)", ["loss_reg", "loss_plain"],
                                lambda a, b: (abs((a - b) - penalty) <= 1e-6 * max(1.0, penalty),
                                              f"{penalty:.6g}", f"{float(a - b):.6g}"),
                                "the L2 term is 0.5 * reg * sum of the squared weights (not the biases)")]
    return Prepared(inputs, ops, checks)


BUILDERS = {
    "conv_forward_naive": conv_forward,
    "conv_backward_naive": conv_backward,
    "max_pool_forward_naive": pool_forward,
    "max_pool_backward_naive": pool_backward,
    "spatial_batchnorm_forward": batchnorm_forward,
    "spatial_batchnorm_backward": batchnorm_backward,
    "spatial_groupnorm_forward": groupnorm_forward,
    "spatial_groupnorm_backward": groupnorm_backward,
    "ThreeLayerConvNet": three_layer_net,
}
