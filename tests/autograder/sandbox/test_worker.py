"""The worker's side: what it accepts as a result, and how a failing cell or case is contained."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from autograder.sandbox.untrusted import interpreter, worker


class Liar(np.ndarray):
    def __eq__(self, other):
        return True


@pytest.mark.parametrize("value, key, words", [
    ([1.0, 2.0], "error", "not a numpy.ndarray"),
    (np.array([object()], dtype=object), "error", "not of numbers"),
    (np.zeros(2).view(Liar), "subclass", None),
])
def test_export_flags_what_is_not_a_plain_numeric_array(tmp_path, value, key, words):
    info = interpreter.export(value, str(tmp_path / "x.npy"))
    assert info.get(key)
    if words:
        assert words in info["error"]


def test_export_writes_plain_float64_and_records_the_original_dtype(tmp_path):
    info = interpreter.export(np.arange(4, dtype=np.float32), str(tmp_path / "x.npy"))
    saved = np.load(tmp_path / "x.npy", allow_pickle=False)
    assert info["dtype"] == "float32" and saved.dtype == np.float64 and saved.tolist() == [0, 1, 2, 3]


def test_a_crashing_cell_does_not_stop_the_next_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    job = {"setup_code": "import numpy as np", "cell_seconds": 2, "skip_cells": ["skipped"],
           "cells": [{"label": "exits", "source": "import sys\nsys.exit(3)"},
                     {"label": "loops", "source": "while True:\n    pass"},
                     {"label": "skipped", "source": "raise SystemExit"},
                     {"label": "defines", "source": "def f(x):\n    return x + 1"}]}
    namespace = {"__builtins__": __builtins__}
    status = worker.Status(str(tmp_path / "status.json"))
    worker.run_cells(job, namespace, status)
    records = {r["label"]: r for r in json.loads((tmp_path / "status.json").read_text())["cells"]}
    assert not records["exits"]["ok"] and "SystemExit" in records["exits"]["error"]
    assert not records["loops"]["ok"] and "GradingTimeout" in records["loops"]["error"]
    assert records["skipped"].get("skipped") and records["defines"]["ok"]
    assert namespace["f"](1) == 2


def test_cases_stop_after_two_timeouts(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spin = [{"op": "call", "fn": "spin", "args": [], "result": "r"}]
    job = {"test_seconds": 0.2, "cases": [{"id": f"c{i}", "ops": spin} for i in range(4)]}
    namespace = {"spin": lambda: [None for _ in iter(int, 1)]}
    status = worker.Status(str(tmp_path / "status.json"))
    worker.run_cases(job, namespace, status)
    errors = [status.data["cases"][f"c{i}"]["error"] for i in range(4)]
    assert errors[:2] == ["timed out: used more than 0.2 s of CPU time"] * 2
    assert all("two earlier tests of this function timed out" in e for e in errors[2:])


def test_an_item_whose_process_cannot_be_forked_is_a_grader_error_and_the_rest_still_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    started = []

    def start_child(job, record_fd):
        if job["item"] == "refused":
            raise BlockingIOError(11, "Resource temporarily unavailable")
        started.append(job["item"])
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        return pid

    monkeypatch.setattr(worker, "start_child", start_child)
    items = [{"item": name, "work": str(tmp_path), "wall_seconds": 60, "cell_seconds": 1, "test_seconds": 1}
             for name in ("refused", "runs")]
    with open(tmp_path / "record", "w+b") as handle:
        worker.serve({"parallel": 1, "items": items}, worker.Record(handle.fileno()))
        handle.seek(0)
        record = json.loads(handle.read())
    assert record["started"] is True and started == ["runs"]
    assert "BlockingIOError" in record["endings"]["refused"]["grader_error"]
    assert record["endings"]["runs"] == {"exit": 0}
