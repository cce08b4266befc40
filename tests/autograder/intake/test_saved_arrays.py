"""Saved model files are checked before anything is allocated for them: zip directory, declared sizes, array
headers, parameter count, constructor arguments; each hostile file is refused with a message."""
from __future__ import annotations

import inspect
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from assignments.convnets import CONVNETS
from autograder import cases
from autograder.cases.convnets.experiment import MODEL_DEFAULTS, argument_problem, model_parameter_count
from autograder.intake.saved_arrays import ArchiveRefused, check_npz
from autograder.settings import GradingSettings

import saved_model_files as hostile

REPO = Path(__file__).resolve().parents[3]


def score(path, settings=None):
    return cases.score_file(CONVNETS, "experiment", path, settings or GradingSettings())


@pytest.mark.parametrize("make, words", [
    (hostile.refused_zip_bomb, "declares more than"),
    (hostile.refused_huge_declared_shape, "declares more than 20,000,000 numbers"),
    (hostile.refused_lying_directory_size, "declares more than"),
    (hostile.refused_object_array, "is an object array"),
    (hostile.refused_too_many_members, "the grader reads at most 1024"),
    (hostile.refused_huge_constructor_arguments, "num_filters=4096 is not a whole number from 1 to 256"),
])
def test_hostile_experiment_files_are_refused_with_a_message(tmp_path, make, words):
    path = tmp_path / "experiment_model.npz"
    make(path)
    tests = score(path)
    assert sum(t.score for t in tests) == 0
    assert tests[0].message.startswith("experiment_model.npz was refused") and words in tests[0].message


def test_a_well_formed_npz_gives_its_headers():
    import io
    buffer = io.BytesIO()
    np.savez(buffer, a=np.zeros((2, 3), np.float32), b=np.arange(4))
    headers = check_npz(buffer.getvalue(), "m.npz", 4, 10)
    assert {k: (str(h.dtype), h.shape) for k, h in headers.items()} == {"a": ("float32", (2, 3)),
                                                                       "b": (str(np.arange(4).dtype), (4,))}
    with pytest.raises(ArchiveRefused, match="more than 9 numbers"):
        check_npz(buffer.getvalue(), "m.npz", 4, 9)
    with pytest.raises(ArchiveRefused, match="at most 1"):
        check_npz(buffer.getvalue(), "m.npz", 1, 10)


def test_the_argument_table_is_the_reference_constructors():
    from reference_impl.cnn import ThreeLayerConvNet
    signature = inspect.signature(ThreeLayerConvNet.__init__).parameters
    assert {k: v.default for k, v in signature.items() if k != "self"} == MODEL_DEFAULTS


@pytest.mark.parametrize("kwargs", [{}, {"num_filters": 7, "filter_size": 5, "hidden_dim": 33, "num_classes": 4},
                                    {"input_dim": (1, 10, 6), "num_filters": 3, "filter_size": 1}])
def test_the_parameter_count_matches_what_the_reference_allocates(kwargs):
    from reference_impl.cnn import ThreeLayerConvNet
    built = ThreeLayerConvNet(**kwargs, seed=0)
    assert model_parameter_count(kwargs) == sum(p.size for p in built.params.values())


@pytest.mark.parametrize("kwargs, words", [
    ({"num_filters": 0}, "num_filters=0"), ({"filter_size": 4}, "even"), ({"hidden_dim": 1.5}, "hidden_dim=1.5"),
    ({"num_classes": True}, "num_classes=True"), ({"input_dim": (3, 32)}, "input_dim"),
    ({"input_dim": (3, 4096, 32)}, "input_dim"), ({"reg": float("nan")}, "reg=nan"), ({"reg": -1.0}, "reg=-1.0"),
    ({"dtype": np.dtype("int64")}, "dtype"), ({"seed": -3}, "seed=-3"), ({"evil": 1}, "'evil'"),
    ({"num_filters": 256, "hidden_dim": 4096}, "parameters; the grader accepts at most 20,000,000"),
])
def test_every_constructor_argument_is_bounded(kwargs, words):
    assert words in argument_problem(kwargs, GradingSettings())


def test_the_notebooks_own_suggestion_is_within_the_bounds():
    suggested = dict(num_filters=64, filter_size=3, hidden_dim=500, weight_scale=1e-2, reg=1e-3)
    assert argument_problem(suggested, GradingSettings()) == ""


MEASURE = textwrap.dedent("""
    import resource, sys
    from pathlib import Path
    import numpy as np
    from assignments.convnets import CONVNETS
    from autograder import cases
    from autograder.settings import GradingSettings
    path, mode = Path(sys.argv[1]), sys.argv[2]
    settings = GradingSettings()
    cases.cases_for(CONVNETS, "experiment")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if mode == "grader":
        message = cases.score_file(CONVNETS, "experiment", path, settings)[0].message
    else:  # what an unchecked reader does with the same file
        with np.load(path, allow_pickle=False) as archive:
            message = str(sum(archive[key].size for key in archive.files))
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print((after - before) // 1024, message[:120])
""")


# Linux carries a process's peak RSS across exec (ru_maxrss starts at the forking process's peak), so the
# measuring process is started from a small launcher, never directly from this large pytest process.
LAUNCH = "import subprocess, sys; subprocess.run([sys.executable, '-c'] + sys.argv[1:], check=True)"


def _peak_growth_mib(path, mode):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", LAUNCH, MEASURE, str(path), mode], capture_output=True, text=True,
                          env=env, cwd=REPO, check=True)
    growth, message = done.stdout.split(" ", 1)
    return int(growth), message


@pytest.mark.slow
def test_the_graders_memory_stays_bounded_on_a_zip_bomb(tmp_path):
    path = tmp_path / "experiment_model.npz"
    hostile.refused_zip_bomb(path, mib=256)
    assert path.stat().st_size < 2 << 20  # a quarter of a GiB of zeros in under 2 MiB on disk
    unchecked, _ = _peak_growth_mib(path, "unchecked")
    assert unchecked > 200, (unchecked, _)  # the measurement sees what loading the bomb costs
    grown, message = _peak_growth_mib(path, "grader")
    assert grown < 32 and "was refused" in message


def test_a_pytorch_weights_zip_declaring_gigabytes_is_refused_before_the_worker_sees_it(tmp_path):
    import zipfile
    from autograder.cases.pytorch.open_model import file_problem
    settings = GradingSettings(assignment="pytorch")
    good, bomb = tmp_path / "good.pt", tmp_path / "bomb.pt"
    with zipfile.ZipFile(good, "w") as archive:  # the layout torch.save writes: a pickle and one entry per storage
        archive.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
        archive.writestr("archive/data/0", bytes(4 * 1000))
    hostile.refused_lying_directory_size(bomb)
    assert file_problem(good, settings) == ""
    assert "declares more than" in file_problem(bomb, settings) and "open_model.pt was refused" in file_problem(
        bomb, settings)


def test_a_keras_weights_file_with_too_many_weights_is_refused_from_its_metadata(tmp_path):
    h5py = pytest.importorskip("h5py")
    from autograder.cases.tensorflow.open_model import file_problem
    path = tmp_path / "open_model.weights.h5"
    with h5py.File(path, "w") as f:  # 50000 x 50000 float32 declared, nothing written: a tiny file
        f.create_dataset("layers/dense/vars/0", shape=(50000, 50000), dtype="float32", chunks=(100, 100))
    assert path.stat().st_size < 1 << 20
    assert "2,500,000,000 weights; the grader accepts models of at most 20,000,000" in file_problem(
        path, GradingSettings(assignment="tensorflow"))
