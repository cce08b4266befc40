"""Build ``dist/gradescope/<assignment>/autograder.zip`` following Gradescope's autograder specification.

Gradescope unpacks the zip into ``/autograder/source`` and runs ``setup.sh`` (as root, once, while it builds the
image from its Ubuntu base), then ``run_autograder`` for every submission, with the student's upload in
``/autograder/submission/``; whatever ``/autograder/results/results.json`` holds afterwards is the result.

The zip's root holds:

- ``setup.sh``: installs Python from Ubuntu's packages, makes ``/autograder/venv`` with the kit's grading
  dependencies (the ``grader`` extra of pyproject.toml) and builds the kit in place (its Cython extension);
- ``run_autograder``: makes the kit readable by root only (student code runs as ``nobody`` and must not read
  the reference or the instructor notebook), then runs ``python -m autograder.gradescope_autograder.run``;
- ``kit/``: the grading code (``assignments/``, ``autograder/``, ``reference_impl/``, the packaging files),
  ``source/<assignment>/`` (the instructor notebook and support package), the held-out data if the settings
  name some (``heldout/``), ``grading_settings.json``: the course's GradingSettings for the assignment
  with paths relative to ``kit/``, and how Gradescope shows the hidden cases, and ``.grader_secret`` (mode 0600):
  a secret derived from the course's grader secret for this assignment's autograder alone (the course's own
  secret is never packed), from which each Gradescope student's hidden inputs are drawn.

None of this is shown to students: Gradescope shows them only results.json, which carries what ``make grade``'s
feedback carries (hidden cases' data only with ``reveal_hidden``).
"""
from __future__ import annotations

import dataclasses
import json
import os
import stat
import zipfile
from pathlib import Path
from typing import Any

import assignments

from ..secret import SECRET_FILE, derived_secret, load_or_create_secret, secret_text
from ..settings import GradingSettings

DIST_DIR = Path("dist") / "gradescope"
ZIP_NAME = "autograder.zip"
KIT = "kit"
SETTINGS_FILE = "grading_settings.json"
HELDOUT = "heldout"
# Gradescope's visibilities (its specification: "hidden", "after_due_date", "after_published", "visible").
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
DEFAULT_HIDDEN_VISIBILITY = "after_published"
# What the kit needs to grade; everything else of the repository (tests, templates, release/) stays out.
_KIT_FILES = ("pyproject.toml", "setup.py", "README.md")
_KIT_PACKAGES = ("assignments", "autograder", "reference_impl")
_NEVER = {"__pycache__", "build", ".cache", SECRET_FILE}  # a course's own grader secret is never packed
_NEVER_SUFFIXES = (".so", ".pyd", ".c", ".pyc")

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, on its Ubuntu base image, while it builds the autograder's image.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-dev build-essential util-linux
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --upgrade pip
# The kit is installed in place (editable): the reference stays in /autograder/source/kit, which
# run_autograder makes readable by root only, instead of being copied where student code could read it.
/autograder/venv/bin/pip install -e "/autograder/source/kit[grader]"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission: grade /autograder/submission/, write /autograder/results/results.json.
# AUTOGRADER_ROOT and AUTOGRADER_PYTHON let a test run it outside Gradescope, in a folder laid out the same way.
set -uo pipefail
root="${AUTOGRADER_ROOT:-/autograder}"
python="${AUTOGRADER_PYTHON:-$root/venv/bin/python}"
kit="$root/source/kit"
# Student code runs as `nobody` in the sandbox: it must not read the grader, the reference or the instructor's
# notebook, nor change them before this process imports them.
chmod -R go-rwx "$root/source" 2>/dev/null || true
mkdir -p "$root/results"
cd "$kit" && exec "$python" -m autograder.gradescope_autograder.run --root "$root"
"""


def _kit_members(repo_root: Path, record: assignments.Assignment, settings: GradingSettings) -> dict[str, Path]:
    """Archive name (under kit/) -> file to copy."""
    members: dict[str, Path] = {}

    def add_tree(folder: Path, prefix: str) -> None:
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder)
            if (path.is_file() and not path.is_symlink() and not _NEVER & set(relative.parts)
                    and not path.name.endswith(_NEVER_SUFFIXES)):
                members[f"{prefix}/{relative.as_posix()}"] = path

    for name in _KIT_FILES:
        if (repo_root / name).is_file():
            members[name] = repo_root / name
    for package in _KIT_PACKAGES:
        add_tree(repo_root / package, package)
    add_tree(Path(settings.source_notebook).parent, f"source/{record.name}")
    if settings.heldout_dir is not None:
        add_tree(Path(settings.heldout_dir), f"{HELDOUT}/{Path(settings.heldout_dir).name}")
    return members


def kit_settings(settings: GradingSettings, hidden_visibility: str) -> dict[str, Any]:
    """The JSON document of `grading_settings.json`: every GradingSettings field, paths relative to kit/."""
    values = dataclasses.asdict(settings)
    values["source_notebook"] = f"source/{settings.assignment}/{Path(settings.source_notebook).name}"
    values["secret_file"] = SECRET_FILE
    if settings.heldout_dir is not None:
        values["heldout_dir"] = f"{HELDOUT}/{Path(settings.heldout_dir).name}"
    return {"settings": values, "hidden_visibility": hidden_visibility}


def gradescope_secret(settings: GradingSettings) -> bytes:
    """The grader secret the zip carries: derived from the course's (created on first use) for this assignment's
    Gradescope autograder only, so the zip never holds the course's own secret, and a rebuilt zip keeps every
    Gradescope student's hidden inputs."""
    return derived_secret(load_or_create_secret(settings.secret_file), f"gradescope\0{settings.assignment}")


def build_autograder_zip(repo_root: Path, settings: GradingSettings, dest: Path | None = None,
                         hidden_visibility: str = DEFAULT_HIDDEN_VISIBILITY) -> Path:
    """Write the assignment's autograder.zip; returns its path.

    Parameters
    ----------
    repo_root : Path
        The kit's repository (its grading code is packed).
    settings : GradingSettings
        The assignment's settings (``settings.assignment``); their instructor notebook and held-out data go in.
    dest : Path, optional
        The zip file; default ``<repo_root>/dist/gradescope/<assignment>/autograder.zip``.
    hidden_visibility : str
        Gradescope visibility of the hidden cases (one of VISIBILITIES); visible cases are "visible".

    Raises
    ------
    FileNotFoundError
        The instructor notebook does not exist (run `make source`), or the held-out folder is missing.
    ValueError
        An unknown visibility.
    """
    if hidden_visibility not in VISIBILITIES:
        raise ValueError(f"hidden case visibility must be one of {', '.join(VISIBILITIES)}; "
                         f"got {hidden_visibility!r}")
    record = assignments.get(settings.assignment)
    repo_root = Path(repo_root).resolve()
    if not Path(settings.source_notebook).is_file():
        raise FileNotFoundError(f"the instructor notebook {settings.source_notebook} does not exist: "
                                f"run `make source ASSIGNMENT={record.name}` first")
    if settings.heldout_dir is not None and not Path(settings.heldout_dir).is_dir():
        raise FileNotFoundError(f"the held-out data folder {settings.heldout_dir} named by the settings is missing")
    dest = Path(dest) if dest is not None else repo_root / DIST_DIR / record.name / ZIP_NAME
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER)):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFREG | 0o755) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text)
        for name, path in sorted(_kit_members(repo_root, record, settings).items()):
            archive.write(path, f"{KIT}/{name}")
        archive.writestr(f"{KIT}/{SETTINGS_FILE}", json.dumps(kit_settings(settings, hidden_visibility), indent=1,
                                                              default=str))
        info = zipfile.ZipInfo(f"{KIT}/{SECRET_FILE}", date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = (stat.S_IFREG | 0o600) << 16
        archive.writestr(info, secret_text(gradescope_secret(settings)))
    os.replace(partial, dest)
    return dest
