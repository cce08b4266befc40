"""Runs a notebook's self-check as a student's kernel would, for tests/autograder/test_self_check_frameworks.py:
``python self_check_in_kernel.py NOTEBOOK SUPPORT_DIR OUT_JSON``.

Executes the notebook's code cells but its test cells (setup, data, the student's definitions) in one namespace,
with SUPPORT_DIR (the folder holding the shipped ``convkit/``) first on ``sys.path`` (a cell that raises is
reported on stderr and the next one runs, as in a kernel), then calls the shipped
``check(item)`` for every item with public cases and writes each case's result as JSON. A separate process, so
that the framework is imported here and never in the test process.
"""
from __future__ import annotations

import dataclasses
import json
import sys
import traceback
from pathlib import Path

import nbformat


def definitions(notebook) -> list[str]:
    """The sources of every code cell but the test cells, in notebook order (what a student runs before a
    test cell; with ``CONVKIT_GRADING`` set, the notebook skips its long training runs)."""
    return [cell.source for cell in notebook.cells
            if cell.cell_type == "code" and not cell.metadata.get("nbgrader", {}).get("grade")]


def main(notebook_path: str, support_dir: str, out_path: str) -> int:
    sys.path.insert(0, support_dir)
    namespace: dict = {"__name__": "__main__"}
    for source in definitions(nbformat.read(notebook_path, as_version=4)):
        python = "\n".join("" if line.startswith(("%", "!")) else line for line in source.splitlines())
        try:  # a line magic (%matplotlib) has no kernel here
            exec(compile(python, notebook_path, "exec"), namespace)
        except Exception:  # a student sees the error under the cell and can still run check() below it
            traceback.print_exc()
    from convkit.selfcheck import check, public_cases
    from convkit.selfcheck.self_check import HERE
    assert HERE.is_relative_to(Path(support_dir).resolve()), HERE  # the shipped copy, not the grader's own module
    results = {item: [dataclasses.asdict(r) for r in check(item, namespace, quiet=True).results]
               for item in public_cases.items(HERE)}
    with open(out_path, "w", encoding="utf-8") as handle:
        json.dump(results, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
