"""The job/status protocol between the grader (parent) and a worker: one typed definition both sides import.

The parent writes ``JOB_FILE`` (a ``Batch``) into the worker's directory; the zygote writes its
``ZygoteRecord`` (item name -> ``Ending``) each time a child ends to a file descriptor the parent passed it (not a
file in that directory: student code can neither reach nor forge it); each child rewrites its item's
``STATUS_FILE`` (a ``ChildStatus``) atomically after every cell and case, and writes each case's outputs as
``OUT_DIR/<job id>/<name>.npy``. Everything a worker wrote is untrusted: the parent validates every field it reads.

Standard library only: this module runs inside the jail too.
"""
from typing import Dict, List, Optional, TypedDict

WORKER_DIR = "grader"           # where the parent copies the untrusted package inside the worker's directory
WORKER_SCRIPT = "worker.py"
JOB_FILE = "job.json"
STATUS_FILE = "status.json"
IN_DIR = "in"                   # <item work>/in/<case id>/<name>.npy: the case's input arrays
OUT_DIR = "out"                 # <item work>/out/<job id>/<name>.npy: what the worker's program output
AUX_SUFFIX = "~aux"             # job id of a case's helper program: <case id>~aux
RUNNING_CELL = "cell:"          # ChildStatus.running: "cell:<label>" or "case:<job id>"
RUNNING_CASE = "case:"
MAX_STATUS_BYTES = 5 * 1024 * 1024  # the largest status file anyone reads
EXIT_ORPHANED = 75              # a child that found its zygote gone
EXIT_CHILD_FAILED = 70          # a child whose own machinery failed
EXIT_GRADER_ERROR = 71          # the zygote itself failed (a grader fault: the results are to be regraded)
CONFINED = b"confined"          # what a child tells the zygote, through its own pipe, once it is confined

# Time limits. ``cell_seconds`` and ``test_seconds`` are CPU seconds: the child's own alarm (ITIMER_PROF) raises
# at the limit; the zygote kills the child once a phase (one cell or case) used ``cpu_kill(limit)`` CPU seconds
# (student code swallowed the alarm) or stayed awake, neither running nor waiting for a CPU, for
# ``awake_kill(limit)`` seconds (a sleep or a block: no CPU is used, so only this clock ends it). Neither clock
# counts time spent waiting for a busy machine (see ``clock``); ``wall_seconds`` of an item is a pure
# wall-clock backstop far beyond anything correct code needs.
CPU_GRACE_FACTOR, CPU_GRACE_SECONDS = 1.25, 0.5
AWAKE_FACTOR, AWAKE_GRACE_SECONDS = 3.0, 3.0


def cpu_kill(limit: float) -> float:
    return CPU_GRACE_FACTOR * limit + CPU_GRACE_SECONDS


def awake_kill(limit: float) -> float:
    return AWAKE_FACTOR * limit + AWAKE_GRACE_SECONDS


class CellJob(TypedDict):
    label: str
    source: str


class CaseJob(TypedDict):
    id: str                     # a case id, or a case id + AUX_SUFFIX
    ops: List[dict]             # written by autograder.cases.ops, read by interpreter.run_ops


class ItemJob(TypedDict):
    item: str                   # the graded item's name
    work: str                   # the child's directory
    lib: str                    # the directory holding the support package (tripwired for naive items)
    wall_seconds: float         # wall-clock backstop for the whole item
    cpu_seconds: float          # RLIMIT_CPU of the item's process
    setup_code: str             # the instructor's setup cell
    cells: List[CellJob]        # student cells in notebook order, magics removed
    skip_cells: List[str]       # labels not to run (they ended an earlier attempt)
    cell_seconds: float         # CPU seconds per cell
    test_seconds: float         # CPU seconds per case
    cases: List[CaseJob]
    forbidden: List[str]        # classes (dotted paths) whose construction raises for this item


class JailSpec(TypedDict, total=False):
    readonly: List[str]         # system directories and the Python installation (folders bound, links re-made)
    devices: List[str]          # names under /dev
    scratch: str                # where item roots are built (default /tmp: the worker's private tmpfs)


class Batch(TypedDict, total=False):
    parallel: int               # children at once
    preload: List[str]          # modules the zygote imports before forking (the assignment's framework)
    items: List[ItemJob]
    jail: Optional[JailSpec]    # each item's own root (``confine``); None only without namespaces ("reduced")


class CellRecord(TypedDict, total=False):
    label: str
    ok: bool
    error: str
    skipped: bool


class OutputInfo(TypedDict, total=False):
    type: str                   # the returned value's type
    dtype: str
    shape: List[int]
    subclass: bool
    scalar: bool
    keys: List[str]
    framework: str              # a framework tensor converted to an array: its library ("torch", ...)
    framework_dtype: str        # its dtype as the framework names it ("torch.float32")
    requires_grad: bool         # a torch tensor's autograd flag; a TensorFlow variable's "trainable"
    error: str


class CaseRecord(TypedDict):
    ok: bool
    error: str
    outputs: Dict[str, OutputInfo]
    seconds: float


class ChildStatus(TypedDict, total=False):
    cells: List[CellRecord]
    cases: Dict[str, CaseRecord]
    running: Optional[str]      # what was in progress when the file was last written
    finished: bool


class Ending(TypedDict, total=False):
    exit: int
    signal: int
    timed_out: bool
    reason: str                 # with timed_out: "cpu", "awake" or "wall"
    phase: str                  # with timed_out: what was running ("cell:<label>", "case:<job id>")
    limit: float                # with timed_out: the limit that was passed, in seconds
    grader_error: str           # the item could not be run for a reason of the grader's (not the student's)


class ZygoteRecord(TypedDict):
    started: bool               # written before any child starts: a missing record means no zygote ever ran
    endings: Dict[str, Ending]


def case_job_id(case_id: str, aux: bool) -> str:
    return case_id + AUX_SUFFIX if aux else case_id
