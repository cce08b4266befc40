"""The only code that writes worker operations: small constructors for the plain-data program a case runs.

A program is a list of JSON-ready dicts interpreted by ``autograder.sandbox.untrusted.interpreter.run_ops``
(see there for what each operation does). Case modules build their programs from these functions only, so the
format of an operation is defined in two places that face each other: here (writing) and the interpreter
(reading). Input arrays are named by bare names (``npy("x")``); ``with_npy_paths`` maps them to the files the
engine writes for one case.
"""
from __future__ import annotations


def var(name: str, *path, copy: bool = False) -> dict:
    """A variable of the program, optionally indexed along ``path`` (".attr" steps read attributes)."""
    spec = {"var": name, "path": list(path)}
    return dict(spec, copy=True) if copy else spec


def each(name: str) -> dict:
    """Inside ``repeat``: element ``i`` of the variable ``name`` on iteration ``i``."""
    return {"var": name, "iter": True}


def value(v) -> dict:
    """A literal (deep-copied for every use)."""
    return {"value": v}


def npy(name: str) -> dict:
    """An input array, loaded afresh from its file."""
    return {"npy": name}


def tensor(spec: dict, dtype: str = "float32", requires_grad: bool = False, framework: str = "torch") -> dict:
    """``spec``'s array as a tensor of the preloaded ``framework`` (PyTorch: optionally requiring grad)."""
    return {"tensor": spec, "dtype": dtype, "requires_grad": requires_grad, "framework": framework}


def get(name: str, result: str) -> dict:
    """``result = <name>`` from the student's namespace (a function or class to pass to provided code)."""
    return {"op": "get", "name": name, "result": result}


def as_tuple(*specs: dict) -> dict:
    return {"tuple": list(specs)}


def as_list(*specs: dict) -> dict:
    return {"list": list(specs)}


def as_dict(**specs: dict) -> dict:
    return {"dict": dict(specs)}


def np_type(name: str) -> dict:
    """A NumPy scalar type by name (``np.float64``)."""
    return {"np_type": name}


def load(name: str, shared: bool = False) -> dict:
    """``name = <its input file>``; ``shared``: the file itself mapped into memory, so whatever the student's
    code writes into the array lands in the file the parent reads back (``checks.UnchangedCheck``)."""
    op = {"op": "load", "var": name, "npy": name}
    return dict(op, shared=True) if shared else op


def load_all(names) -> list[dict]:
    return [load(n) for n in names]


def assign(name: str, spec: dict) -> dict:
    return {"op": "set", "var": name, "value": spec}


def call(fn: str, args: list[dict], result: str, optional: bool = False, kwargs: dict | None = None) -> dict:
    """``result = fn(*args, **kwargs)`` with ``fn`` taken from the student's namespace (dotted: an attribute of
    a module the setup cell imported, "tf.constant"); ``optional``: a failure only leaves the result missing
    instead of failing the case."""
    op = {"op": "call", "fn": fn, "args": args, "result": result, "optional": optional}
    return dict(op, kwargs=kwargs) if kwargs else op


def new(cls: str, kwargs: dict[str, dict], result: str) -> dict:
    return {"op": "new", "cls": cls, "kwargs": kwargs, "result": result}


def method(obj: str, name: str, args: list[dict], result: str, kwargs: dict | None = None) -> dict:
    op = {"op": "method", "obj": obj, "method": name, "args": args, "result": result}
    return dict(op, kwargs=kwargs) if kwargs else op


def setitem(obj: dict, key, spec: dict) -> dict:
    return {"op": "setitem", "obj": obj, "key": key, "value": spec}


def set_attribute(obj: dict, name: str, spec: dict) -> dict:
    """``obj.<name> = spec`` (e.g. a tensor's ``grad`` before an optimiser step)."""
    return {"op": "setattr", "obj": obj, "name": name, "value": spec}


def repeat(times: int, body: list[dict]) -> dict:
    return {"op": "repeat", "times": times, "body": body}


def output(name: str, spec: dict) -> dict:
    """Write ``spec``'s value as ``<name>.npy`` for the parent's checks."""
    return {"op": "output", "name": name, "value": spec}


def keys(name: str, spec: dict) -> dict:
    """Record the keys of a dict (no array written)."""
    return {"op": "keys", "name": name, "value": spec}


def perturb(fn: str, args: list[dict], arg: int, indices: list[int], h: float, name: str, pick=0) -> dict:
    """The forward pass at x +/- h e_i for each flat index i of argument ``arg``, for centred differences."""
    return {"op": "perturb", "fn": fn, "args": args, "arg": arg, "indices": indices, "h": h, "pick": pick,
            "name": name, "optional": True}


def with_npy_paths(ops, case_id: str):
    """Map bare input names to the files the engine writes for this case (``in/<case id>/<name>.npy``)."""
    if isinstance(ops, list):
        return [with_npy_paths(op, case_id) for op in ops]
    if isinstance(ops, dict):
        return {k: (f"in/{case_id}/{v}.npy" if k == "npy" else with_npy_paths(v, case_id)) for k, v in ops.items()}
    return ops


def output_names(ops) -> set[str]:
    """Every output name a program can leave in its case record: ``output``, ``keys`` and ``perturb`` results,
    and the ``note:<result>`` an optional operation leaves when it fails (see ``interpreter.run_ops``). The
    parent accepts no other name from a worker."""
    names: set[str] = set()
    for op in ops:
        kind = op.get("op")
        if op.get("optional"):
            names.add("note:" + str(op.get("result", op.get("name", kind))))
        if kind in ("output", "keys"):
            names.add(op["name"])
        elif kind == "perturb":
            names.update({op["name"] + "_plus", op["name"] + "_minus"})
        elif kind == "repeat":
            names |= output_names(op["body"])
    return names
