"""Typed settings of the similarity report (one place for every default)."""
from __future__ import annotations

from dataclasses import dataclass



@dataclass(frozen=True)
class SimilaritySettings:
    """How code is compared and what the report shows.

    kgram_tokens: length, in normalised tokens, of the shortest run of code that can count as a match
        (copydetect's noise threshold), about two lines of code. Shorter common runs (``N, C, H, W =
        x.shape`` and a pair of nested loops over the output) are everyday idioms: at 20 tokens the loops
        and reference styles already scored 0.47 against each other, at 25 0.22.
    window: copydetect's winnowing window. 1 keeps every k-gram: the comparison is then exact and the same
        on every run (Python's string hash is salted per process, so winnowing with a larger window would
        select different fingerprints, and give slightly different scores, on each run).
    threshold: pairs whose score (the larger of the two fractions of own code lying in similar regions)
        reaches this are listed in the HTML report; the CSV lists every pair with any similar region.
        0.6 comes from measurements (tests/autograder/similarity/): over the independent correct solutions
        of the fixtures (reference, loops, vectorised, helper cells, helper functions: 10 pairs) the
        highest pair scored 0.39 and the next 0.22; disguised copies of each of the five (renamed,
        re-commented, re-laid-out, helpers reordered) scored 0.92 to 1.00 against their source. 0.6 is the
        midpoint (0.655) rounded down, so that a reader sees too much rather than too little.
    min_release_block: runs of at least this many normalised tokens that appear, in order, in the
        release's version of the same cell are the release's code and are removed before comparing
        (shorter common runs are too likely to be the student's own code that happens to look alike).
    max_details: pairs shown side by side in the HTML (the ranked table lists every pair above threshold).
    jobs: processes reading and normalising notebooks.
    """

    kgram_tokens: int = 25
    window: int = 1
    threshold: float = 0.6
    min_release_block: int = 8
    max_details: int = 100
    jobs: int = 1

    def __post_init__(self):
        if self.kgram_tokens < 2:
            raise ValueError(f"kgram_tokens must be at least 2, got {self.kgram_tokens}")
        if self.window < 1:
            raise ValueError(f"window must be at least 1, got {self.window}")
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must lie between 0 and 1, got {self.threshold}")
        if self.jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {self.jobs}")
