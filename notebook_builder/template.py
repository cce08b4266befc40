"""Reads a Jupytext percent-format template into cells that carry one builder directive each.

A directive is a key of the ``# %%`` header line, for example::

    # %% solution="reference_impl.conv_naive.conv_forward_naive"
    # %% test="conv_forward_naive"
    # %% [markdown] answer="answer_naive_speed"

Jupytext does the parsing; this module adds file line numbers (for error messages) and checks the directives.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import jupytext

from .errors import BuildError

# directive -> (cell type it applies to, what its value names)
DIRECTIVES = MappingProxyType({
    "solution": ("code", "qualified name of a graded function or class in reference_impl"),
    "student_code": ("code", "grade id of a solution cell written in the template, with solution markers"),
    "test": ("code", "graded item whose autograded test cell this is"),
    "readonly": ("code", "grade id of a locked cell of provided code"),
    "answer": ("markdown", "grade id of a written answer graded by hand"),
})
_HEADER = re.compile(r"^# %%")
_GRADE_ID = re.compile(r"^[A-Za-z0-9_-]{1,59}$")  # 59 leaves room for the "test_" prefix within nbformat's 64
# Keys Jupytext itself adds to record the file's layout; they are not directives.
_JUPYTEXT_LAYOUT_KEYS = frozenset({"lines_to_next_cell", "lines_to_end_of_cell_marker", "cell_marker"})


@dataclass(frozen=True)
class TemplateCell:
    """One cell of the template.

    cell_type: "code" or "markdown".
    directive, value: the directive key and its value, or None and "" for a plain cell.
    source: the cell text as it will appear in the notebook.
    line: 1-based file line of the cell's ``# %%`` header.
    raw_lines: the file lines from the header to the next header, for locating markers.
    """

    cell_type: str
    directive: str | None
    value: str
    source: str
    line: int
    raw_lines: tuple[str, ...]

    def locate(self, text: str, occurrence: int = 0) -> int:
        """File line of the ``occurrence``-th raw line containing ``text`` (the header line if absent)."""
        seen = 0
        for offset, raw in enumerate(self.raw_lines):
            if text in raw:
                if seen == occurrence:
                    return self.line + offset
                seen += 1
        return self.line


def read_template(path: str | Path) -> list[TemplateCell]:
    """Parse a percent-format template.

    Parameters
    ----------
    path : str or Path
        The ``.py`` template.

    Returns
    -------
    list of TemplateCell
        In file order.

    Raises
    ------
    BuildError
        Content before the first ``# %%`` header, an unknown directive, more than one directive on a cell,
        an empty directive value, or a directive on the wrong cell type; located by file and line.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    file_lines = text.splitlines()
    headers = [i for i, line in enumerate(file_lines) if _HEADER.match(line)]
    first_content = next((i for i, line in enumerate(file_lines) if line.strip()), None)
    if first_content is None:
        raise BuildError("template is empty", path)
    if not headers or headers[0] != first_content:
        raise BuildError("a template must start with a '# %%' cell header", path, first_content + 1)
    notebook = jupytext.reads(text, fmt="py:percent")
    if len(notebook.cells) != len(headers):
        # Jupytext split the file differently from the headers we found, so line numbers would lie.
        raise BuildError(f"found {len(headers)} '# %%' headers but Jupytext read {len(notebook.cells)} cells; "
                         f"is a '# %%' line hidden inside a string?", path)
    bounds = headers + [len(file_lines)]
    cells = []
    for index, cell in enumerate(notebook.cells):
        line = headers[index] + 1
        raw = tuple(file_lines[bounds[index]:bounds[index + 1]])
        directive, value = _directive(cell.metadata, cell.cell_type, path, line)
        cells.append(TemplateCell(cell.cell_type, directive, value, cell.source, line, raw))
    return cells


def _directive(metadata: dict, cell_type: str, path: Path, line: int) -> tuple[str | None, str]:
    keys = sorted(k for k in metadata if k not in _JUPYTEXT_LAYOUT_KEYS)
    unknown = [k for k in keys if k not in DIRECTIVES]
    if unknown:
        raise BuildError(f"unknown directive {unknown[0]!r}; known: {', '.join(sorted(DIRECTIVES))}", path, line)
    if len(keys) > 1:
        raise BuildError(f"one directive per cell; found {', '.join(keys)}", path, line)
    if not keys:
        return None, ""
    key = keys[0]
    value = metadata[key]
    wanted_type, meaning = DIRECTIVES[key]
    if not isinstance(value, str) or not value.strip():
        raise BuildError(f"directive {key!r} needs a non-empty string value: the {meaning}", path, line)
    if cell_type != wanted_type:
        raise BuildError(f"directive {key!r} belongs on a {wanted_type} cell, not a {cell_type} cell", path, line)
    value = value.strip()
    # Grade ids double as nbformat cell ids, which allow only these characters.
    if key != "solution" and not _GRADE_ID.match(value):
        raise BuildError(f"directive {key!r}: {value!r} is not a valid grade id (letters, digits, '_' and '-', "
                         f"at most 59 characters)", path, line)
    return key, value
