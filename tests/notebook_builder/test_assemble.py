"""Assembling the nbgrader source notebook from a template and the grading spec."""
import nbformat
import pytest

from notebook_builder.assemble import assemble
from notebook_builder.errors import BuildError
from notebook_builder.template import read_template

from builder_fixtures import FAKE_ITEMS, FAKE_MANUAL, REFERENCE_MODULE, TEMPLATE, line_of, write_repo


def build(root, template_text=TEMPLATE):
    path = write_repo(root, template_text)
    return assemble(read_template(path), path, root, FAKE_ITEMS, FAKE_MANUAL)


def by_id(notebook):
    return {cell.metadata["nbgrader"]["grade_id"]: cell for cell in notebook.cells if "nbgrader" in cell.metadata}


def test_first_cell_says_generated_from_what_and_how(tmp_path):
    notice = build(tmp_path).cells[0]
    assert notice.cell_type == "markdown" and "nbgrader" not in notice.metadata
    assert "make source" in notice.source and "templates/convnets/ConvolutionalNetworks.py" in notice.source
    assert "reference_impl/" in notice.source


def test_nbgrader_metadata_and_points_come_from_the_spec(tmp_path):
    notebook = build(tmp_path)
    nbformat.validate(notebook)
    cells = by_id(notebook)
    assert set(cells) == {"setup", "double", "test_double", "Counter", "test_Counter", "answer_why", "experiment",
                          "test_experiment"}
    flags = {gid: (c.metadata["nbgrader"]["solution"], c.metadata["nbgrader"]["grade"],
                   c.metadata["nbgrader"]["locked"], c.metadata["nbgrader"].get("points")) for gid, c in cells.items()}
    assert flags == {"setup": (False, False, True, None), "double": (True, False, False, None),
                     "test_double": (False, True, True, 3), "Counter": (True, False, False, None),
                     "test_Counter": (False, True, True, 4), "answer_why": (True, True, False, 2),
                     "experiment": (True, False, False, None),
                     # scored from the saved file by `make grade`, which writes the score into this cell's grade
                     "test_experiment": (False, True, True, 10)}
    assert cells["answer_why"].cell_type == "markdown"
    assert all(cell.id == gid for gid, cell in cells.items())


def test_solution_cells_hold_the_reference_definitions(tmp_path):
    cells = by_id(build(tmp_path))
    lines = REFERENCE_MODULE.splitlines()
    assert cells["double"].source == "\n".join(lines[line_of(REFERENCE_MODULE, "def double") - 1:
                                                     line_of(REFERENCE_MODULE, "return out")])
    assert cells["Counter"].source.count("### BEGIN SOLUTION") == 2
    assert "### BEGIN HIDDEN TESTS" in cells["test_double"].source


def test_same_input_gives_the_same_notebook(tmp_path):
    first = nbformat.writes(build(tmp_path / "a"))
    assert first == nbformat.writes(build(tmp_path / "b"))


@pytest.mark.parametrize("old, new, needle, occurrence, message", [
    ('# %% readonly="setup"', '# %% readonly="double"', 'solution="reference_impl.fake.double"', 0,
     "already used by the cell on line"),
    ('test="double"', 'test="triple"', 'test="triple"', 0, "'triple' is not a graded item"),
    ('answer="answer_why"', 'answer="answer_how"', 'answer="answer_how"', 0, "'answer_how' is not a manual item"),
    ("reference_impl.fake.double", "reference_impl.fake.triple", "reference_impl.fake.triple", 0,
     "'triple' is not a graded function or class"),
    ('solution="reference_impl.fake.double"\n', 'solution="reference_impl.fake.double"\nx = 1\n',
     'solution="reference_impl.fake.double"', 0, "must be empty"),
    ("assert double(-1) == -2\n### END HIDDEN TESTS\n", "assert double(-1) == -2\n", "### BEGIN HIDDEN TESTS", 0,
     "unclosed"),
    ("assert double(-1) == -2", "### BEGIN HIDDEN TESTS", "### BEGIN HIDDEN TESTS", 1, "nested"),
    ('print("a plain cell")', 'print("a plain cell")\n### BEGIN SOLUTION', "### BEGIN SOLUTION", 1, "not allowed"),
    ("assert Counter().add() == 1", "### BEGIN SOLUTION", "### BEGIN SOLUTION", 0, "does not belong in a test cell"),
    ("best = 1\n### END SOLUTION\n", "best = 1\n", "### BEGIN SOLUTION", 0, "unclosed"),
])
def test_template_errors_point_at_the_offending_line(tmp_path, old, new, needle, occurrence, message):
    assert TEMPLATE.count(old) == 1, "each case edits one place of the fixture"
    text = TEMPLATE.replace(old, new)
    path = write_repo(tmp_path, text)
    with pytest.raises(BuildError, match=message) as caught:
        assemble(read_template(path), path, tmp_path, FAKE_ITEMS, FAKE_MANUAL)
    assert caught.value.path == path
    assert caught.value.line == line_of(text, needle, occurrence)


def test_test_before_its_solution_is_an_error(tmp_path):
    text = ('# %% test="double"\nassert double(2) == 4\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS\n\n'
            '# %% solution="reference_impl.fake.double"\n')
    path = write_repo(tmp_path, text)
    with pytest.raises(BuildError, match="comes before its solution cell") as caught:
        assemble(read_template(path), path, tmp_path, FAKE_ITEMS, FAKE_MANUAL)
    assert caught.value.line == 1


def test_items_of_the_spec_without_cells_are_listed(tmp_path):
    text = TEMPLATE.split("# %% [markdown] answer=")[0]
    path = write_repo(tmp_path, text)
    with pytest.raises(BuildError, match="answer_why, experiment, test_experiment|experiment.*answer_why") as caught:
        assemble(read_template(path), path, tmp_path, FAKE_ITEMS, FAKE_MANUAL)
    assert caught.value.path == path
