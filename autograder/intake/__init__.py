"""What comes in: the course's folder layout (who submitted what), and reading a submitted notebook safely,
with its tamper checks against the instructor's copy. Nothing here runs submitted code."""
