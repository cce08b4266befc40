"""Points of the assignment record against every notebook copy that repeats them: instructor-side notes only.

The record (``assignments/<name>.py``) is the one source of points: `make grade` scores with it and writes it
into the gradebook. The copies are the nbgrader metadata of the source notebook (`make source`), the release
(`make release`) and the students' notebooks (fetched from some release). When an item's points change after
a release these copies are older than the record; none of them changes a score, but the instructor should
know (and rebuild the release), and the students must not be told they changed something.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from assignments import Assignment

STALE_RELEASE = "release is older than the record: rerun make release"


def record_points(record: Assignment) -> dict[str, float]:
    """Grade id -> points, as the record says: ``test_<item>`` for graded items, the answer's id for manual ones."""
    points = {item.test_cell_id: float(item.points) for item in record.graded_items}
    points.update({item.name: float(item.points) for item in record.manual_items})
    return points


def notebook_points(path: Path) -> dict[str, float]:
    """Grade id -> the ``points`` of each grade cell's nbgrader metadata in the notebook at ``path``.

    Reads the JSON only (never executes anything); a missing or unreadable file, and values that are not
    numbers, give no entries (the notebook reader reports unreadable submissions).
    """
    try:
        raw = json.loads(Path(path).read_bytes().decode("utf-8"))
        cells = raw.get("cells", []) if isinstance(raw, dict) else []
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    found: dict[str, float] = {}
    for cell in cells if isinstance(cells, list) else []:
        meta = cell.get("metadata", {}).get("nbgrader", {}) if isinstance(cell, dict) else {}
        meta = meta if isinstance(meta, dict) else {}
        grade_id, value = meta.get("grade_id"), meta.get("points")
        if meta.get("grade") and isinstance(grade_id, str) and isinstance(value, (int, float)) \
                and not isinstance(value, bool):
            found[grade_id] = float(value)
    return found


def _differences(expected: Mapping[str, float], found: Mapping[str, float]) -> dict[str, float]:
    return {grade_id: found[grade_id] for grade_id in expected
            if grade_id in found and found[grade_id] != expected[grade_id]}


def stale_copies(course_dir: Path, record: Assignment) -> list[str]:
    """One message if the course's source or release notebook carries points other than the record's.

    Returns
    -------
    list of str
        Empty when every copy agrees (or is absent), else one line starting with ``STALE_RELEASE`` and naming,
        per grade cell, the record's points and each copy's.
    """
    course_dir = Path(course_dir)
    expected = record_points(record)
    copies = {f"{folder}/{record.name}/{record.notebook}": course_dir / folder / record.name / record.notebook
              for folder in ("source", "release")}
    stale = {label: _differences(expected, notebook_points(path)) for label, path in copies.items()}
    stale = {label: found for label, found in stale.items() if found}
    if not stale:
        return []
    cells = sorted({grade_id for found in stale.values() for grade_id in found})
    details = "; ".join(f"{grade_id}: {expected[grade_id]:g} in assignments/{record.name}.py, "
                        + ", ".join(f"{found[grade_id]:g} in {label}" for label, found in stale.items()
                                    if grade_id in found)
                        for grade_id in cells)
    return [f"{STALE_RELEASE} ({details}). Every report of this run uses the record's points."]


def submitted_copies(record: Assignment, notebooks: Mapping[str, Path | None],
                     released: Mapping[str, float] | None = None) -> list[str]:
    """Messages naming the students whose notebook carries points other than the record's.

    Parameters
    ----------
    record : Assignment
    notebooks : mapping
        Student id -> submitted notebook path (None: nothing submitted, skipped).
    released : mapping, optional
        Grade id -> points of the current release notebook; a value found in neither the record nor it is
        flagged as not from the current release (an older release, or edited by hand).

    Returns
    -------
    list of str
        One line per grade cell and submitted value, e.g. "test_x: 2 student(s) submitted a notebook with 10
        points (the record: 12): alice, bob; ...".
    """
    expected = record_points(record)
    by_value: dict[tuple[str, float], list[str]] = {}
    for student, path in sorted(notebooks.items()):
        if path is None:
            continue
        for grade_id, value in _differences(expected, notebook_points(path)).items():
            by_value.setdefault((grade_id, value), []).append(student)
    notes = []
    for (grade_id, value), students in sorted(by_value.items()):
        origin = "the current release" if released and released.get(grade_id) == value else \
            "an older release, or edited by hand"
        notes.append(f"{grade_id}: {len(students)} student(s) submitted a notebook with {value:g} points where the "
                     f"record says {expected[grade_id]:g} ({origin}): {', '.join(students)}. They were graded with "
                     f"the record's points and are not told; nothing for them to do.")
    return notes


def points_notes(course_dir: Path, record: Assignment, notebooks: Iterable[tuple[str, Path | None]]) -> list[str]:
    """Every instructor note about points for one grading run: stale copies, then the students' notebooks."""
    course_dir = Path(course_dir)
    released = notebook_points(course_dir / "release" / record.name / record.notebook)
    return stale_copies(course_dir, record) + submitted_copies(record, dict(notebooks), released)
