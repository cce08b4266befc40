"""Reading back what a worker wrote: links, special files, oversized files, pickles, false claims and odd
metadata are refused (``Rejected``), and loading stops at its byte budgets."""
from __future__ import annotations

import os
import stat
import time

import numpy as np
import pytest

from autograder.cases.ops import with_npy_paths
from autograder.sandbox.files import Budget, Rejected, load_outputs, read_status, read_untrusted, tripwire_module


def test_symlinks_and_oversized_files_are_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("grader-only data")
    (tmp_path / "link").symlink_to(secret)
    with pytest.raises(Rejected, match="symbolic link"):
        read_untrusted(tmp_path / "link", 1000)
    (tmp_path / "big").write_bytes(b"x" * 2000)
    with pytest.raises(Rejected, match="over the"):
        read_untrusted(tmp_path / "big", 1000)
    assert read_untrusted(tmp_path / "secret.txt", 1000) == b"grader-only data"
    assert read_untrusted(tmp_path / "absent", 1000) is None


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    os.mkfifo(tmp_path / "out.npy")  # nobody ever writes to it: opening it for reading would block forever
    with pytest.raises(Rejected, match="named pipe"):
        read_untrusted(tmp_path / "out.npy", 1000)


def test_a_hard_link_is_refused(tmp_path):
    np.save(tmp_path / "input.npy", np.arange(3.0))
    os.link(tmp_path / "input.npy", tmp_path / "x_after.npy")
    with pytest.raises(Rejected, match="hard link"):
        read_untrusted(tmp_path / "x_after.npy", 10_000)


def test_a_symlinked_folder_on_the_way_is_refused(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    np.save(tmp_path / "elsewhere" / "out.npy", np.arange(3.0))
    (tmp_path / "work" / "out").mkdir(parents=True)
    (tmp_path / "work" / "out" / "case").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(Rejected, match="out/case is a symbolic link, not a folder"):
        read_untrusted(tmp_path / "work" / "out" / "case" / "out.npy", 10_000, root=tmp_path / "work")
    outputs = {"out": {"dtype": "float64"}}
    with pytest.raises(Rejected):
        load_outputs(tmp_path / "work" / "out" / "case", outputs, 1, root=tmp_path / "work", expected={"out"})


@pytest.mark.skipif(os.geteuid() != 0, reason="creating a device node needs root")
def test_a_device_is_refused_without_being_opened(tmp_path):
    os.mknod(tmp_path / "out.npy", 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # /dev/zero: endless bytes
    with pytest.raises(Rejected, match="character device"):
        read_untrusted(tmp_path / "out.npy", 1000)


def test_pickled_arrays_are_never_unpickled(tmp_path):
    np.save(tmp_path / "out.npy", np.array([{"payload": 1}], dtype=object), allow_pickle=True)
    np.save(tmp_path / "fine.npy", np.arange(3.0))
    outputs = load_outputs(tmp_path, {"out": {"dtype": "float64"}, "fine": {"dtype": "float64"}}, 1)
    assert outputs["out"].array is None
    assert outputs["fine"].array.tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(Rejected, match="not plain numbers"):
        load_outputs(tmp_path, {"out": {}}, 1, expected={"out"})


def test_dtype_and_shape_come_from_the_header_and_a_false_claim_is_refused(tmp_path):
    np.save(tmp_path / "out.npy", np.ones((2, 3), dtype=np.float64))
    loaded = load_outputs(tmp_path, {"out": {}}, 1, expected={"out"})["out"]
    assert loaded.meta["dtype"] == "float64" and loaded.meta["shape"] == [2, 3]
    assert load_outputs(tmp_path, {"out": {"dtype": "float32"}}, 1)["out"].meta["dtype"] == "float64"
    with pytest.raises(Rejected, match="has dtype float32, but the file holds float64"):
        load_outputs(tmp_path, {"out": {"dtype": "float32", "shape": [2, 3]}}, 1, expected={"out"})
    with pytest.raises(Rejected, match="has shape"):
        load_outputs(tmp_path, {"out": {"dtype": "float64", "shape": [3, 2]}}, 1, expected={"out"})
    with pytest.raises(Rejected, match="torch.float32 tensor"):
        load_outputs(tmp_path, {"out": {"framework": "torch", "framework_dtype": "torch.float32"}}, 1,
                     expected={"out"})


def test_a_file_longer_than_its_header_says_is_refused(tmp_path):
    np.save(tmp_path / "out.npy", np.ones(4))
    with open(tmp_path / "out.npy", "ab") as handle:
        handle.write(b"\0" * 8)
    with pytest.raises(Rejected, match="header describes"):
        load_outputs(tmp_path, {"out": {}}, 1, expected={"out"})


def test_outputs_the_job_never_asked_for_are_refused(tmp_path):
    np.save(tmp_path / "out.npy", np.ones(2))
    flood = {f"extra{i}": {} for i in range(10_000)}
    with pytest.raises(Rejected, match="never asked for"):
        load_outputs(tmp_path, {"out": {}, **flood}, 1, expected={"out"})
    with pytest.raises(Rejected, match="fields the worker never writes"):
        load_outputs(tmp_path, {"out": {"shape": "big"}}, 1, expected={"out"})


def test_loading_stops_at_every_budget_before_reading(tmp_path):
    np.save(tmp_path / "a.npy", np.ones(1000))       # 8 kB as float64
    np.save(tmp_path / "b.npy", np.ones(1000, dtype=np.uint8))  # 1 kB on disk, 8 kB as float64
    item = Budget(12_000, "the item")
    load_outputs(tmp_path, {"a": {}}, 1, expected={"a", "b"}, budgets=(Budget(10_000, "one test"), item))
    assert 8000 <= item.used < 8300
    with pytest.raises(Rejected, match="past the .* the grader loads for the item"):
        load_outputs(tmp_path, {"b": {}}, 1, expected={"a", "b"}, budgets=(Budget(10_000, "one test"), item))
    with pytest.raises(Rejected, match="one test"):  # counted at its float64 size, not its size on disk
        load_outputs(tmp_path, {"b": {}}, 1, expected={"b"}, budgets=(Budget(5_000, "one test"),))


def test_malformed_status_is_refused(tmp_path):
    assert read_status(tmp_path / "status.json") == {}
    (tmp_path / "status.json").write_text("[1, 2")
    with pytest.raises(Rejected, match="not the JSON record"):
        read_status(tmp_path / "status.json")
    (tmp_path / "status.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(Rejected):
        read_status(tmp_path / "status.json")


def test_output_names_cannot_point_outside_the_case_folder(tmp_path):
    (tmp_path / "case").mkdir()
    np.save(tmp_path / "escaped.npy", np.ones(2))
    outputs = load_outputs(tmp_path / "case", {"../escaped": {"dtype": "float64"}}, 1)
    assert outputs["../escaped"].array is None
    with pytest.raises(Rejected):
        load_outputs(tmp_path / "case", {"../escaped": {}}, 1, expected={"out"})


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


def _mapped_input(tmp_path, values):
    """An input file as the engine writes it, its identity, and the function's view of it (the shared map)."""
    from autograder.sandbox.readback import written
    from autograder.sandbox.untrusted.interpreter import shared_input
    path = tmp_path / "in" / "case" / "x.npy"
    path.parent.mkdir(parents=True)
    np.save(path, values, allow_pickle=False)
    was = written(path)
    sealed = os.stat(path).st_ctime_ns
    return path, was, sealed, shared_input(str(path))


def test_the_function_is_handed_the_input_file_itself_and_the_parent_reads_it_back(tmp_path):
    from autograder.sandbox.readback import load_input
    values = np.arange(6, dtype=np.float32).reshape(2, 3)
    path, was, sealed, x = _mapped_input(tmp_path, values)
    assert type(x) is np.ndarray and x.dtype == np.float32 and x.flags.writeable
    untouched = load_input(path, was, sealed, root=tmp_path)
    assert untouched.meta == {"dtype": "float32", "shape": [2, 3]} and np.array_equal(untouched.array, values)
    x *= 2  # what a function writes into its argument lands in the file
    modified = load_input(path, was, sealed, root=tmp_path)
    assert np.array_equal(modified.array, values * 2)


def test_an_input_written_and_put_back_still_counts_as_written(tmp_path):
    from autograder.sandbox.readback import load_input
    values = np.linspace(0, 1, 8)
    path, was, sealed, x = _mapped_input(tmp_path, values)
    for _ in range(1000):  # until the file system's clock passes the seal (its timestamps are coarse)
        x[0] = 5.0
        x[0] = values[0]
        with open(path, "r+b") as handle:  # an ordinary write of the same bytes, too
            handle.seek(os.path.getsize(path) - 8)
            handle.write(values[-1:].tobytes())
        if os.stat(path).st_ctime_ns > sealed:
            break
        time.sleep(0.005)
    restored = load_input(path, was, sealed, root=tmp_path)
    assert restored.meta.get("written") and np.array_equal(restored.array, values)


def test_a_replaced_or_linked_input_file_is_refused(tmp_path):
    from autograder.sandbox.readback import load_input
    values = np.ones(4)
    path, was, sealed, _ = _mapped_input(tmp_path, values)
    os.link(path, tmp_path / "twin.npy")
    with pytest.raises(Rejected, match="hard link"):
        load_input(path, was, sealed, root=tmp_path)
    os.unlink(tmp_path / "twin.npy")
    np.save(tmp_path / "copy.npy", values, allow_pickle=False)
    os.replace(tmp_path / "copy.npy", path)  # the original values, in another file
    with pytest.raises(Rejected, match="replaced"):
        load_input(path, was, sealed, root=tmp_path)
    path.unlink()
    assert load_input(path, was, sealed, root=tmp_path).array is None
