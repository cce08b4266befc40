"""Safe failures around the gradebook and the reports: a damaged gradebook stops the run before anything is
written, every gradebook write is backed up and undone when it fails, Ctrl-C says in one line what was saved,
reports are readable by the owner's group, and a stray extra notebook is reported to its student."""
from __future__ import annotations

import io
import sqlite3
import stat
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

import autograder.cli as cli
import autograder.reports.gradebook as gradebook_writer
import autograder.pipeline as pipeline
from assignments.convnets import CONVNETS
from autograder.reports.gradebook_safety import (GradebookDamaged, back_up, backed_up, backups, check_gradebook)
from autograder.pipeline import grade_course
from autograder.settings import GradingSettings
from stub_engine import StubSettings, all_items, stub_grade_submission, write_submission


def _course(tmp_path: Path) -> Path:
    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.db_url = 'sqlite:///gradebook.db'\n")
    write_submission(course, "alice", all_items(1.0))
    write_submission(course, "bob", all_items(0.5))
    return course


def _real_gradebook(path: Path) -> Path:
    """An empty but genuine nbgrader gradebook (nbgrader creates its tables) with one student in it."""
    with Gradebook(f"sqlite:///{path}") as gb:
        gb.add_student("manually_graded_student")
    return path


def _students(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return sorted(row[0] for row in db.execute("SELECT id FROM student"))


def _grade(course: Path, **kwargs):
    return grade_course(course, StubSettings(), jobs=1, grader=stub_grade_submission, progress=False,
                        out=io.StringIO(), **kwargs)


@pytest.mark.parametrize("content, words", [
    (b"", "empty (0 bytes)"),
    (b"this is not a database at all, just text" * 100, "cannot be read as a SQLite database"),
])
def test_a_damaged_gradebook_stops_the_run_before_anything_is_written(tmp_path, content, words):
    course = _course(tmp_path)
    (course / "gradebook.db").write_bytes(content)
    with pytest.raises(GradebookDamaged, match=r"(?s)" + words.replace("(", r"\(").replace(")", r"\)")
                       + ".*Nothing was written"):
        _grade(course)
    assert not (course / "grades").exists() and not (course / "autograded").exists()
    assert (course / "gradebook.db").read_bytes() == content


def test_a_gradebook_with_damaged_pages_is_refused_before_anything_is_written(tmp_path):
    course = _course(tmp_path)
    path = _real_gradebook(course / "gradebook.db")
    with open(path, "r+b") as stream:  # a disk error in the middle of the file: the header is still fine
        stream.seek(2 * 4096)
        stream.write(b"\xde\xad\xbe\xef" * 1024)
    damaged = path.read_bytes()
    with pytest.raises(GradebookDamaged, match="(?s)gradebook.*Nothing was written"):
        _grade(course)
    assert not (course / "grades").exists() and path.read_bytes() == damaged


def test_a_sqlite_file_that_is_not_a_gradebook_is_refused(tmp_path):
    path = tmp_path / "gradebook.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
    with pytest.raises(GradebookDamaged, match="not an nbgrader gradebook"):
        check_gradebook(path)
    check_gradebook(_real_gradebook(tmp_path / "real.db"))  # a genuine one passes
    check_gradebook(tmp_path / "missing.db")  # nothing to protect yet


def test_the_cli_prints_the_damage_and_exits_non_zero(tmp_path, monkeypatch, capsys):
    course = _course(tmp_path)
    (course / "gradebook.db").write_bytes(b"")
    monkeypatch.setattr(pipeline, "default_grader", stub_grade_submission)
    assert cli.main(["grade", "--course-dir", str(course), "--jobs", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "gradebook" in err and "0 bytes" in err and "Traceback" not in err


def test_backups_are_consistent_copies_and_only_the_newest_are_kept(tmp_path):
    path = _real_gradebook(tmp_path / "gradebook.db")
    made = [back_up(path, keep=2) for _ in range(3)]
    assert backups(path) == made[1:]
    assert _students(made[-1]) == ["manually_graded_student"]
    assert all(stat.S_IMODE(b.stat().st_mode) == stat.S_IMODE(path.stat().st_mode) for b in made[1:])


def test_a_failed_write_is_undone_from_the_backup(tmp_path):
    path = _real_gradebook(tmp_path / "gradebook.db")
    before = _students(path)
    with pytest.raises(KeyboardInterrupt):
        with backed_up(path) as backup:
            with Gradebook(f"sqlite:///{path}") as gb:
                gb.add_student("half_written")
            raise KeyboardInterrupt
    assert _students(path) == before
    assert backup in backups(path)


def _failing_write(course_dir, assignment, results, submissions, **kwargs):
    """Writes one row for real, then fails like a full disk."""
    db = Path(course_dir) / "gradebook.db"
    with Gradebook(f"sqlite:///{db}") as gb:
        gb.add_student("row_from_a_failed_write")
    raise OSError(28, "No space left on device")


def test_the_pipeline_restores_the_gradebook_and_says_so(tmp_path, monkeypatch):
    course = _course(tmp_path)
    before = _students(_real_gradebook(course / "gradebook.db"))
    monkeypatch.setattr(gradebook_writer, "write_gradebook", _failing_write)
    out = io.StringIO()
    run = grade_course(course, StubSettings(), jobs=1, grader=stub_grade_submission, progress=False, out=out)
    assert _students(course / "gradebook.db") == before
    assert "No space left on device" in run.gradebook_error
    assert "restored from" in out.getvalue()
    assert (course / "grades" / CONVNETS.name / "alice" / "feedback.html").is_file()


def interrupted_at_bob(notebook_path, student, settings, experiment_path=None):
    """Grades alice, then the instructor presses Ctrl-C while bob is being graded."""
    if student == "bob":
        raise KeyboardInterrupt
    return stub_grade_submission(notebook_path, student, settings, experiment_path)


def test_ctrl_c_ends_with_one_line_saying_what_was_saved(tmp_path, monkeypatch, capsys):
    course = _course(tmp_path)
    monkeypatch.setattr(pipeline, "default_grader", interrupted_at_bob)
    monkeypatch.setattr(cli, "load_settings", lambda course_dir, assignment: StubSettings())
    assert cli.main(["grade", "--course-dir", str(course), "--jobs", "1", "--no-progress"]) == 130
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Interrupted: 1 submission(s)" in lines[0], lines
    assert [p.name for p in (course / "grades" / ".cache" / CONVNETS.name).iterdir()] == ["alice.json"]


def test_ctrl_c_in_the_demo_class_ends_with_the_same_line(tmp_path, monkeypatch, capsys):
    import autograder.demo_class as demo_class
    course = _course(tmp_path)
    monkeypatch.setattr(pipeline, "default_grader", interrupted_at_bob)
    monkeypatch.setattr(demo_class, "build_demo_class", lambda repo_root, dest, only=None: course)
    monkeypatch.setattr(demo_class, "demo_settings", lambda settings, dest: StubSettings())
    assert cli.main(["demo-class", "--jobs", "1", "--no-progress"]) == 130
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Interrupted: 1 submission(s)" in lines[0], lines


def test_reports_are_group_readable_with_the_configured_mode(tmp_path):
    course = _course(tmp_path)
    _grade(course, gradebook=False)
    grades = course / "grades"
    for path in [grades / "grades.csv", grades / CONVNETS.name / "alice" / "feedback.html",
                 grades / CONVNETS.name / "bob" / "results.json"]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o640, path
    assert stat.S_IMODE((grades / CONVNETS.name / "alice").stat().st_mode) == 0o750
    with pytest.raises(ValueError, match="report_mode"):
        GradingSettings(report_mode=0o044)  # the owner could not read their own reports


def test_a_configured_report_mode_is_applied(tmp_path):
    course = _course(tmp_path)
    grade_course(course, _ModeSettings(), jobs=1, grader=stub_grade_submission, progress=False, gradebook=False,
                 out=io.StringIO())
    assert stat.S_IMODE((course / "grades" / CONVNETS.name / "summary.txt").stat().st_mode) == 0o600
    assert stat.S_IMODE((course / "grades").stat().st_mode) == 0o700


class _ModeSettings(StubSettings):
    report_mode = 0o600


def test_an_extra_notebook_beside_the_real_one_is_reported_to_its_student(tmp_path):
    course = _course(tmp_path)
    folder = course / "submitted" / "bob" / CONVNETS.name
    (folder / CONVNETS.notebook.replace(".ipynb", "-Copy1.ipynb")).write_text("{}")
    run = _grade(course, gradebook=False)
    bob = next(r for r in run.results if r.student == "bob")
    alice = next(r for r in run.results if r.student == "alice")
    copy = CONVNETS.notebook.replace(".ipynb", "-Copy1.ipynb")
    assert any(copy in problem for problem in bob.problems)
    assert not any(copy in problem for problem in alice.problems)
    assert copy in (course / "grades" / CONVNETS.name / "bob" / "feedback.html").read_text()
    assert copy in (course / "grades" / "grades.csv").read_text()
