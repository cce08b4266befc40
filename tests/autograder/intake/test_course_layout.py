"""Finding submissions in the nbgrader course layout, with a clear message for each kind of bad folder."""
from __future__ import annotations

import os

import pytest

from assignments.convnets import CONVNETS, EXPERIMENT_FILE
from autograder.intake.course_layout import check_student_id, find_submissions, inspect_submission, ungraded_result
from autograder.intake.submitted_files import private_copies
from stub_engine import write_submission


def test_a_good_submission_yields_its_notebook_experiment_and_timestamp(tmp_path):
    notebook = write_submission(tmp_path, "alice", experiment=True)
    (notebook.parent / "timestamp.txt").write_text("2026-11-20 10:00:00 UTC\n")
    (notebook.parent / "numpy.py").write_text("raise SystemExit")  # present, never used
    [found] = find_submissions(tmp_path, CONVNETS)
    assert (found.student, found.notebook, found.problem) == ("alice", notebook, None)
    assert found.files == {EXPERIMENT_FILE: notebook.parent / EXPERIMENT_FILE}
    assert found.timestamp == "2026-11-20 10:00:00 UTC"


def test_no_submitted_folder_means_no_submissions(tmp_path):
    assert find_submissions(tmp_path, CONVNETS) == []


def test_students_are_sorted_and_hidden_folders_ignored(tmp_path):
    for student in ("zoe", "amy", ".ipynb_checkpoints"):
        write_submission(tmp_path, student)
    assert [s.student for s in find_submissions(tmp_path, CONVNETS)] == ["amy", "zoe"]


@pytest.mark.parametrize("layout, message", [
    ("other_assignment", "no assignment folder 'convnets/' in the submission; found: hw2"),
    ("wrong_name", "wrongly named notebook: found 'ConvolutionalNetworks (1).ipynb' but the assignment expects "
                   "'ConvolutionalNetworks.ipynb'"),
    ("no_notebook", "no notebook in convnets/: expected 'ConvolutionalNetworks.ipynb'"),
    ("symlink", "convnets/ConvolutionalNetworks.ipynb is a symbolic link"),
])
def test_bad_layouts_are_explained(tmp_path, layout, message):
    student = tmp_path / "submitted" / "bob"
    if layout == "other_assignment":
        (student / "hw2").mkdir(parents=True)
    elif layout == "wrong_name":
        write_submission(tmp_path, "bob", notebook_name="ConvolutionalNetworks (1).ipynb")
    elif layout == "no_notebook":
        (student / CONVNETS.name).mkdir(parents=True)
        (student / CONVNETS.name / "notes.txt").write_text("hi")
    else:
        secret = tmp_path / "source.ipynb"
        secret.write_text("{}")
        (student / CONVNETS.name).mkdir(parents=True)
        (student / CONVNETS.name / CONVNETS.notebook).symlink_to(secret)
    found = inspect_submission(tmp_path, "bob", CONVNETS)
    assert found.notebook is None
    assert message in found.problem


def test_a_symlinked_experiment_file_is_passed_on_to_be_refused_when_read(tmp_path):
    notebook = write_submission(tmp_path, "bob")
    (notebook.parent / EXPERIMENT_FILE).symlink_to(notebook)
    files = inspect_submission(tmp_path, "bob", CONVNETS).files
    copies, refused = private_copies(files, tmp_path, 1 << 20)
    assert copies == {} and "symbolic link" in refused[EXPERIMENT_FILE] and EXPERIMENT_FILE in refused[EXPERIMENT_FILE]


def test_a_hard_linked_notebook_is_refused_naming_it(tmp_path):
    other = write_submission(tmp_path, "alice")
    folder = tmp_path / "submitted" / "bob" / CONVNETS.name
    folder.mkdir(parents=True)
    os.link(other, folder / CONVNETS.notebook)
    found = inspect_submission(tmp_path, "bob", CONVNETS)
    assert found.notebook is None
    assert f"{CONVNETS.name}/{CONVNETS.notebook} is a hard link (2 names for one file)" in found.problem


def test_a_fifo_notebook_is_refused_without_waiting(tmp_path):
    folder = tmp_path / "submitted" / "bob" / CONVNETS.name
    folder.mkdir(parents=True)
    os.mkfifo(folder / CONVNETS.notebook)
    found = inspect_submission(tmp_path, "bob", CONVNETS)
    assert found.notebook is None and "not a regular file" in found.problem


@pytest.mark.parametrize("bad", ["", ".", "..", "../alice", "a/b", ".hidden"])
def test_student_ids_must_be_plain_folder_names(bad):
    with pytest.raises(ValueError, match="invalid student id"):
        check_student_id(bad)


def test_an_ungraded_result_is_a_zero_on_every_item_with_the_reason():
    result = ungraded_result("bob", CONVNETS, "no notebook")
    assert result.score == 0 and result.max_score == CONVNETS.total_autograded_points
    assert [t.item for t in result.tests] == [g.name for g in CONVNETS.graded_items]
    assert result.problems == ["no notebook"] and all(t.message == "no notebook" for t in result.tests)
