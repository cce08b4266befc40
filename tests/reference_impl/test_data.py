"""The CIFAR-10 loader end to end on the tiny set, its default locations, and its errors."""
import pickle

import numpy as np
import pytest

from reference_impl import data
from reference_impl.tiny_cifar import TINY_SPLIT, make_tiny_cifar10


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    make_tiny_cifar10(root)
    return root


@pytest.fixture(autouse=True)
def no_env(monkeypatch):
    monkeypatch.delenv("CIFAR10_DIR", raising=False)


def _raw(folder, name):
    """Images (N, 3, 32, 32) and labels read with the standard unpickler, independently of the loader."""
    with open(folder / name, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    return batch[b"data"].reshape(-1, 3, 32, 32), np.array(batch[b"labels"])


def test_splits_shapes_labels_and_mean(tiny_root):
    d = data.get_CIFAR10_data(**TINY_SPLIT, cifar10_dir=tiny_root)
    folder = tiny_root / "cifar-10-batches-py"
    parts = [_raw(folder, f"data_batch_{i}") for i in range(1, 6)]
    raw_train = np.concatenate([p[0] for p in parts]).astype(np.float64)
    raw_labels = np.concatenate([p[1] for p in parts])
    raw_test, test_labels = _raw(folder, "test_batch")
    n_train, n_val, n_test = TINY_SPLIT["num_training"], TINY_SPLIT["num_validation"], TINY_SPLIT["num_test"]

    assert d["X_train"].shape == (n_train, 3, 32, 32) and d["X_val"].shape == (n_val, 3, 32, 32)
    assert d["X_test"].shape == (n_test, 3, 32, 32)
    assert all(d[k].dtype == np.float32 for k in ("X_train", "X_val", "X_test"))
    np.testing.assert_array_equal(d["y_train"], raw_labels[:n_train])
    np.testing.assert_array_equal(d["y_val"], raw_labels[n_train:n_train + n_val])
    np.testing.assert_array_equal(d["y_test"], test_labels[:n_test])

    mean = raw_train[:n_train].mean(axis=0)
    np.testing.assert_allclose(d["X_train"], raw_train[:n_train] - mean, atol=1e-3)
    np.testing.assert_allclose(d["X_val"], raw_train[n_train:n_train + n_val] - mean, atol=1e-3)
    np.testing.assert_allclose(d["X_test"], raw_test[:n_test] - mean, atol=1e-3)
    assert np.abs(d["X_train"].mean(axis=0)).max() < 1e-3


def test_without_mean_subtraction_pixels_are_raw(tiny_root):
    d = data.get_CIFAR10_data(num_training=10, num_validation=5, num_test=3, subtract_mean=False,
                              cifar10_dir=tiny_root / "cifar-10-batches-py")
    raw, _ = _raw(tiny_root / "cifar-10-batches-py", "data_batch_1")
    np.testing.assert_array_equal(d["X_train"], raw[:10])
    np.testing.assert_array_equal(d["X_val"], raw[10:15])


def test_load_cifar10_layout_is_height_width_channel(tiny_root):
    X_train, y_train, X_test, y_test = data.load_CIFAR10(tiny_root / "cifar-10-batches-py")
    assert X_train.shape == (1500, 32, 32, 3) and X_train.dtype == np.uint8
    assert X_test.shape == (297, 32, 32, 3) and y_test.shape == (297,)
    with open(tiny_root / "cifar-10-batches-py" / "data_batch_1", "rb") as f:
        flat = pickle.load(f, encoding="latin1")["data"]
    # Row-major colour planes: pixel (row 5, column 7, green) sits at 1024 + 5 * 32 + 7.
    assert X_train[3, 5, 7, 1] == flat[3, 1024 + 5 * 32 + 7]


def test_environment_variable_and_default_folder(tiny_root, monkeypatch, tmp_path):
    monkeypatch.setenv("CIFAR10_DIR", str(tiny_root))
    assert data.find_cifar10_dir() == tiny_root / "cifar-10-batches-py"
    monkeypatch.delenv("CIFAR10_DIR")
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "cifar-10-batches-py").symlink_to(tiny_root / "cifar-10-batches-py")
    monkeypatch.chdir(tmp_path)
    assert data.find_cifar10_dir() == tmp_path / "datasets" / "cifar-10-batches-py"


def test_missing_data_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError) as error:
        data.get_CIFAR10_data(cifar10_dir=tmp_path / "nowhere")
    message = str(error.value)
    assert "nowhere" in message
    assert "python -m reference_impl.download --dest datasets" in message
    assert "python -m reference_impl.tiny_cifar" in message


def test_missing_environment_folder_is_not_silently_ignored(monkeypatch, tmp_path):
    monkeypatch.setenv("CIFAR10_DIR", str(tmp_path / "gone"))
    with pytest.raises(FileNotFoundError, match="CIFAR10_DIR"):
        data.find_cifar10_dir()


@pytest.mark.parametrize("sizes, numbers", [
    ({"num_training": 1400, "num_validation": 101}, "1501.*1500"),
    ({"num_training": 10, "num_test": 298}, "298.*297"),
])
def test_asking_for_too_many_images(tiny_root, sizes, numbers):
    with pytest.raises(ValueError, match=numbers):
        data.get_CIFAR10_data(**{"num_validation": 0, "num_test": 0, **sizes}, cifar10_dir=tiny_root)


def test_bad_split_arguments(tiny_root):
    with pytest.raises(TypeError, match="num_training"):
        data.get_CIFAR10_data(num_training=10.0, cifar10_dir=tiny_root)
    with pytest.raises(ValueError, match="num_test must be >= 0, got -1"):
        data.get_CIFAR10_data(num_training=10, num_test=-1, cifar10_dir=tiny_root)


def test_truncated_batch_is_named(tmp_path):
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({"data": np.zeros((2, 3072), np.uint8), "labels": [0, 1]}, protocol=2)[:-20])
    with pytest.raises(ValueError, match="data_batch_1.*not a readable"):
        data.load_CIFAR_batch(path)


def test_wrong_shape_batch_is_named(tmp_path):
    path = tmp_path / "data_batch_2"
    path.write_bytes(pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}))
    with pytest.raises(ValueError, match=r"data_batch_2.*\(N, 3072\).*\(2, 100\)"):
        data.load_CIFAR_batch(path)
    path.write_bytes(pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 12]}))
    with pytest.raises(ValueError, match="data_batch_2.*0..9.*0..12"):
        data.load_CIFAR_batch(path)


def test_python3_pickles_with_bytes_keys_load(tmp_path):
    path = tmp_path / "test_batch"
    images = np.arange(2 * 3072, dtype=np.int64).astype(np.uint8).reshape(2, 3072)
    path.write_bytes(pickle.dumps({b"data": images, b"labels": [4, 2]}, protocol=4))
    X, y = data.load_CIFAR_batch(path)
    assert X.shape == (2, 32, 32, 3) and list(y) == [4, 2]
    assert X[1, 0, 0, 2] == images[1, 2048]


class _RunsCode:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_pickles_that_call_functions_are_refused(tmp_path, capsys):
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({"data": _RunsCode(), "labels": []}, protocol=2))
    with pytest.raises(ValueError, match="refusing to load .*print"):
        data.load_CIFAR_batch(path)
    assert "must never run" not in capsys.readouterr().out


@pytest.fixture(scope="module")
def tiny_archive(tmp_path_factory):
    from reference_impl.tiny_cifar import tiny_cifar_archive
    path = tmp_path_factory.mktemp("archive") / "tiny_cifar10.zip"
    path.write_bytes(tiny_cifar_archive())
    return path


def test_tiny_archive_loads_like_the_unpacked_folder(tiny_archive, tiny_root):
    from_zip = data.get_tiny_CIFAR10_data(archive=tiny_archive)
    from_folder = data.get_CIFAR10_data(**TINY_SPLIT, cifar10_dir=tiny_root)
    assert from_zip.keys() == from_folder.keys()
    for key in from_zip:
        np.testing.assert_array_equal(from_zip[key], from_folder[key])


def test_missing_or_wrong_tiny_archive_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="gone.zip is missing"):
        data.get_tiny_CIFAR10_data(archive=tmp_path / "gone.zip")
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="bad.zip is not the tiny data set"):
        data.get_tiny_CIFAR10_data(archive=tmp_path / "bad.zip")


@pytest.mark.parametrize("variable, value, expected", [
    (None, None, False), ("CONVKIT_SMALL_DATA", "1", True), ("CONVKIT_SMALL_DATA", "0", False),
    ("NBGRADER_EXECUTION", "autograde", True), ("CONVKIT_GRADING", "1", True)])
def test_small_data_mode_follows_the_switch_and_the_graders(monkeypatch, variable, value, expected):
    for name in ("CONVKIT_SMALL_DATA", "NBGRADER_EXECUTION", "CONVKIT_GRADING"):
        monkeypatch.delenv(name, raising=False)
    if variable:
        monkeypatch.setenv(variable, value)
    assert data.small_data_mode() is expected
    assert data.small_data_mode(True) is True
    with pytest.raises(TypeError, match="True or False"):
        data.small_data_mode("yes")


@pytest.mark.parametrize("loaded", [None, {}, {"X_train": 1}, [1, 2]])
def test_require_data_stops_with_one_clear_message(loaded):
    with pytest.raises(data.DataNotLoadedError, match="no data is loaded.*USE_SMALL_DATA = True"):
        data.require_data(loaded)


def test_require_data_accepts_the_loaded_splits(tiny_root):
    data.require_data(data.get_CIFAR10_data(num_training=10, num_validation=5, num_test=5, cifar10_dir=tiny_root))
