"""The battery: exact point splits, configuration coverage, and the reference passing every case in-process.

The in-process runs interpret each case's worker program with ``autograder.worker.run_ops`` against the
reference functions (no sandbox), then judge the outputs with the case's own checks: the reference must pass
every case and a stub must pass none.
"""
from __future__ import annotations

import os
from fractions import Fraction

import numpy as np
import pytest

from autograder import battery, spec, worker
from autograder.worker_files import load_outputs, with_npy_paths
from autograder.experiment import experiment_cases

FUNCTION_ITEMS = [g for g in spec.GRADED_ITEMS if g.kind != "experiment"]


@pytest.mark.parametrize("graded", spec.GRADED_ITEMS, ids=lambda g: g.name)
def test_points_split_sums_exactly_to_the_items_points(graded):
    points = ([c.points for c in battery.cases_for(graded.name)] if graded.kind != "experiment"
              else [p for _, p in experiment_cases(graded)])
    assert sum(Fraction(p) for p in points) == Fraction(graded.points)
    assert all(p > 0 for p in points)


@pytest.mark.parametrize("graded", FUNCTION_ITEMS, ids=lambda g: g.name)
def test_cases_are_named_for_their_item_and_mix_public_and_hidden(graded):
    cases = battery.cases_for(graded.name)
    assert all(c.name.startswith(f"{graded.name}: ") and c.item == graded.name for c in cases)
    assert {c.visibility for c in cases} == {"visible", "hidden"}
    assert len({c.case_id for c in cases}) == len(cases)


def _configs(item):
    return [c.config for c in battery.cases_for(item)]


def test_convolution_battery_covers_strides_pads_and_non_square_filters():
    for item in ("conv_forward_naive", "conv_backward_naive"):
        configs = _configs(item)
        assert {1, 2, 3} <= {c["stride"] for c in configs}
        assert {0, 1, 2} <= {c["pad"] for c in configs}
        assert any(c["HH"] != c["WW"] for c in configs) and any(c["N"] > 1 for c in configs)
        assert any(c.get("unmodified") for c in configs) and any(c.get("dtype") == "float32" for c in configs)


def test_pooling_battery_covers_overlap_non_square_and_non_tiling_windows():
    for item in ("max_pool_forward_naive", "max_pool_backward_naive"):
        configs = _configs(item)
        assert any(c["stride"] < max(c["pool_height"], c["pool_width"]) for c in configs)  # overlapping
        assert any(c["pool_height"] != c["pool_width"] for c in configs)
        assert any(c["stride"] != c["pool_height"] for c in configs)
        assert any((c["H"] - c["pool_height"]) % c["stride"] for c in configs)  # windows do not tile


def test_normalisation_battery_covers_modes_and_group_counts():
    modes = {c["mode"] for c in _configs("spatial_batchnorm_forward")}
    assert {"train", "running", "warmup"} <= modes
    for item in ("spatial_groupnorm_forward", "spatial_groupnorm_backward"):
        configs = _configs(item)
        kinds = {("one" if c["G"] == 1 else "per-channel" if c["G"] == c["shape"][1] else "other") for c in configs}
        assert kinds == {"one", "per-channel", "other"}


def test_hidden_inputs_follow_the_run_seed_and_visible_inputs_do_not():
    visible = next(c for c in battery.cases_for("conv_backward_naive") if c.visibility == "visible")
    hidden = next(c for c in battery.cases_for("conv_backward_naive") if c.visibility == "hidden")
    assert np.array_equal(battery.prepare(visible, 1).inputs["x"], battery.prepare(visible, 2).inputs["x"])
    assert not np.array_equal(battery.prepare(hidden, 1).inputs["x"], battery.prepare(hidden, 2).inputs["x"])
    assert np.array_equal(battery.prepare(hidden, 1).inputs["x"], battery.prepare(hidden, 1).inputs["x"])


def _reference_namespace():
    import reference_impl.cnn as cnn
    import reference_impl.conv_naive as conv
    import reference_impl.pool_naive as pool
    import reference_impl.spatial_norm as norm
    namespace = {}
    for module in (conv, pool, norm, cnn):
        namespace.update({k: v for k, v in vars(module).items() if not k.startswith("_")})
    return namespace


def _run_in_process(case, namespace, tmp_path):
    """Interpret the case's worker programs in this process and judge the outputs with its checks."""
    prepared = battery.prepare(case, hidden_seed=7)
    folder = tmp_path / case.case_id
    (folder / "in" / case.case_id).mkdir(parents=True)
    for name, array in prepared.inputs.items():
        np.save(folder / "in" / case.case_id / f"{name}.npy", array, allow_pickle=False)
    previous = os.getcwd()
    os.chdir(folder)
    metadata, error = {}, None
    try:
        for ops in (prepared.ops, prepared.aux_ops):
            os.makedirs("out", exist_ok=True)
            try:
                worker.run_ops(with_npy_paths(ops, case.case_id), namespace, {}, "out", metadata)
            except Exception as raised:  # a stub raising is the expected outcome for the release
                error = raised
                break
    finally:
        os.chdir(previous)
    outputs = load_outputs(folder / "out", metadata, 64)
    return error, [check.evaluate(outputs) for check in prepared.checks]


ALL_CASES = [c for g in FUNCTION_ITEMS for c in battery.cases_for(g.name)]


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.name)
def test_reference_passes_every_case(case, tmp_path):
    error, verdicts = _run_in_process(case, _reference_namespace(), tmp_path)
    assert error is None
    assert [v.message for v in verdicts if not v.ok] == []


def test_a_stub_passes_no_case(tmp_path):
    def stub(*args, **kwargs):
        raise NotImplementedError()

    namespace = {name: stub for name in _reference_namespace()}
    for case in ALL_CASES:
        error, verdicts = _run_in_process(case, namespace, tmp_path)
        assert error is not None or not all(v.ok for v in verdicts), case.name


def test_unknown_item_is_a_key_error_naming_the_known_ones():
    with pytest.raises(KeyError, match="conv_forward_naive"):
        battery.cases_for("conv_forward_fast")
