"""Pictures for the notebook: filter grids, training curves, and a real photo for the convolution demo."""
from __future__ import annotations

import math

import numpy as np

_SAMPLE_PHOTO = "grace_hopper.jpg"  # ships with matplotlib (matplotlib/mpl-data/sample_data)


def visualize_grid(Xs, ubound=255.0, padding=1):
    """Tile a stack of images into one image, each rescaled to [0, ubound].

    Parameters
    ----------
    Xs : ndarray, shape (N, H, W, C)
        Images (for first-layer filters ``W1`` of shape (F, C, HH, WW): ``W1.transpose(0, 2, 3, 1)``).
    ubound : float
        Every image is rescaled on its own so its minimum maps to 0 and its maximum to ``ubound``;
        a constant image becomes all zeros.
    padding : int
        Blank pixels between neighbouring tiles.

    Returns
    -------
    grid : ndarray of float64, shape (G*H + (G-1)*padding, G*W + (G-1)*padding, C)
        With G = ceil(sqrt(N)) tiles per row and column, filled row by row; unused tiles stay 0.
    """
    Xs = np.asarray(Xs)
    if Xs.ndim != 4:
        raise ValueError(f"Xs must have shape (N, H, W, C), got shape {Xs.shape}")
    if isinstance(padding, bool) or not isinstance(padding, (int, np.integer)) or padding < 0:
        raise ValueError(f"padding must be a non-negative int, got {padding!r}")
    N, H, W, C = Xs.shape
    tiles = math.ceil(math.sqrt(N))
    grid = np.zeros((tiles * H + (tiles - 1) * padding, tiles * W + (tiles - 1) * padding, C))
    for i, image in enumerate(Xs):
        row, col = divmod(i, tiles)
        low, high = float(image.min()), float(image.max())
        scaled = ubound * (image - low) / (high - low) if high > low else np.zeros(image.shape)
        top, left = row * (H + padding), col * (W + padding)
        grid[top:top + H, left:left + W] = scaled
    return grid


def plot_training_history(solver, path=None):
    """Plot a Solver's loss per iteration and its train/validation accuracy per epoch.

    Parameters
    ----------
    solver : Solver
        Uses ``loss_history``, ``train_acc_history`` and ``val_acc_history``.
    path : str or path-like or None
        When given, save the figure there (format from the extension) and close it.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt  # imported here so that importing this module stays cheap

    fig, (loss_ax, acc_ax) = plt.subplots(2, 1, figsize=(8, 7))
    loss_ax.plot(solver.loss_history, "o", markersize=2)
    loss_ax.set_xlabel("iteration")
    loss_ax.set_ylabel("training loss")
    acc_ax.plot(solver.train_acc_history, "-o", label="train")
    acc_ax.plot(solver.val_acc_history, "-o", label="val")
    # The first point is measured after iteration 1, then one point per epoch end.
    acc_ax.set_xlabel("epoch (0: after the first iteration)")
    acc_ax.set_ylabel("accuracy")
    acc_ax.legend(loc="lower right")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path)
        plt.close(fig)
    return fig


def sample_photo(size=None):
    """A real colour photograph (Grace Hopper, from matplotlib's bundled sample data).

    Parameters
    ----------
    size : int or None
        None returns the photo as it is; an int returns its centred square crop resized to
        (size, size) by nearest-neighbour sampling.

    Returns
    -------
    ndarray of uint8, shape (H, W, 3) or (size, size, 3)
    """
    from matplotlib import cbook, image

    photo = image.imread(cbook.get_sample_data(_SAMPLE_PHOTO, asfileobj=False))
    photo = np.asarray(photo)[..., :3]
    if photo.dtype != np.uint8:  # some readers give floats in [0, 1]
        photo = np.round(photo * 255).astype(np.uint8)
    if size is None:
        return photo
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be a positive int or None, got {size!r}")
    H, W, _ = photo.shape
    side = min(H, W)
    top, left = (H - side) // 2, (W - side) // 2
    # Centres of the output pixels, mapped back into the square crop.
    picks = ((np.arange(size) + 0.5) * side / size).astype(int)
    return photo[top + picks[:, None], left + picks[None, :]]  # (size, size, 3)
