"""The notebook's self-check, as shipped in ``convkit/selfcheck/``: the grader's visible cases (and only those),
with expected values from the reference, run in the calling process and printed as feedback.html's lines; on a
buggy submission it says, case by case, exactly what ``make grade`` says."""
from __future__ import annotations

import importlib
import json
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from assignments.convnets import CONVNETS
from autograder import cases
from autograder.engine import grade_submission
from autograder.feedback_text import case_lines
from autograder.self_check_export import self_check_files
from autograder.settings import GradingSettings
from fixture_builder import FIXTURES, build_fixture, render_course
from reference_impl.conv_naive import conv_forward_naive

CODE_ITEMS = [g.name for g in CONVNETS.graded_items if g.runs_code]
BUGGY = {"loses_conv_forward_naive_float64_output": "conv_forward_naive",
         "loses_max_pool_forward_naive_stride_equals_pool": "max_pool_forward_naive"}
CALLS_FAST_LAYERS = "zero_gain_calls_fast_layers"  # naive items calling the provided fast layers, im2col, a reload


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """The shipped ``selfcheck`` package, imported from a folder of its own (its copies, not autograder's)."""
    root = tmp_path_factory.mktemp("kit")
    for relative, payload in self_check_files(CONVNETS).items():
        (root / "selfcheck" / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / "selfcheck" / relative).write_bytes(payload)
    sys.path.insert(0, str(root))
    try:
        module = importlib.import_module("selfcheck")
        assert module.__file__.startswith(str(root))
        yield module
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == "selfcheck" or n.startswith("selfcheck.")]:
            del sys.modules[name]


def _reference_namespace() -> dict:
    import reference_impl.cnn as cnn
    import reference_impl.conv_naive as conv
    import reference_impl.pool_naive as pool
    import reference_impl.spatial_norm as norm
    return {"np": np, **{name: getattr(m, name) for m in (cnn, conv, pool, norm) for name in CODE_ITEMS
                         if hasattr(m, name)}}


def test_public_cases_are_exactly_the_visible_cases(shipped):
    document = json.loads((shipped.self_check.HERE / "public_cases.json").read_text())
    names = [record["name"] for record in document["cases"]]
    visible = [c.name for item in CODE_ITEMS for c in cases.cases_for(CONVNETS, item) if c.visibility == "visible"]
    hidden = {c.name for item in CODE_ITEMS for c in cases.cases_for(CONVNETS, item) if c.visibility == "hidden"}
    assert names == visible and not hidden & set(names)


def test_public_expected_values_are_the_reference_on_the_public_inputs(shipped):
    for case in shipped.public_cases.load(shipped.self_check.HERE, "conv_forward_naive"):
        if "published" in case.name:
            continue  # expected values rounded in the record
        param = next(op for op in case.ops if op.get("op") == "call")["args"][3]["value"]
        expected = conv_forward_naive(*(case.inputs[n].astype(np.float64) for n in ("x", "w", "b")), param)[0]
        assert np.array_equal(case.checks[0].expected, expected), case.name


@pytest.mark.parametrize("item", CODE_ITEMS)
def test_the_reference_passes_every_public_case(shipped, item, capsys):
    outcome = shipped.check(item, _reference_namespace())
    printed = capsys.readouterr().out
    assert outcome.passed and outcome.failed == []
    assert printed.count("[passed]") == len(outcome.results) > 0 and "[failed]" not in printed


def test_a_stub_fails_every_public_case_saying_it_is_not_implemented(shipped, capsys):
    def conv_forward_naive(x, w, b, conv_param):
        raise NotImplementedError()
    outcome = shipped.check("conv_forward_naive", {"conv_forward_naive": conv_forward_naive})
    assert not outcome.passed and len(outcome.failed) == len(outcome.results)
    assert "conv_forward_naive is not implemented yet" in capsys.readouterr().out


def test_check_reads_the_callers_globals_by_default(shipped):
    namespace = _reference_namespace()
    exec("result = check('max_pool_forward_naive', quiet=True)", dict(namespace, check=shipped.check), namespace)
    assert namespace["result"].passed


def test_unknown_item_names_the_known_ones(shipped):
    with pytest.raises(KeyError, match="conv_forward_naive"):
        shipped.check("experiment", {})


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    return render_course(tmp_path_factory.mktemp("course"))


@pytest.fixture(scope="module")
def graded(source, tmp_path_factory):
    """The grader's results (``make grade``'s engine, in its sandbox) for the buggy fixtures."""
    settings = GradingSettings(source_notebook=source, test_seconds=2.0, cell_seconds=4.0, memory_mb=1024)
    folder = tmp_path_factory.mktemp("fixtures")
    with ThreadPoolExecutor(max_workers=2) as pool:
        names = [*BUGGY, CALLS_FAST_LAYERS]
        results = pool.map(lambda name: grade_submission(build_fixture(name, source, folder), name, settings), names)
        return dict(zip(names, results))


@pytest.mark.parametrize("fixture", sorted(BUGGY))
def test_a_buggy_function_gets_the_graders_own_verdict_on_every_visible_case(shipped, graded, fixture, capsys):
    item = BUGGY[fixture]
    namespace = {"np": np}
    exec((FIXTURES / fixture / f"{item}.py").read_text(), namespace)
    outcome = shipped.check(item, namespace)
    printed = capsys.readouterr().out
    grader = {t.name: t for t in graded[fixture].tests if t.item == item and t.visibility == "visible"}
    assert [r.name for r in outcome.results] == list(grader)
    for mine in outcome.results:
        theirs = grader[mine.name]
        assert (mine.score, mine.max_score, mine.message, mine.expected, mine.got, mine.hint) == \
               (theirs.score, theirs.max_score, theirs.message, theirs.expected, theirs.got, theirs.hint), mine.name
        assert "\n".join(case_lines(theirs)) in printed
    assert not outcome.passed


def test_the_float64_allocation_is_named_before_submitting(shipped, capsys):
    namespace = {"np": np}
    exec((FIXTURES / "loses_conv_forward_naive_float64_output" / "conv_forward_naive.py").read_text(), namespace)
    outcome = shipped.check("conv_forward_naive", namespace)
    failed = {r.checked: r for r in outcome.failed}
    assert list(failed) == ["float32 in, float32 out"]
    assert failed["float32 in, float32 out"].message == "out: dtype float64 instead of float32"
    assert "dtype=x.dtype" in capsys.readouterr().out


def test_a_missing_public_cases_file_says_what_to_do(shipped, tmp_path):
    with pytest.raises(FileNotFoundError, match="unpack the assignment again"):
        shipped.check("conv_forward_naive", {}, folder=tmp_path)


def test_a_barebones_items_check_raises_the_graders_tripwire_and_removes_it(shipped, tmp_path, monkeypatch):
    """A public case of a barebones item (``forbidden`` set) fails with the grader's own tripwire error when the
    function builds a forbidden class; the class constructs normally again after the check."""
    from autograder.checks import ArrayCheck
    from autograder.public_cases import PublicCase, encode
    from autograder.sandbox.untrusted.tripwire import disabled_message

    (tmp_path / "fakeframework.py").write_text("class Layer:\n    def __init__(self):\n        self.scale = 2\n\n"
                                               "class Double(Layer):\n    def __call__(self, x):\n"
                                               "        return x * self.scale\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "fakeframework", raising=False)
    fakeframework = importlib.import_module("fakeframework")
    x = np.arange(6.0).reshape(2, 3)
    ops = [{"op": "call", "fn": "double", "args": [{"value": x.tolist()}], "result": "r"},
           {"op": "output", "name": "out", "value": {"var": "r", "path": []}}]
    case = PublicCase("double_0", "double", "double_0", 1.0, {}, ops, [],
                      [ArrayCheck("out", 2 * x, "out", 1e-9)], ["fakeframework.Layer"])
    folder = tmp_path / "cases"
    folder.mkdir()
    for name, payload in encode([case]).items():
        (folder / name).write_bytes(payload)

    with_layers = {"np": np, "double": lambda v: fakeframework.Double()(np.asarray(v))}
    with_raw_ops = {"np": np, "double": lambda v: np.asarray(v) * 2}
    failed = shipped.check("double", with_layers, folder=folder, quiet=True)
    assert not failed.passed
    assert failed.results[0].message.startswith("the call to double failed: RuntimeError: ")
    assert disabled_message("fakeframework.Layer", "double") in failed.results[0].message
    assert "raw operations" in failed.results[0].hint
    assert shipped.check("double", with_raw_ops, folder=folder, quiet=True).passed
    assert fakeframework.Double()(3) == 6  # the tripwire is gone after the check
    sys.modules.pop("fakeframework", None)


@pytest.fixture
def convkit_imported(source, monkeypatch):
    """The course's own support package imported as a notebook imports it; forgotten afterwards."""
    monkeypatch.syspath_prepend(str(source.parent))
    yield importlib.import_module("convkit")
    for name in [n for n in sys.modules if n == "convkit" or n.startswith("convkit.")]:
        del sys.modules[name]


def test_naive_items_calling_the_fast_layers_get_the_graders_verdict_and_nothing_stays_disabled(
        shipped, graded, convkit_imported):
    namespace = {"np": np}
    exec("from convkit import *", namespace)  # as the notebook's setup cell
    real_forward = namespace["conv_forward_fast"]
    for path in sorted((FIXTURES / CALLS_FAST_LAYERS).glob("*.py")):
        exec(path.read_text(), namespace)
    finders = list(sys.meta_path)
    for item in json.loads((FIXTURES / CALLS_FAST_LAYERS / "fixture.json").read_text())["items"]:
        outcome = shipped.check(item, namespace, quiet=True)
        grader = {t.name: t for t in graded[CALLS_FAST_LAYERS].tests if t.item == item and t.visibility == "visible"}
        assert [r.name for r in outcome.results] == list(grader)
        for mine in outcome.results:
            theirs = grader[mine.name]
            assert (mine.score, mine.message, mine.hint) == (theirs.score, theirs.message, theirs.hint), mine.name
            assert "is disabled while the naive layers are graded" in mine.message
    # After the checks the kernel is as it was: the real fast layers, importable and working.
    assert sys.meta_path == finders and namespace["conv_forward_fast"] is real_forward
    fast = importlib.import_module("convkit.fast_layers")
    assert fast.conv_forward_fast is real_forward and convkit_imported.fast_layers is fast
    x, w = np.ones((1, 1, 3, 3)), np.ones((1, 1, 3, 3))
    assert fast.conv_forward_fast(x, w, np.zeros(1), {"stride": 1, "pad": 0})[0].item() == 9.0
