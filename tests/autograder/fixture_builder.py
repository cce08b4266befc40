"""Materialise the fixture submissions of tests/autograder/fixtures/ from the instructor's source notebook.

Every fixture is a directory named for the outcome it must get. Its files say how it differs from a base
notebook (the release with the reference solutions filled in, or the untouched release):

- ``<grade id>.py``: new source of that solution or locked cell;
- ``cell_<cell id>.py``: new source of the provided cell (no grade id) with that cell id, as a student edits it;
- ``extra_<n>_after_<grade id>.py``: a code cell the student added after that cell (no nbgrader metadata);
- ``fixture.json`` (optional): ``{"base": "reference" | "release", "items": [...], "metadata": {grade id:
  {key: value}}, "delete": [grade id, ...], "also_affects": [...], "needs_namespaces": bool, "penalised_cases":
  [...]}`` (a ``zero_gain_*`` fixture whose attack hides a bug: it loses exactly the cases whose names contain
  one of these, as the bug alone would, instead of the whole item).

The release is produced here the way nbgrader produces it: solution regions become
``# YOUR CODE HERE`` / ``raise NotImplementedError()`` and hidden-test regions are removed.
"""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import nbformat

from assignments.convnets import CONVNETS
from autograder.intake.notebook_reader import strip_hidden_tests

FIXTURES = Path(__file__).with_name("fixtures")
SOLUTION_REGION = re.compile(r"^([ \t]*)### BEGIN SOLUTION[^\n]*\n.*?^[ \t]*### END SOLUTION[^\n]*\n?", re.S | re.M)
EXTRA = re.compile(r"^extra_(\d+)_after_(.+)\.py$")
PROVIDED = re.compile(r"^cell_(.+)\.py$")


def render_course(folder: Path, record=CONVNETS) -> Path:
    """Write the instructor's source folder (notebook + convkit) under ``folder``; returns the notebook path."""
    from notebook_builder.build import render_source

    target = folder / "source" / record.name
    for relative, content in render_source(Path(__file__).resolve().parents[2], record).items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return target / record.notebook


def _stub(source: str) -> str:
    return SOLUTION_REGION.sub(lambda m: f"{m.group(1)}# YOUR CODE HERE\n{m.group(1)}raise NotImplementedError()\n",
                               source)


def release_and_reference(source_notebook: Path) -> tuple[nbformat.NotebookNode, nbformat.NotebookNode]:
    """The release as students get it, and the same release with the reference solutions filled in."""
    source = nbformat.read(source_notebook, as_version=4)
    release, reference = copy.deepcopy(source), copy.deepcopy(source)
    for released, solved in zip(release.cells, reference.cells):
        meta = released.metadata.get("nbgrader", {})
        if released.cell_type == "code" and meta.get("grade"):
            released.source = solved.source = strip_hidden_tests(released.source)
        elif released.cell_type == "code" and meta.get("solution"):
            released.source = _stub(released.source)
        elif released.cell_type == "markdown" and meta.get("solution"):
            released.source = "YOUR ANSWER HERE"
    return release, reference


def build_fixture(name: str, source_notebook: Path, out_dir: Path, record=CONVNETS, fixtures: Path = FIXTURES) -> Path:
    """Write fixture ``name`` as ``out_dir/<name>/<the record's notebook>``; returns its path."""
    folder = fixtures / name
    config = fixture_config(name, fixtures)
    release, reference = release_and_reference(source_notebook)
    notebook = copy.deepcopy(reference if config.get("base", "reference") == "reference" else release)
    by_id = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in notebook.cells}
    by_cell_id = {cell.get("id"): cell for cell in notebook.cells}
    for path in sorted(folder.glob("*.py")):
        if EXTRA.match(path.name):
            continue
        provided = PROVIDED.match(path.name)
        if provided:
            by_cell_id[provided.group(1)].source = path.read_text()
            continue
        by_id[path.stem].source = path.read_text()
    for grade_id, changes in config.get("metadata", {}).items():
        by_id[grade_id].metadata["nbgrader"].update(changes)
    extras = sorted((int(m.group(1)), m.group(2), p) for p in folder.glob("extra_*.py") if (m := EXTRA.match(p.name)))
    for number, after, path in reversed(extras):
        position = notebook.cells.index(by_id[after]) + 1
        notebook.cells.insert(position, nbformat.v4.new_code_cell(path.read_text(), id=f"student-extra-{number}"))
    notebook.cells = [c for c in notebook.cells
                      if c.metadata.get("nbgrader", {}).get("grade_id") not in config.get("delete", [])]
    target = out_dir / name / record.notebook
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    return target


def fixture_config(name: str, fixtures: Path = FIXTURES) -> dict:
    path = fixtures / name / "fixture.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def fixture_names(fixtures: Path = FIXTURES) -> list[str]:
    return sorted(p.name for p in fixtures.iterdir() if p.is_dir())


def own_items(name: str, record=CONVNETS, fixtures: Path = FIXTURES) -> set[str]:
    """The items a ``loses_*`` or ``zero_gain_*`` fixture targets: fixture.json's ``items``, else the longest item
    name its own name starts with (``loses_three_layer_convnet_init_*`` targets three_layer_convnet_init, not
    three_layer_convnet)."""
    items = set(fixture_config(name, fixtures).get("items", []))
    if not items and name.startswith("loses_"):
        named = [g.name for g in record.graded_items if name.startswith(f"loses_{g.name}_")]
        items = set(sorted(named, key=len)[-1:])
    return items


def affected_items(name: str, record=CONVNETS, fixtures: Path = FIXTURES) -> set[str]:
    """Items a ``loses_*`` or ``zero_gain_*`` fixture is allowed to lose points on."""
    return own_items(name, record, fixtures) | set(fixture_config(name, fixtures).get("also_affects", []))


def save_small_experiment_model(path: Path) -> Path:
    """A small, valid, untrained experiment file (another student's, in the link tests) at ``path``."""
    from reference_impl.cnn import ThreeLayerConvNet
    from reference_impl.model_io import save_experiment_model
    kwargs = dict(num_filters=4, filter_size=3, hidden_dim=16)
    save_experiment_model(path, ThreeLayerConvNet(**kwargs, seed=0), "ThreeLayerConvNet", **kwargs)
    return path


def unpack_tiny_cifar(archive: Path, folder: Path) -> Path:
    """The release's tiny data set (``convkit/tiny_cifar10.zip``) unpacked as ``folder/cifar-10-batches-py``,
    the CIFAR-10 layout the loaders and the held-out grading read; returns that folder."""
    import zipfile
    tiny = folder / "cifar-10-batches-py"
    tiny.mkdir(parents=True)
    with zipfile.ZipFile(archive) as unpacked:
        for member in unpacked.namelist():
            if not member.endswith("/"):
                (tiny / Path(member).name).write_bytes(unpacked.read(member))
    return tiny
