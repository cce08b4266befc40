"""Checking a submitted zip of arrays (``.npz``; PyTorch's ``.pt``) before anything is allocated for it.

A zip's declared sizes are what a reader allocates: a few kilobytes can declare gigabytes (a zip bomb, or an
``.npy`` header with a huge shape), and a central directory of millions of tiny entries costs memory to parse. So,
in this order, from the file's bytes on disk and never from its decompressed data:

1. the end-of-central-directory record: the number of entries and the directory's size (before ``zipfile``
   parses the directory);
2. every entry: a plain name, stored or deflated, not encrypted, its declared size; and the sum of the sizes;
3. for an ``.npz``, every member's ``.npy`` header, read by ``numpy.lib.format`` from the member's stream (at
   most the header's own bytes are decompressed): a plain numeric dtype (no object arrays, no records), a
   shape whose size matches the member's declared size exactly, and the total number of elements.

Only then may ``np.load(allow_pickle=False)`` read the file: it allocates no more than was declared and checked.
"""
from __future__ import annotations

import io
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

END_RECORD = b"PK\x05\x06"
END_RECORD_SIZE = 22
MAX_COMMENT = 65535
DIRECTORY_ENTRY_BYTES = 1024   # a central-directory entry with a generous name and extra field
MAX_HEADER_BYTES = 65536       # numpy's own limit for a version 2 header is far larger; savez writes < 1 KiB
MAX_DIMENSIONS = 8
NUMERIC_KINDS = "biuf"


class ArchiveRefused(ValueError):
    """The archive breaks a bound or is not what the grader accepts; the message says which, for the student."""


@dataclass(frozen=True)
class ArrayHeader:
    """One ``.npy`` member as its header declares it."""

    dtype: np.dtype
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        count = 1
        for n in self.shape:
            count *= n
        return count


def _end_record(data: bytes, name: str) -> tuple[int, int, int]:
    """(entries, directory size, directory offset) from the end-of-central-directory record of ``data``."""
    start = data.rfind(END_RECORD, max(0, len(data) - END_RECORD_SIZE - MAX_COMMENT))
    if start < 0 or len(data) - start < END_RECORD_SIZE:
        raise ArchiveRefused(f"{name} is not a zip archive (np.savez and torch.save write one)")
    _, disk, _, _, entries, size, offset, _ = struct.unpack("<4sHHHHIIH", data[start:start + END_RECORD_SIZE])
    if disk != 0 or entries == 0xFFFF or size == 0xFFFFFFFF or offset == 0xFFFFFFFF:
        raise ArchiveRefused(f"{name} is a multi-part or ZIP64 archive, which a saved model of this size never is")
    return entries, size, offset


def check_zip(data: bytes, name: str, max_members: int, max_bytes: int) -> list[zipfile.ZipInfo]:
    """The entries of the zip archive ``data``, after checking every bound that parsing and reading it needs.

    Parameters
    ----------
    data : bytes
        The whole file (already bounded in size by the caller).
    name : str
        The file's name, for messages.
    max_members : int
        Most entries allowed.
    max_bytes : int
        Most bytes all entries may declare once decompressed, together.

    Returns
    -------
    list of zipfile.ZipInfo

    Raises
    ------
    ArchiveRefused
        Not a zip, too many entries, a directory or declared sizes past the bounds, a repeated or unsafe name,
        encryption or an unusual compression method.
    """
    entries, directory_size, _ = _end_record(data, name)
    if entries > max_members or directory_size > max_members * DIRECTORY_ENTRY_BYTES:
        raise ArchiveRefused(f"{name} has {entries} entries in a {directory_size}-byte directory; the grader reads "
                             f"at most {max_members} entries")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as error:
        raise ArchiveRefused(f"{name} is not a readable zip archive ({error})") from None
    if len(infos) > max_members:
        raise ArchiveRefused(f"{name} has {len(infos)} entries; the grader reads at most {max_members}")
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise ArchiveRefused(f"{name} holds two entries of the same name")
    total = 0
    for info in infos:
        if info.filename.startswith("/") or ".." in info.filename.split("/") or "\\" in info.filename:
            raise ArchiveRefused(f"{name} has an entry with an unsafe name {info.filename[:60]!r}")
        if info.flag_bits & 0x1:
            raise ArchiveRefused(f"{name}: the entry {info.filename[:60]!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ArchiveRefused(f"{name}: the entry {info.filename[:60]!r} uses compression method "
                                 f"{info.compress_type}; np.savez writes stored or deflated entries only")
        total += info.file_size
        if total > max_bytes:
            raise ArchiveRefused(f"{name} declares more than {max_bytes / 2**20:.0f} MiB of data once unpacked "
                                 f"(a zip bomb, or a model far larger than the grader accepts)")
    return infos


def _npy_header(stream, shown: str, declared_size: int) -> tuple[ArrayHeader, int]:
    """The header of one ``.npy`` member, read from its stream, and the header's length in bytes."""
    head = io.BytesIO(stream.read(min(declared_size, MAX_HEADER_BYTES + 12)))
    try:
        version = np.lib.format.read_magic(head)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(head, max_header_size=MAX_HEADER_BYTES)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(head, max_header_size=MAX_HEADER_BYTES)
        else:
            raise ValueError(f"format version {version}")
    except (ValueError, SyntaxError, TypeError, EOFError) as error:
        raise ArchiveRefused(f"{shown} is not a plain NumPy array ({str(error)[:200]})") from None
    if dtype.hasobject:
        raise ArchiveRefused(f"{shown} is an object array (it would need pickle); save numeric arrays only")
    if dtype.names is not None or dtype.subdtype is not None:
        raise ArchiveRefused(f"{shown} holds records of type {dtype}; save plain numeric arrays only")
    if len(shape) > MAX_DIMENSIONS or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise ArchiveRefused(f"{shown} declares the shape {shape!r:.80}, which no saved parameter has")
    return ArrayHeader(dtype, tuple(shape)), head.tell()


def check_npz(data: bytes, name: str, max_members: int, max_numbers: int,
              text_members: frozenset[str] = frozenset()) -> dict[str, ArrayHeader]:
    """Every array header of the ``.npz`` archive ``data``, checked against the bounds before any array is read.

    Parameters
    ----------
    data : bytes
        The whole file.
    name : str
        The file's name, for messages.
    max_members : int
        Most arrays allowed.
    max_numbers : int
        Most elements allowed in all numeric arrays together.
    text_members : frozenset of str
        Array names (without ``.npy``) that may hold one unicode string of at most 64 KiB (``__config__``).

    Returns
    -------
    dict of array name -> ArrayHeader

    Raises
    ------
    ArchiveRefused
        Any bound of ``check_zip`` broken (with room for ``max_numbers`` float64 values), a member that is not an
        ``.npy`` array, an object, record or text array where numbers belong, a declared shape that does not
        match the member's declared size, or more than ``max_numbers`` elements in all.
    """
    text_cap = 65536 * 4
    infos = check_zip(data, name, max_members, max_numbers * 8 + len(text_members) * (text_cap + MAX_HEADER_BYTES)
                      + max_members * (MAX_HEADER_BYTES + 12))
    headers: dict[str, ArrayHeader] = {}
    numbers = 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in infos:
            if not info.filename.endswith(".npy"):
                raise ArchiveRefused(f"{name} holds {info.filename[:60]!r}, which is not a .npy array")
            key = info.filename[:-len(".npy")]
            shown = f"{name}: {key[:60]!r}"
            try:
                with archive.open(info) as stream:
                    header, header_bytes = _npy_header(stream, shown, info.file_size)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
                if isinstance(error, ArchiveRefused):
                    raise
                raise ArchiveRefused(f"{shown} cannot be read ({str(error)[:200]})") from None
            if key in text_members:
                if header.dtype.kind != "U" or header.shape != () or header.dtype.itemsize > text_cap:
                    raise ArchiveRefused(f"{shown} should be one short text string, not {header.dtype} {header.shape}")
            elif header.dtype.kind not in NUMERIC_KINDS:
                raise ArchiveRefused(f"{shown} holds {header.dtype} values; save numeric arrays only")
            else:
                numbers += header.size
                if numbers > max_numbers:
                    raise ArchiveRefused(f"{name} declares more than {max_numbers:,} numbers in all; the grader "
                                         f"accepts models of at most {max_numbers:,} parameters")
            if header_bytes + header.size * header.dtype.itemsize != info.file_size:
                raise ArchiveRefused(f"{shown} declares shape {header.shape} of {header.dtype}, which does not fit "
                                     f"its {info.file_size} bytes")
            headers[key] = header
    return headers


def read_bounded(path: Path, cap: int) -> bytes:
    """The bytes of a file the grader itself wrote (its private copy of a submission's file), at most ``cap``."""
    with open(path, "rb") as handle:
        data = handle.read(cap + 1)
    if len(data) > cap:
        raise ArchiveRefused(f"{Path(path).name} is larger than {cap / 2**20:.0f} MiB")
    return data
