"""The untrusted side of grading: runs student cells and test calls, writes outputs as plain .npy files.

Copied into the worker's empty directory and run as ``python -I worker.py job.json``. It imports only the
standard library and NumPy, trusts nothing it produces, and never compares anything: the parent reads the
``.npy`` files (``allow_pickle=False``) and does every check in its own process.

Start-up (the interpreter and NumPy) dominates small tests, so this process is a zygote: it imports NumPy once,
then forks one child per graded item. Each child gets its own session, CPU limit and wall-clock deadline
(enforced here by SIGKILL to its process group), so a crash, ``os._exit`` or infinite loop in one item ends only
that child. Student code runs only in children.

Batch (``job.json``, plain data written by the parent): ``parallel`` (children at once) and ``items``, each:
    item, lib: the directory holding that item's ``convkit`` (tripwired for naive items);
    work: the child's directory (its inputs under ``in/``; it writes ``out/`` and ``status.json`` there);
    wall_seconds, cpu_seconds: the child's limits;
    setup_code: the instructor's setup cell;
    cells: [{"label", "source"}] student cells in notebook order (already stripped of magics);
    skip_cells: labels not to run (they killed an earlier attempt);
    cell_seconds, test_seconds: per-cell and per-case alarms;
    cases: [{"id", "ops"}] with ops interpreted by ``run_ops`` (see there).
Child status (``<work>/status.json``, rewritten atomically after every cell and case): what ran, errors, output
metadata, and ``running``: the cell or case in progress, so the parent can tell what killed the child.
Zygote status (``zygote.json``): how each child ended (exit status, signal, timed out).
"""
import builtins
import copy
import importlib.abc
import importlib.machinery
import json
import os
import resource
import signal
import sys
import time
import traceback
import types

import numpy as np


MAX_TIMEOUTS = 2


class GradingTimeout(BaseException):
    """Raised by the alarm; a BaseException so a student's ``except Exception`` cannot swallow it."""


def _on_alarm(signum, frame):
    raise GradingTimeout("time limit exceeded")


def _describe_error(error, limit=6):
    """Last frames and the message of an exception, without the worker's own frames."""
    lines = traceback.format_exception(type(error), error, error.__traceback__)
    text = "".join(lines[-limit:])
    return text[-3000:]


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
        module.__getattr__ = lambda attribute: _Quiet()
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
        status.start("cell:" + cell["label"])
        record = {"label": cell["label"], "ok": True, "error": ""}
        try:
            code = compile(cell["source"], "<" + cell["label"] + ">", "exec")
            run_with_alarm(job["cell_seconds"], exec, code, namespace)
        except BaseException as error:  # the cell's failure is recorded; the next cell still runs
            record["ok"] = False
            record["error"] = _describe_error(error)
        _stop_if_orphaned(job)
        status.data["cells"].append(record)
        status.data["running"] = None
        status.save()


def export(value, path):
    """Write ``value`` as a plain float64 .npy file; returns metadata describing what the student returned."""
    kind = type(value)
    info = {"type": kind.__module__ + "." + kind.__qualname__}
    if kind is np.ndarray:
        array = value
    elif isinstance(value, np.ndarray):
        info["subclass"] = True
        try:
            array = np.asarray(value).view(np.ndarray)
        except BaseException as error:
            info["error"] = "could not convert the returned %s: %s" % (info["type"], error)
            return info
    elif kind in (float, int) or isinstance(value, (np.floating, np.integer)):
        info["scalar"] = True
        array = np.asarray(value)
    else:
        info["error"] = "returned a %s, not a numpy.ndarray" % info["type"]
        return info
    info["dtype"] = str(array.dtype)
    info["shape"] = [int(n) for n in array.shape]
    if array.dtype.kind not in "fiub":
        info["error"] = "returned an array of dtype %s, not of numbers" % array.dtype
        return info
    try:
        plain = np.array(array, dtype=np.float64, copy=True)
        np.save(path, plain, allow_pickle=False)
    except BaseException as error:
        info["error"] = "could not save the output: %s" % error
    return info


def resolve(spec, variables, iteration=None):
    """Turn an argument spec into a Python value (a fresh copy of anything the parent supplied)."""
    if "npy" in spec:
        return np.load(spec["npy"], allow_pickle=False)
    if "value" in spec:
        return copy.deepcopy(spec["value"])
    if "np_type" in spec:
        return getattr(np, spec["np_type"])
    if "tuple" in spec:
        return tuple(resolve(sub, variables, iteration) for sub in spec["tuple"])
    if "dict" in spec:
        return {key: resolve(sub, variables, iteration) for key, sub in spec["dict"].items()}
    if "var" in spec:
        value = variables[spec["var"]]
        if spec.get("iter"):
            value = value[iteration]
        for step in spec.get("path", []):
            value = getattr(value, step[1:]) if isinstance(step, str) and step.startswith(".") else value[step]
        if spec.get("copy"):
            value = copy.deepcopy(value)
        return value
    raise ValueError("unknown argument spec %r" % (spec,))


def run_ops(ops, namespace, variables, out_dir, outputs, iteration=None):
    """Interpret the parent's small list of operations.

    load {var, npy}; set {var, value: spec}; call {fn, args: [spec], kwargs: {name: spec}, result};
    new {cls, kwargs, result}; method {obj, method, args, kwargs, result};
    setitem {obj: spec, key, value: spec}; repeat {times, body}; output {name, value: spec};
    perturb {fn, args, arg, indices, h, pick, name}: the forward at x +/- h e_i, stacked, for the parent's
    centred differences.
    """
    for op in ops:
        if op.get("optional"):
            # A helper call (e.g. the student's forward pass inside a backward test) may fail without
            # failing the case; the checks that need its result then see it missing.
            try:
                run_ops([dict(op, optional=False)], namespace, variables, out_dir, outputs, iteration)
            except GradingTimeout:
                raise
            except BaseException as error:
                outputs["note:" + op.get("result", op.get("name", op["op"]))] = {"error": _describe_error(error, 2)}
            continue
        kind = op["op"]
        if kind == "load":
            variables[op["var"]] = np.load(op["npy"], allow_pickle=False)
        elif kind == "set":
            variables[op["var"]] = resolve(op["value"], variables, iteration)
        elif kind in ("call", "new", "method"):
            if kind == "method":
                target = getattr(variables[op["obj"]], op["method"])
            else:
                name = op["fn"] if kind == "call" else op["cls"]
                if name not in namespace:
                    raise NameError("%s is not defined (did its cell run without errors?)" % name)
                target = namespace[name]
            args = [resolve(s, variables, iteration) for s in op.get("args", [])]
            kwargs = {k: resolve(s, variables, iteration) for k, s in op.get("kwargs", {}).items()}
            variables[op["result"]] = target(*args, **kwargs)
        elif kind == "setitem":
            container = resolve(op["obj"], variables, iteration)
            container[op["key"]] = resolve(op["value"], variables, iteration)
        elif kind == "repeat":
            for i in range(op["times"]):
                run_ops(op["body"], namespace, variables, out_dir, outputs, iteration=i)
        elif kind == "output":
            try:
                value = resolve(op["value"], variables, iteration)
            except (IndexError, KeyError, TypeError, AttributeError) as error:
                outputs[op["name"]] = {"error": "could not find this output in what was returned (%s: %s)"
                                                % (type(error).__name__, error)}
                continue
            outputs[op["name"]] = export(value, os.path.join(out_dir, op["name"] + ".npy"))
        elif kind == "keys":
            value = resolve(op["value"], variables, iteration)
            outputs[op["name"]] = ({"keys": [str(k) for k in value]} if isinstance(value, dict)
                                   else {"error": "not a dict but a %s" % type(value).__name__})
        elif kind == "perturb":
            perturb(op, namespace, variables, out_dir, outputs)
        else:
            raise ValueError("unknown op %r" % kind)


def perturb(op, namespace, variables, out_dir, outputs):
    """Evaluate the student's function at x + h e_i and x - h e_i for each sampled flat index i.

    Writes ``<name>_plus`` and ``<name>_minus``, shape (len(indices), *output shape); the parent forms the
    centred differences. Every call gets fresh deep copies of the arguments.
    """
    function = namespace[op["fn"]]
    base = [resolve(s, variables) for s in op["args"]]
    for sign, suffix in ((1.0, "_plus"), (-1.0, "_minus")):
        results = []
        for flat_index in op["indices"]:
            args = copy.deepcopy(base)
            shifted = np.array(args[op["arg"]], dtype=np.float64, copy=True)
            shifted.flat[flat_index] += sign * op["h"]
            args[op["arg"]] = shifted
            value = function(*args)
            value = value[op["pick"]] if op.get("pick") is not None else value
            if type(value) is not np.ndarray:
                raise TypeError("the forward pass returned %s, not a numpy.ndarray" % type(value).__name__)
            results.append(np.array(value, dtype=np.float64, copy=True))
        outputs[op["name"] + suffix] = export(np.stack(results), os.path.join(out_dir, op["name"] + suffix + ".npy"))


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
        status.start("case:" + case["id"])
        out_dir = os.path.join("out", case["id"])
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
            record["error"] = _describe_error(error)
        record["seconds"] = time.monotonic() - started
        _stop_if_orphaned(job)
        status.data["cases"][case["id"]] = record
        status.data["running"] = None
        status.save()


def run_item(job):
    """Everything one graded item needs, in a forked child: its cells, then its cases."""
    os.chdir(job["work"])
    sys.path.insert(0, job["lib"])
    status = Status("status.json")
    status.save()
    namespace = {"__name__": "__main__", "__builtins__": builtins, "get_ipython": _Quiet, "display": print}
    run_cells(job, namespace, status)
    run_cases(job, namespace, status)
    status.data["finished"] = True
    status.save()


def _stop_if_orphaned(job):
    """If what just ran killed the zygote, leave the status saying so (``running``) and stop at once."""
    if job.get("zygote") and os.getppid() != job["zygote"]:
        os._exit(75)


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
        code = 70
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
            _save_json("zygote.json", endings)


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
    serve(batch)


if __name__ == "__main__":
    main()
