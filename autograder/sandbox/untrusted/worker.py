"""The untrusted side of grading: runs student cells and test calls, writes outputs as plain .npy files.

Copied with its sibling modules into the worker's directory and run as ``python -I grader/worker.py job.json``. It imports only the
standard library and NumPy, trusts nothing it produces, and never compares anything: the parent reads the
``.npy`` files (``allow_pickle=False``) and does every check in its own process.

Start-up (the interpreter and NumPy) dominates small tests, so this process is a zygote: it imports NumPy once,
then forks one child per graded item. Each child gets its own session, CPU limit and wall-clock deadline
(enforced here by SIGKILL to its process group), so a crash, ``os._exit`` or infinite loop in one item ends only
that child. Student code runs only in children.

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
import signal
import sys
import time
import types

if __package__:  # imported by the grader's own tests
    from . import protocol
    from .interpreter import GradingTimeout, describe_error, run_ops, snapshot_frameworks
else:  # run as a script inside the jail: its sibling modules were copied next to it
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import protocol
    from interpreter import GradingTimeout, describe_error, run_ops, snapshot_frameworks
    del sys.path[0]

MAX_TIMEOUTS = 2


def _on_alarm(signum, frame):
    raise GradingTimeout("time limit exceeded")


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
    """Call ``function(*args)``; a GradingTimeout is raised inside it after ``seconds`` of wall time."""
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return function(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


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


def _resolve(dotted):
    """The object at a dotted path (``torch.nn.Module``): the longest importable module, then attributes."""
    import importlib
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            target = getattr(target, attribute)
        return target
    raise ImportError("cannot import " + dotted)


def forbid_classes(paths, item):
    """Make constructing any of the classes at ``paths`` (or their subclasses) raise while ``item`` is graded.

    A barebones function must use the framework's raw operations; one that builds the framework's layers
    fails its cases with this error. Installed after the instructor's setup cell, before the student's cells.
    """
    for dotted in paths:
        cls = _resolve(dotted)

        def disabled(self, *args, _dotted=dotted, **kwargs):
            raise RuntimeError("%s (and its subclasses) is disabled while %s is graded: the barebones functions "
                               "must use the framework's raw operations, not its layers" % (_dotted, item))

        cls.__init__ = disabled


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
                forbid_classes(job["forbidden"], job["item"])
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
            record["error"] = "timed out after %s s" % job["test_seconds"]
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


def start_child(job):
    job = dict(job, zygote=os.getpid())
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        os.setsid()  # its own process group: the zygote kills everything it starts
        _die_with_parent()
        cpu = max(1, int(job["cpu_seconds"]))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        run_item(job)
    except BaseException:
        code = protocol.EXIT_CHILD_FAILED
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _ended(status):
    if os.WIFSIGNALED(status):
        return {"signal": os.WTERMSIG(status)}
    return {"exit": os.WEXITSTATUS(status)}


def serve(batch):
    """Fork one child per item (``parallel`` at a time), enforce each child's deadline, record how it ended."""
    endings = {}
    waiting = list(batch["items"])
    running = {}  # pid -> (item, deadline)
    while waiting or running:
        while waiting and len(running) < max(1, batch.get("parallel", 1)):
            job = waiting.pop(0)
            running[start_child(job)] = (job["item"], time.monotonic() + job["wall_seconds"])
        time.sleep(0.005)
        for pid, (item, deadline) in list(running.items()):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                endings[item] = _ended(status)
            elif time.monotonic() > deadline:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
                os.waitpid(pid, 0)
                endings[item] = {"timed_out": True}
            else:
                continue
            del running[pid]
            _save_json(protocol.ZYGOTE_FILE, endings)


def _save_json(path, data):
    with open(path + ".tmp", "w") as handle:
        json.dump(data, handle)
    os.replace(path + ".tmp", path)


def main():
    with open(sys.argv[1]) as handle:
        batch = json.load(handle)
    # Nothing the grader's working directory holds may shadow a module.
    sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) != os.getcwd()]
    sys.meta_path.insert(0, _NoPlotting())
    preload(batch.get("preload", []))
    serve(batch)


if __name__ == "__main__":
    main()
