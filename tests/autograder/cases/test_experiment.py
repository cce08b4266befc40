"""The experiment is scored in the grader's process from the saved parameters, with partial credit."""
from __future__ import annotations

import numpy as np
import pytest

from assignments.convnets import CONVNETS
from autograder import cases
from autograder.cases.convnets.experiment import FULL_CREDIT_ACCURACY, credit_for_accuracy
from autograder.settings import GradingSettings


def grade_experiment(path, settings):
    return cases.score_file(CONVNETS, "experiment", path, settings)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    from reference_impl.tiny_cifar import make_tiny_cifar10
    return make_tiny_cifar10(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def heldout(tiny_data):
    return GradingSettings(heldout_dir=tiny_data, heldout_num_training=1400, heldout_num_validation=100)


def save_model(path, tiny_data=None, epochs=0, **changes):
    """A ThreeLayerConvNet saved the way the notebook saves it (trained for ``epochs`` on the tiny data)."""
    from reference_impl.cnn import ThreeLayerConvNet
    from reference_impl.data import get_CIFAR10_data
    from reference_impl.model_io import save_experiment_model
    from reference_impl.solver import Solver
    kwargs = dict(num_filters=8, filter_size=3, hidden_dim=32, weight_scale=1e-2, reg=1e-3)
    model = ThreeLayerConvNet(**kwargs, seed=0)
    if epochs:
        data = get_CIFAR10_data(num_training=1400, num_validation=100, num_test=0, cifar10_dir=str(tiny_data))
        Solver(model, data, num_epochs=epochs, batch_size=50, update_rule="adam",
               optim_config={"learning_rate": 2e-3}, verbose=False).train()
    model.params.update(changes)
    save_experiment_model(path, model, "ThreeLayerConvNet", **kwargs)
    return path


def test_accuracy_credit_is_linear_from_chance():
    assert credit_for_accuracy(0.1, 10, 8) == 0
    assert credit_for_accuracy(0.375, 10, 8) == pytest.approx(4)
    assert credit_for_accuracy(FULL_CREDIT_ACCURACY, 10, 8) == 8
    assert credit_for_accuracy(0.99, 10, 8) == 8


def test_trained_model_earns_full_credit_and_untrained_near_none(heldout, tiny_data, tmp_path):
    trained = grade_experiment(save_model(tmp_path / "t.npz", tiny_data, epochs=1), heldout)
    assert [t.score for t in trained] == [t.max_score for t in trained]
    untrained = grade_experiment(save_model(tmp_path / "u.npz"), heldout)
    assert untrained[0].passed and untrained[1].score < 0.3 * untrained[1].max_score
    assert "%" in untrained[1].got


@pytest.mark.parametrize("make, words", [
    (lambda p: p.write_bytes(b"not a zip file"), "is not a zip archive"),
    (lambda p: np.savez(p, config=np.array([{"model_name": "x"}], dtype=object)), "is an object array"),
    (lambda p: save_model(p, W2=np.zeros((3, 3))), "do not fit the model"),
    (lambda p: None, "no experiment_model.npz was submitted"),
])
def test_bad_model_files_score_zero_with_a_reason(heldout, tmp_path, make, words):
    path = tmp_path / "experiment_model.npz"
    make(path)
    tests = grade_experiment(path, heldout)
    assert sum(t.score for t in tests) == 0 and words in tests[0].message


def test_a_file_that_was_not_submitted_scores_zero_saying_so(heldout):
    tests = grade_experiment(None, heldout)
    assert sum(t.score for t in tests) == 0 and "no experiment_model.npz was submitted" in tests[0].message


def test_without_held_out_data_the_accuracy_case_is_pending_not_failed(tmp_path):
    tests = grade_experiment(save_model(tmp_path / "m.npz"), GradingSettings())
    assert tests[0].passed and tests[1].score == 0 and "no held-out data" in tests[1].message
    assert tests[1].pending and tests[1].status == "pending" and not tests[1].passed
    assert f"{tests[1].max_score:g} points" in tests[1].message


def test_held_out_data_that_cannot_be_read_leaves_the_accuracy_case_pending(tmp_path):
    settings = GradingSettings(heldout_dir=tmp_path / "missing")
    tests = grade_experiment(save_model(tmp_path / "m.npz"), settings)
    assert tests[1].status == "pending" and "could not load its held-out data" in tests[1].message


def test_an_unsubmitted_file_is_failed_not_pending_even_without_held_out_data():
    tests = grade_experiment(None, GradingSettings())
    assert [t.status for t in tests] == ["failed", "failed"]
