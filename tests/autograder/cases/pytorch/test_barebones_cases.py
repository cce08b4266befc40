"""The PyTorch barebones case modules: the reference passes every case, a realistic bug fails, a lying tensor
subclass is read through torch.Tensor, and torch.nn layers are refused in the barebones items."""
from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from assignments.pytorch import PYTORCH  # noqa: E402
from autograder.cases import cases_for  # noqa: E402
from autograder.cases.in_process import run_case  # noqa: E402
from autograder.sandbox.untrusted import interpreter, worker  # noqa: E402
from reference_impl.frameworks import (torch_barebones, torch_modules, torch_open_model,  # noqa: E402
                                       torch_sequential, torch_weights)

SOURCES = {"flatten": torch_barebones, "three_layer_convnet": torch_barebones, "random_weight": torch_barebones,
           "zero_weight": torch_barebones, "three_layer_convnet_init": torch_barebones,
           "train_step": torch_barebones, "ThreeLayerConvNet": torch_modules, "sequential_convnet": torch_sequential,
           "nesterov_sgd": torch_sequential, "build_open_model": torch_open_model}
ITEMS = tuple(SOURCES)


def _namespace(**overrides):
    names = {name: getattr(module, name) for name, module in SOURCES.items()}
    return {"__builtins__": __builtins__, "torch": torch, "F": F, "load_open_model": torch_weights.load_open_model,
            "predict_scores": torch_weights.predict_scores, **names, **overrides}


def test_every_code_item_but_the_open_model_is_listed_here():
    assert set(ITEMS) | {"open_model"} == {g.name for g in PYTORCH.graded_items}


@pytest.mark.parametrize("item", ITEMS)
def test_the_reference_passes_every_case(item):
    for case in cases_for(PYTORCH, item):
        passed, why = run_case(PYTORCH, case, _namespace(), hidden_seed=5)
        assert passed, f"{case.name}: {why}"


def test_a_column_major_flatten_fails_the_non_trivial_cases():
    def flatten_transposed(x):
        return x.permute(0, *range(x.dim() - 1, 0, -1)).reshape(x.shape[0], -1)  # wrong order of the values

    results = [run_case(PYTORCH, c, _namespace(flatten=flatten_transposed))[0] for c in cases_for(PYTORCH, "flatten")]
    assert results == [False, False, False, True]  # a (4, 6) batch of vectors is the same either way


def test_a_forward_pass_with_the_wrong_padding_fails_every_case():
    def padding_zero(x, params):
        w1, b1, w2, b2, fc_w, fc_b = params
        h = F.relu(F.conv2d(F.relu(F.conv2d(x, w1, b1, padding=2)), w2, b2, padding=0))
        return h.reshape(h.shape[0], -1)[:, :fc_w.shape[0]].mm(fc_w[:h[0].numel()]) + fc_b

    assert not any(run_case(PYTORCH, c, _namespace(three_layer_convnet=padding_zero))[0]
                   for c in cases_for(PYTORCH, "three_layer_convnet"))


def test_a_tensor_subclass_cannot_report_other_values(tmp_path):
    class Lying(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return torch.zeros(2, 2) + 7  # whatever is asked of it

        def numpy(self):
            return np.full((2, 2), 7.0)

    honest = torch.arange(4.0).reshape(2, 2)
    info = interpreter.export(honest.as_subclass(Lying), str(tmp_path / "out.npy"))
    assert info["framework"] == "torch" and info["framework_dtype"] == "torch.float32"
    assert np.load(tmp_path / "out.npy").tolist() == [[0.0, 1.0], [2.0, 3.0]]


def test_torch_nn_layers_are_refused_while_a_barebones_item_is_graded(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    original = torch.nn.Module.__init__
    job = {"setup_code": "import torch", "cell_seconds": 10, "item": "three_layer_convnet",
           "forbidden": list(PYTORCH.naive_forbidden),
           "cells": [{"label": "nn layer", "source": "layer = torch.nn.Conv2d(3, 4, 3)"}]}
    try:
        worker.run_cells(job, {"__builtins__": __builtins__}, worker.Status(str(tmp_path / "status.json")))
    finally:
        torch.nn.Module.__init__ = original
    record = json.loads((tmp_path / "status.json").read_text())["cells"][-1]
    assert not record["ok"] and "torch.nn.Module (and its subclasses) is disabled" in record["error"]


def test_patched_tensor_methods_do_not_change_what_the_grader_reads(tmp_path):
    interpreter.snapshot_frameworks()
    saved = {name: getattr(torch.Tensor, name) for name in ("numpy", "detach", "cpu", "to")}
    try:
        for name in saved:
            setattr(torch.Tensor, name, lambda self, *a, **k: torch.zeros(1))
        info = interpreter.export(torch.arange(3.0), str(tmp_path / "out.npy"))
    finally:
        for name, method in saved.items():
            setattr(torch.Tensor, name, method)
    assert info["framework"] == "torch" and np.load(tmp_path / "out.npy").tolist() == [0.0, 1.0, 2.0]
