"""The self-check of the PyTorch and TensorFlow notebooks (``convkit/selfcheck/``, ``check("<item>")``): the
grader's visible cases, and only those, run in the student's kernel; on a notebook with bugs in several items
every visible case gets exactly the verdict ``grade_submission`` gives it.

The kernel is a subprocess (self_check_in_kernel.py) that runs the notebook's non-test cells and the shipped
check; this process never imports a framework.
"""
from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import assignments
from autograder import cases
from autograder.checks import NormalSampleCheck
from autograder.engine import grade_submission
from autograder.settings import GradingSettings
from fixture_builder import affected_items, build_fixture, own_items, render_course, unpack_tiny_cifar

HERE = Path(__file__).resolve().parent
# Per framework: sets of fixtures whose bugs sit in different items and fail visible cases deterministically,
# each set graded as one notebook. The layers-in-barebones fixtures check that the self-check raises the
# grader's tripwire error word for word.
BUGGY = {
    "pytorch": [("loses_flatten_column_major", "loses_nesterov_sgd_plain_momentum",
                 "loses_train_step_gradients_never_reset", "loses_ThreeLayerConvNet_no_relu_after_conv2",
                 "loses_zero_weight_not_tracked", "zero_gain_nn_layers_in_barebones")],
    "tensorflow": [("loses_flatten_assumes_four_dimensions", "loses_sgd_nesterov_optimizer_plain_momentum",
                    "loses_training_step_summed_loss", "loses_three_layer_convnet_same_padding",
                    "loses_three_layer_convnet_sequential_no_relu"),
                   ("zero_gain_keras_layers_in_barebones",)],
}
COMBINED = [(name, index) for name, sets in sorted(BUGGY.items()) for index in range(len(sets))]
FRAMEWORK = {"pytorch": "torch", "tensorflow": "tensorflow"}
KERNEL_SECONDS = 900  # the kernel's time limit (a hung kernel fails the test, never hangs it)

pytestmark = pytest.mark.slow


def _public_items(record) -> list[str]:
    return [g.name for g in record.graded_items
            if g.runs_code and not g.file and cases.runs_in_worker(record, g.name)]


@pytest.mark.parametrize("name", sorted(BUGGY))
def test_public_cases_are_exactly_the_visible_cases(name, tmp_path):
    record = assignments.get(name)
    notebook = render_course(tmp_path, record)
    document = json.loads((notebook.parent / "convkit" / "selfcheck" / "public_cases.json").read_text())
    table = [c for item in _public_items(record) for c in cases.cases_for(record, item)]
    assert [r["name"] for r in document["cases"]] == [c.name for c in table if c.visibility == "visible"]
    assert not {c.name for c in table if c.visibility == "hidden"} & {r["name"] for r in document["cases"]}


def _combined_fixture(name: str, fixtures: tuple[str, ...], folder: Path) -> Path:
    """One fixture folder holding the cells of every one of ``fixtures`` of ``name`` (they touch different
    items)."""
    combined = folder / "combined"
    combined.mkdir(parents=True)
    for fixture in fixtures:
        for path in (HERE / f"fixtures_{name}" / fixture).glob("*.py"):
            assert not (combined / path.name).exists(), path
            (combined / path.name).write_text(path.read_text())
    return folder


@contextlib.contextmanager
def _kernel(notebook: Path, support: Path, tiny: Path, out: Path) -> Iterator[Callable[[], dict]]:
    """check(item) for every public item, run in a fresh process as the student's kernel would run it, with the
    release's support package (``support/convkit``) importable. Started on entry so that it runs while this
    process grades the same notebook; yields the function that waits for it (within ``KERNEL_SECONDS`` of its
    start) and returns its results by item. The process is killed on exit, whatever happened."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               CONVKIT_GRADING="1", CONVKIT_SMALL_DATA="1", CIFAR10_DIR=str(tiny), MPLBACKEND="Agg")
    started = time.monotonic()
    # Its output goes to files, not pipes: nobody reads a pipe while the grading runs, and a full one would
    # stop the kernel.
    with open(out.parent / "stdout.txt", "w") as stdout, open(out.parent / "stderr.txt", "w+") as stderr:
        kernel = subprocess.Popen([sys.executable, str(HERE / "self_check_in_kernel.py"), str(notebook),
                                   str(support), str(out)], stdout=stdout, stderr=stderr, cwd=out.parent, env=env)

        def results() -> dict:
            kernel.wait(timeout=max(1.0, KERNEL_SECONDS - (time.monotonic() - started)))
            stderr.seek(0)
            assert kernel.returncode == 0, stderr.read()[-3000:]
            return json.loads(out.read_text())

        try:
            yield results
        finally:
            kernel.kill()
            kernel.wait()


@pytest.mark.parametrize("name, index", COMBINED)
def test_check_gives_the_graders_verdict_on_every_visible_case(name, index, tmp_path):
    if importlib.util.find_spec(FRAMEWORK[name]) is None:
        pytest.skip(f"{FRAMEWORK[name]} is not installed")
    record = assignments.get(name)
    source = render_course(tmp_path / "course", record)
    tiny = unpack_tiny_cifar(source.parent / "convkit" / "tiny_cifar10.zip", tmp_path / "tiny")
    chosen = BUGGY[name][index]
    fixtures = _combined_fixture(name, chosen, tmp_path / "fixtures")
    notebook = build_fixture("combined", source, tmp_path / "submission", record, fixtures)
    (tmp_path / "kernel").mkdir()
    settings = GradingSettings(**dataclasses.asdict(record.limits), assignment=name, source_notebook=source,
                               heldout_dir=tiny, heldout_num_training=1350, heldout_num_validation=150)
    with _kernel(notebook, source.parent, tiny, tmp_path / "kernel" / "results.json") as kernel:
        graded = grade_submission(notebook, "combined", settings)
        mine = kernel()

    fixtures_dir = HERE / f"fixtures_{name}"
    buggy = set().union(*(own_items(f, record, fixtures_dir) for f in chosen))
    affected = set().union(*(affected_items(f, record, fixtures_dir) for f in chosen))
    random_cases = {c.name for item in _public_items(record) for c in cases.cases_for(record, item)
                    if c.visibility == "visible"
                    and any(isinstance(k, NormalSampleCheck) for k in cases.prepare(record, c).checks)}
    assert sorted(mine) == sorted(_public_items(record))
    if any(f.endswith("_layers_in_barebones") for f in chosen):  # the tripwire is in force in the kernel too
        assert any("is disabled while" in r["message"] for results in mine.values() for r in results)
    for item, results in mine.items():
        theirs = {t.name: t for t in graded.tests if t.item == item and t.visibility == "visible"}
        assert [r["name"] for r in results] == list(theirs), item
        for result in results:
            grader = theirs[result["name"]]
            assert (result["score"], result["max_score"]) == (grader.score, grader.max_score), result["name"]
            if result["name"] in random_cases:
                continue  # the student's own random draws differ between the two runs; only the verdict agrees
            assert (result["message"], result["expected"], result["got"], result["hint"]) == \
                   (grader.message, grader.expected, grader.got, grader.hint), result["name"]
        passed = all(r["score"] == r["max_score"] for r in results)
        if item in buggy or item not in affected:  # a bug elsewhere may also cost an item named in also_affects
            assert passed == (item not in buggy), (item, [r["message"] for r in results])
