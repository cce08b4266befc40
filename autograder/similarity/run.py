"""Build the similarity report of one assignment of a course directory."""
from __future__ import annotations

from pathlib import Path

import assignments

from .compare import Prepared, ReleaseContext, compare_all, prepare_all
from .notebooks import find_notebooks, read_release
from .report import ReportData, write_csv, write_html
from .settings import SimilaritySettings


def similarity_report(course: Path, assignment: str, notebook: str | None = None,
                      settings: SimilaritySettings = SimilaritySettings(), release: Path | None = None,
                      out_dir: Path | None = None) -> tuple[ReportData, Path]:
    """Compare every pair of ``<course>/submitted/*/<assignment>/<notebook>`` and write the report.

    Parameters
    ----------
    course : Path
        nbgrader course root (holding submitted/ and release/).
    assignment, notebook : str
        Assignment folder and notebook file name (None: the assignment record's notebook).
    settings : SimilaritySettings
    release : Path, optional
        The release notebook (default ``<course>/release/<assignment>/<notebook>``).
    out_dir : Path, optional
        Where to write (default ``<course>/grades/<assignment>/``).

    Returns
    -------
    data : ReportData
        What the report shows.
    html_path : Path
        The HTML report; ``similarity.csv`` is beside it.

    Raises
    ------
    NotebookProblem
        No submitted/ folder, or the release notebook cannot be read: then there is nothing to compare.
    """
    course = Path(course)
    notebook = notebook or assignments.get(assignment).notebook
    release_notebook = read_release(release or course / "release" / assignment / notebook)
    found, not_compared = find_notebooks(course, assignment, notebook)
    context = ReleaseContext.build(release_notebook, settings)
    prepared: dict[str, Prepared] = {}
    notes: list[str] = []
    for (student, _), outcome in zip(found, prepare_all(found, context, settings.jobs)):
        if isinstance(outcome, str):
            not_compared[student] = outcome
        elif not outcome.runs:
            not_compared[student] = f"{outcome.notebook} has no code of its own beyond what the release gives"
        else:
            prepared[student] = outcome
            notes.extend(outcome.notes)
    pairs = compare_all(list(prepared.values()), context, settings)
    data = ReportData(assignment, settings, pairs, prepared, not_compared, notes)
    target = Path(out_dir) if out_dir is not None else course / "grades" / assignment
    write_csv(data, target / "similarity.csv")
    write_html(data, target / "similarity.html")
    return data, target / "similarity.html"
