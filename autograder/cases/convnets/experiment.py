"""experiment: the open-ended model, scored from its saved parameters entirely in the grader's process.

The ``.npz`` file (the grader's own copy of a regular, single-link file) is first checked without loading it
(``intake.saved_arrays``: zip directory, declared sizes, each ``.npy`` header, the parameter count; then the
saved constructor arguments, ``argument_problem``), all within ``GradingSettings``' bounds; only then is it read
with ``np.load(allow_pickle=False)`` (via ``reference_impl.model_io``), the
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
from ...intake.saved_arrays import ArchiveRefused, check_npz, read_bounded
from ...results import TestResult
from ...settings import GradingSettings

# ThreeLayerConvNet's keyword arguments and defaults (a test checks them against the reference's signature).
MODEL_DEFAULTS = {"input_dim": (3, 32, 32), "num_filters": 32, "filter_size": 7, "hidden_dim": 100,
                  "num_classes": 10, "weight_scale": 1e-3, "reg": 0.0, "dtype": np.float32, "seed": None}
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


def model_parameter_count(kwargs: dict) -> int:
    """How many numbers ``ThreeLayerConvNet(**kwargs)`` allocates, from its documented architecture (W1 (F, C, fs,
    fs), b1 (F,), W2 (F * H/2 * W/2, hidden), b2, W3 (hidden, classes), b3), without building it."""
    channels, height, width = kwargs.get("input_dim", MODEL_DEFAULTS["input_dim"])
    filters = kwargs.get("num_filters", MODEL_DEFAULTS["num_filters"])
    size = kwargs.get("filter_size", MODEL_DEFAULTS["filter_size"])
    hidden = kwargs.get("hidden_dim", MODEL_DEFAULTS["hidden_dim"])
    classes = kwargs.get("num_classes", MODEL_DEFAULTS["num_classes"])
    return (filters * channels * size * size + filters + filters * (height // 2) * (width // 2) * hidden + hidden
            + hidden * classes + classes)


def _whole(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _real(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)) \
        and bool(np.isfinite(value))


def argument_problem(kwargs: dict, settings: GradingSettings) -> str:
    """Why the grader will not build a network from the saved constructor arguments ("" when it will).

    Every argument is bounded by ``settings`` (``experiment_max_*``), and so is the number of parameters they
    would allocate (``model_max_parameters``), before anything is built.
    """
    unknown = sorted(set(kwargs) - set(MODEL_DEFAULTS))
    if unknown:
        return (f"the saved arguments include {', '.join(map(repr, unknown[:5]))}, which ThreeLayerConvNet does not "
                f"take (it takes {', '.join(MODEL_DEFAULTS)})")
    bounds = {"num_filters": (1, settings.experiment_max_filters),
              "filter_size": (1, settings.experiment_max_filter_size),
              "hidden_dim": (1, settings.experiment_max_hidden_dim),
              "num_classes": (2, settings.experiment_max_classes)}
    for key, (low, high) in bounds.items():
        value = kwargs.get(key, MODEL_DEFAULTS[key])
        if not _whole(value) or not low <= value <= high:
            return f"the saved {key}={value!r:.40} is not a whole number from {low} to {high}, the grader's bound"
    if kwargs.get("filter_size", MODEL_DEFAULTS["filter_size"]) % 2 == 0:
        return "the saved filter_size is even; ThreeLayerConvNet needs an odd filter size"
    shape = kwargs.get("input_dim", MODEL_DEFAULTS["input_dim"])
    limits = (settings.experiment_max_channels, settings.experiment_max_image_side, settings.experiment_max_image_side)
    if (not isinstance(shape, (tuple, list)) or len(shape) != 3 or not all(_whole(n) for n in shape)
            or not all(2 <= n <= limit or (i == 0 and 1 <= n <= limit) for i, (n, limit) in
                       enumerate(zip(shape, limits)))):
        return (f"the saved input_dim={shape!r:.60} is not (C, H, W) with C up to {limits[0]} and H, W from 2 to "
                f"{limits[1]}")
    for key in ("weight_scale", "reg"):
        value = kwargs.get(key, MODEL_DEFAULTS[key])
        if not _real(value) or (key == "reg" and value < 0):
            return f"the saved {key}={value!r:.40} is not a finite{' non-negative' if key == 'reg' else ''} number"
    dtype = kwargs.get("dtype", MODEL_DEFAULTS["dtype"])
    try:
        if np.dtype(dtype) not in (np.float32, np.float64):
            raise TypeError
    except TypeError:
        return f"the saved dtype={dtype!r:.40} is not float32 or float64"
    seed = kwargs.get("seed")
    if seed is not None and (not _whole(seed) or not 0 <= seed < 2**63):
        return f"the saved seed={seed!r:.40} is not None or a non-negative whole number"
    count = model_parameter_count(kwargs)
    if count > settings.model_max_parameters:
        return (f"the saved arguments describe a network of {count:,} parameters; the grader accepts at most "
                f"{settings.model_max_parameters:,}")
    return ""


def _load_model(path: Path | None, settings: GradingSettings):
    """The rebuilt reference model with the saved parameters, or a message saying why not.

    ``path`` is the grader's private copy of the submitted file (``intake.submitted_files``). Nothing is
    allocated for the file before its zip directory, every array header, the parameter count and the saved
    constructor arguments are within ``settings``' bounds (``intake.saved_arrays``, ``argument_problem``).
    """
    from reference_impl.cnn import ThreeLayerConvNet
    from reference_impl.model_io import CONFIG_KEY, load_experiment_model

    if path is None or not path.is_file():
        return None, f"no {EXPERIMENT_FILE} was submitted next to the notebook"
    try:
        data = read_bounded(path, settings.model_file_mb * 2**20)
        check_npz(data, EXPERIMENT_FILE, settings.model_max_members, settings.model_max_parameters,
                  text_members=frozenset({CONFIG_KEY}))
        del data
    except ArchiveRefused as refused:
        return None, f"{EXPERIMENT_FILE} was refused: {refused}"
    try:
        model_name, kwargs, params = load_experiment_model(path)
    except (ValueError, OSError) as error:
        return None, f"{EXPERIMENT_FILE} could not be read: {error}"
    problem = argument_problem(kwargs, settings)
    if problem:
        return None, f"{EXPERIMENT_FILE} was refused: {problem}"
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
    model, problem = _load_model(Path(path) if path is not None else None, settings)
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
