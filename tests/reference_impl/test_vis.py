"""Filter grids, training plots and the sample photo."""
import types
import warnings

import numpy as np
import pytest

from reference_impl import vis


def test_grid_layout_scaling_and_padding():
    rng = np.random.default_rng(0)
    Xs = rng.standard_normal((5, 3, 2, 3))  # 5 images of 3x2 pixels: a 3x3 grid of tiles
    grid = vis.visualize_grid(Xs, ubound=10.0, padding=2)
    assert grid.shape == (3 * 3 + 2 * 2, 3 * 2 + 2 * 2, 3)
    for i in range(5):
        row, col = divmod(i, 3)
        tile = grid[row * 5:row * 5 + 3, col * 4:col * 4 + 2]
        expected = 10.0 * (Xs[i] - Xs[i].min()) / (Xs[i].max() - Xs[i].min())
        np.testing.assert_allclose(tile, expected, rtol=1e-12)
    assert (grid[3:5] == 0).all() and (grid[:, 2:4] == 0).all()  # padding rows and columns
    assert (grid[10:, 8:] == 0).all()  # the unused ninth tile


def test_constant_images_become_black_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        grid = vis.visualize_grid(np.full((1, 4, 4, 3), 7.0))
    assert grid.shape == (4, 4, 3) and (grid == 0).all()


def test_grid_rejects_wrong_rank():
    with pytest.raises(ValueError, match=r"\(N, H, W, C\).*\(3, 4, 4\)"):
        vis.visualize_grid(np.zeros((3, 4, 4)))


def test_training_plot_is_written(tmp_path):
    solver = types.SimpleNamespace(loss_history=[2.3, 2.0, 1.5, 1.2], train_acc_history=[0.1, 0.5, 0.8],
                                   val_acc_history=[0.1, 0.4, 0.6])
    vis.plot_training_history(solver, path=tmp_path / "history.png")
    assert (tmp_path / "history.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sample_photo_is_a_colour_photo():
    photo = vis.sample_photo()
    assert photo.dtype == np.uint8 and photo.ndim == 3 and photo.shape[2] == 3
    assert min(photo.shape[:2]) >= 256
    assert photo.std() > 20 and not np.array_equal(photo[..., 0], photo[..., 2])


def test_sample_photo_square_crop_and_nearest_resize():
    photo = vis.sample_photo()
    H, W, _ = photo.shape
    side = min(H, W)
    top, left = (H - side) // 2, (W - side) // 2
    crop = photo[top:top + side, left:left + side]
    np.testing.assert_array_equal(vis.sample_photo(side), crop)  # same size: the crop itself
    # Shrinking by 4 samples the centre of each 4x4 block, i.e. rows and columns 2, 6, 10, ...
    assert side % 4 == 0
    np.testing.assert_array_equal(vis.sample_photo(side // 4), crop[2::4, 2::4])
    with pytest.raises(ValueError, match="size"):
        vis.sample_photo(0)
