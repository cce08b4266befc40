"""What a student who copies does to hide it: rename, reword comments, reformat, reorder helpers.

Used to make copied submissions for the tests and varied classes for the benchmark. Everything is driven by
a ``random.Random`` so that a seed gives the same class every time.
"""
from __future__ import annotations

import ast
import io
import random
import tokenize

from autograder.similarity.normalise import python_source

WORDS = ("total", "acc", "tmp", "val", "grid", "part", "item", "buf", "res", "cur", "arr", "piece", "blk",
         "step", "row", "col", "idx", "pos", "data", "mat", "vec", "prod", "scale", "frame", "slab")
COMMENTS = ("# loop over positions", "# compute it", "# the main part", "# see the lecture notes",
            "# shapes line up here", "# careful with the indices", "# as in the forward pass")


def bound_names(source: str) -> set[str]:
    """Names the code binds itself: assigned variables, parameters, functions and classes it defines."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names


def renaming(sources: list[str], keep: frozenset[str], rng: random.Random) -> dict[str, str]:
    """A new name for every name the sources bind, except those in ``keep`` (the API the tests call)."""
    names = sorted(set().union(*(bound_names(s) for s in sources)) - keep)
    return {name: f"{rng.choice(WORDS)}_{rng.randrange(10**6)}" for name in names}


def rewrite(source: str, names: dict[str, str], rng: random.Random, comment_rate: float = 0.5) -> str:
    """Rename, drop or reword comments, and lay the code out afresh (tokenize's own spacing)."""
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.NAME and tok.string in names and not (out and out[-1][1] == "."):
            out.append((tok.type, names[tok.string]))
        elif tok.type == tokenize.COMMENT:
            if rng.random() < comment_rate:
                out.append((tok.type, rng.choice(COMMENTS)))
        else:
            out.append((tok.type, tok.string))
    return tokenize.untokenize(out)


def reorder_top_level(source: str, rng: random.Random) -> str:
    """The same top-level statements in another order (helper definitions: order does not matter).
    IPython magic lines move with the statement above them."""
    tree = ast.parse(python_source(source))  # same lines as the source, magics blanked
    lines = source.splitlines(keepends=True)
    starts = [node.lineno - 1 - len(getattr(node, "decorator_list", [])) for node in tree.body]
    if not starts:
        return source
    starts[0] = 0
    blocks = ["".join(lines[start:end]) for start, end in zip(starts, starts[1:] + [len(lines)])]
    shuffled = blocks[:]
    while len(blocks) > 1 and shuffled == blocks:
        rng.shuffle(shuffled)
    return "\n\n".join(block.rstrip("\n") for block in shuffled) + "\n"
