"""Reports: Gradescope results.json against Gradescope's documented fields, grades.csv, the HTML feedback
page (escaping of student-controlled text, self-contained), and the class summary."""
from __future__ import annotations

import csv
import io
import json
from html.parser import HTMLParser
from numbers import Real

import pytest

from assignments import Assignment, GradedItem
from assignments.convnets import CONVNETS
from autograder.reports.grades_csv import (CLASS_RESULTS_FILE, csv_header, grades_csv, write_class_results,
                                          write_grades_csv)
from autograder.reports.gradescope import gradescope_results, write_gradescope_results
from autograder.reports.feedback_html import feedback_html
from autograder.reports.summary import hardest_tests, histogram_png, pass_rates, summary_text
from autograder.results import SubmissionResult
from autograder.results import TestResult as Check

# Gradescope autograder specification ("Output format"): the fields it reads, at the top and per test.
GRADESCOPE_TOP_LEVEL = {"score", "execution_time", "output", "output_format", "test_output_format",
                        "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
GRADESCOPE_TEST = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format",
                   "tags", "visibility", "extra_data"}
GRADESCOPE_VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
SCRIPT = "<script>alert('pwned')</script>"


def _result(student="alice", message="") -> SubmissionResult:
    return SubmissionResult(student=student, assignment=CONVNETS.name, seconds=2.6, problems=["tampered cell"],
                            tests=[
        Check("conv_forward_naive: seed fixed-value check", "conv_forward_naive", 4, 4, message="ok"),
        Check("conv_forward_naive: stride 2, pad 1, 3x5 filter", "conv_forward_naive", 0, 6,
                   message=message or "values differ only at the padded border", expected="shape (2, 3, 3, 2)",
                   got="shape (2, 3, 3, 2), max relative error 0.41", hint="pad before sliding the filter",
                   visibility="hidden"),
        Check("max_pool_backward_naive: 3x3 window, stride 1", "max_pool_backward_naive", 2.5, 10),
    ])


def _check_gradescope(document: dict) -> None:
    """An independent reading of Gradescope's results.json specification."""
    assert set(document) <= GRADESCOPE_TOP_LEVEL
    assert isinstance(document["score"], Real) and isinstance(document["execution_time"], int)
    assert document["visibility"] in GRADESCOPE_VISIBILITY
    assert document["stdout_visibility"] in GRADESCOPE_VISIBILITY
    assert isinstance(document["output"], str)
    for test in document["tests"]:
        assert set(test) <= GRADESCOPE_TEST
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert isinstance(test["score"], Real) and isinstance(test["max_score"], Real)
        assert 0 <= test["score"] <= test["max_score"]
        assert test.get("status", "passed") in {"passed", "failed"}  # optional in the specification
        assert test["visibility"] in GRADESCOPE_VISIBILITY
        assert isinstance(test["number"], str) and isinstance(test["tags"], list)
    assert document["score"] == pytest.approx(sum(t["score"] for t in document["tests"]))


def test_results_json_has_only_gradescope_fields_and_adds_up(tmp_path):
    path = tmp_path / "alice" / "results.json"
    write_gradescope_results(_result(), path)
    document = json.loads(path.read_text())
    _check_gradescope(document)
    assert document["score"] == 6.5 and document["execution_time"] == 3
    assert [t["number"] for t in document["tests"]] == ["1.1", "1.2", "2.1"]
    assert [t["status"] for t in document["tests"]] == ["passed", "failed", "failed"]
    assert "tampered cell" in document["output"]


def test_every_test_name_starts_with_its_graded_function():
    for test in gradescope_results(_result())["tests"]:
        assert test["name"].split(":")[0] == test["tags"][0]


def test_hidden_cases_are_shown_by_name_and_describe_only_what_was_checked():
    hidden = gradescope_results(_result())["tests"][1]
    assert hidden["visibility"] == "visible"
    assert "hidden case" in hidden["tags"]
    assert hidden["output"] == ("values differ only at the padded border\nExpected: shape (2, 3, 3, 2)\n"
                                "Got: shape (2, 3, 3, 2), max relative error 0.41\n"
                                "Hint: pad before sliding the filter")


def test_grades_csv_has_one_row_per_student_with_item_scores(tmp_path):
    write_class_results([_result("zed"), _result("amy")], tmp_path / "convnets" / CLASS_RESULTS_FILE)
    write_grades_csv(tmp_path, [CONVNETS])
    rows = list(csv.DictReader(io.StringIO((tmp_path / "grades.csv").read_text())))
    items = [f"convnets:{g.name}" for g in CONVNETS.graded_items]
    assert list(rows[0]) == ["student", "score", "max_score", "convnets", "convnets:auto", "convnets:manual",
                             "convnets:total", *items, "pending", "manual_ungraded", "problems"]
    assert csv_header([CONVNETS]) == list(rows[0])
    assert [row["student"] for row in rows] == ["amy", "zed"]
    row = rows[0]
    assert (row["score"], row["max_score"], row["convnets"], row["convnets:conv_forward_naive"],
            row["convnets:max_pool_backward_naive"]) == ("6.5", "20", "6.5", "4", "2.5")
    assert row["convnets:ThreeLayerConvNet"] == "0" and row["problems"] == "convnets: tampered cell"
    assert sum(float(row[item]) for item in items) == float(row["convnets"])


def test_grades_csv_holds_every_assignment_and_leaves_a_missing_one_blank():
    second = Assignment("second", "Second.ipynb", "templates/second/Second.py", (GradedItem("flatten", 4),))
    late = SubmissionResult("amy", "second", [Check("flatten: shapes", "flatten", 3.0, 4.0)])
    text = grades_csv({"convnets": [_result("amy"), _result("zed")], "second": [late]}, [CONVNETS, second])
    rows = {row["student"]: row for row in csv.DictReader(io.StringIO(text))}
    assert list(rows["amy"])[-8:] == ["second", "second:auto", "second:manual", "second:total", "second:flatten",
                                      "pending", "manual_ungraded", "problems"]
    assert (rows["amy"]["score"], rows["amy"]["max_score"], rows["amy"]["second"]) == ("9.5", "24", "3")
    # zed has not submitted the second assignment: blank cells, and its points count 0 of its total.
    assert (rows["zed"]["second"], rows["zed"]["second:flatten"], rows["zed"]["max_score"]) == ("", "", "24")


def test_grades_csv_adds_the_gradebooks_hand_grades_and_marks_unfinished_ones():
    from autograder.reports.gradebook_read import HandGrades
    hand = {"convnets": {"amy": HandGrades(7.5, ()), "bob": HandGrades(3.0, ("answer_filters",))}}
    text = grades_csv({"convnets": [_result("amy"), _result("bob"), _result("zed")]}, [CONVNETS], hand)
    rows = {row["student"]: row for row in csv.DictReader(io.StringIO(text))}
    auto = sum(t.score for t in _result("amy").tests)
    assert (rows["amy"]["convnets:auto"], rows["amy"]["convnets:manual"]) == (f"{auto:g}", "7.5")
    assert float(rows["amy"]["convnets:total"]) == auto + 7.5 and rows["amy"]["manual_ungraded"] == ""
    assert rows["bob"]["manual_ungraded"] == "convnets:answer_filters"
    assert float(rows["bob"]["convnets:total"]) == auto + 3.0
    # zed is not in the gradebook: no manual points known, and the written answers are not graded.
    assert (rows["zed"]["convnets:manual"], rows["zed"]["convnets:total"]) == ("", f"{auto:g}")
    assert rows["zed"]["manual_ungraded"] == "convnets: not in the gradebook"
    assert rows["amy"]["score"] == f"{auto:g}"  # score stays the autograded total


class _Collector(HTMLParser):
    """Records the tags and attributes of a page and its visible text."""

    def __init__(self):
        super().__init__()
        self.tags, self.attributes, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend(attrs)

    def handle_data(self, data):
        self.text.append(data)


def _parse(page: str) -> _Collector:
    collector = _Collector()
    collector.feed(page)
    return collector


def test_student_controlled_text_is_escaped_in_the_feedback_page():
    page = feedback_html(_result(student="eve<img src=x onerror=alert(1)>", message=f"printed {SCRIPT}"))
    parsed = _parse(page)
    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert not any(name.startswith("on") for name, _ in parsed.attributes)
    assert f"printed {SCRIPT}" in "".join(parsed.text)  # shown as text, not run


def test_feedback_page_is_self_contained_and_lists_every_test():
    page = feedback_html(_result())
    parsed = _parse(page)
    assert not {"script", "link", "img", "iframe"} & set(parsed.tags)
    assert not any(value and "://" in value for _, value in parsed.attributes)
    text = "".join(parsed.text)
    for expected in ("6.5 / 20", "tampered cell", "seed fixed-value check", "stride 2, pad 1, 3x5 filter",
                     "shape (2, 3, 3, 2), max relative error 0.41", "pad before sliding the filter",
                     "hidden test: its inputs are not shown", "conv_forward_naive: 4 / 10",
                     "max_pool_backward_naive: 2.5 / 10"):
        assert expected in text


def test_pass_rates_and_hardest_tests_count_students():
    alice, bob = _result("alice"), _result("bob")
    bob.tests[0].score = 0
    rates = {r.name: (r.passed, r.attempted) for r in pass_rates([alice, bob])}
    assert rates == {"conv_forward_naive: seed fixed-value check": (1, 2),
                     "conv_forward_naive: stride 2, pad 1, 3x5 filter": (0, 2),
                     "max_pool_backward_naive: 3x3 window, stride 1": (0, 2)}
    hardest = [r.name for r in hardest_tests([alice, bob], count=2)]
    assert hardest == ["conv_forward_naive: stride 2, pad 1, 3x5 filter",
                       "max_pool_backward_naive: 3x3 window, stride 1"]


def test_summary_text_reports_the_class_statistics():
    low = _result("bob")
    low.tests[0].score = 0
    text = summary_text([_result("alice"), low])
    assert "Students: 2   max points: 20" in text
    assert "mean 4.50, median 4.5, min 2.5, max 6.5" in text
    assert "conv_forward_naive: seed fixed-value check" in text and "1/2" in text
    assert "Tests most students failed:" in text
    assert summary_text([]) == "No submissions graded.\n"


def test_histogram_is_a_png():
    assert histogram_png([_result()]).startswith(b"\x89PNG\r\n\x1a\n")
    assert histogram_png([]).startswith(b"\x89PNG")


def _pending_result(student="alice") -> SubmissionResult:
    """_result plus an experiment whose accuracy case waits for held-out data (8 of its 10 points)."""
    result = _result(student)
    result.tests += [Check("experiment: saved model loads", "experiment", 2, 2, message="loads"),
                     Check("experiment: validation accuracy", "experiment", 0, 8, pending=True,
                           message="pending: the grader has no held-out data configured")]
    return result


def test_a_pending_case_is_neither_passed_nor_failed_and_its_points_are_counted_apart():
    result = _pending_result()
    assert [t.status for t in result.tests][-2:] == ["passed", "pending"]
    assert (result.score, result.max_score, result.pending_points) == (8.5, 22, 8)
    assert result.item_scores()["experiment"] == (2, 2) and result.item_pending_points() == {"experiment": 8}
    again = SubmissionResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again.tests[-1].pending and again.pending_points == 8 and result.to_dict()["pending_points"] == 8


def test_a_pending_case_shows_as_pending_in_the_feedback_page():
    text = "".join(_parse(feedback_html(_pending_result())).text)
    assert "Autograded score: 8.5 / 22 (pending 8 pts, not scored yet)" in " ".join(text.split())
    assert "experiment: 2 / 2 (pending 8 pts)" in text and "pending 8" in text
    page = feedback_html(_pending_result())
    assert '<tr class="pending">' in page and '<td class="status">pending</td>' in page
    assert '<td class="status">failed</td>' in page  # the real failures are still failures


def test_a_pending_case_in_results_json_gives_and_takes_nothing():
    document = gradescope_results(_pending_result())
    _check_gradescope(document)
    pending = document["tests"][-1]
    assert pending["name"] == "experiment: validation accuracy (pending, 8 pts)" and "status" not in pending
    assert (pending["score"], pending["max_score"]) == (0, 0) and "pending" in pending["tags"]
    assert pending["output"].startswith("Pending") and "pending 8 pts" in document["output"]
    assert document["score"] == 8.5


def test_grades_csv_and_the_summary_mark_pending_points():
    text = grades_csv({"convnets": [_pending_result("amy"), _result("zed")]}, [CONVNETS])
    rows = {row["student"]: row for row in csv.DictReader(io.StringIO(text))}
    assert (rows["amy"]["score"], rows["amy"]["max_score"], rows["amy"]["pending"]) == ("8.5", "22",
                                                                                      "8 pts: convnets:experiment")
    assert rows["zed"]["pending"] == ""
    summary = summary_text([_pending_result("amy"), _result("zed")])
    assert "PENDING (needs instructor data, points neither given nor taken): 1 student(s), 8 pts" in summary
    rate = {r.name: r for r in pass_rates([_pending_result("amy")])}["experiment: validation accuracy"]
    assert (rate.passed, rate.attempted, rate.pending) == (0, 0, 1)
    assert "experiment: validation accuracy" not in [r.name for r in hardest_tests([_pending_result("amy")])]


class _TableCollector(HTMLParser):
    """The rows of the page's first table (the item summary), with the link target of each first cell."""

    def __init__(self):
        super().__init__()
        self.rows, self.links, self.ids, self._tables, self._in_first = [], [], [], 0, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "table":
            self._tables += 1
            self._in_first = self._tables == 1
        elif self._in_first and tag == "tr":
            self.rows.append([])
        elif self._in_first and tag in ("td", "th"):
            self.rows[-1].append("")
        elif self._in_first and tag == "a":
            self.links.append(attrs.get("href"))

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_first = False

    def handle_data(self, data):
        if self._in_first and self.rows and self.rows[-1]:
            self.rows[-1][-1] += data


def test_feedback_page_opens_with_an_item_table_linking_to_each_items_cases():
    result = _pending_result()
    result.tests.append(Check("bad<b>item: odd", "bad<b>item", 1, 1))  # student-visible names are escaped too
    page = feedback_html(result)
    table = _TableCollector()
    table.feed(page)
    header, *rows = [[" ".join(cell.split()) for cell in row] for row in table.rows]
    assert header == ["Item", "Points", "Passed", "Failed", "Pending"]
    assert rows == [["conv_forward_naive", "4 / 10", "1", "1", "0"],
                    ["max_pool_backward_naive", "2.5 / 10", "0", "1", "0"],
                    ["experiment", "2 / 2 (pending 8 pts)", "1", "0", "1"],
                    ["bad<b>item", "1 / 1", "1", "0", "0"]]
    assert "<b>" not in page and "bad&lt;b&gt;item" in page
    assert len(table.links) == 4 and all(link.startswith("#") for link in table.links)
    assert [link[1:] for link in table.links] == [i for i in table.ids if i.startswith("item-")]
    assert page.index("<table class=\"items\">") < page.index("seed fixed-value check")  # at the top
