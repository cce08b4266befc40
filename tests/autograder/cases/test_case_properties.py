"""Hidden cases vary the data, never the rules: every property a hidden case exercises is exercised by a visible
case of the same item, which students run in the notebook (``check(item)``) before submitting."""
from __future__ import annotations

import dataclasses

import pytest

import assignments
from assignments.convnets import CONVNETS
from autograder import cases
from autograder.cases import case

ALL_ITEMS = [(record, graded.name) for record in assignments.ASSIGNMENTS.values() for graded in record.graded_items]


@pytest.mark.parametrize("record, item", ALL_ITEMS, ids=lambda v: getattr(v, "name", v))
def test_hidden_cases_exercise_only_properties_some_visible_case_exercises(record, item):
    assert cases.uncovered_properties(record, item) == {}, \
        f"{record.name}:{item}: hidden cases check rules no visible case shows; make a case with them visible"


@pytest.mark.parametrize("graded", [g for g in CONVNETS.graded_items if g.runs_code], ids=lambda g: g.name)
def test_every_convnets_case_has_derived_properties(graded):
    for c in cases.cases_for(CONVNETS, graded.name):
        assert cases.properties(CONVNETS, c), f"{c.name} exercises no named property"


# The properties the issue names, each shown by a visible case of the items it concerns.
SHOWN = {
    "conv_forward_naive": {"dtype float32", "non-square filter", "stride > 1", "padding", "no padding",
                           "overlapping windows", "batch of 3 or more", "inputs left unmodified", "non-square input"},
    "conv_backward_naive": {"dtype float32", "non-square filter", "stride > 1", "padding", "no padding",
                            "overlapping windows", "batch of 3 or more", "inputs left unmodified"},
    "max_pool_forward_naive": {"dtype float32", "non-square pool", "overlapping windows",
                               "windows do not tile the input", "stride differs from pool size", "batch of 3 or more",
                               "inputs left unmodified"},
    "max_pool_backward_naive": {"dtype float32", "non-square pool", "overlapping windows",
                                "windows do not tile the input", "batch of 3 or more", "inputs left unmodified"},
    "spatial_batchnorm_forward": {"dtype float32", "mode running", "mode warmup", "batch of 3 or more",
                                  "inputs left unmodified"},
    "spatial_batchnorm_backward": {"dtype float32", "single sample", "inputs left unmodified"},
    "spatial_groupnorm_forward": {"dtype float32", "one group", "one channel per group", "several groups",
                                  "inputs left unmodified"},
    "spatial_groupnorm_backward": {"dtype float32", "one group", "one channel per group", "several groups",
                                   "inputs left unmodified"},
    "ThreeLayerConvNet": {"checks dtype", "checks init", "checks scores", "reg > 0", "gradients with reg > 0",
                          "non-default sizes (non-square input)"},
}


@pytest.mark.parametrize("item", sorted(SHOWN))
def test_the_named_properties_are_each_shown_by_a_visible_case(item):
    visible = [c for c in cases.cases_for(CONVNETS, item) if c.visibility == "visible"]
    shown = frozenset().union(*(cases.properties(CONVNETS, c) for c in visible))
    assert SHOWN[item] <= shown, f"{item}: no visible case shows {sorted(SHOWN[item] - shown)}"


@pytest.mark.parametrize("extra, uncovered", [
    (case("conv_forward_naive", "float16 in, float16 out", 1, dtype="float16",
          stride=1, pad=1, N=2, C=3, H=5, W=5, F=2, HH=3, WW=3), {"dtype float16"}),
    (case("conv_forward_naive", "1x1 filter", 1, stride=1, pad=0, N=2, C=3, H=5, W=5, F=2, HH=1, WW=1),
     {"1x1 filter"}),
])
def test_a_hidden_case_with_a_new_rule_is_reported(monkeypatch, extra, uncovered):
    module = cases.item_module("convnets", "conv_forward_naive")
    monkeypatch.setattr(module, "CASES", module.CASES + (extra,))
    found = cases.uncovered_properties(CONVNETS, "conv_forward_naive")
    shown = frozenset().union(*(cases.properties(CONVNETS, c) for c in module.CASES if c.visibility == "visible"))
    assert found == {extra.name: frozenset(cases.properties(CONVNETS, extra) - shown)}
    assert frozenset(uncovered) - shown <= found[extra.name]


def test_explicit_tags_count_as_properties():
    tagged = dataclasses.replace(cases.cases_for(CONVNETS, "conv_forward_naive")[1], tags=frozenset({"odd rule"}))
    assert "odd rule" in cases.properties(CONVNETS, tagged)


@pytest.mark.parametrize("assignment, item, extra, uncovered", [
    ("tensorflow", "three_layer_convnet_init", dict(check="orthogonal"), {"checks orthogonal"}),
    ("pytorch", "three_layer_convnet", dict(N=2, C=3, H=6, W=6, channel_1=2, channel_2=3, classes=4),
     set()),
    ("pytorch", "nesterov_sgd", dict(shape=(3,), learning_rate=0.1, steps=2, fresh=True),
     {"fresh model: initialisation"}),
    ("tensorflow", "flatten", dict(shape=(2, 3, 4, 5, 6, 7)), {"rank 6 batch"}),
    ("tensorflow", "ThreeLayerConvNet", dict(image_hw=(8, 8), channels=(2, 2), classes=3, batch=1),
     {"batch of 1"}),
])
def test_a_hidden_framework_case_with_a_new_rule_is_reported(monkeypatch, assignment, item, extra, uncovered):
    """The framework assignments' default properties (``cases.framework_properties``) name what a hidden case
    checks beyond the data: a new check, a fresh model, a batch rank or size no visible case has."""
    record = assignments.get(assignment)
    module = cases.item_module(assignment, item)
    hidden = case(item, "an extra hidden case", 1, **extra)
    monkeypatch.setattr(module, "CASES", module.CASES + (hidden,))
    assert cases.uncovered_properties(record, item) == ({hidden.name: frozenset(uncovered)} if uncovered else {})
