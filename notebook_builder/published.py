"""Renders the record's published fixed values into test cells: ``{{ item.name }}`` becomes Python source.

The visible tests of the notebook and the grader's visible cases share these values (``Assignment.published``);
writing them here, at `make source` time, means they are typed once. Rendered forms: ``Linspace`` ->
``np.linspace(start, stop, num=n).reshape(shape)``; nested tuples of numbers -> ``np.array([...])`` with one
innermost row per line; dicts and other plain values -> their ``repr``.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path

from assignments import Linspace

from .errors import BuildError

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w]*)\.([A-Za-z_]\w*)\s*\}\}")


def _nested(value, indent: int) -> str:
    if not isinstance(value, (tuple, list)):
        return repr(float(value)) if isinstance(value, float) else repr(value)
    if all(not isinstance(v, (tuple, list)) for v in value):
        return "[" + ", ".join(_nested(v, 0) for v in value) + "]"
    inner = (",\n" + " " * (indent + 1)).join(_nested(v, indent + 1) for v in value)
    return "[" + inner + "]"


def render_value(value, column: int = 0) -> str:
    """Python source for one published value, continuation lines indented to ``column``."""
    if isinstance(value, Linspace):
        return (f"np.linspace({value.start!r}, {value.stop!r}, num={math.prod(value.shape)})"
                f".reshape({tuple(value.shape)!r})")
    if isinstance(value, (tuple, list)):
        return "np.array(" + _nested(value, column + len("np.array(")) + ")"
    if isinstance(value, Mapping):
        return repr(dict(value))
    return repr(value)


GRADER_CASES = "{{ grader.cases }}"


def grader_cases(assignment: str, item: str) -> str:
    """The hidden-test region's body: the grader's own cases of ``item``, run in the notebook's kernel (see
    ``autograder.cases.in_process``; only its name is written here, nothing is imported at build time)."""
    return (f"# The grader's own cases of {item} (autograder/cases/{assignment}/{item}.py), run in this kernel.\n"
            f"from autograder.cases.in_process import check_item\n"
            f"check_item({assignment!r}, {item!r}, globals())")


def render(source: str, published: Mapping[str, Mapping], path: Path, first_line: int,
           assignment: str = "", item: str = "") -> str:
    """``source`` with every ``{{ item.name }}`` replaced (BuildError naming the known values otherwise); a
    line ``{{ grader.cases }}`` becomes the call that runs the grader's cases of ``item``."""
    lines = source.split("\n")
    for number, line in enumerate(lines):
        if line.strip() == GRADER_CASES:
            if not assignment:
                raise BuildError(f"{GRADER_CASES} needs the assignment's name", path, first_line + number)
            lines[number] = grader_cases(assignment, item)
            continue

        def substitute(match: re.Match) -> str:
            item, name = match.group(1), match.group(2)
            if item not in published or name not in published[item]:
                known = ", ".join(f"{i}.{n}" for i in published for n in published[i]) or "none"
                raise BuildError(f"no published value {item}.{name} in the assignment record; known: {known}",
                                 path, first_line + number)
            return render_value(published[item][name], match.start())
        lines[number] = PLACEHOLDER.sub(substitute, line)
    return "\n".join(lines)
