"""`python -m autograder`: argument checking, exit codes, and the fall-back to the demo class."""
from __future__ import annotations

import subprocess
import sys

import pytest

import autograder.cli as cli
import autograder.pipeline as pipeline
from assignments.convnets import CONVNETS
from stub_engine import StubSettings, all_items, stub_grade_submission, write_submission


@pytest.fixture
def stubbed(monkeypatch, tmp_path):
    """The CLI with the stub engine and its settings in place of the real ones."""
    control = tmp_path / "control"
    control.mkdir()
    monkeypatch.setattr(pipeline, "default_grader", stub_grade_submission)
    monkeypatch.setattr(cli, "load_settings", lambda course, assignment: StubSettings(control=str(control)))
    return control


def _run(*args: str) -> int:
    return cli.main(["grade", "--jobs", "1", "--no-progress", *args])


def test_help_lists_both_commands():
    done = subprocess.run([sys.executable, "-m", "autograder", "--help"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0
    assert "grade" in done.stdout and "demo-class" in done.stdout


@pytest.mark.parametrize("args, message", [
    (["grade", "--jobs", "0"], "--jobs must be at least 1, got 0"),
    (["grade", "--jobs", "two"], "expected a whole number of processes, got 'two'"),
    (["grade", "--student", "../alice"], "invalid student id '../alice'"),
    ([], "required: command"),
])
def test_bad_arguments_exit_with_a_specific_message(capsys, args, message):
    with pytest.raises(SystemExit) as stopped:
        cli.main(args)
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def test_grade_writes_the_reports_and_prints_the_summary(stubbed, tmp_path, capsys):
    write_submission(tmp_path, "alice", all_items(1.0))
    write_submission(tmp_path, "bob", {})
    assert _run("--course-dir", str(tmp_path)) == 0
    out = capsys.readouterr().out
    assert "Students: 2" in out and "This run: graded 2, reused 0 cached result(s)" in out
    assert "gradebook not updated: no gradebook at" in out and "make release" in out
    assert (tmp_path / "grades" / "grades.csv").read_text().count("\n") == 3
    assert _run("--course-dir", str(tmp_path), "--student", "bob") == 0
    assert "This run: graded 1, reused 0 cached result(s)" in capsys.readouterr().out


def test_regrading_an_unknown_student_is_an_error(stubbed, tmp_path, capsys):
    write_submission(tmp_path, "alice")
    assert _run("--course-dir", str(tmp_path), "--student", "zoe") == 2
    assert "no submission for student 'zoe'" in capsys.readouterr().err


def test_grader_errors_give_exit_status_1(stubbed, tmp_path, capsys):
    write_submission(tmp_path, "alice")
    (stubbed / "crash_alice").touch()
    assert _run("--course-dir", str(tmp_path)) == 1
    assert "GRADER ERROR for alice" in capsys.readouterr().out


def test_no_submissions_grades_the_demo_class(monkeypatch, tmp_path, capsys):
    calls = []
    monkeypatch.setattr(cli, "run_demo", lambda dest, jobs, progress, dask="": calls.append((dest, jobs)) or 0)
    assert _run("--course-dir", str(tmp_path)) == 0
    assert calls == [(None, 1)]
    assert "No submissions under" in capsys.readouterr().out
    assert _run("--course-dir", str(tmp_path), "--student", "alice") == 2


def test_no_submissions_in_a_released_course_is_an_error_naming_the_folder(monkeypatch, tmp_path, capsys):
    calls = []
    monkeypatch.setattr(cli, "run_demo", lambda dest, jobs, progress, dask="": calls.append(dest) or 0)
    (tmp_path / "release" / CONVNETS.name).mkdir(parents=True)
    (tmp_path / "submitted").mkdir()
    assert _run("--course-dir", str(tmp_path)) == 2
    assert calls == []
    assert str(tmp_path / "submitted") in capsys.readouterr().err


def test_grading_stops_with_exit_status_2_and_says_what_to_enable_when_namespaces_are_missing(
        tmp_path, monkeypatch, capsys):
    from autograder import engine
    from autograder.sandbox import launch
    from autograder.settings import GradingSettings
    from fixture_builder import build_fixture, render_course
    source = render_course(tmp_path / "course")
    notebook = build_fixture("full_marks_reference", source, tmp_path / "fixtures")
    submitted = tmp_path / "course" / "submitted" / "alice" / "convnets"
    submitted.mkdir(parents=True)
    submitted.joinpath(notebook.name).write_bytes(notebook.read_bytes())
    ran = []
    monkeypatch.setattr(launch, "namespaces_available", lambda: False)
    monkeypatch.setattr(launch, "namespace_probe", lambda: "unshare: unshare failed: Operation not permitted")
    monkeypatch.setattr(engine, "run_worker", lambda *args, **kwargs: ran.append(args))
    monkeypatch.setattr(cli, "load_settings", lambda course, name: GradingSettings(source_notebook=source))
    assert _run("--course-dir", str(tmp_path / "course"), "--assignment", "convnets") == 2
    message = capsys.readouterr().err
    assert "Operation not permitted" in message and "unshare -r -mnpi" in message and ran == []
    assert not (tmp_path / "course" / "grades" / ".cache" / "convnets" / "alice.json").exists()
