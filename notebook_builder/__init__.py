"""Turns the notebook template and the reference implementation into nbgrader source notebooks.

`python -m notebook_builder source` writes ``source/convnets/`` (the instructor notebook plus the support package
students receive); `python -m notebook_builder release` runs ``nbgrader generate_assignment`` on it and zips the
student folder. Every step is deterministic: the same inputs give byte-identical files.
"""
from .errors import BuildError

__all__ = ["BuildError"]
