"""One battery, three uses: every check of every graded item, described once.

A ``Case`` is plain data (name, item, points, visibility, tolerance, configuration). ``prepare(case, seed)``
turns it into the three things grading needs: the input arrays (written as ``.npy`` for the worker), the
worker's small program of operations (see ``autograder.worker.run_ops``), and the parent-side checks with
expected values computed here from ``reference_impl`` or from an independent formula. The same table serves
the notebook's visible tests, the hidden battery and the instructor solution tests.

Points: each item's points from ``autograder.spec`` are split over its cases in halves, so the split is
exact in floating point (a test asserts that the sums match).
"""
from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import numpy as np

from . import spec

Visibility = Literal["visible", "hidden"]
FORWARD_TOL = 1e-6   # float64 rel_error between two correct implementations stays far below this
FLOAT32_TOL = 1e-4   # scaled error for float32 results
NUMERIC_TOL = 1e-5   # scaled error between an analytic gradient and centred differences with h = 1e-5
NUMERIC_H = 1e-5
SAMPLES_PER_ARRAY = 6  # coordinates perturbed per input array in numeric-gradient checks

# Published fixed values (the original assignment's linspace fixtures; see docs/ and the seed notebooks).
PUBLISHED_CONV_OUT = np.array([
    [[[-0.08759809, -0.10987781], [-0.18387192, -0.2109216]],
     [[0.21027089, 0.21661097], [0.22847626, 0.23004637]],
     [[0.50813986, 0.54309974], [0.64082444, 0.67101435]]],
    [[[-0.98053589, -1.03143541], [-1.19128892, -1.24695841]],
     [[0.69108355, 0.66880383], [0.59480972, 0.56776003]],
     [[2.36270298, 2.36904306], [2.38090835, 2.38247847]]]])  # (2, 3, 2, 2)
PUBLISHED_POOL_OUT = np.array([
    [[[-0.26315789, -0.24842105], [-0.20421053, -0.18947368]],
     [[-0.14526316, -0.13052632], [-0.08631579, -0.07157895]],
     [[-0.02736842, -0.01263158], [0.03157895, 0.04631579]]],
    [[[0.09052632, 0.10526316], [0.14947368, 0.16421053]],
     [[0.20842105, 0.22315789], [0.26736842, 0.28210526]],
     [[0.32631579, 0.34105263], [0.38526316, 0.4]]]])  # (2, 3, 2, 2)
PUBLISHED_TOL = 1e-6  # the published values are rounded to 8 decimals (floor ~2e-8)


@dataclass(frozen=True)
class Case:
    """One graded check of one item.

    name: "<item>: <what is checked>" (shown to students even for hidden cases).
    config: plain data the builder reads (shapes, hyperparameters, the kind of check).
    fixed_seed: seed of the inputs for visible cases; hidden cases draw from the run's hidden seed.
    """

    name: str
    item: str
    points: float
    visibility: Visibility
    config: dict = field(default_factory=dict, hash=False)
    tolerance: float = FORWARD_TOL
    fixed_seed: int | None = None

    @property
    def case_id(self) -> str:
        return f"{self.item}-{zlib.crc32(self.name.encode()):08x}"


@dataclass
class Prepared:
    """A case made concrete: worker inputs and program, and the parent's checks.

    aux_ops: a second program whose outputs only support checks (the submitted forward pass evaluated for a
    numeric gradient); the worker runs it after every main program, so if the forward pass crashes the
    process, the backward pass has already been graded.
    """

    inputs: dict[str, np.ndarray]
    ops: list[dict]
    checks: list
    aux_ops: list[dict] = field(default_factory=list)


def _case(item: str, what: str, points: float, hidden: bool = True, **config) -> Case:
    seed = None if hidden else zlib.crc32(what.encode()) % 2**31
    tolerance = config.pop("tolerance", FORWARD_TOL)
    return Case(f"{item}: {what}", item, points, "hidden" if hidden else "visible", config, tolerance, seed)


def _conv(stride, pad, F, HH, WW, N=2, C=3, H=5, W=5, **more):
    return dict(stride=stride, pad=pad, N=N, C=C, H=H, W=W, F=F, HH=HH, WW=WW, **more)


def _pool(ph, pw, stride, N=2, C=3, H=6, W=6, **more):
    return dict(pool_height=ph, pool_width=pw, stride=stride, N=N, C=C, H=H, W=W, **more)


def _battery() -> dict[str, list[Case]]:
    f, b = "conv_forward_naive", "conv_backward_naive"
    pf, pb = "max_pool_forward_naive", "max_pool_backward_naive"
    bf, bb = "spatial_batchnorm_forward", "spatial_batchnorm_backward"
    gf, gb = "spatial_groupnorm_forward", "spatial_groupnorm_backward"
    net = "ThreeLayerConvNet"
    return {
        f: [
            _case(f, "published fixed values (2x3x4x4 input, three 4x4 filters, stride 2, pad 1)", 2, False,
                  published=True, tolerance=PUBLISHED_TOL, **_conv(2, 1, 3, 4, 4, N=2, C=3, H=4, W=4)),
            _case(f, "stride 1, pad 0, 3x3 filter, batch 2", 1, **_conv(1, 0, 2, 3, 3)),
            _case(f, "stride 2, pad 1, 3x5 filter", 1.5, **_conv(2, 1, 3, 3, 5, H=7, W=7)),
            _case(f, "stride 1, pad 2, 5x3 filter", 1.5, **_conv(1, 2, 2, 5, 3, H=4, W=6)),
            _case(f, "stride 3, pad 1, 2x2 filter, 6x9 input", 1, **_conv(3, 1, 2, 2, 2, H=6, W=9)),
            _case(f, "batch 3, 4 channels, 5 filters, stride 1, pad 1", 1, **_conv(1, 1, 5, 3, 3, N=3, C=4)),
            _case(f, "input left unmodified (stride 1, pad 0)", 1, unmodified=True, **_conv(1, 0, 2, 3, 3)),
            _case(f, "float32 in, float32 out", 1, dtype="float32", tolerance=FLOAT32_TOL,
                  **_conv(1, 1, 2, 3, 3)),
        ],
        b: [
            _case(b, "4x3x5x5 input, two 3x3 filters, stride 1, pad 1", 3, False, **_conv(1, 1, 2, 3, 3, N=4)),
            _case(b, "stride 2, pad 1, 3x5 filter", 2.5, **_conv(2, 1, 3, 3, 5, H=7, W=7)),
            _case(b, "stride 1, pad 2, 5x3 filter", 2.5, **_conv(1, 2, 2, 5, 3, H=4, W=6)),
            _case(b, "stride 3, pad 1, 2x2 filter, 6x9 input", 2, **_conv(3, 1, 2, 2, 2, H=6, W=9)),
            _case(b, "batch 3, 1x1 filter, stride 2, pad 0", 2, **_conv(2, 0, 4, 1, 1, N=3)),
            _case(b, "inputs left unmodified", 1.5, unmodified=True, **_conv(1, 1, 2, 3, 3)),
            _case(b, "float32 in, float32 out", 1.5, dtype="float32", tolerance=FLOAT32_TOL,
                  **_conv(1, 1, 2, 3, 3)),
        ],
        pf: [
            _case(pf, "published fixed values (2x3x4x4 input, 2x2 pool, stride 2)", 2, False, published=True,
                  tolerance=PUBLISHED_TOL, **_pool(2, 2, 2, H=4, W=4)),
            _case(pf, "3x3 pool, stride 1 (overlapping windows)", 1, **_pool(3, 3, 1)),
            _case(pf, "2x3 pool, stride 1 (non-square window)", 1, **_pool(2, 3, 1, H=5, W=7)),
            _case(pf, "3x3 pool, stride 2 (stride differs from pool size)", 1, **_pool(3, 3, 2, H=7, W=7)),
            _case(pf, "2x2 pool, stride 3, 7x8 input (windows do not tile)", 1, **_pool(2, 2, 3, H=7, W=8)),
            _case(pf, "3x2 pool, stride 2, 8x7 input, batch 3 (leftover rows)", 1,
                  **_pool(3, 2, 2, N=3, H=8, W=7)),
            _case(pf, "input left unmodified", 0.5, unmodified=True, **_pool(2, 2, 2)),
            _case(pf, "float32 in, float32 out", 0.5, dtype="float32", tolerance=FLOAT32_TOL, **_pool(2, 2, 2)),
        ],
        pb: [
            _case(pb, "3x2x8x8 input, 2x2 pool, stride 2", 2, False, **_pool(2, 2, 2, N=3, C=2, H=8, W=8)),
            _case(pb, "3x3 pool, stride 1 (overlapping windows accumulate)", 2, **_pool(3, 3, 1)),
            _case(pb, "2x3 pool, stride 2 (non-square, overlapping columns)", 1.5, **_pool(2, 3, 2, H=6, W=7)),
            _case(pb, "3x2 pool, stride 1, batch 3", 1.5, **_pool(3, 2, 1, N=3, H=5, W=5)),
            _case(pb, "2x2 pool, stride 3, 7x8 input (windows do not tile)", 1.5, **_pool(2, 2, 3, H=7, W=8)),
            _case(pb, "inputs left unmodified", 0.5, unmodified=True, **_pool(2, 2, 2)),
            _case(pb, "float32 in, float32 out", 1, dtype="float32", tolerance=FLOAT32_TOL, **_pool(2, 2, 2)),
        ],
        bf: [
            _case(bf, "train mode: per-channel mean 0 and std 1 (2x3x4x5 input)", 1.5, False,
                  mode="train", shape=(2, 3, 4, 5), unit_affine=True),
            _case(bf, "train mode with gamma [3, 4, 5] and beta [6, 7, 8]", 1.5, False,
                  mode="train", shape=(2, 3, 4, 5), published_affine=True),
            _case(bf, "train mode, batch 4, 5 channels, 3x2 images", 1.5, mode="train", shape=(4, 5, 3, 2)),
            _case(bf, "running statistics updated by a training pass (momentum 0.9)", 2, mode="running",
                  shape=(3, 4, 3, 5)),
            _case(bf, "test mode after 50 training passes uses the running statistics", 2, mode="warmup",
                  shape=(4, 3, 4, 4)),
            _case(bf, "input left unmodified", 0.5, mode="train", shape=(2, 3, 3, 3), unmodified=True),
            _case(bf, "float32 in, float32 out", 1, mode="train", shape=(2, 3, 3, 3), dtype="float32",
                  tolerance=FLOAT32_TOL),
        ],
        bb: [
            _case(bb, "2x3x4x5 input", 3, False, shape=(2, 3, 4, 5)),
            _case(bb, "batch 4, 5 channels, 3x2 images", 3, shape=(4, 5, 3, 2)),
            _case(bb, "single sample (N=1), 2x3 images", 2, shape=(1, 3, 2, 3)),
            _case(bb, "inputs left unmodified", 1, shape=(2, 3, 3, 3), unmodified=True),
            _case(bb, "float32 in, float32 out", 1, shape=(2, 3, 3, 3), dtype="float32", tolerance=FLOAT32_TOL),
        ],
        gf: [
            _case(gf, "G=2 groups of 3 channels (2x6x4x5 input)", 1.5, False, shape=(2, 6, 4, 5), G=2),
            _case(gf, "G=1 (one group: layer norm over C, H, W)", 1.5, shape=(3, 4, 3, 3), G=1),
            _case(gf, "G=C (one channel per group: instance norm)", 1.5, shape=(2, 4, 3, 3), G=4),
            _case(gf, "G=3 of 6 channels, 3x5 images, batch 3", 1, shape=(3, 6, 3, 5), G=3),
            _case(gf, "input left unmodified", 0.5, shape=(2, 4, 3, 3), G=2, unmodified=True),
            _case(gf, "float32 in, float32 out", 1, shape=(2, 4, 3, 3), G=2, dtype="float32",
                  tolerance=FLOAT32_TOL),
        ],
        gb: [
            _case(gb, "G=2 groups of 3 channels (2x6x4x5 input)", 3, False, shape=(2, 6, 4, 5), G=2),
            _case(gb, "G=1 (one group)", 2, shape=(3, 4, 3, 3), G=1),
            _case(gb, "G=C (one channel per group)", 2, shape=(2, 4, 3, 3), G=4),
            _case(gb, "G=3 of 6 channels, 3x5 images, batch 3", 1.5, shape=(3, 6, 3, 5), G=3),
            _case(gb, "inputs left unmodified", 0.5, shape=(2, 4, 3, 3), G=2, unmodified=True),
            _case(gb, "float32 in, float32 out", 1, shape=(2, 4, 3, 3), G=2, dtype="float32",
                  tolerance=FLOAT32_TOL),
        ],
        net: [
            _case(net, "parameter names and shapes (default arguments)", 2, False, check="shapes", kwargs={}),
            _case(net, "parameter names and shapes (input 3x8x6, 3 filters of 5x5, hidden 7, 4 classes)", 2,
                  check="shapes", kwargs=dict(input_dim=[3, 8, 6], num_filters=3, filter_size=5,
                                              hidden_dim=7, num_classes=4)),
            _case(net, "parameters follow the dtype argument (float32 default, float64)", 2, check="dtype"),
            _case(net, "initial weights have std weight_scale and biases are zero", 3, check="init"),
            _case(net, "loss and gradients with the reference's parameters (reg 0, float64)", 4, False,
                  check="loss", reg=0.0),
            _case(net, "loss and gradients with the reference's parameters (reg 0.5, float64)", 3,
                  check="loss", reg=0.5),
            _case(net, "scores when y is None", 2, check="scores"),
            _case(net, "regularisation adds 0.5 * reg * sum of squared weights", 2, check="reg"),
        ],
    }


BATTERY: Mapping[str, tuple[Case, ...]] = MappingProxyType({k: tuple(v) for k, v in _battery().items()})


def cases_for(item_name: str) -> list[Case]:
    """The cases of one graded item (empty for the experiment, which is graded in the parent)."""
    spec.item(item_name)  # KeyError naming the known items if misspelt
    return list(BATTERY.get(item_name, []))


def _rng(case: Case, hidden_seed: int) -> np.random.Generator:
    if case.fixed_seed is not None:
        return np.random.default_rng(case.fixed_seed)
    return np.random.default_rng([hidden_seed, zlib.crc32(case.name.encode())])


def prepare(case: Case, hidden_seed: int = 0) -> Prepared:
    """Inputs, worker program and checks of one case (hidden inputs drawn from ``hidden_seed``)."""
    from . import battery_builders  # the builders need reference_impl; import it only when grading

    return battery_builders.BUILDERS[case.item](case, _rng(case, hidden_seed))
