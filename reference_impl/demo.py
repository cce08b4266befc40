"""The built-in demo: train the three-layer convnet briefly on the tiny data set and plot what it learned.

``python -m reference_impl.demo [--out out/demo] [--epochs 5] [--seed 0]`` (``make demo``) needs no network
and takes well under a minute on two cores. It writes

- ``<out>/cache/cifar-10-batches-py/``: the tiny CIFAR-10 stand-in (built once, then reused);
- ``<out>/training_history.png``: loss per iteration, train/validation accuracy per epoch;
- ``<out>/first_layer_filters.png``: the learned first-layer filters;

and prints the final accuracies and where the files are.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path
from types import MappingProxyType

import numpy as np

from .cnn import ThreeLayerConvNet
from .data import get_CIFAR10_data
from .solver import Solver
from .tiny_cifar import FOLDER, TINY_SPLIT, make_tiny_cifar10
from .vis import plot_training_history, visualize_grid

# A smaller net than the notebook's default (32 7x7 filters): the tiny set needs less, and it trains faster.
MODEL = MappingProxyType({"num_filters": 16, "filter_size": 5, "hidden_dim": 100, "weight_scale": 1e-2, "reg": 1e-3})
TRAINING = MappingProxyType({"update_rule": "adam", "optim_config": MappingProxyType({"learning_rate": 1e-3}),
                             "lr_decay": 0.9, "batch_size": 50})
_FILTER_ZOOM = 8  # screen pixels per filter weight in the filter picture


def _save_filter_grid(W1, path):
    import matplotlib.pyplot as plt

    grid = visualize_grid(W1.transpose(0, 2, 3, 1))  # (F, C, HH, WW) -> (F, HH, WW, C)
    grid = grid.repeat(_FILTER_ZOOM, axis=0).repeat(_FILTER_ZOOM, axis=1)  # (H*zoom, W*zoom, C)
    plt.imsave(path, grid.astype(np.uint8))


def run(out_dir="out/demo", num_epochs=5, seed=0, verbose=True):
    """Build the tiny data set, train ThreeLayerConvNet on it, and write the plots.

    Parameters
    ----------
    out_dir : str or path-like
        Where the cache and pictures go (created if needed).
    num_epochs : int
        Training epochs of 27 iterations each.
    seed : int
        Seeds the weights and numpy's global generator (minibatches), so runs repeat exactly.
    verbose : bool
        Print the Solver's progress and the summary.

    Returns
    -------
    dict with ``train_acc``, ``val_acc``, ``test_acc`` (floats) and ``history_png``, ``filters_png`` (Paths).
    """
    out = Path(out_dir)
    cache = out / "cache"
    if not (cache / FOLDER / "test_batch").is_file():
        make_tiny_cifar10(cache)
    data = get_CIFAR10_data(**TINY_SPLIT, cifar10_dir=cache)

    np.random.seed(seed)
    model = ThreeLayerConvNet(**MODEL, seed=seed)
    solver = Solver(model, data, num_epochs=num_epochs, print_every=25, verbose=verbose, **TRAINING)
    solver.train()

    results = {
        "train_acc": solver.check_accuracy(data["X_train"], data["y_train"]),
        "val_acc": solver.check_accuracy(data["X_val"], data["y_val"]),
        "test_acc": solver.check_accuracy(data["X_test"], data["y_test"]),
        "history_png": out / "training_history.png",
        "filters_png": out / "first_layer_filters.png",
    }
    plot_training_history(solver, path=results["history_png"])
    _save_filter_grid(model.params["W1"], results["filters_png"])
    if verbose:
        print(f"accuracy after {num_epochs} epochs on the tiny set: train {results['train_acc']:.3f}, "
              f"val {results['val_acc']:.3f}, test {results['test_acc']:.3f} (chance: 0.100)")
        print(f"training curves: {results['history_png']}\nfirst-layer filters: {results['filters_png']}")
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description="Train the three-layer convnet briefly on the tiny data set.")
    parser.add_argument("--out", default="out/demo", help="output folder (default: out/demo)")
    parser.add_argument("--epochs", type=int, default=5, help="training epochs (default: 5)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    args = parser.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")  # write files; never try to open a window
    run(args.out, num_epochs=args.epochs, seed=args.seed)


if __name__ == "__main__":
    main()
