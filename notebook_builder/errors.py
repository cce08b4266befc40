"""The one exception the builder raises for problems in its inputs."""
from __future__ import annotations

from pathlib import Path


class BuildError(Exception):
    """A problem in a template or a reference module, located by file and 1-based line number.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value.
    path : str or Path
        The file that holds the problem.
    line : int or None
        1-based line number in ``path``, or None when the problem concerns the whole file.
    """

    def __init__(self, message: str, path: str | Path, line: int | None = None):
        self.message = message
        self.path = Path(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else f"{self.path}"
        super().__init__(f"{where}: {message}")
