"""One grader for both commands: `nbgrader autograde` scores with the kit's grader, as `make grade` does.

nbgrader's autograde executes the notebook in a kernel and scores each test cell all or nothing. This course's
nbgrader_config.py replaces that step (nbgrader's ``Execute`` preprocessor) with ``KitGrades``: it grades the
submitted folder with the kit's pipeline (the sandboxed engine, `make grade`'s settings from the same
nbgrader_config.py, and `make grade`'s result cache under grades/.cache/, which it fills too), and writes each
``test_<item>`` cell's output as the item's report followed by the points earned as the cell's result. nbgrader's
own ``SaveAutoGrades`` then records those points as partial credit (a test cell whose result is a number scores
that number), exactly the gradebook scores `make grade` writes. The student's code never runs in a notebook
kernel. The per-student reports (results.json, feedback.html, grades.csv) are written by `make grade`, which
reuses the cached results.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbgrader.converters.autograde import Autograde
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute, NbGraderPreprocessor


class KitGradingFailed(RuntimeError):
    """The kit could not grade a submission inside `nbgrader autograde` (nothing was recorded for it)."""


def _is_autograded_cell(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def scored_outputs(report: str, earned: float) -> list:
    """A test cell's outputs: the item's report (stdout), then ``earned`` as the cell's result, which nbgrader's
    ``determine_grade`` reads as partial credit."""
    return [nbformat.v4.new_output("stream", name="stdout", text=report),
            nbformat.v4.new_output("execute_result", data={"text/plain": repr(earned)}, execution_count=None)]


class KitGrades(NbGraderPreprocessor):
    """In place of ``Execute`` in `nbgrader autograde`: the kit grades the submission, test cells get its scores."""

    def preprocess(self, nb, resources):
        """Grade ``resources['nbgrader']``'s student and assignment with the kit; set every autograded cell's
        outputs (see ``scored_outputs``).

        Raises
        ------
        KitGradingFailed
            The assignment is not one of the kit's, or its grader failed on this submission (nbgrader then
            records nothing for it and reports the error).
        """
        import assignments

        from .cli import load_settings
        from .intake.course_layout import inspect_submission
        from .pipeline import CACHE_DIR, GRADES_DIR, grade_submissions
        from .reports.gradebook import grade_scores, item_report
        from .reports.gradebook_marks import update_marks

        student, name = resources["nbgrader"]["student"], resources["nbgrader"]["assignment"]
        if name not in assignments.ASSIGNMENTS:
            raise KitGradingFailed(f"{name!r} is not an assignment of this course's kit (assignments/: "
                                   f"{', '.join(assignments.ASSIGNMENTS)}); its notebook was not graded")
        course = Path(CourseDirectory(parent=self).root).resolve()
        record = assignments.get(name)
        submission = inspect_submission(course, student, record)
        run = grade_submissions([submission], load_settings(course, name), course / GRADES_DIR / CACHE_DIR / name,
                                jobs=1, progress=False, assignment=record)
        if run.errors or not run.results:
            raise KitGradingFailed(f"the kit's grader failed on {student}/{name}: "
                                   f"{run.errors.get(student, 'no result')}; run `make grade STUDENT={student}`")
        result = run.results[0]
        fractions = grade_scores(result)
        written = {}
        for cell in nb.cells:
            if not _is_autograded_cell(cell):
                continue
            grade_id = cell.metadata["nbgrader"]["grade_id"]
            points = float(cell.metadata["nbgrader"].get("points", 0))
            item = grade_id[len("test_"):] if grade_id.startswith("test_") else None
            if item is None or grade_id not in fractions:
                cell.outputs = scored_outputs(f"{grade_id} is not an item of assignments/{name}.py: no points\n", 0.0)
                continue
            earned = round(fractions[grade_id] * points, 6)
            cell.outputs = scored_outputs(item_report(result, item), earned)
            written[grade_id] = earned
        update_marks(course / GRADES_DIR, name, {student: written})
        if result.needs_regrade:
            self.log.warning("%s: some items could not be graded (grading error); run `make grade`", student)
        return nb, resources


def autograde_preprocessors() -> list:
    """nbgrader's own autograde steps, with ``Execute`` replaced by ``KitGrades`` (for nbgrader_config.py)."""
    default = list(Autograde.class_traits()["autograde_preprocessors"].default())
    if Execute not in default:
        raise RuntimeError("this nbgrader's autograde has no Execute step to replace; see autograder/nbgrader_hooks.py")
    return [KitGrades if step is Execute else step for step in default]
