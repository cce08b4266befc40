"""A tiny stand-in for CIFAR-10, in exactly its on-disk format, built from images installed with scikit-learn.

scikit-learn ships the UCI handwritten digits (1797 grayscale 8x8 images, classes 0..9) inside the package,
so this works without a network. Each digit is enlarged 4x to 32x32 and painted in two colours chosen from
its index (ink and background), so the three channels differ and colour carries no label information.

Output: ``<dest>/cifar-10-batches-py/`` with ``data_batch_1`` .. ``data_batch_5`` (300 images each),
``test_batch`` (297 images) and ``batches.meta``: Python-2-style protocol-2 pickles with the same keys,
types and array layout as the real files, so every CIFAR-10 loader reads them. The bytes are identical on
every run. Load it with ``get_CIFAR10_data(**TINY_SPLIT, cifar10_dir=dest)``.

``tiny_cifar_archive`` packs the same files into a zip (about 0.4 MB instead of 5.6 MB), which ``make source``
ships with the hand-out for small-data mode (``get_tiny_CIFAR10_data`` reads it; students need no scikit-learn).

Command line: ``python -m reference_impl.tiny_cifar DEST``.
"""
from __future__ import annotations

import argparse
import io
import os
import pickle
import struct
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .data import FOLDER, TINY_SPLIT  # noqa: F401 (TINY_SPLIT: the split sizes, read from here too)

IMAGES_PER_TRAIN_BATCH = 300
NUM_TRAIN_BATCHES = 5
LABEL_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# A fixed timestamp keeps the archive byte-identical between builds (zip cannot store dates before 1980).
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
# Multiplier of the fixed shuffle; coprime with 1797 = 3 * 599, so i -> i * STRIDE % 1797 is a permutation
# (no random generator whose stream could change between numpy versions).
_SHUFFLE_STRIDE = 7919
_UPSCALE = 4  # 8x8 -> 32x32


class _Python2Pickler(pickle._Pickler):
    """Writes str and bytes as Python 2 byte strings and numpy's functions under their old module name.

    That is how the original CIFAR-10 files were written (cPickle, protocol 2), and it is what makes a
    file readable both with ``encoding='latin1'`` (str keys) and ``encoding='bytes'`` (bytes keys).
    It extends the pure-Python pickler because only that one looks its writers up in a ``dispatch`` table.
    """

    dispatch = dict(pickle._Pickler.dispatch)

    def _save_byte_string(self, obj):
        data = obj.encode("latin1") if isinstance(obj, str) else bytes(obj)
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[str] = _save_byte_string
    dispatch[bytes] = _save_byte_string

    def save_global(self, obj, name=None):
        module, name = obj.__module__, name or obj.__qualname__
        if module == "numpy._core.multiarray":  # numpy >= 2; the originals (and numpy 1.x) say numpy.core
            module = "numpy.core.multiarray"
        self.write(pickle.GLOBAL + module.encode("ascii") + b"\n" + name.encode("ascii") + b"\n")
        self.memoize(obj)

    dispatch[type] = save_global


def _python2_pickle(obj):
    buffer = io.BytesIO()
    _Python2Pickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def _write_atomically(path, payload):
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def tiny_cifar_images():
    """The tiny data set as arrays, before it is written to disk.

    Returns
    -------
    images : ndarray of uint8, shape (1797, 3, 32, 32)
        Colour digits, in the fixed shuffled order (first 1500 for training, the rest for test).
    labels : ndarray of int64, shape (1797,)
        The digit shown, 0..9.
    """
    from sklearn.datasets import load_digits  # the images ship inside scikit-learn; no download

    digits = load_digits()
    count = len(digits.target)
    order = (np.arange(count) * _SHUFFLE_STRIDE) % count
    gray = digits.images[order].astype(np.int64)  # (N, 8, 8), ink intensity 0..16
    gray = gray.repeat(_UPSCALE, axis=1).repeat(_UPSCALE, axis=2)  # (N, 32, 32)
    index = np.arange(count)[:, None]
    # Integer arithmetic only, so the bytes never depend on floating-point rounding.
    ink = 96 + (index * np.array([37, 73, 151])) % 160  # (N, 3) colours in 96..255
    paper = (index * np.array([11, 29, 53])) % 64  # (N, 3) dark backgrounds in 0..63
    ink, paper = ink[:, :, None, None], paper[:, :, None, None]  # (N, 3, 1, 1)
    images = paper + (ink - paper) * gray[:, None] // 16  # (N, 3, 32, 32)
    return images.astype(np.uint8), digits.target[order].astype(np.int64)


def _batch(label, images, labels, first_index):
    return {
        "batch_label": label,
        "labels": [int(v) for v in labels],
        "data": images.reshape(len(images), -1),  # (N, 3, 32, 32) -> (N, 3072): R plane, G plane, B plane
        "filenames": [f"digit_{first_index + i:05d}.png" for i in range(len(images))],
    }


def tiny_cifar_files():
    """The files of the tiny set, keyed by name inside ``cifar-10-batches-py/``.

    Returns
    -------
    dict of str to bytes
        ``data_batch_1`` .. ``data_batch_5``, ``test_batch`` and ``batches.meta``, in that order.
    """
    images, labels = tiny_cifar_images()
    num_train = IMAGES_PER_TRAIN_BATCH * NUM_TRAIN_BATCHES
    files = {}
    for b in range(NUM_TRAIN_BATCHES):
        rows = slice(b * IMAGES_PER_TRAIN_BATCH, (b + 1) * IMAGES_PER_TRAIN_BATCH)
        batch = _batch(f"training batch {b + 1} of {NUM_TRAIN_BATCHES}", images[rows], labels[rows], rows.start)
        files[f"data_batch_{b + 1}"] = _python2_pickle(batch)
    files["test_batch"] = _python2_pickle(_batch("testing batch 1 of 1", images[num_train:], labels[num_train:],
                                                 num_train))
    meta = {"num_cases_per_batch": IMAGES_PER_TRAIN_BATCH, "label_names": list(LABEL_NAMES),
            "num_vis": images[0].size}
    files["batches.meta"] = _python2_pickle(meta)
    return files


def tiny_cifar_archive():
    """The tiny set as one zip holding ``cifar-10-batches-py/<file>`` entries, byte-identical on every build.

    Returns
    -------
    bytes
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, payload in tiny_cifar_files().items():
            entry = zipfile.ZipInfo(f"{FOLDER}/{name}", date_time=_ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, payload, compresslevel=9)
    return buffer.getvalue()


def make_tiny_cifar10(dest_dir):
    """Write the tiny CIFAR-10 stand-in under ``dest_dir``.

    Parameters
    ----------
    dest_dir : str or path-like
        Created if missing; the files go to ``dest_dir/cifar-10-batches-py/`` (existing ones are replaced).

    Returns
    -------
    pathlib.Path
        The ``cifar-10-batches-py`` folder, ready for ``load_CIFAR10`` / ``get_CIFAR10_data``.
    """
    folder = Path(dest_dir) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for name, payload in tiny_cifar_files().items():
        _write_atomically(folder / name, payload)
    return folder


def main(argv=None):
    parser = argparse.ArgumentParser(description="Write the tiny CIFAR-10 stand-in (from scikit-learn's digits).")
    parser.add_argument("dest", help="folder to create cifar-10-batches-py in")
    args = parser.parse_args(argv)
    folder = make_tiny_cifar10(args.dest)
    split = ", ".join(f"{k}={v}" for k, v in TINY_SPLIT.items())
    print(f"wrote {folder}\nload it with get_CIFAR10_data({split}, cifar10_dir={str(args.dest)!r})")


if __name__ == "__main__":
    main()
