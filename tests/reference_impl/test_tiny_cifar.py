"""The tiny stand-in set: deterministic bytes, the real CIFAR-10 pickle layout, labels that are the digits."""
import pickle

import numpy as np
import pytest
from sklearn.datasets import load_digits

from reference_impl import tiny_cifar

FILES = ["batches.meta", "data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5",
         "test_batch"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tiny_cifar.make_tiny_cifar10(tmp_path_factory.mktemp("tiny"))


def _load(path, encoding):
    with open(path, "rb") as f:
        return pickle.load(f, encoding=encoding)


def test_writes_exactly_the_cifar_files(folder):
    assert folder.name == "cifar-10-batches-py"
    assert sorted(p.name for p in folder.iterdir()) == FILES


def test_two_builds_are_byte_identical(folder, tmp_path):
    again = tiny_cifar.make_tiny_cifar10(tmp_path)
    for name in FILES:
        assert (again / name).read_bytes() == (folder / name).read_bytes(), name


def test_readable_like_the_python2_originals(folder):
    # The original files hold Python 2 byte strings: str keys under latin1, bytes keys under 'bytes'.
    as_text = _load(folder / "data_batch_1", "latin1")
    as_bytes = _load(folder / "data_batch_1", "bytes")
    assert set(as_text) == {"data", "labels", "batch_label", "filenames"}
    assert set(as_bytes) == {b"data", b"labels", b"batch_label", b"filenames"}
    assert as_text["data"].dtype == np.uint8 and as_text["data"].shape == (300, 3072)
    np.testing.assert_array_equal(as_text["data"], as_bytes[b"data"])
    assert isinstance(as_text["labels"], list) and all(type(v) is int for v in as_text["labels"])
    assert as_text["batch_label"] == "training batch 1 of 5"
    test = _load(folder / "test_batch", "latin1")
    assert test["data"].shape == (297, 3072)
    meta = _load(folder / "batches.meta", "latin1")
    assert meta["label_names"][3] == "three" and meta["num_vis"] == 3072
    assert meta["num_cases_per_batch"] == 300


def test_images_are_the_digits_enlarged_and_tinted(folder):
    batches = [_load(folder / name, "latin1") for name in FILES[1:]]
    data = np.concatenate([b["data"] for b in batches]).reshape(-1, 3, 32, 32).astype(int)
    labels = np.concatenate([b["labels"] for b in batches])
    digits = load_digits()
    # Every digit is used once: same label counts as scikit-learn's set.
    np.testing.assert_array_equal(np.bincount(labels), np.bincount(digits.target))
    # 4x4 blocks are constant (nearest-neighbour enlargement of 8x8 images).
    blocks = data.reshape(-1, 3, 8, 4, 8, 4)
    assert (blocks == blocks[:, :, :, :1, :, :1]).all()
    # The colour channels differ, and each image is brighter exactly where its digit has ink.
    assert not np.array_equal(data[:, 0], data[:, 1])
    small = blocks[:, :, :, 0, :, 0].sum(axis=1)  # (N, 8, 8) summed over colours
    digit_of = {d.tobytes(): t for d, t in zip((digits.images > 0), digits.target)}
    found = [digit_of.get((s > s.min()).tobytes()) for s in small[:50]]
    matched = [f for f in found if f is not None]
    assert len(matched) >= 40 and all(f == l for f, l in zip(found, labels[:50]) if f is not None)


def test_split_sizes_fit_the_files():
    split = tiny_cifar.TINY_SPLIT
    assert split["num_training"] + split["num_validation"] <= 5 * tiny_cifar.IMAGES_PER_TRAIN_BATCH
    assert split["num_test"] <= len(load_digits().target) - 5 * tiny_cifar.IMAGES_PER_TRAIN_BATCH
    assert split["num_training"] >= 1000 and split["num_validation"] >= 100 and split["num_test"] >= 150


def test_command_line(tmp_path, capsys):
    tiny_cifar.main([str(tmp_path / "out")])
    assert (tmp_path / "out" / "cifar-10-batches-py" / "test_batch").is_file()
    assert "num_training=1350" in capsys.readouterr().out


def test_archive_is_byte_identical_and_holds_the_written_files(folder):
    import io
    import zipfile
    first, second = tiny_cifar.tiny_cifar_archive(), tiny_cifar.tiny_cifar_archive()
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        packed = {name: archive.read(name) for name in archive.namelist()}
    assert packed == {f"cifar-10-batches-py/{p.name}": p.read_bytes() for p in folder.iterdir()}
