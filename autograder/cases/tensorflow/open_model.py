"""open_model: the student's own network, graded from the submitted Keras weights file.

The parent checks the file before any framework opens it (``weights_file.check_keras_weights_file``: an HDF5
file of numeric arrays only; a ``.keras`` model, a legacy ``.h5`` model or anything else is refused). The worker
rebuilds the model with the student's ``build_open_model()``, loads the weights and returns the predicted class
of every held-out image (``tf_training.open_model_predictions``, the instructor's copy); the labels never leave
the parent, which computes the accuracy. Credit grows linearly from chance (10%) to ``FULL_CREDIT_ACCURACY``.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assignments.tensorflow import OPEN_MODEL_FILE
from reference_impl.frameworks.weights_file import check_keras_weights_file

from .. import Case, Prepared, case
from ..ops import call, get, npy, output, value, var
from ...checks import Verdict, usable

ITEM = "open_model"
FULL_CREDIT_ACCURACY = 0.70  # the notebook says 70% too
CHANCE = 0.10

CASES = (
    case(ITEM, f"{OPEN_MODEL_FILE} is a Keras weights file (arrays only)", 1, False, check="file"),
    case(ITEM, f"accuracy on held-out images (credit from {CHANCE:.0%} to {FULL_CREDIT_ACCURACY:.0%})", 4, False,
         check="accuracy"),
)


@dataclass(frozen=True)
class FixedVerdict:
    """A check decided in the parent before anything runs (the file's verdict, missing data)."""

    ok: bool
    label: str
    message: str
    hint: str = ""

    def evaluate(self, outputs) -> Verdict:
        return Verdict(self.ok, self.label, message=self.message, hint=self.hint)


@dataclass(frozen=True)
class AccuracyCheck:
    """Accuracy of the returned predictions against the labels the parent keeps; partial credit."""

    output: str
    labels: np.ndarray
    label: str = "held-out accuracy"

    def evaluate(self, outputs) -> Verdict:
        found = outputs.get(self.output)
        problem = usable(found, self.label)
        if problem:
            return problem
        predictions = np.asarray(found.array).ravel()
        if predictions.shape != self.labels.shape:
            return Verdict(False, self.label, f"{len(self.labels)} predictions", f"shape {found.array.shape}",
                           f"{self.label}: {found.array.size} predictions for {len(self.labels)} images")
        accuracy = float(np.mean(predictions == self.labels))
        credit = credit_for_accuracy(accuracy)
        got = f"{accuracy:.1%} on {len(self.labels)} held-out images"
        return Verdict(credit > 0, self.label, f">= {FULL_CREDIT_ACCURACY:.0%} for full credit", got,
                       f"validation accuracy {got}", "" if credit >= 1 else
                       "train longer, tune the learning rate, or use batch normalisation and more filters",
                       fraction=credit)


def credit_for_accuracy(accuracy: float) -> float:
    """Linear from chance (no credit) to ``FULL_CREDIT_ACCURACY`` (all of it), rounded to 3 decimals."""
    return round(float(np.clip((accuracy - CHANCE) / (FULL_CREDIT_ACCURACY - CHANCE), 0.0, 1.0)), 3)


def file_problem(path, settings=None) -> str:
    """Why the submitted weights file cannot be used ("" when it can): its format (arrays only), its size
    (``settings.model_file_mb``) and its number of weights (``settings.model_max_parameters``), read from the
    datasets' metadata without loading any of them."""
    from ...settings import GradingSettings
    settings = settings if settings is not None else GradingSettings(assignment="tensorflow")
    if path is None or not path.is_file():
        return f"no {OPEN_MODEL_FILE} was submitted next to the notebook"
    try:
        arrays = check_keras_weights_file(path, max_bytes=settings.model_file_mb * 2**20)
    except ValueError as error:
        return str(error)
    numbers = sum(int(np.prod(shape, dtype=object)) for _, shape, _ in arrays)
    if numbers > settings.model_max_parameters:
        return (f"{OPEN_MODEL_FILE} holds {numbers:,} weights; the grader accepts models of at most "
                f"{settings.model_max_parameters:,}")
    return ""


@functools.lru_cache(maxsize=2)
def heldout_split(folder: str, num_training: int, num_validation: int):
    """Held-out images (NHWC, normalised by the training split as in the notebook) and their labels."""
    from reference_impl.frameworks.prep import load_cifar10_for_framework
    data = load_cifar10_for_framework("NHWC", num_training=num_training, num_validation=num_validation,
                                      num_test=0, cifar10_dir=folder)
    return data["X_val"].astype(np.float32), data["y_val"].astype(np.int64)


def prepare(case: Case, rng: np.random.Generator, settings=None, path: Path | None = None) -> Prepared:
    """The file case, or the accuracy case; ``settings`` give the held-out data, ``path`` the submitted file."""
    problem = file_problem(path, settings)
    hint = "run the cell that saves the weights (model.save_weights) and submit the file with the notebook"
    if case.config["check"] == "file":
        return Prepared({}, [], [FixedVerdict(not problem, "weights file", problem or
                                              f"{OPEN_MODEL_FILE} holds arrays only", hint if problem else "")])
    if problem:
        return Prepared({}, [], [FixedVerdict(False, "held-out accuracy", problem, hint)])
    if settings is None or getattr(settings, "heldout_dir", None) is None:
        return Prepared({}, [], [FixedVerdict(False, "held-out accuracy", "the grader has no held-out data "
                                              "configured; your instructor will score this part")])
    try:
        images, labels = heldout_split(str(settings.heldout_dir), settings.heldout_num_training,
                                       settings.heldout_num_validation)
    except (OSError, ValueError) as error:
        return Prepared({}, [], [FixedVerdict(False, "held-out accuracy", f"the grader could not load its held-out "
                                              f"data ({error}); tell your instructor")])
    ops = [get("build_open_model", "build"),
           call("open_model_predictions", [var("build"), value(OPEN_MODEL_FILE), npy("images")], "predicted"),
           output("predicted", var("predicted"))]
    return Prepared({"images": images}, ops, [AccuracyCheck("predicted", labels)], files={OPEN_MODEL_FILE: path})


# The demo class's trained open model: the reference network trained briefly on the tiny set, in a child process
# with the course's interpreter (the grader's own process never imports TensorFlow).
DEMO_MODEL_FILE = "demo_open_model.weights.h5"
DEMO_EPOCHS = 4  # 0.85 validation accuracy on the tiny set, seeded (tests/autograder/tf_weights_files.py trains 5)
_TRAIN = """
import os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf
from reference_impl.frameworks.prep import load_cifar10_for_framework
from reference_impl.frameworks.tf_open_model import build_open_model
from reference_impl.tiny_cifar import TINY_SPLIT
folder, path, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = load_cifar10_for_framework("NHWC", **TINY_SPLIT, cifar10_dir=folder)
tf.keras.utils.set_random_seed(0)
model = build_open_model()
model.compile(optimizer=tf.keras.optimizers.Adam(1e-3),
              loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
history = model.fit(data["X_train"], data["y_train"], batch_size=64, epochs=epochs,
                    validation_data=(data["X_val"], data["y_val"]), verbose=0)
model.save_weights(path)
print(history.history["val_accuracy"][-1])
"""


def demo_file(dest, data_dir) -> bytes:
    """A good weights file for the demo class, trained once with the reference code and kept in ``dest``."""
    import subprocess
    import sys
    path = Path(dest) / DEMO_MODEL_FILE
    if not path.is_file():
        partial = path.with_name(path.name + ".partial.weights.h5")
        subprocess.run([sys.executable, "-c", _TRAIN, str(data_dir), str(partial), str(DEMO_EPOCHS)],
                       cwd=Path(__file__).resolve().parents[3], capture_output=True, text=True, check=True)
        partial.replace(path)
    return path.read_bytes()
