"""Command line: ``python -m notebook_builder source|release [--assignment NAME] [--root DIR]``.

Without ``--assignment`` every assignment of the course (``assignments.ASSIGNMENTS``) is built.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import assignments

from .errors import BuildError


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m notebook_builder", description=__doc__.split("\n\n")[0])
    parser.add_argument("step", choices=("source", "release"),
                        help="source: write source/<assignment>/ from its template and reference_impl; "
                             "release: nbgrader generate_assignment + zip")
    parser.add_argument("--assignment", default="", help=f"one of {', '.join(assignments.ASSIGNMENTS)} "
                                                         "(default: all)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="repository root (default: current directory)")
    args = parser.parse_args(argv)
    try:
        chosen = assignments.select(args.assignment)
    except KeyError as error:
        print(f"error: {error.args[0]}", file=sys.stderr)
        return 2
    for assignment in chosen:
        start = time.perf_counter()
        if args.step == "source":
            from .build import build_source, source_dir
            try:
                changed = build_source(args.root, assignment)
            except BuildError as error:
                print(f"error: {error}", file=sys.stderr)
                return 1
            summary = f"{len(changed)} file(s) changed" if changed else "already up to date"
            print(f"{source_dir(assignment)}: {summary} ({time.perf_counter() - start:.1f} s)")
            for relative in changed:
                print(f"  {relative}")
        else:
            from .release import build_release
            try:
                zip_path = build_release(args.root, assignment.name)
            except subprocess.CalledProcessError as error:
                print(f"error: nbgrader generate_assignment {assignment.name} failed with exit code "
                      f"{error.returncode} (output above)", file=sys.stderr)
                return 1
            print(f"release: wrote {zip_path.parent / zip_path.stem}/ and {zip_path} "
                  f"({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
