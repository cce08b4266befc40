"""The worker sandbox: limits, clean-up, and (when namespaces work here) a course hidden from student code."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from autograder.sandbox import launch as sandbox
from autograder.sandbox.launch import WorkerLimits, run_worker
from autograder.settings import COURSE_ROOT

LIMITS = WorkerLimits(wall_seconds=20, cpu_seconds=20, memory_mb=1024, output_bytes=2000)


def _run(tmp_path: Path, code: str, limits: WorkerLimits = LIMITS, isolation="auto"):
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "probe.py").write_text(textwrap.dedent(code))
    run = run_worker(workdir, "probe.py", [], limits, isolation)
    result = workdir / "result.json"
    return run, (json.loads(result.read_text()) if result.exists() else None)


PROBE = """
import json, os, sys
found = {}
def attempt(name, action):
    try:
        action()
        found[name] = "allowed"
    except Exception as error:
        found[name] = type(error).__name__
sys.path[:0] = [%(root)r]
attempt("import reference_impl", lambda: __import__("reference_impl.conv_naive"))
attempt("read source notebook", lambda: open(%(notebook)r).read())
attempt("read gradebook", lambda: open(%(gradebook)r).read())
attempt("list course", lambda: os.listdir(%(root)r) and None)
if %(try_write)r:
    attempt("write venv", lambda: open(os.path.join(sys.prefix, "planted.pth"), "w").write("# planted"))
found["listing"] = sorted(os.listdir(%(root)r)) if os.path.isdir(%(root)r) else []
found["cwd"] = os.getcwd()
found["env"] = sorted(os.environ)
json.dump(found, open("result.json", "w"))
"""


@pytest.fixture
def fake_course(tmp_path):
    """A course root with a source notebook and a gradebook, hidden like the real course."""
    root = tmp_path / "course"
    (root / "source" / "convnets").mkdir(parents=True)
    (root / "source" / "convnets" / "ConvolutionalNetworks.ipynb").write_text("{\"secret\": 1}")
    (root / "gradebook.db").write_text("secret grades")
    return root


def test_environment_is_scrubbed(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", "/somewhere/evil")
    monkeypatch.setenv("GRADER_SECRET", "do not leak")
    run, found = _run(tmp_path, PROBE % dict(root=str(tmp_path), notebook="/x", gradebook="/x", try_write=False))
    assert run.returncode == 0, run.stderr
    assert "PYTHONPATH" not in found["env"] and "GRADER_SECRET" not in found["env"]
    assert found["cwd"] == str((tmp_path / "work").resolve())


@pytest.mark.skipif(not sandbox.namespaces_available(), reason="unshare cannot create namespaces here")
def test_student_code_cannot_see_the_course_reference_or_gradebook(tmp_path, fake_course, monkeypatch):
    paths = dict(root=str(fake_course), notebook=str(fake_course / "source/convnets/ConvolutionalNetworks.ipynb"),
                 gradebook=str(fake_course / "gradebook.db"))
    # Control: run without any isolation (not through run_worker, which refuses that), the probe reads
    # everything, so the probe itself can detect a leak.
    control = tmp_path / "control"
    control.mkdir()
    (control / "probe.py").write_text(textwrap.dedent(PROBE % dict(paths, try_write=False)))
    subprocess.run([sys.executable, "-I", "probe.py"], cwd=control, check=True, timeout=60)
    open_found = json.loads((control / "result.json").read_text())
    assert open_found["read source notebook"] == "allowed" and open_found["read gradebook"] == "allowed"
    # Isolated: nothing outside the worker's own directory and the interpreter exists for student code.
    (tmp_path / "isolated").mkdir()
    run, found = _run(tmp_path / "isolated", PROBE % dict(paths, try_write=True))
    assert run.returncode == 0, run.stderr
    assert run.isolation.startswith("namespaces")
    assert found["read source notebook"] != "allowed"
    assert found["read gradebook"] != "allowed"
    assert found["listing"] == []
    assert found["write venv"] != "allowed"
    assert not (Path(sys.prefix) / "planted.pth").exists()


@pytest.mark.skipif(not sandbox.namespaces_available(), reason="unshare cannot create namespaces here")
def test_reference_impl_cannot_be_imported_from_the_real_repository(tmp_path):
    code = PROBE % dict(root=str(COURSE_ROOT), notebook=str(COURSE_ROOT / "reference_impl" / "conv_naive.py"),
                        gradebook=str(COURSE_ROOT / "assignments" / "convnets.py"), try_write=False)
    run, found = _run(tmp_path, code)
    assert run.returncode == 0, run.stderr
    assert found["import reference_impl"] == "ModuleNotFoundError"
    assert found["read source notebook"] == "FileNotFoundError"
    assert found["listing"] in ([], [".venv"])  # only the interpreter is bound back, read-only


@pytest.mark.skipif(not sandbox.namespaces_available(), reason="unshare cannot create namespaces here")
def test_no_other_copy_of_the_kit_anywhere_on_the_machine_is_visible(tmp_path):
    # Another checkout of the course (an instructor's second clone, a CI directory) in a place no setting names.
    elsewhere = Path(tempfile.mkdtemp(prefix="another-checkout-", dir=Path.home()))
    try:
        shutil.copytree(COURSE_ROOT / "reference_impl", elsewhere / "reference_impl",
                        ignore=shutil.ignore_patterns("*.so", "__pycache__"))
        code = PROBE % dict(root=str(elsewhere), notebook=str(elsewhere / "reference_impl" / "conv_naive.py"),
                            gradebook="/etc/shadow", try_write=False)
        code += textwrap.dedent("""
        found["top level"] = sorted(os.listdir("/"))
        json.dump(found, open("result.json", "w"))
        """)
        run, found = _run(tmp_path, code)
    finally:
        shutil.rmtree(elsewhere)
    assert run.returncode == 0, run.stderr
    assert found["import reference_impl"] == "ModuleNotFoundError"
    assert found["read source notebook"] == "FileNotFoundError"
    assert found["read gradebook"] != "allowed"
    assert set(found["top level"]) <= {"usr", "etc", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "dev",
                                       "proc", "tmp", *(p.parts[1] for p in sandbox._python_installations()),
                                       tmp_path.resolve().parts[1]}


def test_wall_clock_limit_kills_the_worker(tmp_path):
    limits = WorkerLimits(wall_seconds=1.5, cpu_seconds=20, memory_mb=1024)
    run, _ = _run(tmp_path, "import time\nwhile True:\n    time.sleep(0.1)\n", limits)
    assert run.timed_out and run.seconds < 6


def test_memory_limit_turns_a_blowup_into_memory_error(tmp_path):
    code = """
    import json
    try:
        hoard = [bytearray(100_000_000) for _ in range(100)]
        outcome = "allocated 10 GB"
    except MemoryError:
        outcome = "MemoryError"
    json.dump(outcome, open("result.json", "w"))
    """
    run, outcome = _run(tmp_path, code, WorkerLimits(wall_seconds=20, cpu_seconds=20, memory_mb=512))
    assert outcome == "MemoryError"


def test_output_is_capped(tmp_path):
    run, _ = _run(tmp_path, "print('x' * 100_000)\n", WorkerLimits(10, 10, 1024, output_bytes=1000))
    assert len(run.stdout) < 1100 and "cut at 1000 bytes" in run.stdout


def test_children_do_not_outlive_the_worker(tmp_path):
    marker = f"grader-test-orphan-{os.getpid()}"
    code = f"""
    import subprocess
    subprocess.Popen(["sleep", "300", "{marker}"], start_new_session=False)
    """
    run, _ = _run(tmp_path, code)
    survivors = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True).stdout.split()
    assert survivors == []


def test_unknown_isolation_is_rejected():
    with pytest.raises(ValueError, match="unknown isolation 'sometimes'"):
        sandbox.choose_isolation("sometimes")


@pytest.mark.skipif(not sandbox.namespaces_available(), reason="unshare cannot create namespaces here")
def test_unprivileged_mode_hides_the_course_and_locks_the_mounts(tmp_path, fake_course, monkeypatch):
    # The user-namespace path an instructor's laptop takes (simulated here by pretending not to be root).
    monkeypatch.setattr(sandbox, "_is_root", lambda: False)
    sandbox.namespaces_available.cache_clear()
    sandbox.namespace_probe.cache_clear()
    try:
        code = PROBE % dict(root=str(fake_course), notebook=str(fake_course / "gradebook.db"),
                            gradebook=str(fake_course / "gradebook.db"), try_write=False)
        code += textwrap.dedent(f"""
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        found["umount"] = libc.umount2(b"/tmp", 2)  # MNT_DETACH of the worker's /tmp
        course = {str(fake_course)!r}
        found["listing after umount"] = sorted(os.listdir(course)) if os.path.isdir(course) else []
        json.dump(found, open("result.json", "w"))
        """)
        run, found = _run(tmp_path, code)
    finally:
        sandbox.namespaces_available.cache_clear()
        sandbox.namespace_probe.cache_clear()
    assert run.returncode == 0, run.stderr
    assert run.isolation == "namespaces+userns"
    assert found["read gradebook"] != "allowed" and found["listing"] == []
    assert found["umount"] == -1 and found["listing after umount"] == []  # no capability left to undo mounts


def test_without_namespaces_auto_refuses_to_run_student_code_and_says_what_to_enable(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "namespaces_available", lambda: False)
    monkeypatch.setattr(sandbox, "namespace_probe", lambda: "unshare: unshare failed: Operation not permitted")
    for requested in ("auto", "namespaces"):
        folder = tmp_path / requested
        folder.mkdir()
        with pytest.raises(sandbox.IsolationUnavailable) as refused:
            _run(folder, "open('ran', 'w')\n", isolation=requested)
        message = str(refused.value)
        assert "Operation not permitted" in message and "unshare -r -mnpi" in message
        assert "user.max_user_namespaces" in message and "CAP_SYS_ADMIN" in message
        assert not (tmp_path / requested / "work" / "ran").exists()  # student code never started


def _nobody_ready():
    if os.geteuid() != 0 or not sandbox.nobody_can_run_python():
        pytest.skip("needs root and an interpreter that `nobody` can run")


def test_reduced_refuses_when_nobody_can_read_the_course(tmp_path, monkeypatch, fake_course):
    _nobody_ready()
    monkeypatch.setattr(sandbox, "namespaces_available", lambda: False)
    readable = Path(tempfile.mkdtemp(prefix="grader-test-course-"))
    try:
        readable.chmod(0o755)
        with pytest.raises(sandbox.IsolationUnavailable, match="who can read .*chmod -R o-rwx"):
            sandbox.choose_isolation("reduced", (readable,))
    finally:
        shutil.rmtree(readable)


def test_reduced_refuses_to_run_student_code_as_root(monkeypatch):
    monkeypatch.setattr(sandbox, "namespaces_available", lambda: False)
    monkeypatch.setattr(sandbox, "_is_root", lambda: True)
    monkeypatch.setattr(sandbox, "nobody_can_run_python", lambda: False)
    with pytest.raises(sandbox.IsolationUnavailable, match="as root"):
        sandbox.choose_isolation("reduced", ())


def test_reduced_runs_as_nobody_only_with_the_course_unreadable(monkeypatch):
    _nobody_ready()
    monkeypatch.setattr(sandbox, "namespaces_available", lambda: False)
    course = Path(tempfile.mkdtemp(prefix="grader-test-course-"))  # pytest's folders are private: use /tmp
    workdir = Path(tempfile.mkdtemp(prefix="grader-test-"))
    try:
        course.chmod(0o700)
        (course / "gradebook.db").write_text("secret grades")
        probe = (f"import json, os\ntry:\n    open({str(course / 'gradebook.db')!r}).read()\n    seen = 'read'\n"
                 "except OSError as error:\n    seen = type(error).__name__\n"
                 "json.dump([os.getuid(), seen], open('result.json', 'w'))\n")
        (workdir / "probe.py").write_text(probe)
        run = run_worker(workdir, "probe.py", [], LIMITS, "reduced", protected=(course,))
        assert run.isolation == "reduced+nobody" and run.returncode == 0, run.stderr
        assert json.loads((workdir / "result.json").read_text()) == [sandbox.NOBODY, "PermissionError"]
    finally:
        shutil.rmtree(workdir)
        shutil.rmtree(course)
