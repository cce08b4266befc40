"""Data on the device, accuracy, and one epoch of training on the tiny CIFAR-format data set.

The seed's figures (above 43% after one barebones epoch, above 45% for the Sequential net) are for real
CIFAR-10, which cannot be downloaded here, so they are not checked. The bounds below were measured on the
tiny data set (1350 training images of coloured digits, 150 validation images; chance is 10%) over seeds 0..19
with the seed's settings (batch 64; barebones SGD 3e-3; Sequential Nesterov SGD 5e-4):
barebones validation accuracy 22%..86% (median 70%), Sequential 84%..91% (median 89%).
Each test uses one fixed seed and a bound below the worst seed measured.
"""
import numpy as np
import pytest
import torch

from reference_impl.frameworks.prep import MiniBatches
from reference_impl.frameworks.torch_barebones import three_layer_convnet, three_layer_convnet_init, train_step
from reference_impl.frameworks.torch_data import as_batch, choose_device, load_cifar10_torch
from reference_impl.frameworks.torch_sequential import nesterov_sgd, sequential_convnet
from reference_impl.frameworks.torch_training import check_accuracy, train_module, train_one_epoch
from reference_impl.tiny_cifar import TINY_SPLIT, make_tiny_cifar10


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    return load_cifar10_torch(cifar10_dir=make_tiny_cifar10(tmp_path_factory.mktemp("tiny")), **TINY_SPLIT)


def test_data_are_float32_nchw_tensors(tiny_data):
    assert tiny_data["X_train"].shape == (TINY_SPLIT["num_training"], 3, 32, 32)
    assert tiny_data["X_val"].dtype == torch.float32 and tiny_data["y_val"].dtype == torch.int64
    means = tiny_data["X_train"].double().mean(dim=(0, 2, 3))
    np.testing.assert_allclose(means.numpy(), 0, atol=1e-4)


def test_device_choice_works_without_a_gpu(monkeypatch):
    assert choose_device(use_gpu=False) == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert choose_device() == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert choose_device() == torch.device("cuda")


def test_as_batch_converts_numpy_batches():
    x, y = as_batch(np.zeros((2, 3, 4, 4), dtype=np.float64), np.array([1, 2], dtype=np.int32), "cpu")
    assert x.dtype == torch.float32 and y.dtype == torch.int64


def test_check_accuracy_counts_and_restores_training_mode():
    x = torch.eye(4).repeat(2, 1)  # 8 "images" whose scores are the rows themselves
    y = torch.tensor([0, 1, 2, 3, 0, 0, 0, 0])  # the first five are right
    assert check_accuracy(lambda batch: batch, MiniBatches(x, y, 3)) == 5 / 8
    model = torch.nn.Sequential(torch.nn.Identity())
    model.train()
    check_accuracy(model, MiniBatches(x, y, 3))
    assert model.training
    with pytest.raises(ValueError, match="no batches"):
        check_accuracy(model, [])


def test_one_barebones_epoch_learns(tiny_data):
    torch.manual_seed(0)
    params = three_layer_convnet_init()
    val = MiniBatches(tiny_data["X_val"], tiny_data["y_val"], 64)
    before = check_accuracy(lambda x: three_layer_convnet(x, params), val)
    train = MiniBatches(tiny_data["X_train"], tiny_data["y_train"], 64, shuffle=True, seed=0)
    losses = train_one_epoch(three_layer_convnet, params, train_step, train, 3e-3, print_every=0)
    after = check_accuracy(lambda x: three_layer_convnet(x, params), val)
    assert len(losses) == len(train) and np.all(np.isfinite(losses))
    assert after >= 0.20 and after > before, f"validation accuracy {before:.3f} -> {after:.3f}"


def test_one_sequential_epoch_learns(tiny_data):
    torch.manual_seed(0)
    model = sequential_convnet()
    train = MiniBatches(tiny_data["X_train"], tiny_data["y_train"], 64, shuffle=True, seed=0)
    losses = train_module(model, nesterov_sgd(model.parameters(), 5e-4), train, print_every=0)
    accuracy = check_accuracy(model, MiniBatches(tiny_data["X_val"], tiny_data["y_val"], 64))
    assert len(losses) == len(train) and np.mean(losses[-5:]) < np.mean(losses[:5])
    assert accuracy >= 0.80, f"validation accuracy {accuracy:.3f} after one epoch"
