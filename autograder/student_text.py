"""Text that student code controls, cut to one short line before it reaches a hidden case's feedback.

A hidden case's inputs are the student's own (``secret.hidden_seed``) and are not shown; code that raises
``ValueError(repr(x))`` or returns an object whose type name or dict keys spell out its inputs would otherwise copy
them into ``feedback.html``. So an exception message, a cell's error, or what a worker says about a returned value
(its type, an error, its keys) appears in a hidden case's feedback only as one printable line of at most
``GradingSettings.student_text_chars`` characters, and a returned dict's keys only as a few such names.
"""
from __future__ import annotations

import dataclasses

from .checks import Output

MAX_KEYS = 12       # of a returned dict's keys, how many a hidden case's feedback may name
KEY_CHARS = 40      # and how long each may be
ELLIPSIS = "..."


def bounded_line(text: object, limit: int) -> str:
    """The last non-blank line of ``text`` (an exception's own line in a traceback), its non-printable
    characters replaced by "?", cut to ``limit`` characters (ending in "...") if longer."""
    lines = [line for line in str(text).splitlines() if line.strip()]
    line = "".join(c if c.isprintable() else "?" for c in (lines[-1].strip() if lines else ""))
    if len(line) <= limit:
        return line
    return line[:max(0, limit - len(ELLIPSIS))] + ELLIPSIS


def bounded_outputs(outputs: dict[str, Output], limit: int) -> dict[str, Output]:
    """Copies of ``outputs`` whose worker-written metadata strings are bounded lines, and whose ``keys`` are at
    most ``MAX_KEYS`` names of at most ``KEY_CHARS`` characters each (the arrays themselves are unchanged)."""
    bounded = {}
    for name, found in outputs.items():
        if not isinstance(found, Output):
            bounded[name] = found
            continue
        meta = {}
        for key, value in found.meta.items():
            if isinstance(value, str):
                meta[key] = bounded_line(value, limit)
            elif key == "keys" and isinstance(value, list):
                meta[key] = [bounded_line(k, min(limit, KEY_CHARS)) for k in value[:MAX_KEYS]] + (
                    [ELLIPSIS] if len(value) > MAX_KEYS else [])
            else:
                meta[key] = value
        bounded[name] = dataclasses.replace(found, meta=meta)
    return bounded
