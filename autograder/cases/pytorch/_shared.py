"""Helpers shared by the PyTorch case modules: the float32 tolerance and the three-layer parameters."""
from __future__ import annotations

import numpy as np

from ...checks import ArrayCheck, NormalSampleCheck

FLOAT32_TOL = 1e-4  # scaled error of a float32 PyTorch result against the float64 NumPy reference
PARAM_NAMES = ("conv_w1", "conv_b1", "conv_w2", "conv_b2", "fc_w", "fc_b")


def three_layer_params(rng: np.random.Generator, channels: int, height: int, width: int, channel_1: int,
                       channel_2: int, classes: int, k1: int = 5, k2: int = 3) -> dict[str, np.ndarray]:
    """Random float32 parameters of the three-layer net for (channels, height, width) images, by name.

    The fully connected layer takes channel_2 * H2 * W2 inputs, H2 = height + 4 - k1 + 1 + 2 - k2 + 1.
    """
    h2, w2 = height + 4 - k1 + 1 + 2 - k2 + 1, width + 4 - k1 + 1 + 2 - k2 + 1
    shapes = {"conv_w1": (channel_1, channels, k1, k1), "conv_b1": (channel_1,),
              "conv_w2": (channel_2, channel_1, k2, k2), "conv_b2": (channel_2,),
              "fc_w": (channel_2 * h2 * w2, classes), "fc_b": (classes,)}
    return {name: (0.1 * rng.standard_normal(shape)).astype(np.float32) for name, shape in shapes.items()}


def float32_check(name: str, expected: np.ndarray, label: str, hint: str = "") -> ArrayCheck:
    return ArrayCheck(name, np.asarray(expected, dtype=np.float64), label, FLOAT32_TOL, mode="scaled", hint=hint,
                      axes=tuple(f"axis {i}" for i in range(np.ndim(expected))))


def kaiming_check(output: str, shape: tuple[int, ...], fan_in: int, label: str) -> NormalSampleCheck:
    """The output has ``shape`` and looks like N(0, 2 / fan_in) draws (``checks.NormalSampleCheck``: exact
    chi-square and normal bounds at the sample's size, a false failure below once in a million gradings)."""
    return NormalSampleCheck(output, float(np.sqrt(2.0 / fan_in)), label, tuple(shape),
                             hint_std="Kaiming normal: std = sqrt(2 / fan_in); fan_in is shape[0] for a (fan_in, "
                                      "fan_out) matrix and C * KH * KW for an (F, C, KH, KW) filter bank",
                             hint_mean="draw from a normal distribution centred at zero (torch.randn)")
