"""Parent-side comparisons: verdicts for every kind of wrong answer, and error localisation."""
from __future__ import annotations

import numpy as np
import pytest

from autograder.checks import (INPUT_PREFIX, ArrayCheck, DtypeCheck, KeysCheck, NormalSampleCheck, NumericGradientCheck,
                               Output, UnchangedCheck, inputs_read_back, SPECIFIC_HINTS, locate, localise, rel_error,
                               scaled_error, specific_hint)


def out(array, **meta):
    array = np.asarray(array, dtype=np.float64)
    return Output(array, {"dtype": "float64", "shape": list(array.shape), **meta})


@pytest.fixture
def expected():
    return np.random.default_rng(0).standard_normal((2, 3, 4, 4))


def test_rel_error_matches_the_assignment_formula():
    x, y = np.array([1.0, 0.0]), np.array([1.1, 0.0])
    assert rel_error(x, y) == pytest.approx(0.1 / 2.1)
    assert rel_error(np.zeros(3), np.full(3, 1e-10)) == pytest.approx(1e-2)  # the 1e-8 floor


def test_scaled_error_is_robust_near_zero():
    assert scaled_error([1.0, 1e-12], [1.0, 0.0]) == pytest.approx(1e-12)


def test_matching_array_passes(expected):
    verdict = ArrayCheck("out", expected, "out", 1e-6).evaluate({"out": out(expected + 1e-12)})
    assert verdict.ok and "matches" in verdict.message


@pytest.mark.parametrize("meta, words", [({"error": "returned a list, not a numpy.ndarray"}, "list"),
                                         ({"subclass": True, "type": "__main__.Liar"}, "subclass")])
def test_unusable_outputs_fail_with_their_reason(expected, meta, words):
    verdict = ArrayCheck("out", expected, "out", 1e-6).evaluate({"out": Output(None if "error" in meta else expected,
                                                                               meta)})
    assert not verdict.ok and words in verdict.message


def test_missing_output_fails(expected):
    assert not ArrayCheck("out", expected, "out", 1e-6).evaluate({}).ok


def test_nan_fails_with_a_message(expected):
    bad = expected.copy()
    bad[0, 0, 0, 0] = np.nan
    verdict = ArrayCheck("out", expected, "out", 1e-6).evaluate({"out": out(bad)})
    assert not verdict.ok and "NaN or Inf" in verdict.message


def test_shape_that_would_broadcast_still_fails(expected):
    verdict = ArrayCheck("out", expected[:1], "out", 1e-6).evaluate({"out": out(expected[:1, :1])})
    assert not verdict.ok and "shape (1, 1, 4, 4) instead of (1, 3, 4, 4)" in verdict.message


def test_dtype_is_checked_when_required(expected):
    check = ArrayCheck("out", expected, "out", 1e-4, mode="scaled", dtype="float32")
    assert not check.evaluate({"out": out(expected, dtype="float64")}).ok
    assert check.evaluate({"out": out(expected.astype(np.float32), dtype="float32")}).ok


@pytest.mark.parametrize("transform, words", [
    (lambda e: -e, "sign is flipped"),
    (lambda e: 2 * e, "same factor (about 2"),
    (lambda e: e + 0.5, "same constant (about 0.5"),
    (lambda e: np.swapaxes(e, -1, -2), "transposed"),
])
def test_localise_names_global_mistakes(expected, transform, words):
    assert words in localise(transform(expected), expected, 1e-6)


def test_localise_finds_one_channel_and_the_border(expected):
    wrong = expected.copy()
    wrong[:, 1, 0, :] += 1.0
    where = localise(wrong, expected, 1e-6, pad=1)
    assert "only channel(s) 1" in where and "border" in where and "8 of 96 entries differ" in where


def test_unchanged_check_reads_the_input_file_not_an_after_call_copy(expected):
    check = UnchangedCheck("x", expected, "input x")
    assert check.output == INPUT_PREFIX + "x"
    assert check.evaluate({INPUT_PREFIX + "x": out(expected)}).ok
    # An after-call copy under any other name is not what the check reads.
    assert not check.evaluate({"x_after": out(expected)}).ok
    verdict = check.evaluate({INPUT_PREFIX + "x": out(expected * 0)})
    assert not verdict.ok and "modified in place" in verdict.message
    # Written to during the run (even with the values put back), or another dtype: modified.
    assert not check.evaluate({INPUT_PREFIX + "x": out(expected, written=True)}).ok
    assert not check.evaluate({INPUT_PREFIX + "x": out(expected, dtype="float32")}).ok
    assert inputs_read_back([check, ArrayCheck("out", expected, "out", 1e-6)]) == {"x"}


def _numeric_case(grad_error=0.0, forward_ok=True):
    # f(x) = x ** 2 elementwise; the numeric gradient of sum(f * dout) is 2 * x * dout.
    rng = np.random.default_rng(1)
    x, dout = rng.standard_normal(5), rng.standard_normal(5)
    h, indices = 1e-5, [0, 2, 4]
    plus = np.stack([(x + h * np.eye(5)[i]) ** 2 for i in indices])
    minus = np.stack([(x - h * np.eye(5)[i]) ** 2 for i in indices])
    outputs = {"dx": out(2 * x * dout + grad_error), "num_plus": out(plus), "num_minus": out(minus),
               "fwd": out(x ** 2 if forward_ok else x ** 3)}
    return NumericGradientCheck("dx", "num", indices, dout, h, "dx", 1e-5, "fwd", x ** 2).evaluate(outputs)


def test_numeric_gradient_check():
    assert _numeric_case().ok
    failed = _numeric_case(grad_error=0.1)
    assert not failed.ok and "numeric gradient of your own forward" in failed.message


def test_numeric_gradient_check_does_not_apply_to_a_wrong_forward():
    verdict = _numeric_case(grad_error=0.1, forward_ok=False)
    assert verdict.ok and "not applicable" in verdict.message


def test_keys_and_dtype_checks():
    assert KeysCheck("k", ["W1", "b1"], "names").evaluate({"k": Output(None, {"keys": ["b1", "W1"]})}).ok
    verdict = KeysCheck("k", ["W1", "b1"], "names").evaluate({"k": Output(None, {"keys": ["W1", "w2"]})})
    assert not verdict.ok and "missing ['b1']" in verdict.message and "unexpected ['w2']" in verdict.message
    check = DtypeCheck("W1", "float32", (2, 3), "W1")
    assert check.evaluate({"W1": out(np.zeros((2, 3)), dtype="float32")}).ok
    assert "dtype float64 instead of float32" in check.evaluate({"W1": out(np.zeros((2, 3)))}).message


def test_border_is_not_blamed_when_every_pixel_is_near_the_border():
    expected = np.arange(1.0, 17.0).reshape(1, 1, 4, 4)
    wrong = expected.copy()
    wrong[0, 0, 0, 0] += 5.0
    where = localise(wrong, expected, 1e-6, pad=2)  # with pad 2, a 4x4 image has no interior
    assert "1 of 16 entries differ" in where and "border" not in where


def test_missing_entry_gets_the_checks_own_hint():
    check = ArrayCheck("running_mean", np.zeros(3), "running_mean", 1e-6, hint="pass bn_param itself")
    verdict = check.evaluate({"running_mean": Output(None, {"error": "could not find this output (KeyError)"})})
    assert not verdict.ok and verdict.hint == "pass bn_param itself"


@pytest.mark.parametrize("transform, kind", [
    (lambda e: -e, "sign"),
    (lambda e: 2 * e, "factor"),
    (lambda e: e + 0.5, "offset"),
    (lambda e: np.swapaxes(e, -1, -2), "transpose"),
])
def test_a_whole_array_mistake_gets_its_own_hint_not_the_checks(expected, transform, kind):
    verdict = ArrayCheck("out", expected, "out", 1e-6, hint="the function's own hint").evaluate(
        {"out": out(transform(expected))})
    assert not verdict.ok and verdict.hint == SPECIFIC_HINTS[kind]


def test_the_border_outranks_a_channel_and_a_case_may_override_it(expected):
    wrong = expected.copy()
    wrong[:, 1, 0, :] += 1.0  # one channel, first row only: both findings apply
    assert [f.kind for f in locate(wrong, expected, 1e-6, pad=1)] == ["count", "border", "channel"]
    plain = ArrayCheck("dx", expected, "dx", 1e-6, hint="fallback", pad=1)
    assert plain.evaluate({"dx": out(wrong)}).hint == SPECIFIC_HINTS["border"]
    custom = ArrayCheck("dx", expected, "dx", 1e-6, hint="fallback", pad=1, hints={"border": "crop dx_padded"})
    assert custom.evaluate({"dx": out(wrong)}).hint == "crop dx_padded"
    assert specific_hint(locate(wrong, expected, 1e-6)) == SPECIFIC_HINTS["channel"]  # no pad: no border


def test_scattered_errors_keep_the_checks_own_hint(expected):
    wrong = expected.copy()
    wrong[0, 0, 0, 1] += 1.0
    wrong[1, 1, 3, 2] += 1.0
    wrong[0, 2, 2, 0] += 1.0  # every sample and channel somewhere, not only the border: nothing specific to say
    assert ArrayCheck("out", expected, "out", 1e-6, hint="fallback").evaluate({"out": out(wrong)}).hint == "fallback"


# The sample sizes of the statistical checks in the case tables: the convnets init's W1 (8, 3, 3, 3) and W3
# (50, 10), PyTorch's smallest Kaiming matrix, and the convnets W2 (512, 50).
SAMPLE_SHAPES = [(8, 3, 3, 3), (50, 10), (40, 8, 3, 5), (512, 50)]


@pytest.mark.parametrize("shape", SAMPLE_SHAPES)
def test_normal_sample_check_passes_normal_draws_of_the_right_std(shape):
    sample = 0.02 * np.random.default_rng(1).standard_normal(shape)
    verdict = NormalSampleCheck("w", 0.02, "initial W", shape).evaluate({"w": out(sample)})
    assert verdict.ok, verdict.message


@pytest.mark.parametrize("shape", SAMPLE_SHAPES)
@pytest.mark.parametrize("factor", [2.0, 0.5])
def test_normal_sample_check_catches_a_wrong_std(shape, factor):
    """2x or 0.5x the std lies far outside the bounds: at 216 entries the bounds on the std are about
    (0.74, 1.28) x std, and the chance that a 2x or 0.5x sample of that size falls inside is below 1e-15."""
    check = NormalSampleCheck("w", 0.02, "initial W", shape, hint_std="use weight_scale")
    for seed in range(20):
        sample = factor * 0.02 * np.random.default_rng(seed).standard_normal(shape)
        verdict = check.evaluate({"w": out(sample)})
        assert not verdict.ok and "std" in verdict.message and verdict.hint == "use weight_scale", verdict.message


def test_normal_sample_check_catches_a_mean_off_zero_and_names_it():
    sample = 0.02 * np.random.default_rng(2).standard_normal((8, 3, 3, 3)) + 0.01
    verdict = NormalSampleCheck("w", 0.02, "initial W1", (8, 3, 3, 3), hint_mean="centre at zero").evaluate(
        {"w": out(sample)})
    assert not verdict.ok and "mean" in verdict.message and verdict.hint == "centre at zero"
    uniform = 0.02 * np.random.default_rng(3).random((50, 10))  # np.random.rand instead of randn
    assert not NormalSampleCheck("w", 0.02, "W3", (50, 10)).evaluate({"w": out(uniform)}).ok


def test_normal_sample_check_refuses_a_wrong_shape_a_constant_and_nothing():
    check = NormalSampleCheck("w", 0.02, "initial W1", (8, 3, 3, 3))
    assert "shape" in check.evaluate({"w": out(np.zeros((3, 8, 3, 3)))}).message
    assert not check.evaluate({"w": out(np.full((8, 3, 3, 3), 0.02))}).ok
    assert not NormalSampleCheck("w", 0.02, "b").evaluate({"w": out(np.zeros(1))}).ok
    assert not check.evaluate({}).ok
