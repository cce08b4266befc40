"""experiment: the open-ended model, scored from its saved parameters entirely in the grader's process.

The ``.npz`` file is read with ``np.load(allow_pickle=False)`` (via ``reference_impl.model_io``), the
REFERENCE ``ThreeLayerConvNet`` is rebuilt from the saved keyword arguments, the saved parameters are checked
against it name by name and loaded, and the reference forward pass classifies the held-out validation split.
Full credit from ``FULL_CREDIT_ACCURACY``; below it, credit grows linearly from chance. No student code runs:
this module has ``score`` instead of ``prepare`` (see ``autograder.cases``).
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from assignments.convnets import EXPERIMENT_FILE

from .. import Case, case
from ...results import TestResult
from ...settings import GradingSettings

MAX_MODEL_BYTES = 200 * 1024 * 1024
MAX_PARAMETERS = 50_000_000
BATCH = 100
ITEM = "experiment"
# Validation accuracy that earns full credit (partial credit scales below it); the notebook says 65% too.
FULL_CREDIT_ACCURACY = 0.65

CASES = (
    case(ITEM, "saved model file is readable and matches its model", 1, False),
    case(ITEM, f"validation accuracy on the held-out split (full credit from {FULL_CREDIT_ACCURACY:.0%})", 4,
         False),
)


def credit_for_accuracy(accuracy: float, num_classes: int, points: float) -> float:
    """Linear from chance (1 / num_classes: no credit) to the full-credit accuracy (all points)."""
    chance = 1.0 / num_classes
    fraction = (accuracy - chance) / (FULL_CREDIT_ACCURACY - chance)
    return round(points * float(np.clip(fraction, 0.0, 1.0)), 3)


@functools.lru_cache(maxsize=2)
def _validation_split(folder: str, num_training: int, num_validation: int):
    from reference_impl.data import get_CIFAR10_data
    data = get_CIFAR10_data(num_training=num_training, num_validation=num_validation, num_test=0,
                            cifar10_dir=folder)
    return data["X_val"], data["y_val"]


def _load_model(path: Path | None):
    """The rebuilt reference model with the saved parameters, or a message saying why not."""
    from reference_impl.cnn import ThreeLayerConvNet
    from reference_impl.model_io import load_experiment_model

    if path is None or not path.is_file():
        return None, f"no {EXPERIMENT_FILE} was submitted next to the notebook"
    if path.stat().st_size > MAX_MODEL_BYTES:
        return None, f"{EXPERIMENT_FILE} is larger than {MAX_MODEL_BYTES // 2**20} MiB"
    try:
        model_name, kwargs, params = load_experiment_model(path)
    except (ValueError, OSError) as error:
        return None, f"{EXPERIMENT_FILE} could not be read: {error}"
    if sum(int(np.size(a)) for a in params.values()) > MAX_PARAMETERS:
        return None, f"the saved model has more than {MAX_PARAMETERS:,} parameters"
    try:
        model = ThreeLayerConvNet(**kwargs)
    except (TypeError, ValueError) as error:
        return None, f"the saved {model_name} arguments {kwargs} cannot rebuild the model: {error}"
    expected = {name: np.shape(value) for name, value in model.params.items()}
    saved = {name: np.shape(value) for name, value in params.items()}
    if expected != saved:
        missing = sorted(set(expected) - set(saved))
        wrong = sorted(n for n in set(expected) & set(saved) if expected[n] != saved[n])
        extra = sorted(set(saved) - set(expected))
        return None, ("the saved parameters do not fit the model built from the saved arguments: "
                      + "; ".join(p for p in (f"missing {missing}" if missing else "",
                                              f"wrong shapes {[(n, saved[n], expected[n]) for n in wrong]}" if wrong
                                              else "", f"unexpected {extra}" if extra else "") if p))
    for name, value in params.items():
        if np.asarray(value).dtype.kind not in "fiu":
            return None, f"parameter {name} has non-numeric dtype {np.asarray(value).dtype}"
        model.params[name] = np.asarray(value).astype(model.dtype)
    return model, ""


def score(cases: tuple[Case, ...], path: Path | None, settings: GradingSettings) -> list[TestResult]:
    """The experiment's TestResults, one per case of ``CASES`` (with points); never raises for a bad file."""
    file_case, accuracy_case = cases
    file_points, accuracy_points = file_case.points, accuracy_case.points
    file_test = TestResult(file_case.name, file_case.item, 0.0, file_points)
    accuracy_test = TestResult(accuracy_case.name, accuracy_case.item, 0.0, accuracy_points)
    model, problem = _load_model(Path(path) if path is not None else None)
    if model is None:
        file_test.message = accuracy_test.message = problem
        file_test.hint = "run the notebook cell that calls save_experiment_model and submit the file with the notebook"
        return [file_test, accuracy_test]
    file_test.score, file_test.message = file_points, "the saved model loads and its parameters match its arguments"
    if settings.heldout_dir is None:
        accuracy_test.pending = True  # instructor data missing: neither a pass nor a failure (see TestResult)
        accuracy_test.message = (f"pending: the grader has no held-out data configured, so this part "
                                 f"({accuracy_points:g} points) is not scored yet; your instructor will score it")
        return [file_test, accuracy_test]
    try:
        X_val, y_val = _validation_split(str(settings.heldout_dir), settings.heldout_num_training,
                                         settings.heldout_num_validation)
    except (OSError, ValueError) as error:
        accuracy_test.pending = True  # the instructor's data is broken, not the student's work
        accuracy_test.message = (f"pending: the grader could not load its held-out data ({error}); this part "
                                 f"({accuracy_points:g} points) is not scored yet; tell your instructor")
        return [file_test, accuracy_test]
    if tuple(model.input_dim) != tuple(X_val.shape[1:]):
        accuracy_test.message = f"the model expects inputs {tuple(model.input_dim)}, the data is {X_val.shape[1:]}"
        return [file_test, accuracy_test]
    correct = 0
    with np.errstate(all="ignore"):
        for start in range(0, len(X_val), BATCH):
            scores = model.loss(X_val[start:start + BATCH].astype(model.dtype))
            predicted = np.where(np.all(np.isfinite(scores), axis=1), np.argmax(scores, axis=1), -1)
            correct += int(np.sum(predicted == y_val[start:start + BATCH]))
    accuracy = correct / len(y_val)
    accuracy_test.score = credit_for_accuracy(accuracy, model.params["W3"].shape[1], accuracy_points)
    accuracy_test.expected = f">= {FULL_CREDIT_ACCURACY:.0%} for full credit"
    accuracy_test.got = f"{accuracy:.1%} on {len(y_val)} held-out images"
    accuracy_test.message = f"validation accuracy {accuracy:.1%}"
    if accuracy_test.score < accuracy_points:
        accuracy_test.hint = "train longer, tune the learning rate and regularisation, or widen the network"
    return [file_test, accuracy_test]


# The demo class's trained model (see autograder.demo_class): a small net that reaches ~95% on the tiny digits
# stand-in in a few seconds of training.
DEMO_MODEL_FILE = "demo_experiment_model.npz"
DEMO_MODEL_KWARGS = {"num_filters": 8, "filter_size": 3, "hidden_dim": 64}


def demo_file(dest: Path, data_dir: Path) -> bytes:
    """A good experiment file for the demo class, trained once with the reference code and kept in ``dest``."""
    path = Path(dest) / DEMO_MODEL_FILE
    if not path.is_file():
        from reference_impl.cnn import ThreeLayerConvNet
        from reference_impl.data import get_CIFAR10_data
        from reference_impl.model_io import save_experiment_model
        from reference_impl.solver import Solver
        from reference_impl.tiny_cifar import TINY_SPLIT

        data = get_CIFAR10_data(**TINY_SPLIT, cifar10_dir=data_dir)
        np.random.seed(231)  # the reference model and Solver draw from NumPy's global generator
        model = ThreeLayerConvNet(weight_scale=1e-2, reg=1e-3, **DEMO_MODEL_KWARGS)
        Solver(model, data, update_rule="adam", optim_config={"learning_rate": 1e-3}, batch_size=50, num_epochs=3,
               verbose=False).train()
        save_experiment_model(path, model, **DEMO_MODEL_KWARGS)
    return path.read_bytes()
