"""Run one untrusted worker process with limits, and hide the course from it.

The worker is ``python -I worker.py`` (the grader's own interpreter) in an empty temporary directory, with a
scrubbed environment, its own session and process group, CPU/memory/process/file-size limits and a wall-clock
timeout; afterwards the whole process group is killed whatever happened.

Isolation levels, best first (the one used is recorded in ``WorkerRun.isolation``):

- ``namespaces+nobody`` (grader runs as root): new mount, network and PID namespaces; every hidden directory
  is covered by an empty read-only tmpfs, with the interpreter and the worker directory bound back in
  (interpreter read-only); then privileges drop to ``nobody``, which can neither unmount nor write the
  grader's files.
- ``namespaces+userns`` (unprivileged grader): the same inside a user namespace, then a nested user+mount
  namespace so the covering mounts are locked and cannot be unmounted.
- ``reduced+nobody`` (root, no namespaces): limits, and the worker runs as ``nobody``: it cannot write the
  grader's files or read private ones, but can read world-readable files (the course, if it is readable).
- ``reduced``: limits only; student code can read whatever the grader's user can read.
"""
from __future__ import annotations

import functools
import os
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

NOBODY = 65534


@dataclass(frozen=True)
class WorkerLimits:
    """Resource limits of one worker process (see GradingSettings for the meaning of each)."""

    wall_seconds: float
    cpu_seconds: float
    memory_mb: int
    output_bytes: int = 20_000
    file_mb: int = 64
    max_processes: int = 512


@dataclass(frozen=True)
class WorkerRun:
    """What happened to one worker.

    returncode: the worker's exit status (negative: killed by that signal; None: never started).
    timed_out: the parent killed it at the wall-clock limit.
    stdout, stderr: captured text, cut at the byte cap.
    isolation: which isolation level was used (see the module docstring).
    seconds: wall-clock time of the run.
    """

    returncode: int | None
    timed_out: bool
    stdout: str
    stderr: str
    isolation: str
    seconds: float


def _is_root() -> bool:
    return os.geteuid() == 0


@functools.lru_cache(maxsize=None)
def namespaces_available() -> bool:
    """Whether this machine lets us create the namespaces the strong isolation needs (probed once)."""
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return False
    if _is_root():
        probe = ["unshare", "-mnp", "--fork", "--kill-child", "--mount-proc", "true"]
        if shutil.which("setpriv") is None:
            return False
    else:
        probe = ["unshare", "-rmnp", "--fork", "--kill-child", "--mount-proc", "true"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def choose_isolation(requested: str) -> str:
    """Map the settings' isolation request to the level that will be used on this machine.

    Raises
    ------
    ValueError
        If namespaces are required but unavailable, or the request is unknown.
    """
    if requested not in ("auto", "namespaces", "reduced"):
        raise ValueError(f"unknown isolation {requested!r}; expected 'auto', 'namespaces' or 'reduced'")
    if requested == "auto" and namespaces_available():
        return "namespaces+nobody" if _is_root() else "namespaces+userns"
    if requested == "namespaces":
        if namespaces_available():
            return "namespaces+nobody" if _is_root() else "namespaces+userns"
        raise ValueError("isolation='namespaces' was requested but `unshare` cannot create mount/net/pid "
                         "namespaces on this machine")
    return "reduced+nobody" if _is_root() and nobody_can_run_python() else "reduced"


@functools.lru_cache(maxsize=None)
def nobody_can_run_python() -> bool:
    """Whether this interpreter still starts as ``nobody`` (not when it lives under a private home)."""
    try:
        probe = subprocess.run([sys.executable, "-I", "-c", "import numpy"], capture_output=True, timeout=30,
                               cwd="/", user=NOBODY, group=NOBODY, extra_groups=[])
        return probe.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _keep_paths(workdir: Path) -> list[tuple[Path, bool]]:
    """Directories that must stay visible inside hidden ones: (path, writable)."""
    keep = [(workdir, True)]
    for prefix in {Path(sys.prefix), Path(sys.base_prefix), Path(os.path.realpath(sys.executable)).parent.parent}:
        keep.append((prefix.resolve(), False))
    return keep


def _untraversable_ancestor(path: Path) -> Path | None:
    """The highest ancestor of ``path`` that other users cannot enter (e.g. a mode-700 /root), if any."""
    for ancestor in reversed(path.parents):
        if ancestor != Path("/") and not os.stat(ancestor).st_mode & 0o001:
            return ancestor
    return None


def _mount_script(workdir: Path, hidden: tuple[Path, ...], command: list[str], isolation: str) -> str:
    """Shell script run as root of the new namespaces: cover the hidden paths, then drop privileges."""
    keep = _keep_paths(workdir)
    hidden = set(hidden) | {Path("/", workdir.parts[1])}  # the worker's own scratch area (usually /tmp)
    if isolation == "namespaces+nobody":
        # Covering a directory `nobody` cannot enter and binding the kept path back makes it reachable.
        hidden |= {a for a in (_untraversable_ancestor(p) for p, _ in keep) if a is not None}
    lines = ["set -e"]
    # Open every kept directory first: once its parent is covered it can only be reached through the fd.
    for fd, (path, _) in enumerate(keep, start=3):
        lines.append(f"exec {fd}<{shlex.quote(str(path))}")
    covered: list[Path] = []
    for hidden_dir in sorted({p.resolve() for p in hidden}, key=lambda p: len(p.parts)):
        if not hidden_dir.is_dir() or any(c in hidden_dir.parents for c in covered):
            continue  # missing, or already inside a covered directory
        covered.append(hidden_dir)
        lines.append(f"mount -t tmpfs -o size=256k,mode=755 grader-hidden {shlex.quote(str(hidden_dir))}")
        for fd, (path, writable) in enumerate(keep, start=3):
            if path == hidden_dir or hidden_dir in path.parents:
                target = shlex.quote(str(path))
                lines.append(f"mkdir -p {target}")
                lines.append(f"mount -c --bind /proc/self/fd/{fd} {target}")
                if not writable:
                    lines.append(f"mount -c -o remount,bind,ro {target}")
    for fd in range(3, 3 + len(keep)):
        lines.append(f"exec {fd}<&-")
    lines.append(f"cd {shlex.quote(str(workdir))}")
    quoted = " ".join(shlex.quote(c) for c in command)
    if isolation == "namespaces+nobody":
        lines.append(f"exec setpriv --reuid={NOBODY} --regid={NOBODY} --clear-groups -- {quoted}")
    else:
        # A nested user+mount namespace locks the mounts above: they can no longer be unmounted.
        lines.append(f"exec unshare -rm -- {quoted}")
    return "\n".join(lines) + "\n"


def scrubbed_environment(workdir: Path) -> dict[str, str]:
    """The only environment variables a worker sees."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(workdir),
        "TMPDIR": str(workdir),
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(workdir / ".mpl"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "NBGRADER_EXECUTION": "autograde",
        "CONVKIT_GRADING": "1",
        "CONVKIT_NO_CYTHON": "1",
    }


def _limit_resources(limits: WorkerLimits) -> None:
    """Runs in the child between fork and exec: limits are inherited by everything it starts."""
    cpu = max(1, int(limits.cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    memory = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    file_size = limits.file_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
    # RLIMIT_NPROC counts every process of the real user: tight for `nobody`, generous for a desktop user.
    processes = limits.max_processes if os.geteuid() == 0 else max(limits.max_processes, 4096)
    resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _read_capped(path: Path, cap: int) -> str:
    with open(path, "rb") as handle:
        data = handle.read(cap + 1)
    text = data[:cap].decode("utf-8", errors="replace")
    return text + ("\n[... output cut at %d bytes ...]" % cap if len(data) > cap else "")


def run_worker(workdir: Path, script: str, args: list[str], limits: WorkerLimits,
               hidden_paths: tuple[Path, ...] = (), isolation: str = "auto") -> WorkerRun:
    """Run ``python -I <workdir>/<script> <args>`` as an untrusted worker and wait for it.

    Parameters
    ----------
    workdir : Path
        The worker's private directory (created by the caller, holding the script and its inputs). In the
        namespace levels it becomes owned by the worker's user so the worker can write its outputs there.
    script : str
        File name of the worker script inside ``workdir``.
    args : list of str
        Command-line arguments for the script.
    limits : WorkerLimits
        Time, memory, file-size and process limits.
    hidden_paths : tuple of Path
        Directories to cover with empty ones (namespace levels only).
    isolation : {"auto", "namespaces", "reduced"}
        Requested isolation (see ``choose_isolation``).

    Returns
    -------
    WorkerRun
        Exit status, timeout flag, capped stdout/stderr, isolation level used, seconds.
    """
    level = choose_isolation(isolation)
    workdir = workdir.resolve()
    command = [sys.executable, "-I", str(workdir / script), *args]
    if level.endswith("+nobody"):
        for root, dirs, files in os.walk(workdir):
            for name in [root, *(os.path.join(root, d) for d in dirs), *(os.path.join(root, f) for f in files)]:
                os.chown(name, NOBODY, NOBODY)
    if level.startswith("namespaces"):
        unshare = ["unshare", "-mnp", "--fork", "--kill-child", "--mount-proc"]
        if level == "namespaces+userns":
            unshare.insert(1, "-r")
        command = [*unshare, "sh", "-c", _mount_script(workdir, hidden_paths, command, level)]
    with tempfile.TemporaryDirectory(prefix="grader-capture-") as capture:
        out_path, err_path = Path(capture) / "stdout", Path(capture) / "stderr"
        started = time.monotonic()
        timed_out = False
        with open(out_path, "wb") as out_file, open(err_path, "wb") as err_file:
            identity = ({"user": NOBODY, "group": NOBODY, "extra_groups": []} if level == "reduced+nobody" else {})
            try:
                process = subprocess.Popen(
                    command, cwd=workdir, env=scrubbed_environment(workdir), stdin=subprocess.DEVNULL,
                    stdout=out_file, stderr=err_file, start_new_session=True,
                    preexec_fn=functools.partial(_limit_resources, limits), close_fds=True, **identity)
            except OSError as error:
                return WorkerRun(None, False, "", f"could not start the worker: {error}", level, 0.0)
            try:
                returncode = process.wait(timeout=limits.wall_seconds)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                # Whatever happened, nothing the worker started may outlive it.
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                returncode = process.wait()
        seconds = time.monotonic() - started
        return WorkerRun(returncode, timed_out, _read_capped(out_path, limits.output_bytes),
                         _read_capped(err_path, limits.output_bytes), level, seconds)
