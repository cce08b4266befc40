"""The package layout keeps its promises: the builder and the grader meet only in ``assignments``, the jail's
code imports only the standard library and NumPy, and only one module writes worker operations."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("assignments", "autograder", "notebook_builder", "reference_impl")


def modules(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def imported(path: Path) -> set[str]:
    """Top-level names of every absolute import in a module (relative imports resolved within its package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = path.relative_to(REPO).with_suffix("").parts[:-1]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                names.add((node.module or "").split(".")[0])
            else:
                base = package[:len(package) - node.level + 1]
                names.add(base[0] if base else "")
    return names


@pytest.mark.parametrize("package, forbidden", [("notebook_builder", "autograder"),
                                                ("autograder", "notebook_builder"),
                                                ("assignments", "autograder"),
                                                ("assignments", "notebook_builder")])
def test_builder_and_grader_share_only_the_assignment_records(package, forbidden):
    offenders = [p.relative_to(REPO).as_posix() for p in modules(package) if forbidden in imported(p)]
    assert offenders == [], f"{package} must not import {forbidden}"


def test_code_inside_the_jail_imports_only_the_standard_library_and_numpy():
    untrusted = REPO / "autograder" / "sandbox" / "untrusted"
    siblings = {p.stem for p in untrusted.glob("*.py")}
    allowed = set(sys.stdlib_module_names) | {"numpy"} | siblings
    for path in sorted(untrusted.glob("*.py")):
        absolute = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                absolute.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                absolute.add((node.module or "").split(".")[0])
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 1, f"{path.name} reaches outside untrusted/ with a relative import"
        assert sorted(absolute - allowed) == [], path.name


def _writes_operations(path: Path) -> bool:
    """Whether the module builds a dict literal with an "op" key (a worker operation)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Dict) and any(isinstance(k, ast.Constant) and k.value == "op" for k in node.keys):
            return True
    return False


def test_exactly_one_module_writes_worker_operations():
    writers = [p.relative_to(REPO).as_posix() for package in PACKAGES for p in modules(package)
               if _writes_operations(p)]
    assert writers == ["autograder/cases/ops.py"]


def test_every_graded_item_of_every_assignment_has_its_case_module():
    import assignments
    for record in assignments.ASSIGNMENTS.values():
        for graded in record.graded_items:
            assert (REPO / "autograder" / "cases" / record.name / f"{graded.name}.py").is_file(), graded.name
        assert (REPO / record.template).is_file()
