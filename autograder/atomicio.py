"""Atomic file writes: a reader (or a re-run after a crash) sees the old file or the new one, never half of one.

Every file the grading pipeline writes goes through here: the data goes to a temporary file in the target's
own directory (so the final rename never crosses a file system), is flushed to disk, and then replaces the
target with `os.replace`, which is atomic on POSIX and Windows.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically, creating the parent directories.

    Parameters
    ----------
    path : Path
        Destination file.
    data : bytes
        The complete new content.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        # Leave no stray temporary behind when the write itself fails (disk full, interrupted).
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` atomically; see `atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, document: Any) -> None:
    """Write `document` as indented, key-sorted JSON so that equal documents give byte-identical files."""
    atomic_write_text(path, json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
