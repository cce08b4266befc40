"""CIFAR-10 for the PyTorch assignment: the device to compute on, float32 tensors in NCHW, mini-batches.

The normalisation and the batching are NumPy (``prep``), shared with the TensorFlow assignment; this module
only decides where tensors live and turns batches into tensors there.
"""
import torch

from .prep import load_cifar10_for_framework

DTYPE = torch.float32  # every image and weight tensor of the assignment
LABEL_DTYPE = torch.int64  # what torch.nn.functional.cross_entropy expects for class indices
LAYOUT = "NCHW"


def choose_device(use_gpu=True):
    """The device to compute on: the first CUDA GPU when one is usable and ``use_gpu``, else the CPU.

    Inputs: use_gpu (bool): False forces the CPU even when a GPU is present.
    Returns: torch.device("cuda") or torch.device("cpu"); never fails on a machine without a GPU.
    """
    if use_gpu and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def load_cifar10_torch(num_training=49000, num_validation=1000, num_test=10000, cifar10_dir=None):
    """CIFAR-10 as CPU tensors, normalised per channel by the training split's mean and std.

    Inputs: split sizes and cifar10_dir exactly as for ``prep.load_cifar10_for_framework``.
    Returns: dict with X_train (num_training, 3, 32, 32) float32 tensor, X_val, X_test likewise; y_train,
    y_val, y_test int64 tensors; mean and std float32 tensors (3,). The tensors share memory with the NumPy
    arrays they come from (no copy); ``as_batch`` moves one batch at a time to the compute device, so a GPU
    never has to hold the whole data set.
    Raises FileNotFoundError when the data is missing (with instructions), ValueError for bad sizes.
    """
    data = load_cifar10_for_framework(LAYOUT, num_training=num_training, num_validation=num_validation,
                                      num_test=num_test, cifar10_dir=cifar10_dir)
    tensors = {}
    for name, array in data.items():
        dtype = LABEL_DTYPE if name.startswith("y_") else DTYPE
        tensors[name] = torch.from_numpy(array).to(dtype)  # no copy when the dtype already matches
    return tensors


def as_batch(x, y, device):
    """One mini-batch as tensors on ``device``: images float32 (B, C, H, W), labels int64 (B,).

    Inputs: x (B, C, H, W) and y (B,) as NumPy arrays or tensors; device a torch.device or its name.
    Returns: (x, y) tensors; no copy when they already have the right dtype and device.
    """
    return (torch.as_tensor(x, dtype=DTYPE, device=device),
            torch.as_tensor(y, dtype=LABEL_DTYPE, device=device))
