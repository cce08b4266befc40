"""A child's status is checked against the job the parent sent: other cases, cells, outputs or fields are refused."""
from __future__ import annotations

import pytest

from autograder.cases.ops import call, keys, output, perturb, repeat, value, var
from autograder.sandbox.readback import Rejected
from autograder.sandbox.status_check import check_status, expected_outputs

OPS = [call("f", [var("x")], "r"), output("out", var("r", 0)), keys("names", var("r", 1)),
       repeat(2, [output("step", var("r", 0))]), perturb("f", [var("x")], 0, [1, 2], 1e-5, "num_x")]
JOB = {"item": "f", "cells": [{"label": "cell 3", "source": ""}],
       "cases": [{"id": "f-0001", "ops": OPS}, {"id": "f-0001~aux", "ops": [output("fwd", var("x"))]}]}


def honest():
    return {"cells": [{"label": "setup (instructor)", "ok": True, "error": ""},
                      {"label": "cell 3", "ok": False, "error": "NameError"}],
            "cases": {"f-0001": {"ok": True, "error": "", "seconds": 0.1,
                                 "outputs": {"out": {"type": "numpy.ndarray", "dtype": "float64", "shape": [2]},
                                             "names": {"keys": ["W1"]}, "step": {}, "num_x_plus": {},
                                             "num_x_minus": {}, "note:num_x": {"error": "boom"}}}},
            "running": "case:f-0001~aux", "finished": False}


def test_the_names_a_program_can_produce_are_derived_from_its_operations():
    assert expected_outputs(JOB) == {"f-0001": {"out", "names", "step", "num_x_plus", "num_x_minus", "note:num_x"},
                                     "f-0001~aux": {"fwd"}}


def test_what_the_worker_writes_for_the_job_is_accepted():
    check_status(honest(), JOB)
    check_status({}, JOB)  # nothing written yet
    check_status({"cells": [], "cases": {}, "running": None}, JOB)


def _forged(change):
    status = honest()
    change(status)
    return status


@pytest.mark.parametrize("change, words", [
    (lambda s: s["cases"].update({"f-9999": {"ok": True, "error": "", "outputs": {}, "seconds": 0.0}}),
     "a test the job never asked for"),
    (lambda s: s["cases"]["f-0001"]["outputs"].update({"out2": {}}), "never asked for"),
    (lambda s: s["cases"]["f-0001"]["outputs"].update({f"x{i}": {} for i in range(100_000)}), "never asked for"),
    (lambda s: s["cases"]["f-0001"].update({"score": 1.0}), "a field the worker never writes"),
    (lambda s: s["cases"]["f-0001"].update({"ok": "yes"}), "where the worker writes a bool"),
    (lambda s: s["cases"]["f-0001"].update({"seconds": True}), "where the worker writes a number"),
    (lambda s: s["cells"].append({"label": "a cell of my own", "ok": True, "error": ""}), "cell"),
    (lambda s: s.update({"running": "case:f-1234"}), "running something the job never had"),
    (lambda s: s.update({"grade": 100}), "a field the worker never writes"),
    (lambda s: s.update({"cases": ["f-0001"]}), "where the worker writes a dict"),
])
def test_anything_else_is_refused(change, words):
    with pytest.raises(Rejected, match=words):
        check_status(_forged(change), JOB)
