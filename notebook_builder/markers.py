"""Strict parsing of nbgrader's paired markers (``### BEGIN SOLUTION`` / ``### END SOLUTION`` and the hidden-test
pair): every region must be closed, and regions may not nest or overlap.

nbgrader itself silently mis-stubs a notebook whose markers are unbalanced, so the builder refuses it first.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import BuildError


@dataclass(frozen=True)
class MarkerPair:
    """The spelling of one kind of region: ``### BEGIN <word>`` ... ``### END <word>``."""

    word: str

    @property
    def begin(self) -> str:
        return f"### BEGIN {self.word}"

    @property
    def end(self) -> str:
        return f"### END {self.word}"


SOLUTION = MarkerPair("SOLUTION")
HIDDEN_TESTS = MarkerPair("HIDDEN TESTS")
ALL_PAIRS = (SOLUTION, HIDDEN_TESTS)


@dataclass(frozen=True)
class Region:
    """Lines strictly between a begin and an end marker; line numbers are 1-based file lines of the markers."""

    begin_line: int
    end_line: int
    body: tuple[str, ...]


def find_regions(lines: list[str], pair: MarkerPair, path: str | Path, first_line: int = 1) -> list[Region]:
    """Locate the regions of one marker kind and reject malformed, nested, unclosed or unopened markers.

    Parameters
    ----------
    lines : list of str
        The text to scan, one entry per line, without newlines.
    pair : MarkerPair
        Which markers to look for.
    path : str or Path
        File the lines come from (for error messages).
    first_line : int
        File line number of ``lines[0]``.

    Returns
    -------
    list of Region
        In file order.

    Raises
    ------
    BuildError
        With the file and line of the first offending marker.
    """
    regions: list[Region] = []
    open_line: int | None = None
    open_index = 0
    for index, text in enumerate(lines):
        lineno = first_line + index
        stripped = text.strip()
        mentions_begin = f"BEGIN {pair.word}" in text
        mentions_end = f"END {pair.word}" in text
        if not (mentions_begin or mentions_end):
            continue
        # A marker that nbgrader might or might not recognise is worse than a clear error.
        if stripped not in (pair.begin, pair.end):
            raise BuildError(f"malformed marker {stripped!r}: write exactly {pair.begin!r} or {pair.end!r} "
                             f"on a line of its own", path, lineno)
        if stripped == pair.begin:
            if open_line is not None:
                raise BuildError(f"nested {pair.begin!r}: the region opened on line {open_line} is not closed",
                                 path, lineno)
            open_line, open_index = lineno, index
        else:
            if open_line is None:
                raise BuildError(f"{pair.end!r} without a matching {pair.begin!r}", path, lineno)
            regions.append(Region(open_line, lineno, tuple(lines[open_index + 1:index])))
            open_line = None
    if open_line is not None:
        raise BuildError(f"unclosed {pair.begin!r}: no {pair.end!r} follows", path, open_line)
    return regions


def check_absent(lines: list[str], path: str | Path, first_line: int = 1) -> None:
    """Raise BuildError if any nbgrader marker appears in text that must not carry one."""
    for index, text in enumerate(lines):
        for pair in ALL_PAIRS:
            if f"BEGIN {pair.word}" in text or f"END {pair.word}" in text:
                raise BuildError(f"marker {text.strip()!r} is not allowed in this kind of cell",
                                 path, first_line + index)
