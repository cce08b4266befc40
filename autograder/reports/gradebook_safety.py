"""Keep the nbgrader gradebook safe around our writes: it holds the manual grades, which exist nowhere else.

- `check_gradebook` refuses a damaged database (not SQLite, failing SQLite's own check, zero bytes, or missing
  nbgrader's tables) with a message saying what to do, so that a run stops before it writes anything;
  nbgrader itself would silently create a fresh, empty gradebook over a zero-byte file.
- `backed_up` copies the database (with SQLite's online backup, so the copy is consistent) into
  ``gradebook-backups/`` beside it before a write, keeps the newest few copies, and puts the copy back when
  the write fails or is interrupted.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
from contextlib import closing, contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

BACKUP_DIR = "gradebook-backups"
# Tables nbgrader's gradebook always has (nbgrader/api.py); a database without them is not a gradebook.
_GRADEBOOK_TABLES = frozenset({"assignment", "notebook", "grade_cells", "student", "submitted_assignment", "grade"})
# SQLite side files of an interrupted transaction: stale after a restore, and harmful if replayed on it.
_SIDE_FILES = ("-journal", "-wal", "-shm")


class GradebookDamaged(ValueError):
    """The gradebook cannot be trusted; nothing was written. The message says what to do."""


def sqlite_file(db_url: str) -> Path | None:
    """The database file of a ``sqlite:///`` URL, or None for any other database (not checked here)."""
    prefix = "sqlite:///"
    return Path(db_url[len(prefix):]) if db_url.startswith(prefix) else None


def backups(db_path: Path) -> list[Path]:
    """Backups of `db_path`, oldest first."""
    folder = Path(db_path).parent / BACKUP_DIR
    return sorted(folder.glob(f"{Path(db_path).stem}-*{Path(db_path).suffix}")) if folder.is_dir() else []


def _advice(db_path: Path) -> str:
    saved = backups(db_path)
    restore = (f"Copy the newest backup, {saved[-1]}, over it" if saved
               else "Restore it from your own backup")
    return (f"{restore}, or, if it never held grades, delete it and run `make release`. Nothing was written: "
            f"no reports, no gradebook entries.")


def check_gradebook(db_path: Path) -> None:
    """Raise GradebookDamaged unless `db_path` is missing (nothing to protect) or a sound nbgrader gradebook.

    Parameters
    ----------
    db_path : Path
        The gradebook's SQLite file.

    Raises
    ------
    GradebookDamaged
        Zero bytes, not a SQLite database, failing ``PRAGMA quick_check``, or without nbgrader's tables.
    """
    db_path = Path(db_path)
    if not db_path.exists():
        return
    if db_path.stat().st_size == 0:
        raise GradebookDamaged(f"the gradebook {db_path} is empty (0 bytes); nbgrader would replace it with a new "
                               f"one and every manual grade would be lost. {_advice(db_path)}")
    try:
        # Read-only: checking must never change the file it checks.
        with closing(sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            verdict = db.execute("PRAGMA quick_check").fetchone()[0]
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as error:
        raise GradebookDamaged(f"the gradebook {db_path} cannot be read as a SQLite database ({error}). "
                               f"{_advice(db_path)}") from None
    if verdict != "ok":
        raise GradebookDamaged(f"the gradebook {db_path} is damaged (SQLite check: {verdict}). {_advice(db_path)}")
    missing = sorted(_GRADEBOOK_TABLES - tables)
    if missing:
        raise GradebookDamaged(f"{db_path} is a SQLite database but not an nbgrader gradebook (no table "
                               f"{', '.join(missing)}). {_advice(db_path)}")


def back_up(db_path: Path, keep: int) -> Path:
    """Copy `db_path` to ``gradebook-backups/<stem>-<UTC time><suffix>`` beside it; keep the newest `keep`."""
    db_path = Path(db_path)
    folder = db_path.parent / BACKUP_DIR
    folder.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    target = folder / f"{db_path.stem}-{stamp}{db_path.suffix}"
    partial = target.with_name(target.name + ".partial")
    with closing(sqlite3.connect(db_path)) as source, closing(sqlite3.connect(partial)) as copy:
        source.backup(copy)
    shutil.copymode(db_path, partial)  # a copy of everyone's grades is no more readable than the original
    os.replace(partial, target)
    for old in backups(db_path)[:-keep]:
        old.unlink()
    return target


def restore(backup: Path, db_path: Path) -> None:
    """Put `backup` back as `db_path` atomically and drop the side files of the failed write."""
    db_path = Path(db_path)
    partial = db_path.with_name(f".{db_path.name}.restoring")
    partial.write_bytes(Path(backup).read_bytes())
    shutil.copymode(backup, partial)
    os.replace(partial, db_path)
    for suffix in _SIDE_FILES:
        db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)


@contextmanager
def backed_up(db_path: Path | None, keep: int = 5) -> Iterator[Path | None]:
    """Back up the gradebook for the block; restore it if the block raises (Ctrl-C included), then re-raise.

    Parameters
    ----------
    db_path : Path or None
        The gradebook's SQLite file; None or a missing file: nothing to back up (the block still runs).
    keep : int
        How many backups to keep (at least 1).

    Yields
    ------
    Path or None
        The backup made, if any.
    """
    if db_path is None or not Path(db_path).is_file():
        yield None
        return
    backup = back_up(Path(db_path), max(1, keep))
    try:
        yield backup
    except BaseException:
        restore(backup, Path(db_path))
        raise
