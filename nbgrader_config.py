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
# byte code, checkpoints, and what each assignment's record lists as release-only exclusions (for convnets:
# the model its experiment section saved while the instructor tried it, and the data set).
import assignments  # noqa: E402 -- the course's assignment records (installed with the kit)

c.CourseDirectory.ignore = [
    ".ipynb_checkpoints", "__pycache__", "*.pyc", "feedback",
    "*.so", "*.pyd", "*.c", "build", "*.egg-info", "*.checkpoint*",
    *sorted({pattern for record in assignments.ASSIGNMENTS.values() for pattern in record.release_exclusions}),
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

# --- Autograder (`make grade`): any field of autograder.settings.GradingSettings can be set here ---
# Relative paths are taken from this directory. Examples:
#   c.GradingSettings.reveal_hidden = True          # show hidden cases' data in feedback (default: names only)
#   c.GradingSettings.test_seconds = 10.0           # wall-clock limit per test case
#   c.GradingSettings.memory_mb = 4096              # address-space limit per worker process
#   c.GradingSettings.hidden_seed = 20261121        # seed of the hidden cases' random inputs
# The experiment is scored on the validation split of real CIFAR-10 when it is here (python -m
# reference_impl.download); without it, the experiment scores 0 with a message saying so.
if (Path(__file__).resolve().parent / "datasets" / "cifar-10-batches-py").is_dir():
    c.GradingSettings.heldout_dir = "datasets/cifar-10-batches-py"
