"""Rendering and writing the source folder: determinism, stale files, local artefacts."""
import json
from pathlib import Path

from notebook_builder.build import existing_files, notebook_bytes, render_source, write_tree

from builder_fixtures import FAKE_ITEMS, FAKE_MANUAL

REPO = Path(__file__).resolve().parents[2]


def test_real_build_is_byte_identical_on_rerun():
    first = render_source(REPO)
    second = render_source(REPO)
    assert first == second
    assert "ConvolutionalNetworks.ipynb" in first and "convkit/__init__.py" in first


def test_notebook_json_is_sorted_and_ends_with_one_newline():
    payload = render_source(REPO)["ConvolutionalNetworks.ipynb"]
    assert payload.endswith(b"}\n") and not payload.endswith(b"\n\n")
    notebook = json.loads(payload)
    assert payload.decode() == json.dumps(notebook, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    assert notebook["nbformat"] == 4 and notebook["nbformat_minor"] == 5
    ids = [cell["id"] for cell in notebook["cells"]]
    assert len(ids) == len(set(ids)), "cell ids must be unique"


def test_fake_items_can_replace_the_spec(fake_repo):
    # Rendering the whole folder needs the shipped modules, so only the notebook part is checked here.
    from notebook_builder.assemble import assemble
    from notebook_builder.template import read_template
    template = fake_repo / "templates" / "convnets" / "ConvolutionalNetworks.py"
    assert notebook_bytes(assemble(read_template(template), template, fake_repo, FAKE_ITEMS, FAKE_MANUAL)) == \
        notebook_bytes(assemble(read_template(template), template, fake_repo, FAKE_ITEMS, FAKE_MANUAL))


def test_write_tree_writes_removes_stale_and_keeps_artefacts(tmp_path):
    folder = tmp_path / "out"
    assert write_tree({"a.txt": b"1", "pkg/b.py": b"2"}, folder) == ["a.txt", "pkg/b.py"]
    (folder / "pkg" / "b.cpython-311-x86_64-linux-gnu.so").write_bytes(b"binary")
    (folder / "pkg" / "__pycache__").mkdir()
    (folder / "pkg" / "__pycache__" / "b.pyc").write_bytes(b"cache")
    (folder / "old.txt").write_bytes(b"stale")
    assert write_tree({"a.txt": b"1", "pkg/b.py": b"3"}, folder) == ["old.txt", "pkg/b.py"]
    assert not (folder / "old.txt").exists() and (folder / "pkg" / "b.py").read_bytes() == b"3"
    assert (folder / "pkg" / "b.cpython-311-x86_64-linux-gnu.so").exists(), "compiled extensions are kept"
    assert existing_files(folder) == {"a.txt": b"1", "pkg/b.py": b"3"}
    mtime = (folder / "a.txt").stat().st_mtime_ns
    assert write_tree({"a.txt": b"1", "pkg/b.py": b"3"}, folder) == []
    assert (folder / "a.txt").stat().st_mtime_ns == mtime, "unchanged files are not rewritten"
