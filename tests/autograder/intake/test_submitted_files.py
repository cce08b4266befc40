"""A submission's files are read only as regular files of their own: links and special files are refused."""
import os

import pytest

from autograder.intake.notebook_reader import NotebookError, read_notebook
from autograder.intake.submitted_files import (ADVICE, SUBMIT_THE_FILE_ITSELF, RefusedFile, advice, private_copies,
                                              read_submitted, submitted_digest)


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "theirs.npz").write_bytes(b"another student's file")
    (tmp_path / "mine").mkdir()
    return tmp_path


def test_a_regular_file_is_copied_byte_for_byte(folder):
    (folder / "mine" / "m.npz").write_bytes(b"x" * 3000)
    copies, refused = private_copies({"m.npz": folder / "mine" / "m.npz"}, folder, 1 << 20)
    assert refused == {} and copies["m.npz"].read_bytes() == b"x" * 3000 and copies["m.npz"].parent == folder


@pytest.mark.parametrize("kind, words", [("symlink", "symbolic link"), ("hardlink", "hard link (2 names"),
                                         ("fifo", "named pipe (FIFO)"), ("dev", "character device")])
def test_links_and_special_files_are_refused_naming_the_file(folder, kind, words):
    path = folder / "mine" / "m.npz"
    if kind == "symlink":
        path.symlink_to(folder / "other" / "theirs.npz")
    elif kind == "hardlink":
        os.link(folder / "other" / "theirs.npz", path)
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
        words = "symbolic link"
    copies, refused = private_copies({"m.npz": path}, folder, 1 << 20)
    assert copies == {} and words in refused["m.npz"] and refused["m.npz"].startswith("m.npz was refused")
    with pytest.raises(RefusedFile, match="m.npz"):
        read_submitted(path, 1 << 20)
    assert submitted_digest(path, 1 << 20) != submitted_digest(folder / "other" / "theirs.npz", 1 << 20)


def test_an_oversized_file_is_refused_before_reading(folder):
    path = folder / "mine" / "m.npz"
    path.write_bytes(b"x" * 2048)
    message = private_copies({"m.npz": path}, folder, 1024)[1]["m.npz"]
    assert message.startswith("m.npz was refused: it is 0.0 MiB, over the 0.0 MiB the grader reads")
    # the advice fits the cause: a size problem is not told to avoid links
    assert advice(message).startswith("save it again with the notebook's own cell") and "link" not in advice(message)


def test_every_refusal_says_what_the_student_can_do(folder):
    path = folder / "mine" / "m.npz"
    path.symlink_to(folder / "other" / "theirs.npz")
    linked = private_copies({"m.npz": path}, folder, 1 << 20)[1]["m.npz"]
    assert ADVICE in linked and advice(linked) == SUBMIT_THE_FILE_ITSELF
    assert advice("a message without advice") == SUBMIT_THE_FILE_ITSELF


def test_a_missing_file_is_simply_absent(folder):
    assert private_copies({"m.npz": folder / "mine" / "m.npz"}, folder, 1024) == ({}, {})


def test_a_symlinked_notebook_is_never_read_through(folder):
    path = folder / "mine" / "N.ipynb"
    path.symlink_to(folder / "other" / "theirs.npz")
    with pytest.raises(NotebookError, match="N.ipynb was refused: N.ipynb is a symbolic link"):
        read_notebook(path)
