"""Helpers the TensorFlow case modules share: inputs as TensorFlow tensors, results back as NumPy arrays, random
parameters in TensorFlow's layouts and the expected scores of the kit's NumPy network.

The worker builds the inputs with the TensorFlow it preloaded; nothing it returns is
believed: the parent compares the float64 copies with values computed here from ``reference_impl``.
"""
from __future__ import annotations

import numpy as np

from reference_impl.frameworks.layouts import nhwc_to_nchw, three_layer_params_tf_to_numpy
from reference_impl.frameworks.numpy_net import PARAM_NAMES, three_layer_convnet_scores

from ..ops import as_tuple, assign, call, npy, output, tensor as framework_tensor, var
from ...checks import ArrayCheck, DtypeCheck, FunctionCheck, NormalSampleCheck
from ...framework_checks import named_test

FLOAT32_TOL = 1e-4  # scaled error of float32 scores against the float64 NumPy network
SCORE_AXES = ("sample", "class")


def tensor(name: str, dtype: str = "float32") -> dict:
    """The input array ``name`` as a TensorFlow constant of ``dtype``, stored in the variable ``name``."""
    return assign(name, framework_tensor(npy(name), dtype=dtype, framework="tensorflow"))


def variable(name: str) -> dict:
    """The input array ``name`` as a ``tf.Variable``, stored in the variable ``name``."""
    return call("tf.Variable", [framework_tensor(npy(name), framework="tensorflow")], name)


def returned(name: str, *spec_path, source: str = "r") -> list[dict]:
    """Ops that write ``source[spec_path]`` (a tensor, a variable or an array) as the output ``name``; the
    worker exports TensorFlow values through their own ``numpy()`` (``interpreter.framework_array``)."""
    return [output(name, var(source, *spec_path))]


def flag(name: str, spec: dict) -> list[dict]:
    """Ops that write a truth value (``spec``) as the 0/1 output ``name``."""
    return [call("np.float64", [spec], f"{name}__flag"), output(name, var(f"{name}__flag"))]


def is_instance(name: str, obj: str, cls: str) -> list[dict]:
    """Ops that write whether the variable ``obj`` is an instance of ``cls`` (dotted, e.g. "tf.keras.Model")."""
    return [call(f"{cls}.__instancecheck__", [var(obj)], f"{name}__is")] + flag(name, var(f"{name}__is"))


def params_tuple(count: int = len(PARAM_NAMES), prefix: str = "p") -> dict:
    return as_tuple(*(var(f"{prefix}{i}") for i in range(count)))


def feature_map_hw(image_hw, kernel_1, kernel_2):
    """Height and width after conv (pad 2) and conv (pad 1), stride 1."""
    return tuple(size + 4 - k1 + 1 + 2 - k2 + 1 for size, k1, k2 in zip(image_hw, kernel_1, kernel_2))


def random_params(rng, image_hw, kernel_1, kernel_2, channels, classes, in_channels=3, scale=0.3):
    """Six float32 parameters in TensorFlow's layouts (HWIO kernels, fc rows in (H', W', F2) order)."""
    f1, f2 = channels
    h2, w2 = feature_map_hw(image_hw, kernel_1, kernel_2)
    shapes = [(*kernel_1, in_channels, f1), (f1,), (*kernel_2, f1, f2), (f2,), (h2 * w2 * f2, classes), (classes,)]
    return [(scale * rng.standard_normal(s)).astype(np.float32) for s in shapes]


def expected_scores(x_nhwc, params_tf, image_hw) -> np.ndarray:
    """The kit's NumPy network's float64 scores for NHWC images and TensorFlow-layout parameters."""
    as64 = [np.asarray(p, dtype=np.float64) for p in three_layer_params_tf_to_numpy(params_tf, image_hw)]
    return three_layer_convnet_scores(nhwc_to_nchw(np.asarray(x_nhwc, dtype=np.float64)), as64)


def scores_check(name, expected, label, hint=""):
    return ArrayCheck(name, np.asarray(expected, dtype=np.float64), label, FLOAT32_TOL, mode="scaled",
                      hint=hint, axes=SCORE_AXES)


def shape_check(name, shape, label, dtype="float32"):
    return DtypeCheck(name, dtype, tuple(shape), label)


def true_check(name, label, hint="", want=True):
    """The 0/1 output ``name`` is 1 (``want`` False: is 0)."""
    return FunctionCheck(label, [name], named_test("is_flag", want=want), hint)


def kaiming_check(name, shape, label):
    """The output ``name`` has ``shape`` and looks like N(0, 2 / fan_in) draws, fan_in the product of all but the
    last dimension (``checks.NormalSampleCheck``: exact chi-square and normal bounds at the sample's size, a false
    failure below once in a million gradings)."""
    fan_in = int(np.prod(shape[:-1]))
    return NormalSampleCheck(name, float(np.sqrt(2.0 / fan_in)), label, tuple(shape),
                             hint_std="draw from tf.random.normal with stddev sqrt(2 / fan_in), fan_in = product of "
                                      "all but the last dimension (not a truncated normal)",
                             hint_mean="draw from tf.random.normal centred at zero")
