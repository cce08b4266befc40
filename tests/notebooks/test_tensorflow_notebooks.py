"""The TensorFlow assignment's notebooks: the source runs top to bottom on the tiny data set, the release fails
only in its graded cells with the stubs' NotImplementedError, and no solution line reaches release/."""
import os
import re
import shutil
import zipfile

import nbformat
import pytest

from assignments.tensorflow import OPEN_MODEL_FILE, TENSORFLOW

from notebook_fixtures import REPO, errors_by_cell, execute, grade_id
from test_release_notebook import marked_lines, readable

NOTEBOOK = TENSORFLOW.notebook
CODE_ITEMS = [g.name for g in TENSORFLOW.graded_items if g.runs_code]
GRADED_MODULES = [m.split(".")[-1] for m in TENSORFLOW.support.never_shipped if m.startswith("frameworks.")]
# TensorFlow's import, and one short epoch per training cell on the tiny set, take minutes on a loaded machine.
CELL_TIMEOUT = 600


@pytest.fixture
def tf_env(env):
    # The source notebook's hidden tests call the grader's own cases (autograder.cases.in_process).
    return dict(env, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="2", TF_NUM_INTRAOP_THREADS="1",
                TF_NUM_INTEROP_THREADS="1", MALLOC_ARENA_MAX="2")


def _secrets():
    found = set()
    for module in GRADED_MODULES:
        found.update(marked_lines((REPO / "reference_impl" / "frameworks" / f"{module}.py").read_text(),
                                  "### BEGIN SOLUTION", "### END SOLUTION"))
    source = nbformat.read(REPO / "source" / TENSORFLOW.name / NOTEBOOK, as_version=4)
    for cell in source.cells:
        if cell.cell_type == "code":
            found.update(marked_lines(cell.source, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"))
            found.update(marked_lines(cell.source, "### BEGIN SOLUTION", "### END SOLUTION"))
        elif cell.metadata.get("nbgrader", {}).get("solution"):
            found.update(line.strip() for line in cell.source.splitlines() if line.strip())
    provided = "\n".join(p.read_text() for p in (REPO / "source" / TENSORFLOW.name / "convkit").rglob("*.py"))
    visible = "\n".join(re.sub(r"### BEGIN (SOLUTION|HIDDEN TESTS).*?### END \1", "", c.source, flags=re.S)
                        for c in source.cells if c.cell_type == "code")
    return {line for line in found if len(line) >= 25 and line not in provided and line not in visible}


def _weights_file_stand_in(path):
    """What a student's training leaves next to the notebook, as far as the file check goes: an HDF5 file of
    arrays laid out like a Keras weights file (the stubbed build_open_model never gets to load it)."""
    import h5py
    import numpy as np
    with h5py.File(path, "w") as f:
        f.create_dataset("layers/dense/vars/0", data=np.zeros((4, 10), dtype=np.float32))


def test_no_solution_or_hidden_test_line_reaches_the_release():
    hidden = _secrets()
    assert len(hidden) > 30, "the search must cover the solutions and hidden tests"
    folder = REPO / "release" / TENSORFLOW.name
    texts = {p.relative_to(folder).as_posix(): readable(p.name, p.read_bytes()) for p in folder.rglob("*")
             if p.is_file()}
    with zipfile.ZipFile(REPO / "release" / f"{TENSORFLOW.name}.zip") as archive:
        texts.update({f"zip:{n}": readable(n, archive.read(n)) for n in archive.namelist()})
    assert "requirements.txt" in texts and "tensorflow-cpu==2.21.0" in texts["requirements.txt"]
    for module in TENSORFLOW.support.never_shipped:
        assert not any(name.endswith(module.replace(".", "/") + ".py") for name in texts), module
    for name, text in texts.items():
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            assert marker not in text, f"{name} contains the marker {marker!r}"
        leaked = sorted(line for line in hidden if line in text)
        assert not leaked, f"{name} contains solution or hidden-test lines: {leaked[:3]}"


@pytest.mark.slow
def test_source_notebook_runs_top_to_bottom_on_the_tiny_data(tmp_path, tf_env):
    folder = tmp_path / TENSORFLOW.name
    shutil.copytree(REPO / "source" / TENSORFLOW.name, folder)
    executed = execute(folder / NOTEBOOK, tf_env, timeout=CELL_TIMEOUT)
    assert errors_by_cell(executed) == {}
    # Every graded item's hidden region ran the grader's cases in the kernel, and they all passed.
    printed = "\n".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert "[FAILED]" not in printed and printed.count("[passed]") >= len(CODE_ITEMS)
    assert (folder / "open_model.weights.h5").is_file()


@pytest.mark.slow
def test_release_notebook_fails_only_at_the_stubs(tmp_path, tf_env):
    folder = tmp_path / TENSORFLOW.name
    shutil.copytree(REPO / "release" / TENSORFLOW.name, folder)
    _weights_file_stand_in(folder / OPEN_MODEL_FILE)
    executed = execute(folder / NOTEBOOK, tf_env, timeout=CELL_TIMEOUT)
    errors = errors_by_cell(executed)
    not_stub = {cell: error for cell, error in errors.items() if not error.startswith("NotImplementedError")}
    assert not_stub == {}, "every failure must be a stub's NotImplementedError"
    assert {f"test_{name}" for name in CODE_ITEMS} <= set(errors), "every graded item's test must fail"
    assert not {"setup", "load_data"} & set(errors), "the provided cells before the stubs must run"
    assert not set(errors) & set(CODE_ITEMS), "defining a stubbed function must not fail"
