"""The convolutional-networks assignment (CS231n assignment 2 style): naive layers, a three-layer net,
spatial normalisation, and an open-ended experiment graded from its saved parameters."""
from __future__ import annotations

from .record import Assignment, GradedItem, GradingLimits, Linspace, ManualItem, SupportPackage

EXPERIMENT_FILE = "experiment_model.npz"

# The original assignment's published fixtures (see the seed notebooks): inputs built with linspace and the
# outputs it prints, rounded to 8 decimals. The notebook's visible tests and the grader's visible cases both
# read them from here.
PUBLISHED = {
    "conv_forward_naive": {
        "x": Linspace(-0.1, 0.5, (2, 3, 4, 4)),
        "w": Linspace(-0.2, 0.3, (3, 3, 4, 4)),
        "b": Linspace(-0.1, 0.2, (3,)),
        "conv_param": {"stride": 2, "pad": 1},
        "out": ((((-0.08759809, -0.10987781), (-0.18387192, -0.2109216)),
                 ((0.21027089, 0.21661097), (0.22847626, 0.23004637)),
                 ((0.50813986, 0.54309974), (0.64082444, 0.67101435))),
                (((-0.98053589, -1.03143541), (-1.19128892, -1.24695841)),
                 ((0.69108355, 0.66880383), (0.59480972, 0.56776003)),
                 ((2.36270298, 2.36904306), (2.38090835, 2.38247847)))),
    },
    "max_pool_forward_naive": {
        "x": Linspace(-0.3, 0.4, (2, 3, 4, 4)),
        "pool_param": {"pool_width": 2, "pool_height": 2, "stride": 2},
        "out": ((((-0.26315789, -0.24842105), (-0.20421053, -0.18947368)),
                 ((-0.14526316, -0.13052632), (-0.08631579, -0.07157895)),
                 ((-0.02736842, -0.01263158), (0.03157895, 0.04631579))),
                (((0.09052632, 0.10526316), (0.14947368, 0.16421053)),
                 ((0.20842105, 0.22315789), (0.26736842, 0.28210526)),
                 ((0.32631579, 0.34105263), (0.38526316, 0.4)))),
    },
    "spatial_batchnorm_forward": {"gamma": (3.0, 4.0, 5.0), "beta": (6.0, 7.0, 8.0)},
}

CONVNETS = Assignment(
    name="convnets",
    notebook="ConvolutionalNetworks.ipynb",
    template="templates/convnets/ConvolutionalNetworks.py",
    graded_items=(
        GradedItem("conv_forward_naive", 10),
        GradedItem("conv_backward_naive", 15),
        GradedItem("max_pool_forward_naive", 8),
        GradedItem("max_pool_backward_naive", 10),
        GradedItem("ThreeLayerConvNet", 20, kind="class"),
        GradedItem("spatial_batchnorm_forward", 10),
        GradedItem("spatial_batchnorm_backward", 10),
        GradedItem("spatial_groupnorm_forward", 7),
        GradedItem("spatial_groupnorm_backward", 10),
        GradedItem("experiment", 10, kind="file", file=EXPERIMENT_FILE),
    ),
    manual_items=(ManualItem("answer_naive_speed", 5), ManualItem("answer_filters", 5)),
    support=SupportPackage(
        name="convkit",
        modules=("fc_layers", "losses", "im2col", "fast_layers", "sandwich", "optim", "solver", "gradient_check",
                 "data", "download", "vis", "model_io"),
        extra_files=("im2col_cython.pyx",),
        not_reexported=("download",),
        never_shipped=("conv_naive", "pool_naive", "spatial_norm", "cnn", "sandwich_bn", "tiny_cifar", "demo"),
        tripwired=("fast_layers", "im2col"),
        self_check=True,
    ),
    naive_items=("conv_forward_naive", "conv_backward_naive", "max_pool_forward_naive", "max_pool_backward_naive"),
    # What the instructor's own run of the experiment leaves next to the source notebook, and the data set.
    release_exclusions=(EXPERIMENT_FILE, "datasets"),
    limits=GradingLimits(cpu_seconds=120.0, memory_mb=2048, startup_seconds=15.0, cell_seconds=10.0,
                         test_seconds=5.0),
    published=PUBLISHED,
)
