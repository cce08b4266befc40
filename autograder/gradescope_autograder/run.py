"""Grade one Gradescope submission: ``python -m autograder.gradescope_autograder.run [--root /autograder]``.

Reads the student's upload from ``<root>/submission/`` and writes ``<root>/results/results.json``. The upload
is laid out as a one-student course (``submitted/<student>/<assignment>/``) in a temporary folder and graded
by the same intake and engine as ``make grade``, so the score is the one ``make grade`` gives the same files.
The hidden inputs are drawn from the zip's own grader secret and the submitter's Gradescope id
(``submission_metadata.json``), so every student gets their own and a regrade repeats them; a zip without its
secret grades nothing (a new secret would change every input).
Gradescope uploads either the files themselves or a folder holding them: the folder that holds the expected
notebook (or, failing that, any notebook) is the one graded. A submission that cannot be graded (no notebook,
a wrongly named one, an unreadable file) gets score 0 and a top-level ``output`` saying what is wrong; a fault
of the grader itself also gets a results.json, saying so, so that Gradescope never shows a bare failure.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

import assignments

from ..intake.course_layout import SUBMITTED_DIR, inspect_submission, notebook_problem, ungraded_result
from ..intake.submitted_files import RefusedFile, read_submitted
from ..results import SubmissionResult
from ..secret import read_secret
from ..settings import GradingSettings
from .build import SETTINGS_FILE

DEFAULT_ROOT = Path("/autograder")
STUDENT = "gradescope_submission"
METADATA_FILE = "submission_metadata.json"  # Gradescope writes it beside submission/: users, assignment, ...
KIT_DIR = Path(__file__).resolve().parents[2]
# Of the files in an upload, at most this many bytes are copied (a notebook and the experiment's weights).
MAX_UPLOAD_BYTES = 512 * 1024 * 1024


def load_kit_settings(kit_dir: Path = KIT_DIR) -> tuple[GradingSettings, str]:
    """The GradingSettings packed by `build` (paths made absolute under `kit_dir`), and the hidden visibility."""
    document = json.loads((kit_dir / SETTINGS_FILE).read_text(encoding="utf-8"))
    values = dict(document["settings"])
    for name in ("source_notebook", "heldout_dir", "secret_file"):
        if values.get(name) is not None:
            values[name] = kit_dir / values[name]
    return GradingSettings(**values), document["hidden_visibility"]


def student_key(root: Path) -> tuple[str, str]:
    """(the id the hidden inputs are keyed to, a note for the log) from Gradescope's
    ``<root>/submission_metadata.json``: its users' Gradescope ids (a group's, sorted), stable across
    resubmissions and regrades. Without readable metadata (outside Gradescope): one fixed id, saying so."""
    try:
        document = json.loads((root / METADATA_FILE).read_text(encoding="utf-8"))
        users = sorted(str(u.get("id") if u.get("id") is not None else u["email"]) for u in document["users"])
        if users:
            return "gradescope:" + "+".join(users), "hidden inputs keyed to the submitter's Gradescope id"
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    return STUDENT, f"no readable {METADATA_FILE}: hidden inputs keyed to the fixed id {STUDENT!r}"


def _upload_folder(submission_dir: Path, record: assignments.Assignment) -> Path:
    """The folder of the upload to grade: the shallowest holding the expected notebook, else any notebook (a
    link named like one counts, so that it is refused with a message rather than overlooked)."""
    for pattern in (record.notebook, "*.ipynb"):
        found = sorted((p for p in submission_dir.rglob(pattern) if (p.is_file() or p.is_symlink())
                        and "__MACOSX" not in p.parts), key=lambda p: (len(p.parts), str(p)))
        if found:
            return found[0].parent
    return submission_dir


def _over_upload_cap(name: str, size: int, record: assignments.Assignment) -> str:
    """The refusal of an upload's file of ``size`` bytes that takes the upload over ``MAX_UPLOAD_BYTES``."""
    return (f"{name} was refused: it is {size / 2**20:.1f} MiB, and with the files before it (in name order) the "
            f"upload is over the {MAX_UPLOAD_BYTES / 2**20:.0f} MiB the grader copies. What you can do: upload only "
            f"the files the assignment asks for ({', '.join(record.submission_files)})")


def _lay_out(upload: Path, course: Path, record: assignments.Assignment) -> dict[str, str]:
    """Copy the upload folder's files into ``course/submitted/<STUDENT>/<assignment>/``, each read as a regular
    file of its own (``submitted_files``: never through a symbolic or hard link, never blocking on a pipe), at
    most ``MAX_UPLOAD_BYTES`` in all; returns the refused ones, file name -> the message `make grade` gives."""
    target = course / SUBMITTED_DIR / STUDENT / record.name
    target.mkdir(parents=True)
    refused: dict[str, str] = {}
    left = MAX_UPLOAD_BYTES
    for path in sorted(upload.iterdir()) if upload.is_dir() else []:
        if path.is_dir() and not path.is_symlink():
            continue
        problem = notebook_problem(path, f"{record.name}/{record.notebook}") if path.name == record.notebook else None
        if problem:
            refused[path.name] = problem
            continue
        try:
            content = read_submitted(path, left, too_large=lambda name, size: _over_upload_cap(name, size, record))
        except RefusedFile as error:
            refused[path.name] = str(error)
            continue
        if content is not None:
            left -= len(content)
            (target / path.name).write_bytes(content)
    return refused


def grade_upload(submission_dir: Path, settings: GradingSettings, key: str = STUDENT) -> SubmissionResult:
    """Grade a Gradescope upload folder exactly as `make grade` grades submitted/<student>/<assignment>/;
    ``key`` is the student id the hidden inputs are drawn for (``student_key``)."""
    from ..engine import grade_submission

    record = assignments.get(settings.assignment)
    with tempfile.TemporaryDirectory(prefix="gradescope-course-") as scratch:
        course = Path(scratch)
        refused = _lay_out(_upload_folder(Path(submission_dir), record), course, record)
        if record.notebook in refused:  # a linked or special notebook: nothing is graded, as in make grade
            return ungraded_result(STUDENT, record, refused[record.notebook])
        submission = inspect_submission(course, STUDENT, record)
        if submission.notebook is None:
            return ungraded_result(STUDENT, record, submission.problem or "nothing to grade")
        graded_files = {name: message for name, message in refused.items() if name in record.submission_files}
        return grade_submission(submission.notebook, key, settings, dict(submission.files), graded_files)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of run_autograder; always writes results.json (exit status 0 when it could)."""
    from ..reports.gradescope import gradescope_results

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="Gradescope's /autograder")
    args = parser.parse_args(argv)
    results_file = args.root / "results" / "results.json"
    results_file.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        settings, hidden_visibility = load_kit_settings()
        read_secret(settings.secret_file)  # the zip's own secret, or stop: a new one would change every input
        key, note = student_key(args.root)
        result = grade_upload(args.root / "submission", settings, key)
        result.log.append(note)
        document = gradescope_results(result, hidden_visibility=hidden_visibility)
        # For the instructor's eyes (Gradescope's stdout, hidden from students): the score and the log.
        print(f"graded by the kit in {KIT_DIR}: score {result.score:g} / {result.max_score:g}")
        for line in result.log:
            print(line)
    except Exception as error:  # the grader's own fault: say so instead of leaving Gradescope without a result
        print(f"grader error: {type(error).__name__}: {error}")
        document = {"score": 0, "execution_time": int(round(time.monotonic() - started)),
                    "output": "The autograder itself failed on this submission (not your fault); the "
                              "error is in the autograder's log for your instructor. Please tell them.",
                    "stdout_visibility": "hidden", "tests": []}
    results_file.write_text(json.dumps(document, indent=1), encoding="utf-8")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
