"""The class-level pipeline with a stub engine: caching, idempotence, resume after a kill, one-student regrade,
grader failures, and bad course layouts."""
from __future__ import annotations

import html
import io
import json
import multiprocessing
import os
import shutil
import signal
import time
from pathlib import Path

import pytest

from assignments.convnets import CONVNETS
from autograder.intake.course_layout import find_submissions
from autograder.pipeline import grade_course, grade_submissions, result_from_dict
from stub_engine import StubSettings, all_items, stub_grade_submission, write_submission

# Per assignment, under grades/convnets/; the course-wide table is grades/grades.csv.
REPORT_FILES = ("summary.txt", "score_histogram.png", "class_results.json")


def _class(course: Path) -> None:
    write_submission(course, "alice", all_items(1.0))
    write_submission(course, "bob", all_items(0.5))
    write_submission(course, "carol", {"conv_forward_naive": 1.0})
    write_submission(course, "dave", all_items(1.0), experiment=True)


def _grade(course: Path, settings: StubSettings, **kwargs):
    kwargs.setdefault("jobs", 2)
    return grade_course(course, settings, grader=stub_grade_submission, progress=False, gradebook=False,
                        out=io.StringIO(), **kwargs)


def _snapshot(course: Path) -> dict[str, bytes]:
    grades = course / "grades"
    return {str(p.relative_to(grades)): p.read_bytes() for p in sorted(grades.rglob("*")) if p.is_file()}


def _calls(control: Path) -> list[str]:
    log = control / "calls"
    return sorted(p.name.split(".")[0] for p in log.iterdir()) if log.exists() else []


def _control(tmp_path: Path, *switches: str) -> tuple[Path, StubSettings]:
    control = tmp_path / "control"
    control.mkdir(exist_ok=True)
    for switch in switches:
        (control / switch).touch()
    return control, StubSettings(control=str(control))


def test_scores_come_from_the_grader_and_every_report_is_written(tmp_path):
    _class(tmp_path)
    run = _grade(tmp_path, StubSettings())
    totals = {r.student: r.score for r in run.results}
    full = CONVNETS.total_autograded_points
    # Stub rule: fraction 1 earns both halves, 0.5 only the public half; the experiment needs the npz.
    assert totals == {"alice": full - 10, "bob": (full - 10) / 2, "carol": 10, "dave": full}
    assert (tmp_path / "grades" / "grades.csv").is_file()
    for name in REPORT_FILES:
        assert (tmp_path / "grades" / "convnets" / name).is_file()
    for student in totals:
        assert (tmp_path / "grades" / "convnets" / student / "results.json").is_file()
        assert (tmp_path / "grades" / "convnets" / student / "feedback.html").is_file()


def test_second_run_reuses_the_cache_and_rewrites_identical_files(tmp_path):
    _class(tmp_path)
    log, settings = _control(tmp_path)
    first = _grade(tmp_path, settings)
    before = _snapshot(tmp_path)
    second = _grade(tmp_path, settings)
    assert first.graded == ["alice", "bob", "carol", "dave"] and first.cached == []
    assert second.graded == [] and second.cached == ["alice", "bob", "carol", "dave"]
    assert _calls(log) == ["alice", "bob", "carol", "dave"]  # nobody graded twice
    assert _snapshot(tmp_path) == before


def test_changed_notebook_or_changed_grader_settings_regrade_what_they_affect(tmp_path):
    _class(tmp_path)
    _grade(tmp_path, StubSettings())
    write_submission(tmp_path, "bob", all_items(1.0))
    rerun = _grade(tmp_path, StubSettings())
    assert rerun.graded == ["bob"]
    assert {r.student: r.score for r in rerun.results}["bob"] == CONVNETS.total_autograded_points - 10
    assert _grade(tmp_path, StubSettings(version=2)).graded == ["alice", "bob", "carol", "dave"]


def test_force_regrades_everyone(tmp_path):
    _class(tmp_path)
    _grade(tmp_path, StubSettings())
    assert _grade(tmp_path, StubSettings(), force=True).graded == ["alice", "bob", "carol", "dave"]


def _killable_run(course: Path, settings: StubSettings) -> None:
    _grade(course, settings, jobs=1)


def test_a_run_killed_half_way_resumes_to_the_same_result_as_a_clean_run(tmp_path):
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    for course in (killed, clean):
        _class(course)
    log, settings = _control(tmp_path, "hang_carol")
    # Students are graded in id order with one job: the run hangs on carol after alice and bob are cached.
    child = multiprocessing.get_context("fork").Process(target=_killable_run, args=(killed, settings))
    child.start()
    deadline = time.monotonic() + 30
    while "carol" not in _calls(log) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.join()
    assert _calls(log) == ["alice", "bob", "carol"]
    cache = killed / "grades" / ".cache" / "convnets"
    assert sorted(p.name for p in cache.glob("*.json")) == ["alice.json", "bob.json"]
    for path in cache.glob("*.json"):
        json.loads(path.read_text())  # complete files only, thanks to the atomic writes

    (log / "hang_carol").unlink()
    resumed = _grade(killed, settings)
    assert resumed.cached == ["alice", "bob"] and resumed.graded == ["carol", "dave"]
    _grade(clean, settings)
    assert _snapshot(killed) == _snapshot(clean)


def test_one_student_regrade_touches_only_that_student(tmp_path):
    _class(tmp_path)
    log, settings = _control(tmp_path)
    _grade(tmp_path, settings)
    before = _snapshot(tmp_path)
    write_submission(tmp_path, "alice", {})  # alice resubmits an empty notebook
    write_submission(tmp_path, "bob", all_items(1.0))  # bob changed too, but is not asked for
    run = _grade(tmp_path, settings, student="alice")
    assert run.graded == ["alice"]
    assert _calls(log) == ["alice", "alice", "bob", "carol", "dave"]
    after = _snapshot(tmp_path)
    changed = {name for name in after if after[name] != before.get(name)}
    assert changed == {"convnets/alice/results.json", "convnets/alice/feedback.html", ".cache/convnets/alice.json",
                       "grades.csv", "grades_canvas.csv", *(f"convnets/{name}" for name in REPORT_FILES)}
    rows = (tmp_path / "grades" / "grades.csv").read_text().splitlines()
    # bob's stale cache entry no longer matches his notebook, so he is left out until the next full run.
    assert [row.split(",")[0] for row in rows[1:]] == ["alice", "carol", "dave"]


def test_regrading_an_unknown_student_names_the_known_ones(tmp_path):
    _class(tmp_path)
    with pytest.raises(ValueError, match=r"'zoe'.*alice, bob, carol, dave"):
        _grade(tmp_path, StubSettings(), student="zoe")


def test_a_grader_bug_is_reported_not_cached_and_not_recorded(tmp_path):
    _class(tmp_path)
    control, settings = _control(tmp_path, "crash_bob")
    run = _grade(tmp_path, settings)
    assert run.errors == {"bob": "RuntimeError: stub grader bug"}
    assert "bob" not in {r.student for r in run.results}
    assert not (tmp_path / "grades" / ".cache" / "convnets" / "bob.json").exists()
    (control / "crash_bob").unlink()
    assert _grade(tmp_path, settings).graded == ["bob"]


def test_grading_errors_are_summarised_fail_the_run_and_are_regraded_first_next_time(tmp_path):
    _class(tmp_path)
    control, settings = _control(tmp_path, "grading_error_carol")
    out = io.StringIO()
    run = grade_course(tmp_path, settings, grader=stub_grade_submission, progress=False, gradebook=False, out=out,
                       jobs=1)
    assert run.regrade == ["carol"] and not run.errors
    assert "GRADING ERROR, REGRADE carol" in out.getvalue()
    summary = (tmp_path / "grades" / "convnets" / "summary.txt").read_text()
    assert "Grading errors, to regrade (not scores of the students' work): carol" in summary
    # Nothing changed, yet carol is graded again, before anyone else; the others come from the cache.
    (control / "grading_error_carol").unlink()
    shutil.rmtree(control / "calls")
    second = _grade(tmp_path, settings, jobs=1, force=False)
    assert _calls(control) == ["carol"] and second.graded == ["carol"] and second.regrade == []
    # Owed results go before merely stale ones: dave's grading error before bob's changed notebook.
    (control / "grading_error_dave").touch()
    _grade(tmp_path, settings, jobs=1, force=True)
    (control / "grading_error_dave").unlink()
    write_submission(tmp_path, "bob", all_items(1.0))
    shutil.rmtree(control / "calls")
    _grade(tmp_path, settings, jobs=1)
    order = [p.name.split(".")[0] for p in sorted((control / "calls").iterdir(),
                                                  key=lambda p: int(p.name.split(".")[1]))]
    assert order == ["dave", "bob"]


def test_make_grade_exits_non_zero_while_a_grading_error_remains(tmp_path, monkeypatch):
    from autograder import cli, pipeline
    _class(tmp_path)
    control, settings = _control(tmp_path, "grading_error_bob")
    monkeypatch.setattr(cli, "load_settings", lambda course, name: settings)
    monkeypatch.setattr(pipeline, "default_grader", stub_grade_submission)
    assert cli.main(["grade", "--course-dir", str(tmp_path), "--jobs", "1", "--no-progress"]) == 1
    (control / "grading_error_bob").unlink()
    assert cli.main(["grade", "--course-dir", str(tmp_path), "--jobs", "1", "--no-progress"]) == 0


def test_a_grading_process_that_dies_costs_only_its_own_submission(tmp_path):
    _class(tmp_path)
    run = _grade(tmp_path, _control(tmp_path, "die_bob")[1], jobs=2)
    assert set(run.errors) == {"bob"}
    assert [r.student for r in run.results] == ["alice", "carol", "dave"]


def test_bad_layouts_get_a_zero_with_a_clear_message_and_the_run_goes_on(tmp_path):
    write_submission(tmp_path, "good", all_items(1.0))
    write_submission(tmp_path, "renamed", all_items(1.0), notebook_name="ConvolutionalNetworks (1).ipynb")
    (tmp_path / "submitted" / "no_assignment" / "assignment2").mkdir(parents=True)
    (tmp_path / "submitted" / "empty" / CONVNETS.name).mkdir(parents=True)
    run = _grade(tmp_path, StubSettings())
    by_student = {r.student: r for r in run.results}
    assert by_student["good"].score > 0
    expectations = {"renamed": "wrongly named notebook: found 'ConvolutionalNetworks (1).ipynb'",
                    "no_assignment": "no assignment folder 'convnets/' in the submission; found: assignment2",
                    "empty": "no notebook in convnets/"}
    for student, text in expectations.items():
        result = by_student[student]
        assert result.score == 0 and result.max_score == CONVNETS.total_autograded_points
        assert text in result.problems[0]
        assert text in html.unescape((tmp_path / "grades" / "convnets" / student / "feedback.html").read_text())


def test_cached_results_round_trip_exactly(tmp_path):
    write_submission(tmp_path, "alice", all_items(0.5), message="<b>hi</b>")
    [submission] = find_submissions(tmp_path, CONVNETS)
    result = stub_grade_submission(submission.notebook, "alice", StubSettings())
    assert result_from_dict(json.loads(json.dumps(result.to_dict()))) == result


def test_jobs_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match="jobs must be at least 1, got 0"):
        grade_submissions([], StubSettings(), tmp_path, jobs=0)
