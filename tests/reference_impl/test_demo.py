"""The built-in demo, run end to end for one epoch through its command line."""
import numpy as np
import pytest

from reference_impl import demo


@pytest.mark.slow
def test_one_epoch_demo_writes_plots_and_learns(tmp_path, capsys):
    demo.main(["--out", str(tmp_path), "--epochs", "1"])
    out = capsys.readouterr().out
    for name in ("training_history.png", "first_layer_filters.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert str(tmp_path / name) in out
    assert (tmp_path / "cache" / "cifar-10-batches-py" / "test_batch").is_file()
    summary = next(line for line in out.splitlines() if line.startswith("accuracy after 1 epochs"))
    val_acc = float(summary.split("val ")[1].split(",")[0])
    assert val_acc > 0.5  # chance is 0.1; one epoch on the digits already gets most of them


def test_filter_picture_has_one_tile_per_filter(tmp_path):
    import matplotlib.image

    W1 = np.random.default_rng(0).standard_normal((4, 3, 5, 5))
    demo._save_filter_grid(W1, tmp_path / "filters.png")
    picture = matplotlib.image.imread(tmp_path / "filters.png")
    # 2x2 tiles of 5 weights plus 1 padding weight, each weight drawn 8 pixels wide.
    assert picture.shape[:2] == ((2 * 5 + 1) * 8, (2 * 5 + 1) * 8)
