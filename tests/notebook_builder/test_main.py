"""The command line: `python -m notebook_builder source` reports build errors as file:line and exit code 1."""
import shutil
from pathlib import Path

from notebook_builder.__main__ import main

REPO = Path(__file__).resolve().parents[2]


def copy_repo(dest):
    for name in ("reference_impl", "templates", "autograder"):
        shutil.copytree(REPO / name, dest / name, ignore=shutil.ignore_patterns("*.so", "*.c", "__pycache__"))
    shutil.copy(REPO / "pyproject.toml", dest)


def test_source_builds_then_reports_up_to_date(tmp_path, capsys):
    copy_repo(tmp_path)
    assert main(["source", "--root", str(tmp_path)]) == 0
    assert "ConvolutionalNetworks.ipynb" in capsys.readouterr().out
    assert main(["source", "--root", str(tmp_path)]) == 0
    assert "already up to date" in capsys.readouterr().out


def test_build_error_is_one_line_with_file_and_line(tmp_path, capsys):
    copy_repo(tmp_path)
    template = tmp_path / "templates" / "convnets" / "ConvolutionalNetworks.py"
    lines = template.read_text().splitlines()
    target = next(i for i, line in enumerate(lines) if line.startswith('# %% solution="reference_impl.conv_naive'))
    lines[target] = '# %% solution="reference_impl.conv_naive.conv_forward_fancy"'
    template.write_text("\n".join(lines) + "\n")
    assert main(["source", "--root", str(tmp_path)]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"error: {template}:{target + 1}: ")
    assert "conv_forward_fancy" in error
    assert not (tmp_path / "source").exists(), "a failed build writes nothing"
