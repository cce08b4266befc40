"""Hints follow what is wrong: realistic buggy implementations, run through the real case tables and checks,
each get the hint of their own mistake (the per-function hint only when nothing specific was found)."""
from __future__ import annotations

import numpy as np

import reference_impl.conv_naive as conv
import reference_impl.pool_naive as pool
import reference_impl.spatial_norm as norm
from assignments.convnets import CONVNETS
from autograder import cases
from autograder.cases.convnets._shared import ITEM_HINTS
from autograder.cases.in_process import failed_verdicts
from autograder.checks import SPECIFIC_HINTS


def _namespace(**replaced):
    namespace = {}
    for module in (conv, pool, norm):
        namespace.update({k: v for k, v in vars(module).items() if not k.startswith("_")})
    return {**namespace, **replaced}


def _first_failure(item, case_index, **replaced):
    case = cases.cases_for(CONVNETS, item)[case_index]
    failed = failed_verdicts(CONVNETS, case, _namespace(**replaced))
    assert failed, f"{case.name} should fail"
    return failed[0]  # the engine shows the first failing check's hint


def _original_hints(item):
    """Every fallback hint given for an item's array outputs (to check none of them was used)."""
    case = cases.cases_for(CONVNETS, item)[0]
    return {check.hint for check in cases.prepare(CONVNETS, case).checks if getattr(check, "hint", "")}


def test_border_only_dx_of_a_padding_bug_gets_the_padding_hint_not_the_max_pool_one():
    def gather_skipping_the_edge(dout, cache):
        # computes dx only for pixels at least pad away from the edge, leaving the rest zero
        dx, dw, db = conv.conv_backward_naive(dout, cache)
        pad = cache[3]["pad"]
        inner = np.zeros_like(dx)
        inner[:, :, pad:-pad, pad:-pad] = dx[:, :, pad:-pad, pad:-pad]
        return inner, dw, db

    verdict = _first_failure("conv_backward_naive", 0, conv_backward_naive=gather_skipping_the_edge)
    assert verdict.label == "dx" and "border" in verdict.message
    assert verdict.hint == ITEM_HINTS[("conv_backward_naive", "dx")]["border"]
    assert "ADD (+=)" not in verdict.hint and verdict.hint not in _original_hints("conv_backward_naive")


def test_averaged_db_is_a_factor_error_with_its_own_hint():
    def averaging_db(dout, cache):
        dx, dw, _ = conv.conv_backward_naive(dout, cache)
        return dx, dw, dout.mean(axis=(0, 2, 3))

    verdict = _first_failure("conv_backward_naive", 0, conv_backward_naive=averaging_db)
    assert verdict.label == "db" and "same factor" in verdict.message
    assert verdict.hint == ITEM_HINTS[("conv_backward_naive", "db")]["factor"]


def test_max_pool_gradient_shared_over_the_window_is_a_factor_error():
    def sharing(dout, cache):
        param = cache[1]
        return pool.max_pool_backward_naive(dout, cache) / (param["pool_height"] * param["pool_width"])

    verdict = _first_failure("max_pool_backward_naive", 0, max_pool_backward_naive=sharing)
    assert "same factor (about 0.25)" in verdict.message
    assert verdict.hint == ITEM_HINTS[("max_pool_backward_naive", "dx")]["factor"]


def test_transposed_output_gets_the_generic_transpose_hint():
    def swapped_indices(x, w, b, conv_param):
        out, cache = conv.conv_forward_naive(x, w, b, conv_param)
        return np.swapaxes(out, -1, -2).copy(), cache  # as if written out[n, f, j, i]

    verdict = _first_failure("conv_forward_naive", 1, conv_forward_naive=swapped_indices)  # square output
    assert "transposed" in verdict.message and verdict.hint == SPECIFIC_HINTS["transpose"]


def test_one_channel_left_unnormalised_gets_the_channel_hint():
    def skipping_the_last_channel(x, gamma, beta, bn_param):
        out, cache = norm.spatial_batchnorm_forward(x, gamma, beta, bn_param)
        out = out.copy()
        out[:, -1] = x[:, -1]  # a loop `for c in range(C - 1)`
        return out, cache

    verdict = _first_failure("spatial_batchnorm_forward", 2, spatial_batchnorm_forward=skipping_the_last_channel)
    assert "only channel(s) 4" in verdict.message
    assert verdict.hint == ITEM_HINTS[("spatial_batchnorm_forward", "out")]["channel"]


def test_sign_error_gets_the_sign_hint():
    def negated(dout, cache):
        return -pool.max_pool_backward_naive(dout, cache)

    verdict = _first_failure("max_pool_backward_naive", 1, max_pool_backward_naive=negated)
    assert "sign is flipped" in verdict.message and verdict.hint == SPECIFIC_HINTS["sign"]


def test_the_overwrite_bug_without_a_pattern_keeps_the_functions_own_hint():
    source = (cases.item_module("convnets", "max_pool_backward_naive").demo_bug(
        __import__("inspect").getsource(pool.max_pool_backward_naive)))
    namespace = {"np": np}
    exec(source, namespace)  # the demo class's buggy student: `=` instead of `+=`
    verdict = _first_failure("max_pool_backward_naive", 1, max_pool_backward_naive=namespace["max_pool_backward_naive"])
    assert verdict.label == "dx" and "ADD (+=)" in verdict.hint
