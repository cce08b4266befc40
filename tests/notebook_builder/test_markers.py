"""Strict marker parsing: regions, and errors located by file and line."""
import pytest

from notebook_builder.errors import BuildError
from notebook_builder.markers import HIDDEN_TESTS, SOLUTION, check_absent, find_regions


def test_regions_are_found_with_their_lines_and_bodies():
    lines = ["a", "### BEGIN SOLUTION", "x = 1", "y = 2", "### END SOLUTION", "b",
             "    ### BEGIN SOLUTION", "    z = 3", "    ### END SOLUTION"]
    regions = find_regions(lines, SOLUTION, "f.py", first_line=10)
    assert [(r.begin_line, r.end_line) for r in regions] == [(11, 14), (16, 18)]
    assert regions[0].body == ("x = 1", "y = 2") and regions[1].body == ("    z = 3",)


def test_hidden_markers_are_a_separate_kind():
    lines = ["### BEGIN HIDDEN TESTS", "assert 1", "### END HIDDEN TESTS"]
    assert find_regions(lines, SOLUTION, "f.py") == []
    assert len(find_regions(lines, HIDDEN_TESTS, "f.py")) == 1


@pytest.mark.parametrize("lines, line, message", [
    (["### BEGIN SOLUTION", "x", "### BEGIN SOLUTION", "### END SOLUTION"], 3, "nested"),
    (["x", "### BEGIN SOLUTION", "y"], 2, "unclosed"),
    (["x", "### END SOLUTION"], 2, "without a matching"),
    (["## BEGIN SOLUTION", "### END SOLUTION"], 1, "malformed"),
    (["### BEGIN SOLUTION here", "### END SOLUTION"], 1, "malformed"),
])
def test_bad_markers_are_errors_with_file_and_line(lines, line, message):
    with pytest.raises(BuildError, match=message) as caught:
        find_regions(lines, SOLUTION, "ref.py", first_line=1)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"ref.py:{line}: ")


def test_check_absent_names_the_line():
    with pytest.raises(BuildError) as caught:
        check_absent(["ok", "### BEGIN HIDDEN TESTS"], "t.py", first_line=5)
    assert caught.value.line == 6
    check_absent(["nothing to see", "# BEGIN comment"], "t.py")
