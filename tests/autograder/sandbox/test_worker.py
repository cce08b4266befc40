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


def test_export_writes_the_array_in_its_own_dtype_for_the_header_to_tell(tmp_path):
    info = interpreter.export(np.arange(4, dtype=np.float32), str(tmp_path / "x.npy"))
    saved = np.load(tmp_path / "x.npy", allow_pickle=False)
    assert info["dtype"] == "float32" and saved.dtype == np.float32 and saved.tolist() == [0, 1, 2, 3]
    interpreter.export(np.float64(2.5), str(tmp_path / "s.npy"))  # a scalar stays 0-dimensional
    assert np.load(tmp_path / "s.npy").shape == ()


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

    def start_child(job, record_fd, jail=None):
        if job["item"] == "refused":
            raise BlockingIOError(11, "Resource temporarily unavailable")
        started.append(job["item"])
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        return pid, None

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


def test_forbidden_classes_raise_after_the_setup_cell_only(tmp_path, monkeypatch):
    (tmp_path / "fakeframework.py").write_text("class Layer:\n    def __init__(self):\n        self.ok = True\n\n"
                                              "class Dense(Layer):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(__import__("sys").modules, "fakeframework", raising=False)
    job = {"setup_code": "import fakeframework\nbuilt_in_setup = fakeframework.Dense()", "cell_seconds": 2,
           "item": "flatten", "forbidden": ["fakeframework.Layer"],
           "cells": [{"label": "layer", "source": "layer = fakeframework.Dense()"},
                     {"label": "plain", "source": "x = 1"}]}
    namespace = {"__builtins__": __builtins__}
    worker.run_cells(job, namespace, worker.Status(str(tmp_path / "status.json")))
    records = {r["label"]: r for r in json.loads((tmp_path / "status.json").read_text())["cells"]}
    assert namespace["built_in_setup"].ok and records["plain"]["ok"]
    assert not records["layer"]["ok"]
    assert "fakeframework.Layer (and its subclasses) is disabled while flatten is graded" in records["layer"]["error"]
    __import__("sys").modules.pop("fakeframework", None)


def test_preload_imports_named_modules_and_survives_a_missing_one():
    import sys
    sys.modules.pop("fractions", None)
    worker.preload(["fractions", "no_such_module_here"])
    assert "fractions" in sys.modules and "no_such_module_here" not in sys.modules


def test_get_passes_a_namespace_object_and_tensor_specs_need_their_framework(tmp_path):
    outputs: dict = {}
    namespace = {"builder": lambda: np.ones(3), "apply": lambda make: make() * 2}
    ops = [{"op": "get", "name": "builder", "result": "b"},
           {"op": "call", "fn": "apply", "args": [{"var": "b", "path": []}], "result": "r"},
           {"op": "output", "name": "r", "value": {"var": "r", "path": []}}]
    interpreter.run_ops(ops, namespace, {}, str(tmp_path), outputs)
    assert np.load(tmp_path / "r.npy").tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(NameError, match="missing is not defined"):
        interpreter.run_ops([{"op": "get", "name": "missing", "result": "m"}], namespace, {}, str(tmp_path), {})
    with pytest.raises(RuntimeError, match="needs no_framework"):
        interpreter.resolve({"tensor": {"value": [1.0]}, "framework": "no_framework"}, {})


def test_stand_in_plotting_modules_have_no_fake_dunders():
    finder = worker._NoPlotting()
    module = finder.create_module(finder.find_spec("matplotlib.pyplot"))
    assert callable(module.figure)
    with pytest.raises(AttributeError):
        module.__file__  # noqa: B018 (inspect.getmodule reads it for every loaded module)


def test_an_item_that_cannot_be_confined_is_a_grader_error_and_runs_no_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "ran"
    items = [{"item": "unconfinable", "work": str(tmp_path), "lib": str(tmp_path), "wall_seconds": 60,
              "cpu_seconds": 10, "cell_seconds": 5, "test_seconds": 5, "setup_code": "", "cases": [],
              "cells": [{"label": "student", "source": f"open({str(marker)!r}, 'w').close()"}]}]
    # A device that does not exist: confinement fails, whatever the machine allows.
    jail = {"readonly": [], "devices": ["no-such-device"], "scratch": str(tmp_path)}
    with open(tmp_path / "record", "w+b") as handle:
        worker.serve({"parallel": 1, "items": items, "jail": jail}, worker.Record(handle.fileno()))
        handle.seek(0)
        record = json.loads(handle.read())
    assert "could not confine the item's process" in record["endings"]["unconfinable"]["grader_error"]
    assert not marker.exists()
