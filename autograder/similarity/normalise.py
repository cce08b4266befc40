"""The normalised token form of notebook code, and the removal of the code the release gives.

Normalised with Python's own tokenizer, so that renaming, new literals, comments and layout change nothing:

- a name the student chooses (variable, parameter, function, class) becomes ``V``; keywords, builtins,
  functions, classes and modules the release notebook defines or imports (``np``, the provided layers) and attribute
  names after a dot (``.shape``, ``.reshape``) keep their text, because they are the API everyone must use;
- every number becomes ``N`` and every string ``S``; a statement that is only a string (a docstring) is
  dropped, and so are comments, blank lines and the exact layout;
- statement ends and indentation changes become tokens of their own (layout-independent: logical lines).

Every token keeps the character span it came from, so that matches can be shown in the original text.
"""
from __future__ import annotations

import ast
import builtins
import difflib
import io
import keyword
import tokenize
from dataclasses import dataclass

# Cell magics whose body is Python (the grader's own list); any other cell magic's body is not compared.
from ..intake.magics import PYTHON_BODY_CELL_MAGICS

_SKIPPED = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}
_STATEMENT_END = {"NEWLINE": "<end>", "INDENT": "<indent>", "DEDENT": "<dedent>"}
_FSTRING_START = getattr(tokenize, "FSTRING_START", None)  # Python >= 3.12 splits f-strings into parts
_FSTRING_END = getattr(tokenize, "FSTRING_END", None)


@dataclass(frozen=True)
class Token:
    """One normalised token: ``symbol`` (``V``, ``N``, ``S``, a keyword, an operator...), and the span
    ``source[start:end]`` of the original cell text it stands for."""

    symbol: str
    start: int
    end: int


def python_source(source: str) -> str | None:
    """Notebook code as plain Python of the same length: IPython ``%magic`` and ``!shell`` lines blanked.

    Returns None when the whole cell is not Python (``%%bash``, ``%%writefile`` and the like). Blanking
    keeps every character offset the same as in the cell, so spans point into the original text.
    """
    lines = source.splitlines(keepends=True)
    if lines and lines[0].lstrip().startswith("%%"):
        words = lines[0].lstrip()[2:].split()
        if not words or words[0] not in PYTHON_BODY_CELL_MAGICS:
            return None
    cleaned = []
    for line in lines:
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            body = line.rstrip("\r\n")
            cleaned.append(" " * len(body) + line[len(body):])
        else:
            cleaned.append(line)
    return "".join(cleaned)


def provided_names(release_sources: list[str]) -> frozenset[str]:
    """Builtins and the names the release's code cells import or define (functions, classes) at top level:
    the API every student uses as given, so these keep their text in the normalised form. Variables the
    release assigns (``x``, ``rows``) are left out: students reuse such everyday names for their own."""
    names = set(dir(builtins))
    for source in release_sources:
        code = python_source(source)
        try:
            tree = ast.parse(code or "")
        except SyntaxError:
            continue  # a provided cell that is not Python on its own binds nothing we can rely on
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return frozenset(names)


def _offsets(source: str) -> list[int]:
    """Character offset of the start of every line (1-based line numbers index it from 1)."""
    starts = [0, 0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return starts


def normalise(source: str, names: frozenset[str]) -> tuple[list[Token], str | None]:
    """The normalised tokens of one cell's code.

    Parameters
    ----------
    source : str
        The cell's code as in the notebook.
    names : frozenset of str
        Names that keep their text (see ``provided_names``).

    Returns
    -------
    tokens : list of Token
        In source order, docstrings, comments and layout removed.
    problem : str or None
        Why tokenizing stopped early (a syntax error the tokenizer cannot pass); the tokens before the
        problem are still returned and compared.
    """
    code = python_source(source)
    if code is None:
        return [], None
    starts = _offsets(code)
    raw: list[tuple[int, str, int, int]] = []  # (token type, text, start, end)
    problem = None
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type in _SKIPPED:
                continue
            start = starts[tok.start[0]] + tok.start[1] if tok.start[0] < len(starts) else len(code)
            end = starts[tok.end[0]] + tok.end[1] if tok.end[0] < len(starts) else len(code)
            raw.append((tok.type, tok.string, start, end))
    except (tokenize.TokenError, IndentationError, SyntaxError) as error:
        line = getattr(error, "lineno", None) or (error.args[1][0] if len(error.args) > 1 else "?")
        problem = f"the code could not be tokenized past line {line} ({error.args[0]}); the part before was compared"
    return _symbols(_drop_docstrings(_merge_fstrings(raw)), names), problem


def _merge_fstrings(raw):
    """Python >= 3.12 tokenizes an f-string as parts; make each f-string one STRING token again."""
    if _FSTRING_START is None:
        return raw
    merged, depth, begin = [], 0, None
    for item in raw:
        if item[0] == _FSTRING_START:
            depth += 1
            begin = item if depth == 1 else begin
        elif item[0] == _FSTRING_END:
            depth -= 1
            if depth == 0:
                merged.append((tokenize.STRING, "f-string", begin[2], item[3]))
        elif depth == 0:
            merged.append(item)
    return merged


def _drop_docstrings(raw):
    """Remove statements made of strings only (docstrings, and stray string statements), with their end."""
    kept, line = [], []
    for item in raw:
        line.append(item)
        if item[0] in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            if not all(t[0] in (tokenize.STRING, tokenize.NEWLINE) for t in line) or len(line) == 1:
                kept.extend(line)
            line = []
    if line and not all(t[0] == tokenize.STRING for t in line):
        kept.extend(line)
    return kept


def _symbols(raw, names: frozenset[str]) -> list[Token]:
    tokens: list[Token] = []
    previous = None
    for kind, text, start, end in raw:
        name = tokenize.tok_name[kind]
        if name in _STATEMENT_END:
            symbol = _STATEMENT_END[name]
        elif kind == tokenize.NAME:
            after_dot = previous == "."
            symbol = text if keyword.iskeyword(text) or text in names or after_dot else "V"
        elif kind == tokenize.NUMBER:
            symbol = "N"
        elif kind == tokenize.STRING:
            symbol = "S"
        else:
            symbol = text
        tokens.append(Token(symbol, start, end))
        previous = text
    return tokens


def _lines(tokens: list[Token]) -> list[tuple[int, int]]:
    """(first, end) token indexes of every logical line (a statement with its end and indentation tokens)."""
    lines, first = [], 0
    for index, token in enumerate(tokens):
        if token.symbol == "<end>":
            lines.append((first, index + 1))
            first = index + 1
    if first < len(tokens):
        lines.append((first, len(tokens)))
    return lines


def subtract_release(tokens: list[Token], release: list[Token], min_block: int) -> list[list[Token]]:
    """The student's tokens minus the release's code for the same cell.

    Statements that occur in the release's cell, in the same order (the stub, its checks, the given return
    statement), are removed when a run of them holds at least ``min_block`` tokens; what remains comes back
    as the runs of the student's own code, in order. Statements are compared in their normalised form, so
    given code that the student kept, reformatted or renamed is removed alike.
    """
    if not release:
        return [tokens] if tokens else []
    mine, given_lines = _lines(tokens), _lines(release)
    key = lambda span, toks: tuple(t.symbol for t in toks[span[0]:span[1]])  # noqa: E731
    matcher = difflib.SequenceMatcher(None, [key(span, release) for span in given_lines],
                                      [key(span, tokens) for span in mine], autojunk=False)
    given = [False] * len(tokens)
    for block in matcher.get_matching_blocks():
        first, end = mine[block.b][0] if block.size else 0, mine[block.b + block.size - 1][1] if block.size else 0
        if end - first >= min_block:
            given[first:end] = [True] * (end - first)
    runs, current = [], []
    for token, is_given in zip(tokens, given):
        if is_given:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(token)
    if current:
        runs.append(current)
    return runs
