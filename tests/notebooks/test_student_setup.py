"""A student's first day, from the committed release/convnets.zip, following the notebook's own instructions.

What this covers: the commands of the notebook's "Getting started" cell (each one in SETUP_COMMANDS must appear
there verbatim), run in order in a temporary folder: a new virtual environment, ``pip install -r
requirements.txt`` (Jupyter included), importing ``convkit`` before the optional build (one warning that says
what is true and what to type), the Cython build, importing it afterwards (compiled backend, no warning), and
small-data mode switched on *inside* the notebook (``USE_SMALL_DATA = True``) with the venv's own Jupyter
running it, without CIFAR-10 anywhere. A second test runs the notebook with no data at all and checks that the
data-using cells stop with one clear message, never a NameError.

What it does not cover, and why: no network but PyPI is available here, and the suite must not download.
The new venv therefore sees the project environment's installed packages through a ``.pth`` file, and pip
runs with ``PIP_NO_INDEX=1``: ``pip install`` must find every requirement already installed and fails instead
of downloading if one is missing. ``python -m convkit.download`` (network) is not run. Activation is done the
way ``activate`` does it: ``VIRTUAL_ENV`` set and the venv's ``bin`` first on ``PATH``. Packages seen through
the ``.pth`` file have their command-line scripts in the project's ``bin``, not the new one, so Jupyter is
started by module (``python -m notebook``, ``python -m nbconvert``) instead of as ``jupyter ...``.
"""
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import nbformat
import pytest

from assignments.convnets import CONVNETS
from notebook_fixtures import REPO, errors_by_cell, execute, grade_id

NOTEBOOK = CONVNETS.notebook

SETUP_COMMANDS = ("python3 -m venv .venv", "python -m pip install -r requirements.txt",
                  "python -m pip install cython setuptools", "python setup.py build_ext --inplace",
                  "jupyter notebook")
SWITCH_OFF, SWITCH_ON = "USE_SMALL_DATA = False", "USE_SMALL_DATA = True"


def getting_started(notebook) -> str:
    return next(c.source for c in notebook.cells if c.cell_type == "markdown" and "Getting started" in c.source)


def unzip_release(tmp_path: Path) -> Path:
    with zipfile.ZipFile(REPO / "release" / "convnets.zip") as archive:
        archive.extractall(tmp_path)
    return tmp_path / "convnets"


def student_env(venv: Path, home: Path) -> dict:
    """A terminal after `source .venv/bin/activate`, with nothing of the project's own set-up in it."""
    keep = {k: v for k, v in os.environ.items() if k in ("LANG", "LC_ALL", "TMPDIR", "CC")}
    return {**keep, "VIRTUAL_ENV": str(venv), "PATH": f"{venv / 'bin'}{os.pathsep}/usr/bin:/bin", "HOME": str(home),
            "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "MPLBACKEND": "Agg",
            "PYTHONDONTWRITEBYTECODE": "1"}


def run(command: str, folder: Path, env: dict, timeout=600) -> subprocess.CompletedProcess:
    result = subprocess.run(command, shell=True, cwd=folder, env=env, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, f"`{command}` failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


IMPORT_PROBE = ("import warnings\n"
                "with warnings.catch_warnings(record=True) as caught:\n"
                "    warnings.simplefilter('always')\n"
                "    import convkit\n"
                "print(convkit.BACKEND)\n"
                "for w in caught: print('WARNING', w.message)\n")


@pytest.mark.slow
def test_fresh_laptop_setup_from_the_zip(tmp_path):
    folder = unzip_release(tmp_path)
    notebook = nbformat.read(folder / NOTEBOOK, as_version=4)
    instructions = getting_started(notebook)
    for command in SETUP_COMMANDS:
        assert f"`{command}`" in instructions, f"the notebook no longer tells students to run `{command}`"
    # Step 1: the venv, made by this Python (`python3` on the student's PATH).
    subprocess.run([sys.executable, "-m", "venv", ".venv"], cwd=folder, check=True, timeout=300)
    venv = folder / ".venv"
    site = Path(subprocess.run([venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()"
                                "['purelib'])"], capture_output=True, text=True, check=True).stdout.strip())
    (site / "project-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = student_env(venv, tmp_path / "home")
    (tmp_path / "home").mkdir()
    # Step 2: requirements, Jupyter included.
    run("python -m pip install -r requirements.txt", folder, env)
    run("python -m notebook --version", folder, env)  # `jupyter notebook`, by module (see the docstring)
    # Before the optional build: NumPy backend, one warning, true and actionable.
    before = run(f"python -c \"{IMPORT_PROBE}\"", folder, env).stdout.splitlines()
    assert before[0] == "numpy" and len(before) == 2, before
    warning = before[1]
    assert "convkit.im2col_cython is not built" in warning
    assert "circular import" not in warning and "pip install -e" not in warning
    assert "`python -m pip install cython setuptools`" in warning and "`python setup.py build_ext --inplace`" in warning
    # Step 3: the optional build, exactly as written.
    run("python -m pip install cython setuptools", folder, env)
    run("python setup.py build_ext --inplace", folder, env)
    assert run(f"python -c \"{IMPORT_PROBE}\"", folder, env).stdout.splitlines() == ["cython"]
    # Small-data mode from inside the notebook, run by the venv's Jupyter; no CIFAR-10 exists anywhere here.
    switch = [c for c in notebook.cells if c.cell_type == "code" and c.source.startswith(SWITCH_OFF)]
    assert len(switch) == 1, "the notebook must have exactly one small-data switch"
    switch[0].source = switch[0].source.replace(SWITCH_OFF, SWITCH_ON, 1)
    nbformat.write(notebook, folder / NOTEBOOK)
    run(f"python -m nbconvert --to notebook --execute --allow-errors --output executed.ipynb {NOTEBOOK}",
        folder, env, timeout=900)
    executed = nbformat.read(folder / "executed.ipynb", as_version=4)
    errors = errors_by_cell(executed)
    assert "load_data" not in errors
    # Before any work, only the stubs fail, and the experiment check (nothing has been trained and saved yet).
    others = {k: e for k, e in errors.items() if not e.startswith("NotImplementedError")}
    assert list(others) == ["test_experiment"] and "experiment_model.npz is missing" in others["test_experiment"], \
        others
    loaded = next("".join(o.get("text", "") for o in c.outputs) for c in executed.cells if grade_id(c) == "load_data")
    assert "small-data mode: True; fast im2col backend: cython" in loaded
    assert "X_train: shape (1350, 3, 32, 32)" in loaded


@pytest.mark.slow
def test_without_data_the_data_cells_say_so(tmp_path):
    folder = unzip_release(tmp_path)
    env = {k: v for k, v in os.environ.items()
           if k not in ("CONVKIT_SMALL_DATA", "NBGRADER_EXECUTION", "CONVKIT_GRADING", "CIFAR10_DIR")}
    env.update(CONVKIT_NO_CYTHON="1", MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
               JUPYTER_PATH=str(Path(sys.executable).parent.parent / "share" / "jupyter"))
    executed = execute(folder / NOTEBOOK, env)
    errors = errors_by_cell(executed)
    assert errors["load_data"].startswith("FileNotFoundError") and SWITCH_ON in errors["load_data"]
    assert not [e for e in errors.values() if e.startswith("NameError")], errors
    needing_data = [grade_id(c) or c.id for c in executed.cells if c.cell_type == "code" and "require_data(" in c.source]
    assert len(needing_data) >= 4
    for key in needing_data:
        assert errors[key].startswith("DataNotLoadedError") and SWITCH_ON in errors[key], (key, errors.get(key))
