"""spatial_batchnorm_forward: train-mode statistics per channel, the affine step, running statistics, test mode."""
from __future__ import annotations

import numpy as np

from reference_impl.spatial_norm import spatial_batchnorm_forward

from .. import Case, Prepared, case
from ..ops import as_dict, assign, call, each, load, load_all, output, repeat, setitem, value, var
from ...checks import FunctionCheck, named_test
from ._shared import FLOAT32_TOL, array_check, cast, norm_inputs, norm_properties, published, with_unchanged

ITEM = "spatial_batchnorm_forward"
BN_HINT = ("move channels last before flattening: x.transpose(0, 2, 3, 1).reshape(-1, C), and undo both "
           "afterwards")

CASES = (
    case(ITEM, "train mode: per-channel mean 0 and std 1 (2x3x4x5 input)", 1, False,
         mode="train", shape=(2, 3, 4, 5), unit_affine=True),
    case(ITEM, "train mode with gamma [3, 4, 5] and beta [6, 7, 8]", 1, False,
         mode="train", shape=(2, 3, 4, 5), published_affine=True),
    case(ITEM, "train mode, batch 4, 5 channels, 3x2 images", 1, False, mode="train", shape=(4, 5, 3, 2)),
    case(ITEM, "running statistics updated by a training pass (momentum 0.9)", 1.5, False, mode="running",
         shape=(3, 4, 3, 5)),
    case(ITEM, "test mode after 50 training passes uses the running statistics", 1.5, False, mode="warmup",
         shape=(4, 3, 4, 4)),
    case(ITEM, "input left unmodified", 0.5, False, mode="train", shape=(2, 3, 3, 3), unmodified=True),
    case(ITEM, "float32 in, float32 out", 0.5, False, mode="train", shape=(2, 3, 3, 3), dtype="float32",
         tolerance=FLOAT32_TOL),
    # Hidden: the same rules on other data and shapes.
    case(ITEM, "train mode, batch 3, 2 channels, 5x3 images", 0.5, mode="train", shape=(3, 2, 5, 3)),
    case(ITEM, "running statistics updated by a training pass (batch 5, 2 channels)", 1, mode="running",
         shape=(5, 2, 3, 3)),
    case(ITEM, "test mode after 50 training passes (batch 3, 5 channels)", 1, mode="warmup", shape=(3, 5, 2, 3)),
    case(ITEM, "float32 in, float32 out (batch 3, 4 channels)", 0.5, mode="train", shape=(3, 4, 2, 3),
         dtype="float32", tolerance=FLOAT32_TOL),
)


properties = norm_properties  # the rules each case exercises (autograder.cases.properties)


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    c = case.config
    x, gamma, beta = norm_inputs(case, rng, lambda C: (C,))
    if c.get("unit_affine"):
        gamma, beta = np.ones(3), np.zeros(3)
    if c.get("published_affine"):
        gamma, beta = published(ITEM, "gamma"), published(ITEM, "beta")
    x, gamma, beta = cast(case, x, gamma, beta)
    inputs = {"x": x, "gamma": gamma, "beta": beta}
    as64 = [a.astype(np.float64) for a in (x, gamma, beta)]
    ops = load_all(inputs)
    checks = []
    train = assign("bn", as_dict(mode=value("train")))
    if c["mode"] == "warmup":
        batches = 2 * rng.standard_normal((50, *x.shape)) + 5
        inputs["batches"] = batches
        ops += [load("batches"), train,
                repeat(len(batches), [call(ITEM, [each("batches"), var("gamma"), var("beta"), var("bn")], "_")]),
                setitem(var("bn"), "mode", value("test")),
                call(ITEM, [var("x"), var("gamma"), var("beta"), var("bn")], "r"), output("out", var("r", 0))]
        reference_param = {"mode": "train"}
        for batch in batches:
            spatial_batchnorm_forward(batch, *as64[1:], reference_param)
        reference_param["mode"] = "test"
        expected = spatial_batchnorm_forward(as64[0], *as64[1:], reference_param)[0]
        checks.append(array_check(case, "out", expected, "test-mode output",
                                  "in test mode normalise with bn_param's running_mean and running_var"))
    else:
        ops += [train, call(ITEM, [var("x"), var("gamma"), var("beta"), var("bn")], "r"), output("out", var("r", 0))]
        expected = spatial_batchnorm_forward(*as64, {"mode": "train"})[0]
        checks.append(array_check(case, "out", expected, "out", BN_HINT))
        if c.get("unit_affine") or c.get("published_affine"):
            checks.append(FunctionCheck("per-channel mean and std of out", ["out"],
                                        named_test("per_channel_stats", target_mean=beta, target_std=gamma),
                                        BN_HINT))
    if c["mode"] == "running":
        # Independent closed form: from zero running statistics, one pass gives (1 - momentum) * batch stats.
        batch_mean, batch_var = as64[0].mean(axis=(0, 2, 3)), as64[0].var(axis=(0, 2, 3))
        ops += [output("running_mean", var("bn", "running_mean")), output("running_var", var("bn", "running_var"))]
        hint = "pass bn_param itself (not a copy) so the running statistics are written back"
        checks += [array_check(case, "running_mean", 0.1 * batch_mean, "bn_param['running_mean']", hint,
                               axes=("channel",)),
                   array_check(case, "running_var", 0.1 * batch_var, "bn_param['running_var']", hint,
                               axes=("channel",))]
    ops, checks = with_unchanged(case, inputs, ops, checks, ["x"])
    return Prepared(inputs, ops, checks)
