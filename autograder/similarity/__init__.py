"""A similarity report for the instructor: which pairs of submissions share unusually much solution code.

    python -m autograder.similarity --assignment convnets [--course DIR] [--threshold 0.5]

The report is for a person to read. A high score says two notebooks contain long runs of code with the same
structure once names, literals, comments and layout are ignored; it is never a grade and never proof of
copying. Modules: `notebooks` (reading the release and the submissions), `normalise` (the normalised token
form and the subtraction of release-given code), `compare` (fingerprints with copydetect and the pairwise
comparison), `report` (HTML and CSV).
"""
