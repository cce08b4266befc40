"""Each item's process sees only its own folder and support package (``untrusted.confine``), in the real jail."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from autograder.sandbox import launch
from autograder.sandbox.files import install_worker
from autograder.sandbox.launch import WorkerLimits, jail_spec, run_worker
from autograder.sandbox.untrusted import protocol
from autograder.settings import COURSE_ROOT

PROBE = """
import ctypes, json, os
seen = {}
def attempt(name, action):
    try:
        action()
        seen[name] = "allowed"
    except Exception as error:
        seen[name] = type(error).__name__
for name, path in PATHS.items():
    seen["exists " + name] = os.path.exists(path)
attempt("write own folder", lambda: open("mine.txt", "w").write("x"))
attempt("write /tmp", lambda: open("/tmp/from_" + ITEM, "w").write("x"))
attempt("write lib", lambda: open(os.path.join(LIB, "planted.py"), "w").write("x"))
attempt("write /", lambda: os.mkdir("/planted"))
libc = ctypes.CDLL(None, use_errno=True)
seen["mount tmpfs"] = libc.mount(b"x", b"/tmp", b"tmpfs", 0, None) == 0
seen["remount / writable"] = libc.mount(None, b"/", None, 32 | 4096, None) == 0
seen["lib listing"] = sorted(os.listdir(LIB))
seen["pid"], seen["ppid"] = os.getpid(), os.getppid()
seen["proc pids"] = sorted(int(n) for n in os.listdir("/proc") if n.isdigit())
visible = []
for pid in range(2, 200):
    try:
        os.kill(pid, 0)
        visible.append(pid)
    except OSError:
        pass
seen["other processes"] = visible
with open("probe.json", "w") as handle:
    json.dump(seen, handle)
"""


@pytest.fixture(scope="module")
def confined(tmp_path_factory):
    """Run two items in one worker, item b first; item a's observations (probe.json)."""
    if not launch.namespaces_available():
        pytest.skip("namespaces unavailable here: " + launch.namespace_probe())
    workdir = tmp_path_factory.mktemp("worker")
    script = install_worker(workdir)
    for lib in ("lib_a", "lib_full"):
        (workdir / lib / "convkit").mkdir(parents=True)
        (workdir / lib / "convkit" / "fast_layers.py").write_text(f"# {lib}\n")
    items = []
    for item in ("b", "a"):
        folder = workdir / "items" / item
        folder.mkdir(parents=True)
        (folder / "secret.txt").write_text(item)
        lib = workdir / ("lib_a" if item == "a" else "lib_full")
        paths = {"other item": str(workdir / "items" / ("b" if item == "a" else "a")), "full lib":
                 str(workdir / "lib_full"), "job file": str(workdir / protocol.JOB_FILE),
                 "worker code": str(workdir / protocol.WORKER_DIR), "course":
                 str(COURSE_ROOT / "autograder"), "other /tmp file": "/tmp/from_b", "own lib": str(lib)}
        code = f"PATHS = {paths!r}\nITEM = {item!r}\nLIB = {str(lib)!r}\n" + textwrap.dedent(PROBE)
        items.append({"item": item, "work": str(folder), "lib": str(lib), "wall_seconds": 60, "cpu_seconds": 20,
                      "setup_code": "", "cells": [{"label": "probe", "source": code}], "skip_cells": [],
                      "cell_seconds": 10, "test_seconds": 5, "cases": [], "forbidden": []})
    batch = {"parallel": 1, "preload": [], "items": items, "jail": jail_spec()}
    (workdir / protocol.JOB_FILE).write_text(json.dumps(batch))
    run = run_worker(workdir, script.relative_to(workdir).as_posix(), [protocol.JOB_FILE],
                     WorkerLimits(wall_seconds=120, cpu_seconds=60, memory_mb=1024), with_record=True)
    record = json.loads(run.record)
    assert record["endings"] == {"a": {"exit": 0}, "b": {"exit": 0}}, (record, run.stderr)
    return {item: json.loads((workdir / "items" / item / "probe.json").read_text()) for item in ("a", "b")}


def test_an_item_sees_neither_the_other_items_nor_the_full_support_package(confined):
    seen = confined["a"]
    for name in ("other item", "full lib", "job file", "worker code", "course", "other /tmp file"):
        assert seen["exists " + name] is False, name
    assert seen["exists own lib"] is True and seen["lib listing"] == ["convkit"]
    assert confined["b"]["exists other item"] is False  # and the other way round


def test_an_item_runs_alone_in_a_pid_namespace_of_its_own(confined):
    seen = confined["a"]
    assert seen["pid"] == 1 and seen["ppid"] == 0 and seen["other processes"] == []
    assert seen["proc pids"] == [1]  # its /proc shows its own PID namespace only


def test_an_item_writes_only_its_own_folder_and_tmp_and_cannot_remount(confined):
    seen = confined["a"]
    assert seen["write own folder"] == "allowed" and seen["write /tmp"] == "allowed"
    assert seen["write lib"] == "OSError" and seen["write /"] == "OSError"
    assert seen["mount tmpfs"] is False and seen["remount / writable"] is False


def test_mount_points_under_tmp_are_made_in_the_items_own_tmp():
    """A course or virtual environment kept under /tmp (a CI clone, say) is bound below the item's /tmp, which is
    itself bound over <root>/tmp first: its mount point must be made in that folder, or the bind finds none."""
    from autograder.sandbox.untrusted.confine import _made_at
    assert _made_at("/s/root", "/s/tmp", "/tmp/ci/.venv") == "/s/tmp/ci/.venv"
    assert _made_at("/s/root", "/s/tmp", "/usr/lib") == "/s/root/usr/lib"
    assert _made_at("/s/root", "/s/tmp", "/tmpfoo/x") == "/s/root/tmpfoo/x"
