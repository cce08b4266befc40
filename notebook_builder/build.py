"""`make source`: render the whole ``source/<assignment>/`` folder in memory, then write it.

Rendering in memory first means a build error leaves the previous folder untouched, and lets the tests compare a
fresh build with the committed one byte for byte.
"""
from __future__ import annotations

import fnmatch
from pathlib import Path

import nbformat

import assignments
from assignments import GRADER_SECRET_FILE, Assignment

from .assemble import assemble
from .support import self_check_files, shipped_files
from .template import read_template

SOURCE_ROOT = Path("source")
# Files a build, a compile or a run may leave in the folder; the builder neither writes nor deletes them, and the
# release zip never carries them (the grader secret among them, should one ever be put there).
LOCAL_ARTEFACTS = ("__pycache__", "*.pyc", "*.so", "*.pyd", "*.c", "build", ".ipynb_checkpoints", GRADER_SECRET_FILE)


def notebook_bytes(notebook: nbformat.NotebookNode) -> bytes:
    """Serialise deterministically: nbformat sorts keys; one trailing newline like Jupyter writes."""
    return (nbformat.writes(notebook, version=4).rstrip("\n") + "\n").encode()


def source_dir(assignment: Assignment) -> Path:
    """``source/<assignment>``, relative to the repository."""
    return SOURCE_ROOT / assignment.name


def render_source(repo_root: str | Path, assignment: Assignment | None = None, graded_items=None,
                  manual_items=None) -> dict[str, bytes]:
    """Every file of one assignment's source folder, keyed by relative path.

    Parameters
    ----------
    repo_root : str or Path
        The repository (holding ``templates/``, ``reference_impl/``, ``pyproject.toml``).
    assignment : Assignment, optional
        The assignment's record (default: convnets).
    graded_items, manual_items : optional
        Override the record's items (tests use small fakes).

    Returns
    -------
    dict of str to bytes

    Raises
    ------
    BuildError
        Any template, marker or reference-module problem, located by file and line.
    """
    repo_root = Path(repo_root)
    assignment = assignment or assignments.get("convnets")
    if graded_items is None or manual_items is None:
        graded_items = assignment.graded_items
        manual_items = {m.name: m.points for m in assignment.manual_items}
    template = repo_root / assignment.template
    notebook = assemble(read_template(template), template, repo_root, graded_items, manual_items,
                        published=assignment.published, assignment=assignment.name)
    files = {assignment.notebook: notebook_bytes(notebook)}
    if assignment.support is not None:
        files.update(shipped_files(repo_root, assignment.support, assignment.requirements))
        if assignment.support.self_check:
            files.update(self_check_files(repo_root, assignment.name, assignment.support.name))
    return dict(sorted(files.items()))


def is_local_artefact(relative: Path) -> bool:
    return any(fnmatch.fnmatch(part, pattern) for part in relative.parts for pattern in LOCAL_ARTEFACTS)


def existing_files(folder: str | Path) -> dict[str, bytes]:
    """The generated files currently in ``folder`` (local build artefacts excluded)."""
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not is_local_artefact(p.relative_to(folder))}


def write_tree(files: dict[str, bytes], folder: str | Path) -> list[str]:
    """Make ``folder`` hold exactly ``files`` (plus local artefacts); return the paths that changed."""
    folder = Path(folder)
    changed = []
    for stale in set(existing_files(folder)) - set(files):
        (folder / stale).unlink()
        changed.append(stale)
    for relative, payload in files.items():
        target = folder / relative
        if target.is_file() and target.read_bytes() == payload:
            continue  # keep mtimes of unchanged files, so make and editors stay quiet
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(payload)
        changed.append(relative)
    for directory in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
        if not any(directory.iterdir()):
            directory.rmdir()
    return sorted(changed)


def build_source(repo_root: str | Path, assignment: Assignment | None = None,
                 out_dir: str | Path | None = None) -> list[str]:
    """Render and write one assignment's source folder (default ``source/<assignment>`` under ``repo_root``)."""
    repo_root = Path(repo_root)
    assignment = assignment or assignments.get("convnets")
    return write_tree(render_source(repo_root, assignment), out_dir or repo_root / source_dir(assignment))
