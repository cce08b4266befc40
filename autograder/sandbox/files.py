"""Files between the grader and a worker (parent side): what the parent writes for it, and how it reads back
what the worker wrote. The messages themselves are defined in ``untrusted.protocol``.

Everything a worker wrote is untrusted: files are opened without following symlinks, capped in size, and
arrays are loaded with ``np.load(allow_pickle=False)`` and copied to plain float64.
"""
from __future__ import annotations

import ast
import io
import json
import os
import shutil
import stat
from pathlib import Path

import numpy as np

from assignments import Assignment

from ..checks import Output
from .untrusted import protocol

MAX_STATUS_BYTES = protocol.MAX_STATUS_BYTES
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
    message = (f"{package}.{module}.{{name}} is disabled while the naive layers are graded: a naive "
               "implementation must compute its result with its own loops, not call the provided fast layers "
               "or im2col")
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
        compiled = tuple(f"{package}/{Path(extra).stem}" for extra in assignment.support.extra_files
                         if any(Path(extra).stem.startswith(m) for m in assignment.support.tripwired))
        files = {k: v for k, v in files.items() if not k.startswith(compiled)}
    return files


def write_lib(folder: Path, assignment: Assignment, naive: bool, source_dir: Path) -> None:
    for relative, content in support_files(assignment, naive, source_dir).items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def read_untrusted(path: Path, cap: int) -> bytes | None:
    """Read a regular file the worker wrote, refusing symlinks, devices and anything over ``cap`` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)  # never block on a FIFO
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > cap:
            return None
        return handle.read(cap + 1)[:cap]


def read_status(path: Path, plain: bool = False) -> dict:
    """A JSON status file written by the worker, as a dict (empty when missing or malformed)."""
    data = read_untrusted(path, MAX_STATUS_BYTES)
    try:
        status = json.loads(data) if data else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    if not isinstance(status, dict):
        return {}
    if plain:
        return status
    if not isinstance(status.get("cases"), dict):
        status["cases"] = {}
    if not isinstance(status.get("cells"), list):
        status["cells"] = []
    return status


def load_outputs(folder: Path, metadata, file_mb: int) -> dict[str, Output]:
    """Outputs of one case as plain float64 arrays: np.load(allow_pickle=False), size-capped, no symlinks."""
    outputs: dict[str, Output] = {}
    if not isinstance(metadata, dict):
        return outputs
    for name, meta in list(metadata.items())[:200]:
        if not isinstance(name, str) or not isinstance(meta, dict):
            continue
        meta = {k: v for k, v in meta.items() if isinstance(k, str) and isinstance(v, (str, int, float, bool, list))}
        array = None
        if not meta.get("error") and "keys" not in meta and "/" not in name and not name.startswith("."):
            data = read_untrusted(folder / f"{name}.npy", file_mb * 1024 * 1024)
            if data is not None:
                try:
                    loaded = np.load(io.BytesIO(data), allow_pickle=False)
                    if type(loaded) is np.ndarray and loaded.dtype.kind in "fiub":
                        array = np.array(loaded, dtype=np.float64, copy=True)
                except (ValueError, OSError, EOFError):
                    array = None
        outputs[name] = Output(array, meta)
    return outputs
