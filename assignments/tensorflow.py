"""The deep-learning-frameworks assignment in TensorFlow 2 / Keras 3: the three-layer convnet written with raw
TensorFlow operations, then as a Keras subclass, Sequential and functional model, and an open-ended network
graded from its saved weights file."""
from __future__ import annotations

from .record import Assignment, GradedItem, GradingLimits, ManualItem, SupportPackage

OPEN_MODEL_FILE = "open_model.weights.h5"  # the same name as reference_impl.frameworks.weights_file's

# The barebones items must use raw TensorFlow operations: they are graded with Keras layers disabled.
BAREBONES_ITEMS = ("flatten", "three_layer_convnet", "create_matrix_with_kaiming_normal",
                   "three_layer_convnet_init", "training_step")

TENSORFLOW = Assignment(
    name="tensorflow",
    notebook="TensorFlow.ipynb",
    template="templates/tensorflow/TensorFlow.py",
    graded_items=(
        GradedItem("flatten", 5),
        GradedItem("three_layer_convnet", 15),
        GradedItem("create_matrix_with_kaiming_normal", 8),
        GradedItem("three_layer_convnet_init", 6),
        GradedItem("training_step", 14),
        GradedItem("ThreeLayerConvNet", 12, kind="class"),
        GradedItem("three_layer_convnet_sequential", 9),
        GradedItem("sgd_nesterov_optimizer", 4),
        GradedItem("three_layer_convnet_functional", 8),
        GradedItem("build_open_model", 4),
        # Graded from the weights file: the parent checks it, the worker loads it into build_open_model()'s
        # model and predicts held-out images, the parent computes the accuracy with labels it keeps.
        GradedItem("open_model", 15, kind="file", file=OPEN_MODEL_FILE),
    ),
    manual_items=(ManualItem("answer_open_model", 5),),
    support=SupportPackage(
        name="convkit",
        modules=("fc_layers", "losses", "im2col", "fast_layers", "sandwich", "gradient_check", "data", "download",
                 "frameworks.layouts", "frameworks.numpy_net", "frameworks.prep", "frameworks.tf_device",
                 "frameworks.tf_training", "frameworks.weights_file"),
        extra_files=("im2col_cython.pyx",),
        not_reexported=("download",),
        never_shipped=("conv_naive", "pool_naive", "spatial_norm", "cnn", "sandwich_bn", "tiny_cifar", "demo",
                       "frameworks.tf_barebones", "frameworks.tf_keras_models", "frameworks.tf_open_model"),
        self_check=True,
    ),
    naive_items=BAREBONES_ITEMS,
    naive_forbidden=("keras.layers.Layer",),
    preload=("tensorflow",),
    requirements=("tensorflow-cpu",),
    # The instructor's own trained weights and the data set stay out of the release.
    release_exclusions=(OPEN_MODEL_FILE, "datasets"),
    # Measured (issue 8, phase A): importing TensorFlow takes 7-8 s of CPU and 26-37 s of wall time on a loaded
    # two-core machine; a small Keras fit peaks at 2.5 GB of address space with default threads (1.5 GB with
    # one intra-op and one inter-op thread). The limits leave a correct submission two to three times that
    # room; a runaway item still dies alone (its own CPU limit and deadline).
    limits=GradingLimits(cpu_seconds=240.0, memory_mb=6144, startup_seconds=120.0, cell_seconds=60.0,
                         test_seconds=60.0),
)
