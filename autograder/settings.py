"""What an instructor can tune about grading one submission, in one frozen record.

The limits' defaults come from the assignment's record (``assignments.<name>``, ``GradingLimits``): they suit a
2-core laptop, where every hidden case is small enough that a correct pure-Python loop answer finishes in well
under a second, so the limits only bite on runaway code. ``nbgrader_config.py`` may override any field.
"""
from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import assignments

from .secret import SECRET_FILE

COURSE_ROOT = Path(__file__).resolve().parent.parent

Isolation = Literal["auto", "namespaces", "reduced"]

# How far beyond its summed CPU limits an item may run in wall-clock time before it is ended regardless. A
# correct answer uses a small fraction of its CPU limits, so even a machine several times oversubscribed keeps
# it far below this.
WALL_BACKSTOP_FACTOR = 4.0


@dataclass(frozen=True)
class GradingSettings:
    """Limits, paths and feedback options for grading one submission.

    Parameters
    ----------
    assignment : str
        The assignment graded (a name in ``assignments.ASSIGNMENTS``).
    test_seconds : float
        CPU-time limit per test case. The item's process raises a timeout in the student's code at the limit;
        its parent kills it at ``protocol.cpu_kill(test_seconds)`` CPU seconds (the timeout was swallowed) or
        once the case stayed awake, neither running nor waiting for a CPU, for
        ``protocol.awake_kill(test_seconds)`` seconds (a sleep). Time spent waiting for a busy machine counts
        towards neither, so load never costs points. After two timeouts an item's remaining cases are not run.
    cell_seconds : float
        The same limits for running one student cell (definitions are instant; this stops stray training).
    startup_seconds : float
        Allowance for interpreter start-up and imports per worker (part of the wall-clock backstop,
        ``worker_wall_seconds``).
    cpu_seconds : float
        CPU-time limit (RLIMIT_CPU) per graded item's process.
    memory_mb : int
        Address-space limit (RLIMIT_AS) per worker process, in MiB.
    output_bytes : int
        How much of a worker's stdout/stderr is kept (the rest is discarded).
    file_mb : int
        Largest file a worker may write (RLIMIT_FSIZE), in MiB; also the largest output the parent will load.
    output_margin, case_output_floor_mb : float
        What the parent loads of one test's outputs: at most ``output_margin`` times the float64 bytes of the
        test's own inputs and expected values (``cases.Prepared.reference_bytes``, what its expected shapes
        imply), and never less than ``case_output_floor_mb`` MiB. Arrays count at their float64 size.
    item_output_mb, submission_output_mb : int
        The same, in MiB, for all the outputs of one graded item and of one whole submission. An item whose
        outputs pass any of these limits scores zero on that item only, saying so; nothing past a limit is read.
    model_file_mb : int
        Largest submitted file an item is graded from (``experiment_model.npz``, a framework's weights file) that
        the grader copies and reads, in MiB; a larger one is refused with a message, before any of it is read.
    model_max_members : int
        Most entries a saved model's zip archive (``.npz``, PyTorch's ``.pt``: one per tensor) may hold; its
        central directory is bounded by this before it is parsed.
    model_max_parameters : int
        Most numbers a saved model may hold in all (every ``.npy`` header's shape, a weights file's datasets,
        and the parameters the saved constructor arguments would create), checked before anything is loaded
        or allocated. 20 million float64 numbers are 160 MiB; the notebook's suggested nets need under 10.
    experiment_max_filters, experiment_max_filter_size, experiment_max_hidden_dim, experiment_max_classes : int
        Bounds of the constructor arguments a saved experiment asks the grader to rebuild its network with
        (``num_filters``, ``filter_size``, ``hidden_dim``, ``num_classes``); together with
        ``experiment_max_channels`` and ``experiment_max_image_side`` (``input_dim``) they bound the time and
        memory of the grader's forward pass over the held-out split.
    reveal_hidden : bool
        Whether feedback shows the data of hidden cases (expected values, inputs); by default it names only
        what the case checked.
    student_text_chars : int
        In a hidden case's feedback, text that student code controls (an exception message, a cell's error,
        a returned object's type or keys) appears only as one line of at most this many characters
        (``student_text``), so that no submission copies its hidden inputs into its feedback.
    source_notebook : Path or None
        The instructor's source notebook: setup code, test cells and metadata come from it, never from the
        submission. ``None``: ``source/<assignment>/<notebook>`` of this repository.
    heldout_dir : Path or None
        Directory of the CIFAR-10-format batches used to score the experiment (``None``: the experiment is
        scored 0 with a message saying the grader has no data).
    heldout_num_training, heldout_num_validation : int
        The split the notebook uses (``get_CIFAR10_data``): the training part only provides the mean image
        that is subtracted; accuracy is measured on the validation part.
    isolation : {"auto", "namespaces", "reduced"}
        "auto" and "namespaces": Linux namespaces, or grading refuses to run student code
        (``sandbox.IsolationUnavailable``, saying what to enable). "reduced": no namespaces, allowed only for a
        root grader whose course ``nobody`` cannot read; student code then runs as ``nobody``.
    secret_file : Path or None
        The instructor's grader secret (``autograder.secret``): each student's hidden inputs are drawn from
        HMAC-SHA256 of it and the student id, so they differ between students and repeat at every regrade.
        Created (mode 0600) on first use when missing. ``None``: ``.grader_secret`` at the course root, outside
        ``source/`` and ``release/``; never released, committed or packed into a Gradescope zip.
    item_workers : int
        How many graded items of ONE submission are graded at the same time (each in its own worker). Keep 1
        when the pipeline already grades several submissions in parallel; raise it to regrade one student
        faster.
    report_mode : int
        Permission bits of every file written under grades/ (default 0o640: the owner writes, the owner's
        group, e.g. the TAs, reads, nobody else). Folders get the matching search bits.
    gradebook_backups : int
        How many copies of gradebook.db to keep in gradebook-backups/ beside it (one is made before each write).
    """

    assignment: str = "convnets"
    test_seconds: float = 5.0
    cell_seconds: float = 10.0
    startup_seconds: float = 15.0
    cpu_seconds: float = 120.0
    memory_mb: int = 2048
    output_bytes: int = 20_000
    file_mb: int = 64
    output_margin: float = 16.0
    case_output_floor_mb: float = 4.0
    item_output_mb: int = 64
    submission_output_mb: int = 256
    model_file_mb: int = 200
    model_max_members: int = 1024
    model_max_parameters: int = 20_000_000
    experiment_max_filters: int = 256
    experiment_max_filter_size: int = 11
    experiment_max_hidden_dim: int = 4096
    experiment_max_classes: int = 1000
    experiment_max_channels: int = 16
    experiment_max_image_side: int = 64
    reveal_hidden: bool = False
    student_text_chars: int = 120
    source_notebook: Path | None = None
    heldout_dir: Path | None = None
    heldout_num_training: int = 49000
    heldout_num_validation: int = 1000
    isolation: Isolation = "auto"
    secret_file: Path | None = None
    item_workers: int = 1
    # Reporting and safety only, never a score: left out of repr, so the result cache (keyed on it) stays valid.
    report_mode: int = field(default=0o640, repr=False)
    gradebook_backups: int = field(default=5, repr=False)

    def __post_init__(self) -> None:
        record = assignments.get(self.assignment)  # KeyError naming the known assignments
        if self.source_notebook is None:
            object.__setattr__(self, "source_notebook", COURSE_ROOT / "source" / record.name / record.notebook)
        if self.secret_file is None:
            object.__setattr__(self, "secret_file", COURSE_ROOT / SECRET_FILE)
        for name in ("test_seconds", "cell_seconds", "startup_seconds", "cpu_seconds"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"GradingSettings.{name} must be a positive number of seconds; got {value!r}")
        for name in ("output_margin", "case_output_floor_mb"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"GradingSettings.{name} must be a positive number; got {value!r}")
        for name in ("memory_mb", "output_bytes", "file_mb", "item_workers", "gradebook_backups", "item_output_mb",
                     "submission_output_mb", "model_file_mb", "model_max_members", "model_max_parameters",
                     "experiment_max_filters", "experiment_max_filter_size", "experiment_max_hidden_dim",
                     "experiment_max_classes", "experiment_max_channels", "experiment_max_image_side",
                     "student_text_chars"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"GradingSettings.{name} must be a positive integer; got {value!r}")
        mode = self.report_mode
        if not isinstance(mode, int) or not 0 <= mode <= 0o777 or mode & 0o600 != 0o600:
            raise ValueError(f"GradingSettings.report_mode must be permission bits up to 0o777 that let the owner "
                             f"read and write, e.g. 0o640; got {mode!r}")
        if self.isolation not in ("auto", "namespaces", "reduced"):
            raise ValueError(f"GradingSettings.isolation must be 'auto', 'namespaces' or 'reduced'; "
                             f"got {self.isolation!r}")

    def case_output_bytes(self, reference_bytes: int) -> int:
        """The most the parent loads of one test's outputs, for a test whose inputs and expected values take
        ``reference_bytes`` as float64 (see ``output_margin``)."""
        return int(max(self.case_output_floor_mb * 1024 * 1024, self.output_margin * reference_bytes))

    def worker_wall_seconds(self, n_cells: int, n_cases: int) -> float:
        """Wall-clock backstop of one item that runs ``n_cells`` cells and ``n_cases`` test cases: its CPU limits
        summed, times ``WALL_BACKSTOP_FACTOR``, so that it bites only on code that neither computes nor
        sleeps in a way the per-cell and per-case clocks see (they end busy loops and sleeps far sooner)."""
        budget = self.startup_seconds + self.cell_seconds * n_cells + self.test_seconds * n_cases
        return WALL_BACKSTOP_FACTOR * budget

    @classmethod
    def from_nbgrader_config(cls, course_dir: Path, assignment: str = "convnets", **overrides) -> "GradingSettings":
        """Settings of ``assignment``: its record's limits, then the ``c.GradingSettings`` section of
        ``<course_dir>/nbgrader_config.py``, then ``overrides``.

        Every field above can be set in the file, e.g. ``c.GradingSettings.reveal_hidden = True`` or
        ``c.GradingSettings.heldout_dir = "datasets/cifar-10-batches-py"``; relative paths are taken from the
        course directory. A limit set there applies to every assignment. The instructor notebook defaults to
        ``<course_dir>/source/<assignment>/<notebook>``, the grader secret to ``<course_dir>/.grader_secret``.

        Raises
        ------
        ValueError
            An unknown option name in the file (with the known ones listed), or a value of the wrong type.
        """
        from traitlets.config.loader import PyFileConfigLoader

        course_dir = Path(course_dir).resolve()
        record = assignments.get(assignment)
        values: dict = dict(dataclasses.asdict(record.limits), assignment=record.name)
        file_values: dict = {}
        config_file = course_dir / "nbgrader_config.py"
        if config_file.is_file():
            loaded = PyFileConfigLoader(config_file.name, path=str(course_dir)).load_config()
            file_values = dict(loaded.get(cls.__name__, {}))
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(file_values) - set(known))
        if unknown:
            raise ValueError(f"{config_file}: unknown c.{cls.__name__} option(s) {', '.join(unknown)}; "
                             f"known: {', '.join(sorted(known))}")
        hints = typing.get_type_hints(cls)
        for name, value in list(file_values.items()):
            if "Path" in str(hints[name]) and value is not None:
                file_values[name] = course_dir / Path(value)
        values.update(file_values)
        instructor = course_dir / "source" / record.name / record.notebook
        if "source_notebook" not in values and instructor.is_file():
            values["source_notebook"] = instructor
        values.setdefault("secret_file", course_dir / SECRET_FILE)
        values.update(overrides)
        return cls(**values)
