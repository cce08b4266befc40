"""The public-cases file of the notebook's self-check: visible cases made concrete, as plain data.

`make source` writes, for an assignment whose support package has a self-check, every visible case of every
item that runs code (``Case.visibility == "visible"``; hidden cases never) as prepared by the grader from the
reference: its inputs, its worker programs and its checks with their expected values. Two files:
``public_cases.json`` (names, points, programs, checks with arrays replaced by keys) and ``public_cases.npz``
(those arrays, read with ``allow_pickle=False``). Checks are the dataclasses of ``checks``; a
``FunctionCheck``'s test must be one of ``NAMED_TESTS`` (a closure cannot be written down). Imports only
``checks`` and ``framework_checks`` (NumPy and the standard library): `make source` ships copies of them with the
self-check.
"""
from __future__ import annotations

import dataclasses
import functools
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import checks as _checks
from . import framework_checks as _framework_checks

JSON_NAME, ARRAYS_NAME = "public_cases.json", "public_cases.npz"
CHECK_CLASSES = {cls.__name__: cls for cls in (_checks.ArrayCheck, _checks.UnchangedCheck, _checks.NumericGradientCheck,
                                               _checks.KeysCheck, _checks.DtypeCheck, _checks.FunctionCheck,
                                               _checks.NormalSampleCheck, *_framework_checks.CHECK_CLASSES)}
# The tests a public FunctionCheck can name: the grader's and the framework assignments'.
NAMED_TESTS = {**_checks.NAMED_TESTS, **_framework_checks.NAMED_TESTS}
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed member dates: the same cases give the same bytes


@dataclass
class PublicCase:
    """One visible case as the self-check runs it.

    name, item, case_id, points: as the grader's ``Case``. inputs: input name -> array (files the programs load
    as ``in/<case_id>/<name>.npy``). ops, aux_ops: the worker programs, paths already filled in. checks: the
    grader's checks, expected values included. forbidden: the classes (dotted paths) whose construction the
    grader disables while this item is graded (``Assignment.naive_forbidden`` for a barebones item).
    disabled_modules: the provided modules (dotted) whose functions raise while this item is graded (the
    ``SupportPackage.tripwired`` modules and their compiled variants, for a naive item).
    """

    name: str
    item: str
    case_id: str
    points: float
    inputs: dict[str, np.ndarray] = field(default_factory=dict)
    ops: list = field(default_factory=list)
    aux_ops: list = field(default_factory=list)
    checks: list = field(default_factory=list)
    forbidden: list[str] = field(default_factory=list)
    disabled_modules: list[str] = field(default_factory=list)


def _encode(value, arrays: dict[str, np.ndarray]):
    if isinstance(value, (np.ndarray, np.generic)):
        key = f"a{len(arrays)}"
        arrays[key] = np.array(value)
        return {"array": key}
    if isinstance(value, functools.partial):
        name = getattr(value.func, "__name__", "")
        if NAMED_TESTS.get(name) is not value.func or value.args:
            raise TypeError(f"a FunctionCheck test must be a named_test(...) to be public, not {value!r}")
        return {"named_test": name, "parameters": {k: _encode(v, arrays) for k, v in value.keywords.items()}}
    if isinstance(value, tuple):
        return {"tuple": [_encode(v, arrays) for v in value]}
    if isinstance(value, list):
        return {"list": [_encode(v, arrays) for v in value]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("only dicts with string keys can be written to the public cases")
        return {"dict": {k: _encode(v, arrays) for k, v in value.items()}}
    if value is None or isinstance(value, (str, bool, int, float)):
        return {"value": value}
    raise TypeError(f"cannot write a {type(value).__name__} to the public cases")


def _decode(spec, arrays):
    if "array" in spec:
        return arrays[spec["array"]]
    if "named_test" in spec:
        return functools.partial(NAMED_TESTS[spec["named_test"]],
                                 **{k: _decode(v, arrays) for k, v in spec["parameters"].items()})
    if "tuple" in spec:
        return tuple(_decode(v, arrays) for v in spec["tuple"])
    if "list" in spec:
        return [_decode(v, arrays) for v in spec["list"]]
    if "dict" in spec:
        return {k: _decode(v, arrays) for k, v in spec["dict"].items()}
    return spec["value"]


def encode_check(check, arrays: dict[str, np.ndarray]) -> dict:
    """One check as JSON-ready data; its arrays are added to ``arrays`` (TypeError for a check that cannot be
    written down, such as a FunctionCheck with a closure)."""
    name = type(check).__name__
    if CHECK_CLASSES.get(name) is not type(check):
        raise TypeError(f"{name} is not a check the self-check knows")
    return {"check": name, "fields": {f.name: _encode(getattr(check, f.name), arrays)
                                      for f in dataclasses.fields(check)}}


def decode_check(spec: dict, arrays):
    """The check ``encode_check`` wrote."""
    return CHECK_CLASSES[spec["check"]](**{k: _decode(v, arrays) for k, v in spec["fields"].items()})


def encode(cases: list[PublicCase]) -> dict[str, bytes]:
    """The two files (name -> bytes) holding ``cases``; the same cases always give the same bytes."""
    arrays: dict[str, np.ndarray] = {}
    records = []
    for case in cases:
        records.append({"name": case.name, "item": case.item, "case_id": case.case_id, "points": case.points,
                        "inputs": {n: _encode(a, arrays) for n, a in case.inputs.items()},
                        "ops": case.ops, "aux_ops": case.aux_ops,
                        "checks": [encode_check(c, arrays) for c in case.checks],
                        "forbidden": list(case.forbidden), "disabled_modules": list(case.disabled_modules)})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for key, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, array, allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, member.getvalue())
    text = json.dumps({"format": 1, "cases": records}, indent=1, sort_keys=True) + "\n"
    return {JSON_NAME: text.encode(), ARRAYS_NAME: buffer.getvalue()}


def load(folder: Path, item: str | None = None) -> list[PublicCase]:
    """The public cases stored in ``folder`` (of one ``item``, or all), in table order.

    Raises
    ------
    FileNotFoundError
        ``folder`` holds no public cases (naming the file and `make source`).
    """
    folder = Path(folder)
    if not (folder / JSON_NAME).is_file():
        raise FileNotFoundError(f"the self-check has no {JSON_NAME} in {folder}: the assignment folder is incomplete; "
                                "unpack the assignment again (instructors: `make source` writes it)")
    document = json.loads((folder / JSON_NAME).read_text(encoding="utf-8"))
    with np.load(folder / ARRAYS_NAME, allow_pickle=False) as stored:
        arrays = {key: stored[key] for key in stored.files}
    cases = []
    for record in document["cases"]:
        if item is not None and record["item"] != item:
            continue
        cases.append(PublicCase(record["name"], record["item"], record["case_id"], float(record["points"]),
                                {n: _decode(s, arrays) for n, s in record["inputs"].items()},
                                record["ops"], record["aux_ops"], [decode_check(c, arrays) for c in record["checks"]],
                                list(record["forbidden"]), list(record["disabled_modules"])))
    return cases


def items(folder: Path) -> list[str]:
    """The items with public cases in ``folder``, in table order."""
    document = json.loads((Path(folder) / JSON_NAME).read_text(encoding="utf-8"))
    return list(dict.fromkeys(record["item"] for record in document["cases"]))
