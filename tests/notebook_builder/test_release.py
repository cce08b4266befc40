"""The release zip: deterministic, one top folder, no local build products."""
import zipfile

from notebook_builder.release import zip_folder


def test_zip_is_deterministic_and_skips_artefacts(tmp_path):
    folder = tmp_path / "convnets"
    (folder / "convkit" / "__pycache__").mkdir(parents=True)
    (folder / "a.ipynb").write_text("{}")
    (folder / "convkit" / "m.py").write_text("x = 1\n")
    (folder / "convkit" / "m.cpython-311-x86_64-linux-gnu.so").write_bytes(b"\0")
    (folder / "convkit" / "__pycache__" / "m.pyc").write_bytes(b"\0")
    first = zip_folder(folder, tmp_path / "one.zip").read_bytes()
    (folder / "a.ipynb").touch()  # a newer mtime must not change the archive
    second = zip_folder(folder, tmp_path / "two.zip").read_bytes()
    assert first == second
    with zipfile.ZipFile(tmp_path / "one.zip") as archive:
        assert archive.namelist() == ["convnets/a.ipynb", "convnets/convkit/m.py"]
        assert archive.read("convnets/convkit/m.py") == b"x = 1\n"
