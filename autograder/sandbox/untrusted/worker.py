"""The untrusted side of grading: runs student cells and test calls, writes outputs as plain .npy files.

Copied with its sibling modules into the worker's directory and run as ``python -I grader/worker.py job.json``. It imports only the
standard library and NumPy, trusts nothing it produces, and never compares anything: the parent reads the
``.npy`` files (``allow_pickle=False``) and does every check in its own process.

Start-up (the interpreter and NumPy) dominates small tests, so this process is a zygote: it imports NumPy once,
then forks one child per graded item. Each child confines itself (``confine``: a root and namespaces of its own,
where only its own folder and support package exist) and runs the item in the first process of its own PID
namespace, with its own session and CPU limit (RLIMIT_CPU); the zygote never imports the support package. The zygote
watches every cell and case it runs by the child's CPU time and by the time it is awake (``clock``), and ends it
with SIGKILL to its process group past either limit, so a crash, ``os._exit``, busy loop or sleep in one item
ends only that child, and a machine busy with other work costs no one any points. Student code runs only in
children.

The messages it reads and writes (the batch, each child's status, the zygote's record of how each child ended)
are defined once, in ``protocol``, which the parent imports too; the programs each case runs are interpreted by
``interpreter.run_ops``.
"""
import builtins
import importlib.abc
import importlib.machinery
import json
import os
import resource
import select
import signal
import stat
import sys
import time
import types

if __package__:  # imported by the grader's own tests
    from . import protocol
    from .clock import PhaseClock
    from .confine import confine
    from .interpreter import GradingTimeout, describe_error, run_ops, snapshot_frameworks
    from .tripwire import forbid_classes
else:  # run as a script inside the jail: its sibling modules were copied next to it
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import protocol
    from clock import PhaseClock
    from confine import confine
    from interpreter import GradingTimeout, describe_error, run_ops, snapshot_frameworks
    from tripwire import forbid_classes
    del sys.path[0]

MAX_TIMEOUTS = 2
POLL_SECONDS = 0.005       # how often the zygote looks for ended children
WATCH_SECONDS = 0.05       # how often it reads their clocks


def _on_alarm(signum, frame):
    raise GradingTimeout("CPU time limit exceeded")


class Status:
    """The status file: rewritten atomically so the parent never reads half of it."""

    def __init__(self, path):
        self.path = path
        self.data = {"cells": [], "cases": {}, "running": None}

    def save(self):
        temporary = self.path + ".tmp"
        with open(temporary, "w") as handle:
            json.dump(self.data, handle)
        os.replace(temporary, self.path)

    def start(self, what):
        self.data["running"] = what
        self.save()


class _Quiet:
    """Does nothing, whatever is asked of it: stands in for ``get_ipython()`` and for plotting."""

    def __init__(self, *args, **kwargs):
        pass

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _Quiet()

    def __call__(self, *args, **kwargs):
        return _Quiet()

    def __getitem__(self, key):
        return _Quiet()

    def __setitem__(self, key, value):
        pass

    def __iter__(self):
        return iter((_Quiet(), _Quiet()))  # `fig, ax = plt.subplots()` still unpacks

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _quiet_attribute(name):
    """Any attribute of a stand-in plotting module, except the dunders that tools such as ``inspect`` (which
    torch.optim runs over every loaded module) expect to be missing or real: ``__file__`` must not be a _Quiet."""
    if name.startswith("__") and name.endswith("__"):
        raise AttributeError(name)
    return _Quiet()


class _NoPlotting(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves matplotlib as do-nothing modules: grading shows no plots, and importing the real
    matplotlib.pyplot costs most of a worker's start-up time."""

    def find_spec(self, name, path=None, target=None):
        if name == "matplotlib" or name.startswith(("matplotlib.", "mpl_toolkits")):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        module.__path__ = []
        module.__getattr__ = _quiet_attribute
        return module

    def exec_module(self, module):
        pass


def run_with_alarm(seconds, function, *args):
    """Call ``function(*args)``; a GradingTimeout is raised inside it after ``seconds`` of this process's CPU
    time (ITIMER_PROF: user + system), however long the machine makes it wait. Student code could catch it; the
    zygote's own clocks end the child in that case."""
    signal.signal(signal.SIGPROF, _on_alarm)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        return function(*args)
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)


def preload(modules):
    """Import the assignment's frameworks once, in the zygote, so every forked child finds them imported.

    Only the modules the assignment record names (never student code). A failure is not raised here: the
    setup cell's own import raises it again in every child, where it is recorded against the items.
    """
    import importlib
    for name in modules:
        try:
            importlib.import_module(name)
        except BaseException:  # recorded per item when the setup cell imports the module
            pass
    snapshot_frameworks()


def run_cells(job, namespace, status):
    """Run the instructor's setup and the student's cells in ``namespace``, each under its own alarm.

    A failing cell (exception, SystemExit, timeout) is recorded and the next cell still runs.
    """
    cells = [{"label": "setup (instructor)", "source": job["setup_code"]}] + list(job["cells"])
    for cell in cells:
        if cell["label"] in job.get("skip_cells", []):
            status.data["cells"].append({"label": cell["label"], "ok": False, "skipped": True,
                                         "error": "skipped: this cell ended the grading process"})
            continue
        status.start(protocol.RUNNING_CELL + cell["label"])
        record = {"label": cell["label"], "ok": True, "error": ""}
        try:
            code = compile(cell["source"], "<" + cell["label"] + ">", "exec")
            run_with_alarm(job["cell_seconds"], exec, code, namespace)
        except BaseException as error:  # the cell's failure is recorded; the next cell still runs
            record["ok"] = False
            record["error"] = describe_error(error)
        if cell["label"] == "setup (instructor)" and job.get("forbidden"):
            try:
                forbid_classes(job["forbidden"], job["item"])  # for the item's whole process: never restored
            except BaseException as error:  # the item cannot be graded fairly without its tripwire
                raise RuntimeError("could not install the tripwire: " + describe_error(error))
        _stop_if_orphaned(job)
        status.data["cells"].append(record)
        status.data["running"] = None
        status.save()


def run_cases(job, namespace, status):
    """Run every test case's program under the per-case alarm; each case's failure is recorded, not raised."""
    timeouts = 0
    for case in job["cases"]:
        if case["id"] in job.get("skip_cases", []):
            continue
        if timeouts >= MAX_TIMEOUTS:
            # Code that already ran past the limit twice would burn the limit on every remaining case.
            status.data["cases"][case["id"]] = {"ok": False, "outputs": {}, "seconds": 0.0,
                                                "error": "not run: two earlier tests of this function timed out"}
            continue
        status.start(protocol.RUNNING_CASE + case["id"])
        out_dir = os.path.join(protocol.OUT_DIR, case["id"])
        os.makedirs(out_dir, exist_ok=True)
        outputs = {}
        record = {"ok": True, "error": "", "outputs": outputs}
        started = time.monotonic()
        try:
            run_with_alarm(job["test_seconds"], run_ops, case["ops"], namespace, {}, out_dir, outputs)
        except GradingTimeout:
            timeouts += 1
            record["ok"] = False
            record["error"] = "timed out: used more than %s s of CPU time" % job["test_seconds"]
        except BaseException as error:  # SystemExit and friends from student code end only this case
            record["ok"] = False
            record["error"] = describe_error(error)
        record["seconds"] = time.monotonic() - started
        _stop_if_orphaned(job)
        status.data["cases"][case["id"]] = record
        status.data["running"] = None
        status.save()


def run_item(job):
    """Everything one graded item needs, in a forked child: its cells, then its cases."""
    os.chdir(job["work"])
    sys.path.insert(0, job["lib"])
    status = Status(protocol.STATUS_FILE)
    status.save()
    namespace = {"__name__": "__main__", "__builtins__": builtins, "get_ipython": _Quiet, "display": print}
    run_cells(job, namespace, status)
    run_cases(job, namespace, status)
    status.data["finished"] = True
    status.save()


def _stop_if_orphaned(job):
    """If what just ran killed the zygote, leave the status saying so (``running``) and stop at once."""
    if job.get("zygote") and os.getppid() != job["zygote"]:
        os._exit(protocol.EXIT_ORPHANED)


def _die_with_parent():
    """Ask the kernel to SIGKILL this child if the zygote dies (matters only without a PID namespace)."""
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _mirror(pid):
    """Wait for the item's process ``pid`` and end exactly as it ended (same exit status or signal)."""
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)
        os._exit(128 + number)
    os._exit(os.WEXITSTATUS(status))


def start_child(job, record_fd, jail=None):
    """Fork the process of one item: (pid, the read end of the pipe on which it reports its confinement).

    With a ``jail`` the child confines itself (``confine``: its own root with only its folder and support
    package, and new user, mount, IPC, network and PID namespaces), then forks the item's own process, the first
    of its PID namespace (no other item's process, nor the zygote, can be seen, signalled or traced from there,
    and nothing it starts outlives it), writes ``protocol.CONFINED`` and that process's pid to the pipe, and
    ends as it ends. The pipe is closed before any student code runs, and a child whose confinement failed
    writes why instead: student code can make a confined item look neither unconfined nor the other way round.
    """
    job = dict(job, zygote=os.getpid())
    report, report_child = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(report)
        os.close(report_child)
        raise
    if pid:
        os.close(report_child)
        return pid, report
    code = 0
    try:
        os.close(record_fd)  # only the zygote may write its record
        os.close(report)
        os.setsid()  # its own process group: the zygote kills everything it starts
        _die_with_parent()
        if jail:
            try:
                item_pid = confine(job, jail)  # forks the item's process: 0 there
            except BaseException as error:
                os.write(report_child, ("could not confine the item's process (%s)" % error).encode()[:2000])
                os._exit(protocol.EXIT_CHILD_FAILED)
            if item_pid:
                os.write(report_child, protocol.CONFINED + b" %d" % item_pid)
                os.close(report_child)
                _mirror(item_pid)
            # A session of its own: a kill(0) in student code reaches only its own processes, never the child
            # that mirrors it (the zygote ends it by its pid, ``_kill_item``, and the death signal chain).
            os.setsid()
            _die_with_parent()
            job["zygote"] = None  # outside its PID namespace: the death signal chain ends it with the zygote
        else:
            os.write(report_child, protocol.CONFINED + b" %d" % os.getpid())
        os.close(report_child)
        cpu = max(1, int(job["cpu_seconds"]))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        run_item(job)
    except BaseException:
        code = protocol.EXIT_CHILD_FAILED
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def await_confinement(pid, report, timeout=60.0):
    """(the pid of the item's own process, "") once child ``pid`` says it is confined, else (None, why).

    Reads the child's pipe (``start_child``) with a deadline; ``report`` None (a child started another way):
    the child's own pid."""
    if report is None:
        return pid, ""
    try:
        ready, _, _ = select.select([report], [], [], timeout)
        said = os.read(report, 4096) if ready else b""
    except OSError:
        said = b""
    finally:
        os.close(report)
    if said.startswith(protocol.CONFINED + b" "):
        try:
            return int(said[len(protocol.CONFINED) + 1:]), ""
        except ValueError:
            pass
    return None, (said.decode(errors="replace") if said and not said.startswith(protocol.CONFINED)
                  else "the item's process ended before it was confined")


def _ended(status):
    if os.WIFSIGNALED(status):
        return {"signal": os.WTERMSIG(status)}
    return {"exit": os.WEXITSTATUS(status)}


class Watched:
    """One running child: its item, the clocks of the process running the item's code, and the cell or case it
    is in (read from its status file)."""

    def __init__(self, pid, job, item_pid=None):
        self.pid, self.job, self.item_pid = pid, job, item_pid
        self.status_path = os.path.join(job["work"], protocol.STATUS_FILE)
        self.started = time.monotonic()
        self.clock = PhaseClock(item_pid or pid)  # the process that runs the item's code
        self.phase, self.stamp = None, None

    def _phase_limit(self):
        if self.phase and self.phase.startswith(protocol.RUNNING_CELL):
            return float(self.job["cell_seconds"])
        return float(self.job["test_seconds"])

    def _follow_status(self):
        try:
            stamp = os.stat(self.status_path).st_mtime_ns
        except OSError:
            return
        if stamp == self.stamp:
            return
        self.stamp = stamp
        try:
            running = json.loads(_read_regular(self.status_path, protocol.MAX_STATUS_BYTES) or b"{}").get("running")
        except (OSError, ValueError, AttributeError):
            return
        running = running if isinstance(running, str) else None
        if running != self.phase:
            self.phase = running
            self.clock.restart()

    def overrun(self):
        """The Ending to record if the child passed a limit (it is then killed), else None."""
        if time.monotonic() - self.started > self.job["wall_seconds"]:
            return {"timed_out": True, "reason": "wall", "limit": self.job["wall_seconds"],
                    "phase": self.phase or ""}
        self._follow_status()
        limit = self._phase_limit()
        cpu, awake = self.clock.read()
        if cpu is not None and cpu > protocol.cpu_kill(limit):
            return {"timed_out": True, "reason": "cpu", "limit": limit, "phase": self.phase or ""}
        if awake > protocol.awake_kill(limit):
            return {"timed_out": True, "reason": "awake", "limit": protocol.awake_kill(limit),
                    "phase": self.phase or ""}
        return None


def _read_regular(path, cap):
    """A file's bytes if it is a regular file of at most ``cap`` bytes (never blocks on a FIFO), else None."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > cap:
            return None
        return os.read(fd, cap)
    finally:
        os.close(fd)


def _kill_item(child):
    """End a running child: the item's own process first (the first of its PID namespace: every process in
    that namespace dies with it, even one that left the process group or cleared its death signal), then the
    child's process group. The child has not been reaped, so its pid is its own; the item's process is reaped
    only by the child, which ends at once after, and pids are handed out cyclically."""
    if child.item_pid and child.item_pid != child.pid:
        try:
            os.kill(child.item_pid, signal.SIGKILL)
        except OSError:
            pass
    _kill_group(child.pid)


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def serve(batch, record):
    """Fork one child per item (``parallel`` at a time), enforce each child's limits, record how it ended.

    A child that cannot be started (``fork`` refused: a limit of the machine's, not the student's) is recorded
    as a grader error, and so is everything still waiting when the zygote itself fails.
    """
    endings = {}
    record.save(endings)
    waiting = list(batch["items"])
    running = {}  # pid -> Watched
    next_watch = 0.0
    try:
        while waiting or running:
            while waiting and len(running) < max(1, batch.get("parallel", 1)):
                job = waiting.pop(0)
                try:
                    pid, report = start_child(job, record.fd, batch.get("jail"))
                except OSError as error:
                    endings[job["item"]] = {"grader_error": "could not start the item's process (%s: %s)"
                                                            % (type(error).__name__, error)}
                    record.save(endings)
                    continue
                item_pid, unconfined = await_confinement(pid, report)
                if unconfined:  # a limit of the machine's, not the student's: to be regraded
                    _kill_group(pid)
                    os.waitpid(pid, 0)
                    endings[job["item"]] = {"grader_error": unconfined}
                    record.save(endings)
                    continue
                running[pid] = Watched(pid, job, item_pid)
            time.sleep(POLL_SECONDS)
            watch = time.monotonic() >= next_watch
            if watch:
                next_watch = time.monotonic() + WATCH_SECONDS
            for pid, child in list(running.items()):
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    endings[child.job["item"]] = _ended(status)
                else:
                    overrun = child.overrun() if watch else None
                    if overrun is None:
                        continue
                    _kill_item(child)
                    os.waitpid(pid, 0)
                    endings[child.job["item"]] = overrun
                del running[pid]
                record.save(endings)
    except BaseException as error:
        for child in running.values():
            _kill_item(child)
        for job in waiting + [c.job for c in running.values()]:
            endings.setdefault(job["item"], {"grader_error": "the grading process failed (%s: %s)"
                                                             % (type(error).__name__, error)})
        record.save(endings)
        sys.exit(protocol.EXIT_GRADER_ERROR)


class Record:
    """The zygote's record for the parent (``protocol.ZygoteRecord``), written to a file descriptor that only
    the zygote holds: children close it before running student code, and the zygote is not dumpable, so no
    student code can reach it through /proc or ptrace. Rewritten whole each time."""

    def __init__(self, fd):
        self.fd = fd

    def save(self, endings, started=True):
        data = json.dumps({"started": started, "endings": endings}).encode()
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, data, 0)


def _not_dumpable():
    try:
        import ctypes
        ctypes.CDLL(None).prctl(4, 0)  # PR_SET_DUMPABLE 0: no ptrace, no /proc/<pid>/fd for the same user
    except (OSError, AttributeError):
        pass


def main():
    """``worker.py <batch file> <record fd>``."""
    _not_dumpable()
    record = Record(int(sys.argv[2]))
    with open(sys.argv[1]) as handle:
        batch = json.load(handle)
    # Nothing the grader's working directory holds may shadow a module.
    sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) != os.getcwd()]
    sys.meta_path.insert(0, _NoPlotting())
    preload(batch.get("preload", []))
    serve(batch, record)


if __name__ == "__main__":
    main()
