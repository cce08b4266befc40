"""Fingerprint every submission's own code with copydetect and compare every pair.

Each submission becomes one document: the runs of its own code (solution cells minus the release's code for
the same cell, and the cells the student added), each normalised token one character, the runs separated by
characters that occur nowhere else so that no match can span two runs. copydetect hashes its k-grams
(``CodeFingerprint`` with our normalisation, ``filter=False``). Pair scores intersect those fingerprints as
small integer ids with NumPy, in several processes; copydetect's ``compare_files`` gives the similar regions
of the pairs the report shows side by side (run on every pair of a class of 200 it took minutes: it builds
one NumPy array per shared hash).
The release's own code is removed a second time by fingerprint (copydetect's boilerplate idea), which also
catches release code a student pasted into another cell.

copydetect's own boilerplate removal is not used: in 0.5.0 it calls ``np.intersect1d(...,
assume_unique=True)`` on a hash list that holds repeats, which drops repeated k-grams of the student's code
that the boilerplate never had. The set difference below does what it means to do.
"""
from __future__ import annotations

import io
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
from copydetect import CodeFingerprint, compare_files

from .normalise import Token, normalise, provided_names, subtract_release
from .notebooks import CodeCell, NotebookProblem, ReleaseNotebook, own_cells, read_code_cells
from .settings import SimilaritySettings

_VOCABULARY_BASE = 0x10000  # normalised symbols: one character each, from the first supplementary plane
_SEPARATOR_BASE, _SEPARATORS = 0xF0000, 0x1FFFE  # the two private-use planes: run separators


@dataclass
class Run:
    """A run of a student's own code in one cell: its normalised symbols, and the span of each symbol in
    the cell's source (``starts``, ``ends``: int arrays, one entry per symbol). Compact, because runs travel
    from the worker processes back to the parent."""

    cell: int
    symbols: tuple[str, ...]
    starts: np.ndarray
    ends: np.ndarray

    @classmethod
    def of(cls, cell: int, tokens: list[Token]) -> "Run":
        return cls(cell, tuple(sys.intern(t.symbol) for t in tokens),
                   np.array([t.start for t in tokens], dtype=np.int64), np.array([t.end for t in tokens], dtype=np.int64))

    def __len__(self) -> int:
        return len(self.symbols)


@dataclass
class Prepared:
    """One submission ready to fingerprint: its own cells and the runs of own code in them.

    runs: every run of own code, in notebook order.
    notes: what could not be read in full (shown in the report).
    """

    student: str
    notebook: Path
    cells: list[CodeCell]
    runs: list[Run]
    notes: list[str] = field(default_factory=list)

    @property
    def own_tokens(self) -> int:
        return sum(len(run) for run in self.runs)


@dataclass(frozen=True)
class Region:
    """A similar region of one submission: ``cells[cell].source[start:end]``."""

    cell: int
    start: int
    end: int


@dataclass
class PairResult:
    """The comparison of two submissions.

    fraction_a, fraction_b: share of each one's own (fingerprinted) code that lies in similar regions.
    score: the larger fraction; pairs are ranked by it.
    matched_a, matched_b: normalised tokens in similar regions.
    """

    a: str
    b: str
    fraction_a: float
    fraction_b: float
    matched_a: int
    matched_b: int
    regions_a: list[Region]
    regions_b: list[Region]

    @property
    def score(self) -> float:
        return max(self.fraction_a, self.fraction_b)


@dataclass(frozen=True)
class ReleaseContext:
    """What preparing a submission needs from the release (built once, sent to every worker)."""

    solution_tokens: dict[str, list[Token]]
    release: ReleaseNotebook
    names: frozenset[str]
    min_block: int

    @classmethod
    def build(cls, release: ReleaseNotebook, settings: SimilaritySettings) -> "ReleaseContext":
        names = provided_names(release.all_code())
        tokens = {grade_id: normalise(source, names)[0] for grade_id, source in release.solutions.items()}
        return cls(tokens, release, names, settings.min_release_block)


def prepare(student: str, notebook: Path, context: ReleaseContext) -> Prepared:
    """Read one notebook and find the runs of its own code.

    Raises
    ------
    NotebookProblem
        If the notebook cannot be read at all.
    """
    cells = own_cells(read_code_cells(notebook), context.release)
    prepared = Prepared(student, notebook, cells, [])
    for index, cell in enumerate(cells):
        tokens, problem = normalise(cell.source, context.names)
        if problem:
            prepared.notes.append(f"{notebook}: {cell.label}: {problem}")
        given = context.solution_tokens.get(cell.grade_id, [])
        prepared.runs.extend(Run.of(index, run) for run in subtract_release(tokens, given, context.min_block))
    return prepared


def _prepare_or_problem(item: tuple[str, Path], context: ReleaseContext) -> Prepared | str:
    student, notebook = item
    try:
        return prepare(student, notebook, context)
    except NotebookProblem as error:
        return str(error)
    except Exception as error:  # one broken notebook must never stop the report for the others
        return f"{notebook} could not be read ({type(error).__name__}: {error})"


def prepare_all(items: list[tuple[str, Path]], context: ReleaseContext, jobs: int) -> list[Prepared | str]:
    """``prepare`` for every (student, notebook), in ``jobs`` processes; a problem comes back as a message."""
    work = partial(_prepare_or_problem, context=context)
    if jobs <= 1 or len(items) < 2:
        return [work(item) for item in items]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(work, items, chunksize=max(1, len(items) // (4 * jobs))))


@dataclass(frozen=True)
class _Occurrences:
    """Where a document's fingerprints occur: what the pair scores need, as plain arrays (cheap to send to
    another process). ``ids``: class-wide integer id of each occurrence's hash; ``positions``: its start;
    ``is_token``: per document position, False at run separators."""

    ids: np.ndarray
    unique_ids: np.ndarray
    positions: np.ndarray
    is_token: np.ndarray
    k: int

    def covered(self, chosen: np.ndarray) -> int:
        """Tokens (not separators) inside the k-grams of the chosen fingerprint occurrences."""
        starts = self.positions[chosen]
        length = len(self.is_token)
        size = length + self.k + 1
        depth = np.cumsum(np.bincount(starts, minlength=size) - np.bincount(starts + self.k, minlength=size))
        return int(np.count_nonzero((depth[:length] > 0) & self.is_token))

    def shared_with(self, other: "_Occurrences") -> tuple[int, int]:
        """Tokens of each document inside k-grams that the other document has too."""
        common = np.intersect1d(self.unique_ids, other.unique_ids, assume_unique=True)
        if common.size == 0:
            return 0, 0
        return self.covered(np.isin(self.ids, common)), other.covered(np.isin(other.ids, common))


def _shared_rows(occurrences: list[_Occurrences], rows: list[int]) -> list[tuple[int, int, int, int]]:
    """(i, j, tokens of i shared, tokens of j shared) for every i in rows and j > i that share any."""
    found = []
    for i in rows:
        for j in range(i + 1, len(occurrences)):
            matched_i, matched_j = occurrences[i].shared_with(occurrences[j])
            if matched_i:
                found.append((i, j, matched_i, matched_j))
    return found


class _Document:
    """One submission's fingerprints and where each document position came from."""

    def __init__(self, prepared: Prepared, code: str, run_of: np.ndarray, token_of: np.ndarray,
                 fingerprint: CodeFingerprint, boilerplate: set[int], k: int, hash_ids: dict[int, int]):
        self.prepared, self.length = prepared, len(code)
        self.run_of, self.token_of = run_of, token_of  # -1 at separators
        kept = {int(h) for h in fingerprint.hashes} - boilerplate
        fingerprint.hashes = kept
        fingerprint.hash_idx = {int(h): idx for h, idx in fingerprint.hash_idx.items() if int(h) in kept}
        self.fingerprint = fingerprint
        pairs = [(position, hash_ids.setdefault(h, len(hash_ids)))
                 for h, positions in fingerprint.hash_idx.items() for position in positions]
        ids = np.array([i for _, i in pairs], dtype=np.int64)
        self.occurrences = _Occurrences(ids, np.unique(ids), np.array([p for p, _ in pairs], dtype=np.int64),
                                        run_of >= 0, k)
        self.coverage = self.occurrences.covered(np.ones(len(ids), dtype=bool))

    def regions(self, slices: np.ndarray) -> list[Region]:
        """Similar regions as spans of the original cell text (a slice over a separator is split there)."""
        found = []
        for s, e in zip(slices[0], slices[1]):
            position, e = int(s), min(int(e), self.length)
            while position < e:
                if self.run_of[position] < 0:
                    position += 1
                    continue
                run = self.run_of[position]
                last = position
                while last + 1 < e and self.run_of[last + 1] == run:
                    last += 1
                own = self.prepared.runs[run]
                found.append(Region(own.cell, int(own.starts[self.token_of[position]]),
                                    int(own.ends[self.token_of[last]])))
                position = last + 1
        return found


class Comparison:
    """Fingerprints for a class of prepared submissions (all made in this process, so that the salted string
    hashes agree) and the comparison of every pair."""

    def __init__(self, context: ReleaseContext, settings: SimilaritySettings):
        self.settings = settings
        self._vocabulary: dict[str, str] = {}
        self._hash_ids: dict[int, int] = {}
        self._separators = 0
        release_code = "".join(self._encode([t.symbol for t in normalise(s, context.names)[0]]) + self._separator()
                               for s in context.release.all_code())
        self.boilerplate = {int(h) for h in CodeFingerprint("release", settings.kgram_tokens, 1, filter=False,
                                                            fp=io.StringIO(release_code)).hashes}

    def _encode(self, symbols) -> str:
        for symbol in set(symbols) - self._vocabulary.keys():
            self._vocabulary[symbol] = chr(_VOCABULARY_BASE + len(self._vocabulary))
        return "".join(self._vocabulary[symbol] for symbol in symbols)

    def _separator(self) -> str:
        self._separators += 1
        return chr(_SEPARATOR_BASE + self._separators % _SEPARATORS)

    def document(self, prepared: Prepared) -> _Document:
        """Fingerprint one prepared submission."""
        pieces, run_of, token_of = [], [], []
        for run_index, run in enumerate(prepared.runs):
            pieces.append(self._separator() + self._encode(run.symbols))
            run_of.extend([-1] + [run_index] * len(run))
            token_of.extend([-1] + list(range(len(run))))
        code = "".join(pieces)
        k = self.settings.kgram_tokens
        fingerprint = CodeFingerprint(prepared.student, k, self.settings.window, filter=False, fp=io.StringIO(code))
        return _Document(prepared, code, np.array(run_of, dtype=int), np.array(token_of, dtype=int),
                         fingerprint, self.boilerplate, k, self._hash_ids)

    @staticmethod
    def fill_regions(pair: PairResult, first: _Document, second: _Document) -> None:
        """The similar regions of both sides, from copydetect's comparison of the two fingerprints."""
        _, _, (slices_a, slices_b) = compare_files(first.fingerprint, second.fingerprint)
        if len(slices_a[0]):
            pair.regions_a, pair.regions_b = first.regions(slices_a), second.regions(slices_b)


def _pair(first: _Document, second: _Document, matched_a: int, matched_b: int) -> PairResult:
    return PairResult(first.prepared.student, second.prepared.student,
                      matched_a / first.coverage if first.coverage else 0.0,
                      matched_b / second.coverage if second.coverage else 0.0, matched_a, matched_b, [], [])


def compare_all(prepared: list[Prepared], context: ReleaseContext, settings: SimilaritySettings) -> list[PairResult]:
    """Every pair of submissions that shares at least one fingerprint, most similar first; the pairs the
    report shows side by side (above the threshold, the first ``max_details``) come with their regions.

    Fingerprints are made here, in one process (Python salts string hashes per process); the pair scores,
    which only intersect integer ids, run in ``settings.jobs`` processes.
    """
    comparison = Comparison(context, settings)
    documents = [comparison.document(p) for p in prepared]
    occurrences = [d.occurrences for d in documents]
    jobs = min(settings.jobs, max(1, len(documents) // 20))  # small classes: not worth starting processes
    # Interleaved rows give every task a similar share of the triangle of pairs.
    row_sets = [list(range(start, len(documents), 4 * jobs)) for start in range(4 * jobs)]
    if jobs == 1:
        shared = [found for rows in row_sets for found in _shared_rows(occurrences, rows)]
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            shared = [found for part in pool.map(partial(_shared_rows, occurrences), row_sets) for found in part]
    pairs = [_pair(documents[i], documents[j], matched_i, matched_j) for i, j, matched_i, matched_j in shared]
    pairs.sort(key=lambda r: (-r.score, -(r.matched_a + r.matched_b), r.a, r.b))
    by_student = {d.prepared.student: d for d in documents}
    for pair in pairs[:settings.max_details]:
        if pair.score >= settings.threshold:
            comparison.fill_regions(pair, by_student[pair.a], by_student[pair.b])
    return pairs
