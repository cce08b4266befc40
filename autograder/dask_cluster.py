"""Grade a class on a Dask cluster: one submission is one task, the course directory stays with the client.

``make grade DASK=local`` starts a ``distributed.LocalCluster`` (worker processes on this machine);
``make grade DASK=tcp://host:port`` connects to a running scheduler whose workers have the kit installed.

Each task carries what grading one submission reads, as bytes: the notebook, the files its items are graded
from, the instructor's source folder (sent to the cluster once) and the grader secret (``autograder.secret``, so
that each student's hidden inputs are the ones a local run draws). The worker writes them into a private
temporary folder and calls the same grader as a local run there, so the sandbox runs on the Dask worker
exactly as it does on this machine. Only the result comes back; the cache, the reports and the gradebook are
written here, by the client, when a result arrives, so a result is stored once whichever worker produced it.

A worker that dies in the middle of a task (killed, out of memory, machine lost) is noticed by the scheduler,
which runs the task again on another worker (up to ``distributed.scheduler.allowed-failures`` times; after that
the submission is reported as a grader error, never given a grade).
Held-out data (``GradingSettings.heldout_dir``) is read by the workers from the same path: on a remote cluster
it must be on a file system they share; a worker that cannot see it refuses the task rather than grade
without it.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import assignments

from .intake.course_layout import Submission, notebook_problem, ungraded_result
from .intake.submitted_files import RefusedFile, read_submitted
from .secret import SECRET_FILE, read_secret, write_secret

# Seconds to wait for a scheduler before saying it cannot be reached.
CONNECT_SECONDS = 10
LOCAL = "local"
_SKIPPED_PARTS = {"__pycache__", "build"}


class ClusterUnavailable(RuntimeError):
    """The Dask scheduler cannot be reached (the message names its address), or distributed is not installed."""


def _folder_bytes(folder: Path) -> dict[str, bytes]:
    """Every regular file under `folder` (relative POSIX path -> bytes), without caches and build products."""
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*"))
            if path.is_file() and not path.is_symlink() and not _SKIPPED_PARTS & set(path.relative_to(folder).parts)}


def _write_folder(folder: Path, files: dict[str, bytes]) -> None:
    for relative, payload in files.items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(payload)


def pack_submission(submission: Submission) -> dict:
    """What a worker needs of one submission: student id, notebook name and bytes, graded files' bytes, and the
    message of every file refused here (read only as a regular single-link file: a link or special file is
    refused with the local intake's message, and graded on the worker exactly as `make grade` grades it)."""
    assert submission.notebook is not None
    data, refused = {}, {}
    notebook = submission.notebook.name
    # A notebook linked since the intake looked at it gets make grade's own words for a linked notebook.
    problem = notebook_problem(submission.notebook, f"{submission.notebook.parent.name}/{notebook}")
    if problem:
        refused[notebook] = problem
    for name, path in [(notebook, submission.notebook), *sorted(submission.files.items())]:
        if name in refused:
            continue
        try:
            content = read_submitted(path, 1 << 40)
        except RefusedFile as error:
            refused[name] = str(error)
            continue
        if content is not None:
            data[name] = content
    return {"student": submission.student, "notebook": notebook, "notebook_bytes": data.pop(notebook, b""),
            "files": data, "refused": refused}


def grade_packed(grader: Any, package: dict, settings: Any, source: dict[str, bytes] | None,
                 secret: bytes | None = None) -> dict:
    """Dask task (runs on a worker): unpack one submission and the instructor's folder, grade, return the result.

    Parameters
    ----------
    grader : callable
        ``grader(notebook_path, student, settings, files) -> SubmissionResult``, as in a local run.
    package : dict
        From `pack_submission`.
    settings : GradingSettings (or any settings the grader takes)
        If it has a ``source_notebook`` field and `source` is given, that field is pointed at the unpacked copy.
    source : dict of relative path -> bytes, or None
        The instructor's source folder (notebook and support package).
    secret : bytes, optional
        The grader secret (``autograder.secret``): written, mode 0600, into the private folder, and the settings'
        ``secret_file`` pointed at it, so that the worker draws each student's hidden inputs as this machine does.

    Returns
    -------
    dict
        ``SubmissionResult.to_dict()`` of the graded submission.

    Raises
    ------
    FileNotFoundError
        The settings name held-out data this worker cannot see.
    """
    heldout = getattr(settings, "heldout_dir", None)
    if heldout is not None and not Path(heldout).is_dir():
        raise FileNotFoundError(f"held-out data {heldout} is not visible on Dask worker {os.uname().nodename}: "
                                "put it on a file system every worker shares, at the same path")
    scratch = Path(tempfile.mkdtemp(prefix="grader-dask-"))
    try:
        folder = scratch / "submission"
        _write_folder(folder, {package["notebook"]: package["notebook_bytes"], **package["files"]})
        if source is not None and dataclasses.is_dataclass(settings) and hasattr(settings, "source_notebook"):
            _write_folder(scratch / "source", source)
            settings = dataclasses.replace(settings,
                                           source_notebook=scratch / "source" / Path(settings.source_notebook).name)
        if secret is not None and dataclasses.is_dataclass(settings) and hasattr(settings, "secret_file"):
            write_secret(scratch / SECRET_FILE, secret)
            settings = dataclasses.replace(settings, secret_file=scratch / SECRET_FILE)
        files = {name: folder / name for name in package["files"]}
        refused = package.get("refused") or {}
        if package["notebook"] in refused:  # refused on the packing machine: nothing of it is graded
            return ungraded_result(package["student"], assignments.get(settings.assignment),
                                   refused[package["notebook"]]).to_dict()
        extra = {"refused": refused} if refused else {}  # graders written for four arguments keep working
        return grader(folder / package["notebook"], package["student"], settings, files, **extra).to_dict()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class DaskExecutor:
    """Grades submissions on a Dask cluster; use as a context manager around `grade_submissions` calls.

    Parameters
    ----------
    address : str
        ``"local"`` for a new ``LocalCluster`` of ``workers`` processes on this machine, else a scheduler
        address such as ``tcp://10.0.0.5:8786``.
    workers : int
        Worker processes of the local cluster (one thread each: every task starts its own sandbox).
    connect_seconds : float
        How long to wait for a remote scheduler.
    """

    def __init__(self, address: str, workers: int = 2, connect_seconds: float = CONNECT_SECONDS) -> None:
        self.address = address
        self.workers = workers
        self.connect_seconds = connect_seconds
        self.client = None
        self._cluster = None

    def __enter__(self) -> "DaskExecutor":
        try:
            from distributed import Client, LocalCluster
        except ImportError as error:
            raise ClusterUnavailable("grading on Dask needs the `distributed` package: "
                                     "pip install -e '.[course]'") from error
        if self.address == LOCAL:
            self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                         dashboard_address=None)
            self.client = Client(self._cluster)
            return self
        try:
            self.client = Client(self.address, timeout=f"{self.connect_seconds}s")
        except (OSError, TimeoutError, ValueError) as error:
            raise ClusterUnavailable(f"cannot reach the Dask scheduler at {self.address} within "
                                     f"{self.connect_seconds:g} s ({type(error).__name__}: {error}); start one with "
                                     "`dask scheduler` and `dask worker <address>` (docs/GRADING.md)") from None
        return self

    def __exit__(self, *exc_info) -> None:
        if self.client is not None:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
        self.client = self._cluster = None

    def grade(self, tasks: list[tuple[Submission, str]], grader: Any,
              settings: Any) -> Iterator[tuple[Submission, str, dict | BaseException]]:
        """Submit one task per submission; yield (submission, key, result document or the error) as each ends.

        A task that exhausted its retries (``KilledWorker``) yields an error saying the process died.
        """
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        if self.client is None:
            raise RuntimeError("DaskExecutor is used outside its `with` block")
        source_notebook = getattr(settings, "source_notebook", None)
        source = None
        if source_notebook is not None and Path(source_notebook).is_file():
            # In a list, so that the folder is one piece of data named by its content (a dict's keys would
            # name its files, and two assignments' folders would collide).
            source = self.client.scatter([_folder_bytes(Path(source_notebook).parent)], broadcast=True)[0]
        secret_file = getattr(settings, "secret_file", None)
        secret = read_secret(Path(secret_file)) if secret_file is not None else None
        futures = {}
        for sub, key in tasks:
            future = self.client.submit(grade_packed, grader, pack_submission(sub), settings, source, secret,
                                        key=f"grade-{sub.student}-{key[:16]}", pure=False, retries=0)
            futures[future] = (sub, key)
        for future in as_completed(futures):
            sub, key = futures.pop(future)
            try:
                yield sub, key, future.result()
            except KilledWorker:
                yield sub, key, RuntimeError("the grading process died (killed or crashed) on every Dask worker "
                                             "that tried it")
            except Exception as error:  # a grader bug: reported, never cached
                yield sub, key, error
