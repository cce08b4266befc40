"""The open-ended model: its contract with the grader (rebuild, load weights, predict) and the weights-file check."""
import zipfile

import h5py
import numpy as np
import pytest

from reference_impl.frameworks.tf_open_model import build_open_model
from reference_impl.frameworks.tf_training import open_model_predictions
from reference_impl.frameworks.weights_file import OPEN_MODEL_WEIGHTS, check_keras_weights_file


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    """An open model with its batch-norm statistics moved off their defaults, saved as weights only."""
    model = build_open_model()
    rng = np.random.default_rng(5)
    images = rng.standard_normal((16, 32, 32, 3)).astype(np.float32)
    model(images, training=True)
    model.set_weights([w + rng.standard_normal(w.shape).astype(np.float32) * 0.05 for w in model.get_weights()])
    path = tmp_path_factory.mktemp("open") / OPEN_MODEL_WEIGHTS
    model.save_weights(str(path))
    return model, path, images


def test_weights_round_trip_through_the_graders_rebuild(saved_model):
    model, path, images = saved_model
    scores = np.asarray(model(images, training=False))
    assert scores.shape == (16, 10)
    predictions = open_model_predictions(build_open_model, path, images, batch_size=5)
    assert predictions.dtype == np.int64
    np.testing.assert_array_equal(predictions, np.argmax(scores, axis=1))
    names = [name for name, _, _ in check_keras_weights_file(path)]
    assert len(names) == len(model.get_weights()) and all(name.startswith(("layers/", "vars/")) for name in names)


def test_predictions_refuse_a_full_model_file(saved_model, tmp_path):
    model, _, images = saved_model
    full = tmp_path / "open_model.keras"
    model.save(str(full))
    with pytest.raises(ValueError, match="weights-only"):
        open_model_predictions(build_open_model, full, images)
    disguised = tmp_path / OPEN_MODEL_WEIGHTS
    disguised.write_bytes(full.read_bytes())
    assert zipfile.is_zipfile(disguised)
    with pytest.raises(ValueError, match="not an HDF5 weights file"):
        check_keras_weights_file(disguised)


@pytest.mark.parametrize("tamper, reason", [
    (lambda f: f.attrs.__setitem__("model_config", '{"class_name": "Lambda"}'), "attributes"),
    (lambda f: f.create_dataset("layers/extra/vars/0", data=np.array([b"pickled"], dtype=object),
                                dtype=h5py.string_dtype()), "not numbers"),
    (lambda f: f.__setitem__("layers/elsewhere", h5py.ExternalLink("/etc/passwd", "/")), "ExternalLink"),
])
def test_weights_check_refuses_anything_but_arrays(saved_model, tmp_path, tamper, reason):
    _, path, _ = saved_model
    tampered = tmp_path / OPEN_MODEL_WEIGHTS
    tampered.write_bytes(path.read_bytes())
    with h5py.File(tampered, "a") as f:
        tamper(f)
    with pytest.raises(ValueError, match=reason):
        check_keras_weights_file(tampered)


def test_weights_check_names_missing_misnamed_and_oversized_files(saved_model, tmp_path):
    _, path, _ = saved_model
    with pytest.raises(ValueError, match="no such file"):
        check_keras_weights_file(tmp_path / OPEN_MODEL_WEIGHTS)
    with pytest.raises(ValueError, match="save_weights"):
        check_keras_weights_file(tmp_path / "open_model.h5")
    with pytest.raises(ValueError, match="allowed"):
        check_keras_weights_file(path, max_bytes=1000)
