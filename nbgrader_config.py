"""nbgrader settings for this course; the course root is this repository.

The lead's autograder settings go in their own section at the end of this file.
"""
from pathlib import Path

c = get_config()  # noqa: F821 -- provided by nbgrader when it loads this file

# --- Course layout (owned by the notebook builder: `make source`, `make release`) ---
c.CourseDirectory.root = str(Path(__file__).resolve().parent)
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = "sqlite:///" + str(Path(__file__).resolve().parent / "gradebook.db")
# Local build and run products never reach students: compiled extensions and their C files, build folders,
# byte code, checkpoints and whatever the experiment section saved while the instructor tried it.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints", "__pycache__", "*.pyc", "feedback",
    "*.so", "*.pyd", "*.c", "build", "*.egg-info",
    "experiment_model.npz", "*.checkpoint*", "datasets",
]
c.GenerateAssignment.create_assignment = True

# What a student sees in place of a solution region, and of a hand-graded written answer.
c.ClearSolutions.code_stub = {
    "python": '# YOUR CODE HERE\nraise NotImplementedError("Replace this line with your implementation.")',
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Per-cell limit while validating or grading; grading runs the notebook in its small-data mode.
c.Execute.timeout = 120

# Student-written markdown is shown to graders in the formgrader and in feedback: render it without raw HTML.
c.HTMLExporter.sanitize_html = True
