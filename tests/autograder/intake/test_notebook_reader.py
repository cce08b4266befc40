"""Reading submissions: bad files, repairs, tampering reports, and which cells count as the student's code."""
from __future__ import annotations

import copy
import json

import nbformat
import pytest

from autograder.intake.notebook_reader import (NotebookError, neutralise_magics, read_instructor_notebook, read_notebook,
                                        read_submission, strip_hidden_tests)
from fixture_builder import release_and_reference, render_course


@pytest.fixture(scope="module")
def source_notebook(tmp_path_factory):
    return render_course(tmp_path_factory.mktemp("course"))


@pytest.fixture(scope="module")
def instructor(source_notebook):
    return read_instructor_notebook(source_notebook, ("experiment",))


@pytest.fixture
def release(source_notebook):
    return release_and_reference(source_notebook)[0]


def write(notebook, folder, name="ConvolutionalNetworks.ipynb"):
    path = folder / name
    nbformat.write(notebook, path)
    return path


def cell(notebook, grade_id):
    return next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def test_untouched_release_reads_cleanly(release, instructor, tmp_path):
    submission = read_submission(write(release, tmp_path), instructor)
    assert submission.problems == []
    assert submission.solution_ids == set(instructor.solution_ids)
    assert "experiment" not in instructor.solution_ids  # trains for minutes: never run when grading
    labels = [c.grade_id for c in submission.cells if c.grade_id]
    assert labels == [g for g in instructor.solution_ids]
    # Provided cells contribute their definitions only (as nbgrader would have them defined), never their demos.
    provided = [c for c in submission.cells if not c.grade_id]
    assert provided and all(c.label.endswith("(provided cell: its definitions)") for c in provided)
    assert not any("plt.show()" in c.source or "Solver(" in c.source for c in provided)


@pytest.mark.parametrize("content, words", [(b"", "empty"), (b"{\"cells\": [", "not valid notebook JSON"),
                                            (b"[1, 2]", "not a Jupyter notebook"),
                                            (b"\xff\xfe garbage", "not valid notebook JSON")])
def test_unreadable_files_raise_a_clear_error(tmp_path, content, words):
    path = tmp_path / "ConvolutionalNetworks.ipynb"
    path.write_bytes(content)
    with pytest.raises(NotebookError, match=words):
        read_notebook(path)


def test_missing_file(tmp_path):
    with pytest.raises(NotebookError, match="no notebook"):
        read_notebook(tmp_path / "ConvolutionalNetworks.ipynb")


def test_wrong_name_is_reported_and_still_read(release, instructor, tmp_path):
    submission = read_submission(write(release, tmp_path, "ConvolutionalNetworks (1).ipynb"), instructor)
    assert any("named 'ConvolutionalNetworks (1).ipynb'" in p for p in submission.problems)
    assert submission.solution_ids == set(instructor.solution_ids)


def test_old_nbformat_is_upgraded(release, instructor, tmp_path):
    old = nbformat.convert(release, 3)
    path = tmp_path / "ConvolutionalNetworks.ipynb"
    path.write_text(nbformat.writes(old, version=3))
    submission = read_submission(path, instructor)
    assert any("old format version 3" in p for p in submission.problems)
    assert submission.solution_ids == set(instructor.solution_ids)


def test_huge_outputs_are_dropped_unread(release, instructor, tmp_path):
    flooded = copy.deepcopy(release)
    cell(flooded, "conv_forward_naive").outputs = [nbformat.v4.new_output("stream", text="x" * 3_000_000)]
    notebook, notes = read_notebook(write(flooded, tmp_path))
    assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code")
    assert any("outputs" in n and "ignored" in n for n in notes)


def test_duplicated_and_missing_cell_ids_are_repaired(release, instructor, tmp_path):
    raw = json.loads(nbformat.writes(release))
    raw["cells"][1]["id"] = raw["cells"][0]["id"]
    del raw["cells"][2]["id"]
    path = tmp_path / "ConvolutionalNetworks.ipynb"
    path.write_text(json.dumps(raw))
    submission = read_submission(path, instructor)
    assert any("repeated another cell's id" in p for p in submission.problems)
    assert any("had no cell id" in p for p in submission.problems)
    assert submission.solution_ids == set(instructor.solution_ids)


def test_tampering_is_reported_item_by_item(release, instructor, tmp_path):
    tampered = copy.deepcopy(release)
    cell(tampered, "test_conv_forward_naive").source = "print('all good')"
    cell(tampered, "test_max_pool_forward_naive").metadata["nbgrader"]["points"] = 80
    cell(tampered, "test_max_pool_forward_naive").metadata["nbgrader"]["locked"] = False
    tampered.cells.remove(cell(tampered, "test_spatial_groupnorm_backward"))
    forged = nbformat.v4.new_code_cell("pass", id="forged")
    forged.metadata["nbgrader"] = {"grade": True, "grade_id": "bonus", "points": 50, "solution": False,
                                   "locked": False, "schema_version": 3, "task": False}
    tampered.cells.append(forged)
    problems = read_submission(write(tampered, tmp_path), instructor).problems
    assert any("'test_conv_forward_naive' was edited" in p for p in problems)
    # Points are never read from a submission, and an older release differs legitimately: the instructor is told
    # (autograder/intake/release_points.py), the student is not.
    assert not any("'points'" in p for p in problems)
    assert any("'locked' of cell 'test_max_pool_forward_naive' was changed from True to False" in p for p in problems)
    assert any("'test_spatial_groupnorm_backward' is missing" in p for p in problems)
    assert any("extra graded cell" in p for p in problems)


def test_extra_student_cells_are_kept_in_order(release, instructor, tmp_path):
    edited = copy.deepcopy(release)
    position = edited.cells.index(cell(edited, "conv_forward_naive"))
    edited.cells.insert(position, nbformat.v4.new_code_cell("def helper():\n    return 1", id="mine"))
    cells = [c for c in read_submission(write(edited, tmp_path), instructor).cells
             if not c.label.endswith("(provided cell: its definitions)")]
    assert [c.grade_id for c in cells][:2] == [None, "conv_forward_naive"]
    assert "def helper" in cells[0].source


def test_hidden_tests_are_stripped_like_nbgrader():
    source = "a = 1\n### BEGIN HIDDEN TESTS\nassert secret\n### END HIDDEN TESTS\nb = 2\n"
    assert strip_hidden_tests(source) == "a = 1\nb = 2\n"


def test_magics_and_shell_lines_are_neutralised():
    code = "%matplotlib inline\nfiles = !ls\nfor i in range(2):\n    !echo hi\nx = 1\n"
    cleaned = neutralise_magics(code)
    compile(cleaned, "<cell>", "exec")
    assert "!echo" not in cleaned and "files = None" in cleaned and "x = 1" in cleaned
    assert neutralise_magics("%%bash\nrm -rf /\n") is None
    assert "x = 1" in neutralise_magics("%%time\nx = 1\n")


def test_nbgraders_own_release_is_not_mistaken_for_tampering():
    from autograder.settings import COURSE_ROOT
    release = COURSE_ROOT / "release" / "convnets" / "ConvolutionalNetworks.ipynb"
    source = COURSE_ROOT / "source" / "convnets" / "ConvolutionalNetworks.ipynb"
    if not (release.is_file() and source.is_file()):
        pytest.skip("run `make release` first")
    submission = read_submission(release, read_instructor_notebook(source, ("experiment",)))
    assert submission.problems == []
    assert submission.solution_ids == set(read_instructor_notebook(source, ("experiment",)).solution_ids)


def test_malformed_metadata_is_treated_as_no_metadata(release, instructor, tmp_path):
    raw = json.loads(nbformat.writes(release))
    raw["cells"][3]["metadata"]["nbgrader"] = ["not", "a", "dict"]
    raw["cells"][4]["metadata"]["nbgrader"] = {"grade_id": ["unhashable"], "grade": True}
    path = tmp_path / "ConvolutionalNetworks.ipynb"
    path.write_text(json.dumps(raw))
    read_submission(path, instructor)  # no exception: problems are reported, never raised


ADVICE = ("What you can do:", "Nothing for you to do")


def test_every_problem_with_a_readable_notebook_says_what_the_student_can_do(release, instructor, tmp_path):
    """One notebook with every kind of change the reader reports: each report says what happened and either
    what the student can do about it or that nothing needs doing."""
    tampered = copy.deepcopy(release)
    cell(tampered, "test_conv_forward_naive").source = "print('all good')"
    cell(tampered, "test_max_pool_forward_naive").metadata["nbgrader"]["locked"] = False
    locked = cell(tampered, "test_max_pool_backward_naive")
    tampered.cells[tampered.cells.index(locked)] = nbformat.v4.new_markdown_cell(locked.source, id=locked.id,
                                                                                metadata=locked.metadata)
    tampered.cells.remove(cell(tampered, "test_spatial_groupnorm_backward"))
    tampered.cells.remove(cell(tampered, "spatial_groupnorm_backward"))
    solution = cell(tampered, "max_pool_forward_naive")
    tampered.cells[tampered.cells.index(solution)] = nbformat.v4.new_markdown_cell(solution.source, id=solution.id,
                                                                                  metadata=solution.metadata)
    twice = copy.deepcopy(cell(tampered, "conv_forward_naive"))
    twice.id = "second-copy"
    tampered.cells.append(twice)
    forged = nbformat.v4.new_code_cell("pass", id="forged")
    forged.metadata["nbgrader"] = {"grade": True, "grade_id": "bonus", "points": 50, "solution": False,
                                   "locked": False, "schema_version": 3, "task": False}
    tampered.cells.append(forged)
    tampered.cells[0].outputs = []
    raw = json.loads(nbformat.writes(tampered))
    raw["cells"][2]["id"] = raw["cells"][1]["id"]
    del raw["cells"][3]["id"]
    next(c for c in raw["cells"] if c["cell_type"] == "code")["outputs"] = [
        {"output_type": "stream", "name": "stdout", "text": "x" * 3_000_000}]
    path = tmp_path / "ConvolutionalNetworks (1).ipynb"
    path.write_text(json.dumps(raw))
    problems = read_submission(path, instructor).problems
    for words in ("'test_conv_forward_naive' was edited", "'locked' of cell 'test_max_pool_forward_naive'",
                  "'test_max_pool_backward_naive' was changed from code to markdown", "is missing",
                  "grade id 'spatial_groupnorm_backward' was found", "'max_pool_forward_naive' was changed into",
                  "'conv_forward_naive' appears more than once", "extra graded cell", "outputs", "had no cell id",
                  "repeated another cell's id", "named 'ConvolutionalNetworks (1).ipynb'"):
        assert any(words in p for p in problems), (words, problems)
    assert [p for p in problems if not any(advice in p for advice in ADVICE)] == []


@pytest.mark.parametrize("content", [b"", b"{\"cells\": [", b"[1, 2]", b"\xff\xfe garbage",
                                     b"{\"nbformat\": 4, \"nbformat_minor\": 5, \"metadata\": {}, \"cells\": 7}",
                                     None])
def test_every_unreadable_notebook_says_what_the_student_can_do(tmp_path, content):
    path = tmp_path / "ConvolutionalNetworks.ipynb"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(NotebookError) as raised:
        read_notebook(path, "ConvolutionalNetworks.ipynb")
    assert "What you can do:" in str(raised.value)
