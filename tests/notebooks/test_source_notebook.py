"""The generated source notebook: up to date, laid out as the autograder expects, and passing its own tests."""
import importlib
import inspect
import shutil

import nbformat
import pytest

from assignments.convnets import CONVNETS, EXPERIMENT_FILE

from notebook_builder.build import existing_files, render_source, source_dir
from notebook_fixtures import REPO, errors_by_cell, execute, grade_id, save_small_experiment_model, stderr_by_cell

GRADED_ITEMS, NOTEBOOK = CONVNETS.graded_items, CONVNETS.notebook
MANUAL_ITEMS = {m.name: m.points for m in CONVNETS.manual_items}

QUALNAMES = {"conv_forward_naive": "conv_naive", "conv_backward_naive": "conv_naive",
             "max_pool_forward_naive": "pool_naive", "max_pool_backward_naive": "pool_naive",
             "ThreeLayerConvNet": "cnn", "spatial_batchnorm_forward": "spatial_norm",
             "spatial_batchnorm_backward": "spatial_norm", "spatial_groupnorm_forward": "spatial_norm",
             "spatial_groupnorm_backward": "spatial_norm"}


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(REPO / source_dir(CONVNETS) / NOTEBOOK, as_version=4)


def test_committed_source_is_up_to_date():
    fresh = render_source(REPO)
    committed = existing_files(REPO / source_dir(CONVNETS))
    stale = sorted(p for p in set(fresh) | set(committed) if fresh.get(p) != committed.get(p))
    assert not stale, f"source/convnets is out of date for {stale}: run `make source` and commit the result"


def test_first_cell_names_its_origin(notebook):
    first = notebook.cells[0]
    assert first.cell_type == "markdown"
    assert "make source" in first.source and "templates/convnets/ConvolutionalNetworks.py" in first.source


def test_grade_ids_and_points_follow_the_spec(notebook):
    cells = {grade_id(c): c for c in notebook.cells if grade_id(c)}
    for item in GRADED_ITEMS:
        solution, test = cells[item.solution_cell_id], cells[item.test_cell_id]
        assert solution.metadata.nbgrader["solution"] and not solution.metadata.nbgrader["grade"]
        assert test.metadata.nbgrader["grade"] and test.metadata.nbgrader["locked"]
        assert test.metadata.nbgrader["points"] == item.points
    for name, points in MANUAL_ITEMS.items():
        assert cells[name].cell_type == "markdown" and cells[name].metadata.nbgrader["points"] == points
    setup = cells["setup"]
    assert setup.metadata.nbgrader["locked"] and "from convkit import *" in setup.source
    assert "from convkit.gradient_check import" in setup.source and "rel_error" in setup.source
    assert f'EXPERIMENT_FILE = "{EXPERIMENT_FILE}"' in setup.source


def test_solution_cells_are_the_reference_definitions(notebook):
    cells = {grade_id(c): c for c in notebook.cells if grade_id(c)}
    for name, module in QUALNAMES.items():
        reference = getattr(importlib.import_module(f"reference_impl.{module}"), name)
        assert cells[name].source == inspect.getsource(reference).rstrip("\n")
        assert "### BEGIN HIDDEN TESTS" in cells[f"test_{name}"].source
    assert set(QUALNAMES) == {g.name for g in GRADED_ITEMS if g.runs_code}


def test_heavy_cells_are_skipped_in_small_data_mode(notebook):
    heavy = [c for c in notebook.cells if c.cell_type == "code" and "Solver(" in c.source
             and ("num_epochs=1," in c.source or grade_id(c) == "experiment")]
    assert len(heavy) == 2
    for cell in heavy:
        assert "if SMALL_DATA:" in cell.source.split("Solver(")[0], "full training must be guarded by SMALL_DATA"


@pytest.mark.slow
def test_source_notebook_passes_every_visible_and_hidden_test(tmp_path, env):
    folder = tmp_path / "convnets"
    shutil.copytree(REPO / source_dir(CONVNETS), folder, ignore=shutil.ignore_patterns("*.so", "*.c", "build", "__pycache__"))
    save_small_experiment_model(folder)
    executed = execute(folder / NOTEBOOK, env)
    assert errors_by_cell(executed) == {}
    graded_stderr = {k: v for k, v in stderr_by_cell(executed).items() if k and k.startswith("test_")}
    assert graded_stderr == {}, "nbgrader scores a test cell with any stderr output as failed"
    outputs = {grade_id(c): "".join(o.get("text", "") for o in c.get("outputs", []))
               for c in executed.cells if grade_id(c)}
    assert "relative error" in outputs["test_conv_forward_naive"]


@pytest.mark.slow
def test_heavy_cells_run_outside_small_data_mode(notebook, tiny_cifar, tmp_path, monkeypatch):
    """The full-training branches never run in grading; run them here, on tiny data with one short epoch."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    import reference_impl.cnn as cnn
    import reference_impl.solver as solver_module
    from reference_impl.data import get_CIFAR10_data, require_data
    from reference_impl.model_io import load_experiment_model, save_experiment_model
    from reference_impl.vis import plot_training_history, visualize_grid

    class ShortSolver(solver_module.Solver):
        def __init__(self, model, data, **kwargs):
            kwargs.update(num_epochs=1, batch_size=10, num_train_samples=10, verbose=False)
            super().__init__(model, data, **kwargs)

    monkeypatch.chdir(tmp_path)  # checkpoints and the saved model land here
    data = get_CIFAR10_data(num_training=20, num_validation=10, num_test=10, cifar10_dir=tiny_cifar)
    namespace = dict(np=np, plt=plt, SMALL_DATA=False, data=data, Solver=ShortSolver, require_data=require_data,
                     ThreeLayerConvNet=cnn.ThreeLayerConvNet, visualize_grid=visualize_grid,
                     plot_training_history=plot_training_history, save_experiment_model=save_experiment_model,
                     EXPERIMENT_FILE="experiment_model.npz")
    heavy = ["num_epochs=1," in c.source or grade_id(c) in ("experiment", "save_experiment") for c in notebook.cells]
    for cell, is_heavy in zip(notebook.cells, heavy):
        if is_heavy:
            exec(compile(cell.source, grade_id(cell) or cell.id, "exec"), namespace)
            plt.close("all")
    assert sum(heavy) == 3
    name, kwargs, params = load_experiment_model(tmp_path / "experiment_model.npz")
    rebuilt = cnn.ThreeLayerConvNet(**kwargs)
    assert name == "ThreeLayerConvNet" and {k: v.shape for k, v in params.items()} == \
        {k: v.shape for k, v in rebuilt.params.items()}
