"""Check a child's status record against the job the parent sent it: anything the job did not ask for is refused.

The status (``protocol.ChildStatus``) is written by the student's own process, so its shape is checked field by
field before the engine reads any of it: only the cells the job listed, only its case ids, for each case only
the outputs its program can produce (``cases.ops.output_names``) and only fields of the types the worker
writes. ``check_status`` raises ``readback.Rejected`` with a plain description of the first breach; the engine
scores that item zero. Dtypes and shapes the status claims are compared with the files' headers when the
outputs are loaded (``readback.load_outputs``).
"""
from __future__ import annotations

from ..cases.ops import output_names
from .readback import Rejected
from .untrusted import protocol

SETUP_LABEL = "setup (instructor)"  # the label the worker gives the instructor's setup cell
STATUS_FIELDS = {"cells": list, "cases": dict, "running": (str, type(None)), "finished": bool}
CELL_FIELDS = {"label": str, "ok": bool, "error": str, "skipped": bool}
CASE_FIELDS = {"ok": bool, "error": str, "outputs": dict, "seconds": (int, float)}


def expected_outputs(job: protocol.ItemJob) -> dict[str, set[str]]:
    """Job id -> the output names its program can produce."""
    return {case["id"]: output_names(case["ops"]) for case in job["cases"]}


def _fields(record: dict, allowed: dict, what: str) -> None:
    for key, value in record.items():
        if key not in allowed:
            raise Rejected(f"{what} has a field the worker never writes ({str(key)[:40]!r})")
        if not isinstance(value, allowed[key]) or (allowed[key] in (int, float, (int, float)) and
                                                   isinstance(value, bool)):
            raise Rejected(f"{what} has a {type(value).__name__} where the worker writes a "
                           f"{getattr(allowed[key], '__name__', 'number')} ({key!r})")


def check_status(status: dict, job: protocol.ItemJob) -> None:
    """Raise ``Rejected`` unless ``status`` is a record the worker could have written for ``job``."""
    if not status:
        return  # nothing written yet: the item never started
    _fields(status, STATUS_FIELDS, "the status")
    labels = {SETUP_LABEL, *(cell["label"] for cell in job["cells"])}
    cells = status.get("cells", [])
    if len(cells) > 1 + len(job["cells"]):
        raise Rejected(f"the status reports {len(cells)} cells; the job had {1 + len(job['cells'])}")
    for record in cells:
        if not isinstance(record, dict):
            raise Rejected("the status reports a cell in a form the worker never writes")
        _fields(record, CELL_FIELDS, "a cell record")
        if record.get("label") not in labels:
            raise Rejected(f"the status reports a cell the job never had ({str(record.get('label'))[:60]!r})")
    expected = expected_outputs(job)
    for job_id, record in status.get("cases", {}).items():
        if job_id not in expected:
            raise Rejected(f"the status reports a test the job never asked for ({str(job_id)[:60]!r})")
        if not isinstance(record, dict):
            raise Rejected(f"the status reports test {job_id} in a form the worker never writes")
        _fields(record, CASE_FIELDS, f"the record of test {job_id}")
        outputs = record.get("outputs", {})
        unknown = [name for name in outputs if name not in expected[job_id]]
        if unknown:
            raise Rejected(f"the status lists {len(outputs)} outputs for test {job_id}, "
                           f"{len(unknown)} of them never asked for (such as {str(unknown[0])[:40]!r}); the test "
                           f"asked for at most {len(expected[job_id])}")
    running = status.get("running")
    if running is not None:
        cell, case = protocol.RUNNING_CELL, protocol.RUNNING_CASE
        if not ((running.startswith(cell) and running[len(cell):] in labels) or
                (running.startswith(case) and running[len(case):] in expected)):
            raise Rejected(f"the status says it was running something the job never had ({running[:60]!r})")
