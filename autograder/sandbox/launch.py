"""Run one untrusted worker process with limits, and hide the course from it.

The worker is ``python -I worker.py`` (the grader's own interpreter) in an empty temporary directory, with a
scrubbed environment, its own session and process group, CPU/memory/process/file-size limits and a wall-clock
timeout; afterwards the whole process group is killed whatever happened.

Isolation levels, best first (the one used is recorded in ``WorkerRun.isolation``):

- ``namespaces+nobody`` (grader runs as root): new mount, network, PID and IPC namespaces and a new, minimal
  root file system (``_mount_script``): only the system directories and the Python installations (read-only),
  the worker's own directory and a private size-limited /tmp exist in it, so the course, home directories, the
  host's /tmp and any other copy of the kit are simply absent; then privileges drop to ``nobody`` in a user
  namespace of the worker's own (its process count starts at zero), and the worker dies with the grader.
- ``namespaces+userns`` (unprivileged grader): the same inside a user namespace, then every capability is
  dropped, so the mounts can be neither undone nor changed.
- ``reduced+nobody`` (root, no namespaces, only when asked for with ``isolation="reduced"``): limits, and the
  worker runs as ``nobody``; refused unless ``nobody`` can read none of the protected paths (the course).

There is no silent fallback: without namespaces, "auto" refuses to run student code (``IsolationUnavailable``,
whose message says what to enable), and nothing ever runs student code as root or as the grader's own user.
"""
from __future__ import annotations

import functools
import os
import resource
import shlex
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .untrusted import protocol

NOBODY = 65534
PR_SET_PDEATHSIG = 1
RECORD_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class WorkerLimits:
    """Resource limits of one worker process (see GradingSettings for the meaning of each)."""

    wall_seconds: float
    cpu_seconds: float
    memory_mb: int
    output_bytes: int = 20_000
    file_mb: int = 64
    max_processes: int = 512
    tmp_mb: int = 64            # the worker's private /tmp (a tmpfs in its mount namespace)


@dataclass(frozen=True)
class WorkerRun:
    """What happened to one worker.

    returncode: the worker's exit status (negative: killed by that signal; None: never started).
    timed_out: the parent killed it at the wall-clock limit.
    stdout, stderr: captured text, cut at the byte cap.
    isolation: which isolation level was used (see the module docstring).
    seconds: wall-clock time of the run.
    record: what the worker wrote to its record descriptor (``with_record``), at most ``RECORD_BYTES``.
    sealed_ns: a file-system timestamp taken after the parent's last change to the worker's directory and before
        the worker started: a file there whose status changed later was written by the worker.
    """

    returncode: int | None
    timed_out: bool
    stdout: str
    stderr: str
    isolation: str
    seconds: float
    record: bytes = b""
    sealed_ns: int = 0


def _is_root() -> bool:
    return os.geteuid() == 0


class IsolationUnavailable(RuntimeError):
    """Student code would run with less isolation than grading requires; the message says what to enable."""


TOOLS = ("unshare", "mount", "pivot_root", "setpriv", "prlimit")


@functools.lru_cache(maxsize=None)
def namespace_probe() -> str:
    """Why the strong isolation does not work on this machine ("" when it does): probed once by starting this
    interpreter in exactly the namespaces and minimal root a worker gets."""
    missing = [tool for tool in TOOLS
               if shutil.which(tool, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])) is None]
    if missing:
        return f"missing util-linux tools: {', '.join(missing)}"
    level = "namespaces+nobody" if _is_root() else "namespaces+userns"
    with tempfile.TemporaryDirectory(prefix="grader-probe-") as scratch:
        new_root, workdir = Path(scratch) / "root", Path(scratch) / "work"
        new_root.mkdir()
        workdir.mkdir(mode=0o777)
        workdir.chmod(0o777)  # `nobody` needs to enter it
        command = _namespace_command(level, new_root, workdir, [sys.executable, "-I", "-c", "import numpy"])
        try:
            probe = subprocess.run(command, capture_output=True, timeout=60, cwd=workdir)
        except (OSError, subprocess.SubprocessError) as error:
            return f"{type(error).__name__}: {error}"
        if probe.returncode != 0:
            lines = probe.stderr.decode(errors="replace").strip().splitlines() or [f"exit status {probe.returncode}"]
            return lines[-1][:300]
        return ""


@functools.lru_cache(maxsize=None)
def namespaces_available() -> bool:
    """Whether the strong isolation works on this machine (see ``namespace_probe``)."""
    return namespace_probe() == ""


def enable_namespaces_message() -> str:
    """What failed, and exactly what to enable, for a grader whose namespaces are unavailable."""
    who = "root" if _is_root() else "this user"
    return (f"the grader cannot create the Linux namespaces that keep student code away from the course "
            f"(as {who}: {namespace_probe() or 'probe failed'}), so it will not run student code. Enable them: "
            "install util-linux (unshare, setpriv, prlimit, pivot_root, mount); as root in a container, give it "
            "CAP_SYS_ADMIN and no seccomp/AppArmor block on unshare/mount (docker run --cap-add SYS_ADMIN "
            "--security-opt seccomp=unconfined --security-opt apparmor=unconfined); as an ordinary user, allow "
            "unprivileged user namespaces (sysctl -w user.max_user_namespaces=15000; on Debian-patched kernels "
            "sysctl -w kernel.unprivileged_userns_clone=1; on Ubuntu 23.10+ sysctl -w "
            "kernel.apparmor_restrict_unprivileged_userns=0). Check with `unshare -r -mnpi --fork true`. "
            "Alternatively set c.GradingSettings.isolation = 'reduced' and grade as root with the course "
            "unreadable to other users (chmod -R o-rwx <course>): student code then runs as `nobody`.")


@functools.lru_cache(maxsize=16)
def _readable_by_nobody(paths: tuple[Path, ...]) -> list[str]:
    """Those of ``paths`` that the user ``nobody`` can read or list."""
    probe = ("import os, sys\nfor p in sys.argv[1:]:\n    try:\n"
             "        os.listdir(p) if os.path.isdir(p) else open(p, 'rb').close()\n        print(p)\n"
             "    except OSError:\n        pass\n")
    try:
        done = subprocess.run([sys.executable, "-I", "-c", probe, *map(str, paths)], capture_output=True, text=True,
                              timeout=30, cwd="/", user=NOBODY, group=NOBODY, extra_groups=[])
    except (OSError, subprocess.SubprocessError):
        return [str(p) for p in paths]
    return done.stdout.split("\n")[:-1] if done.returncode == 0 else [str(p) for p in paths]


def _namespace_command(level: str, new_root: Path, workdir: Path, command: list[str],
                       max_processes: int = 512, tmp_mb: int = 64) -> list[str]:
    """`command` wrapped to run in new mount/net/pid/IPC (and, unprivileged, user) namespaces and a minimal
    root, then in a user namespace of its own with ``max_processes`` processes (``_mount_script``)."""
    unshare = ["unshare", "-mnpi", "--fork", "--kill-child", "--mount-proc"]
    if level == "namespaces+userns":
        unshare.insert(1, "-r")
    return [*unshare, "sh", "-c", _mount_script(new_root, workdir, command, level, max_processes, tmp_mb)]


def choose_isolation(requested: str, protected: tuple[Path, ...] = ()) -> str:
    """Map the settings' isolation request to the level that will be used on this machine; never a level
    weaker than grading requires.

    Parameters
    ----------
    requested : {"auto", "namespaces", "reduced"}
        "auto" and "namespaces": namespaces, or refuse. "reduced": no namespaces, only as root, student code
        as ``nobody``, and only when ``nobody`` can read none of ``protected``.
    protected : tuple of Path
        What student code must not reach without namespaces (the course, the grader's own code).

    Raises
    ------
    ValueError
        The request is unknown.
    IsolationUnavailable
        The requested isolation cannot be had here; the message says what to enable.
    """
    if requested not in ("auto", "namespaces", "reduced"):
        raise ValueError(f"unknown isolation {requested!r}; expected 'auto', 'namespaces' or 'reduced'")
    if requested in ("auto", "namespaces"):
        if namespaces_available():
            return "namespaces+nobody" if _is_root() else "namespaces+userns"
        raise IsolationUnavailable(enable_namespaces_message())
    if not _is_root():
        raise IsolationUnavailable("isolation='reduced' would run student code as the grader's own user, who can "
                                   "read and write the course; " + enable_namespaces_message())
    if not nobody_can_run_python():
        raise IsolationUnavailable(f"isolation='reduced' needs `nobody` to run {sys.executable} (it would "
                                   "otherwise run student code as root): install the grader's Python where "
                                   "other users can read it, or enable namespaces")
    reachable = _readable_by_nobody(tuple(protected))
    if reachable:
        raise IsolationUnavailable(f"isolation='reduced' runs student code as `nobody`, who can read "
                                   f"{', '.join(reachable)}: make it unreadable to other users "
                                   f"(chmod -R o-rwx {reachable[0]}) or enable namespaces")
    return "reduced+nobody"


@functools.lru_cache(maxsize=None)
def nobody_can_run_python() -> bool:
    """Whether this interpreter still starts as ``nobody`` (not when it lives under a private home)."""
    try:
        probe = subprocess.run([sys.executable, "-I", "-c", "import numpy"], capture_output=True, timeout=30,
                               cwd="/", user=NOBODY, group=NOBODY, extra_groups=[])
        return probe.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


# System directories every program needs, bound read-only into the worker's new root. Nothing else on the
# machine exists there: not the course, not home directories, not /tmp, not another checkout of the kit.
SYSTEM_DIRS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
DEVICES = ("null", "zero", "full", "random", "urandom")
# The grader's own packages, covered when a non-editable install put them inside the Python installation.
GRADER_PACKAGES = ("reference_impl", "autograder", "notebook_builder", "assignments")


def _system_tool(name: str) -> str:
    """Absolute path of a util-linux tool, also when it lives in an sbin directory not on PATH."""
    found = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))
    return shlex.quote(found or name)


def _python_installations() -> list[Path]:
    """The directories the worker's interpreter is loaded from (the venv and the Python it was made from)."""
    prefixes = {Path(sys.prefix), Path(sys.base_prefix), Path(os.path.realpath(sys.executable)).parent.parent}
    return sorted({p.resolve() for p in prefixes})


def _grader_package_dirs() -> list[Path]:
    """Copies of the grader's packages inside the Python installations (a non-editable install)."""
    found = []
    for site_dir in {*site.getsitepackages(), site.getusersitepackages()}:
        for name in GRADER_PACKAGES:
            candidate = Path(site_dir) / name
            if candidate.is_dir():
                found.append(candidate.resolve())
    return sorted(found)


def _mount_script(new_root: Path, workdir: Path, command: list[str], isolation: str,
                  max_processes: int = 512, tmp_mb: int = 64) -> str:
    """Shell script run as root of the new namespaces: build a minimal root, pivot into it, drop privileges.

    The new root is an empty tmpfs holding only: the system directories and the Python installations
    (read-only), device nodes, a fresh /proc and a small /tmp, and the worker's own directory (writable).
    pivot_root plus a lazy unmount of the old root leave no path back to the rest of the file system.

    The process limit (RLIMIT_NPROC) counts the processes of one user in one user namespace, so the worker
    gets a user namespace of its own and the limit is set inside it: its count starts at zero whatever any
    other process of the same user (another worker, another grading job) does. The parent-death signal is set
    last, after every change of user and capabilities (each of which clears it): the worker is killed when the
    `unshare` above it dies, and that one when the grader dies.
    """
    root = shlex.quote(str(new_root))
    lines = ["set -e", f"mount -t tmpfs -o size=1m,mode=755 grader-root {root}"]

    def bind(source: Path, writable: bool = False) -> None:
        target = shlex.quote(str(new_root) + str(source))
        lines.append(f"mkdir -p {target}")
        lines.append(f"mount --bind {shlex.quote(str(source))} {target}")
        if not writable:
            lines.append(f"mount -o remount,bind,ro {target}")

    for name in SYSTEM_DIRS:
        path = Path(name)
        if path.is_symlink():  # merged /usr: /bin -> usr/bin and friends
            lines.append(f"ln -s {shlex.quote(os.readlink(path))} {root}{name}")
        elif path.is_dir():
            bind(path)
    lines.append(f"mkdir -p {root}/dev {root}/proc {root}/tmp")
    for device in DEVICES:
        lines.append(f"touch {root}/dev/{device}")
        lines.append(f"mount --bind /dev/{device} {root}/dev/{device}")
    lines.append(f"mount -t tmpfs -o size={tmp_mb}m,mode=1777 grader-tmp {root}/tmp")
    lines.append(f"mount -t proc proc {root}/proc")
    for installation in _python_installations():
        if not any(Path(d) in (installation, *installation.parents) for d in SYSTEM_DIRS):
            bind(installation)
    for package_dir in _grader_package_dirs():
        lines.append(f"mount -t tmpfs -o size=4k,mode=555 grader-hidden {root}{shlex.quote(str(package_dir))}")
    bind(workdir, writable=True)
    lines += [f"cd {root}", "mkdir .old-root", f"{_system_tool('pivot_root')} . .old-root", "umount -l /.old-root",
              "rmdir /.old-root", "mount -o remount,ro /", f"cd {shlex.quote(str(workdir))}"]
    quoted = " ".join(shlex.quote(c) for c in command)
    limit = f"{_system_tool('prlimit')} --nproc={max_processes}:{max_processes} --"
    last = f"setpriv --pdeathsig KILL --no-new-privs -- {quoted}"
    if isolation == "namespaces+nobody":
        lines.append(f"exec setpriv --reuid={NOBODY} --regid={NOBODY} --clear-groups -- "
                     f"{_system_tool('unshare')} --map-current-user -- {limit} {last}")
    else:
        # Root of a user namespace: give up every capability, so the mounts can be neither undone nor changed.
        lines.append(f"exec {limit} setpriv --bounding-set=-all --inh-caps=-all -- {last}")
    return "\n".join(lines) + "\n"


def jail_spec() -> "protocol.JailSpec":
    """What each item's process keeps of the worker's root when it confines itself (``untrusted.confine``): the
    system directories and Python installations read-only, and the device nodes."""
    installations = [str(p) for p in _python_installations()
                     if not any(Path(d) in (p, *p.parents) for d in SYSTEM_DIRS)]
    return {"readonly": [*SYSTEM_DIRS, *installations], "devices": list(DEVICES)}


def scrubbed_environment(workdir: Path, private_tmp: bool = False) -> dict[str, str]:
    """The only environment variables a worker sees; temporary files go to its private /tmp when it has one."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(workdir),
        "TMPDIR": "/tmp" if private_tmp else str(workdir),
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        # One thread per graded item (items run in parallel children); frameworks read these at import.
        "TF_NUM_INTRAOP_THREADS": "1",
        "TF_NUM_INTEROP_THREADS": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "CUDA_VISIBLE_DEVICES": "",
        "MALLOC_ARENA_MAX": "2",
        "KMP_AFFINITY": "disabled",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(workdir / ".mpl"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "NBGRADER_EXECUTION": "autograde",
        "CONVKIT_GRADING": "1",
        "CONVKIT_NO_CYTHON": "1",
    }


def _limit_resources(limits: WorkerLimits, own_user_namespace: bool, grader: int) -> None:
    """Runs in the child between fork and exec: limits are inherited by everything it starts."""
    cpu = max(1, int(limits.cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    memory = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    file_size = limits.file_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
    if own_user_namespace:
        # The limit is set inside the worker's own user namespace (``_mount_script``). Here it must stay as
        # high as possible: a user namespace's creator's limit also bounds every namespace it creates.
        soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
        resource.setrlimit(resource.RLIMIT_NPROC, (hard, hard))
    else:
        # RLIMIT_NPROC counts every process of the real user: tight for `nobody`, generous for a desktop user.
        processes = limits.max_processes if os.geteuid() == 0 else max(limits.max_processes, 4096)
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _die_with(grader)


def _die_with(grader: int) -> None:
    """Have the kernel SIGKILL this process when the grader (``grader``, its parent) dies; if the grader is
    already gone, stop at once."""
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != grader:
        os._exit(1)


def _read_capped(path: Path, cap: int) -> str:
    with open(path, "rb") as handle:
        data = handle.read(cap + 1)
    text = data[:cap].decode("utf-8", errors="replace")
    return text + ("\n[... output cut at %d bytes ...]" % cap if len(data) > cap else "")


def run_worker(workdir: Path, script: str, args: list[str], limits: WorkerLimits,
               isolation: str = "auto", with_record: bool = False, protected: tuple[Path, ...] = ()) -> WorkerRun:
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
    isolation : {"auto", "namespaces", "reduced"}
        Requested isolation (see ``choose_isolation``; raises IsolationUnavailable rather than run weaker).
    protected : tuple of Path
        Paths student code must not reach (checked for "reduced").
    with_record : bool
        Give the worker a file descriptor of its own to report on (its number is appended to ``args``): a file
        outside the worker's file system, which the worker can keep from the code it runs.

    Returns
    -------
    WorkerRun
        Exit status, timeout flag, capped stdout/stderr, isolation level used, seconds.
    """
    level = choose_isolation(isolation, protected)
    workdir = workdir.resolve()
    command = [sys.executable, "-I", str(workdir / script), *args]
    if level.endswith("+nobody"):
        for root, dirs, files in os.walk(workdir):
            for name in [root, *(os.path.join(root, d) for d in dirs), *(os.path.join(root, f) for f in files)]:
                os.chown(name, NOBODY, NOBODY)
    with tempfile.TemporaryDirectory(prefix="grader-capture-") as capture:
        out_path, err_path = Path(capture) / "stdout", Path(capture) / "stderr"
        with open(out_path, "wb") as out_file, open(err_path, "wb") as err_file, \
                open(Path(capture) / "record", "w+b") as record_file:
            if with_record:  # the descriptor is what the worker writes through, whoever owns the file
                command.append(str(record_file.fileno()))
            if level.startswith("namespaces"):
                new_root = Path(capture) / "root"
                new_root.mkdir()
                command = _namespace_command(level, new_root, workdir, command, limits.max_processes,
                                             limits.tmp_mb)
            seal = Path(capture) / "sealed"
            seal.touch()  # the same (coarse) clock as the workdir's file timestamps, after the last chown
            sealed_ns = os.stat(seal).st_ctime_ns
            started = time.monotonic()
            timed_out = False
            identity = ({"user": NOBODY, "group": NOBODY, "extra_groups": []} if level == "reduced+nobody" else {})
            try:
                process = subprocess.Popen(
                    command, cwd=workdir, env=scrubbed_environment(workdir, level.startswith("namespaces")), stdin=subprocess.DEVNULL,
                    stdout=out_file, stderr=err_file, start_new_session=True,
                    preexec_fn=functools.partial(_limit_resources, limits, level.startswith("namespaces"),
                                                 os.getpid()),
                    close_fds=True, pass_fds=(record_file.fileno(),) if with_record else (), **identity)
            except OSError as error:
                return WorkerRun(None, False, "", f"could not start the worker: {error}", level, 0.0,
                                 sealed_ns=sealed_ns)
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
            record_file.seek(0)
            record = record_file.read(RECORD_BYTES + 1)
        seconds = time.monotonic() - started
        return WorkerRun(returncode, timed_out, _read_capped(out_path, limits.output_bytes),
                         _read_capped(err_path, limits.output_bytes), level, seconds,
                         record if len(record) <= RECORD_BYTES else b"", sealed_ns)
