"""Student-controlled text bounded for hidden cases' feedback: one printable line, at most the limit, a few short
dict keys; the arrays themselves untouched."""
from __future__ import annotations

import numpy as np

from autograder.checks import KeysCheck, Output
from autograder.student_text import ELLIPSIS, KEY_CHARS, MAX_KEYS, bounded_line, bounded_outputs


def test_a_bounded_line_is_the_last_line_printable_and_cut_to_the_limit():
    assert bounded_line("Traceback ...\n  File x\nValueError: bad\n\n", 120) == "ValueError: bad"
    assert bounded_line("a\x1b[31mred\x00", 120) == "a?[31mred?"
    long = "ValueError: " + "1.234 " * 100
    cut = bounded_line(long, 40)
    assert len(cut) == 40 and cut.endswith(ELLIPSIS) and long.startswith(cut[:-len(ELLIPSIS)])
    assert bounded_line("", 40) == "" and bounded_line(None, 40) == "None"


def test_bounded_outputs_cut_what_the_worker_says_and_keep_the_arrays():
    array = np.arange(6.0)
    keys = [f"k{i}_" + "9" * 100 for i in range(MAX_KEYS + 5)]
    outputs = {"out": Output(array, {"type": "Leak" + "0.5 " * 200, "dtype": "float64", "scalar": False}),
               "params": Output(None, {"keys": keys})}
    bounded = bounded_outputs(outputs, 60)
    assert bounded["out"].array is array and len(bounded["out"].meta["type"]) == 60
    assert bounded["out"].meta["dtype"] == "float64" and bounded["out"].meta["scalar"] is False
    names = bounded["params"].meta["keys"]
    assert len(names) == MAX_KEYS + 1 and names[-1] == ELLIPSIS and all(len(n) <= KEY_CHARS for n in names)
    assert outputs["out"].meta["type"].startswith("Leak0.5 0.5") and len(outputs["params"].meta["keys"]) == 17
    verdict = KeysCheck("params", ["W1"], "parameter names").evaluate(bounded)
    assert not verdict.ok and len(verdict.message) < 1000


def test_correct_short_answers_pass_unchanged():
    outputs = {"params": Output(None, {"keys": ["W1", "b1"]}), "x": Output(np.ones(2), {"dtype": "float32"})}
    bounded = bounded_outputs(outputs, 120)
    assert KeysCheck("params", ["b1", "W1"], "names").evaluate(bounded).ok
    assert bounded["x"].meta == {"dtype": "float32"}
