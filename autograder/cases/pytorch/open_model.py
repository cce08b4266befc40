"""open_model: the student's ``build_open_model`` with the submitted weights file, evaluated on the held-out
validation split. The labels never leave this process.

In the worker: the setup cell and the student's cells run (the training cell is skipped in grading mode), then
``load_open_model(build_open_model, OPEN_MODEL_FILE)`` (``torch.load(weights_only=True)``: tensors only, strict
keys and shapes) and ``predict_scores`` on the validation images, normalised as ``load_cifar10_torch`` does.
Here: the engine copies the file to the worker only if it is a regular file under ``settings.file_mb`` and its zip
directory and declared sizes are within the settings' bounds (``file_problem``; loading is strict);
the scores' shape and finiteness are checked, the argmax is compared with the labels, and the credit grows
linearly from chance (10%) to full credit at ``FULL_CREDIT_ACCURACY``.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from assignments.pytorch import OPEN_MODEL_FILE

from ...checks import Verdict, usable
from ...intake.saved_arrays import ArchiveRefused, check_zip, read_bounded
from .. import Case, Prepared, case
from ..ops import call, get, npy, output, value, var

ITEM = "open_model"
FULL_CREDIT_ACCURACY = 0.70  # the seed's target; the notebook says the same
NUM_CLASSES = 10
ZIP_OVERHEAD_BYTES = 1 << 20  # torch.save's pickle, version and byte-order entries beside the tensors' storages

CASES = (
    case(ITEM, f"validation accuracy of the saved model (full credit from {FULL_CREDIT_ACCURACY:.0%})", 1, False),
)


@functools.lru_cache(maxsize=2)
def _validation_split(folder: str | None, num_training: int, num_validation: int):
    from reference_impl.frameworks.prep import load_cifar10_for_framework
    data = load_cifar10_for_framework("NCHW", num_training=num_training, num_validation=num_validation,
                                      num_test=0, cifar10_dir=folder)
    return data["X_val"], data["y_val"]


def credit_for_accuracy(accuracy: float) -> float:
    """The share of the points: linear from chance (none) to FULL_CREDIT_ACCURACY (all)."""
    chance = 1.0 / NUM_CLASSES
    return float(np.clip((accuracy - chance) / (FULL_CREDIT_ACCURACY - chance), 0.0, 1.0))


class AccuracyCheck:
    """Accuracy of the returned scores against labels only the parent holds; partial credit by accuracy."""

    def __init__(self, labels: np.ndarray):
        self.labels, self.label = labels, "validation accuracy"

    def evaluate(self, outputs) -> Verdict:
        found = outputs.get("scores")
        problem = usable(found, "scores")
        if problem:
            problem.hint = (f"train your model, run the cell that saves {OPEN_MODEL_FILE} and submit it next to the "
                            "notebook; it must load with your build_open_model (same layer names and shapes)")
            return problem
        expected_shape = (len(self.labels), NUM_CLASSES)
        if tuple(found.array.shape) != expected_shape:
            return Verdict(False, self.label, f"scores of shape {expected_shape}", f"shape {found.array.shape}",
                           f"scores of shape {tuple(found.array.shape)} instead of {expected_shape}")
        accuracy = float(np.mean(np.argmax(found.array, axis=1) == self.labels))
        fraction = credit_for_accuracy(accuracy)
        got = f"{accuracy:.1%} on {len(self.labels)} held-out images"
        return Verdict(fraction > 0, self.label, f">= {FULL_CREDIT_ACCURACY:.0%} for full credit", got,
                       f"validation accuracy {got}", "" if fraction == 1.0 else
                       "train longer, or try batch normalisation, more filters, data augmentation or a schedule",
                       fraction)


class Refused:
    """A check that fails with a fixed message (the case could not be prepared)."""

    def __init__(self, message: str):
        self.label, self.message = "validation accuracy", message

    def evaluate(self, outputs) -> Verdict:
        return Verdict(False, self.label, message=self.message)


def file_problem(path, settings) -> str:
    """Why the parent will not hand the submitted weights file to the worker ("" when it will): ``torch.save``
    writes a zip, whose entries and declared sizes must be within ``settings.model_max_members`` and the bytes of
    ``settings.model_max_parameters`` float64 numbers; nothing of it is unpickled here."""
    if path is None or not Path(path).is_file():
        return ""  # not submitted: the worker's load reports the missing file
    try:
        check_zip(read_bounded(path, settings.model_file_mb * 2**20), OPEN_MODEL_FILE, settings.model_max_members,
                  settings.model_max_parameters * 8 + ZIP_OVERHEAD_BYTES)
    except ArchiveRefused as refused:
        return f"{OPEN_MODEL_FILE} was refused: {refused}"
    return ""


def prepare(case: Case, rng: np.random.Generator, settings=None, path: Path | None = None) -> Prepared:
    """The accuracy case: held-out images for the worker, labels kept here; ``path``, the submitted file, is
    checked first (``file_problem``)."""
    if settings is not None:
        problem = file_problem(path, settings)
        if problem:
            return Prepared({}, [], [Refused(problem)])
    if settings is None:
        from ...settings import GradingSettings
        folder, num_training, num_validation = None, GradingSettings.heldout_num_training, \
            GradingSettings.heldout_num_validation
    else:
        folder = str(settings.heldout_dir) if settings.heldout_dir is not None else None
        num_training, num_validation = settings.heldout_num_training, settings.heldout_num_validation
    try:
        images, labels = _validation_split(folder, num_training, num_validation)
    except (OSError, ValueError) as error:
        return Prepared({}, [], [Refused(f"the grader could not load its held-out data ({error}); tell your "
                                         "instructor")])
    ops = [get("build_open_model", "builder"),
           call("load_open_model", [var("builder"), value(OPEN_MODEL_FILE)], "model"),
           call("predict_scores", [var("model"), npy("images")], "scores"), output("scores", var("scores"))]
    return Prepared({"images": images}, ops, [AccuracyCheck(np.asarray(labels))])


# The demo class's and the tests' trained open model: the reference network trained on the tiny set. Trained in
# a child process with the course's interpreter, so the grader's own process never imports torch.
DEMO_MODEL_FILE = "demo_open_model.pt"
DEMO_EPOCHS = 4
_TRAIN = """
import sys, time, torch
from reference_impl.frameworks.prep import MiniBatches
from reference_impl.frameworks.torch_data import load_cifar10_torch
from reference_impl.frameworks.torch_open_model import build_open_model
from reference_impl.frameworks.torch_training import check_accuracy, train_module
from reference_impl.frameworks.torch_weights import save_open_model
from reference_impl.tiny_cifar import TINY_SPLIT
folder, path, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
torch.manual_seed(0)
data = load_cifar10_torch(TINY_SPLIT["num_training"], TINY_SPLIT["num_validation"], 0, cifar10_dir=folder)
model = build_open_model()
start = time.perf_counter()
train_module(model, torch.optim.AdamW(model.parameters(), lr=2e-3),
             MiniBatches(data["X_train"], data["y_train"], 64, shuffle=True, seed=0), num_epochs=epochs,
             print_every=10**9)
seconds = time.perf_counter() - start
save_open_model(model, path)
print(check_accuracy(model, MiniBatches(data["X_val"], data["y_val"], 100)), seconds)
"""


def train_reference_weights(path, data_dir, epochs: int = DEMO_EPOCHS) -> tuple[float, float]:
    """Train the reference open model on the tiny set's split (``TINY_SPLIT``) and save its weights at ``path``.

    Returns (validation accuracy, training seconds), as measured by the child process.
    """
    import subprocess
    import sys
    from pathlib import Path
    repo = Path(__file__).resolve().parents[3]
    done = subprocess.run([sys.executable, "-c", _TRAIN, str(data_dir), str(path), str(epochs)], cwd=repo,
                          capture_output=True, text=True, check=True)
    accuracy, seconds = done.stdout.split()[-2:]
    return float(accuracy), float(seconds)


def demo_file(dest, data_dir) -> bytes:
    """A good weights file for the demo class, trained once with the reference code and kept in ``dest``."""
    from pathlib import Path
    path = Path(dest) / DEMO_MODEL_FILE
    if not path.is_file():
        train_reference_weights(path, data_dir)
    return path.read_bytes()
