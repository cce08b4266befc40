"""Grades the submissions of every assignment of the course (``assignments``), outside the students' own
processes; how it works and why it can be trusted: docs/GRADING.md."""
