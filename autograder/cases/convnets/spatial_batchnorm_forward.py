"""spatial_batchnorm_forward: train-mode statistics per channel, the affine step, running statistics, test mode."""
from __future__ import annotations

import numpy as np

from reference_impl.spatial_norm import spatial_batchnorm_forward

from .. import Case, Prepared, case
from ..ops import as_dict, assign, call, each, load, load_all, output, repeat, setitem, value, var
from ...checks import FunctionCheck
from ._shared import FLOAT32_TOL, array_check, cast, norm_inputs, published, with_unchanged

ITEM = "spatial_batchnorm_forward"
BN_HINT = ("move channels last before flattening: x.transpose(0, 2, 3, 1).reshape(-1, C), and undo both "
           "afterwards")

CASES = (
    case(ITEM, "train mode: per-channel mean 0 and std 1 (2x3x4x5 input)", 1.5, False,
         mode="train", shape=(2, 3, 4, 5), unit_affine=True),
    case(ITEM, "train mode with gamma [3, 4, 5] and beta [6, 7, 8]", 1.5, False,
         mode="train", shape=(2, 3, 4, 5), published_affine=True),
    case(ITEM, "train mode, batch 4, 5 channels, 3x2 images", 1.5, mode="train", shape=(4, 5, 3, 2)),
    case(ITEM, "running statistics updated by a training pass (momentum 0.9)", 2, mode="running",
         shape=(3, 4, 3, 5)),
    case(ITEM, "test mode after 50 training passes uses the running statistics", 2, mode="warmup",
         shape=(4, 3, 4, 4)),
    case(ITEM, "input left unmodified", 0.5, mode="train", shape=(2, 3, 3, 3), unmodified=True),
    case(ITEM, "float32 in, float32 out", 1, mode="train", shape=(2, 3, 3, 3), dtype="float32",
         tolerance=FLOAT32_TOL),
)


def _channel_stats(target_mean, target_std):
    def test(out):
        means, stds = out.mean(axis=(0, 2, 3)), out.std(axis=(0, 2, 3))
        ok = np.allclose(means, target_mean, atol=1e-3) and np.allclose(stds, target_std, rtol=1e-3)
        return ok, f"means {np.round(target_mean, 3).tolist()}, stds {np.round(target_std, 3).tolist()}", \
            f"means {np.round(means, 3).tolist()}, stds {np.round(stds, 3).tolist()}"
    return test


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
            checks.append(FunctionCheck("per-channel mean and std of out", ["out"], _channel_stats(beta, gamma),
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
