"""Framework data preparation: layouts, per-channel statistics, and mini-batches."""
import numpy as np
import pytest

from reference_impl.frameworks.prep import (MiniBatches, channel_statistics, load_cifar10_for_framework,
                                            normalise)
from reference_impl.tiny_cifar import TINY_SPLIT, make_tiny_cifar10


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return make_tiny_cifar10(tmp_path_factory.mktemp("tiny"))


def test_layouts_hold_the_same_pixels(tiny_dir):
    nchw = load_cifar10_for_framework("NCHW", cifar10_dir=tiny_dir, **TINY_SPLIT)
    nhwc = load_cifar10_for_framework("NHWC", cifar10_dir=tiny_dir, **TINY_SPLIT)
    assert nchw["X_train"].shape == (TINY_SPLIT["num_training"], 3, 32, 32)
    assert nhwc["X_val"].shape == (TINY_SPLIT["num_validation"], 32, 32, 3)
    for split in ("X_train", "X_val", "X_test"):
        assert nchw[split].dtype == np.float32 and nhwc[split].dtype == np.float32
        np.testing.assert_allclose(nchw[split].transpose(0, 2, 3, 1), nhwc[split], rtol=0, atol=1e-6)
    np.testing.assert_array_equal(nchw["y_test"], nhwc["y_test"])


def test_training_split_is_standardised_per_channel(tiny_dir):
    data = load_cifar10_for_framework("NHWC", cifar10_dir=tiny_dir, **TINY_SPLIT)
    X = data["X_train"].astype(np.float64)
    np.testing.assert_allclose(X.mean(axis=(0, 1, 2)), 0, atol=1e-4)
    np.testing.assert_allclose(X.std(axis=(0, 1, 2)), 1, atol=1e-4)
    # The statistics are the raw training pixels' own, recomputed independently of the module.
    raw = load_cifar10_for_framework("NHWC", cifar10_dir=tiny_dir, **TINY_SPLIT)
    restored = raw["X_val"].astype(np.float64) * raw["std"] + raw["mean"]
    assert restored.min() >= -1e-3 and restored.max() <= 255 + 1e-3


def test_statistics_match_an_explicit_loop():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 255, size=(7, 3, 4, 5)).astype(np.float32)
    mean, std = channel_statistics(X, "NCHW")
    for c in range(3):
        values = X[:, c].astype(np.float64).ravel()
        assert mean[c] == pytest.approx(values.mean(), rel=1e-6)
        assert std[c] == pytest.approx(values.std(), rel=1e-6)
    before = X.copy()
    out = normalise(X, mean, std, "NCHW")
    np.testing.assert_array_equal(X, before)
    np.testing.assert_allclose(out[:, 1], (X[:, 1] - mean[1]) / std[1], rtol=1e-6)


def test_constant_channel_does_not_divide_by_zero():
    X = np.zeros((4, 2, 2, 3), dtype=np.float32)
    mean, std = channel_statistics(X, "NHWC")
    assert np.all(std == 1) and np.all(np.isfinite(normalise(X, mean, std, "NHWC")))


@pytest.mark.parametrize("bad", ["nchw", "CHW", None])
def test_unknown_layout_is_refused(bad):
    with pytest.raises(ValueError, match="layout must be one of NCHW, NHWC"):
        channel_statistics(np.zeros((1, 1, 1, 1)), bad)


def test_minibatches_cover_every_row_once_per_pass():
    X = np.arange(10)[:, None] * np.ones((1, 3))
    y = np.arange(10)
    batches = MiniBatches(X, y, batch_size=4, shuffle=True, seed=1)
    assert len(batches) == 3
    for _ in range(2):
        seen = [yb for _, yb in batches]
        assert [len(b) for b in seen] == [4, 4, 2]
        assert sorted(np.concatenate(seen).tolist()) == list(range(10))
    first, second = ([yb.tolist() for _, yb in batches] for _ in range(2))
    assert first != second  # reshuffled between passes
    ordered = [yb.tolist() for _, yb in MiniBatches(X, y, batch_size=4)]
    assert ordered == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    for xb, yb in MiniBatches(X, y, batch_size=3, shuffle=True, seed=2):
        np.testing.assert_array_equal(xb[:, 0], yb)


@pytest.mark.parametrize("size", [0, -1, 2.5, True])
def test_minibatches_refuse_bad_batch_sizes(size):
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        MiniBatches(np.zeros((3, 1)), np.zeros(3), batch_size=size)


def test_minibatches_refuse_mismatched_lengths():
    with pytest.raises(ValueError, match="3 images and 2 labels"):
        MiniBatches(np.zeros((3, 1)), np.zeros(2), batch_size=1)
