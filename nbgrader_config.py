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
# Local build and run products are never copied by any nbgrader step (release, fetch, submit, collect,
# autograde): compiled extensions and their C files, build folders, byte code, checkpoints, data sets.
import assignments  # noqa: E402 -- the course's assignment records (installed with the kit)

course_ignore = [
    ".ipynb_checkpoints", "__pycache__", "*.pyc", "feedback",
    "*.so", "*.pyd", "*.c", "build", "*.egg-info",
    "*.checkpoint*", "datasets",
    assignments.GRADER_SECRET_FILE,  # the grader secret (below) is never released, fetched or collected
]
c.CourseDirectory.ignore = course_ignore
# Files a student SUBMITS beside the notebook (each assignment record's `submission_files`) and the record's
# release-only exclusions. The instructor's own copy, left in source/ by trying the notebook, must stay out of
# the release, but the students' copies must travel through submit, collect and autograde: so they are excluded
# from the two release commands only (traitlets applies `c.<App>.CourseDirectory` to the course directory of
# that command alone), and autograde never replaces them with the instructor's copy from source/.
submitted_files = {record.name: list(record.submission_files[1:]) for record in assignments.ASSIGNMENTS.values()}
release_only_ignore = sorted({pattern for record in assignments.ASSIGNMENTS.values()
                              for pattern in record.release_exclusions} - set(course_ignore))
c.GenerateAssignmentApp.CourseDirectory.ignore = course_ignore + release_only_ignore
c.ReleaseAssignmentApp.CourseDirectory.ignore = course_ignore + release_only_ignore
c.Autograde.exclude_overwriting = submitted_files
# One grader: `nbgrader autograde` (and the formgrader's autograde button) grades with the kit, as `make grade`
# does, instead of running the notebook's test cells all or nothing (autograder/nbgrader_hooks.py).
from autograder.nbgrader_hooks import autograde_preprocessors  # noqa: E402

c.Autograde.autograde_preprocessors = autograde_preprocessors()
c.GenerateAssignment.create_assignment = True
# The source notebook's first cell tells instructors it is generated; the student's copy leaves it out.
from notebook_builder.release import release_preprocessors  # noqa: E402

c.GenerateAssignment.preprocessors = release_preprocessors()

# What a student sees in place of a solution region, and of a hand-graded written answer.
c.ClearSolutions.code_stub = {
    "python": '# YOUR CODE HERE\nraise NotImplementedError("Replace this line with your implementation.")',
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Per-cell limit while validating or grading; grading runs the notebook in its small-data mode.
c.Execute.timeout = 120

# Student-written markdown is shown to graders in the formgrader and in feedback: render it without raw HTML.
c.HTMLExporter.sanitize_html = True

# --- Autograder (`make grade`): any field of autograder.settings.GradingSettings can be set here ---
# Relative paths are taken from this directory. Examples:
#   c.GradingSettings.reveal_hidden = True          # show hidden cases' data in feedback (default: names only)
#   c.GradingSettings.test_seconds = 10.0           # wall-clock limit per test case
#   c.GradingSettings.memory_mb = 4096              # address-space limit per worker process
# Hidden test inputs differ per student: drawn from HMAC-SHA256(grader secret, student id), the same at every
# regrade. The secret is created on first use (mode 0600) at the course root, never released or committed
# (.gitignore); keep a private copy: a new one changes every student's hidden inputs.
c.GradingSettings.secret_file = assignments.GRADER_SECRET_FILE
# The experiment is scored on the validation split of real CIFAR-10 when it is here (python -m
# reference_impl.download); without it, the experiment scores 0 with a message saying so.
if (Path(__file__).resolve().parent / "datasets" / "cifar-10-batches-py").is_dir():
    c.GradingSettings.heldout_dir = "datasets/cifar-10-batches-py"
