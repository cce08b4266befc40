"""A student's feedback page: one self-contained HTML file (inline CSS, no JavaScript, no external links).

Everything that comes from a submission (messages quoting its output, its student id) is escaped by Jinja2's
autoescaping, so a notebook that prints `<script>` shows that text instead of running it.
"""
from __future__ import annotations

import re
from pathlib import Path

import jinja2

from ..atomicio import atomic_write_text
from ..feedback_text import format_points
from ..results import SubmissionResult, TestResult

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Feedback: {{ result.assignment }}, {{ result.student }}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
.total { font-size: 1.3rem; font-weight: bold; }
.problems { background: #fff4e5; border-left: 4px solid #e69500; padding: .5rem 1rem; }
table { border-collapse: collapse; width: 100%; margin-top: .5rem; }
th, td { border: 1px solid #ddd; padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
tr.passed td.status { color: #1a7f37; } tr.failed td.status { color: #c62828; font-weight: bold; }
tr.pending td.status { color: #8a5a00; font-style: italic; }
table.items td.count { text-align: right; }
pre { white-space: pre-wrap; margin: 0; font-family: ui-monospace, monospace; font-size: .85rem; }
.hidden-note { color: #666; font-size: .85rem; }
</style>
</head>
<body>
<h1>{{ result.assignment }}: autograder feedback for {{ result.student }}</h1>
<p class="total">Autograded score: {{ fmt(result.score) }} / {{ fmt(result.max_score) }}{% if result.pending_points %}
 (pending {{ fmt(result.pending_points) }} pts, not scored yet){% endif %}</p>
{% if result.pending_points %}
<p>Pending cases could not be scored yet because the grader lacks data only your instructor can provide; their
points are neither given nor taken here, and your instructor will score them.</p>
{% endif %}
<p>Written answers are graded by hand and are not included in this score.</p>
{% if result.problems %}
<div class="problems"><strong>Problems with this submission</strong>
<ul>{% for problem in result.problems %}<li><pre>{{ problem }}</pre></li>{% endfor %}</ul></div>
{% endif %}
<table class="items">
<tr><th>Item</th><th>Points</th><th>Passed</th><th>Failed</th><th>Pending</th></tr>
{% for item, tests in items %}
<tr><td><a href="#{{ anchors[item] }}">{{ item }}</a></td>
<td>{{ fmt(scores[item][0]) }} / {{ fmt(scores[item][1]) }}{% if item in pending %} (pending {{ fmt(pending[item]) }} pts){% endif %}</td>
{% for status in ('passed', 'failed', 'pending') %}<td class="count">{{ tests | selectattr('status', 'eq', status) | list | length }}</td>{% endfor %}
</tr>
{% endfor %}
</table>
{% for item, tests in items %}
<h2 id="{{ anchors[item] }}">{{ item }}: {{ fmt(scores[item][0]) }} / {{ fmt(scores[item][1]) }}{% if item in pending %} (pending {{ fmt(pending[item]) }} pts){% endif %}</h2>
<table>
<tr><th>Result</th><th>What was checked</th><th>Expected</th><th>Got</th><th>Points</th></tr>
{% for test in tests %}
<tr class="{{ test.status }}">
<td class="status">{{ test.status }}</td>
<td>{{ test.checked }}{% if test.visibility != 'visible' %}
<div class="hidden-note">hidden test: its inputs are not shown</div>{% endif %}</td>
<td><pre>{{ test.expected }}</pre></td>
<td><pre>{{ test.got }}</pre></td>
<td>{% if test.pending %}pending {{ fmt(test.max_score) }}{% else %}{{ fmt(test.score) }} / {{ fmt(test.max_score) }}{% endif %}</td>
</tr>
{% if test.message or test.hint %}
<tr class="{{ test.status }}"><td></td><td colspan="4">
{% if test.message %}<pre>{{ test.message }}</pre>{% endif %}
{% if test.hint %}<p><strong>Hint:</strong> {{ test.hint }}</p>{% endif %}
</td></tr>
{% endif %}
{% endfor %}
</table>
{% endfor %}
</body>
</html>
"""

_ENVIRONMENT = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                                  lstrip_blocks=True)


def _anchors(items: list[str]) -> dict[str, str]:
    """A distinct HTML id per item: "item-" plus the name with anything but letters, digits, "-" and "_" as "-"."""
    anchors: dict[str, str] = {}
    for item in items:
        anchor = "item-" + re.sub(r"[^A-Za-z0-9_-]", "-", item)
        while anchor in anchors.values():
            anchor += "-"
        anchors[item] = anchor
    return anchors


def feedback_html(result: SubmissionResult) -> str:
    """Render the feedback page of one student.

    Parameters
    ----------
    result : SubmissionResult
        The graded submission.

    Returns
    -------
    str
        A complete HTML document: total (with the points of pending cases apart), submission problems, a
        table of the graded items (points, passed/failed/pending counts, each linking to the item's section),
        then per graded item every test with its status, what it checked, expected vs got, the message, the
        hint and the points.
    """
    grouped: dict[str, list[TestResult]] = {}
    for test in result.tests:
        grouped.setdefault(test.item, []).append(test)
    template = _ENVIRONMENT.from_string(_TEMPLATE)
    return template.render(result=result, items=list(grouped.items()), scores=result.item_scores(),
                           pending=result.item_pending_points(), anchors=_anchors(list(grouped)),
                           fmt=format_points)


def write_feedback_page(result: SubmissionResult, path: Path) -> None:
    """Write `feedback_html(result)` to `path` atomically."""
    atomic_write_text(path, feedback_html(result))
