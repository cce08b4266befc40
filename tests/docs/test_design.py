"""docs/DESIGN.md stays true: its module table lists exactly the modules of the packages, and its
reference_impl table says what the assignment record ships."""
from __future__ import annotations

import re
from pathlib import Path

from assignments.convnets import CONVNETS

REPO = Path(__file__).resolve().parents[2]
DESIGN = (REPO / "docs" / "DESIGN.md").read_text(encoding="utf-8")


def _table(heading: str) -> list[list[str]]:
    """The rows of the first table after ``heading``, as lists of cell texts (header and rule dropped)."""
    section = DESIGN.split(heading, 1)[1]
    rows = []
    for line in section.splitlines():
        if line.startswith("|"):
            rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))])
        elif rows:
            break
    return rows[2:]


def test_the_module_table_lists_exactly_the_modules_of_the_packages():
    listed = [row[0].strip("`") for row in _table("## Packages and modules")]
    assert len(listed) == len(set(listed)), "a module is listed twice"
    actual = {p.relative_to(REPO).as_posix() for package in ("assignments", "autograder", "notebook_builder")
              for p in (REPO / package).rglob("*.py")}
    assert sorted(set(listed) - actual) == [], "DESIGN.md lists modules that do not exist"
    assert sorted(actual - set(listed)) == [], "modules missing from DESIGN.md's table"


def test_every_graded_item_has_its_case_module_in_the_table():
    listed = {row[0].strip("`") for row in _table("## Packages and modules")}
    for graded in CONVNETS.graded_items:
        assert f"autograder/cases/{CONVNETS.name}/{graded.name}.py" in listed


def test_the_reference_table_agrees_with_what_the_record_ships():
    # reference_impl/frameworks/ belongs to the PyTorch and TensorFlow assignments, whose records are not
    # registered yet: convnets ships none of it, and the rest of the table is convnets' support package.
    all_rows = _table("## reference_impl/")
    framework_rows = [row for row in all_rows if row[0].strip("`").startswith("frameworks/")]
    assert framework_rows and not {Path(row[0].strip("`")).stem for row in framework_rows} & set(
        CONVNETS.support.modules)
    rows = [row for row in all_rows if row not in framework_rows]
    shipped = {Path(row[0].strip("`")).stem for row in rows if row[3].startswith("yes")}
    not_shipped = {Path(row[0].strip("`")).stem for row in rows if row[3].startswith("no")}
    support = CONVNETS.support
    assert shipped == set(support.modules) | {Path(f).stem for f in support.extra_files}
    assert not_shipped == set(support.never_shipped)
    graded = {Path(row[0].strip("`")).stem for row in rows if row[2] == "yes"}
    assert graded <= set(support.never_shipped)
