"""The worker's operation interpreter: runs the parent's plain-data programs against the student's namespace.

Programs are lists of operations written by ``autograder.cases.ops`` (the only writer); this module is the only
reader. Values the student returns are written as plain ``.npy`` files of their own dtype with metadata describing them
(see ``protocol.OutputInfo``); nothing is compared here.
"""
import copy
import os
import sys
import traceback

import numpy as np


MAX_KEYS = 1000  # a dict's keys are reported by name; more than this is an answer of the wrong kind
# Captured when the zygote imports this module, before any student code runs: a submission that reassigns
# np.load or np.lib.format.open_memmap changes what its own code gets, not how the grader maps an input.
_OPEN_MEMMAP = np.lib.format.open_memmap
_PLAIN = np.ndarray


class GradingTimeout(BaseException):
    """Raised by the alarm; a BaseException so a student's ``except Exception`` cannot swallow it."""


def describe_error(error, limit=6):
    """Last frames of an exception's traceback, then its type and message on ONE line (the parent reports that
    last line: a multi-line message such as torch.load's must not be cut down to its final sentence)."""
    frames = traceback.format_tb(error.__traceback__)[-(limit - 1):] if error.__traceback__ else []
    message = " ".join(str(error).split())
    summary = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return ("".join(frames)[-2400:] + summary[:600]).strip()


# The framework functions the grader itself calls, captured when the zygote has imported the framework and
# before any student code runs (``snapshot_frameworks``): a submission that reassigns torch.Tensor.numpy or
# torch.tensor changes what its own code sees, never how the grader reads its results or builds its inputs.
_FRAMEWORK = {}


def snapshot_frameworks():
    """Capture the torch and TensorFlow functions the grader uses (each a no-op when not imported)."""
    _snapshot_tensorflow()
    torch = sys.modules.get("torch")
    if torch is None or "torch" in _FRAMEWORK:
        return
    base = torch._C.TensorBase
    _FRAMEWORK["torch"] = {
        "Tensor": torch.Tensor, "disable": torch._C.DisableTorchFunction, "detach": base.detach, "cpu": base.cpu,
        "to": base.to, "numpy": base.numpy, "is_complex": base.is_complex, "float64": torch.float64,
        "bool": torch.bool, "dtype": base.dtype.__get__, "requires_grad": base.requires_grad.__get__,
        "tensor": torch.tensor, "requires_grad_": base.requires_grad_,
    }


def _snapshot_tensorflow():
    """TensorFlow's eager tensor and resource variable types and the C-level reads behind ``numpy()``: a
    submission that reassigns ``_EagerTensorBase.numpy`` (a plain Python attribute) or subclasses a variable
    changes what its own code sees, never what the grader reads."""
    if "tensorflow" not in sys.modules or "tensorflow" in _FRAMEWORK:
        return
    # Already imported by tensorflow itself; looked up, not imported, as nothing here imports beyond NumPy.
    ops = sys.modules["tensorflow.python.framework.ops"]
    gen_resource_variable_ops = sys.modules["tensorflow.python.ops.gen_resource_variable_ops"]
    resource_variable_ops = sys.modules["tensorflow.python.ops.resource_variable_ops"]
    variable = resource_variable_ops.BaseResourceVariable
    _FRAMEWORK["tensorflow"] = {
        "EagerTensor": ops.EagerTensor, "numpy": ops.EagerTensor._numpy_internal,
        "dtype": ops._EagerTensorBase.dtype.fget, "Variable": resource_variable_ops.ResourceVariable,
        "handle": variable.handle.fget, "variable_dtype": variable.dtype.fget,
        "trainable": variable.trainable.fget, "read": gen_resource_variable_ops.read_variable_op,
        "constant": sys.modules["tensorflow"].constant,
    }


def _tensorflow_array(value, info):
    """An eager tensor's or resource variable's contents read through the snapshot (None for anything else).
    Only the exact types count: a subclass could answer every question with what it likes."""
    tf = _FRAMEWORK.get("tensorflow")
    if tf is None or type(value) not in (tf["EagerTensor"], tf["Variable"]):
        if tf is not None and isinstance(value, (tf["EagerTensor"], tf["Variable"])):
            raise TypeError("a subclass of a TensorFlow tensor or variable (%s) cannot be graded: return the "
                            "tensor itself" % type(value).__name__)
        return None
    trainable = False
    if type(value) is tf["Variable"]:
        trainable = bool(tf["trainable"](value))
        value = tf["read"](tf["handle"](value), tf["variable_dtype"](value))
    info["framework"] = "tensorflow"
    info["framework_dtype"] = str(tf["dtype"](value).name)
    info["requires_grad"] = trainable
    array = np.array(tf["numpy"](value), copy=True)
    if array.dtype.kind not in "fiub":  # a dtype NumPy lacks (bfloat16, from ml_dtypes): its values as float64
        array = array.astype(np.float64)
    return array


def _torch():
    snapshot_frameworks()
    return _FRAMEWORK.get("torch")


def framework_array(value, info):
    """A framework tensor's true contents as a NumPy array (None if ``value`` is no framework tensor).

    PyTorch: read through the captured ``torch._C.TensorBase`` methods with every ``__torch_function__``
    override disabled, so neither a tensor subclass nor a patched torch.Tensor method can report other values,
    shape or dtype than the tensor holds. TensorFlow: an eager tensor or resource variable of exactly those
    types, read through the snapshot's C-level functions (``_snapshot_tensorflow``). The
    metadata records the framework, its dtype name and the tensor's autograd / trainable flag.
    """
    t = _torch() if "torch" in sys.modules else None
    if t is not None and isinstance(value, t["Tensor"]):
        with t["disable"]():
            plain = t["detach"](value)
            info["framework"] = "torch"
            info["framework_dtype"] = str(t["dtype"](plain))
            info["requires_grad"] = bool(t["requires_grad"](value))
            on_cpu = t["cpu"](plain)
            try:  # its own dtype, as the file's header will say (the parent reads the dtype from there)
                return np.array(t["numpy"](on_cpu), copy=True)
            except TypeError:  # a dtype NumPy lacks (bfloat16): its values as float64
                return np.array(t["numpy"](t["to"](on_cpu, t["float64"])), copy=True)
    if "tensorflow" in sys.modules:
        snapshot_frameworks()
        return _tensorflow_array(value, info)
    return None


def framework_tensor(array, spec):
    """An input array as a tensor of the framework the assignment preloaded (``spec["framework"]``).

    Built from the framework's own module as the worker imported it (``sys.modules``), with the dtype named in
    ``spec`` ("float32", "float64", "int64") and, for PyTorch, ``requires_grad``.
    """
    framework = spec.get("framework", "torch")
    module = sys.modules.get(framework)
    if module is None:
        raise RuntimeError("the grader needs %s, which is not imported" % framework)
    plain = np.array(array, dtype=spec.get("dtype", "float32"), copy=True)
    if framework == "torch":
        t = _torch()
        tensor = t["tensor"](plain)
        return t["requires_grad_"](tensor, True) if spec.get("requires_grad") else tensor
    snapshot_frameworks()
    return _FRAMEWORK["tensorflow"]["constant"](plain) if framework == "tensorflow" else module.constant(plain)


def export(value, path):
    """Write ``value`` as a plain .npy file of its own dtype; returns metadata describing what was returned.

    NumPy arrays and numbers are written as they are; framework tensors (see ``framework_array``) as their
    contents. The parent takes dtype and shape from the file's header, not from this metadata.
    """
    kind = type(value)
    info = {"type": kind.__module__ + "." + kind.__qualname__}
    try:
        converted = framework_array(value, info)
    except BaseException as error:
        info["error"] = "could not convert the returned %s: %s" % (info["type"], error)
        return info
    if converted is not None:
        array = converted
    elif kind is np.ndarray:
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
        np.save(path, array, allow_pickle=False)
    except BaseException as error:
        info["error"] = "could not save the output: %s" % error
    return info


def shared_input(path):
    """The input file at ``path`` itself as a plain writable ndarray (a shared memory map of its data): what the
    student's code writes into it lands in the file, which the parent reads back to judge "left unmodified"."""
    mapped = _OPEN_MEMMAP(path, mode="r+")
    return mapped.view(_PLAIN)


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
    if "list" in spec:
        return [resolve(sub, variables, iteration) for sub in spec["list"]]
    if "dict" in spec:
        return {key: resolve(sub, variables, iteration) for key, sub in spec["dict"].items()}
    if "tensor" in spec:
        return framework_tensor(resolve(spec["tensor"], variables, iteration), spec)
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

    load {var, npy}; set {var, value: spec}; get {name, result}: a name of the student's namespace; call {fn, args: [spec], kwargs: {name: spec}, result} (``fn`` may be dotted,
    "tf.Variable": an attribute of a name in the namespace);
    new {cls, kwargs, result}; method {obj, method, args, kwargs, result};
    setitem {obj: spec, key, value: spec}; setattr {obj: spec, name, value: spec}; repeat {times, body}; output {name, value: spec};
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
                outputs["note:" + op.get("result", op.get("name", op["op"]))] = {"error": describe_error(error, 2)}
            continue
        kind = op["op"]
        if kind == "load":
            variables[op["var"]] = shared_input(op["npy"]) if op.get("shared") else np.load(op["npy"],
                                                                                             allow_pickle=False)
        elif kind == "set":
            variables[op["var"]] = resolve(op["value"], variables, iteration)
        elif kind in ("call", "new", "method"):
            if kind == "method":
                target = getattr(variables[op["obj"]], op["method"])
            else:
                name = op["fn"] if kind == "call" else op["cls"]
                # "tf.constant": an attribute of a module the setup cell imported
                head, *attributes = name.split(".")
                if head not in namespace:
                    raise NameError("%s is not defined (did its cell run without errors?)" % head)
                target = namespace[head]
                for attribute in attributes:
                    target = getattr(target, attribute)
            args = [resolve(s, variables, iteration) for s in op.get("args", [])]
            kwargs = {k: resolve(s, variables, iteration) for k, s in op.get("kwargs", {}).items()}
            variables[op["result"]] = target(*args, **kwargs)
        elif kind == "get":
            if op["name"] not in namespace:
                raise NameError("%s is not defined (did its cell run without errors?)" % op["name"])
            variables[op["result"]] = namespace[op["name"]]
        elif kind == "setitem":
            container = resolve(op["obj"], variables, iteration)
            container[op["key"]] = resolve(op["value"], variables, iteration)
        elif kind == "setattr":
            setattr(resolve(op["obj"], variables, iteration), op["name"], resolve(op["value"], variables, iteration))
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
            if not isinstance(value, dict):
                outputs[op["name"]] = {"error": "not a dict but a %s" % type(value).__name__}
            elif len(value) > MAX_KEYS:
                outputs[op["name"]] = {"error": "a dict of %d keys, far more than expected" % len(value)}
            else:
                outputs[op["name"]] = {"keys": [str(k)[:200] for k in value]}
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
