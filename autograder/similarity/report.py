"""Write the similarity report: ``similarity.html`` (ranked pairs, similar regions side by side) and
``similarity.csv`` (every pair with any similar region). All student text is HTML-escaped."""
from __future__ import annotations

import csv
import html
import io
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .compare import PairResult, Prepared, Region
from .settings import SimilaritySettings

CSV_COLUMNS = ("rank", "student_a", "student_b", "score", "fraction_a", "fraction_b", "similar_tokens_a",
               "similar_tokens_b", "above_threshold")


@dataclass
class ReportData:
    """Everything the report shows.

    pairs: every pair with a similar region, most similar first.
    submissions: student -> the prepared submission (for showing code).
    not_compared: student -> why they are not in the comparison.
    notes: problems met while reading that did not stop the comparison.
    """

    assignment: str
    settings: SimilaritySettings
    pairs: list[PairResult]
    submissions: dict[str, Prepared]
    not_compared: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def flagged(self) -> list[PairResult]:
        return [p for p in self.pairs if p.score >= self.settings.threshold]


def _write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` in one step, so that a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)  # mkstemp makes the file private; a report is for the course staff to read
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_csv(data: ReportData, path: Path) -> None:
    """One row per pair with any similar region (fractions between 0 and 1)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for rank, pair in enumerate(data.pairs, 1):
        writer.writerow([rank, pair.a, pair.b, f"{pair.score:.4f}", f"{pair.fraction_a:.4f}",
                         f"{pair.fraction_b:.4f}", pair.matched_a, pair.matched_b,
                         "yes" if pair.score >= data.settings.threshold else "no"])
    _write_atomically(path, buffer.getvalue())


def _highlighted(source: str, regions: list[Region]) -> str:
    """The cell's source, escaped, with the similar regions marked."""
    spans = sorted((r.start, r.end) for r in regions)
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, position = [], 0
    for start, end in merged:
        out.append(html.escape(source[position:start]))
        out.append(f"<mark>{html.escape(source[start:end])}</mark>")
        position = end
    out.append(html.escape(source[position:]))
    return "".join(out)


def _side(prepared: Prepared, regions: list[Region]) -> str:
    by_cell: dict[int, list[Region]] = {}
    for region in regions:
        by_cell.setdefault(region.cell, []).append(region)
    parts = [f"<h4>{html.escape(prepared.student)} <small>{html.escape(str(prepared.notebook))}</small></h4>"]
    for cell_index in sorted(by_cell):
        cell = prepared.cells[cell_index]
        parts.append(f"<p class='cell'>{html.escape(cell.label)}</p>"
                     f"<pre>{_highlighted(cell.source, by_cell[cell_index])}</pre>")
    return "".join(parts)


_STYLE = """body{font-family:sans-serif;margin:1.5em;max-width:110em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}.pair{display:flex;gap:1em}
.pair>div{flex:1;min-width:0;overflow-x:auto}pre{background:#f6f6f6;padding:.5em;font-size:85%}
mark{background:#ffe08a}.cell{font-weight:bold;margin-bottom:0}.note{color:#555}"""


def render_html(data: ReportData) -> str:
    """The whole HTML page."""
    settings, flagged = data.settings, data.flagged
    title = f"Similarity report: {html.escape(data.assignment)}"
    out = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title>"
           f"<style>{_STYLE}</style></head><body><h1>{title}</h1>",
           "<p class='note'>This report is for a person to read, not a grade. A score is the share of a "
           "notebook's own code (the code the release did not give) that lies in runs of at least "
           f"{settings.kgram_tokens} tokens with the same structure in the other notebook, ignoring names, "
           "literals, comments and layout. Similar code can be written independently, especially for short "
           "functions; a high score is a reason to look at both notebooks, never a finding on its own.</p>",
           f"<p>{len(data.submissions)} notebooks compared; {len(data.pairs)} pairs have a similar region; "
           f"{len(flagged)} pairs score at least {settings.threshold:.0%} and are listed below. "
           "All pairs with a similar region are in similarity.csv.</p>"]
    if data.not_compared or data.notes:
        out.append("<h2>Not compared, or compared in part</h2><ul>")
        out.extend(f"<li>{html.escape(student)}: {html.escape(why)}</li>"
                   for student, why in sorted(data.not_compared.items()))
        out.extend(f"<li>{html.escape(note)}</li>" for note in data.notes)
        out.append("</ul>")
    out.append("<h2>Most similar pairs</h2>")
    if not flagged:
        out.append(f"<p>No pair scores {settings.threshold:.0%} or more.</p>")
    else:
        out.append("<table><tr><th>rank</th><th>A</th><th>B</th><th>score</th><th>share of A similar</th>"
                   "<th>share of B similar</th><th>similar tokens (A / B)</th></tr>")
        for rank, pair in enumerate(flagged, 1):
            link = f"<a href='#pair-{rank}'>{rank}</a>" if rank <= settings.max_details else str(rank)
            out.append(f"<tr><td>{link}</td><td>{html.escape(pair.a)}</td><td>{html.escape(pair.b)}</td>"
                       f"<td>{pair.score:.0%}</td><td>{pair.fraction_a:.0%}</td><td>{pair.fraction_b:.0%}</td>"
                       f"<td>{pair.matched_a} / {pair.matched_b}</td></tr>")
        out.append("</table>")
        if len(flagged) > settings.max_details:
            out.append(f"<p class='note'>Similar regions are shown for the first {settings.max_details} pairs "
                       "(--max-details).</p>")
    for rank, pair in enumerate(flagged[:settings.max_details], 1):
        out.append(f"<h3 id='pair-{rank}'>{rank}. {html.escape(pair.a)} and {html.escape(pair.b)}: "
                   f"{pair.score:.0%} similar</h3><div class='pair'>"
                   f"<div>{_side(data.submissions[pair.a], pair.regions_a)}</div>"
                   f"<div>{_side(data.submissions[pair.b], pair.regions_b)}</div></div>")
    out.append("</body></html>\n")
    return "".join(out)


def write_html(data: ReportData, path: Path) -> None:
    _write_atomically(path, render_html(data))
