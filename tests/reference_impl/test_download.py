"""The downloader, fed local archives: checksum, safe extraction, idempotence, clean failure."""
import hashlib
import io
import tarfile
import urllib.error

import pytest

from reference_impl import download
from reference_impl.data import load_CIFAR10
from reference_impl.tiny_cifar import make_tiny_cifar10


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """A .tar.gz laid out like the real one (cifar-10-batches-py/...), holding the tiny set, and its MD5."""
    root = tmp_path_factory.mktemp("archive")
    folder = make_tiny_cifar10(root / "src")
    path = root / "cifar-10-python.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    return path, hashlib.md5(path.read_bytes()).hexdigest()


def _refuse(url):
    raise AssertionError(f"no download expected, got a request for {url}")


def test_good_archive_is_extracted_and_loadable(archive, tmp_path):
    path, md5 = archive
    folder = download.download_cifar10(tmp_path / "data", url=path.as_uri(), md5=md5)
    assert folder == tmp_path / "data" / "cifar-10-batches-py"
    X_train, y_train, X_test, y_test = load_CIFAR10(folder)
    assert X_train.shape == (1500, 32, 32, 3) and X_test.shape == (297, 32, 32, 3)
    # Only the data folder remains: no archive (not kept by default), no temporary files.
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["cifar-10-batches-py"]


def test_second_run_does_nothing(archive, tmp_path):
    path, md5 = archive
    download.download_cifar10(tmp_path, url=path.as_uri(), md5=md5)
    assert download.download_cifar10(tmp_path, opener=_refuse) == tmp_path / "cifar-10-batches-py"


def test_archive_already_present_is_used_without_downloading(archive, tmp_path):
    path, md5 = archive
    (tmp_path / download.ARCHIVE_NAME).write_bytes(path.read_bytes())
    folder = download.download_cifar10(tmp_path, md5=md5, opener=_refuse, keep_archive=True)
    assert (folder / "test_batch").is_file() and (tmp_path / download.ARCHIVE_NAME).is_file()


def test_checksum_mismatch_leaves_nothing(archive, tmp_path):
    path, _ = archive
    with pytest.raises(download.DownloadError, match=f"checksum mismatch.*expected MD5 {download.CIFAR10_MD5}"):
        download.download_cifar10(tmp_path, url=path.as_uri())
    assert list(tmp_path.iterdir()) == []


def test_network_failure_is_explained(tmp_path, capsys, monkeypatch):
    def offline(url):
        raise urllib.error.URLError("Name or service not known")

    with pytest.raises(download.DownloadError, match="could not download https://www.cs.toronto.edu.*Name or"):
        download.download_cifar10(tmp_path, opener=offline)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(download.urllib.request, "urlopen", offline)
    assert download.main(["--dest", str(tmp_path / "d")]) == 1
    err = capsys.readouterr().err
    assert "error: could not download" in err and "cifar-10-python.tar.gz" in err


def test_path_traversal_is_refused(tmp_path):
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        payload = b"owned"
        info = tarfile.TarInfo("cifar-10-batches-py/../../escaped.txt")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    dest = tmp_path / "dest"
    md5 = hashlib.md5(evil.read_bytes()).hexdigest()
    with pytest.raises(download.DownloadError, match="refusing to extract"):
        download.download_cifar10(dest, url=evil.as_uri(), md5=md5)
    assert not (tmp_path / "escaped.txt").exists()
    assert list(dest.iterdir()) == []


def test_archive_without_the_batches_is_refused(tmp_path):
    empty = tmp_path / "empty.tar.gz"
    with tarfile.open(empty, "w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-py/readme.html")
        tar.addfile(info, io.BytesIO(b""))
    md5 = hashlib.md5(empty.read_bytes()).hexdigest()
    with pytest.raises(download.DownloadError, match="does not contain all CIFAR-10 batch files"):
        download.download_cifar10(tmp_path / "dest", url=empty.as_uri(), md5=md5)
    assert list((tmp_path / "dest").iterdir()) == []


@pytest.mark.parametrize("has_filters", [True, False])
def test_links_are_refused_with_and_without_tar_filters(tmp_path, monkeypatch, has_filters):
    if not has_filters:
        monkeypatch.delattr(tarfile, "data_filter")
    evil = tmp_path / "link.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(info)
    md5 = hashlib.md5(evil.read_bytes()).hexdigest()
    with pytest.raises(download.DownloadError, match="refusing to extract"):
        download.download_cifar10(tmp_path / "dest", url=evil.as_uri(), md5=md5)
    assert list((tmp_path / "dest").iterdir()) == []


def test_incomplete_earlier_copy_is_replaced(archive, tmp_path):
    path, md5 = archive
    stale = tmp_path / "cifar-10-batches-py"
    stale.mkdir()
    (stale / "data_batch_1").write_bytes(b"half a file")
    folder = download.download_cifar10(tmp_path, url=path.as_uri(), md5=md5)
    assert not (folder / "data_batch_1").read_bytes().startswith(b"half")
    assert load_CIFAR10(folder)[0].shape == (1500, 32, 32, 3)
