"""Files between the grader and a worker (parent side): what the parent writes for it (here), and how it reads
back what the worker wrote (``readback``, re-exported here). The messages themselves are defined in
``untrusted.protocol``; ``status_check`` checks a status against the job it answers.
"""
from __future__ import annotations

import ast
import shutil
from pathlib import Path

from assignments import Assignment

from .readback import MAX_STATUS_BYTES, Budget, Rejected, load_outputs, read_status, read_untrusted
from .untrusted import protocol
from .untrusted.tripwire import module_disabled_message

__all__ = ["Budget", "MAX_STATUS_BYTES", "Rejected", "install_worker", "load_outputs", "read_status",
           "read_untrusted", "support_files", "support_package_files", "tripwire_module", "write_lib"]
UNTRUSTED_DIR = Path(__file__).with_name("untrusted")


def install_worker(workdir: Path) -> Path:
    """Copy the jail's code (``untrusted/*.py``) into ``workdir/grader/``; returns the worker script's path."""
    target = workdir / protocol.WORKER_DIR
    target.mkdir(parents=True, exist_ok=True)
    for source in sorted(UNTRUSTED_DIR.glob("*.py")):
        if source.name != "__init__.py":
            shutil.copyfile(source, target / source.name)
    return target / protocol.WORKER_SCRIPT


def support_package_files(assignment: Assignment, source_dir: Path) -> dict[str, bytes]:
    """The support package as students received it: the copy next to the instructor's notebook.

    Raises
    ------
    FileNotFoundError
        The source folder has no such package (a grader configuration error: run `make source`).
    """
    if assignment.support is None:
        return {}
    name = assignment.support.name
    shipped = source_dir / name
    if not shipped.is_dir():
        raise FileNotFoundError(f"{shipped} does not exist: the instructor's source folder must hold the support "
                                f"package students received; run `make source` (a grader configuration error, "
                                "not the student's)")
    return {f"{name}/{p.relative_to(shipped)}": p.read_bytes() for p in shipped.rglob("*")
            if p.is_file() and p.suffix in (".py", ".pyx")}


def tripwire_module(module: str, source: bytes, package: str = "convkit") -> bytes:
    """A stand-in module: every name of the real one raises, saying naive code must not call it."""
    names = [node.name for node in ast.parse(source).body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    message = module_disabled_message(f"{package}.{module}", "{name}")
    lines = [f'"""Tripwires standing in for {package}.{module} while the naive layers are graded."""', "",
             "def _tripwire(name):", "    def disabled(*args, **kwargs):",
             f"        raise RuntimeError({message!r}.format(name=name))", "    return disabled", "",
             "def __getattr__(name):", "    return _tripwire(name)", ""]
    lines += [f"{name} = _tripwire({name!r})" for name in names]
    return ("\n".join(lines) + "\n").encode()


def support_files(assignment: Assignment, naive: bool, source_dir: Path) -> dict[str, bytes]:
    """The support package for the worker; for the naive items its ``tripwired`` modules (and any compiled
    variant of them) are tripwires."""
    files = support_package_files(assignment, source_dir)
    if naive and assignment.support is not None:
        package = assignment.support.name
        for module in assignment.support.tripwired:
            key = f"{package}/{module}.py"
            if key in files:
                files[key] = tripwire_module(module, files[key], package)
        compiled = tuple(f"{package}/{stem}" for stem in assignment.support.compiled_tripwired)
        files = {k: v for k, v in files.items() if not k.startswith(compiled)}
    return files


def write_lib(folder: Path, assignment: Assignment, naive: bool, source_dir: Path) -> None:
    for relative, content in support_files(assignment, naive, source_dir).items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


