"""The class summary printed at the end of a run: score histogram (PNG), per-test pass rates, hardest tests."""
from __future__ import annotations

import io
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..atomicio import atomic_write_bytes, atomic_write_text
from ..results import SubmissionResult

HISTOGRAM_FILE = "score_histogram.png"
SUMMARY_FILE = "summary.txt"
# How many of the most-failed tests the summary lists.
HARDEST_COUNT = 5


@dataclass(frozen=True)
class TestRate:
    """How one test (by name) fared across the class: `passed` of `attempted` students; `pending` more
    students' results wait for instructor data and count as neither."""

    name: str
    passed: int
    attempted: int
    pending: int = 0

    @property
    def rate(self) -> float:
        return self.passed / self.attempted if self.attempted else 0.0


def pass_rates(results: list[SubmissionResult]) -> list[TestRate]:
    """Pass rate of every test name that occurs in `results`, in first-seen order."""
    counts: dict[str, list[int]] = {}
    for result in results:
        for test in result.tests:
            tally = counts.setdefault(test.name, [0, 0, 0])
            if test.pending:
                tally[2] += 1
                continue
            tally[0] += test.passed
            tally[1] += 1
    return [TestRate(name, *tally) for name, tally in counts.items()]


def hardest_tests(results: list[SubmissionResult], count: int = HARDEST_COUNT) -> list[TestRate]:
    """The `count` tests with the most failures (ties broken by name); tests nobody failed are left out."""
    failing = [r for r in pass_rates(results) if r.passed < r.attempted]
    return sorted(failing, key=lambda r: (r.passed - r.attempted, r.name))[:count]


def summary_text(results: list[SubmissionResult]) -> str:
    """The class summary as plain text (deterministic: the same results give the same text)."""
    if not results:
        return "No submissions graded.\n"
    scores = [r.score for r in results]
    top = max(r.max_score for r in results)
    lines = [f"Students: {len(results)}   max points: {top:g}",
             f"Score: mean {statistics.fmean(scores):.2f}, median {statistics.median(scores):g}, "
             f"min {min(scores):g}, max {max(scores):g}",
             f"Full marks: {sum(r.score >= r.max_score > 0 for r in results)}   "
             f"with submission problems: {sum(bool(r.problems) for r in results)}"]
    regrade = [r.student for r in results if r.needs_regrade]
    if regrade:
        lines.append(f"Grading errors, to regrade (not scores of the students' work): {', '.join(regrade)}")
    lines += ["", "Pass rate per test (pending results count as neither):"]
    width = max(len(rate.name) for rate in pass_rates(results))
    lines += [f"  {rate.name:<{width}}  {rate.passed:>4}/{rate.attempted:<4} {rate.rate:6.0%}"
              + (f"  pending {rate.pending}" if rate.pending else "") for rate in pass_rates(results)]
    waiting = [r for r in results if r.pending_points]
    if waiting:
        lines += ["", f"PENDING (needs instructor data, points neither given nor taken): {len(waiting)} student(s), "
                      f"{sum(r.pending_points for r in waiting):g} pts in all:"]
        lines += [f"  {rate.name}: {rate.pending} student(s)" for rate in pass_rates(results) if rate.pending]
    hardest = hardest_tests(results)
    if hardest:
        lines += ["", "Tests most students failed:"]
        lines += [f"  {rate.name}: failed by {rate.attempted - rate.passed} of {rate.attempted}"
                  for rate in hardest]
    return "\n".join(lines) + "\n"


def histogram_png(results: list[SubmissionResult]) -> bytes:
    """PNG bytes of the histogram of total scores (matplotlib's object API: no global pyplot state)."""
    figure = Figure(figsize=(6, 3.5), dpi=100)
    axes = figure.add_subplot()
    scores = [r.score for r in results]
    top = max((r.max_score for r in results), default=1.0) or 1.0
    axes.hist(scores, bins=20, range=(0, top), color="#4477aa", edgecolor="white")
    axes.set_xlabel("autograded score")
    axes.set_ylabel("students")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # whole students
    axes.set_title(f"Score distribution ({len(results)} students)")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def write_class_summary(run, grades_dir: Path, out: TextIO) -> None:
    """Write summary.txt and the histogram under `grades_dir`, and print the summary with this run's counts.

    Parameters
    ----------
    run : autograder.pipeline.GradingRun
        Results and what this run did (graded, reused from cache, grader errors).
    grades_dir : Path
        Output folder of the class reports.
    out : text stream
        Where the summary is printed.
    """
    text = summary_text(run.results)
    atomic_write_text(Path(grades_dir) / SUMMARY_FILE, text)
    atomic_write_bytes(Path(grades_dir) / HISTOGRAM_FILE, histogram_png(run.results))
    fresh = [r for r in run.results if r.student in set(run.graded)]
    timing = ""
    if fresh:
        seconds = [r.seconds for r in fresh]
        timing = f"; grading time {statistics.fmean(seconds):.1f} s per submission (max {max(seconds):.1f} s)"
    print(text, file=out)
    print(f"This run: graded {len(run.graded)}, reused {len(run.cached)} cached result(s){timing}.", file=out)
    for student, error in sorted(run.errors.items()):
        print(f"GRADER ERROR for {student} (nothing recorded for this student): {error}", file=out)
    for result in run.results:
        if result.needs_regrade:
            items = sorted({t.item for t in result.tests if t.grading_error})
            print(f"GRADING ERROR, REGRADE {result.student}: the grader could not grade {', '.join(items)} "
                  f"({sorted({t.grading_error for t in result.tests if t.grading_error})[0]}); not a score of "
                  "the student's work. Run `make grade` again: these are graded first.", file=out)
    print(f"Reports: {grades_dir} ({SUMMARY_FILE}, {HISTOGRAM_FILE}, <student>/results.json, "
          f"<student>/feedback.html)", file=out)
