"""Every case of the TensorFlow assignment against the reference (must pass) and against stubs (must fail),
run in one subprocess that imports TensorFlow (this process never does: the grader's parent must not)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fixture_builder import unpack_tiny_cifar

REPO = Path(__file__).resolve().parents[4]
RUNNER = Path(__file__).with_name("run_cases_in_tf.py")
WEIGHTS_MAKER = REPO / "tests" / "autograder" / "tf_weights_files.py"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The tiny data set unpacked (the held-out split of these tests) and the reference's trained weights."""
    folder = tmp_path_factory.mktemp("tf_cases")
    tiny = unpack_tiny_cifar(REPO / "source" / "tensorflow" / "convkit" / "tiny_cifar10.zip", folder)
    done = subprocess.run([sys.executable, str(WEIGHTS_MAKER), str(folder / "weights"), str(tiny)], cwd=REPO,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return folder / "weights" / "trained.weights.h5", tiny


def _report(kind, files):
    weights, tiny = files
    done = subprocess.run([sys.executable, str(RUNNER), kind, str(weights), str(tiny)], cwd=REPO,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    line = [x for x in done.stdout.splitlines() if x.startswith("REPORT ")][-1]
    return json.loads(line[len("REPORT "):])


def test_the_reference_passes_every_case(files):
    failed = [(r["case"], r["why"]) for r in _report("reference", files) if not r["ok"]]
    assert failed == []


def test_stubs_fail_every_case_that_runs_code(files):
    passed = [r["case"] for r in _report("stub", files) if r["ok"]]
    # Only the weights file's own check (no student code) passes: the file is the reference's.
    assert passed == ["open_model: open_model.weights.h5 is a Keras weights file (arrays only)"]
