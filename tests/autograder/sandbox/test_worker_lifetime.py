"""What a worker owns and how long it lives: its own IPC namespace and size-limited /tmp, and nothing of it
survives the grader, even a grader killed with SIGKILL."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from autograder.sandbox import launch
from autograder.sandbox.launch import WorkerLimits, run_worker
from autograder.settings import COURSE_ROOT

pytestmark = pytest.mark.skipif(not launch.namespaces_available(), reason="needs Linux namespaces (unshare) here")
LIMITS = WorkerLimits(wall_seconds=60, cpu_seconds=20, memory_mb=1024, tmp_mb=8)


def _run(tmp_path: Path, code: str):
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "probe.py").write_text(textwrap.dedent(code))
    run = run_worker(workdir, "probe.py", [], LIMITS)
    assert run.returncode == 0, run.stderr
    return json.loads((workdir / "result.json").read_text())


def test_the_worker_has_its_own_ipc_namespace_and_sees_no_host_shared_memory(tmp_path):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    key, ipc_creat, ipc_rmid = 0x5EED1234, 0o1000, 0
    host_segment = libc.shmget(key, 4096, ipc_creat | 0o666)
    assert host_segment >= 0
    try:
        found = _run(tmp_path, f"""
        import ctypes, json, os
        libc = ctypes.CDLL(None, use_errno=True)
        json.dump({{"ipc": os.readlink("/proc/self/ns/ipc"), "segment": libc.shmget({key}, 4096, 0)}},
                  open("result.json", "w"))
        """)
    finally:
        libc.shmctl(host_segment, ipc_rmid, None)
    assert found["ipc"] != os.readlink("/proc/self/ns/ipc")
    assert found["segment"] == -1  # the host's segment does not exist for the worker


def test_temporary_files_go_to_a_private_size_limited_tmp(tmp_path):
    marker = f"grader-tmp-probe-{os.getpid()}"
    found = _run(tmp_path, f"""
    import json, os, tempfile
    written, error = 0, None
    try:
        with open(os.path.join(tempfile.gettempdir(), {marker!r}), "wb") as handle:
            for _ in range(64):
                handle.write(b"x" * 1024 * 1024)
                handle.flush()
                written += 1
    except OSError as problem:
        error = problem.errno
    json.dump({{"tmpdir": tempfile.gettempdir(), "written_mb": written, "errno": error}}, open("result.json", "w"))
    """)
    assert found["tmpdir"] == "/tmp"
    assert found["errno"] == 28 and found["written_mb"] <= LIMITS.tmp_mb  # ENOSPC at its own limit
    assert not (Path(tempfile.gettempdir()) / marker).exists()  # nothing reached the host's /tmp


GRADER = """
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
from autograder.sandbox.launch import WorkerLimits, run_worker
run_worker(Path({workdir!r}), "worker.py", [], WorkerLimits(wall_seconds=300, cpu_seconds=300, memory_mb=1024))
"""

WORKER = """
import os, subprocess, time
subprocess.Popen(["sleep", "600", {marker!r}])
if os.fork() == 0:  # one that leaves the process group, as student code may
    os.setsid()
    os.execv("/bin/sleep", ["sleep", "600", {marker!r}])
open("started", "w").close()
time.sleep(600)
"""


def _survivors(marker: str) -> list[str]:
    return subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True).stdout.split()


@pytest.mark.slow
def test_killing_the_grader_with_sigkill_leaves_no_worker_behind():
    marker = f"grader-kill9-probe-{os.getpid()}-{time.monotonic_ns()}"
    workdir = Path(tempfile.mkdtemp(prefix=f"{marker}-"))
    (workdir / "worker.py").write_text(WORKER.format(marker=marker))
    grader = subprocess.Popen([sys.executable, "-c", GRADER.format(root=str(COURSE_ROOT), workdir=str(workdir))])
    try:
        deadline = time.monotonic() + 120
        while not (workdir / "started").exists():
            assert grader.poll() is None and time.monotonic() < deadline, "the worker never started"
            time.sleep(0.1)
        assert len(_survivors(marker)) >= 3  # the worker and its two sleepers are running
        os.kill(grader.pid, signal.SIGKILL)
        grader.wait()
        deadline = time.monotonic() + 20
        while _survivors(marker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _survivors(marker) == []
    finally:
        for pid in _survivors(marker):  # clean up after a failure, by the ids this test started
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        subprocess.run(["rm", "-rf", str(workdir)])
