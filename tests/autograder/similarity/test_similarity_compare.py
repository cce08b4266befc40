"""Ranking over a small class built from the correct-style fixtures (see class_builder.py).

Expected outcomes come from how the class is built: which notebook a copy was made from is known, and the
style fixtures were written independently of each other and of the reference.
"""
from __future__ import annotations

import ast
import dataclasses
import random

import pytest

import class_builder as cb
import mutations
from autograder.similarity.compare import ReleaseContext, compare_all
from autograder.similarity.normalise import provided_names
from autograder.similarity.notebooks import read_release
from autograder.similarity.run import similarity_report
from autograder.similarity.settings import SimilaritySettings

INDEPENDENT = ["reference", *cb.STYLE_FOLDERS]


def disguised_copy(replaced, extras, keep, rng):
    """Renamed variables, reworded comments, fresh layout, and the helper cells' definitions reordered."""
    names = mutations.renaming(list(replaced.values()) + [text for _, text in extras], keep, rng)
    copied = {g: mutations.rewrite(s, names, rng, comment_rate=1.0) for g, s in replaced.items()}
    copied_extras = [(after, mutations.rewrite(mutations.reorder_top_level(text, rng), names, rng, comment_rate=1.0))
                     for after, text in extras]
    return copied, copied_extras, names


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    release, reference = cb.release_and_reference_notebooks()
    keep = provided_names([c.source for c in release.cells if c.cell_type == "code"])
    students = {"reference": reference, "release_only_a": release, "release_only_b": release}
    styles = {name: cb.style_cells(folder) for name, folder in cb.STYLE_FOLDERS.items()}
    students.update({name: cb.notebook_with(release, *cells) for name, cells in styles.items()})
    styles["reference"] = (cb.solution_sources(reference, release), [])
    rng = random.Random(7)
    copies = {name: disguised_copy(*cells, keep, rng) for name, cells in styles.items()}
    students.update({f"copy_of_{name}": cb.notebook_with(release, copied, extras)
                     for name, (copied, extras, _) in copies.items()})
    source = styles["original_with_helpers"]
    *copy, names = copies["original_with_helpers"]
    root = cb.write_course(tmp_path_factory.mktemp("similarity_class"), release, students)
    data, html_path = similarity_report(root, "convnets")
    return {"data": data, "html": html_path, "source": source, "copy": copy, "names": names, "root": root}


def test_the_copy_really_is_disguised(course):
    (replaced, extras), (copied, copied_extras), names = course["source"], course["copy"], course["names"]
    original_helpers = [n.name for n in ast.parse(extras[0][1]).body]
    copied_helpers = [n.name for n in ast.parse(copied_extras[0][1]).body]
    renamed_in_original_order = [names[n] for n in original_helpers]
    assert sorted(copied_helpers) == sorted(renamed_in_original_order) and len(copied_helpers) == 3
    assert not set(copied_helpers) & set(original_helpers)  # renamed
    assert copied_helpers != renamed_in_original_order  # reordered
    assert "max_pool_forward_naive" not in names  # the graded function keeps its name
    assert {"padded", "rows", "cols", "winner"} <= set(names)  # the student's own variables are renamed
    assert "# pad only the two image axes" not in copied_extras[0][1]
    assert "first maximum in row-major order" not in copied["max_pool_backward_naive"]
    for grade_id, text in replaced.items():
        assert copied[grade_id] != text


@pytest.mark.parametrize("source", INDEPENDENT)
def test_disguised_copy_is_ranked_first_against_its_source(course, source):
    copy = f"copy_of_{source}"
    against_copy = [p for p in course["data"].pairs if copy in (p.a, p.b)]
    assert {against_copy[0].a, against_copy[0].b} == {copy, source}
    assert against_copy[0] in course["data"].flagged


def test_the_copies_take_the_top_ranks_of_the_class(course):
    top = course["data"].pairs[:len(INDEPENDENT)]
    assert {frozenset((p.a, p.b)) for p in top} == {frozenset((f"copy_of_{s}", s)) for s in INDEPENDENT}


def test_independent_correct_solutions_are_not_flagged_at_the_default_threshold(course):
    data = course["data"]
    independent = [p for p in data.pairs if p.a in INDEPENDENT and p.b in INDEPENDENT]
    assert len(independent) >= 8  # the styles do share everyday idioms: they are compared, not ignored
    assert all(p.score < data.settings.threshold for p in independent), \
        [(p.a, p.b, round(p.score, 3)) for p in independent]


def test_release_code_alone_produces_no_similarity(course):
    data = course["data"]
    for student in ("release_only_a", "release_only_b"):
        assert student not in data.submissions
        assert "no code of its own" in data.not_compared[student]
        assert all(student not in (p.a, p.b) for p in data.pairs)


def test_the_report_shows_the_copy_side_by_side_with_marked_regions(course):
    html = course["html"].read_text()
    first = html.index("id='pair-1'")
    detail = html[first:html.index("id='pair-2'") if "id='pair-2'" in html else len(html)]
    assert detail.count("<div class='pair'>") == 1
    top = course["data"].pairs[0]
    assert top.a in detail and top.b in detail
    assert detail.count("<mark>") >= 2 and len(top.regions_a) > 0 and len(top.regions_b) > 0
    assert "copied" not in html.lower()
    assert (course["html"].parent / "similarity.csv").is_file()


def test_pair_scores_in_two_processes_equal_those_in_one(course):
    """A class large enough for the pair scores to run in worker processes (copies under new ids)."""
    data = course["data"]
    prepared = [dataclasses.replace(p, student=f"{p.student}_{n}") for n in range(4)
                for p in data.submissions.values()]
    assert len(prepared) >= 40
    release = read_release(course["root"] / "release" / cb.ASSIGNMENT / cb.NOTEBOOK)
    results = []
    for jobs in (1, 2):
        settings = SimilaritySettings(jobs=jobs)
        pairs = compare_all(prepared, ReleaseContext.build(release, settings), settings)
        results.append([(p.a, p.b, p.matched_a, p.matched_b, p.regions_a, p.regions_b) for p in pairs])
    assert results[0] == results[1] and len(results[0]) > len(data.pairs)
