"""`make release`: the student folder holds no solutions or hidden tests, and its notebook fails only at stubs."""
import re
import shutil
import subprocess
import sys
import zipfile

import nbformat
import pytest

from assignments.convnets import CONVNETS

from notebook_fixtures import REPO, errors_by_cell, execute, grade_id, nbgrader, save_small_experiment_model

GRADED_ITEMS, NOTEBOOK = CONVNETS.graded_items, CONVNETS.notebook
NEVER_SHIPPED = CONVNETS.support.never_shipped

GRADED_MODULES = ("conv_naive", "pool_naive", "spatial_norm", "cnn")
CODE_ITEMS = [g.name for g in GRADED_ITEMS if g.kind in ("function", "class")]


def readable(name, payload):
    """File text as a person would read it: a notebook's JSON escapes quotes, so search its decoded cells."""
    text = payload.decode(errors="replace")
    if name.endswith(".ipynb"):
        cells = nbformat.reads(text, as_version=4).cells
        text = "\n".join(cell.source for cell in cells) + "\n" + text
    return text


def released_texts(folder):
    """Every file of a released folder, and of the committed zip, keyed by name."""
    texts = {p.relative_to(folder).as_posix(): readable(p.name, p.read_bytes())
             for p in folder.rglob("*") if p.is_file()}
    with zipfile.ZipFile(REPO / "release" / "convnets.zip") as archive:
        texts.update({f"zip:{name}": readable(name, archive.read(name)) for name in archive.namelist()})
    return texts


def marked_lines(text, begin, end):
    """Lines strictly inside begin/end marker lines, found with a regular expression (not the builder's parser)."""
    pattern = re.compile(rf"^[ \t]*{re.escape(begin)}[ \t]*\n(.*?)^[ \t]*{re.escape(end)}", re.M | re.S)
    return [line.strip() for block in pattern.findall(text) for line in block.splitlines() if line.strip()]


def secrets():
    """Distinctive lines of every solution region, hidden test and model answer: none may reach students."""
    provided = "\n".join(p.read_text() for p in (REPO / "source" / "convnets" / "convkit").glob("*.py"))
    source = nbformat.read(REPO / "source" / "convnets" / NOTEBOOK, as_version=4)
    found = set()
    for module in GRADED_MODULES:
        found.update(marked_lines((REPO / "reference_impl" / f"{module}.py").read_text(),
                                  "### BEGIN SOLUTION", "### END SOLUTION"))
    for cell in source.cells:
        nbgrader_meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code":
            found.update(marked_lines(cell.source, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"))
            found.update(marked_lines(cell.source, "### BEGIN SOLUTION", "### END SOLUTION"))
        elif nbgrader_meta.get("solution"):
            found.update(line.strip() for line in cell.source.splitlines() if line.strip())
    # What students are meant to see: every code cell with its solution and hidden-test regions cut out.
    visible = "\n".join(re.sub(r"### BEGIN (SOLUTION|HIDDEN TESTS).*?### END \1", "", c.source, flags=re.S)
                        for c in source.cells if c.cell_type == "code")
    # Short or generic lines (`N, C, H, W = x.shape`) also occur in provided code and visible code.
    return {line for line in found if len(line) >= 25 and line not in provided and line not in visible}


@pytest.mark.slow
def test_committed_release_is_up_to_date(course):
    fresh, committed = course / "release" / "convnets", REPO / "release" / "convnets"
    names = sorted(p.relative_to(fresh).as_posix() for p in fresh.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(committed).as_posix() for p in committed.rglob("*") if p.is_file())
    stale = [n for n in names if (fresh / n).read_bytes() != (committed / n).read_bytes()]
    assert not stale, f"release/convnets is out of date for {stale}: run `make release` and commit the result"
    with zipfile.ZipFile(REPO / "release" / "convnets.zip") as archive:
        assert sorted(archive.namelist()) == sorted(f"convnets/{n}" for n in names)


def test_release_holds_the_student_kit_and_nothing_graded():
    folder = REPO / "release" / "convnets"
    for required in (NOTEBOOK, "requirements.txt", "setup.py", "convkit/__init__.py", "convkit/download.py",
                     "convkit/im2col_cython.pyx", "convkit/fast_layers.py", "convkit/solver.py",
                     "convkit/gradient_check.py", "convkit/data.py", "convkit/vis.py", "convkit/model_io.py"):
        assert (folder / required).is_file(), f"release lacks {required}"
    names = [p.name for p in folder.rglob("*")]
    assert not [n for n in names if n.endswith((".so", ".pyd", ".c", ".pyc")) or n == "__pycache__"]
    assert not [n for n in names if n.removesuffix(".py") in NEVER_SHIPPED]


def test_student_notebook_has_no_build_note_but_the_source_keeps_it():
    released = nbformat.read(REPO / "release" / "convnets" / NOTEBOOK, as_version=4)
    source = nbformat.read(REPO / "source" / "convnets" / NOTEBOOK, as_version=4)
    assert "make source" in source.cells[0].source
    assert released.cells[0].source.startswith("# Convolutional networks")
    for cell in released.cells:
        assert "make source" not in cell.source and "reference_impl" not in cell.source, cell.source[:200]
    assert len(released.cells) == len(source.cells) - 1


def test_no_solution_hidden_test_or_model_answer_appears_in_the_release():
    hidden = secrets()
    assert len(hidden) > 40, "the search must cover the solutions and hidden tests"
    for name, text in released_texts(REPO / "release" / "convnets").items():
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            assert marker not in text, f"{name} contains the marker {marker!r}"
        leaked = sorted(line for line in hidden if line in text)
        assert not leaked, f"{name} contains solution or hidden-test lines: {leaked[:3]}"


@pytest.mark.slow
def test_release_notebook_fails_exactly_at_the_stubs(tmp_path, env):
    folder = tmp_path / "convnets"
    shutil.copytree(REPO / "release" / "convnets", folder)
    save_small_experiment_model(folder)
    executed = execute(folder / NOTEBOOK, env)
    errors = errors_by_cell(executed)
    assert errors, "the stubs must fail"
    not_stub = {cell: error for cell, error in errors.items() if not error.startswith("NotImplementedError")}
    assert not_stub == {}, "every failure must be a stub's NotImplementedError"
    assert {f"test_{name}" for name in CODE_ITEMS} <= set(errors), "every graded item's test must fail"
    assert not set(errors) & set(CODE_ITEMS), "defining a stubbed function must not fail"
    assert not {"setup", "load_data"} & set(errors)
    for cell in executed.cells:
        if grade_id(cell) in errors:
            traceback = "\n".join(o.get("traceback", [""])[-1] for o in cell.outputs if o.output_type == "error")
            assert "Replace this line with your implementation" in traceback


@pytest.mark.slow
def test_nbgrader_validate_reports_the_stubs(tmp_path, env):
    folder = tmp_path / "convnets"
    shutil.copytree(REPO / "release" / "convnets", folder)
    save_small_experiment_model(folder)
    result = nbgrader(["validate", NOTEBOOK], folder, env)
    report = result.stdout + result.stderr
    assert "VALIDATION FAILED" in report and "NotImplementedError" in report, report[-3000:]


@pytest.mark.slow
def test_release_filled_with_the_reference_solutions_passes_validate(tmp_path, env):
    folder = tmp_path / "convnets"
    shutil.copytree(REPO / "release" / "convnets", folder)
    save_small_experiment_model(folder)
    source = nbformat.read(REPO / "source" / "convnets" / NOTEBOOK, as_version=4)
    answers = {grade_id(c): c.source for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
    student = nbformat.read(folder / NOTEBOOK, as_version=4)
    filled = 0
    for cell in student.cells:
        if grade_id(cell) in answers:
            # What a student would hand in: the solution code without the instructor's markers.
            cell.source = "\n".join(line for line in answers[grade_id(cell)].splitlines()
                                    if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
            filled += 1
    assert filled == len(answers)
    nbformat.write(student, folder / NOTEBOOK)
    result = nbgrader(["validate", NOTEBOOK], folder, env)
    report = result.stdout + result.stderr
    assert "Success! Your notebook passes all the tests." in report, report[-3000:]


@pytest.mark.slow
def test_student_can_compile_the_cython_im2col(tmp_path, env):
    folder = tmp_path / "convnets"
    shutil.copytree(REPO / "release" / "convnets", folder)
    build = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"], cwd=folder, env=env,
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    check_env = {k: v for k, v in env.items() if k != "CONVKIT_NO_CYTHON"}
    probe = ("import numpy as np, convkit\n"
             "from convkit.gradient_check import rel_error\n"
             "x = np.random.default_rng(0).standard_normal((2, 3, 7, 6)); w = np.ones((4, 3, 3, 2))\n"
             "out, _ = convkit.conv_forward_fast(x, w, np.zeros(4), {'stride': 1, 'pad': 1})\n"
             "windows = np.lib.stride_tricks.sliding_window_view(np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))),"
             " (3, 2), axis=(2, 3))\n"
             "expected = windows.sum(axis=(1, 4, 5))[:, None].repeat(4, axis=1)\n"
             "print(convkit.BACKEND, rel_error(out, expected) < 1e-10)\n")
    result = subprocess.run([sys.executable, "-c", probe], cwd=folder, env=check_env, capture_output=True,
                            text=True, timeout=120)
    assert result.stdout.split() == ["cython", "True"], result.stdout + result.stderr
