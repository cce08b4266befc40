"""Hostile experiment files, named for what the grader must do with them (all are refused with a message)."""
from __future__ import annotations

import io
import json
import struct
import zipfile

import numpy as np

from reference_impl.model_io import CONFIG_KEY, PARAM_PREFIX


def _npy_header(dtype: str, shape: tuple) -> bytes:
    """A version 1.0 .npy header, written by numpy itself."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buffer.getvalue()  # the magic string, the version and the padded header


def _config(**kwargs) -> np.ndarray:
    return np.array(json.dumps({"format": 1, "model_name": "ThreeLayerConvNet", "kwargs": kwargs}))


def refused_zip_bomb(path, mib: int = 256) -> None:
    """A deflated .npz whose W1 unpacks to ``mib`` MiB of zeros from about a thousandth of that on disk."""
    chunk = bytes(1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(CONFIG_KEY + ".npy", "w") as member:
            np.lib.format.write_array(member, _config(), allow_pickle=False)
        with archive.open(PARAM_PREFIX + "W1.npy", "w", force_zip64=True) as member:
            member.write(_npy_header("<f8", (mib * (1 << 17),)))
            for _ in range(mib):
                member.write(chunk)


def refused_huge_declared_shape(path) -> None:
    """A stored .npz whose W2 header declares 50000 x 50000 float64 (20 GB) over a few bytes of data."""
    with zipfile.ZipFile(path, "w") as archive:
        with archive.open(CONFIG_KEY + ".npy", "w") as member:
            np.lib.format.write_array(member, _config(), allow_pickle=False)
        archive.writestr(PARAM_PREFIX + "W2.npy", _npy_header("<f8", (50000, 50000)) + bytes(64))


def refused_lying_directory_size(path) -> None:
    """A .npz whose central directory declares W1 as 3 GiB unpacked (its real member is tiny)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        with archive.open(CONFIG_KEY + ".npy", "w") as member:
            np.lib.format.write_array(member, _config(), allow_pickle=False)
        with archive.open(PARAM_PREFIX + "W1.npy", "w") as member:
            np.lib.format.write_array(member, np.zeros(4), allow_pickle=False)
    data = bytearray(buffer.getvalue())
    entry = data.rfind(b"PK\x01\x02")  # the last central-directory entry: W1
    data[entry + 24:entry + 28] = struct.pack("<I", 3 << 30)
    path.write_bytes(bytes(data))


def refused_object_array(path) -> None:
    """An .npz whose parameter is an object array (loading it would need pickle)."""
    np.savez(path, **{CONFIG_KEY: _config(), PARAM_PREFIX + "W1": np.array([{"a": 1}, None], dtype=object)})


def refused_too_many_members(path, members: int = 2000) -> None:
    """An .npz of ``members`` tiny arrays (a central directory that is costly to parse)."""
    np.savez(path, **{CONFIG_KEY: _config()}, **{f"{PARAM_PREFIX}p{i}": np.zeros(1) for i in range(members)})


def refused_huge_constructor_arguments(path) -> None:
    """Tiny arrays, but arguments asking the grader to build a 4096-filter, 64-hidden-unit-per-pixel network."""
    np.savez(path, **{CONFIG_KEY: _config(num_filters=4096, hidden_dim=4096), PARAM_PREFIX + "W1": np.zeros(1)})
