"""The convolutional-networks assignment (CS231n assignment 2 style): naive layers, a three-layer net,
spatial normalisation, and an open-ended experiment graded from its saved parameters."""
from __future__ import annotations

from .record import Assignment, GradedItem, GradingLimits, ManualItem, SupportPackage

EXPERIMENT_FILE = "experiment_model.npz"

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
    ),
    naive_items=("conv_forward_naive", "conv_backward_naive", "max_pool_forward_naive", "max_pool_backward_naive"),
    # What the instructor's own run of the experiment leaves next to the source notebook, and the data set.
    release_exclusions=(EXPERIMENT_FILE, "datasets"),
    limits=GradingLimits(cpu_seconds=120.0, memory_mb=2048, startup_seconds=15.0, cell_seconds=10.0,
                         test_seconds=5.0),
)
