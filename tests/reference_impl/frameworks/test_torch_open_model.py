"""The open-ended model's weights file: a state dict that round-trips with weights_only=True, nothing else."""
import pickle

import numpy as np
import pytest
import torch

from reference_impl.frameworks.torch_open_model import build_open_model
from reference_impl.frameworks.torch_weights import count_parameters, load_open_model, predict_scores, save_open_model


def trained_looking_model():
    """The open model with random weights and non-trivial batchnorm statistics (a few training passes)."""
    torch.manual_seed(5)
    model = build_open_model()
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn(8, 3, 32, 32) * 2 + 1)  # updates the running means and variances
    return model


def test_builder_maps_images_to_ten_scores():
    model = build_open_model()
    assert isinstance(model, torch.nn.Module) and count_parameters(model) > 0
    model.eval()
    assert model(torch.zeros(3, 3, 32, 32)).shape == (3, 10)


def test_state_dict_round_trips(tmp_path):
    model = trained_looking_model()
    path = save_open_model(model, tmp_path / "open_model.pt")
    images = np.random.default_rng(0).standard_normal((7, 3, 32, 32)).astype(np.float32)
    expected = predict_scores(model, images)
    reloaded = load_open_model(build_open_model, path)
    assert not reloaded.training
    got = predict_scores(reloaded, images)
    assert got.dtype == np.float64 and got.shape == (7, 10)
    np.testing.assert_array_equal(got, expected)  # same weights, same batches: bit for bit
    # Other batch sizes change only float32 summation order.
    np.testing.assert_allclose(predict_scores(reloaded, images, batch_size=3), expected, rtol=1e-5, atol=1e-6)
    assert any("running_mean" in name for name in torch.load(path, weights_only=True))  # buffers are saved too


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):  # unpickling this would create the marker directory: the proof that code ran
        import os
        return os.mkdir, (str(self.marker),)


def test_file_with_pickled_code_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "code_ran"
    path = tmp_path / "open_model.pt"
    state = dict(build_open_model().state_dict())
    state["extra"] = _Payload(marker)
    torch.save(state, path)
    with pytest.raises(pickle.UnpicklingError):
        load_open_model(build_open_model, path)
    assert not marker.exists()


def test_mismatched_or_non_state_files_are_refused(tmp_path):
    path = tmp_path / "open_model.pt"
    torch.save([torch.zeros(3)], path)  # loads under weights_only, but it is not a state dict
    with pytest.raises(ValueError, match="state dict"):
        load_open_model(build_open_model, path)
    state = build_open_model().state_dict()
    state.pop(next(iter(state)))
    torch.save(state, path)
    with pytest.raises(RuntimeError, match="Missing key"):
        load_open_model(build_open_model, path)
    torch.save(build_open_model().state_dict(), path)
    with pytest.raises(TypeError, match="nn.Module"):
        load_open_model(lambda: "not a model", path)
