"""The Gradescope autograder end to end: build autograder.zip, lay out a folder as Gradescope does (its root
from AUTOGRADER_ROOT), run `run_autograder` on every demo-class submission, and check each results.json
against Gradescope's specification and against `make grade`'s scores for the same files."""
from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder.cli import load_settings
from autograder.demo_class import build_demo_class, demo_settings
from autograder.gradescope_autograder.build import build_autograder_zip
from autograder.pipeline import grade_course

REPO = Path(__file__).resolve().parents[3]
# Gradescope's autograder specification, written out here: top-level and per-test fields and their types.
TOP_LEVEL = {"score": (int, float), "execution_time": int, "output": str, "tests": list}
PER_TEST = {"name": str, "score": (int, float), "max_score": (int, float), "status": str, "output": str,
            "visibility": str}
STATUSES = {"passed", "failed"}
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}


def _check_against_spec(document: dict) -> None:
    for key, kind in TOP_LEVEL.items():
        assert isinstance(document.get(key), kind), f"results.json: {key} missing or not {kind}"
    for test in document["tests"]:
        for key, kind in PER_TEST.items():
            assert isinstance(test.get(key), kind), f"test {test.get('name')}: {key} missing or not {kind}"
        assert test["status"] in STATUSES and test["visibility"] in VISIBILITIES
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] == ("passed" if test["score"] >= test["max_score"] else "failed")
    assert abs(document["score"] - sum(t["score"] for t in document["tests"])) < 1e-9


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo class graded by the pipeline (as `make grade` does), and the autograder.zip of its settings."""
    scratch = tmp_path_factory.mktemp("gradescope")
    course = build_demo_class(REPO, scratch / "demo", only=("convnets",))
    settings = demo_settings(load_settings(course, "convnets"), course)
    run = grade_course(course, settings, jobs=2, progress=False, gradebook=False, out=io.StringIO())
    archive = build_autograder_zip(REPO, settings, scratch / "autograder.zip")
    return course, {r.student: r for r in run.results}, archive, scratch


def _gradescope_root(archive: Path, root: Path) -> Path:
    """Lay out `root` as Gradescope's /autograder: source/ (the zip, unpacked) and run_autograder."""
    with zipfile.ZipFile(archive) as unpacked:
        unpacked.extractall(root / "source")
    shutil.copyfile(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    return root


def _run_autograder(root: Path, upload: Path | None) -> dict:
    shutil.rmtree(root / "submission", ignore_errors=True)
    shutil.rmtree(root / "results", ignore_errors=True)
    (root / "submission").mkdir()
    if upload is not None:
        for path in upload.iterdir():
            shutil.copyfile(path, root / "submission" / path.name)
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=sys.executable)
    env.pop("PYTHONPATH", None)
    done = subprocess.run([str(root / "run_autograder")], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    # The unpacked kit graded, not this repository's installed copy.
    assert f"graded by the kit in {root / 'source' / 'kit'}" in done.stdout, done.stdout + done.stderr
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_run_autograder_gives_every_demo_submission_its_make_grade_score(demo):
    course, expected, archive, scratch = demo
    root = _gradescope_root(archive, scratch / "autograder")
    names = set(zipfile.ZipFile(archive).namelist())
    assert {"setup.sh", "run_autograder", "kit/source/convnets/ConvolutionalNetworks.ipynb",
            "kit/grading_settings.json"} <= names
    assert not any(n.startswith(("kit/tests/", "kit/release/", "kit/submitted/")) for n in names)
    assert (root / "source" / "kit" / "reference_impl").is_dir()
    for student, result in sorted(expected.items()):
        document = _run_autograder(root, course / "submitted" / student / "convnets")
        _check_against_spec(document)
        assert document["score"] == pytest.approx(result.score), student
        assert [(t["name"], t["score"]) for t in document["tests"]] == [(t.name, t.score) for t in result.tests]
        for test, graded in zip(document["tests"], result.tests):
            wanted = "after_published" if graded.visibility == "hidden" else "visible"
            assert test["visibility"] == wanted
        text = json.dumps(document)
        # Nothing for the instructor only: no grader paths, no log lines (seed, isolation), no hidden data.
        assert str(root) not in text and "seed" not in text and "isolation" not in text
        assert "configuration:" not in text
        if result.problems:
            assert document["score"] == 0
            assert all(problem in document["output"] for problem in result.problems)
    assert expected["demo_reference"].score > 0 and expected["demo_broken_file"].score == 0
    assert expected["demo_wrong_name"].problems and expected["demo_broken_file"].problems


@pytest.mark.slow
def test_an_upload_without_a_notebook_scores_zero_with_a_clear_message(demo):
    _, _, archive, scratch = demo
    root = _gradescope_root(archive, scratch / "empty")
    document = _run_autograder(root, None)
    _check_against_spec(document)
    assert document["score"] == 0
    assert "no notebook" in document["output"] and "ConvolutionalNetworks.ipynb" in document["output"]


def test_the_scripts_are_executable_and_valid_bash(tmp_path):
    from autograder.gradescope_autograder.build import RUN_AUTOGRADER, SETUP_SH
    for script in (SETUP_SH, RUN_AUTOGRADER):
        path = tmp_path / "script.sh"
        path.write_text(script)
        assert subprocess.run(["bash", "-n", str(path)]).returncode == 0
    settings = load_settings(REPO, "convnets")
    if not Path(settings.source_notebook).is_file():
        pytest.skip("make source has not been run")
    from autograder.cli import main
    assert main(["gradescope", "--assignment", "convnets", "--dest", str(tmp_path / "autograder.zip")]) == 0
    with zipfile.ZipFile(tmp_path / "autograder.zip") as archive:
        hidden = json.loads(archive.read("kit/grading_settings.json"))["hidden_visibility"]
        assert hidden == "after_published"
        for name in ("setup.sh", "run_autograder"):
            assert stat.S_IMODE(archive.getinfo(name).external_attr >> 16) & 0o111
