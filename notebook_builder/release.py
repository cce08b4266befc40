"""`make release`: run ``nbgrader generate_assignment`` on the source folder, then zip the student folder.

nbgrader strips solutions and hidden tests from the notebook; the zip is for courses that hand out files through
a learning-management system.
"""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from .build import is_local_artefact

# A fixed timestamp makes the zip byte-identical for identical content (zip cannot store dates before 1980).
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def generate_assignment(course_root: str | Path, assignment: str) -> None:
    """Run ``nbgrader generate_assignment`` in ``course_root`` (which holds ``nbgrader_config.py``).

    Raises
    ------
    subprocess.CalledProcessError
        nbgrader failed; its output has been printed.
    """
    course_root = Path(course_root).resolve()
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ)
    # nbgrader shells out to `alembic` and looks up the `python3` kernel: both must come from this environment.
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("JUPYTER_PATH", str(bin_dir.parent / "share" / "jupyter"))
    command = [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force",
               f"--CourseDirectory.root={course_root}"]
    subprocess.run(command, cwd=course_root, env=env, check=True)


def zip_folder(folder: str | Path, zip_path: str | Path) -> Path:
    """Zip ``folder`` so that it unpacks to a folder of the same name, deterministically.

    Parameters
    ----------
    folder : str or Path
        The released assignment folder.
    zip_path : str or Path
        Where to write the archive (replaced atomically).

    Returns
    -------
    Path
        ``zip_path``.
    """
    folder, zip_path = Path(folder), Path(zip_path)
    partial = zip_path.with_name(zip_path.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder)
            if not path.is_file() or is_local_artefact(relative):
                continue
            entry = zipfile.ZipInfo(f"{folder.name}/{relative.as_posix()}", date_time=ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, path.read_bytes())
    partial.replace(zip_path)
    return zip_path


def build_release(course_root: str | Path, assignment: str) -> Path:
    """Generate ``release/<assignment>/`` and ``release/<assignment>.zip``; return the zip's path."""
    course_root = Path(course_root)
    generate_assignment(course_root, assignment)
    released = course_root / "release" / assignment
    return zip_folder(released, released.with_suffix(".zip"))
