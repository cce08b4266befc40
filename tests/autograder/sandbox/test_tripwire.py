"""The barebones tripwire (autograder/sandbox/untrusted/tripwire.py): constructing a forbidden class raises with
the item's name, only the named classes and their subclasses are affected, and ``restore`` undoes it exactly."""
from __future__ import annotations

import sys

import pytest

from autograder.sandbox.untrusted.tripwire import disable_modules, disabled_message, forbid_classes, import_dotted

FRAMEWORK = """
class Layer:
    def __init__(self, units=1):
        self.units = units

class Dense(Layer):
    pass

class Conv(Layer):
    def __init__(self):
        super().__init__(3)

class Inherits:
    pass

class Other:
    def __init__(self):
        self.ok = True
"""


@pytest.fixture
def fakeframework(tmp_path, monkeypatch):
    (tmp_path / "fakeframework.py").write_text(FRAMEWORK)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "fakeframework", raising=False)
    yield import_dotted("fakeframework")
    sys.modules.pop("fakeframework", None)


def test_forbidden_classes_and_subclasses_raise_naming_class_and_item(fakeframework):
    restore = forbid_classes(["fakeframework.Layer", "fakeframework.Inherits"], "three_layer_convnet")
    try:
        for build in (fakeframework.Layer, fakeframework.Dense, fakeframework.Conv, fakeframework.Inherits):
            with pytest.raises(RuntimeError) as raised:
                build()
            assert "is disabled while three_layer_convnet is graded" in str(raised.value)
        assert fakeframework.Other().ok  # a class not named keeps its constructor
    finally:
        restore()


def test_restore_gives_back_each_constructor_defined_or_inherited(fakeframework):
    own = fakeframework.Layer.__dict__["__init__"]
    forbid_classes(["fakeframework.Layer", "fakeframework.Inherits"], "flatten")()
    assert fakeframework.Layer.__dict__["__init__"] is own
    assert "__init__" not in fakeframework.Inherits.__dict__  # inherited from object again
    assert fakeframework.Conv().units == 3 and fakeframework.Dense(5).units == 5
    assert isinstance(fakeframework.Inherits(), fakeframework.Inherits)


def test_an_unimportable_path_changes_nothing(fakeframework):
    with pytest.raises(ImportError, match="no_such_framework"):
        forbid_classes(["fakeframework.Layer", "no_such_framework.Layer"], "flatten")
    assert fakeframework.Dense(2).units == 2


def test_the_message_names_the_class_the_item_and_what_to_use():
    text = disabled_message("torch.nn.Module", "flatten")
    assert text.startswith("torch.nn.Module (and its subclasses) is disabled while flatten is graded")
    assert "raw operations" in text


def test_disabled_modules_raise_however_reached_and_come_back_whole(tmp_path, monkeypatch):
    package = tmp_path / "fakekit"
    package.mkdir()
    (package / "__init__.py").write_text("from .fast import *\n")
    (package / "fast.py").write_text("import math\nfrom math import sqrt\n\ndef fast_sum(x):\n    return sum(x)\n")
    (package / "helper.py").write_text("from .fast import fast_sum\n\ndef total(x):\n    return fast_sum(x)\n")
    (package / "late.py").write_text("from .fast import fast_sum\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib
    fakekit = importlib.import_module("fakekit")
    helper = importlib.import_module("fakekit.helper")
    namespace = {"fast_sum": fakekit.fast_sum, "sqrt": fakekit.fast.sqrt}
    real = fakekit.fast
    restore = disable_modules(["fakekit.fast"], namespace)
    try:
        reached = [lambda: namespace["fast_sum"]([1]), lambda: helper.total([1]),
                   lambda: importlib.import_module("fakekit.fast").fast_sum([1]),
                   lambda: importlib.reload(sys.modules["fakekit.fast"]).fast_sum([1]),
                   lambda: importlib.import_module("fakekit.late").fast_sum([1]), lambda: fakekit.fast.anything()]
        for reach in reached:
            with pytest.raises(RuntimeError, match=r"fakekit\.fast\.\w+ is disabled while the naive layers"):
                reach()
        assert namespace["sqrt"](4.0) == 2.0  # numpy's or math's functions imported there are not the module's
    finally:
        restore()
    assert sys.modules["fakekit.fast"] is real and fakekit.fast is real and "fakekit.late" not in sys.modules
    assert namespace["fast_sum"]([1, 2]) == 3 and helper.total([2]) == 2
    for name in [n for n in sys.modules if n.split(".")[0] == "fakekit"]:
        del sys.modules[name]
