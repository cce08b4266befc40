"""Loading CIFAR-10 from its python-pickle batches and splitting it for training.

On disk (``cifar-10-batches-py/``): ``data_batch_1`` .. ``data_batch_5`` and ``test_batch``, each a pickled
dict with ``data`` (uint8, shape (N, 3072): the 1024 red, then green, then blue values of a 32x32 image in
row-major order) and ``labels`` (N ints in 0..9), written by Python 2.

Where the data is looked for, in order: the ``cifar10_dir`` argument, the ``CIFAR10_DIR`` environment
variable, ``datasets/cifar-10-batches-py`` under the current directory (next to the notebook), and
``datasets/cifar-10-batches-py`` next to this package. A directory that contains a ``cifar-10-batches-py``
folder is accepted in place of that folder.

Small-data mode (offline work and grading) uses a tiny stand-in in the same format instead: 1,797 coloured
handwritten digits, shipped with the hand-out as ``tiny_cifar10.zip`` next to this module (the course
build makes it from scikit-learn's digits). ``get_tiny_CIFAR10_data`` loads it; ``small_data_mode`` says
whether the notebook runs in that mode, and ``require_data`` stops a cell clearly when nothing was loaded.
"""
from __future__ import annotations

import os
import pickle
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import numpy as np

NUM_CLASSES = 10
IMAGE_SHAPE = (3, 32, 32)  # channels, height, width
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
ENV_VAR = "CIFAR10_DIR"
FOLDER = "cifar-10-batches-py"
TINY_ARCHIVE = Path(__file__).with_name("tiny_cifar10.zip")
# The tiny set holds 1500 training and 297 test images; these sizes use all of them.
TINY_SPLIT = MappingProxyType({"num_training": 1350, "num_validation": 150, "num_test": 297})
SMALL_DATA_ENV_VAR = "CONVKIT_SMALL_DATA"
# Set by nbgrader while it runs a notebook, and by the kit's own grader.
GRADING_ENV_VARS = ("NBGRADER_EXECUTION", "CONVKIT_GRADING")
SMALL_DATA_SWITCH = "USE_SMALL_DATA = True"  # what to type in the notebook's switch cell

# numpy moved _reconstruct between versions; take it from where this numpy's own pickles point.
_RECONSTRUCT = np.ndarray.__reduce__(np.empty(0))[0]
_ALLOWED_GLOBALS = MappingProxyType({
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
})


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """Unpickles plain containers and numpy arrays only.

    A pickle can name any importable callable and make the loader call it; a data file has no reason to
    do more than rebuild an array, so everything else is refused.
    """

    def find_class(self, module, name):
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: a CIFAR-10 batch holds only "
                                         "lists, strings and a numpy array") from None


def _missing_data_message(tried):
    here = Path(__file__).resolve().parent
    package = __package__ or here.name
    lines = [
        "CIFAR-10 was not found. Looked in:",
        *(f"  - {path}" for path in tried),
        "Get it (about 170 MB) with:",
        f"  python -m {package}.download --dest datasets",
        "which creates datasets/cifar-10-batches-py next to where you run it, or set the environment "
        f"variable {ENV_VAR} to a folder holding data_batch_1..5 and test_batch.",
    ]
    if TINY_ARCHIVE.is_file():
        lines += [
            f"Or work without it in small-data mode: in the notebook, set {SMALL_DATA_SWITCH} in the first "
            f"cell under 'Loading the data' and run the notebook again from the top; it uses the tiny stand-in "
            f"set shipped as {package}/{TINY_ARCHIVE.name}.",
        ]
    if (here / "tiny_cifar.py").exists():
        lines += [
            "Without network access, build the tiny stand-in set (same format, made from scikit-learn's digits):",
            f"  python -m {package}.tiny_cifar datasets/tiny",
            f"  then get_CIFAR10_data(**{package}.tiny_cifar.TINY_SPLIT, cifar10_dir='datasets/tiny')",
        ]
    return "\n".join(lines)


def find_cifar10_dir(cifar10_dir=None):
    """Return the folder that holds the CIFAR-10 batch files.

    Parameters
    ----------
    cifar10_dir : str or path-like or None
        Explicit location; it must exist. When None, the environment variable ``CIFAR10_DIR`` is used if set
        (it must then exist too), else the first existing default location (see the module docstring).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    FileNotFoundError
        Nothing found; the message lists the places tried and how to get the data.
    """
    if cifar10_dir is not None:
        candidates, explicit = [Path(cifar10_dir)], True
    elif os.environ.get(ENV_VAR):
        candidates, explicit = [Path(os.environ[ENV_VAR])], True
    else:
        candidates = [Path.cwd() / "datasets" / FOLDER, Path(__file__).resolve().parent / "datasets" / FOLDER]
        explicit = False
    for candidate in candidates:
        if (candidate / FOLDER).is_dir():
            return candidate / FOLDER
        if candidate.is_dir():
            return candidate
    source = "" if not explicit else (" (from the cifar10_dir argument)" if cifar10_dir is not None
                                      else f" (from ${ENV_VAR})")
    raise FileNotFoundError(_missing_data_message([f"{c}{source}" for c in candidates]))


def load_CIFAR_batch(path):
    """Load one pickled CIFAR-10 batch file.

    Parameters
    ----------
    path : str or path-like
        A file such as ``data_batch_1``.

    Returns
    -------
    X : ndarray of uint8, shape (N, 32, 32, 3)
        Images, height x width x RGB.
    y : ndarray of int64, shape (N,)
        Labels in 0..9.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        The file is not a readable batch or its arrays have the wrong shape, type or label values.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"CIFAR-10 batch file {path} does not exist")
    try:
        with open(path, "rb") as f:
            # latin1 turns Python 2 byte strings into str without loss, so numpy can rebuild the array.
            batch = _ArrayOnlyUnpickler(f, encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as exc:
        raise ValueError(f"{path} is not a readable CIFAR-10 batch (corrupt, truncated or another kind of "
                         f"file): {exc}") from exc
    if not isinstance(batch, dict):
        raise ValueError(f"{path} holds a {type(batch).__name__}, expected the dict of a CIFAR-10 batch")
    # Files written by Python 3 may use bytes keys; normalise to str.
    batch = {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in batch.items()}
    if "data" not in batch or "labels" not in batch:
        raise ValueError(f"{path} lacks the 'data' or 'labels' entry (has: {sorted(map(str, batch))})")
    data = batch["data"]
    pixels = int(np.prod(IMAGE_SHAPE))
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != pixels:
        got = f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise ValueError(f"{path}: 'data' must be a uint8 array of shape (N, {pixels}), got {got}")
    labels = np.asarray(batch["labels"])
    if labels.shape != (data.shape[0],) or labels.dtype.kind not in "iu":
        raise ValueError(f"{path}: expected {data.shape[0]} integer labels, got shape {labels.shape} "
                         f"of {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise ValueError(f"{path}: labels must lie in 0..{NUM_CLASSES - 1}, found {labels.min()}..{labels.max()}")
    X = data.reshape(-1, *IMAGE_SHAPE).transpose(0, 2, 3, 1)  # (N, 3072) -> (N, 3, 32, 32) -> (N, 32, 32, 3)
    return np.ascontiguousarray(X), labels.astype(np.int64)


def load_CIFAR10(root):
    """Load all of CIFAR-10 from a ``cifar-10-batches-py`` folder.

    Parameters
    ----------
    root : str or path-like
        The folder holding ``data_batch_1`` .. ``data_batch_5`` and ``test_batch``.

    Returns
    -------
    X_train : ndarray of uint8, shape (N_train, 32, 32, 3)
        The five training batches in order (50000 images for the real data set). Kept as uint8, a quarter
        of the memory of floats; ``get_CIFAR10_data`` converts.
    y_train : ndarray of int64, shape (N_train,)
    X_test : ndarray of uint8, shape (N_test, 32, 32, 3)
    y_test : ndarray of int64, shape (N_test,)
    """
    root = Path(root)
    parts = [load_CIFAR_batch(root / name) for name in TRAIN_BATCHES]
    X_train = np.concatenate([X for X, _ in parts])
    y_train = np.concatenate([y for _, y in parts])
    X_test, y_test = load_CIFAR_batch(root / TEST_BATCH)
    return X_train, y_train, X_test, y_test


def _check_count(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


def get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=1000, subtract_mean=True,
                     cifar10_dir=None):
    """Load CIFAR-10 and split it into training, validation and test sets ready for a network.

    Training = the first ``num_training`` training images, validation = the next ``num_validation``
    (``train[num_training:num_training + num_validation]``), test = the first ``num_test`` test images.

    Parameters
    ----------
    num_training, num_validation, num_test : int
        Split sizes; ``num_training >= 1``.
    subtract_mean : bool
        Subtract the mean image of the training split from all three splits.
    cifar10_dir : str or path-like or None
        Where the batches are; see ``find_cifar10_dir``.

    Returns
    -------
    dict with
        ``X_train`` (num_training, 3, 32, 32), ``X_val`` (num_validation, 3, 32, 32),
        ``X_test`` (num_test, 3, 32, 32): float32 (half the memory of float64; the network's default dtype
        is float32 too), pixel values 0..255 minus the mean image when ``subtract_mean``;
        ``y_train``, ``y_val``, ``y_test``: int64 labels of matching length.

    Raises
    ------
    FileNotFoundError
        No data found (the message says how to get it).
    ValueError
        More images requested than the data has (the message gives both numbers), or a corrupt batch.
    """
    _check_count("num_training", num_training, 1)
    _check_count("num_validation", num_validation, 0)
    _check_count("num_test", num_test, 0)
    X_train_all, y_train_all, X_test_all, y_test_all = load_CIFAR10(find_cifar10_dir(cifar10_dir))
    if num_training + num_validation > len(X_train_all):
        raise ValueError(f"num_training + num_validation = {num_training} + {num_validation} = "
                         f"{num_training + num_validation}, but the training batches hold {len(X_train_all)} images")
    if num_test > len(X_test_all):
        raise ValueError(f"num_test = {num_test}, but the test batch holds {len(X_test_all)} images")

    def to_network_layout(X):
        return X.transpose(0, 3, 1, 2).astype(np.float32)  # (N, 32, 32, 3) -> (N, 3, 32, 32)

    X_train = to_network_layout(X_train_all[:num_training])
    X_val = to_network_layout(X_train_all[num_training:num_training + num_validation])
    X_test = to_network_layout(X_test_all[:num_test])
    if subtract_mean:
        # Accumulate in float64: a float32 running sum over 49000 images loses digits.
        mean_image = X_train.mean(axis=0, dtype=np.float64).astype(np.float32)  # (3, 32, 32)
        for X in (X_train, X_val, X_test):
            X -= mean_image
    return {
        "X_train": X_train, "y_train": y_train_all[:num_training].copy(),
        "X_val": X_val, "y_val": y_train_all[num_training:num_training + num_validation].copy(),
        "X_test": X_test, "y_test": y_test_all[:num_test].copy(),
    }


def get_tiny_CIFAR10_data(subtract_mean=True, archive=None):
    """Load the tiny CIFAR-10 stand-in shipped with the hand-out, split like ``get_CIFAR10_data``.

    Parameters
    ----------
    subtract_mean : bool
        Subtract the mean training image from all three splits.
    archive : str or path-like or None
        The zip holding ``cifar-10-batches-py/``; default ``tiny_cifar10.zip`` next to this module.

    Returns
    -------
    dict
        As ``get_CIFAR10_data``, with ``TINY_SPLIT``'s sizes: 1350 training, 150 validation and 297 test
        images of shape (3, 32, 32).

    Raises
    ------
    FileNotFoundError
        The archive is missing.
    ValueError
        The archive is not a zip or lacks a batch file.
    """
    archive = Path(TINY_ARCHIVE if archive is None else archive)
    if not archive.is_file():
        raise FileNotFoundError(f"the tiny data set {archive} is missing; it comes with the assignment "
                                "(unpack the hand-out again to get it back)")
    with tempfile.TemporaryDirectory(prefix="tiny-cifar10-") as scratch:
        folder = Path(scratch) / FOLDER
        folder.mkdir()
        try:
            with zipfile.ZipFile(archive) as zipped:
                # Only the known batch names are written, so no member can land outside the scratch folder.
                for name in (*TRAIN_BATCHES, TEST_BATCH):
                    (folder / name).write_bytes(zipped.read(f"{FOLDER}/{name}"))
        except (zipfile.BadZipFile, KeyError) as error:
            raise ValueError(f"{archive} is not the tiny data set (a zip of {FOLDER}/): {error}") from error
        return get_CIFAR10_data(**TINY_SPLIT, subtract_mean=subtract_mean, cifar10_dir=folder)


def small_data_mode(requested=False):
    """Whether the notebook runs in small-data mode (tiny data set, long training cells skipped).

    Parameters
    ----------
    requested : bool
        The notebook's own switch (``USE_SMALL_DATA``).

    Returns
    -------
    bool
        True when requested, when the environment variable ``CONVKIT_SMALL_DATA`` is ``1``, or while a grader
        runs the notebook (``NBGRADER_EXECUTION`` or ``CONVKIT_GRADING`` set).
    """
    if not isinstance(requested, (bool, np.bool_)):
        raise TypeError(f"the small-data switch must be True or False, got {type(requested).__name__} "
                        f"{requested!r}")
    return (bool(requested) or os.environ.get(SMALL_DATA_ENV_VAR) == "1"
            or any(os.environ.get(name) for name in GRADING_ENV_VARS))


class DataNotLoadedError(RuntimeError):
    """A cell needs the data set, but the notebook's loading cell did not load it."""


def require_data(data):
    """Stop with one clear message unless ``data`` is the split dict the notebook's loading cell makes.

    Parameters
    ----------
    data : dict or None
        The notebook's ``data`` variable (None until the loading cell succeeds).

    Raises
    ------
    DataNotLoadedError
        ``data`` is None or lacks a split.
    """
    needed = ("X_train", "y_train", "X_val", "y_val")
    if not isinstance(data, Mapping) or not all(key in data for key in needed):
        raise DataNotLoadedError(
            "no data is loaded, so this cell cannot run. Run the cells under 'Loading the data' first. If "
            "loading failed, its message says how to get CIFAR-10; or set "
            f"{SMALL_DATA_SWITCH} in the first cell under 'Loading the data' to use the tiny data set shipped "
            "with the assignment, and run the notebook again from the top.")
