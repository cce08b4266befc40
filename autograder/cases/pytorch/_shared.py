"""Helpers shared by the PyTorch case modules: the float32 tolerance and the three-layer parameters."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...checks import ArrayCheck, Output, Verdict, usable

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


# Two-sided normal quantile for a per-check false-failure chance of 4e-8: with at most ~20 statistical checks in
# a run, a correct initialiser fails one with probability below 1e-6.
STAT_Z = 5.5


@dataclass
class TensorCheck:
    """A returned framework tensor's metadata: its torch dtype and whether autograd tracks it."""

    output: str
    label: str
    dtype: str = "torch.float32"
    requires_grad: bool | None = True

    def evaluate(self, outputs: dict[str, Output]) -> Verdict:
        found = outputs.get(self.output)
        problem = usable(found, self.label)
        if problem:
            return problem
        meta = found.meta
        want = f"a torch tensor of dtype {self.dtype}" + ("" if self.requires_grad is None else
                                                         f", requires_grad={self.requires_grad}")
        got = f"{meta.get('type')} of dtype {meta.get('framework_dtype')}, requires_grad={meta.get('requires_grad')}"
        if meta.get("framework") != "torch":
            return Verdict(False, self.label, want, got, f"{self.label}: not a torch tensor but {meta.get('type')}",
                           "return a torch.Tensor")
        if meta.get("framework_dtype") != self.dtype:
            return Verdict(False, self.label, want, got, f"{self.label}: dtype {meta.get('framework_dtype')} "
                           f"instead of {self.dtype}", "pass dtype=... when you create the tensor")
        if self.requires_grad is not None and bool(meta.get("requires_grad")) != self.requires_grad:
            return Verdict(False, self.label, want, got, f"{self.label}: requires_grad is "
                           f"{meta.get('requires_grad')}", "create it with requires_grad=True (or call "
                           ".requires_grad_() on it) so autograd tracks it")
        return Verdict(True, self.label, want, got, f"{self.label}: {self.dtype}, requires_grad ok")


@dataclass
class KaimingCheck:
    """Shape, zero mean and std sqrt(2 / fan_in) of a sample, each within STAT_Z standard errors.

    For n independent N(0, s^2) entries the sample mean has standard error s / sqrt(n) (estimated by the sample
    std, a t statistic: normal for these n) and the sample variance
    relative standard error sqrt(2 / (n - 1)) (normal approximation of the chi-square, fine for n >= 1000).
    """

    output: str
    shape: tuple[int, ...]
    fan_in: int
    label: str

    def evaluate(self, outputs: dict[str, Output]) -> Verdict:
        found = outputs.get(self.output)
        problem = usable(found, self.label)
        if problem:
            return problem
        sample, n = found.array, int(np.prod(self.shape))
        std = float(np.sqrt(2.0 / self.fan_in))
        want = f"shape {self.shape}, mean 0 and std {std:.4g} (fan_in {self.fan_in})"
        if tuple(sample.shape) != tuple(self.shape):
            return Verdict(False, self.label, want, f"shape {tuple(sample.shape)}",
                           f"{self.label}: shape {tuple(sample.shape)} instead of {self.shape}")
        mean, variance = float(sample.mean()), float(sample.var(ddof=1))
        got = f"mean {mean:.3g}, std {np.sqrt(variance):.4g} over {n} entries"
        # The mean's standard error from the sample's own spread: a wrong std is then reported as a wrong std.
        if abs(mean) > STAT_Z * np.sqrt(variance) / np.sqrt(n) or (variance == 0.0 and mean != 0.0):
            return Verdict(False, self.label, want, got, f"{self.label}: mean {mean:.3g} is not 0",
                           "draw from a normal distribution centred at zero (torch.randn)")
        if abs(variance / std ** 2 - 1.0) > STAT_Z * np.sqrt(2.0 / (n - 1)):
            return Verdict(False, self.label, want, got, f"{self.label}: std {np.sqrt(variance):.4g} instead of "
                           f"{std:.4g}", "Kaiming normal: std = sqrt(2 / fan_in); fan_in is shape[0] for a "
                           "(fan_in, fan_out) matrix and C * KH * KW for an (F, C, KH, KW) filter bank")
        return Verdict(True, self.label, want, got, f"{self.label}: {got}")
