"""spatial_batchnorm_backward: gradients through the submitted forward pass's own cache."""
from __future__ import annotations

import numpy as np

from reference_impl.spatial_norm import spatial_batchnorm_backward, spatial_batchnorm_forward

from .. import Case, Prepared, case
from ._shared import FLOAT32_TOL, norm_backward, norm_properties

ITEM = "spatial_batchnorm_backward"

CASES = (
    case(ITEM, "2x3x4x5 input", 2.5, False, shape=(2, 3, 4, 5)),
    case(ITEM, "batch 4, 5 channels, 3x2 images", 1.5, False, shape=(4, 5, 3, 2)),
    case(ITEM, "single sample (N=1), 2x3 images", 1.5, False, shape=(1, 3, 2, 3)),
    case(ITEM, "inputs left unmodified", 0.5, False, shape=(2, 3, 3, 3), unmodified=True),
    case(ITEM, "float32 in, float32 out", 0.5, False, shape=(2, 3, 3, 3), dtype="float32", tolerance=FLOAT32_TOL),
    # Hidden: the same rules on other data and shapes.
    case(ITEM, "batch 3, 2 channels, 4x3 images", 1.5, shape=(3, 2, 4, 3)),
    case(ITEM, "single sample (N=1), 4 channels, 3x3 images", 1, shape=(1, 4, 3, 3)),
    case(ITEM, "inputs left unmodified (batch 3)", 0.5, shape=(3, 2, 2, 3), unmodified=True),
    case(ITEM, "float32 in, float32 out (batch 3, 4 channels)", 0.5, shape=(3, 4, 2, 3), dtype="float32",
         tolerance=FLOAT32_TOL),
)


properties = norm_properties  # the rules each case exercises (autograder.cases.properties)


def prepare(case: Case, rng: np.random.Generator) -> Prepared:
    return norm_backward(case, rng, "spatial_batchnorm_forward", ITEM, spatial_batchnorm_forward,
                         spatial_batchnorm_backward, lambda C: (C,), (), lambda: {"mode": "train"})
