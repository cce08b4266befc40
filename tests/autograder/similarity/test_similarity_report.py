"""The report files, bad input, and the command line."""
from __future__ import annotations

import csv
import os
import subprocess
import sys

import nbformat
import pytest

import class_builder as cb
from autograder.similarity.__main__ import main
from autograder.similarity.notebooks import NotebookProblem
from autograder.similarity.run import similarity_report

HOSTILE = "</pre><script>alert('similar')</script>"


@pytest.fixture()
def course(tmp_path):
    """Two students with the same loops solution (one with a hostile comment), plus broken folders."""
    release, _ = cb.release_and_reference_notebooks()
    replaced, extras = cb.style_cells(cb.STYLE_FOLDERS["loops"])
    marked = dict(replaced, conv_forward_naive=replaced["conv_forward_naive"].replace(
        "    cache = (x, w, b, conv_param)", f"    # {HOSTILE}\n    cache = (x, w, b, conv_param)"))
    students = {"ada": cb.notebook_with(release, replaced, extras),
                "bob": cb.notebook_with(release, marked, extras),
                "vectorised": cb.notebook_with(release, *cb.style_cells(cb.STYLE_FOLDERS["vectorised"]))}
    root = cb.write_course(tmp_path / "course", release, students)
    broken = root / "submitted" / "cleo" / cb.ASSIGNMENT / cb.NOTEBOOK
    broken.parent.mkdir(parents=True)
    broken.write_text('{"cells": [')
    (root / "submitted" / "dan" / "other_assignment").mkdir(parents=True)
    misnamed = root / "submitted" / "eve" / cb.ASSIGNMENT / "my_work.ipynb"
    misnamed.parent.mkdir(parents=True)
    nbformat.write(students["ada"], misnamed)
    return root


def test_bad_input_is_named_and_the_others_are_still_compared(course):
    data, _ = similarity_report(course, "convnets")
    assert set(data.submissions) == {"ada", "bob", "vectorised"}
    assert "ConvolutionalNetworks.ipynb" in data.not_compared["cleo"] and "JSON" in data.not_compared["cleo"]
    assert str(course / "submitted" / "dan" / cb.ASSIGNMENT) in data.not_compared["dan"]
    assert "my_work.ipynb" in data.not_compared["eve"]
    html = (course / "grades" / cb.ASSIGNMENT / "similarity.html").read_text()
    for student in ("cleo", "dan", "eve"):
        assert f"<li>{student}: " in html


def test_student_text_is_escaped_in_the_html(course):
    data, html_path = similarity_report(course, "convnets")
    assert {data.pairs[0].a, data.pairs[0].b} == {"ada", "bob"} and data.pairs[0].score == 1.0
    html = html_path.read_text()
    assert HOSTILE not in html and "<script>" not in html
    assert "&lt;/pre&gt;&lt;script&gt;alert(&#x27;similar&#x27;)&lt;/script&gt;" in html


def test_csv_lists_every_pair_with_a_similar_region(course):
    data, html_path = similarity_report(course, "convnets")
    with open(html_path.with_suffix(".csv"), newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [(r["student_a"], r["student_b"]) for r in rows] == [(p.a, p.b) for p in data.pairs]
    assert rows[0]["above_threshold"] == "yes" and float(rows[0]["score"]) == pytest.approx(data.pairs[0].score)
    assert all(0.0 <= float(r["fraction_a"]) <= 1.0 for r in rows)


def test_no_submissions_folder_is_a_clear_error(tmp_path, capsys):
    release, _ = cb.release_and_reference_notebooks()
    cb.write_course(tmp_path, release, {})
    with pytest.raises(NotebookProblem, match="submitted"):
        similarity_report(tmp_path, "convnets")
    assert main(["--assignment", "convnets", "--course", str(tmp_path)]) == 2
    assert "submitted" in capsys.readouterr().err


def test_missing_release_is_a_clear_error(tmp_path):
    with pytest.raises(NotebookProblem, match="does not exist"):
        similarity_report(tmp_path, "convnets")


def test_the_report_is_the_same_whatever_the_hash_seed(course):
    """Python salts string hashes per process; with every k-gram kept the report must not depend on it."""
    outputs = []
    for seed in ("1", "2"):
        out = course / f"out_{seed}"
        env = dict(os.environ, PYTHONHASHSEED=seed)
        done = subprocess.run([sys.executable, "-m", "autograder.similarity", "--assignment", "convnets", "--course", str(course),
                               "--out", str(out), "--jobs", "2"], env=env, capture_output=True, text=True,
                              cwd=cb.REPO, timeout=300)
        assert done.returncode == 0, done.stderr
        assert "not compared: cleo" in done.stderr
        outputs.append(((out / "similarity.csv").read_text(), (out / "similarity.html").read_text()))
    assert outputs[0] == outputs[1]
