"""Seconds per submission for the PyTorch assignment next to convnets, and the PyTorch reference open model's
accuracy on the tiny data set.

    .venv/bin/python bench/bench_framework_grading.py [--repeats N] [--epochs E]

Builds the reference submission of each assignment (its source notebook with the hidden tests removed, i.e. the
release with the reference solutions filled in), trains the reference open model on the tiny CIFAR-format set
(in a child process: the grader's process never imports torch), then grades each submission N times with
``grade_submission`` (every graded item, sandboxed workers, the record's limits) and prints the medians side by
side. Run on an idle machine for figures worth quoting.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import assignments  # noqa: E402
from autograder.cases.pytorch.open_model import train_reference_weights  # noqa: E402
from autograder.engine import grade_submission  # noqa: E402
from autograder.intake.notebook_reader import strip_hidden_tests  # noqa: E402
from autograder.settings import GradingSettings  # noqa: E402

def reference_submission(record, folder: Path) -> Path:
    notebook = nbformat.read(REPO / "source" / record.name / record.notebook, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            cell.source = strip_hidden_tests(cell.source)
    target = folder / record.name / record.notebook
    target.parent.mkdir(parents=True)
    nbformat.write(notebook, target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    from reference_impl.tiny_cifar import make_tiny_cifar10
    with tempfile.TemporaryDirectory(prefix="bench-frameworks-") as scratch:
        folder = Path(scratch)
        tiny = make_tiny_cifar10(folder / "tiny")
        weights = folder / "open_model.pt"
        accuracy, train_seconds = train_reference_weights(weights, tiny, args.epochs)
        print(f"PyTorch reference open model: {accuracy:.1%} validation accuracy on the tiny set "
              f"(1400 training / 100 validation images, {args.epochs} epochs, {train_seconds:.0f} s of training)")
        rows = []
        for name in ("convnets", "pytorch"):
            record = assignments.get(name)
            notebook = reference_submission(record, folder / "submissions")
            limits = record.limits
            settings = GradingSettings(assignment=name, source_notebook=REPO / "source" / name / record.notebook,
                                       heldout_dir=tiny, heldout_num_training=1400, heldout_num_validation=100,
                                       cpu_seconds=limits.cpu_seconds, memory_mb=limits.memory_mb,
                                       startup_seconds=limits.startup_seconds, cell_seconds=limits.cell_seconds,
                                       test_seconds=limits.test_seconds)
            files = {"open_model.pt": weights} if name == "pytorch" else {}
            seconds, score = [], None
            for _ in range(args.repeats):
                start = time.perf_counter()
                result = grade_submission(notebook, "reference", settings, files)
                seconds.append(time.perf_counter() - start)
                score = (result.score, result.max_score)
            rows.append((name, statistics.median(seconds), min(seconds), score))
        print(f"{'assignment':<10} {'median s':>9} {'best s':>7}  score (reference)")
        for name, median, best, (got, top) in rows:
            print(f"{name:<10} {median:9.1f} {best:7.1f}  {got:g} / {top:g}")
        print(f"pytorch / convnets seconds per submission: {rows[1][1] / rows[0][1]:.2f}")
        print("note: convnets' experiment item is not trained here and scores zero; its cost is in the figure")


if __name__ == "__main__":
    main()
