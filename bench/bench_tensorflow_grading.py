"""Seconds per submission for the TensorFlow assignment, and the TensorFlow reference open model's accuracy on
the tiny data set.

    .venv/bin/python bench/bench_tensorflow_grading.py [--repeats N]

Builds the reference submission (the source notebook with its hidden tests removed), trains the reference
open model on the tiny CIFAR-format set shipped with the hand-out (in a child process, tests/autograder/
tf_weights_files.py: the grader's process never imports TensorFlow), then grades the submission N times with
``grade_submission`` (every graded item, sandboxed workers, the record's limits; the tiny set's validation split
as the held-out data) and prints the median. Run on an idle machine for figures worth quoting.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import assignments  # noqa: E402
from autograder.engine import grade_submission  # noqa: E402
from autograder.intake.notebook_reader import strip_hidden_tests  # noqa: E402
from autograder.settings import GradingSettings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    record = assignments.get("tensorflow")
    with tempfile.TemporaryDirectory(prefix="bench-tensorflow-") as scratch:
        folder = Path(scratch)
        tiny = folder / "tiny" / "cifar-10-batches-py"
        tiny.mkdir(parents=True)
        with zipfile.ZipFile(REPO / "source" / record.name / "convkit" / "tiny_cifar10.zip") as archive:
            for member in archive.namelist():
                if not member.endswith("/"):
                    (tiny / Path(member).name).write_bytes(archive.read(member))
        started = time.perf_counter()
        done = subprocess.run([sys.executable, str(REPO / "tests" / "autograder" / "tf_weights_files.py"),
                               str(folder / "weights"), str(tiny)], cwd=REPO, capture_output=True, text=True,
                              check=True)
        history = json.loads(done.stdout.strip().splitlines()[-1])["val_accuracy"]
        print(f"TensorFlow reference open model: validation accuracy by epoch on the tiny set {history} "
              f"({time.perf_counter() - started:.0f} s including TensorFlow's import)")
        notebook = nbformat.read(REPO / "source" / record.name / record.notebook, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
                cell.source = strip_hidden_tests(cell.source)
        target = folder / "submission" / record.notebook
        target.parent.mkdir()
        nbformat.write(notebook, target)
        shutil.copyfile(folder / "weights" / "trained.weights.h5", target.parent / "open_model.weights.h5")
        settings = GradingSettings(**dataclasses.asdict(record.limits), assignment=record.name,
                                   source_notebook=REPO / "source" / record.name / record.notebook,
                                   heldout_dir=tiny, heldout_num_training=1350, heldout_num_validation=150)
        seconds, totals = [], []
        for _ in range(args.repeats):
            started = time.perf_counter()
            result = grade_submission(target, "reference", settings)
            seconds.append(time.perf_counter() - started)
            totals.append(sum(t.score for t in result.tests))
        print(f"tensorflow: {statistics.median(seconds):.1f} s per submission (median of {args.repeats}: "
              f"{', '.join(f'{s:.1f}' for s in seconds)}); reference scores {totals} of "
              f"{record.total_autograded_points:g}")


if __name__ == "__main__":
    main()
