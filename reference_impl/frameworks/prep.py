"""CIFAR-10 prepared for a deep-learning framework: per-channel normalisation, layout and mini-batches.

NumPy only, so the PyTorch and the TensorFlow assignments share it and the grader can use it without importing
either framework. Frameworks differ in where the channel axis goes: PyTorch wants NCHW, TensorFlow NHWC.
"""
import math

import numpy as np

from ..data import get_CIFAR10_data, get_tiny_CIFAR10_data

LAYOUTS = ("NCHW", "NHWC")


def _check_layout(layout):
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")


def channel_statistics(X_train, layout):
    """Per-channel mean and standard deviation of a training set.

    Inputs: X_train (N, C, H, W) for layout "NCHW" or (N, H, W, C) for "NHWC".
    Returns (mean, std), each float32 of shape (C,); accumulated in float64 because a float32 running sum over
    tens of thousands of images loses digits. A channel with zero spread gets std 1 so normalising never
    divides by zero.
    """
    _check_layout(layout)
    X_train = np.asarray(X_train)
    if X_train.ndim != 4 or len(X_train) == 0:
        raise ValueError(f"X_train must be a non-empty 4-d image batch, got shape {X_train.shape}")
    axes = (0, 2, 3) if layout == "NCHW" else (0, 1, 2)
    mean = X_train.mean(axis=axes, dtype=np.float64)
    std = X_train.std(axis=axes, dtype=np.float64)
    std[std == 0] = 1.0
    return mean.astype(np.float32), std.astype(np.float32)


def normalise(X, mean, std, layout):
    """(X - mean) / std per channel, as float32 in the same layout; X is never modified.

    Inputs: X (N, C, H, W) or (N, H, W, C) per layout; mean, std (C,).
    Returns: float32 array of X's shape.
    """
    _check_layout(layout)
    shape = (1, -1, 1, 1) if layout == "NCHW" else (1, 1, 1, -1)
    mean = np.asarray(mean, dtype=np.float32).reshape(shape)  # (C,) -> broadcastable over the batch
    std = np.asarray(std, dtype=np.float32).reshape(shape)
    return ((np.asarray(X, dtype=np.float32) - mean) / std).astype(np.float32, copy=False)


def load_cifar10_for_framework(layout, num_training=49000, num_validation=1000, num_test=10000,
                               cifar10_dir=None):
    """Load CIFAR-10 split into training, validation and test sets, normalised for a framework.

    Splits as ``reference_impl.data.get_CIFAR10_data``: training = the first ``num_training`` training images,
    validation = the next ``num_validation``, test = the first ``num_test`` test images. Every split is
    normalised by the per-channel mean and std of the training split.

    Inputs: layout "NCHW" (PyTorch) or "NHWC" (TensorFlow); split sizes; cifar10_dir as for
    ``find_cifar10_dir`` (None: the default search, which honours CIFAR10_DIR).
    Returns: dict with X_train (num_training, 3, 32, 32) or (num_training, 32, 32, 3) float32 and likewise
    X_val, X_test; y_train, y_val, y_test int64 labels; mean and std, float32 (3,).
    Raises FileNotFoundError (no data, with a message saying how to get it) or ValueError (bad sizes/layout).
    """
    _check_layout(layout)
    data = get_CIFAR10_data(num_training, num_validation, num_test, subtract_mean=False,
                            cifar10_dir=cifar10_dir)
    return _for_framework(data, layout)


def load_tiny_cifar10_for_framework(layout):
    """The tiny CIFAR-10 stand-in shipped with the hand-out (small-data mode), prepared as
    ``load_cifar10_for_framework`` prepares CIFAR-10: same layouts, dtypes and per-channel normalisation.

    Inputs: layout "NCHW" or "NHWC". Returns: the dict of ``load_cifar10_for_framework`` with the tiny set's
    split sizes (``data.TINY_SPLIT``). Raises FileNotFoundError when the archive is missing.
    """
    _check_layout(layout)
    return _for_framework(get_tiny_CIFAR10_data(subtract_mean=False), layout)


def _for_framework(data, layout):
    """Transpose the splits of ``get_CIFAR10_data(subtract_mean=False)`` to ``layout`` and normalise them."""
    if layout == "NHWC":
        for split in ("X_train", "X_val", "X_test"):
            data[split] = np.ascontiguousarray(data[split].transpose(0, 2, 3, 1))  # (N, C, H, W) -> (N, H, W, C)
    mean, std = channel_statistics(data["X_train"], layout)
    for split in ("X_train", "X_val", "X_test"):
        data[split] = normalise(data[split], mean, std, layout)
    data["mean"], data["std"] = mean, std
    return data


class MiniBatches:
    """Iterate over a data set in mini-batches of (X, y); a new order on every pass when ``shuffle``.

    Inputs: X (N, ...) and y (N,) arrays; batch_size a positive int (the last batch may be smaller);
    shuffle; seed for the shuffling generator (None: fresh entropy).
    Iterating yields (X_batch (B, ...), y_batch (B,)); ``len()`` is the number of batches per pass.
    """

    def __init__(self, X, y, batch_size, shuffle=False, seed=None):
        if len(X) != len(y):
            raise ValueError(f"X and y must have the same length, got {len(X)} images and {len(y)} labels")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.X, self.y = X, y
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self._rng = np.random.default_rng(seed)

    def __len__(self):
        return math.ceil(len(self.X) / self.batch_size)

    def __iter__(self):
        count = len(self.X)
        order = self._rng.permutation(count) if self.shuffle else np.arange(count)
        for start in range(0, count, self.batch_size):
            rows = order[start:start + self.batch_size]
            yield self.X[rows], self.y[rows]
