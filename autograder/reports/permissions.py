"""Who may read the reports: every file under grades/ gets one configured mode (GradingSettings.report_mode).

Atomic writes create their files with mode 0600 (a private temporary file renamed into place), which would
keep a TA group out of the feedback pages; the whole folder is set to the configured mode after each run.
"""
from __future__ import annotations

import os
from pathlib import Path


def folder_mode(file_mode: int) -> int:
    """The folder mode matching `file_mode`: whoever may read a file may also enter its folder."""
    return file_mode | 0o700 | ((file_mode & 0o044) >> 2)


def share_reports(folder: Path, file_mode: int) -> None:
    """Give every file under `folder` `file_mode`, and every folder (itself included) `folder_mode(file_mode)`.

    Parameters
    ----------
    folder : Path
        The reports folder (grades/); symbolic links are left alone.
    file_mode : int
        Permission bits, e.g. 0o640.
    """
    folder = Path(folder)
    os.chmod(folder, folder_mode(file_mode))
    for root, folders, files in os.walk(folder):
        for name in folders:
            path = Path(root) / name
            if not path.is_symlink():
                os.chmod(path, folder_mode(file_mode))
        for name in files:
            path = Path(root) / name
            if not path.is_symlink():
                os.chmod(path, file_mode)
