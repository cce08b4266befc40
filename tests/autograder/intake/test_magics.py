"""Magics become no-ops through IPython's own transformer; valid Python is never changed."""
import pytest

from autograder.intake.magics import neutralise_magics

VALID_PYTHON = [
    "x = (1\n%2)\n",                     # a modulo inside brackets
    "y = 5 \\\n% 3\n",                   # a modulo after a backslash continuation
    "z = [1,\n 2]\n",
    "s = '''\n%not a magic\n!nor this\n'''\n",
    "def f(a):\n    return (a\n            % 7)\n",
    "w = {'k':\n  -1}\n",
]


@pytest.mark.parametrize("code", VALID_PYTHON)
def test_valid_python_is_left_exactly_as_written(code):
    assert neutralise_magics(code) == code


def test_a_continued_modulo_keeps_its_value():
    namespace = {}
    exec(neutralise_magics("x = (1\n%2)\ny = 5 \\\n% 3\n"), namespace)
    assert (namespace["x"], namespace["y"]) == (1 % 2, 5 % 3)


def test_line_magics_and_shell_commands_become_no_ops():
    code = "%matplotlib inline\n!pip install x\nfiles = !ls\nfor i in range(2):\n    !echo hi\nx = (1\n%2)\n"
    cleaned = neutralise_magics(code)
    namespace = {}
    exec(compile(cleaned, "<cell>", "exec"), namespace)  # no get_ipython needed: every magic call is gone
    assert "get_ipython" not in cleaned and "pip" not in cleaned
    assert namespace["files"] is None and namespace["x"] == 1
    assert len(cleaned.splitlines()) == len(code.splitlines())  # tracebacks keep the student's line numbers


def test_cell_magics():
    assert neutralise_magics("%%bash\nrm -rf /\n") is None
    assert neutralise_magics("%%writefile helper.py\nx = 1\n") is None
    timed = neutralise_magics("%%time\nx = 1\n%ls\n")
    namespace = {}
    exec(timed, namespace)
    assert namespace["x"] == 1 and timed.splitlines()[1] == "x = 1"


def test_a_syntax_error_stays_the_students_own():
    code = "def f(:\n    pass\n%ls\n"
    assert neutralise_magics(code) == code


def test_non_ascii_text_before_a_magic_on_the_same_line():
    cleaned = neutralise_magics("é = !echo ü\n")  # ast columns count bytes, the replacement counts characters
    assert cleaned == "é = None\n"
