"""The grader secret and the per-student hidden inputs drawn from it: created once with mode 0600, a missing or
damaged secret is a clear error, two students' hidden inputs differ, one student's repeat at every regrade, and
the secret never leaves the course (release/, the release zip, git, the Gradescope zip)."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest

import assignments
from assignments.convnets import CONVNETS
from autograder import cases, engine, secret
from autograder.results import SubmissionResult
from autograder.secret import SecretError
from autograder.settings import GradingSettings

REPO = Path(__file__).resolve().parents[2]


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_the_secret_is_created_once_with_mode_0600(tmp_path):
    path = tmp_path / "course" / secret.SECRET_FILE
    first = secret.load_or_create_secret(path)
    assert _mode(path) == 0o600 and len(first) == secret.SECRET_BYTES
    written = path.read_bytes()
    assert secret.load_or_create_secret(path) == first and path.read_bytes() == written
    assert secret.create_secret(path) is False and path.read_bytes() == written  # never replaced
    assert [p.name for p in path.parent.iterdir()] == [secret.SECRET_FILE]  # no partial file left behind
    other = secret.load_or_create_secret(tmp_path / "other" / secret.SECRET_FILE)
    assert other != first


def test_a_missing_secret_is_a_clear_error_where_it_must_exist(tmp_path):
    with pytest.raises(SecretError, match="does not exist.*new hidden inputs"):
        secret.read_secret(tmp_path / secret.SECRET_FILE)


@pytest.mark.parametrize("content", ["", "abc\n", "zz" * 32 + "\n", "ab" * 32 + "\n" + "cd" * 32 + "\n",
                                     "ab" * 33 + "\n"])
def test_a_garbled_secret_is_a_clear_error_and_is_never_replaced(tmp_path, content):
    path = tmp_path / secret.SECRET_FILE
    path.write_text(content)
    path.chmod(0o600)
    for read in (secret.read_secret, secret.load_or_create_secret):
        with pytest.raises(SecretError, match="garbled: it must hold one line of 64 hex digits"):
            read(path)
    assert path.read_text() == content


def test_a_secret_others_can_read_or_a_link_is_refused(tmp_path):
    path = tmp_path / secret.SECRET_FILE
    secret.create_secret(path)
    path.chmod(0o644)
    with pytest.raises(SecretError, match="chmod 600"):
        secret.read_secret(path)
    path.chmod(0o600)
    link = tmp_path / "link"
    link.symlink_to(path)
    with pytest.raises(SecretError, match="not a regular file"):
        secret.read_secret(link)


def test_the_seed_is_hmac_sha256_of_the_assignment_and_student():
    import hashlib
    import hmac
    key = bytes(range(32))
    digest = hmac.new(key, b"hidden-inputs\0convnets\0alice", hashlib.sha256).digest()
    assert secret.hidden_seed(key, "convnets", "alice") == int.from_bytes(digest[:16], "big")
    seeds = {secret.hidden_seed(key, a, s) for a in ("convnets", "pytorch") for s in ("alice", "bob", "alice2")}
    assert len(seeds) == 6
    assert secret.hidden_seed(bytes(32), "convnets", "alice") != secret.hidden_seed(key, "convnets", "alice")


def _inputs(case, seed):
    return cases.prepare(CONVNETS, case, seed).inputs


def test_two_students_hidden_inputs_differ_and_each_students_repeat():
    key = os.urandom(32)
    alice, bob = (secret.hidden_seed(key, CONVNETS.name, s) for s in ("alice", "bob"))
    compared = 0
    for graded in CONVNETS.graded_items:
        if not cases.runs_in_worker(CONVNETS, graded.name):
            continue
        for case in cases.cases_for(CONVNETS, graded.name):
            first, again, other = _inputs(case, alice), _inputs(case, alice), _inputs(case, bob)
            assert first.keys() == again.keys() == other.keys()
            assert all(np.array_equal(first[k], again[k]) for k in first), case.name  # a regrade
            if case.visibility == "visible":
                assert all(np.array_equal(first[k], other[k]) for k in first), case.name
            elif first:
                compared += 1
                assert not all(np.array_equal(first[k], other[k]) for k in first), case.name
    assert compared >= 10


@pytest.fixture
def seeds(monkeypatch):
    """The hidden seed grade_submission derives, per call (the items are not run)."""
    seen = []

    def record(assignment, items, submission, instructor, settings, seed, files=None):
        seen.append(seed)
        return [], "none (test)"

    monkeypatch.setattr(engine, "_grade_items", record)
    return seen


def test_the_engine_draws_each_students_inputs_from_the_secret_and_the_id(tmp_path, seeds):
    settings = GradingSettings(secret_file=tmp_path / "course" / secret.SECRET_FILE)
    notebook = REPO / "release" / CONVNETS.name / CONVNETS.notebook
    results = [engine.grade_submission(notebook, student, settings) for student in ("alice", "alice", "bob")]
    assert _mode(settings.secret_file) == 0o600
    key = secret.read_secret(settings.secret_file)
    assert seeds == [secret.hidden_seed(key, CONVNETS.name, s) for s in ("alice", "alice", "bob")]
    assert seeds[0] == seeds[1] != seeds[2]
    assert any(secret.fingerprint(key) in line for line in results[0].log)
    assert not any(str(seeds[0]) in line for line in results[0].log)  # the seed itself is never logged


def test_the_engine_refuses_a_garbled_secret(tmp_path, seeds):
    path = tmp_path / secret.SECRET_FILE
    path.write_text("not a secret\n")
    path.chmod(0o600)
    with pytest.raises(SecretError, match="garbled"):
        engine.grade_submission(REPO / "release" / CONVNETS.name / CONVNETS.notebook, "alice",
                                GradingSettings(secret_file=path))
    assert seeds == []


def test_the_settings_name_the_course_roots_secret_and_nbgrader_config_can_move_it(tmp_path):
    assert GradingSettings().secret_file == REPO / secret.SECRET_FILE
    assert GradingSettings.from_nbgrader_config(tmp_path).secret_file == tmp_path / secret.SECRET_FILE
    (tmp_path / "nbgrader_config.py").write_text('c = get_config()\nc.GradingSettings.secret_file = "private/key"\n')
    assert GradingSettings.from_nbgrader_config(tmp_path).secret_file == tmp_path / "private" / "key"
    assert GradingSettings.from_nbgrader_config(REPO).secret_file == REPO / secret.SECRET_FILE
    assert not hasattr(GradingSettings(), "hidden_seed")  # no fixed seed setting left


def _stub_grader(notebook_path, student, settings, files=None):
    key = secret.read_secret(settings.secret_file)
    return SubmissionResult(student=student, assignment=settings.assignment,
                            log=[f"seed {secret.hidden_seed(key, settings.assignment, student)}"])


def test_the_pipeline_creates_the_secret_before_the_cache_key_reads_it(tmp_path):
    """The first run creates the secret; the second finds every result cached (the key did not change)."""
    from autograder.intake.course_layout import Submission
    from autograder.pipeline import grade_submissions
    notebook = tmp_path / "submitted" / "alice" / CONVNETS.name / CONVNETS.notebook
    notebook.parent.mkdir(parents=True)
    notebook.write_text("{}")
    settings = GradingSettings(secret_file=tmp_path / secret.SECRET_FILE)
    subs = [Submission("alice", notebook)]
    first = grade_submissions(subs, settings, tmp_path / "cache", jobs=1, grader=_stub_grader, progress=False)
    assert first.graded == ["alice"] and _mode(settings.secret_file) == 0o600
    second = grade_submissions(subs, settings, tmp_path / "cache", jobs=1, grader=_stub_grader, progress=False)
    assert second.cached == ["alice"] and second.results[0].log == first.results[0].log


def test_a_dask_task_carries_the_secret_and_grades_with_it(tmp_path):
    from autograder.dask_cluster import grade_packed
    key = os.urandom(32)
    settings = GradingSettings(secret_file=tmp_path / "not-on-this-worker")
    package = {"student": "alice", "notebook": CONVNETS.notebook, "notebook_bytes": b"{}", "files": {}}
    document = grade_packed(_stub_grader, package, settings, None, key)
    assert document["log"] == [f"seed {secret.hidden_seed(key, CONVNETS.name, 'alice')}"]
    assert not (tmp_path / "not-on-this-worker").exists()


def test_the_release_never_carries_the_secret(tmp_path):
    from notebook_builder.release import zip_folder
    released = tmp_path / "release" / CONVNETS.name
    released.mkdir(parents=True)
    (released / CONVNETS.notebook).write_text("{}")
    secret.create_secret(released / secret.SECRET_FILE)
    with zipfile.ZipFile(zip_folder(released, tmp_path / "release.zip")) as archive:
        assert archive.namelist() == [f"{CONVNETS.name}/{CONVNETS.notebook}"]
    committed = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert secret.SECRET_FILE not in {Path(line).name for line in committed.splitlines()}
    assert not any(p.name == secret.SECRET_FILE for p in (REPO / "release").rglob("*"))
    ignored = subprocess.run(["git", "check-ignore", "-q", secret.SECRET_FILE], cwd=REPO)
    assert ignored.returncode == 0, ".gitignore must list the grader secret"


def test_nbgrader_never_copies_the_secret(tmp_path):
    from traitlets.config.loader import PyFileConfigLoader
    config = PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()
    for section in (config, config.GenerateAssignmentApp, config.ReleaseAssignmentApp):
        assert assignments.GRADER_SECRET_FILE in section.CourseDirectory.ignore
    assert config.GradingSettings.secret_file == assignments.GRADER_SECRET_FILE


def test_the_gradescope_zip_carries_a_derived_secret_never_the_courses(tmp_path):
    from autograder.gradescope_autograder.build import build_autograder_zip
    from autograder.gradescope_autograder.run import load_kit_settings
    source = tmp_path / "source" / CONVNETS.name
    source.mkdir(parents=True)
    notebook = source / CONVNETS.notebook
    notebook.write_bytes((REPO / "source" / CONVNETS.name / CONVNETS.notebook).read_bytes())
    settings = GradingSettings(source_notebook=notebook, secret_file=tmp_path / secret.SECRET_FILE)
    key = secret.load_or_create_secret(settings.secret_file)
    secret.write_secret(source / secret.SECRET_FILE, key)  # a misplaced copy beside the notebook
    archive = build_autograder_zip(REPO, settings, tmp_path / "autograder.zip")
    kit = tmp_path / "unpacked"
    with zipfile.ZipFile(archive) as unpacked:
        names = unpacked.namelist()
        assert [n for n in names if Path(n).name == secret.SECRET_FILE] == [f"kit/{secret.SECRET_FILE}"]
        info = unpacked.getinfo(f"kit/{secret.SECRET_FILE}")
        assert stat.S_IMODE(info.external_attr >> 16) == 0o600
        for name in names:
            data = unpacked.read(name)
            assert key.hex().encode() not in data and key not in data, name
        unpacked.extractall(kit)
    os.chmod(kit / "kit" / secret.SECRET_FILE, 0o600)
    loaded, _ = load_kit_settings(kit / "kit")
    assert loaded.secret_file == kit / "kit" / secret.SECRET_FILE
    packed = secret.read_secret(loaded.secret_file)
    assert packed == secret.derived_secret(key, f"gradescope\0{CONVNETS.name}") != key
    again = build_autograder_zip(REPO, settings, tmp_path / "again.zip")  # a rebuilt zip keeps the inputs
    with zipfile.ZipFile(again) as unpacked:
        assert unpacked.read(f"kit/{secret.SECRET_FILE}") == (kit / "kit" / secret.SECRET_FILE).read_bytes()


def test_gradescope_keys_the_hidden_inputs_to_the_submitters_id(tmp_path):
    from autograder.gradescope_autograder.run import STUDENT, student_key
    assert student_key(tmp_path)[0] == STUDENT and "no readable" in student_key(tmp_path)[1]
    (tmp_path / "submission_metadata.json").write_text(json.dumps(
        {"id": 99, "users": [{"email": "b@x.org", "id": 7}, {"email": "a@x.org", "id": 3}]}))
    assert student_key(tmp_path)[0] == "gradescope:3+7"
    (tmp_path / "submission_metadata.json").write_text(json.dumps({"users": [{"email": "a@x.org"}]}))
    assert student_key(tmp_path)[0] == "gradescope:a@x.org"
