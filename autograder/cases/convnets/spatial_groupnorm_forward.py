"""spatial_groupnorm_forward: consecutive channel groups, from one group (layer norm) to one per channel."""
from __future__ import annotations

import numpy as np

from reference_impl.spatial_norm import spatial_groupnorm_forward

from .. import Case, Prepared, case
from ..ops import call, load_all, output, value, var
from ._shared import FLOAT32_TOL, array_check, cast, norm_inputs, norm_properties, with_unchanged

ITEM = "spatial_groupnorm_forward"

CASES = (
    case(ITEM, "G=2 groups of 3 channels (2x6x4x5 input)", 1.5, False, shape=(2, 6, 4, 5), G=2),
    case(ITEM, "G=1 (one group: layer norm over C, H, W)", 1, False, shape=(3, 4, 3, 3), G=1),
    case(ITEM, "G=C (one channel per group: instance norm)", 1, False, shape=(2, 4, 3, 3), G=4),
    case(ITEM, "input left unmodified", 0.5, False, shape=(2, 4, 3, 3), G=2, unmodified=True),
    case(ITEM, "float32 in, float32 out", 0.5, False, shape=(2, 4, 3, 3), G=2, dtype="float32",
         tolerance=FLOAT32_TOL),
    # Hidden: the same rules on other data and shapes.
    case(ITEM, "G=3 of 6 channels, 3x5 images, batch 3", 1, shape=(3, 6, 3, 5), G=3),
    case(ITEM, "G=1, 6 channels, 4x2 images", 0.5, shape=(2, 6, 4, 2), G=1),
    case(ITEM, "G=C, 3 channels, batch 3", 0.5, shape=(3, 3, 2, 4), G=3),
    case(ITEM, "float32 in, float32 out (G=3 of 6 channels, batch 3)", 0.5, shape=(3, 6, 2, 3), G=3,
         dtype="float32", tolerance=FLOAT32_TOL),
)


properties = norm_properties  # the rules each case exercises (autograder.cases.properties)


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    G = case.config["G"]
    x, gamma, beta = norm_inputs(case, rng, lambda C: (1, C, 1, 1))
    x, gamma, beta = cast(case, x, gamma, beta)
    inputs = {"x": x, "gamma": gamma, "beta": beta}
    expected = spatial_groupnorm_forward(*(a.astype(np.float64) for a in (x, gamma, beta)), G, {})[0]
    ops = load_all(inputs) + [call(ITEM, [var("x"), var("gamma"), var("beta"), value(G), value({})], "r"),
                              output("out", var("r", 0))]
    checks = [array_check(case, "out", expected, "out", "split each sample's channels into G consecutive groups: "
                                                        "x.reshape(N, G, -1), statistics over the last axis")]
    ops, checks = with_unchanged(case, inputs, ops, checks, ["x"])
    return Prepared(inputs, ops, checks)
