"""The Gradescope upload is read as `make grade` reads a submission folder: each file as a regular file of its
own. A symbolic or hard link, or a pipe, in the upload is refused with the local intake's message and costs only
what depends on it; a linked notebook grades nothing; nothing blocks."""
from __future__ import annotations

import os

import pytest

from assignments.convnets import CONVNETS, EXPERIMENT_FILE
from autograder.gradescope_autograder.run import STUDENT, grade_upload
from autograder.intake.course_layout import inspect_submission, ungraded_result
from autograder.pipeline import default_grader
from autograder.settings import GradingSettings
from fixture_builder import build_fixture, render_course, save_small_experiment_model



def _plant(folder, name, kind, elsewhere):
    """``folder/name`` as a ``kind`` ("symlink", "hard link" or "fifo") of ``elsewhere``."""
    if kind == "symlink":
        os.symlink(elsewhere, folder / name)
    elif kind == "hard link":
        os.link(elsewhere, folder / name)
    else:
        os.mkfifo(folder / name)  # nobody ever writes to it: a blocking read would wait forever


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("gradescope_links")
    source = render_course(root / "instructor")
    settings = GradingSettings(source_notebook=source, test_seconds=3.0, cell_seconds=5.0)
    notebook = build_fixture("release_untouched_earns_zero", source, root / "built")
    return root, settings, notebook, save_small_experiment_model(root / "alice_experiment_model.npz")


def _both(course, tmp_path, name, kind):
    """(the upload's result, make grade's result) for a submission whose ``name`` is planted as ``kind``."""
    root, settings, notebook, theirs = course
    upload = tmp_path / "upload"
    local = tmp_path / "local" / "submitted" / "mallory" / "convnets"
    for folder in (upload, local):
        folder.mkdir(parents=True)
        if name != notebook.name:
            (folder / notebook.name).write_bytes(notebook.read_bytes())
        _plant(folder, name, kind, theirs if name == EXPERIMENT_FILE else notebook)
    uploaded = grade_upload(upload, settings, key="mallory")
    submission = inspect_submission(tmp_path / "local", "mallory", CONVNETS)
    if submission.notebook is None:
        made = ungraded_result(STUDENT, CONVNETS, submission.problem)
    else:
        made = default_grader(submission.notebook, "mallory", settings, dict(submission.files))
    return uploaded, made


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["symlink", "hard link", "fifo"])
def test_a_linked_or_special_experiment_file_is_refused_as_make_grade_refuses_it(course, tmp_path, kind):
    uploaded, made = _both(course, tmp_path, EXPERIMENT_FILE, kind)
    experiment = [(t.name, t.score, t.message) for t in uploaded.tests if t.item == "experiment"]
    assert experiment == [(t.name, t.score, t.message) for t in made.tests if t.item == "experiment"]
    assert experiment and all(score == 0 and "was refused" in message for _, score, message in experiment)
    assert uploaded.problems == made.problems
    assert [(t.name, t.score) for t in uploaded.tests] == [(t.name, t.score) for t in made.tests]


@pytest.mark.parametrize("kind", ["symlink", "hard link"])
def test_a_linked_notebook_grades_nothing_with_make_grades_message(course, tmp_path, kind):
    root, _, notebook, _ = course
    uploaded, made = _both(course, tmp_path, notebook.name, kind)
    assert uploaded.score == 0 and uploaded.problems == made.problems
    assert any("link" in problem for problem in uploaded.problems)


def test_a_file_over_the_upload_cap_is_refused_with_the_cap_and_what_to_upload(tmp_path, monkeypatch):
    from autograder.gradescope_autograder import run
    from autograder.intake.submitted_files import advice
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / CONVNETS.notebook).write_bytes(b"{}" * 300)
    (upload / EXPERIMENT_FILE).write_bytes(b"x" * 900)
    monkeypatch.setattr(run, "MAX_UPLOAD_BYTES", 1000)
    refused = run._lay_out(upload, tmp_path / "course", CONVNETS)
    assert list(refused) == [EXPERIMENT_FILE]  # the notebook comes first in name order and fits
    assert refused[EXPERIMENT_FILE].startswith(f"{EXPERIMENT_FILE} was refused: it is 0.0 MiB, and with the files "
                                               "before it")
    assert advice(refused[EXPERIMENT_FILE]) == ("upload only the files the assignment asks for "
                                                f"({', '.join(CONVNETS.submission_files)})")
