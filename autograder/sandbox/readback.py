"""Reading back what a worker left in its directory (parent side), treating the directory as hostile.

Everything there was written by the student's own process, so every file is opened the same careful way
(``open_verified``): each directory on the way down from a root the parent created is opened with
``O_NOFOLLOW | O_DIRECTORY`` (a symlinked folder leads nowhere), the file itself with ``O_NOFOLLOW |
O_NONBLOCK`` (a FIFO can never make the parent wait), and ``fstat`` must then show a regular file with a single
link (a hard link would let the worker pass off another file's contents as its own) no larger than the cap.
Nothing is read before those checks, and nothing is ever read to find its end: a regular file's size is known.

Arrays are loaded with ``np.load(allow_pickle=False)`` after their header has been checked against the file's
size, and their dtype and shape are taken from that header, never from what the worker's status claims
(``load_outputs``). What the parent loads is charged to ``Budget`` objects (per case, per item, per submission)
before any byte is read, counting each array at its float64 size, the size the parent converts it to.

A breach of any of these rules raises ``Rejected`` with a plain description of what was found; the engine turns
it into zero points on that item only. A file that is simply absent is not a breach (``None``): it fails only
the checks that needed it.
"""
from __future__ import annotations

import io
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..checks import Output
from .untrusted import protocol

MAX_STATUS_BYTES = protocol.MAX_STATUS_BYTES
NPY_MAGIC = b"\x93NUMPY"
MAX_HEADER_BYTES = 65536  # the largest header a version-1 .npy file can have; the worker writes no other
NUMERIC_KINDS = "fiub"
MIB = 1024 * 1024


class Rejected(Exception):
    """What a worker left breaks a rule the parent enforces; the message says what was found, in plain words."""


@dataclass
class Budget:
    """Bytes the parent may still load for one scope ("this test", "this item", "this submission")."""

    limit: int
    scope: str
    used: int = 0

    def charge(self, amount: int, what: str) -> None:
        if self.used + amount > self.limit:
            raise Rejected(f"{what} would take {amount / MIB:.1f} MiB, past the {self.limit / MIB:.1f} MiB the grader "
                           f"loads for {self.scope} ({self.used / MIB:.1f} MiB already loaded)")
        self.used += amount


def _describe_kind(mode: int) -> str:
    for test, words in ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
                        (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"),
                        (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return words
    return "not a regular file"


def open_verified(path: Path, cap: int, root: Path | None = None) -> int | None:
    """A read-only descriptor of the regular file ``path``, or None when it does not exist.

    Every component of ``path`` below ``root`` (default: its own folder) is opened without following links, so a
    symlinked folder or file is refused, and so is anything that is not a regular file with one link of at most
    ``cap`` bytes.

    Raises
    ------
    Rejected
        A link, a FIFO, a device or another special file, a hard-linked file, or a file over ``cap`` bytes.
    """
    path = Path(path)
    root = Path(root) if root is not None else path.parent
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        raise Rejected(f"{path} is outside the worker's folder") from None
    if not parts or any(p in ("", ".", "..") for p in parts):
        raise Rejected(f"{path} is not a plain path inside the worker's folder")
    shown = "/".join(parts)
    try:
        folder = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return None
    try:
        for index, part in enumerate(parts[:-1]):
            try:
                inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=folder)
            except FileNotFoundError:
                return None
            except OSError:  # ELOOP (a symlink) or ENOTDIR (a file or special file where a folder belongs)
                kind = _describe_kind(os.stat(part, dir_fd=folder, follow_symlinks=False).st_mode)
                raise Rejected(f"{'/'.join(parts[:index + 1])} is {kind}, not a folder") from None
            os.close(folder)
            folder = inner
        try:
            # lstat first: a device or FIFO is refused without ever being opened (opening can have effects).
            info = os.stat(parts[-1], dir_fd=folder, follow_symlinks=False)
        except FileNotFoundError:
            return None
        if not stat.S_ISREG(info.st_mode):
            raise Rejected(f"{shown} is {_describe_kind(info.st_mode)}, not a regular file")
        try:
            fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
        except FileNotFoundError:
            return None
        except OSError as error:
            raise Rejected(f"{shown} could not be opened as a regular file ({error.strerror})") from None
    finally:
        os.close(folder)
    info = os.fstat(fd)  # what was opened, whatever was swapped in after the lstat
    problem = ""
    if not stat.S_ISREG(info.st_mode):
        problem = f"{shown} is {_describe_kind(info.st_mode)}, not a regular file"
    elif info.st_nlink != 1:
        problem = f"{shown} is a hard link ({info.st_nlink} names for one file), not a file of its own"
    elif info.st_size > cap:
        problem = f"{shown} is {info.st_size / MIB:.1f} MiB, over the {cap / MIB:.1f} MiB the grader reads"
    if problem:
        os.close(fd)
        raise Rejected(problem)
    return fd


def _read_all(fd: int, size: int) -> bytes:
    """Exactly the ``size`` bytes of a regular file (its size was checked: no read waits or runs on)."""
    with os.fdopen(fd, "rb") as handle:
        return handle.read(size + 1)[:size]


def read_untrusted(path: Path, cap: int, root: Path | None = None) -> bytes | None:
    """The bytes of a regular file the worker wrote (see ``open_verified``), or None when it does not exist.

    Raises ``Rejected`` for links, special files, hard links and files over ``cap`` bytes.
    """
    fd = open_verified(path, cap, root)
    if fd is None:
        return None
    return _read_all(fd, os.fstat(fd).st_size)


def read_status(path: Path, root: Path | None = None) -> dict:
    """A child's JSON status (``protocol.ChildStatus``) as a dict; empty when the file does not exist.

    The worker writes it atomically (a complete JSON object or nothing), so anything else was tampered with.

    Raises
    ------
    Rejected
        The file breaks ``open_verified``'s rules, or is not one JSON object.
    """
    data = read_untrusted(path, MAX_STATUS_BYTES, root)
    if data is None:
        return {}
    try:
        status = json.loads(data)
    except (ValueError, RecursionError):  # JSONDecodeError, bad UTF-8, or nesting deeper than the parser goes
        raise Rejected(f"{Path(path).name} is not the JSON record the grader's worker writes") from None
    if not isinstance(status, dict):
        raise Rejected(f"{Path(path).name} is not the JSON record the grader's worker writes")
    return status


def _header(data: bytes, shown: str) -> tuple[np.dtype, tuple[int, ...], int]:
    """(dtype, shape, header length) of an .npy file's bytes; Rejected unless it is a plain, complete array."""
    if len(data) < 10 or not data.startswith(NPY_MAGIC):
        raise Rejected(f"{shown} is not a NumPy .npy file")
    stream = io.BytesIO(data[:MAX_HEADER_BYTES + 10])
    try:
        version = np.lib.format.read_magic(stream)
        if version != (1, 0):
            raise ValueError(f"format version {version}")
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    except (ValueError, SyntaxError, TypeError) as error:
        raise Rejected(f"{shown} has a header the grader's worker never writes ({error})") from None
    if dtype.hasobject or dtype.kind not in NUMERIC_KINDS or dtype.names is not None:
        raise Rejected(f"{shown} holds {dtype} values, not plain numbers")
    expected = stream.tell() + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if expected != len(data):
        raise Rejected(f"{shown} is {len(data)} bytes long where its header describes {expected}")
    return dtype, tuple(int(n) for n in shape), stream.tell()


# What a worker's status may say about one output (``protocol.OutputInfo``): each field and its type.
OUTPUT_INFO_TYPES = {"type": str, "dtype": str, "shape": list, "subclass": bool, "scalar": bool, "keys": list,
                     "framework": str, "framework_dtype": str, "requires_grad": bool, "error": str}


def _framework_numpy_dtype(name: str) -> np.dtype | None:
    """The NumPy dtype a framework's dtype name stands for ("torch.float32", "float32"), None if none does."""
    try:
        return np.dtype(name.rsplit(".", 1)[-1])
    except (TypeError, ValueError):  # bfloat16 and friends: the worker converted those to float64
        return None


def load_outputs(folder: Path, metadata, file_mb: int, root: Path | None = None, expected=None,
                 budgets: tuple[Budget, ...] = ()) -> dict[str, Output]:
    """Outputs of one case as plain float64 arrays, with dtype and shape measured from their files.

    Parameters
    ----------
    folder : Path
        The case's output folder (``out/<job id>``).
    metadata : dict
        The case record's ``outputs`` from the worker's status: output name -> ``OutputInfo``.
    file_mb : int
        The largest output file read, in MiB.
    root : Path, optional
        The folder the parent created (the worker's directory): no component below it may be a link.
    expected : collection of str, optional
        The output names the job asked for (``cases.ops.output_names``). Given, the parent is strict: any other
        name, more outputs than asked for, a field of the wrong type, or a dtype or shape claim that differs from
        the file's header is ``Rejected``. None (the notebook's in-process self-check): no such checks.
    budgets : tuple of Budget
        Charged with every array's float64 size before it is read.

    Returns
    -------
    dict of output name -> Output
        ``array`` None when the output is missing or unusable; ``meta`` is the worker's description with
        ``dtype`` and ``shape`` replaced by what the file's header says.
    """
    strict = expected is not None
    outputs: dict[str, Output] = {}
    if not isinstance(metadata, dict):
        if strict and metadata is not None:
            raise Rejected("a test's list of outputs is not a mapping")
        return outputs
    if strict:
        unknown = sorted(str(n) for n in metadata if n not in expected)
        if unknown:
            shown = ", ".join(repr(n[:40]) for n in unknown[:3]) + (f" and {len(unknown) - 3} more"
                                                                   if len(unknown) > 3 else "")
            raise Rejected(f"the status lists outputs the test never asked for ({shown}; it asked for "
                           f"{len(expected)})")
    for name, meta in list(metadata.items())[:200]:
        if not isinstance(name, str) or not isinstance(meta, dict):
            if strict:
                raise Rejected(f"the status describes output {str(name)[:40]!r} in a form the worker never writes")
            continue
        if strict:
            wrong = [k for k, v in meta.items() if not isinstance(v, OUTPUT_INFO_TYPES.get(k, ()))
                     or (k == "shape" and not all(type(n) is int and n >= 0 for n in v))
                     or (k == "keys" and not all(isinstance(n, str) for n in v))]
            if wrong:
                raise Rejected(f"the status describes output {name!r} with fields the worker never writes "
                               f"({', '.join(map(repr, wrong[:3]))})")
        meta = {k: v for k, v in meta.items() if isinstance(k, str) and isinstance(v, (str, int, float, bool, list))}
        array = None
        if not meta.get("error") and "keys" not in meta and "/" not in name and not name.startswith("."):
            array = _load_array(folder / f"{name}.npy", meta, file_mb, root, strict, budgets)
        outputs[name] = Output(array, meta)
    return outputs


def _load_array(path: Path, meta: dict, file_mb: int, root, strict: bool, budgets) -> np.ndarray | None:
    """One output file as a float64 array (``meta``'s dtype and shape set from its header); see load_outputs."""
    shown = f"{path.parent.name}/{path.name}"
    try:
        fd = open_verified(path, file_mb * MIB, root)
    except Rejected:
        if strict:
            raise
        return None
    if fd is None:
        return None
    size = os.fstat(fd).st_size
    for budget in budgets:  # the file's own size first: nothing is read past a budget
        try:
            budget.charge(size, f"output {shown}")
        except Rejected:
            os.close(fd)
            raise
    data = _read_all(fd, size)
    try:
        dtype, shape, _ = _header(data, shown)
    except Rejected:
        if strict:
            raise
        return None
    as_float64 = int(np.prod(shape, dtype=np.int64)) * 8
    for budget in budgets:  # then what converting it to float64 adds
        budget.charge(max(0, as_float64 - size), f"output {shown} as float64")
    if strict:
        claimed_dtype, claimed_shape = meta.get("dtype"), meta.get("shape")
        if claimed_dtype is not None and claimed_dtype != str(dtype):
            raise Rejected(f"the status says output {shown} has dtype {claimed_dtype}, but the file holds {dtype}")
        if claimed_shape is not None and [int(n) if isinstance(n, int) else n for n in claimed_shape] != list(shape):
            raise Rejected(f"the status says output {shown} has shape {tuple(claimed_shape)}, but the file holds "
                           f"{shape}")
        framework_dtype = meta.get("framework_dtype")
        if isinstance(framework_dtype, str):
            native = _framework_numpy_dtype(framework_dtype)
            if native is not None and native != dtype:
                raise Rejected(f"the status says output {shown} is a {framework_dtype} tensor, but the file holds "
                               f"{dtype}")
    meta["dtype"], meta["shape"] = str(dtype), list(shape)
    try:
        loaded = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError):
        if strict:
            raise Rejected(f"{shown} could not be read as an array") from None
        return None
    if type(loaded) is not np.ndarray:
        return None
    return np.array(loaded, dtype=np.float64, copy=True)


@dataclass(frozen=True)
class Written:
    """How the parent left one input file for a worker: its identity (device, inode) and size. The worker
    starts after the parent's last change to it (``sealed_ns``, a file-system timestamp)."""

    device: int
    inode: int
    size: int


def written(path: Path) -> Written:
    """The identity of a file the parent has just written for a worker."""
    info = os.stat(path, follow_symlinks=False)
    return Written(info.st_dev, info.st_ino, info.st_size)


def load_input(path: Path, was: Written | None, sealed_ns: int | None, root: Path | None = None,
               budgets: tuple[Budget, ...] = ()) -> Output:
    """An input file the parent wrote, read back after the worker ended, as an ``Output`` (float64 array, dtype
    and shape from its header) for ``checks.UnchangedCheck``.

    ``was`` (the file as the parent wrote it) and ``sealed_ns`` (a file-system time after the parent's last
    change to it, before the worker started): given, a file whose status changed after ``sealed_ns`` was
    written to by the worker, even if its values were put back, and is returned with ``meta["written"]``.
    A file that is missing, or changed size, has no array and says why in ``meta["error"]``.

    Raises
    ------
    Rejected
        The file is a link or a special file (``open_verified``), or another file than the one the parent
        wrote (replaced), or not a plain .npy file.
    """
    shown = f"{Path(path).parent.name}/{Path(path).name}"
    fd = open_verified(path, 1 << 62 if was is not None else 64 * MIB, root)  # a grown file is not read: below
    if fd is None:
        return Output(None, {"error": f"{shown} was deleted"})
    info = os.fstat(fd)
    if was is not None and (info.st_dev, info.st_ino) != (was.device, was.inode):
        os.close(fd)
        raise Rejected(f"in/{shown} was replaced by another file (the grader reads back the input file it "
                       "wrote, to see whether the call modified its input)")
    if was is not None and info.st_size != was.size:
        os.close(fd)
        return Output(None, {"written": True, "error": f"{shown} changed size"})
    changed = sealed_ns is not None and max(info.st_ctime_ns, info.st_mtime_ns) > sealed_ns
    for budget in budgets:
        try:
            budget.charge(info.st_size, f"input {shown}")
        except Rejected:
            os.close(fd)
            raise
    data = _read_all(fd, info.st_size)
    dtype, shape, _ = _header(data, shown)
    loaded = np.load(io.BytesIO(data), allow_pickle=False)
    meta = {"dtype": str(dtype), "shape": list(shape), **({"written": True} if changed else {})}
    return Output(np.array(loaded, dtype=np.float64, copy=True), meta)


__all__ = ["Budget", "MAX_STATUS_BYTES", "OUTPUT_INFO_TYPES", "Rejected", "Written", "load_input", "load_outputs",
           "open_verified", "read_status", "read_untrusted", "written"]
