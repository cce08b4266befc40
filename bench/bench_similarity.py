"""Seconds for the whole similarity report over a generated class, on N processes.

    .venv/bin/python bench/bench_similarity.py [--students 200] [--jobs 2] [--seed 0] [--keep DIR]

Generates a class from the correct-style fixtures (the reference, loops, vectorised, helper cells, helper
functions): each student takes each solution cell from a randomly chosen style (or leaves it as released),
and every notebook gets its own random renames, reworded comments, fresh layout and reordered helpers
(tests/autograder/similarity/mutations.py). Then it times `similarity_report` end to end (reading every
notebook, normalising, fingerprinting, comparing every pair, writing the HTML and CSV) and prints the time
with the number of pairs compared and flagged, and the CPU seconds spent (on a shared machine the wall time
depends on what else runs; CPU seconds much above wall seconds show the second core at work). Generating the
class is not timed.
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests" / "autograder"), str(REPO / "tests" / "autograder" / "similarity")]

import class_builder  # noqa: E402
import mutations  # noqa: E402
from autograder.similarity.normalise import provided_names  # noqa: E402
from autograder.similarity.run import similarity_report  # noqa: E402
from autograder.similarity.settings import SimilaritySettings  # noqa: E402


def _mutated(source: str, names: dict[str, str], rng: random.Random) -> str:
    try:
        source = mutations.reorder_top_level(source, rng)
    except SyntaxError:
        pass
    return mutations.rewrite(source, names, rng)


def generate_class(root: Path, students: int, seed: int) -> Path:
    """Write ``students`` varied submissions and the release under ``root``; returns ``root``."""
    rng = random.Random(seed)
    release, reference = class_builder.release_and_reference_notebooks()
    styles = {"reference": (class_builder.solution_sources(reference, release), [])}
    styles.update({name: class_builder.style_cells(folder) for name, folder in class_builder.STYLE_FOLDERS.items()})
    keep = provided_names([c.source for c in release.cells if c.cell_type == "code"])
    grade_ids = sorted(styles["reference"][0])
    notebooks = {}
    for number in range(students):
        replaced, extras = {}, []
        for grade_id in grade_ids:
            offering = [name for name, (cells, _) in styles.items() if grade_id in cells]
            if rng.random() < 0.1:
                continue  # left as released
            style = rng.choice(offering)
            replaced[grade_id] = styles[style][0][grade_id]
            extras.extend(e for e in styles[style][1] if e not in extras)
        names = mutations.renaming(list(replaced.values()) + [text for _, text in extras], keep, rng)
        replaced = {g: _mutated(s, names, rng) for g, s in replaced.items()}
        extras = [(after, _mutated(text, names, rng)) for after, text in extras]
        notebooks[f"student_{number:04d}"] = class_builder.notebook_with(release, replaced, extras)
    return class_builder.write_course(root, release, notebooks)


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its finished child processes (the report's workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None, help="generate the class here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = args.keep or Path(scratch) / "course"
        generate_class(root, args.students, args.seed)
        settings = SimilaritySettings(jobs=args.jobs)
        start, cpu_start = time.perf_counter(), _cpu_seconds()
        data, html_path = similarity_report(root, "convnets", settings=settings)
        seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu_start
    pairs = len(data.submissions) * (len(data.submissions) - 1) // 2
    print(f"{len(data.submissions)} submissions, {pairs} pairs compared on {args.jobs} processes "
          f"(os.cpu_count()={os.cpu_count()}, load average {os.getloadavg()[0]:.1f}): {seconds:.1f} s wall for the "
          f"whole report ({cpu:.1f} s CPU in this process and its workers); {len(data.pairs)} pairs with a similar region, {len(data.flagged)} at or above "
          f"{settings.threshold:.0%}")


if __name__ == "__main__":
    main()
