"""A Gradescope autograder for one assignment: `build` makes autograder.zip, `run` grades inside Gradescope."""
