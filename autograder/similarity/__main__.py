"""``python -m autograder.similarity --assignment NAME [--course DIR] [--threshold X] [--jobs N]``"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .notebooks import NotebookProblem
from .run import similarity_report
import assignments

from .settings import SimilaritySettings


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"the threshold is a share between 0 and 1, got {value}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    defaults = SimilaritySettings()
    parser = argparse.ArgumentParser(prog="python -m autograder.similarity",
                                     description="Write grades/<assignment>/similarity.html and .csv: pairs of "
                                                 "submissions with similar solution code, for a person to read.")
    parser.add_argument("--assignment", required=True, choices=sorted(assignments.ASSIGNMENTS),
                        help="the assignment whose submissions are compared")
    parser.add_argument("--notebook", default=None, help="default: the assignment record's notebook")
    parser.add_argument("--course", type=Path, default=Path.cwd(), help="nbgrader course root (default: .)")
    parser.add_argument("--release", type=Path, default=None,
                        help="release notebook (default: <course>/release/<assignment>/<notebook>)")
    parser.add_argument("--out", type=Path, default=None, help="default: <course>/grades/<assignment>/")
    parser.add_argument("--threshold", type=_fraction, default=defaults.threshold,
                        help=f"list pairs scoring at least this share (default: {defaults.threshold})")
    parser.add_argument("--max-details", type=_positive, default=defaults.max_details,
                        help=f"pairs shown side by side (default: {defaults.max_details})")
    parser.add_argument("--jobs", type=_positive, default=os.cpu_count() or 1,
                        help="processes reading notebooks (default: all cores)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = SimilaritySettings(threshold=args.threshold, max_details=args.max_details, jobs=args.jobs)
    try:
        data, html_path = similarity_report(args.course, args.assignment, args.notebook, settings,
                                            args.release, args.out)
    except NotebookProblem as error:
        print(f"similarity report not written: {error}", file=sys.stderr)
        return 2
    for student, why in sorted(data.not_compared.items()):
        print(f"not compared: {student}: {why}", file=sys.stderr)
    for note in data.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"{len(data.submissions)} notebooks compared, {len(data.flagged)} pairs at or above "
          f"{settings.threshold:.0%}: {html_path} (all pairs: {html_path.with_suffix('.csv')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
