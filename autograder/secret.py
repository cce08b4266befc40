"""The instructor's grader secret, and the per-student seed of the hidden cases' inputs derived from it.

Every student's hidden inputs are drawn from ``HMAC-SHA256(secret, assignment, student id)``: the same student
gets the same inputs at every regrade, two students never share them, and without the secret neither a memorised
table nor another student's feedback tells anyone which inputs they will get.

The secret is 32 random bytes, written once as 64 hex digits to ``GradingSettings.secret_file`` (default
``<course>/.grader_secret``) with mode 0600. It lives outside ``source/`` and ``release/``; nbgrader's ignore
lists, ``.gitignore`` and the Gradescope build keep it out of every release, commit and zip (the Gradescope
autograder carries only a key derived from it for that one assignment, ``derived_secret``). It never reaches a
worker: the parent draws the inputs and writes them as arrays.

Losing it changes every student's hidden inputs at the next regrade; keep a copy with the course's private files.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import stat
import tempfile
from pathlib import Path

from assignments import GRADER_SECRET_FILE as SECRET_FILE
SECRET_BYTES = 32
MODE = 0o600
_HEADER = ("# The grader secret of this course: every student's hidden test inputs derive from it. Keep it private "
           "(mode 0600), never commit or release it; a new one changes everyone's hidden inputs.\n")


class SecretError(ValueError):
    """The grader secret is missing, unreadable, garbled or readable by others (the message says what to do)."""


def create_secret(path: Path) -> bool:
    """Write a new random secret to ``path`` (mode 0600) unless a file is already there; True if written."""
    return write_secret(path, os.urandom(SECRET_BYTES))


def write_secret(path: Path, secret: bytes) -> bool:
    """Write ``secret`` to ``path`` (mode 0600) unless a file is already there; True if written.

    The file appears complete or not at all (written beside it, then hard-linked into place, which never
    replaces an existing file), so graders starting at once agree on one secret.
    """
    path = Path(path)
    text = secret_text(secret)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, partial = tempfile.mkstemp(prefix=".grader_secret-", dir=path.parent)
    try:
        os.fchmod(descriptor, MODE)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(partial, path)
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(partial)


def secret_text(secret: bytes) -> str:
    """The file contents that ``read_secret`` reads back as ``secret``."""
    if not isinstance(secret, bytes) or len(secret) != SECRET_BYTES:
        raise ValueError(f"a grader secret is {SECRET_BYTES} bytes; got {secret!r:.20}")
    return _HEADER + secret.hex() + "\n"


def read_secret(path: Path) -> bytes:
    """The secret stored in ``path``.

    Raises
    ------
    SecretError
        The file is missing, is not a regular file, is readable or writable by group or others, or does not
        hold exactly one line of 64 hex digits (besides ``#`` comments).
    """
    path = Path(path)
    where = f"the grader secret {path}"
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise SecretError(f"{where} does not exist. `make grade` creates it on first use at the course root; if "
                          "the course already has one (earlier grades were drawn from it), copy it there, since a new "
                          "one gives every student new hidden inputs") from None
    if not stat.S_ISREG(info.st_mode):
        raise SecretError(f"{where} is not a regular file (a link or a folder?): put the secret itself there")
    if info.st_mode & 0o077:
        raise SecretError(f"{where} can be read or written by others (mode {stat.S_IMODE(info.st_mode):04o}): "
                          f"run `chmod 600 {path}`")
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise SecretError(f"{where} cannot be read ({type(error).__name__}: {error})") from None
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    digits = 2 * SECRET_BYTES
    if len(lines) != 1 or len(lines[0]) != digits or any(c not in "0123456789abcdefABCDEF" for c in lines[0]):
        raise SecretError(f"{where} is garbled: it must hold one line of {digits} hex digits. Restore it from your "
                          "copy; deleting it makes `make grade` create a new one, which gives every student new hidden "
                          "inputs")
    return bytes.fromhex(lines[0])


def load_or_create_secret(path: Path) -> bytes:
    """The secret in ``path``, created first (``create_secret``) if there is no file at all; SecretError as
    ``read_secret`` for anything else wrong with it."""
    path = Path(path)
    if not os.path.lexists(path):
        create_secret(path)
    return read_secret(path)


def hidden_seed(secret: bytes, assignment: str, student: str) -> int:
    """The seed of one student's hidden inputs of one assignment: a 128-bit integer from HMAC-SHA256."""
    message = b"hidden-inputs\0" + assignment.encode() + b"\0" + student.encode()
    return int.from_bytes(hmac.new(secret, message, hashlib.sha256).digest()[:16], "big")


def derived_secret(secret: bytes, purpose: str) -> bytes:
    """A secret for one purpose (e.g. one assignment's Gradescope autograder) that does not reveal ``secret``."""
    return hmac.new(secret, b"derived\0" + purpose.encode(), hashlib.sha256).digest()


def fingerprint(secret: bytes) -> str:
    """A short name of the secret for the instructor's log (which secret graded this), revealing nothing."""
    return hashlib.sha256(b"fingerprint\0" + secret).hexdigest()[:12]
