"""Grades student submissions of the convolutional-networks assignment, outside the students' processes."""
