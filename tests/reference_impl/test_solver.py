"""Solver mechanics on a small softmax-regression model: rules, histories, errors, checkpoints, output."""
import json

import numpy as np
import pytest

from reference_impl import optim
from reference_impl.solver import Solver


class SoftmaxRegression:
    """Linear scores X @ W + b with mean cross-entropy: just enough model to drive the Solver."""

    def __init__(self, dim, classes, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {"W": 0.01 * rng.standard_normal((dim, classes)), "b": np.zeros(classes)}

    def loss(self, X, y=None):
        scores = X @ self.params["W"] + self.params["b"]
        if y is None:
            return scores
        probs = np.exp(scores - scores.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        n = len(y)
        loss = -np.log(probs[np.arange(n), y]).mean()
        dscores = probs
        dscores[np.arange(n), y] -= 1
        dscores /= n
        return loss, {"W": X.T @ dscores, "b": dscores.sum(axis=0)}


def blobs(n, seed=1):
    """Three well separated Gaussian clusters in 4 dimensions."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    centres = 4 * np.eye(3, 4)
    return centres[y] + rng.standard_normal((n, 4)), y


@pytest.fixture
def data():
    X, y = blobs(300)
    return {"X_train": X[:200], "y_train": y[:200], "X_val": X[200:], "y_val": y[200:]}


@pytest.mark.parametrize("rule, lr", [("sgd", 0.5), ("sgd_momentum", 0.1), ("rmsprop", 0.01), ("adam", 0.05)])
def test_every_rule_learns(data, rule, lr):
    np.random.seed(0)
    model = SoftmaxRegression(4, 3)
    solver = Solver(model, data, update_rule=rule, optim_config={"learning_rate": lr}, num_epochs=5,
                    batch_size=20, verbose=False)
    solver.train()
    assert np.mean(solver.loss_history[-10:]) < 0.5 * solver.loss_history[0]
    assert solver.best_val_acc > 0.9


def test_histories_decay_and_best_params(data):
    np.random.seed(0)
    model = SoftmaxRegression(4, 3)
    solver = Solver(model, data, update_rule="sgd", optim_config={"learning_rate": 0.5}, lr_decay=0.5,
                    num_epochs=3, batch_size=30, verbose=False)
    solver.train()
    iterations_per_epoch = 200 // 30
    assert len(solver.loss_history) == 3 * iterations_per_epoch
    assert len(solver.train_acc_history) == len(solver.val_acc_history) == 3 + 1  # first iteration + epochs
    assert solver.epoch == 3
    assert all(c["learning_rate"] == pytest.approx(0.5 * 0.5**3) for c in solver.optim_configs.values())
    assert solver.best_val_acc == max(solver.val_acc_history)
    for name in model.params:
        np.testing.assert_array_equal(model.params[name], solver.best_params[name])
        assert model.params[name] is not solver.best_params[name]


def test_optim_config_is_copied_per_parameter(data):
    config = {"learning_rate": 0.1}
    solver = Solver(SoftmaxRegression(4, 3), data, update_rule="adam", optim_config=config, num_epochs=1,
                    verbose=False)
    solver.train()
    assert config == {"learning_rate": 0.1}
    assert solver.optim_configs["W"]["m"].shape == (4, 3) and solver.optim_configs["b"]["m"].shape == (3,)


def test_check_accuracy_counts_correct_predictions():
    model = SoftmaxRegression(2, 2)
    model.params = {"W": np.eye(2), "b": np.zeros(2)}  # predicts the larger coordinate
    X = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0], [0.0, 3.0], [5.0, 4.0]])
    y = np.array([0, 1, 1, 1, 0])  # only [2, 1] (predicted 0) is wrong
    solver = Solver(model, {"X_train": X, "y_train": y, "X_val": X, "y_val": y}, verbose=False)
    assert solver.check_accuracy(X, y, batch_size=2) == pytest.approx(4 / 5)
    assert solver.check_accuracy(X[:0], y[:0]) == 0.0


def test_unknown_arguments_are_named(data):
    model = SoftmaxRegression(4, 3)
    with pytest.raises(ValueError, match="learning_rate"):
        Solver(model, data, learning_rate=1e-3)
    with pytest.raises(ValueError, match="'nesterov'.*sgd, sgd_momentum, rmsprop, adam"):
        Solver(model, data, update_rule="nesterov")
    with pytest.raises(ValueError, match="y_val"):
        Solver(model, {k: v for k, v in data.items() if k != "y_val"})
    with pytest.raises(ValueError, match="X_train has 200 samples but y_train has 199"):
        Solver(model, {**data, "y_train": data["y_train"][:-1]})
    with pytest.raises(ValueError, match="batch_size must be >= 1, got 0"):
        Solver(model, data, batch_size=0)
    with pytest.raises(ValueError, match="lr_decay"):
        Solver(model, data, lr_decay=-1.0)


def test_printed_history_and_progress_bar_go_to_stdout(data, capsys):
    np.random.seed(0)
    solver = Solver(SoftmaxRegression(4, 3), data, num_epochs=2, batch_size=50, print_every=3,
                    optim_config={"learning_rate": 0.1})
    solver.train()
    out, err = capsys.readouterr()
    assert "(Iteration 1 / 8) loss: " in out and "(Iteration 4 / 8) loss: " in out
    assert "(Epoch 0 / 2) train acc: " in out and "(Epoch 2 / 2) train acc: " in out
    assert "finished optimization. best validation accuracy: " in out
    assert err == ""  # a notebook grader counts any stderr output as a failure


def _train(data, tmp_path, num_epochs, resume_from=None):
    kwargs = {"resume_from": resume_from} if resume_from else {}
    model = SoftmaxRegression(4, 3)
    solver = Solver(model, data, update_rule="adam", optim_config={"learning_rate": 0.05}, lr_decay=0.9,
                    num_epochs=num_epochs, batch_size=40, num_train_samples=50, verbose=False,
                    checkpoint_name=str(tmp_path / "run"), **kwargs)
    solver.train()
    return solver


def test_resuming_from_a_checkpoint_repeats_the_uninterrupted_run(data, tmp_path):
    np.random.seed(5)
    straight = _train(data, tmp_path / "a", num_epochs=3)
    np.random.seed(5)
    _train(data, tmp_path / "b", num_epochs=1)
    np.random.seed(123)  # whatever happens in between, the checkpoint's random state is restored
    resumed = _train(data, tmp_path / "c", num_epochs=3, resume_from=tmp_path / "b" / "run_epoch_1.npz")

    assert resumed.loss_history == straight.loss_history
    assert resumed.val_acc_history == straight.val_acc_history
    for name in straight.model.params:
        np.testing.assert_array_equal(resumed.model.params[name], straight.model.params[name])
        np.testing.assert_array_equal(resumed.optim_configs[name]["v"], straight.optim_configs[name]["v"])
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [f"run_epoch_{k}.npz" for k in (1, 2, 3)]


def test_checkpoint_file_holds_only_plain_arrays(data, tmp_path):
    np.random.seed(0)
    solver = _train(data, tmp_path, num_epochs=1)
    with np.load(tmp_path / "run_epoch_1.npz", allow_pickle=False) as archive:
        state = json.loads(str(archive["state"]))
        assert archive["params/W"].shape == (4, 3)
        assert archive["optim/W/m"].shape == (4, 3)
    assert state["epoch"] == 1 and state["update_rule"] == "adam"
    assert state["optim_scalars"]["W"]["t"] == 200 // 40
    assert state["optim_scalars"]["W"]["learning_rate"] == pytest.approx(0.05 * 0.9)
    assert state["loss_history"] == solver.loss_history


def test_restoring_into_a_different_model_is_refused(data, tmp_path):
    np.random.seed(0)
    _train(data, tmp_path, num_epochs=1)
    other = Solver(SoftmaxRegression(4, 5), data, verbose=False)
    with pytest.raises(ValueError, match="do not match the model"):
        other.restore_checkpoint(tmp_path / "run_epoch_1.npz")
    np.savez(tmp_path / "plain.npz", x=np.zeros(2))
    with pytest.raises(ValueError, match="not a Solver checkpoint"):
        other.restore_checkpoint(tmp_path / "plain.npz")


def test_rule_names_match_the_optim_module():
    assert set(optim.UPDATE_RULES) == {"sgd", "sgd_momentum", "rmsprop", "adam"}
