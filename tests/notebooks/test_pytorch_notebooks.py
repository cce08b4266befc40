"""The PyTorch assignment's generated notebooks: the source runs top to bottom on the tiny data, the release
fails only at its stubs, and no solution line reaches release/pytorch."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from assignments.pytorch import OPEN_MODEL_FILE, PYTORCH
from notebook_builder.build import existing_files, render_source
from notebook_fixtures import REPO, errors_by_cell, execute, grade_id, stderr_by_cell

pytest.importorskip("torch")

NOTEBOOK = PYTORCH.notebook
CODE_ITEMS = [g.name for g in PYTORCH.graded_items if g.runs_code and g.file is None]
GRADED_MODULES = [m.replace(".", "/") for m in PYTORCH.support.never_shipped if m.startswith("frameworks.torch_")]


def save_untrained_open_model(folder):
    """An untrained reference open model's weights, saved the way the notebook saves them."""
    script = ("import torch; from reference_impl.frameworks.torch_open_model import build_open_model; "
              "from reference_impl.frameworks.torch_weights import save_open_model; torch.manual_seed(0); "
              f"save_open_model(build_open_model(), {str(folder / OPEN_MODEL_FILE)!r})")
    subprocess.run([sys.executable, "-c", script], check=True, cwd=REPO)


def test_committed_source_and_release_are_up_to_date():
    fresh = render_source(REPO, PYTORCH)
    committed = existing_files(REPO / "source" / "pytorch")
    stale = sorted(n for n in set(fresh) | set(committed) if committed.get(n) != fresh.get(n))
    assert not stale, f"source/pytorch is out of date for {stale}: run `make source` and commit the result"
    assert (REPO / "release" / "pytorch.zip").is_file()


def test_release_ships_the_frameworks_subpackage_and_the_torch_pin():
    folder = REPO / "release" / "pytorch"
    for module in PYTORCH.support.modules:
        assert (folder / "convkit" / (module.replace(".", "/") + ".py")).is_file(), module
    assert "torch==2.13.0" in (folder / "requirements.txt").read_text().splitlines()
    names = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert not {f"convkit/{m}.py" for m in GRADED_MODULES} & names
    assert OPEN_MODEL_FILE not in names


def test_no_solution_line_reaches_the_release():
    solutions = set()
    for module in GRADED_MODULES:
        text = (REPO / "reference_impl" / f"{module}.py").read_text()
        for block in re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", text, re.S):
            solutions.update(line.strip() for line in block.splitlines() if len(line.strip()) >= 25)
    assert len(solutions) > 15
    released = "\n".join(p.read_text(errors="replace") for p in (REPO / "release" / "pytorch").rglob("*")
                         if p.suffix in (".py", ".ipynb", ".txt"))
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in released
    leaked = sorted(line for line in solutions if line in released)
    assert not leaked, leaked[:3]


@pytest.mark.slow
def test_source_notebook_passes_every_visible_and_hidden_test(tmp_path, env):
    folder = tmp_path / "pytorch"
    shutil.copytree(REPO / "source" / "pytorch", folder, ignore=shutil.ignore_patterns("*.so", "*.c", "build"))
    save_untrained_open_model(folder)
    executed = execute(folder / NOTEBOOK, env, timeout=600)
    assert errors_by_cell(executed) == {}
    graded_stderr = {k: v for k, v in stderr_by_cell(executed).items() if k and k.startswith("test_")}
    assert graded_stderr == {}, "nbgrader scores a test cell with any stderr output as failed"
    outputs = {grade_id(c): "".join(o.get("text", "") for o in c.get("outputs", []))
               for c in executed.cells if grade_id(c)}
    assert "[passed]" in outputs["test_three_layer_convnet"]


@pytest.mark.slow
def test_release_notebook_fails_exactly_at_the_stubs(tmp_path, env):
    folder = tmp_path / "pytorch"
    shutil.copytree(REPO / "release" / "pytorch", folder)
    save_untrained_open_model(folder)
    executed = execute(folder / NOTEBOOK, env, timeout=600)
    errors = errors_by_cell(executed)
    not_stub = {cell: error for cell, error in errors.items() if not error.startswith("NotImplementedError")}
    assert not_stub == {}, "every failure must be a stub's NotImplementedError"
    assert {f"test_{name}" for name in CODE_ITEMS} <= set(errors), "every graded item's test must fail"
    assert not set(errors) & set(CODE_ITEMS), "defining a stubbed function must not fail"
    # Other failing cells are the demonstrations that call a stubbed function (training with it, ...).
    sources = {grade_id(c) or c.id: c.source for c in executed.cells}
    graded = {f"test_{g.name}" for g in PYTORCH.graded_items}
    for key in set(errors) - graded:
        assert any(re.search(rf"\b{name}\(", sources[key]) for name in CODE_ITEMS), (key, sources[key][:300])
    assert not {"setup", "load_data"} & set(errors)
