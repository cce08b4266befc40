"""Checking a Keras weights file before any framework opens it: arrays only, nothing that could carry code.

Used by the grader's trusted parent, which never imports TensorFlow; it needs only h5py. A Keras 3
``model.save_weights("name.weights.h5")`` file is an HDF5 file of groups ("layers/<layer>/vars/<i>", "vars")
whose only attribute is a layer's "name", and of numeric datasets. Anything else -- a zip (a ``.keras`` model
with its configuration), a legacy full-model ``.h5`` (its "model_config" attribute can hold a Lambda layer's
marshalled code), object or opaque datasets -- is refused with the reason.
"""
from pathlib import Path

import numpy as np

# The file the open-ended model's weights are saved to, next to the notebook, and the suffix Keras requires.
OPEN_MODEL_WEIGHTS = "open_model.weights.h5"
WEIGHTS_SUFFIX = ".weights.h5"
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
ALLOWED_ATTRIBUTES = frozenset({"name"})


def check_keras_weights_file(path, max_bytes=100 * 2**20):
    """Validate a Keras weights-only file and list its arrays.

    Inputs: path of the file; max_bytes, the largest size accepted.
    Returns: list of (dataset name, shape tuple, dtype string), in file order.
    Raises ValueError naming the first problem: missing file, wrong suffix, too large, not HDF5, an attribute
    other than "name", a soft or external link, a non-numeric dataset, or no arrays at all.
    """
    import h5py  # only here: importing this module must stay cheap for code that never checks a file

    path = Path(path)
    if not path.name.endswith(WEIGHTS_SUFFIX):
        raise ValueError(f"{path.name}: the weights must be saved with model.save_weights('<name>.weights.h5')")
    if not path.is_file():
        raise ValueError(f"{path}: no such file; run the cell that saves the weights")
    size = path.stat().st_size
    if size > max_bytes:
        raise ValueError(f"{path.name}: {size} bytes, more than the {max_bytes} allowed")
    with open(path, "rb") as f:
        if f.read(len(HDF5_SIGNATURE)) != HDF5_SIGNATURE:
            raise ValueError(f"{path.name}: not an HDF5 weights file (a .keras model or another format?)")
    arrays, problems = [], []

    def visit(name, item):
        unexpected = set(item.attrs.keys()) - ALLOWED_ATTRIBUTES
        if unexpected:
            problems.append(f"{name or '/'} has attributes {sorted(unexpected)}, which a weights file has not")
        if isinstance(item, h5py.Dataset):
            if item.dtype.kind not in "biuf":
                problems.append(f"{name} holds {item.dtype} data, not numbers")
            arrays.append((name, tuple(item.shape), np.dtype(item.dtype).str))
        elif not isinstance(item, h5py.Group):
            problems.append(f"{name} is a {type(item).__name__}, not a group or dataset")

    def visit_link(name, link):
        if not isinstance(link, h5py.HardLink):  # soft and external links could point anywhere
            problems.append(f"{name} is a {type(link).__name__}")

    try:
        with h5py.File(path, "r") as f:
            f.visititems_links(visit_link)
            if not problems:
                visit("", f)
                f.visititems(visit)
    except OSError as error:
        raise ValueError(f"{path.name}: cannot be read as HDF5 ({error})") from None
    if problems:
        raise ValueError(f"{path.name}: " + "; ".join(problems))
    if not arrays:
        raise ValueError(f"{path.name}: holds no weights")
    return arrays
