"""Copying definitions out of reference modules by their ast line ranges."""
import pytest

from notebook_builder.errors import BuildError
from notebook_builder.extract import extract_definition

from builder_fixtures import REFERENCE_MODULE, line_of, write_repo

TEMPLATE_LINE = 7  # any line: errors about names are reported at the directive's line


def expected_block(text, first_needle, last_needle):
    """Lines of ``text`` from the one containing first_needle to the one containing last_needle, inclusive."""
    lines = text.splitlines()
    start = line_of(text, first_needle) - 1
    end = line_of(text, last_needle) - 1
    return "\n".join(lines[start:end + 1])


def test_function_and_class_are_copied_verbatim_with_markers(fake_repo):
    template = fake_repo / "t.py"
    double = extract_definition("reference_impl.fake.double", fake_repo, template, TEMPLATE_LINE)
    assert double.source == expected_block(REFERENCE_MODULE, "def double", "return out")
    assert double.first_line == line_of(REFERENCE_MODULE, "def double") and double.solution_regions == 1
    counter = extract_definition("reference_impl.fake.Counter", fake_repo, template, TEMPLATE_LINE)
    assert counter.source == expected_block(REFERENCE_MODULE, "class Counter", "return self.count")
    assert counter.solution_regions == 2


def test_decorators_are_included(tmp_path):
    module = "import functools\n\n\n@functools.lru_cache()\ndef f(x):\n    ### BEGIN SOLUTION\n    return x\n" \
             "    ### END SOLUTION\n"
    write_repo(tmp_path, module=module)
    got = extract_definition("reference_impl.fake.f", tmp_path, tmp_path / "t.py", 1)
    assert got.source.splitlines()[0] == "@functools.lru_cache()" and got.first_line == 4


@pytest.mark.parametrize("qualname, message", [
    ("reference_impl.fake.triple", "has no top-level function or class 'triple'"),
    ("reference_impl.missing.double", "does not exist"),
    ("double", "expected 'reference_impl.<module>.<name>'"),
])
def test_unknown_names_are_reported_at_the_template_line(fake_repo, qualname, message):
    template = fake_repo / "t.py"
    with pytest.raises(BuildError, match=message) as caught:
        extract_definition(qualname, fake_repo, template, TEMPLATE_LINE)
    assert caught.value.path == template and caught.value.line == TEMPLATE_LINE


def test_marker_problems_are_reported_in_the_reference_module(tmp_path):
    broken = REFERENCE_MODULE.replace("        ### END SOLUTION\n        return self.count",
                                      "        return self.count")
    write_repo(tmp_path, module=broken)
    with pytest.raises(BuildError, match="nested|unclosed") as caught:
        # The broken region is in Counter, but any extraction from the module reports it.
        extract_definition("reference_impl.fake.double", tmp_path, tmp_path / "t.py", 1)
    assert caught.value.path == tmp_path / "reference_impl" / "fake.py"
    assert caught.value.line == line_of(broken, "### BEGIN SOLUTION", 2)


def test_definition_without_solution_region_is_an_error(tmp_path):
    write_repo(tmp_path, module="def f(x):\n    return x\n")
    with pytest.raises(BuildError, match="no '### BEGIN SOLUTION' region") as caught:
        extract_definition("reference_impl.fake.f", tmp_path, tmp_path / "t.py", 1)
    assert caught.value.line == 1


def test_module_level_helpers_are_rejected(tmp_path):
    module = "SCALE = 2\n\n\ndef f(x):\n    ### BEGIN SOLUTION\n    return SCALE * x\n    ### END SOLUTION\n"
    write_repo(tmp_path, module=module)
    with pytest.raises(BuildError, match="uses 'SCALE', defined on line 1") as caught:
        extract_definition("reference_impl.fake.f", tmp_path, tmp_path / "t.py", 1)
    assert caught.value.line == 6
