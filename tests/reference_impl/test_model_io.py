"""Round trip and error handling of the experiment-model file (reference_impl/model_io.py)."""
import json
import zipfile
from types import SimpleNamespace

import numpy as np
import pytest

from reference_impl.model_io import load_experiment_model, save_experiment_model


def fake_model(seed=0):
    rng = np.random.default_rng(seed)
    return SimpleNamespace(params={"W1": rng.standard_normal((4, 3, 3, 3)).astype(np.float32),
                                   "b1": np.zeros(4, dtype=np.float32),
                                   "W2": rng.standard_normal((64, 10))})


def test_round_trip_keeps_arrays_dtypes_and_kwargs(tmp_path):
    model = fake_model()
    path = save_experiment_model(tmp_path / "m.npz", model, num_filters=4, filter_size=3, hidden_dim=10,
                                 input_dim=(3, 8, 8), weight_scale=1e-2, dtype=np.float32, reg=np.float64(0.5))
    name, kwargs, params = load_experiment_model(path)
    assert name == "ThreeLayerConvNet"
    assert kwargs == {"num_filters": 4, "filter_size": 3, "hidden_dim": 10, "input_dim": (3, 8, 8),
                      "weight_scale": 1e-2, "dtype": np.dtype(np.float32), "reg": 0.5}
    assert sorted(params) == ["W1", "W2", "b1"]
    for key, value in model.params.items():
        assert params[key].dtype == value.dtype
        np.testing.assert_array_equal(params[key], value)


def test_file_is_a_plain_npz_readable_without_pickle(tmp_path):
    path = save_experiment_model(tmp_path / "m.npz", fake_model(), dtype=np.float64)
    with np.load(path, allow_pickle=False) as archive:  # would raise if anything needed unpickling
        config = json.loads(str(archive["__config__"]))
        assert set(archive.files) == {"__config__", "params/W1", "params/b1", "params/W2"}
    assert config["model_name"] == "ThreeLayerConvNet"
    assert config["kwargs"] == {"dtype": {"__dtype__": "float64"}}


def test_missing_file_is_a_clear_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="save_experiment_model"):
        load_experiment_model(tmp_path / "nothing.npz")


@pytest.mark.parametrize("payload", [b"", b"not a zip file at all", b"PK\x03\x04 truncated"])
def test_corrupt_file_is_a_value_error(tmp_path, payload):
    path = tmp_path / "bad.npz"
    path.write_bytes(payload)
    with pytest.raises(ValueError, match="not a readable .npz"):
        load_experiment_model(path)


def test_pickled_object_array_is_rejected(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, __config__=np.array("{}"), **{"params/W1": np.array([object()], dtype=object)})
    with pytest.raises(ValueError, match="not a readable .npz"):
        load_experiment_model(path)


def test_missing_or_broken_config_is_reported(tmp_path):
    no_config = tmp_path / "a.npz"
    np.savez(no_config, **{"params/W1": np.ones(2)})
    with pytest.raises(ValueError, match="__config__"):
        load_experiment_model(no_config)
    bad_json = tmp_path / "b.npz"
    np.savez(bad_json, __config__=np.array("{not json"), **{"params/W1": np.ones(2)})
    with pytest.raises(ValueError, match="unreadable model configuration"):
        load_experiment_model(bad_json)
    other_model = tmp_path / "c.npz"
    config = json.dumps({"format": 1, "model_name": "ResNet", "kwargs": {}})
    np.savez(other_model, __config__=np.array(config), **{"params/W1": np.ones(2)})
    with pytest.raises(ValueError, match="'ResNet' is not supported"):
        load_experiment_model(other_model)


def test_save_rejects_what_the_autograder_cannot_rebuild(tmp_path):
    with pytest.raises(ValueError, match="'MyNet' is not supported"):
        save_experiment_model(tmp_path / "m.npz", fake_model(), model_name="MyNet")
    with pytest.raises(TypeError, match="'activation'"):
        save_experiment_model(tmp_path / "m.npz", fake_model(), activation=np.tanh)
    with pytest.raises(TypeError, match="dict of arrays"):
        save_experiment_model(tmp_path / "m.npz", SimpleNamespace(params=[1, 2]))
    with pytest.raises(ValueError, match="empty"):
        save_experiment_model(tmp_path / "m.npz", SimpleNamespace(params={}))
    with pytest.raises(ValueError, match="'W1' has dtype object"):
        save_experiment_model(tmp_path / "m.npz", SimpleNamespace(params={"W1": np.array([None])}))
    assert not list(tmp_path.iterdir()), "a rejected save must not leave a file behind"


def test_save_replaces_an_existing_file(tmp_path):
    path = tmp_path / "m.npz"
    save_experiment_model(path, fake_model(0))
    save_experiment_model(path, fake_model(1))
    _, _, params = load_experiment_model(path)
    np.testing.assert_array_equal(params["W1"], fake_model(1).params["W1"])
    assert zipfile.is_zipfile(path) and sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]
