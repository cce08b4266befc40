"""docs/DESIGN.md stays true: its module table lists exactly the modules of the packages, and its
reference_impl table says what each assignment record ships (one column per assignment)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import assignments

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


@pytest.mark.parametrize("name", list(assignments.ASSIGNMENTS))
def test_every_graded_item_has_its_case_module_in_the_table(name):
    record = assignments.get(name)
    listed = {row[0].strip("`") for row in _table("## Packages and modules")}
    for graded in record.graded_items:
        assert f"autograder/cases/{record.name}/{graded.name}.py" in listed


def _shipping_columns() -> dict[str, int]:
    """Assignment name -> index of its "shipped in `<name>`" column of the reference_impl table."""
    section = DESIGN.split("## reference_impl/", 1)[1]
    header = next(line for line in section.splitlines() if line.startswith("|"))
    cells = [cell.strip() for cell in header.strip().strip("|").split("|")]
    return {m.group(1): i for i, cell in enumerate(cells) if (m := re.fullmatch(r"shipped in `(\w+)`", cell))}


def _dotted(cell: str) -> str:
    path = Path(cell.strip("`"))
    return path.name if path.suffix == ".pyx" else path.with_suffix("").as_posix().replace("/", ".")


def test_every_registered_assignment_has_a_shipping_column():
    assert set(assignments.ASSIGNMENTS) <= set(_shipping_columns())


@pytest.mark.parametrize("name", sorted(_shipping_columns()))
def test_the_reference_table_agrees_with_what_each_record_ships(name):
    rows = _table("## reference_impl/")
    column = _shipping_columns()[name]
    if name not in assignments.ASSIGNMENTS:
        # An assignment still being written: its column may announce plans, never claim what ships.
        assert {row[column].split(" ")[0] for row in rows} <= {"planned", "no"}
        return
    support = assignments.get(name).support
    shipped = {_dotted(row[0]) for row in rows if row[column].startswith("yes")}
    not_shipped = {_dotted(row[0]) for row in rows if row[column].startswith("no")}
    assert shipped | not_shipped == {_dotted(row[0]) for row in rows}, "a cell says neither yes nor no"
    assert shipped == set(support.modules) | set(support.extra_files)
    assert set(support.never_shipped) <= not_shipped
    graded = {_dotted(row[0]) for row in rows if row[2] == "yes"}
    assert not graded & shipped, "a graded module is shipped"
    assert not graded & set(support.modules), "the record ships a graded module"
