"""Reading a submission folder's files as regular files of their own, never through a link.

A student controls what lies in their folder: a symbolic link (to another student's file, the instructor's copy,
``/dev/zero``), a hard link (st_nlink > 1: the same file under a second name, e.g. another student's experiment
file), a FIFO that would make a read wait forever. Every file the grader takes from a submission is therefore
opened with ``O_NOFOLLOW | O_NONBLOCK`` after an ``lstat``, and ``fstat`` must then show a regular file with one
link, no larger than the cap (``sandbox.readback.open_verified``); only what was verified is read, from that
descriptor. A refusal names the file and says what to do; it costs only what depends on that file.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from ..sandbox.readback import Rejected, open_verified

CHUNK = 1 << 20


# A refusal's message says what the student can do after this marker (``advice`` reads it back).
ADVICE = "What you can do: "
SUBMIT_THE_FILE_ITSELF = ("submit the file itself, saved by your own notebook (a regular file, not a link to a file "
                          "or a second name for one)")


def advice(refusal: str) -> str:
    """What a refusal's message tells the student to do (the text after ``ADVICE``), else
    ``SUBMIT_THE_FILE_ITSELF``."""
    _, marked, said = refusal.partition(ADVICE)
    return said.strip() if marked else SUBMIT_THE_FILE_ITSELF


class RefusedFile(ValueError):
    """A submitted file the grader will not read (the message names it and says why, for the student)."""


def open_submitted(path: Path, cap: int, too_large=None) -> int | None:
    """A read-only descriptor of the submitted regular file ``path`` (at most ``cap`` bytes), None if absent.

    ``too_large(name, size) -> str``, if given, words the refusal of a file over ``cap`` bytes (else
    ``over_cap``'s words); nothing of such a file is read.

    Raises
    ------
    RefusedFile
        ``path`` is a symbolic link, a hard link, a FIFO, a device or another special file, or over ``cap``.
    """
    path = Path(path)
    try:
        fd = open_verified(path, 1 << 62, root=path.parent)
    except Rejected as problem:
        raise RefusedFile(f"{path.name} was refused: {problem}. {ADVICE}{SUBMIT_THE_FILE_ITSELF}") from None
    if fd is None:
        return None
    size = os.fstat(fd).st_size
    if size > cap:
        os.close(fd)
        raise RefusedFile(too_large(path.name, size) if too_large else over_cap(path.name, size, cap))
    return fd


def over_cap(name: str, size: int, cap: int) -> str:
    """The refusal of a submitted file of ``size`` bytes, over the ``cap`` the grader reads."""
    return (f"{name} was refused: it is {size / 2**20:.1f} MiB, over the {cap / 2**20:.1f} MiB the grader reads. "
            f"{ADVICE}save it again with the notebook's own cell (it writes only what is graded) and submit that "
            "file")


def read_submitted(path: Path, cap: int, too_large=None) -> bytes | None:
    """The bytes of a verified submitted file (see ``open_submitted``: ``too_large`` words the refusal of a
    file over ``cap`` bytes), or None when there is none."""
    fd = open_submitted(path, cap, too_large)
    if fd is None:
        return None
    with os.fdopen(fd, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        return handle.read(size + 1)[:size]


def submitted_digest(path: Path, cap: int) -> bytes:
    """SHA-256 of a submitted file's bytes, read only through a verified descriptor (for the result cache).

    A missing or refused file has a digest of its own (the refusal's message), so fixing it regrades.
    """
    try:
        fd = open_submitted(path, cap)
    except RefusedFile as refused:
        return hashlib.sha256(b"refused\0" + str(refused).encode()).digest()
    if fd is None:
        return hashlib.sha256(b"missing").digest()
    digest = hashlib.sha256()
    with os.fdopen(fd, "rb") as handle:
        left = os.fstat(handle.fileno()).st_size
        while left > 0 and (chunk := handle.read(min(CHUNK, left))):
            digest.update(chunk)
            left -= len(chunk)
    return digest.digest()


def private_copies(files: Mapping[str, Path], dest: Path, cap: int) -> tuple[dict[str, Path], dict[str, str]]:
    """Copy every submitted file that passes ``open_submitted`` into the grader's own folder ``dest``.

    Parameters
    ----------
    files : mapping of file name to Path
        The files the assignment's items are graded from, as found in the submission folder.
    dest : Path
        A folder only the grader writes; the copies there are what every later step reads.
    cap : int
        The largest file copied, in bytes.

    Returns
    -------
    copies : dict of file name to Path
        Regular single-link files under ``cap``, copied (absent files are left out).
    refused : dict of file name to str
        The message for each file that was refused (a link, a special file, too large).
    """
    copies: dict[str, Path] = {}
    refused: dict[str, str] = {}
    for name, path in sorted(files.items()):
        try:
            fd = open_submitted(Path(path), cap)
        except RefusedFile as problem:
            refused[name] = str(problem)
            continue
        if fd is None:
            continue
        target = Path(dest) / Path(name).name
        with os.fdopen(fd, "rb") as source, open(target, "wb") as copy:
            size = os.fstat(source.fileno()).st_size
            shutil.copyfileobj(_Limited(source, size), copy, CHUNK)
        copies[name] = target
    return copies, refused


class _Limited:
    """A reader that yields at most ``left`` bytes of ``handle`` (the size ``fstat`` reported)."""

    def __init__(self, handle, left: int):
        self.handle, self.left = handle, left

    def read(self, size: int = -1) -> bytes:
        size = self.left if size is None or size < 0 else min(size, self.left)
        data = self.handle.read(size) if size else b""
        self.left -= len(data)
        return data
