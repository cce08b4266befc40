"""Grading on a real Dask LocalCluster (worker processes): the same grades as the local pool, a worker killed
mid-submission costs nothing, and an unreachable scheduler is named in the error."""
from __future__ import annotations

import io
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from autograder.cli import main
from autograder.dask_cluster import ClusterUnavailable, DaskExecutor
from autograder.pipeline import grade_course
from autograder.settings import GradingSettings
from fixture_builder import build_fixture, render_course, save_small_experiment_model
from stub_engine import StubSettings, all_items, stub_grade_submission, write_submission

# One correct answer, one with a classic bug, the untouched release: three different score patterns.
REAL_CLASS = ("full_marks_loops", "loses_max_pool_backward_naive_assigns_instead_of_accumulating",
              "release_untouched_earns_zero")


def _without_timing(results) -> list[dict]:
    documents = []
    for result in results:
        document = result.to_dict()
        document.pop("seconds")
        documents.append(document)
    return documents


def _reproducible(first: list[dict], second: list[dict]) -> list[dict]:
    """`first` without the test fields that differ between two local runs of the same notebooks (feedback on
    values the student's own unseeded random draws produce, e.g. a weight initialisation's statistics)."""
    kept = []
    for one, two in zip(first, second):
        document = dict(one, tests=[{k: v for k, v in a.items() if b.get(k) == v}
                                    for a, b in zip(one["tests"], two["tests"])])
        kept.append(document)
    return kept


def _restricted(documents: list[dict], like: list[dict]) -> list[dict]:
    """`documents` with each test reduced to the fields that `like` kept."""
    return [dict(d, tests=[{k: t[k] for k in kept} for t, kept in zip(d["tests"], l["tests"])])
            for d, l in zip(documents, like)]


@pytest.mark.slow
def test_dask_grades_equal_local_grades(tmp_path):
    source_notebook = render_course(tmp_path / "instructor")
    settings = GradingSettings(source_notebook=source_notebook, test_seconds=3.0, cell_seconds=5.0)
    courses = {}
    for mode in ("local", "local_again", "dask"):
        course = tmp_path / mode
        for name in REAL_CLASS:
            notebook = build_fixture(name, source_notebook, tmp_path / "built")
            target = course / "submitted" / name / "convnets" / notebook.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(notebook.read_bytes())
        courses[mode] = course
    local = grade_course(courses["local"], settings, jobs=2, progress=False, gradebook=False, out=io.StringIO())
    again = grade_course(courses["local_again"], settings, jobs=2, progress=False, gradebook=False,
                         out=io.StringIO())
    with DaskExecutor("local", workers=2) as executor:
        dask = grade_course(courses["dask"], settings, progress=False, gradebook=False, out=io.StringIO(),
                            executor=executor)
    assert not local.errors and not dask.errors
    assert dask.graded == sorted(REAL_CLASS)
    reference = _reproducible(_without_timing(local.results), _without_timing(again.results))
    assert _restricted(_without_timing(dask.results), reference) == reference
    # What differs between two local runs is a handful of "got" texts; scores and test names never do.
    dropped = [(t["name"], field) for r in reference for t, full in zip(r["tests"], local.results[0].tests)
               for field in ("score", "max_score", "name") if field not in t]
    assert dropped == []
    # Scores really differ between the three (the comparison is not between three zeros).
    assert len({r.score for r in local.results}) == 3
    # The client wrote the cache: a second run grades nobody.
    with DaskExecutor("local", workers=2) as executor:
        second = grade_course(courses["dask"], settings, progress=False, gradebook=False, out=io.StringIO(),
                              executor=executor)
    assert second.graded == [] and second.cached == sorted(REAL_CLASS)


def stalling_grader(notebook_path, student, settings, files=None):
    """The stub grader, except that the first attempt at ``settings.control/stall_<student>`` records its
    process id and waits to be killed; a retry finds the record and grades normally."""
    control = Path(settings.control)
    if (control / f"stall_{student}").exists():
        record = control / f"pid_{student}"
        try:
            with open(record, "x") as handle:
                handle.write(str(os.getpid()))
        except FileExistsError:
            pass
        else:
            time.sleep(600)
    (control / "pids").mkdir(exist_ok=True)
    (control / "pids" / f"{student}.{os.getpid()}").touch()
    return stub_grade_submission(notebook_path, student, settings, files)


@pytest.mark.slow
def test_a_worker_killed_mid_submission_is_retried_elsewhere_and_nothing_is_lost_or_duplicated(tmp_path):
    course = tmp_path / "course"
    students = ["alice", "bob", "carol", "dave"]
    for student in students:
        write_submission(course, student, all_items(1.0))
    control = tmp_path / "control"
    control.mkdir()
    (control / "stall_bob").touch()
    settings = StubSettings(control=str(control))
    progress = io.StringIO()
    with DaskExecutor("local", workers=2) as executor:
        def kill_when_stalled():
            record = control / "pid_bob"
            deadline = time.monotonic() + 120
            while not record.exists() or not record.read_text():
                assert time.monotonic() < deadline, "the stalled task never started"
                time.sleep(0.1)
            os.kill(int(record.read_text()), signal.SIGKILL)

        killer = threading.Thread(target=kill_when_stalled)
        killer.start()
        stderr, sys.stderr = sys.stderr, progress  # the progress bar writes to stderr
        try:
            run = grade_course(course, settings, grader=stalling_grader, progress=True, gradebook=False,
                               out=io.StringIO(), executor=executor)
        finally:
            sys.stderr = stderr
        killer.join()
    victim = int((control / "pid_bob").read_text())
    finished = {p.name.split(".")[0]: int(p.name.split(".")[1]) for p in (control / "pids").iterdir()}
    assert run.errors == {}
    assert run.graded == students
    assert sorted(finished) == students and len(list((control / "pids").iterdir())) == 4  # each graded once
    assert finished["bob"] != victim  # bob's result came from another worker process
    full = sum(g.points for g in stub_items())
    assert {r.student: r.score for r in run.results}["bob"] == full
    assert all((course / "grades" / ".cache" / "convnets" / f"{s}.json").is_file() for s in students)
    assert "4/4" in progress.getvalue()  # the bar counted every submission, once


def stub_items():
    from assignments.convnets import CONVNETS
    return [g for g in CONVNETS.graded_items if g.runs_code]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_scheduler_is_named_in_a_clear_error(tmp_path, capsys):
    address = f"tcp://127.0.0.1:{_closed_port()}"
    with pytest.raises(ClusterUnavailable, match=address.replace(".", r"\.")):
        with DaskExecutor(address, connect_seconds=2):
            pass
    write_submission(tmp_path, "alice", all_items(1.0))
    assert main(["grade", "--course-dir", str(tmp_path), "--dask", address, "--no-progress"]) == 2
    assert address in capsys.readouterr().err



@pytest.mark.slow
@pytest.mark.parametrize("link", ["symlink", "hard link"])
def test_a_linked_graded_file_sent_through_dask_is_refused_as_make_grade_refuses_it(tmp_path, link):
    """pack_submission (the client) reads graded files as regular single-link files; a refused one travels as
    its message, and grade_packed (the worker) grades it exactly as the local engine does."""
    from assignments.convnets import CONVNETS, EXPERIMENT_FILE
    from autograder.dask_cluster import grade_packed, pack_submission
    from autograder.intake.course_layout import inspect_submission
    from autograder.pipeline import default_grader

    source = render_course(tmp_path / "instructor")
    settings = GradingSettings(source_notebook=source, test_seconds=3.0, cell_seconds=5.0)
    course = tmp_path / "course"
    notebook = build_fixture("release_untouched_earns_zero", source, tmp_path / "built")
    folder = course / "submitted" / "mallory" / "convnets"
    folder.mkdir(parents=True)
    (folder / notebook.name).write_bytes(notebook.read_bytes())
    theirs = save_small_experiment_model(tmp_path / "alice_experiment_model.npz")  # another student's file
    (os.symlink if link == "symlink" else os.link)(theirs, folder / EXPERIMENT_FILE)
    submission = inspect_submission(course, "mallory", CONVNETS)

    package = pack_submission(submission)
    assert EXPERIMENT_FILE not in package["files"] and EXPERIMENT_FILE in package["refused"]
    packed = grade_packed(default_grader, package, settings, None)
    local = default_grader(submission.notebook, "mallory", settings, dict(submission.files)).to_dict()

    def experiment(document):
        return [(t["name"], t["score"], t["message"]) for t in document["tests"] if t["item"] == "experiment"]
    assert experiment(packed) == experiment(local) and experiment(local)
    assert all("was refused" in message and score == 0 for _, score, message in experiment(packed))
    assert packed["problems"] == local["problems"]
    assert any(EXPERIMENT_FILE in p and "experiment scored zero" in p for p in packed["problems"])
    assert [(t["name"], t["score"]) for t in packed["tests"]] == [(t["name"], t["score"]) for t in local["tests"]]


@pytest.mark.parametrize("link", ["symlink", "hard link"])
def test_a_notebook_linked_after_the_intake_is_not_graded_on_the_worker(tmp_path, link):
    """A notebook that became a link between the intake and pack_submission is never graded as an empty
    notebook: the worker returns the ungraded result make grade gives a linked notebook, with its message."""
    from assignments.convnets import CONVNETS
    from autograder.dask_cluster import grade_packed, pack_submission
    from autograder.intake.course_layout import inspect_submission, ungraded_result

    notebook = write_submission(tmp_path, "mallory", all_items(1.0))
    submission = inspect_submission(tmp_path, "mallory", CONVNETS)
    assert submission.notebook is not None
    elsewhere = tmp_path / "someone_elses.ipynb"
    notebook.rename(elsewhere)
    (os.symlink if link == "symlink" else os.link)(elsewhere, notebook)
    local = inspect_submission(tmp_path, "mallory", CONVNETS)  # what make grade now sees
    assert local.notebook is None and local.problem

    package = pack_submission(submission)
    assert package["notebook_bytes"] == b"" and package["refused"] == {notebook.name: local.problem}
    packed = grade_packed(stub_grade_submission, package, StubSettings(), None)
    expected = ungraded_result("mallory", CONVNETS, local.problem).to_dict()
    packed.pop("seconds"), expected.pop("seconds")
    assert packed == expected and packed["score"] == 0
