"""What grading runs of a provided (editable, ungraded) cell: its definitions, as nbgrader would have them defined.

nbgrader runs every cell in order, so a helper a student writes into a provided cell (a demo, a plot, a training
cell) is defined when the graded cells run. The grader does not run provided cells whole (they load data, train
and plot for minutes), but it runs their *definitions*, in notebook order, before the graded items: ``def``,
``async def``, ``class``, ``import``, and assignments of plain constants to names (``STEP = 2``,
``conv_param = {"stride": 1, "pad": 1}``). Everything else at the top level of a provided cell is not run, and
what of it the student wrote (statements the instructor's version of the cell does not have) is reported in the
student's feedback with what to move where. Nothing is executed here; the cell is only parsed.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field

DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)
SHOWN_STATEMENTS = 3
SHOWN_CHARACTERS = 60


@dataclass
class ProvidedCell:
    """A provided cell split for grading.

    code: the definitions alone, each on its own original lines (other lines blank), so tracebacks keep the
        notebook's line numbers; empty when there are none.
    not_run: the first line of each statement the student added that is not a definition (not run).
    syntax_error: the parser's message when the cell is not Python (then nothing of it runs).
    """

    code: str = ""
    not_run: list[str] = field(default_factory=list)
    syntax_error: str = ""


def _names_only(target: ast.expr) -> bool:
    if isinstance(target, ast.Name):
        return True
    return isinstance(target, (ast.Tuple, ast.List)) and all(_names_only(t) for t in target.elts)


def is_definition(node: ast.stmt) -> bool:
    """A top-level statement nbgrader's run would leave behind as a definition, and that costs nothing to run:
    a function, class or import, or a plain constant (``ast.literal_eval`` accepts it) bound to names."""
    if isinstance(node, DEFINITIONS):
        return True
    if isinstance(node, ast.Assign):
        targets, value = node.targets, node.value
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        targets, value = [node.target], node.value
    else:
        return False
    if not all(_names_only(t) for t in targets):
        return False
    try:
        ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno] + [d.lineno for d in decorators])


def _statements(source: str) -> set[str]:
    """The top-level statements of ``source`` in a layout-free form (``ast.dump``); empty if it does not parse."""
    try:
        return {ast.dump(node) for node in ast.parse(source).body}
    except SyntaxError:
        return set()


def split_provided_cell(source: str, instructor_source: str) -> ProvidedCell:
    """Split a submitted provided cell into what grading runs and what it reports.

    Parameters
    ----------
    source : str
        The submitted cell, already plain Python (magics made no-ops, ``magics.neutralise_magics``).
    instructor_source : str
        The instructor's version of the same cell, in the same form (the student's own statements are those it
        does not have).

    Returns
    -------
    ProvidedCell
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        return ProvidedCell(syntax_error=f"line {error.lineno}: {error.msg}")
    lines = source.splitlines()
    kept: list[ast.stmt] = [node for node in tree.body if is_definition(node)]
    shared_lines = {}
    for node in tree.body:
        for number in range(_first_line(node), node.end_lineno + 1):
            shared_lines[number] = shared_lines.get(number, 0) + 1
    out = [""] * len(lines)
    for node in kept:
        first, last = _first_line(node), node.end_lineno
        if shared_lines[first] > 1 or shared_lines[last] > 1:  # `a = 1; plt.show()`: only this statement's text
            segment = (ast.get_source_segment(source, node) or "").splitlines()
            out[first - 1] = f"{out[first - 1]}; {segment[0]}" if out[first - 1] else segment[0]
            out[first:last] = segment[1:]
            continue
        out[first - 1:last] = lines[first - 1:last]
    instructor = _statements(instructor_source)
    not_run = [(ast.get_source_segment(source, node) or "").splitlines()[0] for node in tree.body
               if not is_definition(node) and ast.dump(node) not in instructor
               and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
               and not isinstance(node, ast.Pass)]
    code = "\n".join(out).rstrip() + "\n" if kept else ""
    return ProvidedCell(code, not_run)


def not_run_message(label: str, cell: ProvidedCell) -> str:
    """The feedback line for a provided cell of which the grader ignored some of the student's code."""
    if cell.syntax_error:
        return (f"{label} is a provided cell that is not valid Python ({cell.syntax_error}); none of it was run "
                "when grading. What you can do: if a graded function needs something from it, fix the cell or move "
                "that code into the function's own solution cell")
    shown = "; ".join(f"`{line[:SHOWN_CHARACTERS]}`" for line in cell.not_run[:SHOWN_STATEMENTS])
    more = len(cell.not_run) - SHOWN_STATEMENTS
    shown += f" and {more} more statement(s)" if more > 0 else ""
    return (f"{label} is a provided cell you edited: your code {shown} there was not run when grading. The grader "
            "runs only the definitions of provided cells (def, class, import, and names set to plain constants). "
            "What you can do: if a graded function needs that code, move it into the function's own solution "
            "cell, or make it a definition (a function or a constant)")
