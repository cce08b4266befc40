"""Notebook code made plain Python for grading: IPython's magics and shell escapes become no-ops, nothing else.

Which lines are magics is decided by IPython's own input transformer (``IPython.core.inputtransformer2``, the one
a Jupyter kernel, and so nbgrader, runs), never by a pattern of our own: a line that starts with ``%`` or ``!``
inside brackets or after a backslash continuation is Python (``x = (1\\n%2)``) and is left exactly as written.
IPython turns each magic into a call on ``get_ipython()``; those calls, and only those, become ``None``. The
trusted parent only transforms text here; nothing is executed.
"""
from __future__ import annotations

import ast
import functools

# Cell magics whose body is Python and runs once as written; any other cell magic's body is not Python.
PYTHON_BODY_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug"})
# The methods IPython's transformer calls for ``%line``, ``!shell``, ``x = !shell`` and ``%%cell`` magics.
MAGIC_CALLS = frozenset({"run_line_magic", "run_cell_magic", "system", "getoutput"})


@functools.lru_cache(maxsize=1)
def _transformer():
    from IPython.core.inputtransformer2 import TransformerManager  # the grader's extras install IPython
    return TransformerManager()


def _magic_call(node: ast.AST) -> str | None:
    """The method name if ``node`` is ``get_ipython().<magic method>(<string constants>)``, else None."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in MAGIC_CALLS and isinstance(node.func.value, ast.Call)
            and isinstance(node.func.value.func, ast.Name) and node.func.value.func.id == "get_ipython"
            and not node.func.value.args and not node.keywords
            and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args)):
        return None
    return node.func.attr


def _char_offset(line: str, byte_offset: int) -> int:
    """``ast`` column offsets count UTF-8 bytes; the index of the same place in the ``str`` line."""
    return len(line.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


def _replace_calls(code: str, calls: list[ast.Call]) -> str:
    """``code`` with each node of ``calls`` (IPython's generated calls) replaced by ``None``."""
    lines = code.splitlines(keepends=True)
    for node in sorted(calls, key=lambda n: (n.lineno, n.col_offset), reverse=True):
        first, last = node.lineno - 1, node.end_lineno - 1
        start = _char_offset(lines[first], node.col_offset)
        end = _char_offset(lines[last], node.end_col_offset)
        lines[first:last + 1] = [lines[first][:start] + "None" + lines[last][end:]]
    return "".join(lines)


def neutralise_magics(source: str) -> str | None:
    """Make notebook code plain Python: IPython magics and ``!shell`` lines become ``None``, all else untouched.

    Parameters
    ----------
    source : str
        One code cell, as written in the notebook.

    Returns
    -------
    str or None
        The cell as Python: exactly ``source`` when it has no magics; otherwise IPython's transformation of it
        with every magic call replaced by ``None`` (``a = !ls`` becomes ``a = None``), and a ``%%time``-like
        cell's body on its own lines. None when the cell is not Python at all (``%%bash``, ``%%writefile``).
        A cell that is not valid Python even after IPython's transformation is returned as written, so that
        running it reports the student's own syntax error.
    """
    transformed = _transformer().transform_cell(source)
    if transformed.rstrip("\n") == source.rstrip("\n"):
        return source
    try:
        tree = ast.parse(transformed)
    except SyntaxError:
        return source
    body = tree.body
    if (len(body) == 1 and isinstance(body[0], ast.Expr) and _magic_call(body[0].value) == "run_cell_magic"
            and len(body[0].value.args) == 3):
        name, _, cell_body = (a.value for a in body[0].value.args)
        if name not in PYTHON_BODY_CELL_MAGICS:
            return None
        inner = neutralise_magics(cell_body)
        return None if inner is None else "\n" + inner  # the magic's line stays a line: tracebacks keep numbers
    calls = [node for node in ast.walk(tree) if _magic_call(node)]
    return _replace_calls(transformed, calls)
