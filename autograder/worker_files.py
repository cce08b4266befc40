"""Files between the grader and a worker: what the parent writes for it, and how it reads back what it wrote.

Everything a worker wrote is untrusted: files are opened without following symlinks, capped in size, and
arrays are loaded with ``np.load(allow_pickle=False)`` and copied to plain float64.
"""
from __future__ import annotations

import ast
import functools
import io
import json
import os
import stat
from pathlib import Path

import numpy as np

from .checks import Output
from .settings import COURSE_ROOT

MAX_STATUS_BYTES = 5 * 1024 * 1024
TRIPWIRED_MODULES = ("fast_layers", "im2col")


def convkit_files(source_dir: Path) -> dict[str, bytes]:
    """The support package as students received it: next to the instructor's notebook, else built afresh."""
    shipped = source_dir / "convkit"
    if shipped.is_dir():
        return {f"convkit/{p.relative_to(shipped)}": p.read_bytes() for p in shipped.rglob("*")
                if p.is_file() and p.suffix in (".py", ".pyx")}
    return dict(_built_convkit())


@functools.lru_cache(maxsize=1)
def _built_convkit() -> tuple[tuple[str, bytes], ...]:
    from notebook_builder.support import shipped_files
    return tuple((k, v) for k, v in shipped_files(COURSE_ROOT).items() if k.startswith("convkit/"))


def tripwire_module(module: str, source: bytes) -> bytes:
    """A stand-in module: every name of the real one raises, saying naive code must not call it."""
    names = [node.name for node in ast.parse(source).body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    message = (f"convkit.{module}.{{name}} is disabled while the naive layers are graded: a naive "
               "implementation must compute its result with its own loops, not call the provided fast layers "
               "or im2col")
    lines = [f'"""Tripwires standing in for convkit.{module} while the naive layers are graded."""', "",
             "def _tripwire(name):", "    def disabled(*args, **kwargs):",
             f"        raise RuntimeError({message!r}.format(name=name))", "    return disabled", "",
             "def __getattr__(name):", "    return _tripwire(name)", ""]
    lines += [f"{name} = _tripwire({name!r})" for name in names]
    return ("\n".join(lines) + "\n").encode()


def support_files(naive: bool, source_dir: Path) -> dict[str, bytes]:
    """convkit for the worker; for the naive items its fast layers and im2col are tripwires."""
    files = convkit_files(source_dir)
    if naive:
        for module in TRIPWIRED_MODULES:
            key = f"convkit/{module}.py"
            if key in files:
                files[key] = tripwire_module(module, files[key])
        files = {k: v for k, v in files.items() if "im2col_cython" not in k}
    return files


def with_npy_paths(ops, case_id: str):
    """Map the builders' bare input names to the files written for this case."""
    if isinstance(ops, list):
        return [with_npy_paths(op, case_id) for op in ops]
    if isinstance(ops, dict):
        return {k: (f"in/{case_id}/{v}.npy" if k == "npy" else with_npy_paths(v, case_id)) for k, v in ops.items()}
    return ops


def write_lib(folder: Path, naive: bool, source_dir: Path) -> None:
    for relative, content in support_files(naive, source_dir).items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def read_untrusted(path: Path, cap: int) -> bytes | None:
    """Read a regular file the worker wrote, refusing symlinks, devices and anything over ``cap`` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
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
