"""Pulls one top-level function or class definition out of a reference module, by its ``ast`` line range.

The definition is copied as written (docstring, input checks and solution markers included), so the notebook
always shows exactly the code the autograder's reference runs.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from .errors import BuildError
from .markers import ALL_PAIRS, SOLUTION, find_regions


@dataclass(frozen=True)
class Definition:
    """A definition copied from a reference module.

    name: the function or class name.
    path: the module file; first_line: file line where the definition (or its first decorator) starts.
    source: the definition's text, ending without a newline.
    solution_regions: number of ``### BEGIN SOLUTION`` regions inside it.
    """

    name: str
    path: Path
    first_line: int
    source: str
    solution_regions: int


def module_path(qualname: str, repo_root: Path) -> tuple[Path, str]:
    """Split ``package.module.name`` into the module's file under ``repo_root`` and the definition name."""
    parts = qualname.split(".")
    if len(parts) < 3 or not all(p.isidentifier() for p in parts):
        raise ValueError(f"expected 'reference_impl.<module>.<name>', got {qualname!r}")
    return repo_root.joinpath(*parts[:-1]).with_suffix(".py"), parts[-1]


def extract_definition(qualname: str, repo_root: str | Path, template: str | Path, template_line: int,
                       available: frozenset = frozenset()) -> Definition:
    """Copy the top-level definition ``qualname`` (e.g. ``reference_impl.cnn.ThreeLayerConvNet``).

    Parameters
    ----------
    qualname : str
        Dotted module path plus definition name, relative to ``repo_root``.
    repo_root : str or Path
        Directory that contains the reference package.
    template, template_line : str or Path, int
        Where the directive naming it was written (for errors about the name).
    available : frozenset of str
        Names already defined in the notebook by earlier solution cells; the definition may use them.

    Returns
    -------
    Definition

    Raises
    ------
    BuildError
        Located at the template line if the module or name does not exist; located in the reference module if
        its markers are malformed anywhere in the file or the definition holds no solution region.
    """
    repo_root = Path(repo_root)
    try:
        path, name = module_path(qualname, repo_root)
    except ValueError as error:
        raise BuildError(str(error), template, template_line) from None
    if not path.is_file():
        raise BuildError(f"{qualname!r}: module file {path} does not exist", template, template_line)
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    # Marker problems anywhere in the module break its own tests too; report them where they are.
    for pair in ALL_PAIRS:
        find_regions(lines, pair, path)
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as error:
        raise BuildError(f"cannot parse: {error.msg}", path, error.lineno) from None
    found = [node for node in tree.body
             if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name]
    if not found:
        defined = sorted(n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)))
        raise BuildError(f"{qualname!r}: {path.name} has no top-level function or class {name!r} "
                         f"(it defines: {', '.join(defined) or 'nothing'})", template, template_line)
    node = found[-1]  # Python keeps the last definition of a name
    first = min([node.lineno] + [d.lineno for d in node.decorator_list])
    last = node.end_lineno
    # ast ends a definition at its last statement; indented comments after it (such as a closing
    # '### END SOLUTION') still belong to it.
    while last < len(lines) and (not lines[last].strip() or
                                 (lines[last][:1].isspace() and lines[last].strip().startswith("#"))):
        last += 1
    while not lines[last - 1].strip():
        last -= 1
    body = lines[first - 1:last]
    regions = find_regions(body, SOLUTION, path, first_line=first)
    if not regions:
        raise BuildError(f"{name!r} has no '### BEGIN SOLUTION' region: nothing would be left for students to write",
                         path, first)
    _check_self_contained(node, tree, path, available)
    return Definition(name, path, first, "\n".join(body), len(regions))


def _check_self_contained(node: ast.AST, tree: ast.Module, path: Path, available: frozenset = frozenset()) -> None:
    """Reject a definition that calls a helper defined in its own module.

    The notebook receives the definition alone; names the module imports are fine (the notebook's setup cell
    imports the shipped package), and so are ``available`` definitions (graded definitions of earlier
    solution cells), but any other module-level helper or constant would be missing there.
    """
    local = {}
    for top in tree.body:
        if top is node or getattr(top, "name", None) in available:
            continue
        if isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            local[top.name] = top.lineno
        elif isinstance(top, (ast.Assign, ast.AnnAssign)):
            targets = top.targets if isinstance(top, ast.Assign) else [top.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name):
                        local[sub.id] = top.lineno
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load) and sub.id in local:
            raise BuildError(f"{node.name!r} uses {sub.id!r}, defined on line {local[sub.id]} of its module; the "
                             f"notebook copies only {node.name!r}, so write it inline or move it to a shipped "
                             f"module", path, sub.lineno)
