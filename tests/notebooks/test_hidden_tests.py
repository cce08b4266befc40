"""The notebook's test cells catch the student bugs they are meant to catch.

Each case plants one known bug in a reference solution (a textual edit of the solution cell), then runs the
test cell of that item from the source notebook: the full cell must fail, and so must its visible part alone
(what students run: the published values and ``check(item)``, the grader's visible cases), because hidden cases
only vary the data of rules some visible case already checks.
"""
import re
import sys

import nbformat
import pytest

from assignments.convnets import CONVNETS

from notebook_builder.build import source_dir
from notebook_fixtures import REPO, grade_id

GRADED_ITEMS = CONVNETS.graded_items

GRADED = [g.name for g in GRADED_ITEMS if g.runs_code]
HIDDEN = re.compile(r"^### BEGIN HIDDEN TESTS$.*?^### END HIDDEN TESTS$", re.M | re.S)

# item, text in the reference solution, buggy replacement, does the visible part already catch it?
BUGS = [
    # The CS231n-style allocation: float64 whatever the inputs (the float32 visible case must say so).
    pytest.param("conv_forward_naive", "out = np.empty((N, F, H_out, W_out), dtype=dtype)",
                 "out = np.zeros((N, F, H_out, W_out))", True, id="conv-allocates-float64"),
    pytest.param("conv_forward_naive", "F, _, HH, WW = w.shape", "F, _, HH, _ = w.shape\n    WW = HH", True,
                 id="conv-assumes-square-filters"),
    pytest.param("max_pool_forward_naive", 'pool_param["stride"]\n    H_out',
                 'pool_param["stride"]\n    stride = pool_height\n    H_out', True, id="pool-assumes-stride-is-size"),
    pytest.param("max_pool_backward_naive", "dx[:, :, rows, cols] += routed", "dx[:, :, rows, cols] = routed", True,
                 id="pool-backward-assigns-instead-of-adding"),
    pytest.param("spatial_batchnorm_forward", "batchnorm_forward(x_rows, gamma, beta, bn_param)",
                 'batchnorm_forward(x_rows, gamma, beta, {**bn_param, "mode": "train"})', True,
                 id="bn-ignores-running-statistics"),
    pytest.param("spatial_batchnorm_forward", "x.transpose(0, 2, 3, 1).reshape(N * H * W, C)",
                 "x.reshape(N * H * W, C)", True, id="bn-reshapes-without-transpose"),
    pytest.param("ThreeLayerConvNet", "grads[w] = grads[w] + self.reg * self.params[w]", "grads[w] = grads[w]",
                 True, marks=pytest.mark.slow, id="net-forgets-regularisation-gradient"),  # about 10 s
    # Per-channel statistics still look normalised when checked per group.
    pytest.param("spatial_groupnorm_forward", "grouped = x.reshape(N, G, (C // G) * H * W)",
                 "grouped = x.reshape(N, C, H * W)", True, id="gn-normalises-per-channel"),
    pytest.param("spatial_groupnorm_backward", "dgamma = (dout * x_hat).sum(", "dgamma = (dout * 1.0).sum(", True,
                 id="gn-backward-wrong-dgamma"),
]


@pytest.fixture(scope="module")
def cells():
    notebook = nbformat.read(REPO / source_dir(CONVNETS) / "ConvolutionalNetworks.ipynb", as_version=4)
    return {grade_id(c): c.source for c in notebook.cells if grade_id(c)}


@pytest.fixture
def namespace(cells, monkeypatch):
    """What the notebook's setup cell and all reference solution cells define, in this process."""
    monkeypatch.setenv("CONVKIT_NO_CYTHON", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.syspath_prepend(str(REPO / source_dir(CONVNETS)))
    names = {}
    setup = "\n".join(line for line in cells["setup"].splitlines() if not line.startswith("%"))
    exec(compile(setup, "setup", "exec"), names)
    for item in GRADED:
        exec(compile(cells[item], item, "exec"), names)
    return names


def run(source, names, label):
    exec(compile(source, label, "exec"), names)


@pytest.mark.parametrize("item, old, new, visible_catches", BUGS)
def test_planted_bug_fails_the_test_cell(cells, namespace, item, old, new, visible_catches):
    solution = cells[item]
    assert solution.count(old) == 1, f"the bug's anchor must occur once in {item}"
    run(solution.replace(old, new), namespace, f"buggy {item}")
    # Any exception fails an nbgrader test cell; a NameError would mean this harness is broken instead.
    with pytest.raises(Exception) as caught:
        run(cells[f"test_{item}"], dict(namespace), f"test_{item}")
    assert not isinstance(caught.value, NameError), caught.value
    visible = HIDDEN.sub("", cells[f"test_{item}"])
    if visible_catches:
        with pytest.raises(Exception) as caught:
            run(visible, dict(namespace), f"visible test_{item}")
        assert not isinstance(caught.value, NameError), caught.value
    else:
        run(visible, dict(namespace), f"visible test_{item}")  # only the hidden checks see this bug


@pytest.mark.parametrize("item", ["conv_forward_naive", "max_pool_backward_naive", "spatial_batchnorm_forward"])
def test_reference_passes_the_same_cells(cells, namespace, item):
    run(cells[f"test_{item}"], namespace, f"test_{item}")
