"""The PyTorch assignment (the framework half of the course, in PyTorch): data preparation, a barebones
three-layer convnet written with raw tensor operations and autograd, the same net as an ``nn.Module`` and as an
``nn.Sequential`` trained with Nesterov momentum, and an open-ended model graded from its saved weights."""
from __future__ import annotations

from .record import Assignment, GradedItem, GradingLimits, ManualItem, SupportPackage

OPEN_MODEL_FILE = "open_model.pt"  # the same name as reference_impl.frameworks.torch_weights.OPEN_MODEL_FILE

# Written with torch.nn.functional and autograd only: graded with torch.nn.Module construction disabled.
BAREBONES = ("flatten", "three_layer_convnet", "random_weight", "zero_weight", "three_layer_convnet_init",
             "train_step")

PYTORCH = Assignment(
    name="pytorch",
    notebook="PyTorch.ipynb",
    template="templates/pytorch/PyTorch.py",
    graded_items=(
        GradedItem("flatten", 4),
        GradedItem("three_layer_convnet", 12),
        GradedItem("random_weight", 6),
        GradedItem("zero_weight", 2),
        GradedItem("three_layer_convnet_init", 6),
        GradedItem("train_step", 12),
        GradedItem("ThreeLayerConvNet", 14, kind="class"),
        GradedItem("sequential_convnet", 10),
        GradedItem("nesterov_sgd", 6),
        GradedItem("build_open_model", 4),
        GradedItem("open_model", 14, file=OPEN_MODEL_FILE),
    ),
    manual_items=(ManualItem("answer_open_model", 10),),
    support=SupportPackage(
        name="convkit",
        modules=("fc_layers", "losses", "im2col", "fast_layers", "sandwich", "gradient_check", "data", "download",
                 "frameworks.prep", "frameworks.numpy_net", "frameworks.torch_data", "frameworks.torch_training",
                 "frameworks.torch_weights"),
        extra_files=("im2col_cython.pyx",),
        not_reexported=("download",),
        never_shipped=("conv_naive", "pool_naive", "spatial_norm", "cnn", "sandwich_bn", "tiny_cifar", "demo",
                       "frameworks.torch_barebones", "frameworks.torch_modules", "frameworks.torch_sequential",
                       "frameworks.torch_open_model"),
        self_check=True,
    ),
    naive_items=BAREBONES,
    naive_forbidden=("torch.nn.Module",),
    preload=("torch",),
    requirements=("torch",),
    # The instructor's own trained weights and the data set stay out of the release.
    release_exclusions=(OPEN_MODEL_FILE, "datasets"),
    # Importing torch takes 2-13 s here (cold disk cache) and reserves about 0.8 GB of address space.
    limits=GradingLimits(cpu_seconds=120.0, memory_mb=4096, startup_seconds=60.0, cell_seconds=60.0,
                         test_seconds=30.0),
)
