"""Reading back what a worker wrote: symlinks, oversized files, pickles and odd metadata are refused."""
from __future__ import annotations

import json

import numpy as np

from autograder.cases.ops import with_npy_paths
from autograder.sandbox.files import load_outputs, read_status, read_untrusted, tripwire_module


def test_symlinks_and_oversized_files_are_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("grader-only data")
    (tmp_path / "link").symlink_to(secret)
    assert read_untrusted(tmp_path / "link", 1000) is None
    (tmp_path / "big").write_bytes(b"x" * 2000)
    assert read_untrusted(tmp_path / "big", 1000) is None
    assert read_untrusted(tmp_path / "secret.txt", 1000) == b"grader-only data"


def test_pickled_arrays_are_never_unpickled(tmp_path):
    np.save(tmp_path / "out.npy", np.array([{"payload": 1}], dtype=object), allow_pickle=True)
    np.save(tmp_path / "fine.npy", np.arange(3.0))
    outputs = load_outputs(tmp_path, {"out": {"dtype": "float64"}, "fine": {"dtype": "float64"}}, 1)
    assert outputs["out"].array is None
    assert outputs["fine"].array.tolist() == [0.0, 1.0, 2.0]


def test_malformed_status_becomes_an_empty_record(tmp_path):
    (tmp_path / "status.json").write_text("[1, 2")
    assert read_status(tmp_path / "status.json") == {}
    (tmp_path / "status.json").write_text(json.dumps({"cases": [1], "cells": "x"}))
    assert read_status(tmp_path / "status.json") == {"cases": {}, "cells": []}


def test_output_names_cannot_point_outside_the_case_folder(tmp_path):
    (tmp_path / "case").mkdir()
    np.save(tmp_path / "escaped.npy", np.ones(2))
    outputs = load_outputs(tmp_path / "case", {"../escaped": {"dtype": "float64"}}, 1)
    assert outputs["../escaped"].array is None


def test_tripwire_module_raises_for_every_name_of_the_real_one():
    source = b"def conv_forward_fast(x):\n    return x\n\nclass Helper:\n    pass\n"
    namespace = {}
    exec(tripwire_module("fast_layers", source), namespace)
    for name in ("conv_forward_fast", "Helper"):
        try:
            namespace[name](1)
        except RuntimeError as error:
            assert f"convkit.fast_layers.{name} is disabled" in str(error)
        else:
            raise AssertionError(f"{name} did not trip")


def test_input_names_map_to_the_cases_files():
    ops = [{"op": "load", "var": "x", "npy": "x"}, {"op": "call", "args": [{"npy": "w"}]}]
    assert with_npy_paths(ops, "c1") == [{"op": "load", "var": "x", "npy": "in/c1/x.npy"},
                                         {"op": "call", "args": [{"npy": "in/c1/w.npy"}]}]
