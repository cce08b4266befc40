"""Helpers for the notebook tests: running notebooks and nbgrader in the project's environment on tiny data."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def grading_env(cifar10_dir: Path) -> dict:
    """Environment of a kernel in small-data mode on the tiny data set, with the NumPy im2col (nothing built)."""
    env = dict(os.environ)
    env.update(CONVKIT_SMALL_DATA="1", CIFAR10_DIR=str(cifar10_dir), CONVKIT_NO_CYTHON="1",
               PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg",
               PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
               JUPYTER_PATH=str(VENV_BIN.parent / "share" / "jupyter"))
    return env


def execute(notebook_path: Path, env: dict, timeout: int = 120) -> nbformat.NotebookNode:
    """Run every cell in the notebook's folder, continuing after errors; return the executed notebook."""
    notebook = nbformat.read(notebook_path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(notebook_path.parent)}})
    client.execute(env=env)
    return notebook


def grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def errors_by_cell(notebook) -> dict[str, str]:
    """Cell key (grade id, else cell id) -> 'ExceptionName: message' for every cell that raised."""
    found = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                found[grade_id(cell) or cell.id] = f"{output.ename}: {output.evalue}"
    return found


def stderr_by_cell(notebook) -> dict[str, str]:
    found = {}
    for cell in notebook.cells:
        text = "".join(o.text for o in cell.get("outputs", []) if o.output_type == "stream" and o.name == "stderr")
        if text:
            found[grade_id(cell) or cell.id] = text
    return found


def save_small_experiment_model(folder: Path) -> Path:
    """A stand-in for a student's trained model: what the experiment section leaves next to the notebook."""
    from assignments.convnets import EXPERIMENT_FILE
    from reference_impl.cnn import ThreeLayerConvNet
    from reference_impl.model_io import save_experiment_model
    kwargs = dict(num_filters=4, filter_size=3, hidden_dim=10)
    return save_experiment_model(folder / EXPERIMENT_FILE, ThreeLayerConvNet(seed=0, **kwargs), **kwargs)


def nbgrader(args: list[str], cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)
