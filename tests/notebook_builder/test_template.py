"""Reading percent-format templates: directives, sources and file lines."""
import pytest

from notebook_builder.errors import BuildError
from notebook_builder.template import read_template

from builder_fixtures import TEMPLATE, line_of, write_repo


def test_cells_directives_and_header_lines(tmp_path):
    path = write_repo(tmp_path)
    cells = read_template(path)
    summary = [(c.cell_type, c.directive, c.value) for c in cells]
    assert summary == [("markdown", None, ""), ("code", "readonly", "setup"),
                       ("code", "solution", "reference_impl.fake.double"), ("code", "test", "double"),
                       ("code", "solution", "reference_impl.fake.Counter"), ("code", "test", "Counter"),
                       ("markdown", "answer", "answer_why"), ("code", "student_code", "experiment"),
                       ("code", "test", "experiment"), ("code", None, "")]
    assert cells[3].line == line_of(TEMPLATE, 'test="double"')
    assert cells[6].source == "Because."
    assert cells[3].locate("### BEGIN HIDDEN TESTS") == line_of(TEMPLATE, "### BEGIN HIDDEN TESTS")


def test_magics_are_uncommented(tmp_path):
    path = write_repo(tmp_path, "# %% readonly=\"setup\"\n# %load_ext autoreload\nimport os\n")
    assert read_template(path)[0].source == "%load_ext autoreload\nimport os"


@pytest.mark.parametrize("text, bad_line, message", [
    ('# %% [markdown]\n# hi\n\n# %% colour="red"\nx = 1\n', 4, "unknown directive 'colour'"),
    ('# %% test="a" readonly="b"\nx = 1\n', 1, "one directive per cell"),
    ('# %% [markdown] test="a"\n# hi\n', 1, "belongs on a code cell"),
    ('# %% [markdown]\n# x\n\n# %% [markdown] answer=""\n# hi\n', 4, "non-empty string"),
    ('import os\n\n# %%\nx = 1\n', 1, "must start with a '# %%'"),
    ('# %% readonly="set up"\nx = 1\n', 1, "not a valid grade id"),
])
def test_directive_errors_name_file_and_line(tmp_path, text, bad_line, message):
    path = write_repo(tmp_path, text)
    with pytest.raises(BuildError, match=message) as caught:
        read_template(path)
    assert caught.value.path == path and caught.value.line == bad_line


def test_the_real_template_is_valid_python_and_parses():
    from pathlib import Path
    template = Path(__file__).resolve().parents[2] / "templates" / "convnets" / "ConvolutionalNetworks.py"
    compile(template.read_text(), str(template), "exec")  # reviewable and lintable as a plain Python file
    cells = read_template(template)
    assert cells[0].cell_type == "markdown" and any(c.directive == "readonly" and c.value == "setup" for c in cells)
