"""spatial_groupnorm_backward: gradients through the submitted forward pass's own cache, for several G."""
from __future__ import annotations

import numpy as np

from reference_impl.spatial_norm import spatial_groupnorm_backward, spatial_groupnorm_forward

from .. import Case, Prepared, case
from ._shared import FLOAT32_TOL, norm_backward, norm_properties

ITEM = "spatial_groupnorm_backward"

CASES = (
    case(ITEM, "G=2 groups of 3 channels (2x6x4x5 input)", 2.5, False, shape=(2, 6, 4, 5), G=2),
    case(ITEM, "G=1 (one group)", 1.5, False, shape=(3, 4, 3, 3), G=1),
    case(ITEM, "G=C (one channel per group)", 1.5, False, shape=(2, 4, 3, 3), G=4),
    case(ITEM, "inputs left unmodified", 0.5, False, shape=(2, 4, 3, 3), G=2, unmodified=True),
    case(ITEM, "float32 in, float32 out", 0.5, False, shape=(2, 4, 3, 3), G=2, dtype="float32",
         tolerance=FLOAT32_TOL),
    # Hidden: the same rules on other data and shapes.
    case(ITEM, "G=3 of 6 channels, 3x5 images, batch 3", 1, shape=(3, 6, 3, 5), G=3),
    case(ITEM, "G=1, 6 channels, 4x2 images", 1, shape=(2, 6, 4, 2), G=1),
    case(ITEM, "G=C, 3 channels, batch 3", 1, shape=(3, 3, 2, 4), G=3),
    case(ITEM, "float32 in, float32 out (G=3 of 6 channels, batch 3)", 0.5, shape=(3, 6, 2, 3), G=3,
         dtype="float32", tolerance=FLOAT32_TOL),
)


properties = norm_properties  # the rules each case exercises (autograder.cases.properties)


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    return norm_backward(case, rng, "spatial_groupnorm_forward", ITEM, spatial_groupnorm_forward,
                         spatial_groupnorm_backward, lambda C: (1, C, 1, 1), (case.config["G"],), dict)
