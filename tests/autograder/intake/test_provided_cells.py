"""Provided cells: their definitions run as nbgrader would have them defined; the student's other code there is
reported, never silently skipped."""
import pytest

from autograder.intake.provided_cells import is_definition, not_run_message, split_provided_cell

INSTRUCTOR = "x = np.zeros(3)\nplt.plot(x)\nplt.show()\n"


def _run(code):
    namespace = {}
    exec(compile(code, "<cell>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("statement, defines", [
    ("def f():\n    return 1", True), ("class A:\n    pass", True), ("import os", True),
    ("from math import pi", True), ("STEP = 2", True), ("a, (b, c) = 1, (2, 3)", True),
    ("cfg: dict = {'pad': 1, 'stride': (2, -1)}", True), ("x = np.zeros(3)", False), ("x = y", False),
    ("w[0] = 1", False), ("obj.attr = 1", False), ("print('hi')", False), ("for i in range(3):\n    pass", False),
    ("x += 1", False), ("model = train(data)", False),
])
def test_what_counts_as_a_definition(statement, defines):
    import ast
    assert is_definition(ast.parse(statement).body[0]) is defines


def test_a_helper_added_to_a_provided_cell_runs_and_the_rest_does_not():
    student = ("x = np.zeros(3)\nSCALE = 2.0\n\n@staticmethod\ndef helper(v):\n    return SCALE * v\n"
               "plt.plot(x)\nmodel = train(x)\nplt.show()\n")
    split = split_provided_cell(student, INSTRUCTOR)
    namespace = _run(split.code)  # np, plt and train are not needed: only the definitions are left
    assert namespace["helper"].__func__(3) == 6.0
    assert split.code.splitlines()[4] == "def helper(v):"  # line numbers kept for tracebacks
    assert split.not_run == ["model = train(x)"]  # the instructor's plotting is not the student's
    message = not_run_message("cell 12", split)
    assert "cell 12" in message and "`model = train(x)`" in message and "solution cell" in message


def test_statements_sharing_a_line_are_split():
    split = split_provided_cell("A = 1; plt.show(); B = 2\n", "")
    assert _run(split.code)["B"] == 2 and "plt" not in split.code and split.not_run == ["plt.show()"]


def test_an_unchanged_provided_cell_reports_nothing():
    split = split_provided_cell(INSTRUCTOR, INSTRUCTOR)
    assert split.code == "" and split.not_run == []


def test_a_provided_cell_that_is_not_python_is_reported():
    split = split_provided_cell("def f(:\n", INSTRUCTOR)
    assert split.syntax_error.startswith("line 1") and "not valid Python" in not_run_message("cell 3", split)
