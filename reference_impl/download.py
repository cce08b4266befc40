"""Download, verify and unpack CIFAR-10 (python version) into ``<dest>/cifar-10-batches-py``.

Command line: ``python -m reference_impl.download [--dest DIR]`` (default ``datasets``, the folder the
data loader looks in). Running it again once the data is in place does nothing. Nothing half-written is
ever left under a final name: the archive is downloaded to a temporary file and renamed only after its
MD5 checksum matches, and the folder is extracted into a temporary directory and renamed when complete.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from .data import FOLDER, TEST_BATCH, TRAIN_BATCHES, load_CIFAR_batch

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
ARCHIVE_NAME = "cifar-10-python.tar.gz"
_CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """The archive could not be fetched, or it was not the expected file."""


def _is_complete(folder):
    """True when every batch file is present and loads with the right shapes."""
    try:
        for name in (*TRAIN_BATCHES, TEST_BATCH):
            load_CIFAR_batch(folder / name)
    except (OSError, ValueError):
        return False
    return True


def _md5(path):
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fetch(url, target, expected_md5, opener):
    """Stream ``url`` into ``target`` through a temporary file, checking the MD5 before the rename."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        digest = hashlib.md5()
        with os.fdopen(fd, "wb") as out, opener(url) as response:
            total = int(response.headers.get("Content-Length", 0) or 0) if hasattr(response, "headers") else 0
            with tqdm(total=total or None, unit="B", unit_scale=True, desc=target.name, file=sys.stdout,
                      disable=total < _CHUNK) as bar:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
        if digest.hexdigest() != expected_md5:
            raise DownloadError(f"checksum mismatch for {url}: expected MD5 {expected_md5}, got "
                                f"{digest.hexdigest()}. The download is corrupt or not the CIFAR-10 archive; "
                                "nothing was kept. Try again.")
        os.replace(tmp, target)
    except (urllib.error.URLError, OSError) as exc:
        raise DownloadError(f"could not download {url}: {getattr(exc, 'reason', exc)}.\n"
                            f"Without network access, fetch that file elsewhere and put it at {target}, "
                            "then run this command again (it checks and unpacks a file already there).") from exc
    finally:
        Path(tmp).unlink(missing_ok=True)


def _unpack_members(archive, staging):
    """Extract the archive into ``staging``, refusing anything outside ``cifar-10-batches-py/``."""
    with tarfile.open(archive, "r:gz") as tar:
        members = tar.getmembers()
        for member in members:
            if Path(member.name).parts[:1] != (FOLDER,) or ".." in Path(member.name).parts:
                raise DownloadError(f"{archive}: unexpected member {member.name!r} (only {FOLDER}/... "
                                    "is allowed); refusing to extract")
        if hasattr(tarfile, "data_filter"):
            # The "data" filter also rejects absolute paths, links out of the tree and device files.
            tar.extractall(staging, members=members, filter="data")
        else:  # Python before 3.10.12 / 3.11.4 has no filters: allow plain files and folders only
            unusual = [m.name for m in members if not (m.isfile() or m.isdir())]
            if unusual:
                raise DownloadError(f"{archive}: links or special files {unusual[:3]}; refusing to extract")
            tar.extractall(staging, members=members)


def _extract(archive, dest):
    """Unpack ``cifar-10-batches-py/`` into ``dest`` through a staging folder renamed only when complete."""
    staging = Path(tempfile.mkdtemp(dir=dest, prefix=".extract-"))
    try:
        try:
            _unpack_members(archive, staging)
        except tarfile.TarError as exc:  # corrupt archive, or a member the "data" filter refused
            raise DownloadError(f"{archive}: corrupt or unsafe archive ({exc}); refusing to extract") from exc
        if not _is_complete(staging / FOLDER):
            raise DownloadError(f"{archive} does not contain all CIFAR-10 batch files")
        final = dest / FOLDER
        if final.exists():  # an incomplete earlier copy: a rename cannot replace a non-empty folder
            shutil.rmtree(final)
        os.replace(staging / FOLDER, final)
        return final
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def download_cifar10(dest="datasets", url=CIFAR10_URL, md5=CIFAR10_MD5, opener=None, keep_archive=False):
    """Make sure ``<dest>/cifar-10-batches-py`` holds a complete, valid CIFAR-10.

    Parameters
    ----------
    dest : str or path-like
        Parent folder (created if needed).
    url : str
        Where the archive comes from (``file://`` URLs work too).
    md5 : str
        Expected hex MD5 of the archive.
    opener : callable or None
        ``opener(url)`` returns a context manager with ``read(n)``; None means ``urllib.request.urlopen``.
    keep_archive : bool
        Keep ``<dest>/cifar-10-python.tar.gz`` after unpacking (it is deleted by default, ~163 MB).

    Returns
    -------
    pathlib.Path
        The ``cifar-10-batches-py`` folder.

    Raises
    ------
    DownloadError
        Network failure, checksum mismatch or an archive with unexpected contents. Nothing partial is left.
    """
    dest = Path(dest)
    folder = dest / FOLDER
    if _is_complete(folder):
        return folder
    dest.mkdir(parents=True, exist_ok=True)
    archive = dest / ARCHIVE_NAME
    if not (archive.is_file() and _md5(archive) == md5):
        _fetch(url, archive, md5, opener or urllib.request.urlopen)
    try:
        return _extract(archive, dest)
    finally:
        if not keep_archive:
            archive.unlink(missing_ok=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Download and unpack CIFAR-10 (python version).")
    parser.add_argument("positional_dest", nargs="?", metavar="DEST", help="same as --dest")
    parser.add_argument("--dest", default=None, help="parent folder for cifar-10-batches-py (default: datasets)")
    parser.add_argument("--keep-archive", action="store_true", help="keep the downloaded .tar.gz")
    args = parser.parse_args(argv)
    dest = args.dest or args.positional_dest or "datasets"
    try:
        folder = download_cifar10(dest, keep_archive=args.keep_archive)
    except DownloadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"CIFAR-10 is ready in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
